/* PCAN (per-channel amplitude normalisation): each channel is divided by a power of its
 * noise estimate (a piecewise-quadratic gain table over log2 intervals), then compressed. */
#ifndef KWS_FRONTEND_PCAN_H
#define KWS_FRONTEND_PCAN_H
#include <stddef.h>
#include <stdint.h>

#define KWS_PCAN_SNR_BITS 12
#define KWS_PCAN_OUTPUT_BITS 6
#define KWS_PCAN_LUT_INTERVALS 32
#define KWS_PCAN_LUT_SIZE (4 * KWS_PCAN_LUT_INTERVALS - 3)

typedef struct {
  int enabled;
  size_t n_channels;
  const uint32_t *noise_estimate; /* the noise reduction's estimate, [n_channels] */
  int32_t snr_shift;
  int16_t gain_lut[KWS_PCAN_LUT_SIZE];
} kws_pcan_t;

void kws_pcan_apply(const kws_pcan_t *s, uint32_t *signal);
#endif
