"""A short run of the libFuzzer target over the model loader (fuzz/run.sh): no crash, no
sanitizer report. The 10-minute run is documented in docs/runtime.md."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_fuzz_model_loader_20_seconds(tmp_path):
    if shutil.which("clang++") is None:
        pytest.skip("clang is not installed (./scripts/bootstrap)")
    build = subprocess.run(["sh", "fuzz/run.sh", "0"], cwd=REPO, capture_output=True,
                           text=True, timeout=600)
    if build.returncode != 0 and "fsanitize=fuzzer" in build.stderr:
        pytest.skip("libFuzzer runtime missing (libclang-rt-dev)")
    assert build.returncode == 0, build.stderr[-3000:]
    # The seeds only (bundled models, small random models), not the grown corpus.
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    seeds = list((REPO / "models").glob("*.tflite"))
    seeds += list((REPO / "build" / "test-models").glob("*seed1234-n30/*.tflite"))
    for seed in seeds:
        shutil.copy(seed, corpus / seed.name)
    run = subprocess.run([str(REPO / "build" / "fuzz" / "fuzz_model_loader"), str(corpus),
                          "-max_len=262144", "-max_total_time=20", "-timeout=20",
                          "-rss_limit_mb=2048", f"-artifact_prefix={tmp_path}/"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Done" in run.stderr
