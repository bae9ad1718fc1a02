#include "frontend/fft.h"

#include <string.h>

#include "frontend/bits.h"
#include "frontend/dsp16.h"

/* Two implementations of the same arithmetic: packed 16-bit lanes where the DSP extension
 * makes each lane operation one instruction (the M33), plain integers elsewhere (faster on
 * a PC). tests/c/test_frontend_stages.c builds both on the host and checks they agree bit
 * for bit; the golden and MLTK tests check the plain one, the QEMU test the packed one. */
#ifndef KWS_FFT_PACKED
#define KWS_FFT_PACKED KWS_DSP16_NATIVE_OR_0
#endif

/* The first k (>= 1) of the real split's pairs k, n - k with a bin the caller reads: pair k
 * is left out when k < read_from and n - k >= read_to. */
static size_t first_split_pair(const kws_fft_t *f) {
  const size_t top = f->read_to > f->n ? 0 : f->n - f->read_to + 1;
  const size_t k = f->read_from < top ? f->read_from : top;
  return k > 1 ? k : 1;
}

/* The split's DC and Nyquist bins, when either is read. */
static int reads_dc_or_nyquist(const kws_fft_t *f) {
  return f->read_from == 0 || f->read_to > f->n;
}

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

/* The radix-4 outputs from the even pair's sum and difference and the odd pair b1, b3:
 * f[0] = s02 + s13, f[2m] = s02 - s13, f[m] = d02 - j*d13, f[3m] = d02 + j*d13. */
static inline __attribute__((always_inline)) void radix4_outputs(uint32_t *f, size_t m,
                                                                 uint32_t s02, uint32_t d02,
                                                                 uint32_t b1, uint32_t b3) {
  const uint32_t s13 = kws_add16(b1, b3), d13 = kws_sub16(b1, b3);
  f[0] = kws_add16(s02, s13);
  f[2 * m] = kws_sub16(s02, s13);
  f[m] = kws_sax16(d02, d13);
  f[3 * m] = kws_asx16(d02, d13);
}

static inline void butterfly4(uint32_t *f, size_t m, uint32_t w1, uint32_t w2, uint32_t w3) {
  const uint32_t a0 = scale(f[0], QUARTER);
  const uint32_t b1 = cmul(scale(f[m], QUARTER), w1);
  const uint32_t b2 = cmul(scale(f[2 * m], QUARTER), w2);
  const uint32_t b3 = cmul(scale(f[3 * m], QUARTER), w3);
  radix4_outputs(f, m, kws_add16(a0, b2), kws_sub16(a0, b2), b1, b3);
}

/* A butterfly whose middle twiddle is tw[n/4] = (0, -32767), i.e. -j (k = m/2): that
 * product is (x.i, -x.r) exactly whenever both parts lie in [-2^14, 2^14] (as for the unit
 * twiddle below), so a0 +/- b2 are a0 -/+ j x2: SSAX / SASX. */
static inline void butterfly4_minus_j(uint32_t *f, size_t m, uint32_t w1, uint32_t w3) {
  const uint32_t a0 = scale(f[0], QUARTER);
  const uint32_t b1 = cmul(scale(f[m], QUARTER), w1);
  const uint32_t x2 = scale(f[2 * m], QUARTER);
  const uint32_t b3 = cmul(scale(f[3 * m], QUARTER), w3);
  radix4_outputs(f, m, kws_sax16(a0, x2), kws_asx16(a0, x2), b1, b3);
}

/* A butterfly whose twiddles are all (32767, 0) (k = 0): such a product returns its input
 * whenever the input lies in (-2^14, 2^14] (x + floor((2^14 - x) / 2^15) = x), and every
 * value scaled by 1/4 or 1/2 does (|x| <= 8192, resp. -16383..16383). */
static inline void butterfly4_unit(uint32_t *f, size_t m) {
  const uint32_t a0 = scale(f[0], QUARTER);
  const uint32_t b1 = scale(f[m], QUARTER);
  const uint32_t b2 = scale(f[2 * m], QUARTER);
  const uint32_t b3 = scale(f[3 * m], QUARTER);
  radix4_outputs(f, m, kws_add16(a0, b2), kws_sub16(a0, b2), b1, b3);
}

static inline void butterfly2_unit(uint32_t *f, size_t m) {
  const uint32_t a = scale(f[0], HALF);
  const uint32_t b = scale(f[m], HALF);
  f[m] = kws_sub16(a, b);
  f[0] = kws_add16(a, b);
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

/* Scaled by 1/4 after the input shift, in one step: when no sample wraps in the shift (no
 * -32768 in the window, see window.h), (16382 (x << s) + 2^15) >> 16 equals
 * (16382 x + 2^(15-s)) >> (16-s). */
static inline uint32_t shift_and_quarter(uint32_t x, int s) {
  const int32_t round = 1 << (15 - s);
  const int32_t lo = kws_smlabb(x, QUARTER, round) >> (16 - s);
  /* the high lane's bits 16-s..31-s, moved to the top half */
  const uint32_t hi = (uint32_t)kws_smlatb(x, QUARTER, round) << s;
  return kws_pack_halves((uint32_t)lo, hi);
}

/* The same with s a compile-time constant (first_stage_shift): LSL #s and PKHTB ASR #(16-s),
 * four instructions per word instead of five. */
static inline __attribute__((always_inline)) uint32_t shift_and_quarter_const(uint32_t x,
                                                                                int s) {
  const int32_t round = 1 << (15 - s);
  const int32_t lo = kws_smlabb(x, QUARTER, round);
  const uint32_t hi = (uint32_t)kws_smlatb(x, QUARTER, round) << s;
#ifdef KWS_DSP16_NATIVE
  uint32_t r;
  __asm("pkhtb %0, %1, %2, asr %3" : "=r"(r) : "r"(hi), "r"(lo), "n"(16 - s));
  return r;
#else
  return kws_pack_halves((uint32_t)(lo >> (16 - s)), hi);
#endif
}

/* The innermost stage (m = 1) reads its inputs straight from the signal in decimation order,
 * shifting them on the way. */
/* Radix-4 unit butterflies straight from the signal, no -32768 in the input. `constant` (a
 * literal at every call) picks the variant whose shift GCC folds into immediates. */
static inline __attribute__((always_inline)) void unit_radix4_shifted(const kws_fft_t *f,
                                                                      const uint32_t *in,
                                                                      int s, int constant,
                                                                      uint32_t *z, size_t n) {
  const size_t groups = n / 4, step = n / 4;
  const uint16_t *order = f->input_order;
  for (size_t g = 0; g < groups; ++g, z += 4) {
    const uint32_t *x = in + order[4 * g];
#define KWS_QUARTER(v) (constant ? shift_and_quarter_const((v), s) : shift_and_quarter((v), s))
    const uint32_t a0 = KWS_QUARTER(x[0]);
    const uint32_t b1 = KWS_QUARTER(x[step]);
    const uint32_t b2 = KWS_QUARTER(x[2 * step]);
    const uint32_t b3 = KWS_QUARTER(x[3 * step]);
#undef KWS_QUARTER
    radix4_outputs(z, 1, kws_add16(a0, b2), kws_sub16(a0, b2), b1, b3);
  }
}

/* Radix 4, no -32768 in the input, the shift a compile-time constant. */
static inline __attribute__((always_inline)) void first_stage_shift(const kws_fft_t *f,
                                                                    const uint32_t *in, int s,
                                                                    uint32_t *z, size_t n) {
  unit_radix4_shifted(f, in, s, 1, z, n);
}

/* The innermost stage's twiddles are all (32767, 0): unit butterflies. */
static inline __attribute__((always_inline)) void first_stage(const kws_fft_t *f,
                                                              const uint32_t *in, int shift,
                                                              int exact, uint32_t *z,
                                                              size_t n) {
  const size_t p = f->radix[f->n_stages - 1], groups = n / p, step = n / p;
  const uint16_t *order = f->input_order;
  if (p == 4 && exact) {
    unit_radix4_shifted(f, in, shift, 0, z, n);
    return;
  }
  for (size_t g = 0; g < groups; ++g) {
    const uint32_t *x = in + order[g * p];
    uint32_t *o = z + g * p;
    o[0] = shift_lanes(x[0], shift);
    o[1] = shift_lanes(x[step], shift);
    if (p == 4) {
      o[2] = shift_lanes(x[2 * step], shift);
      o[3] = shift_lanes(x[3 * step], shift);
      butterfly4_unit(o, 1);
    } else {
      butterfly2_unit(o, 1);
    }
  }
}

/* Butterfly k of every group of a radix-4 stage; twiddle k is shared by the groups. */
static inline __attribute__((always_inline)) void radix4_k(uint32_t *z, size_t n, size_t m,
                                                           const uint32_t *tw, size_t k) {
  const size_t span = 4 * m, groups = n / span;
  const uint32_t w1 = tw[k * groups], w2 = tw[2 * k * groups], w3 = tw[3 * k * groups];
  uint32_t *x = z + k;
  for (size_t g = 0; g < groups; ++g, x += span) butterfly4(x, m, w1, w2, w3);
}

/* One radix-4 stage over z[n] with m butterflies per group. Inlined with constant n and m
 * for the common sizes, so strides become immediates and loops unroll where they are short.
 * The loop over k is split around k = m/2 (a branch inside it costs more than it saves). */
static inline __attribute__((always_inline)) void radix4_stage(uint32_t *z, size_t n, size_t m,
                                                               const uint32_t *tw) {
  const size_t span = 4 * m, groups = n / span;
  for (size_t g = 0; g < groups; ++g) butterfly4_unit(z + g * span, m); /* k = 0 */
  size_t k = 1;
  for (; 2 * k < m; ++k) radix4_k(z, n, m, tw, k);
  if (2 * k == m) { /* w2 = tw[2 k groups] = tw[n/4] = -j */
    const uint32_t w1 = tw[k * groups], w3 = tw[3 * k * groups];
    uint32_t *x = z + k;
    for (size_t g = 0; g < groups; ++g, x += span) butterfly4_minus_j(x, m, w1, w3);
    ++k;
  }
  for (; k < m; ++k) radix4_k(z, n, m, tw, k);
}

static void complex_fft(const kws_fft_t *f, const uint32_t *in, int shift, int exact,
                        uint32_t *z) {
  const size_t n = f->n;
  const uint32_t *tw = (const uint32_t *)(const void *)f->twiddles;
  if (n == 256) { /* fft_length 512 (the seed's): four radix-4 stages */
    /* The first stage once per input shift: the shifts become immediates (4 instructions
     * per word instead of 5). */
    switch (exact ? shift : -1) {
#define KWS_FIRST_STAGE_SHIFT(s)                \
  case s:                                       \
    first_stage_shift(f, in, s, z, 256);        \
    break;
      KWS_FIRST_STAGE_SHIFT(0) KWS_FIRST_STAGE_SHIFT(1) KWS_FIRST_STAGE_SHIFT(2)
      KWS_FIRST_STAGE_SHIFT(3) KWS_FIRST_STAGE_SHIFT(4) KWS_FIRST_STAGE_SHIFT(5)
      KWS_FIRST_STAGE_SHIFT(6) KWS_FIRST_STAGE_SHIFT(7) KWS_FIRST_STAGE_SHIFT(8)
      KWS_FIRST_STAGE_SHIFT(9) KWS_FIRST_STAGE_SHIFT(10) KWS_FIRST_STAGE_SHIFT(11)
      KWS_FIRST_STAGE_SHIFT(12) KWS_FIRST_STAGE_SHIFT(13) KWS_FIRST_STAGE_SHIFT(14)
      KWS_FIRST_STAGE_SHIFT(15)
#undef KWS_FIRST_STAGE_SHIFT
      default:
        first_stage(f, in, shift, exact, z, 256);
    }
    radix4_stage(z, 256, 4, tw);
    radix4_stage(z, 256, 16, tw);
    radix4_stage(z, 256, 64, tw);
    return;
  }
  first_stage(f, in, shift, exact, z, n);
  size_t m = f->radix[f->n_stages - 1];
  for (int s = f->n_stages - 2; s >= 0; --s) {
    const size_t p = f->radix[s], span = p * m, groups = n / span;
    if (p == 4) {
      radix4_stage(z, n, m, tw);
    } else {
      for (size_t g = 0; g < groups; ++g) butterfly2_unit(z + g * span, m);
      for (size_t k = 1; k < m; ++k) {
        const uint32_t w1 = tw[k * groups];
        uint32_t *x = z + k;
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
  const int exact = !(input_shift & KWS_FFT_INPUT_MAY_WRAP);
  complex_fft(f, (const uint32_t *)(const void *)input, input_shift & 15, exact, z);

  /* Split the transform of the even/odd interleaved signal into the real spectrum. */
  if (reads_dc_or_nyquist(f)) {
    const uint32_t dc = scale(z[0], HALF);
    out[0] = (uint32_t)(kws_lo16(dc) + kws_hi16(dc)) & 0xFFFFu;
    out[n] = (uint32_t)(kws_lo16(dc) - kws_hi16(dc)) & 0xFFFFu;
  }
  /* Pointers walk bin k up and bin n - k down (k = first..n/2): no index arithmetic. */
  const size_t first = first_split_pair(f);
  const uint32_t *zk = z + first, *zm = z + n - first;
  uint32_t *lo = out + first, *hi = out + n - first;
  const uint32_t *const st_end = st + n / 2;
  st += first - 1;
  for (; st != st_end; ++st, ++zk, --zm, ++lo, --hi) {
    const uint32_t mirror = (*zm ^ 0xFFFF0000u) + 0x10000u; /* conjugate: negate imag */
    const uint32_t a = scale(*zk, HALF);
    const uint32_t b = scale(mirror, HALF);
    const uint32_t sum = kws_add16(a, b);
    const uint32_t t = cmul(kws_sub16(a, b), *st);
    *lo = kws_hadd16(sum, t);
    /* ((sum.r - t.r) >> 1, (t.i - sum.i) >> 1) */
    *hi = kws_hsub16(kws_pack_halves(sum, t), kws_pack_halves(t, sum));
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

#if defined(__SSE2__)
/* Four butterflies at once with SSE2 (PCs): the same lane arithmetic as radix4 above. */
#include <emmintrin.h>

static inline __m128i v_round15(__m128i x) {
  return _mm_srai_epi32(_mm_add_epi32(x, _mm_set1_epi32(1 << 14)), 15);
}

/* sround(x * factor) per 16-bit lane (results fit 16 bits for factors <= 16383). */
static inline __m128i v_scale(__m128i x, __m128i factor) {
  const __m128i lo = _mm_mullo_epi16(x, factor), hi = _mm_mulhi_epi16(x, factor);
  return _mm_packs_epi32(v_round15(_mm_unpacklo_epi16(lo, hi)),
                         v_round15(_mm_unpackhi_epi16(lo, hi)));
}

static inline __m128i v_negate_imag(__m128i x) {
  const __m128i odd = _mm_set1_epi32((int)0xFFFF0000u);
  return _mm_sub_epi16(_mm_xor_si128(x, odd), odd);
}

static inline __m128i v_swap_parts(__m128i x) {
  return _mm_shufflehi_epi16(_mm_shufflelo_epi16(x, 0xB1), 0xB1);
}

/* Complex products, each part rounded from Q15 and wrapped to 16 bits. */
static inline __m128i v_cmul(__m128i a, __m128i w) {
  __m128i re = v_round15(_mm_madd_epi16(a, v_negate_imag(w)));
  __m128i im = v_round15(_mm_madd_epi16(a, v_swap_parts(w)));
  re = _mm_srai_epi32(_mm_slli_epi32(re, 16), 16);
  im = _mm_srai_epi32(_mm_slli_epi32(im, 16), 16);
  return _mm_packs_epi32(_mm_unpacklo_epi32(re, im), _mm_unpackhi_epi32(re, im));
}

static inline __m128i v_twiddles(const kws_cpx16_t *tw, size_t step) {
  uint32_t t[4];
  for (int j = 0; j < 4; ++j) memcpy(&t[j], &tw[j * step], 4);
  return _mm_set_epi32((int)t[3], (int)t[2], (int)t[1], (int)t[0]);
}

static void radix4_x4(kws_cpx16_t *f, size_t m, __m128i w1, __m128i w2, __m128i w3) {
  const __m128i q = _mm_set1_epi16(8191);
  __m128i *p0 = (__m128i *)(void *)f, *p1 = (__m128i *)(void *)(f + m);
  __m128i *p2 = (__m128i *)(void *)(f + 2 * m), *p3 = (__m128i *)(void *)(f + 3 * m);
  const __m128i a0 = v_scale(_mm_loadu_si128(p0), q);
  const __m128i b1 = v_cmul(v_scale(_mm_loadu_si128(p1), q), w1);
  const __m128i b2 = v_cmul(v_scale(_mm_loadu_si128(p2), q), w2);
  const __m128i b3 = v_cmul(v_scale(_mm_loadu_si128(p3), q), w3);
  const __m128i s02 = _mm_add_epi16(a0, b2), d02 = _mm_sub_epi16(a0, b2);
  const __m128i s13 = _mm_add_epi16(b1, b3), d13 = _mm_sub_epi16(b1, b3);
  const __m128i t = v_negate_imag(v_swap_parts(d13)); /* -j * d13 */
  _mm_storeu_si128(p0, _mm_add_epi16(s02, s13));
  _mm_storeu_si128(p2, _mm_sub_epi16(s02, s13));
  _mm_storeu_si128(p1, _mm_add_epi16(d02, t));
  _mm_storeu_si128(p3, _mm_sub_epi16(d02, t));
}

/* The innermost stage for four groups at once: gather, shift, butterfly, transpose back. */
static void first_stage_x4(const kws_cpx16_t *in, const uint16_t *order, size_t step,
                           int shift, kws_cpx16_t *o) {
  const __m128i q = _mm_set1_epi16(8191), w = _mm_set1_epi32(32767); /* twiddle (32767, 0) */
  const __m128i count = _mm_cvtsi32_si128(shift);
  __m128i x[4];
  for (int k = 0; k < 4; ++k) {
    uint32_t t[4];
    for (int g = 0; g < 4; ++g) memcpy(&t[g], &in[order[4 * g] + (size_t)k * step], 4);
    x[k] = _mm_sll_epi16(_mm_set_epi32((int)t[3], (int)t[2], (int)t[1], (int)t[0]), count);
  }
  const __m128i a0 = v_scale(x[0], q);
  const __m128i b1 = v_cmul(v_scale(x[1], q), w);
  const __m128i b2 = v_cmul(v_scale(x[2], q), w);
  const __m128i b3 = v_cmul(v_scale(x[3], q), w);
  const __m128i s02 = _mm_add_epi16(a0, b2), d02 = _mm_sub_epi16(a0, b2);
  const __m128i s13 = _mm_add_epi16(b1, b3), d13 = _mm_sub_epi16(b1, b3);
  const __m128i t = v_negate_imag(v_swap_parts(d13));
  const __m128i r0 = _mm_add_epi16(s02, s13), r2 = _mm_sub_epi16(s02, s13);
  const __m128i r1 = _mm_add_epi16(d02, t), r3 = _mm_sub_epi16(d02, t);
  /* r_k holds output k of groups 0..3; group g's four outputs are contiguous. */
  const __m128i t0 = _mm_unpacklo_epi32(r0, r1), t1 = _mm_unpacklo_epi32(r2, r3);
  const __m128i t2 = _mm_unpackhi_epi32(r0, r1), t3 = _mm_unpackhi_epi32(r2, r3);
  __m128i *out = (__m128i *)(void *)o;
  _mm_storeu_si128(out + 0, _mm_unpacklo_epi64(t0, t1));
  _mm_storeu_si128(out + 1, _mm_unpackhi_epi64(t0, t1));
  _mm_storeu_si128(out + 2, _mm_unpacklo_epi64(t2, t3));
  _mm_storeu_si128(out + 3, _mm_unpackhi_epi64(t2, t3));
}

/* floor((a + b) / 2) and floor((a - b) / 2) per lane, without 16-bit overflow. */
static inline __m128i v_hadd(__m128i a, __m128i b) {
  const __m128i one = _mm_set1_epi16(1);
  return _mm_add_epi16(_mm_add_epi16(_mm_srai_epi16(a, 1), _mm_srai_epi16(b, 1)),
                       _mm_and_si128(_mm_and_si128(a, b), one));
}
static inline __m128i v_hsub(__m128i a, __m128i b) {
  const __m128i one = _mm_set1_epi16(1);
  return _mm_sub_epi16(_mm_sub_epi16(_mm_srai_epi16(a, 1), _mm_srai_epi16(b, 1)),
                       _mm_and_si128(_mm_andnot_si128(a, b), one));
}

/* The real split for bins k..k+3 and their mirrors n-k-3..n-k. */
static void split_x4(const kws_cpx16_t *z, const kws_cpx16_t *st, size_t n, size_t k,
                     kws_cpx16_t *out) {
  const __m128i h = _mm_set1_epi16(16383), lo = _mm_set1_epi32(0xFFFF);
  const __m128i zk = _mm_loadu_si128((const __m128i *)(const void *)(z + k));
  const __m128i znk = _mm_shuffle_epi32(
      _mm_loadu_si128((const __m128i *)(const void *)(z + n - k - 3)), 0x1B);
  const __m128i a = v_scale(zk, h), b = v_scale(v_negate_imag(znk), h);
  const __m128i sum = _mm_add_epi16(a, b);
  const __m128i t = v_cmul(_mm_sub_epi16(a, b),
                           _mm_loadu_si128((const __m128i *)(const void *)(st + k - 1)));
  _mm_storeu_si128((__m128i *)(void *)(out + k), v_hadd(sum, t));
  const __m128i u = _mm_or_si128(_mm_and_si128(sum, lo), _mm_andnot_si128(lo, t));
  const __m128i v = _mm_or_si128(_mm_and_si128(t, lo), _mm_andnot_si128(lo, sum));
  _mm_storeu_si128((__m128i *)(void *)(out + n - k - 3), _mm_shuffle_epi32(v_hsub(u, v), 0x1B));
}
#endif

static void complex_fft(const kws_fft_t *f, const kws_cpx16_t *in, int shift,
                        kws_cpx16_t *z) {
  const size_t n = f->n;
  const kws_cpx16_t *tw = f->twiddles;
  /* Innermost stage (m = 1): inputs straight from the signal in decimation order. */
  const size_t p0 = f->radix[f->n_stages - 1], step = n / p0;
  size_t g0 = 0;
#if defined(__SSE2__)
  if (p0 == 4) {
    for (; g0 + 4 <= n / 4; g0 += 4) first_stage_x4(in, f->input_order + 4 * g0, step, shift, z + 4 * g0);
  }
#endif
  for (size_t g = g0; g < n / p0; ++g) {
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
#if defined(__SSE2__)
      if (p == 4 && m % 4 == 0) {
        const __m128i w1 = v_twiddles(tw + k * groups, groups);
        const __m128i w2 = v_twiddles(tw + 2 * k * groups, 2 * groups);
        const __m128i w3 = v_twiddles(tw + 3 * k * groups, 3 * groups);
        for (size_t g = 0; g < groups; ++g, x += span) radix4_x4(x, m, w1, w2, w3);
        k += 3;
        continue;
      }
#endif
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
  complex_fft(f, (const kws_cpx16_t *)(const void *)input, input_shift & 15, z);

  /* Split the transform of the even/odd interleaved signal into the real spectrum. */
  if (reads_dc_or_nyquist(f)) {
    const kws_cpx16_t dc = scale_down(z[0], 16383);
    output[0].r = kws_wrap16(dc.r + dc.i);
    output[0].i = 0;
    output[n].r = kws_wrap16(dc.r - dc.i);
    output[n].i = 0;
  }
  size_t k0 = first_split_pair(f);
#if defined(__SSE2__)
  for (; k0 + 3 <= n / 2; k0 += 4) split_x4(z, f->split_twiddles, n, k0, output);
#endif
  for (size_t k = k0; k <= n / 2; ++k) {
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
