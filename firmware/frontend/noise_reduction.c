#include "frontend/noise_reduction.h"

#include <string.h>

static inline uint32_t reduce(uint32_t *estimate_slot, uint32_t signal, uint32_t smoothing,
                              int bits, uint32_t min_signal_remaining) {
  const uint32_t keep = (1u << KWS_NOISE_REDUCTION_BITS) - smoothing;
  const uint32_t scaled = signal << bits; /* wraps in 32 bits, as the reference */
  uint32_t estimate = (uint32_t)(((uint64_t)scaled * smoothing +
                                  (uint64_t)*estimate_slot * keep) >>
                                 KWS_NOISE_REDUCTION_BITS);
  *estimate_slot = estimate;
  const uint32_t floor =
      (uint32_t)(((uint64_t)signal * min_signal_remaining) >> KWS_NOISE_REDUCTION_BITS);
  /* scaled - estimate, 0 when the estimate is above: one SUBS and a conditional move */
  const uint32_t subtracted = (scaled > estimate ? scaled - estimate : 0) >> bits;
  return subtracted > floor ? subtracted : floor;
}

void kws_noise_reduction_apply(kws_noise_reduction_t *s, uint32_t *signal) {
  const int bits = s->smoothing_bits;
  const uint32_t even = s->even_smoothing, odd = s->odd_smoothing;
  const uint32_t min_remaining = s->min_signal_remaining;
  uint32_t *estimate = s->estimate;
  const size_t n = s->n_channels;
  size_t c = 0;
  for (; c + 2 <= n; c += 2) { /* even and odd channels in pairs: no per-channel select */
    signal[c] = reduce(&estimate[c], signal[c], even, bits, min_remaining);
    signal[c + 1] = reduce(&estimate[c + 1], signal[c + 1], odd, bits, min_remaining);
  }
  if (c < n) signal[c] = reduce(&estimate[c], signal[c], even, bits, min_remaining);
}

void kws_noise_reduction_reset(kws_noise_reduction_t *s) {
  memset(s->estimate, 0, s->n_channels * sizeof(*s->estimate));
}
