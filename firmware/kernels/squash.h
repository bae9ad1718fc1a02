/* What LOGISTIC and TANH share (C++ only). Their two arithmetics:
 *  - TFLite: a 256-entry table of the float function over every int8 input, dequantized,
 *    transformed, rounded to the output (`v * inverse_scale` rounded, plus the zero point, in
 *    float) and clamped; built in scratch at each invoke, so no op data;
 *  - TFLite Micro: inputs beyond +-radius saturate; others are rescaled into Q4.27 and passed
 *    through a gemmlowp fixed-point function. The multiplier is frexp's significand rounded to
 *    31 bits without renormalisation, as there.
 */
#ifndef KWS_KERNELS_SQUASH_H
#define KWS_KERNELS_SQUASH_H

#include <math.h>

#include "kernels/fixed_point_exp.h"
#include "kernels/kernel_util.h"

constexpr int kKwsSquashInputIntegerBits = 4;

/* Fills `table` (256 bytes) with fn over every int8 input and maps the input through it. */
template <typename Fn>
void kws_squash_by_table(const kws_tensor_t *in, const kws_tensor_t *out, int8_t *table, Fn fn) {
  const float inverse_scale = 1.0f / out->scale;
  for (int32_t v = -128; v <= 127; v++) {
    const float x = in->scale * (float)(v - in->zero_point);
    const int32_t q = (int32_t)(roundf(fn(x) * inverse_scale) + (float)out->zero_point);
    table[v + 128] = (int8_t)kws_clamp_i32(q, -128, 127);
  }
  const int8_t *xv = static_cast<const int8_t *>(in->data);
  int8_t *yv = static_cast<int8_t *>(out->data);
  const int32_t n = kws_flat_size(in);
  for (int32_t i = 0; i < n; i++) yv[i] = table[xv[i] + 128];
}

/* TFLite Micro's input rescaling into Q4.27. */
struct kws_squash_input_t {
  int32_t multiplier;
  int left_shift;
  int32_t radius;
};

/* False for input scales whose exponent would shift out of range. */
static inline bool kws_squash_input(const kws_tensor_t *in, kws_squash_input_t *p) {
  const double real = (double)in->scale * (double)(1 << (31 - kKwsSquashInputIntegerBits));
  const double q = frexp(real, &p->left_shift);
  p->multiplier = (int32_t)(uint32_t)(int64_t)round(q * (double)(1LL << 31));
  if (p->left_shift < 0 || p->left_shift > 62) return false;
  /* radius = floor((2^4 - 1) * 2^27 / 2^left_shift); 0 for huge scales: every input saturates */
  p->radius = (int32_t)floor(15.0 * (double)(1LL << (31 - kKwsSquashInputIntegerBits)) / ldexp(1.0, p->left_shift));
  return true;
}

/* Calls fn(q4) for inputs within the radius (q4: the input in Q4.27) and stores its int8 result;
 * stores lo / hi for inputs at or beyond -radius / +radius. */
template <typename Fn>
void kws_squash_fixed_point(const kws_tensor_t *in, const kws_tensor_t *out, const kws_squash_input_t &p,
                            int8_t lo, int8_t hi, Fn fn) {
  const int8_t *x = static_cast<const int8_t *>(in->data);
  int8_t *y = static_cast<int8_t *>(out->data);
  const int32_t n = kws_flat_size(in);
  for (int32_t i = 0; i < n; i++) {
    const int32_t v = x[i] - in->zero_point;
    if (v <= -p.radius)
      y[i] = lo;
    else if (v >= p.radius)
      y[i] = hi;
    else
      y[i] = fn(kws_multiply_by_quantized_multiplier(v, p.multiplier, p.left_shift));
  }
}

#endif
