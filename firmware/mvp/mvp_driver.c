#include "mvp/mvp_driver.h"

#include <string.h>

#include "mvp/mvp_fp16.h"
#include "mvp/mvp_port.h"

static mvp_counters_t counters;
static int running; /* a program was started and not yet waited for */
static mvp_trace_fn trace;
static void *trace_user;
static mvp_account_fn account;
static uint16_t owner, running_owner;

void mvp_set_account(mvp_account_fn fn) { account = fn; }
void mvp_set_owner(uint16_t tag) { owner = tag; }
int mvp_busy(void) { return running; }

void mvp_set_trace(mvp_trace_fn fn, void *user) {
  trace = fn;
  trace_user = user;
}

void mvp_prog_begin(mvp_program_t *p) {
  memset(p, 0, sizeof(*p));
  for (int k = 0; k < MVP_N_ARRAYS; k++) /* reset value: binary16, size 1 */
    p->w[MVP_P_ARRAY(k, 1)] = (uint32_t)MVP_TYPE_BINARY16 << MVP_DIM0_BASETYPE_SHIFT;
}

void mvp_prog_reg(mvp_program_t *p, int reg, float re, float im) {
  p->w[MVP_P_REG(reg)] = (uint32_t)mvp_f16_from_float(re) | ((uint32_t)mvp_f16_from_float(im) << 16);
}

static int dim_ok(int n, int stride) {
  return n >= 1 && n <= MVP_MAX_DIM_SIZE && stride >= MVP_MIN_STRIDE && stride <= MVP_MAX_STRIDE;
}

static uint32_t dim_word(int n, int stride) {
  return ((uint32_t)(n - 1) & MVP_DIM_SIZE_MASK) |
         (((uint32_t)stride & MVP_DIM_STRIDE_MASK) << MVP_DIM_STRIDE_SHIFT);
}

kws_status_t mvp_prog_array(mvp_program_t *p, int k, const void *addr, mvp_type_t type, int n0,
                            int n1, int n2, int s0, int s1, int s2) {
  if (k < 0 || k >= MVP_N_ARRAYS || !dim_ok(n0, s0) || !dim_ok(n1, s1) || !dim_ok(n2, s2))
    return KWS_ERR_ARG;
  uintptr_t a = (uintptr_t)addr;
  if ((type == MVP_TYPE_BINARY16 || type == MVP_TYPE_CINT8 || type == MVP_TYPE_CUINT8) && (a & 1u))
    return KWS_ERR_ARG;
  if (type == MVP_TYPE_CBINARY16 && (a & 3u)) return KWS_ERR_ARG;
  p->w[MVP_P_ARRAY(k, 0)] = (uint32_t)a;
#if UINTPTR_MAX > 0xFFFFFFFFu
  p->addr_hi[k] = (uint32_t)((uint64_t)a >> 32);
#endif
  uint32_t d0 = dim_word(n0, s0) | (((uint32_t)type & 3u) << MVP_DIM0_BASETYPE_SHIFT);
  if ((uint32_t)type & 4u) d0 |= MVP_DIM0_COMPLEX;
  p->w[MVP_P_ARRAY(k, 1)] = d0;
  p->w[MVP_P_ARRAY(k, 2)] = dim_word(n1, s1);
  p->w[MVP_P_ARRAY(k, 3)] = dim_word(n2, s2);
  return KWS_OK;
}

void mvp_prog_instr(mvp_program_t *p, int slot, uint32_t op, uint32_t alu, uint32_t streams,
                    int endprog) {
  uint32_t loops = p->w[MVP_P_INSTR(slot, 2)] & 0xFFFFu; /* keep loop marks set earlier */
  p->w[MVP_P_INSTR(slot, 0)] = alu;
  p->w[MVP_P_INSTR(slot, 1)] = streams;
  p->w[MVP_P_INSTR(slot, 2)] = loops | ((op & MVP_I2_ALUOP_MASK) << MVP_I2_ALUOP_SHIFT) |
                               (endprog ? MVP_I2_ENDPROG : 0u);
}

kws_status_t mvp_prog_loop(mvp_program_t *p, int n, int count, int first, int last,
                           uint32_t exit_incr, uint32_t exit_reset) {
  if (n < 0 || n >= MVP_N_LOOPS || count < 1 || count > MVP_MAX_LOOP_COUNT || first < 0 ||
      last < first || last >= MVP_N_INSTRS)
    return KWS_ERR_ARG;
  p->w[MVP_P_LOOPCFG(n)] = (uint32_t)(count - 1) | (exit_incr & 0x77777000u);
  p->w[MVP_P_LOOPRST(n)] = exit_reset & 0x77777000u;
  p->w[MVP_P_INSTR(first, 2)] |= 1u << (2 * n);
  p->w[MVP_P_INSTR(last, 2)] |= 2u << (2 * n);
  return KWS_OK;
}

kws_status_t mvp_init(void) {
  volatile uint32_t *r = mvp_port_regs();
  mvp_port_enable_clock();
  r[MVP_W_EN] = MVP_EN_EN;
  r[MVP_W_CFG] = MVP_CFG_PERFCNTEN | (MVP_PERF_RUN << MVP_CFG_PERF0SEL_SHIFT) |
                 (MVP_PERF_STALL << MVP_CFG_PERF1SEL_SHIFT);
  running = 0;
  return KWS_OK;
}

/* What a finished program left: read and cleared at once, booked by finish(). */
typedef struct {
  uint32_t flags, cycles, stalls;
  uint16_t owner;
} done_t;

/* Waits for the running program (running must be set), reads its flags and counters and
 * clears the flags: everything that must happen before the next program starts. */
static void wait_idle(volatile uint32_t *r, done_t *d) {
  if (trace) trace(trace_user, MVP_TRACE_WAIT);
  while (!(r[MVP_W_STATUS] & MVP_STATUS_IDLE)) mvp_port_poll();
  running = 0;
  d->flags = r[MVP_W_IF];
  d->cycles = r[MVP_W_PERF0];
  d->stalls = r[MVP_W_PERF1];
  d->owner = running_owner;
  mvp_port_clear_flags(d->flags);
}

/* The bookkeeping of a finished program; mvp_run does it after starting the next one. */
static kws_status_t finish(const done_t *d) {
  uint32_t cycles = d->cycles & MVP_PERF_COUNT_MASK;
  if (d->flags & MVP_IF_PERFCNT0) cycles += MVP_PERF_COUNT_MASK + 1u;
  counters.cycles += cycles;
  counters.stalls += d->stalls & MVP_PERF_COUNT_MASK;
  if (d->flags & MVP_IF_PERFCNT1) counters.stalls += MVP_PERF_COUNT_MASK + 1u;
  if (account) account(d->owner, cycles);
  counters.numeric_flags |= d->flags & (MVP_IF_ALUNAN | MVP_IF_ALUOF | MVP_IF_ALUUF |
                                        MVP_IF_STORECONVERTOF | MVP_IF_STORECONVERTUF |
                                        MVP_IF_STORECONVERTINF | MVP_IF_STORECONVERTNAN);
  return (d->flags & MVP_IF_FAULTS) ? KWS_ERR_IO : KWS_OK;
}

kws_status_t mvp_wait(void) {
  if (!running) return KWS_OK;
  done_t d;
  wait_idle(mvp_port_regs(), &d);
  return finish(&d);
}

kws_status_t mvp_run(const mvp_program_t *p) {
  volatile uint32_t *r = mvp_port_regs();
  /* Between the previous program's end and this one's start only what must come first: the
   * wait, reading and clearing the flags, the register copy; the bookkeeping comes after. */
  done_t d;
  const int had = running;
  if (had) {
    wait_idle(r, &d);
    if (d.flags & MVP_IF_FAULTS) return finish(&d);
  }
#if UINTPTR_MAX > 0xFFFFFFFFu
  for (int k = 0; k < MVP_N_ARRAYS; k++) r[MVP_W_HOST_ADDR_HI + (uint32_t)k] = p->addr_hi[k];
#endif
  /* 68 words, then CMD, written last. Unrolled, one LDR and one STR per word: no loop counting
   * between two programs, and no LDRD/STRD pairs (one instruction each but two transfers, which
   * the bench's instruction count would undercount), hence the volatile accesses. */
  volatile uint32_t *dst = r + MVP_W_ALU0;
  const volatile uint32_t *src = p->w;
#pragma GCC unroll 68
  for (uint32_t i = 0; i < MVP_P_CMD; i++) dst[i] = src[i];
  __asm__ volatile("" ::: "memory");
  r[MVP_W_CMD] = MVP_CMD_INIT | MVP_CMD_START; /* written last: starts the program */
  running = 1;
  running_owner = owner;
  mvp_port_started();
  if (trace) trace(trace_user, MVP_TRACE_START);
  counters.programs++;
  return had ? finish(&d) : KWS_OK;
}

const mvp_counters_t *mvp_counters(void) { return &counters; }

void mvp_counters_reset(void) { memset(&counters, 0, sizeof(counters)); }
