"""`kwshost summarize` on models the runtime cannot run: the graph read from the file
(kwshost.tflite_graph) gives the same operators as the runtime where the runtime runs the
model, and float models, unknown and custom operators are summarized from it. Damaged files
are one-line errors, never tracebacks or hangs."""

from __future__ import annotations

import json
import struct
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from kwshost.cli import main
from kwshost.cli.summarize import summarize
from kwshost.errors import ModelError
from kwshost.flatbuf import Buf, Builder
from kwshost.runtime import Interpreter
from kwshost.tflite_graph import read_ops

REPO = Path(__file__).resolve().parents[1]
ALEXA = REPO / "models" / "mltk_keyword_spotting_alexa.tflite"


# A minimal .tflite writer: a table is a list of fields, each None (absent), a scalar
# (struct format, value) or an object (Tab, list of Tab, Ints, bytes, str). An object used
# twice is written once and referred to twice, as a hostile file could do.
@dataclass(eq=False)
class Tab:
    fields: list


@dataclass(eq=False)
class Ints:
    fmt: str
    values: list


def _write(b: Builder, obj: object, seen: dict[int, int]) -> int:
    if id(obj) in seen:
        return seen[id(obj)]
    if isinstance(obj, Tab):
        at, slots = b.table([f if f is None or isinstance(f, tuple) else ("I", 0)
                             for f in obj.fields])
        for f, slot in zip(obj.fields, slots, strict=True):
            if f is not None and not isinstance(f, tuple):
                b.patch_uoffset(slot, _write(b, f, seen))
    elif isinstance(obj, list):
        at, slots = b.vector_of_offsets(len(obj))
        for child, slot in zip(obj, slots, strict=True):
            b.patch_uoffset(slot, _write(b, child, seen))
    elif isinstance(obj, Ints):
        at = b.vector_of_scalars(obj.fmt, obj.values)
    elif isinstance(obj, bytes):
        at = b.bytes_vector(obj, align=16)
    else:
        at = b.string(str(obj))
    seen[id(obj)] = at
    return at


def tflite(model: Tab) -> bytes:
    b = Builder(base=8)  # after the root offset and the "TFL3" identifier
    root = _write(b, model, {})
    return struct.pack("<I", root) + b"TFL3" + bytes(b.out)


def float_model(custom: str | None = None) -> bytes:
    """A float32 model: CONV_2D (SAME, relu) 8x8x2 -> 8x8x4, DEPTHWISE_CONV_2D (stride 2)
    -> 4x4x4, AVERAGE_POOL_2D 4x4 -> 1x1x4, RESHAPE -> 4, FULLY_CONNECTED -> 3, SOFTMAX
    (or the custom operator `custom`)."""
    rng = np.random.default_rng(1)
    buffers: list = [Tab([])]
    tensors: list = []

    def tensor(shape, data: np.ndarray | None = None, ttype: int = 0) -> int:
        buffer = 0
        if data is not None:
            buffers.append(Tab([data.tobytes()]))
            buffer = len(buffers) - 1
        tensors.append(Tab([Ints("i", list(shape)), ("B", ttype), ("I", buffer)]))
        return len(tensors) - 1

    def weights(*shape: int) -> int:
        return tensor(shape, rng.standard_normal(shape).astype(np.float32))

    x = tensor((1, 8, 8, 2))
    a = tensor((1, 8, 8, 4))
    d = tensor((1, 4, 4, 4))
    p = tensor((1, 1, 1, 4))
    r = tensor((1, 4))
    f = tensor((1, 3))
    y = tensor((1, 3))
    codes = [3, 4, 1, 22, 9, 25 if custom is None else 32]
    ops = [(0, [x, weights(4, 3, 3, 2), weights(4)], a, 1, [("B", 0), ("i", 1), ("i", 1),
                                                          ("B", 1)]),
           (1, [a, weights(1, 3, 3, 4), weights(4)], d, 2, [("B", 0), ("i", 2), ("i", 2),
                                                          ("i", 1), ("B", 3)]),
           (2, [d], p, 5, [("B", 1), ("i", 1), ("i", 1), ("i", 4), ("i", 4), ("B", 0)]),
           (3, [p, tensor((2,), np.array([1, 4], np.int32), ttype=2)], r, 0, None),
           (4, [r, weights(3, 4), -1], f, 8, [("B", 0)]),
           (5, [f], y, 9 if custom is None else 0, [("f", 1.0)] if custom is None else None)]
    operators = [Tab([("I", code), Ints("i", ins), Ints("i", [out]), ("B", otype),
                      None if opts is None else Tab(opts)])
                 for code, ins, out, otype, opts in ops]
    opcodes = [Tab([("b", min(c, 127)), custom if c == 32 else None, ("i", 1), ("i", c)])
               for c in codes]
    subgraph = Tab([tensors, Ints("i", [x]), Ints("i", [y]), operators])
    return tflite(Tab([("I", 3), opcodes, [subgraph], "float test model", buffers]))


def details(op) -> tuple:
    def t(x):
        return None if x is None else (x.index, x.shape, x.type_name, x.constant, x.scale,
                                        x.zero_point, x.channels_quantized, x.nbytes)
    return (op.index, op.name, op.builtin_code, [t(x) for x in op.inputs],
            [t(x) for x in op.outputs], op.options)


def test_graph_from_the_file_equals_the_runtimes_on_int8_models():
    models = sorted((REPO / "models").glob("*.tflite"))
    try:
        import random_models

        models += random_models.generate(4242, 15, REPO / "build" / "test-models")
    except ImportError:  # no TensorFlow to build them and none cached
        pass
    for path in models:
        theirs = [details(op) for op in Interpreter(path).ops]
        assert [details(op) for op in read_ops(path)] == theirs, path.name
        assert theirs


def test_a_float_model_is_summarized_from_the_file(tmp_path, capsys):
    model = tmp_path / "float.tflite"
    model.write_bytes(float_model())
    s = summarize(model)
    assert s["runs_on_runtime"] is False
    assert s["runtime_error"].startswith("operator 0 (CONV_2D): only int8")
    assert s["arena_bytes"] is s["ram_bytes"] is s["runtime_state_bytes"] is None
    ops = s["operators"]
    assert [o["op"] for o in ops] == ["CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D",
                                      "RESHAPE", "FULLY_CONNECTED", "SOFTMAX"]
    # conv 3*3*2 per output (8x8x4), depthwise 3*3 per output (4x4x4), fc 4 per output (3).
    assert [o["macs"] for o in ops] == [4608, 576, 0, 0, 12, 0]
    assert s["total_macs"] == 5196
    assert ops[0]["options"] == {"padding": "Same", "stride": [1, 1], "activation": "Relu"}
    assert ops[1]["options"] == {"multiplier": 1, "padding": "Same", "stride": [2, 2],
                                 "activation": "Relu6"}
    assert ops[2]["options"]["filter"] == [4, 4] and ops[2]["options"]["padding"] == "Valid"
    assert ops[4]["inputs"][2] is None and ops[4]["inputs"][1] == {
        "shape": [3, 4], "type": "float32", "constant": True}
    assert ops[5]["options"] == {"beta": 1.0} and ops[0]["kernel"] is None

    for accelerator in ("none", "mvp"):
        assert main(["summarize", str(model), "--accelerator", accelerator]) == 0
        out = capsys.readouterr().out
        for text in ("depthwise_conv_2d", "8x8x4 (float32)", "5.2 k",
                     "RAM:", "n/a (this runtime cannot run the model: operator 0 (CONV_2D"):
            assert text in out, (accelerator, text, out)
    assert main(["summarize", str(model), "--json"]) == 0
    j = json.loads(capsys.readouterr().out)
    assert j["runs_on_runtime"] is False and j["ram_bytes"] is None and j["total_macs"] == 5196


def test_float_activations_with_int8_weights_count_the_same_macs(tmp_path):
    """MLTK's alexa with every activation tensor made float32 (as in a dynamic-range
    quantized model): the runtime refuses it; the summary matches the int8 model's."""
    data = bytearray(ALEXA.read_bytes())
    root = Buf(bytes(data)).root()
    buffers = root.tables(4)
    for t in root.tables(2)[0].tables(0):
        if not buffers[t.scalar(2, "I")].bytes(0):
            pos = t.field_pos(1)
            assert pos is not None
            data[pos] = 0  # TensorType FLOAT32
    model = tmp_path / "hybrid.tflite"
    model.write_bytes(bytes(data))
    s, ref = summarize(model), summarize(ALEXA)
    assert s["runs_on_runtime"] is False and "only int8" in s["runtime_error"]
    assert ref["runs_on_runtime"] is True and ref["runtime_error"] is None
    assert s["total_macs"] == ref["total_macs"] == 4561728
    assert [o["options"] for o in s["operators"]] == [o["options"] for o in ref["operators"]]
    assert s["operators"][0]["inputs"][0]["type"] == "float32"


@pytest.mark.slow
def test_a_tensorflow_float_model_has_its_int8_twins_macs(tmp_path):
    tf = pytest.importorskip("tensorflow")
    import random_models

    fn, shapes = random_models._spec("chain", np.random.default_rng(9))
    concrete = tf.function(fn, input_signature=[tf.TensorSpec(s, tf.float32)
                                                for s in shapes]).get_concrete_function()
    (tmp_path / "f.tflite").write_bytes(
        tf.lite.TFLiteConverter.from_concrete_functions([concrete]).convert())
    rng = np.random.default_rng(9)
    fn, shapes = random_models._spec("chain", rng)  # the same weights and shapes
    (tmp_path / "q.tflite").write_bytes(random_models.convert(fn, shapes, rng, False))
    f, q = summarize(tmp_path / "f.tflite"), summarize(tmp_path / "q.tflite")
    assert not f["runs_on_runtime"] and q["runs_on_runtime"]
    assert f["total_macs"] == q["total_macs"] > 0
    types = {t["type"] for o in f["operators"] for t in o["inputs"] + o["outputs"] if t}
    assert "float32" in types and "int8" not in types


def test_unknown_and_custom_operators_are_named(tmp_path, capsys):
    from test_robustness_cli import with_builtin

    shape = tmp_path / "shape.tflite"
    shape.write_bytes(with_builtin(ALEXA.read_bytes(), 0, 77))  # SHAPE: no kernel here
    assert main(["summarize", str(shape)]) == 0
    out = capsys.readouterr().out
    assert "│ shape " in out and "cannot run the model: operator 0 (SHAPE)" in out
    custom = tmp_path / "custom.tflite"
    custom.write_bytes(float_model(custom="My[bold]Op"))
    assert read_ops(custom)[-1].name == "My[bold]Op"
    assert main(["summarize", str(custom)]) == 0
    assert "My[bold]Op" in capsys.readouterr().out


def test_damaged_files_are_model_errors(tmp_path, capsys):
    rng = np.random.default_rng(0)
    originals = [ALEXA.read_bytes(), float_model()]
    cases = [b"", b"TFL3", bytes(8), b"\x08\0\0\0TFL3" + bytes(8)]
    for data in originals:
        cases += [data[:n] for n in range(0, len(data), max(1, len(data) // 200))]
        for _ in range(150):  # a few bytes changed anywhere
            bad = bytearray(data)
            for pos in rng.integers(0, len(data), rng.integers(1, 4)):
                bad[pos] = rng.integers(0, 256)
            cases.append(bytes(bad))
    cases += [b"\x1c\0\0\0TFL3" + rng.bytes(n) for n in (10, 100, 5000)]
    failed = 0
    for data in cases:
        try:
            read_ops(data)
        except ModelError as e:
            assert "\n" not in str(e)
            failed += 1
    assert failed > len(cases) // 3
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(rng.bytes(3000))
    assert main(["summarize", str(junk)]) == 2
    assert "not a" in capsys.readouterr().err


@pytest.mark.parametrize("shared", ["inputs", "custom name"])
def test_shared_vectors_cannot_make_reading_quadratic(shared):
    """Operators that all name one 20,000-entry input vector, or 10,000 operator codes that
    share one 40 kB custom name: a few hundred kB of file, but 4e8 reads if followed
    naively; the reader's budget stops it at once."""
    tensor = Tab([Ints("i", [1]), ("B", 0), ("I", 0)])
    if shared == "inputs":
        ops = [Tab([("I", 0), Ints("i", [0] * 20_000), Ints("i", [0])])] * 20_000
        codes = [Tab([("b", 0), None, ("i", 1), ("i", 0)])]
    else:  # operators without tensors: only the codes are shared
        ops = [Tab([("I", i)]) for i in range(10_000)]
        codes = [Tab([("b", 32), "x" * 40_000, ("i", 1), ("i", 32)])] * 10_000
    subgraph = Tab([[tensor], Ints("i", [0]), Ints("i", [0]), ops])
    data = tflite(Tab([("I", 3), codes, [subgraph], None, [Tab([])]]))
    assert len(data) < 400_000
    start = time.monotonic()
    with pytest.raises(ModelError, match="far more data"):
        read_ops(data)
    assert time.monotonic() - start < 5
