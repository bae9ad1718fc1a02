/* The smoothing/suppression detector that turns a stream of per-inference class scores into
 * keyword detections, with the semantics of MLTK's audio classifier app, so a model behaves
 * here as it does there:
 *
 *  - scores are the model's int8 outputs + 128 (0..255);
 *  - each result is queued with its time; results older than average_window_duration_ms
 *    (time < now - window) are dropped; with fewer than minimum_count left there is no
 *    decision (score 0, class = previous detection's class);
 *  - average = integer sum / count per class; the top class is the first strict maximum
 *    (ties keep the lower index; an all-zero average gives class 0, score 0);
 *  - a detection needs average > threshold (strictly; the top class's own threshold where the
 *    model gives a detection_threshold_list), a class that is not ignored (labels
 *    starting with '_'), and either a class different from the previous detection or more
 *    than suppression_ms (strictly) since it;
 *  - the previous detection starts as class 0 at time 0, so class 0 cannot fire before
 *    suppression_ms;
 *  - minimum_count == 0 disables averaging: only the latest result counts.
 *
 * No heap: the queue is a fixed array inside the state. Times are in ms of audio. */
#ifndef KWS_DETECTOR_H
#define KWS_DETECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kws_status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KWS_DETECTOR_MAX_CLASSES 32
#define KWS_DETECTOR_MAX_RESULTS 50

typedef struct {
  int32_t average_window_duration_ms;
  int32_t minimum_count;
  uint8_t detection_threshold; /* on the 0..255 scale, compared strictly */
  int32_t suppression_ms;
  uint32_t class_count;        /* 1..KWS_DETECTOR_MAX_CLASSES */
  uint32_t ignored_classes;    /* bit i set: class i never triggers (label starts with '_') */
  /* MLTK's detection_threshold_list: class i's own threshold where bit i of
   * class_threshold_set is set, else detection_threshold */
  uint32_t class_threshold_set;
  uint8_t class_thresholds[KWS_DETECTOR_MAX_CLASSES];
} kws_detector_config_t;

typedef struct {
  int32_t time_ms;
  uint8_t scores[KWS_DETECTOR_MAX_CLASSES];
} kws_detector_entry_t;

typedef struct {
  kws_detector_config_t config;
  kws_detector_entry_t queue[KWS_DETECTOR_MAX_RESULTS];
  uint32_t front;
  uint32_t size;
  uint32_t previous_class;
  int32_t previous_time_ms;
} kws_detector_t;

typedef struct {
  uint32_t class_index; /* top class of the average (or the previous detection's class) */
  uint8_t score;        /* its averaged score 0..255; 0 when there were too few results */
  bool averaged;        /* false: too few results in the window, no decision made */
  bool detected;        /* true: a new detection of class_index */
} kws_detector_result_t;

/* Marks classes whose label starts with '_' as ignored; labels[i] may be NULL. */
uint32_t kws_detector_ignored_from_labels(const char *const *labels, uint32_t count);

kws_status_t kws_detector_init(kws_detector_t *det, const kws_detector_config_t *config);

/* Forgets the queued results and the previous detection (a fresh start). */
void kws_detector_reset(kws_detector_t *det);

/* Feeds one inference: `scores` are the model's int8 outputs (class_count of them) at
 * `time_ms`. Times must not go back before the oldest queued result (KWS_ERR_ARG). */
kws_status_t kws_detector_process(kws_detector_t *det, int32_t time_ms, const int8_t *scores,
                                  kws_detector_result_t *result);

#ifdef __cplusplus
}
#endif
#endif
