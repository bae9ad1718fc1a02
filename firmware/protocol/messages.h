/* Message types carried in frames (docs/protocol.md). Host-to-device types are < 0x80,
 * device-to-host types have the top bit set. */
#ifndef KWS_MESSAGES_H
#define KWS_MESSAGES_H

#define KWS_PROTOCOL_VERSION 1

enum {
  KWS_MSG_HELLO_REQ = 0x01, /* host asks who is there; empty payload */
  KWS_MSG_HELLO = 0x81,     /* u8 protocol version, then the banner text (UTF-8) */
};

#endif
