/* Checked reads of tensors, operators and options from a .tflite flatbuffer (see model.h). */
#include "runtime/model.h"

#include <math.h>

namespace kws {

namespace {

constexpr uint64_t kMaxTensorBytes = 1u << 28; /* far above any model a 256 kB part runs */
constexpr int32_t kMaxDim = 1 << 24;

/* TFLite BuiltinOptions union values. */
enum Options : uint8_t {
  kOptNone = 0, kOptConv2D = 1, kOptDepthwiseConv2D = 2, kOptPool2D = 5, kOptFullyConnected = 8,
  kOptSoftmax = 9, kOptConcatenation = 10, kOptAdd = 11, kOptReshape = 17, kOptMul = 21, kOptPad = 22,
  kOptTranspose = 26, kOptReducer = 27, kOptSub = 28, kOptSqueeze = 30, kOptStridedSlice = 32,
  kOptDequantize = 38, kOptMaximumMinimum = 39, kOptExpandDims = 52, kOptLeakyRelu = 75, kOptSplitV = 79,
  kOptQuantize = 89, kOptHardSwish = 91, kOptCallOnce = 103, kOptVarHandle = 111, kOptReadVariable = 112,
  kOptAssignVariable = 113,
};

uint8_t expected_options(uint16_t builtin) {
  switch (builtin) {
    case KWS_OP_CONV_2D: return kOptConv2D;
    case KWS_OP_DEPTHWISE_CONV_2D: return kOptDepthwiseConv2D;
    case KWS_OP_AVERAGE_POOL_2D:
    case KWS_OP_MAX_POOL_2D: return kOptPool2D;
    case KWS_OP_FULLY_CONNECTED: return kOptFullyConnected;
    case KWS_OP_SOFTMAX: return kOptSoftmax;
    case KWS_OP_CONCATENATION: return kOptConcatenation;
    case KWS_OP_ADD: return kOptAdd;
    case KWS_OP_RESHAPE: return kOptReshape;
    case KWS_OP_MUL: return kOptMul;
    case KWS_OP_PAD: return kOptPad;
    case KWS_OP_MEAN:
    case KWS_OP_REDUCE_MAX: return kOptReducer;
    case KWS_OP_SUB: return kOptSub;
    case KWS_OP_MAXIMUM:
    case KWS_OP_MINIMUM: return kOptMaximumMinimum;
    case KWS_OP_TRANSPOSE: return kOptTranspose;
    case KWS_OP_SQUEEZE: return kOptSqueeze;
    case KWS_OP_EXPAND_DIMS: return kOptExpandDims;
    case KWS_OP_LEAKY_RELU: return kOptLeakyRelu;
    case KWS_OP_HARD_SWISH: return kOptHardSwish;
    case KWS_OP_DEQUANTIZE: return kOptDequantize;
    case KWS_OP_QUANTIZE: return kOptQuantize;
    case KWS_OP_STRIDED_SLICE: return kOptStridedSlice;
    case KWS_OP_SPLIT_V: return kOptSplitV;
    case KWS_OP_CALL_ONCE: return kOptCallOnce;
    case KWS_OP_VAR_HANDLE: return kOptVarHandle;
    case KWS_OP_READ_VARIABLE: return kOptReadVariable;
    case KWS_OP_ASSIGN_VARIABLE: return kOptAssignVariable;
    default: return kOptNone;
  }
}

bool valid_activation(uint8_t a) { return a <= KWS_ACT_RELU6; }
bool valid_padding(uint8_t p) { return p == KWS_PAD_SAME || p == KWS_PAD_VALID; }
bool valid_step(int32_t s) { return s >= 1 && s <= (1 << 16); }

}  // namespace

uint32_t type_size(uint32_t type) {
  switch (type) {
    case KWS_TYPE_FLOAT32:
    case KWS_TYPE_INT32: return 4;
    case KWS_TYPE_INT64: return 8;
    case KWS_TYPE_INT16: return 2;
    case KWS_TYPE_UINT8:
    case KWS_TYPE_INT8:
    case KWS_TYPE_BOOL: return 1;
    default: return 0;
  }
}

template <class R>
static fb::Table tensor_table(R &r, const kws_subgraph_t &g, uint32_t index) {
  fb::Vector v;
  v.first = g.tensors_vec;
  v.count = g.n_tensors;
  return r.table_in(v, index);
}

template <class R>
static fb::Table buffer_table(R &r, const kws_interpreter_t *it, uint32_t index) {
  fb::Vector v;
  v.first = it->buffers_vec;
  v.count = it->n_buffers;
  return r.table_in(v, index);
}

template <class R>
kws_status_t read_tensor(R &r, const kws_interpreter_t *it, const kws_subgraph_t &g, uint32_t index,
                         kws_tensor_t *view, Message &msg) {
  /* With fb::Trusted (a verified model) every check below is compiled out: the reads that
   * fill the view are the same, the checks passed once at init and would pass again. */
  constexpr bool check = R::kChecked;
  *view = kws_tensor_t{};
  if (check && index >= g.n_tensors) return fail(msg.tensor(g.index, index), KWS_ERR_MODEL_INVALID, "index out of range");
  fb::Table t = tensor_table(r, g, index);
  fb::Vector shape = r.vector(t, schema::kTensorShape, 4, 4);
  uint8_t type = r.template scalar<uint8_t>(t, schema::kTensorType, 0);
  uint32_t buffer = r.template scalar<uint32_t>(t, schema::kTensorBuffer, 0);
  fb::Table quant = r.table(t, schema::kTensorQuant);
  uint32_t elem = type_size(type);
  if (check) {
    uint8_t is_variable = r.template scalar<uint8_t>(t, schema::kTensorIsVariable, 0);
    bool sparse = r.field(t, schema::kTensorSparsity, 4) != 0;
    if (r.bad()) return fail(msg.tensor(g.index, index), KWS_ERR_MODEL_INVALID, "malformed tensor table");
    if (shape.count > KWS_MAX_DIMS) return fail(msg.tensor(g.index, index), KWS_ERR_UNSUPPORTED, "more than 5 dimensions");
    if (elem == 0 && type != KWS_TYPE_RESOURCE) {
      msg.tensor(g.index, index).add("unsupported tensor type ").num(type);
      return KWS_ERR_UNSUPPORTED;
    }
    if (is_variable) return fail(msg.tensor(g.index, index), KWS_ERR_UNSUPPORTED, "variable tensors are not supported");
    if (sparse) return fail(msg.tensor(g.index, index), KWS_ERR_UNSUPPORTED, "sparse tensors are not supported");
  }
  view->type = type;
  view->rank = (uint8_t)shape.count;
  uint64_t count = 1;
  for (uint32_t d = 0; d < shape.count; d++) {
    int32_t dim = r.template read<int32_t>(shape.first + 4 * d);
    if (check && (dim < 1 || dim > kMaxDim)) {
      msg.tensor(g.index, index).add("dimension ").num(d).add(" is ").num(dim);
      return KWS_ERR_MODEL_INVALID;
    }
    view->dims[d] = dim;
    count *= (uint64_t)dim;
    if (check && count * elem > kMaxTensorBytes) return fail(msg.tensor(g.index, index), KWS_ERR_MODEL_INVALID, "absurdly large shape");
  }
  view->bytes = (size_t)(count * elem);

  if (check && buffer >= it->n_buffers) return fail(msg.tensor(g.index, index), KWS_ERR_MODEL_INVALID, "buffer index out of range");
  fb::Table buf = buffer_table(r, it, buffer);
  fb::Vector data = r.vector(buf, schema::kBufferData, 1, 1);
  if (check) {
    uint64_t external = r.template scalar<uint64_t>(buf, schema::kBufferOffset, 0);
    if (r.bad()) return fail(msg.tensor(g.index, index), KWS_ERR_MODEL_INVALID, "malformed buffer");
    if (external > 1) return fail(msg.tensor(g.index, index), KWS_ERR_UNSUPPORTED, "buffers outside the flatbuffer");
  }
  if (data.count > 0) {
    if (check && type == KWS_TYPE_RESOURCE) return fail(msg.tensor(g.index, index), KWS_ERR_MODEL_INVALID, "a resource handle holds data");
    if (check && data.count != view->bytes) {
      msg.tensor(g.index, index).add("holds ").num(data.count).add(" bytes, its shape needs ").num((int64_t)view->bytes);
      return KWS_ERR_MODEL_INVALID;
    }
    const uint8_t *p = it->model + data.first;
    /* Flatbuffers align vectors to 4 bytes, and TFLite's converter puts int64 data (PAD's
     * paddings, int16x8 biases) on any 4-byte boundary: 8-byte elements need only 4 here
     * (their readers copy them out with memcpy). */
    const uint32_t align = elem < 4 ? elem : 4;
    if (check && ((uintptr_t)p % align) != 0) return fail(msg.tensor(g.index, index), KWS_ERR_MODEL_INVALID, "misaligned constant data");
    view->data = const_cast<uint8_t *>(p); /* kernels never write constants (is_constant) */
    view->is_constant = 1;
  }

  if (quant.present()) {
    fb::Vector scale = r.vector(quant, schema::kQuantScale, 4, 4);
    fb::Vector zero = r.vector(quant, schema::kQuantZeroPoint, 8, 4);
    int32_t qdim = r.template scalar<int32_t>(quant, schema::kQuantDimension, 0);
    if (check) {
      uint8_t details = r.template scalar<uint8_t>(quant, schema::kQuantDetailsType, 0);
      if (r.bad()) return fail(msg.tensor(g.index, index), KWS_ERR_MODEL_INVALID, "malformed quantization");
      if (details != 0) return fail(msg.tensor(g.index, index), KWS_ERR_UNSUPPORTED, "custom quantization details");
    }
    if (scale.count > 0) {
      const float *scales = reinterpret_cast<const float *>(it->model + scale.first);
      if (check) {
        if (zero.count != scale.count && zero.count != 0)
          return fail(msg.tensor(g.index, index), KWS_ERR_MODEL_INVALID, "scale and zero point counts differ");
        if (scale.count > 1) {
          if (qdim < 0 || qdim >= view->rank || (uint32_t)view->dims[qdim] != scale.count)
            return fail(msg.tensor(g.index, index), KWS_ERR_MODEL_INVALID, "per-channel scales do not match the shape");
        }
        if (((uintptr_t)scales & 3u) != 0) return fail(msg.tensor(g.index, index), KWS_ERR_MODEL_INVALID, "misaligned scales");
      }
      /* Every tensor was checked once at init (verify_graph); an allocated interpreter reads
       * the same constant model, so the per-channel loop is not repeated on every invoke. */
      const uint32_t checked = check && !it->allocated ? scale.count : 0;
      for (uint32_t c = 0; c < checked; c++) {
        float s = r.template read<float>(scale.first + 4 * c);
        if (!(s > 0.0f) || !isfinite(s)) return fail(msg.tensor(g.index, index), KWS_ERR_MODEL_INVALID, "scale not positive and finite");
        int64_t z = zero.count ? r.template read<int64_t>(zero.first + 8 * c) : 0;
        if (z < INT32_MIN || z > INT32_MAX) return fail(msg.tensor(g.index, index), KWS_ERR_MODEL_INVALID, "zero point out of range");
        if (type == KWS_TYPE_INT8 && (z < -128 || z > 127))
          return fail(msg.tensor(g.index, index), KWS_ERR_MODEL_INVALID, "int8 zero point out of range");
        if (type == KWS_TYPE_UINT8 && (z < 0 || z > 255))
          return fail(msg.tensor(g.index, index), KWS_ERR_MODEL_INVALID, "uint8 zero point out of range");
      }
      view->scale = r.template read<float>(scale.first);
      view->zero_point = zero.count ? (int32_t)r.template read<int64_t>(zero.first) : 0;
      view->channel_scales = scales;
      view->n_channel_scales = (int32_t)scale.count;
      view->quantized_dimension = qdim;
    }
  }
  if (!check) return KWS_OK;
  /* Integer activations and weights are only meaningful with a scale: kernels divide by it. */
  const bool quantized_type = type == KWS_TYPE_INT8 || type == KWS_TYPE_UINT8 || type == KWS_TYPE_INT16;
  if (quantized_type && view->n_channel_scales == 0)
    return fail(msg.tensor(g.index, index), KWS_ERR_UNSUPPORTED, "integer tensor without quantization parameters");
  return r.bad() ? fail(msg.tensor(g.index, index), KWS_ERR_MODEL_INVALID, "malformed tensor") : KWS_OK;
}

template <class R>
kws_status_t read_op(R &r, const kws_interpreter_t *it, const kws_subgraph_t &g, uint32_t index, OpRecord *op,
                     Message &msg) {
  constexpr bool check = R::kChecked; /* see read_tensor */
  if (check) *op = OpRecord{}; /* trusted: every field the caller reads is set below */
  fb::Vector ops;
  ops.first = g.operators_vec;
  ops.count = g.n_ops;
  fb::Table t = r.table_in(ops, index);
  uint32_t opcode = r.template scalar<uint32_t>(t, schema::kOpOpcode, 0);
  fb::Vector in = r.vector(t, schema::kOpInputs, 4, 4);
  fb::Vector out = r.vector(t, schema::kOpOutputs, 4, 4);
  op->options_type = r.template scalar<uint8_t>(t, schema::kOpOptionsType, 0);
  op->options = r.table(t, schema::kOpOptions);
  if (check && r.bad()) return fail(msg.op(g.index, index, "?"), KWS_ERR_MODEL_INVALID, "malformed operator table");
  if (check && opcode >= it->n_opcodes) return fail(msg.op(g.index, index, "?"), KWS_ERR_MODEL_INVALID, "opcode index out of range");
  fb::Vector codes;
  codes.first = it->opcodes_vec;
  codes.count = it->n_opcodes;
  fb::Table code = r.table_in(codes, opcode);
  int32_t builtin = r.template scalar<int8_t>(code, schema::kCodeDeprecated, 0);
  int32_t extended = r.template scalar<int32_t>(code, schema::kCodeBuiltin, 0);
  if (extended > builtin) builtin = extended;
  op->builtin = (uint16_t)builtin;
  op->n_inputs = (uint8_t)in.count;
  op->n_outputs = (uint8_t)out.count;
  if (!check) {
    for (uint32_t i = 0; i < in.count; i++) op->inputs[i] = r.template read<int32_t>(in.first + 4 * i);
    for (uint32_t i = 0; i < out.count; i++) op->outputs[i] = r.template read<int32_t>(out.first + 4 * i);
    return KWS_OK;
  }
  uint32_t custom_len = 0;
  const char *custom = r.string(code, schema::kCodeCustom, &custom_len);
  if (r.bad()) return fail(msg.op(g.index, index, "?"), KWS_ERR_MODEL_INVALID, "malformed operator code");
  if (custom && builtin == 32 /* CUSTOM */) {
    msg.op(g.index, index, "CUSTOM").add("custom operator ").quoted(custom, custom_len);
    return fail(msg, KWS_ERR_UNSUPPORTED, " is not supported");
  }
  if (builtin < 0 || builtin > 0xffff) return fail(msg.op(g.index, index, "?"), KWS_ERR_MODEL_INVALID, "bad builtin code");
  const char *name = kws_builtin_name(op->builtin);
  if (in.count > KWS_MAX_OP_INPUTS) {
    msg.op(g.index, index, name).add("has ").num(in.count).add(" inputs, this runtime takes at most ");
    return fail(msg.num(KWS_MAX_OP_INPUTS), KWS_ERR_UNSUPPORTED, " (KWS_MAX_OP_INPUTS)");
  }
  if (out.count > KWS_MAX_OP_OUTPUTS) {
    msg.op(g.index, index, name).add("has ").num(out.count).add(" outputs, this runtime takes at most ");
    return fail(msg.num(KWS_MAX_OP_OUTPUTS), KWS_ERR_UNSUPPORTED, " (KWS_MAX_OP_OUTPUTS)");
  }
  for (uint32_t i = 0; i < in.count; i++) {
    op->inputs[i] = r.template read<int32_t>(in.first + 4 * i);
    if (op->inputs[i] < -1 || op->inputs[i] >= (int32_t)g.n_tensors) {
      msg.op(g.index, index, name).add("input ").num(i).add(" names tensor ").num(op->inputs[i]);
      return KWS_ERR_MODEL_INVALID;
    }
  }
  for (uint32_t i = 0; i < out.count; i++) {
    op->outputs[i] = r.template read<int32_t>(out.first + 4 * i);
    if (op->outputs[i] < 0 || op->outputs[i] >= (int32_t)g.n_tensors) {
      msg.op(g.index, index, name).add("output ").num(i).add(" names tensor ").num(op->outputs[i]);
      return KWS_ERR_MODEL_INVALID;
    }
  }
  return r.bad() ? fail(msg.op(g.index, index, name), KWS_ERR_MODEL_INVALID, "malformed operator") : KWS_OK;
}

template <class R>
kws_status_t read_params(R &r, const OpRecord &op, kws_op_params_t *p, Message &msg) {
  *p = kws_op_params_t{};
  const uint8_t want = expected_options(op.builtin);
  if (op.options_type != kOptNone && op.options_type != want) {
    msg.add("options of type ").num(op.options_type).add(", expected ").num(want);
    return KWS_ERR_MODEL_INVALID;
  }
  const fb::Table &o = op.options; /* absent tables read as schema defaults */
  switch (op.builtin) {
    case KWS_OP_CONV_2D:
    case KWS_OP_DEPTHWISE_CONV_2D: {
      const bool dw = op.builtin == KWS_OP_DEPTHWISE_CONV_2D;
      kws_conv_params_t &c = p->conv;
      c.padding = r.template scalar<uint8_t>(o, 0, 0);
      c.stride_w = r.template scalar<int32_t>(o, 1, 0);
      c.stride_h = r.template scalar<int32_t>(o, 2, 0);
      c.depth_multiplier = dw ? r.template scalar<int32_t>(o, 3, 0) : 1;
      c.activation = r.template scalar<uint8_t>(o, dw ? 4 : 3, 0);
      c.dilation_w = r.template scalar<int32_t>(o, dw ? 5 : 4, 1);
      c.dilation_h = r.template scalar<int32_t>(o, dw ? 6 : 5, 1);
      if (!valid_padding(c.padding)) return fail(msg, KWS_ERR_MODEL_INVALID, "unknown padding");
      if (!valid_activation(c.activation)) return fail(msg, KWS_ERR_UNSUPPORTED, "unsupported fused activation");
      if (!valid_step(c.stride_w) || !valid_step(c.stride_h)) return fail(msg, KWS_ERR_MODEL_INVALID, "stride out of range");
      if (!valid_step(c.dilation_w) || !valid_step(c.dilation_h))
        return fail(msg, KWS_ERR_MODEL_INVALID, "dilation out of range");
      if (!valid_step(c.depth_multiplier)) return fail(msg, KWS_ERR_MODEL_INVALID, "depth multiplier out of range");
      break;
    }
    case KWS_OP_AVERAGE_POOL_2D:
    case KWS_OP_MAX_POOL_2D: {
      kws_pool_params_t &c = p->pool;
      c.padding = r.template scalar<uint8_t>(o, 0, 0);
      c.stride_w = r.template scalar<int32_t>(o, 1, 0);
      c.stride_h = r.template scalar<int32_t>(o, 2, 0);
      c.filter_w = r.template scalar<int32_t>(o, 3, 0);
      c.filter_h = r.template scalar<int32_t>(o, 4, 0);
      c.activation = r.template scalar<uint8_t>(o, 5, 0);
      if (!valid_padding(c.padding)) return fail(msg, KWS_ERR_MODEL_INVALID, "unknown padding");
      if (!valid_activation(c.activation)) return fail(msg, KWS_ERR_UNSUPPORTED, "unsupported fused activation");
      if (!valid_step(c.stride_w) || !valid_step(c.stride_h)) return fail(msg, KWS_ERR_MODEL_INVALID, "stride out of range");
      if (!valid_step(c.filter_w) || !valid_step(c.filter_h)) return fail(msg, KWS_ERR_MODEL_INVALID, "filter size out of range");
      break;
    }
    case KWS_OP_FULLY_CONNECTED:
      p->fc.activation = r.template scalar<uint8_t>(o, 0, 0);
      p->fc.keep_num_dims = r.template scalar<uint8_t>(o, 2, 0) ? 1 : 0;
      if (r.template scalar<uint8_t>(o, 1, 0) != 0) return fail(msg, KWS_ERR_UNSUPPORTED, "shuffled weights are not supported");
      if (!valid_activation(p->fc.activation)) return fail(msg, KWS_ERR_UNSUPPORTED, "unsupported fused activation");
      break;
    case KWS_OP_ADD:
    case KWS_OP_MUL:
    case KWS_OP_SUB:
      p->elementwise.activation = r.template scalar<uint8_t>(o, 0, 0);
      if (!valid_activation(p->elementwise.activation)) return fail(msg, KWS_ERR_UNSUPPORTED, "unsupported fused activation");
      break;
    case KWS_OP_SOFTMAX:
      p->softmax.beta = r.template scalar<float>(o, 0, 0.0f);
      if (!isfinite(p->softmax.beta)) return fail(msg, KWS_ERR_MODEL_INVALID, "beta is not finite");
      break;
    case KWS_OP_CONCATENATION:
      p->concat.axis = r.template scalar<int32_t>(o, 0, 0);
      p->concat.activation = r.template scalar<uint8_t>(o, 1, 0);
      if (!valid_activation(p->concat.activation)) return fail(msg, KWS_ERR_UNSUPPORTED, "unsupported fused activation");
      if (p->concat.axis < -KWS_MAX_DIMS || p->concat.axis >= KWS_MAX_DIMS) return fail(msg, KWS_ERR_MODEL_INVALID, "axis out of range");
      break;
    case KWS_OP_MEAN:
    case KWS_OP_REDUCE_MAX:
      p->reduce.keep_dims = r.template scalar<uint8_t>(o, 0, 0) ? 1 : 0;
      break;
    case KWS_OP_LEAKY_RELU:
      p->leaky_relu.alpha = r.template scalar<float>(o, 0, 0.0f);
      if (!isfinite(p->leaky_relu.alpha)) return fail(msg, KWS_ERR_MODEL_INVALID, "alpha is not finite");
      break;
    case KWS_OP_STRIDED_SLICE: {
      kws_strided_slice_params_t &c = p->strided_slice;
      c.begin_mask = r.template scalar<int32_t>(o, 0, 0);
      c.end_mask = r.template scalar<int32_t>(o, 1, 0);
      c.ellipsis_mask = r.template scalar<int32_t>(o, 2, 0);
      c.new_axis_mask = r.template scalar<int32_t>(o, 3, 0);
      c.shrink_axis_mask = r.template scalar<int32_t>(o, 4, 0);
      c.offset = r.template scalar<uint8_t>(o, 5, 0) ? 1 : 0;
      break;
    }
    case KWS_OP_SPLIT_V:
      p->split.num_splits = r.template scalar<int32_t>(o, 0, 0);
      break;
    case KWS_OP_CALL_ONCE:
      p->call_once.init_subgraph = r.template scalar<int32_t>(o, 0, 0);
      break;
    default:
      break;
  }
  return r.bad() ? fail(msg, KWS_ERR_MODEL_INVALID, "malformed options table") : KWS_OK;
}

/* The checked instances verify the model and prepare it; the trusted ones re-read the
 * verified model at every invoke (fb::Trusted: the same reads without the bounds checks). */
template kws_status_t read_tensor(fb::Reader &, const kws_interpreter_t *, const kws_subgraph_t &, uint32_t,
                                  kws_tensor_t *, Message &);
template kws_status_t read_tensor(fb::Trusted &, const kws_interpreter_t *, const kws_subgraph_t &, uint32_t,
                                  kws_tensor_t *, Message &);
template kws_status_t read_op(fb::Reader &, const kws_interpreter_t *, const kws_subgraph_t &, uint32_t, OpRecord *,
                              Message &);
template kws_status_t read_op(fb::Trusted &, const kws_interpreter_t *, const kws_subgraph_t &, uint32_t, OpRecord *,
                              Message &);
template kws_status_t read_params(fb::Reader &, const OpRecord &, kws_op_params_t *, Message &);
template kws_status_t read_params(fb::Trusted &, const OpRecord &, kws_op_params_t *, Message &);

}  // namespace kws
