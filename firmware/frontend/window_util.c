#include "frontend/window_util.h"

#include <math.h>

void kws_window_make_coefficients(size_t size, int32_t *coefficients) {
  /* The float/double mix of MLTK (cosf of a double argument) keeps every rounding equal. */
  const float arg = (float)(3.14159265358979323846 * 2.0 / (float)size);
  for (size_t i = 0; i < size; ++i) {
    const float value = (float)(0.5 - 0.5 * cosf((float)((double)arg * ((double)i + 0.5))));
    const int32_t q12 = (int32_t)floor((double)(value * (float)(1 << KWS_WINDOW_BITS)) + 0.5);
    coefficients[i] = q12 * (1 << (KWS_WINDOW_STORED_BITS - KWS_WINDOW_BITS));
  }
}
