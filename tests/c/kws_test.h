/* A tiny heap-free unit-test harness for the firmware's C code, run on the host (and usable
 * on target). Each test binary prints "KWS-TEST PASS n" or "KWS-TEST FAIL n" and exits 0/1;
 * tests/test_c_units.py runs every build/host/tests/test_* binary under pytest. */
#ifndef KWS_TEST_H
#define KWS_TEST_H
#include <stdio.h>
#include <string.h>

static int kws_test_failures = 0;
static int kws_test_checks = 0;

#define EXPECT_TRUE(cond)                                                              \
  do {                                                                                 \
    kws_test_checks++;                                                                 \
    if (!(cond)) {                                                                     \
      kws_test_failures++;                                                             \
      printf("%s:%d: expected %s\n", __FILE__, __LINE__, #cond);                       \
    }                                                                                  \
  } while (0)
#define EXPECT_EQ(a, b)                                                                \
  do {                                                                                 \
    long long kws_a_ = (long long)(a), kws_b_ = (long long)(b);                        \
    kws_test_checks++;                                                                 \
    if (kws_a_ != kws_b_) {                                                            \
      kws_test_failures++;                                                             \
      printf("%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a, #b,     \
             kws_a_, kws_b_);                                                          \
    }                                                                                  \
  } while (0)
#define RUN_TEST(fn)                                                                   \
  do {                                                                                 \
    int before_ = kws_test_failures;                                                   \
    fn();                                                                              \
    printf("%s %s\n", kws_test_failures == before_ ? "ok  " : "FAIL", #fn);            \
  } while (0)
#define TEST_MAIN_END()                                                                \
  do {                                                                                 \
    printf("KWS-TEST %s %d checks, %d failed\n", kws_test_failures ? "FAIL" : "PASS",  \
           kws_test_checks, kws_test_failures);                                        \
    return kws_test_failures ? 1 : 0;                                                  \
  } while (0)
#endif
