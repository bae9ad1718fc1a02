/* ADD (and SUB's arithmetic), int8 with broadcasting and a fused activation.
 *
 * TFLite's 8-bit rescaling: both inputs are offset, shifted left by 20 bits and scaled to a
 * common scale (twice the larger input scale) by multipliers below one; their sum is scaled to
 * the output. Every multiplier is derived in double, as TFLite's Prepare does. SUB subtracts
 * the second scaled input from the first, as TFLite's reference Sub and BroadcastQuantSubSlow
 * do (not ADD with a negated multiplier, which would round ties the other way).
 */
#include "kernels/elementwise.h"
#include "kernels/fixed_point.h"
#include "kernels/reference_kernels.h"

namespace {

constexpr int kLeftShift = 20;

size_t no_op_data(const kws_op_context_t *) { return 0; }

struct Multipliers {
  int32_t a, b, out;
  int shift_a, shift_b, shift_out;
};

Multipliers multipliers(const kws_op_context_t *ctx) {
  const kws_tensor_t *a = ctx->inputs[0], *b = ctx->inputs[1], *out = ctx->outputs[0];
  const float max_scale = a->scale > b->scale ? a->scale : b->scale;
  const double twice_max = 2.0 * (double)max_scale;
  Multipliers m;
  kws_quantize_multiplier((double)a->scale / twice_max, &m.a, &m.shift_a);
  kws_quantize_multiplier((double)b->scale / twice_max, &m.b, &m.shift_b);
  kws_quantize_multiplier(twice_max / ((double)(1 << kLeftShift) * (double)out->scale), &m.out, &m.shift_out);
  return m;
}

int32_t scaled(int32_t x, int32_t offset, int32_t multiplier, int shift) {
  return kws_multiply_by_quantized_multiplier_lt1((x + offset) * (1 << kLeftShift), multiplier, shift);
}

kws_status_t invoke(kws_op_context_t *ctx) { return kws_add_sub_invoke(ctx, false); }

}  // namespace

kws_status_t kws_add_sub_prepare(kws_op_context_t *ctx) {
  kws_status_t st = kws_elementwise_prepare(ctx);
  if (st != KWS_OK) return st;
  const Multipliers m = multipliers(ctx);
  if (m.shift_a > 0 || m.shift_b > 0 || m.shift_out > 0 || !(ctx->inputs[0]->scale > 0) ||
      !(ctx->inputs[1]->scale > 0) || !(ctx->outputs[0]->scale > 0))
    return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "scales need an output multiplier below one");
  return KWS_OK;
}

kws_status_t kws_add_sub_invoke(kws_op_context_t *ctx, bool subtract) {
  const kws_tensor_t *a = ctx->inputs[0], *b = ctx->inputs[1];
  kws_tensor_t *out = ctx->outputs[0];
  const Multipliers m = multipliers(ctx);
  int32_t lo, hi;
  kws_activation_range_int8(ctx->params.elementwise.activation, out, &lo, &hi);
  const int32_t off_a = -a->zero_point, off_b = -b->zero_point, off_out = out->zero_point;
  kws_elementwise_int8(a, b, out, [&](int8_t x, int8_t y) -> int8_t {
    const int32_t sa = scaled(x, off_a, m.a, m.shift_a);
    const int32_t sb = scaled(y, off_b, m.b, m.shift_b);
    const int32_t r = kws_multiply_by_quantized_multiplier_lt1(subtract ? sa - sb : sa + sb, m.out, m.shift_out) + off_out;
    return (int8_t)kws_clamp_i32(r, lo, hi);
  });
  return KWS_OK;
}

extern "C" const kws_kernel_t kws_kernel_add = {KWS_OP_ADD, "ADD", no_op_data, kws_add_sub_prepare, nullptr, invoke};
