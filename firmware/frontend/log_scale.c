#include "frontend/log_scale.h"

#include "frontend/dsp16.h"

/* a * b + c in 32 bits: one MLA on Arm (GCC otherwise multiplies, then adds the constant). */
static inline uint32_t mla(uint32_t a, uint32_t b, uint32_t c) {
#if defined(__GNUC__) && defined(__ARM_ARCH) && defined(__thumb2__)
  uint32_t r;
  __asm("mla %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(c));
  return r;
#else
  return a * b + c;
#endif
}

/* The reference's log, for x >= 1 (x = 1 gives 0; x = 0 is taken as 1, which gives the
 * reference's 0 for it too, with no branch): log2 from the top bit and a corrected
 * linear interpolation over 128 segments of the octave, in Q16, times ln 2:
 *   ln = ln2 * integer + ((ln2 * fraction + 2^15) >> 16)
 * returned as ln + `round` (the caller adds its rounding here, where it is free). */
static inline __attribute__((always_inline)) uint32_t ln_q16(uint32_t x, uint32_t round) {
  const uint32_t lead = (uint32_t)__builtin_clz(x | 1u);
  /* x's top bit moved to bit 31: the 16 bits below it are the reference's Q16 fraction
   * (left shifts are exact, right shifts truncate, as its (x - 2^integer) shifted). */
  const uint32_t top = x << lead;
  const uint32_t frac = (top >> 15) & 0xFFFFu;
  const uint32_t segment = (top >> 24) & (KWS_LOG_SEGMENTS - 1);
  const uint32_t offset = (top >> 15) & ((1u << (KWS_LOG_SCALE_BITS - KWS_LOG_SEGMENTS_BITS)) - 1);
  const uint32_t packed = kws_log_segments[segment];
  /* frac + c0 + ((c1 - c0) * offset >> 16): SMLAWB; below 2^16 + 2^15 */
  const uint32_t fraction =
      (uint32_t)kws_smlawb(offset, packed, (int32_t)frac + ((int32_t)packed >> 16));
  /* ln2 * fraction + 2^15 < 2^32. The integer part ln2 * (31 - lead) is a multiple of 2^16
   * in Q16, so it adds after the shift: base - ln2 * lead (MLS). */
  const uint32_t half = 1u << (KWS_LOG_SCALE_BITS - 1);
  const uint32_t base = KWS_LOG_LN2_Q16 * 31u + round;
  const uint32_t part = mla(KWS_LOG_LN2_Q16, fraction, half) >> KWS_LOG_SCALE_BITS;
  return (base + part) - KWS_LOG_LN2_Q16 * lead;
}

/* The reference's input correction shift (wrapping in 32 bits), then
 * round(2^scale_shift ln) = ((ln << scale_shift) + 2^15) >> 16 in 32 bits, kept to 16 bits.
 * Computed as (ln + 2^(15 - scale_shift)) >> (16 - scale_shift): the same value before the
 * wrap (ln < 2^21, so no overflow), and the same low 16 bits after it. `left_only`: the
 * correction shifts left (or not at all), one shift instead of two. */
static inline __attribute__((always_inline)) void log_channels(const kws_log_scale_t *s,
                                                               const uint32_t *in, size_t n,
                                                               uint16_t *out, int left_only) {
  const int right = s->correction_bits < 0 ? -s->correction_bits : 0;
  const int left = s->correction_bits > 0 ? s->correction_bits : 0;
  const uint32_t round = (1u << (KWS_LOG_SCALE_BITS - 1)) >> s->scale_shift;
  const int down = KWS_LOG_SCALE_BITS - s->scale_shift;
  for (const uint32_t *const end = in + n; in != end; ++in, ++out) {
    const uint32_t v = left_only ? *in << left : (*in >> right) << left;
    *out = (uint16_t)(ln_q16(v, round) >> down);
  }
}

void kws_log_scale_apply(const kws_log_scale_t *s, const uint32_t *in, size_t n,
                         uint16_t *out) {
  if (!s->enabled) {
    for (size_t c = 0; c < n; ++c) out[c] = (uint16_t)(in[c] < 0xFFFFu ? in[c] : 0xFFFFu);
    return;
  }
  if (s->correction_bits >= 0) {
    log_channels(s, in, n, out, 1);
  } else {
    log_channels(s, in, n, out, 0);
  }
}
