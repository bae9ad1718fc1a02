"""The frontend built for the Cortex-M33 (packed DSP arithmetic) computes the same rows as
on the PC: the QEMU bench image (bench/frontend/m33) prints a checksum of every value of 400
rows of a deterministic signal, recomputed here with the host library; the per-stage build
of the same bench computes the same rows. The image also runs the M33's filterbank
(assembly) on crafted spectra - sums past 2^46, negative energies, sums just below 2^32 -
against the plain loop and prints how many channels differ."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from kwshost import frontend

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "bench" / "frontend" / "m33" / "build_and_run.sh"


def bench_audio() -> np.ndarray:
    """The signal of bench.c: a triangle tone plus LCG noise."""
    n = 480 + 400 * 160
    out = np.empty(n, dtype=np.int16)
    seed, phase = 12345, 0
    for i in range(n):
        seed = (seed * 1664525 + 1013904223) & 0xFFFFFFFF
        phase += 2200
        tri = (phase & 0x7FFF) if (phase & 0x8000) else 0x7FFF - (phase & 0x7FFF)
        out[i] = (tri - 16384) // 2 if tri >= 16384 else -((16384 - tri) // 2)
        out[i] = int(out[i]) + ((seed >> 16) & 0x1FFF) - 4096
    return out


def run_bench(tmp_path: Path, *flags: str) -> re.Match:
    run = subprocess.run(["sh", str(SCRIPT), *flags, str(tmp_path)], capture_output=True,
                         text=True, timeout=300)
    m = re.search(r"rows=(\d+) ticks=(\d+) checksum=(\d+) filterbank_mismatches=(\d+)",
                  run.stdout + run.stderr)
    assert m, run.stdout + run.stderr
    return m


@pytest.mark.parametrize("flags", [(), ("--stages",)], ids=["whole", "stages"])
def test_m33_build_matches_host(native_lib, tmp_path, flags) -> None:
    if not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")):
        pytest.skip("arm-none-eabi-gcc or qemu-system-arm not installed")
    m = run_bench(tmp_path, *flags)
    audio = bench_audio()
    fe = frontend.Frontend()
    fe.process(audio[:480])
    rows = fe.process(audio[480:])
    assert rows.shape[0] == int(m.group(1))
    checksum = 0
    for value in rows.astype(np.int64).ravel():
        checksum = (checksum * 31 + int(value)) & 0xFFFFFFFF
    assert checksum == int(m.group(3))
    assert int(m.group(4)) == 0
