#include "frontend/activity_detection_util.h"

#include <math.h>

void kws_activity_populate(kws_activity_t *s, int enabled, size_t n_channels, float alpha_a,
                           float alpha_b, float arm_threshold, float trip_threshold) {
  s->enabled = enabled != 0;
  s->n_channels = n_channels;
  s->scale = (int)ceil(log2((double)n_channels));
  /* Fractions become fixed point by truncation, as MLTK does. */
  s->alpha_a = (int16_t)(alpha_a * (float)(1 << 8));
  s->alpha_b = (int16_t)(alpha_b * (float)(1 << 8));
  s->arm_threshold = (int16_t)(arm_threshold * (float)(1 << 12));
  s->trip_threshold = (int16_t)(trip_threshold * (float)(1 << 12));
  kws_activity_reset(s);
}
