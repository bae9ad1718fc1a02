"""MVP kernels on the simulated MVP: numbers close to the reference kernels (binary16 math),
bit-exact CPU fallback, the cycle model against MLTK 0.20's simulator, `kwshost profile`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
ALEXA = REPO / "models" / "mltk_keyword_spotting_alexa.tflite"


@pytest.fixture(scope="module")
def interps(native_lib):
    from kwshost.runtime import Interpreter

    return Interpreter(ALEXA), Interpreter(ALEXA, accelerator="mvp")


def _inputs(n: int) -> list[np.ndarray]:
    """Seeded spectrogram-like inputs: smooth random fields, the range a frontend produces."""
    rng = np.random.default_rng(6)
    out = []
    for _ in range(n):
        base = rng.normal(0, 1, size=(118, 108)).cumsum(axis=0).cumsum(axis=1)
        base = (base - base.min()) / (np.ptp(base) + 1e-9) * 255 - 128
        out.append(base.astype(np.int8).reshape(1, 118, 1, 108))
    return out


def test_alexa_runs_on_the_mvp_and_agrees(interps):
    from kwshost import mvp

    ref, acc = interps
    rows = mvp.profile(ALEXA, accelerator="mvp", cpu_share=False)
    on = [r for r in rows if r.on_mvp]
    assert {r.name for r in on} == {"conv_2d", "depthwise_conv_2d", "add", "fully_connected"}
    assert len(on) == 53  # every conv, depthwise, add and the FC layer
    for r in on:  # the MVP does at most 2 multiply-accumulates per cycle
        assert r.acc_cycles >= r.macs / 2
    worst = 0
    for x in _inputs(4):
        a, b = ref.invoke(x).astype(int), acc.invoke(x).astype(int)
        assert a.argmax() == b.argmax()
        worst = max(worst, int(np.abs(a - b).max()))
    assert worst <= 16  # binary16 accumulation: measured in bench/mvp, bounded here


def test_kept_programs_compute_what_fresh_ones_do(native_lib):
    """The kernels keep each layer's programs from the first invoke after allocation and start
    them again on later invokes without building: an interpreter that already ran other inputs
    gives, input for input, exactly what a fresh one (building every program) gives."""
    from kwshost.runtime import Interpreter

    xs = _inputs(3)
    warm = Interpreter(ALEXA, accelerator="mvp")
    warm.invoke(xs[0])
    for x in xs[1:] + xs[:1]:
        fresh = Interpreter(ALEXA, accelerator="mvp")
        assert np.array_equal(warm.invoke(x), fresh.invoke(x))


def test_overlap_never_reads_the_mvp_outputs_early(tmp_path, native_lib):
    """MVP kernels return while their last program runs (cross-operator overlap). With a lazy
    simulated MVP, which runs each program only when the CPU first waits for it, a kernel or
    caller that read a tensor without waiting would see the previous inference's values: the
    streamed scores of speech (they change from window to window) must not change."""
    from device_helpers import spoken_wav
    from kwshost import mvp
    from kwshost.audio import read_wav
    from kwshost.pipeline import PcPipeline

    samples = read_wav(spoken_wav(tmp_path / "speech.wav", ["alexa"], gap_s=0.4))
    lib = mvp._lib()
    runs = {}
    for lazy in (0, 1):
        for share in (0, 1):
            lib.kws_mvp_api_set_lazy(lazy)
            with mvp.cpu_share_split(mvp.CPU_SHARE_SPLIT if share else mvp.NO_CPU_SHARE):
                pipe = PcPipeline.from_model(ALEXA, accelerator="mvp")
            try:
                runs[lazy, share] = [tuple(i.scores) for i in pipe.process(samples)]
            finally:
                lib.kws_mvp_api_set_lazy(0)
    assert len(set(runs[0, 0])) >= 2  # the scores change: a stale read would shift them
    assert runs[1, 0] == runs[0, 0]
    assert runs[1, 1] == runs[0, 1]


@pytest.mark.slow
def test_fallback_is_bit_exact_and_mvp_ops_are_close(native_lib):
    import random_models
    from kwshost import mvp
    from kwshost.runtime import Interpreter

    paths = random_models.generate(4242, 15, REPO / "build" / "test-models")
    n_mvp = n_cpu = 0
    for p in paths:
        data = p.read_bytes()
        xs = random_models.random_inputs(data, 3)
        a = Interpreter(data).invoke(*xs)
        rows = mvp.profile(data, accelerator="mvp", x=xs[0] if len(xs) == 1 else None) \
            if len(xs) == 1 else None
        b = Interpreter(data, accelerator="mvp").invoke(*xs)
        a, b = (a if isinstance(a, list) else [a]), (b if isinstance(b, list) else [b])
        ran_on_mvp = rows is not None and any(r.on_mvp for r in rows)
        for u, v in zip(a, b, strict=True):
            if ran_on_mvp:
                n_mvp += 1
                if u.dtype == np.int8:
                    assert np.abs(u.astype(int) - v.astype(int)).max() <= 2, p.name
            else:
                n_cpu += 1
                np.testing.assert_array_equal(u, v, err_msg=p.name)
    assert n_cpu > 0


def test_cycle_model_matches_mltk_simulator(ref_python, native_lib):
    from kwshost import mvp

    mltk = Path(ref_python).parent / "mltk"
    proc = subprocess.run([str(mltk), "profile", str(ALEXA), "--accelerator", "mvp"],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3",
                               "CUDA_VISIBLE_DEVICES": ""})
    sys.path.insert(0, str(REPO / "bench" / "mvp"))
    theirs = {}
    for line in proc.stdout.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 6 and cells[1].isdigit():
            v = cells[5]
            theirs[int(cells[1])] = float(v[:-1]) * {"k": 1e3, "M": 1e6}[v[-1]] \
                if v[-1] in "kM" else float(v)
    assert len(theirs) == 56, proc.stdout[-2000:]
    rows = mvp.profile(ALEXA, accelerator="mvp-mltk-mapping")
    checked = 0
    for r in rows:
        if r.name in ("conv_2d", "depthwise_conv_2d", "add"):
            assert abs(r.acc_cycles - theirs[r.index]) <= 0.01 * theirs[r.index] + 30, r.index
            checked += 1
    assert checked == 52


def test_profile_cli_json(native_lib):
    out = subprocess.run([sys.executable, "-m", "kwshost", "profile", "--json"],
                         capture_output=True, text=True, check=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": str(REPO / "host")}).stdout
    rep = json.loads(out)
    assert len(rep["layers"]) == 56
    t = rep["totals"]
    assert t["acc_cycles"] == sum(r["acc_cycles"] for r in rep["layers"])
    assert 4.5e6 < t["macs"] < 4.6e6
    assert 0 < t["seconds"] < 0.057  # faster than the seed's 57 ms on the device
    none = json.loads(subprocess.run(
        [sys.executable, "-m", "kwshost", "profile", "--accelerator", "none", "--json"],
        capture_output=True, text=True, check=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO / "host")}).stdout)
    assert none["totals"]["acc_cycles"] == 0


def test_cpu_share_splits_convolutions_and_keeps_results(interps):
    from kwshost import mvp
    from kwshost.runtime import Interpreter

    ref, shared = interps  # the firmware's default: with the CPU share
    with mvp.cpu_share_split(mvp.NO_CPU_SHARE):
        alone = Interpreter(ALEXA, accelerator="mvp")
    for x in _inputs(2):
        a, b = ref.invoke(x).astype(int), shared.invoke(x).astype(int)
        assert a.argmax() == b.argmax() and np.abs(a - b).max() <= 16
        assert np.abs(alone.invoke(x).astype(int) - a).max() <= 16
    rows = mvp.profile(ALEXA, accelerator="mvp", cpu_share=True)
    base = mvp.profile(ALEXA, accelerator="mvp", cpu_share=False)
    convs = [r for r in rows if r.name == "conv_2d"]
    # layers whose MVP time exceeds the reserve get a share; the small ones keep the CPU free
    reserve = mvp.CPU_SHARE_SPLIT[2]
    assert all(r.cpu_share_cycles == 0 for r, b in zip(rows, base, strict=True)
               if r.name == "conv_2d" and b.acc_cycles <= reserve)
    assert convs[0].cpu_share_cycles > 0
    assert mvp.totals(rows)["acc_cycles"] < mvp.totals(base)["acc_cycles"]
    for r, b in zip(rows, base, strict=True):  # the split never makes a layer slower
        assert r.cycles <= b.cycles


@pytest.mark.slow
def test_streaming_detections_unchanged_by_the_mvp(tmp_path, native_lib):
    from device_helpers import spoken_wav
    from kwshost.audio import read_wav
    from kwshost.pipeline import PcPipeline

    wav = spoken_wav(tmp_path / "speech.wav", ["alexa", "what time is it now", "alexa"],
                     gap_s=0.7)
    samples = read_wav(wav)
    runs = {acc: list(PcPipeline.from_model(ALEXA, accelerator=acc).process(samples))
            for acc in ("none", "mvp")}
    det = {acc: [(i.time_ms, i.class_index) for i in r if i.detected] for acc, r in runs.items()}
    assert len(det["none"]) == 2
    assert det["mvp"] == det["none"]
