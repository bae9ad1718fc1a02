/* Settings to the dynamic quantization range. */
#ifndef KWS_FRONTEND_QUANTIZE_UTIL_H
#define KWS_FRONTEND_QUANTIZE_UTIL_H
#include <stdint.h>

/* range = int(range_db * 2^log_scale_shift * ln(10)/20) when enabled (294 for 40 dB and
 * shift 6), else 0 (the static mapping). */
int32_t kws_quantize_range(int enabled, float range_db, int log_scale_shift);
#endif
