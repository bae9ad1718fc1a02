/* Register blocks of the EFR32MG24 peripherals this port uses, written for this project from
 * the part's public device headers (Silicon Labs' efr32mg24_*.h, Gecko SDK): only the
 * registers we touch, at their offsets (checked by static asserts below), plus the bit
 * fields we use. Drivers take a pointer to a block, so host tests pass a fake block in RAM
 * (tests/c/test_efr32_drivers.c) and the board passes the peripheral's address.
 *
 * Where a value comes from elsewhere than those headers it says so. */
#ifndef EFR32_REGS_H
#define EFR32_REGS_H

#include <stddef.h>
#include <stdint.h>

#define EFR32_RW volatile uint32_t
#define EFR32_PAD(n) uint32_t pad_##n

/* --- CMU (efr32mg24_cmu.h) ---------------------------------------------------------------- */
typedef struct {
  EFR32_RW IPVERSION;          /* 0x000 */
  uint32_t r0[1];
  EFR32_RW STATUS;             /* 0x008 */
  uint32_t r1[22];
  EFR32_RW CLKEN0;             /* 0x064 */
  EFR32_RW CLKEN1;             /* 0x068 */
  uint32_t r2[1];
  EFR32_RW SYSCLKCTRL;         /* 0x070 */
  uint32_t r3[35];
  EFR32_RW DPLLREFCLKCTRL;     /* 0x100 */
  uint32_t r4[7];
  EFR32_RW EM01GRPACLKCTRL;    /* 0x120 */
  uint32_t r5[1];
  EFR32_RW EM01GRPCCLKCTRL;    /* 0x128 */
} efr32_cmu_t;
_Static_assert(offsetof(efr32_cmu_t, CLKEN0) == 0x064, "CMU CLKEN0");
_Static_assert(offsetof(efr32_cmu_t, SYSCLKCTRL) == 0x070, "CMU SYSCLKCTRL");
_Static_assert(offsetof(efr32_cmu_t, DPLLREFCLKCTRL) == 0x100, "CMU DPLLREFCLKCTRL");
_Static_assert(offsetof(efr32_cmu_t, EM01GRPCCLKCTRL) == 0x128, "CMU EM01GRPCCLKCTRL");

#define CMU_CLKEN0_LDMA (1u << 0)
#define CMU_CLKEN0_LDMAXBAR (1u << 1)
#define CMU_CLKEN0_USART0 (1u << 9)
#define CMU_CLKEN0_DPLL0 (1u << 17)
#define CMU_CLKEN0_HFRCO0 (1u << 18)
#define CMU_CLKEN0_HFXO0 (1u << 20)
#define CMU_CLKEN0_GPIO (1u << 26)
#define CMU_CLKEN1_EUSART1 (1u << 23)
#define CMU_CLKEN1_MVP (1u << 30)
#define CMU_SYSCLKCTRL_CLKSEL_MASK 0x7u
#define CMU_SYSCLKCTRL_CLKSEL_FSRCO 1u /* the reset value: 20 MHz */
#define CMU_SYSCLKCTRL_CLKSEL_HFRCODPLL 2u
#define CMU_SYSCLKCTRL_CLKSEL_HFXO 3u
#define CMU_SYSCLKCTRL_PCLKPRESC_DIV2 (1u << 10) /* PCLK must stay <= 50 MHz */
#define CMU_DPLLREFCLKCTRL_CLKSEL_HFXO 1u
/* EM01GRPCCLK clocks EUSART1 (and EUSART0 when EUSART0CLKCTRL selects it). */
#define CMU_EM01GRPCCLKCTRL_CLKSEL_HFRCODPLL 1u
#define CMU_EM01GRPCCLKCTRL_CLKSEL_HFXO 2u

/* --- HFXO0 (efr32mg24_hfxo.h): the 39 MHz crystal oscillator ------------------------------ */
typedef struct {
  EFR32_RW IPVERSION; /* 0x00 */
  uint32_t r0[3];
  EFR32_RW XTALCFG;   /* 0x10 */
  uint32_t r1[1];
  EFR32_RW XTALCTRL;  /* 0x18 */
  EFR32_RW XTALCTRL1; /* 0x1C */
  EFR32_RW CFG;       /* 0x20 */
  uint32_t r2[1];
  EFR32_RW CTRL;      /* 0x28 */
  uint32_t r3[9];
  EFR32_RW CMD;       /* 0x50 */
  uint32_t r4[1];
  EFR32_RW STATUS;    /* 0x58 */
  uint32_t r5[5];
  EFR32_RW IF;        /* 0x70 */
  EFR32_RW IEN;       /* 0x74 */
  uint32_t r6[2];
  EFR32_RW LOCK;      /* 0x80 */
} efr32_hfxo_t;
_Static_assert(offsetof(efr32_hfxo_t, CTRL) == 0x28, "HFXO CTRL");
_Static_assert(offsetof(efr32_hfxo_t, STATUS) == 0x58, "HFXO STATUS");
_Static_assert(offsetof(efr32_hfxo_t, LOCK) == 0x80, "HFXO LOCK");
#define HFXO_CTRL_FORCEEN (1u << 16) /* run the crystal now, not only on demand */
#define HFXO_STATUS_RDY (1u << 0)
#define HFXO_LOCK_UNLOCK 0x580Eu

/* --- DPLL0 (efr32mg24_dpll.h) -------------------------------------------------------------- */
typedef struct {
  EFR32_RW IPVERSION; /* 0x00 */
  EFR32_RW EN;        /* 0x04 */
  EFR32_RW CFG;       /* 0x08 */
  EFR32_RW CFG1;      /* 0x0C */
  EFR32_RW IF;        /* 0x10 */
  EFR32_RW IEN;       /* 0x14 */
  EFR32_RW STATUS;    /* 0x18 */
  uint32_t r0[2];
  EFR32_RW LOCK;      /* 0x24 */
} efr32_dpll_t;
_Static_assert(offsetof(efr32_dpll_t, STATUS) == 0x18, "DPLL STATUS");
_Static_assert(offsetof(efr32_dpll_t, LOCK) == 0x24, "DPLL LOCK");
#define DPLL_EN_EN (1u << 0)
#define DPLL_CFG_MODE_PLL (1u << 0) /* phase lock ("dpll-lock = phase" on the dev kit) */
/* EDGESEL: 0 = falling edge of the reference (emlib's cmuDPLLEdgeSel_Fall = 0), which is the
 * dev kit's "dpll-edge = fall"; 1 would be the rising edge. */
#define DPLL_CFG_EDGESEL_FALL (0u << 1)
#define DPLL_CFG_AUTORECOVER (1u << 2)
#define DPLL_CFG1_N_SHIFT 16
#define DPLL_IF_LOCK (1u << 0)
#define DPLL_IF_LOCKFAILLOW (1u << 1)
#define DPLL_IF_LOCKFAILHIGH (1u << 2)
#define DPLL_STATUS_RDY (1u << 0)
#define DPLL_STATUS_LOCK (1u << 31)
#define DPLL_LOCK_UNLOCK 0x7102u

/* --- HFRCO0: CAL at 0x08 (Series 2 HFRCO layout; value from emlib's 72.6-80 MHz band) ----- */
typedef struct {
  EFR32_RW IPVERSION; /* 0x00 */
  EFR32_RW CTRL;      /* 0x04 */
  EFR32_RW CAL;       /* 0x08 */
  EFR32_RW STATUS;    /* 0x0C */
} efr32_hfrco_t;
#define HFRCO_CAL_80MHZ_BAND 0xCCF09F00u
#define HFRCO_RESET_HZ 19000000u /* the band HFRCODPLL starts in after reset */

/* --- GPIO (efr32mg24_gpio.h; route offsets summed from its struct) ------------------------ */
typedef struct {
  EFR32_RW CTRL;  /* +0x00 */
  EFR32_RW MODEL; /* +0x04 pins 0..7, 4 bits each */
  uint32_t r0[1];
  EFR32_RW MODEH; /* +0x0C pins 8..15 */
  EFR32_RW DOUT;  /* +0x10 */
  EFR32_RW DIN;   /* +0x14 */
  uint32_t r1[6];
} efr32_gpio_port_t;
typedef struct {
  EFR32_RW ROUTEEN;
  EFR32_RW CSROUTE;
  EFR32_RW CTSROUTE;
  EFR32_RW RTSROUTE;
  EFR32_RW RXROUTE;
  EFR32_RW CLKROUTE; /* SCLKROUTE on EUSART */
  EFR32_RW TXROUTE;
  uint32_t r0[1];
} efr32_serial_route_t;
typedef struct {
  EFR32_RW IPVERSION;                /* 0x000 */
  uint32_t r0[11];
  efr32_gpio_port_t P[4];            /* 0x030 */
  uint32_t r1[(0x494 - 0x0F0) / 4];
  efr32_serial_route_t EUSARTROUTE[2]; /* 0x494 */
  uint32_t r2[(0x720 - 0x4D4) / 4];
  efr32_serial_route_t USARTROUTE[1];  /* 0x720 */
} efr32_gpio_t;
_Static_assert(sizeof(efr32_gpio_port_t) == 0x30, "GPIO port stride");
_Static_assert(offsetof(efr32_gpio_t, EUSARTROUTE) == 0x494, "GPIO EUSARTROUTE");
_Static_assert(offsetof(efr32_gpio_t, USARTROUTE) == 0x720, "GPIO USARTROUTE");
#define GPIO_MODE_DISABLED 0u
#define GPIO_MODE_INPUT 1u
#define GPIO_MODE_INPUTPULL 2u
#define GPIO_MODE_PUSHPULL 4u
#define GPIO_ROUTE(port, pin) ((uint32_t)(port) | ((uint32_t)(pin) << 16))
#define GPIO_ROUTEEN_CSPEN (1u << 0)
#define GPIO_ROUTEEN_RXPEN (1u << 2)
#define GPIO_ROUTEEN_CLKPEN (1u << 3)
#define GPIO_ROUTEEN_TXPEN (1u << 4)
enum { GPIO_PORT_A = 0, GPIO_PORT_B = 1, GPIO_PORT_C = 2, GPIO_PORT_D = 3 };

/* --- EUSART (efr32mg24_eusart.h) ----------------------------------------------------------- */
typedef struct {
  EFR32_RW IPVERSION;   /* 0x00 */
  EFR32_RW EN;          /* 0x04 */
  EFR32_RW CFG0;        /* 0x08 */
  EFR32_RW CFG1;        /* 0x0C */
  EFR32_RW CFG2;        /* 0x10 */
  EFR32_RW FRAMECFG;    /* 0x14 */
  EFR32_RW DTXDATCFG;   /* 0x18 */
  EFR32_RW IRHFCFG;     /* 0x1C */
  EFR32_RW IRLFCFG;     /* 0x20 */
  EFR32_RW TIMINGCFG;   /* 0x24 */
  EFR32_RW STARTFRAMECFG; /* 0x28 */
  EFR32_RW SIGFRAMECFG; /* 0x2C */
  EFR32_RW CLKDIV;      /* 0x30 */
  EFR32_RW TRIGCTRL;    /* 0x34 */
  EFR32_RW CMD;         /* 0x38 */
  EFR32_RW RXDATA;      /* 0x3C */
  EFR32_RW RXDATAP;     /* 0x40 */
  EFR32_RW TXDATA;      /* 0x44 */
  EFR32_RW STATUS;      /* 0x48 */
  EFR32_RW IF;          /* 0x4C */
  EFR32_RW IEN;         /* 0x50 */
  EFR32_RW SYNCBUSY;    /* 0x54 */
} efr32_eusart_t;
_Static_assert(offsetof(efr32_eusart_t, STATUS) == 0x48, "EUSART STATUS");
#define EUSART_EN_EN (1u << 0)
#define EUSART_CMD_RXEN (1u << 0)
#define EUSART_CMD_TXEN (1u << 2)
#define EUSART_STATUS_TXFL (1u << 6) /* TX FIFO has room */
#define EUSART_STATUS_RXFL (1u << 7) /* RX FIFO holds data */
#define EUSART_IF_RXFL (1u << 2)
#define EUSART_CLKDIV_DIV_MASK 0x007FFFF8u
#define EUSART_FRAMECFG_8N1 0x00001002u /* the reset value: 8 data bits, no parity, 1 stop */

/* --- USART0 (efr32mg24_usart.h) ------------------------------------------------------------ */
typedef struct {
  EFR32_RW IPVERSION; /* 0x00 */
  EFR32_RW EN;        /* 0x04 */
  EFR32_RW CTRL;      /* 0x08 */
  EFR32_RW FRAME;     /* 0x0C */
  EFR32_RW TRIGCTRL;  /* 0x10 */
  EFR32_RW CMD;       /* 0x14 */
  EFR32_RW STATUS;    /* 0x18 */
  EFR32_RW CLKDIV;    /* 0x1C */
  EFR32_RW RXDATAX;   /* 0x20 */
  EFR32_RW RXDATA;    /* 0x24 */
  EFR32_RW RXDOUBLEX; /* 0x28 */
  EFR32_RW RXDOUBLE;  /* 0x2C */
  uint32_t r0[6];
  EFR32_RW IF;        /* 0x48 */
  EFR32_RW IEN;       /* 0x4C */
  EFR32_RW IRCTRL;    /* 0x50 */
  EFR32_RW I2SCTRL;   /* 0x54 */
} efr32_usart_t;
_Static_assert(offsetof(efr32_usart_t, I2SCTRL) == 0x54, "USART I2SCTRL");
#define USART_EN_EN (1u << 0)
#define USART_CTRL_SYNC (1u << 0)
#define USART_CTRL_MSBF (1u << 10)
#define USART_CTRL_AUTOTX (1u << 29) /* keep transmitting (and clocking) while RX has room */
#define USART_FRAME_DATABITS_SIXTEEN 0xDu
#define USART_CMD_RXEN (1u << 0)
#define USART_CMD_RXDIS (1u << 1)
#define USART_CMD_TXEN (1u << 2)
#define USART_CMD_TXDIS (1u << 3)
#define USART_CMD_MASTEREN (1u << 4)
#define USART_CMD_MASTERDIS (1u << 5)
#define USART_I2SCTRL_EN (1u << 0)
#define USART_I2SCTRL_MONO (1u << 1)
#define USART_I2SCTRL_DELAY (1u << 4) /* I2S: data one bit after the word select edge */
#define USART_I2SCTRL_FORMAT_W32D16 (3u << 8)

/* --- LDMA and LDMAXBAR (efr32mg24_ldma.h, efr32mg24_ldmaxbar.h) -------------------------- */
typedef struct {
  uint32_t r0[1];
  EFR32_RW CFG;  /* +0x04 */
  EFR32_RW LOOP; /* +0x08 */
  EFR32_RW CTRL; /* +0x0C */
  EFR32_RW SRC;  /* +0x10 */
  EFR32_RW DST;  /* +0x14 */
  EFR32_RW LINK; /* +0x18 */
  uint32_t r1[5];
} efr32_ldma_ch_t;
typedef struct {
  EFR32_RW IPVERSION; /* 0x00 */
  EFR32_RW EN;        /* 0x04 */
  EFR32_RW CTRL;      /* 0x08 */
  EFR32_RW STATUS;    /* 0x0C */
  uint32_t r0[5];
  EFR32_RW CHEN;      /* 0x24 */
  EFR32_RW CHDIS;     /* 0x28 */
  EFR32_RW CHSTATUS;  /* 0x2C */
  EFR32_RW CHBUSY;    /* 0x30 */
  EFR32_RW CHDONE;    /* 0x34 */
  uint32_t r1[4];
  EFR32_RW LINKLOAD;  /* 0x48 */
  EFR32_RW REQCLEAR;  /* 0x4C */
  EFR32_RW IF;        /* 0x50 */
  EFR32_RW IEN;       /* 0x54 */
  efr32_ldma_ch_t CH[8]; /* 0x58 */
} efr32_ldma_t;
_Static_assert(offsetof(efr32_ldma_t, CHEN) == 0x24, "LDMA CHEN");
_Static_assert(offsetof(efr32_ldma_t, IF) == 0x50, "LDMA IF");
_Static_assert(offsetof(efr32_ldma_t, CH) == 0x58 && sizeof(efr32_ldma_ch_t) == 0x30, "LDMA CH");
typedef struct {
  EFR32_RW IPVERSION;
  EFR32_RW REQSEL[8]; /* CH[n].REQSEL */
} efr32_ldmaxbar_t;
#define LDMAXBAR_SOURCESEL_USART0 (4u << 16)
#define LDMAXBAR_SIGSEL_USART0_RXDATAV 0u

/* An LDMA transfer descriptor (4 words in RAM, read by the DMA engine). */
typedef struct {
  uint32_t ctrl, src, dst, link;
} efr32_ldma_desc_t;
#define LDMA_DESC_XFERCNT_SHIFT 4          /* transfers - 1 */
#define LDMA_DESC_DONEIEN (1u << 20)       /* set the channel's DONE flag when finished */
#define LDMA_DESC_REQMODE_BLOCK 0u
#define LDMA_DESC_SRCINC_NONE (3u << 24)
#define LDMA_DESC_SIZE_HALFWORD (1u << 26)
#define LDMA_DESC_DSTINC_ONE (0u << 28)
#define LDMA_DESC_LINK (1u << 1)           /* load the linked descriptor when done */

/* --- Addresses (efr32mg24b310f1536im48.h, secure aliases) and IRQ numbers ---------------- */
#define EFR32_CMU_BASE 0x40008000u
#define EFR32_HFRCO0_BASE 0x40010000u
#define EFR32_HFXO0_BASE 0x4A004000u
#define EFR32_DPLL0_BASE 0x4001C000u
#define EFR32_GPIO_BASE 0x4003C000u
#define EFR32_LDMA_BASE 0x40040000u
#define EFR32_LDMAXBAR_BASE 0x40044000u
#define EFR32_USART0_BASE 0x4005C000u
#define EFR32_EUSART1_BASE 0x400A0000u
#define EFR32_EUSART1_RX_IRQ 13
#define EFR32_LDMA_IRQ 21

#endif
