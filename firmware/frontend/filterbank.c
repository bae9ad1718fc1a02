#include "frontend/filterbank.h"

#include "frontend/dsp16.h"

/* floor(sqrt(x)): a floating-point estimate (a few FPU instructions), then exact integer
 * checks. */
static uint32_t sqrt_floor(uint64_t x) {
  const uint32_t hi = (uint32_t)(x >> 32);
  uint32_t r;
#if defined(__SSE2__) && !defined(KWS_SQRT_SINGLE) /* PCs: double precision, off by a unit */
  const double rd = __builtin_sqrt((double)hi * 4294967296.0 + (double)(uint32_t)x);
  r = rd >= 4294967295.0 ? 0xFFFFFFFFu : (uint32_t)rd;
#else /* the M33's FPU is single precision: refine large inputs once */
  const float rf = __builtin_sqrtf((float)hi * 4294967296.0f + (float)(uint32_t)x);
  r = rf >= 4294967040.0f ? 0xFFFFFFFFu : (uint32_t)rf;
  if (hi >> 18) { /* x >= 2^50: the estimate's error can exceed a few units */
    const int64_t err = (int64_t)(x - (uint64_t)r * r);
    const int64_t step = (int64_t)((float)err / (2.0f * (float)r));
    const int64_t refined = (int64_t)r + step;
    r = refined > 0xFFFFFFFF ? 0xFFFFFFFFu : refined < 1 ? 1u : (uint32_t)refined;
  }
#endif
  while ((uint64_t)r * r > x) --r;
  while (r != 0xFFFFFFFFu && (uint64_t)(r + 1) * (r + 1) <= x) ++r;
  return r;
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
  const uint32_t *bin = (const uint32_t *)(const void *)(spectrum + fb->start_bin);
  const uint16_t *w = fb->weights;
  const uint16_t *u = fb->unweights;
  const uint16_t *band = fb->band_start;
  uint64_t falling = 0; /* unweighted sum of the previous band */
  for (size_t c = 0; c <= fb->n_channels; ++c) {
    int64_t rising = 0, next_falling = 0;
    for (size_t k = band[c]; k < band[c + 1]; ++k) {
      /* |X|^2 as the reference computes it: in 32 bits, kept in a signed 32-bit slot, then
       * widened with sign (only -32768 - 32768j reaches 2^31 and turns negative). */
      const int32_t e = kws_smuad(bin[k], bin[k]);
      rising += (int64_t)w[k] * e;
      next_falling += (int64_t)u[k] * e;
    }
    if (c > 0) out[c - 1] = kws_filterbank_sqrt((uint64_t)rising + falling) >> scale_down_shift;
    falling = (uint64_t)next_falling;
  }
}
