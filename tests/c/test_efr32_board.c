/* The BRD2601B's board hooks (platform.h and app/board.h) run on the host: platform_efr32.c
 * is built here with its register blocks pointed at fake blocks in RAM, the core registers
 * (DWT, NVIC, SysTick, AIRCR) at a fake array, and the core instructions (cpsie/cpsid, wfi,
 * the endless loop after a reset request) replaced by observable stand-ins. A small model of
 * the crystal and the DPLL answers the clock driver's polls, so each clock outcome (78 MHz,
 * crystal only, no crystal) can be driven and what follows from it checked: banner, baud
 * divider, SysTick period, I2S divider. */
#include <setjmp.h>
#include <string.h>

#include "kws_test.h"
#include "platform/efr32xg24/efr32_drivers.h"

static efr32_cmu_t cmu;
static efr32_hfxo_t hfxo;
static efr32_hfrco_t hfrco;
static efr32_dpll_t dpll;
static efr32_gpio_t gpio;
static efr32_eusart_t eusart1;
static efr32_usart_t usart0;
static efr32_ldma_t ldma;
static efr32_ldmaxbar_t xbar;
static uint32_t core[0x10000u / 4u]; /* 0xE000xxxx: the private peripheral bus */
static int irq_on, wfis;
static jmp_buf halted;

#define EFR32_BOARD_FAKES 1
#define CORE_REG(addr) (core[((addr)&0xFFFFu) / 4u])
#define CMU (&cmu)
#define HFXO0 (&hfxo)
#define HFRCO0 (&hfrco)
#define DPLL0 (&dpll)
#define GPIO (&gpio)
#define EUSART1 (&eusart1)
#define USART0 (&usart0)
#define LDMA (&ldma)
#define LDMAXBAR (&xbar)
#define EFR32_IRQ_ENABLE() (irq_on = 1)
#define EFR32_IRQ_DISABLE() (irq_on = 0)
#define EFR32_WFI() (wfis++)
#define EFR32_DSB() ((void)0)
#define EFR32_HALT() longjmp(halted, 1)

static int crystal, locks;
static void clock_hardware(void) {
  if (crystal && (hfxo.CTRL & HFXO_CTRL_FORCEEN)) hfxo.STATUS |= HFXO_STATUS_RDY;
  if (locks && (dpll.EN & DPLL_EN_EN)) dpll.IF |= DPLL_IF_LOCK;
}
#define EFR32_POLL_HOOK() clock_hardware()

#include "platform/efr32xg24/clock.c"
#include "platform/efr32xg24/gpio.c"
#include "platform/efr32xg24/mic.c"
#include "platform/efr32xg24/platform_efr32.c"
#include "platform/efr32xg24/serial.c"

const uint8_t __model_region_start[64];
const uint8_t __model_region_size[1];

#define DWT_CTRL_ADDR 0xE0001000u
#define DWT_CYCCNT_ADDR 0xE0001004u
#define DEMCR_ADDR 0xE000EDFCu
#define NVIC_ISER0_ADDR 0xE000E100u
#define SYSTICK_CTRL_ADDR 0xE000E010u
#define SYSTICK_LOAD_ADDR 0xE000E014u
#define AIRCR_ADDR 0xE000ED0Cu

static void boot(int with_crystal, int dpll_locks) {
  memset(&cmu, 0, sizeof(cmu));
  memset(&hfxo, 0, sizeof(hfxo));
  memset(&dpll, 0, sizeof(dpll));
  memset(&gpio, 0, sizeof(gpio));
  memset(&eusart1, 0, sizeof(eusart1));
  memset(core, 0, sizeof(core));
  cmu.SYSCLKCTRL = CMU_SYSCLKCTRL_CLKSEL_FSRCO;
  hfrco.CAL = 0xA8689F7Fu;
  crystal = with_crystal;
  locks = dpll_locks;
  irq_on = 0;
  platform_init();
}

static void test_boot_at_78_mhz(void) {
  boot(1, 1);
  EXPECT_EQ(strcmp(platform_board_name(), "efr32xg24 BRD2601B, 78 MHz (39 MHz crystal, DPLL)"), 0);
  EXPECT_EQ(cmu.SYSCLKCTRL & 7, CMU_SYSCLKCTRL_CLKSEL_HFRCODPLL);
  /* The cycle counter runs (DEMCR.TRCENA, DWT_CTRL.CYCCNTENA) and is the platform counter. */
  EXPECT_TRUE(CORE_REG(DEMCR_ADDR) & (1u << 24));
  EXPECT_TRUE(CORE_REG(DWT_CTRL_ADDR) & 1u);
  CORE_REG(DWT_CYCCNT_ADDR) = 123456u;
  EXPECT_EQ(platform_counter(), 123456u);
  EXPECT_EQ(strncmp(platform_counter_unit(), "cpu cycles", 10), 0);
  EXPECT_EQ(strcmp(platform_counter_unit(), "cpu cycles (DWT CYCCNT)"), 0);
  /* VCOM: EUSART1 at 115200 from the 78 MHz EM01GRPCCLK, its receive interrupt enabled. */
  EXPECT_EQ(eusart1.CLKDIV, efr32_eusart_clkdiv(78000000, 115200));
  EXPECT_TRUE(cmu.CLKEN1 & CMU_CLKEN1_EUSART1);
  EXPECT_EQ(CORE_REG(NVIC_ISER0_ADDR), (1u << 13) | (1u << 21)); /* EUSART1_RX, LDMA */
  /* SysTick every millisecond of the 78 MHz core; interrupts on. */
  EXPECT_EQ(CORE_REG(SYSTICK_LOAD_ADDR), 77999u);
  EXPECT_EQ(CORE_REG(SYSTICK_CTRL_ADDR), 7u);
  EXPECT_EQ(irq_on, 1);
  /* The green LED (PA4, active low) starts off. */
  EXPECT_EQ((gpio.P[0].MODEL >> 16) & 0xFu, GPIO_MODE_PUSHPULL);
  EXPECT_TRUE(gpio.P[0].DOUT & (1u << 4));
}

static void test_boot_without_dpll_says_so(void) {
  boot(1, 0);
  EXPECT_EQ(strcmp(platform_board_name(),
                   "efr32xg24 BRD2601B, 39 MHz crystal: the DPLL did not lock"),
            0);
  EXPECT_EQ(eusart1.CLKDIV, efr32_eusart_clkdiv(39000000, 115200)); /* still 115200 baud */
  EXPECT_EQ(CORE_REG(SYSTICK_LOAD_ADDR), 38999u);
  EXPECT_TRUE(strstr(platform_counter_unit(), "39 MHz") != NULL);
}

static void test_boot_without_crystal_says_so(void) {
  boot(0, 0);
  EXPECT_TRUE(strstr(platform_board_name(), "19 MHz HFRCO: the 39 MHz crystal did not start") !=
              NULL);
  EXPECT_EQ(eusart1.CLKDIV, efr32_eusart_clkdiv(19000000, 115200));
  EXPECT_EQ(CORE_REG(SYSTICK_LOAD_ADDR), 18999u);
}

static void test_serial_through_the_hooks(void) {
  boot(1, 1);
  uint8_t got[8];
  eusart1.STATUS = EUSART_STATUS_RXFL | EUSART_STATUS_TXFL;
  eusart1.RXDATA = 0x5A;
  efr32_eusart1_rx_irq(); /* the vector table's EUSART1_RX entry */
  eusart1.STATUS = EUSART_STATUS_TXFL;
  EXPECT_EQ(platform_serial_read(got, 3), 3);
  EXPECT_EQ(got[2], 0x5A);
  wfis = 0;
  platform_wait_for_interrupt(); /* 13 bytes still waiting: no sleep */
  EXPECT_EQ(wfis, 0);
  while (platform_serial_read(got, sizeof(got))) {
  }
  platform_wait_for_interrupt(); /* nothing to do: sleep, interrupts back on after */
  EXPECT_EQ(wfis, 1);
  EXPECT_EQ(irq_on, 1);
  platform_serial_write((const uint8_t *)"hi", 2);
  EXPECT_EQ(eusart1.TXDATA, 'i');
}

static void test_detection_lights_green_for_750_ms(void) {
  boot(1, 1);
  board_show_detection(0);
  EXPECT_EQ(gpio.P[0].DOUT & (1u << 4), 0); /* on */
  for (int ms = 0; ms < 749; ms++) efr32_systick_irq();
  EXPECT_EQ(gpio.P[0].DOUT & (1u << 4), 0);
  efr32_systick_irq();
  EXPECT_TRUE(gpio.P[0].DOUT & (1u << 4)); /* off again */
}

static void test_microphone_through_the_hooks(void) {
  boot(1, 1);
  memset(&usart0, 0, sizeof(usart0));
  memset(&ldma, 0, sizeof(ldma));
  EXPECT_EQ(board_microphone(1, 16000), KWS_OK);
  EXPECT_EQ(usart0.CLKDIV, 18u << 8); /* from PCLK = 39 MHz, not the 78 MHz core */
  EXPECT_TRUE(gpio.P[2].DOUT & (1u << 8));
  int16_t samples[EFR32_MIC_BLOCK];
  EXPECT_EQ(board_microphone_read(samples, EFR32_MIC_BLOCK), 0);
  g_mic.buffer[0][0] = 321;
  ldma.IF = 1u; /* channel 0 finished its first buffer */
  efr32_ldma_irq();
  wfis = 0;
  platform_wait_for_interrupt(); /* a buffer is waiting: no sleep */
  EXPECT_EQ(wfis, 0);
  EXPECT_EQ(board_microphone_read(samples, EFR32_MIC_BLOCK), EFR32_MIC_BLOCK);
  EXPECT_EQ(samples[0], 321);
  EXPECT_EQ(board_microphone(0, 16000), KWS_OK);
  EXPECT_EQ(gpio.P[2].DOUT & (1u << 8), 0);
}

static void test_mvp_clock_and_reset(void) {
  boot(1, 1);
  kws_platform_mvp_clock_enable();
  EXPECT_TRUE(cmu.CLKEN1 & CMU_CLKEN1_MVP);
  if (setjmp(halted) == 0) {
    platform_exit(3);
    EXPECT_TRUE(0); /* never returns */
  }
  EXPECT_EQ(CORE_REG(AIRCR_ADDR), 0x05FA0004u); /* VECTKEY | SYSRESETREQ */
  size_t size = 0;
  EXPECT_TRUE(platform_model_region(&size) == __model_region_start);
}

int main(void) {
  RUN_TEST(test_boot_at_78_mhz);
  RUN_TEST(test_boot_without_dpll_says_so);
  RUN_TEST(test_boot_without_crystal_says_so);
  RUN_TEST(test_serial_through_the_hooks);
  RUN_TEST(test_detection_lights_green_for_750_ms);
  RUN_TEST(test_microphone_through_the_hooks);
  RUN_TEST(test_mvp_clock_and_reset);
  TEST_MAIN_END();
}
