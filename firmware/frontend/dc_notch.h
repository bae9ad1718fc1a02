/* DC notch filter: y[n] = x[n] - x[n-1] + c * y[n-1], c in Q15, applied to the samples as
 * they enter the window. Removes a microphone's DC offset before the FFT. */
#ifndef KWS_FRONTEND_DC_NOTCH_H
#define KWS_FRONTEND_DC_NOTCH_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
  int enabled;
  int16_t coefficient; /* Q15 */
  int16_t prev_in;
  int16_t prev_out;
} kws_dc_notch_t;

/* Filters n samples from in to out (n may be 0); state carries across calls. */
void kws_dc_notch_apply(kws_dc_notch_t *s, const int16_t *in, int16_t *out, size_t n);
void kws_dc_notch_reset(kws_dc_notch_t *s);
#endif
