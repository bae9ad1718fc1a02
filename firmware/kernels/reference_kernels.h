/* The reference (portable C/C++) kernels, one per builtin op. kws_resolver_init_reference
 * registers all of them; an accelerated kernel may call these tables' functions as fallback. */
#ifndef KWS_KERNELS_REFERENCE_KERNELS_H
#define KWS_KERNELS_REFERENCE_KERNELS_H

#include "kernels/kernel_api.h"

#ifdef __cplusplus
extern "C" {
#endif

extern const kws_kernel_t kws_kernel_add;
extern const kws_kernel_t kws_kernel_assign_variable;
extern const kws_kernel_t kws_kernel_average_pool_2d;
extern const kws_kernel_t kws_kernel_concatenation;
extern const kws_kernel_t kws_kernel_conv_2d;
extern const kws_kernel_t kws_kernel_depthwise_conv_2d;
extern const kws_kernel_t kws_kernel_dequantize;
extern const kws_kernel_t kws_kernel_expand_dims;
extern const kws_kernel_t kws_kernel_fully_connected;
extern const kws_kernel_t kws_kernel_hard_swish;
extern const kws_kernel_t kws_kernel_leaky_relu;
extern const kws_kernel_t kws_kernel_logistic;
extern const kws_kernel_t kws_kernel_max_pool_2d;
extern const kws_kernel_t kws_kernel_maximum;
extern const kws_kernel_t kws_kernel_mean;
extern const kws_kernel_t kws_kernel_minimum;
extern const kws_kernel_t kws_kernel_mul;
extern const kws_kernel_t kws_kernel_pad;
extern const kws_kernel_t kws_kernel_quantize;
extern const kws_kernel_t kws_kernel_read_variable;
extern const kws_kernel_t kws_kernel_reduce_max;
extern const kws_kernel_t kws_kernel_relu;
extern const kws_kernel_t kws_kernel_relu6;
extern const kws_kernel_t kws_kernel_relu_n1_to_1;
extern const kws_kernel_t kws_kernel_reshape;
extern const kws_kernel_t kws_kernel_softmax;
extern const kws_kernel_t kws_kernel_split_v;
extern const kws_kernel_t kws_kernel_squeeze;
extern const kws_kernel_t kws_kernel_strided_slice;
extern const kws_kernel_t kws_kernel_sub;
extern const kws_kernel_t kws_kernel_tanh;
extern const kws_kernel_t kws_kernel_transpose;
extern const kws_kernel_t kws_kernel_var_handle;

#ifdef __cplusplus
}
#endif
#endif
