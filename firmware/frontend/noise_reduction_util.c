#include "frontend/noise_reduction_util.h"

/* Fractions become Q14 by truncation (float arithmetic), as the microfrontend does. */
static uint16_t to_q14(float fraction) {
  return (uint16_t)(fraction * (float)(1 << KWS_NOISE_REDUCTION_BITS));
}

void kws_noise_reduction_populate(kws_noise_reduction_t *s, int enabled, size_t n_channels,
                                  int smoothing_bits, float even_smoothing,
                                  float odd_smoothing, float min_signal_remaining,
                                  uint32_t *estimate) {
  s->enabled = enabled != 0;
  s->n_channels = n_channels;
  s->smoothing_bits = smoothing_bits;
  s->even_smoothing = to_q14(even_smoothing);
  s->odd_smoothing = to_q14(odd_smoothing);
  s->min_signal_remaining = to_q14(min_signal_remaining);
  s->estimate = estimate;
  kws_noise_reduction_reset(s);
}
