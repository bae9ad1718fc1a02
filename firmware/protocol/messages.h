/* Message types carried in frames (docs/protocol.md). Host-to-device types are < 0x80,
 * device-to-host types have the top bit set. All integers are little-endian. */
#ifndef KWS_MESSAGES_H
#define KWS_MESSAGES_H

#define KWS_PROTOCOL_VERSION 1

enum {
  /* host -> device */
  KWS_MSG_HELLO_REQ = 0x01,   /* who is there; empty */
  KWS_MSG_START = 0x02,       /* u8 flags (KWS_START_*): reset the pipeline to time 0 */
  KWS_MSG_AUDIO = 0x03,       /* u32 first sample index, int16 samples[] */
  KWS_MSG_EVENTS_REQ = 0x04,  /* u32 first event seq wanted again */
  KWS_MSG_SYNC_REQ = 0x05,    /* empty: answer with an ACK now */
  KWS_MSG_PROFILE_REQ = 0x06, /* empty: run one inference with the per-op counter */
  KWS_MSG_RESET_REQ = 0x07,   /* empty: reboot the device */

  /* device -> host */
  KWS_MSG_HELLO = 0x81,       /* u8 protocol version, banner text */
  KWS_MSG_STARTED = 0x82,     /* u16 rate, u16 latency_ms, u16 window bytes, u8 classes,
                                 u8 threshold, labels joined by '\n' */
  KWS_MSG_ACK = 0x83,         /* u32 next sample, u32 events emitted, u16 window bytes,
                                 u8 flags (KWS_ACK_*) */
  KWS_MSG_DETECTION = 0x84,   /* u32 event seq, u32 time ms, u8 class, u8 score */
  KWS_MSG_SCORES = 0x85,      /* u32 event seq, u32 time ms, u8 n, u8 raw scores[n] (0..255),
                                 u8 top class, u8 averaged score (0 = too few results) */
  KWS_MSG_LOG = 0x86,         /* u8 level (0 info, 1 warning), text */
  KWS_MSG_ERROR = 0x87,       /* u8 kws_status_t, text */
  KWS_MSG_PROFILE = 0x88,     /* u8 kind (KWS_PROFILE_*), then per kind; see docs */
  KWS_MSG_BOOT = 0x89,        /* u8 protocol version, u8 model status, text: sent at boot */
};

enum { KWS_START_VERBOSE = 1, KWS_START_MICROPHONE = 2 };
enum { KWS_ACK_GAP = 1, KWS_ACK_DUPLICATE = 2, KWS_ACK_NOT_STARTED = 4 };
enum { KWS_PROFILE_OP = 1, KWS_PROFILE_SUMMARY = 2, KWS_PROFILE_UNIT = 3 };

/* The host may have this many audio payload bytes sent but not acknowledged: it stays well
 * below the device's 4 kB receive ring, so nothing is dropped while an inference runs. */
#define KWS_AUDIO_WINDOW_BYTES 2048
#define KWS_AUDIO_MAX_SAMPLES 512

#endif
