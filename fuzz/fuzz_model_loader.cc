/* libFuzzer target over the model loader: verification, arena planning, kernel prepare, one
 * invoke, and the SL_PARAMSv1 reader, on arbitrary bytes. Any crash, hang or sanitizer report
 * is a bug: malformed models must be rejected with a status code. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernel_api.h"
#include "runtime/interpreter.h"
#include "runtime/model_params.h"

namespace {

constexpr size_t kArenaBytes = 256 * 1024; /* the EFR32xG24's whole RAM */
alignas(16) uint8_t g_arena[kArenaBytes];

void read_params(const uint8_t *model, size_t size) {
  kws_model_params_t p;
  if (kws_params_open(&p, model, size) != KWS_OK) return;
  int32_t i;
  float f;
  uint8_t b;
  const char *s;
  uint32_t n = 0, len;
  kws_params_get_int(&p, "detection_threshold", &i);
  kws_params_get_float(&p, "fe.pcan_strength", &f);
  kws_params_get_bool(&p, "fe.pcan_enable", &b);
  kws_params_get_string(&p, "name", &s, &len);
  if (kws_params_get_string_count(&p, "classes", &n) == KWS_OK)
    for (uint32_t k = 0; k < n && k < 64; k++) kws_params_get_string_at(&p, "classes", k, &s, &len);
  for (uint32_t k = 0; k < p.n_entries && k < 256; k++) kws_params_key_at(&p, k, &s, &len);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* An exact-size aligned copy, so reads past the end are caught by AddressSanitizer. */
  uint8_t *model = static_cast<uint8_t *>(aligned_alloc(16, (size + 15) & ~static_cast<size_t>(15)));
  if (!model) return 0;
  memcpy(model, data, size);
  read_params(model, size);
  static kws_op_resolver_t resolver;
  static kws_interpreter_t it;
  kws_resolver_init_reference(&resolver);
  if (kws_interp_init(&it, model, size, &resolver) == KWS_OK &&
      kws_interp_allocate(&it, g_arena, kArenaBytes) == KWS_OK) {
    kws_tensor_t in;
    for (uint32_t k = 0; kws_interp_input(&it, k, &in) == KWS_OK; k++)
      if (in.data) memset(in.data, 0x5a, in.bytes);
    kws_interp_invoke(&it);
  }
  free(model);
  return 0;
}
