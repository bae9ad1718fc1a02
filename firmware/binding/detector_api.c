/* ctypes helpers for the detector: the state is opaque to Python, which allocates this many
 * bytes and passes them to kws_detector_init/process. */
#include "detector/detector.h"

size_t kws_detector_state_size(void) { return sizeof(kws_detector_t); }

/* Runs a fresh detector over n inferences (times_ms[n]; scores[n * class_count], int8) and
 * writes the time and class of each detection, up to max_found of them; *n_found counts them
 * all. One call per setting, so sweeping thresholds and windows on the PC costs no Python
 * loop per inference. The same kws_detector_process the device runs decides. */
kws_status_t kws_detector_run(const kws_detector_config_t *config, const int32_t *times_ms,
                              const int8_t *scores, uint32_t n, int32_t *found_ms,
                              uint32_t *found_class, uint32_t max_found, uint32_t *n_found) {
  if (!config || (n && (!times_ms || !scores)) || !n_found || (max_found && (!found_ms ||
      !found_class)))
    return KWS_ERR_ARG;
  kws_detector_t det;
  kws_status_t status = kws_detector_init(&det, config);
  if (status != KWS_OK) return status;
  *n_found = 0;
  for (uint32_t i = 0; i < n; i++) {
    kws_detector_result_t result;
    status = kws_detector_process(&det, times_ms[i], scores + (size_t)i * config->class_count,
                                  &result);
    if (status != KWS_OK) return status;
    if (!result.detected) continue;
    if (*n_found < max_found) {
      found_ms[*n_found] = times_ms[i];
      found_class[*n_found] = result.class_index;
    }
    (*n_found)++;
  }
  return KWS_OK;
}
