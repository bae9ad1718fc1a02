/* Board hooks for the BRD2601B (EFR32MG24B310F1536IM48): 78 MHz from HFXO + DPLL (with the
 * fallbacks of clock.c, named in the banner), the VCOM serial port on EUSART1 (PA5/PA6,
 * 115200 8N1), the I2S microphone, the RGB LED (active low: green PA4 on detection), the DWT
 * cycle counter for profiling, the MVP's bus clock, and reset through AIRCR.
 *
 * The register blocks and the few core instructions are reached through the macros below,
 * so tests/c/test_efr32_board.c builds this file on the host against fake blocks (it defines
 * EFR32_BOARD_FAKES and its own versions of every macro). */
#include <stdint.h>
#include <string.h>

#include "app/board.h"
#include "efr32_drivers.h"
#include "platform/platform.h"

#ifndef EFR32_BOARD_FAKES
#define CORE_REG(addr) (*(volatile uint32_t *)(addr))
#define CMU ((efr32_cmu_t *)EFR32_CMU_BASE)
#define HFXO0 ((efr32_hfxo_t *)EFR32_HFXO0_BASE)
#define HFRCO0 ((efr32_hfrco_t *)EFR32_HFRCO0_BASE)
#define DPLL0 ((efr32_dpll_t *)EFR32_DPLL0_BASE)
#define GPIO ((efr32_gpio_t *)EFR32_GPIO_BASE)
#define EUSART1 ((efr32_eusart_t *)EFR32_EUSART1_BASE)
#define USART0 ((efr32_usart_t *)EFR32_USART0_BASE)
#define LDMA ((efr32_ldma_t *)EFR32_LDMA_BASE)
#define LDMAXBAR ((efr32_ldmaxbar_t *)EFR32_LDMAXBAR_BASE)
#define EFR32_IRQ_ENABLE() __asm volatile("cpsie i" ::: "memory")
#define EFR32_IRQ_DISABLE() __asm volatile("cpsid i" ::: "memory")
#define EFR32_WFI() __asm volatile("wfi")
#define EFR32_DSB() __asm volatile("dsb" ::: "memory")
#define EFR32_HALT() \
  for (;;) {         \
  }
#endif

#define DEMCR CORE_REG(0xE000EDFCu)
#define DWT_CTRL CORE_REG(0xE0001000u)
#define DWT_CYCCNT CORE_REG(0xE0001004u)
#define NVIC_ISER0 CORE_REG(0xE000E100u)
#define SYSTICK_CTRL CORE_REG(0xE000E010u)
#define SYSTICK_LOAD CORE_REG(0xE000E014u)
#define SYSTICK_VAL CORE_REG(0xE000E018u)
#define SCB_AIRCR CORE_REG(0xE000ED0Cu)
#define AIRCR_SYSRESETREQ 0x05FA0004u /* VECTKEY 0x05FA | SYSRESETREQ */

#define VCOM_BAUD 115200u
#define MIC_DMA_CHANNEL 0u
#define LED_GREEN_PORT GPIO_PORT_A
#define LED_GREEN_PIN 4u
#define LED_ON_MS 750u

static efr32_serial_t g_serial;
static efr32_mic_t g_mic;
static efr32_clock_t g_clock = {EFR32_CLOCK_HFRCO, 20000000u, 20000000u, 20000000u};
static char g_name[96];
static volatile uint32_t g_ms;
static volatile uint32_t g_led_off_at;

void efr32_eusart1_rx_irq(void) { efr32_serial_rx_irq(&g_serial); }
void efr32_ldma_irq(void) { efr32_mic_dma_irq(&g_mic); }

void efr32_systick_irq(void) {
  g_ms++;
  if (g_led_off_at && g_ms == g_led_off_at) {
    efr32_gpio_write(GPIO, LED_GREEN_PORT, LED_GREEN_PIN, 1);
    g_led_off_at = 0;
  }
}

/* mvp/mvp_port.c calls this before it touches the accelerator: its bus clock is ours. */
void kws_platform_mvp_clock_enable(void) { CMU->CLKEN1 |= CMU_CLKEN1_MVP; }

static void append(char *dst, size_t size, const char *text) {
  size_t n = strlen(dst), m = strlen(text);
  if (n + m >= size) m = size - n - 1;
  memcpy(dst + n, text, m);
  dst[n + m] = 0;
}

void platform_init(void) {
  DEMCR |= 1u << 24; /* TRCENA: enables the DWT, whose cycle counter is platform_counter */
  DWT_CYCCNT = 0;
  DWT_CTRL |= 1u;
  efr32_clock_init(CMU, HFXO0, HFRCO0, DPLL0, &g_clock); /* falls back on its own */
  g_name[0] = 0;
  append(g_name, sizeof(g_name), "efr32xg24 BRD2601B, ");
  append(g_name, sizeof(g_name), efr32_clock_name(&g_clock));

  CMU->CLKEN0 |= CMU_CLKEN0_GPIO | CMU_CLKEN0_LDMA | CMU_CLKEN0_LDMAXBAR | CMU_CLKEN0_USART0;
  CMU->CLKEN1 |= CMU_CLKEN1_EUSART1;
  efr32_gpio_mode(GPIO, LED_GREEN_PORT, LED_GREEN_PIN, GPIO_MODE_PUSHPULL, 1); /* off */
  efr32_serial_init(&g_serial, EUSART1, GPIO, 1, g_clock.eusart_hz, VCOM_BAUD);
  NVIC_ISER0 = (1u << EFR32_EUSART1_RX_IRQ) | (1u << EFR32_LDMA_IRQ);
  SYSTICK_LOAD = g_clock.hclk_hz / 1000u - 1u;
  SYSTICK_VAL = 0;
  SYSTICK_CTRL = 7u; /* processor clock, interrupt, enable */
  EFR32_IRQ_ENABLE();
}

const char *platform_board_name(void) { return g_name; }

void platform_serial_write(const uint8_t *data, size_t len) {
  efr32_serial_write(&g_serial, data, len);
}

size_t platform_serial_read(uint8_t *data, size_t max) {
  return efr32_serial_read(&g_serial, data, max);
}

void platform_wait_for_interrupt(void) {
  EFR32_IRQ_DISABLE();
  if (g_serial.tail == g_serial.head && g_mic.filled == g_mic.consumed) EFR32_WFI();
  EFR32_IRQ_ENABLE();
}

uint32_t platform_counter(void) { return DWT_CYCCNT; }
const char *platform_counter_unit(void) {
  /* kwshost reads "cpu cycles" as cycles of a 78 MHz core; a fallback clock says so. */
  return g_clock.source == EFR32_CLOCK_DPLL ? "cpu cycles (DWT CYCCNT)"
         : g_clock.source == EFR32_CLOCK_HFXO
             ? "cpu cycles (DWT CYCCNT; core at 39 MHz, not 78: the DPLL did not lock)"
             : "cpu cycles (DWT CYCCNT; core at 19 MHz, not 78: no crystal)";
}

extern const uint8_t __model_region_start[];
extern const uint8_t __model_region_size[];
const uint8_t *platform_model_region(size_t *size) {
  *size = (size_t)__model_region_size;
  return __model_region_start;
}

void platform_exit(int code) {
  (void)code; /* no one to return it to on the board: start again */
  board_reset();
}

/* --- board.h ------------------------------------------------------------------------------ */
kws_status_t board_microphone(int on, uint32_t sample_rate) {
  if (!on) {
    if (g_mic.usart) efr32_mic_stop(&g_mic);
    return KWS_OK;
  }
  return efr32_mic_start(&g_mic, USART0, LDMA, LDMAXBAR, GPIO, MIC_DMA_CHANNEL, g_clock.pclk_hz,
                         sample_rate);
}

size_t board_microphone_read(int16_t *samples, size_t max) {
  return efr32_mic_read(&g_mic, samples, max);
}

void board_show_detection(uint32_t class_index) {
  (void)class_index;
  efr32_gpio_write(GPIO, LED_GREEN_PORT, LED_GREEN_PIN, 0); /* active low: on */
  g_led_off_at = g_ms + LED_ON_MS;
  if (g_led_off_at == 0) g_led_off_at = 1;
}

void board_reset(void) {
  EFR32_DSB();
  SCB_AIRCR = AIRCR_SYSRESETREQ;
  EFR32_DSB();
  EFR32_HALT();
}
