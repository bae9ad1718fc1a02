/* Settings to window state: sizes in samples and the Q12 Hann coefficients. */
#ifndef KWS_FRONTEND_WINDOW_UTIL_H
#define KWS_FRONTEND_WINDOW_UTIL_H
#include "frontend/window.h"

/* Fills `coefficients[size]` with the periodic-offset Hann window the microfrontend uses,
 * w[i] = round(4096 * (0.5 - 0.5 cos(2 pi (i + 0.5) / size))), stored times 16 (see
 * KWS_WINDOW_STORED_BITS). */
void kws_window_make_coefficients(size_t size, int32_t *coefficients);
#endif
