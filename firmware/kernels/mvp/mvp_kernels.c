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
  uint8_t defer; /* a later operator exists: return without waiting for the last program */
  uint32_t cache; /* offset of the programs kept (mvp_cache_t) in the op data, 0: none */
  mvp_conv_args_t conv;
  mvp_add_args_t add;
} op_data_t;

#define CONST_OFFSET ((sizeof(op_data_t) + 15u) & ~(size_t)15u)

static kws_mvp_mapping_t current_mapping = KWS_MVP_MAPPING_FAST;
/* The CPU share's split, on by default: the Cortex-M33's cost of the CPU-share code counted on
 * QEMU (bench/mvp/m33.py: 1.58 instructions per MAC, 65.5 per output) at 1.25 cycles per
 * instruction, and a reserve for the runtime's work on the next operator. */
static uint16_t cpu_mac_x16 = KWS_MVP_CPU_MAC_X16, cpu_per_output = KWS_MVP_CPU_PER_OUTPUT;
static uint32_t cpu_reserve = KWS_MVP_CPU_RESERVE;

void kws_mvp_set_cpu_cost(uint16_t cycles_per_mac_x16, uint16_t cycles_per_output,
                          uint32_t reserve_cycles) {
  cpu_mac_x16 = cycles_per_mac_x16;
  cpu_per_output = cycles_per_output;
  cpu_reserve = reserve_cycles;
}

/* Output channels the CPU takes: an even count, rounded down so the CPU finishes first. The
 * CPU has the MVP's time minus `cpu_reserve` (the runtime's work for the next operator and the
 * program building, which run in the same window): m channels on the CPU cost
 * m * rows * cpu + reserve, the other channels on the MVP (c_out - m) * rows * mvp. */
static int cpu_channels(const kws_op_context_t *ctx, const mvp_conv_args_t *a) {
  if (ctx->builtin_code != KWS_OP_CONV_2D || current_mapping != KWS_MVP_MAPPING_FAST ||
      cpu_mac_x16 == 0)
    return 0;
  const uint64_t rows = (uint64_t)a->out_h * (uint64_t)a->out_w;
  const uint64_t taps = (uint64_t)a->f_h * (uint64_t)a->f_w * (uint64_t)a->in_c;
  const uint64_t mvp_x16 = (taps / 2u + 1u) * 16u * rows; /* per channel, x16 */
  const uint64_t cpu_x16 = (taps * cpu_mac_x16 + 16u * cpu_per_output) * rows;
  const uint64_t budget = (uint64_t)a->out_c * mvp_x16;
  if (budget <= 16u * (uint64_t)cpu_reserve) return 0;
  int n = (int)((budget - 16u * (uint64_t)cpu_reserve) / (mvp_x16 + cpu_x16)) & ~1;
  return n > a->out_c - 2 ? 0 : n;
}
static kws_mvp_op_stats_t op_stats[KWS_MVP_MAX_OPS];

/* Cross-operator overlap. An MVP kernel returns while its last program still runs, so the CPU
 * goes on with the runtime's work for the next operator (and that operator's first program)
 * meanwhile. Whatever touches tensors next waits first: the next MVP kernel's first program
 * starts only once the MVP is idle (mvp_run), and every other kernel in the resolver is wrapped
 * to wait before it runs. The graph's last operator waits before returning, so
 * kws_interp_invoke returns with the outputs written. "Last" is found at prepare time: the
 * runtime prepares operators in order, and each prepare marks the MVP operator before it as
 * having a successor. */
static uint8_t *pending_defer;
static uint16_t pending_index;

static void note_prepare(const kws_op_context_t *ctx, uint8_t *defer) {
  if (ctx->op_index == 0) pending_defer = NULL; /* a new allocation pass */
  if (pending_defer && ctx->op_index > pending_index) *pending_defer = 1;
  pending_defer = defer;
  pending_index = ctx->op_index;
  if (defer) *defer = 0;
}

/* MVP cycles per operator, from the driver's owner tags (a deferred program's cycles go to
 * the operator that started it). */
static void on_cycles(uint16_t owner, uint32_t cycles) {
  if (owner < KWS_MVP_MAX_OPS) op_stats[owner].cycles += cycles;
}

static void begin_op(uint16_t op) {
  if (op < KWS_MVP_MAX_OPS) op_stats[op].cycles = 0;
  mvp_set_owner(op);
}

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

/* Where a conv's program cache goes in its op data: after the constants and multipliers. */
static size_t conv_cache_offset(const kws_op_context_t *ctx, const mvp_conv_args_t *a) {
  return (CONST_OFFSET + mvp_conv_const_bytes(a) + 12u * (size_t)cpu_channels(ctx, a) + 7u) &
         ~(size_t)7u;
}

/* Programs kept per operator (our mapping only): the building is CPU work between two
 * programs, the one before it short when it follows an ADD. */
static int conv_cache_programs(const mvp_conv_args_t *a) {
  return current_mapping == KWS_MVP_MAPPING_FAST ? mvp_conv_programs(a) : 0;
}

static size_t conv_op_data_size(const kws_op_context_t *ctx) {
  mvp_conv_args_t a;
  if (!conv_geometry(ctx, &a)) return CONST_OFFSET;
  /* constants (>= the MLTK mapping's 4 bytes/channel), the CPU share's multipliers, the
   * programs kept */
  const int programs = conv_cache_programs(&a);
  return conv_cache_offset(ctx, &a) + (programs ? mvp_cache_bytes(programs) : 0);
}

static mvp_cache_t *conv_cache(const kws_op_context_t *ctx, const op_data_t *d) {
  return d->cache ? (mvp_cache_t *)(void *)((uint8_t *)ctx->op_data + d->cache) : NULL;
}

static kws_status_t conv_prepare(kws_op_context_t *ctx) {
  kws_status_t st = reference_for(ctx->builtin_code)->prepare(ctx); /* validates the op */
  if (st != KWS_OK) return st;
  op_data_t *d = (op_data_t *)ctx->op_data;
  memset(d, 0, sizeof(*d));
  note_prepare(ctx, &d->defer);
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
  const int programs = conv_cache_programs(a);
  if (programs) {
    d->cache = (uint32_t)conv_cache_offset(ctx, a);
    mvp_cache_t *c = conv_cache(ctx, d);
    memset(c, 0, sizeof(*c));
    c->cap = programs;
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

static void account(uint16_t op, uint32_t programs0, uint8_t on_mvp, uint32_t cpu_macs) {
  mvp_set_owner(0xFFFFu); /* programs started outside a kernel (tests, benches) go nowhere */
  if (op >= KWS_MVP_MAX_OPS) return;
  op_stats[op].cpu_macs = cpu_macs;
  op_stats[op].programs = mvp_counters()->programs - programs0;
  op_stats[op].on_mvp = on_mvp;
}

static kws_status_t conv_invoke(kws_op_context_t *ctx) {
  op_data_t *d = (op_data_t *)ctx->op_data;
  begin_op(ctx->op_index);
  const uint32_t p0 = mvp_counters()->programs;
  if (!d->on_mvp) {
    kws_status_t st = mvp_wait(); /* the previous operator's last program */
    account(ctx->op_index, p0, 0, 0);
    return st != KWS_OK ? st : reference_for(ctx->builtin_code)->invoke(ctx);
  }
  bind_conv(ctx, &d->conv); /* arena pointers are stable, but cheap to refresh */
  kws_status_t st;
  mvp_cache_t *cache = conv_cache(ctx, d);
  if (!mvp_conv_kept(&d->conv, consts_of(ctx), ctx->scratch, cache) &&
      (mvp_conv_check(&d->conv) != KWS_OK || ((uintptr_t)ctx->scratch & 3u))) {
    st = mvp_wait();
    if (st == KWS_OK) st = reference_for(ctx->builtin_code)->invoke(ctx);
  } else if (d->mapping == KWS_MVP_MAPPING_MLTK) {
    st = mltk_conv_run(&d->conv, (const uint16_t *)consts_of(ctx), ctx->scratch);
  } else {
    st = mvp_conv_run_cached(&d->conv, consts_of(ctx), ctx->scratch, !d->defer, cache);
  }
  if (st != KWS_OK) (void)mvp_wait();
  const mvp_conv_args_t *a = &d->conv;
  account(ctx->op_index, p0, 1,
          (uint32_t)a->cpu_out_c * (uint32_t)(a->out_h * a->out_w) * (uint32_t)(a->f_h * a->f_w * a->in_c));
  return st;
}

/* ADD: same-shape int8 inputs only (no broadcasting). */
static int add_cache_programs(const kws_op_context_t *ctx) {
  mvp_add_args_t a;
  a.n = kws_flat_size(ctx->outputs[0]);
  return current_mapping == KWS_MVP_MAPPING_FAST ? mvp_add_programs(&a) : 0;
}

static size_t add_op_data_size(const kws_op_context_t *ctx) {
  const int programs = add_cache_programs(ctx);
  return programs ? CONST_OFFSET + mvp_cache_bytes(programs) : sizeof(op_data_t);
}

static kws_status_t add_prepare(kws_op_context_t *ctx) {
  kws_status_t st = kws_kernel_add.prepare(ctx);
  if (st != KWS_OK) return st;
  op_data_t *d = (op_data_t *)ctx->op_data;
  memset(d, 0, sizeof(*d));
  note_prepare(ctx, &d->defer);
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
  const int programs = add_cache_programs(ctx);
  if (d->on_mvp && programs) {
    d->cache = (uint32_t)CONST_OFFSET;
    mvp_cache_t *c = conv_cache(ctx, d);
    memset(c, 0, sizeof(*c));
    c->cap = programs;
  }
  return KWS_OK;
}

static kws_status_t add_invoke(kws_op_context_t *ctx) {
  op_data_t *d = (op_data_t *)ctx->op_data;
  begin_op(ctx->op_index);
  const uint32_t p0 = mvp_counters()->programs;
  mvp_add_args_t *a = &d->add;
  if (d->on_mvp) {
    a->in1 = (const int8_t *)ctx->inputs[0]->data;
    a->in2 = (const int8_t *)ctx->inputs[1]->data;
    a->output = (int8_t *)ctx->outputs[0]->data;
  }
  kws_status_t st;
  if (!d->on_mvp || mvp_add_check(a) != KWS_OK) {
    st = mvp_wait();
    if (st == KWS_OK) st = kws_kernel_add.invoke(ctx);
  } else if (d->mapping == KWS_MVP_MAPPING_MLTK) {
    st = mltk_add_run(a);
  } else {
    st = mvp_add_run_cached(a, !d->defer, conv_cache(ctx, d));
  }
  if (st != KWS_OK) (void)mvp_wait();
  account(ctx->op_index, p0, d->on_mvp, 0);
  return st;
}

/* Every other kernel of the resolver, wrapped: wait for the MVP, then the kernel itself. */
static kws_kernel_t wrapped[KWS_MAX_KERNELS];
static const kws_kernel_t *wrapped_original[KWS_MAX_KERNELS];
static uint8_t n_wrapped;

static const kws_kernel_t *original_of(uint16_t code) {
  for (uint8_t i = 0; i < n_wrapped; i++)
    if (wrapped[i].builtin_code == code) return wrapped_original[i];
  return NULL;
}

static kws_status_t wrapped_prepare(kws_op_context_t *ctx) {
  note_prepare(ctx, NULL);
  const kws_kernel_t *k = original_of(ctx->builtin_code);
  return k ? k->prepare(ctx) : KWS_ERR_STATE;
}

static kws_status_t wrapped_invoke(kws_op_context_t *ctx) {
  const kws_kernel_t *k = original_of(ctx->builtin_code);
  kws_status_t st = mvp_wait();
  if (st != KWS_OK) return st;
  return k ? k->invoke(ctx) : KWS_ERR_STATE;
}

static int is_mvp_kernel(const kws_kernel_t *k);

static kws_status_t wrap_resolver(kws_op_resolver_t *resolver) {
  for (uint8_t i = 0; i < resolver->count; i++) {
    const kws_kernel_t *k = resolver->kernels[i];
    if (is_mvp_kernel(k) || (k->prepare == wrapped_prepare && k->invoke == wrapped_invoke)) continue;
    uint8_t slot = 0;
    while (slot < n_wrapped && wrapped[slot].builtin_code != k->builtin_code) slot++;
    if (slot == n_wrapped) {
      if (n_wrapped >= KWS_MAX_KERNELS) return KWS_ERR_NO_MEMORY;
      n_wrapped++;
    }
    wrapped[slot] = *k;
    wrapped[slot].prepare = wrapped_prepare;
    wrapped[slot].invoke = wrapped_invoke;
    wrapped_original[slot] = k;
    resolver->kernels[i] = &wrapped[slot];
  }
  return KWS_OK;
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

static int is_mvp_kernel(const kws_kernel_t *k) {
  return k == &kws_kernel_conv_2d_mvp || k == &kws_kernel_depthwise_conv_2d_mvp ||
         k == &kws_kernel_fully_connected_mvp || k == &kws_kernel_add_mvp;
}

kws_status_t kws_mvp_resolver_add(kws_op_resolver_t *resolver) {
  if (!resolver) return KWS_ERR_ARG;
  kws_status_t st = mvp_init();
  if (st != KWS_OK) return st;
  mvp_set_account(on_cycles);
  st = wrap_resolver(resolver);
  if (st != KWS_OK) return st;
  const kws_kernel_t *all[] = {&kws_kernel_conv_2d_mvp, &kws_kernel_depthwise_conv_2d_mvp,
                               &kws_kernel_fully_connected_mvp, &kws_kernel_add_mvp};
  for (unsigned i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
    st = kws_resolver_add(resolver, all[i]);
    if (st != KWS_OK) return st;
  }
  return KWS_OK;
}
