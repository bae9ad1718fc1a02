"""Frontend bench: bit-exactness over an hour of varied audio, host throughput against MLTK's
AudioFeatureGenerator (and TensorFlow's audio_microfrontend op when importable) measured in
the same run, and the Cortex-M33 instruction count of one 10 ms step on QEMU.

    .venv/bin/python bench/frontend/run.py              # 1 hour, all parts
    .venv/bin/python bench/frontend/run.py --minutes 5  # quicker

Throughput is seconds of audio per second of one core, on 10 minutes of the audio, best of
5 turns each (the machine may be shared); each side is timed around its own computation
only (MLTK inside its process, no file I/O). The audio: 120 s recordings of every
kind in bench/frontend/signals.py (espeak-ng speech, noise, silence, square waves, clipping,
DC, very quiet, sweeps, impulses, mixtures), each run from a fresh frontend as MLTK's wrapper
does (its one-call limit is 134 s), with the seed model's settings.

Peers: MLTK's wrapper runs in the reference venv (.venv-ref, `scripts/bootstrap --ref`, or
KWS_REF_PYTHON); without it bit-exactness and its speed are skipped, and said so. The
TensorFlow op runs in this venv. How long on 2 cores: about 1 minute for the default hour
(several minutes more with --instructions: valgrind), about 15 s with --minutes 2.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path[:0] = [str(REPO / "host"), str(HERE)]

import reference  # noqa: E402
import signals  # noqa: E402
from kwshost import frontend  # noqa: E402

SEGMENT_S = 120
REPEATS = 5
M33_HZ = 78e6


def exactness_and_speed(minutes: float, settings) -> dict:
    py = reference.ref_python()
    n_clips = max(1, round(minutes * 60 / SEGMENT_S))
    t = time.perf_counter()
    audio = np.stack([signals.stream(SEGMENT_S, seed=1000 + i) for i in range(n_clips)])
    print(f"audio: {n_clips} x {SEGMENT_S} s = {audio.size / 16000 / 3600:.2f} h "
          f"(made in {time.perf_counter() - t:.0f} s)")
    ours = frontend.batch_rows(audio, settings)
    ours_q = frontend.spectrograms(audio, settings)
    result = {"seconds": audio.size / 16000, "values": ours.size}
    # Throughput on the first 10 minutes, best of REPEATS for each side, taking turns: the
    # minimum is what each side costs when other jobs on the machine leave it alone.
    part = audio[:5]
    result["speed_seconds"] = part.size / 16000
    ours_best = mltk_best = float("inf")
    failed = False
    for _ in range(REPEATS):
        t = time.perf_counter()
        frontend.batch_rows(part, settings)
        ours_best = min(ours_best, time.perf_counter() - t)
        if py is not None:
            try:
                mltk_best = min(mltk_best,
                                reference.mltk_features(py, settings.to_params(), part)[1])
            except (RuntimeError, IndexError, OSError) as e:  # a reference venv without MLTK
                last = (str(e).strip().splitlines() or ["no message"])[-1]
                print(f"MLTK's wrapper failed in {py} ({last}): bit-exactness and MLTK's speed "
                      "skipped")
                py, failed = None, True
    result["ours_s"] = ours_best
    if failed:
        return result
    if py is None:
        print(f"MLTK reference venv not found ({reference.REPO / '.venv-ref'}, or KWS_REF_PYTHON; "
              "scripts/bootstrap --ref makes it): bit-exactness and MLTK's speed skipped")
        return result
    ref, _ = reference.mltk_features(py, settings.to_params(), audio, "uint16")
    ref_q, _ = reference.mltk_features(py, settings.to_params(), audio, "int8")
    result.update(mltk_s=mltk_best, diff_rows=int(np.count_nonzero(ref != ours)),
                  diff_int8=int(np.count_nonzero(ref_q != ours_q)))
    return result


def tf_microfrontend_speed(seconds: float, settings) -> float | None:
    """TensorFlow's audio_microfrontend op (no DC notch; speed only), seconds of audio/s."""
    try:
        import tensorflow as tf
        from tensorflow.lite.experimental.microfrontend.python.ops import (
            audio_microfrontend_op as op,
        )
    except Exception as e:  # noqa: BLE001 - any import problem means "not available"
        print(f"TensorFlow audio_microfrontend op not importable: {e}")
        return None
    x = tf.constant(signals.stream(seconds, seed=3))
    kw = dict(sample_rate=settings.sample_rate_hz, window_size=settings.window_size_ms,
              window_step=settings.window_step_ms, num_channels=settings.filterbank_n_channels,
              upper_band_limit=settings.filterbank_upper_band_limit,
              lower_band_limit=settings.filterbank_lower_band_limit,
              even_smoothing=settings.noise_reduction_even_smoothing,
              odd_smoothing=settings.noise_reduction_odd_smoothing,
              min_signal_remaining=settings.noise_reduction_min_signal_remaining,
              enable_pcan=False, out_scale=1, out_type=tf.uint16)
    op.audio_microfrontend(x[:16000], **kw)
    t = time.perf_counter()
    op.audio_microfrontend(x, **kw)
    return seconds / (time.perf_counter() - t)


_OURS_CODE = """
import sys, numpy as np
sys.path.insert(0, sys.argv[3])
from kwshost import frontend
frontend.batch_rows(np.load(sys.argv[1])[None, :int(sys.argv[2])])
"""
_MLTK_CODE = """
import json, sys, numpy as np
sys.path.insert(0, sys.argv[3])
import oracle
s = json.loads(sys.argv[4])
n = int(sys.argv[2])
s["fe.sample_length_ms"] = n // 16
w = oracle.load_wrapper().AudioFeatureGeneratorWrapper(s)
out = np.zeros(((n - 480) // 160 + 1, s["fe.filterbank_n_channels"]), np.uint16)
w.process_sample(np.ascontiguousarray(np.load(sys.argv[1])[:n]), out)
"""


def instructions_per_audio_second(settings) -> dict | None:
    """x86 instructions per second of audio (valgrind callgrind, independent of machine
    load): each side runs 5 s and 15 s of audio; the difference divided by 10 s."""
    import json
    import tempfile

    py = reference.ref_python()
    if not shutil.which("valgrind") or py is None:
        print("valgrind or the reference venv missing: instruction counts skipped")
        return None
    result = {}
    with tempfile.TemporaryDirectory() as d:
        audio = Path(d) / "a.npy"
        np.save(audio, signals.stream(15, seed=77))
        for name, python, code, extra in (
                ("ours", sys.executable, _OURS_CODE, [str(REPO / "host")]),
                ("mltk", str(py), _MLTK_CODE, [str(HERE), json.dumps(settings.to_params())])):
            counts = []
            for seconds in (5, 15):
                out = Path(d) / f"cg.{name}.{seconds}"
                run = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                                      python, "-c", code, str(audio), str(seconds * 16000),
                                      *extra], capture_output=True, text=True, timeout=1200)
                m = re.search(r"Collected : (\d+)", run.stderr)
                if not m:
                    print(f"callgrind failed for {name}:\n{run.stderr[-2000:]}")
                    return None
                counts.append(int(m.group(1)))
            result[name] = (counts[1] - counts[0]) / 10
    return result


def m33_instructions(*flags: str) -> tuple[float, str] | None:
    """Instructions per row on QEMU's Cortex-M33, and the rest of the bench's line (with
    --stages: instructions per row of each stage)."""
    if not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")):
        print("arm-none-eabi-gcc or qemu-system-arm missing: M33 count skipped")
        return None
    out = subprocess.run(["sh", str(HERE / "m33" / "build_and_run.sh"), *flags],
                         capture_output=True, text=True, timeout=300)
    m = re.search(r"rows=(\d+) ticks=(\d+)(.*)", out.stdout + out.stderr)
    if not m:
        print(f"M33 bench failed:\n{out.stdout}{out.stderr}")
        return None
    return int(m.group(2)) * 50 / int(m.group(1)), m.group(3).strip()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=60.0, help="audio to compare (default 60)")
    ap.add_argument("--no-tf", action="store_true", help="skip the TensorFlow op")
    ap.add_argument("--instructions", action="store_true",
                    help="also count x86 instructions per audio second with valgrind (slow)")
    args = ap.parse_args()
    settings = frontend.FrontendSettings()

    if not args.minutes > 0:
        ap.error("--minutes must be more than 0")
    r = exactness_and_speed(args.minutes, settings)
    ours_rate = r["speed_seconds"] / r["ours_s"]
    print(f"throughput: seconds of audio per second of one core, best of {REPEATS} on "
          f"{r['speed_seconds']:.0f} s of the audio ({platform.machine()}, "
          f"{os.cpu_count()} cores)")
    print(f"ours (C frontend via kwshost.frontend.batch_rows): {ours_rate:8.0f} s audio/s")
    if "mltk_s" in r:
        mltk_rate = r["speed_seconds"] / r["mltk_s"]
        print(f"MLTK AudioFeatureGenerator wrapper:               {mltk_rate:8.0f} s audio/s")
        print(f"ratio ours / MLTK: {ours_rate / mltk_rate:.2f}x")
        print(f"bit-exactness over {r['seconds'] / 3600:.2f} h ({r['values']} uint16 values): "
              f"{r['diff_rows']} differing uint16, {r['diff_int8']} differing int8")
    if not args.no_tf:
        tf_rate = tf_microfrontend_speed(min(r["seconds"], 300.0), settings)
        if tf_rate:
            print(f"TensorFlow audio_microfrontend op:               {tf_rate:8.0f} s audio/s "
                  f"(ours / TF: {ours_rate / tf_rate:.2f}x)")
    if args.instructions:
        counts = instructions_per_audio_second(settings)
        if counts:
            ours, mltk = counts["ours"] / 1e6, counts["mltk"] / 1e6
            print(f"x86 instructions per second of audio: ours {ours:.2f} M, "
                  f"MLTK {mltk:.2f} M (ratio {mltk / ours:.2f}x)")
    whole, stages = m33_instructions(), m33_instructions("--stages")
    if whole:
        per_row = whole[0]
        print(f"Cortex-M33 (QEMU -icount): {per_row:.0f} instructions per 10 ms step = "
              f"{per_row / (M33_HZ * 0.01) * 100:.2f}% of a 78 MHz core at one cycle each "
              f"(instructions, not cycles: bench/frontend/m33/mix.py gives a cycle range)")
    if stages:
        parts = re.findall(r"(\S+)=(\d+)", stages[1])
        print("  per stage, instructions per step: " +
              ", ".join(f"{k} {v}" for k, v in parts if k not in ("checksum",
                                                                  "filterbank_mismatches")))
    return 0 if r.get("diff_rows", 0) == 0 and r.get("diff_int8", 0) == 0 else 1


if __name__ == "__main__":
    from kwshost.errors import run_script

    run_script(main)   # a KwsError (missing build, model, stream): one line, no trace
