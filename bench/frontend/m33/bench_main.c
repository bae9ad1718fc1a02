/* Cortex-M33 cost of the frontend: instructions per 10 ms step (one row), counted on QEMU
 * with -icount shift=0 (one virtual ns per instruction) by the 20 MHz CMSDK timer: one tick
 * per 50 instructions, read around many rows. Prints "rows=N ticks=T" via semihosting.
 * Audio: a deterministic mixture of a tone and pseudo-random noise. */
#include <stdint.h>

#include "frontend/frontend.h"

#define TIMER0 ((volatile uint32_t *)0x50000000u) /* CTRL, VALUE, RELOAD */
#define ROWS 400

static uint8_t memory[KWS_FRONTEND_MEM_FOR_SEED];
static int16_t audio[480 + ROWS * 160];

static int semihost(int op, const void *arg) {
  register int r0 __asm("r0") = op;
  register const void *r1 __asm("r1") = arg;
  __asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

void bench_exit(int code) {
  const uint32_t args[2] = {0x20026u, (uint32_t)code}; /* ADP_Stopped_ApplicationExit */
  semihost(0x20, args);
  for (;;) {
  }
}

static void put(const char *s) { semihost(0x04, s); }

static void put_uint(const char *label, uint32_t v) {
  char buf[16];
  int i = 15;
  buf[i] = 0;
  do {
    buf[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  put(label);
  put(buf + i);
}

int main(void) {
  kws_frontend_config_t cfg;
  kws_frontend_config_default(&cfg);
  kws_frontend_t fe;
  if (kws_frontend_init(&fe, &cfg, memory, sizeof memory) != KWS_OK) return 2;
  uint32_t seed = 12345u;
  int32_t phase = 0;
  for (unsigned i = 0; i < sizeof audio / sizeof audio[0]; ++i) {
    seed = seed * 1664525u + 1013904223u;
    phase += 2200; /* a tone: triangle wave */
    const int32_t tri = (phase & 0x8000) ? (phase & 0x7FFF) : 0x7FFF - (phase & 0x7FFF);
    audio[i] = (int16_t)((tri - 16384) / 2 + (int32_t)((seed >> 16) & 0x1FFF) - 4096);
  }
  uint16_t row[108];
  uint32_t checksum = 0;
  size_t off = 0, used;
  int ready;
  /* Warm-up: the first window. */
  kws_frontend_process(&fe, audio, 480, &used, row, &ready);
  off = used;
  TIMER0[2] = 0xFFFFFFFFu;
  TIMER0[1] = 0xFFFFFFFFu;
  TIMER0[0] = 1u;
  const uint32_t start = TIMER0[1];
  for (int r = 0; r < ROWS; ++r) {
    kws_frontend_process(&fe, audio + off, 160, &used, row, &ready);
    off += used;
    checksum = checksum * 31u + row[r % 108];
  }
  const uint32_t ticks = start - TIMER0[1];
  put_uint("rows=", ROWS);
  put_uint(" ticks=", ticks);
  put_uint(" checksum=", checksum);
  put("\n");
  return 0;
}
