/* Settings (human units) to DC notch state. */
#ifndef KWS_FRONTEND_DC_NOTCH_UTIL_H
#define KWS_FRONTEND_DC_NOTCH_UTIL_H
#include "frontend/dc_notch.h"

/* coefficient: the pole, 0 <= c < 1 (0.95 typical); stored as (int16)(c * 2^15). */
void kws_dc_notch_populate(kws_dc_notch_t *s, int enabled, float coefficient);
#endif
