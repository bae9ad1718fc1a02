"""MLTK's model parameters: the `SL_PARAMSv1` metadata dictionary inside a .tflite file.

MLTK stores a model's settings (class names, `fe.*` frontend settings, detector parameters)
as a TFLite metadata entry named `SL_PARAMSv1` whose buffer holds a flatbuffer "Dictionary":
`{schema_version: uint8 = 1, entries: [Entry]}` with `Entry {key: string, value: Value}`
and `Value` a union of one-field tables (types below). Reading it here lets every MLTK model
run unchanged, and writing it lets MLTK's tools read our models.

Writing keeps the original model byte for byte: a new root Model table is put in front of
it (flatbuffer offsets only point forward, so the new table can refer to everything in the
old file), its buffers/metadata vectors extended with the new entry. Nothing is re-encoded.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from pathlib import Path

from kwshost.errors import ModelError
from kwshost.flatbuf import Buf, Builder, FlatbufferError, Table

METADATA_NAME = "SL_PARAMSv1"
SCHEMA_VERSION = 1
TFLITE_IDENTIFIER = b"TFL3"

# Value union: type code -> (name, struct format of the single field, or a list kind).
_VALUE_TYPES: dict[int, tuple[str, str]] = {
    1: ("bool", "?"), 2: ("int8", "b"), 3: ("uint8", "B"), 4: ("int16", "h"),
    5: ("uint16", "H"), 6: ("int32", "i"), 7: ("uint32", "I"), 8: ("int64", "q"),
    9: ("uint64", "Q"), 10: ("float", "f"), 11: ("double", "d"), 12: ("str", "string"),
    13: ("str_list", "strings"), 14: ("int32_list", "i*"), 15: ("float_list", "f*"),
    16: ("bin", "bytes"),
}
_CODE_BY_NAME = {name: code for code, (name, _fmt) in _VALUE_TYPES.items()}
_INT_RANGES = (("int8", -2**7, 2**7), ("int16", -2**15, 2**15), ("int32", -2**31, 2**31),
               ("int64", -2**63, 2**63))
_UINT_RANGES = (("uint8", 2**8), ("uint16", 2**16), ("uint32", 2**32), ("uint64", 2**64))

# TFLite schema field indices used here.
_MODEL_VERSION, _MODEL_BUFFERS, _MODEL_METADATA = 0, 4, 6
_MODEL_FIELDS = 8  # version, operator_codes, subgraphs, description, buffers,
#                    metadata_buffer, metadata, signature_defs
_MODEL_SUBGRAPHS, _SUBGRAPH_TENSORS, _TENSOR_BUFFER = 2, 0, 2
_BUFFER_DATA, _BUFFER_OFFSET = 0, 1
_METADATA_NAME, _METADATA_BUFFER = 0, 1


@dataclass(frozen=True)
class Typed:
    """A value with an explicit dictionary type, e.g. Typed(5, "int32"), for write_params."""

    value: object
    dtype: str


def _load(model: bytes | bytearray | Path | str) -> bytes:
    if isinstance(model, (bytes, bytearray, memoryview)):
        return bytes(model)
    from kwshost.model_file import read_model

    return read_model(model)


def _model_root(data: bytes) -> Table:
    if len(data) < 8 or data[4:8] != TFLITE_IDENTIFIER:
        raise ModelError("not a .tflite model: the file identifier 'TFL3' is missing",
                         hint="pass a TensorFlow Lite flatbuffer (.tflite)")
    try:
        return Buf(data).root()
    except FlatbufferError as e:
        raise ModelError(f"malformed .tflite model: {e}") from None


def find_metadata(model: bytes | Path | str, name: str = METADATA_NAME) -> bytes | None:
    """The raw bytes of the model's metadata entry `name`, or None if it has none."""
    data = _load(model)
    root = _model_root(data)
    try:
        buffers = root.tables(_MODEL_BUFFERS)
        for meta in root.tables(_MODEL_METADATA):
            if meta.string(_METADATA_NAME) == name:
                index = meta.scalar(_METADATA_BUFFER, "I")
                if index >= len(buffers):
                    raise ModelError(f"metadata '{name}' names buffer {index}, but the model "
                                     f"has {len(buffers)} buffers")
                return buffers[index].bytes(_BUFFER_DATA) or b""
    except FlatbufferError as e:
        raise ModelError(f"malformed .tflite model metadata: {e}") from None
    return None


def read_params(model: bytes | Path | str) -> dict[str, object]:
    """The model's `SL_PARAMSv1` dictionary ({} if it has none), values as Python types."""
    raw = find_metadata(model)
    if raw is None:
        return {}
    try:
        return decode_dictionary(raw)
    except FlatbufferError as e:
        raise ModelError(f"malformed {METADATA_NAME} metadata: {e}") from None


def decode_dictionary(raw: bytes) -> dict[str, object]:
    """Decode a serialized Dictionary flatbuffer (raises FlatbufferError or ModelError)."""
    root = Buf(raw).root()
    version = root.scalar(0, "B")
    if version == 0 or version > SCHEMA_VERSION:
        raise ModelError(f"{METADATA_NAME} schema version {version} is not supported "
                         f"(this reader knows version {SCHEMA_VERSION})")
    params: dict[str, object] = {}
    for entry in root.tables(1):
        key = entry.string(0)
        if key is None:
            raise ModelError(f"{METADATA_NAME} has an entry without a key")
        code = entry.scalar(1, "B")
        value = entry.table(2)
        if code not in _VALUE_TYPES or value is None:
            raise ModelError(f"{METADATA_NAME} entry '{key}' has an unknown value type {code}")
        params[key] = _decode_value(value, _VALUE_TYPES[code][1])
    return params


def _decode_value(value: Table, fmt: str) -> object:
    if fmt == "string":
        return value.string(0) or ""
    if fmt == "strings":
        return value.strings(0)
    if fmt == "bytes":
        return value.bytes(0) or b""
    if fmt.endswith("*"):
        return value.scalars(0, fmt[0])
    default = False if fmt == "?" else 0
    return value.scalar(0, fmt, default)


def dtype_of(value: object) -> str:
    """The dictionary type a Python value is stored as (the smallest integer type that holds
    it, float when float32 keeps the value, MLTK's list types)."""
    if isinstance(value, Typed):
        return value.dtype
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        if value >= 0:
            for name, top in _UINT_RANGES:
                if value < top:
                    return name
        else:
            for name, low, top in _INT_RANGES:
                if low <= value < top:
                    return name
        raise ModelError(f"integer {value} does not fit in 64 bits")
    if isinstance(value, float):
        # float32 where it keeps the value exactly, else double: writing never loses digits.
        try:
            exact = struct.unpack("<f", struct.pack("<f", value))[0] == value
        except OverflowError:
            exact = False
        return "float" if exact or math.isnan(value) else "double"
    if isinstance(value, str):
        return "str"
    if isinstance(value, (bytes, bytearray)):
        return "bin"
    if isinstance(value, (list, tuple)):
        if all(isinstance(v, str) for v in value):
            return "str_list"
        if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            return "int32_list"
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            return "float_list"
    raise ModelError(f"cannot store a {type(value).__name__} in {METADATA_NAME}",
                     hint="use bool, int, float, str, bytes or a list of str/int/float")


def encode_dictionary(params: dict[str, object]) -> bytes:
    """Serialize `params` as MLTK's Dictionary flatbuffer (laid out front to back)."""
    b = Builder()
    root_slot = b.put("I", 0)
    dict_at, dict_fields = b.table([("B", SCHEMA_VERSION), ("I", 0)])
    b.patch_uoffset(root_slot, dict_at)
    vec_at, slots = b.vector_of_offsets(len(params))
    b.patch_uoffset(dict_fields[1], vec_at)
    for slot, (key, value) in zip(slots, params.items(), strict=True):
        if not isinstance(key, str):
            raise ModelError(f"{METADATA_NAME} keys must be strings, not {key!r}")
        dtype = dtype_of(value)
        if dtype not in _CODE_BY_NAME:
            raise ModelError(f"unknown {METADATA_NAME} type '{dtype}' for key '{key}'")
        raw = value.value if isinstance(value, Typed) else value
        entry_at, entry_fields = b.table([("I", 0), ("B", _CODE_BY_NAME[dtype]), ("I", 0)])
        b.patch_uoffset(slot, entry_at)
        b.patch_uoffset(entry_fields[0], b.string(key))
        try:
            value_at = _encode_value(b, _VALUE_TYPES[_CODE_BY_NAME[dtype]][1], raw)
        except (struct.error, TypeError, ValueError) as e:
            raise ModelError(f"{METADATA_NAME} value of '{key}' is not a valid {dtype}: {e}") \
                from None
        b.patch_uoffset(entry_fields[2], value_at)
    return bytes(b.out)


def _encode_value(b: Builder, fmt: str, value: object) -> int:
    if fmt in ("string", "strings", "bytes") or fmt.endswith("*"):
        table_at, fields = b.table([("I", 0)])
        if fmt == "string":
            target = b.string(str(value))
        elif fmt == "bytes":
            target = b.bytes_vector(bytes(value))  # type: ignore[arg-type]
        elif fmt == "strings":
            items = [str(s) for s in value]  # type: ignore[union-attr]
            target, slots = b.vector_of_offsets(len(items))
            for slot, s in zip(slots, items, strict=True):
                b.patch_uoffset(slot, b.string(s))
        else:
            cast = int if fmt[0] == "i" else float
            target = b.vector_of_scalars(fmt[0], [cast(v) for v in value])  # type: ignore
        b.patch_uoffset(fields[0], target)
        return table_at
    if fmt == "?":
        value = bool(value)
    elif fmt in "fd":
        value = float(value)  # type: ignore[arg-type]
    else:
        value = int(value)  # type: ignore[call-overload]
    table_at, _ = b.table([(fmt, value)])
    return table_at


def write_params(model: bytes | Path | str, params: dict[str, object]) -> bytes:
    """The model with its `SL_PARAMSv1` metadata set to `params` (added or replaced)."""
    return write_metadata(_load(model), METADATA_NAME, encode_dictionary(params))


def write_metadata(data: bytes, name: str, payload: bytes) -> bytes:
    """Add or replace the metadata entry `name` of a .tflite model, keeping the rest as is."""
    old = _model_root(data)
    try:
        return _overwrite(data, old, name, payload) or _prepend_root(data, old, name, payload)
    except FlatbufferError as e:
        raise ModelError(f"malformed .tflite model: {e}") from None


def _overwrite(data: bytes, old: Table, name: str, payload: bytes) -> bytes | None:
    """The model with entry `name`'s payload written over its old one, when that has room
    and nothing else uses its bytes; else None. Editing parameters then keeps the file's size
    (a new root in front of the old file would add the payload's size at every edit)."""
    buffers = old.tables(_MODEL_BUFFERS)
    metas = old.tables(_MODEL_METADATA)
    named = [m.scalar(_METADATA_BUFFER, "I") for m in metas if m.string(_METADATA_NAME) == name]
    if len(named) != 1 or named[0] >= len(buffers):
        return None
    index = named[0]
    vec = buffers[index].vector(_BUFFER_DATA)
    if vec is None or vec[1] < len(payload):
        return None
    first, count = vec
    old.buf._check(first, count)
    shared = [m.scalar(_METADATA_BUFFER, "I") for m in metas].count(index) > 1 or any(
        i != index and (b.vector(_BUFFER_DATA) or (None,))[0] == first
        for i, b in enumerate(buffers)) or any(
        t.scalar(_TENSOR_BUFFER, "I") == index
        for g in old.tables(_MODEL_SUBGRAPHS) for t in g.tables(_SUBGRAPH_TENSORS))
    if shared:
        return None
    # The vector keeps its length, the payload zero-padded: a flatbuffer is read from its
    # root offset, so readers (ours, the firmware's, MLTK's) ignore the tail, and the room
    # stays for later edits.
    out = bytearray(data)
    out[first:first + count] = payload + bytes(count - len(payload))
    return bytes(out)


_ALIGN = 16  # TFLite aligns buffer data to 16 bytes: shift the old file by a multiple of it


def _prepend_root(data: bytes, old: Table, name: str, payload: bytes) -> bytes:
    if old.vtable_size > 4 + 2 * _MODEL_FIELDS:
        raise ModelError("this .tflite model has Model fields newer than this tool knows")
    buffers = old.tables(_MODEL_BUFFERS)
    for buf in buffers:
        if buf.scalar(_BUFFER_OFFSET, "Q") > 1:
            raise ModelError("models with buffers stored outside the flatbuffer (over 2 GB) "
                             "are not supported")
    metas = old.tables(_MODEL_METADATA)
    replace = next((i for i, m in enumerate(metas) if m.string(_METADATA_NAME) == name), None)
    target_buffer = metas[replace].scalar(_METADATA_BUFFER, "I") if replace is not None \
        else len(buffers)
    n_buffers = max(len(buffers), target_buffer + 1)
    n_metas = len(metas) + (replace is None)

    def build(shift: int) -> bytes:
        b = Builder()
        root_slot = b.put("I", 0)
        b.out += TFLITE_IDENTIFIER
        fields: list[tuple[str, object] | None] = []
        for i in range(_MODEL_FIELDS):
            pos = old.field_pos(i)
            if i == _MODEL_VERSION:
                fields.append(("I", old.scalar(0, "I")) if pos is not None else None)
            elif i in (_MODEL_BUFFERS, _MODEL_METADATA) or pos is not None:
                fields.append(("I", 0))
            else:
                fields.append(None)
        model_at, model_fields = b.table(fields)
        b.patch_uoffset(root_slot, model_at)
        # Offsets into the old file, which will start at `shift`.
        for i in range(1, _MODEL_FIELDS):
            pos = old.field_pos(i)
            if pos is not None and i not in (_MODEL_BUFFERS, _MODEL_METADATA):
                pending.append((model_fields[i], old.buf.uoffset_target(pos)))
        buf_vec, buf_slots = b.vector_of_offsets(n_buffers)
        b.patch_uoffset(model_fields[_MODEL_BUFFERS], buf_vec)
        for i, buf in enumerate(buffers):
            if i != target_buffer:
                pending.append((buf_slots[i], buf.pos))
        meta_vec, meta_slots = b.vector_of_offsets(n_metas)
        b.patch_uoffset(model_fields[_MODEL_METADATA], meta_vec)
        for i, meta in enumerate(metas):
            pending.append((meta_slots[i], meta.pos))
        # Empty buffers may pad the vector up to the target index (never in practice).
        for i in range(len(buffers), n_buffers):
            if i != target_buffer:
                empty_at, _ = b.table([])
                b.patch_uoffset(buf_slots[i], empty_at)
        if replace is None:
            meta_at, meta_fields = b.table([("I", 0), ("I", target_buffer)])
            b.patch_uoffset(meta_slots[-1], meta_at)
            b.patch_uoffset(meta_fields[0], b.string(name))
        new_buf_at, new_buf_fields = b.table([("I", 0)])
        b.patch_uoffset(buf_slots[target_buffer], new_buf_at)
        b.patch_uoffset(new_buf_fields[0], b.bytes_vector(payload, align=_ALIGN))
        b.align(_ALIGN)
        for slot, old_target in pending:
            b.patch_uoffset(slot, shift + old_target)
        return bytes(b.out)

    # The prefix length does not depend on the shift, so build once to measure it.
    pending: list[tuple[int, int]] = []
    head_size = len(build(1 << 30))
    pending = []
    head = build(head_size)
    assert len(head) == head_size
    return head + data
