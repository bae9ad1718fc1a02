#include "frontend/fft.h"

#include "frontend/dsp16.h"

/* Complex values travel as packed words (real in the low half); see dsp16.h. Every step is
 * the kissfft fixed-point operation, lane by lane:
 *   scale by 1/p:  sround(x * (32767/p)) = (x * 2*(32767/p) + 2^15) >> 16 (same value)
 *   product:       sround(a.r*b.r - a.i*b.i), sround(a.r*b.i + a.i*b.r), sround = +2^14 >> 15
 *   sums:          16-bit wrap-around. */

static inline uint32_t scale(uint32_t x, uint32_t twice_factor) {
  const int32_t lo = kws_smlabb(x, twice_factor, 1 << 15);
  const int32_t hi = kws_smlatb(x, twice_factor, 1 << 15);
  return ((uint32_t)lo >> 16) | ((uint32_t)hi & 0xFFFF0000u);
}

static inline uint32_t cmul(uint32_t a, uint32_t w) {
  const int32_t re = kws_smlsd(a, w, 1 << 14);
  const int32_t im = kws_smladx(a, w, 1 << 14);
  return ((uint32_t)(re >> 15) & 0xFFFFu) | (((uint32_t)im << 1) & 0xFFFF0000u);
}

#define QUARTER 16382u /* 2 * (32767 / 4) */
#define HALF 32766u    /* 2 * (32767 / 2) */

static inline void butterfly4(uint32_t *f, size_t m, uint32_t w1, uint32_t w2, uint32_t w3) {
  const uint32_t a0 = scale(f[0], QUARTER);
  const uint32_t b1 = cmul(scale(f[m], QUARTER), w1);
  const uint32_t b2 = cmul(scale(f[2 * m], QUARTER), w2);
  const uint32_t b3 = cmul(scale(f[3 * m], QUARTER), w3);
  const uint32_t s02 = kws_add16(a0, b2), d02 = kws_sub16(a0, b2);
  const uint32_t s13 = kws_add16(b1, b3), d13 = kws_sub16(b1, b3);
  f[0] = kws_add16(s02, s13);
  f[2 * m] = kws_sub16(s02, s13);
  f[m] = kws_sax16(d02, d13);     /* d02 - j*d13 */
  f[3 * m] = kws_asx16(d02, d13); /* d02 + j*d13 */
}

static inline void butterfly2(uint32_t *f, size_t m, uint32_t w1) {
  const uint32_t a = scale(f[0], HALF);
  const uint32_t b = cmul(scale(f[m], HALF), w1);
  f[m] = kws_sub16(a, b);
  f[0] = kws_add16(a, b);
}

/* Both samples of a word shifted left in 16 bits (the frontend's input scaling). */
static inline uint32_t shift_lanes(uint32_t w, int s) {
  return ((w << s) & 0xFFFFu) | ((w & 0xFFFF0000u) << s);
}

/* The innermost stage (m = 1) reads its inputs straight from the signal in decimation order,
 * shifting them on the way. */
static void first_stage(const kws_fft_t *f, const uint32_t *in, int shift, uint32_t *z) {
  const size_t n = f->n, p = f->radix[f->n_stages - 1], groups = n / p, step = n / p;
  const uint32_t w = *(const uint32_t *)(const void *)&f->twiddles[0];
  for (size_t g = 0; g < groups; ++g) {
    const uint32_t *x = in + f->input_order[g * p];
    uint32_t *o = z + g * p;
    o[0] = shift_lanes(x[0], shift);
    o[1] = shift_lanes(x[step], shift);
    if (p == 4) {
      o[2] = shift_lanes(x[2 * step], shift);
      o[3] = shift_lanes(x[3 * step], shift);
      butterfly4(o, 1, w, w, w);
    } else {
      butterfly2(o, 1, w);
    }
  }
}

static void complex_fft(const kws_fft_t *f, const uint32_t *in, int shift, uint32_t *z) {
  const size_t n = f->n;
  const uint32_t *tw = (const uint32_t *)(const void *)f->twiddles;
  first_stage(f, in, shift, z);
  size_t m = f->radix[f->n_stages - 1];
  for (int s = f->n_stages - 2; s >= 0; --s) {
    const size_t p = f->radix[s], span = p * m, groups = n / span;
    /* Twiddle k is shared by every group: load it once per k. */
    for (size_t k = 0; k < m; ++k) {
      uint32_t *x = z + k;
      if (p == 4) {
        const uint32_t w1 = tw[k * groups], w2 = tw[2 * k * groups], w3 = tw[3 * k * groups];
        for (size_t g = 0; g < groups; ++g, x += span) butterfly4(x, m, w1, w2, w3);
      } else {
        const uint32_t w1 = tw[k * groups];
        for (size_t g = 0; g < groups; ++g, x += span) butterfly2(x, m, w1);
      }
    }
    m = span;
  }
}

void kws_fft_real(const kws_fft_t *f, const int16_t *input, int input_shift,
                  kws_cpx16_t *output) {
  const size_t n = f->n;
  uint32_t *z = (uint32_t *)(void *)f->work;
  uint32_t *out = (uint32_t *)(void *)output;
  const uint32_t *st = (const uint32_t *)(const void *)f->split_twiddles;
  complex_fft(f, (const uint32_t *)(const void *)input, input_shift, z);

  /* Split the transform of the even/odd interleaved signal into the real spectrum. */
  const uint32_t dc = scale(z[0], HALF);
  out[0] = (uint32_t)(kws_lo16(dc) + kws_hi16(dc)) & 0xFFFFu;
  out[n] = (uint32_t)(kws_lo16(dc) - kws_hi16(dc)) & 0xFFFFu;
  for (size_t k = 1; k <= n / 2; ++k) {
    const uint32_t mirror = (z[n - k] ^ 0xFFFF0000u) + 0x10000u; /* conjugate: negate imag */
    const uint32_t a = scale(z[k], HALF);
    const uint32_t b = scale(mirror, HALF);
    const uint32_t sum = kws_add16(a, b);
    const uint32_t t = cmul(kws_sub16(a, b), st[k - 1]);
    out[k] = kws_hadd16(sum, t);
    /* ((sum.r - t.r) >> 1, (t.i - sum.i) >> 1) */
    out[n - k] = kws_hsub16((sum & 0xFFFFu) | (t & 0xFFFF0000u), (t & 0xFFFFu) | (sum & 0xFFFF0000u));
  }
}
