/* Host-only C API over the frontend for the ctypes binding (host/kwshost/frontend.py):
 * a heap-owned streaming handle and a batch call that turns many clips into rows without
 * a Python round trip per row. The device calls firmware/frontend/frontend.h directly. */
#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"

typedef struct {
  kws_frontend_t fe;
  void *memory;
} kws_fe_handle_t;

size_t kws_fe_config_size(void) { return sizeof(kws_frontend_config_t); }

kws_fe_handle_t *kws_fe_open(const kws_frontend_config_t *config, int *status) {
  const size_t bytes = kws_frontend_state_size(config);
  kws_fe_handle_t *h = calloc(1, sizeof(*h));
  void *memory = bytes ? malloc(bytes) : NULL;
  kws_status_t st = (h && memory) ? KWS_OK : KWS_ERR_NO_MEMORY;
  if (!bytes) st = KWS_ERR_ARG;
  if (st == KWS_OK) st = kws_frontend_init(&h->fe, config, memory, bytes);
  if (status) *status = (int)st;
  if (st != KWS_OK) {
    free(memory);
    free(h);
    return NULL;
  }
  h->memory = memory;
  return h;
}

void kws_fe_close(kws_fe_handle_t *h) {
  if (!h) return;
  free(h->memory);
  free(h);
}

int kws_fe_reset(kws_fe_handle_t *h) { return h ? (int)kws_frontend_reset(&h->fe) : KWS_ERR_ARG; }

/* Feeds samples until they are used up or the next row would exceed max_rows. */
int kws_fe_feed(kws_fe_handle_t *h, const int16_t *samples, size_t n, uint16_t *rows,
                size_t max_rows, size_t *n_rows, size_t *consumed, int *tripped) {
  if (!h || !n_rows || !consumed || (!rows && max_rows)) return KWS_ERR_ARG;
  const size_t width = h->fe.geometry.n_channels;
  size_t done = 0, made = 0;
  int trip = 0;
  while (done < n) {
    /* Stop before a row that would not fit; samples that only fill the window go in. */
    if (made == max_rows && n - done >= h->fe.window.size - h->fe.window.used) break;
    size_t used;
    int ready;
    kws_status_t st =
        kws_frontend_process(&h->fe, samples + done, n - done, &used, rows + made * width, &ready);
    if (st != KWS_OK) return (int)st;
    done += used;
    if (ready) {
      ++made;
      trip |= kws_frontend_activity_tripped(&h->fe);
    }
  }
  *n_rows = made;
  *consumed = done;
  if (tripped) *tripped = trip;
  return KWS_OK;
}

/* Rows of many equally long clips, each from a fresh frontend (as MLTK's wrapper):
 * rows_out holds n_clips * rows_per_clip * n_channels values, rows_per_clip =
 * (clip_len - window_size) / window_step + 1. */
int kws_fe_batch(const kws_frontend_config_t *config, const int16_t *clips, size_t n_clips,
                 size_t clip_len, uint16_t *rows_out) {
  int st = KWS_OK;
  kws_fe_handle_t *h = kws_fe_open(config, &st);
  if (!h) return st;
  const kws_frontend_geometry_t *g = &h->fe.geometry;
  if (clip_len < g->window_size) {
    kws_fe_close(h);
    return KWS_ERR_ARG;
  }
  const size_t rows_per_clip = (clip_len - g->window_size) / g->window_step + 1;
  for (size_t i = 0; i < n_clips && st == KWS_OK; ++i) {
    size_t made = 0, used = 0;
    kws_frontend_reset(&h->fe);
    st = kws_fe_feed(h, clips + i * clip_len, clip_len, rows_out + i * rows_per_clip * g->n_channels,
                     rows_per_clip, &made, &used, NULL);
    if (st == KWS_OK && made != rows_per_clip) st = KWS_ERR_STATE;
  }
  kws_fe_close(h);
  return st;
}
