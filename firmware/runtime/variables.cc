/* Resource variables: handle resolution, sizing and the read-before-assign check (variables.h). */
#include "runtime/variables.h"

#include <string.h>

#include "runtime/schedule.h"

namespace kws {
namespace {

static_assert(KWS_MAX_VARIABLES <= 32, "assigned variables are tracked in one 32-bit mask");

constexpr uint32_t kAlign = 16;

/* Bytes and length of the name string at model position `pos` (0: absent, read as ""). */
const char *name_at(fb::Reader &r, uint32_t pos, uint32_t *len) {
  *len = pos ? r.read<uint32_t>(pos - 4) : 0;
  return pos ? reinterpret_cast<const char *>(r.base() + pos) : "";
}

bool same_name(fb::Reader &r, uint32_t a, uint32_t b) {
  uint32_t la, lb;
  const char *sa = name_at(r, a, &la), *sb = name_at(r, b, &lb);
  return la == lb && memcmp(sa, sb, la) == 0;
}

/* The variable VAR_HANDLE operator `op` of `g` names: found in vars[0 .. *n), or added. */
kws_status_t variable_of_handle(fb::Reader &r, const kws_subgraph_t &g, uint32_t index, const OpRecord &op,
                                kws_variable_t *vars, uint8_t *n, uint8_t *id, Message &msg) {
  uint32_t container_len = 0, name_len = 0;
  const char *container = r.string(op.options, schema::kVarContainer, &container_len);
  const char *name = r.string(op.options, schema::kVarSharedName, &name_len);
  if (r.bad()) return fail(msg.op(g.index, index, "VAR_HANDLE"), KWS_ERR_MODEL_INVALID, "malformed variable name");
  if (!name) return fail(msg.op(g.index, index, "VAR_HANDLE"), KWS_ERR_MODEL_INVALID, "no shared_name");
  kws_variable_t key{};
  key.container = container && container_len ? (uint32_t)((const uint8_t *)container - r.base()) : 0;
  key.shared_name = (uint32_t)((const uint8_t *)name - r.base());
  for (uint8_t v = 0; v < *n; v++) {
    if (same_name(r, vars[v].container, key.container) && same_name(r, vars[v].shared_name, key.shared_name)) {
      *id = v;
      return KWS_OK;
    }
  }
  if (*n >= KWS_MAX_VARIABLES) {
    msg.op(g.index, index, "VAR_HANDLE").add("variable ").quoted(name, name_len).add(" is one more than ");
    return fail(msg.num(KWS_MAX_VARIABLES), KWS_ERR_UNSUPPORTED, " (KWS_MAX_VARIABLES)");
  }
  *id = (*n)++;
  vars[*id] = key;
  return KWS_OK;
}

/* The variable of handle tensor `tensor` of `g`: that of the VAR_HANDLE that writes it (the
 * verifier checked one does, before any operator reads it). */
kws_status_t variable_of_tensor(kws_interpreter_t *it, fb::Reader &r, const kws_subgraph_t &g, int32_t tensor,
                                kws_variable_t *vars, uint8_t *n, uint8_t *id, Message &msg) {
  for (uint32_t i = 0; i < g.n_ops; i++) {
    OpRecord op;
    kws_status_t s = read_op(r, it, g, i, &op, msg);
    if (s != KWS_OK) return s;
    if (op.builtin == KWS_OP_VAR_HANDLE && op.n_outputs == 1 && op.outputs[0] == tensor)
      return variable_of_handle(r, g, i, op, vars, n, id, msg);
  }
  return fail(msg.tensor(g.index, (uint32_t)tensor), KWS_ERR_MODEL_INVALID, "no VAR_HANDLE writes this handle");
}

}  // namespace

kws_status_t scan_variables(kws_interpreter_t *it, fb::Reader &r, kws_variable_t *vars, uint8_t *n,
                            uint32_t *bytes, uint32_t *handles, Message &msg) {
  *n = 0;
  *bytes = 0;
  /* 1. Every handle of every subgraph, in model order: the ids. */
  for (uint32_t s = 0; s < it->n_subgraphs; s++) {
    const kws_subgraph_t &g = it->subgraphs[s];
    for (uint32_t i = 0; i < g.n_ops; i++) {
      OpRecord op;
      kws_status_t st = read_op(r, it, g, i, &op, msg);
      if (st != KWS_OK) return st;
      if (op.builtin != KWS_OP_VAR_HANDLE) continue;
      uint8_t id;
      st = variable_of_handle(r, g, i, op, vars, n, &id, msg);
      if (st != KWS_OK) return st;
      if (handles) handles[g.first_tensor + (uint32_t)op.outputs[0]] = KWS_RESOURCE_SLOT + id;
    }
  }
  /* 2. The first invoke's order: the first ASSIGN sizes a variable, all later uses match it. */
  uint32_t assigned = 0;
  kws_status_t st = for_each_step(it, r, msg, [&](const kws_subgraph_t &g, uint32_t i, const OpRecord &op, uint32_t) -> kws_status_t {
    const bool is_assign = op.builtin == KWS_OP_ASSIGN_VARIABLE;
    if (!is_assign && op.builtin != KWS_OP_READ_VARIABLE) return KWS_OK;
    uint8_t id;
    kws_status_t s = variable_of_tensor(it, r, g, op.inputs[0], vars, n, &id, msg);
    if (s != KWS_OK) return s;
    kws_tensor_t value;
    s = read_tensor(r, it, g, (uint32_t)(is_assign ? op.inputs[1] : op.outputs[0]), &value, msg);
    if (s != KWS_OK) return s;
    kws_variable_t &v = vars[id];
    const char *what = is_assign ? "ASSIGN_VARIABLE" : "READ_VARIABLE";
    uint32_t name_len;
    const char *name = name_at(r, v.shared_name, &name_len);
    if (!(assigned & (1u << id))) {
      if (!is_assign) {
        msg.op(g.index, i, what).add("reads variable ").quoted(name, name_len);
        return fail(msg, KWS_ERR_MODEL_INVALID, " before any ASSIGN_VARIABLE sets it");
      }
      assigned |= 1u << id;
      v.bytes = (uint32_t)value.bytes;
      v.type = value.type;
      const bool byte_sized = value.type == KWS_TYPE_INT8 || value.type == KWS_TYPE_UINT8;
      v.fill = byte_sized && value.n_channel_scales > 0 ? (uint8_t)value.zero_point : 0;
      *bytes += (v.bytes + kAlign - 1) & ~(kAlign - 1); /* each at most 2^28 (read_tensor) */
      if (*bytes > (1u << 30)) return fail(msg.op(g.index, i, what), KWS_ERR_NO_MEMORY, "variables exceed 1 GB");
      return KWS_OK;
    }
    if (v.bytes != value.bytes || v.type != value.type) {
      msg.op(g.index, i, what).add("variable ").quoted(name, name_len);
      return fail(msg, KWS_ERR_MODEL_INVALID, " has another type or size here");
    }
    return KWS_OK;
  });
  return st;
}

void reset_variables(kws_interpreter_t *it) {
  for (uint32_t v = 0; v < it->n_variables; v++)
    memset(it->arena + it->variables[v].offset, it->variables[v].fill, it->variables[v].bytes);
  it->init_pending = 1;
}

}  // namespace kws
