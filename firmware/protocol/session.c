/* Device side of the protocol; see session.h and docs/protocol.md. */
#include "protocol/session.h"

#include <string.h>

#include "protocol/messages.h"

static void put_u16(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}
static void put_u32(uint8_t *p, uint32_t v) {
  put_u16(p, v);
  put_u16(p + 2, v >> 16);
}
static uint32_t get_u32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

void kws_session_send(kws_session_t *s, uint8_t type, const uint8_t *payload, uint16_t len) {
  size_t n = kws_frame_encode(type, s->tx_seq++, payload, len, s->tx, sizeof(s->tx));
  if (n) s->io.write(s->io.ctx, s->tx, n);
}

static void send_text(kws_session_t *s, uint8_t type, uint8_t first, const char *text) {
  uint8_t buf[1 + 200];
  size_t n = strlen(text);
  if (n > sizeof(buf) - 1) n = sizeof(buf) - 1;
  buf[0] = first;
  memcpy(buf + 1, text, n);
  kws_session_send(s, type, buf, (uint16_t)(n + 1));
}

void kws_session_log(kws_session_t *s, uint8_t level, const char *text) {
  send_text(s, KWS_MSG_LOG, level, text);
}

void kws_session_error(kws_session_t *s, kws_status_t status, const char *text) {
  s->last_error = status;
  send_text(s, KWS_MSG_ERROR, (uint8_t)status, text);
}

void kws_session_init(kws_session_t *s, const kws_session_io_t *io, kws_pipeline_t *pipeline,
                      kws_status_t model_status, const char *model_problem, const char *banner,
                      const char *labels) {
  memset(s, 0, sizeof(*s));
  s->io = *io;
  s->pipeline = pipeline;
  s->model_status = model_status;
  s->model_problem = model_problem ? model_problem : "no model";
  s->banner = banner ? banner : "";
  s->labels = labels ? labels : "";
  kws_frame_decoder_init(&s->decoder);
}

void kws_session_boot(kws_session_t *s) {
  uint8_t buf[2 + 200];
  size_t n = strlen(s->banner);
  if (n > sizeof(buf) - 2) n = sizeof(buf) - 2;
  buf[0] = KWS_PROTOCOL_VERSION;
  buf[1] = (uint8_t)s->model_status;
  memcpy(buf + 2, s->banner, n);
  kws_session_send(s, KWS_MSG_BOOT, buf, (uint16_t)(n + 2));
  if (!s->pipeline) kws_session_error(s, s->model_status, s->model_problem);
}

static void send_ack(kws_session_t *s, uint8_t flags) {
  uint8_t p[11];
  put_u32(p, s->next_sample);
  put_u32(p + 4, s->events);
  put_u16(p + 8, KWS_AUDIO_WINDOW_BYTES);
  p[10] = (uint8_t)(flags | (s->started ? 0 : KWS_ACK_NOT_STARTED));
  kws_session_send(s, KWS_MSG_ACK, p, sizeof(p));
}

/* Numbers an event, keeps a copy for EVENTS_REQ, and sends it. */
static void emit(kws_session_t *s, uint8_t type, uint8_t *payload, uint16_t len) {
  put_u32(payload, s->events);
  const uint32_t slot = s->events % KWS_SESSION_RETAINED;
  memcpy(s->retained[slot], payload, len);
  s->retained_type[slot] = type;
  s->retained_len[slot] = (uint8_t)len;
  s->events++;
  kws_session_send(s, type, payload, len);
}

static void on_inference(void *user, const kws_inference_t *inf) {
  kws_session_t *s = user;
  uint8_t p[KWS_SESSION_EVENT_BYTES];
  if (s->verbose) {
    const uint32_t n = inf->n_classes;
    put_u32(p + 4, (uint32_t)inf->time_ms);
    p[8] = (uint8_t)n;
    for (uint32_t i = 0; i < n; i++) p[9 + i] = (uint8_t)(inf->scores[i] + 128);
    p[9 + n] = (uint8_t)inf->decision.class_index;
    p[10 + n] = inf->decision.score;
    emit(s, KWS_MSG_SCORES, p, (uint16_t)(11 + n));
  }
  if (inf->decision.detected) {
    s->detections++;
    put_u32(p + 4, (uint32_t)inf->time_ms);
    p[8] = (uint8_t)inf->decision.class_index;
    p[9] = inf->decision.score;
    emit(s, KWS_MSG_DETECTION, p, 10);
  }
}

static void handle_start(kws_session_t *s, const kws_frame_t *f) {
  if (!s->pipeline) {
    kws_session_error(s, s->model_status, s->model_problem);
    return;
  }
  const uint8_t flags = f->len >= 1 ? f->payload[0] : 0;
  const bool mic = (flags & KWS_START_MICROPHONE) != 0;
  if (mic && !s->io.microphone) {
    kws_session_error(s, KWS_ERR_UNSUPPORTED, "this board has no microphone: stream audio");
    return;
  }
  if (s->microphone && s->io.microphone) s->io.microphone(s->io.ctx, 0);
  s->microphone = false;
  kws_pipeline_reset(s->pipeline);
  if (mic) {
    kws_status_t st = s->io.microphone(s->io.ctx, 1);
    if (st != KWS_OK) {
      kws_session_error(s, st, st == KWS_ERR_UNSUPPORTED
                                   ? "this board has no microphone: stream audio instead"
                                   : "the microphone did not start");
      return;
    }
  }
  s->microphone = mic;
  s->started = true;
  s->verbose = (flags & KWS_START_VERBOSE) != 0;
  s->next_sample = 0;
  s->events = 0;
  s->detections = 0;
  s->last_error = KWS_OK;
  const kws_pipeline_config_t *c = &s->pipeline->config;
  uint8_t p[8 + 240];
  size_t n = strlen(s->labels);
  if (n > sizeof(p) - 8) n = sizeof(p) - 8;
  put_u16(p, c->sample_rate_hz);
  put_u16(p + 2, c->latency_ms);
  put_u16(p + 4, KWS_AUDIO_WINDOW_BYTES);
  p[6] = (uint8_t)c->detector.class_count;
  p[7] = c->detector.detection_threshold;
  memcpy(p + 8, s->labels, n);
  kws_session_send(s, KWS_MSG_STARTED, p, (uint16_t)(8 + n));
}

void kws_session_microphone_audio(kws_session_t *s, const int16_t *samples, size_t n) {
  if (!s->started || !s->microphone) return;
  kws_status_t st = kws_pipeline_process(s->pipeline, samples, n, on_inference, s);
  s->next_sample += (uint32_t)n;
  if (st != KWS_OK && st != s->last_error) kws_session_error(s, st, "inference failed");
}

static void handle_audio(kws_session_t *s, const kws_frame_t *f) {
  if (!s->started || s->microphone || f->len < 4 || (f->len - 4) % 2 != 0) {
    send_ack(s, 0);
    return;
  }
  const uint32_t first = get_u32(f->payload);
  const uint32_t count = (uint32_t)(f->len - 4) / 2;
  if (first > s->next_sample) {
    send_ack(s, KWS_ACK_GAP);
    return;
  }
  const uint32_t skip = s->next_sample - first;
  if (skip >= count) {
    send_ack(s, KWS_ACK_DUPLICATE);
    return;
  }
  /* Samples are little-endian int16; copy out of the frame to get alignment right. */
  int16_t samples[KWS_FRAME_MAX_PAYLOAD / 2];
  const uint32_t n = count - skip;
  memcpy(samples, f->payload + 4 + 2 * skip, 2 * n);
  kws_status_t st = kws_pipeline_process(s->pipeline, samples, n, on_inference, s);
  s->next_sample += n;
  if (st != KWS_OK && st != s->last_error) kws_session_error(s, st, "inference failed");
  send_ack(s, skip ? KWS_ACK_DUPLICATE : 0);
}

static void handle_events_req(kws_session_t *s, const kws_frame_t *f) {
  if (f->len < 4) return;
  uint32_t from = get_u32(f->payload);
  const uint32_t oldest = s->events > KWS_SESSION_RETAINED ? s->events - KWS_SESSION_RETAINED : 0;
  if (from < oldest) {
    kws_session_error(s, KWS_ERR_NOT_FOUND, "events asked for again are no longer kept");
    from = oldest;
  }
  for (uint32_t seq = from; seq < s->events; seq++) {
    const uint32_t slot = seq % KWS_SESSION_RETAINED;
    kws_session_send(s, s->retained_type[slot], s->retained[slot], s->retained_len[slot]);
  }
  send_ack(s, 0);
}

static void handle(kws_session_t *s, const kws_frame_t *f) {
  switch (f->type) {
    case KWS_MSG_HELLO_REQ: {
      uint8_t p[1 + 120];
      size_t n = strlen(s->banner);
      if (n > sizeof(p) - 1) n = sizeof(p) - 1;
      p[0] = KWS_PROTOCOL_VERSION;
      memcpy(p + 1, s->banner, n);
      kws_session_send(s, KWS_MSG_HELLO, p, (uint16_t)(n + 1));
      break;
    }
    case KWS_MSG_START: handle_start(s, f); break;
    case KWS_MSG_AUDIO: handle_audio(s, f); break;
    case KWS_MSG_EVENTS_REQ: handle_events_req(s, f); break;
    case KWS_MSG_SYNC_REQ: send_ack(s, 0); break;
    case KWS_MSG_PROFILE_REQ:
      if (!s->pipeline) kws_session_error(s, s->model_status, s->model_problem);
      else if (s->io.profile) s->io.profile(s->io.ctx, s);
      else kws_session_error(s, KWS_ERR_UNSUPPORTED, "this build has no profiler");
      break;
    case KWS_MSG_RESET_REQ:
      if (s->io.reset) s->io.reset(s->io.ctx);
      break;
    default: kws_session_error(s, KWS_ERR_UNSUPPORTED, "unknown message type"); break;
  }
}

void kws_session_receive(kws_session_t *s, const uint8_t *data, size_t n) {
  size_t used = 0;
  while (used < n) {
    kws_frame_t frame;
    int ready;
    used += kws_frame_decoder_push(&s->decoder, data + used, n - used, &frame, &ready);
    if (ready) handle(s, &frame);
  }
}
