/* Framing of the serial link, both directions (docs/protocol.md).
 *
 *   A5 5A | type u8 | seq u8 | len u16 LE | hcheck u8 | payload[len] | crc32 u32 LE
 *
 * hcheck is CRC-8 (poly 0x07) over type..len, so a corrupted length is rejected at once
 * instead of swallowing the frames behind it. crc32 is the zlib CRC-32 over type..payload.
 * The decoder skips anything else on the line (boot text, garbage) and resynchronises on
 * the next A5 5A after any error. */
#ifndef KWS_FRAME_H
#define KWS_FRAME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KWS_FRAME_SYNC0 0xA5
#define KWS_FRAME_SYNC1 0x5A
#define KWS_FRAME_HEADER_BYTES 7
#define KWS_FRAME_TRAILER_BYTES 4
#define KWS_FRAME_MAX_PAYLOAD 2048
#define KWS_FRAME_MAX_BYTES (KWS_FRAME_HEADER_BYTES + KWS_FRAME_MAX_PAYLOAD + KWS_FRAME_TRAILER_BYTES)

typedef struct {
  uint8_t type;
  uint8_t seq;
  uint16_t len;
  const uint8_t *payload; /* points into the decoder; valid until the next push */
} kws_frame_t;

typedef struct {
  uint8_t buf[KWS_FRAME_MAX_BYTES];
  size_t fill;
  uint8_t frame_pending; /* the buffer holds a delivered frame to drop on the next push */
  uint32_t skipped_bytes; /* bytes that were not part of a valid frame */
  uint32_t bad_frames;    /* frames dropped for a bad header check or CRC */
} kws_frame_decoder_t;

void kws_frame_decoder_init(kws_frame_decoder_t *dec);

/* Feeds up to n bytes and stops after the first complete valid frame.
 * Returns the bytes consumed; *ready is 1 when *frame holds a frame. */
size_t kws_frame_decoder_push(kws_frame_decoder_t *dec, const uint8_t *data, size_t n,
                              kws_frame_t *frame, int *ready);

/* Writes one frame into out (needs len + 11 bytes). Returns the frame size, 0 if it does not fit. */
size_t kws_frame_encode(uint8_t type, uint8_t seq, const uint8_t *payload, uint16_t len,
                        uint8_t *out, size_t out_size);

uint32_t kws_crc32_update(uint32_t crc, const uint8_t *data, size_t len);
uint8_t kws_crc8(const uint8_t *data, size_t len);

#ifdef __cplusplus
}
#endif
#endif
