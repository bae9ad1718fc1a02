/* The always-on firmware: find the model in its flash region, build the engine (frontend +
 * model + detector) from the model's own metadata, then serve the protocol: audio streamed
 * over the link (or the board's microphone) goes through the pipeline and detections, scores,
 * logs and errors go back as frames. A missing or broken model is reported on the serial
 * port (text line + BOOT/ERROR frames), never a fault: the link keeps answering. */
#include <stdint.h>
#include <string.h>

#include "app/board.h"
#include "common/model_image.h"
#include "detector/engine.h"
#include "detector/settings.h"
#include "platform/platform.h"
#include "protocol/messages.h"
#include "protocol/session.h"
#if defined(KWS_PLATFORM_EFR32XG24)
#include "kernels/mvp/mvp_kernels.h"
#define KWS_USE_MVP 1
#endif

#ifndef KWS_FW_VERSION
#define KWS_FW_VERSION "0.0.0"
#endif
#ifndef KWS_ARENA_BYTES
#define KWS_ARENA_BYTES (112u * 1024u)
#endif

static kws_engine_t g_engine;
static kws_op_resolver_t g_resolver;
static uint8_t g_arena[KWS_ARENA_BYTES] __attribute__((aligned(16)));
static kws_session_t g_session;
static char g_labels[256];
static char g_banner[160];
static char g_problem[160];
static uint32_t g_model_crc32; /* the image header's CRC-32 of the .tflite, checked at open */

static void append(char *dst, size_t size, const char *text) {
  size_t n = strlen(dst), m = strlen(text);
  if (n + m >= size) m = size - n - 1;
  memcpy(dst + n, text, m);
  dst[n + m] = 0;
}

static void append_hex(char *dst, size_t size, uint32_t v) {
  char digits[9];
  for (int i = 7; i >= 0; i--, v >>= 4) digits[i] = "0123456789abcdef"[v & 0xF];
  digits[8] = 0;
  append(dst, size, digits);
}

static void append_uint(char *dst, size_t size, uint32_t v) {
  char digits[11];
  int i = 10;
  digits[i] = 0;
  do {
    digits[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  append(dst, size, digits + i);
}

static void serial_write(void *ctx, const uint8_t *data, size_t n) {
  (void)ctx;
  platform_serial_write(data, n);
}

static void serial_text(const char *text) {
  platform_serial_write((const uint8_t *)text, strlen(text));
  platform_serial_write((const uint8_t *)"\r\n", 2);
}

static void mic_hook(void *user, uint16_t op, int phase);

/* --- profiling: the runtime's per-op hook reads the platform counter ------------------- */
typedef struct {
  uint32_t start;
  uint32_t total; /* sum over operators: excludes the time spent sending the reports */
  kws_session_t *s;
} profile_ctx_t;

static void op_hook(void *user, uint16_t op, int phase) {
  profile_ctx_t *p = user;
  if (phase == KWS_HOOK_BEFORE) {
    p->start = platform_counter();
    return;
  }
  const uint32_t ticks = platform_counter() - p->start;
  p->total += ticks;
  kws_op_info_t info;
  uint8_t m[12];
  memset(m, 0, sizeof(m));
  if (kws_interp_op_info(&g_engine.interp, op, &info) == KWS_OK) {
    m[3] = (uint8_t)info.builtin_code;
    m[4] = (uint8_t)(info.builtin_code >> 8);
  }
  m[0] = KWS_PROFILE_OP;
  m[1] = (uint8_t)op;
  m[2] = (uint8_t)(op >> 8);
  memcpy(m + 5, &ticks, 4);
  kws_session_send(p->s, KWS_MSG_PROFILE, m, 9);
}

static void profile(void *ctx, kws_session_t *s) {
  (void)ctx;
  const char *unit = platform_counter_unit();
  uint8_t u[1 + 100];
  size_t n = strlen(unit);
  if (n > 100) n = 100;
  u[0] = KWS_PROFILE_UNIT;
  memcpy(u + 1, unit, n);
  kws_session_send(s, KWS_MSG_PROFILE, u, (uint16_t)(n + 1));
  /* One inference on the current window, exactly as the pipeline runs it. */
  kws_pipeline_t *p = &g_engine.pipeline;
  p->ops.quantize(p->ops.ctx, p->window, p->config.n_rows, p->config.n_channels,
                  p->ops.model_input(p->ops.ctx));
  profile_ctx_t pc = {0, 0, s};
  kws_interp_set_hook(&g_engine.interp, op_hook, &pc);
  kws_status_t st = kws_interp_invoke(&g_engine.interp);
  const uint32_t total = pc.total;
  /* The same inference again without the hook, timed whole: operators plus the interpreter's
   * own work between them, and none of the report frames sent above. */
  kws_interp_set_hook(&g_engine.interp, NULL, NULL);
  const uint32_t start = platform_counter();
  if (st == KWS_OK) st = kws_interp_invoke(&g_engine.interp);
  const uint32_t whole = platform_counter() - start;
  kws_interp_set_hook(&g_engine.interp, s->microphone ? mic_hook : NULL, NULL);
  if (st != KWS_OK) {
    kws_session_error(s, st, kws_interp_message(&g_engine.interp));
    return;
  }
  uint8_t m[21];
  const uint32_t arena = (uint32_t)kws_interp_arena_needed(&g_engine.interp);
  const uint32_t model = g_engine.interp.model_len;
  const uint16_t ops = g_engine.interp.n_ops;
  m[0] = KWS_PROFILE_SUMMARY;
  memcpy(m + 1, &total, 4);
  memcpy(m + 5, &arena, 4);
  memcpy(m + 9, &model, 4);
  memcpy(m + 13, &ops, 2);
  m[15] = 0;
  m[16] = 0;
  memcpy(m + 17, &whole, 4);
  kws_session_send(s, KWS_MSG_PROFILE, m, 21);
}

static void reset(void *ctx) {
  (void)ctx;
  board_reset();
}

/* --- microphone: blocks wait in a ring so an inference never makes the board drop audio --
 * The board's DMA keeps only two 10 ms blocks, and one inference takes longer than that
 * (about 57 ms with the MVP). So while the microphone runs, the runtime's per-operator hook
 * (called about every half millisecond during an inference) moves finished blocks into this
 * ring, and the main loop feeds the ring to the pipeline. */
#define MIC_BLOCK 160u
#define MIC_RING_BLOCKS 32u /* 320 ms at 16 kHz */
static int16_t g_mic_ring[MIC_RING_BLOCKS][MIC_BLOCK];
static uint32_t g_mic_head, g_mic_tail, g_mic_dropped;

static void mic_poll(void) {
  for (;;) {
    int16_t *slot = g_mic_ring[g_mic_head % MIC_RING_BLOCKS];
    if (g_mic_head - g_mic_tail == MIC_RING_BLOCKS) {
      int16_t spill[MIC_BLOCK]; /* the ring is full: count what is lost */
      if (!board_microphone_read(spill, MIC_BLOCK)) return;
      g_mic_dropped++;
      continue;
    }
    if (board_microphone_read(slot, MIC_BLOCK) != MIC_BLOCK) return;
    g_mic_head++;
  }
}

static void mic_hook(void *user, uint16_t op, int phase) {
  (void)user;
  (void)op;
  (void)phase;
  mic_poll();
}

static kws_status_t microphone(void *ctx, int on) {
  (void)ctx;
  g_mic_head = g_mic_tail = g_mic_dropped = 0;
  kws_interp_set_hook(&g_engine.interp, on ? mic_hook : NULL, NULL);
  kws_status_t st = board_microphone(on, g_engine.pipeline.config.sample_rate_hz);
  if (st != KWS_OK) kws_interp_set_hook(&g_engine.interp, NULL, NULL);
  return st;
}

static int feed_microphone(void) {
  mic_poll();
  if (g_mic_tail == g_mic_head) return 0;
  const uint32_t before = g_session.detections;
  int16_t *block = g_mic_ring[g_mic_tail % MIC_RING_BLOCKS];
  kws_engine_scale_microphone(&g_engine, block, MIC_BLOCK);
  kws_session_microphone_audio(&g_session, block, MIC_BLOCK);
  g_mic_tail++;
  if (g_session.detections != before) board_show_detection(0);
  return 1;
}

/* Finds the model image and builds the engine; on failure fills g_problem. */
static kws_status_t open_model(void) {
  size_t region_size = 0;
  const uint8_t *region = platform_model_region(&region_size);
  kws_model_image_t image;
  kws_status_t st = kws_model_image_open(region, region_size, &image);
  if (st != KWS_OK) {
    append(g_problem, sizeof(g_problem), kws_model_image_problem(st));
    return st;
  }
  g_model_crc32 = image.crc32;
  kws_engine_settings_t settings;
  st = kws_settings_from_model(&settings, image.model, image.length, g_labels, sizeof(g_labels));
  if (st != KWS_OK) {
    append(g_problem, sizeof(g_problem),
           "the model has no usable SL_PARAMSv1 metadata (fe.* settings, classes)");
    return st;
  }
  /* The reference kernels; on the EFR32 the MVP kernels replace four of them (each falls
   * back to the CPU for an operator the MVP cannot take). */
  kws_resolver_init_reference(&g_resolver);
#if defined(KWS_USE_MVP)
  if (kws_mvp_resolver_add(&g_resolver) != KWS_OK) kws_resolver_init_reference(&g_resolver);
#endif
  st = kws_engine_open(&g_engine, image.model, image.length, &settings, &g_resolver, g_arena,
                       sizeof(g_arena));
  if (st != KWS_OK) {
    append(g_problem, sizeof(g_problem), "the model cannot run: ");
    append(g_problem, sizeof(g_problem), kws_engine_message(&g_engine));
    if (st == KWS_ERR_NO_MEMORY) {
      append(g_problem, sizeof(g_problem), " (arena needed ");
      append_uint(g_problem, sizeof(g_problem), (uint32_t)kws_interp_arena_needed(&g_engine.interp));
      append(g_problem, sizeof(g_problem), " B)");
    }
  }
  return st;
}

int main(void) {
  platform_init();
  append(g_banner, sizeof(g_banner), "kws firmware " KWS_FW_VERSION " on ");
  append(g_banner, sizeof(g_banner), platform_board_name());
  serial_text(g_banner);

  const kws_status_t model_status = open_model();
  if (model_status == KWS_OK) {
    append(g_banner, sizeof(g_banner), "; model ");
    append_uint(g_banner, sizeof(g_banner), g_engine.interp.model_len);
    append(g_banner, sizeof(g_banner), " B, classes ");
    append_uint(g_banner, sizeof(g_banner), g_engine.n_classes);
    /* The host tells two models of one shape apart by this (fine-tunes share size, classes
     * and operators): zlib's CRC-32 of the .tflite, which the image header carries. */
    append(g_banner, sizeof(g_banner), ", crc32 ");
    append_hex(g_banner, sizeof(g_banner), g_model_crc32);
    serial_text("model loaded");
  } else {
    /* `kwshost info` shows the banner only: say there that nothing will run, in short (the
     * HELLO answer holds 120 bytes; `kwshost listen` shows the whole problem). */
    append(g_banner, sizeof(g_banner), "; no model running (");
    append(g_banner, sizeof(g_banner), kws_status_str(model_status));
    append(g_banner, sizeof(g_banner), ")");
    serial_text(g_problem);
  }

  const kws_session_io_t io = {NULL, serial_write, reset, profile, microphone};
  kws_session_init(&g_session, &io, model_status == KWS_OK ? &g_engine.pipeline : NULL,
                   model_status, g_problem, g_banner, g_labels);
  kws_session_boot(&g_session);

  for (;;) {
    uint8_t chunk[64];
    const size_t got = platform_serial_read(chunk, sizeof(chunk));
    if (got) {
      kws_session_receive(&g_session, chunk, got);
      continue;
    }
    if (g_session.microphone && feed_microphone()) continue;
    platform_wait_for_interrupt();
  }
}
