/* FULLY_CONNECTED, int8 with per-tensor or per-channel int8 weights and optional int32 bias.
 *
 * TFLite's reference: acc = sum((w + filter_offset) * (x + input_offset)) + bias, scaled by
 * M = input_scale * weight_scale / output_scale (double), offset, clamped. x * M is rounded
 * once (TFLite 2.21) or twice (TFLite Micro), see kws_kernel_flavor_t. Expanded so the int8 dot
 * product stays the inner loop:
 *   sum(w*x) + input_offset*sum(w) + filter_offset*sum(x) + depth*input_offset*filter_offset.
 * Any input rank: rows = elements / weight columns.
 */
#include "kernels/dot.h"
#include "kernels/fixed_point.h"
#include "kernels/kernel_util.h"
#include "kernels/reference_kernels.h"

namespace {

enum { kInput = 0, kWeights = 1, kBias = 2 };

int32_t n_multipliers(const kws_op_context_t *ctx) {
  const kws_tensor_t *w = ctx->inputs[kWeights];
  return (w->channel_scales && w->n_channel_scales > 1) ? w->dims[0] : 1;
}

kws_status_t prepare(kws_op_context_t *ctx) {
  if (ctx->n_inputs < 2 || ctx->n_outputs < 1) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "needs input and weights");
  const kws_tensor_t *in = ctx->inputs[kInput], *w = ctx->inputs[kWeights], *out = ctx->outputs[0];
  const kws_tensor_t *bias = ctx->n_inputs > 2 ? ctx->inputs[kBias] : nullptr;
  if (!kws_is_type(in, KWS_TYPE_INT8) || !kws_is_type(w, KWS_TYPE_INT8) || !kws_is_type(out, KWS_TYPE_INT8))
    return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "only int8 input, weights and output are supported");
  if (bias && bias->type != KWS_TYPE_INT32) return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "bias must be int32");
  if (w->rank != 2 || w->dims[1] <= 0) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "weights must be 2-D [units, depth]");
  const int32_t units = w->dims[0], depth = w->dims[1];
  const int32_t n_in = kws_flat_size(in);
  if (n_in % depth != 0) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "input size is not a multiple of the weight depth");
  if (kws_flat_size(out) != (n_in / depth) * units || out->rank < 1 || out->dims[out->rank - 1] != units)
    return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "output shape does not match [rows, units]");
  if (bias && kws_flat_size(bias) != units) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "bias size differs from units");
  if (w->channel_scales && w->n_channel_scales != 1 && w->n_channel_scales != units)
    return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "per-channel scales do not match units");
  if (kws_multipliers_prepare(ctx, in->scale, w, out->scale, n_multipliers(ctx)) != KWS_OK)
    return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "scales give an unusable output multiplier");
  return KWS_OK;
}

size_t op_data_size(const kws_op_context_t *ctx) { return kws_multipliers_op_data_size(n_multipliers(ctx)); }
size_t scratch_size(const kws_op_context_t *ctx) { return kws_multipliers_scratch_size(n_multipliers(ctx)); }

kws_status_t invoke(kws_op_context_t *ctx) {
  const kws_tensor_t *in = ctx->inputs[kInput], *w_t = ctx->inputs[kWeights], *out = ctx->outputs[0];
  const kws_tensor_t *bias_t = ctx->n_inputs > 2 ? ctx->inputs[kBias] : nullptr;
  const int32_t units = w_t->dims[0], depth = w_t->dims[1];
  const int32_t rows = kws_flat_size(in) / depth;
  const int8_t *input = static_cast<const int8_t *>(in->data);
  const int8_t *weights = static_cast<const int8_t *>(w_t->data);
  const int32_t *bias = bias_t ? static_cast<const int32_t *>(bias_t->data) : nullptr;
  int8_t *output = static_cast<int8_t *>(out->data);

  const int32_t n_mult = n_multipliers(ctx);
  const kws_multipliers_t m = kws_multipliers_invoke(ctx, ctx->scratch, in->scale, w_t, out->scale, n_mult);
  const int32_t *mult = m.multiplier;
  const int8_t *shift = m.shift;
  int32_t act_lo, act_hi;
  kws_activation_range_int8(ctx->params.fc.activation, out, &act_lo, &act_hi);
  const int32_t in_offset = -in->zero_point, w_offset = -w_t->zero_point, out_offset = out->zero_point;

  const bool single_rounding = kws_kernels_flavor() == KWS_FLAVOR_TFLITE;
  for (int32_t r = 0; r < rows; r++) {
    const int8_t *x = input + r * depth;
    const int32_t xsum_term = w_offset ? w_offset * kws_sum_s8(x, depth) + depth * in_offset * w_offset : 0;
    for (int32_t u = 0; u < units; u++) {
      const int8_t *w = weights + u * depth;
      int32_t a = kws_dot_s8(x, w, depth) + in_offset * kws_sum_s8(w, depth) + xsum_term;
      if (bias) a += bias[u];
      const int32_t k = n_mult > 1 ? u : 0;
            a = (single_rounding ? kws_multiply_by_quantized_multiplier_single(a, mult[k], shift[k])
                           : kws_multiply_by_quantized_multiplier(a, mult[k], shift[k])) + out_offset;
      output[r * units + u] = (int8_t)kws_clamp_i32(a, act_lo, act_hi);
    }
  }
  return KWS_OK;
}

}  // namespace

extern "C" const kws_kernel_t kws_kernel_fully_connected = {
    KWS_OP_FULLY_CONNECTED, "FULLY_CONNECTED", op_data_size, prepare, scratch_size, invoke};
