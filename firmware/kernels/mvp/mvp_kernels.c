#include "kernels/mvp/mvp_kernels.h"

#include <string.h>

#include "kernels/fixed_point.h"
#include "kernels/kernel_util.h"
#include "kernels/mvp/mvp_mltk_mapping.h"
#include "kernels/mvp/mvp_ops.h"
#include "kernels/reference_kernels.h"
#include "mvp/mvp_driver.h"

/* Persistent per-op data: the decision and the layer's geometry, then binary16 constants. */
typedef struct {
  uint8_t on_mvp;
  uint8_t mapping;
  mvp_conv_args_t conv;
  mvp_add_args_t add;
} op_data_t;

#define CONST_OFFSET ((sizeof(op_data_t) + 15u) & ~(size_t)15u)

static kws_mvp_mapping_t current_mapping = KWS_MVP_MAPPING_FAST;
static uint16_t cpu_mac_x16, cpu_per_output;

void kws_mvp_set_cpu_cost(uint16_t cycles_per_mac_x16, uint16_t cycles_per_output) {
  cpu_mac_x16 = cycles_per_mac_x16;
  cpu_per_output = cycles_per_output;
}

/* Output channels the CPU takes: an even count, rounded down so the CPU finishes first. */
static int cpu_channels(const kws_op_context_t *ctx, const mvp_conv_args_t *a) {
  if (ctx->builtin_code != KWS_OP_CONV_2D || current_mapping != KWS_MVP_MAPPING_FAST ||
      cpu_mac_x16 == 0)
    return 0;
  const uint32_t taps = (uint32_t)(a->f_h * a->f_w * a->in_c);
  const uint32_t mvp_x16 = (taps / 2u + 1u) * 16u;                  /* per output and channel */
  const uint32_t cpu_x16 = taps * cpu_mac_x16 + 16u * cpu_per_output;
  int n = (int)((uint32_t)a->out_c * mvp_x16 / (mvp_x16 + cpu_x16)) & ~1;
  return n > a->out_c - 2 ? 0 : n;
}
static kws_mvp_op_stats_t op_stats[KWS_MVP_MAX_OPS];

void kws_mvp_set_mapping(kws_mvp_mapping_t mapping) { current_mapping = mapping; }

const kws_mvp_op_stats_t *kws_mvp_op_stats(uint16_t op_index) {
  return op_index < KWS_MVP_MAX_OPS ? &op_stats[op_index] : NULL;
}

void kws_mvp_op_stats_reset(void) { memset(op_stats, 0, sizeof(op_stats)); }

static void *consts_of(const kws_op_context_t *ctx) { return (uint8_t *)ctx->op_data + CONST_OFFSET; }

static const kws_kernel_t *reference_for(uint16_t code) {
  switch (code) {
    case KWS_OP_CONV_2D: return &kws_kernel_conv_2d;
    case KWS_OP_DEPTHWISE_CONV_2D: return &kws_kernel_depthwise_conv_2d;
    case KWS_OP_FULLY_CONNECTED: return &kws_kernel_fully_connected;
    default: return &kws_kernel_add;
  }
}

/* Geometry of a CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED. Returns 0 for forms the MVP
 * kernels never take (types, batches, dilation, depth multiplier, grouped filters). */
static int conv_geometry(const kws_op_context_t *ctx, mvp_conv_args_t *a) {
  const kws_tensor_t *in = ctx->inputs[0], *f = ctx->inputs[1], *out = ctx->outputs[0];
  memset(a, 0, sizeof(*a));
  if (in->type != KWS_TYPE_INT8 || f->type != KWS_TYPE_INT8 || out->type != KWS_TYPE_INT8) return 0;
  if (ctx->builtin_code == KWS_OP_FULLY_CONNECTED) {
    if (f->rank != 2) return 0;
    int32_t k = f->dims[1], n = f->dims[0];
    if (kws_flat_size(in) != k || kws_flat_size(out) != n) return 0; /* one batch only */
    a->in_h = a->in_w = a->out_h = a->out_w = a->f_h = a->f_w = a->stride_h = a->stride_w = 1;
    a->in_c = k;
    a->out_c = n;
    kws_activation_range_int8(ctx->params.fc.activation, out, &a->act_min, &a->act_max);
  } else {
    const kws_conv_params_t *p = &ctx->params.conv;
    if (in->rank != 4 || f->rank != 4 || out->rank != 4 || in->dims[0] != 1) return 0;
    if (p->dilation_h != 1 || p->dilation_w != 1) return 0;
    a->in_h = in->dims[1], a->in_w = in->dims[2], a->in_c = in->dims[3];
    a->out_h = out->dims[1], a->out_w = out->dims[2], a->out_c = out->dims[3];
    a->f_h = f->dims[1], a->f_w = f->dims[2];
    a->stride_h = p->stride_h, a->stride_w = p->stride_w;
    a->pad_top = kws_conv_pad_before(a->in_h, a->f_h, p->stride_h, 1, a->out_h);
    a->pad_left = kws_conv_pad_before(a->in_w, a->f_w, p->stride_w, 1, a->out_w);
    a->depthwise = ctx->builtin_code == KWS_OP_DEPTHWISE_CONV_2D;
    if (a->depthwise && (p->depth_multiplier != 1 || a->out_c != a->in_c)) return 0;
    if (!a->depthwise && f->dims[3] != a->in_c) return 0;
    kws_activation_range_int8(p->activation, out, &a->act_min, &a->act_max);
  }
  a->in_zp = in->zero_point;
  a->out_zp = out->zero_point;
  return 1;
}

static void bind_conv(const kws_op_context_t *ctx, mvp_conv_args_t *a) {
  a->input = (const int8_t *)ctx->inputs[0]->data;
  a->filter = (const int8_t *)ctx->inputs[1]->data;
  const kws_tensor_t *b = ctx->n_inputs > 2 ? ctx->inputs[2] : NULL;
  a->bias = b && b->data ? (const int32_t *)b->data : NULL;
  a->output = (int8_t *)ctx->outputs[0]->data;
}

static size_t conv_op_data_size(const kws_op_context_t *ctx) {
  mvp_conv_args_t a;
  if (!conv_geometry(ctx, &a)) return CONST_OFFSET;
  /* constants (>= the MLTK mapping's 4 bytes/channel), then the CPU share's multipliers */
  return CONST_OFFSET + mvp_conv_const_bytes(&a) + 12u * (size_t)cpu_channels(ctx, &a);
}

static kws_status_t conv_prepare(kws_op_context_t *ctx) {
  kws_status_t st = reference_for(ctx->builtin_code)->prepare(ctx); /* validates the op */
  if (st != KWS_OK) return st;
  op_data_t *d = (op_data_t *)ctx->op_data;
  memset(d, 0, sizeof(*d));
  d->mapping = (uint8_t)current_mapping;
  mvp_conv_args_t *a = &d->conv;
  if (!conv_geometry(ctx, a)) return KWS_OK;
  bind_conv(ctx, a);
  if (mvp_conv_check(a) != KWS_OK) return KWS_OK; /* shape or alignment: CPU fallback */
  if (d->mapping == KWS_MVP_MAPPING_MLTK && (a->in_w != 1 || a->f_w != 1)) return KWS_OK;
  const kws_tensor_t *in = ctx->inputs[0], *f = ctx->inputs[1], *out = ctx->outputs[0];
  for (int o = 0; o < a->out_c; o++)
    if (!mvp_conv_scale_ok(in->scale * kws_weight_scale(f, o) / out->scale)) return KWS_OK;
  a->cpu_out_c = cpu_channels(ctx, a);
  if (a->cpu_out_c) {
    int32_t *mult = (int32_t *)((uint8_t *)consts_of(ctx) + mvp_conv_const_bytes(a));
    int32_t *shift = mult + a->cpu_out_c, *wsum = shift + a->cpu_out_c;
    const int o0 = a->out_c - a->cpu_out_c;
    const int taps = a->f_h * a->f_w * a->in_c;
    for (int o = o0; o < a->out_c; o++) {
      int sh;
      wsum[o - o0] = 0;
      for (int i = 0; i < taps; i++) wsum[o - o0] += a->filter[(long)o * taps + i];
      kws_quantize_multiplier((double)in->scale * (double)kws_weight_scale(f, o) / (double)out->scale,
                              &mult[o - o0], &sh);
      shift[o - o0] = sh;
    }
    a->cpu_mult = mult;
    a->cpu_shift = shift;
    a->cpu_wsum = wsum;
  }
  for (int o = 0; o < a->out_c; o++) {
    float eff = in->scale * kws_weight_scale(f, o) / out->scale;
    int32_t bias = a->bias ? a->bias[o] : 0;
    if (d->mapping == KWS_MVP_MAPPING_MLTK)
      mltk_conv_const_channel(a, o, eff, bias, (uint16_t *)consts_of(ctx));
    else
      mvp_conv_const_channel(a, o, eff, bias, consts_of(ctx));
  }
  d->on_mvp = 1;
  return KWS_OK;
}

static size_t conv_scratch_size(const kws_op_context_t *ctx) {
  const kws_kernel_t *ref = reference_for(ctx->builtin_code);
  size_t cpu = ref->scratch_size ? ref->scratch_size(ctx) : 0;
  const op_data_t *d = (const op_data_t *)ctx->op_data;
  size_t mvp = d->on_mvp ? mvp_conv_scratch_bytes(&d->conv) : 0;
  return cpu > mvp ? cpu : mvp;
}

static void account(uint16_t op, uint64_t cycles0, uint32_t programs0, uint8_t on_mvp,
                    uint32_t cpu_macs) {
  if (op >= KWS_MVP_MAX_OPS) return;
  op_stats[op].cpu_macs = cpu_macs;
  const mvp_counters_t *c = mvp_counters();
  op_stats[op].cycles = (uint32_t)(c->cycles - cycles0);
  op_stats[op].programs = c->programs - programs0;
  op_stats[op].on_mvp = on_mvp;
}

static kws_status_t conv_invoke(kws_op_context_t *ctx) {
  op_data_t *d = (op_data_t *)ctx->op_data;
  if (!d->on_mvp) {
    account(ctx->op_index, mvp_counters()->cycles, mvp_counters()->programs, 0, 0);
    return reference_for(ctx->builtin_code)->invoke(ctx);
  }
  uint64_t c0 = mvp_counters()->cycles;
  uint32_t p0 = mvp_counters()->programs;
  bind_conv(ctx, &d->conv); /* arena pointers are stable, but cheap to refresh */
  kws_status_t st;
  if (mvp_conv_check(&d->conv) != KWS_OK || ((uintptr_t)ctx->scratch & 3u)) {
    st = reference_for(ctx->builtin_code)->invoke(ctx);
  } else if (d->mapping == KWS_MVP_MAPPING_MLTK) {
    st = mltk_conv_run(&d->conv, (const uint16_t *)consts_of(ctx), ctx->scratch);
  } else {
    st = mvp_conv_run(&d->conv, consts_of(ctx), ctx->scratch, 1);
  }
  const mvp_conv_args_t *a = &d->conv;
  account(ctx->op_index, c0, p0, 1,
          (uint32_t)a->cpu_out_c * (uint32_t)(a->out_h * a->out_w) * (uint32_t)(a->f_h * a->f_w * a->in_c));
  return st;
}

/* ADD: same-shape int8 inputs only (no broadcasting). */
static size_t add_op_data_size(const kws_op_context_t *ctx) {
  (void)ctx;
  return sizeof(op_data_t);
}

static kws_status_t add_prepare(kws_op_context_t *ctx) {
  kws_status_t st = kws_kernel_add.prepare(ctx);
  if (st != KWS_OK) return st;
  op_data_t *d = (op_data_t *)ctx->op_data;
  memset(d, 0, sizeof(*d));
  const kws_tensor_t *x1 = ctx->inputs[0], *x2 = ctx->inputs[1], *out = ctx->outputs[0];
  if (x1->type != KWS_TYPE_INT8 || x2->type != KWS_TYPE_INT8 || out->type != KWS_TYPE_INT8 ||
      !kws_same_shape(x1, x2) || !kws_same_shape(x1, out))
    return KWS_OK;
  mvp_add_args_t *a = &d->add;
  a->n = kws_flat_size(out);
  a->zp1 = x1->zero_point, a->zp2 = x2->zero_point, a->out_zp = out->zero_point;
  a->m1 = x1->scale / out->scale;
  a->m2 = x2->scale / out->scale;
  kws_activation_range_int8(ctx->params.elementwise.activation, out, &a->act_min, &a->act_max);
  a->in1 = (const int8_t *)x1->data, a->in2 = (const int8_t *)x2->data, a->output = (int8_t *)out->data;
  d->mapping = (uint8_t)current_mapping;
  d->on_mvp = mvp_add_check(a) == KWS_OK;
  return KWS_OK;
}

static kws_status_t add_invoke(kws_op_context_t *ctx) {
  op_data_t *d = (op_data_t *)ctx->op_data;
  uint64_t c0 = mvp_counters()->cycles;
  uint32_t p0 = mvp_counters()->programs;
  mvp_add_args_t *a = &d->add;
  if (d->on_mvp) {
    a->in1 = (const int8_t *)ctx->inputs[0]->data;
    a->in2 = (const int8_t *)ctx->inputs[1]->data;
    a->output = (int8_t *)ctx->outputs[0]->data;
  }
  kws_status_t st;
  if (!d->on_mvp || mvp_add_check(a) != KWS_OK) st = kws_kernel_add.invoke(ctx);
  else if (d->mapping == KWS_MVP_MAPPING_MLTK) st = mltk_add_run(a);
  else st = mvp_add_run(a, 1);
  account(ctx->op_index, c0, p0, d->on_mvp, 0);
  return st;
}

const kws_kernel_t kws_kernel_conv_2d_mvp = {KWS_OP_CONV_2D, "CONV_2D/mvp", conv_op_data_size,
                                             conv_prepare, conv_scratch_size, conv_invoke};
const kws_kernel_t kws_kernel_depthwise_conv_2d_mvp = {KWS_OP_DEPTHWISE_CONV_2D,
                                                       "DEPTHWISE_CONV_2D/mvp", conv_op_data_size,
                                                       conv_prepare, conv_scratch_size, conv_invoke};
const kws_kernel_t kws_kernel_fully_connected_mvp = {KWS_OP_FULLY_CONNECTED,
                                                     "FULLY_CONNECTED/mvp", conv_op_data_size,
                                                     conv_prepare, conv_scratch_size, conv_invoke};
const kws_kernel_t kws_kernel_add_mvp = {KWS_OP_ADD, "ADD/mvp", add_op_data_size, add_prepare,
                                         NULL, add_invoke};

kws_status_t kws_mvp_resolver_add(kws_op_resolver_t *resolver) {
  kws_status_t st = mvp_init();
  if (st != KWS_OK) return st;
  const kws_kernel_t *all[] = {&kws_kernel_conv_2d_mvp, &kws_kernel_depthwise_conv_2d_mvp,
                               &kws_kernel_fully_connected_mvp, &kws_kernel_add_mvp};
  for (unsigned i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
    st = kws_resolver_add(resolver, all[i]);
    if (st != KWS_OK) return st;
  }
  return KWS_OK;
}
