/* TRANSPOSE, up to 5-D, with a constant permutation (input 1, int32): output dimension k is
 * input dimension perm[k]. A copy, so any element type is taken; the output keeps the input's
 * quantization, as the converter writes it. Shapes are right-aligned to 5-D (leading dimensions
 * of 1 stay in place) and the output is written in order. */
#include <string.h>

#include "kernels/kernel_util.h"
#include "kernels/reference_kernels.h"

namespace {

size_t no_op_data(const kws_op_context_t *) { return 0; }

/* The permutation padded to KWS_MAX_DIMS, or false when input 1 is not a permutation of the
 * input's dimensions. */
bool padded_perm(const kws_tensor_t *in, const kws_tensor_t *perm, int *p) {
  if (perm->type != KWS_TYPE_INT32 || perm->data == nullptr || perm->rank != 1 || perm->dims[0] != in->rank)
    return false;
  const int32_t *v = static_cast<const int32_t *>(perm->data);
  const int lead = KWS_MAX_DIMS - in->rank;
  int seen = 0;
  for (int k = 0; k < lead; k++) p[k] = k;
  for (int k = 0; k < in->rank; k++) {
    if (v[k] < 0 || v[k] >= in->rank || (seen & (1 << v[k]))) return false;
    seen |= 1 << v[k];
    p[lead + k] = lead + v[k];
  }
  return true;
}

kws_status_t prepare(kws_op_context_t *ctx) {
  if (ctx->n_inputs < 2 || ctx->n_outputs < 1) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "needs input and perm");
  const kws_tensor_t *in = ctx->inputs[0], *perm = ctx->inputs[1], *out = ctx->outputs[0];
  if (in->type != out->type) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "input and output types differ");
  if (in->rank < 1 || in->rank > KWS_MAX_DIMS || out->rank != in->rank)
    return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "input and output must have the same rank, 1 to 5");
  if (!perm->is_constant) return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "perm must be a constant tensor");
  int p[KWS_MAX_DIMS];
  if (!padded_perm(in, perm, p))
    return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "perm is not an int32 permutation of the input's dimensions");
  const int32_t *v = static_cast<const int32_t *>(perm->data);
  for (int k = 0; k < in->rank; k++)
    if (out->dims[k] != in->dims[v[k]]) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "output shape is not the permuted input shape");
  const int32_t n = kws_flat_size(in);
  if (n > 0 && (in->bytes % (size_t)n != 0 || in->bytes != out->bytes))
    return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "input and output sizes differ");
  return KWS_OK;
}

kws_status_t invoke(kws_op_context_t *ctx) {
  const kws_tensor_t *in = ctx->inputs[0], *out = ctx->outputs[0];
  int p[KWS_MAX_DIMS];
  if (!padded_perm(in, ctx->inputs[1], p)) return KWS_ERR_MODEL_INVALID;
  const int32_t n = kws_flat_size(in);
  if (n == 0) return KWS_OK;
  const size_t size = in->bytes / (size_t)n;
  int32_t in_dims[KWS_MAX_DIMS], in_stride[KWS_MAX_DIMS], dims[KWS_MAX_DIMS], stride[KWS_MAX_DIMS];
  const int lead = KWS_MAX_DIMS - in->rank;
  for (int k = KWS_MAX_DIMS - 1, s = 1; k >= 0; k--) {
    in_dims[k] = k < lead ? 1 : in->dims[k - lead];
    in_stride[k] = s;
    s *= in_dims[k];
  }
  for (int k = 0; k < KWS_MAX_DIMS; k++) { /* output dimension k walks input dimension p[k] */
    dims[k] = in_dims[p[k]];
    stride[k] = in_stride[p[k]];
  }
  const uint8_t *x = static_cast<const uint8_t *>(in->data);
  uint8_t *y = static_cast<uint8_t *>(out->data);
  for (int32_t i0 = 0; i0 < dims[0]; i0++)
    for (int32_t i1 = 0; i1 < dims[1]; i1++)
      for (int32_t i2 = 0; i2 < dims[2]; i2++)
        for (int32_t i3 = 0; i3 < dims[3]; i3++) {
          const int32_t base = i0 * stride[0] + i1 * stride[1] + i2 * stride[2] + i3 * stride[3];
          if (size == 1) {
            for (int32_t i4 = 0; i4 < dims[4]; i4++) *y++ = x[base + i4 * stride[4]];
          } else {
            for (int32_t i4 = 0; i4 < dims[4]; i4++, y += size) memcpy(y, x + (size_t)(base + i4 * stride[4]) * size, size);
          }
        }
  return KWS_OK;
}

}  // namespace

extern "C" const kws_kernel_t kws_kernel_transpose = {KWS_OP_TRANSPOSE, "TRANSPOSE", no_op_data, prepare, nullptr, invoke};
