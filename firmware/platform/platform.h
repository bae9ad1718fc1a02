/* The few hooks the app needs from a board: one folder per target implements them
 * (firmware/platform/<target>/). Everything else in the firmware is portable. */
#ifndef KWS_PLATFORM_H
#define KWS_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Clocks, serial port, timers. Called once at boot. */
void platform_init(void);
/* Board name shown in the banner, e.g. "qemu mps2-an505". */
const char *platform_board_name(void);

/* Serial link. write blocks until queued; read returns what has arrived (0..max). */
void platform_serial_write(const uint8_t *data, size_t len);
size_t platform_serial_read(uint8_t *data, size_t max);

/* Sleep until an interrupt (new serial bytes, audio, timer). */
void platform_wait_for_interrupt(void);

/* A free-running counter for profiling and its unit: CPU cycles on the EFR32 (DWT), virtual
 * time in instructions on QEMU with -icount (see platform_counter_unit). */
uint32_t platform_counter(void);
const char *platform_counter_unit(void);

/* The flash region that holds a model image (header + .tflite), flashed separately. */
const uint8_t *platform_model_region(size_t *size);

/* Stop: semihosting exit on QEMU, reset on the board. */
void platform_exit(int code);

#ifdef __cplusplus
}
#endif
#endif
