"""The operator graph of any .tflite model, read straight from its flatbuffer (no runtime).

`kwshost summarize` falls back to it for models the runtime cannot run (float models,
operators it has no kernel for). `read_ops` gives subgraph 0's operators (the graph a model
runs at every invoke; `subgraph_sizes` counts the operators of the others, such as the init
subgraph a streaming model's CALL_ONCE runs once) as the same
OpDetails the runtime gives: builtin names, tensor shapes, types and constness, and the
options the summary shows, under the runtime's keys and values; so the MAC counts
(model_stats) and the summary table do not care where the operators came from.

Field numbers are those of TFLite's schema (tensorflow/lite/schema/schema.fbs). Every read
is bounds-checked: a malformed file raises ModelError, and a work budget stops a file whose
tables share one vector many times over from taking quadratic time.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kwshost.errors import ModelError
from kwshost.flatbuf import FlatbufferError, Table
from kwshost.metadata import (
    _BUFFER_DATA,
    _BUFFER_OFFSET,
    _MODEL_BUFFERS,
    _MODEL_SUBGRAPHS,
    _SUBGRAPH_TENSORS,
    _TENSOR_BUFFER,
    _load,
    _model_root,
)
from kwshost.runtime import ACTIVATIONS, PADDINGS, OpDetails, TensorDetails
from kwshost.runtime_names import builtin_name

# Schema field numbers; those the metadata writer also needs come from kwshost.metadata.
_MODEL_CODES = 1
_SG_OPERATORS = 3
_TENSOR_SHAPE, _TENSOR_TYPE, _TENSOR_QUANT = 0, 1, 4
_QUANT_SCALE, _QUANT_ZERO, _QUANT_DIMENSION = 2, 3, 6
_SG_INPUTS = 1
_BUFFER_SIZE = 2
_OP_CODE, _OP_INPUTS, _OP_OUTPUTS, _OP_OPTIONS_TYPE, _OP_OPTIONS = 0, 1, 2, 3, 4
_CODE_DEPRECATED, _CODE_CUSTOM, _CODE_BUILTIN = 0, 1, 3
BUILTIN_CUSTOM = 32  # BuiltinOperator CUSTOM

# TensorType: name (numpy's where numpy has the type) and numpy type (None: numpy lacks it).
_TYPES: dict[int, tuple[str, type | None]] = {
    0: ("float32", np.float32), 1: ("float16", np.float16), 2: ("int32", np.int32),
    3: ("uint8", np.uint8), 4: ("int64", np.int64), 5: ("string", None), 6: ("bool", np.bool_),
    7: ("int16", np.int16), 8: ("complex64", np.complex64), 9: ("int8", np.int8),
    10: ("float64", np.float64), 11: ("complex128", np.complex128), 12: ("uint64", np.uint64),
    13: ("resource", None), 14: ("variant", None), 15: ("uint32", np.uint32),
    16: ("uint16", np.uint16), 17: ("int4", None), 18: ("bfloat16", None), 19: ("int2", None),
    20: ("uint4", None),
}
# Float models may fuse activations the runtime's kernels do not have.
_ACTIVATIONS = {**ACTIVATIONS, 4: "Tanh", 5: "SignBit"}
# builtin code -> BuiltinOptions union type of the options decoded below.
_OPTION_TYPES = {3: 1, 4: 2, 1: 5, 17: 5, 12: 5, 9: 8, 25: 9, 2: 10, 0: 11, 18: 21, 41: 28,
                 42: 29, 40: 27, 74: 27, 82: 27, 89: 27, 45: 32, 98: 75, 102: 79, 129: 103}
_STRIDED_SLICE_MASKS = ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask",
                        "shrink_axis_mask")


@dataclass
class GraphTensor(TensorDetails):
    """A tensor as the file declares it; `type_name` also names types numpy lacks."""

    tflite_type: str = ""

    @property
    def type_name(self) -> str:
        return self.tflite_type


@dataclass
class Constant:
    """A tensor's stored values with its quantization (per channel along `axis` when there are
    several scales)."""

    values: np.ndarray
    scales: np.ndarray
    zero_points: np.ndarray
    axis: int

    def dequantized(self) -> np.ndarray:
        """(q - zero point) x scale as float32; float tensors as they are."""
        if self.values.dtype.kind == "f" or len(self.scales) == 0:
            return self.values.astype(np.float32)
        shape = [1] * self.values.ndim
        if len(self.scales) > 1:
            if not 0 <= self.axis < self.values.ndim \
                    or self.values.shape[self.axis] != len(self.scales):
                raise ModelError(f"{len(self.scales)} scales for a tensor of shape "
                                 f"{list(self.values.shape)} along axis {self.axis}")
            shape[self.axis] = len(self.scales)
        zeros = self.zero_points if len(self.zero_points) == len(self.scales) else np.zeros(1)
        with np.errstate(over="ignore", invalid="ignore"):   # a damaged scale: inf, not a warning
            return ((self.values.astype(np.float64) - zeros.reshape(shape))
                    * self.scales.reshape(shape)).astype(np.float32)


class _Graph:
    def __init__(self, data: bytes) -> None:
        self.root = _model_root(data)
        self.buf = self.root.buf
        # Legitimate files store every vector element once; sharing can multiply the reads.
        self.budget = len(data) + 100_000
        subgraphs = self._vector(self.root, _MODEL_SUBGRAPHS)
        if subgraphs[1] == 0:
            raise ModelError("malformed .tflite model: it has no subgraph")
        self.subgraph = self._element(subgraphs, 0, "subgraph")
        self.tensors = self._vector(self.subgraph, _SUBGRAPH_TENSORS)
        self.buffers = self._vector(self.root, _MODEL_BUFFERS)
        self.codes = self._vector(self.root, _MODEL_CODES)
        self.cache: dict[int, GraphTensor] = {}
        self.code_cache: dict[int, tuple[int, str]] = {}

    def _spend(self, n: int) -> None:
        self.budget -= n
        if self.budget < 0:
            raise ModelError("malformed .tflite model: its tables refer to far more data than "
                             "the file holds")

    def _vector(self, table: Table, index: int) -> tuple[int, int]:
        vec = table.vector(index)
        if vec is None:
            return 0, 0
        self.buf._check(vec[0], 4 * vec[1])
        return vec

    def _element(self, vec: tuple[int, int], i: int, what: str) -> Table:
        first, count = vec
        if not 0 <= i < count:
            raise ModelError(f"malformed .tflite model: {what} {i} does not exist "
                             f"(there are {count})")
        self._spend(1)
        return Table(self.buf, self.buf.uoffset_target(first + 4 * i))

    def _ints(self, table: Table, index: int) -> list[int]:
        vec = table.vector(index)
        self._spend(0 if vec is None else vec[1])
        return table.scalars(index, "i")

    def tensor(self, i: int) -> GraphTensor:
        if i not in self.cache:
            t = self._element(self.tensors, i, "tensor")
            shape = tuple(self._ints(t, _TENSOR_SHAPE))
            code = t.scalar(_TENSOR_TYPE, "B")
            name, dtype = _TYPES.get(code, (f"type{code}", None))
            itemsize = np.dtype(dtype).itemsize if dtype is not None else 0
            scale, zero_point, channels = 0.0, 0, 0
            quant = t.table(_TENSOR_QUANT)
            if quant is not None and (scales := quant.vector(_QUANT_SCALE)) and scales[1]:
                channels = scales[1]
                scale = float(self.buf.scalar("f", scales[0]))
                zeros = quant.vector(_QUANT_ZERO)
                zero_point = int(self.buf.scalar("q", zeros[0])) if zeros and zeros[1] else 0
            self.cache[i] = GraphTensor(
                index=i, shape=shape, dtype=dtype or np.void, scale=scale,
                zero_point=zero_point, nbytes=math.prod(max(d, 0) for d in shape) * itemsize,
                constant=self._constant(t.scalar(_TENSOR_BUFFER, "I")),
                channels_quantized=channels, tflite_type=name)
        return self.cache[i]

    def _constant(self, buffer: int) -> bool:
        b = self._element(self.buffers, buffer, "buffer")
        data = b.vector(_BUFFER_DATA)
        # Large models keep data outside the flatbuffer (offset > 1, size > 0).
        return bool(data and data[1]) or (b.scalar(_BUFFER_OFFSET, "Q") > 1
                                          and b.scalar(_BUFFER_SIZE, "Q") > 0)

    def constant(self, i: int) -> Constant:
        """Tensor i's stored values and quantization (ModelError if it holds no data)."""
        t = self._element(self.tensors, i, "tensor")
        info = self.tensor(i)
        b = self._element(self.buffers, t.scalar(_TENSOR_BUFFER, "I"), "buffer")
        raw = b.bytes(_BUFFER_DATA)
        offset, size = b.scalar(_BUFFER_OFFSET, "Q"), b.scalar(_BUFFER_SIZE, "Q")
        if not raw and offset > 1 and size > 0:    # data kept after the flatbuffer
            self.buf._check(offset, size)
            raw = self.buf.data[offset:offset + size]
        dtype = _TYPES.get(t.scalar(_TENSOR_TYPE, "B"), ("", None))[1]
        count = math.prod(max(d, 0) for d in info.shape)
        if dtype is None or not raw or len(raw) != count * np.dtype(dtype).itemsize:
            raise ModelError(f"tensor {i} ({info.tflite_type}, shape {list(info.shape)}) "
                             f"holds {len(raw or b'')} bytes of data, not its values")
        self._spend(len(raw) // 4)
        scales: list[float] = []
        zeros: list[int] = []
        axis = 0
        quant = t.table(_TENSOR_QUANT)
        if quant is not None:
            scales, zeros = quant.scalars(_QUANT_SCALE, "f"), quant.scalars(_QUANT_ZERO, "q")
            axis = quant.scalar(_QUANT_DIMENSION, "i")
            self._spend(len(scales) + len(zeros))
        values = np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<")).reshape(info.shape)
        return Constant(values, np.asarray(scales, np.float64), np.asarray(zeros, np.int64), axis)

    def inputs(self) -> list[int]:
        return self._ints(self.subgraph, _SG_INPUTS)

    def ops(self) -> list[OpDetails]:
        ops = self._vector(self.subgraph, _SG_OPERATORS)
        return [self._op(i, self._element(ops, i, "operator")) for i in range(ops[1])]

    def _code(self, i: int) -> tuple[int, str]:
        """(builtin code, name) of operator code `i`; a custom operator by its own name."""
        if i not in self.code_cache:
            t = self._element(self.codes, i, "operator code")
            code = max(t.scalar(_CODE_DEPRECATED, "b"), t.scalar(_CODE_BUILTIN, "i"))
            name = builtin_name(code)
            if code == BUILTIN_CUSTOM and (custom := t.vector(_CODE_CUSTOM)):
                self._spend(custom[1])
                text = t.string(_CODE_CUSTOM) or name
                name = "".join(c if c.isprintable() else "?" for c in text[:64])
            self.code_cache[i] = code, name
        return self.code_cache[i]

    def _op(self, index: int, t: Table) -> OpDetails:
        code, name = self._code(t.scalar(_OP_CODE, "I"))
        inputs = [None if i == -1 else self.tensor(i) for i in self._ints(t, _OP_INPUTS)]
        outputs = [self.tensor(i) for i in self._ints(t, _OP_OUTPUTS)]
        options = t.table(_OP_OPTIONS)
        if t.scalar(_OP_OPTIONS_TYPE, "B") != _OPTION_TYPES.get(code):
            options = None  # absent, or not the table this code's options are
        return OpDetails(index=index, name=name, kernel=name, builtin_code=code,
                         inputs=inputs, outputs=outputs,  # type: ignore[arg-type]
                         options=_options(code, options))


def _options(code: int, t: Table | None) -> dict[str, object]:
    """The options the runtime's OpDetails show for `code`, under the same keys and values
    (an absent table reads as the schema's defaults, as in the runtime)."""
    def get(index: int, fmt: str, default: object = 0):
        return default if t is None else t.scalar(index, fmt, default)

    def act(index: int) -> object:
        a = get(index, "B")
        return _ACTIVATIONS.get(a, a)  # type: ignore[call-overload]

    if code in (3, 4):  # CONV_2D, DEPTHWISE_CONV_2D
        dw = code == 4
        pad = get(0, "B")
        out: dict[str, object] = {"padding": PADDINGS.get(pad, pad),
                                  "stride": (get(1, "i"), get(2, "i")),
                                  "activation": act(4 if dw else 3)}
        dilation = (get(5 if dw else 4, "i", 1), get(6 if dw else 5, "i", 1))
        if dilation != (1, 1):
            out["dilation"] = dilation
        return {"multiplier": get(3, "i"), **out} if dw else out
    if code in (1, 12, 17):  # AVERAGE_POOL_2D, L2_POOL_2D, MAX_POOL_2D
        pad = get(0, "B")
        return {"padding": PADDINGS.get(pad, pad), "stride": (get(1, "i"), get(2, "i")),
                "filter": (get(3, "i"), get(4, "i")), "activation": act(5)}
    if code == 9:  # FULLY_CONNECTED
        return {"activation": act(0), "keep_num_dims": bool(get(2, "B"))}
    if code in (0, 18, 41, 42):  # ADD, MUL, SUB, DIV
        return {"activation": act(0)}
    if code == 25:  # SOFTMAX
        return {"beta": round(get(0, "f", 0.0), 6)}
    if code == 2:  # CONCATENATION
        return {"axis": get(0, "i"), "activation": act(1)}
    if code in (40, 74, 82, 89):  # MEAN, SUM, REDUCE_MAX, REDUCE_MIN
        return {"keep_dims": bool(get(0, "B"))}
    if code == 98:  # LEAKY_RELU
        return {"alpha": round(get(0, "f", 0.0), 6)}
    if code == 45:  # STRIDED_SLICE: the masks in use
        masks = {name: get(i, "i") for i, name in enumerate(_STRIDED_SLICE_MASKS)}
        out = {name: value for name, value in masks.items() if value}
        return {**out, "offset": True} if get(5, "B") else out
    if code == 102:  # SPLIT_V
        return {"num_splits": get(0, "i")}
    if code == 129:  # CALL_ONCE
        return {"init_subgraph": get(0, "i")}
    return {}


_SOFTMAX = 25   # BuiltinOperator SOFTMAX (its options: SoftmaxOptions, field 0 beta)


def with_softmax_temperature(model: bytes | Path | str,
                             temperature: float) -> tuple[bytes, list[tuple[int, float, float]]]:
    """The model with every SOFTMAX's beta divided by `temperature` (softmax(beta * x / T):
    the logits divided by T, as `kwshost convert --temperature` does before quantization), and
    (operator index, old beta, new beta) per SOFTMAX. The float is rewritten where it lies, so
    nothing else in the file moves; a SOFTMAX without a stored beta (the schema's default 0,
    which no converter writes) or a model without a SOFTMAX is a ModelError."""
    data = bytearray(_load(model))
    try:
        g = _Graph(bytes(data))
        ops = g._vector(g.subgraph, _SG_OPERATORS)
        found: dict[int, list[int]] = {}   # beta's position -> operators (a table may be shared)
        for i in range(ops[1]):
            t = g._element(ops, i, "operator")
            if g._code(t.scalar(_OP_CODE, "I"))[0] != _SOFTMAX:
                continue
            options = t.table(_OP_OPTIONS)
            pos = (options.field_pos(0) if options is not None
                   and t.scalar(_OP_OPTIONS_TYPE, "B") == _OPTION_TYPES[_SOFTMAX] else None)
            if pos is None:
                raise ModelError(f"operator {i} (SOFTMAX) stores no beta to change",
                                 hint="convert the model again, e.g. kwshost convert "
                                      "--temperature T")
            g.buf._check(pos, 4)
            found.setdefault(pos, []).append(i)
    except FlatbufferError as e:
        raise ModelError(f"malformed .tflite model: {e}") from None
    if not found:
        raise ModelError("the model has no SOFTMAX operator: nothing to temper")
    changes = []
    for pos, indexes in found.items():
        old = struct.unpack_from("<f", data, pos)[0]
        new = old / temperature
        if not (math.isfinite(new) and new > 0):
            raise ModelError(f"operator {indexes[0]} (SOFTMAX): beta {old} / {temperature} "
                             "is not a positive number")
        struct.pack_into("<f", data, pos, new)
        changes += [(i, old, struct.unpack_from("<f", data, pos)[0]) for i in indexes]
    return bytes(data), sorted(changes)


def read_graph(model: bytes | Path | str) -> tuple[list[OpDetails], list[int], Callable]:
    """Subgraph 0's operators, its input tensor indexes, and a reader of constant tensors
    (`constant(i) -> Constant`); every read bounds-checked, ModelError on a malformed file."""
    data = _load(model)
    try:
        g = _Graph(data)
        ops, inputs = g.ops(), g.inputs()
    except FlatbufferError as e:
        raise ModelError(f"malformed .tflite model: {e}") from None

    def constant(i: int) -> Constant:
        try:
            return g.constant(i)
        except FlatbufferError as e:
            raise ModelError(f"malformed .tflite model: {e}") from None

    return ops, inputs, constant


def subgraph_sizes(model: bytes | Path | str) -> list[int]:
    """How many operators each subgraph has (subgraph 0 first); ModelError on a malformed
    file."""
    data = _load(model)
    try:
        g = _Graph(data)
        subgraphs = g._vector(g.root, _MODEL_SUBGRAPHS)
        return [g._vector(g._element(subgraphs, i, "subgraph"), _SG_OPERATORS)[1]
                for i in range(subgraphs[1])]
    except FlatbufferError as e:
        raise ModelError(f"malformed .tflite model: {e}") from None


def read_ops(model: bytes | Path | str) -> list[OpDetails]:
    """Subgraph 0's operators in execution order (raises ModelError on a malformed file)."""
    data = _load(model)
    try:
        return _Graph(data).ops()
    except FlatbufferError as e:
        raise ModelError(f"malformed .tflite model: {e}") from None


def keeps_state(model: bytes | Path | str) -> bool:
    """Whether the model keeps its past between inferences in resource variables (a
    streaming model, e.g. microWakeWord's), so that each input is only its newest rows."""
    return any(op.name in ("VAR_HANDLE", "READ_VARIABLE") for op in read_ops(model))
