/* VCOM serial port: EUSART in asynchronous 8N1 mode, x16 oversampling, receive interrupt
 * draining the FIFO into a ring; transmit by polling (the link is the only writer). */
#include "efr32_drivers.h"

/* CLKDIV holds 256 * (f / (16 * baud) - 1), its 3 low bits unused. */
uint32_t efr32_eusart_clkdiv(uint32_t clock_hz, uint32_t baud) {
  const uint64_t div = ((uint64_t)clock_hz * 256u + 8u * baud) / (16u * (uint64_t)baud) - 256u;
  return (uint32_t)div & EUSART_CLKDIV_DIV_MASK;
}

void efr32_serial_init(efr32_serial_t *s, efr32_eusart_t *regs, efr32_gpio_t *gpio,
                       unsigned route_index, uint32_t clock_hz, uint32_t baud) {
  s->regs = regs;
  s->head = s->tail = s->overflows = 0;
  /* BRD2601B VCOM: TX on PA5, RX on PA6. */
  efr32_gpio_mode(gpio, GPIO_PORT_A, 5, GPIO_MODE_PUSHPULL, 1);
  efr32_gpio_mode(gpio, GPIO_PORT_A, 6, GPIO_MODE_INPUTPULL, 1);
  efr32_serial_route_t *route = &gpio->EUSARTROUTE[route_index];
  route->TXROUTE = GPIO_ROUTE(GPIO_PORT_A, 5);
  route->RXROUTE = GPIO_ROUTE(GPIO_PORT_A, 6);
  route->ROUTEEN = GPIO_ROUTEEN_TXPEN | GPIO_ROUTEEN_RXPEN;
  /* The configuration registers are written while the peripheral is disabled; CLKDIV and
   * CMD are synchronised into its clock domain, so they follow the enable and wait for
   * SYNCBUSY (bounded: a peripheral without a clock must not hang the boot). */
  regs->EN = 0;
  regs->CFG0 = 0; /* asynchronous, x16 oversampling */
  regs->FRAMECFG = EUSART_FRAMECFG_8N1;
  regs->IEN = EUSART_IF_RXFL;
  regs->EN = EUSART_EN_EN;
  for (uint32_t i = 0; i < EFR32_WAIT_LOOPS && regs->SYNCBUSY; i++) {
  }
  regs->CLKDIV = efr32_eusart_clkdiv(clock_hz, baud);
  for (uint32_t i = 0; i < EFR32_WAIT_LOOPS && regs->SYNCBUSY; i++) {
  }
  regs->CMD = EUSART_CMD_RXEN | EUSART_CMD_TXEN;
}

void efr32_serial_rx_irq(efr32_serial_t *s) {
  /* Clear first, then drain (at most the FIFO's 16 entries): a byte that arrives during the
   * drain sets the flag again and brings us back. Draining first and clearing last could
   * clear the flag of a byte that came after the last check, leaving it in the FIFO with no
   * interrupt until the next byte (a frame's tail would wait for the next frame). */
  s->regs->IF &= ~EUSART_IF_RXFL;
  for (unsigned n = 0; n < 16u && (s->regs->STATUS & EUSART_STATUS_RXFL); n++) {
    const uint8_t b = (uint8_t)s->regs->RXDATA;
    const uint32_t next = (s->head + 1u) & (EFR32_RX_RING - 1u);
    if (next == s->tail) {
      s->overflows++;
    } else {
      s->ring[s->head] = b;
      s->head = next;
    }
  }
}

size_t efr32_serial_read(efr32_serial_t *s, uint8_t *data, size_t max) {
  size_t n = 0;
  while (n < max && s->tail != s->head) {
    data[n++] = s->ring[s->tail];
    s->tail = (s->tail + 1u) & (EFR32_RX_RING - 1u);
  }
  return n;
}

void efr32_serial_write(efr32_serial_t *s, const uint8_t *data, size_t len) {
  for (size_t i = 0; i < len; i++) {
    while (!(s->regs->STATUS & EUSART_STATUS_TXFL)) {
    }
    s->regs->TXDATA = data[i];
  }
}
