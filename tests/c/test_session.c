/* The device side of the protocol with a fake pipeline: START, exactly-once audio (gap,
 * duplicate, overlap), numbered events and their resend, errors without a model. */
#include <string.h>

#include "detector/pipeline.h"
#include "kws_test.h"
#include "protocol/messages.h"
#include "protocol/session.h"

/* --- a fake pipeline: class 0 is hot from 1000 ms on --------------------------------- */
static int64_t fed;
static int fe_step(void *c, const int16_t *s, size_t n, uint16_t *row) {
  (void)c; (void)s; row[0] = 1;
  fed += (int64_t)n;
  return 1;
}
static void fe_reset(void *c) { (void)c; }
static void quant(void *c, const uint16_t *r, size_t a, size_t b, int8_t *in) {
  (void)c; (void)r; (void)a; (void)b; in[0] = 0;
}
static int8_t input_buf[4];
static int8_t *input(void *c) { (void)c; return input_buf; }
static kws_status_t invoke(void *c, int8_t *scores, size_t n) {
  (void)c; (void)n;
  int hot = fed >= 16000;
  scores[0] = hot ? 127 : -128;
  scores[1] = hot ? -128 : 127;
  return KWS_OK;
}

/* --- capture what the device sends ------------------------------------------------------ */
static uint8_t out[65536];
static size_t out_len;
static void wr(void *c, const uint8_t *d, size_t n) {
  (void)c;
  if (out_len + n <= sizeof(out)) { memcpy(out + out_len, d, n); out_len += n; }
}
typedef struct { uint8_t type; uint8_t payload[256]; uint16_t len; } msg_t;
static msg_t msgs[256];
static int n_msgs;
static void decode_out(void) {
  static kws_frame_decoder_t dec;
  kws_frame_decoder_init(&dec);
  n_msgs = 0;
  size_t used = 0;
  while (used < out_len) {
    kws_frame_t f; int ready;
    used += kws_frame_decoder_push(&dec, out + used, out_len - used, &f, &ready);
    if (ready && n_msgs < 256) {
      msgs[n_msgs].type = f.type;
      msgs[n_msgs].len = f.len;
      memcpy(msgs[n_msgs].payload, f.payload, f.len < 256 ? f.len : 256);
      n_msgs++;
    }
  }
  out_len = 0;
}
static uint32_t u32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

static kws_session_t sess;
static kws_pipeline_t pipe;
static uint16_t window[4];
static uint8_t tx[4096];

static void send_host(uint8_t type, const uint8_t *payload, uint16_t len) {
  size_t n = kws_frame_encode(type, 0, payload, len, tx, sizeof(tx));
  kws_session_receive(&sess, tx, n);
}
static void send_audio(uint32_t first, uint32_t count) {
  uint8_t p[4 + 2 * 512];
  p[0] = (uint8_t)first; p[1] = (uint8_t)(first >> 8); p[2] = (uint8_t)(first >> 16); p[3] = 0;
  memset(p + 4, 0, 2 * count);
  send_host(KWS_MSG_AUDIO, p, (uint16_t)(4 + 2 * count));
}
static const msg_t *last_of(uint8_t type) {
  for (int i = n_msgs - 1; i >= 0; i--) if (msgs[i].type == type) return &msgs[i];
  return NULL;
}

static void setup(void) {
  kws_pipeline_config_t cfg = {16000, 160, 2, 2, 200, {440, 2, 204, 900, 2, 0x2, 0, {0}}, 0};
  kws_pipeline_ops_t ops = {NULL, fe_step, fe_reset, quant, input, invoke};
  EXPECT_EQ(kws_pipeline_init(&pipe, &cfg, &ops, window, sizeof(window)), KWS_OK);
  kws_session_io_t io = {NULL, wr, NULL, NULL, NULL};
  kws_session_init(&sess, &io, &pipe, KWS_OK, NULL, "test board", "alexa\n_unknown_");
  fed = 0;
  out_len = 0;
}

static void test_start_and_exactly_once_audio(void) {
  setup();
  send_audio(0, 100); /* before START: refused */
  decode_out();
  EXPECT_TRUE(last_of(KWS_MSG_ACK)->payload[10] & KWS_ACK_NOT_STARTED);
  uint8_t flags = KWS_START_VERBOSE;
  send_host(KWS_MSG_START, &flags, 1);
  decode_out();
  const msg_t *st = last_of(KWS_MSG_STARTED);
  EXPECT_TRUE(st != NULL);
  EXPECT_EQ(st->payload[0] | st->payload[1] << 8, 16000);
  EXPECT_EQ(st->payload[6], 2);
  EXPECT_EQ(st->payload[7], 204);
  EXPECT_TRUE(memcmp(st->payload + 8, "alexa\n_unknown_", 15) == 0);

  send_audio(0, 500);
  decode_out();
  EXPECT_EQ(u32(last_of(KWS_MSG_ACK)->payload), 500);
  send_audio(1000, 500); /* 500..999 were lost: gap */
  decode_out();
  EXPECT_EQ(u32(last_of(KWS_MSG_ACK)->payload), 500);
  EXPECT_TRUE(last_of(KWS_MSG_ACK)->payload[10] & KWS_ACK_GAP);
  send_audio(0, 500); /* a retransmission of what it has: duplicate */
  decode_out();
  EXPECT_EQ(u32(last_of(KWS_MSG_ACK)->payload), 500);
  EXPECT_TRUE(last_of(KWS_MSG_ACK)->payload[10] & KWS_ACK_DUPLICATE);
  send_audio(250, 500); /* overlaps: only 500..749 are new */
  decode_out();
  EXPECT_EQ(u32(last_of(KWS_MSG_ACK)->payload), 750);
  EXPECT_EQ(fed, 750 - 750 % 160);
}

static void test_events_numbered_and_resent(void) {
  setup();
  uint8_t flags = KWS_START_VERBOSE;
  send_host(KWS_MSG_START, &flags, 1);
  decode_out();
  for (uint32_t at = 0; at < 32000; at += 500) send_audio(at, 500);
  decode_out();
  int scores = 0, detections = 0;
  uint32_t expect_seq = 0;
  for (int i = 0; i < n_msgs; i++) {
    if (msgs[i].type == KWS_MSG_SCORES || msgs[i].type == KWS_MSG_DETECTION) {
      EXPECT_EQ(u32(msgs[i].payload), expect_seq);
      expect_seq++;
      if (msgs[i].type == KWS_MSG_SCORES) scores++;
      else {
        detections++;
        EXPECT_EQ(msgs[i].payload[8], 0);
        EXPECT_EQ(msgs[i].payload[9], 255);
        EXPECT_EQ(u32(msgs[i].payload + 4), 1400); /* 1400: the first all-hot average window */
      }
    }
  }
  EXPECT_EQ(scores, 10); /* 2 s of audio, one inference per 200 ms */
  EXPECT_EQ(detections, 1);
  EXPECT_EQ(sess.detections, 1); /* what the board's LED follows */
  EXPECT_EQ(u32(last_of(KWS_MSG_ACK)->payload + 4), 11);
  uint8_t from[4] = {9, 0, 0, 0};
  send_host(KWS_MSG_EVENTS_REQ, from, 4);
  decode_out();
  EXPECT_EQ(n_msgs, 3); /* events 9 and 10, then an ACK */
  EXPECT_EQ(u32(msgs[0].payload), 9);
  EXPECT_EQ(u32(msgs[1].payload), 10);
  EXPECT_EQ(msgs[2].type, KWS_MSG_ACK);
}

static void test_no_model_is_a_message_not_a_fault(void) {
  kws_session_io_t io = {NULL, wr, NULL, NULL, NULL};
  kws_session_init(&sess, &io, NULL, KWS_ERR_NOT_FOUND, "no model in the model region", "b", "");
  out_len = 0;
  kws_session_boot(&sess);
  send_host(KWS_MSG_START, NULL, 0);
  send_host(KWS_MSG_HELLO_REQ, NULL, 0);
  decode_out();
  EXPECT_EQ(msgs[0].type, KWS_MSG_BOOT);
  EXPECT_EQ(msgs[0].payload[1], KWS_ERR_NOT_FOUND);
  EXPECT_EQ(msgs[1].type, KWS_MSG_ERROR);
  EXPECT_TRUE(memcmp(msgs[1].payload + 1, "no model", 8) == 0);
  EXPECT_EQ(msgs[2].type, KWS_MSG_ERROR);
  EXPECT_EQ(msgs[3].type, KWS_MSG_HELLO);
}

int main(void) {
  RUN_TEST(test_start_and_exactly_once_audio);
  RUN_TEST(test_events_numbered_and_resent);
  RUN_TEST(test_no_model_is_a_message_not_a_fault);
  TEST_MAIN_END();
}
