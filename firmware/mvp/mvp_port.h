/* Where the MVP's register block is and what executes a program written to it.
 * EFR32xG24: the peripheral. Host and QEMU: a register image in RAM executed by mvp/sim. */
#ifndef KWS_MVP_PORT_H
#define KWS_MVP_PORT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

volatile uint32_t *mvp_port_regs(void);
void mvp_port_enable_clock(void);
/* Called right after CMD was written. */
void mvp_port_started(void);
/* Called while waiting for the MVP (nothing to do on the part). */
void mvp_port_poll(void);
/* Simulator ports only: 1 runs each program when the CPU first waits for it instead of when it
 * starts, so anything that reads the MVP's outputs without waiting sees stale data (tests). */
void mvp_port_set_lazy(int on);
/* Clears interrupt flags (the IF_CLR alias on the part, the image's IF word otherwise). */
void mvp_port_clear_flags(uint32_t flags);

#ifdef __cplusplus
}
#endif
#endif
