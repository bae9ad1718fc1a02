#include "kernels/mvp/mvp_ops.h"

#include <math.h>
#include <string.h>

#include "kernels/dot.h"
#include "kernels/fixed_point.h"
#include "mvp/mvp_driver.h"
#include "mvp/mvp_fp16.h"

#define ZERO_A MVP_AMOD(MVP_MOD_REALZERO | MVP_MOD_IMAGZERO)
#define CHECK(expr)                    \
  do {                                 \
    kws_status_t st_ = (expr);         \
    if (st_ != KWS_OK) return st_;     \
  } while (0)

/* Two program buffers: the CPU fills one while the MVP runs the other. */
static mvp_program_t programs[2];
static int next_program;

static mvp_program_t *program_begin(void) {
  mvp_program_t *p = &programs[next_program];
  next_program ^= 1;
  mvp_prog_begin(p);
  return p;
}

static int aligned(const void *p, uintptr_t n) { return ((uintptr_t)p & (n - 1u)) == 0; }

/* Column view of a convolution: width 1 with the filter sliding along the height, or a 1x1
 * stride-1 convolution over H*W positions treated as one column. */
typedef struct {
  int in_h, out_h, c_in, c_out, f_h, stride, pad;
} column_t;

static int as_column(const mvp_conv_args_t *a, column_t *col) {
  if (a->in_w == 1 && a->out_w == 1 && a->f_w == 1) {
    *col = (column_t){a->in_h, a->out_h, a->in_c, a->out_c, a->f_h, a->stride_h, a->pad_top};
    return 1;
  }
  if (a->f_h == 1 && a->f_w == 1 && a->stride_h == 1 && a->stride_w == 1 && a->pad_top == 0 &&
      a->pad_left == 0 && a->in_h == a->out_h && a->in_w == a->out_w) {
    *col = (column_t){a->in_h * a->in_w, a->out_h * a->out_w, a->in_c, a->out_c, 1, 1, 0};
    return 1;
  }
  return 0;
}

static int act_is_full(int32_t lo, int32_t hi) { return lo <= -128 && hi >= 127; }

kws_status_t mvp_conv_check(const mvp_conv_args_t *a) {
  column_t c;
  if (!as_column(a, &c)) return KWS_ERR_UNSUPPORTED;
  if ((c.c_in & 1) || (c.c_out & 1) || c.c_in / 2 > MVP_MAX_DIM_SIZE) return KWS_ERR_UNSUPPORTED;
  if (c.in_h > MVP_MAX_DIM_SIZE || c.out_h > MVP_MAX_DIM_SIZE * 64) return KWS_ERR_UNSUPPORTED;
  if (!aligned(a->input, 2) || !aligned(a->filter, 2) || !aligned(a->output, 2))
    return KWS_ERR_UNSUPPORTED;
  if (a->cpu_out_c && (a->depthwise || (a->cpu_out_c & 1) || a->cpu_out_c < 0 ||
                       a->cpu_out_c > c.c_out - 2 || !a->cpu_mult || !a->cpu_shift ||
                       !a->cpu_wsum))
    return KWS_ERR_UNSUPPORTED;
  if (a->depthwise) {
    if (c.c_in != c.c_out || c.c_in / 2 > MVP_MAX_DIM_SIZE) return KWS_ERR_UNSUPPORTED;
    if ((long)c.stride * c.c_in / 2 > MVP_MAX_STRIDE) return KWS_ERR_UNSUPPORTED;
  } else {
    if ((long)c.f_h * c.c_in / 2 > MVP_MAX_DIM_SIZE) return KWS_ERR_UNSUPPORTED;
    if ((long)c.f_h * c.c_in > MVP_MAX_STRIDE || c.c_out / 2 > MVP_MAX_DIM_SIZE ||
        (long)c.stride * c.c_in / 2 > MVP_MAX_STRIDE || c.c_out > MVP_MAX_STRIDE)
      return KWS_ERR_UNSUPPORTED;
  }
  return KWS_OK;
}

int mvp_conv_scale_ok(float eff) { return fabsf(eff) * 32768.0f < (float)MVP_F16_MAX; }

size_t mvp_conv_const_bytes(const mvp_conv_args_t *a) {
  /* pointwise: per output pair 4 complex values; depthwise: per channel pair 2 complex values */
  return a->depthwise ? (size_t)a->out_c * 4u : (size_t)a->out_c * 8u;
}

/* Depthwise: rows of zeros above and below the binary16 input, so every window is whole and
 * one program covers the layer (clipped windows would each need their own, short, program
 * whose building costs the CPU more than the MVP saves). */
static void dw_zero_rows(const mvp_conv_args_t *a, int *top, int *bottom) {
  *top = *bottom = 0;
  if (!a->depthwise || a->in_w != 1 || a->out_w != 1) return;
  *top = a->pad_top;
  const int need = (a->out_h - 1) * a->stride_h + a->f_h - a->in_h - a->pad_top;
  *bottom = need > 0 ? need : 0;
}

size_t mvp_conv_scratch_bytes(const mvp_conv_args_t *a) {
  int top, bottom;
  dw_zero_rows(a, &top, &bottom);
  const size_t rows = (size_t)a->in_h * (size_t)a->in_w + (size_t)(top + bottom);
  return (rows * (size_t)a->in_c * 2u + 3u) & ~(size_t)3u;
}

void mvp_conv_const_channel(const mvp_conv_args_t *a, int o, float eff, int32_t bias, void *consts) {
  uint16_t *k = (uint16_t *)consts;
  float s = eff * 32768.0f; /* undoes the 2^-15 input scaling */
  float cst = (float)bias * eff + (float)a->out_zp;
  if (a->depthwise) { /* S pairs, then C pairs */
    k[o] = mvp_f16_from_float(s);
    k[a->out_c + o] = mvp_f16_from_float(cst);
  } else { /* per output pair: (Sa,-Sa) (Ca,0) (Sb,-Sb) (Cb,0) */
    uint16_t *q = k + (o / 2) * 8 + (o & 1) * 4;
    q[0] = mvp_f16_from_float(s);
    q[1] = mvp_f16_from_float(-s);
    q[2] = mvp_f16_from_float(cst);
    q[3] = 0;
  }
}

kws_status_t mvp_conv_prepare(const mvp_conv_args_t *a, void *consts, size_t const_bytes) {
  if (const_bytes < mvp_conv_const_bytes(a) || !aligned(consts, 4)) return KWS_ERR_NO_MEMORY;
  for (int o = 0; o < a->out_c; o++)
    if (!mvp_conv_scale_ok(a->eff_scale[o])) return KWS_ERR_UNSUPPORTED;
  for (int o = 0; o < a->out_c; o++)
    mvp_conv_const_channel(a, o, a->eff_scale[o], a->bias ? a->bias[o] : 0, consts);
  return KWS_OK;
}

static kws_status_t prescale_build(const int8_t *in, int rows, int cols, int32_t zp, uint16_t *out,
                                   mvp_program_t **built) {
  mvp_program_t *p = program_begin();
  CHECK(mvp_prog_array(p, 0, in, MVP_TYPE_CINT8, 1, rows, cols, 0, cols, 1));
  CHECK(mvp_prog_array(p, 1, out, MVP_TYPE_CBINARY16, 1, rows, cols, 0, cols, 1));
  mvp_prog_reg(p, 0, MVP_ACC_SCALE, MVP_ACC_SCALE);
  mvp_prog_reg(p, 1, (float)-zp * MVP_ACC_SCALE, (float)-zp * MVP_ACC_SCALE);
  mvp_prog_instr(p, 0, MVP_OP_MACR2A, MVP_ALU(6, 5, 0, 1),
                 MVP_LOAD0(5, 0, MVP_INCR2) | MVP_STORE(6, 1, MVP_INCR2), 1);
  CHECK(mvp_prog_loop(p, 0, rows, 0, 0, 0, 0));
  CHECK(mvp_prog_loop(p, 1, cols, 0, 0, MVP_ON_EXIT(0, MVP_INCR1) | MVP_ON_EXIT(1, MVP_INCR1), 0));
  *built = p;
  return KWS_OK;
}

kws_status_t mvp_prescale_run(const int8_t *in, int rows, int cols, int32_t zp, uint16_t *out) {
  mvp_program_t *p;
  CHECK(prescale_build(in, rows, cols, zp, out, &p));
  return mvp_run(p);
}

/* Clamps n (even) int8 values in place to [lo, hi]: one instruction per pair. */
static kws_status_t clamp_run(int8_t *data, int n, int32_t lo, int32_t hi) {
  int pairs = n / 2;
  while (pairs > 0) {
    int cols = pairs < MVP_MAX_DIM_SIZE ? pairs : MVP_MAX_DIM_SIZE;
    int rows = pairs / cols;
    if (rows > MVP_MAX_DIM_SIZE) rows = MVP_MAX_DIM_SIZE;
    mvp_program_t *p = program_begin();
    CHECK(mvp_prog_array(p, 0, data, MVP_TYPE_CINT8, 1, rows, cols, 0, cols, 1));
    CHECK(mvp_prog_array(p, 1, data, MVP_TYPE_CINT8, 1, rows, cols, 0, cols, 1));
    mvp_prog_reg(p, 2, (float)lo, (float)lo);
    mvp_prog_reg(p, 3, (float)hi, (float)hi);
    mvp_prog_instr(p, 0, MVP_OP_CLIP2A, MVP_ALU(7, 2, 3, 6),
                   MVP_LOAD0(6, 0, MVP_INCR2) | MVP_STORE(7, 1, MVP_INCR2), 1);
    CHECK(mvp_prog_loop(p, 0, rows, 0, 0, 0, 0));
    CHECK(mvp_prog_loop(p, 1, cols, 0, 0, MVP_ON_EXIT(0, MVP_INCR1) | MVP_ON_EXIT(1, MVP_INCR1), 0));
    CHECK(mvp_run(p));
    data += 2 * rows * cols;
    pairs -= rows * cols;
  }
  return KWS_OK;
}

/* Pointwise / 1-D convolution for outputs oy0..oy0+n-1 whose window uses filter rows
 * fy0..fy1-1. Loops: output pairs > outputs > (taps of A) + (taps of B). */
static kws_status_t conv_program(const mvp_conv_args_t *a, const column_t *c, const uint16_t *k,
                                 const uint16_t *x16, int oy0, int n, int fy0, int fy1,
                                 mvp_program_t **built) {
  const int taps = (fy1 - fy0) * c->c_in / 2; /* packed pairs per output */
  const int in_row0 = oy0 * c->stride - c->pad + fy0;
  const int pairs_out = (c->c_out - a->cpu_out_c) / 2;
  const int filter_len = c->f_h * c->c_in; /* int8 per output channel */
  mvp_program_t *p = program_begin();
  CHECK(mvp_prog_array(p, 0, x16 + (long)in_row0 * c->c_in, MVP_TYPE_CBINARY16, n,
                       1, taps, c->stride * c->c_in / 2, 0, 1));
  CHECK(mvp_prog_array(p, 1, a->filter + fy0 * c->c_in, MVP_TYPE_CINT8, pairs_out, 1, taps,
                       filter_len, 0, 1));
  CHECK(mvp_prog_array(p, 2, a->filter + filter_len + fy0 * c->c_in, MVP_TYPE_CINT8, pairs_out,
                       1, taps, filter_len, 0, 1));
  CHECK(mvp_prog_array(p, 3, k, MVP_TYPE_CBINARY16, 1, 1, 4 * pairs_out, 0, 0, 1));
  CHECK(mvp_prog_array(p, 4, a->output + (long)oy0 * c->c_out, MVP_TYPE_INT8, pairs_out, n, 2,
                       2, c->c_out, 1));
  int s = 0;
  mvp_prog_instr(p, s++, MVP_OP_NOOP, 0, MVP_LOAD0(0, 3, MVP_INCR2) | MVP_LOAD1(1, 3, MVP_INCR2), 0);
  mvp_prog_instr(p, s++, MVP_OP_NOOP, 0, MVP_LOAD0(2, 3, MVP_INCR2) | MVP_LOAD1(3, 3, MVP_INCR2), 0);
  const int first = s;
  /* output A: acc R5 = sum(x * w) over the window, first tap starting from zero */
  mvp_prog_instr(p, s++, MVP_OP_MACR2A, MVP_ALU(5, 6, 7, 5) | ZERO_A,
                 MVP_LOAD0(6, 0, MVP_INCR2) | MVP_LOAD1(7, 1, MVP_INCR2), 0);
  if (taps > 1) {
    mvp_prog_instr(p, s, MVP_OP_MACR2A, MVP_ALU(5, 6, 7, 5),
                   MVP_LOAD0(6, 0, MVP_INCR2) | MVP_LOAD1(7, 1, MVP_INCR2), 0);
    CHECK(mvp_prog_loop(p, 2, taps - 1, s, s, 0, MVP_ON_EXIT(0, MVP_INCR2) | MVP_ON_EXIT(1, MVP_INCR2)));
    s++;
  }
  /* output B (next channel): same window, second filter array, accumulator R4 */
  uint32_t last_in = taps > 1 ? MVP_INCR2 : MVP_INCR0;
  mvp_prog_instr(p, s++, MVP_OP_MACR2A, MVP_ALU(4, 6, 7, 4) | ZERO_A,
                 MVP_LOAD0(6, 0, last_in) | MVP_LOAD1(7, 2, MVP_INCR2), 0);
  if (taps > 1) {
    mvp_prog_instr(p, s, MVP_OP_MACR2A, MVP_ALU(4, 6, 7, 4),
                   MVP_LOAD0(6, 0, MVP_INCR2) | MVP_LOAD1(7, 2, MVP_INCR2), 0);
    CHECK(mvp_prog_loop(p, 3, taps - 1, s, s, MVP_ON_EXIT(0, MVP_INCR0), MVP_ON_EXIT(2, MVP_INCR2)));
    s++;
  }
  /* requantize: re*S - im*(-S) + C folds the two lanes; stores go to int8 */
  mvp_prog_instr(p, s++, MVP_OP_MACC, MVP_ALU(7, 5, 0, 1), MVP_STORE(7, 4, MVP_INCR2), 0);
  mvp_prog_instr(p, s, MVP_OP_MACC, MVP_ALU(7, 4, 2, 3), MVP_STORE(7, 4, MVP_INCR1 | MVP_INCR2), 1);
  CHECK(mvp_prog_loop(p, 0, pairs_out, 0, s, 0, 0));
  CHECK(mvp_prog_loop(p, 1, n, first, s,
                      MVP_ON_EXIT(1, MVP_INCR0) | MVP_ON_EXIT(2, MVP_INCR0) | MVP_ON_EXIT(4, MVP_INCR0),
                      MVP_ON_EXIT(0, MVP_INCR0)));
  if (taps == 1) {
    /* no tap loops: the A pass must not move the input, the B pass moves to the next output */
    p->w[MVP_P_INSTR(first, 1)] = MVP_LOAD0(6, 0, 0) | MVP_LOAD1(7, 1, 0);
    p->w[MVP_P_INSTR(first + 1, 1)] = MVP_LOAD0(6, 0, MVP_INCR0) | MVP_LOAD1(7, 2, 0);
  }
  *built = p;
  return KWS_OK;
}

/* Depthwise for outputs oy0..oy0+n-1 using filter taps fy0..fy1-1; lanes = channel pairs.
 * Without a clamp, outputs go two at a time with two accumulators (n even), so the requantize
 * of one never waits on the multiplier result of the other. */
static kws_status_t depthwise_program(const mvp_conv_args_t *a, const column_t *c,
                                      const uint16_t *k, const uint16_t *x16, int oy0, int n,
                                      int fy0, int fy1, mvp_program_t **built) {
  const int taps = fy1 - fy0, pairs = c->c_in / 2;
  const int in_row0 = oy0 * c->stride - c->pad + fy0;
  const int clamp = !act_is_full(a->act_min, a->act_max);
  const int dual = !clamp && n % 2 == 0;
  mvp_program_t *p = program_begin();
  CHECK(mvp_prog_array(p, 0, x16 + (long)in_row0 * c->c_in, MVP_TYPE_CBINARY16, pairs, n, taps,
                       1, c->stride * pairs, pairs));
  CHECK(mvp_prog_array(p, 1, a->filter + fy0 * c->c_in, MVP_TYPE_CINT8, pairs, 1, taps, 1, 0, pairs));
  CHECK(mvp_prog_array(p, 2, k, MVP_TYPE_CBINARY16, 1, 1, pairs, 0, 0, 1));
  CHECK(mvp_prog_array(p, 3, k + c->c_in, MVP_TYPE_CBINARY16, 1, 1, pairs, 0, 0, 1));
  CHECK(mvp_prog_array(p, 4, a->output + (long)oy0 * c->c_out, MVP_TYPE_CINT8, pairs, n, 1, 1,
                       pairs, 1));
  if (clamp) {
    mvp_prog_reg(p, 2, (float)a->act_min, (float)a->act_min);
    mvp_prog_reg(p, 3, (float)a->act_max, (float)a->act_max);
  }
  int s = 0;
  mvp_prog_instr(p, s++, MVP_OP_NOOP, 0, MVP_LOAD0(0, 2, MVP_INCR2) | MVP_LOAD1(1, 3, MVP_INCR2), 0);
  const int first = s;
  int loop = 2;
  for (int acc = 5; acc >= (dual ? 4 : 5); acc--) { /* accumulators R5 (and R4) */
    mvp_prog_instr(p, s++, MVP_OP_MACR2A, MVP_ALU(acc, 6, 7, acc) | ZERO_A,
                   MVP_LOAD0(6, 0, taps > 1 ? MVP_INCR2 : MVP_INCR1) |
                       MVP_LOAD1(7, 1, taps > 1 ? MVP_INCR2 : 0), 0);
    if (taps > 1) {
      mvp_prog_instr(p, s, MVP_OP_MACR2A, MVP_ALU(acc, 6, 7, acc),
                     MVP_LOAD0(6, 0, MVP_INCR2) | MVP_LOAD1(7, 1, MVP_INCR2), 0);
      CHECK(mvp_prog_loop(p, loop++, taps - 1, s, s, MVP_ON_EXIT(0, MVP_INCR1), MVP_ON_EXIT(1, MVP_INCR2)));
      s++;
    }
  }
  if (clamp) {
    mvp_prog_instr(p, s++, MVP_OP_MACR2A, MVP_ALU(7, 5, 0, 1), 0, 0);
    mvp_prog_instr(p, s, MVP_OP_CLIP2A, MVP_ALU(7, 2, 3, 7), MVP_STORE(7, 4, MVP_INCR1), 1);
  } else if (dual) {
    mvp_prog_instr(p, s++, MVP_OP_MACR2A, MVP_ALU(7, 5, 0, 1), MVP_STORE(7, 4, MVP_INCR1), 0);
    mvp_prog_instr(p, s, MVP_OP_MACR2A, MVP_ALU(7, 4, 0, 1), MVP_STORE(7, 4, MVP_INCR1), 1);
  } else {
    mvp_prog_instr(p, s, MVP_OP_MACR2A, MVP_ALU(7, 5, 0, 1), MVP_STORE(7, 4, MVP_INCR1), 1);
  }
  CHECK(mvp_prog_loop(p, 0, pairs, 0, s, 0, 0));
  CHECK(mvp_prog_loop(p, 1, dual ? n / 2 : n, first, s,
                      MVP_ON_EXIT(0, MVP_INCR0) | MVP_ON_EXIT(1, MVP_INCR0) | MVP_ON_EXIT(4, MVP_INCR0), 0));
  *built = p;
  return KWS_OK;
}

/* The CPU's share of a convolution: two output rows x two output channels at a time over one
 * window, sum(x * w) per pair. On the Cortex-M33 four int8 per word with SXTB16 + SMLAD (16
 * MACs in 4 loads, 8 sign extensions and 8 dual multiply-accumulates); elsewhere plain C with
 * the same (exact integer) result. x1 may equal x0 (one row), then s[2], s[3] repeat s[0], s[1]. */
static inline __attribute__((always_inline)) void dot2x2_s8(const int8_t *x0, const int8_t *x1, const int8_t *w0,
                                   const int8_t *w1, int n, int32_t s[4]) {
  int32_t s00 = 0, s01 = 0, s10 = 0, s11 = 0;
  int i = 0;
#if defined(__ARM_FEATURE_DSP) && !defined(KWS_NO_DSP)
  /* pointers and offsets rather than indices: the loop needs 15 registers as it is */
  const int32_t dx = (int32_t)(x1 - x0), dw = (int32_t)(w1 - w0);
  const int8_t *p = x0, *q = w0, *const end = x0 + (n & ~3);
  while (p != end) {
    const uint32_t b = kws_dsp_load4(p + dx), a = kws_dsp_load4(p);
    const int32_t ae = __sxtb16((int32_t)a), ao = kws_sxtb16_ror8(a);
    const int32_t be = __sxtb16((int32_t)b), bo = kws_sxtb16_ror8(b);
    uint32_t w = kws_dsp_load4(q + dw);
    int32_t we = __sxtb16((int32_t)w), wo = kws_sxtb16_ror8(w);
    s01 = __smlad(ao, wo, __smlad(ae, we, s01));
    s11 = __smlad(bo, wo, __smlad(be, we, s11));
    w = kws_dsp_load4(q);
    we = __sxtb16((int32_t)w), wo = kws_sxtb16_ror8(w);
    s00 = __smlad(ao, wo, __smlad(ae, we, s00));
    s10 = __smlad(bo, wo, __smlad(be, we, s10));
    p += 4, q += 4;
  }
  i = n & ~3;
#endif
  for (; i < n; i++) {
    s00 += (int32_t)x0[i] * w0[i];
    s01 += (int32_t)x0[i] * w1[i];
    s10 += (int32_t)x1[i] * w0[i];
    s11 += (int32_t)x1[i] * w1[i];
  }
  s[0] = s00, s[1] = s01, s[2] = s10, s[3] = s11;
}

static int32_t sum_s8(const int8_t *w, int n) {
  int32_t s = 0;
  for (int i = 0; i < n; i++) s += w[i];
  return s;
}

/* The window of output row oy: first input row and the filter rows fy0..fy1-1 it uses. */
static void window(const column_t *c, int oy, int *origin, int *fy0, int *fy1) {
  *origin = oy * c->stride - c->pad;
  *fy0 = *origin < 0 ? -*origin : 0;
  *fy1 = *origin + c->f_h > c->in_h ? c->in_h - *origin : c->f_h;
}

/* The CPU's share: output channels c_out - cpu_out_c .. c_out - 1, TFLite's int8 arithmetic:
 * sum((x - zp) * w) = sum(x * w) - zp * sum(w), then the two-rounding requantization. Rows go
 * in pairs when their windows are clipped alike (always for 1x1 convolutions). */
static void cpu_share(const mvp_conv_args_t *a, const column_t *c) {
  const int o0 = c->c_out - a->cpu_out_c;
  for (int oy = 0; oy < c->out_h;) {
    int origin, fy0, fy1, origin2, g0, g1;
    window(c, oy, &origin, &fy0, &fy1);
    int rows = 1;
    if (oy + 1 < c->out_h) {
      window(c, oy + 1, &origin2, &g0, &g1);
      rows = g0 == fy0 && g1 == fy1 ? 2 : 1;
    }
    const int8_t *x0 = a->input + (long)(origin + fy0) * c->c_in;
    const int8_t *x1 = rows == 2 ? x0 + (long)c->stride * c->c_in : x0;
    const int n = (fy1 - fy0) * c->c_in;
    const int whole = n == c->f_h * c->c_in;
    int8_t *out = a->output + (long)oy * c->c_out;
    for (int o = o0; o < c->c_out; o += 2) {
      const int8_t *w0 = a->filter + ((long)o * c->f_h + fy0) * c->c_in;
      const int8_t *w1 = w0 + (long)c->f_h * c->c_in;
      int32_t acc[4];
      dot2x2_s8(x0, x1, w0, w1, n, acc);
      for (int k = 0; k < 2; k++) {
        const int j = o + k - o0;
        const int32_t off = (a->bias ? a->bias[o + k] : 0) -
                            a->in_zp * (whole ? a->cpu_wsum[j] : sum_s8(k ? w1 : w0, n));
        const int32_t shift = a->cpu_shift[j], mult = a->cpu_mult[j];
        const int left = shift > 0 ? (shift > 31 ? 31 : shift) : 0;
        const int right = shift > 0 ? 0 : (shift < -31 ? 31 : -shift);
        for (int r = 0; r < rows; r++) {
          int32_t v = mvp_requant(acc[2 * r + k] + off, mult, left, right) + a->out_zp;
          v = v < a->act_min ? a->act_min : (v > a->act_max ? a->act_max : v);
          out[(long)r * c->c_out + o + k] = (int8_t)v;
        }
      }
    }
    oy += rows;
  }
}

/* The column view mvp_conv_run works on, with the depthwise zero rows added to the input. */
static void run_column(const mvp_conv_args_t *a, column_t *c, int *top, int *bottom) {
  as_column(a, c);
  dw_zero_rows(a, top, bottom);
  if (*top + *bottom > 0) {
    c->in_h += *top + *bottom;
    c->pad = 0;
  }
}

/* The run of outputs from oy sharing one program: its length and filter rows fy0..fy1-1. A
 * clipped window changes with every row, so only unclipped rows form runs longer than one. */
static int run_length(const mvp_conv_args_t *a, const column_t *c, int full_last, int oy,
                      int *fy0, int *fy1) {
  int origin;
  window(c, oy, &origin, fy0, fy1);
  int n = 1;
  if (*fy0 == 0 && *fy1 == c->f_h) {
    n = (full_last < c->out_h - 1 ? full_last : c->out_h - 1) - oy + 1;
    if (n > MVP_MAX_DIM_SIZE) n = MVP_MAX_DIM_SIZE;
  }
  if (a->depthwise && n > 1 && (n & 1) && act_is_full(a->act_min, a->act_max))
    n--; /* an even run for the two-accumulator program; the last output goes alone */
  return n;
}

/* The depthwise zero rows around the binary16 input, once the prescale started (the MVP
 * writes the rows between meanwhile; the scratch is shared, so every run). */
static void zero_rows(uint16_t *x16, const column_t *c, int top, int bottom) {
  if (top + bottom == 0) return;
  memset(x16, 0, (size_t)top * (size_t)c->c_in * 2u);
  memset(x16 + (long)(c->in_h - bottom) * c->c_in, 0, (size_t)bottom * (size_t)c->c_in * 2u);
}

size_t mvp_cache_bytes(int programs) {
  return (sizeof(mvp_cache_t) + 3u) / 4u * 4u + (size_t)(programs > 0 ? programs : 0) * sizeof(mvp_program_t);
}

static mvp_program_t *cached(mvp_cache_t *cache) {
  return (mvp_program_t *)(void *)((uint8_t *)cache + (sizeof(mvp_cache_t) + 3u) / 4u * 4u);
}

/* Keeps program i of a run being built (the keys are set once all were kept). */
static void keep(mvp_cache_t *cache, int i, const mvp_program_t *p) {
  if (!cache) return;
  if (i < cache->cap) memcpy(&cached(cache)[i], p, sizeof(*p));
  else cache->cap = 0; /* more programs than counted: keep none */
}

static int cache_hit(const mvp_cache_t *cache, const void *const key[5]) {
  if (!cache || cache->n <= 0) return 0;
  for (int i = 0; i < 5; i++)
    if (cache->key[i] != key[i]) return 0;
  return 1;
}

static void cache_done(mvp_cache_t *cache, const void *const key[5], int n) {
  if (!cache) return;
  cache->n = n <= cache->cap ? n : 0;
  for (int i = 0; i < 5; i++) cache->key[i] = key[i];
}

int mvp_conv_kept(const mvp_conv_args_t *a, const void *consts, const void *scratch,
                  const mvp_cache_t *cache) {
  const void *const key[5] = {a->input, a->filter, a->output, scratch, consts};
  return cache_hit(cache, key);
}

int mvp_conv_programs(const mvp_conv_args_t *a) {
  column_t c;
  int top, bottom;
  if (!as_column(a, &c) || (!a->depthwise && !act_is_full(a->act_min, a->act_max))) return 0;
  run_column(a, &c, &top, &bottom);
  const int full_last = (c.in_h - c.f_h + c.pad) / c.stride;
  int programs = 1; /* the prescale */
  for (int oy = 0; oy < c.out_h; programs++) {
    int fy0, fy1;
    oy += run_length(a, &c, full_last, oy, &fy0, &fy1);
    if (fy1 <= fy0) return 0;
  }
  return programs;
}

kws_status_t mvp_conv_run(const mvp_conv_args_t *a, const void *consts, void *scratch, int wait) {
  return mvp_conv_run_cached(a, consts, scratch, wait, NULL);
}

kws_status_t mvp_conv_run_cached(const mvp_conv_args_t *a, const void *consts, void *scratch,
                                 int wait, mvp_cache_t *cache) {
  column_t c;
  int top, bottom;
  const void *const key[5] = {a->input, a->filter, a->output, scratch, consts};
  const int hit = cache_hit(cache, key); /* the same pointers passed the checks below */
  if (!hit) {
    CHECK(mvp_conv_check(a));
    if (!aligned(scratch, 4) || !aligned(consts, 4)) return KWS_ERR_ARG;
  }
  run_column(a, &c, &top, &bottom);
  uint16_t *x16 = (uint16_t *)scratch;
  if (hit) { /* the programs as built the first time, nothing to build */
    for (int i = 0; i < cache->n; i++) {
      CHECK(mvp_run(&cached(cache)[i]));
      if (i == 0) zero_rows(x16, &c, top, bottom);
    }
    if (a->cpu_out_c) cpu_share(a, &c); /* while the MVP runs the last program */
    return wait ? mvp_wait() : KWS_OK;
  }
  if (!a->depthwise && !act_is_full(a->act_min, a->act_max)) cache = NULL; /* clamps not kept */
  /* Each program is built before the one ahead of it starts (two buffers: the one built and
   * waiting, the one being built), so the MVP goes from one to the next without waiting for
   * the CPU's building: the prescale is short, and the first main program is built while the
   * previous operator's last program still runs. */
  mvp_program_t *pending;
  CHECK(prescale_build(a->input, c.in_h - top - bottom, c.c_in / 2, a->in_zp,
                       x16 + (long)top * c.c_in, &pending));
  /* Runs of outputs whose window is clipped the same way share one program; the longest run
   * goes last so the CPU's share overlaps it (run_length). */
  const int full_last = (c.in_h - c.f_h + c.pad) / c.stride;
  int longest = -1, longest_n = 0, kept = 0;
  for (int pass = 0; pass < 3; pass++) { /* find the longest run, run the others, run it */
    int oy = 0;
    while (oy < c.out_h) {
      int fy0, fy1;
      const int n = run_length(a, &c, full_last, oy, &fy0, &fy1);
      if (fy1 <= fy0) return KWS_ERR_UNSUPPORTED; /* a window entirely in the padding */
      if (pass == 0 && n > longest_n) longest = oy, longest_n = n;
      if ((pass == 1 && oy != longest) || (pass == 2 && oy == longest)) {
        mvp_program_t *p;
        kws_status_t st = a->depthwise
                              ? depthwise_program(a, &c, (const uint16_t *)consts, x16, oy, n, fy0, fy1, &p)
                              : conv_program(a, &c, (const uint16_t *)consts, x16, oy, n, fy0, fy1, &p);
        CHECK(st);
        keep(cache, kept++, pending);
        CHECK(mvp_run(pending));
        if (kept == 1) zero_rows(x16, &c, top, bottom);
        pending = p;
      }
      oy += n;
    }
  }
  keep(cache, kept++, pending);
  cache_done(cache, key, kept);
  CHECK(mvp_run(pending));
  if (a->cpu_out_c) cpu_share(a, &c); /* while the MVP runs the last program */
  if (!a->depthwise && !act_is_full(a->act_min, a->act_max))
    CHECK(clamp_run(a->output, c.out_h * c.c_out, a->act_min, a->act_max));
  return wait ? mvp_wait() : KWS_OK;
}

kws_status_t mvp_add_check(const mvp_add_args_t *a) {
  if (a->n < 2 || (a->n & 1) || !aligned(a->in1, 2) || !aligned(a->in2, 2) || !aligned(a->output, 2))
    return KWS_ERR_UNSUPPORTED;
  if (!(fabsf(a->m1) < 1024.0f && fabsf(a->m2) < 1024.0f)) return KWS_ERR_UNSUPPORTED;
  return KWS_OK;
}

int mvp_add_programs(const mvp_add_args_t *a) {
  int programs = 0;
  for (int pairs = a->n / 2; pairs > 0; programs++) {
    int cols = pairs < MVP_MAX_DIM_SIZE ? pairs : MVP_MAX_DIM_SIZE;
    int rows = pairs / cols;
    if (rows > MVP_MAX_DIM_SIZE) rows = MVP_MAX_DIM_SIZE;
    pairs -= rows * cols;
  }
  return programs;
}

kws_status_t mvp_add_run(const mvp_add_args_t *a, int wait) { return mvp_add_run_cached(a, wait, NULL); }

kws_status_t mvp_add_run_cached(const mvp_add_args_t *a, int wait, mvp_cache_t *cache) {
  CHECK(mvp_add_check(a));
  const void *const key[5] = {a->in1, a->in2, a->output, NULL, NULL};
  if (cache_hit(cache, key)) {
    for (int i = 0; i < cache->n; i++) CHECK(mvp_run(&cached(cache)[i]));
    return wait ? mvp_wait() : KWS_OK;
  }
  int kept = 0;
  const float cst = (float)a->out_zp - (float)a->zp1 * a->m1 - (float)a->zp2 * a->m2;
  const int clamp = !act_is_full(a->act_min, a->act_max);
  int pairs = a->n / 2, done = 0;
  while (pairs > 0) {
    int cols = pairs < MVP_MAX_DIM_SIZE ? pairs : MVP_MAX_DIM_SIZE;
    int rows = pairs / cols;
    if (rows > MVP_MAX_DIM_SIZE) rows = MVP_MAX_DIM_SIZE;
    mvp_program_t *p = program_begin();
    CHECK(mvp_prog_array(p, 0, a->in1 + 2 * done, MVP_TYPE_CINT8, 1, rows, cols, 0, cols, 1));
    CHECK(mvp_prog_array(p, 1, a->in2 + 2 * done, MVP_TYPE_CINT8, 1, rows, cols, 0, cols, 1));
    CHECK(mvp_prog_array(p, 2, a->output + 2 * done, MVP_TYPE_CINT8, 1, rows, cols, 0, cols, 1));
    mvp_prog_reg(p, 0, a->m1, a->m1);
    mvp_prog_reg(p, 1, cst, cst);
    mvp_prog_reg(p, 2, a->m2, a->m2);
    mvp_prog_reg(p, 3, (float)a->act_min, (float)a->act_min);
    mvp_prog_reg(p, 4, (float)a->act_max, (float)a->act_max);
    mvp_prog_instr(p, 0, MVP_OP_MACR2A, MVP_ALU(5, 6, 0, 1),
                   MVP_LOAD0(6, 0, MVP_INCR2) | MVP_LOAD1(7, 1, MVP_INCR2), 0);
    int last = 1;
    if (clamp) {
      mvp_prog_instr(p, 1, MVP_OP_MACR2A, MVP_ALU(7, 7, 2, 5), 0, 0);
      mvp_prog_instr(p, 2, MVP_OP_CLIP2A, MVP_ALU(7, 3, 4, 7), MVP_STORE(7, 2, MVP_INCR2), 1);
      last = 2;
    } else {
      mvp_prog_instr(p, 1, MVP_OP_MACR2A, MVP_ALU(7, 7, 2, 5), MVP_STORE(7, 2, MVP_INCR2), 1);
    }
    CHECK(mvp_prog_loop(p, 0, rows, 0, last, 0, 0));
    CHECK(mvp_prog_loop(p, 1, cols, 0, last,
                        MVP_ON_EXIT(0, MVP_INCR1) | MVP_ON_EXIT(1, MVP_INCR1) | MVP_ON_EXIT(2, MVP_INCR1), 0));
    keep(cache, kept++, p);
    if (pairs == rows * cols) cache_done(cache, key, kept);
    CHECK(mvp_run(p));
    done += rows * cols;
    pairs -= rows * cols;
  }
  return wait ? mvp_wait() : KWS_OK;
}
