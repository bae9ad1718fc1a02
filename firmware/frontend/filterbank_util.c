#include "frontend/filterbank_util.h"

#include <math.h>

static float freq_to_mel(float hz) { return (float)(1127.0 * log1p((double)hz / 700.0)); }

/* The channel centre on the mel scale; `c` counts n_channels + 1 band edges. */
static float centre_mel(float mel_low, float mel_spacing, size_t c) {
  return mel_low + mel_spacing * (float)(c + 1);
}

typedef struct {
  float hz_per_bin, mel_low, mel_spacing;
  size_t start_bin;
} layout_t;

static int make_layout(layout_t *l, size_t n_channels, float lower_hz, float upper_hz,
                       int sample_rate, size_t spectrum_size) {
  if (n_channels < 1 || n_channels > 4096 || !(lower_hz >= 0.0f) || !(upper_hz > lower_hz) ||
      sample_rate <= 0 || spectrum_size < 2) {
    return 0;
  }
  l->hz_per_bin = (float)(0.5 * sample_rate / ((float)spectrum_size - 1));
  l->mel_low = freq_to_mel(lower_hz);
  l->mel_spacing = (freq_to_mel(upper_hz) - l->mel_low) / (float)(n_channels + 1);
  l->start_bin = (size_t)(1.5 + (double)(lower_hz / l->hz_per_bin)); /* DC is excluded */
  return 1;
}

/* Walks the bands; stores each band's first bin (absolute) when `starts` is given and
 * returns the end bin, or 0 when a band would run past the spectrum. */
static size_t walk_bands(const layout_t *l, size_t n_channels, size_t spectrum_size,
                         uint16_t *starts) {
  size_t bin = l->start_bin;
  for (size_t c = 0; c <= n_channels; ++c) {
    if (starts) starts[c] = (uint16_t)bin;
    const float centre = centre_mel(l->mel_low, l->mel_spacing, c);
    while (freq_to_mel((float)bin * l->hz_per_bin) <= centre) {
      if (++bin >= spectrum_size) return 0;
    }
  }
  return bin;
}

size_t kws_filterbank_n_bins(size_t n_channels, float lower_hz, float upper_hz,
                             int sample_rate, size_t spectrum_size) {
  layout_t l;
  if (!make_layout(&l, n_channels, lower_hz, upper_hz, sample_rate, spectrum_size)) return 0;
  const size_t end = walk_bands(&l, n_channels, spectrum_size, NULL);
  return end > l.start_bin ? end - l.start_bin : 0;
}

kws_status_t kws_filterbank_populate(kws_filterbank_t *fb, size_t n_channels, float lower_hz,
                                     float upper_hz, int sample_rate, size_t spectrum_size,
                                     uint16_t *band_start, uint16_t *weights,
                                     uint16_t *unweights, size_t n_bins) {
  layout_t l;
  if (!make_layout(&l, n_channels, lower_hz, upper_hz, sample_rate, spectrum_size)) {
    return KWS_ERR_ARG;
  }
  const size_t end = walk_bands(&l, n_channels, spectrum_size, band_start);
  if (end <= l.start_bin || end - l.start_bin != n_bins) return KWS_ERR_ARG;
  band_start[n_channels + 1] = (uint16_t)end;

  for (size_t c = 0; c <= n_channels; ++c) {
    const float centre = centre_mel(l.mel_low, l.mel_spacing, c);
    const float below = c == 0 ? l.mel_low : centre_mel(l.mel_low, l.mel_spacing, c - 1);
    for (size_t bin = band_start[c]; bin < band_start[c + 1]; ++bin) {
      const float w = (centre - freq_to_mel((float)bin * l.hz_per_bin)) / (centre - below);
      weights[bin - l.start_bin] =
          (uint16_t)floor((double)(w * (float)(1 << KWS_FILTERBANK_BITS)) + 0.5);
      unweights[bin - l.start_bin] =
          (uint16_t)floor((1.0 - (double)w) * (1 << KWS_FILTERBANK_BITS) + 0.5);
    }
  }
  for (size_t c = 0; c < n_channels + 2; ++c) band_start[c] = (uint16_t)(band_start[c] - l.start_bin);
  fb->n_channels = n_channels;
  fb->start_bin = l.start_bin;
  fb->end_bin = end;
  fb->band_start = band_start;
  fb->weights = weights;
  fb->unweights = unweights;
  return KWS_OK;
}
