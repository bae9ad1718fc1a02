#include "frontend/filterbank.h"

#include <stddef.h>

#include "frontend/dsp16.h"

/* A floating-point estimate of sqrt(x), within a few units (a handful of FPU instructions). */
static uint32_t sqrt_estimate(uint64_t x) {
  const uint32_t hi = (uint32_t)(x >> 32);
#if defined(__SSE2__) && !defined(KWS_SQRT_SINGLE) /* PCs: double precision */
  const double rd = __builtin_sqrt((double)hi * 4294967296.0 + (double)(uint32_t)x);
  return rd >= 4294967295.0 ? 0xFFFFFFFFu : (uint32_t)rd;
#else /* the M33's FPU is single precision: refine large inputs once (Newton) */
  const float rf = __builtin_sqrtf((float)hi * 4294967296.0f + (float)(uint32_t)x);
  uint32_t r = rf >= 4294967040.0f ? 0xFFFFFFFFu : (uint32_t)rf;
  if (hi >> 18) { /* x >= 2^50: the estimate can be off by more than a few units */
    /* One Newton step. |err| < 2^43 (the estimate is within 2^-22 of the root), so its top
     * bits as an int32 give the step to well under a unit, without 64-bit float calls. */
    const int64_t err = (int64_t)(x - (uint64_t)r * r);
    const float err_f = (float)(int32_t)(err >> 16) * 65536.0f;
    const int64_t refined = (int64_t)r + (int32_t)(err_f / (2.0f * (float)r));
    r = refined > 0xFFFFFFFF ? 0xFFFFFFFFu : refined < 1 ? 1u : (uint32_t)refined;
  }
  return r;
#endif
}

#if !(defined(__SSE2__) && !defined(KWS_SQRT_SINGLE))
/* Correctly rounded single-precision sqrt; one VSQRT on the M33 (the builtin adds an errno
 * check for negative inputs, which cannot occur here). */
static inline float sqrt_f32(float v) {
#if defined(__ARM_FP) && (__ARM_FP & 4)
  float r;
  __asm("vsqrt.f32 %0, %1" : "=t"(r) : "t"(v));
  return r;
#else
  return __builtin_sqrtf(v);
#endif
}

/* v rounded to the nearest integer (halves away from zero), 0 <= v <= 2^23: one VCVTA on
 * the M33; v + 0.5 is exact below 2^23, so the truncation gives the same elsewhere. */
static inline uint32_t round_f32(float v) {
#if defined(__ARM_FP) && (__ARM_FP & 4) && defined(__ARM_ARCH_8M_MAIN__)
  uint32_t r;
  float t;
  __asm("vcvta.u32.f32 %1, %2\n\tvmov %0, %1" : "=r"(r), "=&t"(t) : "t"(v));
  return r;
#else
  return (uint32_t)(v + 0.5f);
#endif
}

/* v limited to 0..0xFFFF. */
static inline uint32_t clamp_u16(int32_t v) {
#if defined(__ARM_FEATURE_SAT) && __ARM_FEATURE_SAT
  return (uint32_t)__usat(v, 16);
#else
  return v < 0 ? 0u : v > 0xFFFF ? 0xFFFFu : (uint32_t)v;
#endif
}

/* The single-precision estimate of sqrt(hi 2^32 + lo); hi * 2^32 is exact in float, so one
 * fused multiply-add rounds as the sum does. */
static inline float sqrt_estimate_f32(uint32_t hi, uint32_t lo) {
  return sqrt_f32(__builtin_fmaf((float)hi, 4294967296.0f, (float)lo));
}

/* rounded_sqrt for x < 2^46 (hi < 2^14): the root s is below 2^23, the estimate within
 * 1.5 * 2^-24 * s < 0.75 of it, so its nearest integer r is within one of the answer R
 * (the integer nearest s: the reference rounds up exactly when x > floor(s)^2 + floor(s)).
 * R is the r with -r < x - r^2 <= r; d = x - r^2 is below 2^26 in magnitude, so 32 bits
 * hold it: one step either way. */
static inline uint32_t rounded_sqrt46(uint32_t hi, uint32_t lo) {
  uint32_t r = round_f32(sqrt_estimate_f32(hi, lo));
  const int32_t d = (int32_t)(lo - r * r);
  if (d > (int32_t)r) {
    ++r;
  } else if (d <= -(int32_t)r) {
    --r; /* x = 0 takes it to -1 too (r = 0, d = 0), which the clamp below undoes */
  }
  /* The reference's 32-bit path (x < 2^32) tops out at 0xFFFF: one USAT on the M33. */
  if (hi == 0) r = clamp_u16((int32_t)r);
  return r;
}

/* rounded_sqrt for x < 2^52 in 32-bit integers: the root s is below 2^26 and the single
 * precision estimate within 1.5 * 2^-24 * s + 1 < 8 units of it, so x - r^2 stays below
 * 2^31 in magnitude and its low 32 bits are all that is needed. */
static inline uint32_t rounded_sqrt52(uint64_t x) {
  const uint32_t lo = (uint32_t)x, hi = (uint32_t)(x >> 32);
  uint32_t r = (uint32_t)sqrt_estimate_f32(hi, lo);
  int32_t rest = (int32_t)(lo - r * r);
  while (rest < 0) {
    --r;
    rest += (int32_t)(2 * r + 1);
  }
  while (rest > (int32_t)(2 * r)) {
    rest -= (int32_t)(2 * r + 1);
    ++r;
  }
  /* The reference's 16-bit top applies below 2^32; above it r >= 2^16 anyway. */
  return (rest > (int32_t)r && r != 0xFFFFu) ? r + 1 : r;
}
#define KWS_SQRT_FAST 1
#endif

/* Any x: the estimate, then whole steps to floor(sqrt(x)) with rest = x - r^2 in [0, 2r],
 * then up when rest > r (x > r^2 + r), except at the top of the 16-bit range for x < 2^32
 * (the reference takes a 32-bit path there) or of the 32-bit range. */
static uint32_t rounded_sqrt_any(uint64_t x) {
#ifdef KWS_SQRT_FAST
  if ((x >> 52) == 0) return rounded_sqrt52(x);
#endif
  uint32_t r = sqrt_estimate(x);
  int64_t rest = (int64_t)(x - (uint64_t)r * r);
  while (rest < 0) {
    --r;
    rest += 2 * (int64_t)r + 1;
  }
  while (rest > 2 * (int64_t)r) { /* never for r = 2^32 - 1: (r + 1)^2 exceeds any x */
    rest -= 2 * (int64_t)r + 1;
    ++r;
  }
  const uint32_t top = (x >> 32) ? 0xFFFFFFFFu : 0xFFFFu;
  return (rest > (int64_t)r && r != top) ? r + 1 : r;
}

#ifdef KWS_SQRT_FAST
/* The filterbank's sums are nearly always below 2^46 (the inline path); larger ones call. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static uint32_t rounded_sqrt_large(uint64_t x) {
  return rounded_sqrt_any(x);
}
#endif

static inline uint32_t rounded_sqrt(uint64_t x) {
#ifdef KWS_SQRT_FAST
  const uint32_t hi = (uint32_t)(x >> 32);
  if (hi < (1u << 14)) return rounded_sqrt46(hi, (uint32_t)x);
  return rounded_sqrt_large(x);
#else
  return rounded_sqrt_any(x);
#endif
}

uint32_t kws_filterbank_sqrt(uint64_t x) { return rounded_sqrt(x); }

/* |X|^2 as the reference computes it: in 32 bits, kept in a signed 32-bit slot, then widened
 * with sign (only -32768 - 32768j reaches 2^31 and turns negative). */
static inline int32_t energy(uint32_t bin) { return kws_smuad(bin, bin); }

/* The M33 build runs the channel loop below in assembly (kws_filterbank_channels_m33):
 * GCC keeps neither the accumulators nor the pointers in registers across the square root
 * (38 instructions per channel besides the bins, 9 per bin; ~30 and 8 by hand). Same arithmetic, step by
 * step: the C loop is the reference for it, and tests/test_frontend_m33.py compares the
 * two builds' rows. */
#if defined(__GNUC__) && defined(__ARM_ARCH_8M_MAIN__) && defined(__ARM_FEATURE_DSP) && \
    defined(__ARM_FP) && (__ARM_FP & 4) && defined(__ARM_PCS_VFP) && defined(KWS_SQRT_FAST)
#define KWS_FILTERBANK_ASM 1

typedef struct {
  const uint32_t *bin_base; /* spectrum + start_bin: band ends are relative to it */
  uint32_t *out, *out_end;
  uint32_t shift;
  int64_t falling;          /* channel 0's falling edge (band 0) */
  const uint16_t *w, *u;    /* at band 1's first bin */
  const uint16_t *band_end; /* &band_start[2] */
  const uint32_t *bin;      /* band 1's first bin */
} kws_filterbank_job_t;

/* The offsets the assembly reads. */
_Static_assert(offsetof(kws_filterbank_job_t, shift) == 12, "job.shift");
_Static_assert(offsetof(kws_filterbank_job_t, falling) == 16, "job.falling");
_Static_assert(offsetof(kws_filterbank_job_t, w) == 24, "job.w");
_Static_assert(offsetof(kws_filterbank_job_t, bin) == 36, "job.bin");

void kws_filterbank_channels_m33(const kws_filterbank_job_t *job);

/* Registers: r0 bin, r1 w, r2 u, r3 band ends, r4:r5 and r6:r7 the two sums (their roles
 * swap every channel: no copies), r11 bin_base, r12 band end, lr out; s2 = 2^32, s3 the
 * shift, s4 out_end. Per bin: E by SMUAD, two SMLAL. Per channel: the root as
 * rounded_sqrt46 (VFMA, VSQRT, VCVTA, one MLS, one step either way, USAT below 2^32);
 * sums of 2^46 and more call kws_filterbank_sqrt. */
#define KWS_FB_BAND(rl, rh, fl, fh, n)                                                    \
  "  movs " fl ", #0\n"                                                                 \
  "  movs " fh ", #0\n"                                                                 \
  "  ldrh r12, [r3], #2\n"                                                              \
  "  add r12, r11, r12, lsl #2\n"                                                       \
  "  cmp r0, r12\n"                                                                     \
  "  beq 2" n "f\n"                                                                     \
  "1" n ":\n"                                                                           \
  "  ldr r8, [r0], #4\n"                                                                \
  "  ldrh r9, [r1], #2\n"                                                               \
  "  ldrh r10, [r2], #2\n"                                                              \
  "  smuad r8, r8, r8\n"                                                                \
  "  smlal " rl ", " rh ", r8, r9\n"                                                    \
  "  smlal " fl ", " fh ", r8, r10\n"                                                   \
  "  cmp r0, r12\n"                                                                     \
  "  bne 1" n "b\n"                                                                     \
  "2" n ":\n"                                                                           \
  "  cmp " rh ", #16384\n"                                                              \
  "  bhs 8" n "f\n"                                                                     \
  "  vmov s0, s1, " rl ", " rh "\n"                                                     \
  "  vcvt.f32.u32 s0, s0\n"                                                             \
  "  vcvt.f32.u32 s1, s1\n"                                                             \
  "  vfma.f32 s0, s1, s2\n"                                                             \
  "  vsqrt.f32 s0, s0\n"                                                                \
  "  vcvta.u32.f32 s0, s0\n"                                                            \
  "  vmov r10, s0\n"                                                                    \
  "  mls r9, r10, r10, " rl "\n"                                                        \
  "  cmn r9, r10\n"                                                                     \
  "  it le\n"                                                                           \
  "  suble r10, r10, #1\n"                                                              \
  "  cmp r9, r10\n"                                                                     \
  "  it gt\n"                                                                           \
  "  addgt r10, r10, #1\n"                                                              \
  "  cbnz " rh ", 3" n "f\n"                                                            \
  "  usat r10, #16, r10\n"                                                              \
  "3" n ":\n"                                                                           \
  "  vmov r9, s3\n"                                                                     \
  "  lsr r10, r10, r9\n"                                                                \
  "  str r10, [lr], #4\n"                                                               \
  "  vmov r9, s4\n"                                                                     \
  "  cmp lr, r9\n"                                                                      \
  "  beq 9f\n"

/* The large-sum call: everything live in r0-r3, r12, lr and s2-s4 is kept around it. */
#define KWS_FB_LARGE(rl, rh, n)                                                           \
  "8" n ":\n"                                                                           \
  "  push {r0, r1, r2, r3, r12, lr}\n"                                                  \
  "  vpush {s2, s3, s4}\n"                                                              \
  "  sub sp, sp, #4\n"                                                                  \
  "  mov r0, " rl "\n"                                                                  \
  "  mov r1, " rh "\n"                                                                  \
  "  bl kws_filterbank_sqrt\n"                                                          \
  "  mov r10, r0\n"                                                                     \
  "  add sp, sp, #4\n"                                                                  \
  "  vpop {s2, s3, s4}\n"                                                               \
  "  pop {r0, r1, r2, r3, r12, lr}\n"                                                   \
  "  b 3" n "b\n"

__asm__(
    "  .section .text.kws_filterbank_channels_m33,\"ax\",%progbits\n"
    "  .syntax unified\n"
    "  .thumb\n"
    "  .align 2\n"
    "  .global kws_filterbank_channels_m33\n"
    "  .type kws_filterbank_channels_m33, %function\n"
    "  .thumb_func\n"
    "kws_filterbank_channels_m33:\n"
    "  push {r4, r5, r6, r7, r8, r9, r10, r11, lr}\n"
    "  ldr r11, [r0, #0]\n"
    "  ldr lr, [r0, #4]\n"
    "  ldr r4, [r0, #8]\n"
    "  vmov s4, r4\n"
    "  ldr r4, [r0, #12]\n"
    "  vmov s3, r4\n"
    "  mov r4, #0x4f800000\n"
    "  vmov s2, r4\n"
    "  ldrd r4, r5, [r0, #16]\n"
    "  ldrd r1, r2, [r0, #24]\n"
    "  ldr r3, [r0, #32]\n"
    "  ldr r0, [r0, #36]\n"
    "0:\n"
    KWS_FB_BAND("r4", "r5", "r6", "r7", "4")
    KWS_FB_BAND("r6", "r7", "r4", "r5", "6")
    "  b 0b\n"
    KWS_FB_LARGE("r4", "r5", "4")
    KWS_FB_LARGE("r6", "r7", "6")
    "9:\n"
    "  pop {r4, r5, r6, r7, r8, r9, r10, r11, pc}\n"
    "  .size kws_filterbank_channels_m33, .-kws_filterbank_channels_m33\n"
    "  .text\n");
#endif

/* GCC's induction-variable rewrite recomputes the three band pointers for every channel
 * on the M33 (~280 instructions per row more than indexing them). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__ARM_ARCH)
#define KWS_PLAIN_INDEXING __attribute__((optimize("no-ivopts")))
#else
#define KWS_PLAIN_INDEXING
#endif

KWS_PLAIN_INDEXING void kws_filterbank_apply(const kws_filterbank_t *fb,
                                             const kws_cpx16_t *spectrum, int scale_down_shift,
                                             uint32_t *out) {
  const uint32_t *bin = (const uint32_t *)(const void *)(spectrum + fb->start_bin);
  const uint16_t *w = fb->weights;
  const uint16_t *u = fb->unweights;
  const uint16_t *band = fb->band_start;
  /* Band 0 only feeds channel 0's falling edge. */
  int64_t falling = 0;
  for (size_t k = band[0], end = band[1]; k < end; ++k) falling += (int64_t)u[k] * energy(bin[k]);
  uint32_t *const out_end = out + fb->n_channels;
  size_t k = band[1];
#ifdef KWS_FILTERBANK_ASM
  const kws_filterbank_job_t job = {bin,          out,       out_end, (uint32_t)scale_down_shift,
                                    falling,      w + k,     u + k,   band + 2,
                                    bin + k};
  kws_filterbank_channels_m33(&job);
#else
  ++band;
  for (; out < out_end; ++out) {
    int64_t rising = falling, next_falling = 0;
    for (const size_t end = *++band; k < end; ++k) {
      const int32_t e = energy(bin[k]);
      rising += (int64_t)w[k] * e;
      next_falling += (int64_t)u[k] * e;
    }
    *out = rounded_sqrt((uint64_t)rising) >> scale_down_shift;
    falling = next_falling;
  }
#endif
}
