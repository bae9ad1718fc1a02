/* libFuzzer target over the device's side of the serial protocol: the frame decoder, the
 * session (HELLO, START, AUDIO, EVENTS, SYNC, PROFILE, RESET and unknown types) and, through
 * AUDIO, the whole pipeline (frontend, runtime, detector) with the bundled model and either
 * the reference kernels or the MVP kernels on the accelerator's simulator, as
 * firmware/app/main.c wires them. Random bytes alone seldom pass the frame CRCs, so the input
 * is read as a script (fuzz/session_seeds.py writes some): a byte choosing the board (0xff:
 * no model; else bit 0: MVP kernels), then operations, each raw garbage (op >= 0x80: 1..128
 * bytes) or a frame this harness encodes properly (any type, any payload, audio at the index
 * the device expects, repeated, or at any other), every piece delivered in two parts split
 * where the script says.
 * Checked besides sanitizer reports: everything the device writes back decodes as valid
 * frames, and the device never counts more samples than it was sent. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detector/engine.h"
#include "detector/settings.h"
#include "kernels/kernel_api.h"
#include "kernels/mvp/mvp_kernels.h"
#include "protocol/frame.h"
#include "protocol/messages.h"
#include "protocol/session.h"

namespace {

constexpr size_t kArenaBytes = 256 * 1024;
/* Audio per input, at most: 1.5 s, about 8 inferences (the MVP simulator under ASan takes
 * about a second for each), so no input runs into libFuzzer's timeout. */
constexpr uint32_t kMaxSamples = 24000;
alignas(16) uint8_t g_arena[kArenaBytes];
uint8_t *g_model;
size_t g_model_len;
alignas(16) uint8_t g_arena_mvp[kArenaBytes];
kws_engine_t g_engine, g_engine_mvp;  // reference kernels; MVP kernels on its simulator
kws_op_resolver_t g_resolver, g_resolver_mvp;
char g_labels[256];
kws_session_t g_session;

struct Host {  // what the PC would see on the line
  kws_frame_decoder_t decoder;
  uint32_t frames;
  uint32_t resets;
};
Host g_host;

void host_write(void *ctx, const uint8_t *data, size_t n) {
  Host *h = static_cast<Host *>(ctx);
  size_t used = 0;
  while (used < n) {
    kws_frame_t f;
    int ready = 0;
    used += kws_frame_decoder_push(&h->decoder, data + used, n - used, &f, &ready);
    h->frames += ready ? 1u : 0u;
  }
  if (h->decoder.skipped_bytes || h->decoder.bad_frames) {
    fprintf(stderr, "device wrote bytes that are not a valid frame\n");
    abort();
  }
}

void host_reset(void *ctx) { static_cast<Host *>(ctx)->resets++; }

void load_model() {
  const char *path = getenv("KWS_FUZZ_MODEL");
  if (!path) path = "models/alexa_kwshost.tflite";
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "cannot open %s (run from the repository root or set KWS_FUZZ_MODEL)\n", path);
    abort();
  }
  fseek(f, 0, SEEK_END);
  g_model_len = static_cast<size_t>(ftell(f));
  fseek(f, 0, SEEK_SET);
  g_model = static_cast<uint8_t *>(aligned_alloc(16, (g_model_len + 15) & ~static_cast<size_t>(15)));
  if (!g_model || fread(g_model, 1, g_model_len, f) != g_model_len) abort();
  fclose(f);
  kws_engine_settings_t settings;
  kws_resolver_init_reference(&g_resolver);
  kws_resolver_init_reference(&g_resolver_mvp);
  if (kws_settings_from_model(&settings, g_model, g_model_len, g_labels, sizeof(g_labels)) != KWS_OK ||
      kws_mvp_resolver_add(&g_resolver_mvp) != KWS_OK ||
      kws_engine_open(&g_engine, g_model, g_model_len, &settings, &g_resolver, g_arena,
                      kArenaBytes) != KWS_OK ||
      kws_engine_open(&g_engine_mvp, g_model, g_model_len, &settings, &g_resolver_mvp,
                      g_arena_mvp, kArenaBytes) != KWS_OK) {
    fprintf(stderr, "the fuzz model does not open: %s / %s\n", kws_engine_message(&g_engine),
            kws_engine_message(&g_engine_mvp));
    abort();
  }
}

struct Script {
  const uint8_t *p;
  size_t n;
  uint8_t byte() {
    if (!n) return 0;
    n--;
    return *p++;
  }
  /* The next `want` bytes (fewer at the end); *got says how many. */
  const uint8_t *take(size_t want, size_t *got) {
    const uint8_t *at = p;
    *got = want < n ? want : n;
    p += *got;
    n -= *got;
    return at;
  }
};

/* Feeds bytes to the device in two pieces, split where `split` says. */
void deliver(uint8_t split, const uint8_t *data, size_t n) {
  const size_t cut = split % (n + 1);
  kws_session_receive(&g_session, data, cut);
  kws_session_receive(&g_session, data + cut, n - cut);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  load_model();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Script in{data, size};
  const uint8_t board = in.byte();
  const bool no_model = board == 0xff;  // a board whose model would not open
  kws_engine_t *engine = (board & 1) ? &g_engine_mvp : &g_engine;  // the EFR32's kernels
  memset(&g_host, 0, sizeof(g_host));
  kws_frame_decoder_init(&g_host.decoder);
  kws_pipeline_reset(&engine->pipeline);
  const kws_session_io_t io = {&g_host, host_write, host_reset, nullptr, nullptr};
  kws_session_init(&g_session, &io, no_model ? nullptr : &engine->pipeline,
                   no_model ? KWS_ERR_MODEL_INVALID : KWS_OK, "fuzz: no model", "fuzz", g_labels);
  kws_session_boot(&g_session);

  static uint8_t payload[KWS_FRAME_MAX_PAYLOAD];
  static uint8_t frame[KWS_FRAME_MAX_BYTES];
  uint32_t sent_samples = 0;
  uint8_t seq = 0;
  while (in.n) {
    const uint8_t op = in.byte();
    if (op & 0x80) {  // raw bytes, as line noise
      const uint8_t split = in.byte();
      size_t n;
      const uint8_t *noise = in.take((op & 0x7f) + 1u, &n);
      deliver(split, noise, n);
      continue;
    }
    static const uint8_t kTypes[8] = {KWS_MSG_HELLO_REQ, KWS_MSG_START,    KWS_MSG_AUDIO,
                                      KWS_MSG_EVENTS_REQ, KWS_MSG_SYNC_REQ, KWS_MSG_PROFILE_REQ,
                                      KWS_MSG_RESET_REQ, 0x00};
    uint8_t type = kTypes[op & 7];
    if (type == 0) type = in.byte();  // any other type, replies included
    size_t len = in.byte();
    if (type == KWS_MSG_AUDIO) len *= 4;  // up to 1020 bytes: 508 samples
    const uint8_t *body = in.take(len, &len);
    memcpy(payload, body, len);
    /* Audio at the sample index the device expects (so it runs), unless the script says. */
    const bool in_order = type == KWS_MSG_AUDIO && len >= 4 && !(op & 0x40);
    const int repeats = in_order ? 1 + ((op >> 3) & 7) * 4 : 1;  // up to 29 frames: inferences
    const uint8_t split = in.byte();
    for (int r = 0; r < repeats; r++) {
      if (type == KWS_MSG_AUDIO && sent_samples >= kMaxSamples) break;
      if (in_order) {
        const uint32_t at = g_session.next_sample;
        memcpy(payload, &at, 4);  // little-endian hosts only, as the firmware's tests
      }
      const size_t n = kws_frame_encode(type, seq++, payload, static_cast<uint16_t>(len), frame,
                                        sizeof(frame));
      if (type == KWS_MSG_AUDIO && len >= 4 && g_session.started) sent_samples += (len - 4) / 2;
      deliver(split, frame, n);
    }
  }
  if (getenv("KWS_FUZZ_VERBOSE"))  // what a run reached (tests check the seeds stream audio)
    fprintf(stderr, "session: %u frames back, %u samples of %u sent, %u events, %u resets\n",
            g_host.frames, g_session.next_sample, sent_samples, g_session.events, g_host.resets);
  if (g_session.next_sample > sent_samples) {
    fprintf(stderr, "device counted %u samples of %u sent\n", g_session.next_sample, sent_samples);
    abort();
  }
  return 0;
}
