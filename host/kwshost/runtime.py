"""The firmware's model runtime on the PC, through the native library (bit-exact with the device).

    from kwshost.runtime import Interpreter
    it = Interpreter("models/mltk_keyword_spotting_alexa.tflite")
    y = it.invoke(x)            # x: int8 array of it.input_details[0]["shape"]
    it.arena_bytes, it.ops      # planned arena size, per-operator facts
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kwshost import native
from kwshost.errors import ModelError

MAX_DIMS = 5
MAX_OP_INPUTS = 8
MAX_OP_OUTPUTS = 2

STATUS_NAMES = {0: "OK", 1: "bad argument", 2: "out of memory", 3: "invalid model",
                4: "unsupported", 9: "not found"}
# A resource variable's handle (type 13) holds no numbers: numpy's void stands for it.
DTYPES = {0: np.float32, 2: np.int32, 3: np.uint8, 4: np.int64, 6: np.bool_, 7: np.int16,
          9: np.int8, 13: np.void}
TYPE_NAMES = {0: "float32", 2: "int32", 3: "uint8", 4: "int64", 6: "bool", 7: "int16", 9: "int8",
              13: "resource"}
ACCELERATORS = {"none": 0, "mvp": 1, "mvp-mltk-mapping": 2}
ACTIVATIONS = {0: "None", 1: "Relu", 2: "ReluN1To1", 3: "Relu6"}
STRIDED_SLICE_MASKS = ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask",
                       "shrink_axis_mask")
PADDINGS = {0: "Same", 1: "Valid"}


class RuntimeRejected(ModelError):
    """The runtime refused to load the model. `reason` is its message; `invalid` tells a
    damaged file (the bytes are the problem) from a model it has no kernel or support for."""

    def __init__(self, message: str, hint: str | None = None, *, reason: str = "",
                 invalid: bool = False) -> None:  # message first: exceptions must pickle
        super().__init__(message, hint=hint)
        self.reason = reason
        self.invalid = invalid


class _TensorInfo(ctypes.Structure):
    _fields_ = [("type", ctypes.c_uint8), ("rank", ctypes.c_uint8),
                ("is_constant", ctypes.c_uint8), ("pad", ctypes.c_uint8),
                ("dims", ctypes.c_int32 * MAX_DIMS), ("bytes", ctypes.c_uint64),
                ("scale", ctypes.c_float), ("zero_point", ctypes.c_int32),
                ("n_channel_scales", ctypes.c_int32), ("quantized_dimension", ctypes.c_int32)]


class _Conv(ctypes.Structure):
    _fields_ = [("padding", ctypes.c_uint8), ("activation", ctypes.c_uint8),
                ("stride_w", ctypes.c_int32), ("stride_h", ctypes.c_int32),
                ("dilation_w", ctypes.c_int32), ("dilation_h", ctypes.c_int32),
                ("depth_multiplier", ctypes.c_int32)]


class _Pool(ctypes.Structure):
    _fields_ = [("padding", ctypes.c_uint8), ("activation", ctypes.c_uint8),
                ("stride_w", ctypes.c_int32), ("stride_h", ctypes.c_int32),
                ("filter_w", ctypes.c_int32), ("filter_h", ctypes.c_int32)]


class _Fc(ctypes.Structure):
    _fields_ = [("activation", ctypes.c_uint8), ("keep_num_dims", ctypes.c_uint8)]


class _Softmax(ctypes.Structure):
    _fields_ = [("beta", ctypes.c_float)]


class _Concat(ctypes.Structure):
    _fields_ = [("axis", ctypes.c_int32), ("activation", ctypes.c_uint8)]


class _StridedSlice(ctypes.Structure):
    _fields_ = [(name, ctypes.c_int32) for name in STRIDED_SLICE_MASKS] + \
        [("offset", ctypes.c_uint8)]


class _Params(ctypes.Union):
    _fields_ = [("conv", _Conv), ("pool", _Pool), ("fc", _Fc), ("activation", ctypes.c_uint8),
                ("softmax", _Softmax), ("concat", _Concat), ("keep_dims", ctypes.c_uint8),
                ("alpha", ctypes.c_float),
                ("strided_slice", _StridedSlice), ("num_splits", ctypes.c_int32),
                ("init_subgraph", ctypes.c_int32)]


class _OpInfo(ctypes.Structure):
    _fields_ = [("builtin_code", ctypes.c_uint16), ("kernel_name", ctypes.c_char_p),
                ("n_inputs", ctypes.c_uint8), ("n_outputs", ctypes.c_uint8),
                ("inputs", ctypes.c_int32 * MAX_OP_INPUTS),
                ("outputs", ctypes.c_int32 * MAX_OP_OUTPUTS),
                ("params", _Params), ("op_data_bytes", ctypes.c_uint32),
                ("scratch_bytes", ctypes.c_uint32)]


@dataclass
class TensorDetails:
    index: int
    shape: tuple[int, ...]
    dtype: type
    scale: float
    zero_point: int
    nbytes: int
    constant: bool
    channels_quantized: int

    def __getitem__(self, key: str):  # dict-style access, like tf.lite's details
        return {"index": self.index, "shape": np.array(self.shape), "dtype": self.dtype,
                "quantization": (self.scale, self.zero_point)}.get(key, getattr(self, key, None))

    @property
    def type_name(self) -> str:
        return "resource" if self.dtype is np.void else np.dtype(self.dtype).name


@dataclass
class OpDetails:
    index: int
    name: str          # builtin name, e.g. "CONV_2D"
    kernel: str        # kernel that runs it, e.g. "CONV_2D" or "CONV_2D/mvp"
    builtin_code: int
    inputs: list[TensorDetails | None]
    outputs: list[TensorDetails]
    options: dict[str, object] = field(default_factory=dict)
    op_data_bytes: int = 0
    scratch_bytes: int = 0


def _lib() -> ctypes.CDLL:
    lib = native.lib()
    if getattr(lib, "_kws_runtime_declared", False):
        return lib
    p, sz, i32, u32 = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_uint32
    lib.kws_rt_create.argtypes = [ctypes.c_char_p, sz, i32, ctypes.POINTER(i32),
                                  ctypes.c_char_p, sz]
    lib.kws_rt_create.restype = p
    lib.kws_rt_destroy.argtypes = [p]
    for name in ("kws_rt_arena_bytes",):
        getattr(lib, name).argtypes = [p]
        getattr(lib, name).restype = sz
    lib.kws_rt_state_bytes.argtypes = []
    lib.kws_rt_state_bytes.restype = sz
    lib.kws_rt_message.argtypes = [p]
    lib.kws_rt_message.restype = ctypes.c_char_p
    for name in ("kws_rt_num_ops", "kws_rt_num_tensors", "kws_rt_num_inputs",
                 "kws_rt_num_outputs"):
        getattr(lib, name).argtypes = [p]
        getattr(lib, name).restype = u32
    lib.kws_rt_tensor_info.argtypes = [p, i32, u32, ctypes.POINTER(_TensorInfo),
                                       ctypes.POINTER(ctypes.c_int32)]
    lib.kws_rt_set_input.argtypes = [p, u32, p, sz]
    lib.kws_rt_get_output.argtypes = [p, u32, p, sz]
    lib.kws_rt_invoke.argtypes = [p]
    lib.kws_rt_reset_state.argtypes = [p]
    lib.kws_rt_profile.argtypes = [p, u32, ctypes.POINTER(ctypes.c_uint64)]
    lib.kws_rt_time.argtypes = [p, u32, ctypes.POINTER(ctypes.c_double)]
    lib.kws_rt_op_info.argtypes = [p, u32, ctypes.POINTER(_OpInfo)]
    lib.kws_rt_op_info_size.restype = sz
    lib.kws_rt_tensor_info_size.restype = sz
    lib.kws_rt_check.argtypes = [ctypes.c_char_p, sz, ctypes.c_char_p, sz]
    if lib.kws_rt_op_info_size() != ctypes.sizeof(_OpInfo) or \
            lib.kws_rt_tensor_info_size() != ctypes.sizeof(_TensorInfo):
        raise ModelError("the native runtime's structures do not match this kwshost version",
                         hint="rebuild it: scons target=host")
    lib._kws_runtime_declared = True
    return lib


def _options(builtin: int, params: _Params) -> dict[str, object]:
    if builtin in (3, 4):  # CONV_2D, DEPTHWISE_CONV_2D
        c = params.conv
        out = {"padding": PADDINGS.get(c.padding, c.padding), "stride": (c.stride_w, c.stride_h),
               "activation": ACTIVATIONS.get(c.activation, c.activation)}
        if (c.dilation_w, c.dilation_h) != (1, 1):
            out["dilation"] = (c.dilation_w, c.dilation_h)
        if builtin == 4:
            out = {"multiplier": c.depth_multiplier, **out}
        return out
    if builtin in (1, 17):  # pools
        c = params.pool
        return {"padding": PADDINGS.get(c.padding, c.padding), "stride": (c.stride_w, c.stride_h),
                "filter": (c.filter_w, c.filter_h),
                "activation": ACTIVATIONS.get(c.activation, c.activation)}
    if builtin == 9:
        return {"activation": ACTIVATIONS.get(params.fc.activation, params.fc.activation),
                "keep_num_dims": bool(params.fc.keep_num_dims)}
    if builtin in (0, 18, 41):  # ADD, MUL, SUB
        return {"activation": ACTIVATIONS.get(params.activation, params.activation)}
    if builtin == 25:
        return {"beta": round(params.softmax.beta, 6)}
    if builtin == 2:
        return {"axis": params.concat.axis,
                "activation": ACTIVATIONS.get(params.concat.activation, params.concat.activation)}
    if builtin in (40, 82):  # MEAN, REDUCE_MAX
        return {"keep_dims": bool(params.keep_dims)}
    if builtin == 98:  # LEAKY_RELU
        return {"alpha": round(params.alpha, 6)}
    if builtin == 45:  # STRIDED_SLICE: the masks in use
        c = params.strided_slice
        out = {name: getattr(c, name) for name in STRIDED_SLICE_MASKS if getattr(c, name)}
        return {**out, "offset": True} if c.offset else out
    if builtin == 102:  # SPLIT_V
        return {"num_splits": params.num_splits}
    if builtin == 129:  # CALL_ONCE
        return {"init_subgraph": params.init_subgraph}
    return {}


def check_model(model: bytes) -> tuple[int, str]:
    """(status, message) of loading, allocating and running `model` once (0 = OK)."""
    msg = ctypes.create_string_buffer(256)
    status = _lib().kws_rt_check(model, len(model), msg, len(msg))
    return status, msg.value.decode(errors="replace")


class Interpreter:
    """The firmware runtime on a .tflite model (bytes or path), with its own arena."""

    def __init__(self, model: bytes | Path | str, accelerator: str = "none") -> None:
        if isinstance(model, (str, Path)):
            from kwshost.model_file import read_model

            model = read_model(model)
        if accelerator not in ACCELERATORS:
            raise ModelError(f"unknown accelerator '{accelerator}'",
                             hint=f"choose one of: {', '.join(ACCELERATORS)}")
        self._lib = _lib()
        self.model_bytes = len(model)
        status = ctypes.c_int(0)
        msg = ctypes.create_string_buffer(256)
        self._rt = self._lib.kws_rt_create(bytes(model), len(model), ACCELERATORS[accelerator],
                                           ctypes.byref(status), msg, len(msg))
        if not self._rt:
            reason = msg.value.decode(errors="replace") or STATUS_NAMES.get(status.value, "")
            if status.value == 3:  # invalid model: the bytes, not our kernels, are the problem
                hint = ("the file is not a well-formed .tflite model: truncated, damaged, or "
                        "not a model at all")
            else:
                hint = ("the runtime runs int8 .tflite models whose operators it has kernels "
                        "for (see docs/runtime.md)")
            raise RuntimeRejected(f"the runtime rejected the model: {reason}", hint,
                                  reason=reason, invalid=status.value == 3)
        self.input_details = [self._tensor(1, i) for i in
                              range(self._lib.kws_rt_num_inputs(self._rt))]
        self.output_details = [self._tensor(2, i) for i in
                               range(self._lib.kws_rt_num_outputs(self._rt))]
        self._ops: list[OpDetails] | None = None

    def __del__(self) -> None:
        rt = getattr(self, "_rt", None)
        if rt:
            self._lib.kws_rt_destroy(rt)
            self._rt = None

    def _tensor(self, kind: int, index: int) -> TensorDetails:
        info = _TensorInfo()
        tensor = ctypes.c_int32(-1)
        status = self._lib.kws_rt_tensor_info(self._rt, kind, index, ctypes.byref(info),
                                              ctypes.byref(tensor))
        if status != 0:
            raise ModelError(f"cannot read tensor {index}: {self._message()}")
        return TensorDetails(index=tensor.value, shape=tuple(info.dims[:info.rank]),
                             dtype=DTYPES[info.type], scale=float(info.scale),
                             zero_point=int(info.zero_point), nbytes=int(info.bytes),
                             constant=bool(info.is_constant),
                             channels_quantized=int(info.n_channel_scales))

    def tensor(self, index: int) -> TensorDetails:
        return self._tensor(0, index)

    def _message(self) -> str:
        return self._lib.kws_rt_message(self._rt).decode(errors="replace")

    @property
    def arena_bytes(self) -> int:
        """Bytes of the planned arena (tensors, scratch, per-op data, runtime tables)."""
        return int(self._lib.kws_rt_arena_bytes(self._rt))

    @property
    def state_bytes(self) -> int:
        """Bytes of runtime state outside the arena (interpreter struct and op resolver)."""
        return int(self._lib.kws_rt_state_bytes())

    @property
    def ops(self) -> list[OpDetails]:
        if self._ops is None:
            from kwshost.runtime_names import builtin_name

            ops = []
            for i in range(self._lib.kws_rt_num_ops(self._rt)):
                info = _OpInfo()
                if self._lib.kws_rt_op_info(self._rt, i, ctypes.byref(info)) != 0:
                    raise ModelError(f"cannot read operator {i}: {self._message()}")
                ins = [self.tensor(t) if t >= 0 else None for t in info.inputs[:info.n_inputs]]
                outs = [self.tensor(t) for t in info.outputs[:info.n_outputs]]
                ops.append(OpDetails(index=i, name=builtin_name(info.builtin_code),
                                     kernel=info.kernel_name.decode(),
                                     builtin_code=info.builtin_code, inputs=ins, outputs=outs,
                                     options=_options(info.builtin_code, info.params),
                                     op_data_bytes=info.op_data_bytes,
                                     scratch_bytes=info.scratch_bytes))
            self._ops = ops
        return self._ops

    def invoke(self, *inputs: np.ndarray) -> np.ndarray | list[np.ndarray]:
        """Run the model on `inputs` (one array per graph input); returns the output array
        (a list when the graph has several outputs)."""
        if len(inputs) != len(self.input_details):
            raise ModelError(f"the model takes {len(self.input_details)} input(s), "
                             f"got {len(inputs)}")
        for i, (x, d) in enumerate(zip(inputs, self.input_details, strict=True)):
            arr = np.asarray(x)
            if arr.dtype != d.dtype or arr.size * arr.itemsize != d.nbytes:
                raise ModelError(f"input {i} must be {d.type_name} of shape {d.shape}, "
                                 f"got {arr.dtype} of shape {arr.shape}")
            arr = np.ascontiguousarray(arr)
            self._check(self._lib.kws_rt_set_input(self._rt, i, arr.ctypes.data, arr.nbytes))
        self._check(self._lib.kws_rt_invoke(self._rt))
        outs = []
        for i, d in enumerate(self.output_details):
            y = np.empty(d.shape, dtype=d.dtype)
            self._check(self._lib.kws_rt_get_output(self._rt, i, y.ctypes.data, y.nbytes))
            outs.append(y)
        return outs[0] if len(outs) == 1 else outs

    def reset_state(self) -> None:
        """Put the model's resource variables (a streaming model's past) back to their
        initial state: the next invoke runs as the first one after loading did."""
        self._check(self._lib.kws_rt_reset_state(self._rt))

    def profile(self, repeats: int = 10) -> list[float]:
        """Mean seconds each operator took over `repeats` invokes (inputs as last set)."""
        n = self._lib.kws_rt_num_ops(self._rt)
        ns = (ctypes.c_uint64 * max(n, 1))()
        self._check(self._lib.kws_rt_profile(self._rt, repeats, ns))
        return [ns[i] / repeats * 1e-9 for i in range(n)]

    def time_invoke(self, repeats: int = 100) -> float:
        """Mean seconds per invoke, timed in C (inputs as last set)."""
        out = ctypes.c_double()
        self._check(self._lib.kws_rt_time(self._rt, repeats, ctypes.byref(out)))
        return out.value * 1e-9

    def _check(self, status: int) -> None:
        if status != 0:
            raise ModelError(f"runtime error: {self._message() or STATUS_NAMES.get(status)}")
