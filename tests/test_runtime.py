"""The firmware's model runtime on MLTK's alexa model: identical outputs to TFLite's reference
kernels and to tflite-micro, the RAM budget, and clean rejection of malformed models."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from conftest import run_in_ref
from kwshost.errors import ModelError
from kwshost.flatbuf import Buf
from kwshost.runtime import Interpreter, check_model

ALEXA = Path(__file__).resolve().parents[1] / "models" / "mltk_keyword_spotting_alexa.tflite"
N_INPUTS = 12

# Runs tflite-micro (pip package, in the reference venv) on inputs.npy, writes outputs.npy.
TFLM_RUN = """
import sys, numpy as np
from tflite_micro.python.tflite_micro import runtime
x = np.load(sys.argv[2])
it = runtime.Interpreter.from_bytes(open(sys.argv[1], 'rb').read())
out = []
for row in x:
    it.set_input(row, 0)
    it.invoke()
    out.append(it.get_output(0).copy())
np.save(sys.argv[3], np.stack(out))
"""


@pytest.fixture(scope="module")
def alexa() -> bytes:
    return ALEXA.read_bytes()


@pytest.fixture(scope="module")
def interp(alexa) -> Interpreter:
    return Interpreter(alexa)


@pytest.fixture(scope="module")
def inputs(interp) -> np.ndarray:
    """Random int8 windows plus the extremes (all -128, all 127) and a ramp."""
    shape = interp.input_details[0].shape
    rng = np.random.default_rng(4)
    xs = [rng.integers(-128, 128, shape, dtype=np.int8) for _ in range(N_INPUTS - 3)]
    xs.append(np.full(shape, -128, np.int8))
    xs.append(np.full(shape, 127, np.int8))
    xs.append((np.arange(np.prod(shape)) % 256 - 128).astype(np.int8).reshape(shape))
    return np.stack(xs)


@pytest.fixture(scope="module")
def ours(interp, inputs) -> np.ndarray:
    return np.stack([interp.invoke(x) for x in inputs])


def test_details(interp):
    d = interp.input_details[0]
    assert d.shape == (1, 118, 1, 108) and d.dtype == np.int8
    out = interp.output_details[0]
    assert out.shape == (1, 2) and out.dtype == np.int8
    assert out.scale == pytest.approx(1 / 256) and out.zero_point == -128
    assert len(interp.ops) == 56
    assert {op.name for op in interp.ops} == {"CONV_2D", "DEPTHWISE_CONV_2D", "ADD",
                                               "AVERAGE_POOL_2D", "RESHAPE",
                                               "FULLY_CONNECTED", "SOFTMAX"}


def test_ram_budget(interp):
    # Issue 4: arena plus every piece of runtime state at most 40 kB (TFLM: 56,456 B here).
    assert interp.arena_bytes + interp.state_bytes <= 40 * 1024
    # The planner must reuse memory: the sum of all activation tensors is far larger.
    activations = {t.index: t.nbytes for op in interp.ops for t in op.inputs + op.outputs
                   if t is not None and not t.constant}
    assert interp.arena_bytes < sum(activations.values()) / 3


def test_identical_to_tflite_reference_kernels(ours, inputs, alexa):
    tf = pytest.importorskip("tensorflow")
    ref = tf.lite.Interpreter(
        model_content=alexa,
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_REF)
    ref.allocate_tensors()
    i, o = ref.get_input_details()[0]["index"], ref.get_output_details()[0]["index"]
    expected = []
    for x in inputs:
        ref.set_tensor(i, x)
        ref.invoke()
        expected.append(ref.get_tensor(o).copy())
    np.testing.assert_array_equal(ours, np.stack(expected))


def test_identical_to_tflite_micro(ours, inputs, ref_python, tmp_path):
    np.save(tmp_path / "x.npy", inputs)
    run_in_ref(ref_python, TFLM_RUN, str(ALEXA), str(tmp_path / "x.npy"), str(tmp_path / "y.npy"))
    np.testing.assert_array_equal(ours, np.load(tmp_path / "y.npy"))


def test_repeated_invokes_are_deterministic(interp, inputs, ours):
    np.testing.assert_array_equal(interp.invoke(inputs[0]), ours[0])


def test_wrong_input_rejected(interp):
    with pytest.raises(ModelError, match="input 0 must be int8"):
        interp.invoke(np.zeros((1, 118, 1, 108), np.float32))
    with pytest.raises(ModelError):
        interp.invoke(np.zeros((1, 10), np.int8))


def test_profile_covers_every_operator(interp, inputs):
    interp.invoke(inputs[0])
    times = interp.profile(2)
    assert len(times) == 56 and all(t >= 0 for t in times) and sum(times) > 0


# --- malformed models -------------------------------------------------------------------

def _subgraph(model: bytes):
    root = Buf(model).root()
    return root, root.tables(2)[0]


def _tensor_fields(model: bytes, index: int) -> dict[str, int]:
    """Absolute positions of tensor `index`'s shape vector, type byte and buffer index."""
    _, sg = _subgraph(model)
    t = sg.tables(0)[index]
    first, _count = t.vector(0)
    return {"shape": first, "type": t.field_pos(1), "buffer": t.field_pos(2)}


def _patch(model: bytes, pos: int, fmt: str, value) -> bytes:
    out = bytearray(model)
    struct.pack_into("<" + fmt, out, pos, value)
    return bytes(out)


def _rejected(model: bytes, *fragments: str) -> str:
    status, msg = check_model(model)
    assert status != 0, "a malformed model was accepted"
    assert msg, "a rejection must say why"
    for f in fragments:
        assert f in msg, msg
    with pytest.raises(ModelError):
        Interpreter(model)
    return msg


def test_truncated_models_rejected(alexa):
    for n in [0, 4, 8, 15, 16, 100, 1000, 50_000, 100_000, 150_000, len(alexa) - 1000,
              len(alexa) - 1]:
        _rejected(alexa[:n])


def test_not_a_tflite_file():
    _rejected(b"hello world, this is not a model" * 4, "TFL3")


def test_absurd_shapes_rejected(alexa):
    shape = _tensor_fields(alexa, 0)["shape"]  # the graph input, 1x118x1x108
    for dim in (0, -1, 1 << 30, 0x7fffffff):
        _rejected(_patch(alexa, shape + 4, "i", dim), "tensor 0")
    # A consistent-looking but wrong size: the kernel of the first operator refuses it.
    _rejected(_patch(alexa, shape + 4, "i", 117), "operator 0 (CONV_2D)")


def test_wrong_types_rejected(alexa):
    pos = _tensor_fields(alexa, 0)["type"]
    _rejected(_patch(alexa, pos, "B", 5), "tensor 0", "type")      # STRING
    _rejected(_patch(alexa, pos, "B", 0), "operator 0 (CONV_2D)")  # FLOAT32 into int8 conv


def test_integer_tensor_without_quantization_rejected(alexa):
    _, sg = _subgraph(alexa)
    t = sg.tables(0)[0]
    # Mark field 4 (quantization) absent in tensor 0's vtable (possibly shared with others).
    _rejected(_patch(alexa, t.vtable + 4 + 2 * 4, "H", 0), "without quantization")


def test_out_of_range_indices_rejected(alexa):
    _, sg = _subgraph(alexa)
    op0 = sg.tables(3)[0]
    first, _count = op0.vector(1)
    _rejected(_patch(alexa, first, "i", 100_000), "operator 0", "names tensor")
    _rejected(_patch(alexa, first, "i", 139), "operator 0", "read before")  # later output
    # Fields equal to their default are omitted: patch the first tensor/op that stores one.
    t = next(i for i, t in enumerate(sg.tables(0)) if t.field_pos(2) is not None)
    _rejected(_patch(alexa, _tensor_fields(alexa, t)["buffer"], "I", 1 << 20),
              f"tensor {t}", "buffer")
    k, op = next((k, op) for k, op in enumerate(sg.tables(3)) if op.field_pos(0) is not None)
    _rejected(_patch(alexa, op.field_pos(0), "I", 99), f"operator {k}", "opcode")


@pytest.mark.parametrize("op_index", [0, 2, 5, 52, 53, 54, 55])
def test_missing_required_inputs_rejected(alexa, op_index):
    """An input index of -1 (omitted) where the operator needs the tensor."""
    _, sg = _subgraph(alexa)
    first, _count = sg.tables(3)[op_index].vector(1)
    for k in range(1 if op_index in (52, 53, 55) else 2):
        _rejected(_patch(alexa, first + 4 * k, "i", -1), f"operator {op_index}",
                  f"required input {k} is missing")


def test_unsupported_operator_named(alexa):
    root, _ = _subgraph(alexa)
    codes = root.tables(1)
    # Turn every CONV_2D opcode entry into LSH_PROJECTION (15), an operator no keyword model
    # needs: the message names the op and reason.
    model = alexa
    for code in codes:
        for field in (0, 3):
            pos = code.field_pos(field)
            if pos is not None and Buf(model).scalar("b" if field == 0 else "i", pos) == 3:
                model = _patch(model, pos, "b" if field == 0 else "i", 15)
    _rejected(model, "LSH_PROJECTION", "no kernel")


def test_random_byte_flips_never_crash(alexa):
    """Flipped bytes anywhere (mostly weights, which stay valid): rejected or run, no crash."""
    rng = np.random.default_rng(7)
    head = 4096  # the structure (tables, vectors) sits mostly at the ends of the file
    positions = np.concatenate([rng.integers(0, head, 150),
                                rng.integers(len(alexa) - 20_000, len(alexa), 150)])
    rejected = 0
    for pos in positions:
        bad = bytearray(alexa)
        bad[pos] ^= 1 << int(rng.integers(0, 8))
        status, msg = check_model(bytes(bad))
        if status != 0:
            rejected += 1
            assert msg
    assert rejected > 0


# --- every bundled model (ours, once trained, lands in models/ too) ----------------------

BUNDLED = sorted((Path(__file__).resolve().parents[1] / "models").glob("*.tflite"))


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_bundled_model_identical_to_reference_and_tflm(path, ref_python, tmp_path):
    tf = pytest.importorskip("tensorflow")
    it = Interpreter(path)
    d = it.input_details[0]
    rng = np.random.default_rng(11)
    xs = np.stack([rng.integers(-128, 128, d.shape).astype(d.dtype) for _ in range(4)])
    ours = np.stack([it.invoke(x) for x in xs])
    ref = tf.lite.Interpreter(
        model_path=str(path),
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_REF)
    ref.allocate_tensors()
    expected = []
    for x in xs:
        ref.set_tensor(ref.get_input_details()[0]["index"], x)
        ref.invoke()
        expected.append(ref.get_tensor(ref.get_output_details()[0]["index"]).copy())
    np.testing.assert_array_equal(ours, np.stack(expected))
    np.save(tmp_path / "x.npy", xs)
    run_in_ref(ref_python, TFLM_RUN, str(path), str(tmp_path / "x.npy"), str(tmp_path / "y.npy"))
    np.testing.assert_array_equal(ours, np.load(tmp_path / "y.npy"))
