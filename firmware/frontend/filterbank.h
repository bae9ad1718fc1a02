/* Mel filterbank: FFT bin energies summed into overlapping triangular channels (Q12
 * weights), then a rounded square root scaled back down by the FFT's input shift. */
#ifndef KWS_FRONTEND_FILTERBANK_H
#define KWS_FRONTEND_FILTERBANK_H
#include <stddef.h>
#include <stdint.h>

#include "frontend/fft.h"

#define KWS_FILTERBANK_BITS 12

typedef struct {
  size_t n_channels;
  size_t start_bin;           /* first FFT bin used (DC is always excluded) */
  size_t end_bin;             /* one past the last bin used */
  /* Band c = bins [band_start[c], band_start[c+1]), c = 0..n_channels. A bin of band c
   * adds weight*E to channel c-1 (the rising edge) and unweight*E to channel c (the
   * falling edge); band 0's weights and band n_channels' unweights fall outside. */
  const uint16_t *band_start; /* [n_channels + 2], relative to start_bin */
  const uint16_t *weights;    /* [end_bin - start_bin], Q12 */
  const uint16_t *unweights;  /* [end_bin - start_bin], Q12 */
} kws_filterbank_t;

/* out[c] = rounded_sqrt(sum of weighted |X[k]|^2) >> scale_down_shift, c < n_channels. */
void kws_filterbank_apply(const kws_filterbank_t *fb, const kws_cpx16_t *spectrum,
                          int scale_down_shift, uint32_t *out);

/* The reference's rounded square root (exposed for tests). */
uint32_t kws_filterbank_sqrt(uint64_t x);
#endif
