/* LEAKY_RELU, int8 in and out: y = zp_out + (x - zp_in) * M, with M = in_scale / out_scale for
 * x >= zp_in and M = in_scale * alpha / out_scale below (TFLite's QuantizeLeakyRelu, two
 * multipliers with their own exponents). TFLite forms both ratios in float and widens them to
 * double; TFLite Micro (TFLM flavor) forms them in double.
 */
#include "kernels/fixed_point.h"
#include "kernels/kernel_util.h"
#include "kernels/reference_kernels.h"

namespace {

struct Multipliers {
  int32_t identity, alpha;
  int shift_identity, shift_alpha;
};

Multipliers multipliers(const kws_op_context_t *ctx) {
  const float in = ctx->inputs[0]->scale, out = ctx->outputs[0]->scale, alpha = ctx->params.leaky_relu.alpha;
  const bool tflm = kws_kernels_flavor() == KWS_FLAVOR_TFLM;
  Multipliers m;
  kws_quantize_multiplier(tflm ? (double)in / (double)out : (double)(in / out), &m.identity, &m.shift_identity);
  kws_quantize_multiplier(tflm ? (double)in * (double)alpha / (double)out : (double)(in * alpha / out), &m.alpha,
                          &m.shift_alpha);
  return m;
}

size_t no_op_data(const kws_op_context_t *) { return 0; }

kws_status_t prepare(kws_op_context_t *ctx) {
  kws_status_t st = kws_check_int8_unary(ctx);
  if (st != KWS_OK) return st;
  const Multipliers m = multipliers(ctx);
  if (!kws_multiplier_usable(m.shift_identity) || !kws_multiplier_usable(m.shift_alpha))
    return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "scales and alpha give an unusable multiplier");
  return KWS_OK;
}

kws_status_t invoke(kws_op_context_t *ctx) {
  const kws_tensor_t *in = ctx->inputs[0], *out = ctx->outputs[0];
  const Multipliers m = multipliers(ctx);
  const int8_t *x = static_cast<const int8_t *>(in->data);
  int8_t *y = static_cast<int8_t *>(out->data);
  const int32_t n = kws_flat_size(in);
  for (int32_t i = 0; i < n; i++) {
    const int32_t v = x[i] - in->zero_point;
    const int32_t scaled = v >= 0 ? kws_multiply_by_quantized_multiplier(v, m.identity, m.shift_identity)
                                  : kws_multiply_by_quantized_multiplier(v, m.alpha, m.shift_alpha);
    y[i] = (int8_t)kws_clamp_i32(out->zero_point + scaled, -128, 127);
  }
  return KWS_OK;
}

}  // namespace

extern "C" const kws_kernel_t kws_kernel_leaky_relu = {KWS_OP_LEAKY_RELU, "LEAKY_RELU", no_op_data, prepare, nullptr,
                                                       invoke};
