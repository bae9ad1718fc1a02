/* The BRD2601B's I2S MEMS microphone: USART0 as I2S master (bit clock 64 x fs, two 32-bit
 * slots per frame, top 16 bits of each 24-bit sample), LDMA moving one 16-bit slot per
 * request into two buffers that link to each other (ping-pong). Stereo framing keeps the
 * 64 clocks per word-select period the ICS-43434 needs whatever the USART's mono mode does;
 * the left slot is the sample, the right one is skipped. Each finished buffer raises
 * the LDMA interrupt; the app takes whole buffers with efr32_mic_read. Pins: data PD4,
 * clock PD3, word select PD5 (Silicon Labs' BRD2601 I2S microphone configuration); power
 * from the microphone enable on PC8 (SL_BOARD_ENABLE_SENSOR_MICROPHONE of the BRD2601B's
 * board-control configuration; PC9 is the other sensors' enable).
 *
 * USART0 runs from PCLK (39 MHz at 78 MHz HCLK). As a synchronous master it only clocks while
 * it transmits, so AUTOTX keeps the bit clock running while the receiver has room. */
#include <string.h>

#include "efr32_drivers.h"

/* Synchronous mode: f_bit = PCLK / (2 * (1 + CLKDIV / 256)), with a whole divider (emlib's
 * synchronous baud rate setting uses whole dividers only). 64 bit clocks per sample. From
 * 39 MHz: 39e6 / (2 * 19 * 64) = 16036 Hz for 16 kHz, +0.23 %. */
uint32_t efr32_i2s_clkdiv(uint32_t pclk_hz, uint32_t sample_rate) {
  const uint64_t per_sample = 2u * 64u * (uint64_t)sample_rate;
  uint64_t whole = ((uint64_t)pclk_hz + per_sample / 2u) / per_sample;
  if (whole < 1u) whole = 1u;
  return (uint32_t)((whole - 1u) << 8) & 0x007FFFF8u;
}

uint32_t efr32_i2s_rate(uint32_t pclk_hz, uint32_t clkdiv) {
  /* PCLK / (128 * (1 + clkdiv / 256)) */
  return (uint32_t)((2u * (uint64_t)pclk_hz + (256u + clkdiv) / 2u) / (256u + clkdiv));
}

static void build_descriptors(efr32_mic_t *m) {
  const uint32_t ctrl = ((2u * EFR32_MIC_BLOCK - 1u) << LDMA_DESC_XFERCNT_SHIFT) | LDMA_DESC_DONEIEN |
                        LDMA_DESC_REQMODE_BLOCK | LDMA_DESC_SRCINC_NONE |
                        LDMA_DESC_SIZE_HALFWORD | LDMA_DESC_DSTINC_ONE;
  for (unsigned i = 0; i < 2; i++) {
    m->desc[i].ctrl = ctrl;
    m->desc[i].src = (uint32_t)(uintptr_t)&m->usart->RXDOUBLE;
    m->desc[i].dst = (uint32_t)(uintptr_t)m->buffer[i];
    m->desc[i].link = (uint32_t)(uintptr_t)&m->desc[i ^ 1u] | LDMA_DESC_LINK;
  }
}

kws_status_t efr32_mic_start(efr32_mic_t *m, efr32_usart_t *usart, efr32_ldma_t *ldma,
                             efr32_ldmaxbar_t *xbar, efr32_gpio_t *gpio, unsigned channel,
                             uint32_t pclk_hz, uint32_t sample_rate) {
  if (channel >= 8 || sample_rate == 0) return KWS_ERR_ARG;
  memset(m, 0, sizeof(*m));
  m->gpio = gpio;
  m->usart = usart;
  m->ldma = ldma;
  m->xbar = xbar;
  m->channel = channel;

  efr32_gpio_mode(gpio, GPIO_PORT_C, EFR32_MIC_ENABLE_PIN, GPIO_MODE_PUSHPULL, 1); /* power */
  efr32_gpio_mode(gpio, GPIO_PORT_D, 4, GPIO_MODE_INPUT, 0);
  efr32_gpio_mode(gpio, GPIO_PORT_D, 3, GPIO_MODE_PUSHPULL, 0);
  efr32_gpio_mode(gpio, GPIO_PORT_D, 5, GPIO_MODE_PUSHPULL, 0);
  efr32_serial_route_t *route = &gpio->USARTROUTE[0];
  route->RXROUTE = GPIO_ROUTE(GPIO_PORT_D, 4);
  route->CLKROUTE = GPIO_ROUTE(GPIO_PORT_D, 3);
  route->CSROUTE = GPIO_ROUTE(GPIO_PORT_D, 5);
  route->ROUTEEN = GPIO_ROUTEEN_RXPEN | GPIO_ROUTEEN_CLKPEN | GPIO_ROUTEEN_CSPEN;

  usart->EN = USART_EN_EN;
  usart->CTRL = USART_CTRL_SYNC | USART_CTRL_MSBF | USART_CTRL_AUTOTX;
  usart->FRAME = USART_FRAME_DATABITS_SIXTEEN;
  usart->I2SCTRL = USART_I2SCTRL_EN | USART_I2SCTRL_DELAY | USART_I2SCTRL_FORMAT_W32D16;
  usart->CLKDIV = efr32_i2s_clkdiv(pclk_hz, sample_rate);

  build_descriptors(m);
  ldma->EN = 1;
  xbar->REQSEL[channel] = LDMAXBAR_SOURCESEL_USART0 | LDMAXBAR_SIGSEL_USART0_RXDATAV;
  ldma->CH[channel].CFG = 0;
  ldma->CH[channel].LINK = (uint32_t)(uintptr_t)&m->desc[0] & ~3u;
  ldma->IEN |= 1u << channel;
  ldma->CHEN |= 1u << channel;
  ldma->LINKLOAD = 1u << channel; /* fetch desc[0]: the transfer starts */

  usart->CMD = USART_CMD_RXEN | USART_CMD_TXEN | USART_CMD_MASTEREN;
  return KWS_OK;
}

void efr32_mic_stop(efr32_mic_t *m) {
  m->usart->CMD = USART_CMD_RXDIS | USART_CMD_TXDIS | USART_CMD_MASTERDIS;
  m->ldma->CHDIS = 1u << m->channel;
  m->ldma->IEN &= ~(1u << m->channel);
  m->usart->I2SCTRL = 0;
  m->usart->EN = 0;
  efr32_gpio_write(m->gpio, GPIO_PORT_C, EFR32_MIC_ENABLE_PIN, 0);
}

/* LDMA interrupt: one buffer is full (the hardware already moved on to the other one). The
 * interrupt only counts; efr32_mic_read alone moves `consumed` and `overruns`, so the two
 * never race on a counter. */
void efr32_mic_dma_irq(efr32_mic_t *m) {
  const uint32_t bit = 1u << m->channel;
  if (!(m->ldma->IF & bit)) return;
  m->ldma->IF &= ~bit;
  m->filled++;
}

/* Block k lives in buffer k & 1 and stays intact while the DMA fills block k + 1; once block
 * k + 1 is complete the DMA is writing over it. So only the newest completed block can be
 * read, and a copy is kept only if no further block completed while it was taken. */
size_t efr32_mic_read(efr32_mic_t *m, int16_t *samples, size_t max) {
  if (max < EFR32_MIC_BLOCK) return 0;
  for (;;) {
    const uint32_t filled = m->filled;
    if (filled == m->consumed) return 0;
    if (filled - m->consumed > 1u) { /* the app fell behind: older blocks are overwritten */
      m->overruns += filled - m->consumed - 1u;
      m->consumed = filled - 1u;
    }
    const int16_t *frames = m->buffer[m->consumed & 1u];
    for (size_t i = 0; i < EFR32_MIC_BLOCK; i++) samples[i] = frames[2u * i]; /* left slot */
    if (m->filled - m->consumed <= 1u) {
      m->consumed++;
      return EFR32_MIC_BLOCK;
    }
  }
}
