#include "frontend/filterbank.h"

#include "frontend/dsp16.h"

/* A floating-point estimate of sqrt(x), within a few units (a handful of FPU instructions). */
static uint32_t sqrt_estimate(uint64_t x) {
  const uint32_t hi = (uint32_t)(x >> 32);
#if defined(__SSE2__) && !defined(KWS_SQRT_SINGLE) /* PCs: double precision */
  const double rd = __builtin_sqrt((double)hi * 4294967296.0 + (double)(uint32_t)x);
  return rd >= 4294967295.0 ? 0xFFFFFFFFu : (uint32_t)rd;
#else /* the M33's FPU is single precision: refine large inputs once (Newton) */
  const float rf = __builtin_sqrtf((float)hi * 4294967296.0f + (float)(uint32_t)x);
  uint32_t r = rf >= 4294967040.0f ? 0xFFFFFFFFu : (uint32_t)rf;
  if (hi >> 18) { /* x >= 2^50: the estimate can be off by more than a few units */
    const int64_t err = (int64_t)(x - (uint64_t)r * r);
    const int64_t refined = (int64_t)r + (int64_t)((float)err / (2.0f * (float)r));
    r = refined > 0xFFFFFFFF ? 0xFFFFFFFFu : refined < 1 ? 1u : (uint32_t)refined;
  }
  return r;
#endif
}

static inline uint32_t rounded_sqrt(uint64_t x) {
  /* Make the estimate floor(sqrt(x)) with rest = x - r^2 in [0, 2r], then round up when
   * rest > r (x > r^2 + r), except at the top of the 16-bit range for x < 2^32 (the
   * reference takes a 32-bit path there) or of the 32-bit range. */
  uint32_t r = sqrt_estimate(x);
  int64_t rest = (int64_t)(x - (uint64_t)r * r);
  while (rest < 0) {
    --r;
    rest += 2 * (int64_t)r + 1;
  }
  while (rest > 2 * (int64_t)r) { /* never for r = 2^32 - 1: (r + 1)^2 exceeds any x */
    rest -= 2 * (int64_t)r + 1;
    ++r;
  }
  const uint32_t top = (x >> 32) ? 0xFFFFFFFFu : 0xFFFFu;
  return (rest > (int64_t)r && r != top) ? r + 1 : r;
}

uint32_t kws_filterbank_sqrt(uint64_t x) { return rounded_sqrt(x); }

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
    if (c > 0) out[c - 1] = rounded_sqrt((uint64_t)rising + falling) >> scale_down_shift;
    falling = (uint64_t)next_falling;
  }
}
