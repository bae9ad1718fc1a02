/* CONCATENATION, int8 along any axis. TFLite requires every int8 input to share the output's
 * scale and zero point (the converter inserts requantizations otherwise), so this is a copy of
 * each input's slab per outer index. */
#include <string.h>

#include "kernels/kernel_util.h"
#include "kernels/reference_kernels.h"

namespace {

size_t no_op_data(const kws_op_context_t *) { return 0; }

int axis_of(const kws_op_context_t *ctx) {
  const int rank = ctx->outputs[0]->rank;
  return ctx->params.concat.axis < 0 ? ctx->params.concat.axis + rank : ctx->params.concat.axis;
}

kws_status_t prepare(kws_op_context_t *ctx) {
  if (ctx->n_inputs < 1 || ctx->n_outputs < 1) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "needs inputs");
  const kws_tensor_t *out = ctx->outputs[0];
  const int axis = axis_of(ctx);
  if (!kws_is_type(out, KWS_TYPE_INT8)) return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "only int8 is supported");
  if (axis < 0 || axis >= out->rank) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "axis out of range");
  if (ctx->params.concat.activation != KWS_ACT_NONE) return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "fused activation on int8 concatenation");
  int32_t total = 0;
  for (int i = 0; i < ctx->n_inputs; i++) {
    const kws_tensor_t *in = ctx->inputs[i];
    if (!kws_is_type(in, KWS_TYPE_INT8) || in->rank != out->rank) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "inputs must be int8 of the output's rank");
    for (int d = 0; d < out->rank; d++)
      if (d != axis && in->dims[d] != out->dims[d]) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "inputs differ outside the axis");
    if (in->scale != out->scale || in->zero_point != out->zero_point)
      return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "int8 inputs must share the output's quantization");
    total += in->dims[axis];
  }
  if (total != out->dims[axis]) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "input sizes along the axis do not add up");
  return KWS_OK;
}

kws_status_t invoke(kws_op_context_t *ctx) {
  const kws_tensor_t *out = ctx->outputs[0];
  const int axis = axis_of(ctx);
  int32_t outer = 1, inner = 1;
  for (int d = 0; d < axis; d++) outer *= out->dims[d];
  for (int d = axis + 1; d < out->rank; d++) inner *= out->dims[d];
  int8_t *o = static_cast<int8_t *>(out->data);
  for (int32_t k = 0; k < outer; k++) {
    for (int i = 0; i < ctx->n_inputs; i++) {
      const kws_tensor_t *in = ctx->inputs[i];
      const size_t slab = (size_t)in->dims[axis] * (size_t)inner;
      memcpy(o, static_cast<const int8_t *>(in->data) + (size_t)k * slab, slab);
      o += slab;
    }
  }
  return KWS_OK;
}

}  // namespace

extern "C" const kws_kernel_t kws_kernel_concatenation = {KWS_OP_CONCATENATION, "CONCATENATION", no_op_data,
                                                         prepare, nullptr, invoke};
