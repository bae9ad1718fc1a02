/* Unit tests of the frontend's stages and C API that need no reference data: the rounded
 * square root against the digit-by-digit definition, the log table against its formula and
 * the log against a transcription of the reference's,
 * the FFT against a float DFT, buffer sizing and argument checks, chunked streaming. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "frontend/fft_util.h"
#include "frontend/filterbank.h"
#include "frontend/frontend.h"
#include "frontend/log_scale.h"
#include "kws_test.h"

#define PI 3.14159265358979323846

/* The definition: digit-by-digit integer root, then +1 when the remainder exceeds it. */
static uint64_t slow_rounded_sqrt(uint64_t x) {
  uint64_t rest = x, root = 0, bit = 1ull << 62;
  while (bit > x) bit >>= 2;
  while (bit) {
    if (rest >= root + bit) {
      rest -= root + bit;
      root = (root >> 1) + bit;
    } else {
      root >>= 1;
    }
    bit >>= 2;
  }
  const uint64_t top = (x >> 32) ? 0xFFFFFFFFu : 0xFFFFu;
  return (rest > root && root != top) ? root + 1 : root;
}

static uint64_t rng_state = 88172645463325252ull;
static uint64_t next_random(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

static void test_sqrt_matches_definition(void) {
  const uint64_t edges[] = {0, 1, 2, 3, 4, 0xFFFE0001u, 0xFFFF0000u, 0xFFFFFFFFu,
                            0x100000000ull, 0xFFFFFFFE00000001ull, 0xFFFFFFFFFFFFFFFFull};
  for (size_t i = 0; i < sizeof edges / sizeof edges[0]; ++i) {
    EXPECT_EQ(kws_filterbank_sqrt(edges[i]), slow_rounded_sqrt(edges[i]));
  }
  int bad = 0;
  for (int i = 0; i < 200000; ++i) {
    uint64_t x = next_random() >> (next_random() % 64);
    if (i % 3 == 0) { /* squares and their neighbours */
      const uint64_t r = x >> 32;
      x = r * r + (next_random() % 3) - 1;
    }
    bad += kws_filterbank_sqrt(x) != slow_rounded_sqrt(x);
  }
  EXPECT_EQ(bad, 0);
}

/* c[i] = round(65536 (log2(1 + i/128) - i/128)), c[128] = 0. */
static int32_t log_correction(int i) {
  return (int32_t)floor(65536.0 * (log2(1.0 + i / 128.0) - i / 128.0) + 0.5);
}

static void test_log_table_is_its_formula(void) {
  EXPECT_EQ(log_correction(KWS_LOG_SEGMENTS), 0);
  int bad = 0;
  for (int i = 0; i < KWS_LOG_SEGMENTS; ++i) {
    const int32_t c0 = log_correction(i), c1 = log_correction(i + 1);
    bad += (int32_t)(kws_log_segments[i] >> 16) != c0;
    bad += (int16_t)(uint16_t)kws_log_segments[i] != c1 - c0;
  }
  EXPECT_EQ(bad, 0);
}

/* The reference's log scale, transcribed step by step (uint32 shifts, 32-bit wrap). */
static uint16_t reference_log(uint32_t value, int scale_shift, int correction_bits) {
  if (correction_bits < 0) {
    value >>= -correction_bits;
  } else {
    value <<= correction_bits;
  }
  if (value <= 1) return 0;
  const uint32_t integer = 31u - (uint32_t)__builtin_clz(value);
  int32_t frac = (int32_t)(value - (1u << integer));
  if (integer < 16) {
    frac <<= 16 - integer;
  } else {
    frac >>= integer - 16;
  }
  const uint32_t seg = (uint32_t)frac >> 9;
  const int32_t c0 = log_correction((int)seg), c1 = log_correction((int)seg + 1);
  const int32_t rel = ((c1 - c0) * (frac - (int32_t)(512 * seg))) >> 16;
  const uint32_t log2 = (integer << 16) + (uint32_t)(frac + c0 + rel);
  const uint32_t ln = (uint32_t)(((uint64_t)log2 * 45426u + 32768u) >> 16);
  const uint32_t out = ((ln << scale_shift) + 32768u) >> 16;
  return (uint16_t)(out > 0xFFFF ? 0xFFFF : out);
}

/* Both of the log's code paths (a left or no correction shift; a right one)
 * against the transcription, for every shift and correction, at every power of two and
 * its neighbours, at random values and at the extremes. */
static void test_log_matches_reference(void) {
  uint32_t state = 2463534242u; /* its own generator: the other tests' inputs stay as they were */
  static uint32_t in[400];
  static uint16_t out[400];
  int bad = 0;
  for (int shift = 0; shift <= 15; ++shift) {
    for (int corr = -4; corr <= 4; ++corr) {
      kws_log_scale_t s = {1, shift, corr};
      for (int turn = 0; turn < 20; ++turn) {
        size_t n = 0;
        for (int b = 0; b < 32 && turn == 0; ++b) {
          in[n++] = (1u << b) - 1;
          in[n++] = 1u << b;
          in[n++] = (1u << b) + 1;
        }
        in[n++] = 0;
        in[n++] = 0xFFFFFFFFu;
        while (n < 400) {
          state ^= state << 13;
          state ^= state >> 17;
          state ^= state << 5;
          in[n++] = state >> (state % 32);
        }
        kws_log_scale_apply(&s, in, n, out);
        for (size_t i = 0; i < n; ++i) bad += out[i] != reference_log(in[i], shift, corr);
      }
    }
  }
  EXPECT_EQ(bad, 0);
}

static void test_fft_close_to_float_dft(void) {
  enum { N = 512 };
  static kws_cpx16_t tw[N / 2], split[N / 4], work[N / 2], out[N / 2 + 1];
  static uint16_t order[N / 2];
  static int16_t in[N];
  kws_fft_t f;
  EXPECT_EQ(kws_fft_populate(&f, N, tw, split, order, work), KWS_OK);
  for (int i = 0; i < N; ++i) {
    in[i] = (int16_t)(12000 * sin(2 * PI * 37 * i / N) + (int)(next_random() % 2001) - 1000);
  }
  kws_fft_real(&f, in, 0, out);
  double worst = 0;
  for (int k = 0; k <= N / 2; ++k) { /* the fixed-point FFT is scaled by 1/N */
    double re = 0, im = 0;
    for (int i = 0; i < N; ++i) {
      re += in[i] * cos(2 * PI * k * i / N) / N;
      im -= in[i] * sin(2 * PI * k * i / N) / N;
    }
    worst = fmax(worst, fmax(fabs(re - out[k].r), fabs(im - out[k].i)));
  }
  EXPECT_TRUE(worst < 4.0);
  EXPECT_TRUE(abs(out[37].i) > 5000);
  EXPECT_EQ(kws_fft_populate(&f, 48, tw, split, order, work), KWS_ERR_UNSUPPORTED);
}

static void test_api_checks_and_sizes(void) {
  kws_frontend_config_t c;
  kws_frontend_config_default(&c);
  kws_frontend_geometry_t g;
  EXPECT_EQ(kws_frontend_geometry(&c, &g), KWS_OK);
  EXPECT_EQ(g.window_size, 480);
  EXPECT_EQ(g.window_step, 160);
  EXPECT_EQ(g.rows_per_window, 118);
  EXPECT_EQ(g.quantize_range, 294);
  EXPECT_EQ(kws_frontend_state_size(&c), KWS_FRONTEND_MEM_FOR_SEED);
  static uint8_t mem[KWS_FRONTEND_MEM_FOR_SEED + 1];
  kws_frontend_t fe;
  EXPECT_EQ(kws_frontend_init(&fe, &c, mem, sizeof mem - 2), KWS_ERR_NO_MEMORY);
  EXPECT_EQ(kws_frontend_init(&fe, &c, mem + 1, sizeof mem - 1), KWS_OK); /* unaligned */
  size_t used;
  int ready;
  uint16_t row[108];
  EXPECT_EQ(kws_frontend_process(&fe, NULL, 5, &used, row, &ready), KWS_ERR_ARG);
  c.window_step_ms = 0;
  EXPECT_EQ(kws_frontend_state_size(&c), 0);
  EXPECT_EQ(kws_frontend_init(&fe, &c, mem, sizeof mem), KWS_ERR_ARG);
  EXPECT_EQ(kws_frontend_process(&fe, (const int16_t *)row, 0, &used, row, &ready), KWS_ERR_STATE);
}

/* Same rows whatever the chunking. */
static void test_chunking(void) {
  kws_frontend_config_t c;
  kws_frontend_config_default(&c);
  static uint8_t m1[KWS_FRONTEND_MEM_FOR_SEED], m2[KWS_FRONTEND_MEM_FOR_SEED];
  kws_frontend_t a, b;
  EXPECT_EQ(kws_frontend_init(&a, &c, m1, sizeof m1), KWS_OK);
  EXPECT_EQ(kws_frontend_init(&b, &c, m2, sizeof m2), KWS_OK);
  enum { N = 16000 };
  static int16_t pcm[N];
  for (int i = 0; i < N; ++i) pcm[i] = (int16_t)((next_random() % 20001) - 10000);
  static uint16_t rows_a[200][108], rows_b[200][108];
  size_t na = 0, nb = 0, off = 0;
  while (off < N) { /* one call per row */
    size_t used;
    int ready;
    kws_frontend_process(&a, pcm + off, N - off, &used, rows_a[na], &ready);
    off += used;
    na += (size_t)ready;
  }
  off = 0;
  while (off < N) { /* random small chunks */
    size_t n = 1 + next_random() % 300, used;
    if (n > N - off) n = N - off;
    while (n) {
      int ready;
      kws_frontend_process(&b, pcm + off, n, &used, rows_b[nb], &ready);
      off += used;
      n -= used;
      nb += (size_t)ready;
    }
  }
  EXPECT_EQ(na, (N - 480) / 160 + 1);
  EXPECT_EQ(nb, na);
  EXPECT_EQ(memcmp(rows_a, rows_b, sizeof rows_a), 0);
}

int main(void) {
  RUN_TEST(test_sqrt_matches_definition);
  RUN_TEST(test_log_table_is_its_formula);
  RUN_TEST(test_log_matches_reference);
  RUN_TEST(test_fft_close_to_float_dft);
  RUN_TEST(test_api_checks_and_sizes);
  RUN_TEST(test_chunking);
  TEST_MAIN_END();
}
