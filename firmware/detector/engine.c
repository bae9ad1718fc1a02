/* The engine: model + frontend + detector behind the pipeline's ops; see engine.h. */
#include "detector/engine.h"

#include <string.h>

size_t kws_engine_size(void) { return sizeof(kws_engine_t); }

static int fe_step(void *ctx, const int16_t *samples, size_t n, uint16_t *row) {
  kws_engine_t *e = ctx;
  int got = 0;
  size_t off = 0;
  while (off < n) {
    size_t used = 0;
    int ready = 0;
    if (kws_frontend_process(&e->frontend, samples + off, n - off, &used, row, &ready) != KWS_OK)
      break;
    off += used;
    got |= ready;
    if (used == 0 && !ready) break;
  }
  return got;
}

static void history_reset(void *ctx) {
  kws_engine_t *e = ctx;
  kws_frontend_reset(&e->frontend);
  (void)kws_interp_reset_state(&e->interp); /* a streaming model's variables; fails only unallocated */
}

static void quantize(void *ctx, const uint16_t *rows, size_t n_rows, size_t n_channels,
                     int8_t *input) {
  kws_engine_t *e = ctx;
  kws_frontend_quantize_window(rows, n_rows, n_channels, &e->frontend_config, input);
}

static int8_t *model_input(void *ctx) { return ((kws_engine_t *)ctx)->input; }

static kws_status_t model_invoke(void *ctx, int8_t *scores, size_t n) {
  kws_engine_t *e = ctx;
  kws_status_t st = kws_interp_invoke(&e->interp);
  if (st != KWS_OK) return st;
  const size_t count = n < e->n_classes ? n : e->n_classes;
  if (e->output_uint8) {
    /* uint8 probabilities (microWakeWord's) on the int8 scale the detector reads (+128). */
    for (size_t i = 0; i < count; i++) scores[i] = (int8_t)((int32_t)e->output[i] - 128);
  } else {
    memcpy(scores, e->output, count);
  }
  return KWS_OK;
}

static kws_status_t fail(kws_engine_t *e, kws_status_t st, const char *what) {
  size_t n = strlen(what);
  if (n >= sizeof(e->message)) n = sizeof(e->message) - 1;
  memcpy(e->message, what, n);
  e->message[n] = 0;
  return st;
}

void kws_engine_scale_microphone(const kws_engine_t *e, int16_t *samples, size_t n) {
  if (!e || !samples) return;
  const float gain = e->mic_gain;
  if (!(gain > 0.0f) || gain == 1.0f) return;
  for (size_t i = 0; i < n; i++) {
    float v = (float)samples[i] * gain;
    v += v >= 0.0f ? 0.5f : -0.5f;
    samples[i] = v >= 32767.0f ? 32767 : v <= -32768.0f ? -32768 : (int16_t)(int32_t)v;
  }
}

static size_t elements(const kws_tensor_t *t) {
  size_t n = 1;
  for (uint8_t i = 0; i < t->rank; i++) n *= (size_t)t->dims[i];
  return n;
}

kws_status_t kws_engine_open(kws_engine_t *e, const uint8_t *model, size_t model_len,
                             const kws_engine_settings_t *settings,
                             const kws_op_resolver_t *resolver, uint8_t *arena,
                             size_t arena_len) {
  if (!e || !model || !settings || !arena) return KWS_ERR_ARG;
  memset(e->message, 0, sizeof(e->message));
  e->mic_gain = settings->volume_gain;
  if (resolver) {
    e->resolver = *resolver;
  } else {
    kws_resolver_init_reference(&e->resolver);
  }
  kws_status_t st = kws_interp_init(&e->interp, model, model_len, &e->resolver);
  if (st != KWS_OK) return fail(e, st, kws_interp_message(&e->interp));
  st = kws_interp_allocate(&e->interp, arena, arena_len);
  if (st != KWS_OK) return fail(e, st, kws_interp_message(&e->interp));

  /* Only input 0 is filled (with the spectrogram): another input would hold whatever bytes
   * the arena had, a result that means nothing. */
  if (e->interp.n_inputs != 1)
    return fail(e, KWS_ERR_UNSUPPORTED, "the model has more than one input; the engine feeds one, the spectrogram");
  e->frontend_config = settings->frontend;
  kws_frontend_geometry_t geo;
  st = kws_frontend_geometry(&e->frontend_config, &geo);
  if (st != KWS_OK) return fail(e, st, "the model's fe.* settings are not supported");
  if (kws_frontend_state_size(&e->frontend_config) > sizeof(e->frontend_mem))
    return fail(e, KWS_ERR_NO_MEMORY, "the frontend needs more memory than this build has");
  st = kws_frontend_init(&e->frontend, &e->frontend_config, e->frontend_mem,
                         sizeof(e->frontend_mem));
  if (st != KWS_OK) return fail(e, st, "the frontend could not be built");

  kws_tensor_t in, out;
  if (kws_interp_input(&e->interp, 0, &in) != KWS_OK ||
      kws_interp_output(&e->interp, 0, &out) != KWS_OK)
    return fail(e, KWS_ERR_MODEL_INVALID, "the model has no input or output tensor");
  if (in.type != KWS_TYPE_INT8 || (out.type != KWS_TYPE_INT8 && out.type != KWS_TYPE_UINT8))
    return fail(e, KWS_ERR_UNSUPPORTED, "the model's input must be int8, its output int8 or uint8");
  if (elements(&in) != (size_t)geo.rows_per_window * geo.n_channels)
    return fail(e, KWS_ERR_MODEL_INVALID,
                "the model's input size does not match the frontend window (fe.* settings)");
  e->n_classes = (uint32_t)elements(&out);
  if (e->n_classes != settings->detector.class_count)
    return fail(e, KWS_ERR_MODEL_INVALID,
                "the model's output size does not match its number of classes");
  if ((size_t)geo.rows_per_window * geo.n_channels > KWS_ENGINE_MAX_WINDOW_VALUES)
    return fail(e, KWS_ERR_NO_MEMORY, "the feature window is larger than this build allows");
  e->input = (int8_t *)in.data;
  e->output = (const uint8_t *)out.data;
  e->output_uint8 = out.type == KWS_TYPE_UINT8;

  kws_pipeline_config_t pc;
  pc.sample_rate_hz = (uint32_t)e->frontend_config.sample_rate_hz;
  pc.step_samples = geo.window_step;
  pc.n_rows = geo.rows_per_window;
  pc.n_channels = geo.n_channels;
  pc.latency_ms = settings->latency_ms;
  pc.detector = settings->detector;
  pc.on_new_rows = e->interp.n_variables > 0; /* it keeps its own past: each row once */
  kws_pipeline_ops_t ops = {e, fe_step, history_reset, quantize, model_input, model_invoke};
  st = kws_pipeline_init(&e->pipeline, &pc, &ops, e->window, sizeof(e->window));
  /* The detector also answers UNSUPPORTED (a minimum_count beyond its queue): name latency
   * only when it is the cause. */
  if (st == KWS_ERR_UNSUPPORTED && !kws_pipeline_latency_fits(&pc))
    return fail(e, st, "latency_ms must be a whole number of frontend steps");
  if (st != KWS_OK) return fail(e, st, "the detector settings are invalid");
  return KWS_OK;
}

const char *kws_engine_message(const kws_engine_t *e) { return e->message; }

uint32_t kws_engine_first_inference_ms(const kws_engine_t *e) {
  const kws_pipeline_t *p = &e->pipeline;
  const uint32_t step = p->config.step_samples;
  uint64_t hops = p->hops_per_inference;
  if (p->config.on_new_rows) {
    const uint32_t window = e->frontend.geometry.window_size;
    hops = (window + step - 1) / step + p->config.n_rows - 1;
  }
  return (uint32_t)(hops * step * 1000u / p->config.sample_rate_hz);
}

kws_pipeline_t *kws_engine_pipeline(kws_engine_t *e) { return &e->pipeline; }
