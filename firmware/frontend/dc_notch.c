#include "frontend/dc_notch.h"

#include "frontend/bits.h"

void kws_dc_notch_apply(kws_dc_notch_t *s, const int16_t *in, int16_t *out, size_t n) {
  if (n == 0) return;
  const int32_t c = s->coefficient;
  int16_t x_prev = s->prev_in, y_prev = s->prev_out;
  for (size_t i = 0; i < n; ++i) {
    /* The difference and the sum are 16-bit quantities that wrap, as the reference's
     * int16 temporaries do; the feedback term is rounded from Q15 to an integer. */
    const int16_t diff = kws_wrap16((int32_t)in[i] - x_prev);
    const int32_t feedback = ((((int32_t)c * y_prev) >> 14) + 1) >> 1;
    y_prev = kws_wrap16(diff + feedback);
    x_prev = in[i];
    out[i] = y_prev;
  }
  s->prev_in = x_prev;
  s->prev_out = y_prev;
}

void kws_dc_notch_reset(kws_dc_notch_t *s) {
  s->prev_in = 0;
  s->prev_out = 0;
}
