/* Hand-checked edge cases of the kernels' fixed-point arithmetic: rounding directions,
 * saturation, negative shifts, multiplier quantization, activation ranges and padding. */
#include <math.h>

#include "kernels/fixed_point.h"
#include "kernels/fixed_point_exp.h"
#include "kernels/kernel_util.h"
#include "kws_test.h"

static void test_high_mul(void) {
  EXPECT_EQ(kws_sat_rounding_doubling_high_mul(INT32_MIN, INT32_MIN), INT32_MAX); /* saturates */
  EXPECT_EQ(kws_sat_rounding_doubling_high_mul(1 << 30, 1 << 30), 1 << 29);
  EXPECT_EQ(kws_sat_rounding_doubling_high_mul(-(1 << 30), 1 << 30), -(1 << 29));
  EXPECT_EQ(kws_sat_rounding_doubling_high_mul(3, 1 << 30), 2);   /* 1.5 -> 2: ties up */
  EXPECT_EQ(kws_sat_rounding_doubling_high_mul(-3, 1 << 30), -1); /* -1.5 -> -1: ties up */
  EXPECT_EQ(kws_sat_rounding_doubling_high_mul(-5, 1 << 29), -1); /* -1.25 -> -1 */
  EXPECT_EQ(kws_sat_rounding_doubling_high_mul(INT32_MAX, INT32_MAX), INT32_MAX - 1);
}

static void test_rounding_divide(void) {
  EXPECT_EQ(kws_rounding_divide_by_pot(5, 1), 3);   /* 2.5 -> 3 */
  EXPECT_EQ(kws_rounding_divide_by_pot(-5, 1), -3); /* -2.5 -> -3: ties away from zero */
  EXPECT_EQ(kws_rounding_divide_by_pot(-7, 2), -2); /* -1.75 */
  EXPECT_EQ(kws_rounding_divide_by_pot(-6, 2), -2); /* -1.5 */
  EXPECT_EQ(kws_rounding_divide_by_pot(-5, 2), -1); /* -1.25 */
  EXPECT_EQ(kws_rounding_divide_by_pot(7, 0), 7);
  EXPECT_EQ(kws_rounding_divide_by_pot(INT32_MAX, 31), 1);
  EXPECT_EQ(kws_rounding_divide_by_pot(INT32_MIN, 31), -1);
}

static void test_quantize_multiplier(void) {
  int32_t m;
  int s;
  kws_quantize_multiplier(1.0, &m, &s);
  EXPECT_EQ(m, 1 << 30);
  EXPECT_EQ(s, 1);
  kws_quantize_multiplier(0.25, &m, &s);
  EXPECT_EQ(m, 1 << 30);
  EXPECT_EQ(s, -1);
  kws_quantize_multiplier(0.0, &m, &s);
  EXPECT_EQ(m, 0);
  EXPECT_EQ(s, 0);
  kws_quantize_multiplier(1e-12, &m, &s); /* below 2^-32: flushed to zero */
  EXPECT_EQ(m, 0);
  EXPECT_EQ(s, 0);
  kws_quantize_multiplier(1.0 - ldexp(1.0, -40), &m, &s); /* significand rounds to 2^31 */
  EXPECT_EQ(m, 1 << 30);
  EXPECT_EQ(s, 1);
  kws_quantize_multiplier(1000.0, &m, &s);
  EXPECT_EQ(s, 10);
  EXPECT_EQ(m, 2097152000); /* 1000/1024 * 2^31 */
}

/* The integer kws_quantize_scale_ratio_int (used on cores without a double FPU) must equal the
 * double computation bit for bit: random
 * scales over the whole float range (subnormals included) and products built to hit exact ties
 * of the 31-bit rounding. */
static uint64_t xorshift_state = 88172645463325252ull;
static uint64_t xorshift(void) {
  xorshift_state ^= xorshift_state << 13;
  xorshift_state ^= xorshift_state >> 7;
  xorshift_state ^= xorshift_state << 17;
  return xorshift_state;
}

static float random_scale(int i) {
  union {
    uint32_t u;
    float f;
  } v;
  if (i % 3 == 0) {
    v.u = (uint32_t)xorshift() & 0x7f7fffffu; /* any positive finite float */
    return v.f > 0 ? v.f : 1.0f;
  }
  if (i % 3 == 1) /* low mantissa bytes zero: products land on exact ties */
    return ldexpf((float)((xorshift() & 0xffff00u) | 0x800000u), -(int)(xorshift() % 60));
  return (float)pow(10.0, -6.0 + 9.0 * (double)(xorshift() >> 11) / 9007199254740992.0);
}

static void test_scale_ratio_matches_double(void) {
  long differ = 0;
  for (int i = 0; i < 300000; i++) {
    const float a = random_scale(i), b = random_scale(i + 1), c = random_scale(i + 2);
    int32_t m1, m2;
    int s1, s2;
    kws_quantize_multiplier((double)a * (double)b / (double)c, &m1, &s1);
    kws_quantize_scale_ratio_int(a, b, c, &m2, &s2);
    if (m1 != m2 || s1 != s2) differ++;
  }
  EXPECT_EQ(differ, 0);
  int32_t m;
  int s;
  kws_quantize_scale_ratio_int(0.0f, 1.0f, 1.0f, &m, &s); /* zero falls back to double */
  EXPECT_EQ(m, 0);
  EXPECT_EQ(s, 0);
  kws_quantize_scale_ratio_int(0.5f, 0.5f, 0.125f, &m, &s); /* 2.0 */
  EXPECT_EQ(m, 1 << 30);
  EXPECT_EQ(s, 2);
}

static void test_multiply_by_multiplier(void) {
  EXPECT_EQ(kws_multiply_by_quantized_multiplier(100, 1 << 30, 0), 50);
  EXPECT_EQ(kws_multiply_by_quantized_multiplier(100, 1 << 30, -1), 25);
  EXPECT_EQ(kws_multiply_by_quantized_multiplier(5, 1 << 30, 0), 3);    /* 2.5 up */
  EXPECT_EQ(kws_multiply_by_quantized_multiplier(-5, 1 << 30, 0), -2);  /* -2.5 up (high mul) */
  EXPECT_EQ(kws_multiply_by_quantized_multiplier(-10, 1 << 30, -1), -3); /* -2.5 away (shift) */
  EXPECT_EQ(kws_multiply_by_quantized_multiplier(3, 1 << 30, 3), 12);   /* left shift: 3 * 4 */
  /* A tie after the high multiply: two roundings give -53, one rounding -52 (exact -52.498). */
  EXPECT_EQ(kws_multiply_by_quantized_multiplier(-15520, 1859607570, -8), -53);
  EXPECT_EQ(kws_multiply_by_quantized_multiplier_single(-15520, 1859607570, -8), -52);
  EXPECT_EQ(kws_multiply_by_quantized_multiplier_single(5, 1 << 30, 0), 3);
  EXPECT_EQ(kws_multiply_by_quantized_multiplier_single(-5, 1 << 30, 0), -2);
  EXPECT_EQ(kws_shift_left_wrapping(0x40000000, 1), INT32_MIN); /* wraps like TFLite's int math */
  EXPECT_EQ(kws_multiply_by_quantized_multiplier_lt1(1 << 20, 1 << 30, -1), 1 << 18);
}

static void test_exp_and_logistic(void) {
  EXPECT_EQ(kws_exp_on_negative_values(0, 5), INT32_MAX);
  const double one_q26 = 67108864.0; /* 2^26 */
  for (int k = 1; k <= 20; k++) {    /* exp(-k/4) within 5e-7 of the real value */
    const int32_t a = -(int32_t)(k * one_q26 / 4);
    const double got = kws_exp_on_negative_values(a, 5) / 2147483648.0;
    EXPECT_TRUE(fabs(got - exp(-k / 4.0)) < 5e-7);
  }
  EXPECT_EQ(kws_logistic_fx(0, 4), 1 << 30);
  const double got = kws_logistic_fx(1 << 27, 4) / 2147483648.0; /* logistic(1.0) */
  EXPECT_TRUE(fabs(got - 1.0 / (1.0 + exp(-1.0))) < 1e-6);
  int bits;
  const int32_t r = kws_reciprocal(3 << 19, 12, &bits); /* 1/3 in Q12.19 -> 0.666 * 2^-1 */
  EXPECT_EQ(bits, 1);
  EXPECT_TRUE(fabs(r / 2147483648.0 - 2.0 / 3.0) < 1e-6);
}

static void test_activation_and_padding(void) {
  kws_tensor_t out = {0};
  out.scale = 0.1f;
  out.zero_point = -10;
  int32_t lo, hi;
  kws_activation_range_int8(KWS_ACT_RELU, &out, &lo, &hi);
  EXPECT_EQ(lo, -10);
  EXPECT_EQ(hi, 127);
  kws_activation_range_int8(KWS_ACT_RELU6, &out, &lo, &hi);
  EXPECT_EQ(lo, -10);
  EXPECT_EQ(hi, 50);
  kws_activation_range_int8(KWS_ACT_RELU_N1_TO_1, &out, &lo, &hi);
  EXPECT_EQ(lo, -20);
  EXPECT_EQ(hi, 0);
  out.scale = 1e-6f; /* RELU6 far beyond int8: clamps to the type's range */
  kws_activation_range_int8(KWS_ACT_RELU6, &out, &lo, &hi);
  EXPECT_EQ(hi, 127);
  EXPECT_EQ(kws_conv_out_size(KWS_PAD_SAME, 5, 3, 2, 1), 3);
  EXPECT_EQ(kws_conv_out_size(KWS_PAD_VALID, 5, 3, 2, 1), 2);
  EXPECT_EQ(kws_conv_out_size(KWS_PAD_VALID, 5, 3, 1, 2), 1); /* dilated window spans 5 */
  EXPECT_EQ(kws_conv_pad_before(5, 3, 2, 1, 3), 1);
  EXPECT_EQ(kws_conv_pad_before(4, 4, 1, 1, 4), 1); /* total 3: 1 before, 2 after */
}

int main(void) {
  RUN_TEST(test_high_mul);
  RUN_TEST(test_rounding_divide);
  RUN_TEST(test_quantize_multiplier);
  RUN_TEST(test_multiply_by_multiplier);
  RUN_TEST(test_scale_ratio_matches_double);
  RUN_TEST(test_exp_and_logistic);
  RUN_TEST(test_activation_and_padding);
  TEST_MAIN_END();
}
