/* Cortex-M33 cost of the frontend: instructions per 10 ms step (one row), counted on QEMU
 * with -icount shift=0 (one virtual ns per instruction) by the 20 MHz CMSDK timer: one tick
 * per 50 instructions, read around 400 rows. Audio: a deterministic mixture of a tone and
 * pseudo-random noise. Prints "rows=N ticks=T checksum=C" via semihosting; the checksum
 * folds every value of every row (tests/test_frontend_m33.py recomputes it on the PC).
 *
 * After the timed rows it also runs the filterbank (assembly on the M33) on crafted spectra
 * against the plain loop transcribed here and prints the number of differing channels.
 *
 * Built with -DKWS_BENCH_STAGES=1 (build_and_run.sh --stages), the timer is also read
 * between the stages of each row (the steps of compute_row in frontend.c, called one by
 * one) and it prints instructions per row for each stage too; each of those figures
 * includes a few instructions of timer reads. */
#include <stdint.h>

#include "frontend/bits.h"
#include "frontend/frontend.h"

#define TIMER0 ((volatile uint32_t *)0x50000000u) /* CTRL, VALUE, RELOAD */
#ifndef ROWS
#define ROWS 400 /* mix.py runs a few, with buffers of the same size in both of its runs */
#endif
#ifndef ROWS_ALLOCATED
#define ROWS_ALLOCATED ROWS
#endif
#define N_STAGES 5

static uint8_t memory[KWS_FRONTEND_MEM_FOR_SEED];
static int16_t audio[480 + ROWS_ALLOCATED * 160];
static uint16_t rows[ROWS_ALLOCATED][108]; /* checksummed after the timed loop */

static int semihost(int op, const void *arg) {
  register int r0 __asm("r0") = op;
  register const void *r1 __asm("r1") = arg;
  __asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

void bench_exit(int code) {
  const uint32_t args[2] = {0x20026u, (uint32_t)code}; /* ADP_Stopped_ApplicationExit */
  semihost(0x20, args);
  for (;;) {
  }
}

static void put(const char *s) { semihost(0x04, s); }

static void put_uint(const char *label, uint32_t v) {
  char buf[16];
  int i = 15;
  buf[i] = 0;
  do {
    buf[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  put(label);
  put(buf + i);
}

/* One row, stage by stage as compute_row does, adding each stage's timer ticks to t. */
static void row_by_stages(kws_frontend_t *fe, const int16_t *samples, size_t *used,
                          uint16_t *row, uint32_t *t) {
  uint32_t a = TIMER0[1], b;
  kws_window_process(&fe->window, &fe->notch, samples, 160, used);
  b = TIMER0[1]; t[0] += a - b; a = b;
  const int shift = 15 - kws_msb32((uint32_t)(int32_t)fe->window.max_abs_output);
  const int flags = fe->window.has_min16 ? KWS_FFT_INPUT_MAY_WRAP : 0;
  kws_fft_real(&fe->fft, fe->fft_input, shift | flags, fe->spectrum);
  b = TIMER0[1]; t[1] += a - b; a = b;
  kws_filterbank_apply(&fe->filterbank, fe->spectrum, shift, fe->channels);
  b = TIMER0[1]; t[2] += a - b; a = b;
  if (fe->activity.enabled) kws_activity_update(&fe->activity, fe->channels); /* off in the seed */
  if (fe->noise.enabled) kws_noise_reduction_apply(&fe->noise, fe->channels);
  b = TIMER0[1]; t[3] += a - b; a = b;
  if (fe->pcan.enabled) kws_pcan_apply(&fe->pcan, fe->channels);
  kws_log_scale_apply(&fe->log_scale, fe->channels, fe->geometry.n_channels, row);
  b = TIMER0[1]; t[4] += a - b;
}

/* |X|^2 as the reference: the 32-bit sum of squares kept in a signed 32-bit slot. */
static int32_t reference_energy(kws_cpx16_t b) {
  return (int32_t)((uint32_t)((int32_t)b.r * b.r) + (uint32_t)((int32_t)b.i * b.i));
}

/* The filterbank as the reference writes it: channel c = its falling band c and rising
 * band c + 1, a 64-bit sum, the rounded root, the shift. */
static void reference_filterbank(const kws_filterbank_t *fb, const kws_cpx16_t *spectrum,
                                 int shift, uint32_t *out) {
  const uint16_t *band = fb->band_start;
  const kws_cpx16_t *bin = spectrum + fb->start_bin;
  for (size_t c = 0; c < fb->n_channels; ++c) {
    int64_t sum = 0;
    for (size_t k = band[c]; k < band[c + 1]; ++k) sum += (int64_t)fb->unweights[k] * reference_energy(bin[k]);
    for (size_t k = band[c + 1]; k < band[c + 2]; ++k) sum += (int64_t)fb->weights[k] * reference_energy(bin[k]);
    out[c] = kws_filterbank_sqrt((uint64_t)sum) >> shift;
  }
}

/* Spectra of full-scale bins (sums past 2^46: the large-sum call), of -32768 - 32768j
 * (negative energies), of small and of random values, at every shift. */
static uint32_t filterbank_mismatches(kws_frontend_t *fe) {
  static uint32_t a[108], b[108];
  const kws_filterbank_t *fb = &fe->filterbank;
  const size_t n_bins = fe->geometry.fft_length / 2 + 1;
  uint32_t seed = 987654321u, bad = 0;
  for (int turn = 0; turn < 64; ++turn) {
    for (size_t k = 0; k < n_bins; ++k) {
      seed = seed * 1664525u + 1013904223u;
      const int16_t r = (int16_t)(seed >> 16), full = (seed & 1) ? 32767 : -32768;
      switch ((turn + (int)(k % 3)) % 4) {
        case 0: fe->spectrum[k].r = full; fe->spectrum[k].i = full; break;
        case 1: fe->spectrum[k].r = -32768; fe->spectrum[k].i = -32768; break;
        case 2: fe->spectrum[k].r = (int16_t)(r >> 12); fe->spectrum[k].i = (int16_t)(r & 7); break;
        default: fe->spectrum[k].r = r; fe->spectrum[k].i = (int16_t)(seed & 0xFFFF); break;
      }
    }
    kws_filterbank_apply(fb, fe->spectrum, turn % 16, a);
    reference_filterbank(fb, fe->spectrum, turn % 16, b);
    for (size_t c = 0; c < fb->n_channels; ++c) bad += a[c] != b[c];
  }
  /* Channel c's sum just below 2^32, where the reference's 32-bit root tops out at 0xFFFF:
   * one bin of its rising band, r^2 + i^2 chosen so that weight * E lands there. */
  for (size_t c = 0; c < fb->n_channels; ++c) {
    const size_t k = fb->band_start[c + 1];
    if (k == fb->band_start[c + 2] || fb->weights[k] == 0) continue;
    const uint64_t w = fb->weights[k];
    const uint64_t lo = (0xFFFF0001ull + w - 1) / w, hi = 0xFFFFFFFFull / w;
    int found = 0;
    for (uint64_t r = 46340; r > 0 && !found; --r) {
      if (r * r > hi) continue;
      uint64_t i = 0;
      while (r * r + i * i < lo) ++i;
      if (r * r + i * i > hi || i > 32767) continue;
      for (size_t j = 0; j < n_bins; ++j) fe->spectrum[j].r = fe->spectrum[j].i = 0;
      fe->spectrum[fb->start_bin + k].r = (int16_t)r;
      fe->spectrum[fb->start_bin + k].i = (int16_t)i;
      found = 1;
    }
    if (!found) continue;
    kws_filterbank_apply(fb, fe->spectrum, 0, a);
    reference_filterbank(fb, fe->spectrum, 0, b);
    bad += a[c] != b[c] || b[c] != 0xFFFFu;
  }
  return bad;
}

int main(void) {
  kws_frontend_config_t cfg;
  kws_frontend_config_default(&cfg);
  kws_frontend_t fe;
  if (kws_frontend_init(&fe, &cfg, memory, sizeof memory) != KWS_OK) return 2;
  uint32_t seed = 12345u;
  int32_t phase = 0;
  for (unsigned i = 0; i < sizeof audio / sizeof audio[0]; ++i) {
    seed = seed * 1664525u + 1013904223u;
    phase += 2200; /* a tone: triangle wave */
    const int32_t tri = (phase & 0x8000) ? (phase & 0x7FFF) : 0x7FFF - (phase & 0x7FFF);
    audio[i] = (int16_t)((tri - 16384) / 2 + (int32_t)((seed >> 16) & 0x1FFF) - 4096);
  }
  uint32_t checksum = 0, t[N_STAGES] = {0};
  size_t off = 0, used;
  int ready = 0;
  /* Warm-up: the first window. */
  kws_frontend_process(&fe, audio, 480, &used, rows[0], &ready);
  off = used;
  TIMER0[2] = 0xFFFFFFFFu;
  TIMER0[1] = 0xFFFFFFFFu;
  TIMER0[0] = 1u;
  const uint32_t start = TIMER0[1];
  for (int r = 0; r < ROWS; ++r) {
#if KWS_BENCH_STAGES
    row_by_stages(&fe, audio + off, &used, rows[r], t);
#else
    kws_frontend_process(&fe, audio + off, 160, &used, rows[r], &ready);
#endif
    off += used;
  }
  const uint32_t ticks = start - TIMER0[1];
  put_uint("rows=", ROWS);
  put_uint(" ticks=", ticks);
#if !KWS_BENCH_MIX /* mix.py's build: the rows only */
  for (int r = 0; r < ROWS; ++r) {
    for (int c = 0; c < 108; ++c) checksum = checksum * 31u + rows[r][c];
  }
  put_uint(" checksum=", checksum);
  put_uint(" filterbank_mismatches=", filterbank_mismatches(&fe));
#else
  (void)filterbank_mismatches;
  (void)checksum;
#endif
#if KWS_BENCH_STAGES
  const char *names[N_STAGES] = {" window+notch=", " fft=", " filterbank=", " noise=",
                                 " pcan+log="};
  for (int i = 0; i < N_STAGES; ++i) put_uint(names[i], t[i] * 50 / ROWS);
#else
  (void)t;
  (void)row_by_stages;
#endif
  (void)ready;
  put("\n");
  return 0;
}
