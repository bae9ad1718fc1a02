/* Reset and vector table for the EFR32MG24 (Cortex-M33); IRQ numbers from the part's header. */
#include <stdint.h>

#include "efr32_regs.h"
#include "platform/cortex_m33_start.h"

void Reset_Handler(void);
void Default_Handler(void);
void efr32_eusart1_rx_irq(void);
void efr32_ldma_irq(void);
void efr32_systick_irq(void);

#define SCB_VTOR (*(volatile uint32_t *)0xE000ED08u)

extern void (*const g_vectors[16 + 80])(void);

void Reset_Handler(void) {
  /* Interrupts vector through VTOR, which does not point at flash by itself on Series 2 (the
   * Gecko SDK's SystemInit sets it the same way). */
  SCB_VTOR = (uint32_t)(uintptr_t)g_vectors;
  kws_m33_start();
}

/* A fault or an interrupt nobody handles: reported on the serial port, then a reset. */
void Default_Handler(void) {
  kws_m33_report_exception();
}

/* 16 system exceptions, then the part's 76 interrupts (80 slots). Every interrupt defaults to
 * Default_Handler, so a stray one is named by its number rather than jumping to address 0;
 * the two the board uses override their slots (hence the local override-init waiver). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
__attribute__((section(".isr_vector"), used)) void (*const g_vectors[16 + 80])(void) = {
    (void (*)(void))(&_estack), Reset_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, Default_Handler, 0, 0, 0, 0, Default_Handler,
    Default_Handler, 0, Default_Handler, efr32_systick_irq,
    [16 ... 16 + 79] = Default_Handler,
    [16 + EFR32_EUSART1_RX_IRQ] = efr32_eusart1_rx_irq,
    [16 + EFR32_LDMA_IRQ] = efr32_ldma_irq,
};
#pragma GCC diagnostic pop
