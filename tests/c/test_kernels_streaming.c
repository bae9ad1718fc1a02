/* The kernels streaming models need, driven through hand-filled contexts with outputs worked
 * out by hand: STRIDED_SLICE (a ring buffer's update, a reversed axis, shrink_axis, an
 * ellipsis, and a declared shape that is not the slice's), SPLIT_V (an inferred -1 part),
 * QUANTIZE int8 -> uint8 (microWakeWord's last operator), READ_VARIABLE / ASSIGN_VARIABLE on
 * a variable's view. */
#include <string.h>

#include "kernels/kernel_api.h"
#include "kernels/reference_kernels.h"
#include "kws_test.h"

static char message[96];

static kws_tensor_t tensor(uint8_t type, void *data, int rank, const int32_t *dims, size_t elem) {
  kws_tensor_t t;
  memset(&t, 0, sizeof t);
  t.type = type;
  t.rank = (uint8_t)rank;
  size_t n = 1;
  for (int d = 0; d < rank; d++) {
    t.dims[d] = dims[d];
    n *= (size_t)dims[d];
  }
  t.data = data;
  t.bytes = n * elem;
  t.scale = 1.0f;
  return t;
}

static kws_tensor_t indices(int32_t *values, int32_t n) {
  kws_tensor_t t = tensor(KWS_TYPE_INT32, values, 1, &n, 4);
  t.is_constant = 1;
  return t;
}

static kws_status_t run(const kws_kernel_t *k, kws_op_context_t *ctx) {
  ctx->message = message;
  ctx->message_len = sizeof message;
  message[0] = 0;
  kws_status_t st = k->prepare(ctx);
  return st != KWS_OK ? st : k->invoke(ctx);
}

/* STRIDED_SLICE of `in` with begin/end/strides of `n` entries and the given masks. */
static kws_status_t slice(kws_tensor_t *in, kws_tensor_t *out, int32_t *b, int32_t *e, int32_t *s, int32_t n,
                          int32_t begin_mask, int32_t end_mask, int32_t ellipsis_mask, int32_t shrink_mask) {
  kws_tensor_t tb = indices(b, n), te = indices(e, n), ts = indices(s, n);
  kws_op_context_t ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.builtin_code = KWS_OP_STRIDED_SLICE;
  ctx.n_inputs = 4;
  ctx.n_outputs = 1;
  ctx.inputs[0] = in;
  ctx.inputs[1] = &tb;
  ctx.inputs[2] = &te;
  ctx.inputs[3] = &ts;
  ctx.outputs[0] = out;
  ctx.params.strided_slice.begin_mask = begin_mask;
  ctx.params.strided_slice.end_mask = end_mask;
  ctx.params.strided_slice.ellipsis_mask = ellipsis_mask;
  ctx.params.strided_slice.shrink_axis_mask = shrink_mask;
  return run(&kws_kernel_strided_slice, &ctx);
}

static void test_strided_slice_ring_buffer_update(void) {
  /* microWakeWord: [1,5,1,3] -> the last 2 frames, begin_mask 13, end_mask 15. */
  int8_t x[15], y[6];
  for (int i = 0; i < 15; i++) x[i] = (int8_t)i;
  const int32_t in_dims[4] = {1, 5, 1, 3}, out_dims[4] = {1, 2, 1, 3};
  kws_tensor_t in = tensor(KWS_TYPE_INT8, x, 4, in_dims, 1), out = tensor(KWS_TYPE_INT8, y, 4, out_dims, 1);
  int32_t b[4] = {0, 3, 0, 0}, e[4] = {0, 0, 0, 0}, s[4] = {1, 1, 1, 1};
  EXPECT_EQ(slice(&in, &out, b, e, s, 4, 13, 15, 0, 0), KWS_OK);
  for (int i = 0; i < 6; i++) EXPECT_EQ(y[i], 9 + i);
}

static void test_strided_slice_reverse_and_shrink(void) {
  /* int32 [3,4]: row 1 (shrunk), columns 3, 1 (stride -2 from -1). */
  int32_t x[12], y[2] = {0, 0};
  for (int i = 0; i < 12; i++) x[i] = 100 + i;
  const int32_t in_dims[2] = {3, 4}, out_dims[1] = {2};
  kws_tensor_t in = tensor(KWS_TYPE_INT32, x, 2, in_dims, 4), out = tensor(KWS_TYPE_INT32, y, 1, out_dims, 4);
  int32_t b[2] = {1, -1}, e[2] = {2, -9}, s[2] = {1, -2};
  EXPECT_EQ(slice(&in, &out, b, e, s, 2, 0, 0, 0, 1), KWS_OK);
  EXPECT_EQ(y[0], 107);
  EXPECT_EQ(y[1], 105);
}

static void test_strided_slice_ellipsis(void) {
  /* [2,2,3][..., 1:]: the ellipsis takes the first two axes whole. */
  int8_t x[12], y[8];
  for (int i = 0; i < 12; i++) x[i] = (int8_t)i;
  const int32_t in_dims[3] = {2, 2, 3}, out_dims[3] = {2, 2, 2};
  kws_tensor_t in = tensor(KWS_TYPE_INT8, x, 3, in_dims, 1), out = tensor(KWS_TYPE_INT8, y, 3, out_dims, 1);
  int32_t b[2] = {0, 1}, e[2] = {0, 3}, s[2] = {1, 1};
  EXPECT_EQ(slice(&in, &out, b, e, s, 2, 0, 0, 1, 0), KWS_OK);
  const int8_t want[8] = {1, 2, 4, 5, 7, 8, 10, 11};
  EXPECT_TRUE(memcmp(y, want, 8) == 0);
}

static void test_strided_slice_refuses_a_wrong_output_shape(void) {
  int8_t x[6], y[3];
  const int32_t in_dims[1] = {6}, out_dims[1] = {3};
  kws_tensor_t in = tensor(KWS_TYPE_INT8, x, 1, in_dims, 1), out = tensor(KWS_TYPE_INT8, y, 1, out_dims, 1);
  int32_t b[1] = {0}, e[1] = {6}, s[1] = {1}; /* takes 6 elements, the output holds 3 */
  EXPECT_EQ(slice(&in, &out, b, e, s, 1, 0, 0, 0, 0), KWS_ERR_MODEL_INVALID);
  EXPECT_TRUE(strstr(message, "shape") != NULL);
  int32_t zero[1] = {0};
  EXPECT_EQ(slice(&in, &out, b, e, zero, 1, 0, 0, 0, 0), KWS_ERR_MODEL_INVALID);
  EXPECT_TRUE(strstr(message, "stride is 0") != NULL);
}

static void test_split_v_infers_the_last_part(void) {
  int8_t x[10], a[4], c[6];
  for (int i = 0; i < 10; i++) x[i] = (int8_t)i;
  const int32_t in_dims[2] = {2, 5}, a_dims[2] = {2, 2}, c_dims[2] = {2, 3};
  kws_tensor_t in = tensor(KWS_TYPE_INT8, x, 2, in_dims, 1);
  kws_tensor_t oa = tensor(KWS_TYPE_INT8, a, 2, a_dims, 1), oc = tensor(KWS_TYPE_INT8, c, 2, c_dims, 1);
  int32_t sizes[2] = {2, -1}, axis = -1;
  kws_tensor_t ts = indices(sizes, 2), ta = indices(&axis, 1);
  kws_op_context_t ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.builtin_code = KWS_OP_SPLIT_V;
  ctx.n_inputs = 3;
  ctx.n_outputs = 2;
  ctx.inputs[0] = &in;
  ctx.inputs[1] = &ts;
  ctx.inputs[2] = &ta;
  ctx.outputs[0] = &oa;
  ctx.outputs[1] = &oc;
  ctx.params.split.num_splits = 2;
  EXPECT_EQ(run(&kws_kernel_split_v, &ctx), KWS_OK);
  const int8_t want_a[4] = {0, 1, 5, 6}, want_c[6] = {2, 3, 4, 7, 8, 9};
  EXPECT_TRUE(memcmp(a, want_a, 4) == 0);
  EXPECT_TRUE(memcmp(c, want_c, 6) == 0);
  sizes[1] = 4; /* 2 + 4 != 5 */
  EXPECT_EQ(run(&kws_kernel_split_v, &ctx), KWS_ERR_MODEL_INVALID);
}

static void test_quantize_int8_to_uint8(void) {
  int8_t x[4] = {-128, -1, 0, 127};
  uint8_t y[4];
  const int32_t dims[2] = {1, 4};
  kws_tensor_t in = tensor(KWS_TYPE_INT8, x, 2, dims, 1), out = tensor(KWS_TYPE_UINT8, y, 2, dims, 1);
  in.scale = out.scale = 1.0f / 256;
  in.zero_point = -128;
  kws_op_context_t ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.builtin_code = KWS_OP_QUANTIZE;
  ctx.n_inputs = ctx.n_outputs = 1;
  ctx.inputs[0] = &in;
  ctx.outputs[0] = &out;
  EXPECT_EQ(run(&kws_kernel_quantize, &ctx), KWS_OK);
  EXPECT_EQ(y[0], 0);
  EXPECT_EQ(y[1], 127);
  EXPECT_EQ(y[2], 128);
  EXPECT_EQ(y[3], 255);
}

static void test_variables_read_and_assign_the_value(void) {
  int8_t value[6] = {0}, src[6] = {1, 2, 3, 4, 5, 6}, dst[6] = {0};
  const int32_t dims[2] = {2, 3};
  kws_tensor_t var = tensor(KWS_TYPE_RESOURCE, value, 0, dims, 1);
  var.bytes = sizeof value; /* the runtime shows a handle as its variable */
  kws_tensor_t in = tensor(KWS_TYPE_INT8, src, 2, dims, 1), out = tensor(KWS_TYPE_INT8, dst, 2, dims, 1);
  kws_op_context_t ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.n_inputs = 2;
  ctx.inputs[0] = &var;
  ctx.inputs[1] = &in;
  EXPECT_EQ(run(&kws_kernel_assign_variable, &ctx), KWS_OK);
  memset(&ctx, 0, sizeof ctx);
  ctx.n_inputs = ctx.n_outputs = 1;
  ctx.inputs[0] = &var;
  ctx.outputs[0] = &out;
  EXPECT_EQ(run(&kws_kernel_read_variable, &ctx), KWS_OK);
  EXPECT_TRUE(memcmp(dst, src, 6) == 0);
  var.bytes = 4; /* a variable of another size */
  EXPECT_EQ(run(&kws_kernel_read_variable, &ctx), KWS_ERR_MODEL_INVALID);
}

int main(void) {
  RUN_TEST(test_strided_slice_ring_buffer_update);
  RUN_TEST(test_strided_slice_reverse_and_shrink);
  RUN_TEST(test_strided_slice_ellipsis);
  RUN_TEST(test_strided_slice_refuses_a_wrong_output_shape);
  RUN_TEST(test_split_v_infers_the_last_part);
  RUN_TEST(test_quantize_int8_to_uint8);
  RUN_TEST(test_variables_read_and_assign_the_value);
  TEST_MAIN_END();
}
