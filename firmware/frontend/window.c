#include "frontend/window.h"

#include <string.h>

#include "frontend/dsp16.h"

#if KWS_WINDOW_STORED_BITS != 16
#error "SMULWB / SMULWT take the high word of the product"
#endif
#ifndef KWS_WINDOW_PACKED /* two samples per instruction where the core has DSP lanes */
#define KWS_WINDOW_PACKED KWS_DSP16_NATIVE_OR_0
#endif

/* The OR of the magnitudes has the top bit of the largest; masking bit 15 at the end
 * leaves out -32768 (only |-32768| sets it). */
static void plain_window(kws_window_t *w) {
  uint32_t magnitudes = 0;
  for (size_t i = 0; i < w->size; ++i) {
    const int32_t v = (int32_t)(((int64_t)w->input[i] * w->coefficients[i]) >> KWS_WINDOW_STORED_BITS);
    w->output[i] = (int16_t)v;
    magnitudes |= (uint32_t)((v ^ (v >> 31)) - (v >> 31));
  }
  w->max_abs_output = (int16_t)(magnitudes & 0x7FFFu);
  w->has_min16 = (magnitudes & 0x8000u) != 0;
}

/* Two samples per word; the OR of the lane-wise magnitudes (SSUB16 + SEL) has the top bit
 * of the largest, as in plain_window. The input slides by one step on the way (each word
 * moves to its place once it has been read): size and step must be even. */
/* GCC unrolls these two loops (by 4 or 8) only when asked: ~700 instructions per row less
 * on the M33. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__ARM_ARCH)
#define KWS_UNROLLED __attribute__((optimize("unroll-loops")))
#else
#define KWS_UNROLLED
#endif

/* The next two coefficients (one LDRD on the M33, the pointer moved on). */
static inline void next_pair(const int32_t **coef, int32_t *c0, int32_t *c1) {
#ifdef KWS_DSP16_NATIVE
  __asm("ldrd %0, %1, [%2], #8" : "=r"(*c0), "=r"(*c1), "+r"(*coef) : : "memory");
#else
  *c0 = (*coef)[0];
  *c1 = (*coef)[1];
  *coef += 2;
#endif
}

/* Two samples times their coefficients, packed. */
static inline uint32_t window_pair(const int32_t **coef, uint32_t x) {
  int32_t c0, c1;
  next_pair(coef, &c0, &c1);
  return kws_pack_halves16(kws_smulwb(c0, x), kws_smulwt(c1, x));
}

KWS_UNROLLED static void packed_window_and_slide(kws_window_t *w) {
  uint32_t *in = (uint32_t *)(void *)w->input;
  const int32_t *coef = w->coefficients;
  uint32_t *out = (uint32_t *)(void *)w->output;
  const size_t words = w->size / 2, step = w->step / 2;
  uint32_t magnitudes = 0;
  size_t i = 0;
  for (; i < step; ++i) { /* the words the slide drops */
    const uint32_t v = window_pair(&coef, in[i]);
    out[i] = v;
    magnitudes |= kws_abs16(v);
  }
  for (; i < words; ++i) { /* the words it keeps */
    const uint32_t x = in[i];
    in[i - step] = x;
    const uint32_t v = window_pair(&coef, x);
    out[i] = v;
    magnitudes |= kws_abs16(v);
  }
  magnitudes |= magnitudes >> 16;
  w->max_abs_output = (int16_t)(magnitudes & 0x7FFFu);
  w->has_min16 = (magnitudes & 0x8000u) != 0;
}

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

  /* Windowed samples, and the top bit of their largest magnitude (all the FFT's scaling
   * needs). The reference's 16-bit abs turns -32768 into -32768, which never wins. */
  const size_t keep = w->size - w->step;
  if (KWS_WINDOW_PACKED && ((w->size | w->step) & 1) == 0) {
    packed_window_and_slide(w);
    w->used -= w->step;
    return 1;
  }
  plain_window(w);
  /* Slide by one step (word copies when both halves are even). */
  if (((keep | w->step) & 1) == 0) {
    uint32_t *dst = (uint32_t *)(void *)w->input;
    const uint32_t *src = (const uint32_t *)(const void *)(w->input + w->step);
    const size_t words = keep / 2;
    size_t i = 0;
    for (; i + 4 <= words; i += 4) { /* four words per turn */
      const uint32_t a = src[i], b = src[i + 1], c = src[i + 2], d = src[i + 3];
      dst[i] = a;
      dst[i + 1] = b;
      dst[i + 2] = c;
      dst[i + 3] = d;
    }
    for (; i < words; ++i) dst[i] = src[i];
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
