#include "efr32_drivers.h"

void efr32_gpio_mode(efr32_gpio_t *gpio, unsigned port, unsigned pin, uint32_t mode, int out) {
  efr32_gpio_port_t *p = &gpio->P[port];
  volatile uint32_t *reg = pin < 8 ? &p->MODEL : &p->MODEH;
  const unsigned shift = (pin & 7u) * 4u;
  *reg = (*reg & ~(0xFu << shift)) | (mode << shift);
  efr32_gpio_write(gpio, port, pin, out);
}

void efr32_gpio_write(efr32_gpio_t *gpio, unsigned port, unsigned pin, int level) {
  if (level) gpio->P[port].DOUT |= 1u << pin;
  else gpio->P[port].DOUT &= ~(1u << pin);
}
