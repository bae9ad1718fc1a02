/* Framing: round trip, garbage and resynchronisation, corrupted frames, split input. */
#include <string.h>

#include "kws_test.h"
#include "protocol/frame.h"

static size_t push_all(kws_frame_decoder_t *dec, const uint8_t *data, size_t n, kws_frame_t *frames,
                       uint8_t payloads[][64], size_t max_frames) {
  size_t count = 0, used = 0;
  while (used < n) {
    int ready;
    kws_frame_t f;
    used += kws_frame_decoder_push(dec, data + used, n - used, &f, &ready);
    if (ready && count < max_frames) {
      memcpy(payloads[count], f.payload, f.len);
      frames[count] = f;
      frames[count].payload = payloads[count];
      count++;
    }
  }
  return count;
}

static void test_crc32_matches_zlib(void) {
  /* zlib.crc32(b"123456789") == 0xCBF43926, the standard check value */
  EXPECT_EQ(kws_crc32_update(0, (const uint8_t *)"123456789", 9), 0xCBF43926u);
  /* CRC-8/poly 0x07 check value for "123456789" is 0xF4 */
  EXPECT_EQ(kws_crc8((const uint8_t *)"123456789", 9), 0xF4);
}

static void test_round_trip_with_garbage(void) {
  uint8_t stream[256];
  size_t n = 0;
  const char *junk = "boot text \xA5 more \xA5\x5A junk";
  memcpy(stream, junk, strlen(junk));
  n += strlen(junk);
  n += kws_frame_encode(0x42, 7, (const uint8_t *)"hello", 5, stream + n, sizeof(stream) - n);
  stream[n++] = 0x00;
  n += kws_frame_encode(0x43, 8, NULL, 0, stream + n, sizeof(stream) - n);
  kws_frame_decoder_t dec;
  kws_frame_decoder_init(&dec);
  kws_frame_t frames[4];
  uint8_t payloads[4][64];
  size_t count = push_all(&dec, stream, n, frames, payloads, 4);
  EXPECT_EQ(count, 2);
  EXPECT_EQ(frames[0].type, 0x42);
  EXPECT_EQ(frames[0].seq, 7);
  EXPECT_EQ(frames[0].len, 5);
  EXPECT_TRUE(memcmp(frames[0].payload, "hello", 5) == 0);
  EXPECT_EQ(frames[1].type, 0x43);
  EXPECT_EQ(frames[1].len, 0);
  EXPECT_TRUE(dec.skipped_bytes >= strlen(junk));
}

static void test_corrupted_frame_is_dropped_and_next_one_kept(void) {
  uint8_t stream[128];
  size_t a = kws_frame_encode(1, 1, (const uint8_t *)"abcdef", 6, stream, sizeof(stream));
  size_t b = kws_frame_encode(2, 2, (const uint8_t *)"xyz", 3, stream + a, sizeof(stream) - a);
  stream[9] ^= 0x10; /* payload byte of the first frame: CRC-32 fails */
  kws_frame_decoder_t dec;
  kws_frame_decoder_init(&dec);
  kws_frame_t frames[4];
  uint8_t payloads[4][64];
  EXPECT_EQ(push_all(&dec, stream, a + b, frames, payloads, 4), 1);
  EXPECT_EQ(frames[0].type, 2);
  EXPECT_EQ(dec.bad_frames, 1);

  /* a corrupted length must not swallow the following frame */
  a = kws_frame_encode(1, 1, (const uint8_t *)"abcdef", 6, stream, sizeof(stream));
  b = kws_frame_encode(2, 2, (const uint8_t *)"xyz", 3, stream + a, sizeof(stream) - a);
  stream[5] = 0x07; /* length high byte: 0x0706 bytes */
  kws_frame_decoder_init(&dec);
  EXPECT_EQ(push_all(&dec, stream, a + b, frames, payloads, 4), 1);
  EXPECT_EQ(frames[0].type, 2);
}

static void test_byte_by_byte(void) {
  uint8_t stream[64];
  size_t n = kws_frame_encode(9, 3, (const uint8_t *)"split", 5, stream, sizeof(stream));
  kws_frame_decoder_t dec;
  kws_frame_decoder_init(&dec);
  int frames = 0;
  for (size_t i = 0; i < n; i++) {
    kws_frame_t f;
    int ready;
    EXPECT_EQ(kws_frame_decoder_push(&dec, stream + i, 1, &f, &ready), 1);
    if (ready) {
      frames++;
      EXPECT_EQ(i, n - 1);
      EXPECT_TRUE(memcmp(f.payload, "split", 5) == 0);
    }
  }
  EXPECT_EQ(frames, 1);
}

static void test_encode_rejects_oversize(void) {
  static uint8_t big[KWS_FRAME_MAX_PAYLOAD + 1];
  static uint8_t out[KWS_FRAME_MAX_BYTES + 16];
  EXPECT_EQ(kws_frame_encode(1, 0, big, KWS_FRAME_MAX_PAYLOAD + 1, out, sizeof(out)), 0);
  EXPECT_EQ(kws_frame_encode(1, 0, big, 10, out, 12), 0);
  EXPECT_EQ(kws_frame_encode(1, 0, big, KWS_FRAME_MAX_PAYLOAD, out, sizeof(out)), KWS_FRAME_MAX_BYTES);
}

int main(void) {
  RUN_TEST(test_crc32_matches_zlib);
  RUN_TEST(test_round_trip_with_garbage);
  RUN_TEST(test_corrupted_frame_is_dropped_and_next_one_kept);
  RUN_TEST(test_byte_by_byte);
  RUN_TEST(test_encode_rejects_oversize);
  TEST_MAIN_END();
}
