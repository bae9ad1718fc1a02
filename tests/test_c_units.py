"""Runs every C unit-test binary built by `scons target=host` (tests/c/test_*.c[c])."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
C_TESTS = sorted(p.stem for p in (REPO / "tests" / "c").glob("test_*.c*"))


@pytest.fixture(scope="module")
def built(native_lib):  # building the library builds the test binaries with it
    return REPO / "build" / "host" / "tests"


@pytest.mark.parametrize("name", C_TESTS)
def test_c_unit(built: Path, name: str) -> None:
    exe = built / name
    assert exe.exists(), f"{exe} was not built"
    proc = subprocess.run([str(exe)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0 and "KWS-TEST PASS" in proc.stdout, proc.stdout + proc.stderr
