/* The M33's code paths give the PC's bits. The FFT has two implementations (packed 16-bit
 * lanes on the M33; plain integers, SSE2 where available, on the PC) and the square root
 * two estimates (single precision on the M33, double on the PC): the M33 versions are built
 * here on the host and compared on random and extreme inputs. */
#include <stdint.h>

#include "frontend/fft.h"
#include "frontend/fft_util.h"
#include "kws_test.h"

#undef KWS_FFT_PACKED
#define KWS_FFT_PACKED 1
#define kws_fft_real kws_fft_real_packed
#include "frontend/fft.c"
#undef kws_fft_real

#include "frontend/filterbank.h"
#define KWS_SQRT_SINGLE 1
#define kws_filterbank_sqrt kws_filterbank_sqrt_single
#define kws_filterbank_apply kws_filterbank_apply_single
#include "frontend/filterbank.c"
#undef kws_filterbank_sqrt
#undef kws_filterbank_apply
uint32_t kws_filterbank_sqrt_single(uint64_t x);

#include "frontend/bits.h"
#include "frontend/window.h"
#define KWS_WINDOW_PACKED 1
#define kws_window_process kws_window_process_packed
#define kws_window_reset kws_window_reset_packed
#include "frontend/window.c"
#undef kws_window_process
#undef kws_window_reset
int kws_window_process_packed(kws_window_t *w, kws_dc_notch_t *notch, const int16_t *samples,
                              size_t n, size_t *consumed);

void kws_fft_real_packed(const kws_fft_t *f, const int16_t *input, int input_shift,
                         kws_cpx16_t *output);

static uint32_t state = 2463534242u;
static uint32_t rnd(void) {
  state ^= state << 13;
  state ^= state >> 17;
  state ^= state << 5;
  return state;
}

static void test_packed_equals_plain(void) {
  enum { MAX = 4096 };
  static kws_cpx16_t tw[MAX / 2], split[MAX / 4], work[MAX / 2], a[MAX / 2 + 1], b[MAX / 2 + 1];
  static uint16_t order[MAX / 2];
  static int16_t in[MAX] __attribute__((aligned(4)));
  int mismatches = 0;
  for (size_t len = 32; len <= MAX; len *= 2) {
    kws_fft_t f;
    EXPECT_EQ(kws_fft_populate(&f, len, tw, split, order, work), KWS_OK);
    /* The packed stages take tw[n/4] to be -j. */
    mismatches += tw[len / 8].r != 0 || tw[len / 8].i != -32767;
    for (int trial = 0; trial < 40; ++trial) {
      const int shift = trial % 4;
      for (size_t i = 0; i < len; ++i) {
        const uint32_t r = rnd();
        in[i] = trial % 5 == 0   ? (int16_t)((r & 1) ? 32767 : -32768) /* full scale */
                : trial % 5 == 1 ? (int16_t)(r % 64) - 32
                                 : (int16_t)(r >> 16) >> shift;
      }
      /* Flag inputs whose shift wraps (the packed FFT folds the shift otherwise). */
      int wraps = 0;
      for (size_t i = 0; i < len; ++i) {
        const int32_t v = (int32_t)in[i] * (1 << shift);
        wraps |= v < -32768 || v > 32767;
      }
      const int flags = wraps ? KWS_FFT_INPUT_MAY_WRAP : 0;
      kws_fft_real(&f, in, shift, a);
      kws_fft_real_packed(&f, in, shift | flags, b);
      mismatches += memcmp(a, b, (len / 2 + 1) * sizeof(a[0])) != 0;
      kws_fft_real_packed(&f, in, shift | KWS_FFT_INPUT_MAY_WRAP, b); /* the general path */
      mismatches += memcmp(a, b, (len / 2 + 1) * sizeof(a[0])) != 0;
      /* Only some bins read (the filterbank's band): those are the same, from both. */
      const size_t n = len / 2;
      f.read_from = (size_t)trial % (n / 4 + 1);
      f.read_to = n + 1 - (size_t)(trial * 7) % (n / 3 + 1);
      memset(b, 0x5A, sizeof b);
      kws_fft_real(&f, in, shift, b);
      mismatches += memcmp(a + f.read_from, b + f.read_from,
                           (f.read_to - f.read_from) * sizeof(a[0])) != 0;
      memset(b, 0x5A, sizeof b);
      kws_fft_real_packed(&f, in, shift | flags, b);
      mismatches += memcmp(a + f.read_from, b + f.read_from,
                           (f.read_to - f.read_from) * sizeof(a[0])) != 0;
      f.read_from = 0;
      f.read_to = n + 1;
    }
  }
  EXPECT_EQ(mismatches, 0);
}

static void test_single_precision_sqrt_equals_double(void) {
  int bad = 0;
  uint64_t v = 0x9E3779B97F4A7C15ull;
  for (int i = 0; i < 300000; ++i) {
    v ^= v << 13;
    v ^= v >> 7;
    v ^= v << 17;
    uint64_t x = v >> (v % 64);
    if (i % 3 == 0) x = (x >> 32) * (x >> 32) + (v & 3) - 1; /* around squares */
    bad += kws_filterbank_sqrt(x) != kws_filterbank_sqrt_single(x);
  }
  EXPECT_EQ(bad, 0);
  /* The 32-bit path below 2^52: around every kind of square and at its edges. */
  bad = 0;
  for (int i = 0; i < 200000; ++i) {
    v ^= v << 13;
    v ^= v >> 7;
    v ^= v << 17;
    const uint64_t k = (v >> 38) >> (v % 26); /* roots below 2^26 */
    const uint64_t sq = k * k;
    const uint64_t around[] = {sq - 1, sq, sq + 1, sq + k - 1, sq + k, sq + k + 1, sq + 2 * k};
    for (size_t j = 0; j < sizeof around / sizeof around[0]; ++j) {
      const uint64_t x = around[j] >> 52 ? (1ull << 52) - 1 : around[j];
      bad += kws_filterbank_sqrt(x) != kws_filterbank_sqrt_single(x);
    }
  }
  const uint64_t edges[] = {0, 1, 2, 3, 0xFFFEull * 0xFFFE, 0xFFFFull * 0xFFFF + 0xFFFF,
                            0xFFFFull * 0xFFFF + 0x10000, 0xFFFFFFFFull, 0x100000000ull,
                            (1ull << 46) - 1, 1ull << 46, (1ull << 48) - 1, 1ull << 48, (1ull << 52) - 1, 1ull << 52,
                            (1ull << 52) + 1};
  for (size_t j = 0; j < sizeof edges / sizeof edges[0]; ++j) {
    bad += kws_filterbank_sqrt(edges[j]) != kws_filterbank_sqrt_single(edges[j]);
  }
  EXPECT_EQ(bad, 0);
  EXPECT_EQ(kws_filterbank_sqrt_single(0xFFFFFFFFFFFFFFFFull), kws_filterbank_sqrt(0xFFFFFFFFFFFFFFFFull));
}

/* The packed window (lane max/min) gives the plain one's outputs, FFT shift and -32768 flag. */
static void test_packed_window_equals_plain(void) {
  enum { SIZE = 480, STEP = 160 };
  static int32_t coef[SIZE];
  static int16_t in_a[SIZE] __attribute__((aligned(4))), out_a[SIZE] __attribute__((aligned(4)));
  static int16_t in_b[SIZE] __attribute__((aligned(4))), out_b[SIZE] __attribute__((aligned(4)));
  static int16_t audio[STEP];
  for (size_t i = 0; i < SIZE; ++i) coef[i] = (int32_t)(i < 3 ? 4096 : rnd() % 4097) * 16;
  kws_window_t a = {SIZE, STEP, 0, coef, in_a, out_a, 0, 0};
  kws_window_t b = {SIZE, STEP, 0, coef, in_b, out_b, 0, 0};
  kws_dc_notch_t off = {0, 0, 0, 0};
  int bad = 0;
  for (int turn = 0; turn < 400; ++turn) {
    const int kind = turn % 8;
    for (size_t i = 0; i < STEP; ++i) {
      const uint32_t r = rnd();
      audio[i] = kind == 0   ? (int16_t)((r & 1) ? 32767 : -32768)
                 : kind == 1 ? (int16_t)(-32768 + (int)(r % 3))
                 : kind == 2 ? (int16_t)(r % 5) - 2
                 : kind == 3 ? 0
                             : (int16_t)((int16_t)(r >> 16) >> (r % 15));
    }
    size_t used_a = 0, used_b = 0;
    const int ready_a = kws_window_process(&a, &off, audio, STEP, &used_a);
    const int ready_b = kws_window_process_packed(&b, &off, audio, STEP, &used_b);
    bad += ready_a != ready_b || used_a != used_b;
    if (!ready_a) continue;
    bad += memcmp(out_a, out_b, sizeof out_a) != 0;
    bad += kws_msb32((uint32_t)(int32_t)a.max_abs_output) !=
           kws_msb32((uint32_t)(int32_t)b.max_abs_output);
    bad += a.has_min16 != b.has_min16;
  }
  EXPECT_EQ(bad, 0);
}

int main(void) {
  RUN_TEST(test_packed_window_equals_plain);
  RUN_TEST(test_packed_equals_plain);
  RUN_TEST(test_single_precision_sqrt_equals_double);
  TEST_MAIN_END();
}
