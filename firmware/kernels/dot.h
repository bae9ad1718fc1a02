/* int8 dot products, the inner loop of CONV_2D and FULLY_CONNECTED.
 *
 * Portable versions are plain loops over contiguous int8 vectors with int32 sums, the form
 * compilers vectorize (pmaddwd on x86). On cores with the Arm DSP extension (Cortex-M33) the
 * kws_dot_* names map to kernels/arm/dot_dsp.h (SXTB16/SMLAD) at build time. Zero points are
 * not applied here: callers add `input_offset * sum(weights)` once per output (hoisted). */
#ifndef KWS_KERNELS_DOT_H
#define KWS_KERNELS_DOT_H

#include <stdint.h>

#if defined(__GNUC__) && !defined(__clang__)
#define KWS_HOT_LOOP __attribute__((optimize("O3")))
#else
#define KWS_HOT_LOOP
#endif

#ifdef __cplusplus
extern "C" {
#endif

static inline KWS_HOT_LOOP int32_t kws_dot_s8_portable(const int8_t *a, const int8_t *b, int32_t n) {
  int32_t sum = 0;
  for (int32_t i = 0; i < n; i++) sum += (int32_t)a[i] * (int32_t)b[i];
  return sum;
}

/* Four dot products of `a` with four weight rows, sharing the loads of `a`. */
static inline KWS_HOT_LOOP void kws_dot4_s8_portable(const int8_t *a, const int8_t *b0,
                                                     const int8_t *b1, const int8_t *b2,
                                                     const int8_t *b3, int32_t n, int32_t *out) {
  int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (int32_t i = 0; i < n; i++) {
    const int32_t x = a[i];
    s0 += x * b0[i];
    s1 += x * b1[i];
    s2 += x * b2[i];
    s3 += x * b3[i];
  }
  out[0] = s0;
  out[1] = s1;
  out[2] = s2;
  out[3] = s3;
}

static inline KWS_HOT_LOOP int32_t kws_sum_s8_portable(const int8_t *a, int32_t n) {
  int32_t sum = 0;
  for (int32_t i = 0; i < n; i++) sum += a[i];
  return sum;
}

#ifdef __cplusplus
}
#endif

#if defined(__ARM_FEATURE_DSP) && !defined(KWS_NO_DSP)
#include "kernels/arm/dot_dsp.h"
#define kws_dot_s8 kws_dot_s8_dsp
#define kws_dot4_s8 kws_dot4_s8_dsp
#define kws_sum_s8 kws_sum_s8_dsp
#else
#define kws_dot_s8 kws_dot_s8_portable
#define kws_dot4_s8 kws_dot4_s8_portable
#define kws_sum_s8 kws_sum_s8_portable
#endif
#endif
