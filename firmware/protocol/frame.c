#include "protocol/frame.h"

#include <string.h>

/* Nibble-wise CRC-32 (reflected, poly 0xEDB88320): 64 bytes of table instead of 1 kB. */
static const uint32_t kCrc32Nibble[16] = {
    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u,
    0x4DB26158u, 0x5005713Cu, 0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
    0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu};

uint32_t kws_crc32_update(uint32_t crc, const uint8_t *data, size_t len) {
  crc = ~crc;
  for (size_t i = 0; i < len; i++) {
    crc ^= data[i];
    crc = (crc >> 4) ^ kCrc32Nibble[crc & 0xF];
    crc = (crc >> 4) ^ kCrc32Nibble[crc & 0xF];
  }
  return ~crc;
}

uint8_t kws_crc8(const uint8_t *data, size_t len) {
  uint8_t crc = 0;
  for (size_t i = 0; i < len; i++) {
    crc ^= data[i];
    for (int b = 0; b < 8; b++) crc = (uint8_t)((crc & 0x80) ? (crc << 1) ^ 0x07 : crc << 1);
  }
  return crc;
}

static uint32_t read_u32le(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

void kws_frame_decoder_init(kws_frame_decoder_t *dec) { memset(dec, 0, sizeof(*dec)); }

/* Drops the first byte (a sync that led nowhere) and slides to the next possible sync. */
static void resync(kws_frame_decoder_t *dec) {
  size_t next = 1;
  while (next < dec->fill && dec->buf[next] != KWS_FRAME_SYNC0) next++;
  dec->skipped_bytes += (uint32_t)next;
  memmove(dec->buf, dec->buf + next, dec->fill - next);
  dec->fill -= next;
}

/* Checks what is buffered. Returns 1 for a complete valid frame, 0 when more bytes are needed,
 * and resynchronises (returning -1) on anything invalid. */
static int check_buffer(kws_frame_decoder_t *dec) {
  if (dec->fill >= 1 && dec->buf[0] != KWS_FRAME_SYNC0) { resync(dec); return -1; }
  if (dec->fill >= 2 && dec->buf[1] != KWS_FRAME_SYNC1) { resync(dec); return -1; }
  if (dec->fill < KWS_FRAME_HEADER_BYTES) return 0;
  uint16_t len = (uint16_t)(dec->buf[4] | (dec->buf[5] << 8));
  if (len > KWS_FRAME_MAX_PAYLOAD || kws_crc8(dec->buf + 2, 4) != dec->buf[6]) {
    dec->bad_frames++;
    resync(dec);
    return -1;
  }
  size_t total = (size_t)KWS_FRAME_HEADER_BYTES + len + KWS_FRAME_TRAILER_BYTES;
  if (dec->fill < total) return 0;
  uint32_t crc = kws_crc32_update(0, dec->buf + 2, 4);
  crc = kws_crc32_update(crc, dec->buf + KWS_FRAME_HEADER_BYTES, len);
  if (crc != read_u32le(dec->buf + KWS_FRAME_HEADER_BYTES + len)) {
    dec->bad_frames++;
    resync(dec);
    return -1;
  }
  return 1;
}

size_t kws_frame_decoder_push(kws_frame_decoder_t *dec, const uint8_t *data, size_t n,
                              kws_frame_t *frame, int *ready) {
  *ready = 0;
  if (dec->frame_pending) {
    dec->fill = 0;
    dec->frame_pending = 0;
  }
  size_t used = 0;
  while (used < n) {
    if (dec->fill == 0 && data[used] != KWS_FRAME_SYNC0) {
      dec->skipped_bytes++;
      used++;
      continue;
    }
    dec->buf[dec->fill++] = data[used++];
    int state;
    while ((state = check_buffer(dec)) < 0) {
    }
    if (state == 1) {
      frame->type = dec->buf[2];
      frame->seq = dec->buf[3];
      frame->len = (uint16_t)(dec->buf[4] | (dec->buf[5] << 8));
      frame->payload = dec->buf + KWS_FRAME_HEADER_BYTES;
      dec->frame_pending = 1;
      *ready = 1;
      break;
    }
  }
  return used;
}

size_t kws_frame_encode(uint8_t type, uint8_t seq, const uint8_t *payload, uint16_t len,
                        uint8_t *out, size_t out_size) {
  size_t total = (size_t)KWS_FRAME_HEADER_BYTES + len + KWS_FRAME_TRAILER_BYTES;
  if (len > KWS_FRAME_MAX_PAYLOAD || total > out_size) return 0;
  out[0] = KWS_FRAME_SYNC0;
  out[1] = KWS_FRAME_SYNC1;
  out[2] = type;
  out[3] = seq;
  out[4] = (uint8_t)(len & 0xFF);
  out[5] = (uint8_t)(len >> 8);
  out[6] = kws_crc8(out + 2, 4);
  if (len) memcpy(out + KWS_FRAME_HEADER_BYTES, payload, len);
  uint32_t crc = kws_crc32_update(0, out + 2, 4);
  crc = kws_crc32_update(crc, payload, len);
  uint8_t *t = out + KWS_FRAME_HEADER_BYTES + len;
  t[0] = (uint8_t)crc;
  t[1] = (uint8_t)(crc >> 8);
  t[2] = (uint8_t)(crc >> 16);
  t[3] = (uint8_t)(crc >> 24);
  return total;
}
