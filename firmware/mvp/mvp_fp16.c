#include "mvp/mvp_fp16.h"

#include <string.h>

/* Bit-level conversions (the simulator converts on every ALU result, so they must be cheap). */

uint16_t mvp_f16_from_double(double value) {
  uint64_t b;
  memcpy(&b, &value, sizeof(b));
  const uint16_t sign = (uint16_t)((b >> 48) & 0x8000u);
  const int e = (int)((b >> 52) & 0x7FF) - 1023;
  const uint64_t mant = b & ((1ull << 52) - 1);
  if (e == 1024) return (uint16_t)(sign | (mant ? 0x7E00u : 0x7C00u)); /* NaN, inf */
  if (e > 15) return (uint16_t)(sign | 0x7C00u);
  if (e == -1023 && mant == 0) return sign; /* zero (double subnormals round to zero below) */
  const uint64_t sig = (1ull << 52) | mant;
  /* normal: keep 11 significant bits; subnormal: keep units of 2^-24 */
  const int shift = e >= -14 ? 42 : 42 + (-14 - e);
  if (shift > 53) return sign; /* below half the smallest subnormal */
  uint64_t q = sig >> shift;
  const uint64_t rem = sig & ((1ull << shift) - 1), half = 1ull << (shift - 1);
  if (rem > half || (rem == half && (q & 1u))) q++; /* nearest, ties to even */
  if (e < -14) return (uint16_t)(sign | (uint16_t)q); /* q == 0x400 is the smallest normal */
  uint32_t out = ((uint32_t)(e + 15) << 10) + (uint32_t)(q - 0x400u); /* a carry bumps the exponent */
  if (out >= 0x7C00u) out = 0x7C00u;
  return (uint16_t)(sign | out);
}

uint16_t mvp_f16_from_float(float value) {
  uint32_t b;
  memcpy(&b, &value, sizeof(b));
  const uint16_t sign = (uint16_t)((b >> 16) & 0x8000u);
  const int e = (int)((b >> 23) & 0xFF) - 127;
  const uint32_t mant = b & 0x7FFFFFu;
  if (e == 128) return (uint16_t)(sign | (mant ? 0x7E00u : 0x7C00u)); /* NaN, inf */
  if (e > 15) return (uint16_t)(sign | 0x7C00u);
  const uint32_t sig = (1u << 23) | mant;
  const int shift = e >= -14 ? 13 : 13 + (-14 - e);
  if (shift > 24) return sign; /* zero, float subnormals, below half the smallest subnormal */
  uint32_t q = sig >> shift;
  const uint32_t rem = sig & ((1u << shift) - 1u), half = 1u << (shift - 1);
  if (rem > half || (rem == half && (q & 1u))) q++; /* nearest, ties to even */
  if (e < -14) return (uint16_t)(sign | (uint16_t)q);
  uint32_t out = ((uint32_t)(e + 15) << 10) + (q - 0x400u);
  if (out >= 0x7C00u) out = 0x7C00u;
  return (uint16_t)(sign | out);
}

double mvp_f16_to_double(uint16_t bits) {
  const uint64_t sign = (uint64_t)(bits & 0x8000u) << 48;
  const int exp_field = (bits >> 10) & 0x1F;
  uint64_t mant = bits & 0x3FFu;
  uint64_t b;
  if (exp_field == 31) {
    b = sign | (0x7FFull << 52) | (mant << 42);
  } else if (exp_field == 0) {
    if (mant == 0) {
      b = sign;
    } else { /* subnormal: normalize */
      int e = -14;
      while (!(mant & 0x400u)) {
        mant <<= 1;
        e--;
      }
      b = sign | ((uint64_t)(e + 1023) << 52) | ((mant & 0x3FFu) << 42);
    }
  } else {
    b = sign | ((uint64_t)(exp_field - 15 + 1023) << 52) | (mant << 42);
  }
  double d;
  memcpy(&d, &b, sizeof(d));
  return d;
}
