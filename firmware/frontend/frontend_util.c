/* Config defaults, checks, sizing and the one-time construction of every stage's tables
 * inside the caller's buffer. */
#include <stddef.h>
#include <string.h>

#include "frontend/activity_detection_util.h"
#include "frontend/bits.h"
#include "frontend/dc_notch_util.h"
#include "frontend/fft_util.h"
#include "frontend/filterbank_util.h"
#include "frontend/frontend.h"
#include "frontend/log_scale_util.h"
#include "frontend/noise_reduction_util.h"
#include "frontend/pcan_util.h"
#include "frontend/quantize_util.h"
#include "frontend/window_util.h"

void kws_frontend_config_default(kws_frontend_config_t *c) {
  memset(c, 0, sizeof(*c));
  c->sample_rate_hz = 16000;
  c->sample_length_ms = 1200;
  c->window_size_ms = 30;
  c->window_step_ms = 10;
  c->fft_length = 512;
  c->filterbank_n_channels = 108;
  c->filterbank_upper_band_limit = 7500.0f;
  c->filterbank_lower_band_limit = 125.0f;
  c->noise_reduction_enable = 1;
  c->noise_reduction_smoothing_bits = 10;
  c->noise_reduction_even_smoothing = 0.025f;
  c->noise_reduction_odd_smoothing = 0.06f;
  c->noise_reduction_min_signal_remaining = 0.40f;
  c->pcan_enable = 0;
  c->pcan_strength = 0.95f;
  c->pcan_offset = 80.0f;
  c->pcan_gain_bits = 21;
  c->log_scale_enable = 1;
  c->log_scale_shift = 6;
  c->activity_detection_enable = 0;
  c->activity_detection_alpha_a = 0.5f;
  c->activity_detection_alpha_b = 0.8f;
  c->activity_detection_arm_threshold = 0.75f;
  c->activity_detection_trip_threshold = 0.8f;
  c->dc_notch_filter_enable = 1;
  c->dc_notch_filter_coefficient = 0.95f;
  c->quantize_dynamic_scale_enable = 1;
  c->quantize_dynamic_scale_range_db = 40.0f;
}

#define FLOAT_RANGE(field, lo, hi) \
  {#field, (uint16_t)offsetof(kws_frontend_config_t, field), 1, lo, hi, 0, 0}
#define INT_RANGE(field, lo, hi) \
  {#field, (uint16_t)offsetof(kws_frontend_config_t, field), 0, 0.0f, 0.0f, lo, hi}

static const kws_frontend_range_t kRanges[] = {
    FLOAT_RANGE(filterbank_lower_band_limit, 0.0f, 1e6f),
    FLOAT_RANGE(filterbank_upper_band_limit, 0.0f, 1e6f),
    FLOAT_RANGE(noise_reduction_even_smoothing, 0.0f, 1.0f),
    FLOAT_RANGE(noise_reduction_odd_smoothing, 0.0f, 1.0f),
    FLOAT_RANGE(noise_reduction_min_signal_remaining, 0.0f, 1.0f),
    FLOAT_RANGE(pcan_strength, -100.0f, 100.0f),
    FLOAT_RANGE(pcan_offset, 0.0f, 1e9f),
    FLOAT_RANGE(activity_detection_alpha_a, 0.0f, 1.0f),
    FLOAT_RANGE(activity_detection_alpha_b, 0.0f, 1.0f),
    FLOAT_RANGE(activity_detection_arm_threshold, 0.0f, 7.99f), /* x 4096 in int16 */
    FLOAT_RANGE(activity_detection_trip_threshold, 0.0f, 7.99f),
    FLOAT_RANGE(dc_notch_filter_coefficient, 0.0f, 0.99996f), /* x 32768 in int16 */
    FLOAT_RANGE(quantize_dynamic_scale_range_db, 0.0f, 1000.0f),
    INT_RANGE(sample_rate_hz, 1000, 192000),
    INT_RANGE(window_size_ms, 1, INT32_MAX),
    INT_RANGE(window_step_ms, 1, INT32_MAX),
    INT_RANGE(sample_length_ms, 1, INT32_MAX),
    INT_RANGE(filterbank_n_channels, 1, 1024),
    INT_RANGE(noise_reduction_smoothing_bits, 0, 24),
    INT_RANGE(log_scale_shift, 0, 15),
    INT_RANGE(pcan_gain_bits, 0, 31),
};
#define N_RANGES (sizeof(kRanges) / sizeof(kRanges[0]))

size_t kws_frontend_range_count(void) { return N_RANGES; }

const kws_frontend_range_t *kws_frontend_range_at(size_t i) {
  return i < N_RANGES ? &kRanges[i] : NULL;
}

size_t kws_frontend_first_out_of_range(const kws_frontend_config_t *c) {
  const uint8_t *base = (const uint8_t *)c;
  for (size_t i = 0; i < N_RANGES; i++) {
    const kws_frontend_range_t *r = &kRanges[i];
    if (r->is_float) {
      float v;
      memcpy(&v, base + r->offset, sizeof(v));
      if (!(v >= r->lo && v <= r->hi)) return i; /* NaN fails both */
    } else {
      int32_t v;
      memcpy(&v, base + r->offset, sizeof(v));
      if (v < r->int_lo || v > r->int_hi) return i;
    }
  }
  return N_RANGES;
}

kws_status_t kws_frontend_geometry(const kws_frontend_config_t *c, kws_frontend_geometry_t *g) {
  if (!c || !g) return KWS_ERR_ARG;
  memset(g, 0, sizeof(*g));
  if (kws_frontend_first_out_of_range(c) != N_RANGES) return KWS_ERR_ARG;
  if (c->pcan_enable && !c->noise_reduction_enable) return KWS_ERR_ARG; /* PCAN needs it */
  /* The integer arithmetic MLTK uses for the sizes. */
  /* In 64 bits: a window of ~134,000 ms overflowed int32 (undefined) and could wrap into a
   * size that looks valid. Windows past 2^20 samples are refused (the FFT stops at 32768). */
  const int64_t window = (int64_t)c->window_size_ms * c->sample_rate_hz / 1000;
  const int64_t step = (int64_t)c->window_step_ms * c->sample_rate_hz / 1000;
  if (window > (1 << 20) || step > window) return KWS_ERR_ARG;
  g->window_size = (uint32_t)window;
  g->window_step = (uint32_t)step;
  g->sample_length = (uint32_t)((int64_t)c->sample_rate_hz * c->sample_length_ms / 1000);
  if (g->window_step == 0) return KWS_ERR_ARG;   /* (a step over the window: refused above) */
  if (g->sample_length < g->window_size) return KWS_ERR_ARG;
  g->fft_length = (uint32_t)kws_fft_length_for(g->window_size);
  if (g->fft_length < 32 || g->fft_length > 32768) return KWS_ERR_UNSUPPORTED;
  if (c->fft_length != 0 && (uint32_t)c->fft_length != g->fft_length) return KWS_ERR_ARG;
  g->n_channels = (uint32_t)c->filterbank_n_channels;
  g->rows_per_window = (g->sample_length - g->window_size) / g->window_step + 1;
  g->filterbank_bins = (uint32_t)kws_filterbank_n_bins(
      g->n_channels, c->filterbank_lower_band_limit, c->filterbank_upper_band_limit,
      c->sample_rate_hz, g->fft_length / 2 + 1);
  if (g->filterbank_bins == 0) return KWS_ERR_ARG;
  g->quantize_range = kws_quantize_range(c->quantize_dynamic_scale_enable,
                                         c->quantize_dynamic_scale_range_db, c->log_scale_shift);
  return KWS_OK;
}

/* A bump allocator over the caller's buffer; with base == NULL it only measures. */
typedef struct {
  uint8_t *base;
  size_t used, cap;
} carve_t;

static void *carve(carve_t *a, size_t count, size_t elem) {
  const size_t align = elem >= 8 ? 8 : 4; /* word access to int16 pairs */
  const size_t start = (a->used + align - 1) / align * align;
  a->used = start + count * elem;
  if (!a->base || a->used > a->cap) return NULL;
  return a->base + start;
}

typedef struct {
  int32_t *window_coefficients;
  int16_t *window_input, *fft_input;
  kws_cpx16_t *twiddles, *split_twiddles, *fft_work, *spectrum;
  uint16_t *fft_order, *band_start, *weights, *unweights;
  uint32_t *channels, *estimate;
} layout_t;

static void plan(carve_t *a, const kws_frontend_geometry_t *g, layout_t *l) {
  const size_t n = g->fft_length / 2;
  l->twiddles = carve(a, n, sizeof(kws_cpx16_t));
  l->split_twiddles = carve(a, n / 2, sizeof(kws_cpx16_t));
  l->fft_work = carve(a, n, sizeof(kws_cpx16_t));
  l->spectrum = carve(a, n + 1, sizeof(kws_cpx16_t));
  l->channels = carve(a, g->n_channels, sizeof(uint32_t));
  l->estimate = carve(a, g->n_channels, sizeof(uint32_t));
  l->fft_input = carve(a, g->fft_length, sizeof(int16_t));
  l->window_coefficients = carve(a, g->window_size, sizeof(int32_t));
  l->window_input = carve(a, g->window_size, sizeof(int16_t));
  l->fft_order = carve(a, n, sizeof(uint16_t));
  l->band_start = carve(a, g->n_channels + 2, sizeof(uint16_t));
  l->weights = carve(a, g->filterbank_bins, sizeof(uint16_t));
  l->unweights = carve(a, g->filterbank_bins, sizeof(uint16_t));
}

size_t kws_frontend_state_size(const kws_frontend_config_t *config) {
  kws_frontend_geometry_t g;
  if (kws_frontend_geometry(config, &g) != KWS_OK) return 0;
  carve_t a = {NULL, 0, 0};
  layout_t l;
  plan(&a, &g, &l);
  return a.used + 7; /* room to align an unaligned buffer */
}

kws_status_t kws_frontend_init(kws_frontend_t *fe, const kws_frontend_config_t *config,
                               void *buffer, size_t buffer_size) {
  if (!fe || !config || !buffer) return KWS_ERR_ARG;
  memset(fe, 0, sizeof(*fe));
  kws_frontend_geometry_t *g = &fe->geometry;
  kws_status_t st = kws_frontend_geometry(config, g);
  if (st != KWS_OK) return st;
  if (buffer_size < kws_frontend_state_size(config)) return KWS_ERR_NO_MEMORY;
  const uintptr_t addr = (uintptr_t)buffer;
  const size_t skip = (size_t)((8 - (addr & 7)) & 7);
  carve_t a = {(uint8_t *)buffer + skip, 0, buffer_size - skip};
  layout_t l;
  plan(&a, g, &l);
  if (a.used > a.cap) return KWS_ERR_NO_MEMORY;
  fe->config = *config;
  const kws_frontend_config_t *c = config;
  const size_t ch = g->n_channels;

  kws_dc_notch_populate(&fe->notch, c->dc_notch_filter_enable, c->dc_notch_filter_coefficient);
  kws_window_make_coefficients(g->window_size, l.window_coefficients);
  fe->window.size = g->window_size;
  fe->window.step = g->window_step;
  fe->window.coefficients = l.window_coefficients;
  fe->window.input = l.window_input;
  fe->window.output = l.fft_input; /* the FFT scales the windowed samples in place */
  st = kws_fft_populate(&fe->fft, g->fft_length, l.twiddles, l.split_twiddles, l.fft_order,
                        l.fft_work);
  if (st != KWS_OK) return st;
  st = kws_filterbank_populate(&fe->filterbank, ch, c->filterbank_lower_band_limit,
                               c->filterbank_upper_band_limit, c->sample_rate_hz,
                               g->fft_length / 2 + 1, l.band_start, l.weights, l.unweights,
                               g->filterbank_bins);
  if (st != KWS_OK) return st;
  fe->fft.read_from = fe->filterbank.start_bin; /* the FFT need not split bins never read */
  fe->fft.read_to = fe->filterbank.end_bin;
  kws_activity_populate(&fe->activity, c->activity_detection_enable, ch,
                        c->activity_detection_alpha_a, c->activity_detection_alpha_b,
                        c->activity_detection_arm_threshold,
                        c->activity_detection_trip_threshold);
  kws_noise_reduction_populate(&fe->noise, c->noise_reduction_enable, ch,
                               c->noise_reduction_smoothing_bits,
                               c->noise_reduction_even_smoothing,
                               c->noise_reduction_odd_smoothing,
                               c->noise_reduction_min_signal_remaining, l.estimate);
  /* log2(fft_length) - 1 - filterbank_bits/2: undoes the FFT's 1/n scaling in the log. */
  const int correction_bits = kws_msb32(g->fft_length) - 1 - KWS_FILTERBANK_BITS / 2;
  kws_pcan_populate(&fe->pcan, c->pcan_enable, ch, c->pcan_strength, c->pcan_offset,
                    c->pcan_gain_bits, l.estimate, c->noise_reduction_smoothing_bits,
                    correction_bits);
  kws_log_scale_populate(&fe->log_scale, c->log_scale_enable, c->log_scale_shift,
                         correction_bits);
  fe->fft_input = l.fft_input;
  fe->spectrum = l.spectrum;
  fe->channels = l.channels;
  fe->initialized = KWS_FRONTEND_MAGIC;
  return kws_frontend_reset(fe);
}
