/* Settings (fractions) to activity detection state. */
#ifndef KWS_FRONTEND_ACTIVITY_DETECTION_UTIL_H
#define KWS_FRONTEND_ACTIVITY_DETECTION_UTIL_H
#include "frontend/activity_detection.h"

void kws_activity_populate(kws_activity_t *s, int enabled, size_t n_channels, float alpha_a,
                           float alpha_b, float arm_threshold, float trip_threshold);
#endif
