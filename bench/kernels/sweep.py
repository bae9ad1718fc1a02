"""A larger random-model sweep of the kernels than the test suite runs.

    .venv/bin/python bench/kernels/sweep.py --count 600 --seed 7

Generates `count` random int8 models (tests/random_models.py, cached under build/test-models/),
runs every op of every model alone through our kernels and through TFLite's reference kernels
(tests/kernel_probe.py) with several random inputs, and prints the number of differing outputs
per op type. Then runs whole models through our runtime in both kernel flavors against the
tflite-micro runtime (the TFLM flavor must match it, the TFLITE flavor may differ on ties).
Also times the alexa model in our runtime against the tflite-micro runtime in the same run
when the reference venv exists (process CPU time, best of 3 x 100 invokes, so other jobs on
the machine disturb it less than wall time).

Peers: TFLite's reference kernels (BUILTIN_REF, in this venv) and the pip `tflite-micro`
runtime (in the reference venv .venv-ref, `scripts/bootstrap --ref`, or KWS_REF_PYTHON); without
the latter its parts are skipped, and said so. How long: converting new random models takes
about 1-3 s each on 2 cores (cached under --cache for the next run: the defaults, 600 models,
take 10-30 minutes the first time), the checks then about 0.1 s per model; `--count 15 --seed
4242` uses the test suite's cache and takes about 10 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "host"))
REF_PYTHON = Path(os.environ.get("KWS_REF_PYTHON", REPO / ".venv-ref" / "bin" / "python"))
CACHE = REPO / "build" / "test-models"

TFLM_TIME = """
import sys, time, numpy as np
from tflite_micro.python.tflite_micro import runtime
it = runtime.Interpreter.from_file(sys.argv[1])
it.set_input(np.load(sys.argv[2]), 0)
for _ in range(5): it.invoke()
best = 1e9
for _ in range(3):
    t = time.process_time()
    for _ in range(100): it.invoke()
    best = min(best, (time.process_time() - t) / 100)
print(best)
"""


def sweep(count: int, seed: int, inputs: int, cache: Path = CACHE) -> int:
    import kernel_probe
    import random_models

    t = time.perf_counter()
    paths = random_models.generate(seed, count, cache)
    print(f"{len(paths)} models ready in {time.perf_counter() - t:.0f} s")
    lib = kernel_probe.load_library()
    ops, outputs, differing = Counter(), Counter(), Counter()
    for path in paths:
        data = path.read_bytes()
        for k in range(inputs):
            for r in kernel_probe.probe_model(lib, data, random_models.random_inputs(data, k)):
                ops[r.name] += 1
                outputs[r.name] += r.size
                differing[r.name] += r.differing if r.status == 0 else max(r.size, 1)
    print(f"{'op':20s} {'instances':>9s} {'outputs':>9s} {'differing':>9s}")
    for name in sorted(ops):
        print(f"{name:20s} {ops[name]:9d} {outputs[name]:9d} {differing[name]:9d}")
    return sum(differing.values())


TFLM_RUN = """
import json, sys
import numpy as np
from tflite_micro.python.tflite_micro import runtime
for job in json.loads(open(sys.argv[1]).read()):
    it = runtime.Interpreter.from_file(job["model"])
    for k, name in enumerate(job["inputs"]):
        it.set_input(np.load(name), k)
    it.invoke()
    np.save(job["output"], it.get_output(0))
"""


def flavors_vs_tflm(paths: list[Path]) -> None:
    """Whole models through our runtime in both kernel flavors against the tflite-micro runtime."""
    import ctypes

    import numpy as np
    import random_models
    from kwshost import native
    from kwshost.runtime import Interpreter

    ref = REF_PYTHON
    if not ref.exists():
        print(f"reference venv not found ({ref}; scripts/bootstrap --ref makes it): whole models "
              "vs the tflite-micro runtime skipped")
        return
    with tempfile.TemporaryDirectory() as tmp:
        jobs, cases = [], []
        for i, path in enumerate(paths):
            data = path.read_bytes()
            inputs = random_models.random_inputs(data, 21)
            names = [f"{tmp}/{i}_{k}.npy" for k in range(len(inputs))]
            for name, x in zip(names, inputs, strict=True):
                np.save(name, x)
            jobs.append({"model": str(path), "inputs": names, "output": f"{tmp}/{i}_out.npy"})
            cases.append((data, inputs, f"{tmp}/{i}_out.npy"))
        Path(f"{tmp}/jobs.json").write_text(json.dumps(jobs))
        run = subprocess.run([str(ref), "-c", TFLM_RUN, f"{tmp}/jobs.json"], text=True,
                             capture_output=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        if run.returncode != 0:
            last = (run.stderr.strip().splitlines() or ["no message"])[-1]
            print(f"the tflite-micro runtime failed in {ref} ({last}): whole models vs "
                  "tflite-micro skipped")
            return
        lib = native.lib()
        lib.kws_kernel_probe_set_flavor.argtypes = [ctypes.c_int]
        for flavor, label in ((0, "TFLITE"), (1, "TFLM")):
            lib.kws_kernel_probe_set_flavor(flavor)
            outputs = differing = models = 0
            for data, inputs, out in cases:
                got = Interpreter(data).invoke(*inputs)
                got = got[0] if isinstance(got, (list, tuple)) else got
                expected = np.load(out)
                d = int(np.sum(np.asarray(got).reshape(expected.shape) != expected))
                outputs, differing = outputs + expected.size, differing + d
                models += d > 0
            print(f"whole models vs tflite-micro, {label} flavor: {differing} of {outputs} outputs "
                  f"differ, in {models} of {len(cases)} models")
        lib.kws_kernel_probe_set_flavor(0)


def timing() -> None:
    import numpy as np
    from kwshost.runtime import Interpreter

    model = REPO / "models" / "mltk_keyword_spotting_alexa.tflite"
    it = Interpreter(model)
    x = np.random.default_rng(0).integers(-128, 128, it.input_details[0].shape).astype(np.int8)
    it.invoke(x)
    ours = 1e9
    for _ in range(3):  # CPU time, not wall time: this machine is shared
        t = time.process_time()
        it.time_invoke(100)
        ours = min(ours, (time.process_time() - t) / 100)
    ref = REF_PYTHON
    line = (f"alexa host inference (CPU time per invoke, best of 3 x 100, {platform.machine()}): "
            f"ours {ours * 1e3:.2f} ms")
    if not ref.exists():
        line += f"; tflite-micro skipped (reference venv not found: {ref})"
    else:
        with tempfile.TemporaryDirectory() as tmp:
            np.save(Path(tmp) / "alexa_input.npy", x)
            out = subprocess.run([str(ref), "-c", TFLM_TIME, str(model),
                                  str(Path(tmp) / "alexa_input.npy")],
                                 capture_output=True, text=True,
                                 env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        if out.returncode != 0:
            last = (out.stderr.strip().splitlines() or ["no message"])[-1]
            line += f"; tflite-micro failed in {ref} ({last}), skipped"
        else:
            tflm = float(out.stdout.strip().splitlines()[-1])
            line += f", tflite-micro {tflm * 1e3:.2f} ms, ratio {tflm / ours:.2f}x"
    print(line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=600, help="random models (default 600)")
    parser.add_argument("--seed", type=int, default=7, help="their seed (default 7)")
    parser.add_argument("--inputs", type=int, default=2,
                        help="random inputs per model (default 2)")
    parser.add_argument("--cache", type=Path, default=CACHE,
                        help="where converted models are cached (default build/test-models)")
    args = parser.parse_args()
    if args.count < 1 or args.inputs < 1:
        parser.error("--count and --inputs must be at least 1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    bad = sweep(args.count, args.seed, args.inputs, args.cache)
    import random_models

    flavors_vs_tflm(random_models.generate(args.seed, args.count, args.cache))
    timing()
    return 1 if bad else 0


if __name__ == "__main__":
    from kwshost.errors import run_script

    run_script(main)   # a KwsError (missing build, model, stream): one line, no trace
