/* PAD, int8 (any rank up to KWS_MAX_DIMS): the input placed in an output filled with the
 * output's zero point (the quantized 0.0), as TFLite does when no constant is given. The
 * paddings input is int32 [rank, 2] (before, after) per dimension. */
#include <string.h>

#include "kernels/kernel_util.h"
#include "kernels/reference_kernels.h"

namespace {

size_t no_op_data(const kws_op_context_t *) { return 0; }

int32_t padding_at(const kws_tensor_t *paddings, int i) {
  if (paddings->type == KWS_TYPE_INT64) { /* only 4-byte aligned in a .tflite: copied out */
    int64_t v;
    memcpy(&v, static_cast<const uint8_t *>(paddings->data) + 8 * i, sizeof v);
    return (int32_t)v;
  }
  return static_cast<const int32_t *>(paddings->data)[i];
}

kws_status_t prepare(kws_op_context_t *ctx) {
  if (ctx->n_inputs < 2 || ctx->n_outputs < 1 || !ctx->inputs[1]) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "needs input and paddings");
  const kws_tensor_t *in = ctx->inputs[0], *pads = ctx->inputs[1], *out = ctx->outputs[0];
  if (!kws_is_type(in, KWS_TYPE_INT8) || !kws_is_type(out, KWS_TYPE_INT8))
    return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "only int8 is supported");
  if (pads->type != KWS_TYPE_INT32 && pads->type != KWS_TYPE_INT64) return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "paddings must be int32 or int64");
  if (in->rank != out->rank || in->rank > KWS_MAX_DIMS || pads->rank != 2 || pads->dims[0] != in->rank || pads->dims[1] != 2)
    return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "paddings must be [rank, 2]");
  if (pads->data == nullptr) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "paddings have no data");
  if (!pads->is_constant) return KWS_OK; /* checked again at invoke */
  for (int i = 0; i < in->rank; i++) {
    const int32_t before = padding_at(pads, 2 * i), after = padding_at(pads, 2 * i + 1);
    if (before < 0 || after < 0 || in->dims[i] + before + after != out->dims[i])
      return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "paddings do not match the output shape");
  }
  return KWS_OK;
}

kws_status_t invoke(kws_op_context_t *ctx) {
  const kws_tensor_t *in = ctx->inputs[0], *pads = ctx->inputs[1], *out = ctx->outputs[0];
  int32_t in_dims[KWS_MAX_DIMS], before[KWS_MAX_DIMS], out_dims[KWS_MAX_DIMS];
  const int lead = KWS_MAX_DIMS - in->rank;
  for (int k = 0; k < KWS_MAX_DIMS; k++) {
    const int i = k - lead;
    in_dims[k] = i >= 0 ? in->dims[i] : 1;
    out_dims[k] = i >= 0 ? out->dims[i] : 1;
    before[k] = i >= 0 ? padding_at(pads, 2 * i) : 0;
    if (before[k] < 0 || before[k] + in_dims[k] > out_dims[k]) return KWS_ERR_MODEL_INVALID;
  }
  int8_t *o = static_cast<int8_t *>(out->data);
  const int8_t *x = static_cast<const int8_t *>(in->data);
  memset(o, (int8_t)out->zero_point, (size_t)kws_flat_size(out));
  /* Copy the input row by row (the last dimension is contiguous in both). */
  for (int32_t i0 = 0; i0 < in_dims[0]; i0++)
    for (int32_t i1 = 0; i1 < in_dims[1]; i1++)
      for (int32_t i2 = 0; i2 < in_dims[2]; i2++)
        for (int32_t i3 = 0; i3 < in_dims[3]; i3++) {
          const int32_t oi = (((i0 + before[0]) * out_dims[1] + i1 + before[1]) * out_dims[2] + i2 + before[2]) *
                                 out_dims[3] + i3 + before[3];
          memcpy(o + oi * out_dims[4] + before[4], x, (size_t)in_dims[4]);
          x += in_dims[4];
        }
  return KWS_OK;
}

}  // namespace

extern "C" const kws_kernel_t kws_kernel_pad = {KWS_OP_PAD, "PAD", no_op_data, prepare, nullptr, invoke};
