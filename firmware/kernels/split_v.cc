/* SPLIT_V: cuts the input along one axis into parts of the sizes given by the constant int32
 * vector size_splits (one entry may be -1: whatever the others leave), as TFLite's reference
 * Split does: per outer index, each output takes its slab in turn. Bytes are copied as they
 * are (1, 2 or 4-byte elements; the converter gives every part the input's quantization).
 * Parts are limited to KWS_MAX_OP_OUTPUTS outputs (the verifier refuses more). */
#include <string.h>

#include "kernels/kernel_util.h"
#include "kernels/reference_kernels.h"

namespace {

size_t no_op_data(const kws_op_context_t *) { return 0; }

int axis_of(const kws_op_context_t *ctx) {
  const int32_t axis = *static_cast<const int32_t *>(ctx->inputs[2]->data);
  return axis < 0 ? axis + ctx->inputs[0]->rank : axis;
}

kws_status_t prepare(kws_op_context_t *ctx) {
  if (ctx->n_inputs != 3 || ctx->n_outputs < 1 || !ctx->inputs[0] || !ctx->inputs[1] || !ctx->inputs[2])
    return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "needs input, size_splits and axis");
  const kws_tensor_t *in = ctx->inputs[0], *sizes = ctx->inputs[1], *axis_t = ctx->inputs[2];
  const int n = ctx->n_outputs;
  if (ctx->params.split.num_splits != n) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "num_splits is not the number of outputs");
  if (!kws_is_type(sizes, KWS_TYPE_INT32) || !sizes->is_constant || sizes->rank != 1 || sizes->dims[0] != n)
    return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "size_splits must be a constant int32 vector, one entry per output");
  if (!kws_is_type(axis_t, KWS_TYPE_INT32) || !axis_t->is_constant || kws_flat_size(axis_t) != 1)
    return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "axis must be one constant int32");
  const int axis = axis_of(ctx);
  if (axis < 0 || axis >= in->rank) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "axis out of range");
  const size_t elem = in->bytes / (size_t)kws_flat_size(in);
  if (elem != 1 && elem != 2 && elem != 4) return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "only 1, 2 or 4-byte elements are supported");
  const int32_t *size = static_cast<const int32_t *>(sizes->data);
  int64_t known = 0;
  int inferred = -1;
  for (int k = 0; k < n; k++) {
    if (size[k] == -1 && inferred < 0) {
      inferred = k;
    } else if (size[k] < 0) {
      return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "a negative split size (or two -1)");
    } else {
      known += size[k];
    }
  }
  if (inferred < 0 ? known != in->dims[axis] : known > in->dims[axis])
    return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "split sizes do not add up to the axis");
  for (int k = 0; k < n; k++) {
    const kws_tensor_t *out = ctx->outputs[k];
    const int32_t part = k == inferred ? in->dims[axis] - (int32_t)known : size[k];
    bool ok = out->type == in->type && out->rank == in->rank;
    for (int d = 0; ok && d < in->rank; d++) ok = out->dims[d] == (d == axis ? part : in->dims[d]);
    if (!ok) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "an output's type or shape is not its part of the input");
  }
  return KWS_OK;
}

kws_status_t invoke(kws_op_context_t *ctx) {
  const kws_tensor_t *in = ctx->inputs[0];
  const int axis = axis_of(ctx);
  const size_t elem = in->bytes / (size_t)kws_flat_size(in);
  int32_t outer = 1;
  size_t inner = elem;
  for (int d = 0; d < axis; d++) outer *= in->dims[d];
  for (int d = axis + 1; d < in->rank; d++) inner *= (size_t)in->dims[d];
  const uint8_t *src = static_cast<const uint8_t *>(in->data);
  for (int32_t k = 0; k < outer; k++) {
    for (int i = 0; i < ctx->n_outputs; i++) {
      const kws_tensor_t *out = ctx->outputs[i];
      const size_t slab = (size_t)out->dims[axis] * inner;
      memcpy(static_cast<uint8_t *>(out->data) + (size_t)k * slab, src, slab);
      src += slab;
    }
  }
  return KWS_OK;
}

}  // namespace

extern "C" const kws_kernel_t kws_kernel_split_v = {KWS_OP_SPLIT_V, "SPLIT_V", no_op_data, prepare, nullptr, invoke};
