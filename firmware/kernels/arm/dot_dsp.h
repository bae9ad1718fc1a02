/* Cortex-M33 DSP-extension versions of the int8 dot products in kernels/dot.h, chosen at build
 * time when the compiler targets a core with the DSP extension (__ARM_FEATURE_DSP).
 *
 * Four int8 values are loaded as one word; SXTB16 sign-extends bytes 0 and 2 (and, after a
 * rotate by 8, bytes 1 and 3) into two int16 lanes, and SMLAD multiplies both lanes and adds
 * them to the sum: 4 multiply-accumulates in 4 instructions per operand word. Integer sums
 * are exact in any order (modulo 2^32, as the portable loop), so results are bit-identical.
 */
#ifndef KWS_KERNELS_ARM_DOT_DSP_H
#define KWS_KERNELS_ARM_DOT_DSP_H

#include <arm_acle.h>
#include <stdint.h>
#include <string.h>

static inline uint32_t kws_dsp_load4(const int8_t *p) {
  uint32_t v;
  __builtin_memcpy(&v, p, sizeof v); /* unaligned word load (allowed on M33); builtin: the
                                       firmware is built -ffreestanding */
  return v;
}

/* SXTB16 of bytes 1 and 3 (the operand rotated by 8), one instruction: GCC does not fold a C
 * rotate into SXTB16's rotate field. */
static inline int32_t kws_sxtb16_ror8(uint32_t v) {
  int32_t r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
  return r;
}

static inline int32_t kws_dot_s8_dsp(const int8_t *a, const int8_t *b, int32_t n) {
  int32_t sum = 0, i = 0;
  for (; i + 4 <= n; i += 4) {
    const uint32_t va = kws_dsp_load4(a + i), vb = kws_dsp_load4(b + i);
    sum = __smlad(__sxtb16((int32_t)va), __sxtb16((int32_t)vb), sum);
    sum = __smlad(kws_sxtb16_ror8(va), kws_sxtb16_ror8(vb), sum);
  }
  for (; i < n; i++) sum += (int32_t)a[i] * (int32_t)b[i];
  return sum;
}

/* Four rows against one input vector; the input's sign extension is shared by all four. */
static inline void kws_dot4_s8_dsp(const int8_t *a, const int8_t *b0, const int8_t *b1, const int8_t *b2,
                                   const int8_t *b3, int32_t n, int32_t *out) {
  int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, i = 0;
  for (; i + 4 <= n; i += 4) {
    const uint32_t va = kws_dsp_load4(a + i);
    const int32_t ae = __sxtb16((int32_t)va), ao = kws_sxtb16_ror8(va);
    uint32_t w = kws_dsp_load4(b0 + i);
    s0 = __smlad(ao, kws_sxtb16_ror8(w), __smlad(ae, __sxtb16((int32_t)w), s0));
    w = kws_dsp_load4(b1 + i);
    s1 = __smlad(ao, kws_sxtb16_ror8(w), __smlad(ae, __sxtb16((int32_t)w), s1));
    w = kws_dsp_load4(b2 + i);
    s2 = __smlad(ao, kws_sxtb16_ror8(w), __smlad(ae, __sxtb16((int32_t)w), s2));
    w = kws_dsp_load4(b3 + i);
    s3 = __smlad(ao, kws_sxtb16_ror8(w), __smlad(ae, __sxtb16((int32_t)w), s3));
  }
  for (; i < n; i++) {
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

static inline int32_t kws_sum_s8_dsp(const int8_t *a, int32_t n) {
  const int32_t ones = 0x00010001;
  int32_t sum = 0, i = 0;
  for (; i + 4 <= n; i += 4) {
    const uint32_t va = kws_dsp_load4(a + i);
    sum = __smlad(__sxtb16((int32_t)va), ones, __smlad(kws_sxtb16_ror8(va), ones, sum));
  }
  for (; i < n; i++) sum += a[i];
  return sum;
}

#endif
