/* SUB, int8 with broadcasting and a fused activation: ADD's rescaling, the second scaled input
 * subtracted from the first (add.cc has the loop of both). */
#include "kernels/elementwise.h"
#include "kernels/reference_kernels.h"

namespace {

size_t no_op_data(const kws_op_context_t *) { return 0; }

kws_status_t invoke(kws_op_context_t *ctx) { return kws_add_sub_invoke(ctx, true); }

}  // namespace

extern "C" const kws_kernel_t kws_kernel_sub = {KWS_OP_SUB, "SUB", no_op_data, kws_add_sub_prepare, nullptr, invoke};
