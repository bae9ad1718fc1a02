/* Unit tests of the frontend's stages and C API that need no reference data: the rounded
 * square root against the digit-by-digit definition, the log table against its formula,
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

static void test_log_table_is_its_formula(void) {
  for (int i = 0; i <= KWS_LOG_SEGMENTS; ++i) {
    const double v = 65536.0 * (log2(1.0 + i / 128.0) - i / 128.0);
    EXPECT_EQ(kws_log_correction[i], (long long)floor(v + 0.5));
  }
  EXPECT_EQ(kws_log_correction[KWS_LOG_SEGMENTS + 1], 0);
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
  RUN_TEST(test_fft_close_to_float_dft);
  RUN_TEST(test_api_checks_and_sizes);
  RUN_TEST(test_chunking);
  TEST_MAIN_END();
}
