/* The per-row pipeline; see frontend.h. */
#include "frontend/frontend.h"

#include <string.h>

#include "frontend/bits.h"
#include "frontend/quantize.h"
#include "frontend/quantize_util.h"

kws_status_t kws_frontend_reset(kws_frontend_t *fe) {
  if (!fe || fe->initialized != KWS_FRONTEND_MAGIC) return KWS_ERR_STATE;
  kws_dc_notch_reset(&fe->notch);
  kws_window_reset(&fe->window);
  memset(fe->fft_input, 0, fe->geometry.fft_length * sizeof(*fe->fft_input));
  kws_noise_reduction_reset(&fe->noise);
  kws_activity_reset(&fe->activity);
  return KWS_OK;
}

static void compute_row(kws_frontend_t *fe, uint16_t *row_out) {
  /* Scale the windowed samples up so the largest uses all 15 bits: the fixed-point FFT
   * keeps its precision, and the filterbank shifts the result back down. */
  const int shift = 15 - kws_msb32((uint32_t)(int32_t)fe->window.max_abs_output);
  const int flags = fe->window.has_min16 ? KWS_FFT_INPUT_MAY_WRAP : 0;
  kws_fft_real(&fe->fft, fe->fft_input, shift | flags, fe->spectrum);
  kws_filterbank_apply(&fe->filterbank, fe->spectrum, shift, fe->channels);
  if (fe->activity.enabled) kws_activity_update(&fe->activity, fe->channels);
  if (fe->noise.enabled) kws_noise_reduction_apply(&fe->noise, fe->channels);
  if (fe->pcan.enabled) kws_pcan_apply(&fe->pcan, fe->channels);
  kws_log_scale_apply(&fe->log_scale, fe->channels, fe->geometry.n_channels, row_out);
}

kws_status_t kws_frontend_process(kws_frontend_t *fe, const int16_t *samples, size_t n,
                                  size_t *consumed, uint16_t *row_out, int *row_ready) {
  if (!fe || !consumed || !row_out || !row_ready || (!samples && n)) return KWS_ERR_ARG;
  if (fe->initialized != KWS_FRONTEND_MAGIC) return KWS_ERR_STATE;
  *row_ready = 0;
  if (!kws_window_process(&fe->window, &fe->notch, samples, n, consumed)) return KWS_OK;
  compute_row(fe, row_out);
  *row_ready = 1;
  return KWS_OK;
}

int kws_frontend_activity_tripped(kws_frontend_t *fe) {
  if (!fe || fe->initialized != KWS_FRONTEND_MAGIC) return 0;
  return kws_activity_take_trip(&fe->activity);
}

kws_status_t kws_frontend_quantize_window(const uint16_t *rows, size_t n_rows,
                                          size_t n_channels,
                                          const kws_frontend_config_t *config, int8_t *out) {
  if (!rows || !out || !config) return KWS_ERR_ARG;
  const int32_t range = kws_quantize_range(config->quantize_dynamic_scale_enable,
                                           config->quantize_dynamic_scale_range_db,
                                           config->log_scale_shift);
  kws_quantize_rows(rows, n_rows * n_channels, range, out);
  return KWS_OK;
}
