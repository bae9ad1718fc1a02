#include "kws_status.h"

const char *kws_status_str(kws_status_t status) {
  switch (status) {
    case KWS_OK: return "ok";
    case KWS_ERR_ARG: return "bad argument";
    case KWS_ERR_NO_MEMORY: return "buffer too small";
    case KWS_ERR_MODEL_INVALID: return "malformed model";
    case KWS_ERR_UNSUPPORTED: return "unsupported";
    case KWS_ERR_IO: return "i/o error";
    case KWS_ERR_CRC: return "checksum mismatch";
    case KWS_ERR_TIMEOUT: return "timeout";
    case KWS_ERR_STATE: return "wrong state";
    case KWS_ERR_NOT_FOUND: return "not found";
  }
  return "unknown status";
}
