/* Resource variables: the state a streaming model keeps between invokes.
 *
 * A VAR_HANDLE operator names a variable by (container, shared_name); the same name in any
 * subgraph is the same variable (TFLite Micro's MicroResourceVariables rule; an absent
 * container reads as an empty one). Variables get ids in the order their first handle appears
 * (subgraph 0's operators, then subgraph 1's, ...), at most KWS_MAX_VARIABLES.
 *
 * A variable's type and size are those of the first value assigned to it in the first
 * invoke's operator order (schedule.h); every later ASSIGN_VARIABLE value and READ_VARIABLE
 * output must match them, and a READ_VARIABLE before any ASSIGN_VARIABLE of its variable is a
 * verification error (the model would read a value it never set). So sizes are known before
 * the first invoke, and allocate places every value in the arena's persistent part.
 */
#ifndef KWS_RUNTIME_VARIABLES_H
#define KWS_RUNTIME_VARIABLES_H

#include "runtime/model.h"

namespace kws {

/* Resolves every handle and sizes every variable into vars[0 .. *n) (room for
 * KWS_MAX_VARIABLES; offsets left 0) and sets *bytes to the arena bytes their values need.
 * With `handles` (the arena's tensor_offset table) each handle tensor's entry is set to
 * KWS_RESOURCE_SLOT + its variable. */
kws_status_t scan_variables(kws_interpreter_t *it, fb::Reader &r, kws_variable_t *vars, uint8_t *n,
                            uint32_t *bytes, uint32_t *handles, Message &msg);

/* Fills every variable with its fill byte and marks the init subgraphs to run again. */
void reset_variables(kws_interpreter_t *it);

}  // namespace kws

#endif
