/* The model runtime: runs an int8 .tflite model from a byte array (flash) in one arena.
 *
 *   kws_interp_init      verifies the model (every offset, index, shape, type) and finds a
 *                        kernel for every operator; the model is read in place, never copied
 *   kws_interp_allocate  plans the arena and prepares the kernels; with a too-small arena it
 *                        fails with KWS_ERR_NO_MEMORY and kws_interp_arena_needed() says how
 *                        many bytes to give (so a host tool can size a firmware's static arena)
 *   kws_interp_input / _output   views of the graph's input / output tensors (in the arena)
 *   kws_interp_invoke    runs every operator in order, calling the hook around each one
 *
 * Arena layout (offsets from the arena start; the arena is 16-byte aligned by the runtime):
 *
 *   | planned tensors and per-op scratch (reused across lifetimes) | tensor offsets | op table | op data |
 *   0                                                        planned_bytes                       needed
 *
 * Every piece of runtime state lives in the arena or in kws_interpreter_t (whose size is
 * sizeof(kws_interpreter_t)); nothing is allocated anywhere else.
 */
#ifndef KWS_RUNTIME_INTERPRETER_H
#define KWS_RUNTIME_INTERPRETER_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/kernel_api.h"
#include "kws_status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KWS_MAX_TENSORS 1024
#define KWS_MAX_OPS 1024
#define KWS_MESSAGE_LEN 112

/* Profiling hook: called with phase KWS_HOOK_BEFORE then KWS_HOOK_AFTER around each operator. */
enum { KWS_HOOK_BEFORE = 0, KWS_HOOK_AFTER = 1 };
typedef void (*kws_op_hook_t)(void *user, uint16_t op_index, int phase);

/* One operator's place in the arena (part of the arena's op table). */
typedef struct {
  const kws_kernel_t *kernel; /* found in the resolver at allocate */
  uint32_t op_data_offset;    /* from the arena start; 0 when the kernel asked for none */
  uint32_t scratch_offset;
} kws_op_slot_t;

typedef struct kws_interpreter {
  /* The model (not owned, never copied) and its verified structure. */
  const uint8_t *model;
  uint32_t model_len;
  uint32_t subgraph;      /* position of subgraph 0's table */
  uint32_t tensors_vec;   /* first element of its tensors vector */
  uint32_t operators_vec; /* first element of its operators vector */
  uint32_t opcodes_vec;   /* first element of the model's operator_codes vector */
  uint32_t buffers_vec;   /* first element of the model's buffers vector */
  uint16_t n_tensors, n_ops, n_opcodes;
  uint32_t n_buffers;
  uint32_t inputs_vec, outputs_vec;     /* first elements of the graph input/output lists */
  uint8_t n_inputs, n_outputs;
  const kws_op_resolver_t *resolver;

  /* Arena (set by kws_interp_allocate). */
  uint8_t *arena;
  size_t arena_len;
  size_t arena_needed;   /* bytes kws_interp_allocate needs (or a lower bound if planning failed) */
  size_t planned_bytes;  /* tensors + scratch part */
  uint32_t *tensor_offset;   /* per tensor: offset in the arena, or UINT32_MAX for constants */
  kws_op_slot_t *op_slots;   /* per operator */
  uint8_t allocated;

  /* Profiling. */
  kws_op_hook_t hook;
  void *hook_user;

  /* Views for the operator being prepared or run (rebuilt for every call). */
  kws_op_context_t ctx;
  kws_tensor_t views[KWS_MAX_OP_INPUTS + KWS_MAX_OP_OUTPUTS];

  char message[KWS_MESSAGE_LEN]; /* why the last call failed ("" on success) */
} kws_interpreter_t;

/* Verifies `model` (which must stay valid and unchanged while the interpreter is used; 4-byte
 * aligned, 16 recommended) and resolves a kernel for every operator. */
kws_status_t kws_interp_init(kws_interpreter_t *it, const void *model, size_t model_len,
                             const kws_op_resolver_t *resolver);

/* Plans tensors into `arena` and prepares every kernel. */
kws_status_t kws_interp_allocate(kws_interpreter_t *it, void *arena, size_t arena_len);

/* Arena bytes the model needs (valid after kws_interp_allocate, also after it failed with
 * KWS_ERR_NO_MEMORY). */
size_t kws_interp_arena_needed(const kws_interpreter_t *it);

void kws_interp_set_hook(kws_interpreter_t *it, kws_op_hook_t hook, void *user);

kws_status_t kws_interp_invoke(kws_interpreter_t *it);

/* Views of graph input/output `index` (data points into the arena once allocated). */
kws_status_t kws_interp_input(kws_interpreter_t *it, uint32_t index, kws_tensor_t *view);
kws_status_t kws_interp_output(kws_interpreter_t *it, uint32_t index, kws_tensor_t *view);

/* Tensor index of graph input (output = 0) or output (output = 1) `index`, or -1. */
int32_t kws_interp_io_tensor(kws_interpreter_t *it, int output, uint32_t index);

/* A view of any tensor, by index in the subgraph. */
kws_status_t kws_interp_tensor(kws_interpreter_t *it, uint32_t tensor, kws_tensor_t *view);

/* Facts about operator `op` for summaries and profiles: builtin code, kernel name, tensor
 * indices (-1 for an omitted optional input) and parsed options. */
typedef struct {
  uint16_t builtin_code;
  const char *kernel_name;
  uint8_t n_inputs, n_outputs;
  int32_t inputs[KWS_MAX_OP_INPUTS];
  int32_t outputs[KWS_MAX_OP_OUTPUTS];
  kws_op_params_t params;
  uint32_t op_data_bytes, scratch_bytes; /* after allocation */
} kws_op_info_t;
kws_status_t kws_interp_op_info(kws_interpreter_t *it, uint32_t op, kws_op_info_t *info);

const char *kws_interp_message(const kws_interpreter_t *it);

/* Name of a builtin operator ("CONV_2D"), or "UNKNOWN". */
const char *kws_builtin_name(uint32_t builtin_code);

#ifdef __cplusplus
}
#endif
#endif
