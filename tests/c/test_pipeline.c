/* The pipeline's schedule, timing, chunking and reset-after-detection, with a fake frontend
 * and model (the real ones are tested by their own tests and end to end). */
#include <string.h>

#include "detector/pipeline.h"
#include "kws_test.h"

typedef struct {
  int hops_seen;     /* since the last frontend reset */
  int resets;
  int8_t input[4 * 3];
  uint16_t last_window[4 * 3];
  int invokes;
  int hot_from, hot_to; /* inferences that score class 0 high */
} fake_t;

static int fe_step(void *ctx, const int16_t *s, size_t n, uint16_t *row) {
  fake_t *f = ctx;
  (void)n;
  f->hops_seen++;
  if (f->hops_seen < 3) return 0; /* the frontend needs 3 hops before its first row */
  for (int c = 0; c < 3; c++) row[c] = (uint16_t)(f->hops_seen * 10 + c + (s[0] & 1));
  return 1;
}
static void fe_reset(void *ctx) {
  fake_t *f = ctx;
  f->hops_seen = 0;
  f->resets++;
}
static void quant(void *ctx, const uint16_t *rows, size_t nr, size_t nc, int8_t *in) {
  fake_t *f = ctx;
  memcpy(f->last_window, rows, nr * nc * sizeof(uint16_t));
  for (size_t i = 0; i < nr * nc; i++) in[i] = (int8_t)(rows[i] & 0x7F);
}
static int8_t *input(void *ctx) { return ((fake_t *)ctx)->input; }
static kws_status_t invoke(void *ctx, int8_t *scores, size_t n) {
  fake_t *f = ctx;
  int hot = f->invokes >= f->hot_from && f->invokes <= f->hot_to;
  scores[0] = hot ? 127 : -128;
  scores[1] = hot ? -128 : 127;
  (void)n;
  f->invokes++;
  return KWS_OK;
}

#define MAX_INF 64
typedef struct {
  int count;
  int32_t time[MAX_INF];
  int detected[MAX_INF];
} log_t;
static void sink(void *user, const kws_inference_t *inf) {
  log_t *l = user;
  if (l->count < MAX_INF) {
    l->time[l->count] = inf->time_ms;
    l->detected[l->count] = inf->decision.detected;
  }
  l->count++;
}

static kws_pipeline_t pipe;
static uint16_t window[4 * 3];
static int16_t audio[16000 * 3];

static void setup(fake_t *f) {
  memset(f, 0, sizeof(*f));
  f->hot_from = 100;
  kws_pipeline_config_t cfg = {16000, 160, 4, 3, 200, {440, 2, 204, 900, 2, 0x2, 0, {0}}, 0};
  kws_pipeline_ops_t ops = {f, fe_step, fe_reset, quant, input, invoke};
  EXPECT_EQ(kws_pipeline_init(&pipe, &cfg, &ops, window, sizeof(window)), KWS_OK);
}

static void test_inference_every_latency_in_audio_time(void) {
  fake_t f;
  log_t l = {0};
  setup(&f);
  EXPECT_EQ(kws_pipeline_process(&pipe, audio, 16000 * 3, sink, &l), KWS_OK);
  EXPECT_EQ(l.count, 15);
  EXPECT_EQ(l.time[0], 200);
  EXPECT_EQ(l.time[14], 3000);
  EXPECT_EQ(kws_pipeline_samples(&pipe), 48000);
}

static void test_chunking_does_not_matter(void) {
  fake_t f;
  log_t whole = {0}, pieces = {0};
  for (int i = 0; i < 16000 * 3; i++) audio[i] = (int16_t)(i * 7919);
  setup(&f);
  f.hot_from = 6;
  f.hot_to = 8;
  EXPECT_EQ(kws_pipeline_process(&pipe, audio, 16000 * 3, sink, &whole), KWS_OK);
  uint16_t w1[12];
  memcpy(w1, f.last_window, sizeof(w1));
  setup(&f);
  f.hot_from = 6;
  f.hot_to = 8;
  size_t at = 0, sizes[] = {1, 37, 159, 160, 161, 500, 1023};
  for (int k = 0; at < 16000 * 3; k++) {
    size_t n = sizes[k % 7];
    if (n > 16000 * 3 - at) n = 16000 * 3 - at;
    EXPECT_EQ(kws_pipeline_process(&pipe, audio + at, n, sink, &pieces), KWS_OK);
    at += n;
  }
  EXPECT_EQ(pieces.count, whole.count);
  for (int i = 0; i < whole.count; i++) {
    EXPECT_EQ(pieces.time[i], whole.time[i]);
    EXPECT_EQ(pieces.detected[i], whole.detected[i]);
  }
  EXPECT_TRUE(memcmp(w1, f.last_window, sizeof(w1)) == 0);
}

static void test_detection_clears_window_and_resets_frontend(void) {
  fake_t f;
  log_t l = {0};
  setup(&f);
  f.hot_from = 4; /* inferences 4,5,6 at 1000, 1200, 1400 ms */
  f.hot_to = 6;
  EXPECT_EQ(kws_pipeline_process(&pipe, audio, 16000 * 2, sink, &l), KWS_OK);
  /* Window 440 ms holds 3 results. 1000 ms: 600, 800 cold + 1000 hot -> 85; 1200: 800 cold
   * + 1000, 1200 hot -> 170; 1400: all hot -> 255 > 204, detected. */
  EXPECT_EQ(l.detected[4], 0);
  EXPECT_EQ(l.detected[5], 0);
  EXPECT_EQ(l.detected[6], 1);
  EXPECT_EQ(f.resets, 2); /* once at init, once after the detection */
  /* The next inference (1600 ms, 20 hops later) sees rows made after the reset only:
   * 20 hops - 2 warm-up = 18 rows >= 4, so no zero rows remain... */
  EXPECT_TRUE(f.last_window[0] != 0);
  /* ...but right after the detection the window was zero: check with a short stream. */
  setup(&f);
  f.hot_from = 0;
  f.hot_to = 100;
  kws_pipeline_config_t cfg = pipe.config;
  cfg.latency_ms = 10; /* an inference every hop: the window right after a reset is visible */
  cfg.detector.minimum_count = 0;
  cfg.detector.suppression_ms = 0;
  kws_pipeline_ops_t ops = pipe.ops;
  EXPECT_EQ(kws_pipeline_init(&pipe, &cfg, &ops, window, sizeof(window)), KWS_OK);
  log_t l2 = {0};
  EXPECT_EQ(kws_pipeline_process(&pipe, audio, 160 * 2, sink, &l2), KWS_OK);
  EXPECT_EQ(l2.detected[0], 1);
  EXPECT_EQ(l2.detected[1], 1);
  for (int i = 0; i < 12; i++) EXPECT_EQ(f.last_window[i], 0); /* cleared, no row yet */
}

static void test_streaming_model_sees_each_row_once(void) {
  /* on_new_rows: an inference each time n_rows (4) new rows came; rows come from hop 3 on,
   * so the first at hop 6 (60 ms), then every 4 hops, whatever latency_ms says. */
  fake_t f;
  log_t l = {0};
  setup(&f);
  kws_pipeline_config_t cfg = pipe.config;
  cfg.on_new_rows = 1;
  cfg.detector.minimum_count = 0;
  cfg.detector.suppression_ms = 0;
  kws_pipeline_ops_t ops = pipe.ops;
  EXPECT_EQ(kws_pipeline_init(&pipe, &cfg, &ops, window, sizeof(window)), KWS_OK);
  EXPECT_EQ(kws_pipeline_process(&pipe, audio, 160 * 14, sink, &l), KWS_OK);
  EXPECT_EQ(l.count, 3);
  EXPECT_EQ(l.time[0], 60);
  EXPECT_EQ(l.time[1], 100);
  EXPECT_EQ(l.time[2], 140);
  /* the window holds rows of hops 11..14 only: none seen before */
  for (int r = 0; r < 4; r++) EXPECT_EQ(f.last_window[r * 3] / 10, 11 + r);
  /* a detection clears the count too: the next inference waits for 4 rows of the reset
   * frontend (3 warm-up hops + 4 rows) */
  f.hot_from = 3;
  f.hot_to = 3;
  log_t l2 = {0};
  EXPECT_EQ(kws_pipeline_process(&pipe, audio, 160 * 10, sink, &l2), KWS_OK);
  EXPECT_EQ(l2.count, 2);
  EXPECT_EQ(l2.detected[0], 1);
  EXPECT_EQ(l2.time[1] - l2.time[0], 60);
}

static void test_bad_config(void) {
  fake_t f;
  memset(&f, 0, sizeof(f));
  kws_pipeline_ops_t ops = {&f, fe_step, fe_reset, quant, input, invoke};
  kws_pipeline_config_t cfg = {16000, 160, 4, 3, 205, {440, 2, 204, 900, 2, 0x2, 0, {0}}, 0};
  EXPECT_EQ(kws_pipeline_init(&pipe, &cfg, &ops, window, sizeof(window)), KWS_ERR_UNSUPPORTED);
  cfg.latency_ms = 200;
  EXPECT_EQ(kws_pipeline_init(&pipe, &cfg, &ops, window, 10), KWS_ERR_NO_MEMORY);
  ops.model_invoke = NULL;
  EXPECT_EQ(kws_pipeline_init(&pipe, &cfg, &ops, window, sizeof(window)), KWS_ERR_ARG);
}

int main(void) {
  RUN_TEST(test_inference_every_latency_in_audio_time);
  RUN_TEST(test_chunking_does_not_matter);
  RUN_TEST(test_detection_clears_window_and_resets_frontend);
  RUN_TEST(test_streaming_model_sees_each_row_once);
  RUN_TEST(test_bad_config);
  TEST_MAIN_END();
}
