/* 78 MHz system clock: HFRCODPLL locked to the 39 MHz HFXO by the DPLL (the HFXO starts on
 * demand when the DPLL asks for its reference). PCLK is halved first: it must stay <= 50 MHz. */
#include "efr32_drivers.h"

kws_status_t efr32_clock_init(efr32_cmu_t *cmu, efr32_hfrco_t *hfrco, efr32_dpll_t *dpll) {
  cmu->CLKEN0 |= CMU_CLKEN0_DPLL0 | CMU_CLKEN0_HFRCO0 | CMU_CLKEN0_HFXO0;
  cmu->SYSCLKCTRL |= CMU_SYSCLKCTRL_PCLKPRESC_DIV2;
  /* Start the HFRCO in the band the DPLL will tune within. */
  hfrco->CAL = HFRCO_CAL_80MHZ_BAND;
  cmu->DPLLREFCLKCTRL = CMU_DPLLREFCLKCTRL_CLKSEL_HFXO;
  dpll->EN = 0;
  dpll->CFG = DPLL_CFG_MODE_PLL | DPLL_CFG_EDGESEL_FALL | DPLL_CFG_AUTORECOVER;
  dpll->CFG1 = (EFR32_DPLL_N << DPLL_CFG1_N_SHIFT) | EFR32_DPLL_M;
  dpll->IF = 0;
  dpll->EN = DPLL_EN_EN;
  for (uint32_t i = 0; !(dpll->STATUS & DPLL_STATUS_RDY); i++) {
    if (i == EFR32_WAIT_LOOPS) return KWS_ERR_TIMEOUT; /* stay on the 19 MHz FSRCO */
  }
  cmu->SYSCLKCTRL = (cmu->SYSCLKCTRL & ~CMU_SYSCLKCTRL_CLKSEL_MASK) |
                    CMU_SYSCLKCTRL_CLKSEL_HFRCODPLL;
  return KWS_OK;
}
