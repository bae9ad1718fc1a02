"""Short runs of the libFuzzer targets (fuzz/run.sh: the model loader and the serial session):
no crash, no sanitizer report. The 10-minute runs are documented in docs/runtime.md."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def fuzz_target() -> Path:
    if shutil.which("clang++") is None:
        pytest.skip("clang is not installed (./scripts/bootstrap)")
    build = subprocess.run(["sh", "fuzz/run.sh", "0"], cwd=REPO, capture_output=True,
                           text=True, timeout=600)
    if build.returncode != 0 and "fsanitize=fuzzer" in build.stderr:
        pytest.skip("libFuzzer runtime missing (libclang-rt-dev)")
    assert build.returncode == 0, build.stderr[-3000:]
    return REPO / "build" / "fuzz" / "fuzz_model_loader"


def _seed_models() -> list[Path]:
    """The 30 small models fuzz/make_seeds.py builds (one per name if cached twice)."""
    cache = REPO / "build" / "test-models"
    found = {p.name: p for p in sorted(cache.glob("*seed1234-n30/*.tflite"))}
    return list(found.values())


@pytest.mark.slow
def test_structural_mutants_under_sanitizers(fuzz_target, tmp_path):
    """Every operator tensor index, dimension and type of the small models replaced in
    turn (~4,000 models): each is rejected or runs, with no ASan/UBSan report."""
    seeds = _seed_models()
    if not seeds:
        pytest.skip("no small test models (build/test-models): run fuzz/make_seeds.py")
    out = tmp_path / "mutants"
    gen = subprocess.run([sys.executable, str(REPO / "fuzz" / "structural_mutants.py"),
                          str(out), *map(str, seeds)], capture_output=True, text=True)
    assert gen.returncode == 0, gen.stderr
    run = subprocess.run([str(fuzz_target), "-runs=0", f"-artifact_prefix={tmp_path}/", str(out)],
                         capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]


@pytest.mark.slow
def test_fuzz_model_loader_8000_runs(fuzz_target, tmp_path):
    # The seeds only (bundled models, small random models), not the grown corpus.
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    seeds = list((REPO / "models").glob("*.tflite"))
    seeds += _seed_models()
    for seed in seeds:
        shutil.copy(seed, corpus / seed.name)
    run = subprocess.run([str(fuzz_target), str(corpus),
                          # a fixed seed and run count: the same inputs on every machine
                          "-seed=1", "-runs=8000", "-max_len=262144", "-timeout=20",
                          "-rss_limit_mb=2048", f"-artifact_prefix={tmp_path}/"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Done" in run.stderr


def _session_events(target: Path, seed: Path) -> int:
    """Runs one seed script; the events (scores, detections) the device sent back."""
    run = subprocess.run([str(target), str(seed)], cwd=REPO, capture_output=True, text=True,
                         timeout=300, env={**os.environ, "KWS_FUZZ_VERBOSE": "1"})
    assert run.returncode == 0, run.stderr[-3000:]
    line = next(ln for ln in run.stderr.splitlines() if ln.startswith("session:"))
    return int(line.split(" events")[0].rsplit(" ", 1)[-1])


@pytest.mark.slow
def test_fuzz_session_streams_audio_and_survives_200_mutants(fuzz_target, tmp_path):
    """The serial protocol and pipeline target (fuzz/fuzz_session.cc): its seeds reach the
    pipeline with both kernel sets (scores come back), and 200 mutated sessions of garbage,
    odd frames and audio end with no sanitizer report, no malformed reply and no sample
    counted that was not sent."""
    target = fuzz_target.parent / "fuzz_session"
    corpus = tmp_path / "corpus"
    gen = subprocess.run([sys.executable, str(REPO / "fuzz" / "session_seeds.py"), str(corpus)],
                         capture_output=True, text=True)
    assert gen.returncode == 0, gen.stderr
    assert _session_events(target, corpus / "seed_stream") >= 5
    mvp = corpus / "seed_stream_mvp"        # ~1 s per inference: checked once, not mutated
    assert _session_events(target, mvp) >= 1
    mvp.unlink()
    run = subprocess.run([str(target), str(corpus), "-seed=1", "-runs=200", "-max_len=8192",
                          "-timeout=60", "-rss_limit_mb=2048", f"-artifact_prefix={tmp_path}/"],
                         cwd=REPO, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Done 20" in run.stderr
