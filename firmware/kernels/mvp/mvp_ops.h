/* int8 layers as MVP programs: the mappings our MVP kernels use.
 *
 * All arithmetic on the MVP is binary16. Inputs are first rescaled to binary16
 * (x - zero_point) * 2^-15 by a one-instruction program (so sums stay inside binary16's range),
 * then the heavy loops run one packed multiply-accumulate (2 MACs) per cycle:
 *  - pointwise / 1-D convolution: lanes hold two input channels; two output channels are
 *    computed per pass with two accumulators so no instruction waits on a multiplier result;
 *    the lane fold, requantization and bias are one complex MAC: out = acc * (S, -S) + C.
 *  - depthwise (multiplier 1): lanes hold two channels all the way through, out = acc*S + C.
 *  - add: out = x1 * m1 + (x2 * m2 + C), two instructions per pair of elements.
 * Convolutions are "column" shaped (width 1, the filter sliding along the height, as in the
 * keyword-spotting models) or 1x1; anything else returns KWS_ERR_UNSUPPORTED so the caller
 * uses the CPU kernel.
 */
#ifndef KWS_KERNELS_MVP_OPS_H
#define KWS_KERNELS_MVP_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "kws_status.h"
#include "mvp/mvp_driver.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  int in_h, in_w, in_c;
  int out_h, out_w, out_c;
  int f_h, f_w;
  int stride_h, stride_w;
  int pad_top, pad_left;
  int depthwise; /* depthwise with multiplier 1 (out_c == in_c) */
  int32_t in_zp, out_zp, act_min, act_max;
  const int8_t *input;
  const int8_t *filter; /* OHWI, or 1HWC for depthwise */
  const int32_t *bias;  /* may be NULL */
  const float *eff_scale; /* per output channel: in_scale * filter_scale / out_scale */
  int8_t *output;
  /* Optional CPU share (convolutions, not depthwise): the last cpu_out_c output channels (even)
   * are computed by the CPU with TFLite's int8 arithmetic (bit-exact) while the MVP computes the
   * others; cpu_mult/cpu_shift are those channels' quantized multipliers, cpu_wsum the sums
   * of their whole filters. */
  int cpu_out_c;
  const int32_t *cpu_mult, *cpu_shift, *cpu_wsum;
} mvp_conv_args_t;

typedef struct {
  int n;
  int32_t zp1, zp2, out_zp, act_min, act_max;
  float m1, m2; /* in1_scale / out_scale, in2_scale / out_scale */
  const int8_t *in1, *in2;
  int8_t *output;
} mvp_add_args_t;

/* Bytes of binary16 constants (aligned to 4) that mvp_conv_prepare fills for `a`. */
size_t mvp_conv_const_bytes(const mvp_conv_args_t *a);
/* Bytes of scratch (binary16 copy of the input) mvp_conv_run needs. */
size_t mvp_conv_scratch_bytes(const mvp_conv_args_t *a);
/* KWS_OK if the MVP mapping takes this shape and these pointers, else KWS_ERR_UNSUPPORTED. */
kws_status_t mvp_conv_check(const mvp_conv_args_t *a);
/* 1 if a channel's requantization scale fits binary16 once multiplied by 2^15. */
int mvp_conv_scale_ok(float eff);
kws_status_t mvp_conv_prepare(const mvp_conv_args_t *a, void *consts, size_t const_bytes);
/* The constants of output channel o alone (eff = in_scale * filter_scale[o] / out_scale). */
void mvp_conv_const_channel(const mvp_conv_args_t *a, int o, float eff, int32_t bias, void *consts);
/* Runs the layer; waits for the MVP when `wait` (else the caller waits with mvp_wait()). */
kws_status_t mvp_conv_run(const mvp_conv_args_t *a, const void *consts, void *scratch, int wait);

kws_status_t mvp_add_check(const mvp_add_args_t *a);
kws_status_t mvp_add_run(const mvp_add_args_t *a, int wait);

/* A layer's programs kept from its first run, so that later runs start them without building
 * (the runtime's tensors, scratch and constants stay where they are between invokes; the keys
 * are checked each run and the programs rebuilt when one moved). `cap` programs of storage
 * follow the header (mvp_cache_bytes(cap) in all, 4-byte aligned). */
typedef struct {
  const void *key[5];
  int32_t cap; /* programs the storage holds */
  int32_t n;   /* programs kept: 0 none (yet) */
} mvp_cache_t;

size_t mvp_cache_bytes(int programs);
/* Programs mvp_conv_run starts for `a` (geometry and activation only), 0 where none would be
 * kept (a clamp after the layer, or a shape the MVP does not take). */
int mvp_conv_programs(const mvp_conv_args_t *a);
int mvp_add_programs(const mvp_add_args_t *a);
/* 1 if `cache` holds the programs of `a` with these pointers (which then passed
 * mvp_conv_check when they were built: the geometry does not change after prepare). */
int mvp_conv_kept(const mvp_conv_args_t *a, const void *consts, const void *scratch,
                  const mvp_cache_t *cache);
/* mvp_conv_run / mvp_add_run with a cache (NULL: none): its programs if the keys match, else
 * built, run and kept (when they fit). */
kws_status_t mvp_conv_run_cached(const mvp_conv_args_t *a, const void *consts, void *scratch,
                                 int wait, mvp_cache_t *cache);
kws_status_t mvp_add_run_cached(const mvp_add_args_t *a, int wait, mvp_cache_t *cache);

/* Rescales n int8 values to binary16 (x - zp) * 2^-15 on the MVP (n even, pointers aligned). */
kws_status_t mvp_prescale_run(const int8_t *in, int rows, int cols, int32_t zp, uint16_t *out);

#define MVP_ACC_SCALE (1.0f / 32768.0f)

/* kws_multiply_by_quantized_multiplier(x, multiplier, shift), bit for bit, for multiplier >= 0
 * (what kws_quantize_multiplier gives for the non-negative scales of a model), with the shift
 * split beforehand into left = max(shift, 0) and right = max(-shift, 0) (both <= 31):
 * - the rounding doubling high multiply, trunc((x*m + nudge) / 2^31) with the nudge's sign
 *   following x*m's, is floor((x*m + 2^30) / 2^31) whenever m >= 0 (for x*m < 0 the sum is
 *   negative, and truncation is floor of the sum plus 2^31 - 1); the saturating case needs
 *   m = INT32_MIN;
 * - the rounding divide by 2^right is as in kws_rounding_divide_by_pot.
 * The CPU share's requantization: about 20 instructions per output on the Cortex-M33. */
static inline int32_t mvp_requant(int32_t x, int32_t multiplier, int left, int right) {
  const int32_t xs = (int32_t)((uint32_t)x << left);
#if defined(__thumb2__) && defined(__ARM_FEATURE_DSP)
  /* one SMLAL onto 2^30 (GCC splits the 64-bit product when the multiplier is loop-invariant) */
  uint32_t lo = 1u << 30;
  int32_t hi = 0;
  __asm__("smlal %0, %1, %2, %3" : "+r"(lo), "+r"(hi) : "r"(xs), "r"(multiplier));
  const int32_t h = (int32_t)((lo >> 31) | ((uint32_t)hi << 1));
#else
  const int32_t h = (int32_t)(((int64_t)xs * (int64_t)multiplier + (1LL << 30)) >> 31);
#endif
  const int32_t mask = (int32_t)((1u << right) - 1u);
  return (h >> right) + ((h & mask) > (mask >> 1) + (h < 0) ? 1 : 0);
}

#ifdef __cplusplus
}
#endif
#endif
