/* ASSIGN_VARIABLE: copies input 1 into a resource variable (input 0's view is the variable,
 * see kernel_api.h). The variable keeps the value between invokes: the runtime places it in
 * the arena's persistent part, never reused by the planner. */
#include <string.h>

#include "kernels/kernel_util.h"
#include "kernels/reference_kernels.h"

namespace {

size_t no_op_data(const kws_op_context_t *) { return 0; }

kws_status_t prepare(kws_op_context_t *ctx) {
  if (ctx->n_inputs != 2 || ctx->n_outputs != 0 || !kws_is_type(ctx->inputs[0], KWS_TYPE_RESOURCE) || !ctx->inputs[1])
    return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "needs a resource and a value, and no output");
  const kws_tensor_t *var = ctx->inputs[0], *value = ctx->inputs[1];
  if (!var->data || var->bytes != value->bytes)
    return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "the value's size is not the variable's");
  return KWS_OK;
}

kws_status_t invoke(kws_op_context_t *ctx) {
  memcpy(ctx->inputs[0]->data, ctx->inputs[1]->data, ctx->inputs[1]->bytes);
  return KWS_OK;
}

}  // namespace

extern "C" const kws_kernel_t kws_kernel_assign_variable = {KWS_OP_ASSIGN_VARIABLE, "ASSIGN_VARIABLE", no_op_data,
                                                           prepare, nullptr, invoke};
