#include "kernels/mvp/mvp_mltk_mapping.h"

#include "mvp/mvp_driver.h"
#include "mvp/mvp_fp16.h"

#define CHECK(expr)                \
  do {                             \
    kws_status_t st_ = (expr);     \
    if (st_ != KWS_OK) return st_; \
  } while (0)

static mvp_program_t prog;

void mltk_conv_const_channel(const mvp_conv_args_t *a, int o, float eff, int32_t bias, uint16_t *consts) {
  float s = eff * 32768.0f;
  if (s > 65504.0f) s = 65504.0f;
  if (s < -65504.0f) s = -65504.0f;
  consts[o] = mvp_f16_from_float((float)bias * MVP_ACC_SCALE);
  consts[a->out_c + o] = mvp_f16_from_float(s);
}

kws_status_t mltk_conv_prepare(const mvp_conv_args_t *a, uint16_t *consts) {
  for (int o = 0; o < a->out_c; o++)
    mltk_conv_const_channel(a, o, a->eff_scale[o], a->bias ? a->bias[o] : 0, consts);
  return KWS_OK;
}

static int full_range(int32_t lo, int32_t hi) { return lo <= -128 && hi >= 127; }

/* MLTK's clamp program runs only when the activation range is not the full int8 range; the CPU
 * does lists of up to 160 elements. One instruction per pair. */
static kws_status_t clamp(int8_t *data, int n, int32_t lo, int32_t hi) {
  if (full_range(lo, hi) || n <= 160) {
    for (int i = 0; i < n; i++) data[i] = (int8_t)(data[i] < lo ? lo : (data[i] > hi ? hi : data[i]));
    return KWS_OK;
  }
  int pairs = n / 2;
  int cols = pairs > 1024 ? 1024 : pairs, rows = pairs / cols;
  mvp_prog_begin(&prog);
  CHECK(mvp_prog_array(&prog, 0, data, MVP_TYPE_CINT8, 1, rows, cols, 0, cols, 1));
  CHECK(mvp_prog_array(&prog, 1, data, MVP_TYPE_CINT8, 1, rows, cols, 0, cols, 1));
  mvp_prog_reg(&prog, 2, (float)lo, (float)lo);
  mvp_prog_reg(&prog, 3, (float)hi, (float)hi);
  mvp_prog_instr(&prog, 0, MVP_OP_CLIP2A, MVP_ALU(7, 2, 3, 6),
                 MVP_LOAD0(6, 0, MVP_INCR2) | MVP_STORE(7, 1, MVP_INCR2), 1);
  CHECK(mvp_prog_loop(&prog, 0, rows, 0, 0, 0, 0));
  CHECK(mvp_prog_loop(&prog, 1, cols, 0, 0, MVP_ON_EXIT(0, MVP_INCR1) | MVP_ON_EXIT(1, MVP_INCR1), 0));
  CHECK(mvp_run(&prog));
  return mvp_wait();
}

static kws_status_t conv_range(const mvp_conv_args_t *a, const uint16_t *k, const uint16_t *x16,
                               int oy0, int n, int fy0, int fy1) {
  const int C = a->in_c, OC = a->out_c, fh = fy1 - fy0, cols = C / 2;
  const int row0 = oy0 * a->stride_h - a->pad_top + fy0;
  mvp_program_t *p = &prog;
  mvp_prog_begin(p);
  CHECK(mvp_prog_array(p, 0, x16 + (long)row0 * C, MVP_TYPE_CBINARY16, n, fh, cols,
                       a->stride_h * C / 2, C / 2, 1));
  CHECK(mvp_prog_array(p, 1, a->filter + fy0 * C, MVP_TYPE_CINT8, OC, fh, cols, a->f_h * C / 2, C / 2, 1));
  CHECK(mvp_prog_array(p, 2, k, MVP_TYPE_BINARY16, 1, 1, OC, 0, 0, 1));
  CHECK(mvp_prog_array(p, 3, k + OC, MVP_TYPE_BINARY16, 1, 1, OC, 0, 0, 1));
  CHECK(mvp_prog_array(p, 4, a->output + (long)oy0 * OC, MVP_TYPE_INT8, n, 1, OC, OC, OC, 1));
  mvp_prog_reg(p, 0, MVP_ACC_SCALE, 0.0f);
  mvp_prog_reg(p, 1, (float)-a->in_zp * MVP_ACC_SCALE, (float)-a->in_zp * MVP_ACC_SCALE);
  mvp_prog_reg(p, 2, (float)a->out_zp, 0.0f);
  mvp_prog_instr(p, 0, MVP_OP_COPY, MVP_ALU(5, 0, 0, 4), MVP_LOAD0(4, 2, 0) | MVP_LOAD1(3, 3, 0), 0);
  mvp_prog_instr(p, 1, MVP_OP_MACR2A, MVP_ALU(5, 6, 7, 5),
                 MVP_LOAD0(6, 0, MVP_INCR2) | MVP_LOAD1(7, 1, MVP_INCR2), 0);
  mvp_prog_instr(p, 2, MVP_OP_ADDR, MVP_ALU(5, 0, 0, 5), 0, 0);
  mvp_prog_instr(p, 3, MVP_OP_MACC, MVP_ALU(7, 5, 3, 2), MVP_STORE(7, 4, MVP_INCR0), 0);
  mvp_prog_instr(p, 4, MVP_OP_COPY, MVP_ALU(5, 0, 0, 4), 0, 1);
  CHECK(mvp_prog_loop(p, 0, OC, 0, 4, 0, 0));
  CHECK(mvp_prog_loop(p, 1, 1, 1, 4,
                      MVP_ON_EXIT(4, MVP_INCR2) | MVP_ON_EXIT(1, MVP_INCR0) |
                          MVP_ON_EXIT(2, MVP_INCR2) | MVP_ON_EXIT(3, MVP_INCR2), 0));
  CHECK(mvp_prog_loop(p, 2, n, 1, 4, MVP_ON_EXIT(4, MVP_INCR1), 0));
  CHECK(mvp_prog_loop(p, 3, fh, 1, 1, MVP_ON_EXIT(0, MVP_INCR0), 0));
  CHECK(mvp_prog_loop(p, 4, cols, 1, 1, MVP_ON_EXIT(0, MVP_INCR1) | MVP_ON_EXIT(1, MVP_INCR1), 0));
  CHECK(mvp_run(p));
  return mvp_wait();
}

static kws_status_t depthwise_pixel(const mvp_conv_args_t *a, const uint16_t *k, int oy) {
  const int C = a->in_c, P = C / 2;
  const int origin = oy * a->stride_h - a->pad_top;
  const int fy0 = origin < 0 ? -origin : 0;
  const int y_size = (origin + a->f_h >= a->in_h ? a->in_h - origin : a->f_h) - fy0;
  const int act = !full_range(a->act_min, a->act_max);
  mvp_program_t *p = &prog;
  mvp_prog_begin(p);
  mvp_prog_reg(p, 0, MVP_ACC_SCALE, MVP_ACC_SCALE);
  mvp_prog_reg(p, 1, (float)-a->in_zp * MVP_ACC_SCALE, (float)-a->in_zp * MVP_ACC_SCALE);
  mvp_prog_reg(p, 2, (float)a->out_zp, (float)a->out_zp);
  if (act) {
    mvp_prog_reg(p, 3, (float)a->act_min, (float)a->act_min);
    mvp_prog_reg(p, 4, (float)a->act_max, (float)a->act_max);
  }
  CHECK(mvp_prog_array(p, 0, a->input + (long)(origin + fy0) * C, MVP_TYPE_CINT8, P, y_size, 1, 1, P, P));
  CHECK(mvp_prog_array(p, 1, a->filter + fy0 * C, MVP_TYPE_CINT8, P, y_size, 1, 1, P, P));
  CHECK(mvp_prog_array(p, 2, k, MVP_TYPE_CBINARY16, 1, 1, P, 0, 0, 1));
  CHECK(mvp_prog_array(p, 3, k + C, MVP_TYPE_CBINARY16, 1, 1, P, 0, 0, 1));
  CHECK(mvp_prog_array(p, 4, a->output + (long)oy * C, MVP_TYPE_CINT8, P, 1, 1, 1, P, P));
  mvp_prog_instr(p, 0, MVP_OP_NOOP, 0, MVP_LOAD0(5, 2, MVP_INCR2), 0);
  mvp_prog_instr(p, 1, MVP_OP_MACR2A, MVP_ALU(6, 6, 0, 1),
                 MVP_LOAD0(6, 0, MVP_INCR2) | MVP_LOAD1(7, 1, MVP_INCR2), 0);
  mvp_prog_instr(p, 2, MVP_OP_MACR2A, MVP_ALU(5, 6, 7, 5), 0, 0);
  mvp_prog_instr(p, 3, MVP_OP_MACR2A, MVP_ALU(7, 5, 6, 2),
                 MVP_LOAD0(6, 3, MVP_INCR2) | (act ? 0 : MVP_STORE(7, 4, MVP_INCR0)), !act);
  if (act) mvp_prog_instr(p, 4, MVP_OP_CLIP2A, MVP_ALU(7, 3, 4, 7), MVP_STORE(7, 4, MVP_INCR0), 1);
  CHECK(mvp_prog_loop(p, 0, P, 0, act ? 4 : 3, 0, 0));
  CHECK(mvp_prog_loop(p, 1, y_size, 1, 2, MVP_ON_EXIT(0, MVP_INCR0) | MVP_ON_EXIT(1, MVP_INCR0), 0));
  CHECK(mvp_prog_loop(p, 2, 1, 1, 2, MVP_ON_EXIT(0, MVP_INCR1) | MVP_ON_EXIT(1, MVP_INCR1), 0));
  CHECK(mvp_run(p));
  return mvp_wait();
}

kws_status_t mltk_conv_run(const mvp_conv_args_t *a, const uint16_t *consts, void *scratch) {
  if (a->in_w != 1 || a->out_w != 1 || a->f_w != 1 || (a->in_c & 1)) return KWS_ERR_UNSUPPORTED;
  if (a->depthwise) { /* consts here: complex (bias, bias) pairs then (scaler, scaler) pairs */
    for (int oy = 0; oy < a->out_h; oy++) CHECK(depthwise_pixel(a, consts, oy));
    return KWS_OK;
  }
  uint16_t *x16 = (uint16_t *)scratch;
  CHECK(mvp_prescale_run(a->input, a->in_h, a->in_c / 2, a->in_zp, x16));
  CHECK(mvp_wait());
  int oy = 0;
  while (oy < a->out_h) {
    int origin = oy * a->stride_h - a->pad_top;
    int fy0 = origin < 0 ? -origin : 0;
    int fy1 = origin + a->f_h > a->in_h ? a->in_h - origin : a->f_h;
    int n = 1;
    if (origin >= 0 && fy1 == a->f_h) /* the centre: every output with a whole window */
      while (oy + n < a->out_h && (oy + n) * a->stride_h - a->pad_top + a->f_h <= a->in_h) n++;
    CHECK(conv_range(a, consts, x16, oy, n, fy0, fy1));
    oy += n;
  }
  return clamp(a->output, a->out_h * a->out_c, a->act_min, a->act_max);
}

kws_status_t mltk_add_run(const mvp_add_args_t *a) {
  int pairs = a->n / 2;
  const float o1 = (float)-a->zp1 * a->m1, o2 = (float)-a->zp2 * a->m2;
  mvp_program_t *p = &prog;
  mvp_prog_begin(p);
  mvp_prog_reg(p, 0, o1, o1);
  mvp_prog_reg(p, 1, a->m1, a->m1);
  mvp_prog_reg(p, 2, o2, o2);
  mvp_prog_reg(p, 3, a->m2, a->m2);
  mvp_prog_reg(p, 4, (float)a->out_zp, (float)a->out_zp);
  mvp_prog_reg(p, 5, 1.0f, 1.0f);
  mvp_prog_instr(p, 0, MVP_OP_MACR2A, MVP_ALU(6, 6, 1, 0), MVP_LOAD0(6, 0, MVP_INCR2), 0);
  mvp_prog_instr(p, 1, MVP_OP_MACR2A, MVP_ALU(7, 7, 3, 2), MVP_LOAD0(7, 1, MVP_INCR2), 0);
  mvp_prog_instr(p, 2, MVP_OP_ADDC, MVP_ALU(6, 6, 0, 7), 0, 0);
  mvp_prog_instr(p, 3, MVP_OP_MACR2A, MVP_ALU(7, 6, 5, 4), MVP_STORE(7, 2, MVP_INCR2), 1);
  int done = 0;
  while (pairs > 0) {
    int batch = pairs > 1024 ? 1024 : pairs;
    CHECK(mvp_prog_array(p, 0, a->in1 + 2 * done, MVP_TYPE_CINT8, 1, 1, batch, 0, 0, 1));
    CHECK(mvp_prog_array(p, 1, a->in2 + 2 * done, MVP_TYPE_CINT8, 1, 1, batch, 0, 0, 1));
    CHECK(mvp_prog_array(p, 2, a->output + 2 * done, MVP_TYPE_CINT8, 1, 1, batch, 0, 0, 1));
    p->w[MVP_P_INSTR(0, 2)] &= ~0xFFFFu;
    p->w[MVP_P_INSTR(3, 2)] &= ~0xFFFFu;
    CHECK(mvp_prog_loop(p, 0, batch, 0, 3, 0, 0));
    CHECK(mvp_run(p));
    CHECK(mvp_wait());
    done += batch;
    pairs -= batch;
  }
  return clamp(a->output, a->n, a->act_min, a->act_max);
}
