#include "frontend/quantize_util.h"

int32_t kws_quantize_range(int enabled, float range_db, int log_scale_shift) {
  if (!enabled) return 0;
  /* ln(10)/20 as a double literal, the product in float then double, as MLTK. */
  return (int32_t)(range_db * (float)(1 << log_scale_shift) * 0.11512925465);
}
