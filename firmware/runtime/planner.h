/* Greedy memory planner: places buffers with known lifetimes into one arena, reusing bytes
 * between buffers whose lifetimes do not overlap.
 *
 * How it works:
 *  1. Buffers are visited from largest to smallest (ties: earliest first use first), because
 *     big buffers are the hardest to fit into gaps.
 *  2. For each, the buffers already placed whose lifetime [first, last] overlaps its own are
 *     the only ones it must avoid. Sweeping the placed buffers in offset order, it takes the
 *     first gap between those that is large enough (or the end of the last one).
 *  3. Placed buffers are kept sorted by offset, so each placement is one pass: O(n^2) in all,
 *     n = tensors + operators.
 */
#ifndef KWS_RUNTIME_PLANNER_H
#define KWS_RUNTIME_PLANNER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  uint32_t size;     /* bytes, already rounded to the alignment */
  uint16_t first;    /* first operator that uses it */
  uint16_t last;     /* last operator that uses it */
  uint32_t offset;   /* result */
} kws_plan_buffer_t;

/* Places `n` buffers; `order` is work space for 2n entries. Returns the arena bytes needed. */
uint32_t kws_plan_greedy(kws_plan_buffer_t *buffers, uint32_t n, uint16_t *order);

#ifdef __cplusplus
}
#endif
#endif
