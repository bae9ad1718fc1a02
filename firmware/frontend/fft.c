#include "frontend/fft.h"

#include "frontend/bits.h"
#include "frontend/dsp16.h"

/* Two implementations of the same arithmetic: packed 16-bit lanes where the DSP extension
 * makes each lane operation one instruction (the M33), plain integers elsewhere (faster on
 * a PC). tests/c/test_frontend_stages.c builds both on the host and checks they agree bit
 * for bit; the golden and MLTK tests check the plain one, the QEMU test the packed one. */
#ifndef KWS_FFT_PACKED
#define KWS_FFT_PACKED KWS_DSP16_NATIVE_OR_0
#endif

#if KWS_FFT_PACKED

/* Complex values travel as packed words (real in the low half); see dsp16.h. Every step is
 * the kissfft fixed-point operation, lane by lane:
 *   scale by 1/p:  sround(x * (32767/p)) = (x * 2*(32767/p) + 2^15) >> 16 (same value)
 *   product:       sround(a.r*b.r - a.i*b.i), sround(a.r*b.i + a.i*b.r), sround = +2^14 >> 15
 *   sums:          16-bit wrap-around. */

static inline uint32_t scale(uint32_t x, uint32_t twice_factor) {
  const int32_t lo = kws_smlabb(x, twice_factor, 1 << 15);
  const int32_t hi = kws_smlatb(x, twice_factor, 1 << 15);
  return kws_pack_tops(lo, hi);
}

static inline uint32_t cmul(uint32_t a, uint32_t w) {
  const int32_t re = kws_smlsd(a, w, 1 << 14);
  const int32_t im = kws_smladx(a, w, 1 << 14);
  return kws_pack_q15(re, im); /* (re >> 15, im >> 15) in 16 bits */
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

#else /* plain integers */

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
/* Butterflies over f[0], f[m], f[2m], f[3m] with the twiddles of their position. */
static inline __attribute__((always_inline)) void radix4(kws_cpx16_t *f, size_t m,
                                                        kws_cpx16_t w1, kws_cpx16_t w2,
                          kws_cpx16_t w3) {
  const kws_cpx16_t a0 = scale_down(f[0], 8191);
  const kws_cpx16_t b1 = cmul(scale_down(f[m], 8191), w1);
  const kws_cpx16_t b2 = cmul(scale_down(f[2 * m], 8191), w2);
  const kws_cpx16_t b3 = cmul(scale_down(f[3 * m], 8191), w3);
  const kws_cpx16_t d02 = csub(a0, b2);
  const kws_cpx16_t s02 = cadd(a0, b2);
  const kws_cpx16_t s13 = cadd(b1, b3);
  const kws_cpx16_t d13 = csub(b1, b3);
  f[2 * m] = csub(s02, s13);
  f[0] = cadd(s02, s13);
  /* d02 -/+ j*d13 */
  f[m].r = kws_wrap16(d02.r + d13.i);
  f[m].i = kws_wrap16(d02.i - d13.r);
  f[3 * m].r = kws_wrap16(d02.r - d13.i);
  f[3 * m].i = kws_wrap16(d02.i + d13.r);
}

static inline void radix2(kws_cpx16_t *f, size_t m, kws_cpx16_t w1) {
  const kws_cpx16_t a = scale_down(f[0], 16383);
  const kws_cpx16_t b = cmul(scale_down(f[m], 16383), w1);
  f[m] = csub(a, b);
  f[0] = cadd(a, b);
}

static inline kws_cpx16_t shifted(kws_cpx16_t x, int s) {
  kws_cpx16_t r = {(int16_t)(uint16_t)((uint32_t)(uint16_t)x.r << s),
                   (int16_t)(uint16_t)((uint32_t)(uint16_t)x.i << s)};
  return r;
}

static void complex_fft(const kws_fft_t *f, const kws_cpx16_t *in, int shift,
                        kws_cpx16_t *z) {
  const size_t n = f->n;
  const kws_cpx16_t *tw = f->twiddles;
  /* Innermost stage (m = 1): inputs straight from the signal in decimation order. */
  const size_t p0 = f->radix[f->n_stages - 1], step = n / p0;
  for (size_t g = 0; g < n / p0; ++g) {
    const kws_cpx16_t *x = in + f->input_order[g * p0];
    kws_cpx16_t *o = z + g * p0;
    for (size_t q = 0; q < p0; ++q) o[q] = shifted(x[q * step], shift);
    if (p0 == 4) {
      radix4(o, 1, tw[0], tw[0], tw[0]);
    } else {
      radix2(o, 1, tw[0]);
    }
  }
  /* Outer stages; twiddle k is shared by every group of a stage. */
  size_t m = p0;
  for (int s = f->n_stages - 2; s >= 0; --s) {
    const size_t p = f->radix[s], span = p * m, groups = n / span;
    for (size_t k = 0; k < m; ++k) {
      kws_cpx16_t *x = z + k;
      if (p == 4) {
        const kws_cpx16_t w1 = tw[k * groups], w2 = tw[2 * k * groups], w3 = tw[3 * k * groups];
        for (size_t g = 0; g < groups; ++g, x += span) radix4(x, m, w1, w2, w3);
      } else {
        for (size_t g = 0; g < groups; ++g, x += span) radix2(x, m, tw[k * groups]);
      }
    }
    m = span;
  }
}

void kws_fft_real(const kws_fft_t *f, const int16_t *input, int input_shift,
                  kws_cpx16_t *output) {
  const size_t n = f->n;
  kws_cpx16_t *z = f->work;
  complex_fft(f, (const kws_cpx16_t *)(const void *)input, input_shift, z);

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
#endif
