#include "mvp/sim/mvp_sim.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "mvp/mvp_driver.h"
#include "mvp/mvp_fp16.h"
#include "mvp/mvp_regs.h"

static mvp_sim_model_t model = {.mul_stall = 1, .program_overhead = 0};
static mvp_sim_stats_t stats;

mvp_sim_model_t *mvp_sim_model(void) { return &model; }
const mvp_sim_stats_t *mvp_sim_stats(void) { return &stats; }
void mvp_sim_stats_reset(void) { memset(&stats, 0, sizeof(stats)); }

typedef struct {
  double re, im;
} cval_t;

typedef struct {
  uint8_t *base;
  int type;    /* BASETYPE: 0 uint8, 1 int8, 2 binary16 */
  int complex; /* element is a (real, imag) pair */
  int size[3];
  int stride[3];
  int index[3];
  long offset; /* sum of index[d] * stride[d], kept up to date by the increments */
} array_t;

typedef struct {
  cval_t reg[MVP_N_REGS];
  array_t arr[MVP_N_ARRAYS];
  uint32_t flags; /* IF bits raised */
  uint32_t fault_status, fault_addr;
  uint64_t slow_x16;
} machine_t;

static int sign_extend12(uint32_t v) { return (v & 0x800u) ? (int)v - 4096 : (int)v; }

static double round_f16(machine_t *m, double v) {
  double r = mvp_f16_to_double(mvp_f16_from_double(v));
  if (isnan(r)) m->flags |= MVP_IF_ALUNAN;
  else if (isinf(r) && !isinf(v)) m->flags |= MVP_IF_ALUOF;
  else if (r == 0.0 && v != 0.0) m->flags |= MVP_IF_ALUUF;
  return r;
}

static void decode_arrays(machine_t *m, const uint32_t *regs) {
  for (int k = 0; k < MVP_N_ARRAYS; k++) {
    array_t *a = &m->arr[k];
    uintptr_t addr = regs[MVP_W_ARRAY0 + 4 * k];
#if UINTPTR_MAX > 0xFFFFFFFFu
    addr |= (uintptr_t)regs[MVP_W_HOST_ADDR_HI + k] << 32;
#endif
    a->base = (uint8_t *)addr;
    uint32_t d0 = regs[MVP_W_ARRAY0 + 4 * k + 1];
    a->type = (int)((d0 >> MVP_DIM0_BASETYPE_SHIFT) & 3u);
    a->complex = (d0 & MVP_DIM0_COMPLEX) != 0;
    for (int d = 0; d < 3; d++) {
      uint32_t w = regs[MVP_W_ARRAY0 + 4 * k + 1 + d];
      a->size[d] = (int)(w & MVP_DIM_SIZE_MASK) + 1;
      a->stride[d] = sign_extend12((w >> MVP_DIM_STRIDE_SHIFT) & MVP_DIM_STRIDE_MASK);
      a->index[d] = 0;
    }
    a->offset = 0;
  }
}

/* An increment wraps at the dimension's size and carries nowhere; the other dimensions keep
 * their indices. MLTK's convolution programs rely on exactly this (filter rows restart for
 * every output, the input restarts for every output channel, the output column survives the
 * vector increments). */
static void incr_dims(array_t *a, uint32_t dims) {
  for (int d = 0; d < 3; d++) {
    if (!(dims & (1u << d))) continue;
    if (++a->index[d] == a->size[d]) {
      a->offset -= (long)(a->size[d] - 1) * a->stride[d];
      a->index[d] = 0;
    } else {
      a->offset += a->stride[d];
    }
  }
}

static void reset_dims(array_t *a, uint32_t dims) {
  for (int d = 0; d < 3; d++)
    if (dims & (1u << d)) {
      a->offset -= (long)a->index[d] * a->stride[d];
      a->index[d] = 0;
    }
}

static int elem_bytes(const array_t *a) { return (a->type == 2 ? 2 : 1) * (a->complex ? 2 : 1); }

/* Address of the current element (indices always stay inside their sizes), or NULL and a
 * fault for a misaligned binary16 access. */
static uint8_t *element(machine_t *m, int k, int bus) {
  array_t *a = &m->arr[k];
  uint8_t *p = a->base + a->offset * elem_bytes(a);
  if (a->type == 2 && ((uintptr_t)p & (a->complex ? 3u : 1u))) {
    m->flags |= MVP_IF_BUSALIGNFAULT;
    m->fault_status = ((uint32_t)k << MVP_FAULT_ARRAY_SHIFT) | ((uint32_t)bus << MVP_FAULT_BUS_SHIFT);
    m->fault_addr = (uint32_t)(uintptr_t)p;
    return NULL;
  }
  if (model.slow_end && (uintptr_t)p >= model.slow_base && (uintptr_t)p < model.slow_end)
    m->slow_x16 += model.slow_load_cycles_x16;
  return p;
}

static double read_scalar(const array_t *a, const uint8_t *p) {
  if (a->type == 0) return (double)p[0];
  if (a->type == 1) return (double)(int8_t)p[0];
  uint16_t bits;
  memcpy(&bits, p, 2);
  return mvp_f16_to_double(bits);
}

static void write_scalar(machine_t *m, const array_t *a, uint8_t *p, double v) {
  if (a->type == 2) {
    uint16_t bits = mvp_f16_from_double(v);
    memcpy(p, &bits, 2);
    return;
  }
  double lo = a->type == 1 ? -128.0 : 0.0, hi = a->type == 1 ? 127.0 : 255.0;
  if (isnan(v)) {
    m->flags |= MVP_IF_STORECONVERTNAN;
    v = 0.0;
  } else if (isinf(v)) {
    m->flags |= MVP_IF_STORECONVERTINF;
  }
  double r = rint(v); /* nearest, ties to even */
  if (r > hi) {
    r = hi;
    m->flags |= MVP_IF_STORECONVERTOF;
  } else if (r < lo) {
    r = lo;
    m->flags |= MVP_IF_STORECONVERTUF;
  }
  if (a->type == 1) *(int8_t *)p = (int8_t)r;
  else *p = (uint8_t)r;
}

/* One stream (load or store) of an instruction. Returns 0 on a fault. */
static int stream(machine_t *m, uint32_t field, int is_store, int bus) {
  if (!(field & MVP_STREAM_EN)) return 1;
  int reg = (int)(field & 7u);
  int k = (int)((field >> MVP_STREAM_ARRAY_SHIFT) & 7u);
  if (k >= MVP_N_ARRAYS) {
    m->flags |= MVP_IF_ARRAYFAULT;
    return 0;
  }
  array_t *a = &m->arr[k];
  uint8_t *p = element(m, k, bus);
  if (!p) return 0;
  int half = a->type == 2 ? 2 : 1;
  if (is_store) {
    write_scalar(m, a, p, m->reg[reg].re);
    if (a->complex) write_scalar(m, a, p + half, m->reg[reg].im);
    stats.stores++;
  } else {
    m->reg[reg].re = read_scalar(a, p);
    m->reg[reg].im = a->complex ? read_scalar(a, p + half) : 0.0;
    stats.loads++;
  }
  incr_dims(a, (field >> MVP_STREAM_INCR_SHIFT) & 7u);
  return 1;
}

static cval_t operand(const machine_t *m, uint32_t cfg0, int shift) {
  cval_t v = m->reg[(cfg0 >> shift) & 7u];
  uint32_t mod = (cfg0 >> (shift + 4)) & 0xFu;
  if (mod & MVP_MOD_REALZERO) v.re = 0.0;
  if (mod & MVP_MOD_REALNEG) v.re = -v.re;
  if (mod & MVP_MOD_IMAGZERO) v.im = 0.0;
  if (mod & MVP_MOD_IMAGNEG) v.im = -v.im;
  return v;
}

static double clampd(double v, double lo, double hi) { return v < lo ? lo : (v > hi ? hi : v); }

/* Executes one ALU op. Returns 0 for an opcode this model does not know (ALU fault). */
static int alu(machine_t *m, uint32_t op, uint32_t cfg0) {
  cval_t x = operand(m, cfg0, MVP_I0_X_SHIFT), y = operand(m, cfg0, MVP_I0_Y_SHIFT);
  cval_t a = operand(m, cfg0, MVP_I0_A_SHIFT), z;
  switch (op) {
    case MVP_OP_NOOP: return 1;
    case MVP_OP_CLEAR: z.re = z.im = 0.0; break;
    case MVP_OP_COPY: z = a; break;
    case MVP_OP_ADDR: z.re = a.re + a.im; z.im = 0.0; break;
    case MVP_OP_ADDC: z.re = x.re + a.re; z.im = x.im + a.im; break;
    case MVP_OP_MAX2A: z.re = fmax(x.re, a.re); z.im = fmax(x.im, a.im); break;
    case MVP_OP_MIN2A: z.re = fmin(x.re, a.re); z.im = fmin(x.im, a.im); break;
    case MVP_OP_MULR2A: z.re = x.re * y.re; z.im = x.im * y.im; stats.macs += 2; break;
    case MVP_OP_MACR2A: z.re = x.re * y.re + a.re; z.im = x.im * y.im + a.im; stats.macs += 2; break;
    case MVP_OP_MULC:
      z.re = x.re * y.re - x.im * y.im;
      z.im = x.re * y.im + x.im * y.re;
      stats.macs += 4;
      break;
    case MVP_OP_MACC:
      z.re = x.re * y.re - x.im * y.im + a.re;
      z.im = x.re * y.im + x.im * y.re + a.im;
      stats.macs += 4;
      break;
    case MVP_OP_CLIP2A: z.re = clampd(a.re, x.re, y.re); z.im = clampd(a.im, x.im, y.im); break;
    default: return 0;
  }
  z.re = round_f16(m, z.re);
  z.im = round_f16(m, z.im);
  m->reg[(cfg0 >> MVP_I0_Z_SHIFT) & 7u] = z;
  return 1;
}

static int is_mul_class(uint32_t op) { return (op & 0x80u) != 0; }

/* Does the instruction read register r (as X/Y/A of a real op, or through its store)? Returns
 * 2 when the only use is as the accumulator of a MUL/MAC (forwarded), 1 for other uses. */
static int uses_reg(uint32_t op, uint32_t cfg0, uint32_t cfg1, int r) {
  int use = 0;
  uint32_t store = cfg1 >> MVP_I1_STORE_SHIFT;
  if (op != MVP_OP_NOOP && op != MVP_OP_CLEAR) {
    int xr = (int)((cfg0 >> MVP_I0_X_SHIFT) & 7u), yr = (int)((cfg0 >> MVP_I0_Y_SHIFT) & 7u);
    int ar = (int)((cfg0 >> MVP_I0_A_SHIFT) & 7u);
    int reads_xy = op != MVP_OP_COPY && op != MVP_OP_ADDR;
    int reads_y = reads_xy && op != MVP_OP_ADDC && op != MVP_OP_MAX2A && op != MVP_OP_MIN2A;
    if (reads_xy && xr == r) use = 1;
    if (reads_y && yr == r) use = 1;
    if (ar == r && !use) use = is_mul_class(op) ? 2 : 1;
  }
  if ((store & MVP_STREAM_EN) && (int)(store & 7u) == r &&
      (int)((cfg0 >> MVP_I0_Z_SHIFT) & 7u) != r)
    use = 1;
  /* A register this instruction loads is overwritten before the ALU reads it. */
  for (int s = 0; s < 2; s++) {
    uint32_t ld = cfg1 >> (s ? MVP_I1_LOAD1_SHIFT : MVP_I1_LOAD0_SHIFT);
    if ((ld & MVP_STREAM_EN) && (int)(ld & 7u) == r) use = 0;
  }
  return use;
}

void mvp_sim_execute(uint32_t *regs) {
  machine_t m;
  memset(&m, 0, sizeof(m));
  regs[MVP_W_STATUS] = MVP_STATUS_RUNNING;
  for (int r = 0; r < MVP_N_REGS; r++) {
    uint32_t w = regs[MVP_W_ALU0 + r];
    m.reg[r].re = mvp_f16_to_double((uint16_t)(w & 0xFFFFu));
    m.reg[r].im = mvp_f16_to_double((uint16_t)(w >> 16));
  }
  decode_arrays(&m, regs);

  /* Loops: count, exit actions and the slots they span, ordered innermost first per end slot. */
  int count[MVP_N_LOOPS], begin[MVP_N_LOOPS], end[MVP_N_LOOPS], iter[MVP_N_LOOPS];
  for (int n = 0; n < MVP_N_LOOPS; n++) {
    count[n] = (int)(regs[MVP_W_LOOP0 + 2 * n] & MVP_LOOP_NUMITERS_MASK) + 1;
    begin[n] = end[n] = -1;
    iter[n] = 0;
    for (int i = 0; i < MVP_N_INSTRS; i++) {
      uint32_t c2 = regs[MVP_W_INSTR0 + 3 * i + 2];
      if ((c2 >> (2 * n)) & 1u) begin[n] = i;
      if ((c2 >> (2 * n + 1)) & 1u) end[n] = i;
    }
    if ((begin[n] < 0) != (end[n] < 0) || begin[n] > end[n]) m.flags |= MVP_IF_LOOPFAULT;
  }

  /* Per slot: the loops that end there, innermost first (later begin, then higher number). */
  int ends[MVP_N_INSTRS][MVP_N_LOOPS], n_ends[MVP_N_INSTRS];
  for (int i = 0; i < MVP_N_INSTRS; i++) {
    n_ends[i] = 0;
    uint32_t taken = 0;
    for (;;) {
      int inner = -1;
      for (int n = 0; n < MVP_N_LOOPS; n++) {
        if (end[n] != i || (taken & (1u << n))) continue;
        if (inner < 0 || begin[n] > begin[inner] || (begin[n] == begin[inner] && n > inner)) inner = n;
      }
      if (inner < 0) break;
      taken |= 1u << inner;
      ends[i][n_ends[i]++] = inner;
    }
  }
  /* stall[prev][cur]: cycles lost when slot cur follows slot prev. */
  uint8_t stall[MVP_N_INSTRS][MVP_N_INSTRS];
  for (int a = 0; a < MVP_N_INSTRS; a++) {
    uint32_t op_a = (regs[MVP_W_INSTR0 + 3 * a + 2] >> MVP_I2_ALUOP_SHIFT) & MVP_I2_ALUOP_MASK;
    int z = (int)((regs[MVP_W_INSTR0 + 3 * a] >> MVP_I0_Z_SHIFT) & 7u);
    for (int b = 0; b < MVP_N_INSTRS; b++) {
      uint32_t op_b = (regs[MVP_W_INSTR0 + 3 * b + 2] >> MVP_I2_ALUOP_SHIFT) & MVP_I2_ALUOP_MASK;
      int use = uses_reg(op_b, regs[MVP_W_INSTR0 + 3 * b], regs[MVP_W_INSTR0 + 3 * b + 1], z);
      stall[a][b] = (uint8_t)(op_a != MVP_OP_NOOP && is_mul_class(op_a) &&
                              (use == 1 || (use == 2 && !is_mul_class(op_b)))
                          ? model.mul_stall : 0u);
    }
  }

  uint64_t cycles = model.program_overhead, stalls = 0, instructions = 0;
  int pc = 0, prev_pc = -1;
  const uint64_t guard = 1ull << 32;
  while (!(m.flags & MVP_IF_FAULTS) && instructions < guard) {
    uint32_t cfg0 = regs[MVP_W_INSTR0 + 3 * pc], cfg1 = regs[MVP_W_INSTR0 + 3 * pc + 1];
    uint32_t cfg2 = regs[MVP_W_INSTR0 + 3 * pc + 2];
    uint32_t op = (cfg2 >> MVP_I2_ALUOP_SHIFT) & MVP_I2_ALUOP_MASK;

    if (prev_pc >= 0) stalls += stall[prev_pc][pc];
    if (!stream(&m, cfg1 >> MVP_I1_LOAD0_SHIFT, 0, 1) || !stream(&m, cfg1 >> MVP_I1_LOAD1_SHIFT, 0, 2))
      break;
    if (!alu(&m, op, cfg0)) {
      m.flags |= MVP_IF_ALUFAULT;
      break;
    }
    if (!stream(&m, cfg1 >> MVP_I1_STORE_SHIFT, 1, 3)) break;
    instructions++;
    cycles++;
    prev_pc = pc;

    /* Loops ending here, innermost first. */
    int jumped = 0;
    for (int e = 0; e < n_ends[pc]; e++) {
      const int inner = ends[pc][e];
      if (++iter[inner] < count[inner]) {
        pc = begin[inner];
        jumped = 1;
        break;
      }
      iter[inner] = 0;
      uint32_t cfg = regs[MVP_W_LOOP0 + 2 * inner], rst = regs[MVP_W_LOOP0 + 2 * inner + 1];
      for (int k = 0; k < MVP_N_ARRAYS; k++) {
        reset_dims(&m.arr[k], (rst >> (12 + 4 * k)) & 7u);
        incr_dims(&m.arr[k], (cfg >> (12 + 4 * k)) & 7u);
      }
    }
    if (jumped) continue;
    if (cfg2 & MVP_I2_ENDPROG) break;
    if (++pc >= MVP_N_INSTRS) {
      m.flags |= MVP_IF_LOOPFAULT; /* ran off the last slot without ENDPROG */
      break;
    }
  }

  cycles += stalls + m.slow_x16 / 16u;
  for (int r = 0; r < MVP_N_REGS; r++)
    regs[MVP_W_ALU0 + r] = (uint32_t)mvp_f16_from_double(m.reg[r].re) |
                           ((uint32_t)mvp_f16_from_double(m.reg[r].im) << 16);
  for (int k = 0; k < MVP_N_ARRAYS; k++)
    regs[12 + k] = (uint32_t)m.arr[k].index[0] | ((uint32_t)m.arr[k].index[1] << 10) |
                   ((uint32_t)m.arr[k].index[2] << 20);
  regs[MVP_W_PROGRAMSTATE] = (uint32_t)pc;
  regs[MVP_W_PERF0] = (uint32_t)(cycles & MVP_PERF_COUNT_MASK);
  regs[MVP_W_PERF1] = (uint32_t)(stalls & MVP_PERF_COUNT_MASK);
  if (cycles > MVP_PERF_COUNT_MASK) m.flags |= MVP_IF_PERFCNT0; /* one wrap at most per program */
  if (m.flags & MVP_IF_FAULTS) {
    regs[MVP_W_FAULTSTATUS] = m.fault_status | ((uint32_t)pc << MVP_FAULT_PC_SHIFT);
    regs[MVP_W_FAULTADDR] = m.fault_addr;
    stats.last_fault = m.flags & MVP_IF_FAULTS;
  }
  regs[MVP_W_IF] |= m.flags | MVP_IF_PROGDONE;
  regs[MVP_W_STATUS] = MVP_STATUS_IDLE;
  stats.programs++;
  stats.instructions += instructions;
  stats.cycles += cycles;
  stats.stalls += stalls;
}
