#include "frontend/quantize.h"

static int8_t clamp_int8(int32_t v) { return (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v); }

static void quantize_dynamic(const uint16_t *values, size_t n, int32_t range, int8_t *out) {
  int32_t maxval = 0;
  for (size_t i = 0; i < n; ++i) {
    if (values[i] > maxval) maxval = values[i];
  }
  const int32_t minval = maxval - range > 0 ? maxval - range : 0;
  const int32_t span = maxval - minval > 1 ? maxval - minval : 1;
  for (size_t i = 0; i < n; ++i) {
    /* C division truncates towards zero; values below minval all end at -128. */
    out[i] = clamp_int8(((int32_t)values[i] - minval) * 255 / span - 128);
  }
}

static void quantize_static(const uint16_t *values, size_t n, int8_t *out) {
  for (size_t i = 0; i < n; ++i) {
    out[i] = clamp_int8(((int32_t)values[i] * 256 + 333) / 666 - 128);
  }
}

void kws_quantize_rows(const uint16_t *values, size_t n, int32_t range, int8_t *out) {
  if (range > 0) {
    quantize_dynamic(values, n, range, out);
  } else {
    quantize_static(values, n, out);
  }
}
