/* DEPTHWISE_CONV_2D, int8 with per-channel weights, any depth multiplier.
 *
 * Arithmetic of TFLite's reference DepthwiseConvPerChannel: output channel oc = ic * multiplier
 * + m accumulates (x[ic] + input_offset) * w[fy, fx, oc] over the window's valid taps, adds the
 * bias, is scaled by M[oc], offset and clamped. The loop runs over channels innermost so it is
 * a vector multiply-accumulate over contiguous memory; per-pixel sums live in scratch.
 */
#include "kernels/dot.h"
#include "kernels/fixed_point.h"
#include "kernels/kernel_util.h"
#include "kernels/reference_kernels.h"

namespace {

enum { kInput = 0, kFilter = 1, kBias = 2 };

size_t op_data_size(const kws_op_context_t *ctx) { return kws_multipliers_op_data_size(ctx->outputs[0]->dims[3]); }

/* Scratch: one accumulator per output channel, then the multipliers unless cached. */
size_t scratch_size(const kws_op_context_t *ctx) {
  const int32_t n = ctx->outputs[0]->dims[3];
  return (size_t)n * sizeof(int32_t) + kws_multipliers_scratch_size(n);
}

kws_status_t prepare(kws_op_context_t *ctx) {
  const kws_status_t common = kws_conv_prepare_common(ctx);
  if (common != KWS_OK) return common;
  const kws_tensor_t *in = ctx->inputs[kInput], *f = ctx->inputs[kFilter], *out = ctx->outputs[0];
  const kws_tensor_t *bias = ctx->n_inputs > 2 ? ctx->inputs[kBias] : nullptr;
  const kws_conv_params_t &p = ctx->params.conv;
  const int32_t in_c = in->dims[3], out_c = out->dims[3];
  if (f->dims[0] != 1 || f->dims[3] != out_c) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "filter shape must be [1, h, w, out_channels]");
  if (in_c <= 0 || out_c % in_c != 0) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "output channels not a multiple of input channels");
  if (p.depth_multiplier > 0 && out_c != in_c * p.depth_multiplier)
    return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "depth multiplier does not match channels");
  if (out->dims[0] != in->dims[0] ||
      out->dims[1] != kws_conv_out_size(p.padding, in->dims[1], f->dims[1], p.stride_h, p.dilation_h) ||
      out->dims[2] != kws_conv_out_size(p.padding, in->dims[2], f->dims[2], p.stride_w, p.dilation_w))
    return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "output shape does not match padding and strides");
  if (bias && kws_flat_size(bias) != out_c) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "bias size differs from output channels");
  if (f->channel_scales && f->n_channel_scales != 1 && f->n_channel_scales != out_c)
    return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "per-channel scales do not match output channels");
  if (f->zero_point != 0) return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "filter zero point must be 0");
  if (kws_multipliers_prepare(ctx, in->scale, f, out->scale, out_c) != KWS_OK)
    return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "scales give an unusable output multiplier");
  return KWS_OK;
}

KWS_HOT_LOOP void accumulate_mult1(int32_t *acc, const int8_t *x, const int8_t *w, int32_t n, int32_t in_offset) {
  for (int32_t c = 0; c < n; c++) acc[c] += ((int32_t)x[c] + in_offset) * (int32_t)w[c];
}

kws_status_t invoke(kws_op_context_t *ctx) {
  const kws_tensor_t *in = ctx->inputs[kInput], *f = ctx->inputs[kFilter], *out = ctx->outputs[0];
  const kws_tensor_t *bias_t = ctx->n_inputs > 2 ? ctx->inputs[kBias] : nullptr;
  const kws_conv_params_t &p = ctx->params.conv;
  const int32_t batches = in->dims[0], in_h = in->dims[1], in_w = in->dims[2], in_c = in->dims[3];
  const int32_t out_h = out->dims[1], out_w = out->dims[2], out_c = out->dims[3];
  const int32_t f_h = f->dims[1], f_w = f->dims[2], mult_c = out_c / in_c;
  const int32_t pad_h = kws_conv_pad_before(in_h, f_h, p.stride_h, p.dilation_h, out_h);
  const int32_t pad_w = kws_conv_pad_before(in_w, f_w, p.stride_w, p.dilation_w, out_w);
  const int8_t *input = static_cast<const int8_t *>(in->data);
  const int8_t *filter = static_cast<const int8_t *>(f->data);
  const int32_t *bias = bias_t ? static_cast<const int32_t *>(bias_t->data) : nullptr;
  int8_t *output = static_cast<int8_t *>(out->data);

  int32_t *acc = static_cast<int32_t *>(ctx->scratch);
  const kws_multipliers_t m = kws_multipliers_invoke(ctx, acc + out_c, in->scale, f, out->scale, out_c);
  const int32_t *mult = m.multiplier;
  const int8_t *shift = m.shift;
  int32_t act_lo, act_hi;
  kws_activation_range_int8(p.activation, out, &act_lo, &act_hi);
  const int32_t in_offset = -in->zero_point, out_offset = out->zero_point;

  for (int32_t b = 0; b < batches; b++) {
    for (int32_t oy = 0; oy < out_h; oy++) {
      const int32_t y0 = oy * p.stride_h - pad_h;
      for (int32_t ox = 0; ox < out_w; ox++) {
        const int32_t x0 = ox * p.stride_w - pad_w;
        for (int32_t oc = 0; oc < out_c; oc++) acc[oc] = bias ? bias[oc] : 0;
        for (int32_t fy = 0; fy < f_h; fy++) {
          const int32_t y = y0 + fy * p.dilation_h;
          if (y < 0 || y >= in_h) continue;
          for (int32_t fx = 0; fx < f_w; fx++) {
            const int32_t x = x0 + fx * p.dilation_w;
            if (x < 0 || x >= in_w) continue;
            const int8_t *px = input + ((b * in_h + y) * in_w + x) * in_c;
            const int8_t *w = filter + (fy * f_w + fx) * out_c;
            if (mult_c == 1) {
              accumulate_mult1(acc, px, w, in_c, in_offset);
            } else {
              for (int32_t ic = 0; ic < in_c; ic++) {
                const int32_t xv = (int32_t)px[ic] + in_offset;
                for (int32_t m = 0; m < mult_c; m++) acc[ic * mult_c + m] += xv * w[ic * mult_c + m];
              }
            }
          }
        }
        int8_t *out_px = output + ((b * out_h + oy) * out_w + ox) * out_c;
        for (int32_t oc = 0; oc < out_c; oc++) {
          const int32_t a = kws_multiply_by_quantized_multiplier(acc[oc], mult[oc], shift[oc]) + out_offset;
          out_px[oc] = (int8_t)kws_clamp_i32(a, act_lo, act_hi);
        }
      }
    }
  }
  return KWS_OK;
}

}  // namespace

extern "C" const kws_kernel_t kws_kernel_depthwise_conv_2d = {
    KWS_OP_DEPTHWISE_CONV_2D, "DEPTHWISE_CONV_2D", op_data_size, prepare, scratch_size, invoke};
