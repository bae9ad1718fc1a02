/* Noise reduction: per channel, a slow running estimate of the noise floor (smoothing
 * differs for even and odd channels) is subtracted, keeping at least a fraction of the
 * signal. Q14 coefficients. */
#ifndef KWS_FRONTEND_NOISE_REDUCTION_H
#define KWS_FRONTEND_NOISE_REDUCTION_H
#include <stddef.h>
#include <stdint.h>

#define KWS_NOISE_REDUCTION_BITS 14

typedef struct {
  int enabled;
  size_t n_channels;
  int smoothing_bits;            /* extra precision of the estimate */
  uint16_t even_smoothing;       /* Q14 */
  uint16_t odd_smoothing;        /* Q14 */
  uint16_t min_signal_remaining; /* Q14 */
  uint32_t *estimate;            /* [n_channels], scaled up by smoothing_bits */
} kws_noise_reduction_t;

void kws_noise_reduction_apply(kws_noise_reduction_t *s, uint32_t *signal);
void kws_noise_reduction_reset(kws_noise_reduction_t *s);
#endif
