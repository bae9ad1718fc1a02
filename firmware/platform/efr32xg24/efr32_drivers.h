/* The BRD2601B's drivers: clock (HFXO 39 MHz -> DPLL -> 78 MHz), GPIO, the VCOM serial port
 * (EUSART1 on PA5/PA6, receive interrupt into a ring), and the I2S MEMS microphone (USART0
 * in I2S master mode, LDMA ping-pong into two buffers). Each takes its register blocks as
 * pointers so tests/c/test_efr32_drivers.c runs them against fake blocks on the host. */
#ifndef EFR32_DRIVERS_H
#define EFR32_DRIVERS_H

#include <stddef.h>
#include <stdint.h>

#include "efr32_regs.h"
#include "kws_status.h"

#define EFR32_HFXO_HZ 39000000u
#define EFR32_CPU_HZ 78000000u
/* 78 MHz = 39 MHz x (N + 1) / (M + 1), the dev kit's DPLL setting. */
#define EFR32_DPLL_N 3839u
#define EFR32_DPLL_M 1919u
#define EFR32_WAIT_LOOPS 2000000u

/* --- clock ---------------------------------------------------------------------------------- */
kws_status_t efr32_clock_init(efr32_cmu_t *cmu, efr32_hfrco_t *hfrco, efr32_dpll_t *dpll);

/* --- gpio ----------------------------------------------------------------------------------- */
void efr32_gpio_mode(efr32_gpio_t *gpio, unsigned port, unsigned pin, uint32_t mode, int out);
void efr32_gpio_write(efr32_gpio_t *gpio, unsigned port, unsigned pin, int level);

/* --- serial (EUSART, 8N1) ----------------------------------------------------------------- */
#define EFR32_RX_RING 4096u /* a power of two: the indices wrap with a mask */
typedef struct {
  efr32_eusart_t *regs;
  volatile uint8_t ring[EFR32_RX_RING];
  volatile uint32_t head, tail, overflows;
} efr32_serial_t;

uint32_t efr32_eusart_clkdiv(uint32_t clock_hz, uint32_t baud);
void efr32_serial_init(efr32_serial_t *s, efr32_eusart_t *regs, efr32_gpio_t *gpio,
                       unsigned route_index, uint32_t clock_hz, uint32_t baud);
void efr32_serial_rx_irq(efr32_serial_t *s);
size_t efr32_serial_read(efr32_serial_t *s, uint8_t *data, size_t max);
void efr32_serial_write(efr32_serial_t *s, const uint8_t *data, size_t len);

/* --- microphone (I2S via USART0 + LDMA ping-pong) ----------------------------------------- */
#define EFR32_MIC_BLOCK 160u /* samples per DMA buffer: one 10 ms frontend hop at 16 kHz */
typedef struct {
  efr32_usart_t *usart;
  efr32_ldma_t *ldma;
  efr32_ldmaxbar_t *xbar;
  unsigned channel;
  efr32_ldma_desc_t desc[2];
  int16_t buffer[2][EFR32_MIC_BLOCK];
  volatile uint32_t filled;   /* buffers completed by the DMA */
  volatile uint32_t consumed; /* buffers handed to the app */
  volatile uint32_t overruns; /* buffers the app was too slow for */
} efr32_mic_t;

uint32_t efr32_i2s_clkdiv(uint32_t clock_hz, uint32_t sample_rate);
kws_status_t efr32_mic_start(efr32_mic_t *m, efr32_usart_t *usart, efr32_ldma_t *ldma,
                             efr32_ldmaxbar_t *xbar, efr32_gpio_t *gpio, unsigned channel,
                             uint32_t clock_hz, uint32_t sample_rate);
void efr32_mic_stop(efr32_mic_t *m);
void efr32_mic_dma_irq(efr32_mic_t *m);
size_t efr32_mic_read(efr32_mic_t *m, int16_t *samples, size_t max);

#endif
