/* System clock for the BRD2601B: the 39 MHz crystal (HFXO), then HFRCODPLL locked to it by
 * the DPLL at 39 MHz x 3840 / 1920 = 78 MHz. Each step waits a bounded number of polls and
 * falls back to a clock that is known to run, so a board with a dead crystal or a DPLL that
 * will not lock still boots and says so in its banner:
 *
 *   DPLL locked        HCLK 78 MHz (HFRCODPLL), PCLK 39 MHz, EM01GRPCCLK 78 MHz
 *   DPLL did not lock  HCLK 39 MHz (HFXO),      PCLK 39 MHz, EM01GRPCCLK 39 MHz (HFXO)
 *   no crystal         HCLK 19 MHz (HFRCODPLL in its factory-calibrated reset band)
 *
 * PCLK (USART0, the microphone) must stay <= 50 MHz, so it is halved before the switch to
 * 78 MHz. EM01GRPCCLK clocks EUSART1 (the VCOM port). */
#include "efr32_drivers.h"

#ifndef EFR32_POLL_HOOK
#define EFR32_POLL_HOOK() ((void)0) /* host tests observe (and drive) every poll */
#endif

static int wait_for_bits(volatile uint32_t *reg, uint32_t bits, uint32_t loops) {
  for (uint32_t i = 0; i < loops; i++) {
    EFR32_POLL_HOOK();
    if ((*reg & bits) == bits) return 1;
  }
  return 0;
}

/* The DPLL reports the end of a lock attempt in IF: LOCK, or one of the LOCKFAIL flags when
 * the HFRCO cannot reach the target (emlib waits on the same three flags). */
static int wait_for_lock(efr32_dpll_t *dpll, uint32_t loops) {
  const uint32_t fail = DPLL_IF_LOCKFAILLOW | DPLL_IF_LOCKFAILHIGH;
  for (uint32_t i = 0; i < loops; i++) {
    EFR32_POLL_HOOK();
    const uint32_t flags = dpll->IF;
    if (flags & fail) return 0;
    if (flags & DPLL_IF_LOCK) return 1;
  }
  return 0;
}

static void use_clock(efr32_cmu_t *cmu, uint32_t sysclk, uint32_t grpc, efr32_clock_t *out,
                      efr32_clock_source_t source, uint32_t hz) {
  cmu->EM01GRPCCLKCTRL = grpc;
  cmu->SYSCLKCTRL = (cmu->SYSCLKCTRL & ~(CMU_SYSCLKCTRL_CLKSEL_MASK | CMU_SYSCLKCTRL_PCLKPRESC_DIV2)) |
                    sysclk;
  out->source = source;
  out->hclk_hz = out->pclk_hz = out->eusart_hz = hz;
}

kws_status_t efr32_clock_init(efr32_cmu_t *cmu, efr32_hfxo_t *hfxo, efr32_hfrco_t *hfrco,
                              efr32_dpll_t *dpll, efr32_clock_t *out) {
  cmu->CLKEN0 |= CMU_CLKEN0_DPLL0 | CMU_CLKEN0_HFRCO0 | CMU_CLKEN0_HFXO0;
  const uint32_t calibrated = hfrco->CAL; /* the factory value for the 19 MHz band */

  /* 1. The crystal, started now rather than on the DPLL's first request, so a missing or
   *    dead one is told apart from a DPLL that does not lock. */
  hfxo->LOCK = HFXO_LOCK_UNLOCK;
  hfxo->CTRL |= HFXO_CTRL_FORCEEN;
  if (!wait_for_bits(&hfxo->STATUS, HFXO_STATUS_RDY, EFR32_WAIT_LOOPS)) {
    hfxo->CTRL &= ~HFXO_CTRL_FORCEEN;
    use_clock(cmu, CMU_SYSCLKCTRL_CLKSEL_HFRCODPLL, CMU_EM01GRPCCLKCTRL_CLKSEL_HFRCODPLL, out,
              EFR32_CLOCK_HFRCO, HFRCO_RESET_HZ);
    return KWS_ERR_TIMEOUT;
  }

  /* 2. HFRCO into the band around 78 MHz, then phase-locked to the crystal (falling edge,
   *    automatic recovery: the dev kit's own DPLL settings). PCLK is halved already, while the
   *    core still runs from the 20 MHz FSRCO. */
  cmu->SYSCLKCTRL |= CMU_SYSCLKCTRL_PCLKPRESC_DIV2;
  cmu->DPLLREFCLKCTRL = CMU_DPLLREFCLKCTRL_CLKSEL_HFXO;
  hfrco->CAL = HFRCO_CAL_80MHZ_BAND;
  dpll->LOCK = DPLL_LOCK_UNLOCK;
  dpll->EN = 0;
  dpll->CFG = DPLL_CFG_MODE_PLL | DPLL_CFG_EDGESEL_FALL | DPLL_CFG_AUTORECOVER;
  dpll->CFG1 = (EFR32_DPLL_N << DPLL_CFG1_N_SHIFT) | EFR32_DPLL_M;
  dpll->IF = 0;
  dpll->EN = DPLL_EN_EN;
  if (!wait_for_lock(dpll, EFR32_WAIT_LOOPS)) {
    dpll->EN = 0;
    hfrco->CAL = calibrated;
    use_clock(cmu, CMU_SYSCLKCTRL_CLKSEL_HFXO, CMU_EM01GRPCCLKCTRL_CLKSEL_HFXO, out,
              EFR32_CLOCK_HFXO, EFR32_HFXO_HZ);
    return KWS_ERR_TIMEOUT;
  }

  /* 3. Locked: the core and EM01GRPCCLK move to 78 MHz, PCLK stays at half. */
  cmu->EM01GRPCCLKCTRL = CMU_EM01GRPCCLKCTRL_CLKSEL_HFRCODPLL;
  cmu->SYSCLKCTRL = (cmu->SYSCLKCTRL & ~CMU_SYSCLKCTRL_CLKSEL_MASK) | CMU_SYSCLKCTRL_CLKSEL_HFRCODPLL;
  out->source = EFR32_CLOCK_DPLL;
  out->hclk_hz = EFR32_CPU_HZ;
  out->pclk_hz = EFR32_CPU_HZ / 2u;
  out->eusart_hz = EFR32_CPU_HZ;
  return KWS_OK;
}

const char *efr32_clock_name(const efr32_clock_t *clock) {
  switch (clock->source) {
    case EFR32_CLOCK_DPLL:
      return "78 MHz (39 MHz crystal, DPLL)";
    case EFR32_CLOCK_HFXO:
      return "39 MHz crystal: the DPLL did not lock";
    default:
      return "19 MHz HFRCO: the 39 MHz crystal did not start";
  }
}
