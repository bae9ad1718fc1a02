/* The CPU's share of an MVP convolution (mvp_conv_args_t.cpu_out_c) is TFLite's int8 arithmetic:
 * its output channels must equal, bit for bit, a plain int32 reference (sum of (x - zp) * w plus
 * bias, the two-rounding requantization, clamp). Used by tests/c/test_mvp_ops.c on the host and by
 * bench/mvp/m33 on QEMU's Cortex-M33 (where the CPU share runs its SXTB16/SMLAD loop).
 * mvp_cpu_share_check() returns the number of mismatching outputs over a few shapes. */
#ifndef KWS_TESTS_MVP_CPU_SHARE_CHECK_H
#define KWS_TESTS_MVP_CPU_SHARE_CHECK_H

#include <stdint.h>

#include "kernels/fixed_point.h"
#include "kernels/mvp/mvp_ops.h"

static uint32_t mvp_check_rng = 777u;
static int mvp_check_rnd(int lo, int hi) {
  mvp_check_rng = mvp_check_rng * 1664525u + 1013904223u;
  return lo + (int)((mvp_check_rng >> 8) % (uint32_t)(hi - lo + 1));
}

static int mvp_cpu_share_check_shape(int in_h, int in_c, int out_c, int f_h, int stride, int pad,
                                     int cpu_c, int act_min) {
  static int8_t x[40 * 108], w[32 * 3 * 108], out[40 * 32];
  static int32_t bias[32], mult[32], shift[32], wsum[32];
  static float eff[32];
  static uint32_t consts[32 * 2], scratch[40 * 108 / 2 + 4];
  const int out_h = pad ? (in_h + stride - 1) / stride : (in_h - f_h) / stride + 1;
  mvp_conv_args_t a = {in_h, 1, in_c, out_h, 1, out_c, f_h, 1, stride, 1, pad, 0, 0,
                       mvp_check_rnd(-128, -100), mvp_check_rnd(-20, 20), act_min, 127,
                       x, w, bias, eff, out, cpu_c, mult, shift, wsum};
  for (int i = 0; i < in_h * in_c; i++) x[i] = (int8_t)mvp_check_rnd(-128, 127);
  for (int i = 0; i < out_c * f_h * in_c; i++) w[i] = (int8_t)mvp_check_rnd(-127, 127);
  const int o0 = out_c - cpu_c;
  for (int o = 0; o < out_c; o++) {
    bias[o] = mvp_check_rnd(-20000, 20000);
    eff[o] = (float)(mvp_check_rnd(50, 150) / 100.0 * 0.02 / (f_h * in_c));
    if (o >= o0) {
      wsum[o - o0] = 0;
      for (int i = 0; i < f_h * in_c; i++) wsum[o - o0] += w[o * f_h * in_c + i];
      int sh;
      kws_quantize_multiplier((double)eff[o], &mult[o - o0], &sh);
      shift[o - o0] = sh;
    }
  }
  int bad = 0;
  if (mvp_conv_check(&a) != KWS_OK || mvp_conv_prepare(&a, consts, sizeof consts) != KWS_OK ||
      mvp_conv_run(&a, consts, scratch, 1) != KWS_OK)
    return 1000;
  for (int oy = 0; oy < out_h; oy++)
    for (int o = o0; o < out_c; o++) {
      int32_t acc = bias[o];
      for (int t = 0; t < f_h; t++) {
        const int iy = oy * stride - pad + t;
        if (iy < 0 || iy >= in_h) continue;
        for (int i = 0; i < in_c; i++)
          acc += (x[iy * in_c + i] - a.in_zp) * w[(o * f_h + t) * in_c + i];
      }
      int32_t v = kws_multiply_by_quantized_multiplier(acc, mult[o - o0], shift[o - o0]) + a.out_zp;
      v = v < act_min ? act_min : (v > 127 ? 127 : v);
      if (out[oy * out_c + o] != (int8_t)v) bad++;
    }
  return bad;
}

/* mvp_requant against kws_multiply_by_quantized_multiplier: every shift -31..31, multipliers
 * 0 and across [2^30, 2^31), x random, at the extremes and near rounding ties. */
static int mvp_requant_check(void) {
  int bad = 0;
  for (int shift = -31; shift <= 31; shift++) {
    const int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    for (int t = 0; t < 600; t++) {
      int32_t m = t == 0 ? 0 : (int32_t)(0x40000000u + (uint32_t)mvp_check_rnd(0, 0x3FFFFFFF));
      if (t == 1) m = 0x7FFFFFFF;
      if (t == 2) m = 0x40000000;
      int32_t x;
      switch (t % 6) {
        case 0: x = INT32_MIN + mvp_check_rnd(0, 3); break;
        case 1: x = INT32_MAX - mvp_check_rnd(0, 3); break;
        case 2: x = mvp_check_rnd(-70000, 70000); break;
        case 3: x = (int32_t)((uint32_t)mvp_check_rnd(0, 0xFFFFFF) << 8) ^ mvp_check_rnd(0, 255); break;
        case 4: /* near ties of the final rounding */
          x = mvp_check_rnd(-5000, 5000) * (1 << (right < 18 ? right : 18)) + (right ? (1 << (right - 1)) : 0);
          break;
        default: x = mvp_check_rnd(-3, 3); break;
      }
      if (mvp_requant(x, m, left, right) != kws_multiply_by_quantized_multiplier(x, m, shift)) bad++;
    }
  }
  return bad;
}

static int mvp_cpu_share_check(void) {
  int bad = mvp_requant_check();
  bad += mvp_cpu_share_check_shape(40, 108, 32, 3, 1, 1, 6, -128); /* clipped edges, odd tail */
  bad += mvp_cpu_share_check_shape(39, 32, 32, 1, 1, 0, 10, -128); /* pointwise, odd rows */
  bad += mvp_cpu_share_check_shape(40, 96, 32, 1, 1, 0, 8, -100);  /* clamped activation */
  bad += mvp_cpu_share_check_shape(39, 32, 32, 1, 2, 0, 4, -128);  /* stride 2 */
  bad += mvp_cpu_share_check_shape(37, 30, 32, 1, 1, 0, 12, -128); /* in_c not a multiple of 4 */
  return bad;
}

#endif
