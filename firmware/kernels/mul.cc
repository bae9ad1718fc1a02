/* MUL, int8 with broadcasting and a fused activation: (x + off_a) * (y + off_b) scaled by
 * M = scale_a * scale_b / scale_out (two-rounding fixed point), offset, clamped. */
#include <float.h>

#include "kernels/elementwise.h"
#include "kernels/fixed_point.h"
#include "kernels/kernel_util.h"
#include "kernels/reference_kernels.h"

namespace {

size_t no_op_data(const kws_op_context_t *) { return 0; }

/* TFLite computes M with float operations (`input1->params.scale * input2->params.scale /
 * output->params.scale`), TFLite Micro in double: the multipliers can differ in their last bits,
 * which moves a tie now and then (see kws_kernel_flavor_t). Float locals, so that no excess
 * precision survives. */
void output_multiplier(const kws_op_context_t *ctx, int32_t *mult, int *shift) {
  const float sa = ctx->inputs[0]->scale, sb = ctx->inputs[1]->scale, so = ctx->outputs[0]->scale;
  if (kws_kernels_flavor() == KWS_FLAVOR_TFLM) {
    kws_quantize_multiplier((double)sa * (double)sb / (double)so, mult, shift);
    return;
  }
  const float product = sa * sb;
  const float m = product / so;
  if (!(m <= FLT_MAX)) { /* overflowed in float: refused in prepare, as TFLite cannot use it */
    *mult = 0;
    *shift = 32;
    return;
  }
  kws_quantize_multiplier((double)m, mult, shift);
}

kws_status_t prepare(kws_op_context_t *ctx) {
  const kws_status_t st = kws_elementwise_prepare(ctx);
  if (st != KWS_OK) return st;
  int32_t mult;
  int shift;
  output_multiplier(ctx, &mult, &shift);
  if (!kws_multiplier_usable(shift)) return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "scales give an unusable output multiplier");
  return KWS_OK;
}

kws_status_t invoke(kws_op_context_t *ctx) {
  const kws_tensor_t *a = ctx->inputs[0], *b = ctx->inputs[1];
  kws_tensor_t *out = ctx->outputs[0];
  int32_t mult;
  int shift;
  output_multiplier(ctx, &mult, &shift);
  int32_t lo, hi;
  kws_activation_range_int8(ctx->params.elementwise.activation, out, &lo, &hi);
  const int32_t off_a = -a->zero_point, off_b = -b->zero_point, off_out = out->zero_point;
  kws_elementwise_int8(a, b, out, [&](int8_t x, int8_t y) -> int8_t {
    const int32_t r = kws_multiply_by_quantized_multiplier((x + off_a) * (y + off_b), mult, shift) + off_out;
    return (int8_t)kws_clamp_i32(r, lo, hi);
  });
  return KWS_OK;
}

}  // namespace

extern "C" const kws_kernel_t kws_kernel_mul = {KWS_OP_MUL, "MUL", no_op_data, prepare, nullptr, invoke};
