#include "detector/settings.h"

#include "runtime/model_params.h"

#include <stddef.h>
#include <string.h>

void kws_settings_default(kws_engine_settings_t *s) {
  memset(s, 0, sizeof(*s));
  kws_frontend_config_default(&s->frontend);
  s->latency_ms = 200;
  s->detector.average_window_duration_ms = 1000;
  s->detector.minimum_count = 3;
  s->detector.detection_threshold = 50;
  s->detector.suppression_ms = 1500;
}

typedef enum { F_I32, F_F32, F_U32, F_U8 } kind_t;
typedef struct {
  const char *key;
  kind_t kind;
  size_t offset;
} field_t;

#define FE(name, kind) {"fe." #name, kind, offsetof(kws_engine_settings_t, frontend.name)}
static const field_t kFields[] = {
    FE(sample_rate_hz, F_I32), FE(sample_length_ms, F_I32), FE(window_size_ms, F_I32),
    FE(window_step_ms, F_I32), FE(fft_length, F_I32), FE(filterbank_n_channels, F_I32),
    FE(filterbank_upper_band_limit, F_F32), FE(filterbank_lower_band_limit, F_F32),
    FE(noise_reduction_enable, F_I32), FE(noise_reduction_smoothing_bits, F_I32),
    FE(noise_reduction_even_smoothing, F_F32), FE(noise_reduction_odd_smoothing, F_F32),
    FE(noise_reduction_min_signal_remaining, F_F32), FE(pcan_enable, F_I32),
    FE(pcan_strength, F_F32), FE(pcan_offset, F_F32), FE(pcan_gain_bits, F_I32),
    FE(log_scale_enable, F_I32), FE(log_scale_shift, F_I32),
    FE(activity_detection_enable, F_I32), FE(activity_detection_alpha_a, F_F32),
    FE(activity_detection_alpha_b, F_F32), FE(activity_detection_arm_threshold, F_F32),
    FE(activity_detection_trip_threshold, F_F32), FE(dc_notch_filter_enable, F_I32),
    FE(dc_notch_filter_coefficient, F_F32), FE(quantize_dynamic_scale_enable, F_I32),
    FE(quantize_dynamic_scale_range_db, F_F32),
    {"latency_ms", F_U32, offsetof(kws_engine_settings_t, latency_ms)},
    {"average_window_duration_ms", F_I32,
     offsetof(kws_engine_settings_t, detector.average_window_duration_ms)},
    {"minimum_count", F_I32, offsetof(kws_engine_settings_t, detector.minimum_count)},
    {"detection_threshold", F_U8, offsetof(kws_engine_settings_t, detector.detection_threshold)},
    {"suppression_ms", F_I32, offsetof(kws_engine_settings_t, detector.suppression_ms)},
};

kws_status_t kws_settings_set(kws_engine_settings_t *s, const char *key, double value) {
  if (!s || !key) return KWS_ERR_ARG;
  for (size_t i = 0; i < sizeof(kFields) / sizeof(kFields[0]); i++) {
    if (strcmp(kFields[i].key, key) != 0) continue;
    uint8_t *at = (uint8_t *)s + kFields[i].offset;
    switch (kFields[i].kind) {
      case F_F32: {
        float f = (float)value;
        memcpy(at, &f, sizeof(f));
        return KWS_OK;
      }
      case F_I32: {
        if (value < -2147483648.0 || value > 2147483647.0) return KWS_ERR_ARG;
        int32_t v = (int32_t)value;
        memcpy(at, &v, sizeof(v));
        return KWS_OK;
      }
      case F_U32: {
        if (value < 0 || value > 4294967295.0) return KWS_ERR_ARG;
        uint32_t v = (uint32_t)value;
        memcpy(at, &v, sizeof(v));
        return KWS_OK;
      }
      case F_U8: {
        if (value < 0 || value > 255) return KWS_ERR_ARG;
        *at = (uint8_t)value;
        return KWS_OK;
      }
    }
  }
  return KWS_ERR_NOT_FOUND;
}

kws_status_t kws_settings_set_classes(kws_engine_settings_t *s, const char *labels) {
  if (!s || !labels) return KWS_ERR_ARG;
  uint32_t count = 0, ignored = 0;
  const char *p = labels;
  while (*p) {
    if (count >= KWS_DETECTOR_MAX_CLASSES) return KWS_ERR_UNSUPPORTED;
    if (*p == '_') ignored |= 1u << count;
    const char *end = strchr(p, '\n');
    count++;
    if (!end) break;
    p = end + 1;
  }
  if (count == 0) return KWS_ERR_ARG;
  s->detector.class_count = count;
  s->detector.ignored_classes = ignored;
  return KWS_OK;
}

kws_status_t kws_settings_from_model(kws_engine_settings_t *s, const uint8_t *model,
                                     size_t model_len, char *labels, size_t labels_size) {
  if (!s || !model || !labels || labels_size == 0) return KWS_ERR_ARG;
  kws_model_params_t p;
  kws_status_t st = kws_params_open(&p, model, model_len);
  if (st != KWS_OK) return st;
  kws_settings_default(s);
  for (size_t i = 0; i < sizeof(kFields) / sizeof(kFields[0]); i++) {
    int32_t iv;
    float fv;
    uint8_t bv;
    double value;
    if (kws_params_get_int(&p, kFields[i].key, &iv) == KWS_OK) {
      value = iv;
    } else if (kws_params_get_float(&p, kFields[i].key, &fv) == KWS_OK) {
      value = fv;
    } else if (kws_params_get_bool(&p, kFields[i].key, &bv) == KWS_OK) {
      value = bv;
    } else {
      continue;
    }
    st = kws_settings_set(s, kFields[i].key, value);
    if (st != KWS_OK) return st;
  }
  uint32_t count = 0;
  st = kws_params_get_string_count(&p, "classes", &count);
  if (st != KWS_OK) return st;
  size_t used = 0;
  for (uint32_t i = 0; i < count; i++) {
    const char *label;
    uint32_t len;
    st = kws_params_get_string_at(&p, "classes", i, &label, &len);
    if (st != KWS_OK) return st;
    if (used + len + 2 > labels_size) return KWS_ERR_NO_MEMORY;
    if (i) labels[used++] = '\n';
    memcpy(labels + used, label, len);
    used += len;
  }
  labels[used] = 0;
  return kws_settings_set_classes(s, labels);
}
