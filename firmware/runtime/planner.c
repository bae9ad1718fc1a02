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
  for (uint32_t i = 0; i < n; i++) {
    /* Insertion sort: n is small and this needs no extra memory. */
    uint32_t j = i;
    while (j > 0 && goes_before(&buffers[i], &buffers[order[j - 1]])) {
      order[j] = order[j - 1];
      j--;
    }
    order[j] = (uint16_t)i;
  }
  uint32_t total = 0;
  for (uint32_t k = 0; k < n; k++) {
    kws_plan_buffer_t *b = &buffers[order[k]];
    if (b->size == 0) {
      b->offset = 0;
      continue;
    }
    uint32_t best = UINT32_MAX;
    /* Candidates: 0 and the end of every placed buffer that lives at the same time. */
    for (uint32_t c = 0; c <= k; c++) {
      uint32_t candidate = 0;
      if (c < k) {
        const kws_plan_buffer_t *o = &buffers[order[c]];
        if (o->size == 0 || !overlaps_in_time(b, o)) continue;
        candidate = o->offset + o->size;
      }
      if (candidate >= best) continue;
      int fits = 1;
      for (uint32_t p = 0; p < k && fits; p++) {
        const kws_plan_buffer_t *o = &buffers[order[p]];
        if (o->size == 0 || !overlaps_in_time(b, o)) continue;
        if (candidate < o->offset + o->size && o->offset < candidate + b->size) fits = 0;
      }
      if (fits) best = candidate;
    }
    b->offset = best;
    if (best + b->size > total) total = best + b->size;
  }
  return total;
}
