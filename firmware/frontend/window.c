#include "frontend/window.h"

#include <string.h>

#include "frontend/bits.h"

int kws_window_process(kws_window_t *w, kws_dc_notch_t *notch, const int16_t *samples,
                       size_t n, size_t *consumed) {
  size_t take = w->size - w->used;
  if (take > n) take = n;
  if (notch->enabled) {
    kws_dc_notch_apply(notch, samples, w->input + w->used, take);
  } else if (take) {
    memcpy(w->input + w->used, samples, take * sizeof(*samples));
  }
  *consumed = take;
  w->used += take;
  if (w->used < w->size) return 0;

  const int16_t *in = w->input;
  const int16_t *coef = w->coefficients;
  int16_t *out = w->output;
  int16_t max_abs = 0;
  for (size_t i = 0; i < w->size; ++i) {
    const int16_t v = (int16_t)(((int32_t)in[i] * coef[i]) >> KWS_WINDOW_BITS);
    out[i] = v;
    /* |v| in 16 bits: |-32768| wraps to -32768 and never becomes the maximum. */
    const int16_t a = v < 0 ? kws_wrap16(-(int32_t)v) : v;
    if (a > max_abs) max_abs = a;
  }
  w->max_abs_output = max_abs;
  memmove(w->input, w->input + w->step, (w->size - w->step) * sizeof(*w->input));
  w->used -= w->step;
  return 1;
}

void kws_window_reset(kws_window_t *w) {
  memset(w->input, 0, w->size * sizeof(*w->input));
  memset(w->output, 0, w->size * sizeof(*w->output));
  w->used = 0;
  w->max_abs_output = 0;
}
