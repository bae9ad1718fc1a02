/* exp(x) for x <= 0, 1/(1+x) for x in [0,1), the logistic function and tanh in Q-format fixed
 * point, as gemmlowp defines them (TFLite's integer SOFTMAX, LOGISTIC and TANH use these). Values
 * are raw int32 of a Qm.(31-m) format; products of Qa and Qb values are Q(a+b) via the
 * saturating rounding doubling high multiply.
 */
#ifndef KWS_KERNELS_FIXED_POINT_EXP_H
#define KWS_KERNELS_FIXED_POINT_EXP_H

#include "kernels/fixed_point.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KWS_Q0_ONE INT32_MAX /* 1.0 is not representable in Q0.31: gemmlowp uses the max */

static inline int32_t kws_fx_mul(int32_t a, int32_t b) { return kws_sat_rounding_doubling_high_mul(a, b); }
static inline int32_t kws_fx_add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
static inline int32_t kws_fx_sub(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }

/* exp(a) for a in [-1/4, 0), a in Q0.31: a 4th-order Taylor expansion around -1/8. */
static inline int32_t kws_exp_on_quarter_interval(int32_t a) {
  const int32_t exp_minus_one_eighth = 1895147668; /* exp(-1/8) in Q0.31 */
  const int32_t one_third = 715827883;
  const int32_t x = kws_fx_add(a, 1 << 28); /* a + 1/8 */
  const int32_t x2 = kws_fx_mul(x, x);
  const int32_t x3 = kws_fx_mul(x2, x);
  const int32_t x4 = kws_fx_mul(x2, x2);
  const int32_t x4_over_4 = kws_saturating_rounding_mul_by_pot(x4, -2);
  const int32_t poly = kws_saturating_rounding_mul_by_pot(
      kws_fx_add(kws_fx_mul(kws_fx_add(x4_over_4, x3), one_third), x2), -1);
  return kws_fx_add(exp_minus_one_eighth, kws_fx_mul(exp_minus_one_eighth, kws_fx_add(x, poly)));
}

/* exp(a) for a <= 0 given in Q(integer_bits).(31-integer_bits); result in Q0.31. The input is
 * split into a remainder in [-1/4, 0) and multiples of powers of two whose exp() factors are
 * applied one by one (a barrel shifter). */
static inline int32_t kws_exp_on_negative_values(int32_t a, int integer_bits) {
  static const int32_t factors[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
  const int fractional_bits = 31 - integer_bits;
  const int32_t one_quarter = (int32_t)1 << (fractional_bits - 2);
  const int32_t mask = one_quarter - 1;
  const int32_t a_mod_quarter_minus_quarter = kws_fx_sub(a & mask, one_quarter);
  int32_t result = kws_exp_on_quarter_interval(kws_saturating_rounding_mul_by_pot(a_mod_quarter_minus_quarter, integer_bits));
  const int32_t remainder = kws_fx_sub(a_mod_quarter_minus_quarter, a);
  for (int k = 0; k < 7; k++) {
    const int exponent = k - 2; /* factor k is exp(-2^exponent) */
    if (integer_bits > exponent && (remainder & (int32_t)((uint32_t)1 << (fractional_bits + exponent))))
      result = kws_fx_mul(result, factors[k]);
  }
  if (integer_bits > 5) {
    const int32_t clamp = -((int32_t)1 << (36 - integer_bits)); /* -32.0 */
    if (a < clamp) result = 0;
  }
  return a == 0 ? KWS_Q0_ONE : result;
}

#define KWS_Q2_ONE (1 << 29)

/* 2 / (1 + a) for a in [0, 1) in Q0.31 (so 1 / ((1 + a) / 2)), by three Newton-Raphson steps;
 * result Q2.29. */
static inline int32_t kws_two_over_one_plus_x_q2(int32_t a) {
  const int32_t half_denominator = kws_rounding_half_sum(a, KWS_Q0_ONE);
  const int32_t c48_over_17 = 1515870810, c_neg32_over_17 = -1010580540;
  int32_t x = kws_fx_add(c48_over_17, kws_fx_mul(half_denominator, c_neg32_over_17));
  for (int i = 0; i < 3; i++) {
    const int32_t one_minus = kws_fx_sub(KWS_Q2_ONE, kws_fx_mul(half_denominator, x));
    x = kws_fx_add(x, kws_saturating_rounding_mul_by_pot(kws_fx_mul(x, one_minus), 2));
  }
  return x;
}

/* 1 / (1 + a) for a in [0, 1) in Q0.31; result Q0.31. */
static inline int32_t kws_one_over_one_plus_x(int32_t a) {
  return kws_saturating_rounding_mul_by_pot(kws_two_over_one_plus_x_q2(a), 1);
}

/* logistic(a) = 1 / (1 + exp(-a)) with a in Q(integer_bits); result in Q0.31. */
static inline int32_t kws_logistic_fx(int32_t a, int integer_bits) {
  if (a == 0) return 1 << 30;
  const int32_t abs_a = a > 0 ? a : kws_fx_sub(0, a);
  const int32_t positive = kws_one_over_one_plus_x(kws_exp_on_negative_values(kws_fx_sub(0, abs_a), integer_bits));
  return a > 0 ? positive : kws_fx_sub(KWS_Q0_ONE, positive);
}

/* (1 - a) / (1 + a) = 2 / (1 + a) - 1 for a in [0, 1) in Q0.31; result Q0.31. */
static inline int32_t kws_one_minus_x_over_one_plus_x(int32_t a) {
  return kws_saturating_rounding_mul_by_pot(kws_fx_sub(kws_two_over_one_plus_x_q2(a), KWS_Q2_ONE), 2);
}

/* tanh(a) with a in Q(integer_bits); result in Q0.31. tanh(|a|) = (1 - e) / (1 + e) with
 * e = exp(-2|a|): the same raw value read with one more integer bit is 2a. */
static inline int32_t kws_tanh_fx(int32_t a, int integer_bits) {
  if (a == 0) return 0;
  const int32_t minus_abs = a < 0 ? a : kws_fx_sub(0, a);
  const int32_t t = kws_one_minus_x_over_one_plus_x(kws_exp_on_negative_values(minus_abs, integer_bits + 1));
  return a < 0 ? kws_fx_sub(0, t) : t;
}

/* Reciprocal of a positive Q(integer_digits) sum, as a Q0.31 significand of 1/x and the
 * power of two (num_bits_over_unit) it is to be scaled by. */
static inline int32_t kws_reciprocal(int32_t x, int integer_digits, int *num_bits_over_unit) {
  int headroom_plus_one = 0;
  uint32_t ux = (uint32_t)x;
  while (headroom_plus_one < 32 && !(ux & 0x80000000u)) {
    ux <<= 1;
    headroom_plus_one++;
  }
  *num_bits_over_unit = integer_digits - headroom_plus_one;
  const int32_t shifted_minus_one = (int32_t)(((uint32_t)x << headroom_plus_one) - ((uint32_t)1 << 31));
  return kws_one_over_one_plus_x(shifted_minus_one);
}

#ifdef __cplusplus
}
#endif
#endif
