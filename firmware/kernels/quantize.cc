/* QUANTIZE: float32 to int8 or uint8 (round(x / scale) + zero_point: float division and
 * rounding, the sum and clamp in double, as TFLite's reference AffineQuantize does) and
 * requantization between int8 and uint8 in any direction ((q - zp_in) * (scale_in / scale_out)
 * in two-rounding fixed point, + zp_out, clamped to the output type: TFLite's Requantize; its
 * int8 <-> uint8 shortcut for equal scales, q ^ 0x80, gives the same bytes). */
#include <math.h>

#include "kernels/fixed_point.h"
#include "kernels/kernel_util.h"
#include "kernels/reference_kernels.h"

namespace {

size_t no_op_data(const kws_op_context_t *) { return 0; }

bool is_8bit(const kws_tensor_t *t) { return kws_is_type(t, KWS_TYPE_INT8) || kws_is_type(t, KWS_TYPE_UINT8); }

kws_status_t prepare(kws_op_context_t *ctx) {
  if (ctx->n_inputs < 1 || ctx->n_outputs < 1) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "needs an input");
  const kws_tensor_t *in = ctx->inputs[0], *out = ctx->outputs[0];
  if (!is_8bit(out) || !(kws_is_type(in, KWS_TYPE_FLOAT32) || is_8bit(in)))
    return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "only float32, int8 or uint8 to int8 or uint8 is supported");
  if (kws_flat_size(in) != kws_flat_size(out)) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "input and output sizes differ");
  if (!(out->scale > 0)) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "output scale must be positive");
  if (in->type != KWS_TYPE_FLOAT32) {
    int32_t mult;
    int shift;
    kws_quantize_multiplier((double)in->scale / (double)out->scale, &mult, &shift);
    if (!kws_multiplier_usable(shift)) return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "scales give an unusable multiplier");
  }
  return KWS_OK;
}

/* Stores v (already clamped to the output type's range) as the output's type. */
inline void store(void *out, int32_t i, int32_t v, bool is_uint8) {
  if (is_uint8)
    static_cast<uint8_t *>(out)[i] = (uint8_t)v;
  else
    static_cast<int8_t *>(out)[i] = (int8_t)v;
}

kws_status_t invoke(kws_op_context_t *ctx) {
  const kws_tensor_t *in = ctx->inputs[0], *out = ctx->outputs[0];
  const bool to_uint8 = out->type == KWS_TYPE_UINT8;
  const int32_t lo = to_uint8 ? 0 : -128, hi = to_uint8 ? 255 : 127;
  const int32_t n = kws_flat_size(in), zp = out->zero_point;
  if (in->type == KWS_TYPE_FLOAT32) {
    const float *f = static_cast<const float *>(in->data);
    const float scale = out->scale;
    for (int32_t i = 0; i < n; i++) {
      double v = (double)roundf(f[i] / scale) + (double)zp;
      v = v < (double)lo ? (double)lo : (v > (double)hi ? (double)hi : v);
      store(out->data, i, (int32_t)v, to_uint8);
    }
    return KWS_OK;
  }
  int32_t mult;
  int shift;
  kws_quantize_multiplier((double)in->scale / (double)out->scale, &mult, &shift);
  const bool from_uint8 = in->type == KWS_TYPE_UINT8;
  for (int32_t i = 0; i < n; i++) {
    const int32_t q = from_uint8 ? (int32_t) static_cast<const uint8_t *>(in->data)[i]
                                 : (int32_t) static_cast<const int8_t *>(in->data)[i];
    const int32_t v = kws_multiply_by_quantized_multiplier(q - in->zero_point, mult, shift) + zp;
    store(out->data, i, kws_clamp_i32(v, lo, hi), to_uint8);
  }
  return KWS_OK;
}

}  // namespace

extern "C" const kws_kernel_t kws_kernel_quantize = {KWS_OP_QUANTIZE, "QUANTIZE", no_op_data, prepare, nullptr,
                                                    invoke};
