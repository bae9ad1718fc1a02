/* What every Cortex-M33 board does between reset and main, and how it reports a stray
 * exception; each platform's startup.c adds its vector table and board specifics. */
#ifndef KWS_CORTEX_M33_START_H
#define KWS_CORTEX_M33_START_H

#include <stdint.h>

#include "platform/platform.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
extern const uint8_t __stack_size[]; /* a linker symbol: its address is the stack's size */
extern void (*__init_array_start[])(void);
extern void (*__init_array_end[])(void);
extern int main(void);

#define KWS_SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)

/* Stack limit, .data and .bss, FPU, constructors, main; never returns. */
static inline void kws_m33_start(void) {
  /* Armv8-M stack limit: overflowing the stack faults (and is reported by the default
   * handler) instead of silently overwriting .bss. */
  const uint32_t stack_bottom = (uint32_t)(uintptr_t)&_estack - (uint32_t)(uintptr_t)__stack_size;
  __asm volatile("msr msplim, %0" : : "r"(stack_bottom));
  uint32_t *src = &_sidata;
  for (uint32_t *dst = &_sdata; dst < &_edata;) *dst++ = *src++;
  for (uint32_t *dst = &_sbss; dst < &_ebss;) *dst++ = 0;
  KWS_SCB_CPACR |= 0xFu << 20; /* CP10/CP11 full access: the FPU */
  __asm volatile("dsb\n isb");
  for (void (**f)(void) = __init_array_start; f < __init_array_end; f++) (*f)();
  platform_exit(main());
}

/* A fault or an interrupt nobody handles: say which (IPSR: 3 = HardFault, 16 + n = IRQ n)
 * on the serial port, then stop (platform_exit: semihosting exit or reset). */
static inline void kws_m33_report_exception(void) {
  uint32_t ipsr;
  __asm volatile("mrs %0, ipsr" : "=r"(ipsr));
  char msg[] = "\r\nkws: unexpected exception 000, stopping\r\n";
  char *digits = msg + 28; /* the "000" */
  ipsr &= 0x1FFu;
  for (int i = 2; i >= 0; i--, ipsr /= 10u) digits[i] = (char)('0' + ipsr % 10u);
  platform_serial_write((const uint8_t *)msg, sizeof(msg) - 1);
  platform_exit(70);
}

#endif
