#include "frontend/window.h"

#include <string.h>

#include "frontend/dsp16.h"

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

  /* Windowed samples, and the OR of their magnitudes: its top bit is the top bit of the
   * largest magnitude, all the FFT's scaling needs. The reference's 16-bit abs turns
   * -32768 into -32768, which never wins; masking bit 15 at the end does the same. */
  uint32_t magnitudes = 0;
#ifdef KWS_DSP16_NATIVE
  const int packed = (w->size & 1) == 0; /* two samples per instruction on the M33 */
#else
  const int packed = 0; /* the plain loop is faster on a PC */
#endif
  if (packed) {
    const uint32_t *in = (const uint32_t *)(const void *)w->input;
    const uint32_t *coef = (const uint32_t *)(const void *)w->coefficients;
    uint32_t *out = (uint32_t *)(void *)w->output;
    for (size_t i = 0; i < w->size / 2; ++i) {
      const int32_t v0 = kws_smlabb(in[i], coef[i], 0) >> KWS_WINDOW_BITS;
      const int32_t v1 = kws_smultt(in[i], coef[i]) >> KWS_WINDOW_BITS;
      out[i] = kws_pack16(v0, v1);
      magnitudes |= (uint32_t)((v0 ^ (v0 >> 31)) - (v0 >> 31));
      magnitudes |= (uint32_t)((v1 ^ (v1 >> 31)) - (v1 >> 31));
    }
  } else {
    for (size_t i = 0; i < w->size; ++i) {
      const int32_t v = ((int32_t)w->input[i] * w->coefficients[i]) >> KWS_WINDOW_BITS;
      w->output[i] = (int16_t)v;
      magnitudes |= (uint32_t)((v ^ (v >> 31)) - (v >> 31));
    }
  }
  w->max_abs_output = (int16_t)(magnitudes & 0x7FFFu);
  w->has_min16 = (magnitudes & 0x8000u) != 0; /* only |-32768| sets bit 15 */
  /* Slide by one step (word copies when both halves are even). */
  const size_t keep = w->size - w->step;
  if (((keep | w->step) & 1) == 0) {
    uint32_t *dst = (uint32_t *)(void *)w->input;
    const uint32_t *src = (const uint32_t *)(const void *)(w->input + w->step);
    for (size_t i = 0; i < keep / 2; ++i) dst[i] = src[i];
  } else {
    memmove(w->input, w->input + w->step, keep * sizeof(*w->input));
  }
  w->used -= w->step;
  return 1;
}

void kws_window_reset(kws_window_t *w) {
  memset(w->input, 0, w->size * sizeof(*w->input));
  memset(w->output, 0, w->size * sizeof(*w->output));
  w->used = 0;
  w->max_abs_output = 0;
}
