/* ctypes API of the MVP simulator and the MVP kernels' accounting (host only). */
#include <stdint.h>
#include <stdlib.h>

#include "kernels/mvp/mvp_kernels.h"
#include "kernels/mvp/mvp_mltk_mapping.h"
#include "kernels/mvp/mvp_ops.h"
#include "mvp/mvp_driver.h"
#include "mvp/sim/mvp_sim.h"

/* Per-operator stats of the last invoke: 0 on success, 1 when op is out of range. */
int kws_mvp_api_op_stats(uint32_t op, uint32_t *cycles, uint32_t *programs, uint8_t *on_mvp,
                         uint32_t *cpu_macs) {
  const kws_mvp_op_stats_t *s = kws_mvp_op_stats((uint16_t)op);
  if (!s || op > UINT16_MAX) return 1;
  *cpu_macs = s->cpu_macs;
  *cycles = s->cycles;
  *programs = s->programs;
  *on_mvp = s->on_mvp;
  return 0;
}

uint32_t kws_mvp_api_max_ops(void) { return KWS_MVP_MAX_OPS; }

/* The CPU share of convolutions (see kws_mvp_set_cpu_cost), for interpreters created after. */
void kws_mvp_api_set_cpu_cost(uint32_t cycles_per_mac_x16, uint32_t cycles_per_output,
                              uint32_t reserve_cycles) {
  kws_mvp_set_cpu_cost((uint16_t)cycles_per_mac_x16, (uint16_t)cycles_per_output, reserve_cycles);
}

void kws_mvp_api_reset(void) {
  kws_mvp_op_stats_reset();
  mvp_counters_reset();
  mvp_sim_stats_reset();
}

uint64_t kws_mvp_api_cycles(void) { return mvp_counters()->cycles; }
uint32_t kws_mvp_api_programs(void) { return mvp_counters()->programs; }
uint32_t kws_mvp_api_numeric_flags(void) { return mvp_counters()->numeric_flags; }

/* The simulator's cycle-model parameters (see mvp/sim/mvp_sim.h). */
void kws_mvp_api_set_model(uint32_t mul_stall, uint32_t program_overhead) {
  mvp_sim_model()->mul_stall = mul_stall;
  mvp_sim_model()->program_overhead = program_overhead;
}

/* One convolution / depthwise / FC layer on its own (teacher forcing in benches).
 * geom: in_h, in_w, in_c, out_h, out_w, out_c, f_h, f_w, stride_h, stride_w, pad_top, pad_left,
 * depthwise; q: in_zp, out_zp, act_min, act_max; eff: per-channel scale in*w/out.
 * mapping 0 ours, 1 MLTK's. Returns a kws_status_t. */
int kws_mvp_api_conv(const int32_t *geom, const int32_t *q, const int8_t *in, const int8_t *filter,
                     const int32_t *bias, const float *eff, int8_t *out, int mapping,
                     uint64_t *cycles, uint32_t *programs) {
  mvp_conv_args_t a = {geom[0], geom[1], geom[2], geom[3], geom[4], geom[5], geom[6],
                       geom[7], geom[8], geom[9], geom[10], geom[11], geom[12],
                       q[0], q[1], q[2], q[3], in, filter, bias, eff, out, 0, NULL, NULL, NULL};
  kws_status_t st = mvp_conv_check(&a);
  if (st != KWS_OK) return st;
  size_t kb = mvp_conv_const_bytes(&a);
  void *k = aligned_alloc(16, (kb + 15) & ~(size_t)15);
  void *scratch = aligned_alloc(16, (mvp_conv_scratch_bytes(&a) + 15) & ~(size_t)15);
  if (!k || !scratch) {
    free(k);
    free(scratch);
    return KWS_ERR_NO_MEMORY;
  }
  uint64_t c0 = mvp_counters()->cycles;
  uint32_t p0 = mvp_counters()->programs;
  if (mapping == 1) {
    st = mltk_conv_prepare(&a, (uint16_t *)k);
    if (st == KWS_OK) st = mltk_conv_run(&a, (const uint16_t *)k, scratch);
  } else {
    st = mvp_conv_prepare(&a, k, kb);
    if (st == KWS_OK) st = mvp_conv_run(&a, k, scratch, 1);
  }
  *cycles = mvp_counters()->cycles - c0;
  *programs = mvp_counters()->programs - p0;
  free(k);
  free(scratch);
  return st;
}

/* q: zp1, zp2, out_zp, act_min, act_max. */
int kws_mvp_api_add(int32_t n, const int32_t *q, float m1, float m2, const int8_t *in1,
                    const int8_t *in2, int8_t *out, int mapping, uint64_t *cycles,
                    uint32_t *programs) {
  mvp_add_args_t a = {n, q[0], q[1], q[2], q[3], q[4], m1, m2, in1, in2, out};
  kws_status_t st = mvp_add_check(&a);
  if (st != KWS_OK) return st;
  uint64_t c0 = mvp_counters()->cycles;
  uint32_t p0 = mvp_counters()->programs;
  st = mapping == 1 ? mltk_add_run(&a) : mvp_add_run(&a, 1);
  *cycles = mvp_counters()->cycles - c0;
  *programs = mvp_counters()->programs - p0;
  return st;
}

/* Per-program MVP cycles, in order, from the driver's trace hook (bench/mvp/m33.py puts them on
 * a timeline with the CPU's instructions counted on QEMU). */
#include "mvp/mvp_port.h"
#define PROGRAM_LOG_MAX 65536u
static uint32_t program_log[PROGRAM_LOG_MAX];
static uint32_t program_log_n;

static void log_program(void *user, int event) {
  (void)user;
  if (event == MVP_TRACE_START && program_log_n < PROGRAM_LOG_MAX)
    program_log[program_log_n++] = mvp_port_regs()[MVP_W_PERF0] & MVP_PERF_COUNT_MASK;
}

void kws_mvp_api_program_log_start(void) {
  program_log_n = 0;
  mvp_set_trace(log_program, NULL);
}

/* Copies up to max entries into out (may be NULL); returns how many were logged. */
uint32_t kws_mvp_api_program_log(uint32_t *out, uint32_t max) {
  for (uint32_t i = 0; out && i < max && i < program_log_n; i++) out[i] = program_log[i];
  return program_log_n;
}

/* Lazy simulated MVP: programs run when first waited for (checks that nothing reads the MVP's
 * outputs early, e.g. with the cross-operator overlap). */
void kws_mvp_api_set_lazy(int on) { mvp_port_set_lazy(on); }
