/* The always-on pipeline, shared by the firmware and the PC (through the binding), so both
 * turn the same audio into the same events:
 *
 *   audio -> hops of step_samples -> frontend (one uint16 row per hop once warm)
 *         -> window of the newest n_rows rows (zero-filled at start)
 *         -> every latency_ms of audio: quantize window -> model -> scores -> detector
 *
 * Time is counted in audio: an inference after h hops happens at h * step * 1000 / rate ms.
 * After a detection the window is cleared and the frontend reset (MLTK's audio classifier
 * does the same), and so is the state a streaming model keeps (microWakeWord's); the
 * detector's averaging queue is kept.
 *
 * The frontend and the model are reached through `kws_pipeline_ops_t`, so this file depends
 * on neither (the app and the binding wire the real ones; tests wire fakes). No heap: the
 * caller hands in the feature window buffer. */
#ifndef KWS_PIPELINE_H
#define KWS_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "detector/detector.h"
#include "kws_status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KWS_PIPELINE_MAX_STEP 1024

typedef struct {
  void *ctx;
  /* One hop of audio in; returns 1 and fills `row` (n_channels values) when a row is ready. */
  int (*frontend_step)(void *ctx, const int16_t *samples, size_t n, uint16_t *row);
  /* Forget past audio: the frontend's state, and the model's own where it keeps some. */
  void (*history_reset)(void *ctx);
  /* The window (n_rows x n_channels, oldest row first) to the model's int8 input. */
  void (*quantize)(void *ctx, const uint16_t *rows, size_t n_rows, size_t n_channels,
                   int8_t *input);
  int8_t *(*model_input)(void *ctx);
  /* Runs the model on its input; writes n_classes int8 outputs. */
  kws_status_t (*model_invoke)(void *ctx, int8_t *scores, size_t n_classes);
} kws_pipeline_ops_t;

typedef struct {
  uint32_t sample_rate_hz;
  uint32_t step_samples; /* frontend hop, e.g. 160 for 10 ms at 16 kHz */
  uint32_t n_rows;       /* rows in the model input, e.g. 118 */
  uint32_t n_channels;   /* values per row, e.g. 108 */
  uint32_t latency_ms;   /* inference period in audio time, e.g. 200; 0: every step */
  kws_detector_config_t detector;
  /* 1 for a streaming model (one that keeps its past itself, e.g. microWakeWord's): it sees
   * each row once, so it runs each time n_rows new rows have come, the first once the
   * frontend's first n_rows rows are out (as microWakeWord's runners group them), instead of
   * on latency_ms boundaries of the audio. */
  uint8_t on_new_rows;
} kws_pipeline_config_t;

typedef struct {
  int32_t time_ms;          /* ms of audio at this inference */
  uint32_t index;           /* inference number since start */
  const int8_t *scores;     /* raw model outputs (n_classes) */
  uint32_t n_classes;
  kws_detector_result_t decision;
} kws_inference_t;

typedef void (*kws_inference_sink_t)(void *user, const kws_inference_t *inference);

typedef struct {
  kws_pipeline_config_t config;
  kws_pipeline_ops_t ops;
  kws_detector_t detector;
  uint16_t *window;         /* n_rows * n_channels, caller-owned */
  uint32_t hops_per_inference;
  uint64_t hops;            /* hops consumed since start */
  uint32_t inferences;
  uint32_t new_rows;        /* rows pushed since the last inference (on_new_rows) */
  int16_t pending[KWS_PIPELINE_MAX_STEP];
  uint32_t pending_count;   /* samples of an unfinished hop */
} kws_pipeline_t;

/* Bytes the caller must provide for the feature window of `config`. */
size_t kws_pipeline_window_bytes(const kws_pipeline_config_t *config);

/* Whether `config`'s latency_ms is a whole number of frontend steps (init refuses it with
 * KWS_ERR_UNSUPPORTED otherwise; the engine names the cause with this). */
int kws_pipeline_latency_fits(const kws_pipeline_config_t *config);

kws_status_t kws_pipeline_init(kws_pipeline_t *p, const kws_pipeline_config_t *config,
                               const kws_pipeline_ops_t *ops, uint16_t *window,
                               size_t window_bytes);

/* Back to time 0: window cleared, frontend and detector reset. */
void kws_pipeline_reset(kws_pipeline_t *p);

/* Consumes n samples (any count); calls `sink` for every inference they complete. Stops at
 * the first failing inference and returns its status. */
kws_status_t kws_pipeline_process(kws_pipeline_t *p, const int16_t *samples, size_t n,
                                  kws_inference_sink_t sink, void *user);

/* Samples consumed since start (including an unfinished hop). */
uint64_t kws_pipeline_samples(const kws_pipeline_t *p);

#ifdef __cplusplus
}
#endif
#endif
