#include "frontend/dc_notch_util.h"

void kws_dc_notch_populate(kws_dc_notch_t *s, int enabled, float coefficient) {
  s->enabled = enabled != 0;
  s->coefficient = (int16_t)(coefficient * (float)(1 << 15)); /* truncates, like MLTK */
  kws_dc_notch_reset(s);
}
