/* VAR_HANDLE: names a resource variable (container, shared_name). The runtime resolves every
 * handle to its variable when it allocates (runtime/variables.h) and shows the handle tensor as
 * the variable itself, so nothing is left to do when the operator runs. */
#include "kernels/kernel_util.h"
#include "kernels/reference_kernels.h"

namespace {

size_t no_op_data(const kws_op_context_t *) { return 0; }

kws_status_t prepare(kws_op_context_t *ctx) {
  if (ctx->n_inputs != 0 || ctx->n_outputs != 1 || !kws_is_type(ctx->outputs[0], KWS_TYPE_RESOURCE))
    return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "needs no input and one resource output");
  return KWS_OK;
}

kws_status_t invoke(kws_op_context_t *) { return KWS_OK; }

}  // namespace

extern "C" const kws_kernel_t kws_kernel_var_handle = {KWS_OP_VAR_HANDLE, "VAR_HANDLE", no_op_data, prepare, nullptr,
                                                      invoke};
