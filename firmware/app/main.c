/* The firmware's entry point: banner, then serve the framed protocol. */
#include <stdint.h>
#include <string.h>

#include "platform/platform.h"
#include "protocol/frame.h"
#include "protocol/messages.h"

#ifndef KWS_FW_VERSION
#define KWS_FW_VERSION "0.0.0"
#endif

static kws_frame_decoder_t g_decoder;
static uint8_t g_tx[KWS_FRAME_MAX_BYTES];
static uint8_t g_tx_seq;

static size_t banner(char *out, size_t max) {
  const char *parts[] = {"kws firmware ", KWS_FW_VERSION, " on ", platform_board_name()};
  size_t n = 0;
  for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
    size_t len = strlen(parts[i]);
    if (n + len > max) len = max - n;
    memcpy(out + n, parts[i], len);
    n += len;
  }
  return n;
}

static void send(uint8_t type, const uint8_t *payload, uint16_t len) {
  size_t n = kws_frame_encode(type, g_tx_seq++, payload, len, g_tx, sizeof(g_tx));
  platform_serial_write(g_tx, n);
}

static void handle(const kws_frame_t *frame) {
  if (frame->type == KWS_MSG_HELLO_REQ) {
    uint8_t payload[96];
    payload[0] = KWS_PROTOCOL_VERSION;
    size_t n = banner((char *)payload + 1, sizeof(payload) - 1);
    send(KWS_MSG_HELLO, payload, (uint16_t)(n + 1));
  }
}

int main(void) {
  platform_init();
  char text[96];
  size_t n = banner(text, sizeof(text) - 2);
  text[n++] = '\r';
  text[n++] = '\n';
  platform_serial_write((const uint8_t *)text, n);
  kws_frame_decoder_init(&g_decoder);
  for (;;) {
    uint8_t chunk[64];
    size_t got = platform_serial_read(chunk, sizeof(chunk));
    if (got == 0) {
      platform_wait_for_interrupt();
      continue;
    }
    size_t used = 0;
    while (used < got) {
      kws_frame_t frame;
      int ready;
      used += kws_frame_decoder_push(&g_decoder, chunk + used, got - used, &frame, &ready);
      if (ready) handle(&frame);
    }
  }
}
