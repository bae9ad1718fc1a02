#include "frontend/noise_reduction.h"

#include <string.h>

void kws_noise_reduction_apply(kws_noise_reduction_t *s, uint32_t *signal) {
  const int bits = s->smoothing_bits;
  for (size_t c = 0; c < s->n_channels; ++c) {
    const uint32_t smoothing = (c & 1) ? s->odd_smoothing : s->even_smoothing;
    const uint32_t keep = (1u << KWS_NOISE_REDUCTION_BITS) - smoothing;
    const uint32_t scaled = signal[c] << bits; /* wraps in 32 bits, as the reference */
    uint32_t estimate = (uint32_t)(((uint64_t)scaled * smoothing +
                                    (uint64_t)s->estimate[c] * keep) >>
                                   KWS_NOISE_REDUCTION_BITS);
    s->estimate[c] = estimate;
    if (estimate > scaled) estimate = scaled;
    const uint32_t floor =
        (uint32_t)(((uint64_t)signal[c] * s->min_signal_remaining) >> KWS_NOISE_REDUCTION_BITS);
    const uint32_t subtracted = (scaled - estimate) >> bits;
    signal[c] = subtracted > floor ? subtracted : floor;
  }
}

void kws_noise_reduction_reset(kws_noise_reduction_t *s) {
  memset(s->estimate, 0, s->n_channels * sizeof(*s->estimate));
}
