/* The audio frontend: 16-bit PCM in, one row of n_channels uint16 log-mel energies per
 * window step out, bit-exact with MLTK's AudioFeatureGenerator (TFLM microfrontend + DC
 * notch + activity detection), plus the int8 quantization of a window of rows.
 *
 * Pipeline per row (each stage is a file pair <stage>.c + <stage>_util.c):
 *   samples -> dc_notch -> window (Hann, Q12) -> fft (16-bit fixed point, kissfft
 *   arithmetic) -> filterbank (mel, sqrt) -> [activity_detection] -> [noise_reduction]
 *   -> [pcan] -> log_scale -> row (uint16[n_channels])
 *   rows of one model window -> quantize -> int8 model input
 *
 * Memory: the caller owns everything. kws_frontend_state_size() says how many bytes the
 * tables and buffers need for a config; kws_frontend_init() carves them from the caller's
 * buffer (no heap, no stdio). Usage:
 *
 *   kws_frontend_config_t cfg;  kws_frontend_config_default(&cfg);  // or from metadata
 *   static uint8_t mem[KWS_FRONTEND_MEM_FOR_SEED]; kws_frontend_t fe;
 *   kws_frontend_init(&fe, &cfg, mem, sizeof mem);
 *   while (have audio) {
 *     size_t used; int ready; uint16_t row[108];
 *     kws_frontend_process(&fe, pcm, n, &used, row, &ready);
 *     pcm += used; n -= used;
 *     if (ready) append row to the ring of the last rows_per_window rows;
 *   }
 *   kws_frontend_quantize_window(rows, rows_per_window, 108, &cfg, model_input);
 */
#ifndef KWS_FRONTEND_FRONTEND_H
#define KWS_FRONTEND_FRONTEND_H
#include <stddef.h>
#include <stdint.h>

#include "frontend/activity_detection.h"
#include "frontend/dc_notch.h"
#include "frontend/fft.h"
#include "frontend/filterbank.h"
#include "frontend/log_scale.h"
#include "frontend/noise_reduction.h"
#include "frontend/pcan.h"
#include "frontend/window.h"
#include "kws_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Every fe.* setting of a model's metadata, in the metadata's units. Flags are 0/1 ints so
 * the struct maps 1:1 onto ctypes. Field order is part of the host binding's ABI: append
 * new fields at the end (host/kwshost/frontend.py mirrors it). */
typedef struct {
  int32_t sample_rate_hz;                     /* 16000 */
  int32_t sample_length_ms;                   /* audio per model window: 1200 */
  int32_t window_size_ms;                     /* 30 */
  int32_t window_step_ms;                     /* 10: one row per step */
  int32_t fft_length;                         /* 0 = derive; else must equal the derived 512 */
  int32_t filterbank_n_channels;              /* 108 */
  float filterbank_upper_band_limit;          /* Hz: 7500 */
  float filterbank_lower_band_limit;          /* Hz: 125 */
  int32_t noise_reduction_enable;             /* 1 */
  int32_t noise_reduction_smoothing_bits;     /* 10 */
  float noise_reduction_even_smoothing;       /* 0.025 */
  float noise_reduction_odd_smoothing;        /* 0.06 */
  float noise_reduction_min_signal_remaining; /* 0.40 */
  int32_t pcan_enable;                        /* 0 */
  float pcan_strength;                        /* 0.95 */
  float pcan_offset;                          /* 80 */
  int32_t pcan_gain_bits;                     /* 21 */
  int32_t log_scale_enable;                   /* 1 */
  int32_t log_scale_shift;                    /* 6 */
  int32_t activity_detection_enable;          /* 0 */
  float activity_detection_alpha_a;           /* 0.5 */
  float activity_detection_alpha_b;           /* 0.8 */
  float activity_detection_arm_threshold;     /* 0.75 */
  float activity_detection_trip_threshold;    /* 0.8 */
  int32_t dc_notch_filter_enable;             /* 1 */
  float dc_notch_filter_coefficient;          /* 0.95 */
  int32_t quantize_dynamic_scale_enable;      /* 1 */
  float quantize_dynamic_scale_range_db;      /* 40 */
} kws_frontend_config_t;

/* Sizes derived from a config (all in samples or rows). */
typedef struct {
  uint32_t window_size;     /* samples per window: 480 */
  uint32_t window_step;     /* samples per row: 160 */
  uint32_t fft_length;      /* 512 */
  uint32_t n_channels;      /* values per row: 108 */
  uint32_t sample_length;   /* samples per model window: 19200 */
  uint32_t rows_per_window; /* rows per model window: (19200 - 480) / 160 + 1 = 118 */
  uint32_t filterbank_bins; /* FFT bins the filterbank spans */
  int32_t quantize_range;   /* dynamic range in log units (294), 0 = static mapping */
} kws_frontend_geometry_t;

typedef struct {
  kws_frontend_config_t config;
  kws_frontend_geometry_t geometry;
  kws_dc_notch_t notch;
  kws_window_t window;
  kws_fft_t fft;
  kws_filterbank_t filterbank;
  kws_activity_t activity;
  kws_noise_reduction_t noise;
  kws_pcan_t pcan;
  kws_log_scale_t log_scale;
  int16_t *fft_input;       /* [fft_length]; the window writes its output here */
  kws_cpx16_t *spectrum;    /* [fft_length/2 + 1] */
  uint32_t *channels;       /* [n_channels] */
  uint32_t initialized;     /* KWS_FRONTEND_MAGIC once kws_frontend_init succeeded */
} kws_frontend_t;

#define KWS_FRONTEND_MAGIC 0x4B465245u
/* Bytes kws_frontend_state_size() returns for the seed's settings (checked by a test). */
#define KWS_FRONTEND_MEM_FOR_SEED 10039u

/* The seed model's settings (the table above). */
void kws_frontend_config_default(kws_frontend_config_t *config);

/* The range each numeric setting must lie in (inclusive; NaN is outside), the first checks
 * of kws_frontend_geometry: the fractions and levels become fixed point by plain conversions
 * (as MLTK's), so each must stay where that conversion is defined, or a model's metadata
 * could make the frontend's behaviour undefined. The host names a refused setting from it. */
typedef struct {
  const char *name; /* the metadata key without "fe." */
  uint16_t offset;  /* of the field in kws_frontend_config_t */
  uint8_t is_float; /* a float field (lo, hi); else an int32 one (int_lo, int_hi) */
  float lo, hi;
  int32_t int_lo, int_hi;
} kws_frontend_range_t;

size_t kws_frontend_range_count(void);
const kws_frontend_range_t *kws_frontend_range_at(size_t i); /* NULL past the end */
/* The index of config's first setting outside its range, or kws_frontend_range_count(). */
size_t kws_frontend_first_out_of_range(const kws_frontend_config_t *config);

/* Checks a config and derives its sizes. KWS_ERR_ARG for inconsistent settings,
 * KWS_ERR_UNSUPPORTED for valid ones this code does not handle. */
kws_status_t kws_frontend_geometry(const kws_frontend_config_t *config,
                                   kws_frontend_geometry_t *geometry);

/* Bytes of caller memory kws_frontend_init needs for this config; 0 if it is invalid. */
size_t kws_frontend_state_size(const kws_frontend_config_t *config);

/* Builds all tables in `buffer` (any alignment; buffer_size >= state_size) and resets.
 * The buffer must outlive fe. KWS_ERR_NO_MEMORY when it is too small. */
kws_status_t kws_frontend_init(kws_frontend_t *fe, const kws_frontend_config_t *config,
                               void *buffer, size_t buffer_size);

/* Forgets all audio (window, notch, noise estimate, activity), keeps the tables. */
kws_status_t kws_frontend_reset(kws_frontend_t *fe);

/* Feeds up to n samples; stops after the first completed row. *consumed = samples taken
 * (call again with the rest), *row_ready = 1 when row_out[n_channels] holds a new row. */
kws_status_t kws_frontend_process(kws_frontend_t *fe, const int16_t *samples, size_t n,
                                  size_t *consumed, uint16_t *row_out, int *row_ready);

/* 1 once after the activity detector tripped (then cleared); 0 otherwise. */
int kws_frontend_activity_tripped(kws_frontend_t *fe);

/* int8 model input from n_rows x n_channels uint16 rows (oldest first): dynamic
 * quantization over the whole window when fe.quantize_dynamic_scale_enable and the range
 * is > 0, else the static mapping, exactly as MLTK's AudioFeatureGenerator. */
kws_status_t kws_frontend_quantize_window(const uint16_t *rows, size_t n_rows,
                                          size_t n_channels,
                                          const kws_frontend_config_t *config, int8_t *out);

#ifdef __cplusplus
}
#endif
#endif
