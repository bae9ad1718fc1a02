/* QUANTIZE: float32 to int8 (round(x / scale) + zero_point: float division and rounding, the
 * sum and clamp in double, as TFLite's reference AffineQuantize does) and int8 to int8 requantization
 * ((q - zp_in) * (scale_in / scale_out) in two-rounding fixed point, + zp_out). */
#include <math.h>

#include "kernels/fixed_point.h"
#include "kernels/kernel_util.h"
#include "kernels/reference_kernels.h"

namespace {

size_t no_op_data(const kws_op_context_t *) { return 0; }

kws_status_t prepare(kws_op_context_t *ctx) {
  if (ctx->n_inputs < 1 || ctx->n_outputs < 1) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "needs an input");
  const kws_tensor_t *in = ctx->inputs[0], *out = ctx->outputs[0];
  if (!kws_is_type(out, KWS_TYPE_INT8) || !(kws_is_type(in, KWS_TYPE_FLOAT32) || kws_is_type(in, KWS_TYPE_INT8)))
    return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "only float32 or int8 to int8 is supported");
  if (kws_flat_size(in) != kws_flat_size(out)) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "input and output sizes differ");
  if (!(out->scale > 0)) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "output scale must be positive");
  if (in->type == KWS_TYPE_INT8) {
    int32_t mult;
    int shift;
    kws_quantize_multiplier((double)in->scale / (double)out->scale, &mult, &shift);
    if (!kws_multiplier_usable(shift)) return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "scales give an unusable multiplier");
  }
  return KWS_OK;
}

kws_status_t invoke(kws_op_context_t *ctx) {
  const kws_tensor_t *in = ctx->inputs[0], *out = ctx->outputs[0];
  int8_t *q = static_cast<int8_t *>(out->data);
  const int32_t n = kws_flat_size(in), zp = out->zero_point;
  if (in->type == KWS_TYPE_FLOAT32) {
    const float *f = static_cast<const float *>(in->data);
    const float scale = out->scale;
    for (int32_t i = 0; i < n; i++) {
      double v = (double)roundf(f[i] / scale) + (double)zp;
      v = v < -128.0 ? -128.0 : (v > 127.0 ? 127.0 : v);
      q[i] = (int8_t)v;
    }
    return KWS_OK;
  }
  const int8_t *x = static_cast<const int8_t *>(in->data);
  int32_t mult;
  int shift;
  kws_quantize_multiplier((double)in->scale / (double)out->scale, &mult, &shift);
  for (int32_t i = 0; i < n; i++) {
    const int32_t v = kws_multiply_by_quantized_multiplier(x[i] - in->zero_point, mult, shift) + zp;
    q[i] = (int8_t)kws_clamp_i32(v, -128, 127);
  }
  return KWS_OK;
}

}  // namespace

extern "C" const kws_kernel_t kws_kernel_quantize = {KWS_OP_QUANTIZE, "QUANTIZE", no_op_data, prepare, nullptr,
                                                    invoke};
