"""A larger random-model sweep of the kernels than the test suite runs.

    .venv/bin/python bench/kernels/sweep.py --count 600 --seed 7

Generates `count` random int8 models (tests/random_models.py, cached under build/test-models/),
runs every op of every model alone through our kernels and through TFLite's reference kernels
(tests/kernel_probe.py) with several random inputs, and prints the number of differing outputs
per op type. Then runs whole models on --model-inputs random inputs each through our runtime in
both kernel flavors against BUILTIN_REF (this venv's TensorFlow, and the reference venv's, another
version) and the tflite-micro runtime, each peer in a process of its own: the TFLITE flavor must
match this venv's BUILTIN_REF, the TFLM flavor tflite-micro; the rest shows where the references
differ (rounding ties in FULLY_CONNECTED and MUL, LOGISTIC; docs/kernels.md).
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


PEER_RUN = """
import json, sys
import numpy as np
peer, jobs = sys.argv[1], json.loads(open(sys.argv[2]).read())
if peer == "tflm":
    from tflite_micro.python.tflite_micro import runtime
else:
    import tensorflow as tf
    print(tf.__version__)
for job in jobs:
    if peer == "tflm":
        it = runtime.Interpreter.from_file(job["model"])
        set_input, get = it.set_input, lambda: it.get_output(0)
    else:
        it = tf.lite.Interpreter(model_path=job["model"],
            experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_REF)
        it.allocate_tensors()
        ins, out = it.get_input_details(), it.get_output_details()[0]
        set_input = lambda x, k: it.set_tensor(ins[k]["index"], x)
        get = lambda: it.get_tensor(out["index"])
    inputs, outs = [np.load(name) for name in job["inputs"]], []
    for n in range(len(inputs[0])):
        for k, x in enumerate(inputs):
            set_input(x[n], k)
        it.invoke()
        outs.append(np.array(get()))
    np.save(job["output"] + "." + peer + ".npy", np.stack(outs))
"""


def _peer(peer: str, job_file: str) -> str | None:
    """Runs PEER_RUN ("tflm" or "ref") in the reference venv, in a process of its own (TFLite
    and tflite-micro each bring their own tflite:: symbols). Its first line, or None."""
    run = subprocess.run([str(REF_PYTHON), "-c", PEER_RUN, peer, job_file], text=True,
                         capture_output=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    if run.returncode != 0:
        last = (run.stderr.strip().splitlines() or ["no message"])[-1]
        print(f"{peer} failed in {REF_PYTHON} ({last}): skipped")
        return None
    return (run.stdout.strip().splitlines() or [""])[0]


def flavors(paths: list[Path], inputs: int) -> None:
    """Whole models on `inputs` random inputs each, through our runtime in both kernel flavors,
    against BUILTIN_REF in this venv and (reference venv) BUILTIN_REF of its TensorFlow and the
    tflite-micro runtime. Differing outputs per model spec (the op the model was made for)."""
    import ctypes

    import numpy as np
    import random_models
    import tensorflow as tf
    from kwshost import native
    from kwshost.runtime import Interpreter

    lib = native.lib()
    lib.kws_kernel_probe_set_flavor.argtypes = [ctypes.c_int]
    with tempfile.TemporaryDirectory() as tmp:
        jobs, cases = [], []
        for i, path in enumerate(paths):
            data = path.read_bytes()
            sets = [random_models.random_inputs(data, 1000 + n) for n in range(inputs)]
            names = [f"{tmp}/{i}_in{k}.npy" for k in range(len(sets[0]))]
            for k, name in enumerate(names):
                np.save(name, np.stack([s[k] for s in sets]))
            jobs.append({"model": str(path), "inputs": names, "output": f"{tmp}/{i}"})
            cases.append((path, data, sets, f"{tmp}/{i}"))
        Path(f"{tmp}/jobs.json").write_text(json.dumps(jobs))
        peers = {}
        if REF_PYTHON.exists():
            version = _peer("ref", f"{tmp}/jobs.json")
            if version is not None:
                peers[f"REF {version}"] = "ref"
            if _peer("tflm", f"{tmp}/jobs.json") is not None:
                peers["tflite-micro"] = "tflm"
        else:
            print(f"reference venv not found ({REF_PYTHON}; scripts/bootstrap --ref makes it): "
                  "its TensorFlow and tflite-micro skipped")
        pairs = ([(f"{f} vs REF {tf.__version__}", f, "here") for f in ("TFLITE", "TFLM")]
                 + [(f"{f} vs {p}", f, p) for p in peers for f in ("TFLITE", "TFLM")]
                 + [(f"REF {tf.__version__} vs {p}", "here", p) for p in peers])
        counts: dict[str, Counter] = {label: Counter() for label, _, _ in pairs}
        outputs = Counter()
        for path, data, sets, out in cases:
            spec = path.stem.split("_", 1)[1]
            got = {}
            for flavor, name in ((0, "TFLITE"), (1, "TFLM")):
                lib.kws_kernel_probe_set_flavor(flavor)
                ours = Interpreter(data)
                rows = [ours.invoke(*s) for s in sets]
                got[name] = np.stack([np.asarray(r[0] if isinstance(r, list) else r) for r in rows])
            lib.kws_kernel_probe_set_flavor(0)
            reference = random_models.reference_outputs(data, sets)
            got["here"] = np.stack([outs[0] for outs in reference])
            for p, peer in peers.items():
                got[p] = np.load(f"{out}.{peer}.npy")
            outputs[spec] += got["here"].size
            for label, a, b in pairs:
                x, y = got[a].reshape(got["here"].shape), got[b].reshape(got["here"].shape)
                counts[label][spec] += int(np.sum(x.view(np.uint8) != y.view(np.uint8)))
    print(f"whole models, {inputs} random inputs each: differing outputs per model spec")
    labels = [label for label, _, _ in pairs]
    print(f"{'spec':10s} {'outputs':>8s}  " + "  ".join(labels))
    for spec in sorted(outputs):
        print(f"{spec:10s} {outputs[spec]:8d}  "
              + "  ".join(f"{counts[label][spec]:>{len(label)}d}" for label in labels))
    print(f"{'all':10s} {sum(outputs.values()):8d}  "
          + "  ".join(f"{sum(counts[label].values()):>{len(label)}d}" for label in labels))


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
    parser.add_argument("--model-inputs", type=int, default=50,
                        help="random inputs per model in the whole-model comparison (default 50)")
    parser.add_argument("--cache", type=Path, default=CACHE,
                        help="where converted models are cached (default build/test-models)")
    args = parser.parse_args()
    if args.count < 1 or args.inputs < 1 or args.model_inputs < 1:
        parser.error("--count, --inputs and --model-inputs must be at least 1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    bad = sweep(args.count, args.seed, args.inputs, args.cache)
    import random_models

    flavors(random_models.generate(args.seed, args.count, args.cache), args.model_inputs)
    timing()
    return 1 if bad else 0


if __name__ == "__main__":
    from kwshost.errors import run_script

    run_script(main)   # a KwsError (missing build, model, stream): one line, no trace
