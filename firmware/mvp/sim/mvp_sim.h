/* A behavioural and cycle model of the MVP that executes a register image.
 *
 * Functional model: loads convert int8/uint8/binary16 array elements to binary16 registers,
 * every ALU result is rounded once to binary16 (multiply-accumulates are fused), stores convert
 * back (to int8: round to nearest even, saturate). Arrays are walked as the hardware does:
 * streams post-increment dimensions, loops increment/reset dimensions when they finish, and an
 * increment wraps at the dimension's size without touching the other dimensions.
 * Misaligned binary16 accesses fault.
 *
 * Cycle model (calibrated against MLTK 0.20's closed simulator, see docs/mvp.md): one cycle
 * per instruction, plus `mul_stall` cycles when an instruction uses the result of a
 * multiplier-class op (opcode bit 7: MUL*, MAC*) issued just before it; a MAC that takes that
 * result only as its accumulator (A) operand is forwarded without a stall. Plus a fixed
 * per-program start cost and optional memory wait states.
 */
#ifndef KWS_MVP_SIM_H
#define KWS_MVP_SIM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  uint32_t mul_stall;        /* cycles lost by a consumer issued right after a MUL/MAC */
  uint32_t program_overhead; /* cycles from START to the first instruction, per program */
  /* Extra cycles per access of an array whose address is at or above `slow_base` and below
   * `slow_end` (flash on the EFR32: weights read over a bus with wait states). */
  uintptr_t slow_base, slow_end;
  uint32_t slow_load_cycles_x16; /* in 1/16 cycle */
} mvp_sim_model_t;

typedef struct {
  uint64_t programs, instructions, cycles, stalls, loads, stores, macs;
  uint32_t last_fault; /* IF fault bits of the last faulting program, 0 if none */
} mvp_sim_stats_t;

/* Runs the program held in `regs` (a whole register block image) to completion and updates
 * STATUS, IF, PERF0 (RUN cycles), PERF1 (stall cycles), FAULTSTATUS and the ALU registers. */
void mvp_sim_execute(uint32_t *regs);

mvp_sim_model_t *mvp_sim_model(void);
const mvp_sim_stats_t *mvp_sim_stats(void);
void mvp_sim_stats_reset(void);

#ifdef __cplusplus
}
#endif
#endif
