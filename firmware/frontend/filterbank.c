#include "frontend/filterbank.h"

#include <math.h>

/* floor(sqrt(x)): a float estimate (one hardware instruction on the M33 and the PC),
 * refined once for large inputs, then made exact with integer checks. */
static uint32_t sqrt_floor(uint64_t x) {
  uint64_t r = (uint64_t)sqrtf((float)x);
  if (r > 0xFFFFFFFFu) r = 0xFFFFFFFFu;
  if (x >> 40) { /* the float estimate is off by up to ~2^(bits/2 - 24): one Newton step */
    const int64_t err = (int64_t)(x - r * r);
    r = (uint64_t)((int64_t)r + (int64_t)((float)err / (2.0f * (float)r)));
    if (r > 0xFFFFFFFFu) r = 0xFFFFFFFFu;
  }
  while (r * r > x) --r;
  while (r < 0xFFFFFFFFu && (r + 1) * (r + 1) <= x) ++r;
  return (uint32_t)r;
}

uint32_t kws_filterbank_sqrt(uint64_t x) {
  const uint32_t root = sqrt_floor(x);
  const uint64_t rest = x - (uint64_t)root * root;
  /* Round up when x > root^2 + root; inputs under 2^32 saturate at 16 bits. */
  const uint32_t top = (x >> 32) ? 0xFFFFFFFFu : 0xFFFFu;
  return (rest > root && root != top) ? root + 1 : root;
}

void kws_filterbank_apply(const kws_filterbank_t *fb, const kws_cpx16_t *spectrum,
                          int scale_down_shift, uint32_t *out) {
  const kws_cpx16_t *bin = spectrum + fb->start_bin;
  const uint16_t *w = fb->weights;
  const uint16_t *u = fb->unweights;
  const uint16_t *band = fb->band_start;
  uint64_t falling = 0; /* unweighted sum of the previous band */
  for (size_t c = 0; c <= fb->n_channels; ++c) {
    uint64_t rising = 0, next_falling = 0;
    for (size_t k = band[c]; k < band[c + 1]; ++k) {
      /* |X|^2 as the reference stores it: a 32-bit sum kept in a signed 32-bit slot, then
       * widened with sign (only -32768 + -32768j reaches 2^31 and turns negative). */
      const int32_t e = (int32_t)((uint32_t)((int32_t)bin[k].r * bin[k].r) +
                                  (uint32_t)((int32_t)bin[k].i * bin[k].i));
      rising += (uint64_t)((int64_t)w[k] * e);
      next_falling += (uint64_t)((int64_t)u[k] * e);
    }
    if (c > 0) out[c - 1] = kws_filterbank_sqrt(rising + falling) >> scale_down_shift;
    falling = next_falling;
  }
}
