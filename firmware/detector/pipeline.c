/* The always-on pipeline; see pipeline.h. */
#include "detector/pipeline.h"

#include <string.h>

size_t kws_pipeline_window_bytes(const kws_pipeline_config_t *config) {
  return (size_t)config->n_rows * config->n_channels * sizeof(uint16_t);
}

int kws_pipeline_latency_fits(const kws_pipeline_config_t *config) {
  return (uint64_t)config->latency_ms * config->sample_rate_hz %
             (1000u * config->step_samples) == 0;
}

kws_status_t kws_pipeline_init(kws_pipeline_t *p, const kws_pipeline_config_t *config,
                               const kws_pipeline_ops_t *ops, uint16_t *window,
                               size_t window_bytes) {
  if (!p || !config || !ops || !window || !ops->frontend_step || !ops->history_reset ||
      !ops->quantize || !ops->model_input || !ops->model_invoke)
    return KWS_ERR_ARG;
  if (config->sample_rate_hz == 0 || config->step_samples == 0 ||
      config->step_samples > KWS_PIPELINE_MAX_STEP || config->n_rows == 0 ||
      config->n_channels == 0)
    return KWS_ERR_ARG;
  if (window_bytes < kws_pipeline_window_bytes(config)) return KWS_ERR_NO_MEMORY;
  /* Inference happens on hop boundaries: latency must be a whole number of hops. MLTK's
   * latency_ms = 0 means "as often as possible": after every frontend step. */
  if (!kws_pipeline_latency_fits(config)) return KWS_ERR_UNSUPPORTED;
  const uint64_t latency_samples = (uint64_t)config->latency_ms * config->sample_rate_hz;
  p->hops_per_inference = (uint32_t)(latency_samples / (1000u * config->step_samples));
  if (p->hops_per_inference == 0) p->hops_per_inference = 1;
  if (config->detector.class_count == 0) return KWS_ERR_ARG;
  kws_status_t st = kws_detector_init(&p->detector, &config->detector);
  if (st != KWS_OK) return st;
  p->config = *config;
  p->ops = *ops;
  p->window = window;
  kws_pipeline_reset(p);
  return KWS_OK;
}

static void clear_features(kws_pipeline_t *p) {
  memset(p->window, 0, kws_pipeline_window_bytes(&p->config));
  p->new_rows = 0;
  p->ops.history_reset(p->ops.ctx);
}

void kws_pipeline_reset(kws_pipeline_t *p) {
  clear_features(p);
  kws_detector_reset(&p->detector);
  p->hops = 0;
  p->inferences = 0;
  p->pending_count = 0;
}

uint64_t kws_pipeline_samples(const kws_pipeline_t *p) {
  return p->hops * p->config.step_samples + p->pending_count;
}

static void push_row(kws_pipeline_t *p, const uint16_t *row) {
  const size_t ch = p->config.n_channels;
  const size_t rows = p->config.n_rows;
  memmove(p->window, p->window + ch, (rows - 1) * ch * sizeof(uint16_t));
  memcpy(p->window + (rows - 1) * ch, row, ch * sizeof(uint16_t));
}

static kws_status_t infer(kws_pipeline_t *p, kws_inference_sink_t sink, void *user) {
  int8_t scores[KWS_DETECTOR_MAX_CLASSES];
  const uint32_t n = p->config.detector.class_count;
  int8_t *input = p->ops.model_input(p->ops.ctx);
  if (!input) return KWS_ERR_STATE;
  p->ops.quantize(p->ops.ctx, p->window, p->config.n_rows, p->config.n_channels, input);
  kws_status_t st = p->ops.model_invoke(p->ops.ctx, scores, n);
  if (st != KWS_OK) return st;
  kws_inference_t inf;
  inf.time_ms = (int32_t)(p->hops * p->config.step_samples * 1000u / p->config.sample_rate_hz);
  inf.index = p->inferences++;
  inf.scores = scores;
  inf.n_classes = n;
  st = kws_detector_process(&p->detector, inf.time_ms, scores, &inf.decision);
  if (st != KWS_OK) return st;
  if (inf.decision.detected) clear_features(p);
  if (sink) sink(user, &inf);
  return KWS_OK;
}

static kws_status_t hop(kws_pipeline_t *p, const int16_t *samples, kws_inference_sink_t sink,
                        void *user) {
  uint16_t row[512];
  if (p->config.n_channels > sizeof(row) / sizeof(row[0])) return KWS_ERR_UNSUPPORTED;
  const int ready = p->ops.frontend_step(p->ops.ctx, samples, p->config.step_samples, row);
  if (ready) {
    push_row(p, row);
    p->new_rows++;
  }
  p->hops++;
  if (p->config.on_new_rows) {
    if (p->new_rows < p->config.n_rows) return KWS_OK;
    p->new_rows = 0;
    return infer(p, sink, user);
  }
  if (p->hops % p->hops_per_inference == 0) return infer(p, sink, user);
  return KWS_OK;
}

kws_status_t kws_pipeline_process(kws_pipeline_t *p, const int16_t *samples, size_t n,
                                  kws_inference_sink_t sink, void *user) {
  if (!p || (!samples && n)) return KWS_ERR_ARG;
  const uint32_t step = p->config.step_samples;
  size_t used = 0;
  if (p->pending_count) {
    size_t take = step - p->pending_count;
    if (take > n) take = n;
    memcpy(p->pending + p->pending_count, samples, take * sizeof(int16_t));
    p->pending_count += (uint32_t)take;
    used = take;
    if (p->pending_count < step) return KWS_OK;
    p->pending_count = 0;
    kws_status_t st = hop(p, p->pending, sink, user);
    if (st != KWS_OK) return st;
  }
  while (n - used >= step) {
    kws_status_t st = hop(p, samples + used, sink, user);
    used += step;
    if (st != KWS_OK) return st;
  }
  memcpy(p->pending, samples + used, (n - used) * sizeof(int16_t));
  p->pending_count = (uint32_t)(n - used);
  return KWS_OK;
}
