/* The device side of the protocol: answers requests, feeds streamed audio to the pipeline
 * exactly once, and sends events (detections, scores) that the host can ask for again.
 *
 * Flow control (docs/protocol.md): every AUDIO frame names the index of its first sample.
 * The device takes a frame only if it starts at or before the next sample it needs, skips
 * what it already has, and answers each frame with an ACK giving the next sample needed.
 * A frame from the future (one before it was lost) is answered with the GAP flag: the host
 * goes back to that sample. The host keeps at most KWS_AUDIO_WINDOW_BYTES unacknowledged.
 *
 * Events are numbered; the last KWS_SESSION_RETAINED are kept so the host can ask again for
 * ones it missed (a corrupted frame is dropped by the decoder like a lost one). */
#ifndef KWS_SESSION_H
#define KWS_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "detector/pipeline.h"
#include "protocol/frame.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KWS_SESSION_RETAINED 32
#define KWS_SESSION_EVENT_BYTES 48

typedef struct kws_session kws_session_t;

typedef struct {
  void *ctx;
  void (*write)(void *ctx, const uint8_t *data, size_t n); /* bytes to the host */
  void (*reset)(void *ctx);                                /* reboot (may not return) */
  void (*profile)(void *ctx, kws_session_t *s);            /* answers PROFILE_REQ; optional */
  kws_status_t (*microphone)(void *ctx, int on);           /* starts/stops the board's mic;
                                                              NULL: the board has none */
} kws_session_io_t;

struct kws_session {
  kws_session_io_t io;
  kws_pipeline_t *pipeline;      /* NULL when there is no usable model */
  kws_status_t model_status;
  const char *model_problem;     /* what to tell the host when pipeline is NULL */
  const char *banner;
  const char *labels;            /* class labels joined by '\n' */
  kws_frame_decoder_t decoder;
  uint8_t tx[KWS_FRAME_MAX_BYTES];
  uint8_t tx_seq;
  bool started;
  bool verbose;
  bool microphone;               /* audio comes from the board's microphone, not the link */
  uint32_t next_sample;
  uint32_t events;               /* events emitted since START */
  uint32_t detections;           /* detections among them */
  uint8_t retained[KWS_SESSION_RETAINED][KWS_SESSION_EVENT_BYTES];
  uint8_t retained_type[KWS_SESSION_RETAINED];
  uint8_t retained_len[KWS_SESSION_RETAINED];
  kws_status_t last_error;
};

void kws_session_init(kws_session_t *s, const kws_session_io_t *io, kws_pipeline_t *pipeline,
                      kws_status_t model_status, const char *model_problem, const char *banner,
                      const char *labels);

/* Sends the BOOT message (call once after init). */
void kws_session_boot(kws_session_t *s);

/* Feeds received bytes; handles every complete frame. */
void kws_session_receive(kws_session_t *s, const uint8_t *data, size_t n);

/* Audio from the board's microphone (only while a START asked for it). */
void kws_session_microphone_audio(kws_session_t *s, const int16_t *samples, size_t n);

/* Sends one frame. */
void kws_session_send(kws_session_t *s, uint8_t type, const uint8_t *payload, uint16_t len);
void kws_session_log(kws_session_t *s, uint8_t level, const char *text);
void kws_session_error(kws_session_t *s, kws_status_t status, const char *text);

#ifdef __cplusplus
}
#endif
#endif
