#include "frontend/activity_detection.h"

/* 32-bit product with wrap-around, as the reference's int multiply before widening. */
static int32_t mul32(int32_t a, int32_t b) { return (int32_t)((uint32_t)a * (uint32_t)b); }

/* out = (1 - k) * in + k * out, k in Q8, rounded. */
static void one_pole(int32_t in, int32_t *out, int16_t k) {
  const int64_t p = (int64_t)mul32((1 << 8) - k, in) + mul32(k, *out);
  *out = (int32_t)((((p >> 7) + 1) >> 1));
}

void kws_activity_update(kws_activity_t *s, const uint32_t *channels) {
  uint32_t total = 0;
  for (size_t c = 0; c < s->n_channels; ++c) total += channels[c];
  total >>= s->scale;
  one_pole((int32_t)total, &s->filter_a, s->alpha_a);
  one_pole((int32_t)total, &s->filter_b, s->alpha_b);
  if (!s->armed) {
    const int32_t arm_level = (int32_t)(((int64_t)s->filter_b * s->arm_threshold) >> 12);
    if (s->filter_a < arm_level) s->armed = 1;
  } else {
    const int32_t trip_level = (int32_t)(((int64_t)s->filter_b * s->trip_threshold) >> 12);
    if (s->filter_a > trip_level) {
      s->armed = 0;
      s->tripped = 1;
    }
  }
}

int kws_activity_take_trip(kws_activity_t *s) {
  const int t = s->tripped;
  s->tripped = 0;
  return t;
}

void kws_activity_reset(kws_activity_t *s) {
  s->filter_a = 0;
  s->filter_b = 0;
  s->armed = 0;
  s->tripped = 0;
}
