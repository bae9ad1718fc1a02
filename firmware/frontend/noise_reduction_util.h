/* Settings (fractions) to noise reduction state. */
#ifndef KWS_FRONTEND_NOISE_REDUCTION_UTIL_H
#define KWS_FRONTEND_NOISE_REDUCTION_UTIL_H
#include "frontend/noise_reduction.h"

void kws_noise_reduction_populate(kws_noise_reduction_t *s, int enabled, size_t n_channels,
                                  int smoothing_bits, float even_smoothing,
                                  float odd_smoothing, float min_signal_remaining,
                                  uint32_t *estimate);
#endif
