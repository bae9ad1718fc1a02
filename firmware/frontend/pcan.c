#include "frontend/pcan.h"

#include "frontend/bits.h"

/* Gain for noise estimate x: entries 0 and 1 are exact; above, interval k = msb(x) holds
 * (y0, a1, a2) at lut[4k-6..4k-4] and the gain is y0 + a1*t + a2*t^2 for t in [0, 1) Q10. */
static int16_t gain_for(uint32_t x, const int16_t *lut) {
  if (x <= 2) return lut[x];
  const int16_t interval = (int16_t)kws_msb32(x);
  const int16_t *seg = lut + 4 * interval - 6;
  const int16_t frac =
      (int16_t)(((interval < 11) ? (x << (11 - interval)) : (x >> (interval - 11))) & 0x3FF);
  int32_t y = ((int32_t)seg[2] * frac) >> 5;
  y += (int32_t)((uint32_t)seg[1] << 5);
  y *= frac;
  y = (y + (1 << 14)) >> 15;
  y += seg[0];
  return (int16_t)y;
}

/* Compression: quadratic below 2.0 (Q12 SNR), linear above, Q6 out. */
static uint32_t shrink(uint32_t snr) {
  if (snr < (2u << KWS_PCAN_SNR_BITS)) {
    return (snr * snr) >> (2 + 2 * KWS_PCAN_SNR_BITS - KWS_PCAN_OUTPUT_BITS);
  }
  return (snr >> (KWS_PCAN_SNR_BITS - KWS_PCAN_OUTPUT_BITS)) - (1u << KWS_PCAN_OUTPUT_BITS);
}

void kws_pcan_apply(const kws_pcan_t *s, uint32_t *signal) {
  for (size_t c = 0; c < s->n_channels; ++c) {
    const uint32_t gain = (uint32_t)(int32_t)gain_for(s->noise_estimate[c], s->gain_lut);
    const uint32_t snr = (uint32_t)(((uint64_t)signal[c] * gain) >> s->snr_shift);
    signal[c] = shrink(snr);
  }
}
