#include "frontend/dc_notch.h"

#include "frontend/bits.h"
#include "frontend/dsp16.h"

/* One step of the filter. The reference wraps the difference and the sum to 16 bits;
 * wrapping once at the end gives the same low 16 bits, so y may carry high garbage and
 * only its low half is used. The reference's feedback ((c y >> 14) + 1) >> 1 equals
 * (c y + 2^14) >> 15 (floor shifts). */
static inline int32_t notch_step(int32_t c, int32_t x, int32_t x_prev, int32_t y) {
  /* SMLABB reads y's low half as a signed value: no separate sign extension */
  return x - x_prev + (kws_smlabb((uint32_t)c, (uint32_t)y, 1 << 14) >> 15);
}

/* GCC unrolls the sample loop only when asked: ~350 instructions per row less on the M33. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__ARM_ARCH)
#define KWS_UNROLLED __attribute__((optimize("unroll-loops")))
#else
#define KWS_UNROLLED
#endif

KWS_UNROLLED void kws_dc_notch_apply(kws_dc_notch_t *s, const int16_t *in, int16_t *out, size_t n) {
  const int32_t c = s->coefficient;
  int32_t x_prev = s->prev_in, y = s->prev_out;
  const int16_t *const pairs_end = in + (n & ~(size_t)1);
  while (in != pairs_end) { /* two samples per turn: no register moves */
    const int32_t x0 = in[0], x1 = in[1];
    y = notch_step(c, x0, x_prev, y);
    out[0] = kws_wrap16(y);
    y = notch_step(c, x1, x0, y);
    out[1] = kws_wrap16(y);
    x_prev = x1;
    in += 2;
    out += 2;
  }
  if (n & 1) {
    y = notch_step(c, in[0], x_prev, y);
    out[0] = kws_wrap16(y);
    x_prev = in[0];
  }
  s->prev_in = (int16_t)x_prev;
  s->prev_out = kws_wrap16(y);
}

void kws_dc_notch_reset(kws_dc_notch_t *s) {
  s->prev_in = 0;
  s->prev_out = 0;
}
