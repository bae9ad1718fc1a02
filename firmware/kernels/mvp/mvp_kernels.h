/* MVP kernels for CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED and ADD, registered over the
 * reference kernels under the same builtin codes. Each one decides at prepare time whether the
 * MVP takes the operator (shape, alignment, binary16 range); if not, it runs the reference
 * kernel's own functions (CPU fallback). Names end in "/mvp" ("/cpu" once fallen back is shown
 * by kws_mvp_op_on_mvp()).
 */
#ifndef KWS_KERNELS_MVP_KERNELS_H
#define KWS_KERNELS_MVP_KERNELS_H

#include <stdint.h>

#include "kernels/kernel_api.h"

#ifdef __cplusplus
extern "C" {
#endif

extern const kws_kernel_t kws_kernel_conv_2d_mvp;
extern const kws_kernel_t kws_kernel_depthwise_conv_2d_mvp;
extern const kws_kernel_t kws_kernel_fully_connected_mvp;
extern const kws_kernel_t kws_kernel_add_mvp;

/* Adds the four MVP kernels (after kws_resolver_init_reference) and initialises the MVP. */
kws_status_t kws_mvp_resolver_add(kws_op_resolver_t *resolver);

/* Which programs the kernels build: ours, or MLTK 0.20's mapping (for calibration only). */
typedef enum { KWS_MVP_MAPPING_FAST = 0, KWS_MVP_MAPPING_MLTK = 1 } kws_mvp_mapping_t;
void kws_mvp_set_mapping(kws_mvp_mapping_t mapping);

/* CPU share of convolutions: the CPU computes some output channels (TFLite's arithmetic,
 * bit-exact) while the MVP computes the others. Each layer is split so both finish together,
 * given the CPU's cost per multiply-accumulate (in 1/16 cycle) and per output; the MVP's cost
 * is its program's (taps/2 + 1 cycles per output and channel). reserve_cycles is kept free for
 * the CPU's other work in the same window (the runtime's next operator, program building).
 * On by default with the split below; cycles_per_mac_x16 = 0 turns it off. Read at prepare time. */
#define KWS_MVP_CPU_MAC_X16 32
#define KWS_MVP_CPU_PER_OUTPUT 82
#define KWS_MVP_CPU_RESERVE 6000u
void kws_mvp_set_cpu_cost(uint16_t cycles_per_mac_x16, uint16_t cycles_per_output,
                          uint32_t reserve_cycles);

/* Per-operator accounting of the last invokes (ops with index < KWS_MVP_MAX_OPS): MVP cycles
 * (PERF0), programs started, and whether the op ran on the MVP (1) or fell back (0). */
#define KWS_MVP_MAX_OPS 128
typedef struct {
  uint32_t cycles, programs;
  uint32_t cpu_macs; /* multiply-accumulates of the CPU's share */
  uint8_t on_mvp;
} kws_mvp_op_stats_t;
const kws_mvp_op_stats_t *kws_mvp_op_stats(uint16_t op_index);
void kws_mvp_op_stats_reset(void);

#ifdef __cplusplus
}
#endif
#endif
