/* The interpreter: verification at init, arena planning at allocate, the operator loop. */
#include "runtime/interpreter.h"

#include <string.h>

#include "runtime/model.h"
#include "runtime/planner.h"
#include "runtime/schedule.h"
#include "runtime/variables.h"

namespace kws {
namespace {

constexpr uint32_t kAlign = 16;
constexpr uint32_t kUnset = 0xffff;
constexpr uint64_t kMaxArena = 1u << 31;

size_t align_up(size_t v) { return (v + kAlign - 1) & ~(size_t)(kAlign - 1); }

bool bit(const uint8_t *bits, uint32_t i) { return (bits[i >> 3] >> (i & 7)) & 1; }
void set_bit(uint8_t *bits, uint32_t i) { bits[i >> 3] |= (uint8_t)(1u << (i & 7)); }

Message message_of(kws_interpreter_t *it) { return Message(it->message, sizeof(it->message)); }

/* CALL_ONCE is control flow, not arithmetic: the interpreter runs its init subgraph itself
 * (run_subgraph), so it needs no resolver entry; this table gives it a name and a prepare. */
size_t no_op_data(const kws_op_context_t *) { return 0; }
kws_status_t nothing_to_do(kws_op_context_t *) { return KWS_OK; }
const kws_kernel_t kCallOnce = {KWS_OP_CALL_ONCE, "CALL_ONCE", no_op_data, nothing_to_do, nullptr, nothing_to_do};

const kws_kernel_t *find_kernel(const kws_interpreter_t *it, uint16_t builtin) {
  return builtin == KWS_OP_CALL_ONCE ? &kCallOnce : kws_resolver_find(it->resolver, builtin);
}

/* How many leading inputs an operator must have (present, not -1); later ones are optional
 * (a bias, RESHAPE's shape tensor). Kernels may then rely on these pointers. */
uint8_t required_inputs(uint16_t builtin, uint8_t n_inputs) {
  switch (builtin) {
    case KWS_OP_CONV_2D:
    case KWS_OP_DEPTHWISE_CONV_2D:
    case KWS_OP_FULLY_CONNECTED:
    case KWS_OP_ADD:
    case KWS_OP_MUL:
    case KWS_OP_SUB:
    case KWS_OP_MAXIMUM:
    case KWS_OP_MINIMUM:
    case KWS_OP_MEAN:
    case KWS_OP_REDUCE_MAX:
    case KWS_OP_TRANSPOSE:
    case KWS_OP_ASSIGN_VARIABLE:
    case KWS_OP_PAD: return 2;
    case KWS_OP_SPLIT_V: return 3;
    case KWS_OP_STRIDED_SLICE: return 4;
    case KWS_OP_VAR_HANDLE:
    case KWS_OP_CALL_ONCE: return 0;
    case KWS_OP_CONCATENATION: return n_inputs > 0 ? n_inputs : 1;
    default: return 1;
  }
}

/* The operators with a fixed number of inputs and outputs; every other one has outputs. */
bool arity_ok(uint16_t builtin, uint8_t n_inputs, uint8_t n_outputs) {
  switch (builtin) {
    case KWS_OP_VAR_HANDLE: return n_inputs == 0 && n_outputs == 1;
    case KWS_OP_READ_VARIABLE: return n_inputs == 1 && n_outputs == 1;
    case KWS_OP_ASSIGN_VARIABLE: return n_inputs == 2 && n_outputs == 0;
    case KWS_OP_CALL_ONCE: return n_inputs == 0 && n_outputs == 0;
    default: return n_outputs >= 1;
  }
}

/* Whether input (or output) k of an operator is a resource handle; nowhere else may one go. */
bool takes_handle(uint16_t builtin, bool input, uint32_t k) {
  if (input) return k == 0 && (builtin == KWS_OP_READ_VARIABLE || builtin == KWS_OP_ASSIGN_VARIABLE);
  return k == 0 && builtin == KWS_OP_VAR_HANDLE;
}

/* Points the view of tensor `global` (an index into the arena's tables) at its bytes: an
 * activation at its planned place (once planned), a handle at its variable's value. */
void place(const kws_interpreter_t *it, uint32_t global, kws_tensor_t *view) {
  const uint32_t at = it->tensor_offset[global];
  if (at < KWS_RESOURCE_SLOT) {
    view->data = it->arena + at;
  } else if (at != UINT32_MAX) {
    const kws_variable_t &v = it->variables[at - KWS_RESOURCE_SLOT];
    view->data = it->arena + v.offset;
    view->bytes = v.bytes;
  }
}

/* Fills it->ctx for operator `index` of `g`: tensor views (data NULL for activations until the
 * arena is planned), options, op data and scratch pointers. With `named`, the message starts
 * with "operator i (NAME): " and the kernel writes its reason after it (init, allocate,
 * op_info); without, the kernel gets the whole message buffer and the caller names the
 * operator only if the kernel fails (invoke: no message text formatted per operator). */
template <class R>
kws_status_t build_context(kws_interpreter_t *it, R &r, const kws_subgraph_t &g, uint32_t index,
                           const OpRecord &op, const kws_kernel_t *kernel, Message &msg, bool named = true) {
  kws_op_context_t &ctx = it->ctx;
  memset(&ctx, 0, sizeof(ctx));
  ctx.op_index = (uint16_t)index;
  ctx.builtin_code = op.builtin;
  ctx.n_inputs = op.n_inputs;
  ctx.n_outputs = op.n_outputs;
  uint32_t v = 0;
  for (uint32_t i = 0; i < (uint32_t)op.n_inputs + op.n_outputs; i++) {
    const bool is_input = i < op.n_inputs;
    const int32_t t = is_input ? op.inputs[i] : op.outputs[i - op.n_inputs];
    kws_tensor_t *view = nullptr;
    if (t >= 0) {
      view = &it->views[v++];
      kws_status_t s = read_tensor(r, it, g, (uint32_t)t, view, msg);
      if (s != KWS_OK) return s;
      if (!view->is_constant && it->tensor_offset) place(it, g.first_tensor + (uint32_t)t, view);
    }
    if (is_input)
      ctx.inputs[i] = view;
    else
      ctx.outputs[i - op.n_inputs] = view;
  }
  if (named) msg.op(g.index, index, kernel ? kernel->name : kws_builtin_name(op.builtin));
  kws_status_t s = read_params(r, op, &ctx.params, msg);
  if (s != KWS_OK) return s;
  const uint32_t slot = g.first_op + index;
  if (it->op_slots && it->op_slots[slot].op_data_offset) ctx.op_data = it->arena + it->op_slots[slot].op_data_offset;
  if (it->allocated) ctx.scratch = it->arena + it->op_slots[slot].scratch_offset;
  ctx.message = msg.tail();
  ctx.message_len = msg.room();
  return KWS_OK;
}

/* Checks one subgraph: every tensor, its inputs and outputs, and every operator (a kernel for
 * it, its options, its inputs written before they are read, handles only where they belong,
 * CALL_ONCE only in subgraph 0, naming each init subgraph once). `called` collects the init
 * subgraphs named so far. */
kws_status_t verify_graph(kws_interpreter_t *it, fb::Reader &r, const kws_subgraph_t &g, uint32_t *called,
                          Message &msg) {
  uint8_t defined[KWS_MAX_TENSORS / 8];
  uint8_t constant[KWS_MAX_TENSORS / 8];
  uint8_t handle[KWS_MAX_TENSORS / 8];
  memset(defined, 0, sizeof(defined));
  memset(constant, 0, sizeof(constant));
  memset(handle, 0, sizeof(handle));
  for (uint32_t t = 0; t < g.n_tensors; t++) {
    kws_tensor_t view;
    kws_status_t s = read_tensor(r, it, g, t, &view, msg);
    if (s != KWS_OK) return s;
    if (view.is_constant) {
      set_bit(defined, t);
      set_bit(constant, t);
    }
    if (view.type == KWS_TYPE_RESOURCE) set_bit(handle, t);
  }
  if (g.index == 0 && (g.n_inputs == 0 || g.n_outputs == 0))
    return fail(msg.clear().add("model: "), KWS_ERR_UNSUPPORTED, "the graph needs 1 to 255 inputs and outputs");
  for (uint32_t i = 0; i < g.n_inputs; i++) {
    int32_t t = r.read<int32_t>(g.inputs_vec + 4 * i);
    if (t < 0 || t >= (int32_t)g.n_tensors || bit(constant, (uint32_t)t) || bit(handle, (uint32_t)t))
      return fail(msg.in(g.index).add("model: "), KWS_ERR_MODEL_INVALID, "a graph input is out of range, constant or a handle");
    set_bit(defined, (uint32_t)t);
  }

  for (uint32_t i = 0; i < g.n_ops; i++) {
    OpRecord op;
    kws_status_t s = read_op(r, it, g, i, &op, msg);
    if (s != KWS_OK) return s;
    const kws_kernel_t *kernel = find_kernel(it, op.builtin);
    if (!kernel) {
      msg.op(g.index, i, kws_builtin_name(op.builtin)).add("builtin operator ").num(op.builtin);
      return fail(msg, KWS_ERR_UNSUPPORTED, " has no kernel in this build");
    }
    msg.op(g.index, i, kernel->name);
    s = read_params(r, op, &it->ctx.params, msg);
    if (s != KWS_OK) return s;
    if (!arity_ok(op.builtin, op.n_inputs, op.n_outputs)) {
      msg.op(g.index, i, kernel->name).add("has ").num(op.n_inputs).add(" inputs and ").num(op.n_outputs);
      return fail(msg, KWS_ERR_MODEL_INVALID, " outputs");
    }
    const uint8_t required = required_inputs(op.builtin, op.n_inputs);
    if (op.n_inputs < required) {
      msg.op(g.index, i, kernel->name).add("has ").num(op.n_inputs).add(" inputs, needs ").num(required);
      return KWS_ERR_MODEL_INVALID;
    }
    for (uint32_t k = 0; k < op.n_inputs; k++) {
      int32_t t = op.inputs[k];
      if (t < 0 && k < required) {
        msg.op(g.index, i, kernel->name).add("required input ").num(k);
        return fail(msg, KWS_ERR_MODEL_INVALID, " is missing");
      }
      if (t >= 0 && !bit(defined, (uint32_t)t)) {
        msg.op(g.index, i, kernel->name).add("input ").num(k).add(" (tensor ").num(t);
        return fail(msg, KWS_ERR_MODEL_INVALID, ") is read before any operator writes it");
      }
      if (t >= 0 && bit(handle, (uint32_t)t) != takes_handle(op.builtin, true, k)) {
        msg.op(g.index, i, kernel->name).add("input ").num(k).add(" (tensor ").num(t);
        return fail(msg, KWS_ERR_MODEL_INVALID, bit(handle, (uint32_t)t) ? ") is a resource handle" : ") is not a resource handle");
      }
    }
    for (uint32_t k = 0; k < op.n_outputs; k++) {
      uint32_t t = (uint32_t)op.outputs[k];
      if (bit(defined, t)) {
        msg.op(g.index, i, kernel->name).add("output tensor ").num(t);
        return fail(msg, KWS_ERR_MODEL_INVALID, " is constant, a graph input or written twice");
      }
      if (bit(handle, t) != takes_handle(op.builtin, false, k)) {
        msg.op(g.index, i, kernel->name).add("output tensor ").num(t);
        return fail(msg, KWS_ERR_MODEL_INVALID, bit(handle, t) ? " is a resource handle" : " is not a resource handle");
      }
      set_bit(defined, t);
    }
    if (op.builtin == KWS_OP_CALL_ONCE) {
      const int32_t k = it->ctx.params.call_once.init_subgraph;
      msg.op(g.index, i, kernel->name);
      if (g.index != 0) return fail(msg, KWS_ERR_UNSUPPORTED, "CALL_ONCE outside subgraph 0");
      if (k < 1 || k >= it->n_subgraphs) {
        msg.add("names subgraph ").num(k).add("; the model has ").num(it->n_subgraphs);
        return KWS_ERR_MODEL_INVALID;
      }
      if (*called & (1u << k)) return fail(msg.add("subgraph ").num(k), KWS_ERR_UNSUPPORTED, " is named by a second CALL_ONCE");
      if (it->subgraphs[k].n_inputs || it->subgraphs[k].n_outputs)
        return fail(msg.add("init subgraph ").num(k), KWS_ERR_MODEL_INVALID, " has inputs or outputs");
      *called |= 1u << k;
    }
  }
  for (uint32_t i = 0; i < g.n_outputs; i++) {
    int32_t t = r.read<int32_t>(g.outputs_vec + 4 * i);
    if (t < 0 || t >= (int32_t)g.n_tensors || !bit(defined, (uint32_t)t) || bit(handle, (uint32_t)t))
      return fail(msg.in(g.index).add("model: "), KWS_ERR_MODEL_INVALID, "a graph output is out of range, never written or a handle");
  }
  return r.bad() ? fail(msg.in(g.index).add("model: "), KWS_ERR_MODEL_INVALID, "malformed graph") : KWS_OK;
}

/* Reads the tables of subgraph `index` into it->subgraphs[index]; its tensors and operators
 * follow those of the subgraphs before it in the arena's tables. */
kws_status_t read_subgraph(kws_interpreter_t *it, fb::Reader &r, const fb::Vector &subgraphs, uint32_t index,
                           Message &msg) {
  fb::Table sg = r.table_in(subgraphs, index);
  fb::Vector tensors = r.vector(sg, schema::kSgTensors, 4, 4);
  fb::Vector operators = r.vector(sg, schema::kSgOperators, 4, 4);
  fb::Vector inputs = r.vector(sg, schema::kSgInputs, 4, 4);
  fb::Vector outputs = r.vector(sg, schema::kSgOutputs, 4, 4);
  if (r.bad()) return fail(msg.in(index).add("model: "), KWS_ERR_MODEL_INVALID, "malformed subgraph");
  if (tensors.count > KWS_MAX_TENSORS - (uint32_t)it->n_tensors_all || operators.count > KWS_MAX_OPS - (uint32_t)it->n_ops_all)
    return fail(msg.clear().add("model: "), KWS_ERR_UNSUPPORTED, "too many tensors or operators");
  if (inputs.count > 255 || outputs.count > 255)
    return fail(msg.in(index).add("model: "), KWS_ERR_UNSUPPORTED, "more than 255 graph inputs or outputs");
  kws_subgraph_t &g = it->subgraphs[index];
  g.tensors_vec = tensors.first;
  g.operators_vec = operators.first;
  g.inputs_vec = inputs.first;
  g.outputs_vec = outputs.first;
  g.n_tensors = (uint16_t)tensors.count;
  g.n_ops = (uint16_t)operators.count;
  g.first_tensor = it->n_tensors_all;
  g.first_op = it->n_ops_all;
  g.n_inputs = (uint8_t)inputs.count;
  g.n_outputs = (uint8_t)outputs.count;
  g.index = (uint8_t)index;
  it->n_tensors_all = (uint16_t)(it->n_tensors_all + tensors.count);
  it->n_ops_all = (uint16_t)(it->n_ops_all + operators.count);
  return KWS_OK;
}

/* Verifies the whole model once the root table is read (kws_interp_init). */
kws_status_t verify_model(kws_interpreter_t *it, fb::Reader &r, const fb::Vector &subgraphs, Message &msg) {
  if (subgraphs.count < 1) return fail(msg, KWS_ERR_MODEL_INVALID, "model: no subgraph");
  if (subgraphs.count > KWS_MAX_SUBGRAPHS) {
    msg.add("model: ").num(subgraphs.count).add(" subgraphs, this runtime takes at most ").num(KWS_MAX_SUBGRAPHS);
    return fail(msg, KWS_ERR_UNSUPPORTED, " (KWS_MAX_SUBGRAPHS)");
  }
  for (uint32_t s = 0; s < subgraphs.count; s++) {
    kws_status_t st = read_subgraph(it, r, subgraphs, s, msg);
    if (st != KWS_OK) return st;
    it->n_subgraphs = (uint8_t)(s + 1);
  }
  const kws_subgraph_t &main = it->subgraphs[0];
  it->n_tensors = main.n_tensors;
  it->n_ops = main.n_ops;
  it->n_inputs = main.n_inputs;
  it->n_outputs = main.n_outputs;
  uint32_t called = 0;
  for (uint32_t s = 0; s < it->n_subgraphs; s++) {
    kws_status_t st = verify_graph(it, r, it->subgraphs[s], &called, msg);
    if (st != KWS_OK) return st;
  }
  kws_variable_t vars[KWS_MAX_VARIABLES];
  uint32_t bytes = 0;
  kws_status_t st = scan_variables(it, r, vars, &it->n_variables, &bytes, nullptr, msg);
  it->variable_bytes = bytes;
  return st;
}

int32_t graph_tensor(kws_interpreter_t *it, fb::Reader &r, bool input, uint32_t index) {
  const kws_subgraph_t &g = it->subgraphs[0];
  uint32_t n = input ? g.n_inputs : g.n_outputs;
  if (index >= n) return -1;
  return r.read<int32_t>((input ? g.inputs_vec : g.outputs_vec) + 4 * index);
}

kws_status_t graph_view(kws_interpreter_t *it, bool input, uint32_t index, kws_tensor_t *view) {
  if (!it || !view || !it->model || !it->n_subgraphs) return KWS_ERR_ARG;
  fb::Reader r = reader_of(it);
  int32_t t = graph_tensor(it, r, input, index);
  if (t < 0) return KWS_ERR_ARG;
  return kws_interp_tensor(it, (uint32_t)t, view);
}

/* Runs the operators of `g` in order. In subgraph 0 the hook is called around each operator,
 * and a CALL_ONCE runs its init subgraph while it->init_pending is set (the hook's time for
 * the CALL_ONCE covers it). */
kws_status_t run_subgraph(kws_interpreter_t *it, fb::Trusted &r, const kws_subgraph_t &g, Message &msg) {
  const bool hooked = it->hook && g.index == 0;
  OpRecord op;
  for (uint32_t i = 0; i < g.n_ops; i++) {
    kws_status_t s = read_op(r, it, g, i, &op, msg);
    if (s != KWS_OK) return s;
    const kws_kernel_t *kernel = it->op_slots[g.first_op + i].kernel;
    s = build_context(it, r, g, i, op, kernel, msg, false);
    if (s != KWS_OK) return s;
    if (hooked) it->hook(it->hook_user, (uint16_t)i, KWS_HOOK_BEFORE);
    const bool call_once = op.builtin == KWS_OP_CALL_ONCE;
    if (call_once)
      s = it->init_pending ? run_subgraph(it, r, it->subgraphs[it->ctx.params.call_once.init_subgraph], msg) : KWS_OK;
    else
      s = kernel->invoke(&it->ctx);
    if (hooked) it->hook(it->hook_user, (uint16_t)i, KWS_HOOK_AFTER);
    if (s != KWS_OK) {
      if (call_once) return s; /* the message already names the init subgraph's operator */
      char reason[KWS_MESSAGE_LEN]; /* the kernel's text, now prefixed with the operator */
      memcpy(reason, it->message, sizeof(reason));
      reason[sizeof(reason) - 1] = 0;
      msg.op(g.index, i, kernel->name).add(reason[0] ? reason : "kernel failed");
      return s;
    }
  }
  return KWS_OK;
}

}  // namespace
}  // namespace kws

using namespace kws;

extern "C" kws_status_t kws_interp_init(kws_interpreter_t *it, const void *model, size_t model_len,
                                        const kws_op_resolver_t *resolver) {
  if (!it) return KWS_ERR_ARG;
  memset(it, 0, sizeof(*it));
  Message msg = message_of(it);
  if (!model || !resolver) return fail(msg, KWS_ERR_ARG, "no model or resolver");
  if (((uintptr_t)model & 3u) != 0) return fail(msg, KWS_ERR_ARG, "the model must be 4-byte aligned");
  if (model_len < 16 || model_len > 0x7fffffffu) return fail(msg, KWS_ERR_MODEL_INVALID, "model: size out of range");
  it->model = static_cast<const uint8_t *>(model);
  it->model_len = (uint32_t)model_len;
  it->resolver = resolver;
  if (memcmp(it->model + 4, "TFL3", 4) != 0)
    return fail(msg, KWS_ERR_MODEL_INVALID, "model: not a .tflite flatbuffer (no TFL3 identifier)");
  fb::Reader r = reader_of(it);
  fb::Table root = r.root();
  uint32_t version = r.scalar<uint32_t>(root, schema::kModelVersion, 0);
  fb::Vector codes = r.vector(root, schema::kModelOpcodes, 4, 4);
  fb::Vector subgraphs = r.vector(root, schema::kModelSubgraphs, 4, 4);
  fb::Vector buffers = r.vector(root, schema::kModelBuffers, 4, 4);
  if (r.bad()) return fail(msg, KWS_ERR_MODEL_INVALID, "model: malformed root table");
  if (version != 3) {
    msg.add("model: schema version ").num(version);
    return fail(msg, KWS_ERR_UNSUPPORTED, " (this runtime reads version 3)");
  }
  if (codes.count > 0xffff) return fail(msg, KWS_ERR_UNSUPPORTED, "model: too many operator codes");
  it->opcodes_vec = codes.first;
  it->buffers_vec = buffers.first;
  it->n_opcodes = (uint16_t)codes.count;
  it->n_buffers = buffers.count;
  kws_status_t s = verify_model(it, r, subgraphs, msg);
  if (s != KWS_OK) {
    it->n_subgraphs = 0; /* an unverified model can never run */
    it->n_ops = 0;
    it->n_tensors = 0;
    return s;
  }
  msg.clear();
  return KWS_OK;
}

extern "C" kws_status_t kws_interp_allocate(kws_interpreter_t *it, void *arena, size_t arena_len) {
  if (!it || !it->model || !it->n_subgraphs) return KWS_ERR_STATE;
  Message msg = message_of(it);
  if (!arena) return fail(msg, KWS_ERR_ARG, "no arena");
  it->allocated = 0;
  it->op_slots = nullptr;
  it->tensor_offset = nullptr;
  it->variables = nullptr;
  uint8_t *base = static_cast<uint8_t *>(arena);
  size_t skip = (kAlign - ((uintptr_t)base & (kAlign - 1))) & (kAlign - 1);
  size_t usable = arena_len > skip ? arena_len - skip : 0;
  base += skip;
  fb::Reader r = reader_of(it);
  const uint32_t n_tensors = it->n_tensors_all, n_ops = it->n_ops_all;

  /* 1. Persistent part at the arena's tail: variable values, tensor offsets, op slots, the
   *    variable table, each kernel's op data (for the operators that run). */
  const size_t offsets_bytes = align_up((size_t)n_tensors * 4), slots_bytes = align_up((size_t)n_ops * sizeof(kws_op_slot_t));
  const size_t tables = it->variable_bytes + offsets_bytes + slots_bytes + align_up((size_t)it->n_variables * sizeof(kws_variable_t));
  size_t persistent = tables;
  kws_status_t s = for_each_step(it, r, msg, [&](const kws_subgraph_t &g, uint32_t i, const OpRecord &op, uint32_t) -> kws_status_t {
    const kws_kernel_t *kernel = find_kernel(it, op.builtin);
    kws_status_t st = build_context(it, r, g, i, op, kernel, msg);
    if (st != KWS_OK) return st;
    size_t bytes = kernel->op_data_size ? kernel->op_data_size(&it->ctx) : 0;
    if (bytes > kMaxArena) return fail(msg, KWS_ERR_NO_MEMORY, "op data size out of range");
    persistent += align_up(bytes);
    return KWS_OK;
  });
  if (s != KWS_OK) return s;
  size_t work = ((size_t)n_tensors + n_ops) * (sizeof(kws_plan_buffer_t) + 2 * sizeof(uint16_t)) + kAlign;
  it->arena_needed = persistent + work;
  if (persistent + work > usable) {
    msg.clear().add("arena too small: needs at least ").num((int64_t)it->arena_needed).add(" bytes");
    return KWS_ERR_NO_MEMORY;
  }
  size_t tail = (usable - persistent) & ~(size_t)(kAlign - 1);
  it->arena = base;
  it->arena_len = usable;
  it->tensor_offset = reinterpret_cast<uint32_t *>(base + tail + it->variable_bytes);
  it->op_slots = reinterpret_cast<kws_op_slot_t *>(base + tail + it->variable_bytes + offsets_bytes);
  it->variables = reinterpret_cast<kws_variable_t *>(base + tail + it->variable_bytes + offsets_bytes + slots_bytes);
  size_t data_at = tail + tables;
  for (uint32_t t = 0; t < n_tensors; t++) it->tensor_offset[t] = UINT32_MAX;
  for (uint32_t i = 0; i < n_ops; i++) it->op_slots[i] = kws_op_slot_t{nullptr, 0, 0};

  /* 2. Variables: every handle resolved, each value placed (the same scan init did). */
  uint8_t n_variables = 0;
  uint32_t variable_bytes = 0;
  s = scan_variables(it, r, it->variables, &n_variables, &variable_bytes, it->tensor_offset, msg);
  if (s != KWS_OK) return s;
  if (n_variables != it->n_variables || variable_bytes != it->variable_bytes)
    return fail(msg.clear(), KWS_ERR_STATE, "the model changed since kws_interp_init");
  size_t value_at = tail;
  for (uint32_t v = 0; v < n_variables; v++) {
    it->variables[v].offset = (uint32_t)value_at;
    value_at += align_up(it->variables[v].bytes);
  }

  /* 3. Prepare every kernel that runs (activation data not placed yet) and collect scratch
   *    sizes and lifetimes, in steps of the first invoke's order. */
  kws_plan_buffer_t *plan = reinterpret_cast<kws_plan_buffer_t *>(base + ((tail - work) & ~(size_t)(kAlign - 1)));
  uint16_t *order = reinterpret_cast<uint16_t *>(plan + n_tensors + n_ops);
  for (uint32_t i = 0; i < n_tensors + n_ops; i++) plan[i] = kws_plan_buffer_t{0, kUnset, 0, 0};
  uint32_t last_step = 0;
  s = for_each_step(it, r, msg, [&](const kws_subgraph_t &g, uint32_t i, const OpRecord &op, uint32_t step) -> kws_status_t {
    const uint32_t slot = g.first_op + i;
    const kws_kernel_t *kernel = find_kernel(it, op.builtin);
    it->op_slots[slot] = kws_op_slot_t{kernel, 0, 0};
    kws_status_t st = build_context(it, r, g, i, op, kernel, msg);
    if (st != KWS_OK) return st;
    size_t bytes = kernel->op_data_size ? kernel->op_data_size(&it->ctx) : 0;
    if (bytes) {
      it->op_slots[slot].op_data_offset = (uint32_t)data_at;
      it->ctx.op_data = base + data_at;
      data_at += align_up(bytes);
    }
    st = kernel->prepare(&it->ctx);
    if (st != KWS_OK) {
      if (it->ctx.message[0] == 0) msg.add("rejected by the kernel");
      return st;
    }
    size_t scratch = kernel->scratch_size ? kernel->scratch_size(&it->ctx) : 0;
    if (scratch > kMaxArena / 2) return fail(msg, KWS_ERR_NO_MEMORY, "scratch size out of range");
    plan[n_tensors + slot] = kws_plan_buffer_t{(uint32_t)align_up(scratch), (uint16_t)step, (uint16_t)step, 0};
    /* Lifetimes: an activation lives from the operator that writes it to its last reader. */
    for (uint32_t k = 0; k < (uint32_t)op.n_inputs + op.n_outputs; k++) {
      const bool is_input = k < op.n_inputs;
      const kws_tensor_t *view = is_input ? it->ctx.inputs[k] : it->ctx.outputs[k - op.n_inputs];
      if (!view || view->is_constant || view->type == KWS_TYPE_RESOURCE) continue;
      kws_plan_buffer_t &b = plan[g.first_tensor + (uint32_t)(is_input ? op.inputs[k] : op.outputs[k - op.n_inputs])];
      if (!is_input) b.first = (uint16_t)step;
      if (b.last < step) b.last = (uint16_t)step;
      b.size = (uint32_t)align_up(view->bytes);
    }
    last_step = step;
    return KWS_OK;
  });
  if (s != KWS_OK) return s;
  msg.clear();
  /* Graph inputs live from the start, graph outputs to the end (the caller reads them). */
  for (uint32_t i = 0; i < it->n_inputs; i++) {
    kws_plan_buffer_t &b = plan[graph_tensor(it, r, true, i)];
    kws_tensor_t view;
    read_tensor(r, it, it->subgraphs[0], (uint32_t)graph_tensor(it, r, true, i), &view, msg);
    b.first = 0;
    b.size = (uint32_t)align_up(view.bytes);
  }
  for (uint32_t i = 0; i < it->n_outputs; i++) {
    kws_plan_buffer_t &b = plan[graph_tensor(it, r, false, i)];
    b.last = (uint16_t)last_step;
    if (b.first == kUnset) b.first = 0;
  }
  uint64_t total = 0;
  for (uint32_t i = 0; i < n_tensors + n_ops; i++) total += plan[i].size;
  if (total > kMaxArena) return fail(msg, KWS_ERR_NO_MEMORY, "model: activations exceed 2 GB");

  /* 4. Place activations and scratch; reuse bytes across lifetimes that do not overlap. */
  uint32_t planned = kws_plan_greedy(plan, n_tensors + n_ops, order);
  it->planned_bytes = align_up(planned);
  /* The planning work space must fit too (it can exceed the plan for tiny models). */
  it->arena_needed = (it->planned_bytes > work ? it->planned_bytes : work + kAlign) + persistent;
  if (it->planned_bytes > tail) {
    msg.add("arena too small: needs ").num((int64_t)it->arena_needed).add(" bytes");
    return KWS_ERR_NO_MEMORY;
  }
  for (uint32_t t = 0; t < n_tensors; t++)
    if (plan[t].size) it->tensor_offset[t] = plan[t].offset; /* handles keep their variable */
  for (uint32_t i = 0; i < n_ops; i++) it->op_slots[i].scratch_offset = plan[n_tensors + i].offset;
  it->allocated = 1;
  reset_variables(it); /* the first invoke runs the init subgraphs */
  return KWS_OK;
}

extern "C" size_t kws_interp_arena_needed(const kws_interpreter_t *it) { return it ? it->arena_needed : 0; }

extern "C" void kws_interp_set_hook(kws_interpreter_t *it, kws_op_hook_t hook, void *user) {
  if (!it) return;
  it->hook = hook;
  it->hook_user = user;
}

extern "C" kws_status_t kws_interp_invoke(kws_interpreter_t *it) {
  if (!it || !it->allocated) return KWS_ERR_STATE;
  Message msg = message_of(it);
  /* The model was verified at init and is unchanged (the API's contract): re-read it without
   * the checks. This loop is the runtime's cost between operators at every inference. */
  fb::Trusted r = trusted_reader_of(it);
  kws_status_t s = run_subgraph(it, r, it->subgraphs[0], msg);
  /* After a failure the state is unknown: the next invoke starts it again from the init. */
  if (s == KWS_OK) it->init_pending = 0;
  return s;
}

extern "C" kws_status_t kws_interp_reset_state(kws_interpreter_t *it) {
  if (!it || !it->allocated) return KWS_ERR_STATE;
  reset_variables(it);
  return KWS_OK;
}

extern "C" kws_status_t kws_interp_tensor(kws_interpreter_t *it, uint32_t tensor, kws_tensor_t *view) {
  if (!it || !view || !it->model || !it->n_subgraphs || tensor >= it->n_tensors) return KWS_ERR_ARG;
  Message msg = message_of(it);
  fb::Reader r = reader_of(it);
  kws_status_t s = read_tensor(r, it, it->subgraphs[0], tensor, view, msg);
  if (s != KWS_OK) return s;
  /* A handle shows as itself (no bytes); only kernels see it as its variable. */
  if (!view->is_constant && it->allocated && view->type != KWS_TYPE_RESOURCE) place(it, tensor, view);
  return KWS_OK;
}

extern "C" int32_t kws_interp_io_tensor(kws_interpreter_t *it, int output, uint32_t index) {
  if (!it || !it->model || !it->n_subgraphs) return -1;
  fb::Reader r = reader_of(it);
  return graph_tensor(it, r, !output, index);
}

extern "C" kws_status_t kws_interp_input(kws_interpreter_t *it, uint32_t index, kws_tensor_t *view) {
  return graph_view(it, true, index, view);
}

extern "C" kws_status_t kws_interp_output(kws_interpreter_t *it, uint32_t index, kws_tensor_t *view) {
  return graph_view(it, false, index, view);
}

extern "C" kws_status_t kws_interp_op_info(kws_interpreter_t *it, uint32_t index, kws_op_info_t *info) {
  if (!it || !info || !it->model || !it->n_subgraphs || index >= it->n_ops) return KWS_ERR_ARG;
  memset(info, 0, sizeof(*info));
  Message msg = message_of(it);
  fb::Reader r = reader_of(it);
  const kws_subgraph_t &g = it->subgraphs[0];
  OpRecord op;
  kws_status_t s = read_op(r, it, g, index, &op, msg);
  if (s != KWS_OK) return s;
  const kws_kernel_t *kernel = find_kernel(it, op.builtin);
  s = build_context(it, r, g, index, op, kernel, msg);
  if (s != KWS_OK) return s;
  info->builtin_code = op.builtin;
  info->kernel_name = kernel ? kernel->name : kws_builtin_name(op.builtin);
  info->n_inputs = op.n_inputs;
  info->n_outputs = op.n_outputs;
  memcpy(info->inputs, op.inputs, sizeof(info->inputs));
  memcpy(info->outputs, op.outputs, sizeof(info->outputs));
  info->params = it->ctx.params;
  if (kernel && it->allocated) {
    info->op_data_bytes = kernel->op_data_size ? (uint32_t)kernel->op_data_size(&it->ctx) : 0;
    info->scratch_bytes = kernel->scratch_size ? (uint32_t)kernel->scratch_size(&it->ctx) : 0;
  }
  msg.clear();
  return KWS_OK;
}

extern "C" const char *kws_interp_message(const kws_interpreter_t *it) { return it ? it->message : ""; }
