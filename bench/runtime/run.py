"""Benchmark of the model runtime against its peers, all measured in this one run.

For each model: arena bytes and host time per inference of
  - ours (firmware/runtime + reference kernels, through the host library),
  - the pip `tflite-micro` runtime (TFLM, in the reference venv),
  - TensorFlow Lite's interpreter with reference kernels (BUILTIN_REF) and with its default
    optimized kernels,
printed as ratios; and, for MLTK's alexa model, the Cortex-M33 instruction count of one
inference on the QEMU firmware image (-icount: instructions, not cycles). The models: MLTK's
alexa, microWakeWord's streaming alexa and okay_nabu where pymicro-wakeword is in .venv-ref
(each invoke carries its state to the next, in every runtime alike), small random models.

    .venv/bin/python bench/runtime/run.py [--repeats N] [--no-qemu] [--small-models N]
        [--model M.tflite ...] [--qemu-model M.tflite]

Timings are CPU time of the process (time.process_time, so other jobs on a shared machine
do not inflate them) averaged over back-to-back invokes on the same input, one thread, with
only `invoke()` inside the timed loop for every runtime (Python loop, same call overhead).

The tflite-micro runtime lives in the reference venv (.venv-ref, `scripts/bootstrap --ref`,
or KWS_REF_PYTHON); without it its columns are skipped, and said so. The QEMU count runs
`scons target=qemu` first (a no-op when the build is current). How long: about 10 s with
the defaults on 2 cores (most of it TensorFlow's start-up and QEMU's boot).
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
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "host"))
from kwshost.paths import reference_mww_models  # noqa: E402

ALEXA = REPO / "models" / "mltk_keyword_spotting_alexa.tflite"


def mww_models() -> list[Path]:
    """microWakeWord's streaming alexa and okay_nabu (resource variables, an init subgraph),
    where `scripts/bootstrap --ref` installed pymicro-wakeword."""
    found = reference_mww_models()
    return [found / f"{name}.tflite" for name in ("alexa", "okay_nabu")] if found else []
REF_PYTHON = Path(os.environ.get("KWS_REF_PYTHON", REPO / ".venv-ref" / "bin" / "python"))

TFLM_CODE = r"""
import json, sys, time, os
import numpy as np
from tflite_micro.python.tflite_micro import runtime
out = []
for path, repeats in zip(sys.argv[1::2], sys.argv[2::2]):
    repeats = int(repeats)
    model = open(path, 'rb').read()
    it = runtime.Interpreter.from_bytes(model)
    k = 0
    while True:
        try:
            d = it.get_input_details(k)
        except Exception:
            break
        x = np.random.default_rng(k).integers(-128, 128, d['shape']).astype(d['dtype'])
        it.set_input(x, k)
        k += 1
    it.invoke()
    t0 = time.process_time()
    for _ in range(repeats):
        it.invoke()
    dt = (time.process_time() - t0) / repeats
    # The recording allocator prints the arena total on the C side's stderr.
    sys.stdout.flush()
    sys.stderr.flush()
    r, w = os.pipe()
    saved = (os.dup(1), os.dup(2))
    os.dup2(w, 1)
    os.dup2(w, 2)
    it.print_allocations()
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(saved[0], 1)
    os.dup2(saved[1], 2)
    os.close(w)
    text = os.read(r, 1 << 20).decode(errors='replace')
    arena = None
    for line in text.splitlines():
        if 'Arena allocation total' in line:
            arena = int(line.split('total')[1].split()[0])
    out.append({'path': path, 'seconds': dt, 'arena': arena})
print('RESULT ' + json.dumps(out))
"""


def ours(path: Path, repeats: int) -> dict:
    from kwshost.runtime import Interpreter

    it = Interpreter(path)
    it.invoke(*[np.random.default_rng(k).integers(-128, 128, d.shape).astype(d.dtype)
                for k, d in enumerate(it.input_details)])
    invoke, rt = it._lib.kws_rt_invoke, it._rt
    t0 = time.process_time()
    for _ in range(repeats):
        invoke(rt)
    dt = (time.process_time() - t0) / repeats
    return {"seconds": dt, "arena": it.arena_bytes, "state": it.state_bytes}


def tflite(path: Path, repeats: int, reference: bool) -> dict:
    import tensorflow as tf

    kind = tf.lite.experimental.OpResolverType
    it = tf.lite.Interpreter(model_path=str(path), experimental_op_resolver_type=(
        kind.BUILTIN_REF if reference else kind.AUTO), num_threads=1)
    it.allocate_tensors()
    for k, d in enumerate(it.get_input_details()):
        it.set_tensor(d["index"], np.random.default_rng(k).integers(-128, 128, d["shape"])
                      .astype(d["dtype"]))
    it.invoke()
    t0 = time.process_time()
    for _ in range(repeats):
        it.invoke()
    return {"seconds": (time.process_time() - t0) / repeats}


def tflm(paths_repeats: list[tuple[Path, int]]) -> dict[str, dict]:
    if not REF_PYTHON.exists():
        print(f"reference venv not found ({REF_PYTHON}; scripts/bootstrap --ref makes it): "
              "tflite-micro skipped, its columns are nan")
        return {}
    args = [x for p, r in paths_repeats for x in (str(p), str(r))]
    proc = subprocess.run([str(REF_PYTHON), "-c", TFLM_CODE, *args], capture_output=True,
                          text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return {r["path"]: r for r in json.loads(line[7:])}
    last = (proc.stderr.strip().splitlines() or ["no message"])[-1]
    print(f"tflite-micro failed in {REF_PYTHON} ({last}): skipped, its columns are nan")
    return {}


def qemu_instructions(model: Path) -> dict | None:
    """Instructions of one inference on the QEMU firmware (profile request, -icount)."""
    from kwshost import model_image
    from kwshost.link import Link
    from kwshost.protocol import PROFILE_OP, PROFILE_SUMMARY, PROFILE_UNIT, Msg
    from kwshost.qemu import QemuBoard

    scons = Path(sys.executable).with_name("scons")
    if not scons.exists():
        print(f"scons not found ({scons}): QEMU image not built", file=sys.stderr)
        return None
    build = subprocess.run([str(scons), "-Q", "-j2", "target=qemu"], cwd=REPO,
                           capture_output=True, text=True)
    elf = REPO / "build" / "qemu" / "kws.elf"
    if build.returncode != 0 or not elf.exists():
        print("QEMU image did not build:", build.stdout[-1500:], file=sys.stderr)
        return None
    with tempfile.TemporaryDirectory() as tmp:
        image = Path(tmp) / "model.img"
        model_image.write_image(model, image, target="qemu")
        with QemuBoard(elf, model_image=image, icount=True) as board, \
                Link(board.url, connect_timeout=10) as link:
            link.hello(timeout=10)
            link.send(Msg.PROFILE_REQ)
            unit, per_op, deadline = "", {}, time.monotonic() + 300
            while time.monotonic() < deadline:
                for f in link.read_frames(1.0):
                    if f.type == Msg.ERROR:
                        print("device error:", f.payload, file=sys.stderr)
                        return None
                    if f.type != Msg.PROFILE or not f.payload:
                        continue
                    kind = f.payload[0]
                    if kind == PROFILE_UNIT:
                        unit = f.payload[1:].decode(errors="replace")
                    elif kind == PROFILE_OP:
                        op = int.from_bytes(f.payload[1:3], "little")
                        per_op[op] = int.from_bytes(f.payload[5:9], "little")
                    elif kind == PROFILE_SUMMARY:
                        ticks = int.from_bytes(f.payload[1:5], "little")
                        arena = int.from_bytes(f.payload[5:9], "little")
                        return {"ticks": ticks, "unit": unit, "instructions": ticks * 50,
                                "per_op_ticks": per_op, "arena": arena}
    return None


def small_models(count: int) -> list[Path]:
    if count <= 0:
        return []
    sys.path.insert(0, str(REPO / "tests"))
    from random_models import generate

    models = generate(seed=1234, count=30, out_dir=REPO / "build" / "test-models")
    return models[:count]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=200,
                    help="invokes per runtime (alexa; default 200, 10x that for small models)")
    ap.add_argument("--small-models", type=int, default=8,
                    help="also this many small random models of the kernel tests (default 8, "
                         "at most 30)")
    ap.add_argument("--model", action="append", default=[], type=Path,
                    help="another model to compare (repeatable), e.g. a trained TENet")
    ap.add_argument("--qemu-model", type=Path, default=ALEXA,
                    help="model whose QEMU instruction count is measured (default: alexa)")
    ap.add_argument("--no-qemu", action="store_true", help="skip the QEMU instruction count")
    args = ap.parse_args()
    if args.repeats < 1:
        ap.error("--repeats must be at least 1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    models = [(ALEXA, args.repeats)] + [(p, args.repeats) for p in mww_models() + args.model]
    models += [(p, args.repeats * 10) for p in small_models(args.small_models)]
    micro = tflm(models)
    rows = []
    for path, repeats in models:
        from kwshost.errors import ModelError

        try:
            o = ours(path, repeats)
        except ModelError as e:
            print(f"{path.name}: ours rejected it: {e}")
            continue
        ref = tflite(path, repeats, reference=True)
        opt = tflite(path, repeats, reference=False)
        m = micro.get(str(path), {})
        rows.append((path.name, o, m, ref, opt))

    print(f"\n{'model':36s} {'ours ms':>8s} {'TFLM ms':>8s} {'TFLM/ours':>9s} "
          f"{'REF ms':>7s} {'REF/ours':>8s} {'OPT ms':>7s} | {'ours arena':>10s} "
          f"{'+state':>7s} {'TFLM arena':>10s} {'TFLM/ours':>9s}")
    for name, o, m, ref, opt in rows:
        ms = o["seconds"] * 1e3
        tm = m.get("seconds", float("nan")) * 1e3
        ours_ram = o["arena"] + o["state"]
        ta = m.get("arena")
        print(f"{name[:36]:36s} {ms:8.3f} {tm:8.3f} {tm / ms:9.2f} "
              f"{ref['seconds'] * 1e3:7.3f} {ref['seconds'] * 1e3 / ms:8.2f} "
              f"{opt['seconds'] * 1e3:7.3f} | {o['arena']:10d} {o['state']:7d} "
              f"{ta if ta else '-':>10} {(ta / ours_ram if ta else float('nan')):9.2f}")
    print("\nours arena = planned tensors + scratch + runtime tables; +state = interpreter "
          "struct and op resolver (x86-64 sizes). TFLM arena = its recording allocator's total.")

    print(f"(host: {platform.machine()}, {os.cpu_count()} cores; ms = CPU time per invoke, "
          f"{args.repeats} invokes for the named models, {args.repeats * 10} for small ones)")

    if not args.no_qemu:
        from kwshost.errors import KwsError

        try:
            q = qemu_instructions(args.qemu_model)
        except KwsError as e:  # no qemu-system-arm, no image, no answer
            print(f"QEMU: {e}" + (f" ({e.hint})" if e.hint else ""), file=sys.stderr)
            q = None
        if q:
            print(f"\nQEMU mps2-an505 (Cortex-M33), one inference of {args.qemu_model.name}: "
                  f"{q['instructions']:,} "
                  f"instructions ({q['ticks']:,} {q['unit']}); firmware arena "
                  f"{q['arena']:,} B")
            top = sorted(q["per_op_ticks"].items(), key=lambda kv: -kv[1])[:5]
            print("  costliest operators (instructions): " +
                  ", ".join(f"#{op} {t * 50:,}" for op, t in top))
        else:
            print("\nQEMU instruction count: not measured (see messages above)")
    return 0


if __name__ == "__main__":
    from kwshost.errors import run_script

    run_script(main)   # a KwsError (missing build, model, stream): one line, no trace
