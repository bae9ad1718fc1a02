/* Reset and vector table for QEMU mps2-an505. */
#include <stdint.h>

#include "platform/platform.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
extern void (*__init_array_start[])(void);
extern void (*__init_array_end[])(void);
extern int main(void);
void Reset_Handler(void);
void Default_Handler(void);
void qemu_uart0_rx_irq(void);

#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)

void Reset_Handler(void) {
  uint32_t *src = &_sidata;
  for (uint32_t *dst = &_sdata; dst < &_edata;) *dst++ = *src++;
  for (uint32_t *dst = &_sbss; dst < &_ebss;) *dst++ = 0;
  SCB_CPACR |= 0xFu << 20; /* CP10/CP11 full access: the FPU */
  __asm volatile("dsb\n isb");
  for (void (**f)(void) = __init_array_start; f < __init_array_end; f++) (*f)();
  platform_exit(main());
}

void Default_Handler(void) {
  static const char msg[] = "\r\nkws: unexpected exception or interrupt\r\n";
  platform_serial_write((const uint8_t *)msg, sizeof(msg) - 1);
  platform_exit(70);
}

/* 16 system exceptions, then external interrupts; UART0 RX is IRQ 32. */
__attribute__((section(".isr_vector"), used)) void (*const g_vectors[16 + 48])(void) = {
    (void (*)(void))(&_estack), Reset_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, Default_Handler, 0, 0, 0, 0, Default_Handler,
    Default_Handler, 0, Default_Handler, Default_Handler,
    [16 + 32] = qemu_uart0_rx_irq,
};
