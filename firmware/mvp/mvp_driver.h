/* MVP driver: builds programs (an image of the register block from ALU0 to CMD) and runs them.
 *
 * A program is 69 words laid out as the hardware's registers: 8 ALU registers, 5 array
 * descriptors, 8 loops, 8 instruction slots and CMD. mvp_run() copies them into the register
 * block with CMD (INIT|START) last, which starts the MVP; it does not wait, so the CPU can build
 * the next program meanwhile (mvp_wait() before touching the outputs). Where the program's
 * pointers live and what executes it is the port's business (mvp_port.h): the real peripheral
 * on the EFR32xG24, the C simulator (mvp/sim) on the host and on QEMU.
 */
#ifndef KWS_MVP_DRIVER_H
#define KWS_MVP_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "kws_status.h"
#include "mvp/mvp_regs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Word positions inside a program image (relative to ALU0). */
#define MVP_P_REG(r) (r)
#define MVP_P_ARRAY(k, f) (8 + 4 * (k) + (f)) /* f: 0 ADDRCFG, 1..3 DIM0..2CFG */
#define MVP_P_LOOPCFG(n) (28 + 2 * (n))
#define MVP_P_LOOPRST(n) (29 + 2 * (n))
#define MVP_P_INSTR(i, c) (44 + 3 * (i) + (c))
#define MVP_P_CMD 68

/* Host builds: upper halves of 64-bit array addresses, kept in reserved words of the simulated
 * register block (not a hardware register; the port writes them before CMD). */
#define MVP_W_HOST_ADDR_HI 192u

typedef struct {
  uint32_t w[MVP_PROGRAM_WORDS];
#if UINTPTR_MAX > 0xFFFFFFFFu
  uint32_t addr_hi[MVP_N_ARRAYS];
#endif
} mvp_program_t;

/* Instruction field builders. */
#define MVP_ALU(z, x, y, a) \
  (((uint32_t)(x) << MVP_I0_X_SHIFT) | ((uint32_t)(y) << MVP_I0_Y_SHIFT) | \
   ((uint32_t)(a) << MVP_I0_A_SHIFT) | ((uint32_t)(z) << MVP_I0_Z_SHIFT))
/* Operand modifier flags for X, Y, A (MVP_MOD_*). */
#define MVP_XMOD(m) ((uint32_t)(m) << (MVP_I0_X_SHIFT + 4))
#define MVP_YMOD(m) ((uint32_t)(m) << (MVP_I0_Y_SHIFT + 4))
#define MVP_AMOD(m) ((uint32_t)(m) << (MVP_I0_A_SHIFT + 4))
#define MVP_INCR0 1u /* dim0 (vectors, outermost) */
#define MVP_INCR1 2u /* dim1 (rows) */
#define MVP_INCR2 4u /* dim2 (columns, innermost) */
#define MVP_STREAM(reg, array, incr) \
  ((uint32_t)(reg) | MVP_STREAM_EN | ((uint32_t)(array) << MVP_STREAM_ARRAY_SHIFT) | \
   ((uint32_t)(incr) << MVP_STREAM_INCR_SHIFT))
#define MVP_LOAD0(reg, array, incr) (MVP_STREAM(reg, array, incr) << MVP_I1_LOAD0_SHIFT)
#define MVP_LOAD1(reg, array, incr) (MVP_STREAM(reg, array, incr) << MVP_I1_LOAD1_SHIFT)
#define MVP_STORE(reg, array, incr) (MVP_STREAM(reg, array, incr) << MVP_I1_STORE_SHIFT)
/* Loop exit actions: increment / reset dimension bits (MVP_INCRn) of array k. */
#define MVP_ON_EXIT(k, dims) ((uint32_t)(dims) << (12 + 4 * (k)))

void mvp_prog_begin(mvp_program_t *p);
void mvp_prog_reg(mvp_program_t *p, int reg, float re, float im);
/* Sizes are element counts (1..1024), strides signed element counts (-2048..2047); a complex
 * type's element is a pair. Returns KWS_ERR_ARG if the shape does not fit the hardware. */
kws_status_t mvp_prog_array(mvp_program_t *p, int k, const void *addr, mvp_type_t type, int n0,
                            int n1, int n2, int s0, int s1, int s2);
void mvp_prog_instr(mvp_program_t *p, int slot, uint32_t op, uint32_t alu, uint32_t streams,
                    int endprog);
/* Loop n runs `count` times over slots first..last; exit_incr/exit_reset (MVP_ON_EXIT masks)
 * act on the arrays each time the loop finishes. Loops that share both slots nest by number:
 * the higher number is the inner loop. */
kws_status_t mvp_prog_loop(mvp_program_t *p, int n, int count, int first, int last,
                           uint32_t exit_incr, uint32_t exit_reset);

kws_status_t mvp_init(void);
/* Starts `p` once the MVP is idle (waits for the previous program); returns at once. */
kws_status_t mvp_run(const mvp_program_t *p);
/* Waits for the running program; KWS_ERR_IO on a fault. */
kws_status_t mvp_wait(void);

typedef struct {
  uint64_t cycles;    /* PERF0 = RUN cycles, summed over programs */
  uint64_t stalls;    /* PERF1 = STALL cycles */
  uint32_t programs;
  uint32_t numeric_flags; /* sticky IF bits: ALU NaN/overflow, store conversion */
} mvp_counters_t;

const mvp_counters_t *mvp_counters(void);
void mvp_counters_reset(void);

/* Cycle accounting by owner: programs started after mvp_set_owner(tag) carry the tag, and when
 * one is waited for, `fn` (if set) gets its tag and RUN cycles, even if the wait happens later,
 * in another owner's code. */
typedef void (*mvp_account_fn)(uint16_t owner, uint32_t cycles);
void mvp_set_account(mvp_account_fn fn);
void mvp_set_owner(uint16_t owner);
/* 1 while a program was started and not yet waited for. */
int mvp_busy(void);

/* Optional trace of the CPU/MVP hand-offs, for timing the CPU's side (bench/mvp/m33): called
 * with MVP_TRACE_WAIT when the CPU starts waiting for a running program, and MVP_TRACE_START
 * right after a program was started. NULL (the default) turns it off. */
#define MVP_TRACE_WAIT 1
#define MVP_TRACE_START 2
typedef void (*mvp_trace_fn)(void *user, int event);
void mvp_set_trace(mvp_trace_fn fn, void *user);

#ifdef __cplusplus
}
#endif
#endif
