/* Runs on QEMU mps2-an505 (Cortex-M33): the DSP-extension dot products (kernels/arm/) against
 * the portable loops on pseudo-random vectors of every length 0..67 and every alignment, then
 * the integer per-channel multiplier computation against software doubles, then a pointwise and
 * 3x1 CONV_2D through the kernel (which uses both on this target) against plain reference
 * loops. Exit code = number of failures. */
#include <stdint.h>
#include <string.h>

#include "kernels/dot.h"
#include "kernels/fixed_point.h"
#include "kernels/kernel_util.h"
#include "kernels/reference_kernels.h"
#include "platform/platform.h"

static uint32_t rng_state = 12345u;
static int8_t rand8(void) {
  rng_state = rng_state * 1664525u + 1013904223u;
  return (int8_t)(rng_state >> 24);
}

static int failures = 0;
static void say(const char *s) { platform_serial_write((const uint8_t *)s, strlen(s)); }
static void check(int ok, const char *what) {
  if (!ok) {
    failures++;
    say("FAIL ");
    say(what);
    say("\r\n");
  }
}

static void test_dots(void) {
  static int8_t a[80], b[4][80];
  for (int n = 0; n < 68; n++) {
    for (int off = 0; off < 4; off++) {
      for (int i = 0; i < 80; i++) {
        a[i] = rand8();
        for (int r = 0; r < 4; r++) b[r][i] = rand8();
      }
      if (n == 67) memset(a, -128, sizeof a), memset(b, -128, sizeof b); /* extremes */
      check(kws_dot_s8_dsp(a + off, b[0] + off, n) == kws_dot_s8_portable(a + off, b[0] + off, n), "dot");
      check(kws_sum_s8_dsp(a + off, n) == kws_sum_s8_portable(a + off, n), "sum");
      int32_t d[4], p[4];
      kws_dot4_s8_dsp(a + off, b[0] + off, b[1] + off, b[2] + off, b[3] + off, n, d);
      kws_dot4_s8_portable(a + off, b[0] + off, b[1] + off, b[2] + off, b[3] + off, n, p);
      check(memcmp(d, p, sizeof d) == 0, "dot4");
    }
  }
}

static kws_tensor_t t4(void *data, int h, int w, int c, float scale, int32_t zp) {
  kws_tensor_t t;
  memset(&t, 0, sizeof t);
  t.type = KWS_TYPE_INT8;
  t.rank = 4;
  t.dims[0] = 1;
  t.dims[1] = h;
  t.dims[2] = w;
  t.dims[3] = c;
  t.data = data;
  t.bytes = (size_t)(h * w * c);
  t.scale = scale;
  t.zero_point = zp;
  return t;
}

/* CONV_2D of an H x 1 x C input with a KH x 1 filter, SAME padding, against direct loops. */
static void test_conv(int h, int c, int oc, int kh) {
  static int8_t in[40 * 40], w[40 * 3 * 40], out[40 * 40];
  static int32_t bias[40], scratch[200], op_data[64];
  static float scales[40];
  for (int i = 0; i < h * c; i++) in[i] = rand8();
  for (int i = 0; i < oc * kh * c; i++) w[i] = rand8();
  for (int i = 0; i < oc; i++) bias[i] = rand8() * 37, scales[i] = 0.001f * (float)(1 + i % 7);
  kws_tensor_t ti = t4(in, h, 1, c, 0.05f, -7), tw = t4(w, kh, 1, c, 1.0f, 0), to = t4(out, h, 1, oc, 0.02f, 3);
  tw.dims[0] = oc;
  tw.channel_scales = scales;
  tw.n_channel_scales = oc;
  kws_tensor_t tb;
  memset(&tb, 0, sizeof tb);
  tb.type = KWS_TYPE_INT32;
  tb.rank = 1;
  tb.dims[0] = oc;
  tb.data = bias;
  kws_op_context_t ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.builtin_code = KWS_OP_CONV_2D;
  ctx.n_inputs = 3;
  ctx.n_outputs = 1;
  ctx.inputs[0] = &ti;
  ctx.inputs[1] = &tw;
  ctx.inputs[2] = &tb;
  ctx.outputs[0] = &to;
  ctx.params.conv.padding = KWS_PAD_SAME;
  ctx.params.conv.stride_h = ctx.params.conv.stride_w = 1;
  ctx.params.conv.dilation_h = ctx.params.conv.dilation_w = 1;
  ctx.scratch = scratch;
  ctx.op_data = op_data;
  check(kws_kernel_conv_2d.op_data_size(&ctx) <= sizeof op_data, "conv op data");
  check(kws_kernel_conv_2d.scratch_size(&ctx) <= sizeof scratch, "conv scratch");
  check(kws_kernel_conv_2d.prepare(&ctx) == KWS_OK, "conv prepare");
  check(kws_kernel_conv_2d.invoke(&ctx) == KWS_OK, "conv invoke");
  const int pad = (kh - 1) / 2;
  for (int y = 0; y < h; y++)
    for (int o = 0; o < oc; o++) {
      int32_t acc = bias[o];
      for (int k = 0; k < kh; k++) {
        const int iy = y - pad + k;
        if (iy < 0 || iy >= h) continue;
        for (int i = 0; i < c; i++) acc += (in[iy * c + i] + 7) * w[(o * kh + k) * c + i];
      }
      int32_t m;
      int s;
      kws_quantize_multiplier((double)0.05f * (double)scales[o] / (double)0.02f, &m, &s);
      const int32_t v = kws_clamp_i32(kws_multiply_by_quantized_multiplier(acc, m, s) + 3, -128, 127);
      check(out[y * oc + o] == v, "conv output");
    }
}

/* The integer multiplier computation the kernels use here equals the (software) double one. */
static void test_scale_ratio(void) {
  for (int i = 0; i < 3000; i++) {
    union {
      uint32_t u;
      float f;
    } a, b, c;
    a.u = ((uint32_t)rand8() << 24 | (uint32_t)(uint8_t)rand8() << 16 | (uint32_t)(uint8_t)rand8() << 8) & 0x3f7fff00u;
    b.u = 0x3a000000u | ((uint32_t)(uint8_t)rand8() << 12);
    c.u = 0x3c000000u | ((uint32_t)(uint8_t)rand8() << 10) | (uint32_t)(uint8_t)rand8();
    if (!(a.f > 0)) a.f = 0.5f;
    int32_t m1, m2;
    int s1, s2;
    kws_quantize_multiplier((double)a.f * (double)b.f / (double)c.f, &m1, &s1);
    kws_quantize_scale_ratio(a.f, b.f, c.f, &m2, &s2);
    check(m1 == m2 && s1 == s2, "scale ratio");
  }
}

int main(void) {
  platform_init();
  test_dots();
  test_scale_ratio();
  test_conv(37, 32, 13, 1);
  test_conv(29, 19, 8, 3);
  test_conv(5, 3, 5, 3);
  say(failures ? "KWS-TEST FAIL\r\n" : "KWS-TEST PASS\r\n");
  return failures;
}
