#include "frontend/log_scale.h"

#include "frontend/bits.h"

/* Fractional part of log2(x) in Q16, where log2x = floor(log2(x)). */
static uint32_t log2_fraction(uint32_t x, uint32_t log2x) {
  int32_t frac = (int32_t)(x - (1u << log2x));
  if (log2x < KWS_LOG_SCALE_BITS) {
    frac = (int32_t)((uint32_t)frac << (KWS_LOG_SCALE_BITS - log2x));
  } else {
    frac >>= log2x - KWS_LOG_SCALE_BITS;
  }
  const uint32_t seg = (uint32_t)frac >> (KWS_LOG_SCALE_BITS - KWS_LOG_SEGMENTS_BITS);
  const uint32_t seg_unit = (1u << KWS_LOG_SCALE_BITS) >> KWS_LOG_SEGMENTS_BITS;
  const int32_t c0 = kws_log_correction[seg];
  const int32_t c1 = kws_log_correction[seg + 1];
  const int32_t rel = ((c1 - c0) * (frac - (int32_t)(seg_unit * seg))) >> KWS_LOG_SCALE_BITS;
  return (uint32_t)(frac + c0 + rel);
}

static uint32_t scaled_ln(uint32_t x, int scale_shift) {
  const uint32_t integer = (uint32_t)kws_msb32(x) - 1;
  const uint32_t log2 = (integer << KWS_LOG_SCALE_BITS) + log2_fraction(x, integer);
  const uint32_t round = 1u << (KWS_LOG_SCALE_BITS - 1);
  const uint32_t ln = (uint32_t)(((uint64_t)KWS_LOG_LN2_Q16 * log2 + round) >> KWS_LOG_SCALE_BITS);
  return ((ln << scale_shift) + round) >> KWS_LOG_SCALE_BITS;
}

void kws_log_scale_apply(const kws_log_scale_t *s, const uint32_t *in, size_t n,
                         uint16_t *out) {
  for (size_t c = 0; c < n; ++c) {
    uint32_t v = in[c];
    if (s->enabled) {
      if (s->correction_bits < 0) {
        v >>= -s->correction_bits;
      } else {
        v <<= s->correction_bits;
      }
      v = v > 1 ? scaled_ln(v, s->scale_shift) : 0;
    }
    out[c] = (uint16_t)(v < 0xFFFFu ? v : 0xFFFFu);
  }
}
