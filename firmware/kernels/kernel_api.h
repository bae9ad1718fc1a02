/* The contract between the runtime, the kernels and accelerated kernels (MVP, DSP).
 *
 * The runtime parses the .tflite flatbuffer, fills one kws_op_context_t per operator
 * (tensor views into the arena or into the model in flash, parsed builtin options) and calls
 * the kernel found in an op resolver. An accelerated kernel is registered over the reference
 * one under the same builtin code; if it cannot take a shape, it calls the reference kernel's
 * functions itself (CPU fallback). Plain C so C and C++ kernels can share it.
 */
#ifndef KWS_KERNEL_API_H
#define KWS_KERNEL_API_H

#include <stddef.h>
#include <stdint.h>

#include "kws_status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KWS_MAX_DIMS 5
#define KWS_MAX_OP_INPUTS 8   /* CONCATENATION is the only op with many inputs */
#define KWS_MAX_OP_OUTPUTS 2   /* SPLIT_V into more parts is refused at init */
#define KWS_MAX_KERNELS 40    /* entries in one op resolver (33 reference kernels today) */

/* Values of the TFLite schema's TensorType enum. */
typedef enum {
  KWS_TYPE_FLOAT32 = 0,
  KWS_TYPE_INT32 = 2,
  KWS_TYPE_UINT8 = 3,
  KWS_TYPE_INT64 = 4,
  KWS_TYPE_BOOL = 6,
  KWS_TYPE_INT16 = 7,
  KWS_TYPE_INT8 = 9,
  KWS_TYPE_RESOURCE = 13, /* a resource variable's handle (VAR_HANDLE's output), see below */
} kws_type_t;

/* Values of the TFLite schema's BuiltinOperator enum, for the ops this project implements. */
typedef enum {
  KWS_OP_ADD = 0,
  KWS_OP_AVERAGE_POOL_2D = 1,
  KWS_OP_CONCATENATION = 2,
  KWS_OP_CONV_2D = 3,
  KWS_OP_DEPTHWISE_CONV_2D = 4,
  KWS_OP_DEQUANTIZE = 6,
  KWS_OP_FULLY_CONNECTED = 9,
  KWS_OP_LOGISTIC = 14,
  KWS_OP_MAX_POOL_2D = 17,
  KWS_OP_MUL = 18,
  KWS_OP_RELU = 19,
  KWS_OP_RELU_N1_TO_1 = 20,
  KWS_OP_RELU6 = 21,
  KWS_OP_RESHAPE = 22,
  KWS_OP_SOFTMAX = 25,
  KWS_OP_TANH = 28,
  KWS_OP_PAD = 34,
  KWS_OP_TRANSPOSE = 39,
  KWS_OP_MEAN = 40,
  KWS_OP_SUB = 41,
  KWS_OP_SQUEEZE = 43,
  KWS_OP_STRIDED_SLICE = 45,
  KWS_OP_MAXIMUM = 55,
  KWS_OP_MINIMUM = 57,
  KWS_OP_EXPAND_DIMS = 70,
  KWS_OP_REDUCE_MAX = 82,
  KWS_OP_LEAKY_RELU = 98,
  KWS_OP_SPLIT_V = 102,
  KWS_OP_QUANTIZE = 114,
  KWS_OP_HARD_SWISH = 117,
  KWS_OP_CALL_ONCE = 129, /* run by the interpreter itself, never through a resolver */
  KWS_OP_VAR_HANDLE = 142,
  KWS_OP_READ_VARIABLE = 143,
  KWS_OP_ASSIGN_VARIABLE = 144,
} kws_builtin_op_t;

/* TFLite ActivationFunctionType and Padding values. */
typedef enum { KWS_ACT_NONE = 0, KWS_ACT_RELU = 1, KWS_ACT_RELU_N1_TO_1 = 2, KWS_ACT_RELU6 = 3 } kws_activation_t;
typedef enum { KWS_PAD_SAME = 0, KWS_PAD_VALID = 1 } kws_padding_t;

/* A view of one tensor. `data` points into the arena (activations) or the model (constants).
 * A RESOURCE tensor (a VAR_HANDLE's output, READ_VARIABLE's and ASSIGN_VARIABLE's input 0) is
 * shown as its variable: `data` is the variable's value in the arena's persistent part and
 * `bytes` its size (the runtime resolves every handle when it allocates; rank 0, no dims). */
typedef struct {
  uint8_t type;  /* kws_type_t */
  uint8_t rank;
  uint8_t is_constant;
  int32_t dims[KWS_MAX_DIMS];
  void *data;
  size_t bytes;
  /* Affine quantization. Per-tensor: scale/zero_point. Per-channel: channel_scales has
   * n_channel_scales entries along quantized_dimension (zero points are 0 for int8 weights). */
  float scale;
  int32_t zero_point;
  const float *channel_scales;
  int32_t n_channel_scales;
  int32_t quantized_dimension;
} kws_tensor_t;

typedef struct {
  uint8_t padding, activation;
  int32_t stride_w, stride_h, dilation_w, dilation_h;
  int32_t depth_multiplier; /* DEPTHWISE_CONV_2D only */
} kws_conv_params_t;

typedef struct {
  uint8_t padding, activation;
  int32_t stride_w, stride_h, filter_w, filter_h;
} kws_pool_params_t;

typedef struct {
  uint8_t activation, keep_num_dims;
} kws_fc_params_t;

typedef struct {
  uint8_t activation;
} kws_elementwise_params_t; /* ADD, MUL, SUB */

typedef struct {
  float beta;
} kws_softmax_params_t;

typedef struct {
  int32_t axis;
  uint8_t activation;
} kws_concat_params_t;

typedef struct {
  uint8_t keep_dims; /* axes come from the op's second input tensor */
} kws_reduce_params_t; /* MEAN, REDUCE_MAX */

typedef struct {
  float alpha; /* the slope below zero */
} kws_leaky_relu_params_t;

typedef struct {
  int32_t begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_axis_mask;
  uint8_t offset; /* end is relative to begin */
} kws_strided_slice_params_t; /* begin, end and strides are the op's inputs 1-3 */

typedef struct {
  int32_t num_splits; /* SPLIT_V; the sizes and the axis are its inputs 1 and 2 */
} kws_split_params_t;

typedef struct {
  int32_t init_subgraph; /* CALL_ONCE */
} kws_call_once_params_t;

typedef union {
  kws_conv_params_t conv;
  kws_pool_params_t pool;
  kws_fc_params_t fc;
  kws_elementwise_params_t elementwise;
  kws_softmax_params_t softmax;
  kws_concat_params_t concat;
  kws_reduce_params_t reduce;
  kws_leaky_relu_params_t leaky_relu;
  kws_strided_slice_params_t strided_slice;
  kws_split_params_t split;
  kws_call_once_params_t call_once;
} kws_op_params_t;

typedef struct kws_op_context {
  uint16_t op_index;     /* position in the graph, for messages and profiling */
  uint16_t builtin_code; /* kws_builtin_op_t */
  uint8_t n_inputs, n_outputs;
  kws_tensor_t *inputs[KWS_MAX_OP_INPUTS]; /* NULL where the model omits an optional input */
  kws_tensor_t *outputs[KWS_MAX_OP_OUTPUTS];
  kws_op_params_t params;
  void *op_data;   /* persistent bytes the kernel asked for (op_data_size), in the arena */
  void *scratch;   /* scratch bytes (scratch_size), shared by all ops, valid during invoke */
  char *message;   /* where prepare writes a reason on failure */
  size_t message_len;
} kws_op_context_t;

typedef struct kws_kernel {
  uint16_t builtin_code;
  const char *name; /* "CONV_2D", "CONV_2D/mvp", ... shown in errors and profiles */
  /* Bytes of persistent per-op data (multipliers, ...); may be 0. Called before prepare. */
  size_t (*op_data_size)(const kws_op_context_t *ctx);
  /* Checks types and shapes, fills op_data. On failure writes a reason to ctx->message. */
  kws_status_t (*prepare)(kws_op_context_t *ctx);
  /* Scratch bytes invoke needs (after prepare); may be NULL for none. */
  size_t (*scratch_size)(const kws_op_context_t *ctx);
  kws_status_t (*invoke)(kws_op_context_t *ctx);
} kws_kernel_t;

/* A set of kernels by builtin code. Later kws_resolver_add calls replace earlier entries of
 * the same code, so accelerated kernels are added after the reference ones. */
typedef struct {
  const kws_kernel_t *kernels[KWS_MAX_KERNELS];
  uint8_t count;
} kws_op_resolver_t;

kws_status_t kws_resolver_add(kws_op_resolver_t *resolver, const kws_kernel_t *kernel);
const kws_kernel_t *kws_resolver_find(const kws_op_resolver_t *resolver, uint16_t builtin_code);
/* Empties `resolver` and adds every reference kernel. */
void kws_resolver_init_reference(kws_op_resolver_t *resolver);

#ifdef __cplusplus
}
#endif
#endif
