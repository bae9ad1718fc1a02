"""The kernels other people's keyword and audio models need beyond our own: RELU, RELU6,
RELU_N1_TO_1, LEAKY_RELU, TANH, HARD_SWISH, SUB, MAXIMUM, MINIMUM, TRANSPOSE, REDUCE_MAX,
SQUEEZE and EXPAND_DIMS.

Small models made by TensorFlow's converter (full int8, representative data of five ranges so
the scales and zero points vary: positive and negative only, tiny and huge) run through our
runtime and through tf.lite.Interpreter with BUILTIN_REF on random inputs and on the edge
values -128 and 127: every output byte equal. With the reference venv, the same models in the
TFLM flavor against the tflite-micro runtime. Malformed operators (hand-built flatbuffers) are
refused with a reason, never run. Models are converted once and cached under
build/test-models/more-v<SPEC_VERSION>/.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from kwshost.runtime import Interpreter, RuntimeRejected
from kwshost.tflite_graph import read_ops

sys.path.insert(0, str(Path(__file__).resolve().parent))

import random_models  # noqa: E402
from conftest import run_in_ref  # noqa: E402
from test_summarize_graph import Ints, Tab, tflite  # noqa: E402

SPEC_VERSION = 2  # bump when a spec changes: cached models are keyed by it
CACHE = Path(__file__).resolve().parents[1] / "build" / "test-models" / f"more-v{SPEC_VERSION}"
RANDOM_INPUTS = 12
NEW_OPS = {"RELU", "RELU6", "RELU_N1_TO_1", "LEAKY_RELU", "TANH", "HARD_SWISH", "SUB", "MAXIMUM",
           "MINIMUM", "TRANSPOSE", "REDUCE_MAX", "SQUEEZE", "EXPAND_DIMS"}
# Representative data: centre and spread of a normal distribution.
RANGES = {"normal": (0.3, 2.0), "positive": (4.0, 1.0), "negative": (-4.0, 1.0),
          "tiny": (0.0, 0.003), "huge": (0.0, 300.0)}
MODELS = [*[f"activations_{r}" for r in RANGES], "relu_n1_to_1_normal", "relu_n1_to_1_tiny",
          "binary_broadcast", "binary_two_way",
          "binary_rank", "sub_constant", "transpose_4d", "transpose_3d", "transpose_5d",
          "reduce_max", "reduce_max_3d", "squeeze_expand"]


def _specs() -> dict[str, tuple[Callable, list[tuple], list[tuple] | None, tuple[float, float]]]:
    """name -> (function, input shapes, signature shapes (None: the input shapes), data range).
    A signature with unknown dimensions keeps SQUEEZE and EXPAND_DIMS, which the converter
    otherwise turns into RESHAPE."""
    import tensorflow as tf

    specs = {}
    for k, (name, rng) in enumerate(RANGES.items()):
        alpha = (0.2, 0.01, 0.3, 0.5, 1.5)[k]

        def acts(x, alpha=alpha):
            return (tf.nn.relu(x), tf.nn.relu6(x), tf.nn.leaky_relu(x, alpha), tf.tanh(x),
                    x * tf.nn.relu6(x + 3.0) / 6.0)
        specs[f"activations_{name}"] = (acts, [(1, 4, 6, 3)], None, rng)
    for name in ("normal", "tiny"):  # apart: TFLite Micro has no RELU_N1_TO_1
        specs[f"relu_n1_to_1_{name}"] = (lambda x: tf.clip_by_value(x, -1.0, 1.0), [(1, 4, 6, 3)],
                                         None, RANGES[name])
    const = np.random.default_rng(5).normal(0, 3, size=(1, 1, 6, 3)).astype(np.float32)
    specs["binary_broadcast"] = (
        lambda x, y: (x - y, tf.maximum(x, y), tf.minimum(x, y)),
        [(1, 4, 6, 3), (1, 1, 6, 1)], None, RANGES["normal"])
    specs["binary_two_way"] = (  # both inputs broadcast, and y on a wider scale than x
        lambda x, y: (x - 3.0 * y, tf.maximum(x, 3.0 * y), tf.minimum(x, 3.0 * y)),
        [(1, 3, 1, 4), (1, 1, 5, 1)], None, RANGES["positive"])
    specs["binary_rank"] = (lambda x, y: (y - x, tf.nn.relu(x - y)), [(2, 5), (5,)], None,
                            RANGES["negative"])
    specs["sub_constant"] = (lambda x: x - const, [(1, 4, 6, 3)], None, RANGES["huge"])
    specs["transpose_4d"] = (lambda x: tf.transpose(x, [0, 3, 1, 2]), [(1, 4, 6, 3)], None,
                             RANGES["normal"])
    specs["transpose_3d"] = (lambda x: tf.transpose(x, [2, 0, 1]), [(3, 5, 2)], None,
                             RANGES["tiny"])
    specs["transpose_5d"] = (lambda x: tf.transpose(x, [0, 4, 2, 1, 3]), [(1, 2, 3, 4, 5)], None,
                             RANGES["normal"])
    specs["reduce_max"] = (
        lambda x: (tf.reduce_max(x, axis=[1, 2], keepdims=True), tf.reduce_max(x, axis=-1),
                   tf.reduce_max(x, axis=[0, 3], keepdims=False),
                   tf.reduce_max(x, axis=1, keepdims=True)),
        [(2, 4, 6, 3)], None, RANGES["normal"])
    specs["reduce_max_3d"] = (lambda x: tf.reduce_max(x, axis=[0, 2]), [(3, 5, 4)], None,
                              RANGES["negative"])
    specs["squeeze_expand"] = (lambda x: (tf.squeeze(x, [2]), tf.expand_dims(x, -1)),
                               [(1, 1, 1, 3)], [(None, None, 1, 3)], RANGES["normal"])
    return specs


def _convert(fn: Callable, shapes: list[tuple], signature: list[tuple] | None,
             data_range: tuple[float, float], seed: int) -> bytes:
    import tensorflow as tf

    centre, spread = data_range
    rng = np.random.default_rng(seed)
    sig = [tf.TensorSpec(s, tf.float32) for s in (signature or shapes)]
    concrete = tf.function(fn, input_signature=sig).get_concrete_function()
    samples = [[(centre + spread * rng.normal(0, 1, size=s)).astype(np.float32) for s in shapes]
               for _ in range(16)]
    conv = tf.lite.TFLiteConverter.from_concrete_functions([concrete])
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: iter(samples)
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    return conv.convert()


@pytest.fixture(scope="module")
def models() -> dict[str, bytes]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    specs = _specs()
    assert list(specs) == MODELS
    out = {}
    CACHE.mkdir(parents=True, exist_ok=True)
    for seed, (name, (fn, shapes, signature, data_range)) in enumerate(specs.items()):
        path = CACHE / f"{name}.tflite"
        if not path.exists():
            data = _convert(fn, shapes, signature, data_range, seed)
            path.with_suffix(".part").write_bytes(data)
            path.with_suffix(".part").replace(path)
        out[name] = path.read_bytes()
    return out


def _input_sets(model: bytes) -> list[list[np.ndarray]]:
    """All -128, all 127, the two alternating, then random full-range inputs."""
    sets = random_models.random_inputs(model, 0)
    edges = []
    for fill in (lambda x: np.full_like(x, -128), lambda x: np.full_like(x, 127),
                 lambda x: np.where(np.arange(x.size).reshape(x.shape) % 2, 127, -128),
                 lambda x: np.where(np.arange(x.size).reshape(x.shape) % 3, -128, 127)):
        edges.append([fill(x).astype(np.int8) for x in sets])
    return edges + [random_models.random_inputs(model, 1 + k) for k in range(RANDOM_INPUTS)]


def _ours(model: bytes, input_sets: list[list[np.ndarray]]) -> list[list[np.ndarray]]:
    it = Interpreter(model)
    outs = []
    for inputs in input_sets:
        got = it.invoke(*inputs)
        outs.append([np.asarray(g).copy() for g in (got if isinstance(got, list) else [got])])
    return outs


@pytest.mark.parametrize("name", MODELS)
def test_outputs_equal_tflite_reference(models: dict[str, bytes], name: str) -> None:
    model = models[name]
    input_sets = _input_sets(model)
    expected = random_models.reference_outputs(model, input_sets)
    got = _ours(model, input_sets)
    for k, (g_set, e_set) in enumerate(zip(got, expected, strict=True)):
        for i, (g, e) in enumerate(zip(g_set, e_set, strict=True)):
            assert g.dtype == e.dtype and g.shape == e.shape, (k, i, g.shape, e.shape)
            differ = int(np.sum(g.view(np.uint8) != e.view(np.uint8)))
            assert differ == 0, f"{name} input set {k} output {i}: {differ}/{e.size} differ"


def test_the_models_cover_every_new_op_and_case(models: dict[str, bytes]) -> None:
    """The converter made what the tests mean to check: every new operator, RELU and RELU6
    requantizing, REDUCE_MAX with keep_dims both ways, a non-trivial TRANSPOSE, SUB with both
    inputs broadcast."""
    ops = {name: read_ops(m) for name, m in models.items()}
    seen = {op.name for model_ops in ops.values() for op in model_ops}
    assert NEW_OPS <= seen, f"never converted: {NEW_OPS - seen}"
    requantizing = {op.name for model_ops in ops.values() for op in model_ops
                    if op.name in ("RELU", "RELU6") and op.inputs[0].scale != op.outputs[0].scale}
    assert requantizing == {"RELU", "RELU6"}
    keeps = {op.options["keep_dims"] for op in ops["reduce_max"] if op.name == "REDUCE_MAX"}
    assert keeps == {True, False}
    perms = [op for op in ops["transpose_5d"] if op.name == "TRANSPOSE"]
    assert perms and perms[0].outputs[0].shape == (1, 5, 3, 2, 4)
    subs = [op for op in ops["binary_two_way"] if op.name == "SUB"]
    assert subs and subs[0].inputs[0].shape == (1, 3, 1, 4)
    assert subs[0].outputs[0].shape == (1, 3, 5, 4)
    alphas = {op.options["alpha"] for name in ops if name.startswith("activations_")
              for op in ops[name] if op.name == "LEAKY_RELU"}
    assert alphas == {0.2, 0.01, 0.3, 0.5, 1.5}


TFLM_CODE = """
import json, sys
import numpy as np
from tflite_micro.python.tflite_micro import runtime
for job in json.loads(open(sys.argv[1]).read()):
    it = runtime.Interpreter.from_file(job["model"])
    inputs = [np.load(name) for name in job["inputs"]]
    outs = [[] for _ in range(job["outputs"])]
    for n in range(len(inputs[0])):
        for k, x in enumerate(inputs):
            it.set_input(x[n], k)
        it.invoke()
        for k in range(job["outputs"]):
            outs[k].append(it.get_output(k).copy())
    for k in range(job["outputs"]):
        np.save(job["output"] + f"_{k}.npy", np.stack(outs[k]))
print("ok")
"""


@pytest.mark.slow
def test_tflm_flavor_equals_tflite_micro(models: dict[str, bytes], native_lib, ref_python,
                                         tmp_path: Path) -> None:
    """With the TFLM flavor, the same models through our runtime equal the tflite-micro
    runtime's outputs (its TANH is fixed point, its RELU6 does not requantize; it has no
    RELU_N1_TO_1)."""
    jobs, cases = [], {}
    for name, model in models.items():
        if name.startswith("relu_n1_to_1"):
            continue
        path = tmp_path / f"{name}.tflite"
        path.write_bytes(model)
        input_sets = _input_sets(model)
        names = []
        for k in range(len(input_sets[0])):
            names.append(str(tmp_path / f"{name}_in{k}.npy"))
            np.save(names[-1], np.stack([inputs[k] for inputs in input_sets]))
        n_outputs = len(Interpreter(model).output_details)
        jobs.append({"model": str(path), "inputs": names, "output": str(tmp_path / f"{name}_out"),
                     "outputs": n_outputs})
        cases[name] = (model, input_sets, n_outputs)
    (tmp_path / "jobs.json").write_text(json.dumps(jobs))
    run_in_ref(ref_python, TFLM_CODE, str(tmp_path / "jobs.json"))
    set_flavor = native_lib.kws_kernel_probe_set_flavor
    set_flavor.argtypes = [ctypes.c_int]
    differing = {}
    set_flavor(1)  # KWS_FLAVOR_TFLM
    try:
        for name, (model, input_sets, n_outputs) in cases.items():
            got = _ours(model, input_sets)
            for k in range(n_outputs):
                expected = np.load(tmp_path / f"{name}_out_{k}.npy")
                ours = np.stack([g[k] for g in got]).reshape(expected.shape)
                if not np.array_equal(ours, expected):
                    count = int(np.sum(ours != expected))
                    differing[f"{name} output {k}"] = f"{count}/{expected.size}"
    finally:
        set_flavor(0)
    assert not differing, f"our TFLM flavor differs from tflite-micro: {differing}"


# ---- malformed operators, hand-built ------------------------------------------------------

_INT8, _INT32 = 9, 2


def _model(code: int, tensors: list[tuple], op_inputs: list[int], op_outputs: list[int],
           options: tuple[int, Tab] | None = None) -> bytes:
    """One operator `code`. tensors: (shape, type, constant data or None, (scale, zero point)
    or None); the graph's inputs are the non-constant tensors the operator reads."""
    buffers: list = [Tab([])]
    table = []
    for i, (shape, ttype, data, quant) in enumerate(tensors):
        buffer = 0
        if data is not None:
            buffers.append(Tab([np.asarray(data).tobytes()]))
            buffer = len(buffers) - 1
        q = None if quant is None else Tab([None, None, Ints("f", [quant[0]]),
                                            Ints("q", [quant[1]])])
        table.append(Tab([Ints("i", list(shape)), ("B", ttype), ("I", buffer), f"t{i}", q]))
    graph_inputs = [i for i in op_inputs if tensors[i][2] is None]
    op_fields: list = [("I", 0), Ints("i", op_inputs), Ints("i", op_outputs)]
    if options is not None:
        op_fields += [("B", options[0]), options[1]]
    opcodes = [Tab([("b", code), None, ("i", 1), ("i", code)])]
    subgraph = Tab([table, Ints("i", graph_inputs), Ints("i", op_outputs), [Tab(op_fields)]])
    return tflite(Tab([("I", 3), opcodes, [subgraph], "malformed", buffers]))


Q = (0.05, 3)


def _rejected(model: bytes) -> str:
    with pytest.raises(RuntimeRejected) as err:
        Interpreter(model)
    return err.value.reason


def _transpose(perm: list[int], out_shape: tuple, constant: bool = True) -> bytes:
    perm_data = np.array(perm, np.int32) if constant else None
    return _model(39, [((1, 2, 3, 4), _INT8, None, Q), ((len(perm),), _INT32, perm_data, None),
                       (out_shape, _INT8, None, Q)], [0, 1], [2])


def test_a_good_hand_built_transpose_runs() -> None:
    """The builder makes models the runtime takes: the refusals below are about the fault."""
    x = np.arange(24, dtype=np.int8).reshape(1, 2, 3, 4)
    y = Interpreter(_transpose([0, 3, 1, 2], (1, 4, 2, 3))).invoke(x)
    assert np.array_equal(y, x.transpose(0, 3, 1, 2))


@pytest.mark.parametrize("perm, out_shape, reason", [
    ([0, 0, 2, 1], (1, 1, 3, 2), "perm is not an int32 permutation"),
    ([0, 4, 1, 2], (1, 4, 2, 3), "perm is not an int32 permutation"),
    ([0, -1, 1, 2], (1, 4, 2, 3), "perm is not an int32 permutation"),
    ([0, 2, 1], (1, 3, 2, 4), "perm is not an int32 permutation"),
    ([0, 3, 1, 2], (1, 2, 3, 4), "output shape is not the permuted input shape"),
])
def test_transpose_with_a_bad_perm_is_refused(perm, out_shape, reason) -> None:
    assert reason in _rejected(_transpose(perm, out_shape))


def test_transpose_with_a_perm_computed_at_run_time_is_refused() -> None:
    model = _transpose([0, 3, 1, 2], (1, 4, 2, 3), constant=False)
    assert "perm must be a constant tensor" in _rejected(model)


def _reduce_max(axes: list[int], out_shape: tuple, out_q: tuple = Q) -> bytes:
    axes_tensor = ((len(axes),), _INT32, np.array(axes, np.int32), None)
    tensors = [((1, 2, 3, 4), _INT8, None, Q), axes_tensor, (out_shape, _INT8, None, out_q)]
    return _model(82, tensors, [0, 1], [2], (27, Tab([("B", 0)])))


def test_reduce_max_checks_its_axes_and_quantization() -> None:
    x = np.arange(-12, 12, dtype=np.int8).reshape(1, 2, 3, 4)
    assert np.array_equal(Interpreter(_reduce_max([1, -1], (1, 3))).invoke(x), x.max(axis=(1, 3)))
    assert "axis out of range" in _rejected(_reduce_max([4], (1, 2, 3)))
    assert "axis out of range" in _rejected(_reduce_max([-5], (1, 2, 3)))
    assert "output size does not match" in _rejected(_reduce_max([1], (1, 3)))
    assert "quantized alike" in _rejected(_reduce_max([1], (1, 3, 4), out_q=(0.1, 3)))


def test_leaky_relu_with_an_alpha_that_is_not_a_number_is_refused() -> None:
    model = _model(98, [((1, 4), _INT8, None, Q), ((1, 4), _INT8, None, Q)], [0], [1],
                   (75, Tab([("f", float("nan"))])))
    assert "alpha is not finite" in _rejected(model)


def test_binary_ops_with_shapes_that_do_not_broadcast_are_refused() -> None:
    for code, options in ((41, (28, Tab([("b", 0)]))), (55, None), (57, None)):
        model = _model(code, [((1, 4, 3), _INT8, None, Q), ((1, 2, 3), _INT8, None, Q),
                              ((1, 4, 3), _INT8, None, Q)], [0, 1], [2], options)
        assert "do not broadcast" in _rejected(model)


def test_activations_refuse_a_float_model_and_a_shape_change() -> None:
    for code in (19, 21, 20, 28, 117):
        float_model = _model(code, [((1, 4), 0, None, None), ((1, 4), 0, None, None)], [0], [1])
        assert "only int8" in _rejected(float_model)
        reshaped = _model(code, [((1, 4), _INT8, None, Q), ((2, 2), _INT8, None, Q)], [0], [1])
        assert "shapes differ" in _rejected(reshaped)


def test_an_operator_without_a_kernel_is_still_named() -> None:
    """The refusal of the operators left out (here REDUCE_MIN) names them, as before."""
    model = _model(89, [((1, 4), _INT8, None, Q), ((1,), _INT32, np.array([1], np.int32), None),
                        ((1,), _INT8, None, Q)], [0, 1], [2])
    assert "REDUCE_MIN" in _rejected(model) or "89" in _rejected(model)
