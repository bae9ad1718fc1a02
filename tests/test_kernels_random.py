"""Our int8 kernels against TFLite's reference kernels on random models: 0 differing outputs.

Models come from tests/random_models.py (TensorFlow converter, full int8, seeded, cached under
build/test-models/). Three comparisons:
  * every op of every model alone (tests/kernel_probe.py) against tf.lite.Interpreter with
    BUILTIN_REF, fed with TFLite's own intermediate tensors;
  * whole models through kwshost.runtime.Interpreter against the same interpreter;
  * a sample of whole models, kernels in their TFLM flavor, against the tflite-micro runtime
    (reference venv, subprocess). TFLite and TFLite Micro round FULLY_CONNECTED and compute
    LOGISTIC differently (kernel_util.h says how), so each is matched in its own flavor.
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


@pytest.fixture(scope="module")
def models() -> list[Path]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    paths = random_models.generate(SEED, COUNT, CACHE)
    assert len(paths) >= COUNT * 0.9, "the converter refused too many specs"
    return paths


def _reference_outputs(model_bytes: bytes, inputs: list[np.ndarray]) -> list[np.ndarray]:
    import tensorflow as tf

    interp = tf.lite.Interpreter(
        model_content=model_bytes,
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_REF)
    interp.allocate_tensors()
    for d, x in zip(interp.get_input_details(), inputs, strict=True):
        interp.set_tensor(d["index"], x)
    interp.invoke()
    return [interp.get_tensor(d["index"]) for d in interp.get_output_details()]


@pytest.mark.slow
def test_every_op_matches_tflite_reference(models: list[Path], native_lib) -> None:
    lib = kernel_probe.load_library()
    seen, failures = Counter(), []
    for path in models:
        data = path.read_bytes()
        for r in kernel_probe.probe_model(lib, data, random_models.random_inputs(data, 7)):
            seen[r.name] += 1
            if r.status != 0 or r.differing != 0:
                failures.append(f"{path.name} op {r.index} {r.name}: status {r.status} "
                                f"'{r.message}', {r.differing}/{r.size} differ")
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
        inputs = random_models.random_inputs(data, 11)
        expected = _reference_outputs(data, inputs)
        got = interpreter(data).invoke(*inputs)
        got = got if isinstance(got, (list, tuple)) else [got]
        for g, e in zip(got, expected, strict=True):
            g = np.asarray(g).reshape(e.shape)
            if g.dtype != e.dtype or not np.array_equal(g.view(np.uint8), e.view(np.uint8)):
                failures.append(f"{path.name}: {int(np.sum(g != e))}/{e.size} outputs differ")
    assert not failures, "\n".join(failures[:30])


TFLM_CODE = """
import json, sys
import numpy as np
from tflite_micro.python.tflite_micro import runtime
out = {}
for job in json.loads(open(sys.argv[1]).read()):
    it = runtime.Interpreter.from_file(job["model"])
    for k, name in enumerate(job["inputs"]):
        it.set_input(np.load(name), k)
    it.invoke()
    np.save(job["output"], it.get_output(0))
print("ok")
"""


@pytest.mark.slow
def test_tflm_flavor_matches_tflite_micro(models: list[Path], native_lib, ref_python,
                                          tmp_path: Path) -> None:
    """With the TFLM flavor (kws_kernels_set_flavor), whole models through our runtime equal
    the tflite-micro runtime's outputs (a sample of 65 models, every spec)."""
    interpreter = _runtime_interpreter()
    sample = models[::max(1, len(models) // 65)]
    jobs, inputs_of = [], {}
    for path in sample:
        data = path.read_bytes()
        inputs = random_models.random_inputs(data, 13)
        names = []
        for k, x in enumerate(inputs):
            names.append(str(tmp_path / f"{path.stem}_in{k}.npy"))
            np.save(names[-1], x)
        out = str(tmp_path / f"{path.stem}_out.npy")
        jobs.append({"model": str(path), "inputs": names, "output": out})
        inputs_of[out] = (data, inputs)
    job_file = tmp_path / "jobs.json"
    job_file.write_text(json.dumps(jobs))
    run_in_ref(ref_python, TFLM_CODE, str(job_file))
    set_flavor = native_lib.kws_kernel_probe_set_flavor
    set_flavor.argtypes = [ctypes.c_int]
    differing = {}
    set_flavor(1)  # KWS_FLAVOR_TFLM
    try:
        for out, (data, inputs) in inputs_of.items():
            got = interpreter(data).invoke(*inputs)
            got = got[0] if isinstance(got, (list, tuple)) else got
            expected = np.load(out)
            if not np.array_equal(np.asarray(got).reshape(expected.shape), expected):
                differing[Path(out).name] = int(np.sum(got.reshape(expected.shape) != expected))
    finally:
        set_flavor(0)
    assert not differing, f"our TFLM flavor differs from tflite-micro: {differing}"
