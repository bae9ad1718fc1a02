/* Reset and vector table for QEMU mps2-an505. */
#include <stdint.h>

#include "platform/cortex_m33_start.h"

void Reset_Handler(void);
void Default_Handler(void);
void qemu_uart0_rx_irq(void);

void Reset_Handler(void) { kws_m33_start(); }

void Default_Handler(void) { kws_m33_report_exception(); }

/* 16 system exceptions, then external interrupts; UART0 RX is IRQ 32. */
__attribute__((section(".isr_vector"), used)) void (*const g_vectors[16 + 48])(void) = {
    (void (*)(void))(&_estack), Reset_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, Default_Handler, 0, 0, 0, 0, Default_Handler,
    Default_Handler, 0, Default_Handler, Default_Handler,
    [16 + 32] = qemu_uart0_rx_irq,
};
