/* The engine: a model (in flash or a host buffer) wired to the real frontend, the runtime
 * and the detector through the pipeline. The firmware app and the PC binding both build one,
 * so the PC and the device run the same code on the same settings.
 *
 * Settings come from the model's metadata (fe.*, latency_ms and the detector's keys); the
 * caller reads them (C reader on the device, kwshost.metadata on the PC) and passes them in.
 * No heap: the engine is one struct (static on the device) plus a caller-owned arena. */
#ifndef KWS_ENGINE_H
#define KWS_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "detector/pipeline.h"
#include "frontend/frontend.h"
#include "kernels/kernel_api.h"
#include "kws_status.h"
#include "runtime/interpreter.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KWS_ENGINE_FRONTEND_MEM 16384u
#define KWS_ENGINE_MAX_WINDOW_VALUES (128u * 128u)

typedef struct {
  kws_frontend_config_t frontend;
  uint32_t latency_ms;
  kws_detector_config_t detector;
  uint8_t keys_seen; /* KWS_SEEN_* bits: which keys the model set (kws_settings_set) */
  float volume_gain; /* MLTK's scaler of the microphone's samples; 0 = none */
} kws_engine_settings_t;

#define KWS_SEEN_LEGACY_KEYS 1u /* older MLTK key names (fe.n_channels, ...) */
#define KWS_SEEN_DC_NOTCH 2u
#define KWS_SEEN_QUANTIZE 4u
#define KWS_SEEN_FFT_LENGTH 8u

typedef struct {
  kws_interpreter_t interp;
  kws_op_resolver_t resolver;
  kws_frontend_t frontend;
  kws_frontend_config_t frontend_config;
  kws_pipeline_t pipeline;
  int8_t *input;
  const uint8_t *output; /* int8 scores, or uint8 ones where output_uint8 */
  uint8_t output_uint8;
  uint32_t n_classes;
  float mic_gain; /* the model's volume_gain (0 or 1: samples kept as they are) */
  char message[112];
  uint8_t frontend_mem[KWS_ENGINE_FRONTEND_MEM];
  uint16_t window[KWS_ENGINE_MAX_WINDOW_VALUES];
} kws_engine_t;

size_t kws_engine_size(void);

/* Verifies and plans the model, builds the frontend, checks that the model's input is the
 * frontend's window (rows x channels, int8) and its output has one score per class (int8, or
 * uint8 probabilities as microWakeWord's models give).
 * On failure kws_engine_message() says why, in words. `resolver` NULL = reference kernels. */
kws_status_t kws_engine_open(kws_engine_t *e, const uint8_t *model, size_t model_len,
                             const kws_engine_settings_t *settings,
                             const kws_op_resolver_t *resolver, uint8_t *arena,
                             size_t arena_len);

const char *kws_engine_message(const kws_engine_t *e);

/* Audio time (ms from a reset) of an opened engine's first inference: the first latency_ms
 * boundary, or, for a model that keeps its own past, when the frontend's first n_rows rows
 * are out (its first row needs a whole window, each later one a step). Audio shorter than
 * this gets no inference at all. */
uint32_t kws_engine_first_inference_ms(const kws_engine_t *e);

/* Scales microphone samples in place by the model's volume_gain, rounding and saturating at
 * the int16 limits. Only the microphone's audio: streamed WAVs are fed as they are, as MLTK's
 * audio classifier applies the gain to its microphone data alone. */
void kws_engine_scale_microphone(const kws_engine_t *e, int16_t *samples, size_t n);
kws_pipeline_t *kws_engine_pipeline(kws_engine_t *e);

#ifdef __cplusplus
}
#endif
#endif
