/* Typed lookup of a model's parameters: MLTK's `SL_PARAMSv1` metadata dictionary.
 *
 * MLTK stores a model's settings in a TFLite metadata buffer named SL_PARAMSv1: a flatbuffer
 * Dictionary {schema_version: uint8 = 1, entries: [Entry {key: string, value: Value}]} where
 * Value is a union of one-field tables (bool, int8..uint64, float, double, string, string
 * list, int32 list, float list, bytes). Firmware reads the frontend's fe.* settings, detector
 * parameters and class names from it, so one model file carries everything. Nothing is
 * copied: strings point into the model. Every read is bounds-checked.
 */
#ifndef KWS_RUNTIME_MODEL_PARAMS_H
#define KWS_RUNTIME_MODEL_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "kws_status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  const uint8_t *dict; /* the Dictionary flatbuffer inside the model */
  uint32_t dict_len;
  uint32_t entries;    /* position of the first entry offset, in dict */
  uint32_t n_entries;
} kws_model_params_t;

/* Finds the SL_PARAMSv1 dictionary. KWS_ERR_NOT_FOUND if the model has none,
 * KWS_ERR_MODEL_INVALID if it is malformed (a float or double entry that is NaN, infinite or
 * beyond a float's range counts as malformed). */
kws_status_t kws_params_open(kws_model_params_t *p, const void *model, size_t model_len);

/* Each getter returns KWS_ERR_NOT_FOUND for a missing key and KWS_ERR_UNSUPPORTED when the
 * stored type cannot be read as the requested one (or does not fit). */
kws_status_t kws_params_get_int(const kws_model_params_t *p, const char *key, int32_t *out);
kws_status_t kws_params_get_float(const kws_model_params_t *p, const char *key, float *out);
kws_status_t kws_params_get_bool(const kws_model_params_t *p, const char *key, uint8_t *out);
kws_status_t kws_params_get_string(const kws_model_params_t *p, const char *key, const char **out,
                                   uint32_t *len);
kws_status_t kws_params_get_string_count(const kws_model_params_t *p, const char *key, uint32_t *count);
kws_status_t kws_params_get_string_at(const kws_model_params_t *p, const char *key, uint32_t index,
                                      const char **out, uint32_t *len);

/* An int32 list (MLTK's detection_threshold_list): its length in *count, and up to `max`
 * elements in `out`; KWS_ERR_UNSUPPORTED when it holds more than `max`. */
kws_status_t kws_params_get_int_list(const kws_model_params_t *p, const char *key, int32_t *out,
                                     uint32_t max, uint32_t *count);

/* Key of entry `index` (0 .. n_entries-1), for listing. */
kws_status_t kws_params_key_at(const kws_model_params_t *p, uint32_t index, const char **key, uint32_t *len);

#ifdef __cplusplus
}
#endif
#endif
