#include "mvp/mvp_port.h"

#include "mvp/mvp_regs.h"

#if defined(KWS_PLATFORM_EFR32XG24)
/* The peripheral itself. Its bus clock (CMU CLKEN1, MVP bit) is switched on by the platform
 * layer, which owns the CMU; a platform without that hook leaves the clock as it found it. */
void kws_platform_mvp_clock_enable(void) __attribute__((weak));

volatile uint32_t *mvp_port_regs(void) { return (volatile uint32_t *)MVP_BASE_S; }
void mvp_port_enable_clock(void) {
  if (kws_platform_mvp_clock_enable) kws_platform_mvp_clock_enable();
}
void mvp_port_started(void) {}
void mvp_port_poll(void) {}
void mvp_port_set_lazy(int on) { (void)on; }
void mvp_port_clear_flags(uint32_t flags) {
  mvp_port_regs()[MVP_BLOCK_WORDS * 2u + MVP_W_IF] = flags; /* CLR alias at +0x2000 */
}
#elif defined(KWS_MVP_PORT_NULL)
/* The CPU's side alone (bench/mvp/m33 counts its instructions on QEMU): a register image that
 * reports every program done at once without executing it, so the MVP's outputs are not
 * computed and no simulator instructions are counted. */
static uint32_t image[MVP_BLOCK_WORDS] = {[MVP_W_IPVERSION] = 1u, [MVP_W_STATUS] = MVP_STATUS_IDLE};

volatile uint32_t *mvp_port_regs(void) { return image; }
void mvp_port_enable_clock(void) {}
void mvp_port_started(void) { image[MVP_W_IF] |= MVP_IF_PROGDONE; }
void mvp_port_poll(void) {}
void mvp_port_set_lazy(int on) { (void)on; }
void mvp_port_clear_flags(uint32_t flags) { image[MVP_W_IF] &= ~flags; }
#else
/* Host and QEMU: a register image in RAM, executed by the simulator when CMD is written. */
#include "mvp/sim/mvp_sim.h"

static uint32_t image[MVP_BLOCK_WORDS] = {[MVP_W_IPVERSION] = 1u, [MVP_W_STATUS] = MVP_STATUS_IDLE};

volatile uint32_t *mvp_port_regs(void) { return image; }
void mvp_port_enable_clock(void) {}
static int lazy;

void mvp_port_set_lazy(int on) { lazy = on; }
void mvp_port_started(void) {
  if (!lazy) {
    mvp_sim_execute(image);
    return;
  }
  image[MVP_W_STATUS] = MVP_STATUS_RUNNING; /* runs at the first poll */
}
void mvp_port_poll(void) {
  if (!(image[MVP_W_STATUS] & MVP_STATUS_IDLE)) mvp_sim_execute(image);
}
void mvp_port_clear_flags(uint32_t flags) { image[MVP_W_IF] &= ~flags; }
#endif
