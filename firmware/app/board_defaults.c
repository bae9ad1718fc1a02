/* Weak defaults for board.h: a board without a microphone or LEDs (QEMU). */
#include <stdint.h>

#include "app/board.h"

__attribute__((weak)) kws_status_t board_microphone(int on, uint32_t sample_rate) {
  (void)on;
  (void)sample_rate;
  return KWS_ERR_UNSUPPORTED;
}

__attribute__((weak)) size_t board_microphone_read(int16_t *samples, size_t max) {
  (void)samples;
  (void)max;
  return 0;
}

__attribute__((weak)) void board_show_detection(uint32_t class_index) { (void)class_index; }

/* Cortex-M system reset request (AIRCR.SYSRESETREQ), the same on every Armv8-M board. */
__attribute__((weak)) void board_reset(void) {
  __asm volatile("dsb");
  *(volatile uint32_t *)0xE000ED0Cu = 0x05FA0004u;
  __asm volatile("dsb");
  for (;;) {
  }
}
