/* The model image: a small header in front of a .tflite, flashed into its own region so a new
 * model can be flashed without rebuilding the firmware (both platforms; docs/protocol.md).
 *
 *   offset size
 *        0    4  magic "KWSM"
 *        4    2  format version (1), little-endian like every field
 *        6    2  header size in bytes (32); the model starts here
 *        8    4  model length in bytes
 *       12    4  CRC-32 (zlib) of the model bytes
 *       16   12  reserved, zero
 *       28    4  CRC-32 (zlib) of bytes 0..27
 *
 * The region is erased flash (0xFF) or zeroes when nothing was flashed: that reads as "no
 * model", distinct from a damaged one. host/kwshost/model_image.py writes images. */
#ifndef KWS_MODEL_IMAGE_H
#define KWS_MODEL_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "kws_status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KWS_MODEL_IMAGE_MAGIC "KWSM"
#define KWS_MODEL_IMAGE_VERSION 1
#define KWS_MODEL_IMAGE_HEADER_BYTES 32

typedef struct {
  const uint8_t *model; /* the .tflite bytes inside the region */
  uint32_t length;
  uint32_t crc32;
  uint16_t version;
} kws_model_image_t;

/* Finds and checks the image at the start of a region.
 *   KWS_ERR_NOT_FOUND      no magic (nothing flashed)
 *   KWS_ERR_UNSUPPORTED    a newer format version
 *   KWS_ERR_CRC            header or model bytes damaged
 *   KWS_ERR_MODEL_INVALID  lengths that do not fit the region */
kws_status_t kws_model_image_open(const uint8_t *region, size_t region_size,
                                  kws_model_image_t *image);

/* One line for a person, e.g. for the serial port, explaining a failed open. */
const char *kws_model_image_problem(kws_status_t status);

#ifdef __cplusplus
}
#endif
#endif
