/* READ_VARIABLE: copies a resource variable's value (input 0's view is the variable, see
 * kernel_api.h) into the output. The runtime checked at init that on the first invoke every
 * read comes after an assignment, and that the variable's type matches. */
#include <string.h>

#include "kernels/kernel_util.h"
#include "kernels/reference_kernels.h"

namespace {

size_t no_op_data(const kws_op_context_t *) { return 0; }

kws_status_t prepare(kws_op_context_t *ctx) {
  if (ctx->n_inputs != 1 || ctx->n_outputs != 1 || !kws_is_type(ctx->inputs[0], KWS_TYPE_RESOURCE))
    return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "needs one resource input and one output");
  const kws_tensor_t *var = ctx->inputs[0], *out = ctx->outputs[0];
  if (!var->data || var->bytes != out->bytes)
    return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "the output's size is not the variable's");
  return KWS_OK;
}

kws_status_t invoke(kws_op_context_t *ctx) {
  memcpy(ctx->outputs[0]->data, ctx->inputs[0]->data, ctx->outputs[0]->bytes);
  return KWS_OK;
}

}  // namespace

extern "C" const kws_kernel_t kws_kernel_read_variable = {KWS_OP_READ_VARIABLE, "READ_VARIABLE", no_op_data, prepare,
                                                         nullptr, invoke};
