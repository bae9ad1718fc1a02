/* Engine settings from a model's metadata, key by key: the same code maps MLTK's SL_PARAMSv1
 * keys ("fe.sample_rate_hz", "latency_ms", "detection_threshold", ...) onto the engine's
 * settings on the device and in the PC pipeline (both through kws_settings_from_model), and
 * for dictionaries of settings on the PC (kwshost.frontend, key by key), so every path reads
 * a model the same way. */
#ifndef KWS_SETTINGS_H
#define KWS_SETTINGS_H

#include "detector/engine.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The seed's frontend and MLTK's audio classifier defaults (used for keys a model lacks). */
void kws_settings_default(kws_engine_settings_t *s);

/* Sets one numeric key. KWS_ERR_NOT_FOUND for keys the engine does not use (callers skip
 * them), KWS_ERR_ARG for a value out of range. Booleans are 0/1. */
kws_status_t kws_settings_set(kws_engine_settings_t *s, const char *key, double value);

/* After a model's keys: the DC notch and the dynamic int8 quantization came with MLTK's
 * AudioFeatureGenerator, after the models of its zoo that do not name them (audio_example1,
 * tflite_micro_speech, ...); MLTK computes those models' features with both off (its
 * settings' defaults), so a model that names neither key gets them off here too. */
void kws_settings_finish_model(kws_engine_settings_t *s);

/* Class labels joined by '\n': sets the class count and the ignored ('_') classes. */
kws_status_t kws_settings_set_classes(kws_engine_settings_t *s, const char *labels);

/* Everything above, read from a model's SL_PARAMSv1 metadata (the device's path). The class
 * labels are joined by '\n' into `labels` (NUL-terminated). Keys the model lacks keep their
 * defaults (but see kws_settings_finish_model); KWS_ERR_NOT_FOUND when the model has no
 * metadata or no classes. */
kws_status_t kws_settings_from_model(kws_engine_settings_t *s, const uint8_t *model,
                                     size_t model_len, char *labels, size_t labels_size);

#ifdef __cplusplus
}
#endif
#endif
