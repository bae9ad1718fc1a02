/* Reset and vector table for the EFR32MG24 (Cortex-M33); IRQ numbers from the part's header. */
#include <stdint.h>

#include "efr32_regs.h"
#include "platform/platform.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
extern const uint8_t __stack_size[]; /* a linker symbol: its address is the stack's size */
extern void (*__init_array_start[])(void);
extern void (*__init_array_end[])(void);
extern int main(void);
void Reset_Handler(void);
void Default_Handler(void);
void efr32_eusart1_rx_irq(void);
void efr32_ldma_irq(void);
void efr32_systick_irq(void);

#define SCB_VTOR (*(volatile uint32_t *)0xE000ED08u)
#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)

extern void (*const g_vectors[16 + 80])(void);

void Reset_Handler(void) {
  /* Interrupts vector through VTOR, which does not point at flash by itself on Series 2 (the
   * Gecko SDK's SystemInit sets it the same way). */
  SCB_VTOR = (uint32_t)(uintptr_t)g_vectors;
  /* Armv8-M stack limit: overflowing the 8 kB stack faults (and is reported by
   * Default_Handler) instead of silently overwriting .bss. */
  const uint32_t stack_bottom = (uint32_t)(uintptr_t)&_estack - (uint32_t)(uintptr_t)__stack_size;
  __asm volatile("msr msplim, %0" : : "r"(stack_bottom));
  uint32_t *src = &_sidata;
  for (uint32_t *dst = &_sdata; dst < &_edata;) *dst++ = *src++;
  for (uint32_t *dst = &_sbss; dst < &_ebss;) *dst++ = 0;
  SCB_CPACR |= 0xFu << 20; /* CP10/CP11 full access: the FPU */
  __asm volatile("dsb\n isb");
  for (void (**f)(void) = __init_array_start; f < __init_array_end; f++) (*f)();
  platform_exit(main());
}

/* A fault or an interrupt nobody handles: say which (IPSR: 3 = HardFault, 16 + n = IRQ n)
 * on the serial port, then reset the board. */
void Default_Handler(void) {
  uint32_t ipsr;
  __asm volatile("mrs %0, ipsr" : "=r"(ipsr));
  char msg[] = "\r\nkws: unexpected exception 000, resetting\r\n";
  char *digits = msg + 28; /* the "000" */
  ipsr &= 0x1FFu;
  for (int i = 2; i >= 0; i--, ipsr /= 10u) digits[i] = (char)('0' + ipsr % 10u);
  platform_serial_write((const uint8_t *)msg, sizeof(msg) - 1);
  platform_exit(70);
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
