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
  const int left = shift > 0 ? shift : 0;
  const int right = shift > 0 ? 0 : -shift;
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
  return kws_rounding_divide_by_pot(kws_sat_rounding_doubling_high_mul(x, multiplier), -shift);
}

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
