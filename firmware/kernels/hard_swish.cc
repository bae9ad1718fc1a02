/* HARD_SWISH, int8 in and out: x * relu6(x + 3) / 6 in TFLite's 16-bit fixed point.
 *
 * The input, offset and shifted left by 7 ("hires"), is scaled by two 16-bit multipliers: one
 * to the output scale (before the final shift), one to the "reluish" scale where 3.0 is 32768.
 * The reluish value, saturated to [-1, 1] and mapped to [0, 1], multiplies the first with a
 * truncating (not rounding) doubling high multiply, which cancels the rounding bias of the
 * others. Both multipliers come from float ratios rounded to 31 bits, then to 16.
 * The int16 helpers below follow gemmlowp's scalar int16 forms, including their wrap-around when
 * the result is stored back into 16 bits. TFLite and TFLite Micro compute alike.
 */
#include "kernels/fixed_point.h"
#include "kernels/kernel_util.h"
#include "kernels/reference_kernels.h"

namespace {

struct Params {
  int16_t output_multiplier, reluish_multiplier;
  int output_exponent, reluish_exponent;
};

int16_t to_int16_multiplier(int32_t m) {
  if (m >= INT32_MAX - (1 << 15)) return INT16_MAX;
  return (int16_t)((m + (1 << 15)) >> 16);
}

Params params_for(const kws_tensor_t *in, const kws_tensor_t *out) {
  const float hires_scale = (1.0f / 128.0f) * in->scale;
  const float reluish_scale = 3.0f / 32768.0f;
  Params p;
  int32_t m;
  kws_quantize_multiplier((double)(hires_scale / out->scale), &m, &p.output_exponent);
  p.output_multiplier = to_int16_multiplier(m);
  kws_quantize_multiplier((double)(hires_scale / reluish_scale), &m, &p.reluish_exponent);
  p.reluish_multiplier = to_int16_multiplier(m);
  return p;
}

/* round(a * b / 2^15), ties up; (-2^15)^2 saturates. */
int16_t rounding_doubling_high_mul16(int16_t a, int16_t b) {
  if (a == b && a == INT16_MIN) return INT16_MAX;
  const int32_t ab = (int32_t)a * b;
  const int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
  return (int16_t)((ab + nudge) / (1 << 15));
}

/* a * b / 2^15 truncated toward zero; (-2^15)^2 saturates. */
int16_t doubling_high_mul16(int16_t a, int16_t b) {
  if (a == b && a == INT16_MIN) return INT16_MAX;
  return (int16_t)(((int32_t)a * b) / (1 << 15));
}

/* x / 2^e rounded half away from zero, in int16 as gemmlowp's template computes it for e <= 31
 * (its mask truncated to 16 bits for e >= 16). */
int16_t rounding_divide_by_pot16(int16_t x, int e) {
  if (e > 31) e = 31;
  const int16_t mask = (int16_t)((1LL << e) - 1);
  const int16_t remainder = (int16_t)(x & mask);
  const int16_t threshold = (int16_t)((mask >> 1) + (x < 0 ? 1 : 0));
  return (int16_t)((x >> e) + (remainder > threshold ? 1 : 0));
}

int16_t saturating_left_shift16(int16_t x, int amount) {
  const int64_t v = (int64_t)x * ((int64_t)1 << (amount > 30 ? 30 : amount));
  return (int16_t)(v > INT16_MAX ? INT16_MAX : (v < INT16_MIN ? INT16_MIN : v));
}

size_t no_op_data(const kws_op_context_t *) { return 0; }

kws_status_t prepare(kws_op_context_t *ctx) {
  kws_status_t st = kws_check_int8_unary(ctx);
  if (st != KWS_OK) return st;
  const kws_tensor_t *in = ctx->inputs[0], *out = ctx->outputs[0];
  const Params p = params_for(in, out);
  if (p.output_exponent > 0)
    return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "output scale below input scale / 128 (TFLite refuses it too)");
  return KWS_OK;
}

kws_status_t invoke(kws_op_context_t *ctx) {
  const kws_tensor_t *in = ctx->inputs[0], *out = ctx->outputs[0];
  const Params p = params_for(in, out);
  const int8_t *x = static_cast<const int8_t *>(in->data);
  int8_t *y = static_cast<int8_t *>(out->data);
  const int32_t n = kws_flat_size(in);
  for (int32_t i = 0; i < n; i++) {
    const int16_t hires = (int16_t)((x[i] - in->zero_point) * (1 << 7));
    const int16_t on_output_scale = rounding_doubling_high_mul16(hires, p.output_multiplier);
    int16_t reluish = hires;
    if (p.reluish_exponent > 0) reluish = saturating_left_shift16(reluish, p.reluish_exponent - 1);
    reluish = rounding_doubling_high_mul16(reluish, p.reluish_multiplier);
    if (p.reluish_exponent > 0) reluish = saturating_left_shift16(reluish, 1);
    if (p.reluish_exponent < 0) reluish = rounding_divide_by_pot16(reluish, -p.reluish_exponent);
    reluish = (int16_t)((reluish + (1 << 15)) >> 1); /* [-1, 1] -> [0, 1] */
    const int16_t preshift = doubling_high_mul16(reluish, on_output_scale);
    const int16_t v = (int16_t)(rounding_divide_by_pot16(preshift, -p.output_exponent) + out->zero_point);
    y[i] = (int8_t)kws_clamp_i32(v, -128, 127);
  }
  return KWS_OK;
}

}  // namespace

extern "C" const kws_kernel_t kws_kernel_hard_swish = {KWS_OP_HARD_SWISH, "HARD_SWISH", no_op_data, prepare, nullptr,
                                                       invoke};
