/* RELU, RELU6 and RELU_N1_TO_1 as operators of their own (the converter fuses them into the
 * op before where it can), int8 in and out.
 *
 * TFLite requantizes: y = zp_out + (x - zp_in) * M with M = in_scale / out_scale (divided in
 * float, then widened, as its ReluPrepare does), clamped to the activation's range in the
 * output's quantization (the fused activations' rule, kws_activation_range_int8). TFLite Micro
 * (TFLM flavor) divides in double, and its RELU6 does not requantize at all: it clamps the input
 * values to [zp_in, 6 quantized with the input's scale] and stores them as they are.
 */
#include <math.h>

#include "kernels/fixed_point.h"
#include "kernels/kernel_util.h"
#include "kernels/reference_kernels.h"

namespace {

size_t no_op_data(const kws_op_context_t *) { return 0; }

uint8_t activation_of(uint16_t builtin) {
  if (builtin == KWS_OP_RELU6) return KWS_ACT_RELU6;
  if (builtin == KWS_OP_RELU_N1_TO_1) return KWS_ACT_RELU_N1_TO_1;
  return KWS_ACT_RELU;
}

bool tflm_relu6(const kws_op_context_t *ctx) {
  return ctx->builtin_code == KWS_OP_RELU6 && kws_kernels_flavor() == KWS_FLAVOR_TFLM;
}

void multiplier(const kws_tensor_t *in, const kws_tensor_t *out, int32_t *m, int *shift) {
  const double ratio = kws_kernels_flavor() == KWS_FLAVOR_TFLM ? (double)in->scale / (double)out->scale
                                                                 : (double)(in->scale / out->scale);
  kws_quantize_multiplier(ratio, m, shift);
}

kws_status_t prepare(kws_op_context_t *ctx) {
  kws_status_t st = kws_check_int8_unary(ctx);
  if (st != KWS_OK) return st;
  const kws_tensor_t *in = ctx->inputs[0], *out = ctx->outputs[0];
  int32_t m;
  int shift;
  multiplier(in, out, &m, &shift);
  if (!kws_multiplier_usable(shift)) return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "scales give an unusable multiplier");
  return KWS_OK;
}

kws_status_t invoke(kws_op_context_t *ctx) {
  const kws_tensor_t *in = ctx->inputs[0], *out = ctx->outputs[0];
  const int8_t *x = static_cast<const int8_t *>(in->data);
  int8_t *y = static_cast<int8_t *>(out->data);
  const int32_t n = kws_flat_size(in);
  if (tflm_relu6(ctx)) {
    const double six = (double)roundf(6.0f / in->scale) + in->zero_point;
    const int32_t lo = in->zero_point, hi = six > 127.0 ? 127 : (six < -128.0 ? -128 : (int32_t)six);
    for (int32_t i = 0; i < n; i++) y[i] = (int8_t)(x[i] > hi ? hi : (x[i] < lo ? lo : x[i]));
    return KWS_OK;
  }
  int32_t m, lo, hi;
  int shift;
  multiplier(in, out, &m, &shift);
  kws_activation_range_int8(activation_of(ctx->builtin_code), out, &lo, &hi);
  for (int32_t i = 0; i < n; i++) {
    const int32_t v = out->zero_point + kws_multiply_by_quantized_multiplier(x[i] - in->zero_point, m, shift);
    y[i] = (int8_t)kws_clamp_i32(v, lo, hi);
  }
  return KWS_OK;
}

}  // namespace

extern "C" const kws_kernel_t kws_kernel_relu = {KWS_OP_RELU, "RELU", no_op_data, prepare, nullptr, invoke};
extern "C" const kws_kernel_t kws_kernel_relu6 = {KWS_OP_RELU6, "RELU6", no_op_data, prepare, nullptr, invoke};
extern "C" const kws_kernel_t kws_kernel_relu_n1_to_1 = {KWS_OP_RELU_N1_TO_1, "RELU_N1_TO_1", no_op_data, prepare,
                                                         nullptr, invoke};
