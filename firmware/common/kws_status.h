/* Status codes shared by every firmware module: explicit, never 1/0. */
#ifndef KWS_STATUS_H
#define KWS_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  KWS_OK = 0,
  KWS_ERR_ARG = 1,          /* a caller passed a bad argument */
  KWS_ERR_NO_MEMORY = 2,    /* a caller-provided buffer or arena is too small */
  KWS_ERR_MODEL_INVALID = 3,/* the model bytes are malformed */
  KWS_ERR_UNSUPPORTED = 4,  /* valid input this build cannot handle */
  KWS_ERR_IO = 5,           /* a peripheral or link failed */
  KWS_ERR_CRC = 6,          /* a checksum did not match */
  KWS_ERR_TIMEOUT = 7,
  KWS_ERR_STATE = 8,        /* called in the wrong state (not initialised, ...) */
  KWS_ERR_NOT_FOUND = 9,
} kws_status_t;

const char *kws_status_str(kws_status_t status);

#ifdef __cplusplus
}
#endif
#endif
