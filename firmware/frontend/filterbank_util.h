/* Settings to filterbank state: mel band edges and Q12 weights, computed exactly as the
 * microfrontend does (same float/double steps), so the weights match bit for bit. */
#ifndef KWS_FRONTEND_FILTERBANK_UTIL_H
#define KWS_FRONTEND_FILTERBANK_UTIL_H
#include "frontend/filterbank.h"
#include "kws_status.h"

/* Number of FFT bins the filterbank spans (the size of the weight arrays), or 0 when the
 * settings leave no valid band layout. spectrum_size = fft_length / 2 + 1. */
size_t kws_filterbank_n_bins(size_t n_channels, float lower_hz, float upper_hz,
                             int sample_rate, size_t spectrum_size);

/* Fills `fb` using band_start[n_channels + 2] and weights/unweights[n_bins]. */
kws_status_t kws_filterbank_populate(kws_filterbank_t *fb, size_t n_channels, float lower_hz,
                                     float upper_hz, int sample_rate, size_t spectrum_size,
                                     uint16_t *band_start, uint16_t *weights,
                                     uint16_t *unweights, size_t n_bins);
#endif
