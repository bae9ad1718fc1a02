/* int8 model input from a window of uint16 frontend rows.
 *   dynamic (MLTK's quantize_dynamic_scale): the window's maximum maps to 127 and values
 *     `range` below it (range_db decibels in log-scale units) to -128;
 *   static (the TFLM micro_speech mapping): round(v * 256 / 666) - 128. */
#ifndef KWS_FRONTEND_QUANTIZE_H
#define KWS_FRONTEND_QUANTIZE_H
#include <stddef.h>
#include <stdint.h>

/* range > 0: dynamic with that range; range <= 0: static. */
void kws_quantize_rows(const uint16_t *values, size_t n, int32_t range, int8_t *out);
#endif
