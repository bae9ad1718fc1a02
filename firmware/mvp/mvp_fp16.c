#include "mvp/mvp_fp16.h"

#include <math.h>

uint16_t mvp_f16_from_double(double value) {
  uint16_t sign = signbit(value) ? 0x8000u : 0u;
  double mag = fabs(value);
  if (isnan(value)) return 0x7E00u;
  if (mag >= 65520.0) return (uint16_t)(sign | 0x7C00u); /* rounds past the largest finite */
  if (mag < 6.103515625e-05) {                            /* below 2^-14: subnormal steps 2^-24 */
    double q = rint(ldexp(mag, 24));
    return (uint16_t)(sign | (uint16_t)q); /* q == 1024 becomes the smallest normal, correctly */
  }
  int exp2;
  double frac = frexp(mag, &exp2); /* mag = frac * 2^exp2, frac in [0.5, 1) */
  double m = rint(ldexp(frac, 11)); /* 11 significant bits, 1024..2048 */
  if (m >= 2048.0) {
    m = 1024.0;
    exp2 += 1;
  }
  int biased = exp2 - 1 + 15;
  if (biased >= 31) return (uint16_t)(sign | 0x7C00u);
  return (uint16_t)(sign | (uint16_t)(biased << 10) | ((uint16_t)m & 0x3FFu));
}

double mvp_f16_to_double(uint16_t bits) {
  int exp_field = (bits >> 10) & 0x1F;
  int mant = bits & 0x3FF;
  double sign = (bits & 0x8000u) ? -1.0 : 1.0;
  if (exp_field == 0) return sign * ldexp((double)mant, -24);
  if (exp_field == 31) return mant ? NAN : sign * INFINITY;
  return sign * ldexp((double)(mant | 0x400), exp_field - 25);
}
