/* STRIDED_SLICE, as TFLite's reference kernel (strided_slice.cc, strided_slice_logic.h):
 *  - the masks are first folded into a plan over an "effective" input of up to 5 dimensions:
 *    an ellipsis covers the dimensions that begin/end/strides leave out, a new axis is a
 *    dimension of 1, dimensions past the given indices are taken whole;
 *  - per axis, negative indices count from the end, begin and end are clamped ([0, size] going
 *    forward, [-1, size - 1] going backward), begin_mask/end_mask take the whole axis in the
 *    stride's direction, `offset` makes end relative to begin, and shrink_axis keeps one
 *    element and drops the axis from the output.
 * begin, end and strides must be constant int32 vectors (the output shape is fixed when the
 * model is converted; prepare checks the plan gives exactly that shape). Elements are copied
 * as they are (1, 2 or 4 bytes: int8, uint8, int16, int32, float32), a run at a time where
 * the innermost stride is 1. The plan is rebuilt at every invoke (about 100 instructions)
 * rather than kept: no RAM per operator. */
#include <string.h>

#include "kernels/kernel_util.h"
#include "kernels/reference_kernels.h"

namespace {

constexpr int kDims = KWS_MAX_DIMS;

/* Where the slice starts, its step and how many elements it takes, per axis of the effective
 * input padded at the front to 5 dimensions. */
struct Plan {
  int32_t dims[kDims];
  int32_t start[kDims], stride[kDims], count[kDims];
  int32_t out_dims[kDims]; /* the output shape the slice gives (shrunk axes left out) */
  int out_rank;
};

bool bit(int32_t mask, int i) { return i >= 0 && i < 31 && ((mask >> i) & 1); }

int32_t clamp(int32_t v, int32_t lo, int32_t hi) { return v < lo ? lo : (v > hi ? hi : v); }

/* Elements visited from `start` towards `stop` in steps of `stride` (stride != 0). */
int32_t steps(int32_t start, int32_t stop, int32_t stride) {
  const int64_t span = stride > 0 ? (int64_t)stop - start : (int64_t)start - stop;
  const int64_t step = stride > 0 ? stride : -(int64_t)stride;
  return span <= 0 ? 0 : (int32_t)((span + step - 1) / step);
}

/* Builds the plan from the op's options and constant inputs; NULL on success, else why not. */
const char *build_plan(const kws_op_context_t *ctx, Plan *p) {
  const kws_tensor_t *in = ctx->inputs[0];
  const kws_strided_slice_params_t &o = ctx->params.strided_slice;
  const int32_t *begin = static_cast<const int32_t *>(ctx->inputs[1]->data);
  const int32_t *end = static_cast<const int32_t *>(ctx->inputs[2]->data);
  const int32_t *strides = static_cast<const int32_t *>(ctx->inputs[3]->data);
  const int n = kws_flat_size(ctx->inputs[1]); /* entries of begin, end and strides */
  const int rank = in->rank;

  /* 1. The effective input: new axes not under the ellipsis add a dimension each. */
  int added = 0;
  for (int i = 0; i < n; i++)
    if (!bit(o.ellipsis_mask, i) && bit(o.new_axis_mask, i)) added++;
  const int dims = rank + added;
  if (dims > kDims) return "more than 5 dimensions with the new axes";
  int32_t ellipsis = 0, new_axis = 0;
  int ellipsis_start = dims, expanded = 0;
  for (int i = 0; i < dims;) {
    if (bit(o.ellipsis_mask, i)) {
      ellipsis_start = i;
      int stop = i + 1 + added + rank - n;
      stop = stop < dims ? stop : dims;
      stop = stop > i + 1 ? stop : i + 1;
      expanded = stop - ellipsis_start - 1;
      for (; i < stop; i++) ellipsis |= 1 << i;
      continue;
    }
    if (bit(o.new_axis_mask, i - expanded)) new_axis |= 1 << i;
    i++;
  }

  /* 2. Per effective axis: index range and masks (TFLite's BuildStridedSliceParams). */
  int32_t start[kDims] = {}, stop[kDims] = {}, stride[kDims] = {}, shape[kDims] = {};
  int32_t begin_mask = 0, end_mask = 0, shrink = 0;
  int added_ellipsis = 0, added_axes = 0;
  for (int i = 0; i < dims; i++) {
    if (bit(ellipsis, i) || bit(new_axis, i) || i >= n + expanded) {
      stride[i] = 1;
      if (bit(new_axis, i) && !bit(ellipsis, i)) {
        stop[i] = 1;
        shape[i] = 1;
        added_axes++;
        continue;
      }
      if (bit(ellipsis, i)) added_ellipsis = i - ellipsis_start > 0 ? i - ellipsis_start : 0;
      begin_mask |= 1 << i;
      end_mask |= 1 << i;
    } else {
      const int k = i - added_ellipsis; /* index into begin, end, strides */
      if (k < 0 || k >= n) return "begin, end and strides do not cover the masks";
      start[i] = begin[k];
      stop[i] = end[k];
      stride[i] = strides[k];
      if (bit(o.begin_mask, k)) begin_mask |= 1 << i;
      if (bit(o.end_mask, k)) end_mask |= 1 << i;
      if (bit(o.shrink_axis_mask, k)) shrink |= 1 << i;
    }
    const int d = i - added_axes;
    if (d < 0 || d >= rank) return "the masks do not fit the input's rank";
    shape[i] = in->dims[d];
  }

  /* 3. Pad at the front to 5 axes (whole axes of 1) and resolve each axis. */
  const int pad = kDims - dims;
  p->out_rank = 0;
  for (int a = 0; a < kDims; a++) {
    const int i = a - pad;
    if (i < 0) {
      p->dims[a] = 1;
      p->start[a] = 0;
      p->stride[a] = 1;
      p->count[a] = 1;
      continue;
    }
    const int32_t size = shape[i], s = stride[i];
    if (s == 0) return "a stride is 0";
    int32_t first = start[i] < 0 ? start[i] + size : start[i];
    first = s > 0 ? clamp(first, 0, size) : clamp(first, -1, size - 1);
    if (bit(begin_mask, i)) first = s > 0 ? 0 : size - 1;
    int32_t last;
    if (bit(shrink, i)) {
      last = first >= size ? first : first + 1;
    } else {
      last = o.offset ? stop[i] + first : stop[i];
      if (last < 0) last += size;
      last = s > 0 ? clamp(last, 0, size) : clamp(last, -1, size - 1);
      if (bit(end_mask, i)) last = s > 0 ? size : -1;
    }
    p->dims[a] = size;
    p->start[a] = first;
    p->stride[a] = s;
    p->count[a] = steps(first, last, s);
    if (bit(shrink, i)) {
      if (p->count[a] != 1) return "a shrunk axis selects no element";
    } else {
      p->out_dims[p->out_rank++] = p->count[a];
    }
  }
  return nullptr;
}

size_t no_op_data(const kws_op_context_t *) { return 0; }

bool is_index_vector(const kws_tensor_t *t, int32_t n) {
  return kws_is_type(t, KWS_TYPE_INT32) && t->is_constant && t->rank == 1 && t->dims[0] == n;
}

kws_status_t prepare(kws_op_context_t *ctx) {
  if (ctx->n_inputs != 4 || ctx->n_outputs != 1 || !ctx->inputs[0] || !ctx->inputs[1] || !ctx->inputs[2] || !ctx->inputs[3])
    return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "needs input, begin, end and strides");
  const kws_tensor_t *in = ctx->inputs[0], *out = ctx->outputs[0];
  const int32_t n = ctx->inputs[1]->rank == 1 ? ctx->inputs[1]->dims[0] : 0;
  if (n < 1 || n > kDims || !is_index_vector(ctx->inputs[1], n) || !is_index_vector(ctx->inputs[2], n) ||
      !is_index_vector(ctx->inputs[3], n))
    return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "begin, end and strides must be constant int32 vectors of one length");
  if (in->type != out->type) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "input and output types differ");
  const size_t elem = in->bytes / (size_t)kws_flat_size(in);
  if (elem != 1 && elem != 2 && elem != 4) return kws_kernel_fail(ctx, KWS_ERR_UNSUPPORTED, "only 1, 2 or 4-byte elements are supported");
  Plan p;
  const char *why = build_plan(ctx, &p);
  if (why) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, why);
  bool same = p.out_rank == out->rank;
  for (int d = 0; same && d < out->rank; d++) same = p.out_dims[d] == out->dims[d];
  if (!same) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "the output shape is not the slice's shape");
  return KWS_OK;
}

kws_status_t invoke(kws_op_context_t *ctx) {
  const kws_tensor_t *in = ctx->inputs[0], *out = ctx->outputs[0];
  Plan p;
  if (build_plan(ctx, &p)) return kws_kernel_fail(ctx, KWS_ERR_MODEL_INVALID, "bad slice");
  const size_t elem = in->bytes / (size_t)kws_flat_size(in);
  /* Element strides of the input per axis. Every index below lies inside the input (begin and
   * end are clamped to the axis), and tensors hold at most 2^28 bytes: int32 is enough. */
  int32_t pitch[kDims];
  pitch[kDims - 1] = 1;
  for (int a = kDims - 2; a >= 0; a--) pitch[a] = pitch[a + 1] * p.dims[a + 1];
  const uint8_t *src = static_cast<const uint8_t *>(in->data);
  uint8_t *dst = static_cast<uint8_t *>(out->data);
  const bool run = p.stride[4] == 1; /* innermost elements contiguous: one copy per run */
  const size_t run_bytes = (size_t)p.count[4] * elem;
  for (int32_t i0 = 0; i0 < p.count[0]; i0++) {
    const int32_t o0 = (p.start[0] + i0 * p.stride[0]) * pitch[0];
    for (int32_t i1 = 0; i1 < p.count[1]; i1++) {
      const int32_t o1 = o0 + (p.start[1] + i1 * p.stride[1]) * pitch[1];
      for (int32_t i2 = 0; i2 < p.count[2]; i2++) {
        const int32_t o2 = o1 + (p.start[2] + i2 * p.stride[2]) * pitch[2];
        for (int32_t i3 = 0; i3 < p.count[3]; i3++) {
          const int32_t o3 = o2 + (p.start[3] + i3 * p.stride[3]) * pitch[3] + p.start[4];
          if (run) {
            memcpy(dst, src + (size_t)o3 * elem, run_bytes);
            dst += run_bytes;
            continue;
          }
          for (int32_t i4 = 0; i4 < p.count[4]; i4++) {
            memcpy(dst, src + (size_t)(o3 + i4 * p.stride[4]) * elem, elem);
            dst += elem;
          }
        }
      }
    }
  }
  return KWS_OK;
}

}  // namespace

extern "C" const kws_kernel_t kws_kernel_strided_slice = {KWS_OP_STRIDED_SLICE, "STRIDED_SLICE", no_op_data, prepare,
                                                         nullptr, invoke};
