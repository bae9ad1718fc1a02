/* Board hooks for the BRD2601B (EFR32MG24B310F1536IM48): 78 MHz from HFXO + DPLL, the VCOM
 * serial port on EUSART1 (PA5/PA6, 115200 8N1), the I2S microphone, the RGB LED (active low:
 * green PA4 on detection), and the DWT cycle counter for profiling. */
#include <stdint.h>

#include "app/board.h"
#include "efr32_drivers.h"
#include "platform/platform.h"

#define REG(addr) (*(volatile uint32_t *)(addr))
#define DEMCR REG(0xE000EDFCu)
#define DWT_CTRL REG(0xE0001000u)
#define DWT_CYCCNT REG(0xE0001004u)
#define NVIC_ISER0 REG(0xE000E100u)
#define SYSTICK_CTRL REG(0xE000E010u)
#define SYSTICK_LOAD REG(0xE000E014u)
#define SYSTICK_VAL REG(0xE000E018u)

#define CMU ((efr32_cmu_t *)EFR32_CMU_BASE)
#define HFRCO0 ((efr32_hfrco_t *)EFR32_HFRCO0_BASE)
#define DPLL0 ((efr32_dpll_t *)EFR32_DPLL0_BASE)
#define GPIO ((efr32_gpio_t *)EFR32_GPIO_BASE)
#define EUSART1 ((efr32_eusart_t *)EFR32_EUSART1_BASE)
#define USART0 ((efr32_usart_t *)EFR32_USART0_BASE)
#define LDMA ((efr32_ldma_t *)EFR32_LDMA_BASE)
#define LDMAXBAR ((efr32_ldmaxbar_t *)EFR32_LDMAXBAR_BASE)

#define VCOM_BAUD 115200u
#define MIC_DMA_CHANNEL 0u
#define LED_GREEN_PORT GPIO_PORT_A
#define LED_GREEN_PIN 4u
#define LED_ON_MS 750u

static efr32_serial_t g_serial;
static efr32_mic_t g_mic;
static uint32_t g_clock_hz = 19000000u; /* FSRCO until the DPLL locks */
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

void platform_init(void) {
  if (efr32_clock_init(CMU, HFRCO0, DPLL0) == KWS_OK) g_clock_hz = EFR32_CPU_HZ;
  CMU->CLKEN0 |= CMU_CLKEN0_GPIO | CMU_CLKEN0_LDMA | CMU_CLKEN0_LDMAXBAR | CMU_CLKEN0_USART0;
  CMU->CLKEN1 |= CMU_CLKEN1_EUSART1;
  efr32_gpio_mode(GPIO, LED_GREEN_PORT, LED_GREEN_PIN, GPIO_MODE_PUSHPULL, 1); /* off */
  efr32_serial_init(&g_serial, EUSART1, GPIO, 1, g_clock_hz, VCOM_BAUD);
  NVIC_ISER0 = (1u << EFR32_EUSART1_RX_IRQ) | (1u << EFR32_LDMA_IRQ);
  SYSTICK_LOAD = g_clock_hz / 1000u - 1u;
  SYSTICK_VAL = 0;
  SYSTICK_CTRL = 7u; /* processor clock, interrupt, enable */
  DEMCR |= 1u << 24; /* TRCENA: enables the DWT */
  DWT_CYCCNT = 0;
  DWT_CTRL |= 1u;
  __asm volatile("cpsie i");
}

const char *platform_board_name(void) {
  return g_clock_hz == EFR32_CPU_HZ ? "efr32xg24 BRD2601B (78 MHz)"
                                    : "efr32xg24 BRD2601B (DPLL did not lock: 19 MHz)";
}

void platform_serial_write(const uint8_t *data, size_t len) {
  efr32_serial_write(&g_serial, data, len);
}

size_t platform_serial_read(uint8_t *data, size_t max) {
  return efr32_serial_read(&g_serial, data, max);
}

void platform_wait_for_interrupt(void) {
  __asm volatile("cpsid i");
  if (g_serial.tail == g_serial.head && g_mic.filled == g_mic.consumed) __asm volatile("wfi");
  __asm volatile("cpsie i");
}

uint32_t platform_counter(void) { return DWT_CYCCNT; }
const char *platform_counter_unit(void) { return "cpu cycles (DWT CYCCNT)"; }

extern const uint8_t __model_region_start[];
extern const uint8_t __model_region_size[];
const uint8_t *platform_model_region(size_t *size) {
  *size = (size_t)__model_region_size;
  return __model_region_start;
}

void platform_exit(int code) {
  (void)code;
  board_reset();
}

/* --- board.h ------------------------------------------------------------------------------ */
kws_status_t board_microphone(int on, uint32_t sample_rate) {
  if (!on) {
    if (g_mic.usart) efr32_mic_stop(&g_mic);
    return KWS_OK;
  }
  return efr32_mic_start(&g_mic, USART0, LDMA, LDMAXBAR, GPIO, MIC_DMA_CHANNEL, g_clock_hz,
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
  __asm volatile("dsb");
  REG(0xE000ED0Cu) = 0x05FA0004u; /* AIRCR: VECTKEY | SYSRESETREQ */
  __asm volatile("dsb");
  for (;;) {
  }
}
