/* MEAN, int8, over any set of axes, as TFLite's reference kernel (BUILTIN_REF, measured on
 * TF 2.16.2 and 2.21.0) and TFLite Micro both compute it:
 *  1. input and output quantized alike: integer sum / count truncated toward zero;
 *  2. otherwise: sum(x - zp_in) * (in/out scale) / count as one fixed-point multiplier (the
 *     count folded into it), + zp_out, clamped.
 * No special case for a 4-D input reduced over axes {1, 2} with keep_dims: BUILTIN_REF takes
 * none (one that rescaled, then divided rounding half away from zero, differed from it on 6%
 * of such outputs; docs/kernels.md).
 * Per-output sums are accumulated in scratch (one int32 per output element). */
#include "kernels/fixed_point.h"
#include "kernels/kernel_util.h"
#include "kernels/reference_kernels.h"

namespace {

size_t no_op_data(const kws_op_context_t *) { return 0; }

size_t scratch_size(const kws_op_context_t *ctx) {
  return (size_t)kws_flat_size(ctx->outputs[0]) * sizeof(int32_t);
}

kws_status_t prepare(kws_op_context_t *ctx) {
  if (ctx->n_inputs < 2 || ctx->n_outputs < 1 || !ctx->inputs[1]) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "needs input and axes");
  const kws_tensor_t *in = ctx->inputs[0], *axes = ctx->inputs[1], *out = ctx->outputs[0];
  if (!kws_is_type(in, KWS_TYPE_INT8) || !kws_is_type(out, KWS_TYPE_INT8)) return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "only int8 is supported");
  if (axes->type != KWS_TYPE_INT32 || axes->data == nullptr) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "axes must be int32");
  kws_status_t st = kws_check_reduction(ctx, in, axes, out);
  if (st != KWS_OK) return st;
  int32_t mult;
  int shift;
  kws_quantize_multiplier((double)in->scale / (double)out->scale, &mult, &shift);
  if (!kws_multiplier_usable(shift)) return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "scales give an unusable multiplier");
  return KWS_OK;
}

kws_status_t invoke(kws_op_context_t *ctx) {
  const kws_tensor_t *in = ctx->inputs[0], *axes = ctx->inputs[1], *out = ctx->outputs[0];
  const int8_t *x = static_cast<const int8_t *>(in->data);
  int8_t *y = static_cast<int8_t *>(out->data);
  int32_t *sum = static_cast<int32_t *>(ctx->scratch);
  int reduced[KWS_MAX_DIMS];
  if (!kws_reduced_axes(in, axes, reduced)) return KWS_ERR_MODEL_INVALID;

  /* Input dims right-aligned to 5-D, output strides 0 along reduced dimensions. */
  int32_t dims[KWS_MAX_DIMS], ostride[KWS_MAX_DIMS];
  const int lead = KWS_MAX_DIMS - in->rank;
  int32_t s = 1, count = 1;
  for (int k = KWS_MAX_DIMS - 1; k >= 0; k--) {
    const int d = k - lead;
    dims[k] = d >= 0 ? in->dims[d] : 1;
    const int r = d >= 0 && reduced[d];
    ostride[k] = r ? 0 : s;
    if (r) count *= dims[k];
    else s *= dims[k];
  }
  const int32_t n_out = kws_flat_size(out);
  for (int32_t i = 0; i < n_out; i++) sum[i] = 0;
  for (int32_t i0 = 0; i0 < dims[0]; i0++)
    for (int32_t i1 = 0; i1 < dims[1]; i1++)
      for (int32_t i2 = 0; i2 < dims[2]; i2++)
        for (int32_t i3 = 0; i3 < dims[3]; i3++) {
          int32_t *row = sum + i0 * ostride[0] + i1 * ostride[1] + i2 * ostride[2] + i3 * ostride[3];
          for (int32_t i4 = 0; i4 < dims[4]; i4++) row[i4 * ostride[4]] += *x++;
        }
  if (count <= 0) return KWS_OK;

  if (in->scale == out->scale && in->zero_point == out->zero_point) {
    for (int32_t i = 0; i < n_out; i++) y[i] = (int8_t)(sum[i] / count);
  } else {
    /* M = in/out scale, then divided by count with the count's top power of two moved into
     * the exponent: sum(x - zp_in) * M / count in the two-rounding fixed point. */
    int32_t mult;
    int shift;
    kws_quantize_multiplier((double)in->scale / (double)out->scale, &mult, &shift);
    int pot = 0;
    while (pot < 62 && ((int64_t)count >> (pot + 1)) != 0) pot++;
    if (pot > 32) pot = 32;
    if (pot > 31 + shift) pot = 31 + shift;
    if (pot < 0) pot = 0;
    mult = (int32_t)(((int64_t)mult << pot) / count);
    shift -= pot;
    for (int32_t i = 0; i < n_out; i++) {
      const int32_t centred = (int32_t)((int64_t)sum[i] - (int64_t)in->zero_point * count);
      const int32_t v = kws_multiply_by_quantized_multiplier(centred, mult, shift) + out->zero_point;
      y[i] = (int8_t)kws_clamp_i32(v, -128, 127);
    }
  }
  return KWS_OK;
}

}  // namespace

extern "C" const kws_kernel_t kws_kernel_mean = {KWS_OP_MEAN, "MEAN", no_op_data, prepare, scratch_size, invoke};
