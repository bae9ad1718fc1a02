/* FFT plan: stage radices, twiddle tables and the input order, built into caller memory. */
#ifndef KWS_FRONTEND_FFT_UTIL_H
#define KWS_FRONTEND_FFT_UTIL_H
#include "frontend/fft.h"
#include "kws_status.h"

/* Smallest power of two >= window_size, as MLTK computes fe.fft_length. */
size_t kws_fft_length_for(size_t window_size);

/* Fills the plan for `fft_length` (power of two, 32..32768). The tables live in the given
 * arrays: twiddles[n], split_twiddles[n/2], input_order[n], work[n] with n = fft_length/2. */
kws_status_t kws_fft_populate(kws_fft_t *f, size_t fft_length, kws_cpx16_t *twiddles,
                              kws_cpx16_t *split_twiddles, uint16_t *input_order,
                              kws_cpx16_t *work);
#endif
