/* Board hooks for the BRD2601B (skeleton: serial and clocks follow). */
#include <stdint.h>

#include "platform/platform.h"

#define REG(addr) (*(volatile uint32_t *)(addr))
#define DEMCR REG(0xE000EDFCu)
#define DWT_CTRL REG(0xE0001000u)
#define DWT_CYCCNT REG(0xE0001004u)

void platform_init(void) {
  DEMCR |= 1u << 24; /* TRCENA */
  DWT_CYCCNT = 0;
  DWT_CTRL |= 1u;
}

const char *platform_board_name(void) { return "efr32xg24 BRD2601B (skeleton)"; }

void platform_serial_write(const uint8_t *data, size_t len) {
  (void)data;
  (void)len;
}

size_t platform_serial_read(uint8_t *data, size_t max) {
  (void)data;
  (void)max;
  return 0;
}

void platform_wait_for_interrupt(void) { __asm volatile("wfi"); }

uint32_t platform_counter(void) { return DWT_CYCCNT; }
const char *platform_counter_unit(void) { return "cpu cycles"; }

extern const uint8_t __model_region_start[];
extern const uint8_t __model_region_size[];
const uint8_t *platform_model_region(size_t *size) {
  *size = (size_t)__model_region_size;
  return __model_region_start;
}

void platform_exit(int code) {
  (void)code;
  __asm volatile("dsb");
  REG(0xE000ED0Cu) = 0x05FA0004u; /* AIRCR: VECTKEY | SYSRESETREQ */
  __asm volatile("dsb");
  for (;;) {
  }
}
