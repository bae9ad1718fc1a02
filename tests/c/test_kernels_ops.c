/* Kernels driven through hand-filled contexts: the resolver's replace rule, and small cases
 * whose outputs are worked out by hand (pool rounding, conv zero-point handling at padded
 * borders, ADD saturation, softmax of equal logits, prepare rejecting bad shapes, MUL's
 * multiplier in each flavor). */
#include <string.h>

#include "kernels/kernel_api.h"
#include "kernels/kernel_util.h"
#include "kernels/reference_kernels.h"
#include "kws_test.h"

static kws_tensor_t tensor4(int8_t *data, int n, int h, int w, int c, float scale, int32_t zp) {
  kws_tensor_t t;
  memset(&t, 0, sizeof t);
  t.type = KWS_TYPE_INT8;
  t.rank = 4;
  t.dims[0] = n;
  t.dims[1] = h;
  t.dims[2] = w;
  t.dims[3] = c;
  t.data = data;
  t.bytes = (size_t)(n * h * w * c);
  t.scale = scale;
  t.zero_point = zp;
  return t;
}

static int32_t scratch[256], op_data[64];
static char message[96];

/* The context of a two-input, one-output element-wise op (ADD, MUL). */
static kws_op_context_t binary_op(int builtin_code, kws_tensor_t *a, kws_tensor_t *b,
                                  kws_tensor_t *out) {
  kws_op_context_t ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.builtin_code = builtin_code;
  ctx.n_inputs = 2;
  ctx.n_outputs = 1;
  ctx.inputs[0] = a;
  ctx.inputs[1] = b;
  ctx.outputs[0] = out;
  return ctx;
}

static kws_status_t run(const kws_kernel_t *k, kws_op_context_t *ctx) {
  ctx->message = message;
  ctx->message_len = sizeof message;
  ctx->scratch = scratch;
  if (k->op_data_size && k->op_data_size(ctx) > sizeof op_data) return KWS_ERR_NO_MEMORY;
  ctx->op_data = op_data;
  kws_status_t st = k->prepare(ctx);
  if (st != KWS_OK) return st;
  if (k->scratch_size && k->scratch_size(ctx) > sizeof scratch) return KWS_ERR_NO_MEMORY;
  return k->invoke(ctx);
}

static void test_resolver(void) {
  kws_op_resolver_t r;
  kws_resolver_init_reference(&r);
  EXPECT_EQ(r.count, 33);
  EXPECT_TRUE(r.count < KWS_MAX_KERNELS); /* room for an accelerated kernel of a new op */
  EXPECT_TRUE(kws_resolver_find(&r, KWS_OP_CONV_2D) == &kws_kernel_conv_2d);
  EXPECT_TRUE(kws_resolver_find(&r, KWS_OP_STRIDED_SLICE) == &kws_kernel_strided_slice);
  EXPECT_TRUE(kws_resolver_find(&r, KWS_OP_HARD_SWISH) == &kws_kernel_hard_swish);
  EXPECT_TRUE(kws_resolver_find(&r, KWS_OP_CALL_ONCE) == NULL); /* the interpreter runs it */
  EXPECT_TRUE(kws_resolver_find(&r, 99) == NULL);
  kws_kernel_t faster = kws_kernel_conv_2d;
  faster.name = "CONV_2D/test";
  EXPECT_EQ(kws_resolver_add(&r, &faster), KWS_OK);
  EXPECT_EQ(r.count, 33); /* replaced, not appended */
  EXPECT_TRUE(kws_resolver_find(&r, KWS_OP_CONV_2D) == &faster);
  EXPECT_EQ(kws_resolver_add(&r, NULL), KWS_ERR_ARG);
}

static void test_average_pool_rounds_half_away(void) {
  int8_t in[4] = {1, 2, -1, -2}, out[2];
  kws_tensor_t ti = tensor4(in, 1, 1, 4, 1, 1.0f, 0), to = tensor4(out, 1, 1, 2, 1, 1.0f, 0);
  kws_op_context_t ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.builtin_code = KWS_OP_AVERAGE_POOL_2D;
  ctx.n_inputs = ctx.n_outputs = 1;
  ctx.inputs[0] = &ti;
  ctx.outputs[0] = &to;
  ctx.params.pool.padding = KWS_PAD_VALID;
  ctx.params.pool.stride_w = 2;
  ctx.params.pool.stride_h = 1;
  ctx.params.pool.filter_w = 2;
  ctx.params.pool.filter_h = 1;
  EXPECT_EQ(run(&kws_kernel_average_pool_2d, &ctx), KWS_OK);
  EXPECT_EQ(out[0], 2);  /* 3/2 = 1.5 -> 2 */
  EXPECT_EQ(out[1], -2); /* -3/2 = -1.5 -> -2 */
}

/* 1-D conv of width 3, SAME padding, input zero point 10: the padded tap contributes nothing
 * (it is the real value 0, i.e. the zero point), which the hoisted weight sums must respect. */
static void test_conv_padding_with_zero_point(void) {
  int8_t in[3] = {11, 12, 13}, w[3] = {1, 1, 1}, out[3];
  int32_t bias[1] = {0};
  float wscale = 1.0f;
  kws_tensor_t ti = tensor4(in, 1, 1, 3, 1, 1.0f, 10), tw = tensor4(w, 1, 1, 3, 1, 1.0f, 0);
  kws_tensor_t to = tensor4(out, 1, 1, 3, 1, 1.0f, 0), tb;
  memset(&tb, 0, sizeof tb);
  tb.type = KWS_TYPE_INT32;
  tb.rank = 1;
  tb.dims[0] = 1;
  tb.data = bias;
  tw.channel_scales = &wscale;
  tw.n_channel_scales = 1;
  kws_op_context_t ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.builtin_code = KWS_OP_CONV_2D;
  ctx.n_inputs = 3;
  ctx.n_outputs = 1;
  ctx.inputs[0] = &ti;
  ctx.inputs[1] = &tw;
  ctx.inputs[2] = &tb;
  ctx.outputs[0] = &to;
  ctx.params.conv.padding = KWS_PAD_SAME;
  ctx.params.conv.stride_w = ctx.params.conv.stride_h = 1;
  ctx.params.conv.dilation_w = ctx.params.conv.dilation_h = 1;
  EXPECT_EQ(run(&kws_kernel_conv_2d, &ctx), KWS_OK);
  EXPECT_EQ(out[0], 3); /* 0 + 1 + 2 */
  EXPECT_EQ(out[1], 6); /* 1 + 2 + 3 */
  EXPECT_EQ(out[2], 5); /* 2 + 3 + 0 */
  ti.dims[3] = 2;       /* filter depth no longer divides the input channels' ... */
  tw.dims[0] = 2;       /* ... and filter count differs from output channels */
  EXPECT_EQ(run(&kws_kernel_conv_2d, &ctx), KWS_ERR_MODEL_INVALID);
  EXPECT_TRUE(message[0] != '\0');
}

static void test_add_saturates(void) {
  int8_t a[2] = {127, -128}, b[2] = {127, -128}, out[2];
  kws_tensor_t ta = tensor4(a, 1, 1, 1, 2, 1.0f, 0), tb = tensor4(b, 1, 1, 1, 2, 1.0f, 0);
  kws_tensor_t to = tensor4(out, 1, 1, 1, 2, 1.0f, 0);
  kws_op_context_t ctx = binary_op(KWS_OP_ADD, &ta, &tb, &to);
  EXPECT_EQ(run(&kws_kernel_add, &ctx), KWS_OK);
  EXPECT_EQ(out[0], 127);
  EXPECT_EQ(out[1], -128);
}

static void test_softmax_equal_logits(void) {
  int8_t in[4] = {5, 5, 5, 5}, out[4];
  kws_tensor_t ti = tensor4(in, 1, 1, 1, 4, 0.1f, 0), to = tensor4(out, 1, 1, 1, 4, 1.0f / 256, -128);
  kws_op_context_t ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.builtin_code = KWS_OP_SOFTMAX;
  ctx.n_inputs = ctx.n_outputs = 1;
  ctx.inputs[0] = &ti;
  ctx.outputs[0] = &to;
  ctx.params.softmax.beta = 1.0f;
  EXPECT_EQ(run(&kws_kernel_softmax, &ctx), KWS_OK);
  for (int i = 0; i < 4; i++) EXPECT_EQ(out[i], -64); /* 0.25 * 256 - 128 */
  to.zero_point = 0; /* the int8 softmax output quantization is fixed */
  EXPECT_EQ(run(&kws_kernel_softmax, &ctx), KWS_ERR_UNSUPPORTED);
}

/* A MUL from a random model (0169_mul of tests/test_kernels_random.py's set):
 * (-128 - 17) * (-79 - 3) = 11890, times M * 2^5 (M = 0.0640083 * 0.0316473 / 0.103156) is
 * 7471.50006, so the high multiply rounds to 7471 or 7472 by the multiplier's last bits, and the
 * shift by 5 turns that into 233 or 234. TFLite computes M in float and gives -128 + 233 = 105
 * (TF 2.16.2 and 2.21.0); TFLite Micro computes it in double and gives 106. */
static void test_mul_multiplier_per_flavor(void) {
  int8_t a[1] = {-128}, b[1] = {-79}, out[1];
  kws_tensor_t ta = tensor4(a, 1, 1, 1, 1, 0.06400827318429947f, 17);
  kws_tensor_t tb = tensor4(b, 1, 1, 1, 1, 0.03164725750684738f, 3);
  kws_tensor_t to = tensor4(out, 1, 1, 1, 1, 0.10315641015768051f, -128);
  kws_op_context_t ctx = binary_op(KWS_OP_MUL, &ta, &tb, &to);
  EXPECT_EQ(run(&kws_kernel_mul, &ctx), KWS_OK);
  EXPECT_EQ(out[0], 105);
  kws_kernels_set_flavor(KWS_FLAVOR_TFLM);
  EXPECT_EQ(run(&kws_kernel_mul, &ctx), KWS_OK);
  EXPECT_EQ(out[0], 106);
  kws_kernels_set_flavor(KWS_FLAVOR_TFLITE);
}

int main(void) {
  RUN_TEST(test_resolver);
  RUN_TEST(test_average_pool_rounds_half_away);
  RUN_TEST(test_conv_padding_with_zero_point);
  RUN_TEST(test_add_saturates);
  RUN_TEST(test_softmax_equal_logits);
  RUN_TEST(test_mul_multiplier_per_flavor);
  TEST_MAIN_END();
}
