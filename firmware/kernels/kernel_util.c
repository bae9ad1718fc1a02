#include "kernels/kernel_util.h"

#include <math.h>

#include "kernels/fixed_point.h"

static kws_kernel_flavor_t g_flavor = KWS_FLAVOR_TFLITE;

void kws_kernels_set_flavor(kws_kernel_flavor_t flavor) { g_flavor = flavor; }
kws_kernel_flavor_t kws_kernels_flavor(void) { return g_flavor; }

static size_t append(char *dst, size_t at, size_t cap, const char *src) {
  while (*src && at + 1 < cap) dst[at++] = *src++;
  return at;
}

kws_status_t kws_kernel_fail(kws_op_context_t *ctx, kws_status_t status, const char *reason) {
  if (ctx->message && ctx->message_len > 0) {
    size_t n = append(ctx->message, 0, ctx->message_len, reason);
    ctx->message[n] = '\0';
  }
  return status;
}

/* zero_point + round(f / scale) like TFLite's CalculateActivationRangeQuantized; values beyond
 * int32 are saturated (they only arise with absurd scales and then clamp away anyway). */
static int32_t quantize_limit(float f, const kws_tensor_t *output) {
  const float q = roundf(f / output->scale);
  const double v = (double)output->zero_point + (double)q;
  if (v > 2147483647.0) return INT32_MAX;
  if (v < -2147483648.0) return INT32_MIN;
  return (int32_t)v;
}

void kws_activation_range_int8(uint8_t activation, const kws_tensor_t *output, int32_t *lo, int32_t *hi) {
  int32_t qmin = -128, qmax = 127;
  if (activation == KWS_ACT_RELU) {
    int32_t z = quantize_limit(0.0f, output);
    if (z > qmin) qmin = z;
  } else if (activation == KWS_ACT_RELU6) {
    int32_t z = quantize_limit(0.0f, output), six = quantize_limit(6.0f, output);
    if (z > qmin) qmin = z;
    if (six < qmax) qmax = six;
  } else if (activation == KWS_ACT_RELU_N1_TO_1) {
    int32_t m1 = quantize_limit(-1.0f, output), p1 = quantize_limit(1.0f, output);
    if (m1 > qmin) qmin = m1;
    if (p1 < qmax) qmax = p1;
  }
  *lo = qmin;
  *hi = qmax;
}

int32_t kws_conv_out_size(uint8_t padding, int32_t in, int32_t filter, int32_t stride, int32_t dilation) {
  const int32_t effective = (filter - 1) * dilation + 1;
  if (stride <= 0) return 0;
  if (padding == KWS_PAD_SAME) return (in + stride - 1) / stride;
  if (in < effective) return 0;
  return (in + stride - effective) / stride;
}

int32_t kws_conv_pad_before(int32_t in, int32_t filter, int32_t stride, int32_t dilation, int32_t out) {
  const int32_t effective = (filter - 1) * dilation + 1;
  int32_t total = (out - 1) * stride + effective - in;
  if (total < 0) total = 0;
  return total / 2;
}

int32_t kws_flat_size(const kws_tensor_t *t) {
  int32_t n = 1;
  for (int i = 0; i < t->rank; i++) n *= t->dims[i];
  return n;
}

int32_t kws_dim_from_end(const kws_tensor_t *t, int i) {
  return i < t->rank ? t->dims[t->rank - 1 - i] : 1;
}

int kws_same_shape(const kws_tensor_t *a, const kws_tensor_t *b) {
  if (a->rank != b->rank) return 0;
  for (int i = 0; i < a->rank; i++)
    if (a->dims[i] != b->dims[i]) return 0;
  return 1;
}

kws_status_t kws_check_int8_unary(kws_op_context_t *ctx) {
  if (ctx->n_inputs < 1 || ctx->n_outputs < 1)
    return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "needs an input");
  const kws_tensor_t *in = ctx->inputs[0], *out = ctx->outputs[0];
  if (!kws_is_type(in, KWS_TYPE_INT8) || !kws_is_type(out, KWS_TYPE_INT8))
    return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "only int8 in and out is supported");
  if (!kws_same_shape(in, out))
    return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "input and output shapes differ");
  return KWS_OK;
}

float kws_weight_scale(const kws_tensor_t *w, int32_t c) {
  if (w->channel_scales && w->n_channel_scales > 1) return w->channel_scales[c];
  if (w->channel_scales && w->n_channel_scales == 1) return w->channel_scales[0];
  return w->scale;
}

int kws_channel_multipliers(float input_scale, const kws_tensor_t *weights, float output_scale,
                            int32_t n, int32_t *multipliers, int8_t *shifts) {
  int ok = 1;
  for (int32_t c = 0; c < n; c++) {
    int shift;
    kws_quantize_scale_ratio(input_scale, kws_weight_scale(weights, c), output_scale, &multipliers[c], &shift);
    if (!kws_multiplier_usable(shift)) ok = 0;
    shifts[c] = (int8_t)shift;
  }
  return ok;
}

size_t kws_multipliers_bytes(int32_t n) { return ((size_t)n * 5 + 7u) & ~(size_t)7u; }

kws_multipliers_t kws_multipliers_at(void *base, int32_t n) {
  kws_multipliers_t m;
  m.multiplier = (int32_t *)base;
  m.shift = (int8_t *)(m.multiplier + n);
  return m;
}

size_t kws_multipliers_op_data_size(int32_t n) { return KWS_KERNELS_CACHE_MULTIPLIERS ? kws_multipliers_bytes(n) : 0; }
size_t kws_multipliers_scratch_size(int32_t n) { return KWS_KERNELS_CACHE_MULTIPLIERS ? 0 : kws_multipliers_bytes(n); }

kws_status_t kws_multipliers_prepare(kws_op_context_t *ctx, float input_scale,
                                     const kws_tensor_t *weights, float output_scale, int32_t n) {
  if (KWS_KERNELS_CACHE_MULTIPLIERS) {
    if (ctx->op_data == NULL) return KWS_ERR_NO_MEMORY;
    const kws_multipliers_t m = kws_multipliers_at(ctx->op_data, n);
    return kws_channel_multipliers(input_scale, weights, output_scale, n, m.multiplier, m.shift)
               ? KWS_OK : KWS_ERR_UNSUPPORTED;
  }
  for (int32_t c = 0; c < n; c++) { /* validate only: invoke recomputes them in scratch */
    int32_t q;
    int shift;
    kws_quantize_scale_ratio(input_scale, kws_weight_scale(weights, c), output_scale, &q, &shift);
    if (!kws_multiplier_usable(shift)) return KWS_ERR_UNSUPPORTED;
  }
  return KWS_OK;
}

kws_multipliers_t kws_multipliers_invoke(kws_op_context_t *ctx, void *scratch, float input_scale,
                                         const kws_tensor_t *weights, float output_scale, int32_t n) {
  if (KWS_KERNELS_CACHE_MULTIPLIERS) return kws_multipliers_at(ctx->op_data, n);
  const kws_multipliers_t m = kws_multipliers_at(scratch, n);
  (void)kws_channel_multipliers(input_scale, weights, output_scale, n, m.multiplier, m.shift);
  return m;
}

int kws_reduced_axes(const kws_tensor_t *in, const kws_tensor_t *axes, int reduced[KWS_MAX_DIMS]) {
  for (int d = 0; d < KWS_MAX_DIMS; d++) reduced[d] = 0;
  const int32_t *a = (const int32_t *)axes->data;
  const int32_t n = kws_flat_size(axes);
  for (int32_t i = 0; i < n; i++) {
    const int32_t d = a[i] < 0 ? a[i] + in->rank : a[i];
    if (d < 0 || d >= in->rank) return 0;
    reduced[d] = 1;
  }
  return 1;
}

int kws_is_type(const kws_tensor_t *t, uint8_t type) { return t != NULL && t->type == type; }

int kws_broadcast_init(const kws_tensor_t *a, const kws_tensor_t *b, const kws_tensor_t *out,
                       kws_broadcast_t *bc) {
  if (a->rank > KWS_MAX_DIMS || b->rank > KWS_MAX_DIMS || out->rank > KWS_MAX_DIMS) return 0;
  int32_t sa = 1, sb = 1;
  for (int i = 0; i < KWS_MAX_DIMS; i++) { /* i counts from the last dimension */
    const int k = KWS_MAX_DIMS - 1 - i;
    const int32_t da = kws_dim_from_end(a, i), db = kws_dim_from_end(b, i), d = kws_dim_from_end(out, i);
    if ((da != d && da != 1) || (db != d && db != 1)) return 0;
    if (i >= out->rank && d != 1) return 0;
    bc->dims[k] = d;
    bc->stride_a[k] = da == 1 ? 0 : sa;
    bc->stride_b[k] = db == 1 ? 0 : sb;
    sa *= da;
    sb *= db;
  }
  return 1;
}

kws_status_t kws_conv_prepare_common(kws_op_context_t *ctx) {
  if (ctx->n_inputs < 2 || ctx->n_outputs < 1) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "needs input and filter");
  const kws_tensor_t *in = ctx->inputs[0], *f = ctx->inputs[1], *out = ctx->outputs[0];
  const kws_tensor_t *bias = ctx->n_inputs > 2 ? ctx->inputs[2] : NULL;
  if (!kws_is_type(in, KWS_TYPE_INT8) || !kws_is_type(f, KWS_TYPE_INT8) || !kws_is_type(out, KWS_TYPE_INT8))
    return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "only int8 input, filter and output are supported");
  if (bias && bias->type != KWS_TYPE_INT32) return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "bias must be int32");
  if (in->rank != 4 || f->rank != 4 || out->rank != 4) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "tensors must be 4-D");
  const kws_conv_params_t *p = &ctx->params.conv;
  if (p->stride_h < 1 || p->stride_w < 1 || p->dilation_h < 1 || p->dilation_w < 1)
    return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "stride and dilation must be >= 1");
  for (int d = 0; d < 4; d++)
    if (in->dims[d] < 1 || f->dims[d] < 1 || out->dims[d] < 1)
      return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "every dimension must be at least 1");
  return KWS_OK;
}

kws_status_t kws_check_reduction(kws_op_context_t *ctx, const kws_tensor_t *in, const kws_tensor_t *axes,
                                 const kws_tensor_t *out) {
  if (in->rank < 1 || in->rank > KWS_MAX_DIMS)
    return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "input rank out of range");
  int reduced[KWS_MAX_DIMS];
  if (!kws_reduced_axes(in, axes, reduced)) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "axis out of range");
  int32_t kept = 1;
  for (int d = 0; d < in->rank; d++)
    if (!reduced[d]) kept *= in->dims[d];
  if (kept != kws_flat_size(out))
    return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "output size does not match the reduced input");
  return KWS_OK;
}
