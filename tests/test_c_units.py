"""Runs every C unit-test binary built by `scons target=host` (tests/c/test_*.c[c])."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
C_TESTS = sorted(p.stem for p in (REPO / "tests" / "c").glob("test_*.c*"))


@pytest.fixture(scope="module")
def built() -> Path:
    proc = subprocess.run([sys.executable, "-m", "SCons", "-Q", "-j2", "target=host"], cwd=REPO,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return REPO / "build" / "host" / "tests"


@pytest.mark.parametrize("name", C_TESTS)
def test_c_unit(built: Path, name: str) -> None:
    exe = built / name
    assert exe.exists(), f"{exe} was not built"
    proc = subprocess.run([str(exe)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0 and "KWS-TEST PASS" in proc.stdout, proc.stdout + proc.stderr
