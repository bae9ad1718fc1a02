/* ctypes entry points for running the whole pipeline on the PC: the engine (engine.h) fed
 * with audio, inferences collected into an array instead of a callback. */
#include <stddef.h>
#include <string.h>

#include "detector/engine.h"
#include "detector/settings.h"
#include "kernels/mvp/mvp_kernels.h"

typedef struct {
  int32_t time_ms;
  uint32_t index;
  int8_t scores[KWS_DETECTOR_MAX_CLASSES];
  uint32_t class_index;
  uint8_t score;
  uint8_t averaged;
  uint8_t detected;
} kws_binding_inference_t;

typedef struct {
  kws_binding_inference_t *out;
  size_t max, count;
} collector_t;

size_t kws_binding_settings_size(void) { return sizeof(kws_engine_settings_t); }
size_t kws_binding_settings_keys_seen_offset(void) {
  return offsetof(kws_engine_settings_t, keys_seen);
}
size_t kws_binding_inference_size(void) { return sizeof(kws_binding_inference_t); }

static void collect(void *user, const kws_inference_t *inf) {
  collector_t *c = user;
  if (c->count < c->max) {
    kws_binding_inference_t *o = &c->out[c->count];
    memset(o, 0, sizeof(*o));
    o->time_ms = inf->time_ms;
    o->index = inf->index;
    memcpy(o->scores, inf->scores, inf->n_classes);
    o->class_index = inf->decision.class_index;
    o->score = inf->decision.score;
    o->averaged = inf->decision.averaged;
    o->detected = inf->decision.detected;
  }
  c->count++;
}

/* Feeds n samples; writes up to max inferences to out and their number to *count (which may
 * exceed max: the caller sized out too small). */
kws_status_t kws_binding_process(kws_engine_t *e, const int16_t *samples, size_t n,
                                 kws_binding_inference_t *out, size_t max, size_t *count) {
  collector_t c = {out, max, 0};
  kws_status_t st = kws_pipeline_process(&e->pipeline, samples, n, collect, &c);
  *count = c.count;
  return st;
}

void kws_binding_reset(kws_engine_t *e) { kws_pipeline_reset(&e->pipeline); }

/* Opens the engine with the reference kernels (accelerator 0) or with the MVP kernels over
 * them (1: on the PC the MVP is the simulator), as the firmware of the matching board does. */
kws_status_t kws_binding_open(kws_engine_t *e, const uint8_t *model, size_t model_len,
                              const kws_engine_settings_t *settings, int accelerator,
                              uint8_t *arena, size_t arena_len) {
  static kws_op_resolver_t resolver;
  kws_resolver_init_reference(&resolver);
  if (accelerator == 1) {
    kws_status_t st = kws_mvp_resolver_add(&resolver);
    if (st != KWS_OK) return st;
  } else if (accelerator != 0) {
    return KWS_ERR_ARG;
  }
  return kws_engine_open(e, model, model_len, settings, &resolver, arena, arena_len);
}
