/* The op resolver: a small table of kernels by builtin code. */
#include "kernels/kernel_api.h"
#include "kernels/reference_kernels.h"

kws_status_t kws_resolver_add(kws_op_resolver_t *resolver, const kws_kernel_t *kernel) {
  if (resolver == NULL || kernel == NULL || kernel->prepare == NULL || kernel->invoke == NULL)
    return KWS_ERR_ARG;
  for (uint8_t i = 0; i < resolver->count; i++) {
    if (resolver->kernels[i]->builtin_code == kernel->builtin_code) {
      resolver->kernels[i] = kernel; /* a later registration (an accelerated kernel) wins */
      return KWS_OK;
    }
  }
  if (resolver->count >= KWS_MAX_KERNELS) return KWS_ERR_NO_MEMORY;
  resolver->kernels[resolver->count++] = kernel;
  return KWS_OK;
}

const kws_kernel_t *kws_resolver_find(const kws_op_resolver_t *resolver, uint16_t builtin_code) {
  if (resolver == NULL) return NULL;
  for (uint8_t i = 0; i < resolver->count; i++)
    if (resolver->kernels[i]->builtin_code == builtin_code) return resolver->kernels[i];
  return NULL;
}

void kws_resolver_init_reference(kws_op_resolver_t *resolver) {
  static const kws_kernel_t *const all[] = {
      &kws_kernel_add,         &kws_kernel_average_pool_2d, &kws_kernel_concatenation,
      &kws_kernel_conv_2d,     &kws_kernel_depthwise_conv_2d, &kws_kernel_dequantize,
      &kws_kernel_fully_connected, &kws_kernel_logistic,   &kws_kernel_max_pool_2d,
      &kws_kernel_mul,         &kws_kernel_reshape,         &kws_kernel_softmax,
      &kws_kernel_pad,         &kws_kernel_mean,            &kws_kernel_quantize,
      &kws_kernel_strided_slice, &kws_kernel_split_v,       &kws_kernel_var_handle,
      &kws_kernel_read_variable, &kws_kernel_assign_variable, &kws_kernel_relu,
      &kws_kernel_relu6,       &kws_kernel_relu_n1_to_1,    &kws_kernel_leaky_relu,
      &kws_kernel_tanh,        &kws_kernel_hard_swish,      &kws_kernel_sub,
      &kws_kernel_maximum,     &kws_kernel_minimum,         &kws_kernel_transpose,
      &kws_kernel_reduce_max,  &kws_kernel_squeeze,         &kws_kernel_expand_dims,
  };
  if (resolver == NULL) return;
  resolver->count = 0;
  for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) (void)kws_resolver_add(resolver, all[i]);
}
