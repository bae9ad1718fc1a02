/* IEEE 754 binary16 conversions: the MVP's internal number format. */
#ifndef KWS_MVP_FP16_H
#define KWS_MVP_FP16_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Rounds to the nearest binary16, ties to even; overflow gives +-inf. */
uint16_t mvp_f16_from_double(double value);
/* The same from a float with 32-bit integer arithmetic only (cheap on a single-precision core). */
uint16_t mvp_f16_from_float(float value);
/* Exact. */
double mvp_f16_to_double(uint16_t bits);

#define MVP_F16_MAX 65504.0

#ifdef __cplusplus
}
#endif
#endif
