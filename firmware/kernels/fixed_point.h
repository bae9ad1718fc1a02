/* Fixed-point arithmetic of TFLite's integer kernels, written from its documented semantics.
 *
 * A real multiplier M is stored as a Q0.31 significand q in [2^30, 2^31) and an exponent e
 * with M = q * 2^(e - 31). Applying it to an int32 x is a left shift by max(e, 0), a
 * "saturating rounding doubling high multiply" (x*q / 2^31 rounded, ties up) and a rounding
 * right shift by max(-e, 0) (ties away from zero). Two roundings, not one: TFLite's kernels
 * (default build, no TFLITE_SINGLE_ROUNDING) and TFLite Micro do it this way, and bit-exactness
 * depends on it. The one exception, TFLite's FULLY_CONNECTED, rounds once (see
 * kws_multiply_by_quantized_multiplier_single). Header-only so inner loops can inline it.
 */
#ifndef KWS_KERNELS_FIXED_POINT_H
#define KWS_KERNELS_FIXED_POINT_H

#include <math.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* round(a * b / 2^31) with ties toward +infinity (gemmlowp's nudge-and-truncate); the one
 * overflowing case, INT32_MIN * INT32_MIN, saturates. */
static inline int32_t kws_sat_rounding_doubling_high_mul(int32_t a, int32_t b) {
  if (a == b && a == INT32_MIN) return INT32_MAX;
  const int64_t ab = (int64_t)a * (int64_t)b;
  const int64_t nudge = ab >= 0 ? (1LL << 30) : (1 - (1LL << 30));
  /* C division truncates toward zero; with the nudge, ties go up for both signs. */
  return (int32_t)((ab + nudge) / (1LL << 31));
}

/* x / 2^exponent rounded to nearest, halves away from zero (exponent 0..31). */
static inline int32_t kws_rounding_divide_by_pot(int32_t x, int exponent) {
  const int32_t mask = (int32_t)((1LL << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* x * 2^shift with int32 wrap-around, as TFLite's `x * (1 << shift)` behaves on our targets. */
static inline int32_t kws_shift_left_wrapping(int32_t x, int shift) {
  return (int32_t)((uint32_t)x << shift);
}

/* x * M for M = (multiplier, shift) as produced by kws_quantize_multiplier. */
static inline int32_t kws_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int shift) {
  /* Kernels refuse multipliers >= 2^31 in prepare (kws_multiplier_usable); the clamps only keep
   * the arithmetic defined for any input, where TFLite's is undefined. */
  const int left = shift > 0 ? (shift > 31 ? 31 : shift) : 0;
  const int right = shift > 0 ? 0 : (shift < -31 ? 31 : -shift);
  return kws_rounding_divide_by_pot(
      kws_sat_rounding_doubling_high_mul(kws_shift_left_wrapping(x, left), multiplier), right);
}

/* x * M with one rounding (half up) of the exact product: round(x * multiplier / 2^(31 - shift)),
 * for shift <= 30. TFLite's interpreter gets this for FULLY_CONNECTED; it differs from the
 * two-rounding form on exact ties only. */
static inline int32_t kws_multiply_by_quantized_multiplier_single(int32_t x, int32_t multiplier, int shift) {
  const int total = 31 - (shift > 30 ? 30 : (shift < -32 ? -32 : shift));
  const int64_t round = (int64_t)1 << (total - 1);
  return (int32_t)(((int64_t)x * (int64_t)multiplier + round) >> total);
}

/* The "smaller than one" form used by ADD: shift <= 0, no left shift. */
static inline int32_t kws_multiply_by_quantized_multiplier_lt1(int32_t x, int32_t multiplier, int shift) {
  return kws_rounding_divide_by_pot(kws_sat_rounding_doubling_high_mul(x, multiplier),
                                    shift > 0 ? 0 : (shift < -31 ? 31 : -shift));
}

/* Whether an exponent from kws_quantize_multiplier can be applied: multipliers of 2^31 and
 * more would shift int32 values out of range. */
static inline int kws_multiplier_usable(int shift) { return shift <= 31; }

/* Splits a non-negative real multiplier into (significand, exponent), see the file comment.
 * Rounding of the significand is half away from zero (std::round); a significand that rounds
 * up to 2^31 is halved; multipliers below 2^-32 become zero. */
static inline void kws_quantize_multiplier(double real, int32_t *multiplier, int *shift) {
  if (real == 0.0) {
    *multiplier = 0;
    *shift = 0;
    return;
  }
  int exponent = 0;
  const double significand = frexp(real, &exponent);
  int64_t fixed = (int64_t)round(significand * (double)(1LL << 31));
  if (fixed == (1LL << 31)) {
    fixed /= 2;
    exponent++;
  }
  if (exponent < -31) {
    exponent = 0;
    fixed = 0;
  }
  *multiplier = (int32_t)fixed;
  *shift = exponent;
}

/* Splits a positive finite float into m * 2^e with m in [2^23, 2^24); 0 for zero, inf, NaN. */
static inline int kws_float_parts(float f, uint32_t *m, int *e) {
  union {
    float f;
    uint32_t u;
  } bits = {f};
  const uint32_t exponent = (bits.u >> 23) & 0xffu, fraction = bits.u & 0x7fffffu;
  if ((bits.u >> 31) || exponent == 0xffu || (exponent == 0 && fraction == 0)) return 0;
  if (exponent == 0) { /* subnormal: normalise */
    *m = fraction;
    *e = -149;
    while (*m < (1u << 23)) {
      *m <<= 1;
      (*e)--;
    }
  } else {
    *m = fraction | (1u << 23);
    *e = (int)exponent - 150;
  }
  return 1;
}

/* kws_quantize_multiplier((double)a * (double)b / (double)c) for positive finite floats, in
 * integer arithmetic: bit-identical to the double computation (the 48-bit product is exact in
 * double, the quotient is rounded to 53 bits to nearest-even as the FPU does, then to the
 * 31-bit significand), but ~10x cheaper on cores without a double-precision FPU, where it runs
 * once per output channel per inference. Falls back to double for zero/inf/NaN inputs. */
static inline void kws_quantize_scale_ratio_int(float a, float b, float c, int32_t *multiplier, int *shift) {
  uint32_t ma, mb, mc;
  int ea, eb, ec;
  if (!kws_float_parts(a, &ma, &ea) || !kws_float_parts(b, &mb, &eb) || !kws_float_parts(c, &mc, &ec)) {
    kws_quantize_multiplier((double)a * (double)b / (double)c, multiplier, shift);
    return;
  }
  const uint64_t p = (uint64_t)ma * mb; /* [2^46, 2^48) */
  /* q = floor(p * 2^32 / mc) by long division in bytes: each step divides < 2^32 by mc < 2^24
   * (one hardware 32-bit division on Cortex-M33). */
  const uint32_t top = (uint32_t)(p >> 24); /* < 2^24: the first step needs no remainder */
  uint64_t q = top / mc;
  uint32_t r = top % mc;
  for (int i = 6; i >= 0; i--) {
    const uint32_t byte = i >= 4 ? (uint32_t)(p >> (8 * (i - 4))) & 0xffu : 0u;
    const uint32_t cur = (r << 8) | byte;
    q = (q << 8) | (cur / mc);
    r = cur % mc;
  }
  const uint32_t hi = (uint32_t)(q >> 32); /* q is in [2^54, 2^57): its top word is nonzero */
  const int drop = (64 - __builtin_clz(hi)) - 53;
  uint64_t sig = q >> drop;
  const uint64_t low = q & ((1ull << drop) - 1), half = 1ull << (drop - 1);
  int exponent = drop - 32 + ea + eb - ec; /* value = sig * 2^exponent */
  if (low > half || (low == half && (r != 0 || (sig & 1)))) sig++; /* round to nearest even */
  if (sig == (1ull << 53)) {
    sig >>= 1;
    exponent++;
  }
  exponent += 53; /* frexp: value = (sig / 2^53) * 2^exponent */
  uint64_t fixed = (sig + (1ull << 21)) >> 22; /* round(significand * 2^31), ties up */
  if (fixed == (1ull << 31)) {
    fixed >>= 1;
    exponent++;
  }
  if (exponent < -31) {
    fixed = 0;
    exponent = 0;
  }
  *multiplier = (int32_t)fixed;
  *shift = exponent;
}

/* The cheaper of the two bit-identical computations for the target. */
static inline void kws_quantize_scale_ratio(float a, float b, float c, int32_t *multiplier, int *shift) {
#if !defined(__arm__) || (defined(__ARM_FP) && (__ARM_FP & 8))
  kws_quantize_multiplier((double)a * (double)b / (double)c, multiplier, shift); /* double FPU */
#else
  kws_quantize_scale_ratio_int(a, b, c, multiplier, shift);
#endif
}

static inline int32_t kws_clamp_i32(int32_t v, int32_t lo, int32_t hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

/* ---- gemmlowp-style fixed-point helpers for SOFTMAX and LOGISTIC ------------------------ */

/* Saturating x * 2^exponent for exponent in [-31, 31] (positive: saturating left shift). */
static inline int32_t kws_saturating_rounding_mul_by_pot(int32_t x, int exponent) {
  if (exponent > 0) {
    const int32_t min = INT32_MIN, max = INT32_MAX;
    const int32_t threshold = (int32_t)((1LL << (31 - exponent)) - 1);
    if (x > threshold) return max;
    if (x < -threshold) return min;
    return kws_shift_left_wrapping(x, exponent);
  }
  if (exponent < 0) return kws_rounding_divide_by_pot(x, -exponent);
  return x;
}

/* (a + b) / 2 rounded half away from zero, in 64 bits (gemmlowp's RoundingHalfSum). */
static inline int32_t kws_rounding_half_sum(int32_t a, int32_t b) {
  const int64_t sum = (int64_t)a + (int64_t)b;
  const int64_t sign = sum >= 0 ? 1 : -1;
  return (int32_t)((sum + sign) / 2);
}

#ifdef __cplusplus
}
#endif
#endif
