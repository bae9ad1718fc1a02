/* MAXIMUM and MINIMUM, int8 with broadcasting.
 *
 * TFLite's reference (and TFLite Micro's) compares the stored int8 values and copies the larger
 * or smaller one: no rescaling, so the result is only meaningful when both inputs and the output
 * share one quantization, which the converter gives them (it inserts a QUANTIZE where they would
 * differ). A model that breaks that rule gets what TFLite computes, not a refusal.
 */
#include "kernels/elementwise.h"
#include "kernels/reference_kernels.h"

namespace {

size_t no_op_data(const kws_op_context_t *) { return 0; }

kws_status_t invoke_maximum(kws_op_context_t *ctx) {
  kws_elementwise_int8(ctx->inputs[0], ctx->inputs[1], ctx->outputs[0],
                       [](int8_t x, int8_t y) -> int8_t { return x > y ? x : y; });
  return KWS_OK;
}

kws_status_t invoke_minimum(kws_op_context_t *ctx) {
  kws_elementwise_int8(ctx->inputs[0], ctx->inputs[1], ctx->outputs[0],
                       [](int8_t x, int8_t y) -> int8_t { return x < y ? x : y; });
  return KWS_OK;
}

}  // namespace

extern "C" const kws_kernel_t kws_kernel_maximum = {KWS_OP_MAXIMUM, "MAXIMUM", no_op_data, kws_elementwise_prepare,
                                                    nullptr, invoke_maximum};
extern "C" const kws_kernel_t kws_kernel_minimum = {KWS_OP_MINIMUM, "MINIMUM", no_op_data, kws_elementwise_prepare,
                                                    nullptr, invoke_minimum};
