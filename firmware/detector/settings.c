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

/* F_MS: a duration, 0 or more; F_COUNT: 0..KWS_DETECTOR_MAX_RESULTS (the detector's queue).
 * The detector refuses others when it opens, with one status for all: refused here, the
 * PC names the key (kwshost.pipeline tries each key through this setter). */
typedef enum { F_I32, F_F32, F_U32, F_U8, F_GAIN, F_MS, F_COUNT } kind_t;
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
    {"average_window_duration_ms", F_MS,
     offsetof(kws_engine_settings_t, detector.average_window_duration_ms)},
    {"minimum_count", F_COUNT, offsetof(kws_engine_settings_t, detector.minimum_count)},
    {"detection_threshold", F_U8, offsetof(kws_engine_settings_t, detector.detection_threshold)},
    {"suppression_ms", F_MS, offsetof(kws_engine_settings_t, detector.suppression_ms)},
    {"volume_gain", F_GAIN, offsetof(kws_engine_settings_t, volume_gain)},
};

/* Older MLTK models (e.g. its tflite_micro_speech) name the microfrontend's settings as TFLM
 * does. Their feature generator had no DC notch, no dynamic quantization and an FFT sized from
 * the window, so a model written with these names gets those defaults unless it says otherwise. */
static const struct {
  const char *legacy, *key;
} kAliases[] = {
    {"fe.n_channels", "fe.filterbank_n_channels"},
    {"fe.upper_band_limit", "fe.filterbank_upper_band_limit"},
    {"fe.lower_band_limit", "fe.filterbank_lower_band_limit"},
    {"fe.enable_noise_reduction", "fe.noise_reduction_enable"},
    {"fe.smoothing_bits", "fe.noise_reduction_smoothing_bits"},
    {"fe.even_smoothing", "fe.noise_reduction_even_smoothing"},
    {"fe.odd_smoothing", "fe.noise_reduction_odd_smoothing"},
    {"fe.min_signal_remaining", "fe.noise_reduction_min_signal_remaining"},
    {"fe.enable_pcan", "fe.pcan_enable"},
    {"fe.gain_bits", "fe.pcan_gain_bits"},
    {"fe.enable_log", "fe.log_scale_enable"},
    {"fe.scale_shift", "fe.log_scale_shift"},
};

static void note_key(kws_engine_settings_t *s, const char *key) {
  if (strcmp(key, "fe.dc_notch_filter_enable") == 0) s->keys_seen |= KWS_SEEN_DC_NOTCH;
  if (strcmp(key, "fe.quantize_dynamic_scale_enable") == 0) s->keys_seen |= KWS_SEEN_QUANTIZE;
  if (strcmp(key, "fe.fft_length") == 0) s->keys_seen |= KWS_SEEN_FFT_LENGTH;
}

static void apply_legacy_defaults(kws_engine_settings_t *s) {
  s->keys_seen |= KWS_SEEN_LEGACY_KEYS;
  if (!(s->keys_seen & KWS_SEEN_DC_NOTCH)) s->frontend.dc_notch_filter_enable = 0;
  if (!(s->keys_seen & KWS_SEEN_QUANTIZE)) s->frontend.quantize_dynamic_scale_enable = 0;
  if (!(s->keys_seen & KWS_SEEN_FFT_LENGTH)) s->frontend.fft_length = 0; /* from the window */
}

void kws_settings_finish_model(kws_engine_settings_t *s) {
  if (!s) return;
  if (!(s->keys_seen & KWS_SEEN_DC_NOTCH)) s->frontend.dc_notch_filter_enable = 0;
  if (!(s->keys_seen & KWS_SEEN_QUANTIZE)) s->frontend.quantize_dynamic_scale_enable = 0;
}

kws_status_t kws_settings_set(kws_engine_settings_t *s, const char *key, double value) {
  if (!s || !key) return KWS_ERR_ARG;
  /* NaN and the infinities fit no setting (and would make the conversions below undefined) */
  if (!(value >= -1.0e30 && value <= 1.0e30)) return KWS_ERR_ARG;
  for (size_t i = 0; i < sizeof(kAliases) / sizeof(kAliases[0]); i++) {
    if (strcmp(kAliases[i].legacy, key) != 0) continue;
    apply_legacy_defaults(s);
    key = kAliases[i].key;
    break;
  }
  note_key(s, key);
  for (size_t i = 0; i < sizeof(kFields) / sizeof(kFields[0]); i++) {
    if (strcmp(kFields[i].key, key) != 0) continue;
    uint8_t *at = (uint8_t *)s + kFields[i].offset;
    switch (kFields[i].kind) {
      case F_F32: {
        float f = (float)value;
        memcpy(at, &f, sizeof(f));
        return KWS_OK;
      }
      case F_I32:
      case F_MS:
      case F_COUNT: {
        if (value < -2147483648.0 || value > 2147483647.0) return KWS_ERR_ARG;
        if (kFields[i].kind != F_I32 && value < 0) return KWS_ERR_ARG;
        if (kFields[i].kind == F_COUNT && value > KWS_DETECTOR_MAX_RESULTS) return KWS_ERR_ARG;
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
      case F_GAIN: { /* a scaler of samples: 0 (none) up to 1000 (60 dB) */
        if (value < 0 || value > 1000) return KWS_ERR_ARG;
        float f = (float)value;
        memcpy(at, &f, sizeof(f));
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

static kws_status_t read_number(const kws_model_params_t *p, const char *key, double *value) {
  int32_t iv;
  float fv;
  uint8_t bv;
  if (kws_params_get_int(p, key, &iv) == KWS_OK) {
    *value = iv;
  } else if (kws_params_get_float(p, key, &fv) == KWS_OK) {
    *value = fv;
  } else if (kws_params_get_bool(p, key, &bv) == KWS_OK) {
    *value = bv;
  } else {
    return KWS_ERR_NOT_FOUND;
  }
  return KWS_OK;
}

/* MLTK's detection_threshold_list: one threshold per class (0..255), which wins over
 * detection_threshold for the classes it covers. */
static kws_status_t read_class_thresholds(const kws_model_params_t *p, kws_engine_settings_t *s) {
  int32_t list[KWS_DETECTOR_MAX_CLASSES];
  uint32_t n = 0;
  kws_status_t st = kws_params_get_int_list(p, "detection_threshold_list", list,
                                            KWS_DETECTOR_MAX_CLASSES, &n);
  if (st == KWS_ERR_NOT_FOUND) return KWS_OK;
  if (st != KWS_OK) return KWS_ERR_MODEL_INVALID; /* not an int list, or too long */
  kws_detector_config_t *d = &s->detector;
  d->class_threshold_set = 0;
  for (uint32_t i = 0; i < n && i < d->class_count; i++) {
    if (list[i] < 0 || list[i] > 255) return KWS_ERR_MODEL_INVALID;
    d->class_thresholds[i] = (uint8_t)list[i];
    d->class_threshold_set |= 1u << i;
  }
  return KWS_OK;
}

kws_status_t kws_settings_from_model(kws_engine_settings_t *s, const uint8_t *model,
                                     size_t model_len, char *labels, size_t labels_size) {
  if (!s || !model || !labels || labels_size == 0) return KWS_ERR_ARG;
  kws_model_params_t p;
  kws_status_t st = kws_params_open(&p, model, model_len);
  if (st != KWS_OK) return st;
  kws_settings_default(s);
  const size_t n_fields = sizeof(kFields) / sizeof(kFields[0]);
  const size_t n_aliases = sizeof(kAliases) / sizeof(kAliases[0]);
  for (size_t i = 0; i < n_fields + n_aliases; i++) {
    const char *key = i < n_fields ? kFields[i].key : kAliases[i - n_fields].legacy;
    double value;
    if (read_number(&p, key, &value) != KWS_OK) continue; /* the model lacks this key */
    st = kws_settings_set(s, key, value);
    if (st != KWS_OK) return st;
  }
  kws_settings_finish_model(s);
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
  st = kws_settings_set_classes(s, labels);
  if (st != KWS_OK) return st;
  return read_class_thresholds(&p, s);
}
