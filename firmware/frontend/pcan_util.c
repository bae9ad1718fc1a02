#include "frontend/pcan_util.h"

#include <math.h>

static int16_t gain_at(float strength, float offset, int gain_bits, int32_t input_bits,
                       uint32_t x) {
  const float xf = (float)x / (float)((uint32_t)1 << input_bits);
  const float gain = (float)((uint32_t)1 << gain_bits) * powf(xf + offset, -strength);
  if (gain > 32767.0f) return 32767;
  return (int16_t)(gain + 0.5f);
}

void kws_pcan_populate(kws_pcan_t *s, int enabled, size_t n_channels, float strength,
                       float offset, int gain_bits, const uint32_t *noise_estimate,
                       int smoothing_bits, int correction_bits) {
  s->enabled = enabled != 0;
  s->n_channels = n_channels;
  s->noise_estimate = noise_estimate;
  s->snr_shift = gain_bits - correction_bits - KWS_PCAN_SNR_BITS;
  if (!s->enabled) return;
  const int32_t input_bits = smoothing_bits - correction_bits;
  int16_t *lut = s->gain_lut;
  lut[0] = gain_at(strength, offset, gain_bits, input_bits, 0);
  lut[1] = gain_at(strength, offset, gain_bits, input_bits, 1);
  /* Interval k (x in [2^(k-1), 2^k)) is fitted through its start, middle and end. */
  for (int k = 2; k <= KWS_PCAN_LUT_INTERVALS; ++k) {
    const uint32_t x0 = (uint32_t)1 << (k - 1);
    const uint32_t x1 = x0 + (x0 >> 1);
    const uint32_t x2 = (k == KWS_PCAN_LUT_INTERVALS) ? x0 + (x0 - 1) : 2 * x0;
    const int16_t y0 = gain_at(strength, offset, gain_bits, input_bits, x0);
    const int16_t y1 = gain_at(strength, offset, gain_bits, input_bits, x1);
    const int16_t y2 = gain_at(strength, offset, gain_bits, input_bits, x2);
    const int32_t d1 = (int32_t)y1 - y0;
    const int32_t d2 = (int32_t)y2 - y0;
    const int32_t a1 = 4 * d1 - d2;
    const int32_t a2 = d2 - a1;
    lut[4 * k - 6] = y0;
    lut[4 * k - 5] = (int16_t)a1;
    lut[4 * k - 4] = (int16_t)a2;
  }
}
