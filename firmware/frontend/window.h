/* Window stage: gathers `size` samples (after the DC notch), multiplies them by a Hann
 * window in Q12 and slides by `step`. Streams: any number of samples per call. */
#ifndef KWS_FRONTEND_WINDOW_H
#define KWS_FRONTEND_WINDOW_H
#include <stddef.h>
#include <stdint.h>

#include "frontend/dc_notch.h"

#define KWS_WINDOW_BITS 12
/* Coefficients are stored times 2^(16 - KWS_WINDOW_BITS): (x c 16) >> 16 = (x c) >> 12, the
 * high word of a 32 x 16 product (SMULWB / SMULWT on the M33). */
#define KWS_WINDOW_STORED_BITS 16

typedef struct {
  size_t size;                  /* samples per window */
  size_t step;                  /* samples per row */
  size_t used;                  /* samples held in `input` */
  const int32_t *coefficients;  /* [size], the Q12 values times 16 */
  int16_t *input;               /* [size] */
  int16_t *output;              /* [size], windowed samples of the last full window */
  int16_t max_abs_output;       /* has the top bit of the largest |output| (-32768 left out,
                                   as the reference's 16-bit abs does): the FFT's scaling */
  int has_min16;                /* some output is -32768 (its shift may wrap) */
} kws_window_t;

/* Takes up to the samples the window still needs from `samples` (through the notch filter)
 * and stores how many in *consumed. Returns 1 when a full window was produced in `output`
 * (and the input slid by `step`), 0 when more audio is needed. */
int kws_window_process(kws_window_t *w, kws_dc_notch_t *notch, const int16_t *samples,
                       size_t n, size_t *consumed);
void kws_window_reset(kws_window_t *w);
#endif
