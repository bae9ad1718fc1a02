#include "frontend/fft.h"

#include "frontend/bits.h"

/* Q15 rounding of a 32-bit product sum. */
static inline int16_t q15_round(int32_t x) { return kws_wrap16((x + (1 << 14)) >> 15); }

/* x * (32767 / radix) in Q15: the per-stage scaling of a butterfly input. */
static inline kws_cpx16_t scale_down(kws_cpx16_t a, int32_t factor) {
  kws_cpx16_t r = {q15_round(a.r * factor), q15_round(a.i * factor)};
  return r;
}

static inline kws_cpx16_t cmul(kws_cpx16_t a, kws_cpx16_t b) {
  kws_cpx16_t r = {q15_round((int32_t)a.r * b.r - (int32_t)a.i * b.i),
                   q15_round((int32_t)a.r * b.i + (int32_t)a.i * b.r)};
  return r;
}

static inline kws_cpx16_t cadd(kws_cpx16_t a, kws_cpx16_t b) {
  kws_cpx16_t r = {kws_wrap16(a.r + b.r), kws_wrap16(a.i + b.i)};
  return r;
}

static inline kws_cpx16_t csub(kws_cpx16_t a, kws_cpx16_t b) {
  kws_cpx16_t r = {kws_wrap16(a.r - b.r), kws_wrap16(a.i - b.i)};
  return r;
}

/* One radix-2 butterfly group: m butterflies over f[0..2m), twiddle step `tw_step`. */
static void radix2(kws_cpx16_t *f, size_t m, size_t tw_step, const kws_cpx16_t *tw) {
  for (size_t k = 0; k < m; ++k) {
    const kws_cpx16_t a = scale_down(f[k], 16383);
    const kws_cpx16_t b = cmul(scale_down(f[k + m], 16383), tw[k * tw_step]);
    f[k + m] = csub(a, b);
    f[k] = cadd(a, b);
  }
}

/* One radix-4 butterfly group (forward transform). */
static void radix4(kws_cpx16_t *f, size_t m, size_t tw_step, const kws_cpx16_t *tw) {
  for (size_t k = 0; k < m; ++k) {
    const kws_cpx16_t a0 = scale_down(f[k], 8191);
    const kws_cpx16_t b1 = cmul(scale_down(f[k + m], 8191), tw[k * tw_step]);
    const kws_cpx16_t b2 = cmul(scale_down(f[k + 2 * m], 8191), tw[2 * k * tw_step]);
    const kws_cpx16_t b3 = cmul(scale_down(f[k + 3 * m], 8191), tw[3 * k * tw_step]);
    const kws_cpx16_t d02 = csub(a0, b2);
    const kws_cpx16_t s02 = cadd(a0, b2);
    const kws_cpx16_t s13 = cadd(b1, b3);
    const kws_cpx16_t d13 = csub(b1, b3);
    f[k + 2 * m] = csub(s02, s13);
    f[k] = cadd(s02, s13);
    /* d02 -/+ j*d13 */
    f[k + m].r = kws_wrap16(d02.r + d13.i);
    f[k + m].i = kws_wrap16(d02.i - d13.r);
    f[k + 3 * m].r = kws_wrap16(d02.r - d13.i);
    f[k + 3 * m].i = kws_wrap16(d02.i + d13.r);
  }
}

static void complex_fft(const kws_fft_t *f, const kws_cpx16_t *in, kws_cpx16_t *out) {
  const size_t n = f->n;
  for (size_t j = 0; j < n; ++j) out[j] = in[f->input_order[j]];
  /* Innermost stage first. Stage s has groups of radix*m points; `stride` (the product of
   * the outer radices) is both the number of groups and the twiddle step. */
  size_t m = 1;
  for (int s = f->n_stages - 1; s >= 0; --s) {
    const size_t p = f->radix[s];
    const size_t span = p * m;
    const size_t stride = n / span;
    for (size_t g = 0; g < stride; ++g) {
      if (p == 4) {
        radix4(out + g * span, m, stride, f->twiddles);
      } else {
        radix2(out + g * span, m, stride, f->twiddles);
      }
    }
    m = span;
  }
}

void kws_fft_real(const kws_fft_t *f, const int16_t *input, kws_cpx16_t *output) {
  const size_t n = f->n;
  kws_cpx16_t *z = f->work;
  complex_fft(f, (const kws_cpx16_t *)(const void *)input, z);

  /* Split the transform of the even/odd interleaved signal into the real spectrum. */
  const kws_cpx16_t dc = scale_down(z[0], 16383);
  output[0].r = kws_wrap16(dc.r + dc.i);
  output[0].i = 0;
  output[n].r = kws_wrap16(dc.r - dc.i);
  output[n].i = 0;
  for (size_t k = 1; k <= n / 2; ++k) {
    kws_cpx16_t conj_mirror = {z[n - k].r, kws_wrap16(-(int32_t)z[n - k].i)};
    const kws_cpx16_t a = scale_down(z[k], 16383);
    const kws_cpx16_t b = scale_down(conj_mirror, 16383);
    const kws_cpx16_t sum = cadd(a, b);
    const kws_cpx16_t t = cmul(csub(a, b), f->split_twiddles[k - 1]);
    output[k].r = kws_wrap16((sum.r + t.r) >> 1);
    output[k].i = kws_wrap16((sum.i + t.i) >> 1);
    output[n - k].r = kws_wrap16((sum.r - t.r) >> 1);
    output[n - k].i = kws_wrap16((t.i - sum.i) >> 1);
  }
}
