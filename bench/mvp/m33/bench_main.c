/* The CPU's side of the MVP kernels on the Cortex-M33, counted on QEMU mps2-an505 with
 * -icount (one virtual 2^shift ns per instruction; the 20 MHz CMSDK timer is the clock).
 *
 * Built with KWS_MVP_PORT_NULL: the MVP register image reports each program done at once and
 * executes nothing, so everything counted is what the CPU runs (runtime, kernel calls, program
 * building, register writes, the CPU's share of split convolutions, CPU-only layers) and no
 * simulator instruction. The driver's trace hook and the runtime's operator hook record the
 * timer at every hand-off: op begin/end (B/A), the CPU starting to wait for the MVP (W), a
 * program started (S). bench/mvp/m33.py puts these instruction counts on a timeline with the
 * MVP cycles of each program from the host simulator.
 *
 * First it checks that the CPU share (SXTB16/SMLAD loop on this core) is bit-exact with a plain
 * int32 reference. Then one recorded inference of the embedded model per configuration, after
 * a first one (steady state): 0 = MVP alone, 1 = with the CPU share split from
 * BENCH_CPU_MAC_X16 / _PER_OUTPUT / _RESERVE; and 2 = the CPU share, the first inference after
 * allocation (the kernels build the programs they keep).
 * Output (UART0): "check <mismatches>", "calib <ticks for 64 trace calls>", then per run
 * "arena <bytes needed>", "run <n>" and one "<kind> <op> <ticks>" line per event, "end <status>". Exit code 0. */
#include <stdint.h>
#include <string.h>

#include "kernels/kernel_api.h"
#include "kernels/mvp/mvp_kernels.h"
#include "mvp/mvp_driver.h"
#include "mvp_cpu_share_check.h"
#include "platform/platform.h"
#include "runtime/interpreter.h"

#ifndef BENCH_CPU_MAC_X16
#define BENCH_CPU_MAC_X16 24
#endif
#ifndef BENCH_CPU_PER_OUTPUT
#define BENCH_CPU_PER_OUTPUT 40
#endif
#ifndef BENCH_CPU_RESERVE
#define BENCH_CPU_RESERVE 0
#endif
#define MAX_EVENTS 6000

extern const uint8_t bench_model[], bench_model_end[];

typedef struct {
  uint32_t ticks;
  uint16_t op;
  char kind;
} event_t;

static event_t events[MAX_EVENTS];
static uint32_t n_events;
static uint16_t current_op;
static kws_interpreter_t interp;
static kws_op_resolver_t resolver;
static uint8_t arena[112u * 1024u] __attribute__((aligned(16)));

static void record(char kind, uint16_t op) {
  const uint32_t t = platform_counter();
  if (n_events < MAX_EVENTS) events[n_events++] = (event_t){t, op, kind};
}

static void on_mvp(void *user, int event) {
  (void)user;
  record(event == MVP_TRACE_WAIT ? 'W' : 'S', current_op);
}

static void on_op(void *user, uint16_t op, int phase) {
  (void)user;
  current_op = op;
  record(phase == KWS_HOOK_BEFORE ? 'B' : 'A', op);
}

static void say(const char *s) { platform_serial_write((const uint8_t *)s, strlen(s)); }
static void say_uint(uint32_t v) {
  char buf[12];
  int i = 11;
  buf[i] = 0;
  do {
    buf[--i] = (char)('0' + v % 10u);
    v /= 10u;
  } while (v);
  say(buf + i);
}

/* share: the CPU share split on; warm: one invoke before the one recorded (the steady state of
 * a detector that runs inference after inference: the kernels keep their programs from the
 * first invoke after allocation, which builds them). */
static kws_status_t run(int share, int warm) {
  kws_mvp_set_cpu_cost(share ? BENCH_CPU_MAC_X16 : 0, share ? BENCH_CPU_PER_OUTPUT : 0,
                       share ? BENCH_CPU_RESERVE : 0);
  kws_resolver_init_reference(&resolver);
  kws_status_t st = kws_mvp_resolver_add(&resolver);
  if (st == KWS_OK)
    st = kws_interp_init(&interp, bench_model, (size_t)(bench_model_end - bench_model), &resolver);
  if (st == KWS_OK) st = kws_interp_allocate(&interp, arena, sizeof arena);
  if (st != KWS_OK) return st;
  kws_tensor_t in;
  st = kws_interp_input(&interp, 0, &in);
  if (st != KWS_OK) return st;
  int32_t n = 1;
  for (int d = 0; d < in.rank; d++) n *= in.dims[d];
  for (int32_t i = 0; i < n; i++) ((int8_t *)in.data)[i] = (int8_t)((i * 37) % 200 - 100);
  say("arena ");
  say_uint((uint32_t)kws_interp_arena_needed(&interp));
  say("\n");
  if (warm) {
    st = kws_interp_invoke(&interp);
    if (st != KWS_OK) return st;
  }
  n_events = 0;
  mvp_set_trace(on_mvp, NULL);
  kws_interp_set_hook(&interp, on_op, NULL);
  st = kws_interp_invoke(&interp);
  kws_interp_set_hook(&interp, NULL, NULL);
  mvp_set_trace(NULL, NULL);
  return st;
}

int main(void) {
  platform_init();
  say("check ");
  say_uint((uint32_t)mvp_cpu_share_check());
  say("\n");
  /* cost of one trace call, subtracted per event by the reader */
  n_events = 0;
  const uint32_t t0 = platform_counter();
  for (int i = 0; i < 64; i++) on_mvp(NULL, MVP_TRACE_START);
  say("calib ");
  say_uint(platform_counter() - t0);
  say("\n");
  for (int r = 0; r < 3; r++) { /* 0 MVP alone, 1 with the CPU share, 2 the same cold */
    const kws_status_t st = run(r != 0, r != 2);
    say("run ");
    say_uint((uint32_t)r);
    say("\n");
    for (uint32_t i = 0; i < n_events; i++) {
      char k[3] = {events[i].kind, ' ', 0};
      say(k);
      say_uint(events[i].op);
      say(" ");
      say_uint(events[i].ticks);
      say("\n");
    }
    say("end ");
    say_uint((uint32_t)st);
    say("\n");
  }
  platform_exit(0);
  return 0;
}
