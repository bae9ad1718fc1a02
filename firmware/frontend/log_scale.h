/* Log scale: 16-bit fixed-point natural log of each channel, times 2^scale_shift. log2 is
 * the top bit position plus a piecewise-linear correction table over the mantissa. */
#ifndef KWS_FRONTEND_LOG_SCALE_H
#define KWS_FRONTEND_LOG_SCALE_H
#include <stddef.h>
#include <stdint.h>

#define KWS_LOG_SCALE_BITS 16   /* fixed point of the log2 computation */
#define KWS_LOG_SEGMENTS_BITS 7
#define KWS_LOG_SEGMENTS (1 << KWS_LOG_SEGMENTS_BITS)
#define KWS_LOG_LN2_Q16 45426   /* round(ln(2) * 2^16) */

/* Segment i: correction c[i] in the high half, c[i+1] - c[i] in the low half (Q16). */
extern const uint32_t kws_log_segments[KWS_LOG_SEGMENTS];

typedef struct {
  int enabled;
  int scale_shift;
  int correction_bits;
} kws_log_scale_t;

/* out[c] = min(65535, ln-scaled in[c]) (or min(65535, in[c]) when disabled). */
void kws_log_scale_apply(const kws_log_scale_t *s, const uint32_t *in, size_t n,
                         uint16_t *out);
#endif
