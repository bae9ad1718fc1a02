/* Board features beyond platform.h that only some boards have: a microphone and a detection
 * LED. firmware/app/board_defaults.c gives weak "not here" versions, so a platform that lacks
 * them (QEMU) needs no code; firmware/platform/efr32xg24 implements them. */
#ifndef KWS_APP_BOARD_H
#define KWS_APP_BOARD_H

#include <stddef.h>
#include <stdint.h>

#include "kws_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Starts (on=1) or stops the microphone at `sample_rate` Hz. KWS_ERR_UNSUPPORTED: none. */
kws_status_t board_microphone(int on, uint32_t sample_rate);
/* Copies up to max captured samples (mono int16); 0 when none are ready. */
size_t board_microphone_read(int16_t *samples, size_t max);
/* Shows a detection (LED on for a while); called on every detection. */
void board_show_detection(uint32_t class_index);
/* Reboots the board. */
void board_reset(void);

#ifdef __cplusplus
}
#endif
#endif
