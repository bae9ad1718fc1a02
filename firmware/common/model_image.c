#include "model_image.h"

#include <string.h>

#include "protocol/frame.h" /* kws_crc32_update */

static uint32_t u32le(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

kws_status_t kws_model_image_open(const uint8_t *region, size_t region_size,
                                  kws_model_image_t *image) {
  if (!region || !image) return KWS_ERR_ARG;
  if (region_size < KWS_MODEL_IMAGE_HEADER_BYTES || memcmp(region, KWS_MODEL_IMAGE_MAGIC, 4) != 0)
    return KWS_ERR_NOT_FOUND;
  if (kws_crc32_update(0, region, 28) != u32le(region + 28)) return KWS_ERR_CRC;
  const uint16_t version = (uint16_t)(region[4] | (region[5] << 8));
  const uint16_t header = (uint16_t)(region[6] | (region[7] << 8));
  if (version != KWS_MODEL_IMAGE_VERSION) return KWS_ERR_UNSUPPORTED;
  const uint32_t length = u32le(region + 8);
  if (header < KWS_MODEL_IMAGE_HEADER_BYTES || header > region_size ||
      length == 0 || length > region_size - header)
    return KWS_ERR_MODEL_INVALID;
  const uint32_t crc = u32le(region + 12);
  if (kws_crc32_update(0, region + header, length) != crc) return KWS_ERR_CRC;
  image->model = region + header;
  image->length = length;
  image->crc32 = crc;
  image->version = version;
  return KWS_OK;
}

const char *kws_model_image_problem(kws_status_t status) {
  switch (status) {
    case KWS_OK: return "model image ok";
    case KWS_ERR_NOT_FOUND:
      return "no model in the model region: flash one with `kwshost flash --model M.tflite`";
    case KWS_ERR_UNSUPPORTED:
      return "the model image was written by a newer kwshost (format version): update the firmware";
    case KWS_ERR_CRC: return "the model image is damaged (CRC mismatch): flash the model again";
    case KWS_ERR_MODEL_INVALID:
      return "the model image header is inconsistent (length beyond the region): flash the model again";
    default: return "the model image could not be read";
  }
}
