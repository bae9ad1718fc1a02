/* Minimal start-up for the frontend's Cortex-M33 cost bench on QEMU mps2-an505: vector
 * table, .data/.bss set-up, FPU on, then main(); exit through semihosting. */
#include <stdint.h>

extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end, __stack_top;
int main(void);
void bench_exit(int code);

void reset_handler(void) {
  uint32_t *src = &__data_load, *dst = &__data_start;
  while (dst < &__data_end) *dst++ = *src++;
  for (dst = &__bss_start; dst < &__bss_end;) *dst++ = 0;
  *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20; /* CPACR: CP10/CP11 full access */
  __asm volatile("dsb\n isb");
  bench_exit(main());
}

static void fault_handler(void) { bench_exit(99); }

__attribute__((section(".vectors"), used)) static const void *const vectors[16] = {
    &__stack_top, (const void *)reset_handler, (const void *)fault_handler,
    (const void *)fault_handler, (const void *)fault_handler, (const void *)fault_handler,
    (const void *)fault_handler};
