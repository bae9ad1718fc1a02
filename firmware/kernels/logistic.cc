/* LOGISTIC, int8 in and out (output scale 1/256, zero point -128). Two arithmetics:
 *  - TFLite (default flavor): a 256-entry table of 1 / (1 + expf(-x)) over every int8 input,
 *    in float, rounded to the output (built in scratch at each invoke: no op data);
 *  - TFLite Micro: inputs beyond +-radius saturate; others are rescaled into Q4.27 and passed
 *    through the fixed-point logistic, then rounded to Q0.8. The multiplier is frexp's
 *    significand rounded to 31 bits without renormalisation, as there.
 * They differ on a few inputs (at huge input scales, logistic(0) is -128 in TFLite Micro).
 */
#include <math.h>

#include "kernels/fixed_point_exp.h"
#include "kernels/kernel_util.h"
#include "kernels/reference_kernels.h"

namespace {

constexpr int kInputIntegerBits = 4;

struct Params {
  int32_t multiplier;
  int left_shift;
  int32_t radius;
};

bool params_for(const kws_tensor_t *in, Params *p) {
  const double real = (double)in->scale * (double)(1 << (31 - kInputIntegerBits));
  const double q = frexp(real, &p->left_shift);
  p->multiplier = (int32_t)(uint32_t)(int64_t)round(q * (double)(1LL << 31));
  if (p->left_shift < 0 || p->left_shift > 62) return false;
  /* radius = floor((2^4 - 1) * 2^27 / 2^left_shift); 0 for huge scales: every input saturates */
  p->radius = (int32_t)floor(15.0 * (double)(1LL << (31 - kInputIntegerBits)) / ldexp(1.0, p->left_shift));
  return true;
}

size_t no_op_data(const kws_op_context_t *) { return 0; }
size_t scratch_size(const kws_op_context_t *) { return 256; }

void invoke_table(const kws_tensor_t *in, const kws_tensor_t *out, int8_t *table) {
  const float inverse_scale = 1.0f / out->scale;
  for (int32_t v = -128; v <= 127; v++) {
    const float x = in->scale * (float)(v - in->zero_point);
    const float y = 1.0f / (1.0f + expf(-x));
    const int32_t q = (int32_t)(roundf(y * inverse_scale) + (float)out->zero_point);
    table[v + 128] = (int8_t)kws_clamp_i32(q, -128, 127);
  }
  const int8_t *x = static_cast<const int8_t *>(in->data);
  int8_t *yv = static_cast<int8_t *>(out->data);
  const int32_t n = kws_flat_size(in);
  for (int32_t i = 0; i < n; i++) yv[i] = table[x[i] + 128];
}

kws_status_t prepare(kws_op_context_t *ctx) {
  if (ctx->n_inputs < 1 || ctx->n_outputs < 1) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "needs an input");
  const kws_tensor_t *in = ctx->inputs[0], *out = ctx->outputs[0];
  if (!kws_is_type(in, KWS_TYPE_INT8) || !kws_is_type(out, KWS_TYPE_INT8)) return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "only int8 in and out is supported");
  if (kws_flat_size(in) != kws_flat_size(out)) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "input and output sizes differ");
  if (out->zero_point != -128 || out->scale != 1.0f / 256) return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "output must have scale 1/256 and zero point -128");
  Params p;
  if (kws_kernels_flavor() == KWS_FLAVOR_TFLM && !params_for(in, &p))
    return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "input scale out of the supported range");
  return KWS_OK;
}

kws_status_t invoke(kws_op_context_t *ctx) {
  const kws_tensor_t *in = ctx->inputs[0], *out = ctx->outputs[0];
  if (kws_kernels_flavor() == KWS_FLAVOR_TFLITE) {
    invoke_table(in, out, static_cast<int8_t *>(ctx->scratch));
    return KWS_OK;
  }
  Params p;
  if (!params_for(in, &p)) return KWS_ERR_UNSUPPORTED;
  const int8_t *x = static_cast<const int8_t *>(in->data);
  int8_t *y = static_cast<int8_t *>(out->data);
  const int32_t n = kws_flat_size(in);
  for (int32_t i = 0; i < n; i++) {
    const int32_t v = x[i] - in->zero_point;
    if (v <= -p.radius) {
      y[i] = -128;
    } else if (v >= p.radius) {
      y[i] = 127;
    } else {
      const int32_t q4 = kws_multiply_by_quantized_multiplier(v, p.multiplier, p.left_shift);
      const int32_t q0 = kws_logistic_fx(q4, kInputIntegerBits);
      y[i] = (int8_t)kws_clamp_i32(kws_rounding_divide_by_pot(q0, 23) - 128, -128, 127);
    }
  }
  return KWS_OK;
}

}  // namespace

extern "C" const kws_kernel_t kws_kernel_logistic = {KWS_OP_LOGISTIC, "LOGISTIC", no_op_data, prepare, scratch_size, invoke};
