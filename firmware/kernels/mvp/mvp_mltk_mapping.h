/* MLTK 0.20's mapping of layers onto the MVP (SL_MVP_OPTIMIZE_SPEED=1), re-expressed as programs
 * for our driver and simulator. Used only to calibrate the simulator's cycle model against
 * MLTK's closed simulator, layer by layer (bench/mvp). Column-shaped layers only.
 *
 * Conv2D: binary16 prescaled input; per output channel a loop nest over outputs > filter rows >
 * packed input pairs with one MACR2A, then ADDR (fold lanes), MACC + int8 store, COPY (bias).
 * Depthwise ("opt" path): one program per output pixel; per channel pair a bias load, two
 * instructions per tap (rescale input, accumulate), requantize + store, optional clip.
 * Add: four instructions per pair of elements (two rescales, add, requantize + store).
 */
#ifndef KWS_KERNELS_MVP_MLTK_MAPPING_H
#define KWS_KERNELS_MVP_MLTK_MAPPING_H

#include "kernels/mvp/mvp_ops.h"

#ifdef __cplusplus
extern "C" {
#endif

/* consts (also for depthwise): MLTK's binary16 bias (bias * 2^-15) and scaler (scale * 2^15) arrays, filled by
 * mltk_conv_prepare; 4 bytes per output channel. scratch as mvp_conv_scratch_bytes. */
kws_status_t mltk_conv_prepare(const mvp_conv_args_t *a, uint16_t *consts);
void mltk_conv_const_channel(const mvp_conv_args_t *a, int o, float eff, int32_t bias, uint16_t *consts);
kws_status_t mltk_conv_run(const mvp_conv_args_t *a, const uint16_t *consts, void *scratch);
kws_status_t mltk_add_run(const mvp_add_args_t *a);

#ifdef __cplusplus
}
#endif
#endif
