/* AVERAGE_POOL_2D, int8: the sum over the window's valid taps divided by their count, rounded
 * half away from zero (TFLite's integer AveragePool), then clamped to the activation. */
#include "kernels/fixed_point.h"
#include "kernels/pooling.h"
#include "kernels/reference_kernels.h"

namespace {

size_t no_op_data(const kws_op_context_t *) { return 0; }
size_t scratch_size(const kws_op_context_t *ctx) { return (size_t)ctx->inputs[0]->dims[3] * sizeof(int32_t); }

kws_status_t prepare(kws_op_context_t *ctx) { return kws_pool_prepare(ctx); }

kws_status_t invoke(kws_op_context_t *ctx) {
  const kws_tensor_t *in = ctx->inputs[0], *out = ctx->outputs[0];
  const int8_t *input = static_cast<const int8_t *>(in->data);
  int8_t *output = static_cast<int8_t *>(out->data);
  const int32_t in_w = in->dims[2], depth = in->dims[3];
  int32_t *sum = static_cast<int32_t *>(ctx->scratch);
  int32_t lo, hi;
  kws_activation_range_int8(ctx->params.pool.activation, out, &lo, &hi);
  kws_pool_windows(ctx, [&](int32_t o, int32_t base, int32_t y_lo, int32_t y_hi, int32_t x_lo, int32_t x_hi) {
    const int32_t count = (y_hi - y_lo) * (x_hi - x_lo);
    int8_t *out_px = output + o * depth;
    if (count <= 0) return; /* TFLite leaves such an output untouched */
    for (int32_t c = 0; c < depth; c++) sum[c] = 0;
    for (int32_t y = y_lo; y < y_hi; y++)
      for (int32_t x = x_lo; x < x_hi; x++) {
        const int8_t *px = input + (base + y * in_w + x) * depth;
        for (int32_t c = 0; c < depth; c++) sum[c] += px[c];
      }
    for (int32_t c = 0; c < depth; c++) {
      const int32_t s = sum[c];
      const int32_t avg = s > 0 ? (s + count / 2) / count : (s - count / 2) / count;
      out_px[c] = (int8_t)kws_clamp_i32(avg, lo, hi);
    }
  });
  return KWS_OK;
}

}  // namespace

extern "C" const kws_kernel_t kws_kernel_average_pool_2d = {
    KWS_OP_AVERAGE_POOL_2D, "AVERAGE_POOL_2D", no_op_data, prepare, scratch_size, invoke};
