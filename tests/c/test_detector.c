/* Hand-made score sequences for every edge of the MLTK-compatible detector. */
#include "detector/detector.h"
#include "kws_test.h"

/* Score on the 0..255 scale as the model's int8 output. */
#define Q(s) ((int8_t)((s) - 128))

static kws_detector_t det;
static kws_detector_result_t res;

static void setup(int32_t window, int32_t min_count, uint8_t threshold, int32_t suppression,
                  uint32_t classes, uint32_t ignored) {
  kws_detector_config_t c = {window, min_count, threshold, suppression, classes, ignored, 0, {0}};
  EXPECT_EQ(kws_detector_init(&det, &c), KWS_OK);
}

static void feed(int32_t t, uint8_t s0, uint8_t s1) {
  int8_t scores[2] = {Q(s0), Q(s1)};
  EXPECT_EQ(kws_detector_process(&det, t, scores, &res), KWS_OK);
}

static void test_startup_needs_minimum_count_and_suppression(void) {
  setup(440, 2, 204, 900, 2, 0x2); /* class 0 "alexa", class 1 "_unknown_" */
  feed(200, 255, 0);
  EXPECT_TRUE(!res.averaged);
  EXPECT_EQ(res.score, 0);
  EXPECT_EQ(res.class_index, 0);
  EXPECT_TRUE(!res.detected);
  /* Averaged and above threshold, but the "previous detection" is class 0 at time 0. */
  for (int32_t t = 400; t <= 900; t += 100) {
    feed(t, 255, 0);
    EXPECT_TRUE(res.averaged);
    EXPECT_EQ(res.score, 255);
    EXPECT_TRUE(!res.detected);
  }
  feed(901, 255, 0); /* 901 - 0 > 900 */
  EXPECT_TRUE(res.detected);
  EXPECT_EQ(res.class_index, 0);
}

static void test_exact_threshold_is_not_enough(void) {
  setup(440, 2, 204, 900, 2, 0x2);
  feed(1000, 204, 0);
  feed(1200, 204, 0);
  EXPECT_EQ(res.score, 204);
  EXPECT_TRUE(!res.detected);
  feed(1400, 207, 0); /* (204 + 204 + 207) / 3 = 205 */
  EXPECT_EQ(res.score, 205);
  EXPECT_TRUE(res.detected);
}

static void test_average_is_integer_division(void) {
  setup(440, 2, 204, 900, 2, 0x2);
  feed(1000, 204, 0);
  feed(1200, 205, 0); /* 409 / 2 = 204 */
  EXPECT_EQ(res.score, 204);
  EXPECT_TRUE(!res.detected);
  setup(440, 2, 204, 900, 2, 0x2);
  feed(1000, 205, 0);
  feed(1200, 206, 0); /* 411 / 2 = 205 */
  EXPECT_EQ(res.score, 205);
  EXPECT_TRUE(res.detected);
}

static void test_window_boundary(void) {
  /* A result exactly window ms old is kept... */
  setup(440, 2, 204, 900, 2, 0x2);
  feed(1000, 255, 0);
  feed(1440, 155, 0);
  EXPECT_TRUE(res.averaged);
  EXPECT_EQ(res.score, 205);
  EXPECT_TRUE(res.detected);
  /* ...one ms older is dropped, leaving too few results. */
  setup(440, 2, 204, 900, 2, 0x2);
  feed(1000, 255, 0);
  feed(1441, 155, 0);
  EXPECT_TRUE(!res.averaged);
  EXPECT_EQ(res.score, 0);
  EXPECT_TRUE(!res.detected);
}

static void test_suppression_boundary_same_class(void) {
  setup(0, 1, 204, 900, 2, 0x2); /* window 0, count 1: each result stands alone */
  feed(1000, 255, 0);
  EXPECT_TRUE(res.detected);
  feed(1900, 255, 0); /* exactly suppression_ms later: suppressed */
  EXPECT_TRUE(!res.detected);
  feed(1901, 255, 0);
  EXPECT_TRUE(res.detected);
  feed(2000, 255, 0); /* the clock restarted at 1901 */
  EXPECT_TRUE(!res.detected);
}

static void test_class_change_bypasses_suppression(void) {
  int8_t s[3];
  setup(0, 1, 204, 900, 3, 0x4); /* "on", "off", "_unknown_" */
  s[0] = Q(250); s[1] = Q(0); s[2] = Q(0);
  EXPECT_EQ(kws_detector_process(&det, 1000, s, &res), KWS_OK);
  EXPECT_TRUE(res.detected);
  s[0] = Q(0); s[1] = Q(250);
  EXPECT_EQ(kws_detector_process(&det, 1100, s, &res), KWS_OK);
  EXPECT_TRUE(res.detected);
  EXPECT_EQ(res.class_index, 1);
  s[0] = Q(250); s[1] = Q(0);
  EXPECT_EQ(kws_detector_process(&det, 1200, s, &res), KWS_OK);
  EXPECT_TRUE(res.detected); /* back to class 0: different from the previous (1) */
}

static void test_ignored_class_never_fires(void) {
  setup(0, 1, 204, 900, 2, 0x2);
  feed(5000, 0, 255);
  EXPECT_EQ(res.class_index, 1);
  EXPECT_EQ(res.score, 255);
  EXPECT_TRUE(!res.detected);
  /* An ignored top class does not move the suppression clock. */
  feed(5100, 255, 0);
  EXPECT_TRUE(res.detected);
}

static void test_tie_takes_first_class_and_zero_scores(void) {
  setup(0, 1, 100, 0, 2, 0);
  feed(10, 200, 200);
  EXPECT_EQ(res.class_index, 0);
  feed(20, 0, 0);
  EXPECT_EQ(res.class_index, 0);
  EXPECT_EQ(res.score, 0);
}

static void test_minimum_count_zero_uses_latest_only(void) {
  setup(10000, 0, 204, 900, 2, 0x2);
  feed(1000, 0, 255);
  feed(1100, 255, 0);
  EXPECT_TRUE(res.averaged);
  EXPECT_EQ(res.score, 255);
  EXPECT_TRUE(res.detected);
}

static void test_too_few_reports_previous_detection_class(void) {
  int8_t s[3] = {Q(0), Q(250), Q(0)};
  setup(100, 2, 204, 0, 3, 0);
  EXPECT_EQ(kws_detector_process(&det, 1000, s, &res), KWS_OK);
  EXPECT_EQ(kws_detector_process(&det, 1050, s, &res), KWS_OK);
  EXPECT_TRUE(res.detected);
  EXPECT_EQ(res.class_index, 1);
  EXPECT_EQ(kws_detector_process(&det, 5000, s, &res), KWS_OK); /* window emptied */
  EXPECT_TRUE(!res.averaged);
  EXPECT_EQ(res.class_index, 1);
}

static void test_queue_and_detection_state_survive_a_detection(void) {
  /* After a detection the averaging queue is kept (the app resets only the frontend). */
  setup(440, 2, 204, 900, 2, 0x2);
  feed(1000, 255, 0);
  feed(1200, 255, 0);
  EXPECT_TRUE(res.detected);
  feed(1400, 0, 0); /* (255+255+0)/3 = 170 */
  EXPECT_EQ(res.score, 170);
}

static void test_bad_arguments(void) {
  kws_detector_config_t c = {440, 2, 204, 900, 0, 0, 0, {0}};
  EXPECT_EQ(kws_detector_init(&det, &c), KWS_ERR_UNSUPPORTED);
  c.class_count = 33;
  EXPECT_EQ(kws_detector_init(&det, &c), KWS_ERR_UNSUPPORTED);
  c.class_count = 2;
  c.minimum_count = -1;
  EXPECT_EQ(kws_detector_init(&det, &c), KWS_ERR_ARG);
  setup(440, 2, 204, 900, 2, 0);
  feed(1000, 1, 1);
  int8_t s[2] = {0, 0};
  EXPECT_EQ(kws_detector_process(&det, 999, s, &res), KWS_ERR_ARG); /* time went back */
  EXPECT_EQ(kws_detector_process(&det, 1000, NULL, &res), KWS_ERR_ARG);
  const char *labels[3] = {"alexa", "_unknown_", NULL};
  EXPECT_EQ(kws_detector_ignored_from_labels(labels, 3), 0x2);
}

static void test_queue_capacity(void) {
  /* A window longer than the queue averages the latest KWS_DETECTOR_MAX_RESULTS results. */
  setup(100000, 1, 204, 900, 2, 0x2);
  feed(0, 255, 0); /* the oldest: dropped once the queue is full */
  for (int32_t i = 1; i < KWS_DETECTOR_MAX_RESULTS; i++) feed(i, 1, 100);
  EXPECT_EQ(res.class_index, 1);
  EXPECT_EQ(res.score, 100 * (KWS_DETECTOR_MAX_RESULTS - 1) / KWS_DETECTOR_MAX_RESULTS);
  feed(1000, 1, 100);
  EXPECT_EQ(res.class_index, 1);
  EXPECT_EQ(res.score, 100); /* 0 left the queue; with it the average would stay below 100 */
}

static void test_a_class_threshold_wins_for_its_class(void) {
  /* MLTK's detection_threshold_list: class 0 needs more than 240 here, whatever the shared
   * threshold (50) says; class 1, not in the set, keeps the shared one */
  kws_detector_config_t c = {440, 1, 50, 0, 2, 0, 0x1, {240, 0}};
  EXPECT_EQ(kws_detector_init(&det, &c), KWS_OK);
  feed(1000, 200, 0);
  EXPECT_EQ(res.score, 200);
  EXPECT_TRUE(!res.detected);
  feed(1500, 241, 0);
  EXPECT_TRUE(res.detected && res.class_index == 0);
  feed(2000, 0, 60);
  EXPECT_TRUE(res.detected && res.class_index == 1);
}

int main(void) {
  RUN_TEST(test_startup_needs_minimum_count_and_suppression);
  RUN_TEST(test_exact_threshold_is_not_enough);
  RUN_TEST(test_average_is_integer_division);
  RUN_TEST(test_window_boundary);
  RUN_TEST(test_suppression_boundary_same_class);
  RUN_TEST(test_class_change_bypasses_suppression);
  RUN_TEST(test_ignored_class_never_fires);
  RUN_TEST(test_tie_takes_first_class_and_zero_scores);
  RUN_TEST(test_minimum_count_zero_uses_latest_only);
  RUN_TEST(test_too_few_reports_previous_detection_class);
  RUN_TEST(test_queue_and_detection_state_survive_a_detection);
  RUN_TEST(test_bad_arguments);
  RUN_TEST(test_queue_capacity);
  RUN_TEST(test_a_class_threshold_wins_for_its_class);
  TEST_MAIN_END();
}
