/* Packed 16-bit lane arithmetic: a complex int16 (or two int16 samples) in one 32-bit word,
 * real / first sample in the low half. On Cortex-M33 (and any core with the DSP extension)
 * each helper is one or two instructions (SADD16, SMLSD, SMLADX, SHADD16, PKHBT, ...); the
 * portable versions compute exactly the same bits, so the host runs, and tests, the very
 * arithmetic the device runs. */
#ifndef KWS_FRONTEND_DSP16_H
#define KWS_FRONTEND_DSP16_H
#include <stdint.h>

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#include <arm_acle.h>
#define KWS_DSP16_NATIVE 1
#define KWS_DSP16_NATIVE_OR_0 1
#else
#define KWS_DSP16_NATIVE_OR_0 0
#endif

static inline int32_t kws_lo16(uint32_t w) { return (int16_t)(uint16_t)w; }
static inline int32_t kws_hi16(uint32_t w) { return (int16_t)(uint16_t)(w >> 16); }
/* Low 16 bits of lo and hi into one word (each wraps to 16 bits). */
static inline uint32_t kws_pack16(int32_t lo, int32_t hi) {
  return ((uint32_t)lo & 0xFFFFu) | ((uint32_t)hi << 16);
}

#ifdef KWS_DSP16_NATIVE
/* (hi & 0xFFFF0000) | (lo >> 16 & 0xFFFF), and (lo & 0xFFFF) | (hi << 1 & 0xFFFF0000):
 * PKHTB / PKHBT, which the compiler does not always find by itself. */
static inline uint32_t kws_pack_tops(int32_t lo, int32_t hi) {
  uint32_t r;
  __asm("pkhtb %0, %1, %2, asr #16" : "=r"(r) : "r"(hi), "r"(lo));
  return r;
}
static inline uint32_t kws_pack_q15(int32_t lo, int32_t hi) {
  uint32_t r;
  __asm("pkhbt %0, %1, %2, lsl #1" : "=r"(r) : "r"(lo >> 15), "r"(hi));
  return r;
}
/* Low half of lo, high half of hi. */
static inline uint32_t kws_pack_halves(uint32_t lo, uint32_t hi) {
  uint32_t r;
  __asm("pkhbt %0, %1, %2" : "=r"(r) : "r"(lo), "r"(hi));
  return r;
}
static inline uint32_t kws_add16(uint32_t a, uint32_t b) { return (uint32_t)__sadd16((int16x2_t)a, (int16x2_t)b); }
static inline uint32_t kws_sub16(uint32_t a, uint32_t b) { return (uint32_t)__ssub16((int16x2_t)a, (int16x2_t)b); }
/* (a.lo + b.hi, a.hi - b.lo) and (a.lo - b.hi, a.hi + b.lo): a -/+ j*b for complex words. */
static inline uint32_t kws_sax16(uint32_t a, uint32_t b) { return (uint32_t)__ssax((int16x2_t)a, (int16x2_t)b); }
static inline uint32_t kws_asx16(uint32_t a, uint32_t b) { return (uint32_t)__sasx((int16x2_t)a, (int16x2_t)b); }
/* Halving: ((a + b) >> 1, ...) and ((a - b) >> 1, ...) without intermediate wrap. */
static inline uint32_t kws_hadd16(uint32_t a, uint32_t b) { return (uint32_t)__shadd16((int16x2_t)a, (int16x2_t)b); }
static inline uint32_t kws_hsub16(uint32_t a, uint32_t b) { return (uint32_t)__shsub16((int16x2_t)a, (int16x2_t)b); }
/* a.lo*b.lo - a.hi*b.hi + acc, and a.lo*b.hi + a.hi*b.lo + acc (32-bit wrap). */
static inline int32_t kws_smlsd(uint32_t a, uint32_t b, int32_t acc) { return __smlsd((int16x2_t)a, (int16x2_t)b, acc); }
static inline int32_t kws_smladx(uint32_t a, uint32_t b, int32_t acc) { return __smladx((int16x2_t)a, (int16x2_t)b, acc); }
/* a.lo*a.lo + a.hi*a.hi (32-bit wrap): |z|^2 */
static inline int32_t kws_smuad(uint32_t a, uint32_t b) { return __smuad((int16x2_t)a, (int16x2_t)b); }
static inline int32_t kws_smlabb(uint32_t a, uint32_t b, int32_t acc) { return __smlabb((int32_t)a, (int32_t)b, acc); }
static inline int32_t kws_smlatb(uint32_t a, uint32_t b, int32_t acc) { return __smlatb((int32_t)a, (int32_t)b, acc); }
/* acc + (a * b.lo) >> 16 (48-bit product, floor). */
static inline int32_t kws_smlawb(uint32_t a, uint32_t b, int32_t acc) { return __smlawb((int32_t)a, (int32_t)b, acc); }
/* Lane-wise |a| (|-32768| = 0x8000): SSUB16 from zero sets GE where a <= 0, SEL takes -a
 * there (one asm block, so nothing can come between them). */
static inline uint32_t kws_abs16(uint32_t a) {
  uint32_t r, neg;
  __asm("ssub16 %1, %3, %2\n\tsel %0, %1, %2" : "=r"(r), "=&r"(neg) : "r"(a), "r"(0u) : "cc");
  return r;
}
/* (a * b.lo) >> 16 and (a * b.hi) >> 16 (48-bit products, floor). */
static inline int32_t kws_smulwb(int32_t a, uint32_t b) {
  int32_t r;
  __asm("smulwb %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
  return r;
}
static inline int32_t kws_smulwt(int32_t a, uint32_t b) {
  int32_t r;
  __asm("smulwt %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
  return r;
}
/* The low halves of lo and hi into one word (PKHBT with LSL #16). */
static inline uint32_t kws_pack_halves16(int32_t lo, int32_t hi) {
  uint32_t r;
  __asm("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(lo), "r"(hi));
  return r;
}
#else
static inline uint32_t kws_pack_tops(int32_t lo, int32_t hi) {
  return ((uint32_t)lo >> 16) | ((uint32_t)hi & 0xFFFF0000u);
}
static inline uint32_t kws_pack_q15(int32_t lo, int32_t hi) {
  return ((uint32_t)(lo >> 15) & 0xFFFFu) | (((uint32_t)hi << 1) & 0xFFFF0000u);
}
static inline uint32_t kws_pack_halves(uint32_t lo, uint32_t hi) {
  return (lo & 0xFFFFu) | (hi & 0xFFFF0000u);
}
static inline uint32_t kws_add16(uint32_t a, uint32_t b) { return kws_pack16(kws_lo16(a) + kws_lo16(b), kws_hi16(a) + kws_hi16(b)); }
static inline uint32_t kws_sub16(uint32_t a, uint32_t b) { return kws_pack16(kws_lo16(a) - kws_lo16(b), kws_hi16(a) - kws_hi16(b)); }
static inline uint32_t kws_sax16(uint32_t a, uint32_t b) { return kws_pack16(kws_lo16(a) + kws_hi16(b), kws_hi16(a) - kws_lo16(b)); }
static inline uint32_t kws_asx16(uint32_t a, uint32_t b) { return kws_pack16(kws_lo16(a) - kws_hi16(b), kws_hi16(a) + kws_lo16(b)); }
static inline uint32_t kws_hadd16(uint32_t a, uint32_t b) { return kws_pack16((kws_lo16(a) + kws_lo16(b)) >> 1, (kws_hi16(a) + kws_hi16(b)) >> 1); }
static inline uint32_t kws_hsub16(uint32_t a, uint32_t b) { return kws_pack16((kws_lo16(a) - kws_lo16(b)) >> 1, (kws_hi16(a) - kws_hi16(b)) >> 1); }
static inline int32_t kws_smlsd(uint32_t a, uint32_t b, int32_t acc) {
  return (int32_t)((uint32_t)(kws_lo16(a) * kws_lo16(b)) - (uint32_t)(kws_hi16(a) * kws_hi16(b)) + (uint32_t)acc);
}
static inline int32_t kws_smladx(uint32_t a, uint32_t b, int32_t acc) {
  return (int32_t)((uint32_t)(kws_lo16(a) * kws_hi16(b)) + (uint32_t)(kws_hi16(a) * kws_lo16(b)) + (uint32_t)acc);
}
static inline int32_t kws_smuad(uint32_t a, uint32_t b) {
  return (int32_t)((uint32_t)(kws_lo16(a) * kws_lo16(b)) + (uint32_t)(kws_hi16(a) * kws_hi16(b)));
}
static inline int32_t kws_smlabb(uint32_t a, uint32_t b, int32_t acc) { return kws_lo16(a) * kws_lo16(b) + acc; }
static inline int32_t kws_smlatb(uint32_t a, uint32_t b, int32_t acc) { return kws_hi16(a) * kws_lo16(b) + acc; }
static inline int32_t kws_smlawb(uint32_t a, uint32_t b, int32_t acc) {
  return (int32_t)(((int64_t)(int32_t)a * kws_lo16(b)) >> 16) + acc;
}
static inline int32_t kws_smulwb(int32_t a, uint32_t b) { return (int32_t)(((int64_t)a * kws_lo16(b)) >> 16); }
static inline int32_t kws_smulwt(int32_t a, uint32_t b) { return (int32_t)(((int64_t)a * kws_hi16(b)) >> 16); }
static inline uint32_t kws_pack_halves16(int32_t lo, int32_t hi) { return kws_pack16(lo, hi); }
static inline uint32_t kws_abs16(uint32_t a) {
  const int32_t lo = kws_lo16(a), hi = kws_hi16(a);
  return kws_pack16(lo < 0 ? -lo : lo, hi < 0 ? -hi : hi);
}
#endif
#endif
