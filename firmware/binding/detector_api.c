/* ctypes helpers for the detector: the state is opaque to Python, which allocates this many
 * bytes and passes them to kws_detector_init/process. */
#include "detector/detector.h"

size_t kws_detector_state_size(void) { return sizeof(kws_detector_t); }
