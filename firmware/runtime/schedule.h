/* The order operators run in on the first invoke after allocate (or after a state reset):
 * subgraph 0's operators, each CALL_ONCE followed by every operator of the init subgraph it
 * names. Later invokes skip the init subgraphs; the planner gives every tensor a lifetime in
 * this order ("steps"), so tensors of an init subgraph never overlap those of subgraph 0 that
 * are alive across its CALL_ONCE. Only for a verified model (CALL_ONCE's index checked, no
 * CALL_ONCE outside subgraph 0). */
#ifndef KWS_RUNTIME_SCHEDULE_H
#define KWS_RUNTIME_SCHEDULE_H

#include "runtime/model.h"

namespace kws {

/* Calls visit(const kws_subgraph_t &g, uint32_t index, const OpRecord &op, uint32_t step) for
 * every operator in that order; stops at the first status other than KWS_OK. */
template <class Visit>
kws_status_t for_each_step(kws_interpreter_t *it, fb::Reader &r, Message &msg, Visit &&visit) {
  uint32_t step = 0;
  const kws_subgraph_t &main = it->subgraphs[0];
  for (uint32_t i = 0; i < main.n_ops; i++) {
    OpRecord op;
    kws_status_t s = read_op(r, it, main, i, &op, msg);
    if (s == KWS_OK) s = visit(main, i, op, step++);
    if (s != KWS_OK) return s;
    if (op.builtin != KWS_OP_CALL_ONCE) continue;
    kws_op_params_t params;
    s = read_params(r, op, &params, msg);
    if (s != KWS_OK) return s;
    const int32_t k = params.call_once.init_subgraph;
    if (k < 1 || k >= it->n_subgraphs) return fail(msg.op(0, i, "CALL_ONCE"), KWS_ERR_MODEL_INVALID, "bad subgraph");
    const kws_subgraph_t &init = it->subgraphs[k];
    for (uint32_t j = 0; j < init.n_ops; j++) {
      OpRecord sub;
      s = read_op(r, it, init, j, &sub, msg);
      if (s == KWS_OK) s = visit(init, j, sub, step++);
      if (s != KWS_OK) return s;
    }
  }
  return KWS_OK;
}

}  // namespace kws

#endif
