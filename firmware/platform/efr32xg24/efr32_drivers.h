/* The BRD2601B's drivers: clock (HFXO 39 MHz -> DPLL -> 78 MHz, with fallbacks), GPIO, the
 * VCOM serial port (EUSART1 on PA5/PA6, receive interrupt into a ring), and the I2S MEMS
 * microphone (USART0 in I2S master mode, LDMA ping-pong into two buffers). Each takes its
 * register blocks as pointers so tests/c/test_efr32_*.c run them against fake blocks on the
 * host. Pins, clocks and what is verified how: docs/efr32xg24.md. */
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
/* Polls before a clock step gives up: at least 0.1 s at the 20 MHz boot clock (a poll is a
 * few cycles), far beyond the crystal's and the DPLL's start-up times. */
#define EFR32_WAIT_LOOPS 2000000u

/* --- clock ---------------------------------------------------------------------------------- */
typedef enum {
  EFR32_CLOCK_DPLL = 0, /* HFRCODPLL locked to the crystal: 78 MHz */
  EFR32_CLOCK_HFXO = 1, /* the DPLL did not lock: the crystal itself, 39 MHz */
  EFR32_CLOCK_HFRCO = 2 /* the crystal did not start: HFRCO in its reset band, 19 MHz */
} efr32_clock_source_t;
typedef struct {
  efr32_clock_source_t source;
  uint32_t hclk_hz;   /* the core and the DWT cycle counter */
  uint32_t pclk_hz;   /* USART0: the microphone's I2S bit clock divides this */
  uint32_t eusart_hz; /* EM01GRPCCLK: EUSART1, the VCOM port */
} efr32_clock_t;

/* KWS_OK at 78 MHz; KWS_ERR_TIMEOUT after a fallback (out->source says which). */
kws_status_t efr32_clock_init(efr32_cmu_t *cmu, efr32_hfxo_t *hfxo, efr32_hfrco_t *hfrco,
                              efr32_dpll_t *dpll, efr32_clock_t *out);
/* One line for the banner, e.g. "78 MHz (39 MHz crystal, DPLL)". */
const char *efr32_clock_name(const efr32_clock_t *clock);

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
#define EFR32_MIC_ENABLE_PIN 8u /* PC8 powers the microphone */
typedef struct {
  efr32_gpio_t *gpio;
  efr32_usart_t *usart;
  efr32_ldma_t *ldma;
  efr32_ldmaxbar_t *xbar;
  unsigned channel;
  efr32_ldma_desc_t desc[2];
  int16_t buffer[2][2u * EFR32_MIC_BLOCK]; /* I2S frames: left, right, left, ... */
  volatile uint32_t filled;   /* buffers completed by the DMA */
  volatile uint32_t consumed; /* buffers handed to the app */
  volatile uint32_t overruns; /* buffers the app was too slow for */
} efr32_mic_t;

/* CLKDIV for a 64 x sample_rate bit clock from PCLK, a whole divider (see mic.c). */
uint32_t efr32_i2s_clkdiv(uint32_t pclk_hz, uint32_t sample_rate);
/* The sample rate that divider really gives, in Hz (16036 for 16 kHz from 39 MHz). */
uint32_t efr32_i2s_rate(uint32_t pclk_hz, uint32_t clkdiv);
kws_status_t efr32_mic_start(efr32_mic_t *m, efr32_usart_t *usart, efr32_ldma_t *ldma,
                             efr32_ldmaxbar_t *xbar, efr32_gpio_t *gpio, unsigned channel,
                             uint32_t pclk_hz, uint32_t sample_rate);
void efr32_mic_stop(efr32_mic_t *m);
void efr32_mic_dma_irq(efr32_mic_t *m);
size_t efr32_mic_read(efr32_mic_t *m, int16_t *samples, size_t max);

#endif
