"""Our int8 kernels against TFLite's reference kernels on random models: 0 differing outputs.

Models come from tests/random_models.py (TensorFlow converter, full int8, seeded, cached under
build/test-models/). Three comparisons:
  * every op of every model alone (tests/kernel_probe.py) against tf.lite.Interpreter with
    BUILTIN_REF, fed with TFLite's own intermediate tensors;
  * whole models through kwshost.runtime.Interpreter against the same interpreter;
  * whole models, kernels in their TFLM flavor, against the tflite-micro runtime (reference
    venv, subprocess). TFLite and TFLite Micro differ in FULLY_CONNECTED, MUL and LOGISTIC
    (kernel_util.h says how), so each is matched in its own flavor.
Each model gets several random inputs: the two references differ on rounding ties, which one
input per model rarely hits (one input missed a MEAN that was wrong on 20% of its outputs).
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import kernel_probe  # noqa: E402
import random_models  # noqa: E402
from conftest import run_in_ref  # noqa: E402

SEED = 20261125
COUNT = int(os.environ.get("KWS_RANDOM_MODELS", "195"))  # 13 of each of the 15 specs
CACHE = Path(__file__).resolve().parents[1] / "build" / "test-models"
OP_INPUTS = 8  # random inputs per model, op by op
MODEL_INPUTS = 64  # random inputs per model, whole models


@pytest.fixture(scope="module")
def models() -> list[Path]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    paths = random_models.generate(SEED, COUNT, CACHE)
    assert len(paths) >= COUNT * 0.9, "the converter refused too many specs"
    return paths


def _input_sets(model_bytes: bytes, count: int) -> list[list[np.ndarray]]:
    return [random_models.random_inputs(model_bytes, 11 + k) for k in range(count)]


@pytest.mark.slow
def test_every_op_matches_tflite_reference(models: list[Path], native_lib) -> None:
    lib = kernel_probe.load_library()
    seen, failures = Counter(), []
    for path in models:
        data = path.read_bytes()
        for k in range(OP_INPUTS):
            for r in kernel_probe.probe_model(lib, data, random_models.random_inputs(data, 7 + k)):
                seen[r.name] += k == 0
                if r.status != 0 or r.differing != 0:
                    failures.append(f"{path.name} input {k} op {r.index} {r.name}: status "
                                    f"{r.status} '{r.message}', {r.differing}/{r.size} differ")
    print("ops checked:", dict(seen))
    assert not failures, "\n".join(failures[:30])
    required = {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD", "MUL", "AVERAGE_POOL_2D",
                "MAX_POOL_2D", "MEAN", "PAD", "CONCATENATION", "RESHAPE", "SOFTMAX", "LOGISTIC",
                "QUANTIZE", "DEQUANTIZE"}
    assert required <= set(seen), f"ops never generated: {required - set(seen)}"


def _runtime_interpreter():
    try:
        from kwshost.runtime import Interpreter  # the runtime's binding
    except ImportError:
        pytest.skip("kwshost.runtime is not available yet")
    return Interpreter


@pytest.mark.slow
def test_whole_models_match_tflite_reference(models: list[Path], native_lib) -> None:
    interpreter = _runtime_interpreter()
    failures = []
    for path in models:
        data = path.read_bytes()
        input_sets = _input_sets(data, MODEL_INPUTS)
        ours = interpreter(data)
        differing = total = 0
        reference = random_models.reference_outputs(data, input_sets)
        for inputs, expected in zip(input_sets, reference, strict=True):
            got = ours.invoke(*inputs)
            got = got if isinstance(got, (list, tuple)) else [got]
            for g, e in zip(got, expected, strict=True):
                g = np.asarray(g).reshape(e.shape)
                total += e.size
                if g.dtype != e.dtype:
                    differing += e.size
                else:
                    differing += int(np.sum(g.view(np.uint8) != e.view(np.uint8)))
        if differing:
            failures.append(f"{path.name}: {differing}/{total} outputs differ")
    assert not failures, "\n".join(failures[:30])


TFLM_CODE = """
import json, sys
import numpy as np
from tflite_micro.python.tflite_micro import runtime
for job in json.loads(open(sys.argv[1]).read()):
    it = runtime.Interpreter.from_file(job["model"])
    inputs, outs = [np.load(name) for name in job["inputs"]], []
    for n in range(len(inputs[0])):
        for k, x in enumerate(inputs):
            it.set_input(x[n], k)
        it.invoke()
        outs.append(it.get_output(0).copy())
    np.save(job["output"], np.stack(outs))
print("ok")
"""


@pytest.mark.slow
def test_tflm_flavor_matches_tflite_micro(models: list[Path], native_lib, ref_python,
                                          tmp_path: Path) -> None:
    """With the TFLM flavor (kws_kernels_set_flavor), whole models through our runtime equal
    the tflite-micro runtime's outputs (every model, MODEL_INPUTS inputs each)."""
    interpreter = _runtime_interpreter()
    jobs, inputs_of = [], {}
    for path in models:
        data = path.read_bytes()
        input_sets = _input_sets(data, MODEL_INPUTS)
        names = []
        for k in range(len(input_sets[0])):
            names.append(str(tmp_path / f"{path.stem}_in{k}.npy"))
            np.save(names[-1], np.stack([inputs[k] for inputs in input_sets]))
        out = str(tmp_path / f"{path.stem}_out.npy")
        jobs.append({"model": str(path), "inputs": names, "output": out})
        inputs_of[out] = (data, input_sets)
    job_file = tmp_path / "jobs.json"
    job_file.write_text(json.dumps(jobs))
    run_in_ref(ref_python, TFLM_CODE, str(job_file))
    set_flavor = native_lib.kws_kernel_probe_set_flavor
    set_flavor.argtypes = [ctypes.c_int]
    differing = {}
    set_flavor(1)  # KWS_FLAVOR_TFLM
    try:
        for out, (data, input_sets) in inputs_of.items():
            ours = interpreter(data)
            got = []
            for inputs in input_sets:
                g = ours.invoke(*inputs)
                got.append(np.asarray(g[0] if isinstance(g, (list, tuple)) else g).copy())
            expected = np.load(out)
            got = np.stack(got).reshape(expected.shape)
            if not np.array_equal(got, expected):
                differing[Path(out).name] = f"{int(np.sum(got != expected))}/{expected.size}"
    finally:
        set_flavor(0)
    assert not differing, f"our TFLM flavor differs from tflite-micro: {differing}"
