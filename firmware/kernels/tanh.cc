/* TANH, int8 in and out (the converter gives the output scale 1/128, zero point 0; the table
 * takes any). Two arithmetics (squash.h):
 *  - TFLite (default flavor): the float table of tanhf(x), as its BUILTIN_REF kernel builds;
 *  - TFLite Micro: gemmlowp's fixed-point tanh of the Q4.27 input, rounded to Q0.7.
 */
#include "kernels/reference_kernels.h"
#include "kernels/squash.h"

namespace {

size_t no_op_data(const kws_op_context_t *) { return 0; }
size_t scratch_size(const kws_op_context_t *) { return 256; }

kws_status_t prepare(kws_op_context_t *ctx) {
  kws_status_t st = kws_check_int8_unary(ctx);
  if (st != KWS_OK) return st;
  const kws_tensor_t *in = ctx->inputs[0];
  kws_squash_input_t p;
  if (kws_kernels_flavor() == KWS_FLAVOR_TFLM && !kws_squash_input(in, &p))
    return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "input scale out of the supported range");
  return KWS_OK;
}

kws_status_t invoke(kws_op_context_t *ctx) {
  const kws_tensor_t *in = ctx->inputs[0], *out = ctx->outputs[0];
  if (kws_kernels_flavor() == KWS_FLAVOR_TFLITE) {
    kws_squash_by_table(in, out, static_cast<int8_t *>(ctx->scratch), [](float x) { return tanhf(x); });
    return KWS_OK;
  }
  kws_squash_input_t p;
  if (!kws_squash_input(in, &p)) return KWS_ERR_UNSUPPORTED;
  kws_squash_fixed_point(in, out, p, -128, 127, [](int32_t q4) -> int8_t {
    const int32_t q0 = kws_tanh_fx(q4, kKwsSquashInputIntegerBits);
    return (int8_t)kws_clamp_i32(kws_rounding_divide_by_pot(q0, 24), -128, 127);
  });
  return KWS_OK;
}

}  // namespace

extern "C" const kws_kernel_t kws_kernel_tanh = {KWS_OP_TANH, "TANH", no_op_data, prepare, scratch_size, invoke};
