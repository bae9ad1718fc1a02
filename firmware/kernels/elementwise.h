/* The loop of binary elementwise kernels (ADD, SUB, MUL, MAXIMUM, MINIMUM): same-shape fast
 * path, else a walk over the output with per-input strides (0 where an input is broadcast).
 * C++ only. */
#ifndef KWS_KERNELS_ELEMENTWISE_H
#define KWS_KERNELS_ELEMENTWISE_H

#include "kernels/kernel_util.h"

/* Calls op(a_value, b_value) for every output element and stores its result. */
template <typename Op>
void kws_elementwise_int8(const kws_tensor_t *a, const kws_tensor_t *b, kws_tensor_t *out, Op op) {
  const int8_t *pa = static_cast<const int8_t *>(a->data);
  const int8_t *pb = static_cast<const int8_t *>(b->data);
  int8_t *po = static_cast<int8_t *>(out->data);
  if (kws_same_shape(a, b) && kws_same_shape(a, out)) {
    const int32_t n = kws_flat_size(out);
    for (int32_t i = 0; i < n; i++) po[i] = op(pa[i], pb[i]);
    return;
  }
  kws_broadcast_t bc;
  if (!kws_broadcast_init(a, b, out, &bc)) return; /* prepare rejected such shapes */
  for (int32_t i0 = 0; i0 < bc.dims[0]; i0++)
    for (int32_t i1 = 0; i1 < bc.dims[1]; i1++)
      for (int32_t i2 = 0; i2 < bc.dims[2]; i2++)
        for (int32_t i3 = 0; i3 < bc.dims[3]; i3++) {
          const int32_t oa = i0 * bc.stride_a[0] + i1 * bc.stride_a[1] + i2 * bc.stride_a[2] + i3 * bc.stride_a[3];
          const int32_t ob = i0 * bc.stride_b[0] + i1 * bc.stride_b[1] + i2 * bc.stride_b[2] + i3 * bc.stride_b[3];
          for (int32_t i4 = 0; i4 < bc.dims[4]; i4++)
            *po++ = op(pa[oa + i4 * bc.stride_a[4]], pb[ob + i4 * bc.stride_b[4]]);
        }
}

/* Shared prepare checks of the binary kernels: int8 everywhere, shapes that broadcast. */
static inline kws_status_t kws_elementwise_prepare(kws_op_context_t *ctx) {
  if (ctx->n_inputs < 2 || ctx->n_outputs < 1) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "needs two inputs");
  const kws_tensor_t *a = ctx->inputs[0], *b = ctx->inputs[1], *out = ctx->outputs[0];
  if (!kws_is_type(a, KWS_TYPE_INT8) || !kws_is_type(b, KWS_TYPE_INT8) || !kws_is_type(out, KWS_TYPE_INT8))
    return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "only int8 inputs and output are supported");
  kws_broadcast_t bc;
  if (!kws_broadcast_init(a, b, out, &bc)) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "input shapes do not broadcast to the output shape");
  return KWS_OK;
}

/* ADD's prepare and invoke, with `subtract` SUB's (add.cc: one copy of the loop for both). */
kws_status_t kws_add_sub_prepare(kws_op_context_t *ctx);
kws_status_t kws_add_sub_invoke(kws_op_context_t *ctx, bool subtract);

#endif
