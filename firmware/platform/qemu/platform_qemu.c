/* Board hooks for QEMU mps2-an505: CMSDK UART0 with an RX interrupt into a ring buffer,
 * CMSDK Timer0 as the counter, semihosting for exit. Facts: shared/notes/qemu-facts.md. */
#include <stdint.h>

#include "platform/platform.h"

#define REG(addr) (*(volatile uint32_t *)(addr))
#define UART0 0x50200000u
#define UART_DATA REG(UART0 + 0x00)
#define UART_STATE REG(UART0 + 0x04) /* bit0 TX full, bit1 RX full */
#define UART_CTRL REG(UART0 + 0x08)  /* bit0 TX en, bit1 RX en, bit3 RX irq en */
#define UART_INT REG(UART0 + 0x0C)   /* read status / write 1 to clear; bit1 RX */
#define UART_BAUDDIV REG(UART0 + 0x10)
#define TIMER0 0x50000000u
#define NVIC_ISER1 REG(0xE000E104u)
#define RX_IRQ_BIT (1u << (32 - 32))

/* Power of two so the indices wrap with a mask; 4 kB absorbs a full frame burst. */
#define RX_RING_SIZE 4096u
static volatile uint8_t rx_ring[RX_RING_SIZE];
static volatile uint32_t rx_head, rx_tail, rx_overflows;

void qemu_uart0_rx_irq(void) {
  UART_INT = 2u; /* clear first, then drain: the other order loses an interrupt */
  while (UART_STATE & 2u) {
    uint8_t b = (uint8_t)UART_DATA;
    uint32_t next = (rx_head + 1u) & (RX_RING_SIZE - 1u);
    if (next == rx_tail) {
      rx_overflows++;
    } else {
      rx_ring[rx_head] = b;
      rx_head = next;
    }
  }
}

void platform_init(void) {
  UART_BAUDDIV = 16u;
  UART_CTRL = 1u | 2u | 8u;
  NVIC_ISER1 = RX_IRQ_BIT;
  REG(TIMER0 + 0x08) = 0xFFFFFFFFu; /* reload */
  REG(TIMER0 + 0x04) = 0xFFFFFFFFu; /* value */
  REG(TIMER0 + 0x00) = 1u;          /* enable */
  __asm volatile("cpsie i");
}

const char *platform_board_name(void) { return "qemu mps2-an505 (Cortex-M33)"; }

void platform_serial_write(const uint8_t *data, size_t len) {
  for (size_t i = 0; i < len; i++) {
    while (UART_STATE & 1u) {
    }
    UART_DATA = data[i];
  }
}

size_t platform_serial_read(uint8_t *data, size_t max) {
  size_t n = 0;
  while (n < max && rx_tail != rx_head) {
    data[n++] = rx_ring[rx_tail];
    rx_tail = (rx_tail + 1u) & (RX_RING_SIZE - 1u);
  }
  return n;
}

void platform_wait_for_interrupt(void) {
  __asm volatile("cpsid i");
  if (rx_tail == rx_head) __asm volatile("wfi");
  __asm volatile("cpsie i");
}

/* Timer0 counts down at 20 MHz of virtual time. Under `-icount shift=0` virtual time advances
 * 1 ns per instruction, so one tick is exactly 50 instructions: instructions, not cycles. */
uint32_t platform_counter(void) { return ~REG(TIMER0 + 0x04); }
const char *platform_counter_unit(void) { return "timer ticks (x50 instructions under -icount shift=0)"; }

extern const uint8_t __model_region_start[];
extern const uint8_t __model_region_size[];
const uint8_t *platform_model_region(size_t *size) {
  *size = (size_t)__model_region_size;
  return __model_region_start;
}

/* Semihosting SYS_EXIT_EXTENDED: QEMU exits with `code` (needs -semihosting-config enable=on). */
void platform_exit(int code) {
  volatile uint32_t block[2] = {0x20026u, (uint32_t)code};
  register uint32_t r0 __asm("r0") = 0x20u;
  register volatile uint32_t *r1 __asm("r1") = block;
  __asm volatile("bkpt 0xAB" : : "r"(r0), "r"(r1) : "memory");
  for (;;) __asm volatile("wfi");
}
