/* CONV_2D, int8 with per-channel (or per-tensor) int8 weights and int32 bias.
 *
 * Arithmetic of TFLite's reference ConvPerChannel: acc = sum((x + input_offset) * w) + bias,
 * then acc * M[c] (two-rounding fixed point), + output zero point, clamped to the activation.
 * Computed as sum(x * w) + input_offset * sum(w): the weight sums are taken once per invoke
 * for interior pixels; pixels whose window crosses the padding sum their valid taps only.
 * Weight sums live in scratch, recomputed per invoke; multipliers too, unless the build caches
 * them in op data (KWS_KERNELS_CACHE_MULTIPLIERS, see kernel_util.h).
 */
#include "kernels/dot.h"
#include "kernels/fixed_point.h"
#include "kernels/kernel_util.h"
#include "kernels/reference_kernels.h"

namespace {

enum { kInput = 0, kFilter = 1, kBias = 2 };

struct Geometry {
  int32_t batches, in_h, in_w, in_c, out_h, out_w, out_c, f_h, f_w, f_c;
  int32_t pad_h, pad_w;
};

Geometry geometry(const kws_op_context_t *ctx) {
  const kws_tensor_t *in = ctx->inputs[kInput], *f = ctx->inputs[kFilter], *out = ctx->outputs[0];
  const kws_conv_params_t &p = ctx->params.conv;
  Geometry g;
  g.batches = in->dims[0];
  g.in_h = in->dims[1];
  g.in_w = in->dims[2];
  g.in_c = in->dims[3];
  g.out_h = out->dims[1];
  g.out_w = out->dims[2];
  g.out_c = out->dims[3];
  g.f_h = f->dims[1];
  g.f_w = f->dims[2];
  g.f_c = f->dims[3];
  g.pad_h = kws_conv_pad_before(g.in_h, g.f_h, p.stride_h, p.dilation_h, g.out_h);
  g.pad_w = kws_conv_pad_before(g.in_w, g.f_w, p.stride_w, p.dilation_w, g.out_w);
  return g;
}

size_t op_data_size(const kws_op_context_t *ctx) { return kws_multipliers_op_data_size(ctx->outputs[0]->dims[3]); }

size_t scratch_size(const kws_op_context_t *ctx) {
  const int32_t n = ctx->outputs[0]->dims[3];
  return kws_multipliers_scratch_size(n) + (size_t)n * sizeof(int32_t);
}

kws_status_t prepare(kws_op_context_t *ctx) {
  const kws_status_t common = kws_conv_prepare_common(ctx);
  if (common != KWS_OK) return common;
  const kws_tensor_t *in = ctx->inputs[kInput], *f = ctx->inputs[kFilter], *out = ctx->outputs[0];
  const kws_tensor_t *bias = ctx->n_inputs > 2 ? ctx->inputs[kBias] : nullptr;
  const kws_conv_params_t &p = ctx->params.conv;
  Geometry g = geometry(ctx);
  if (g.f_c <= 0 || g.in_c % g.f_c != 0) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "input channels not a multiple of filter depth");
  const int32_t groups = g.in_c / g.f_c;
  if (f->dims[0] != g.out_c || g.out_c % groups != 0) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "filter count does not match output channels");
  if (out->dims[0] != g.batches ||
      g.out_h != kws_conv_out_size(p.padding, g.in_h, g.f_h, p.stride_h, p.dilation_h) ||
      g.out_w != kws_conv_out_size(p.padding, g.in_w, g.f_w, p.stride_w, p.dilation_w))
    return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "output shape does not match padding and strides");
  if (bias && kws_flat_size(bias) != g.out_c) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "bias size differs from output channels");
  if (f->channel_scales && f->n_channel_scales != 1 && f->n_channel_scales != g.out_c)
    return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "per-channel scales do not match output channels");
  if (f->zero_point != 0) return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "filter zero point must be 0");
  if (kws_multipliers_prepare(ctx, in->scale, f, out->scale, g.out_c) != KWS_OK)
    return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "scales give an unusable output multiplier");
  return KWS_OK;
}

kws_status_t invoke(kws_op_context_t *ctx) {
  const kws_tensor_t *in = ctx->inputs[kInput], *f = ctx->inputs[kFilter], *out = ctx->outputs[0];
  const kws_tensor_t *bias_t = ctx->n_inputs > 2 ? ctx->inputs[kBias] : nullptr;
  const kws_conv_params_t &p = ctx->params.conv;
  const Geometry g = geometry(ctx);
  const int8_t *input = static_cast<const int8_t *>(in->data);
  const int8_t *filter = static_cast<const int8_t *>(f->data);
  const int32_t *bias = bias_t ? static_cast<const int32_t *>(bias_t->data) : nullptr;
  int8_t *output = static_cast<int8_t *>(out->data);

  uint8_t *scratch = static_cast<uint8_t *>(ctx->scratch);
  const kws_multipliers_t m = kws_multipliers_invoke(ctx, scratch, in->scale, f, out->scale, g.out_c);
  const int32_t *mult = m.multiplier;
  const int8_t *shift = m.shift;
  int32_t *wsum = reinterpret_cast<int32_t *>(scratch + kws_multipliers_scratch_size(g.out_c));
  const int32_t filter_size = g.f_h * g.f_w * g.f_c;
  for (int32_t oc = 0; oc < g.out_c; oc++) wsum[oc] = kws_sum_s8(filter + oc * filter_size, filter_size);

  int32_t act_lo, act_hi;
  kws_activation_range_int8(p.activation, out, &act_lo, &act_hi);
  const int32_t in_offset = -in->zero_point, out_offset = out->zero_point;
  const int32_t oc_per_group = g.out_c / (g.in_c / g.f_c);
  const int32_t span_h = (g.f_h - 1) * p.dilation_h, span_w = (g.f_w - 1) * p.dilation_w;
  int32_t acc[4];

  for (int32_t b = 0; b < g.batches; b++) {
    for (int32_t oy = 0; oy < g.out_h; oy++) {
      const int32_t y0 = oy * p.stride_h - g.pad_h;
      for (int32_t ox = 0; ox < g.out_w; ox++) {
        const int32_t x0 = ox * p.stride_w - g.pad_w;
        const bool interior = y0 >= 0 && y0 + span_h < g.in_h && x0 >= 0 && x0 + span_w < g.in_w;
        int8_t *out_px = output + ((b * g.out_h + oy) * g.out_w + ox) * g.out_c;
        if (interior && oc_per_group == g.out_c) {
          /* Whole window inside and no groups: every tap is one contiguous input row against
           * the matching row of out_c filters, taken four filters at a time. */
          int32_t oc = 0;
          for (; oc + 4 <= g.out_c; oc += 4) {
            int32_t sum[4] = {0, 0, 0, 0};
            const int8_t *w = filter + oc * filter_size;
            for (int32_t fy = 0; fy < g.f_h; fy++) {
              const int8_t *in_row = input + ((b * g.in_h + y0 + fy * p.dilation_h) * g.in_w + x0) * g.in_c;
              for (int32_t fx = 0; fx < g.f_w; fx++) {
                const int8_t *px = in_row + fx * p.dilation_w * g.in_c;
                const int8_t *wt = w + (fy * g.f_w + fx) * g.f_c;
                kws_dot4_s8(px, wt, wt + filter_size, wt + 2 * filter_size, wt + 3 * filter_size, g.f_c, acc);
                for (int k = 0; k < 4; k++) sum[k] += acc[k];
              }
            }
            for (int k = 0; k < 4; k++) {
              int32_t a = sum[k] + in_offset * wsum[oc + k] + (bias ? bias[oc + k] : 0);
              a = kws_multiply_by_quantized_multiplier(a, mult[oc + k], shift[oc + k]) + out_offset;
              out_px[oc + k] = (int8_t)kws_clamp_i32(a, act_lo, act_hi);
            }
          }
          for (; oc < g.out_c; oc++) {
            int32_t a = 0;
            for (int32_t fy = 0; fy < g.f_h; fy++)
              for (int32_t fx = 0; fx < g.f_w; fx++)
                a += kws_dot_s8(input + ((b * g.in_h + y0 + fy * p.dilation_h) * g.in_w + x0 + fx * p.dilation_w) * g.in_c,
                                filter + oc * filter_size + (fy * g.f_w + fx) * g.f_c, g.f_c);
            a += in_offset * wsum[oc] + (bias ? bias[oc] : 0);
            a = kws_multiply_by_quantized_multiplier(a, mult[oc], shift[oc]) + out_offset;
            out_px[oc] = (int8_t)kws_clamp_i32(a, act_lo, act_hi);
          }
          continue;
        }
        for (int32_t oc = 0; oc < g.out_c; oc++) {
          const int32_t c0 = (oc / oc_per_group) * g.f_c;
          const int8_t *w_oc = filter + oc * filter_size;
          int32_t a = 0, valid_wsum = 0;
          for (int32_t fy = 0; fy < g.f_h; fy++) {
            const int32_t y = y0 + fy * p.dilation_h;
            if (y < 0 || y >= g.in_h) continue;
            for (int32_t fx = 0; fx < g.f_w; fx++) {
              const int32_t x = x0 + fx * p.dilation_w;
              if (x < 0 || x >= g.in_w) continue;
              const int8_t *w = w_oc + (fy * g.f_w + fx) * g.f_c;
              a += kws_dot_s8(input + ((b * g.in_h + y) * g.in_w + x) * g.in_c + c0, w, g.f_c);
              if (!interior) valid_wsum += kws_sum_s8(w, g.f_c);
            }
          }
          a += in_offset * (interior ? wsum[oc] : valid_wsum) + (bias ? bias[oc] : 0);
          a = kws_multiply_by_quantized_multiplier(a, mult[oc], shift[oc]) + out_offset;
          out_px[oc] = (int8_t)kws_clamp_i32(a, act_lo, act_hi);
        }
      }
    }
  }
  return KWS_OK;
}

}  // namespace

extern "C" const kws_kernel_t kws_kernel_conv_2d = {KWS_OP_CONV_2D, "CONV_2D", op_data_size, prepare,
                                                   scratch_size, invoke};
