/* Host binding of the model runtime for kwshost (ctypes): owns an aligned copy of the model,
 * an arena of exactly the planned size and the op resolver. Host-only: may use malloc. */
#include "kernels/mvp/mvp_kernels.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/kernel_api.h"
#include "runtime/interpreter.h"

extern "C" {

typedef struct {
  uint8_t type, rank, is_constant, pad;
  int32_t dims[KWS_MAX_DIMS];
  uint64_t bytes;
  float scale;
  int32_t zero_point;
  int32_t n_channel_scales;
  int32_t quantized_dimension;
} kws_rt_tensor_info_t;

typedef struct kws_rt {
  kws_interpreter_t it;
  kws_op_resolver_t resolver;
  uint8_t *model;
  uint8_t *arena;
  size_t arena_len;
  uint64_t *op_ns; /* profiling: nanoseconds per operator of the last profiled invoke */
  uint64_t started;
} kws_rt_t;

static void copy_message(char *dst, size_t dst_len, const char *src) {
  if (!dst || !dst_len) return;
  strncpy(dst, src ? src : "", dst_len - 1);
  dst[dst_len - 1] = 0;
}

void kws_rt_destroy(kws_rt_t *rt) {
  if (!rt) return;
  free(rt->model);
  free(rt->arena);
  free(rt->op_ns);
  free(rt);
}

/* accelerator: 0 = reference kernels only, 1 = MVP kernels (simulated MVP on the host),
 * 2 = MVP kernels with MLTK 0.20's program mapping (cycle-model calibration only). */
kws_rt_t *kws_rt_create(const uint8_t *model, size_t len, int accelerator, int *status, char *msg,
                        size_t msg_len) {
  *status = KWS_OK;
  copy_message(msg, msg_len, "");
  if (accelerator < 0 || accelerator > 2) {
    *status = KWS_ERR_UNSUPPORTED;
    copy_message(msg, msg_len, "unknown accelerator");
    return NULL;
  }
  kws_rt_t *rt = (kws_rt_t *)calloc(1, sizeof(kws_rt_t));
  if (!rt) return NULL;
  rt->model = (uint8_t *)aligned_alloc(16, (len + 15) & ~(size_t)15);
  if (!rt->model && len) {
    free(rt);
    return NULL;
  }
  if (len) memcpy(rt->model, model, len);
  kws_resolver_init_reference(&rt->resolver);
  if (accelerator != 0) {
    kws_mvp_set_mapping(accelerator == 2 ? KWS_MVP_MAPPING_MLTK : KWS_MVP_MAPPING_FAST);
    kws_mvp_resolver_add(&rt->resolver);
  }
  kws_status_t s = kws_interp_init(&rt->it, rt->model, len, &rt->resolver);
  size_t size = 64 * 1024;
  for (int attempt = 0; s == KWS_OK && attempt < 4; attempt++) {
    free(rt->arena);
    rt->arena = (uint8_t *)aligned_alloc(16, (size + 15) & ~(size_t)15);
    rt->arena_len = size;
    if (!rt->arena) {
      s = KWS_ERR_NO_MEMORY;
      break;
    }
    s = kws_interp_allocate(&rt->it, rt->arena, size);
    if (s != KWS_ERR_NO_MEMORY) break;
    size_t needed = kws_interp_arena_needed(&rt->it);
    if (needed <= size) break; /* cannot happen: the planner reported more than it got */
    size = needed;
    s = KWS_OK;
  }
  if (s == KWS_OK && rt->arena_len != kws_interp_arena_needed(&rt->it)) {
    /* Re-allocate into an arena of exactly the planned size, as firmware would. */
    size = kws_interp_arena_needed(&rt->it);
    free(rt->arena);
    rt->arena = (uint8_t *)aligned_alloc(16, (size + 15) & ~(size_t)15);
    rt->arena_len = size;
    s = rt->arena ? kws_interp_allocate(&rt->it, rt->arena, size) : KWS_ERR_NO_MEMORY;
  }
  if (s != KWS_OK) {
    *status = s;
    copy_message(msg, msg_len, kws_interp_message(&rt->it));
    kws_rt_destroy(rt);
    return NULL;
  }
  rt->op_ns = (uint64_t *)calloc(rt->it.n_ops + 1u, sizeof(uint64_t));
  return rt;
}

size_t kws_rt_arena_bytes(const kws_rt_t *rt) { return kws_interp_arena_needed(&rt->it); }
size_t kws_rt_state_bytes(void) { return sizeof(kws_interpreter_t) + sizeof(kws_op_resolver_t); }
const char *kws_rt_message(const kws_rt_t *rt) { return kws_interp_message(&rt->it); }
uint32_t kws_rt_num_ops(const kws_rt_t *rt) { return rt->it.n_ops; }
uint32_t kws_rt_num_tensors(const kws_rt_t *rt) { return rt->it.n_tensors; }
uint32_t kws_rt_num_inputs(const kws_rt_t *rt) { return rt->it.n_inputs; }
uint32_t kws_rt_num_outputs(const kws_rt_t *rt) { return rt->it.n_outputs; }

static void fill_info(const kws_tensor_t *v, kws_rt_tensor_info_t *info) {
  memset(info, 0, sizeof(*info));
  info->type = v->type;
  info->rank = v->rank;
  info->is_constant = v->is_constant;
  memcpy(info->dims, v->dims, sizeof(info->dims));
  info->bytes = v->bytes;
  info->scale = v->scale;
  info->zero_point = v->zero_point;
  info->n_channel_scales = v->n_channel_scales;
  info->quantized_dimension = v->quantized_dimension;
}

/* kind: 0 = any tensor by index, 1 = graph input `index`, 2 = graph output `index`. */
int kws_rt_tensor_info(kws_rt_t *rt, int kind, uint32_t index, kws_rt_tensor_info_t *info, int32_t *tensor) {
  kws_tensor_t v;
  kws_status_t s = kind == 1 ? kws_interp_input(&rt->it, index, &v)
                   : kind == 2 ? kws_interp_output(&rt->it, index, &v)
                               : kws_interp_tensor(&rt->it, index, &v);
  if (s != KWS_OK) return s;
  fill_info(&v, info);
  if (tensor) *tensor = kind == 0 ? (int32_t)index : kws_interp_io_tensor(&rt->it, kind == 2, index);
  return KWS_OK;
}

int kws_rt_set_input(kws_rt_t *rt, uint32_t index, const void *data, size_t len) {
  kws_tensor_t v;
  kws_status_t s = kws_interp_input(&rt->it, index, &v);
  if (s != KWS_OK) return s;
  if (len != v.bytes || !v.data) return KWS_ERR_ARG;
  memcpy(v.data, data, len);
  return KWS_OK;
}

int kws_rt_get_output(kws_rt_t *rt, uint32_t index, void *data, size_t len) {
  kws_tensor_t v;
  kws_status_t s = kws_interp_output(&rt->it, index, &v);
  if (s != KWS_OK) return s;
  if (len != v.bytes || !v.data) return KWS_ERR_ARG;
  memcpy(data, v.data, len);
  return KWS_OK;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void profile_hook(void *user, uint16_t op, int phase) {
  kws_rt_t *rt = (kws_rt_t *)user;
  if (phase == KWS_HOOK_BEFORE)
    rt->started = now_ns();
  else
    rt->op_ns[op] += now_ns() - rt->started;
}

int kws_rt_invoke(kws_rt_t *rt) { return kws_interp_invoke(&rt->it); }
int kws_rt_reset_state(kws_rt_t *rt) { return kws_interp_reset_state(&rt->it); }

/* Runs `repeats` invokes with the per-operator hook; op_ns[i] gets the total ns of op i. */
int kws_rt_profile(kws_rt_t *rt, uint32_t repeats, uint64_t *op_ns) {
  memset(rt->op_ns, 0, (rt->it.n_ops + 1u) * sizeof(uint64_t));
  kws_interp_set_hook(&rt->it, profile_hook, rt);
  kws_status_t s = KWS_OK;
  for (uint32_t i = 0; i < repeats && s == KWS_OK; i++) s = kws_interp_invoke(&rt->it);
  kws_interp_set_hook(&rt->it, NULL, NULL);
  memcpy(op_ns, rt->op_ns, rt->it.n_ops * sizeof(uint64_t));
  return s;
}

/* Mean ns per invoke over `repeats` invokes (for benchmarks, no Python overhead). */
int kws_rt_time(kws_rt_t *rt, uint32_t repeats, double *ns_per_invoke) {
  uint64_t t0 = now_ns();
  kws_status_t s = KWS_OK;
  for (uint32_t i = 0; i < repeats && s == KWS_OK; i++) s = kws_interp_invoke(&rt->it);
  *ns_per_invoke = repeats ? (double)(now_ns() - t0) / repeats : 0;
  return s;
}

int kws_rt_op_info(kws_rt_t *rt, uint32_t op, kws_op_info_t *info) { return kws_interp_op_info(&rt->it, op, info); }
size_t kws_rt_op_info_size(void) { return sizeof(kws_op_info_t); }
size_t kws_rt_tensor_info_size(void) { return sizeof(kws_rt_tensor_info_t); }

/* Checks a model without keeping it: the loader's status and message (for tests and fuzzing). */
int kws_rt_check(const uint8_t *model, size_t len, char *msg, size_t msg_len) {
  int status = 0;
  kws_rt_t *rt = kws_rt_create(model, len, 0, &status, msg, msg_len);
  if (rt) {
    status = kws_rt_invoke(rt);
    if (status != KWS_OK) copy_message(msg, msg_len, kws_rt_message(rt));
    kws_rt_destroy(rt);
  }
  return status;
}

}  // extern "C"
