/* Greedy memory planner (algorithm in planner.h). */
#include "runtime/planner.h"

static int overlaps_in_time(const kws_plan_buffer_t *a, const kws_plan_buffer_t *b) {
  return a->first <= b->last && b->first <= a->last;
}

/* Visit order: larger first; equal sizes by earlier first use. */
static int goes_before(const kws_plan_buffer_t *a, const kws_plan_buffer_t *b) {
  if (a->size != b->size) return a->size > b->size;
  return a->first < b->first;
}

uint32_t kws_plan_greedy(kws_plan_buffer_t *buffers, uint32_t n, uint16_t *order) {
  /* order[0..n) is the visit order; order[n..2n) lists placed buffers by offset. */
  uint16_t *by_offset = order + n;
  for (uint32_t i = 0; i < n; i++) {
    /* Insertion sort: n is small and this needs no extra memory. */
    uint32_t j = i;
    while (j > 0 && goes_before(&buffers[i], &buffers[order[j - 1]])) {
      order[j] = order[j - 1];
      j--;
    }
    order[j] = (uint16_t)i;
  }
  uint32_t total = 0, placed = 0;
  for (uint32_t k = 0; k < n; k++) {
    kws_plan_buffer_t *b = &buffers[order[k]];
    b->offset = 0;
    if (b->size == 0) continue;
    /* Sweep the placed buffers in offset order; only those alive at the same time matter.
     * The first gap that holds the buffer is the lowest offset where it fits. */
    uint32_t candidate = 0;
    for (uint32_t p = 0; p < placed; p++) {
      const kws_plan_buffer_t *o = &buffers[by_offset[p]];
      if (!overlaps_in_time(b, o)) continue;
      if (candidate + b->size <= o->offset) break;
      if (o->offset + o->size > candidate) candidate = o->offset + o->size;
    }
    b->offset = candidate;
    if (candidate + b->size > total) total = candidate + b->size;
    /* Keep by_offset sorted. */
    uint32_t j = placed++;
    while (j > 0 && buffers[by_offset[j - 1]].offset > candidate) {
      by_offset[j] = by_offset[j - 1];
      j--;
    }
    by_offset[j] = order[k];
  }
  return total;
}
