/* SOFTMAX, int8 in and out (output scale 1/256, zero point -128), over the last dimension.
 *
 * Integer arithmetic of TFLite Micro's reference: differences to the row maximum are scaled by
 * beta * input_scale into Q5.26 (differences below -radius contribute nothing), exponentiated
 * in fixed point, summed in Q12.19, and each exp is multiplied by the sum's reciprocal.
 * Parameters come from the tensors at invoke time, so there is no op data.
 */
#include <math.h>

#include "kernels/fixed_point_exp.h"
#include "kernels/kernel_util.h"
#include "kernels/reference_kernels.h"

namespace {

constexpr int kScaledDiffIntegerBits = 5;
constexpr int kAccumulationIntegerBits = 12;

struct Params {
  int32_t multiplier;
  int left_shift;
  int32_t diff_min;
};

bool params_for(const kws_op_context_t *ctx, Params *p) {
  const double real = (double)ctx->params.softmax.beta * (double)ctx->inputs[0]->scale *
                      (double)(1LL << (31 - kScaledDiffIntegerBits));
  const double capped = real < (double)((1LL << 31) - 1) ? real : (double)((1LL << 31) - 1);
  if (!(capped > 1.0)) return false;
  kws_quantize_multiplier(capped, &p->multiplier, &p->left_shift);
  if (p->left_shift < 0 || p->left_shift > 31) return false;
  /* radius = floor((2^5 - 1) * 2^26 / 2^left_shift) */
  const double radius = floor(31.0 * (double)(1LL << (31 - kScaledDiffIntegerBits)) / (double)(1LL << p->left_shift));
  p->diff_min = -(int32_t)radius;
  return true;
}

size_t no_op_data(const kws_op_context_t *) { return 0; }

kws_status_t prepare(kws_op_context_t *ctx) {
  if (ctx->n_inputs < 1 || ctx->n_outputs < 1) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "needs an input");
  const kws_tensor_t *in = ctx->inputs[0], *out = ctx->outputs[0];
  if (!kws_is_type(in, KWS_TYPE_INT8) || !kws_is_type(out, KWS_TYPE_INT8)) return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "only int8 in and out is supported");
  if (in->rank < 1 || !kws_same_shape(in, out)) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "input and output shapes differ");
  if (out->zero_point != -128 || out->scale != 1.0f / 256) return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "output must have scale 1/256 and zero point -128");
  Params p;
  if (!params_for(ctx, &p)) return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "beta * input scale is too small for the fixed-point exp");
  return KWS_OK;
}

kws_status_t invoke(kws_op_context_t *ctx) {
  const kws_tensor_t *in = ctx->inputs[0], *out = ctx->outputs[0];
  Params p;
  if (!params_for(ctx, &p)) return KWS_ERR_UNSUPPORTED;
  const int32_t depth = in->dims[in->rank - 1];
  const int32_t rows = depth > 0 ? kws_flat_size(in) / depth : 0;
  const int8_t *x = static_cast<const int8_t *>(in->data);
  int8_t *y = static_cast<int8_t *>(out->data);
  for (int32_t r = 0; r < rows; r++, x += depth, y += depth) {
    int32_t max = -128;
    for (int32_t c = 0; c < depth; c++) max = x[c] > max ? x[c] : max;
    int32_t sum = 0; /* Q12.19 */
    for (int32_t c = 0; c < depth; c++) {
      const int32_t diff = x[c] - max;
      if (diff < p.diff_min) continue;
      const int32_t scaled = kws_sat_rounding_doubling_high_mul(kws_shift_left_wrapping(diff, p.left_shift), p.multiplier);
      sum = kws_fx_add(sum, kws_rounding_divide_by_pot(kws_exp_on_negative_values(scaled, kScaledDiffIntegerBits),
                                                       kAccumulationIntegerBits));
    }
    int bits_over_unit;
    const int32_t reciprocal = kws_reciprocal(sum, kAccumulationIntegerBits, &bits_over_unit);
    const int exponent = bits_over_unit + 31 - 8;
    for (int32_t c = 0; c < depth; c++) {
      const int32_t diff = x[c] - max;
      if (diff < p.diff_min) {
        y[c] = -128;
        continue;
      }
      const int32_t scaled = kws_sat_rounding_doubling_high_mul(kws_shift_left_wrapping(diff, p.left_shift), p.multiplier);
      const int32_t e = kws_exp_on_negative_values(scaled, kScaledDiffIntegerBits);
      const int32_t v = kws_rounding_divide_by_pot(kws_fx_mul(reciprocal, e), exponent) - 128;
      y[c] = (int8_t)kws_clamp_i32(v, -128, 127);
    }
  }
  return KWS_OK;
}

}  // namespace

extern "C" const kws_kernel_t kws_kernel_softmax = {KWS_OP_SOFTMAX, "SOFTMAX", no_op_data, prepare, nullptr, invoke};
