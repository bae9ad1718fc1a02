/* Settings to log scale state, and the log2 correction table. */
#ifndef KWS_FRONTEND_LOG_SCALE_UTIL_H
#define KWS_FRONTEND_LOG_SCALE_UTIL_H
#include "frontend/log_scale.h"

/* correction_bits: log2(fft_length) - 1 - filterbank_bits/2; the input is shifted by it
 * before the log (left when positive). */
void kws_log_scale_populate(kws_log_scale_t *s, int enabled, int scale_shift,
                            int correction_bits);
#endif
