"""Names of TFLite builtin operators by code, from the firmware's own table
(firmware/runtime/op_names.c, `kws_builtin_name`), so the PC and the device name them alike."""

from __future__ import annotations

import ctypes
from functools import cache


@cache
def builtin_name(code: int) -> str:
    from kwshost import native

    lib = native.lib()
    lib.kws_builtin_name.argtypes = [ctypes.c_uint32]
    lib.kws_builtin_name.restype = ctypes.c_char_p
    name = lib.kws_builtin_name(code).decode() if 0 <= code < 2**32 else "UNKNOWN"
    return f"BUILTIN_{code}" if name == "UNKNOWN" else name
