/* Helpers every reference kernel shares: activation ranges, padding, shapes, quantization
 * parameters, failure messages. The arithmetic follows TFLite's kernel_util / padding code. */
#ifndef KWS_KERNELS_KERNEL_UTIL_H
#define KWS_KERNELS_KERNEL_UTIL_H

#include "kernels/kernel_api.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Which reference's arithmetic the kernels reproduce where TFLite's interpreter (BUILTIN_REF
 * kernels) and TFLite Micro disagree. They agree everywhere except:
 *  - FULLY_CONNECTED's output scaling: TFLite rounds the product x * M once (TF 2.21, whose
 *    reference kernel requantizes in floating point); TFLite Micro rounds twice (the high
 *    multiply, then the shift). They differ on near-ties only (about 0.2% of FC outputs). TF
 *    2.16.2 rounds twice too, with M from the float product of the scales: neither flavor is
 *    that (docs/kernels.md has the measurements);
 *  - MUL's multiplier: TFLite computes scale_a * scale_b / scale_out in float, TFLite Micro in
 *    double; their last bits differ, which moves a tie now and then;
 *  - LOGISTIC: TFLite uses a float table of the sigmoid, TFLite Micro fixed-point arithmetic.
 * Default: TFLITE, the reference the project is tested against; TFLM reproduces the
 * tflite-micro runtime (MLTK's device path). */
typedef enum { KWS_FLAVOR_TFLITE = 0, KWS_FLAVOR_TFLM = 1 } kws_kernel_flavor_t;
void kws_kernels_set_flavor(kws_kernel_flavor_t flavor);
kws_kernel_flavor_t kws_kernels_flavor(void);

/* Writes `reason` to ctx->message (truncated to message_len) and returns `status`, so a
 * prepare function can `return kws_kernel_fail(ctx, ...)`. */
kws_status_t kws_kernel_fail(kws_op_context_t *ctx, kws_status_t status, const char *reason);

/* The [lo, hi] int8 range a fused activation clamps to, in the output's quantization. */
void kws_activation_range_int8(uint8_t activation, const kws_tensor_t *output, int32_t *lo, int32_t *hi);

/* Output size and leading padding of one spatial dimension (TFLite's SAME/VALID rules). */
int32_t kws_conv_out_size(uint8_t padding, int32_t in, int32_t filter, int32_t stride, int32_t dilation);
int32_t kws_conv_pad_before(int32_t in, int32_t filter, int32_t stride, int32_t dilation, int32_t out);

int32_t kws_flat_size(const kws_tensor_t *t);
/* Dimension `i` counted from the end, 1 where the tensor has fewer dimensions. */
int32_t kws_dim_from_end(const kws_tensor_t *t, int i);
int kws_same_shape(const kws_tensor_t *a, const kws_tensor_t *b);

/* The prepare-time checks of an int8 elementwise activation (RELU, LEAKY_RELU, TANH,
 * HARD_SWISH): an input and an output, both int8, of one shape. KWS_OK or the failure. */
kws_status_t kws_check_int8_unary(kws_op_context_t *ctx);

/* Scale of output channel `c` of a (possibly per-channel) quantized weight tensor. */
float kws_weight_scale(const kws_tensor_t *w, int32_t c);

/* Significand and exponent of input_scale * weight_scale(c) / output_scale for each of the n
 * channels, as TFLite's PopulateConvolutionQuantizationParams computes it in double (here with
 * the bit-identical integer kws_quantize_scale_ratio). Returns 0 when an exponent does not fit
 * int8 (absurd scales). */
int kws_channel_multipliers(float input_scale, const kws_tensor_t *weights, float output_scale,
                            int32_t n, int32_t *multipliers, int8_t *shifts);

/* Where CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED keep their per-channel multipliers
 * (5 bytes per output channel: int32 significands, then int8 exponents):
 *  - KWS_KERNELS_CACHE_MULTIPLIERS=0 (default): in scratch, recomputed at every invoke. No
 *    persistent RAM; costs CPU time per output channel per inference (measured on QEMU in
 *    docs/kernels.md).
 *  - KWS_KERNELS_CACHE_MULTIPLIERS=1: in op data, computed once in prepare (14 kB for alexa).
 * The choice trades RAM for time and never changes results. */
#ifndef KWS_KERNELS_CACHE_MULTIPLIERS
#define KWS_KERNELS_CACHE_MULTIPLIERS 0
#endif
typedef struct {
  int32_t *multiplier;
  int8_t *shift;
} kws_multipliers_t;

size_t kws_multipliers_bytes(int32_t n); /* rounded up to 8 bytes */
kws_multipliers_t kws_multipliers_at(void *base, int32_t n);
size_t kws_multipliers_op_data_size(int32_t n);
size_t kws_multipliers_scratch_size(int32_t n);
/* In prepare: computes the cached multipliers into op data, or (not cached) checks that every
 * exponent fits int8. KWS_ERR_UNSUPPORTED for unusable scales. */
kws_status_t kws_multipliers_prepare(kws_op_context_t *ctx, float input_scale,
                                     const kws_tensor_t *weights, float output_scale, int32_t n);
/* In invoke: the cached multipliers, or fresh ones computed at `scratch`
 * (kws_multipliers_scratch_size(n) bytes). */
kws_multipliers_t kws_multipliers_invoke(kws_op_context_t *ctx, void *scratch, float input_scale,
                                         const kws_tensor_t *weights, float output_scale, int32_t n);

/* Two inputs broadcast against an output, shapes right-aligned to KWS_MAX_DIMS; a stride of 0
 * repeats an input along that dimension. */
typedef struct {
  int32_t dims[KWS_MAX_DIMS];
  int32_t stride_a[KWS_MAX_DIMS];
  int32_t stride_b[KWS_MAX_DIMS];
} kws_broadcast_t;

/* 1 when a and b broadcast to exactly out's shape (TFLite's rules), else 0. */
int kws_broadcast_init(const kws_tensor_t *a, const kws_tensor_t *b, const kws_tensor_t *out,
                       kws_broadcast_t *bc);

/* MEAN's and REDUCE_MAX's axes (an int32 tensor): sets reduced[d] to 1 for every input
 * dimension d named (negative axes count from the end, repeats allowed), 0 for the others.
 * Returns 0 for an axis out of range. */
int kws_reduced_axes(const kws_tensor_t *in, const kws_tensor_t *axes, int reduced[KWS_MAX_DIMS]);

/* The prepare-time shape checks of a reduction (MEAN, REDUCE_MAX): the input's rank, the axes
 * in range, the output as large as the dimensions kept. KWS_OK or the failure. */
kws_status_t kws_check_reduction(kws_op_context_t *ctx, const kws_tensor_t *in, const kws_tensor_t *axes,
                                 const kws_tensor_t *out);

/* Checks that a tensor exists and has the given type. */
int kws_is_type(const kws_tensor_t *t, uint8_t type);

/* The checks CONV_2D and DEPTHWISE_CONV_2D share (inputs 0/1/2 = input, filter, optional
 * bias): int8 tensors, int32 bias, 4-D shapes with no empty dimension, stride and dilation
 * at least 1. Writes the reason to ctx->message on failure. */
kws_status_t kws_conv_prepare_common(kws_op_context_t *ctx);

#ifdef __cplusplus
}
#endif
#endif
