/* The model runtime: runs an int8 .tflite model from a byte array (flash) in one arena.
 *
 *   kws_interp_init      verifies the model (every offset, index, shape, type, in every
 *                        subgraph) and finds a kernel for every operator; the model is read in
 *                        place, never copied
 *   kws_interp_allocate  plans the arena and prepares the kernels; with a too-small arena it
 *                        fails with KWS_ERR_NO_MEMORY and kws_interp_arena_needed() says how
 *                        many bytes to give (so a host tool can size a firmware's static arena)
 *   kws_interp_input / _output   views of the graph's input / output tensors (in the arena)
 *   kws_interp_invoke    runs subgraph 0's operators in order, calling the hook around each one
 *   kws_interp_reset_state   puts the resource variables back to their initial state
 *
 * Streaming models (microWakeWord's) keep their past in resource variables between invokes:
 * VAR_HANDLE names a variable (container + shared_name, the same name in any subgraph is the
 * same variable), ASSIGN_VARIABLE writes it, READ_VARIABLE reads it, and a CALL_ONCE operator
 * runs an init subgraph that assigns the initial values on the first invoke after allocate or
 * after kws_interp_reset_state. Only subgraph 0 and the init subgraphs its CALL_ONCE
 * operators name are ever run; other subgraphs are verified but neither planned nor run.
 *
 * Arena layout (offsets from the arena start; the arena is 16-byte aligned by the runtime):
 *
 *   | planned tensors and per-op scratch | variable values | tensor offsets | op table | variable table | op data |
 *   0                              planned_bytes                                                          needed
 *
 * Everything right of planned_bytes is persistent: the planner never reuses it, so variable
 * values survive from one invoke to the next. Planned tensors of all run subgraphs share one
 * plan over the order operators run in the first invoke (each init subgraph's operators at
 * the place of the CALL_ONCE that runs them).
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

/* tensor_offset entries from here up name a resource variable, not an arena offset. */
#define KWS_RESOURCE_SLOT 0xffff0000u

#define KWS_MAX_TENSORS 1024  /* in all subgraphs together */
#define KWS_MAX_OPS 1024      /* in all subgraphs together */
#define KWS_MAX_SUBGRAPHS 4   /* subgraph 0 and the init subgraphs CALL_ONCE runs */
#define KWS_MAX_VARIABLES 16  /* distinct resource variables (VAR_HANDLE names) */
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

/* One subgraph: where its vectors are in the model, and where its tensors and operators
 * start in the arena's per-tensor and per-operator tables (which cover every subgraph). */
typedef struct {
  uint32_t tensors_vec;   /* first element of its tensors vector */
  uint32_t operators_vec; /* first element of its operators vector */
  uint32_t inputs_vec, outputs_vec; /* first elements of its input/output lists */
  uint16_t n_tensors, n_ops;
  uint16_t first_tensor, first_op;  /* its tensor 0 and operator 0 in the arena's tables */
  uint8_t n_inputs, n_outputs;
  uint8_t index;
} kws_subgraph_t;

/* A resource variable (the arena's variable table). */
typedef struct {
  uint32_t container, shared_name; /* model positions of its name strings; container 0: none */
  uint32_t offset; /* of its value, from the arena start */
  uint32_t bytes;  /* of its value: the size of the first value assigned to it */
  uint8_t type;    /* kws_type_t of its value */
  uint8_t fill;    /* the byte it is reset to: that value's zero point, as TFLite Micro does */
  uint8_t pad[2];
} kws_variable_t;

typedef struct kws_interpreter {
  /* The model (not owned, never copied) and its verified structure. */
  const uint8_t *model;
  uint32_t model_len;
  uint32_t opcodes_vec;   /* first element of the model's operator_codes vector */
  uint32_t buffers_vec;   /* first element of the model's buffers vector */
  uint16_t n_opcodes;
  uint32_t n_buffers;
  kws_subgraph_t subgraphs[KWS_MAX_SUBGRAPHS];
  uint8_t n_subgraphs;
  uint16_t n_tensors_all, n_ops_all; /* in all subgraphs */
  /* Subgraph 0's counts (the graph the API's tensor, operator and I/O indices refer to). */
  uint16_t n_tensors, n_ops;
  uint8_t n_inputs, n_outputs;
  uint8_t n_variables;    /* distinct VAR_HANDLE names (found at init) */
  uint32_t variable_bytes; /* arena bytes of their values (16-byte aligned each) */
  const kws_op_resolver_t *resolver;

  /* Arena (set by kws_interp_allocate). */
  uint8_t *arena;
  size_t arena_len;
  size_t arena_needed;   /* bytes kws_interp_allocate needs (or a lower bound if planning failed) */
  size_t planned_bytes;  /* tensors + scratch part */
  uint32_t *tensor_offset;   /* per tensor of every subgraph: offset in the arena, UINT32_MAX
                                for constants, KWS_RESOURCE_SLOT + v for a handle of variable v */
  kws_op_slot_t *op_slots;   /* per operator of every subgraph */
  kws_variable_t *variables; /* n_variables entries */
  uint8_t allocated;
  uint8_t init_pending;      /* the next invoke runs the CALL_ONCE init subgraphs */

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

/* Puts every resource variable back to its initial state: its bytes to the fill value, and the
 * next invoke runs the CALL_ONCE init subgraphs again (which assign the model's initial values),
 * as on the first invoke after kws_interp_allocate. For a model without variables it does
 * nothing. KWS_ERR_STATE before a successful allocate. */
kws_status_t kws_interp_reset_state(kws_interpreter_t *it);

/* Views of graph input/output `index` (data points into the arena once allocated). */
kws_status_t kws_interp_input(kws_interpreter_t *it, uint32_t index, kws_tensor_t *view);
kws_status_t kws_interp_output(kws_interpreter_t *it, uint32_t index, kws_tensor_t *view);

/* Tensor index of graph input (output = 0) or output (output = 1) `index`, or -1. */
int32_t kws_interp_io_tensor(kws_interpreter_t *it, int output, uint32_t index);

/* A view of any tensor, by index in subgraph 0. */
kws_status_t kws_interp_tensor(kws_interpreter_t *it, uint32_t tensor, kws_tensor_t *view);

/* Facts about operator `op` of subgraph 0 for summaries and profiles: builtin code, kernel name, tensor
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
