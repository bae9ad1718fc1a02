/* Settings to PCAN state: builds the gain table. */
#ifndef KWS_FRONTEND_PCAN_UTIL_H
#define KWS_FRONTEND_PCAN_UTIL_H
#include "frontend/pcan.h"

/* strength: exponent (0..1); offset: added to the noise estimate; gain_bits: fraction bits
 * of the gain. smoothing_bits is the noise estimate's extra precision; correction_bits is
 * log2(fft_length) - 1 - filterbank_bits/2 (the frontend's log-scale correction). */
void kws_pcan_populate(kws_pcan_t *s, int enabled, size_t n_channels, float strength,
                       float offset, int gain_bits, const uint32_t *noise_estimate,
                       int smoothing_bits, int correction_bits);
#endif
