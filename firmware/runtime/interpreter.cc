/* The interpreter: verification at init, arena planning at allocate, the operator loop. */
#include "runtime/interpreter.h"

#include <string.h>

#include "runtime/model.h"
#include "runtime/planner.h"

namespace kws {
namespace {

constexpr uint32_t kAlign = 16;
constexpr uint32_t kUnset = 0xffff;
constexpr uint64_t kMaxArena = 1u << 31;

size_t align_up(size_t v) { return (v + kAlign - 1) & ~(size_t)(kAlign - 1); }

bool bit(const uint8_t *bits, uint32_t i) { return (bits[i >> 3] >> (i & 7)) & 1; }
void set_bit(uint8_t *bits, uint32_t i) { bits[i >> 3] |= (uint8_t)(1u << (i & 7)); }

Message message_of(kws_interpreter_t *it) { return Message(it->message, sizeof(it->message)); }

/* How many leading inputs an operator must have (present, not -1); later ones are optional
 * (a bias, RESHAPE's shape tensor). Kernels may then rely on these pointers. */
uint8_t required_inputs(uint16_t builtin, uint8_t n_inputs) {
  switch (builtin) {
    case KWS_OP_CONV_2D:
    case KWS_OP_DEPTHWISE_CONV_2D:
    case KWS_OP_FULLY_CONNECTED:
    case KWS_OP_ADD:
    case KWS_OP_MUL:
    case KWS_OP_MEAN:
    case KWS_OP_PAD: return 2;
    case KWS_OP_CONCATENATION: return n_inputs > 0 ? n_inputs : 1;
    default: return 1;
  }
}

/* Fills it->ctx for operator `index`: tensor views (data NULL for activations until the arena
 * is planned), options, op data and scratch pointers. With `named`, the message starts with
 * "operator i (NAME): " and the kernel writes its reason after it (init, allocate, op_info);
 * without, the kernel gets the whole message buffer and the caller names the operator only
 * if the kernel fails (invoke: no message text formatted per operator). */
template <class R>
kws_status_t build_context(kws_interpreter_t *it, R &r, uint32_t index, const OpRecord &op,
                           const kws_kernel_t *kernel, Message &msg, bool named = true) {
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
      kws_status_t s = read_tensor(r, it, (uint32_t)t, view, msg);
      if (s != KWS_OK) return s;
      if (!view->is_constant && it->allocated && it->tensor_offset[t] != UINT32_MAX)
        view->data = it->arena + it->tensor_offset[t];
    }
    if (is_input)
      ctx.inputs[i] = view;
    else
      ctx.outputs[i - op.n_inputs] = view;
  }
  if (named) msg.op(index, kernel ? kernel->name : kws_builtin_name(op.builtin));
  kws_status_t s = read_params(r, op, &ctx.params, msg);
  if (s != KWS_OK) return s;
  if (it->op_slots && it->op_slots[index].op_data_offset) ctx.op_data = it->arena + it->op_slots[index].op_data_offset;
  if (it->allocated) ctx.scratch = it->arena + it->op_slots[index].scratch_offset;
  ctx.message = msg.tail();
  ctx.message_len = msg.room();
  return KWS_OK;
}

kws_status_t verify_graph(kws_interpreter_t *it, fb::Reader &r, fb::Table subgraph, Message &msg) {
  uint8_t defined[KWS_MAX_TENSORS / 8];
  uint8_t constant[KWS_MAX_TENSORS / 8];
  memset(defined, 0, sizeof(defined));
  memset(constant, 0, sizeof(constant));
  for (uint32_t t = 0; t < it->n_tensors; t++) {
    kws_tensor_t view;
    kws_status_t s = read_tensor(r, it, t, &view, msg);
    if (s != KWS_OK) return s;
    if (view.is_constant) {
      set_bit(defined, t);
      set_bit(constant, t);
    }
  }
  fb::Vector inputs = r.vector(subgraph, schema::kSgInputs, 4, 4);
  fb::Vector outputs = r.vector(subgraph, schema::kSgOutputs, 4, 4);
  if (r.bad()) return fail(msg.clear().add("model: "), KWS_ERR_MODEL_INVALID, "malformed graph inputs or outputs");
  if (inputs.count == 0 || outputs.count == 0 || inputs.count > 255 || outputs.count > 255)
    return fail(msg.clear().add("model: "), KWS_ERR_UNSUPPORTED, "the graph needs 1 to 255 inputs and outputs");
  for (uint32_t i = 0; i < inputs.count; i++) {
    int32_t t = r.read<int32_t>(inputs.first + 4 * i);
    if (t < 0 || t >= (int32_t)it->n_tensors || bit(constant, (uint32_t)t))
      return fail(msg.clear().add("model: "), KWS_ERR_MODEL_INVALID, "a graph input is out of range or constant");
    set_bit(defined, (uint32_t)t);
  }
  it->n_inputs = (uint8_t)inputs.count;
  it->n_outputs = (uint8_t)outputs.count;
  it->inputs_vec = inputs.first;
  it->outputs_vec = outputs.first;

  for (uint32_t i = 0; i < it->n_ops; i++) {
    OpRecord op;
    kws_status_t s = read_op(r, it, i, &op, msg);
    if (s != KWS_OK) return s;
    const kws_kernel_t *kernel = kws_resolver_find(it->resolver, op.builtin);
    if (!kernel) {
      msg.op(i, kws_builtin_name(op.builtin)).add("builtin operator ").num(op.builtin);
      return fail(msg, KWS_ERR_UNSUPPORTED, " has no kernel in this build");
    }
    msg.op(i, kernel->name);
    s = read_params(r, op, &it->ctx.params, msg);
    if (s != KWS_OK) return s;
    const uint8_t required = required_inputs(op.builtin, op.n_inputs);
    if (op.n_inputs < required) {
      msg.op(i, kernel->name).add("has ").num(op.n_inputs).add(" inputs, needs ").num(required);
      return KWS_ERR_MODEL_INVALID;
    }
    for (uint32_t k = 0; k < op.n_inputs; k++) {
      int32_t t = op.inputs[k];
      if (t < 0 && k < required) {
        msg.op(i, kernel->name).add("required input ").num(k);
        return fail(msg, KWS_ERR_MODEL_INVALID, " is missing");
      }
      if (t >= 0 && !bit(defined, (uint32_t)t)) {
        msg.op(i, kernel->name).add("input ").num(k).add(" (tensor ").num(t);
        return fail(msg, KWS_ERR_MODEL_INVALID, ") is read before any operator writes it");
      }
    }
    for (uint32_t k = 0; k < op.n_outputs; k++) {
      uint32_t t = (uint32_t)op.outputs[k];
      if (bit(defined, t)) {
        msg.op(i, kernel->name).add("output tensor ").num(t);
        return fail(msg, KWS_ERR_MODEL_INVALID, " is constant, a graph input or written twice");
      }
      set_bit(defined, t);
    }
  }
  for (uint32_t i = 0; i < outputs.count; i++) {
    int32_t t = r.read<int32_t>(outputs.first + 4 * i);
    if (t < 0 || t >= (int32_t)it->n_tensors || !bit(defined, (uint32_t)t))
      return fail(msg.clear().add("model: "), KWS_ERR_MODEL_INVALID, "a graph output is out of range or never written");
  }
  return r.bad() ? fail(msg.clear().add("model: "), KWS_ERR_MODEL_INVALID, "malformed graph") : KWS_OK;
}

int32_t graph_tensor(kws_interpreter_t *it, fb::Reader &r, bool input, uint32_t index) {
  uint32_t n = input ? it->n_inputs : it->n_outputs;
  if (index >= n) return -1;
  return r.read<int32_t>((input ? it->inputs_vec : it->outputs_vec) + 4 * index);
}

kws_status_t graph_view(kws_interpreter_t *it, bool input, uint32_t index, kws_tensor_t *view) {
  if (!it || !view || !it->model) return KWS_ERR_ARG;
  fb::Reader r = reader_of(it);
  int32_t t = graph_tensor(it, r, input, index);
  if (t < 0) return KWS_ERR_ARG;
  return kws_interp_tensor(it, (uint32_t)t, view);
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
  if (subgraphs.count < 1) return fail(msg, KWS_ERR_MODEL_INVALID, "model: no subgraph");
  fb::Table sg = r.table_in(subgraphs, 0);
  fb::Vector tensors = r.vector(sg, schema::kSgTensors, 4, 4);
  fb::Vector operators = r.vector(sg, schema::kSgOperators, 4, 4);
  if (r.bad()) return fail(msg, KWS_ERR_MODEL_INVALID, "model: malformed subgraph");
  if (tensors.count > KWS_MAX_TENSORS || operators.count > KWS_MAX_OPS || codes.count > 0xffff)
    return fail(msg, KWS_ERR_UNSUPPORTED, "model: too many tensors or operators");
  it->subgraph = sg.pos;
  it->tensors_vec = tensors.first;
  it->operators_vec = operators.first;
  it->opcodes_vec = codes.first;
  it->buffers_vec = buffers.first;
  it->n_tensors = (uint16_t)tensors.count;
  it->n_ops = (uint16_t)operators.count;
  it->n_opcodes = (uint16_t)codes.count;
  it->n_buffers = buffers.count;
  kws_status_t s = verify_graph(it, r, sg, msg);
  if (s != KWS_OK) {
    it->n_ops = 0; /* an unverified model can never run */
    it->n_tensors = 0;
    return s;
  }
  msg.clear();
  return KWS_OK;
}

extern "C" kws_status_t kws_interp_allocate(kws_interpreter_t *it, void *arena, size_t arena_len) {
  if (!it || !it->model) return KWS_ERR_STATE;
  Message msg = message_of(it);
  if (!arena) return fail(msg, KWS_ERR_ARG, "no arena");
  it->allocated = 0;
  it->op_slots = nullptr;
  it->tensor_offset = nullptr;
  uint8_t *base = static_cast<uint8_t *>(arena);
  size_t skip = (kAlign - ((uintptr_t)base & (kAlign - 1))) & (kAlign - 1);
  size_t usable = arena_len > skip ? arena_len - skip : 0;
  base += skip;
  fb::Reader r = reader_of(it);

  /* 1. Persistent part at the arena's tail: tensor offsets, op slots, each kernel's op data. */
  size_t tables = align_up((size_t)it->n_tensors * 4) + align_up((size_t)it->n_ops * sizeof(kws_op_slot_t));
  size_t persistent = tables;
  for (uint32_t i = 0; i < it->n_ops; i++) {
    OpRecord op;
    kws_status_t s = read_op(r, it, i, &op, msg);
    if (s != KWS_OK) return s;
    const kws_kernel_t *kernel = kws_resolver_find(it->resolver, op.builtin);
    s = build_context(it, r, i, op, kernel, msg);
    if (s != KWS_OK) return s;
    size_t bytes = kernel->op_data_size ? kernel->op_data_size(&it->ctx) : 0;
    if (bytes > kMaxArena) return fail(msg, KWS_ERR_NO_MEMORY, "op data size out of range");
    persistent += align_up(bytes);
  }
  size_t work = ((size_t)it->n_tensors + it->n_ops) * (sizeof(kws_plan_buffer_t) + 2 * sizeof(uint16_t)) + kAlign;
  it->arena_needed = persistent + work;
  if (persistent + work > usable) {
    msg.clear().add("arena too small: needs at least ").num((int64_t)it->arena_needed).add(" bytes");
    return KWS_ERR_NO_MEMORY;
  }
  size_t tail = (usable - persistent) & ~(size_t)(kAlign - 1);
  it->arena = base;
  it->arena_len = usable;
  it->tensor_offset = reinterpret_cast<uint32_t *>(base + tail);
  it->op_slots = reinterpret_cast<kws_op_slot_t *>(base + tail + align_up((size_t)it->n_tensors * 4));
  size_t data_at = tail + tables;

  /* 2. Prepare every kernel (activation data not placed yet) and collect scratch sizes. */
  kws_plan_buffer_t *plan = reinterpret_cast<kws_plan_buffer_t *>(base + ((tail - work) & ~(size_t)(kAlign - 1)));
  uint16_t *order = reinterpret_cast<uint16_t *>(plan + it->n_tensors + it->n_ops);
  for (uint32_t i = 0; i < (uint32_t)it->n_tensors + it->n_ops; i++) plan[i] = kws_plan_buffer_t{0, kUnset, 0, 0};
  for (uint32_t i = 0; i < it->n_ops; i++) {
    OpRecord op;
    kws_status_t s = read_op(r, it, i, &op, msg);
    if (s != KWS_OK) return s;
    const kws_kernel_t *kernel = kws_resolver_find(it->resolver, op.builtin);
    it->op_slots[i] = kws_op_slot_t{kernel, 0, 0};
    s = build_context(it, r, i, op, kernel, msg);
    if (s != KWS_OK) return s;
    size_t bytes = kernel->op_data_size ? kernel->op_data_size(&it->ctx) : 0;
    if (bytes) {
      it->op_slots[i].op_data_offset = (uint32_t)data_at;
      it->ctx.op_data = base + data_at;
      data_at += align_up(bytes);
    }
    s = kernel->prepare(&it->ctx);
    if (s != KWS_OK) {
      if (it->ctx.message[0] == 0) msg.add("rejected by the kernel");
      return s;
    }
    size_t scratch = kernel->scratch_size ? kernel->scratch_size(&it->ctx) : 0;
    if (scratch > kMaxArena / 2) return fail(msg, KWS_ERR_NO_MEMORY, "scratch size out of range");
    plan[it->n_tensors + i] = kws_plan_buffer_t{(uint32_t)align_up(scratch), (uint16_t)i, (uint16_t)i, 0};
    /* Lifetimes: an activation lives from the operator that writes it to its last reader. */
    for (uint32_t k = 0; k < op.n_inputs; k++) {
      int32_t t = op.inputs[k];
      if (t >= 0 && !tensor_is_constant(r, it, (uint32_t)t) && plan[t].last < i) plan[t].last = (uint16_t)i;
    }
    for (uint32_t k = 0; k < op.n_outputs; k++) {
      int32_t t = op.outputs[k];
      plan[t].first = (uint16_t)i;
      if (plan[t].last < i) plan[t].last = (uint16_t)i;
    }
  }
  msg.clear();
  const uint16_t end = it->n_ops ? (uint16_t)(it->n_ops - 1) : 0;
  for (uint32_t i = 0; i < it->n_inputs; i++) plan[graph_tensor(it, r, true, i)].first = 0;
  for (uint32_t i = 0; i < it->n_outputs; i++) {
    int32_t t = graph_tensor(it, r, false, i);
    plan[t].last = end;
    if (plan[t].first == kUnset) plan[t].first = 0;
  }
  uint64_t total = 0;
  for (uint32_t t = 0; t < it->n_tensors; t++) {
    if (plan[t].first == kUnset || tensor_is_constant(r, it, t)) continue;
    kws_tensor_t view;
    read_tensor(r, it, t, &view, msg);
    plan[t].size = (uint32_t)align_up(view.bytes);
    total += plan[t].size;
  }
  for (uint32_t i = 0; i < it->n_ops; i++) total += plan[it->n_tensors + i].size;
  if (total > kMaxArena) return fail(msg, KWS_ERR_NO_MEMORY, "model: activations exceed 2 GB");

  /* 3. Place activations and scratch; reuse bytes across lifetimes that do not overlap. */
  uint32_t planned = kws_plan_greedy(plan, (uint32_t)it->n_tensors + it->n_ops, order);
  it->planned_bytes = align_up(planned);
  /* The planning work space must fit too (it can exceed the plan for tiny models). */
  it->arena_needed = (it->planned_bytes > work ? it->planned_bytes : work + kAlign) + persistent;
  if (it->planned_bytes > tail) {
    msg.add("arena too small: needs ").num((int64_t)it->arena_needed).add(" bytes");
    return KWS_ERR_NO_MEMORY;
  }
  for (uint32_t t = 0; t < it->n_tensors; t++) it->tensor_offset[t] = plan[t].size ? plan[t].offset : UINT32_MAX;
  for (uint32_t i = 0; i < it->n_ops; i++) it->op_slots[i].scratch_offset = plan[it->n_tensors + i].offset;
  it->allocated = 1;
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
  OpRecord op;
  for (uint32_t i = 0; i < it->n_ops; i++) {
    kws_status_t s = read_op(r, it, i, &op, msg);
    if (s != KWS_OK) return s;
    const kws_kernel_t *kernel = it->op_slots[i].kernel;
    s = build_context(it, r, i, op, kernel, msg, false);
    if (s != KWS_OK) return s;
    if (it->hook) it->hook(it->hook_user, (uint16_t)i, KWS_HOOK_BEFORE);
    s = kernel->invoke(&it->ctx);
    if (it->hook) it->hook(it->hook_user, (uint16_t)i, KWS_HOOK_AFTER);
    if (s != KWS_OK) {
      char reason[KWS_MESSAGE_LEN]; /* the kernel's text, now prefixed with the operator */
      memcpy(reason, it->message, sizeof(reason));
      reason[sizeof(reason) - 1] = 0;
      msg.op(i, kernel->name).add(reason[0] ? reason : "kernel failed");
      return s;
    }
  }
  return KWS_OK;
}

extern "C" kws_status_t kws_interp_tensor(kws_interpreter_t *it, uint32_t tensor, kws_tensor_t *view) {
  if (!it || !view || !it->model || tensor >= it->n_tensors) return KWS_ERR_ARG;
  Message msg = message_of(it);
  fb::Reader r = reader_of(it);
  kws_status_t s = read_tensor(r, it, tensor, view, msg);
  if (s != KWS_OK) return s;
  if (!view->is_constant && it->allocated && it->tensor_offset[tensor] != UINT32_MAX)
    view->data = it->arena + it->tensor_offset[tensor];
  return KWS_OK;
}

extern "C" int32_t kws_interp_io_tensor(kws_interpreter_t *it, int output, uint32_t index) {
  if (!it || !it->model || !it->n_tensors) return -1;
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
  if (!it || !info || !it->model || index >= it->n_ops) return KWS_ERR_ARG;
  memset(info, 0, sizeof(*info));
  Message msg = message_of(it);
  fb::Reader r = reader_of(it);
  OpRecord op;
  kws_status_t s = read_op(r, it, index, &op, msg);
  if (s != KWS_OK) return s;
  const kws_kernel_t *kernel = kws_resolver_find(it->resolver, op.builtin);
  s = build_context(it, r, index, op, kernel, msg);
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
