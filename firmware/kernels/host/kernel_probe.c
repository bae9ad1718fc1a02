/* Host-only entry point that runs one kernel on a caller-filled context, so tests can check
 * each kernel in isolation against TFLite's per-op results (tests/kernel_probe.py). */
#include <stdint.h>

#include "kernels/kernel_api.h"
#include "kernels/kernel_util.h"

/* Runs op_data_size, prepare, scratch_size and invoke of the reference kernel for
 * ctx->builtin_code, carving op data and scratch from `work`. */
kws_status_t kws_kernel_probe_run(kws_op_context_t *ctx, void *work, size_t work_len, size_t *used) {
  static kws_op_resolver_t resolver;
  if (resolver.count == 0) kws_resolver_init_reference(&resolver);
  const kws_kernel_t *k = kws_resolver_find(&resolver, ctx->builtin_code);
  if (k == NULL) return KWS_ERR_NOT_FOUND;
  uint8_t *base = (uint8_t *)work;
  size_t op_bytes = k->op_data_size ? k->op_data_size(ctx) : 0;
  op_bytes = (op_bytes + 15u) & ~(size_t)15u;
  if (op_bytes > work_len) return KWS_ERR_NO_MEMORY;
  ctx->op_data = op_bytes ? base : NULL;
  kws_status_t st = k->prepare(ctx);
  if (st != KWS_OK) return st;
  size_t scratch = k->scratch_size ? k->scratch_size(ctx) : 0;
  if (op_bytes + scratch > work_len) return KWS_ERR_NO_MEMORY;
  ctx->scratch = scratch ? base + op_bytes : NULL;
  if (used) *used = op_bytes + scratch;
  return k->invoke(ctx);
}

/* Lets host tests pick the reference whose rounding the kernels reproduce (0 TFLite, 1 TFLM). */
void kws_kernel_probe_set_flavor(int flavor) { kws_kernels_set_flavor((kws_kernel_flavor_t)flavor); }
