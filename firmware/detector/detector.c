/* MLTK-compatible smoothing/suppression detector; semantics in detector.h. */
#include "detector/detector.h"

#include <string.h>

uint32_t kws_detector_ignored_from_labels(const char *const *labels, uint32_t count) {
  uint32_t mask = 0;
  for (uint32_t i = 0; i < count && i < KWS_DETECTOR_MAX_CLASSES; i++) {
    if (labels && labels[i] && labels[i][0] == '_') mask |= 1u << i;
  }
  return mask;
}

kws_status_t kws_detector_init(kws_detector_t *det, const kws_detector_config_t *config) {
  if (!det || !config) return KWS_ERR_ARG;
  if (config->class_count == 0 || config->class_count > KWS_DETECTOR_MAX_CLASSES)
    return KWS_ERR_UNSUPPORTED;
  if (config->average_window_duration_ms < 0 || config->minimum_count < 0 ||
      config->suppression_ms < 0)
    return KWS_ERR_ARG;
  if (config->minimum_count > KWS_DETECTOR_MAX_RESULTS) return KWS_ERR_UNSUPPORTED;
  det->config = *config;
  kws_detector_reset(det);
  return KWS_OK;
}

void kws_detector_reset(kws_detector_t *det) {
  det->front = 0;
  det->size = 0;
  det->previous_class = 0;
  det->previous_time_ms = 0;
}

static kws_detector_entry_t *entry_at(kws_detector_t *det, uint32_t offset) {
  return &det->queue[(det->front + offset) % KWS_DETECTOR_MAX_RESULTS];
}

/* First strict maximum, starting from 0 (so all-zero scores give class 0, score 0). */
static void top_class(const uint32_t *values, uint32_t n, uint32_t *index, uint32_t *value) {
  *index = 0;
  *value = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (values[i] > *value) {
      *value = values[i];
      *index = i;
    }
  }
}

kws_status_t kws_detector_process(kws_detector_t *det, int32_t time_ms, const int8_t *scores,
                                  kws_detector_result_t *result) {
  if (!det || !scores || !result) return KWS_ERR_ARG;
  const kws_detector_config_t *cfg = &det->config;
  const uint32_t n = cfg->class_count;
  if (det->size > 0 && time_ms < entry_at(det, 0)->time_ms) return KWS_ERR_ARG;

  uint32_t values[KWS_DETECTOR_MAX_CLASSES];
  uint32_t top_index, top_score;
  if (cfg->minimum_count == 0) {
    for (uint32_t i = 0; i < n; i++) values[i] = (uint32_t)(scores[i] + 128);
  } else {
    /* Drop results that left the window, then queue this one. */
    const int64_t oldest_kept = (int64_t)time_ms - cfg->average_window_duration_ms;
    while (det->size > 0 && entry_at(det, 0)->time_ms < oldest_kept) {
      det->front = (det->front + 1) % KWS_DETECTOR_MAX_RESULTS;
      det->size--;
    }
    if (det->size >= KWS_DETECTOR_MAX_RESULTS) {
      /* A window longer than the queue (e.g. latency_ms 0 with 1 s of averaging): average
       * the latest KWS_DETECTOR_MAX_RESULTS results rather than stop the stream. */
      det->front = (det->front + 1) % KWS_DETECTOR_MAX_RESULTS;
      det->size--;
    }
    det->size++;
    kws_detector_entry_t *e = entry_at(det, det->size - 1);
    e->time_ms = time_ms;
    for (uint32_t i = 0; i < n; i++) e->scores[i] = (uint8_t)(scores[i] + 128);

    if (det->size < (uint32_t)cfg->minimum_count) {
      result->class_index = det->previous_class;
      result->score = 0;
      result->averaged = false;
      result->detected = false;
      return KWS_OK;
    }
    memset(values, 0, sizeof(values));
    for (uint32_t k = 0; k < det->size; k++) {
      const uint8_t *s = entry_at(det, k)->scores;
      for (uint32_t i = 0; i < n; i++) values[i] += s[i];
    }
    for (uint32_t i = 0; i < n; i++) values[i] /= det->size;
  }
  top_class(values, n, &top_index, &top_score);

  const int64_t since_previous = (int64_t)time_ms - det->previous_time_ms;
  const uint32_t threshold = (cfg->class_threshold_set & (1u << top_index))
                                ? cfg->class_thresholds[top_index]
                                : cfg->detection_threshold;
  const bool detected = top_score > threshold &&
                        !(cfg->ignored_classes & (1u << top_index)) &&
                        (top_index != det->previous_class || since_previous > cfg->suppression_ms);
  if (detected) {
    det->previous_class = top_index;
    det->previous_time_ms = time_ms;
  }
  result->class_index = top_index;
  result->score = (uint8_t)top_score;
  result->averaged = true;
  result->detected = detected;
  return KWS_OK;
}
