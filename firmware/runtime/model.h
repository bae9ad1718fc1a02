/* Reading the .tflite schema: tensors, operators and their options, each read checked.
 *
 * The verifier runs these over the whole model once with the checked fb::Reader; the
 * interpreter calls them again for each operator it runs, with fb::Trusted, which compiles
 * every check out (1.2 k Cortex-M33 instructions per operator, and no copy of the model's
 * structure in RAM). Field numbers are those of TFLite's schema.fbs.
 */
#ifndef KWS_RUNTIME_MODEL_H
#define KWS_RUNTIME_MODEL_H

#include "kernels/kernel_api.h"
#include "runtime/flatbuffer.h"
#include "runtime/interpreter.h"
#include "runtime/message.h"

namespace kws {

/* TFLite schema field numbers. */
namespace schema {
enum Model { kModelVersion = 0, kModelOpcodes = 1, kModelSubgraphs = 2, kModelBuffers = 4, kModelMetadata = 6 };
enum SubGraph { kSgTensors = 0, kSgInputs = 1, kSgOutputs = 2, kSgOperators = 3 };
enum VarHandleOptions { kVarContainer = 0, kVarSharedName = 1 };
enum Tensor { kTensorShape = 0, kTensorType = 1, kTensorBuffer = 2, kTensorQuant = 4, kTensorIsVariable = 5,
              kTensorSparsity = 6 };
enum Quant { kQuantScale = 2, kQuantZeroPoint = 3, kQuantDetailsType = 4, kQuantDimension = 6 };
enum Buffer { kBufferData = 0, kBufferOffset = 1 };
enum Operator { kOpOpcode = 0, kOpInputs = 1, kOpOutputs = 2, kOpOptionsType = 3, kOpOptions = 4 };
enum OperatorCode { kCodeDeprecated = 0, kCodeCustom = 1, kCodeBuiltin = 3 };
enum Metadata { kMetaName = 0, kMetaBuffer = 1 };
}  // namespace schema

/* One operator as stored: its builtin code, tensor indices and options table. */
struct OpRecord {
  uint16_t builtin = 0;
  uint8_t n_inputs = 0, n_outputs = 0;
  int32_t inputs[KWS_MAX_OP_INPUTS] = {};
  int32_t outputs[KWS_MAX_OP_OUTPUTS] = {};
  uint8_t options_type = 0;
  fb::Table options;
};

inline fb::Reader reader_of(const kws_interpreter_t *it) { return fb::Reader(it->model, it->model_len); }
/* Only for a model kws_interp_init verified. */
inline fb::Trusted trusted_reader_of(const kws_interpreter_t *it) { return fb::Trusted(it->model, it->model_len); }

/* Reads tensor `index` of subgraph `g` into `view`; data points into the model for constants
 * and is NULL for activations (the caller fills it from the arena plan). A RESOURCE tensor
 * reads as 0 bytes (the caller shows it as its variable). */
template <class R> /* fb::Reader or fb::Trusted */
kws_status_t read_tensor(R &r, const kws_interpreter_t *it, const kws_subgraph_t &g, uint32_t index,
                         kws_tensor_t *view, Message &msg);

/* Reads operator `index` of `g`. Checks indices and counts against the limits; how many inputs
 * and outputs each operator must have is the verifier's business. */
template <class R>
kws_status_t read_op(R &r, const kws_interpreter_t *it, const kws_subgraph_t &g, uint32_t index, OpRecord *op,
                     Message &msg);

/* Parses and range-checks the builtin options of `op`. */
template <class R>
kws_status_t read_params(R &r, const OpRecord &op, kws_op_params_t *params, Message &msg);

/* Bytes of one element of a TensorType, 0 for types this runtime does not handle (and for
 * RESOURCE, whose tensors hold no data: a handle is shown as its variable). */
uint32_t type_size(uint32_t type);

}  // namespace kws

#endif
