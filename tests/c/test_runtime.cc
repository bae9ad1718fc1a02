/* The model runtime in C: planner invariants, the SL_PARAMSv1 reader and the interpreter's
 * allocate / hook behaviour on MLTK's alexa model (read from models/, run from the repo root). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernel_api.h"
#include "kws_test.h"
#include "runtime/interpreter.h"
#include "runtime/model_params.h"
#include "runtime/planner.h"

static uint8_t *load_model(size_t *len) {
  FILE *f = fopen("models/mltk_keyword_spotting_alexa.tflite", "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *data = (uint8_t *)aligned_alloc(16, ((size_t)n + 15) & ~(size_t)15);
  *len = fread(data, 1, (size_t)n, f);
  fclose(f);
  return data;
}

static void test_planner_never_overlaps_live_buffers() {
  enum { N = 60 };
  kws_plan_buffer_t b[N];
  uint16_t order[2 * N];
  uint32_t seed = 12345;
  for (int trial = 0; trial < 50; trial++) {
    for (int i = 0; i < N; i++) {
      seed = seed * 1103515245u + 12345u;
      uint16_t first = (uint16_t)((seed >> 8) % 40);
      seed = seed * 1103515245u + 12345u;
      uint16_t len = (uint16_t)((seed >> 8) % 6);
      seed = seed * 1103515245u + 12345u;
      b[i] = kws_plan_buffer_t{((seed >> 8) % 2000 + 1) * 16, first, (uint16_t)(first + len), 0};
    }
    uint32_t total = kws_plan_greedy(b, N, order);
    uint32_t peak_live = 0; /* a lower bound: bytes alive at the busiest step */
    for (uint16_t t = 0; t < 46; t++) {
      uint32_t live = 0;
      for (int i = 0; i < N; i++)
        if (b[i].first <= t && t <= b[i].last) live += b[i].size;
      if (live > peak_live) peak_live = live;
    }
    EXPECT_TRUE(total >= peak_live);
    int overlaps = 0;
    for (int i = 0; i < N; i++) {
      EXPECT_TRUE(b[i].offset + b[i].size <= total);
      for (int j = i + 1; j < N; j++) {
        bool same_time = b[i].first <= b[j].last && b[j].first <= b[i].last;
        bool same_bytes = b[i].offset < b[j].offset + b[j].size && b[j].offset < b[i].offset + b[i].size;
        if (same_time && same_bytes) overlaps++;
      }
    }
    EXPECT_EQ(overlaps, 0);
  }
}

static void test_planner_reuses_dead_memory() {
  /* A chain a -> b -> c: a and c never live together, so they share bytes. */
  kws_plan_buffer_t b[3] = {{1024, 0, 0, 0}, {512, 0, 1, 0}, {1024, 1, 1, 0}};
  uint16_t order[6];
  EXPECT_EQ(kws_plan_greedy(b, 3, order), 1536);
  EXPECT_EQ(b[0].offset, b[2].offset);
}

static void test_params(const uint8_t *model, size_t len) {
  kws_model_params_t p;
  EXPECT_EQ(kws_params_open(&p, model, len), KWS_OK);
  int32_t i = 0;
  float f = 0;
  uint8_t b = 9;
  const char *s = NULL;
  uint32_t n = 0;
  EXPECT_EQ(kws_params_get_int(&p, "detection_threshold", &i), KWS_OK);
  EXPECT_EQ(i, 204);
  EXPECT_EQ(kws_params_get_int(&p, "fe.filterbank_n_channels", &i), KWS_OK);
  EXPECT_EQ(i, 108);
  EXPECT_EQ(kws_params_get_float(&p, "fe.filterbank_upper_band_limit", &f), KWS_OK);
  EXPECT_TRUE(f == 7500.0f);
  EXPECT_EQ(kws_params_get_float(&p, "fe.sample_rate_hz", &f), KWS_OK); /* an integer, as float */
  EXPECT_TRUE(f == 16000.0f);
  EXPECT_EQ(kws_params_get_bool(&p, "fe.pcan_enable", &b), KWS_OK);
  EXPECT_EQ(b, 0);
  EXPECT_EQ(kws_params_get_bool(&p, "fe.noise_reduction_enable", &b), KWS_OK);
  EXPECT_EQ(b, 1);
  EXPECT_EQ(kws_params_get_string(&p, "name", &s, &n), KWS_OK);
  EXPECT_TRUE(n == strlen("keyword_spotting_alexa") && memcmp(s, "keyword_spotting_alexa", n) == 0);
  EXPECT_EQ(kws_params_get_string_count(&p, "classes", &n), KWS_OK);
  EXPECT_EQ(n, 2);
  EXPECT_EQ(kws_params_get_string_at(&p, "classes", 1, &s, &n), KWS_OK);
  EXPECT_TRUE(n == 9 && memcmp(s, "_unknown_", 9) == 0);
  EXPECT_EQ(kws_params_get_string_at(&p, "classes", 2, &s, &n), KWS_ERR_NOT_FOUND);
  EXPECT_EQ(kws_params_get_int(&p, "no_such_key", &i), KWS_ERR_NOT_FOUND);
  EXPECT_EQ(kws_params_get_int(&p, "name", &i), KWS_ERR_UNSUPPORTED);
  EXPECT_EQ(kws_params_get_string(&p, "latency_ms", &s, &n), KWS_ERR_UNSUPPORTED);
  EXPECT_EQ(kws_params_get_float(&p, "fe.pcan_enable", &f), KWS_ERR_UNSUPPORTED);
  /* Truncated anywhere: a status, never a crash (AddressSanitizer covers this in fuzzing). */
  for (size_t cut = 0; cut < len; cut += 997) {
    kws_model_params_t q;
    kws_status_t st = kws_params_open(&q, model, cut);
    EXPECT_TRUE(st == KWS_ERR_MODEL_INVALID || st == KWS_ERR_NOT_FOUND || st == KWS_OK);
  }
}

static int g_hook_calls, g_hook_order_ok = 1, g_last_op = -1;

static void hook(void *user, uint16_t op, int phase) {
  (void)user;
  g_hook_calls++;
  if (phase == KWS_HOOK_BEFORE && op != g_last_op + 1) g_hook_order_ok = 0;
  if (phase == KWS_HOOK_AFTER) g_last_op = op;
}

static void test_interpreter(const uint8_t *model, size_t len) {
  static kws_op_resolver_t resolver;
  static kws_interpreter_t it;
  kws_resolver_init_reference(&resolver);
  EXPECT_EQ(kws_interp_init(&it, model, len, &resolver), KWS_OK);
  EXPECT_EQ(it.n_ops, 56);
  /* Too small: fails cleanly and says how much is needed. */
  static uint8_t small[8 * 1024] __attribute__((aligned(16)));
  EXPECT_EQ(kws_interp_allocate(&it, small, sizeof(small)), KWS_ERR_NO_MEMORY);
  EXPECT_TRUE(strstr(kws_interp_message(&it), "arena too small") != NULL);
  static uint8_t big[64 * 1024] __attribute__((aligned(16)));
  EXPECT_EQ(kws_interp_allocate(&it, big, sizeof(big)), KWS_OK);
  const size_t needed = kws_interp_arena_needed(&it);
  EXPECT_TRUE(needed > 16 * 1024 && needed <= 40 * 1024 - sizeof(kws_interpreter_t) - sizeof(resolver));
  /* Exactly the reported size works; one 16-byte step less does not. */
  uint8_t *exact = (uint8_t *)aligned_alloc(16, needed);
  EXPECT_EQ(kws_interp_allocate(&it, exact, needed - 16), KWS_ERR_NO_MEMORY);
  EXPECT_EQ(kws_interp_allocate(&it, exact, needed), KWS_OK);
  kws_tensor_t in, out;
  EXPECT_EQ(kws_interp_input(&it, 0, &in), KWS_OK);
  EXPECT_EQ(in.bytes, 118 * 108);
  memset(in.data, 0, in.bytes);
  kws_interp_set_hook(&it, hook, NULL);
  EXPECT_EQ(kws_interp_invoke(&it), KWS_OK);
  EXPECT_EQ(g_hook_calls, 2 * 56);
  EXPECT_TRUE(g_hook_order_ok);
  EXPECT_EQ(g_last_op, 55);
  EXPECT_EQ(kws_interp_output(&it, 0, &out), KWS_OK);
  EXPECT_EQ(out.bytes, 2);
  EXPECT_EQ(kws_interp_input(&it, 1, &in), KWS_ERR_ARG);
  /* An unallocated interpreter refuses to run. */
  static kws_interpreter_t fresh;
  EXPECT_EQ(kws_interp_init(&fresh, model, len, &resolver), KWS_OK);
  EXPECT_EQ(kws_interp_invoke(&fresh), KWS_ERR_STATE);
  EXPECT_EQ(kws_interp_reset_state(&fresh), KWS_ERR_STATE);
  EXPECT_EQ(kws_interp_reset_state(NULL), KWS_ERR_STATE);
  /* A model without variables: resetting its state changes nothing. */
  EXPECT_EQ(it.n_variables, 0);
  EXPECT_EQ(it.n_subgraphs, 1);
  EXPECT_EQ(kws_interp_reset_state(&it), KWS_OK);
  EXPECT_EQ(kws_interp_invoke(&it), KWS_OK);
  /* A resolver without CONV_2D: init names the operator. */
  static kws_op_resolver_t partial;
  partial.count = 0;
  EXPECT_EQ(kws_interp_init(&fresh, model, len, &partial), KWS_ERR_UNSUPPORTED);
  EXPECT_TRUE(strstr(kws_interp_message(&fresh), "operator 0 (CONV_2D)") != NULL);
  free(exact);
}

int main() {
  size_t len = 0;
  uint8_t *model = load_model(&len);
  EXPECT_TRUE(model != NULL); /* run from the repository root */
  RUN_TEST(test_planner_never_overlaps_live_buffers);
  RUN_TEST(test_planner_reuses_dead_memory);
  if (model) {
    test_params(model, len);
    printf("%s test_params\n", kws_test_failures ? "FAIL" : "ok  ");
    test_interpreter(model, len);
    printf("%s test_interpreter\n", kws_test_failures ? "FAIL" : "ok  ");
  }
  free(model);
  TEST_MAIN_END();
}
