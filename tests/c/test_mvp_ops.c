/* MVP driver + simulator + the MVP mappings of the alexa model's layer shapes, checked against
 * plain C loops (double precision, then round and clamp). binary16 accumulation is not exact, so
 * outputs may differ by one step; the tests bound that and the share of differing outputs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/mvp/mvp_ops.h"
#include "kws_test.h"
#include "kernels/mvp/mvp_mltk_mapping.h"
#include "mvp/mvp_driver.h"
#include "mvp/mvp_fp16.h"
#include "mvp/sim/mvp_sim.h"
#include "mvp_cpu_share_check.h"

static uint32_t rng = 12345u;
static int rnd(int lo, int hi) {
  rng = rng * 1664525u + 1013904223u;
  return lo + (int)((rng >> 8) % (uint32_t)(hi - lo + 1));
}

/* Reference conversion through the C library (slow, obviously right). */
static uint16_t f16_slow(double v) {
  uint16_t sign = signbit(v) ? 0x8000u : 0u;
  double mag = fabs(v);
  if (isnan(v)) return 0x7E00u;
  if (mag >= 65520.0) return (uint16_t)(sign | 0x7C00u);
  if (mag < ldexp(1.0, -14)) return (uint16_t)(sign | (uint16_t)rint(ldexp(mag, 24)));
  int e;
  double m = rint(ldexp(frexp(mag, &e), 11));
  if (m >= 2048.0) m = 1024.0, e++;
  return (uint16_t)(sign | (uint16_t)((e - 1 + 15) << 10) | ((uint16_t)m & 0x3FFu));
}

static void test_fp16_fast_conversions_match_the_slow_ones(void) {
  int bad = 0;
  for (uint32_t h = 0; h < 0x10000u; h++) {
    if ((h & 0x7C00u) == 0x7C00u && (h & 0x3FFu)) continue; /* NaNs */
    double d = mvp_f16_to_double((uint16_t)h);
    if (mvp_f16_from_double(d) != h) bad++;
    /* midpoints and near-midpoints to the next value up */
    double up = mvp_f16_to_double((uint16_t)(h + 1));
    if ((h & 0x7FFFu) < 0x7BFFu && !((h + 1) & 0x8000u) == !(h & 0x8000u)) {
      double mid = (d + up) / 2;
      double probes[3] = {mid, nextafter(mid, 0.0), nextafter(mid, mid * 2 + 1)};
      for (int k = 0; k < 3; k++)
        if (mvp_f16_from_double(probes[k]) != f16_slow(probes[k])) bad++;
    }
  }
  EXPECT_EQ(bad, 0);
}

/* The float path (32-bit integer arithmetic) agrees with the double path on every float of a
 * dense sweep, including each binary16 midpoint and its neighbours. */
static void test_fp16_from_float_matches_double(void) {
  int bad = 0;
  for (uint64_t u = 0; u <= 0xFFFFFFFFull; u += 251) {
    uint32_t b = (uint32_t)u;
    float f;
    memcpy(&f, &b, 4);
    if (f != f) continue;
    if (mvp_f16_from_float(f) != mvp_f16_from_double((double)f)) bad++;
  }
  for (uint32_t h = 0; h < 0x7C00u; h++) {
    double mid = (mvp_f16_to_double((uint16_t)h) + mvp_f16_to_double((uint16_t)(h + 1))) / 2;
    float probes[3] = {(float)mid, nextafterf((float)mid, 0.0f), nextafterf((float)mid, 1e9f)};
    for (int k = 0; k < 3; k++) {
      if (mvp_f16_from_float(probes[k]) != mvp_f16_from_double((double)probes[k])) bad++;
      if (mvp_f16_from_float(-probes[k]) != mvp_f16_from_double(-(double)probes[k])) bad++;
    }
  }
  EXPECT_EQ(bad, 0);
}

static void test_fp16(void) {
  EXPECT_EQ(mvp_f16_from_double(1.0), 0x3C00);
  EXPECT_EQ(mvp_f16_from_double(-2.0), 0xC000);
  EXPECT_EQ(mvp_f16_from_double(65504.0), 0x7BFF);
  EXPECT_EQ(mvp_f16_from_double(65520.0), 0x7C00);
  EXPECT_EQ(mvp_f16_from_double(1.0 + 1.0 / 2048.0), 0x3C00); /* tie to even */
  EXPECT_EQ(mvp_f16_from_double(1.0 + 3.0 / 2048.0), 0x3C02);
  EXPECT_EQ(mvp_f16_from_double(ldexp(1.0, -24)), 0x0001);   /* smallest subnormal */
  EXPECT_TRUE(mvp_f16_to_double(0x0001) == ldexp(1.0, -24));
  for (int i = -255; i <= 255; i++) /* the prescaled inputs are exact */
    EXPECT_TRUE(mvp_f16_to_double(mvp_f16_from_double(i / 32768.0)) == i / 32768.0);
}

/* A hand-written program: out[i] = a[i] * 2 + b[i] over 2x3 int8 values with two loops. */
static void test_program_loops_and_stores(void) {
  static int8_t a[6] = {1, -2, 3, 100, -100, 7};
  static int8_t b[6] = {0, 1, 2, 3, 4, 5};
  static int8_t out[6];
  mvp_program_t p;
  mvp_init();
  mvp_prog_begin(&p);
  EXPECT_EQ(mvp_prog_array(&p, 0, a, MVP_TYPE_INT8, 1, 2, 3, 0, 3, 1), KWS_OK);
  EXPECT_EQ(mvp_prog_array(&p, 1, b, MVP_TYPE_INT8, 1, 2, 3, 0, 3, 1), KWS_OK);
  EXPECT_EQ(mvp_prog_array(&p, 2, out, MVP_TYPE_INT8, 1, 2, 3, 0, 3, 1), KWS_OK);
  mvp_prog_reg(&p, 0, 2.0f, 0.0f);
  mvp_prog_instr(&p, 0, MVP_OP_MACR2A, MVP_ALU(7, 5, 0, 6),
                 MVP_LOAD0(5, 0, MVP_INCR2) | MVP_LOAD1(6, 1, MVP_INCR2) | MVP_STORE(7, 2, MVP_INCR2), 1);
  EXPECT_EQ(mvp_prog_loop(&p, 0, 2, 0, 0, 0, 0), KWS_OK);
  EXPECT_EQ(mvp_prog_loop(&p, 1, 3, 0, 0,
                          MVP_ON_EXIT(0, MVP_INCR1) | MVP_ON_EXIT(1, MVP_INCR1) | MVP_ON_EXIT(2, MVP_INCR1), 0),
            KWS_OK);
  mvp_counters_reset();
  EXPECT_EQ(mvp_run(&p), KWS_OK);
  EXPECT_EQ(mvp_wait(), KWS_OK);
  int8_t want[6] = {2, -3, 8, 127, -128, 19}; /* 203 and -196 saturate */
  for (int i = 0; i < 6; i++) EXPECT_EQ(out[i], want[i]);
  EXPECT_EQ(mvp_counters()->cycles, 6);
  EXPECT_EQ(mvp_counters()->programs, 1);
  EXPECT_TRUE(mvp_counters()->numeric_flags & MVP_IF_STORECONVERTOF);
  /* sizes and strides outside the hardware's fields are refused */
  EXPECT_EQ(mvp_prog_array(&p, 0, a, MVP_TYPE_INT8, 1025, 1, 1, 0, 0, 1), KWS_ERR_ARG);
  EXPECT_EQ(mvp_prog_array(&p, 0, a, MVP_TYPE_INT8, 1, 1, 1, 0, 2048, 1), KWS_ERR_ARG);
  EXPECT_EQ(mvp_prog_loop(&p, 0, 1025, 0, 0, 0, 0), KWS_ERR_ARG);
}

static void test_misaligned_binary16_faults(void) {
  static uint16_t buf[4];
  mvp_program_t p;
  mvp_prog_begin(&p);
  EXPECT_EQ(mvp_prog_array(&p, 0, (uint8_t *)buf + 1, MVP_TYPE_BINARY16, 1, 1, 2, 0, 0, 1), KWS_ERR_ARG);
}

/* Plain C reference of a column convolution (width 1) or depthwise. */
static void conv_ref(const mvp_conv_args_t *a, int8_t *out, double *out_real) {
  for (int oy = 0; oy < a->out_h; oy++)
    for (int o = 0; o < a->out_c; o++) {
      double acc = a->bias ? a->bias[o] : 0.0;
      for (int t = 0; t < a->f_h; t++) {
        int iy = oy * a->stride_h - a->pad_top + t;
        if (iy < 0 || iy >= a->in_h) continue;
        if (a->depthwise) {
          acc += (double)(a->input[iy * a->in_c + o] - a->in_zp) * a->filter[t * a->in_c + o];
        } else {
          for (int i = 0; i < a->in_c; i++)
            acc += (double)(a->input[iy * a->in_c + i] - a->in_zp) *
                   a->filter[(o * a->f_h + t) * a->in_c + i];
        }
      }
      double v = acc * a->eff_scale[o] + a->out_zp;
      out_real[oy * a->out_c + o] = v;
      v = round(v);
      if (v < a->act_min) v = a->act_min;
      if (v > a->act_max) v = a->act_max;
      out[oy * a->out_c + o] = (int8_t)v;
    }
}

typedef struct {
  int in_h, in_c, out_c, f_h, stride, pad, depthwise, act_min;
  double mltk_cycles; /* MLTK 0.20 simulator, alexa layer of this shape (0: none) */
} shape_t;

static int8_t input[118 * 108], filter[96 * 3 * 108], out_mvp[118 * 96], out_ref[118 * 96],
    out_mltk[118 * 96];
static int32_t bias[96];
static float eff[96];
static double real[118 * 96];
static uint32_t consts[96 * 2];
static uint32_t scratch[118 * 108 / 2 + 4];

static void run_shape(const shape_t *s) {
  int out_h = s->pad ? (s->in_h + s->stride - 1) / s->stride : (s->in_h - s->f_h) / s->stride + 1;
  mvp_conv_args_t a = {s->in_h, 1, s->in_c, out_h, 1, s->out_c, s->f_h, 1, s->stride, 1,
                       s->pad, 0, s->depthwise, rnd(-20, 20), -128 + rnd(0, 40), s->act_min, 127,
                       input, filter, bias, eff, out_mvp, 0, NULL, NULL, NULL};
  for (int i = 0; i < s->in_h * s->in_c; i++) input[i] = (int8_t)rnd(-128, 127);
  int nw = s->depthwise ? s->f_h * s->in_c : s->out_c * s->f_h * s->in_c;
  for (int i = 0; i < nw; i++) filter[i] = (int8_t)rnd(-127, 127);
  for (int o = 0; o < s->out_c; o++) {
    bias[o] = rnd(-20000, 20000);
    double fan = s->depthwise ? s->f_h : s->f_h * s->in_c;
    eff[o] = (float)(rnd(50, 150) / 100.0 * 3.0 / (128.0 * 127.0 * sqrt(fan)) * 60.0);
  }
  conv_ref(&a, out_ref, real);
  EXPECT_EQ(mvp_conv_check(&a), KWS_OK);
  EXPECT_EQ(mvp_conv_prepare(&a, consts, sizeof(consts)), KWS_OK);
  mvp_counters_reset();
  EXPECT_EQ(mvp_conv_run(&a, consts, scratch, 1), KWS_OK);
  double ours = (double)mvp_counters()->cycles;
  int n = out_h * s->out_c, diff = 0, maxd = 0, near_tie = 0;
  for (int i = 0; i < n; i++) {
    int d = abs(out_mvp[i] - out_ref[i]);
    if (d) diff++;
    if (d > maxd) maxd = d;
    if (fabs(real[i] - floor(real[i]) - 0.5) < 0.1) near_tie++;
  }
  EXPECT_TRUE(maxd <= 1);
  EXPECT_TRUE(diff <= near_tie + n / 50); /* differences come from values close to a rounding tie */
  /* MLTK's mapping on the same simulator: same numbers within one step, cycles as measured */
  a.output = out_mltk;
  if (s->depthwise) {
    for (int o = 0; o < s->out_c; o++) {
      ((uint16_t *)consts)[o] = mvp_f16_from_double(bias[o] / 32768.0);
      ((uint16_t *)consts)[s->out_c + o] = mvp_f16_from_double(eff[o] * 32768.0);
    }
  } else {
    mltk_conv_prepare(&a, (uint16_t *)consts);
  }
  mvp_counters_reset();
  EXPECT_EQ(mltk_conv_run(&a, (const uint16_t *)consts, scratch), KWS_OK);
  double theirs = (double)mvp_counters()->cycles;
  int maxd2 = 0;
  for (int i = 0; i < n; i++) {
    int d = abs(out_mltk[i] - out_ref[i]);
    if (d > maxd2) maxd2 = d;
  }
  EXPECT_TRUE(maxd2 <= 1);
  if (maxd2 > 1) printf("  MLTK mapping max diff %d\n", maxd2);
  if (s->mltk_cycles > 0) EXPECT_TRUE(fabs(theirs - s->mltk_cycles) / s->mltk_cycles < 0.01);
  printf("  %s in %dx%d f%d s%d -> %dx%d: ours %.0f cycles, MLTK mapping %.0f (MLTK sim %.0f); "
         "max diff %d, %d/%d differ\n",
         s->depthwise ? "dw  " : "conv", s->in_h, s->in_c, s->f_h, s->stride, out_h, s->out_c, ours,
         theirs, s->mltk_cycles, maxd, diff, n);
}

static void test_alexa_layer_shapes(void) {
  static const shape_t shapes[] = {
      {118, 108, 32, 3, 1, 1, 0, -128, 629800},
      {118, 32, 96, 1, 1, 0, 0, -128, 228500},
      {118, 96, 96, 9, 2, 3, 1, -128, 83500},
      {59, 96, 32, 1, 1, 0, 0, -128, 101000},
      {118, 32, 32, 1, 2, 0, 0, -128, 39700},
      {59, 96, 96, 9, 1, 4, 1, -128, 82100},
      {15, 96, 96, 9, 1, 4, 1, -100, 0},  /* clamped activation */
      {15, 32, 96, 1, 1, 0, 0, -90, 0},    /* clamped activation */
  };
  for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) run_shape(&shapes[i]);
}

static void test_add(void) {
  static int8_t x1[1888], x2[1888], out[1888], out2[1888];
  for (int i = 0; i < 1888; i++) {
    x1[i] = (int8_t)rnd(-128, 127);
    x2[i] = (int8_t)rnd(-128, 127);
  }
  mvp_add_args_t a = {1888, -5, 12, -128, -128, 127, 0.61f, 0.83f, x1, x2, out};
  mvp_counters_reset();
  EXPECT_EQ(mvp_add_run(&a, 1), KWS_OK);
  EXPECT_EQ(mvp_counters()->cycles, 1888); /* two cycles per pair */
  int maxd = 0;
  for (int i = 0; i < 1888; i++) {
    double v = round((x1[i] - a.zp1) * a.m1 + (x2[i] - a.zp2) * a.m2 + a.out_zp);
    v = v < -128 ? -128 : (v > 127 ? 127 : v);
    int d = abs((int)v - out[i]);
    if (d > maxd) maxd = d;
  }
  EXPECT_TRUE(maxd <= 1);
  /* a fused activation that is not the whole int8 range: a clip instruction per pair */
  a.act_min = -100;
  a.act_max = 90;
  EXPECT_EQ(mvp_add_run(&a, 1), KWS_OK);
  int maxc = 0;
  for (int i = 0; i < 1888; i++) {
    double v = round((x1[i] - a.zp1) * a.m1 + (x2[i] - a.zp2) * a.m2 + a.out_zp);
    v = v < -100 ? -100 : (v > 90 ? 90 : v);
    if (abs((int)v - out[i]) > maxc) maxc = abs((int)v - out[i]);
    EXPECT_TRUE(out[i] >= -100 && out[i] <= 90);
  }
  EXPECT_TRUE(maxc <= 1);
  a.act_min = -128;
  a.act_max = 127;
  EXPECT_EQ(mvp_add_run(&a, 1), KWS_OK);
  a.output = out2;
  mvp_counters_reset();
  EXPECT_EQ(mltk_add_run(&a), KWS_OK);
  EXPECT_TRUE(fabs((double)mvp_counters()->cycles - 4700.0) < 50.0); /* MLTK sim: 4.7k */
  int maxd2 = 0;
  for (int i = 0; i < 1888; i++)
    if (abs(out2[i] - out[i]) > maxd2) maxd2 = abs(out2[i] - out[i]);
  EXPECT_TRUE(maxd2 <= 1);
}

/* The CPU's output channels of a split convolution are bit-exact (TFLite's int8 arithmetic). */
static void test_cpu_share_is_bit_exact(void) { EXPECT_EQ(mvp_cpu_share_check(), 0); }

int main(void) {
  RUN_TEST(test_fp16);
  RUN_TEST(test_fp16_fast_conversions_match_the_slow_ones);
  RUN_TEST(test_fp16_from_float_matches_double);
  RUN_TEST(test_program_loops_and_stores);
  RUN_TEST(test_misaligned_binary16_faults);
  RUN_TEST(test_alexa_layer_shapes);
  RUN_TEST(test_add);
  RUN_TEST(test_cpu_share_is_bit_exact);
  TEST_MAIN_END();
}
