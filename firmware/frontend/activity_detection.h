/* Activity detection: two one-pole filters (fast a, slow b) follow the total channel
 * energy; the detector arms when a/b falls under the arm threshold and trips when it then
 * rises above the trip threshold (a sudden onset). It does not change the features. */
#ifndef KWS_FRONTEND_ACTIVITY_DETECTION_H
#define KWS_FRONTEND_ACTIVITY_DETECTION_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
  int enabled;
  size_t n_channels;
  int scale;               /* ceil(log2(n_channels)): the sum is shifted down by it */
  int16_t alpha_a, alpha_b;/* Q8 */
  int16_t arm_threshold;   /* Q12 */
  int16_t trip_threshold;  /* Q12 */
  int32_t filter_a, filter_b;
  int armed;
  int tripped;             /* stays set until kws_activity_take_trip() */
} kws_activity_t;

void kws_activity_update(kws_activity_t *s, const uint32_t *channels);
/* Returns 1 once per trip, and clears it. */
int kws_activity_take_trip(kws_activity_t *s);
void kws_activity_reset(kws_activity_t *s);
#endif
