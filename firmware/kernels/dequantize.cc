/* DEQUANTIZE, int8 to float32: scale * (q - zero_point). TFLite computes the product in double
 * and rounds it to float; a float times a small integer is exact in double, so one correctly
 * rounded float multiply gives the same bits. */
#include "kernels/kernel_util.h"
#include "kernels/reference_kernels.h"

namespace {

size_t no_op_data(const kws_op_context_t *) { return 0; }

kws_status_t prepare(kws_op_context_t *ctx) {
  if (ctx->n_inputs < 1 || ctx->n_outputs < 1) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "needs an input");
  const kws_tensor_t *in = ctx->inputs[0], *out = ctx->outputs[0];
  if (!kws_is_type(in, KWS_TYPE_INT8) || !kws_is_type(out, KWS_TYPE_FLOAT32))
    return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "only int8 to float32 is supported");
  if (kws_flat_size(in) != kws_flat_size(out)) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "input and output sizes differ");
  return KWS_OK;
}

kws_status_t invoke(kws_op_context_t *ctx) {
  const kws_tensor_t *in = ctx->inputs[0], *out = ctx->outputs[0];
  const int8_t *q = static_cast<const int8_t *>(in->data);
  float *f = static_cast<float *>(out->data);
  const int32_t n = kws_flat_size(in);
  for (int32_t i = 0; i < n; i++) f[i] = (float)((double)in->scale * (double)(q[i] - in->zero_point));
  return KWS_OK;
}

}  // namespace

extern "C" const kws_kernel_t kws_kernel_dequantize = {KWS_OP_DEQUANTIZE, "DEQUANTIZE", no_op_data, prepare,
                                                      nullptr, invoke};
