/* Greedy memory planner: places buffers with known lifetimes into one arena, reusing bytes
 * between buffers whose lifetimes do not overlap.
 *
 * How it works:
 *  1. Buffers are visited from largest to smallest (ties: earliest first use first), because
 *     big buffers are the hardest to fit into gaps.
 *  2. For each, the buffers already placed whose lifetime [first, last] overlaps its own are
 *     the only ones it must avoid. Candidate offsets are 0 and the end of each of those.
 *  3. The lowest candidate where it overlaps none of them wins.
 * The arena size is the highest end offset. O(n^2) per buffer at worst, n = tensors + ops:
 * a few hundred for the models a microcontroller runs.
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

/* Places `n` buffers; `order` is work space for n entries. Returns the arena bytes needed. */
uint32_t kws_plan_greedy(kws_plan_buffer_t *buffers, uint32_t n, uint16_t *order);

#ifdef __cplusplus
}
#endif
#endif
