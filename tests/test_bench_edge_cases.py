"""The benchmarks answer --help without running, refuse bad sizes at once, and report a missing
build or reference venv in one line instead of a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BENCHES = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "bench").glob("*/*.py")) + [
    "bench/frontend/m33/mix.py"]


def run(*argv: str, env: dict | None = None, timeout: int = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *argv], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3",
                                                **(env or {})})


@pytest.mark.parametrize("script", BENCHES)
def test_help_teaches_without_running(script: str) -> None:
    r = run(script, "--help", timeout=30)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stdout + r.stderr
    assert len(r.stdout.splitlines()) > 3


@pytest.mark.parametrize("argv", [
    ("bench/detect/run.py", "--keywords-per-voice", "0"),
    ("bench/detect/run.py", "--neg-minutes", "0"),
    ("bench/kernels/sweep.py", "--count", "0"),
    ("bench/runtime/run.py", "--repeats", "0"),
    ("bench/frontend/run.py", "--minutes", "0"),
    ("bench/detect/val_rule.py", "--streams", "/nonexistent/streams", "m.tflite"),
])
def test_bad_sizes_are_refused_at_once(argv: tuple[str, ...]) -> None:
    r = run(*argv, timeout=30)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and "error:" in r.stderr


def test_missing_build_is_one_line() -> None:
    env = {"KWS_NATIVE_LIB": "/nonexistent/libkws.so", "KWS_REF_PYTHON": "/nonexistent/python"}
    r = run("bench/runtime/run.py", "--repeats", "1", "--small-models", "0", "--no-qemu", env=env)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    assert "native library not found" in r.stderr
    assert "reference venv not found" in r.stdout


def test_missing_stream_is_one_line() -> None:
    r = run("bench/detect/val_threshold.py", "--kw", "/nonexistent/kw.wav", "--speech",
            "/nonexistent/speech.wav", "--models", "models/mltk_keyword_spotting_alexa.tflite")
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and "no such file" in r.stderr
