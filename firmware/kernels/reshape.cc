/* RESHAPE, SQUEEZE and EXPAND_DIMS: the bytes stay as they are; copied only when the planner
 * gave the output its own memory. RESHAPE's shape input, SQUEEZE's squeeze_dims and
 * EXPAND_DIMS's axis input are not needed: the output tensor already has its shape. */
#include <string.h>

#include "kernels/kernel_util.h"
#include "kernels/reference_kernels.h"

namespace {

size_t no_op_data(const kws_op_context_t *) { return 0; }

kws_status_t prepare(kws_op_context_t *ctx) {
  if (ctx->n_inputs < 1 || ctx->n_outputs < 1 || !ctx->inputs[0]) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "needs an input");
  const kws_tensor_t *in = ctx->inputs[0], *out = ctx->outputs[0];
  if (in->type != out->type) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "input and output types differ");
  if (in->bytes != out->bytes || kws_flat_size(in) != kws_flat_size(out))
    return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "input and output sizes differ");
  return KWS_OK;
}

kws_status_t invoke(kws_op_context_t *ctx) {
  const kws_tensor_t *in = ctx->inputs[0], *out = ctx->outputs[0];
  if (out->data != in->data) memmove(out->data, in->data, out->bytes);
  return KWS_OK;
}

}  // namespace

extern "C" const kws_kernel_t kws_kernel_reshape = {KWS_OP_RESHAPE, "RESHAPE", no_op_data, prepare, nullptr, invoke};
extern "C" const kws_kernel_t kws_kernel_squeeze = {KWS_OP_SQUEEZE, "SQUEEZE", no_op_data, prepare, nullptr, invoke};
extern "C" const kws_kernel_t kws_kernel_expand_dims = {KWS_OP_EXPAND_DIMS, "EXPAND_DIMS", no_op_data, prepare, nullptr,
                                                        invoke};
