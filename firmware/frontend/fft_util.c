#include "frontend/fft_util.h"

#include <math.h>

#define KWS_PI 3.14159265358979323846264338327

size_t kws_fft_length_for(size_t window_size) {
  size_t len = 1;
  while (len < window_size) len <<= 1;
  return len;
}

/* Twiddle in Q15: round-half-up of 32767 * (cos, sin), as kissfft's fixed-point build. */
static kws_cpx16_t twiddle(double phase) {
  kws_cpx16_t t = {(int16_t)floor(0.5 + 32767.0 * cos(phase)),
                   (int16_t)floor(0.5 + 32767.0 * sin(phase))};
  return t;
}

/* Where each work slot takes its input from: the recursive decimation in time, unrolled
 * once at init (depth = number of stages). */
static void fill_order(kws_fft_t *f, uint16_t *order, size_t out, size_t in, size_t stride,
                       int stage) {
  const size_t p = f->radix[stage];
  const size_t m = f->n / (stride * p);
  for (size_t q = 0; q < p; ++q) {
    if (m == 1) {
      order[out + q] = (uint16_t)(in + q * stride);
    } else {
      fill_order(f, order, out + q * m, in + q * stride, stride * p, stage + 1);
    }
  }
}

kws_status_t kws_fft_populate(kws_fft_t *f, size_t fft_length, kws_cpx16_t *twiddles,
                              kws_cpx16_t *split_twiddles, uint16_t *input_order,
                              kws_cpx16_t *work) {
  if (fft_length < 32 || fft_length > 32768 || (fft_length & (fft_length - 1)) != 0) {
    return KWS_ERR_UNSUPPORTED;
  }
  const size_t n = fft_length / 2;
  f->fft_length = fft_length;
  f->n = n;
  f->n_stages = 0;
  /* Radix 4 while it divides, then a single radix 2 (n is a power of two). */
  for (size_t rest = n; rest > 1;) {
    const uint8_t p = (rest % 4 == 0) ? 4 : 2;
    f->radix[f->n_stages++] = p;
    rest /= p;
  }
  for (size_t i = 0; i < n; ++i) twiddles[i] = twiddle(-2.0 * KWS_PI * (double)i / (double)n);
  for (size_t i = 0; i < n / 2; ++i) {
    split_twiddles[i] = twiddle(-KWS_PI * ((double)(i + 1) / (double)n + 0.5));
  }
  fill_order(f, input_order, 0, 0, 1, 0);
  f->twiddles = twiddles;
  f->split_twiddles = split_twiddles;
  f->input_order = input_order;
  f->work = work;
  f->read_from = 0;
  f->read_to = n + 1;
  return KWS_OK;
}
