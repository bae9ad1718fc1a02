#include "frontend/log_scale.h"

#include "frontend/bits.h"

/* round(2^scale_shift ln(x)) in Q16-rounded steps as the reference: log2 from the top bit
 * and a corrected linear interpolation, times ln 2. x >= 2. */
static inline uint32_t scaled_ln(uint32_t x, int scale_shift) {
  const int lead = __builtin_clz(x);
  const uint32_t integer = 31u - (uint32_t)lead;
  /* The bits below the top one as a Q16 fraction: left shifts are exact, right shifts
   * truncate, as the reference's (x - 2^integer) shifted either way. */
  const uint32_t frac = (x << (lead + 1)) >> (32 - KWS_LOG_SCALE_BITS);
  const uint32_t seg = frac >> (KWS_LOG_SCALE_BITS - KWS_LOG_SEGMENTS_BITS);
  const uint32_t seg_unit = (1u << KWS_LOG_SCALE_BITS) >> KWS_LOG_SEGMENTS_BITS;
  const int32_t c0 = kws_log_correction[seg];
  const int32_t c1 = kws_log_correction[seg + 1];
  const int32_t rel = ((c1 - c0) * (int32_t)(frac - seg_unit * seg)) >> KWS_LOG_SCALE_BITS;
  const uint32_t fraction = (uint32_t)((int32_t)frac + c0 + rel); /* below 2^16 + 2^15 */
  /* (ln2 (integer 2^16 + fraction) + 2^15) >> 16 in 32 bits: the integer part's product is
   * a multiple of 2^16, and ln2 * fraction + 2^15 stays below 2^32. */
  const uint32_t round = 1u << (KWS_LOG_SCALE_BITS - 1);
  const uint32_t ln = KWS_LOG_LN2_Q16 * integer +
                      ((KWS_LOG_LN2_Q16 * fraction + round) >> KWS_LOG_SCALE_BITS);
  return ((ln << scale_shift) + round) >> KWS_LOG_SCALE_BITS;
}

void kws_log_scale_apply(const kws_log_scale_t *s, const uint32_t *in, size_t n,
                         uint16_t *out) {
  if (!s->enabled) {
    for (size_t c = 0; c < n; ++c) out[c] = (uint16_t)(in[c] < 0xFFFFu ? in[c] : 0xFFFFu);
    return;
  }
  const int right = s->correction_bits < 0 ? -s->correction_bits : 0;
  const int left = s->correction_bits > 0 ? s->correction_bits : 0;
  const int scale_shift = s->scale_shift;
  for (size_t c = 0; c < n; ++c) {
    const uint32_t v = (in[c] >> right) << left;
    /* scaled_ln ends with a 32-bit value shifted right by 16: below 2^16, no clamp. */
    out[c] = (uint16_t)(v > 1 ? scaled_ln(v, scale_shift) : 0);
  }
}
