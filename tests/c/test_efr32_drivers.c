/* The BRD2601B drivers run on the host against fake register blocks (plain structs in RAM):
 * what they write into the registers, how they react to status bits, and the logic around
 * them (clock dividers, the receive ring, the microphone's ping-pong buffers). */
#include <string.h>

#include "kws_test.h"

/* The clock driver polls status flags that the hardware raises after it was asked to start
 * something; this hook plays that hardware on every poll (see clock.c). */
static void clock_hardware(void);
#define EFR32_POLL_HOOK() clock_hardware()

#include "platform/efr32xg24/clock.c"
#include "platform/efr32xg24/gpio.c"
#include "platform/efr32xg24/mic.c"
#include "platform/efr32xg24/serial.c"

static efr32_cmu_t cmu;
static efr32_hfxo_t hfxo;
static efr32_hfrco_t hfrco;
static efr32_dpll_t dpll;
static efr32_gpio_t gpio;
static efr32_eusart_t eusart;
static efr32_usart_t usart;
static efr32_ldma_t ldma;
static efr32_ldmaxbar_t xbar;

static efr32_clock_t clk;

/* The simulated hardware: a crystal that starts only when forced on, a DPLL that locks only
 * once enabled with a reference, and what the driver had done by the time it first waited. */
static int crystal_present, dpll_locks, dpll_fails, polls;
static uint32_t sysclk_at_dpll_wait, cfg1_at_dpll_wait;

static void clock_hardware(void) {
  polls++;
  if (crystal_present && (hfxo.CTRL & HFXO_CTRL_FORCEEN)) hfxo.STATUS |= HFXO_STATUS_RDY;
  if (dpll.EN & DPLL_EN_EN) {
    if (!sysclk_at_dpll_wait) {
      sysclk_at_dpll_wait = cmu.SYSCLKCTRL;
      cfg1_at_dpll_wait = dpll.CFG1;
    }
    if (dpll_locks && cmu.DPLLREFCLKCTRL == CMU_DPLLREFCLKCTRL_CLKSEL_HFXO) dpll.IF |= DPLL_IF_LOCK;
    if (dpll_fails) dpll.IF |= DPLL_IF_LOCKFAILLOW;
  }
}

static void reset_clock_blocks(int crystal, int locks) {
  memset(&cmu, 0, sizeof(cmu));
  memset(&hfxo, 0, sizeof(hfxo));
  memset(&dpll, 0, sizeof(dpll));
  cmu.SYSCLKCTRL = CMU_SYSCLKCTRL_CLKSEL_FSRCO; /* after reset */
  hfrco.CAL = 0xA8689F7Fu; /* the calibrated 19 MHz band */
  crystal_present = crystal;
  dpll_locks = locks;
  dpll_fails = 0;
  polls = 0;
  sysclk_at_dpll_wait = cfg1_at_dpll_wait = 0;
}

static void test_clock_locks_dpll_to_78_mhz(void) {
  reset_clock_blocks(1, 1);
  EXPECT_EQ(efr32_clock_init(&cmu, &hfxo, &hfrco, &dpll, &clk), KWS_OK);
  EXPECT_EQ(clk.source, EFR32_CLOCK_DPLL);
  EXPECT_EQ(clk.hclk_hz, 78000000);
  EXPECT_EQ(clk.pclk_hz, 39000000);
  EXPECT_TRUE(hfxo.CTRL & HFXO_CTRL_FORCEEN);
  EXPECT_EQ(cmu.DPLLREFCLKCTRL, CMU_DPLLREFCLKCTRL_CLKSEL_HFXO);
  EXPECT_EQ(dpll.CFG1 >> 16, 3839);
  EXPECT_EQ(dpll.CFG1 & 0xFFF, 1919);
  EXPECT_EQ((uint64_t)EFR32_HFXO_HZ * (3839 + 1) / (1919 + 1), 78000000);
  EXPECT_EQ(dpll.CFG, DPLL_CFG_MODE_PLL | DPLL_CFG_AUTORECOVER); /* falling edge: EDGESEL 0 */
  EXPECT_EQ(dpll.EN, DPLL_EN_EN);
  EXPECT_EQ(cmu.SYSCLKCTRL & 7, CMU_SYSCLKCTRL_CLKSEL_HFRCODPLL);
  EXPECT_TRUE(cmu.SYSCLKCTRL & CMU_SYSCLKCTRL_PCLKPRESC_DIV2);
  EXPECT_EQ(hfrco.CAL, HFRCO_CAL_80MHZ_BAND);
  EXPECT_TRUE(cmu.CLKEN0 & CMU_CLKEN0_DPLL0);
  EXPECT_EQ(cmu.EM01GRPCCLKCTRL, CMU_EM01GRPCCLKCTRL_CLKSEL_HFRCODPLL);
  EXPECT_EQ(hfxo.LOCK, HFXO_LOCK_UNLOCK);
  EXPECT_EQ(dpll.LOCK, DPLL_LOCK_UNLOCK);
  /* The order: while the DPLL was locking the core still ran from the FSRCO, with PCLK
   * already halved and the DPLL fully configured. */
  EXPECT_EQ(sysclk_at_dpll_wait & 7, CMU_SYSCLKCTRL_CLKSEL_FSRCO);
  EXPECT_TRUE(sysclk_at_dpll_wait & CMU_SYSCLKCTRL_PCLKPRESC_DIV2);
  EXPECT_EQ(cfg1_at_dpll_wait, (3839u << 16) | 1919u);
  EXPECT_TRUE(polls < 10); /* it stops waiting as soon as the flags are up */
  EXPECT_EQ(strcmp(efr32_clock_name(&clk), "78 MHz (39 MHz crystal, DPLL)"), 0);
}

static void test_clock_without_crystal_runs_from_the_hfrco(void) {
  reset_clock_blocks(0, 1);
  EXPECT_EQ(efr32_clock_init(&cmu, &hfxo, &hfrco, &dpll, &clk), KWS_ERR_TIMEOUT);
  EXPECT_EQ(polls, EFR32_WAIT_LOOPS); /* a bounded wait */
  EXPECT_EQ(clk.source, EFR32_CLOCK_HFRCO);
  EXPECT_EQ(clk.hclk_hz, 19000000);
  EXPECT_EQ(clk.eusart_hz, 19000000);
  EXPECT_EQ(dpll.EN, 0); /* never started without a reference */
  EXPECT_EQ(hfxo.CTRL & HFXO_CTRL_FORCEEN, 0);
  EXPECT_EQ(hfrco.CAL, 0xA8689F7Fu);
  EXPECT_EQ(cmu.SYSCLKCTRL & 7, CMU_SYSCLKCTRL_CLKSEL_HFRCODPLL);
  EXPECT_EQ(cmu.EM01GRPCCLKCTRL, CMU_EM01GRPCCLKCTRL_CLKSEL_HFRCODPLL);
  EXPECT_TRUE(strstr(efr32_clock_name(&clk), "crystal did not start") != NULL);
}

static void test_clock_lock_failure_flag_ends_the_wait(void) {
  /* A DPLL that reports LOCKFAILLOW at once: the driver must not wait out its budget. */
  reset_clock_blocks(1, 0);
  dpll_fails = 1;
  EXPECT_EQ(efr32_clock_init(&cmu, &hfxo, &hfrco, &dpll, &clk), KWS_ERR_TIMEOUT);
  EXPECT_TRUE(polls < 10);
  EXPECT_EQ(clk.source, EFR32_CLOCK_HFXO);
  EXPECT_EQ(clk.hclk_hz, 39000000);
  EXPECT_EQ(dpll.EN, 0);
  EXPECT_TRUE(strstr(efr32_clock_name(&clk), "DPLL did not lock") != NULL);
}

static void test_clock_without_lock_runs_from_the_crystal(void) {
  reset_clock_blocks(1, 0);
  EXPECT_EQ(efr32_clock_init(&cmu, &hfxo, &hfrco, &dpll, &clk), KWS_ERR_TIMEOUT);
  EXPECT_EQ(clk.source, EFR32_CLOCK_HFXO);
  EXPECT_EQ(cmu.SYSCLKCTRL & 7, CMU_SYSCLKCTRL_CLKSEL_HFXO);
  EXPECT_EQ(cmu.SYSCLKCTRL & CMU_SYSCLKCTRL_PCLKPRESC_DIV2, 0); /* 39 MHz PCLK is allowed */
  EXPECT_EQ(cmu.EM01GRPCCLKCTRL, CMU_EM01GRPCCLKCTRL_CLKSEL_HFXO);
  EXPECT_EQ(dpll.EN, 0);
  EXPECT_EQ(hfrco.CAL, 0xA8689F7Fu); /* the calibrated 19 MHz band, restored */
  EXPECT_EQ(polls, 1 + EFR32_WAIT_LOOPS); /* one poll for the crystal, the whole budget after */
}

static void test_gpio_modes_and_levels(void) {
  memset(&gpio, 0, sizeof(gpio));
  efr32_gpio_mode(&gpio, GPIO_PORT_A, 4, GPIO_MODE_PUSHPULL, 1);
  efr32_gpio_mode(&gpio, GPIO_PORT_C, 9, GPIO_MODE_PUSHPULL, 0);
  EXPECT_EQ(gpio.P[0].MODEL, 4u << 16);
  EXPECT_EQ(gpio.P[0].DOUT, 1u << 4);
  EXPECT_EQ(gpio.P[2].MODEH, 4u << 4);
  EXPECT_EQ(gpio.P[2].DOUT, 0);
  efr32_gpio_write(&gpio, GPIO_PORT_A, 4, 0);
  EXPECT_EQ(gpio.P[0].DOUT, 0);
}

static efr32_serial_t serial;

static void test_serial_setup_and_divider(void) {
  memset(&gpio, 0, sizeof(gpio));
  memset(&eusart, 0, sizeof(eusart));
  /* 256 * (78 MHz / (16 * 115200) - 1) = 10577.3 -> 10576 with the 3 low bits clear. */
  EXPECT_EQ(efr32_eusart_clkdiv(78000000, 115200), 10576);
  efr32_serial_init(&serial, &eusart, &gpio, 1, 78000000, 115200);
  EXPECT_EQ(eusart.CLKDIV, 10576);
  EXPECT_EQ(eusart.FRAMECFG, EUSART_FRAMECFG_8N1);
  EXPECT_EQ(eusart.EN, EUSART_EN_EN);
  EXPECT_EQ(eusart.CMD, EUSART_CMD_RXEN | EUSART_CMD_TXEN);
  EXPECT_EQ(eusart.IEN, EUSART_IF_RXFL);
  EXPECT_EQ(gpio.EUSARTROUTE[1].TXROUTE, GPIO_ROUTE(GPIO_PORT_A, 5));
  EXPECT_EQ(gpio.EUSARTROUTE[1].RXROUTE, GPIO_ROUTE(GPIO_PORT_A, 6));
  EXPECT_EQ(gpio.EUSARTROUTE[1].ROUTEEN, GPIO_ROUTEEN_TXPEN | GPIO_ROUTEEN_RXPEN);
  EXPECT_EQ(gpio.P[0].MODEL, (4u << 20) | (2u << 24));
  /* Actual baud rate within 0.1 %. */
  const double baud = 78e6 / (16.0 * (1.0 + 10576 / 256.0));
  EXPECT_TRUE(baud > 115200 * 0.999 && baud < 115200 * 1.001);
}

static void test_serial_ring(void) {
  uint8_t out[32];
  eusart.STATUS = EUSART_STATUS_RXFL | EUSART_STATUS_TXFL;
  eusart.RXDATA = 'k';
  eusart.IF = EUSART_IF_RXFL;
  efr32_serial_rx_irq(&serial); /* drains at most a FIFO's worth */
  EXPECT_EQ(eusart.IF & EUSART_IF_RXFL, 0);
  EXPECT_EQ(efr32_serial_read(&serial, out, sizeof(out)), 16);
  EXPECT_EQ(out[15], 'k');
  EXPECT_EQ(efr32_serial_read(&serial, out, sizeof(out)), 0);
  for (int i = 0; i < 300; i++) efr32_serial_rx_irq(&serial); /* 4800 bytes into 4096 */
  EXPECT_EQ(serial.overflows, 4800 - (EFR32_RX_RING - 1));
  size_t total = 0, n;
  while ((n = efr32_serial_read(&serial, out, sizeof(out))) > 0) total += n;
  EXPECT_EQ(total, EFR32_RX_RING - 1);
  efr32_serial_write(&serial, (const uint8_t *)"ok", 2);
  EXPECT_EQ(eusart.TXDATA, 'k');
}

static efr32_mic_t mic;

static void test_microphone_ping_pong(void) {
  memset(&usart, 0, sizeof(usart));
  memset(&ldma, 0, sizeof(ldma));
  memset(&xbar, 0, sizeof(xbar));
  EXPECT_EQ(efr32_mic_start(&mic, &usart, &ldma, &xbar, &gpio, 8, 39000000, 16000),
            KWS_ERR_ARG);
  EXPECT_EQ(efr32_mic_start(&mic, &usart, &ldma, &xbar, &gpio, 2, 39000000, 16000), KWS_OK);
  /* Bit clock 64 x 16 kHz from PCLK = 39 MHz: f / (2 (1 + div / 256)), a whole divider. */
  EXPECT_EQ(usart.CLKDIV, 18u << 8);
  EXPECT_EQ(efr32_i2s_rate(39000000, usart.CLKDIV), 16036);
  const double bit_hz = 39e6 / (2.0 * (1.0 + usart.CLKDIV / 256.0));
  EXPECT_TRUE(bit_hz > 1024000 * 0.995 && bit_hz < 1024000 * 1.005);
  EXPECT_EQ(usart.I2SCTRL & 0x700, USART_I2SCTRL_FORMAT_W32D16);
  EXPECT_TRUE(usart.I2SCTRL & USART_I2SCTRL_EN);
  EXPECT_EQ(usart.I2SCTRL & USART_I2SCTRL_MONO, 0); /* two 32-bit slots per frame */
  EXPECT_TRUE(usart.CTRL & USART_CTRL_SYNC);
  EXPECT_TRUE(usart.CTRL & USART_CTRL_AUTOTX); /* a master clocks only while transmitting */
  EXPECT_EQ(usart.CMD, USART_CMD_RXEN | USART_CMD_TXEN | USART_CMD_MASTEREN);
  EXPECT_EQ(gpio.P[2].MODEH & 0xFu, GPIO_MODE_PUSHPULL); /* PC8: microphone power */
  EXPECT_EQ(gpio.P[2].DOUT & (1u << 8), 1u << 8);
  EXPECT_EQ(xbar.REQSEL[2], LDMAXBAR_SOURCESEL_USART0 | LDMAXBAR_SIGSEL_USART0_RXDATAV);
  EXPECT_EQ(ldma.CHEN, 1u << 2);
  EXPECT_EQ(ldma.LINKLOAD, 1u << 2);
  EXPECT_EQ(ldma.CH[2].LINK, (uint32_t)(uintptr_t)&mic.desc[0] & ~3u);
  /* Two descriptors, each filling one buffer with 160 frames (left and right halfwords),
   * linked to each other. */
  for (int i = 0; i < 2; i++) {
    EXPECT_EQ((mic.desc[i].ctrl >> 4) & 0x7FF, 2 * EFR32_MIC_BLOCK - 1);
    EXPECT_EQ(mic.desc[i].ctrl & (3u << 26), LDMA_DESC_SIZE_HALFWORD);
    EXPECT_EQ(mic.desc[i].ctrl & (3u << 24), LDMA_DESC_SRCINC_NONE);
    EXPECT_EQ(mic.desc[i].src, (uint32_t)(uintptr_t)&usart.RXDOUBLE);
    EXPECT_EQ(mic.desc[i].dst, (uint32_t)(uintptr_t)mic.buffer[i]);
    EXPECT_EQ(mic.desc[i].link, ((uint32_t)(uintptr_t)&mic.desc[i ^ 1]) | LDMA_DESC_LINK);
  }
  EXPECT_EQ(gpio.USARTROUTE[0].RXROUTE, GPIO_ROUTE(GPIO_PORT_D, 4));
  EXPECT_EQ(gpio.USARTROUTE[0].CLKROUTE, GPIO_ROUTE(GPIO_PORT_D, 3));

  int16_t got[EFR32_MIC_BLOCK];
  EXPECT_EQ(efr32_mic_read(&mic, got, EFR32_MIC_BLOCK), 0); /* nothing captured yet */
  for (int i = 0; i < (int)EFR32_MIC_BLOCK; i++) {
    mic.buffer[0][2 * i] = (int16_t)i; /* left slots carry the samples */
    mic.buffer[0][2 * i + 1] = 1000;   /* right slots are skipped */
    mic.buffer[1][2 * i] = (int16_t)-i;
    mic.buffer[1][2 * i + 1] = 1000;
  }
  ldma.IF = 1u << 2; /* the DMA finished buffer 0 */
  efr32_mic_dma_irq(&mic);
  EXPECT_EQ(ldma.IF, 0);
  EXPECT_EQ(efr32_mic_read(&mic, got, EFR32_MIC_BLOCK), EFR32_MIC_BLOCK);
  EXPECT_EQ(got[7], 7);
  EXPECT_EQ(got[EFR32_MIC_BLOCK - 1], EFR32_MIC_BLOCK - 1);
  ldma.IF = 1u << 2; /* then buffer 1 */
  efr32_mic_dma_irq(&mic);
  EXPECT_EQ(efr32_mic_read(&mic, got, EFR32_MIC_BLOCK), EFR32_MIC_BLOCK);
  EXPECT_EQ(got[7], -7);
  /* Three buffers while the app sleeps (blocks 2, 3, 4): the DMA is already refilling the
   * buffers of blocks 2 and 3, so only block 4 (buffer 0) is handed over; two are counted. */
  for (int i = 0; i < 3; i++) {
    ldma.IF = 1u << 2;
    efr32_mic_dma_irq(&mic);
  }
  EXPECT_EQ(efr32_mic_read(&mic, got, EFR32_MIC_BLOCK), EFR32_MIC_BLOCK);
  EXPECT_EQ(got[7], 7);
  EXPECT_EQ(mic.overruns, 2);
  EXPECT_EQ(efr32_mic_read(&mic, got, EFR32_MIC_BLOCK), 0);
  EXPECT_EQ(efr32_mic_read(&mic, got, EFR32_MIC_BLOCK - 1), 0); /* whole blocks only */
  efr32_mic_stop(&mic);
  EXPECT_EQ(ldma.CHDIS, 1u << 2);
  EXPECT_EQ(usart.EN, 0);
  EXPECT_EQ(gpio.P[2].DOUT & (1u << 8), 0); /* microphone powered down */
}

int main(void) {
  RUN_TEST(test_clock_locks_dpll_to_78_mhz);
  RUN_TEST(test_clock_without_lock_runs_from_the_crystal);
  RUN_TEST(test_clock_without_crystal_runs_from_the_hfrco);
  RUN_TEST(test_clock_lock_failure_flag_ends_the_wait);
  RUN_TEST(test_gpio_modes_and_levels);
  RUN_TEST(test_serial_setup_and_divider);
  RUN_TEST(test_serial_ring);
  RUN_TEST(test_microphone_ping_pong);
  TEST_MAIN_END();
}
