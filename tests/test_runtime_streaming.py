"""Streaming models: resource variables, CALL_ONCE init subgraphs, STRIDED_SLICE, SPLIT_V and
QUANTIZE to uint8, checked against TFLite's reference kernels (BUILTIN_REF, which keep
variables between invokes as our runtime does).

microWakeWord's four released models run a long input sequence with their state carried from
invoke to invoke and must give TFLite's outputs byte for byte, also where the graph output is
moved to the last features before the classifier (a much finer check than a probability that
is 0 for most inputs); after reset_state the sequence repeats from its start. Small
hand-built models cover the slicing operators' masks and the verifier's refusals."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
from kwshost.cli.summarize import summarize
from kwshost.errors import ModelError
from kwshost.flatbuf import Buf, Table
from kwshost.runtime import Interpreter, RuntimeRejected
from kwshost.tflite_graph import read_ops
from test_summarize_graph import Ints, Tab, details, tflite

tf = pytest.importorskip("tensorflow")

MWW_NAMES = ("alexa", "hey_jarvis", "hey_mycroft", "okay_nabu")


def reference(model: bytes):
    """TFLite's interpreter with its reference kernels, allocated."""
    it = tf.lite.Interpreter(
        model_content=model,
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    return it


def run_reference(it, xs: list[np.ndarray]) -> list[np.ndarray]:
    outs = []
    for x in xs:
        it.set_tensor(it.get_input_details()[0]["index"], x)
        it.invoke()
        outs.append(it.get_tensor(it.get_output_details()[0]["index"]).copy())
    return outs


def feature_sequence(seed: int) -> list[np.ndarray]:
    """120 feature slices [1, 3, 40] in one stream: 50 uniformly random, then 60 of a slowly
    varying spectrogram-like pattern (what a frontend gives for sound, where these models'
    probabilities move), then 10 of silence (the frontend's floor, -128)."""
    rng = np.random.default_rng(seed)
    noise = rng.integers(-128, 128, size=(50, 1, 3, 40)).astype(np.int8)
    t = np.arange(60 * 3, dtype=np.float64)[:, None] + rng.uniform(0, 100)
    c = np.arange(40, dtype=np.float64)[None, :]
    smooth = (-68 + 50 * np.sin(t / 17 + c / 5) * np.cos(t / 41) + 20 * np.sin(c / 3 + t / 7)
              + rng.normal(0, 2, size=(180, 40)))
    smooth = np.clip(np.round(smooth), -128, 127).astype(np.int8).reshape(60, 1, 3, 40)
    silence = np.full((10, 1, 3, 40), -128, np.int8)
    return [*noise, *smooth, *silence]


def with_output(model: bytes, tensor: int) -> bytes:
    """`model` with subgraph 0's (single) output moved to `tensor`: its 4 bytes rewritten."""
    data = bytearray(model)
    buf = Buf(bytes(data))
    subgraphs = buf.root().vector(2)
    sg0 = Table(buf, buf.uoffset_target(subgraphs[0]))
    first, count = sg0.vector(2)
    assert count == 1
    struct.pack_into("<i", data, first, tensor)
    return bytes(data)


def classifier_input(path: Path) -> int:
    """Index of the FULLY_CONNECTED's input: every feature the classifier sees."""
    fc = [op for op in read_ops(path) if op.name == "FULLY_CONNECTED"]
    assert len(fc) == 1
    return fc[0].inputs[0].index


@pytest.mark.parametrize("probe", ["probability", "features"])
@pytest.mark.parametrize("name", MWW_NAMES)
def test_mww_model_matches_tflite_invoke_by_invoke(mww_models, name, probe):
    path = mww_models[name]
    model = path.read_bytes()
    if probe == "features":
        model = with_output(model, classifier_input(path))
    xs = feature_sequence(seed=len(name))
    want = run_reference(reference(model), xs)
    it = Interpreter(model)
    got = [it.invoke(x).copy() for x in xs]
    assert got[0].dtype == (np.uint8 if probe == "probability" else np.int8)
    for k, (g, w) in enumerate(zip(got, want, strict=True)):
        assert np.array_equal(g, w), f"{name}: invoke {k} differs"
    if probe == "features":  # not trivial: they move (a probability can stay 0 throughout)
        assert len({g.tobytes() for g in got}) > 100
    # After a state reset the same inputs give the same outputs from the start again.
    it.reset_state()
    again = [it.invoke(x).copy() for x in xs[:20]]
    assert all(np.array_equal(a, g) for a, g in zip(again, got[:20], strict=True))


def test_mww_state_is_carried_between_invokes(mww_models):
    """Without a reset the model's output for one input depends on the inputs before it; a
    reset in the middle of a stream makes the next invoke the first again."""
    it = Interpreter(with_output(mww_models["alexa"].read_bytes(),
                                 classifier_input(mww_models["alexa"])))
    xs = feature_sequence(seed=3)
    first = it.invoke(xs[60]).copy()
    for x in xs[61:80]:
        it.invoke(x)
    assert not np.array_equal(it.invoke(xs[60]), first)
    it.reset_state()
    assert np.array_equal(it.invoke(xs[60]), first)


def test_mww_models_run_on_the_mvp_kernels(mww_models):
    """The MVP's convolutions (binary16 arithmetic on the simulated MVP) run these models with
    the same variables; outputs stay within test_mvp.py's bound of the reference kernels."""
    for name in ("alexa", "okay_nabu"):
        path = mww_models[name]
        model = with_output(path.read_bytes(), classifier_input(path))
        ref, mvp = Interpreter(model), Interpreter(model, accelerator="mvp")
        assert any(op.kernel.endswith("/mvp") for op in mvp.ops)
        for x in feature_sequence(seed=5):
            a, b = ref.invoke(x).astype(int), mvp.invoke(x).astype(int)
            assert np.abs(a - b).max() <= 16, name


@pytest.mark.oracle
def test_mww_arena_is_smaller_than_tflite_micros(mww_models, ref_python):
    """Variables included (persistent, never reused by the planner), our arena stays below
    TFLite Micro's, as its recording allocator reports it."""
    from conftest import run_in_ref
    from test_runtime_ram import TFLM_ARENAS

    paths = [mww_models[name] for name in MWW_NAMES]
    tflm = json.loads(run_in_ref(ref_python, TFLM_ARENAS, *map(str, paths)))
    for path in paths:
        assert Interpreter(path).arena_bytes < tflm[str(path)], path.name


def test_mww_models_summarize_with_their_init_subgraph(mww_models, capsys):
    from kwshost.cli import main

    for name in MWW_NAMES:
        path = mww_models[name]
        theirs = [details(op) for op in Interpreter(path).ops]
        assert [details(op) for op in read_ops(path)] == theirs, name
        s = summarize(path)
        assert s["runs_on_runtime"] and s["subgraph_operators"][1] == 12
        ops = s["operators"]
        assert ops[0]["op"] == "CALL_ONCE" and ops[0]["options"] == {"init_subgraph": 1}
        assert ops[-1]["op"] == "QUANTIZE" and ops[-1]["outputs"][0]["type"] == "uint8"
        # TFLite Micro's arena for these models is about 22 kB (their manifests).
        assert 4000 < s["arena_bytes"] < 16000
    assert main(["summarize", str(mww_models["okay_nabu"])]) == 0
    out = capsys.readouterr().out
    assert "split_v" in out and "Subgraphs:" in out and "CALL_ONCE runs once" in out


# --- Hand-built models -------------------------------------------------------------------

class Text:
    """A string written where it is used: the writer shares an object used twice, and equal
    Python strings can be one object."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text


def quant(scale: float = 0.5, zero: int = -3) -> Tab:
    return Tab([None, None, Ints("f", [scale]), Ints("q", [zero])])


class Graph:
    """Collects one subgraph's tensors and operators for `build`."""

    def __init__(self, buffers: list) -> None:
        self.buffers = buffers
        self.tensors: list = []
        self.ops: list = []

    def tensor(self, shape, ttype: int = 9, data: np.ndarray | None = None) -> int:
        buffer = 0
        if data is not None:
            self.buffers.append(Tab([data.tobytes()]))
            buffer = len(self.buffers) - 1
        q = quant() if ttype in (3, 9) else None  # uint8, int8
        self.tensors.append(Tab([Ints("i", list(shape)), ("B", ttype), ("I", buffer),
                                 Text(f"t{len(self.tensors)}"), q]))
        return len(self.tensors) - 1

    def const(self, values) -> int:
        """A constant int32 tensor (begin, end, strides, sizes, axis, shape)."""
        data = np.asarray(values, np.int32)
        return self.tensor(data.shape, 2, data)

    def op(self, code: int, ins: list[int], outs: list[int], otype: int = 0,
           options: list | None = None) -> None:
        self.ops.append((code, ins, outs, otype, options))


def build(graphs: list[Graph], io: list[tuple[list[int], list[int]]], buffers: list) -> bytes:
    codes = sorted({op[0] for g in graphs for op in g.ops})
    subgraphs = []
    for g, (ins, outs) in zip(graphs, io, strict=True):
        operators = [Tab([("I", codes.index(code)), Ints("i", i), Ints("i", o), ("B", otype),
                          None if opts is None else Tab(opts)])
                     for code, i, o, otype, opts in g.ops]
        subgraphs.append(Tab([g.tensors, Ints("i", ins), Ints("i", outs), operators]))
    opcodes = [Tab([("b", min(c, 127)), None, ("i", 1), ("i", c)]) for c in codes]
    return tflite(Tab([("I", 3), opcodes, subgraphs, "streaming test model", buffers]))


CALL_ONCE, VAR_HANDLE, READ, ASSIGN = 129, 142, 143, 144
CONCAT, RESHAPE, STRIDED_SLICE, SPLIT_V = 2, 22, 45, 102
INIT = np.array([[[1, 2, 3, 4], [5, 6, 7, 8]]], np.int8)  # the state's initial frames


def streaming_model(*, init_subgraph: int = 1, call_once: bool = True, extra_handles: int = 0,
                    extra_subgraphs: int = 0, init_shape=(1, 2, 4), handle_to_reshape=False,
                    ) -> bytes:
    """A ring buffer of the last 2 frames, as microWakeWord keeps its past: x [1,1,4] ->
    y = concat(state, x) [1,3,4]; state = y[:, 1:]. Subgraph 1 (CALL_ONCE's) assigns INIT.
    The keywords break it in the ways the verifier must refuse."""
    buffers: list = [Tab([])]
    main, init = Graph(buffers), Graph(buffers)

    def handle(g: Graph, name: str) -> int:
        h = g.tensor((), ttype=13)
        g.op(VAR_HANDLE, [], [h], 111, [Text(""), Text(name)])  # container, shared_name
        return h

    x = main.tensor((1, 1, 4))
    if call_once:
        main.op(CALL_ONCE, [], [], 103, [("i", init_subgraph)])
    h = handle(main, "state")
    for i in range(extra_handles):
        handle(main, f"extra{i}")
    state = main.tensor((1, 2, 4))
    y = main.tensor((1, 3, 4))
    nxt = main.tensor((1, 2, 4))
    main.op(READ, [h], [state])
    main.op(CONCAT, [state, x], [y], 10, [("i", 1), ("B", 0)])
    main.op(STRIDED_SLICE, [y, main.const([0, 1, 0]), main.const([1, 3, 4]),
                            main.const([1, 1, 1])], [nxt], 32,
            [("i", 0), ("i", 0), ("i", 0), ("i", 0), ("i", 0), ("B", 0)])
    main.op(ASSIGN, [h, nxt], [])
    if handle_to_reshape:
        main.op(RESHAPE, [h, main.const([1, 1])], [main.tensor((1, 1))])
    hi = handle(init, "state")
    init.op(ASSIGN, [hi, init.tensor(init_shape, data=np.resize(INIT, init_shape))], [])
    graphs = [main, init] + [Graph(buffers) for _ in range(extra_subgraphs)]
    io = [([x], [y]), ([], [])] + [([], [])] * extra_subgraphs
    return build(graphs, io, buffers)


def test_a_hand_built_streaming_model_matches_tflite():
    model = streaming_model()
    rng = np.random.default_rng(7)
    xs = [rng.integers(-128, 128, size=(1, 1, 4)).astype(np.int8) for _ in range(6)]
    want = run_reference(reference(model), xs)
    it = Interpreter(model)
    got = [it.invoke(x).copy() for x in xs]
    assert all(np.array_equal(g, w) for g, w in zip(got, want, strict=True))
    assert np.array_equal(got[0][0, :2], INIT[0])  # the init subgraph's frames come first
    assert np.array_equal(got[2][0], np.concatenate([xs[0][0], xs[1][0], xs[2][0]]))
    it.reset_state()
    assert np.array_equal(it.invoke(xs[5])[0, :2], INIT[0])


def rejection(model: bytes) -> RuntimeRejected:
    with pytest.raises(RuntimeRejected) as e:
        Interpreter(model)
    return e.value


def test_sixteen_variables_fit_and_a_seventeenth_is_refused():
    Interpreter(streaming_model(extra_handles=15))  # 16 variables: the limit
    e = rejection(streaming_model(extra_handles=16))
    assert "'extra15' is one more than 16 (KWS_MAX_VARIABLES)" in e.reason
    assert not e.invalid  # a limit of this build, not a damaged file


def test_a_read_before_any_assign_is_refused():
    e = rejection(streaming_model(call_once=False))
    assert "operator 1 (READ_VARIABLE): reads variable 'state' before any ASSIGN_VARIABLE" \
        in e.reason
    assert e.invalid


def test_call_once_of_a_subgraph_out_of_range_is_refused():
    e = rejection(streaming_model(init_subgraph=5))
    assert "operator 0 (CALL_ONCE): names subgraph 5; the model has 2" in e.reason
    e = rejection(streaming_model(init_subgraph=0))
    assert "names subgraph 0" in e.reason


def test_more_subgraphs_than_the_limit_are_refused():
    Interpreter(streaming_model(extra_subgraphs=2))  # 4 subgraphs: the limit
    e = rejection(streaming_model(extra_subgraphs=3))
    assert "model: 5 subgraphs, this runtime takes at most 4 (KWS_MAX_SUBGRAPHS)" in e.reason


def test_a_variable_assigned_two_sizes_is_refused():
    e = rejection(streaming_model(init_shape=(1, 1, 4)))
    assert "variable 'state' has another type or size here" in e.reason


def test_a_handle_given_to_an_ordinary_operator_is_refused():
    e = rejection(streaming_model(handle_to_reshape=True))
    assert "(RESHAPE): input 0 (tensor 1) is a resource handle" in e.reason


def test_damaged_streaming_models_fail_with_a_status_never_a_crash(mww_models):
    from kwshost.runtime import check_model

    model = mww_models["okay_nabu"].read_bytes()
    rng = np.random.default_rng(11)
    statuses = set()
    for cut in range(0, len(model), 997):
        statuses.add(check_model(model[:cut])[0])
    for _ in range(300):
        damaged = bytearray(model)
        for at in rng.integers(0, len(model), size=4):
            damaged[at] = int(rng.integers(0, 256))
        statuses.add(check_model(bytes(damaged))[0])
    assert statuses <= {0, 3, 4, 2}


# --- STRIDED_SLICE and SPLIT_V against TFLite ----------------------------------------------

def slice_model(shape, begin, end, strides, masks=(0, 0, 0, 0, 0), offset=False, out_shape=(1,),
                ttype: int = 9) -> bytes:
    buffers: list = [Tab([])]
    g = Graph(buffers)
    x = g.tensor(shape, ttype)
    y = g.tensor(out_shape, ttype)
    g.op(STRIDED_SLICE, [x, g.const(begin), g.const(end), g.const(strides)], [y], 32,
         [("i", m) for m in masks] + [("B", int(offset))])
    return build([g], [([x], [y])], buffers)


def check_against_tflite(make, shape, ttype: int = 9, seed: int = 0) -> np.ndarray:
    """Builds the model (`make(out_shape)`) with the output shape TFLite computes, and checks
    our runtime gives TFLite's output for random input; returns that output."""
    probe = reference(make((1,)))
    out_shape = tuple(int(d) for d in probe.get_output_details()[0]["shape"])
    model = make(out_shape)
    dtype = np.int8 if ttype == 9 else np.int32
    x = np.random.default_rng(seed).integers(-128, 128, size=shape).astype(dtype)
    want = run_reference(reference(model), [x])[0]
    got = Interpreter(model).invoke(x)
    assert got.shape == want.shape and np.array_equal(got, want), (got, want)
    return want


SLICES = {  # name: (input shape, begin, end, strides, masks (begin, end, ellipsis, new axis,
    #          shrink), offset)
    "ring_buffer_update": ((1, 5, 1, 40), [0, 3, 0, 0], [1, 5, 1, 40], [1, 1, 1, 1],
                           (13, 15, 0, 0, 0), False),
    "steps": ((2, 5, 4, 3), [0, 1, 0, 1], [2, 5, 4, 3], [1, 2, 3, 1], (0, 0, 0, 0, 0), False),
    "negative_strides": ((3, 7, 5), [-1, 6, 4], [-4, 0, -6], [-1, -2, -3], (0, 0, 0, 0, 0),
                         False),
    "reverse_whole_axes": ((4, 6), [0, 0], [0, 0], [-1, -1], (3, 3, 0, 0, 0), False),
    "clamped_out_of_range": ((4, 6), [-10, 2], [10, 100], [1, 1], (0, 0, 0, 0, 0), False),
    "shrink_axis": ((3, 4, 5), [1, 0, -1], [2, 4, 0], [1, 1, 1], (0, 0, 0, 0, 5), False),
    "shrink_and_reverse": ((3, 4, 5), [2, -1, 0], [0, 0, 5], [1, -1, 2], (0, 2, 0, 0, 1),
                           False),
    "ellipsis": ((2, 3, 4, 5), [0, 1], [0, 4], [1, 2], (0, 0, 1, 0, 0), False),
    "new_axis": ((3, 4), [0, 0, 1], [0, 0, 3], [1, 1, 1], (1, 1, 0, 2, 0), False),
    "offset": ((3, 8), [1, 2], [2, 4], [1, 1], (0, 0, 0, 0, 0), True),
    "five_dims": ((2, 2, 3, 2, 4), [1, 0, 2, 0, 3], [2, 2, 0, 2, 0], [1, 1, -1, 1, -2],
                  (0, 0, 0, 0, 0), False),
    "empty_begin_end_with_masks": ((5,), [3], [1], [-1], (0, 0, 0, 0, 0), False),
}


@pytest.mark.parametrize("name", sorted(SLICES))
def test_strided_slice_matches_tflite(name):
    shape, begin, end, strides, masks, offset = SLICES[name]
    for ttype in (9, 2):  # int8 and int32
        check_against_tflite(lambda out, t=ttype: slice_model(shape, begin, end, strides, masks,
                                                              offset, out, t), shape, ttype)


def test_strided_slice_refuses_a_declared_shape_that_is_not_the_slice():
    e = rejection(slice_model((4, 6), [0, 0], [2, 3], [1, 1], out_shape=(2, 2)))
    assert "the output shape is not the slice's shape" in e.reason
    # TFLite's loop takes nothing from a shrunk axis walked backwards (its output is left
    # unwritten): refused rather than run.
    e = rejection(slice_model((4, 6), [1, 0], [2, 6], [-1, 1], (0, 0, 0, 0, 1), out_shape=(6,)))
    assert "a shrunk axis selects no element" in e.reason


def split_model(shape, sizes, axis, out_shapes, ttype: int = 9) -> bytes:
    buffers: list = [Tab([])]
    g = Graph(buffers)
    x = g.tensor(shape, ttype)
    outs = [g.tensor(s, ttype) for s in out_shapes]
    g.op(SPLIT_V, [x, g.const(sizes), g.const(np.int32(axis))], outs, 79, [("i", len(sizes))])
    return build([g], [([x], outs)], buffers)


@pytest.mark.parametrize("shape,sizes,axis", [((1, 9, 1, 64), [32, 32], 3),
                                              ((2, 7, 3), [2, -1], 1),
                                              ((6, 5), [-1, 4], -1),
                                              ((4,), [1, 3], 0)])
def test_split_v_matches_tflite(shape, sizes, axis):
    a = axis % len(shape)
    parts = [s if s >= 0 else shape[a] - sum(v for v in sizes if v >= 0) for s in sizes]
    out_shapes = [tuple(p if d == a else n for d, n in enumerate(shape)) for p in parts]
    model = split_model(shape, sizes, axis, out_shapes)
    x = np.random.default_rng(1).integers(-128, 128, size=shape).astype(np.int8)
    ref = reference(model)
    ref.set_tensor(ref.get_input_details()[0]["index"], x)
    ref.invoke()
    want = [ref.get_tensor(d["index"]) for d in ref.get_output_details()]
    got = Interpreter(model).invoke(x)
    assert all(np.array_equal(g, w) for g, w in zip(got, want, strict=True))


def test_split_v_into_more_parts_than_outputs_allowed_is_refused():
    e = rejection(split_model((6,), [2, 2, 2], 0, [(2,), (2,), (2,)]))
    assert "(SPLIT_V): has 3 outputs, this runtime takes at most 2 (KWS_MAX_OP_OUTPUTS)" \
        in e.reason


def test_converted_slicing_model_matches_tflite():
    """The same operators as TensorFlow's converter writes them from Python slicing."""
    from random_models import convert

    def f(x):
        a, b = tf.split(x, [3, -1], axis=2)
        return a[:, ::-1, :, 1:], b[:, 1:, ..., 0], x[:, -2:, ::2]

    model = convert(f, [(1, 6, 8, 3)], np.random.default_rng(5), float_io=False)
    ops = {op.name for op in read_ops(model)}
    assert {"STRIDED_SLICE", "SPLIT_V"} <= ops, ops
    x = np.random.default_rng(2).integers(-128, 128, size=(1, 6, 8, 3)).astype(np.int8)
    ref = reference(model)
    ref.set_tensor(ref.get_input_details()[0]["index"], x)
    ref.invoke()
    want = [ref.get_tensor(d["index"]) for d in ref.get_output_details()]
    got = Interpreter(model).invoke(x)
    assert all(np.array_equal(g, w) for g, w in zip(got, want, strict=True))


def test_reset_state_before_allocation_is_impossible_and_harmless_without_variables():
    it = Interpreter(slice_model((4, 6), [0, 0], [2, 3], [1, 1], out_shape=(2, 3)))
    it.reset_state()  # no variables: nothing to do
    assert it.invoke(np.zeros((4, 6), np.int8)).shape == (2, 3)
    with pytest.raises(ModelError):
        Interpreter(b"not a model at all, not even close")
