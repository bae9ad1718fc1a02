/* Window geometry and checks shared by AVERAGE_POOL_2D and MAX_POOL_2D (NHWC int8, same
 * quantization in and out, windows clipped to the input: padding never enters a pool). */
#ifndef KWS_KERNELS_POOLING_H
#define KWS_KERNELS_POOLING_H

#include "kernels/kernel_util.h"

static inline kws_status_t kws_pool_prepare(kws_op_context_t *ctx) {
  if (ctx->n_inputs < 1 || ctx->n_outputs < 1) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "needs an input");
  const kws_tensor_t *in = ctx->inputs[0], *out = ctx->outputs[0];
  const kws_pool_params_t *p = &ctx->params.pool;
  if (!kws_is_type(in, KWS_TYPE_INT8) || !kws_is_type(out, KWS_TYPE_INT8))
    return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "only int8 is supported");
  if (in->rank != 4 || out->rank != 4) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "tensors must be 4-D");
  if (p->stride_h < 1 || p->stride_w < 1 || p->filter_h < 1 || p->filter_w < 1)
    return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "filter and strides must be >= 1");
  if (out->dims[0] != in->dims[0] || out->dims[3] != in->dims[3] ||
      out->dims[1] != kws_conv_out_size(p->padding, in->dims[1], p->filter_h, p->stride_h, 1) ||
      out->dims[2] != kws_conv_out_size(p->padding, in->dims[2], p->filter_w, p->stride_w, 1))
    return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "output shape does not match window and strides");
  return KWS_OK;
}

/* Calls visit(out_index, in_pixel_base, y_lo, y_hi, x_lo, x_hi) per output pixel, with the
 * window's valid input rows [y_lo, y_hi) and columns [x_lo, x_hi). */
template <typename Visit>
void kws_pool_windows(const kws_op_context_t *ctx, Visit visit) {
  const kws_tensor_t *in = ctx->inputs[0], *out = ctx->outputs[0];
  const kws_pool_params_t &p = ctx->params.pool;
  const int32_t batches = in->dims[0], in_h = in->dims[1], in_w = in->dims[2];
  const int32_t out_h = out->dims[1], out_w = out->dims[2];
  const int32_t pad_h = kws_conv_pad_before(in_h, p.filter_h, p.stride_h, 1, out_h);
  const int32_t pad_w = kws_conv_pad_before(in_w, p.filter_w, p.stride_w, 1, out_w);
  for (int32_t b = 0; b < batches; b++)
    for (int32_t oy = 0; oy < out_h; oy++)
      for (int32_t ox = 0; ox < out_w; ox++) {
        const int32_t y0 = oy * p.stride_h - pad_h, x0 = ox * p.stride_w - pad_w;
        const int32_t y_lo = y0 < 0 ? 0 : y0, x_lo = x0 < 0 ? 0 : x0;
        const int32_t y_hi = y0 + p.filter_h < in_h ? y0 + p.filter_h : in_h;
        const int32_t x_hi = x0 + p.filter_w < in_w ? x0 + p.filter_w : in_w;
        visit((b * out_h + oy) * out_w + ox, b * in_h * in_w, y_lo, y_hi, x_lo, x_hi);
      }
}

#endif
