/* REDUCE_MAX, int8, over a constant set of axes (input 1, int32), keep_dims either way (it only
 * shapes the output, which the model already gives). TFLite compares the stored values, starting
 * from -128, without rescaling; we refuse an output quantized unlike the input (TFLite Micro
 * does too), which the converter never writes. */
#include "kernels/kernel_util.h"
#include "kernels/reference_kernels.h"

namespace {

size_t no_op_data(const kws_op_context_t *) { return 0; }

kws_status_t prepare(kws_op_context_t *ctx) {
  if (ctx->n_inputs < 2 || ctx->n_outputs < 1) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "needs input and axes");
  const kws_tensor_t *in = ctx->inputs[0], *axes = ctx->inputs[1], *out = ctx->outputs[0];
  if (!kws_is_type(in, KWS_TYPE_INT8) || !kws_is_type(out, KWS_TYPE_INT8)) return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "only int8 is supported");
  if (axes->type != KWS_TYPE_INT32 || !axes->is_constant || axes->data == nullptr)
    return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "axes must be a constant int32 tensor");
  if (in->scale != out->scale || in->zero_point != out->zero_point)
    return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "input and output must be quantized alike");
  kws_status_t st = kws_check_reduction(ctx, in, axes, out);
  if (st != KWS_OK) return st;
  return KWS_OK;
}

kws_status_t invoke(kws_op_context_t *ctx) {
  const kws_tensor_t *in = ctx->inputs[0], *out = ctx->outputs[0];
  int reduced[KWS_MAX_DIMS];
  if (!kws_reduced_axes(in, ctx->inputs[1], reduced)) return KWS_ERR_MODEL_INVALID;
  /* Input dims right-aligned to 5-D, output strides 0 along reduced dimensions. */
  int32_t dims[KWS_MAX_DIMS], ostride[KWS_MAX_DIMS];
  const int lead = KWS_MAX_DIMS - in->rank;
  for (int k = KWS_MAX_DIMS - 1, s = 1; k >= 0; k--) {
    const int d = k - lead;
    dims[k] = d >= 0 ? in->dims[d] : 1;
    ostride[k] = d >= 0 && reduced[d] ? 0 : s;
    if (ostride[k]) s *= dims[k];
  }
  const int8_t *x = static_cast<const int8_t *>(in->data);
  int8_t *y = static_cast<int8_t *>(out->data);
  const int32_t n_out = kws_flat_size(out);
  for (int32_t i = 0; i < n_out; i++) y[i] = -128;
  for (int32_t i0 = 0; i0 < dims[0]; i0++)
    for (int32_t i1 = 0; i1 < dims[1]; i1++)
      for (int32_t i2 = 0; i2 < dims[2]; i2++)
        for (int32_t i3 = 0; i3 < dims[3]; i3++) {
          int8_t *row = y + i0 * ostride[0] + i1 * ostride[1] + i2 * ostride[2] + i3 * ostride[3];
          for (int32_t i4 = 0; i4 < dims[4]; i4++, x++)
            if (*x > row[i4 * ostride[4]]) row[i4 * ostride[4]] = *x;
        }
  return KWS_OK;
}

}  // namespace

extern "C" const kws_kernel_t kws_kernel_reduce_max = {KWS_OP_REDUCE_MAX, "REDUCE_MAX", no_op_data, prepare, nullptr, invoke};
