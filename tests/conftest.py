"""Shared fixtures: the native library, the reference-system interpreter, the QEMU board;
and a guard that fails a test which hangs."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "host"))


@contextlib.contextmanager
def fails_if_hung(seconds: int, what: str):
    """Raise TimeoutError in the block after `seconds` (SIGALRM), so a test that hangs fails
    instead of hanging the suite."""
    def hung(*_):
        raise TimeoutError(f"{what} hung")
    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def cli(capsys, *argv) -> tuple[int, str, str]:
    """Runs `kwshost ARGV` in this process (an escaping exception fails the test with its
    traceback) and returns its exit status, stdout and stderr."""
    from kwshost.cli import main

    try:
        code = main([str(a) for a in argv])
    except SystemExit as e:  # argparse's usage errors
        code = int(e.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def one_line_error(err: str, command: str) -> str:
    """The one error line of `kwshost COMMAND` (hints aside), checked to be just that."""
    lines = [line for line in err.splitlines() if not line.startswith("  hint:")]
    assert len(lines) == 1 and lines[0].startswith(f"kwshost {command}: error: "), err
    return lines[0]


@pytest.fixture(scope="session")
def native_lib():
    """The firmware's C code built for the host (scons target=host), loaded with ctypes."""
    from kwshost import native

    return native.lib()


@pytest.fixture(scope="session")
def ref_python() -> Path:
    """Python of the reference-systems venv (silabs-mltk 0.20, tflite-micro, its TensorFlow).

    Oracle tests run reference code in that interpreter as a subprocess, because MLTK pins an
    older TensorFlow than ours. ./scripts/bootstrap --ref creates it; KWS_REF_PYTHON overrides.
    """
    path = Path(os.environ.get("KWS_REF_PYTHON", REPO / ".venv-ref" / "bin" / "python"))
    if not path.exists():
        pytest.skip(f"reference venv not found at {path}: run ./scripts/bootstrap --ref "
                    "(needs PyPI for silabs-mltk==0.20.0)")
    probe = subprocess.run([str(path), "-c", "import mltk"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"silabs-mltk is not importable in {path}")
    return path


def run_in_ref(ref_python: Path, code: str, *args: str, timeout: float = 600) -> str:
    """Run `code` in the reference interpreter and return its stdout (raises on failure)."""
    proc = subprocess.run([str(ref_python), "-c", code, *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3",
                                                "CUDA_VISIBLE_DEVICES": ""})
    if proc.returncode != 0:
        raise RuntimeError(f"reference code failed:\n{proc.stderr[-4000:]}")
    return proc.stdout


@pytest.fixture(scope="session")
def qemu_available() -> str:
    exe = shutil.which("qemu-system-arm")
    if exe is None:
        pytest.fail("qemu-system-arm is missing: run ./scripts/bootstrap")
    return exe


@pytest.fixture(scope="session")
def mltk_models(ref_python, tmp_path_factory) -> dict[str, Path]:
    """Other people's models: every .tflite MLTK 0.20 ships (its model zoo archives, its test
    data), extracted from the reference venv's package: "ARCHIVE/FILE" -> path."""
    root = Path(run_in_ref(ref_python, "import mltk, os; print(os.path.dirname(mltk.__file__))")
                .strip())
    out = tmp_path_factory.mktemp("mltk_models")
    models = {}
    for archive in sorted(root.glob("models/**/*.mltk.zip")):
        with zipfile.ZipFile(archive) as z:
            for member in z.namelist():
                if member.endswith(".tflite"):
                    name = f"{archive.name.removesuffix('.mltk.zip')}/{Path(member).name}"
                    models[name] = out / name.replace("/", "__")
                    models[name].write_bytes(z.read(member))
    for path in sorted(root.glob("utils/test_helper/data/*.tflite")):
        models[f"test_helper/{path.name}"] = path
    assert len(models) >= 20, sorted(models)
    return models


@pytest.fixture(scope="session")
def mww_models(ref_python) -> dict[str, Path]:
    """microWakeWord's streaming models as pymicro-wakeword 2.5 ships them in the reference
    venv, each with its JSON manifest beside it: "alexa" -> .../alexa.tflite."""
    try:
        root = Path(run_in_ref(ref_python, "import pymicro_wakeword, os; "
                               "print(os.path.dirname(pymicro_wakeword.__file__))").strip())
    except RuntimeError:
        pytest.skip("pymicro-wakeword is not in the reference venv: run ./scripts/bootstrap --ref")
    models = {p.stem: p for p in sorted((root / "models").glob("*.tflite"))}
    assert {"alexa", "okay_nabu"} <= set(models), sorted(models)
    return models
