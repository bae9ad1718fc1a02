"""The Cortex-M33 DSP kernels (firmware/kernels/arm/) on QEMU: bit-identical to the portable
ones. Builds tests/qemu/test_kernels_dsp.c with the kernels and the QEMU platform code into
its own ELF (build/qemu-kernel-tests/), with multipliers recomputed and cached, and runs it on
mps2-an505; the ELF's exit code is its failure count."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "build" / "qemu-kernel-tests"
CPU = ["-mcpu=cortex-m33", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-sp-d16"]
FLAGS = CPU + ["-ffreestanding", "-O2", "-Wall", "-Wextra", "-Werror", "-ffunction-sections",
               "-fdata-sections", "-Ifirmware", "-Ifirmware/common", "-Ifirmware/platform",
               "-Ifirmware/platform/qemu"]


def _build(defines: list[str]) -> Path:
    sources = [REPO / "firmware/platform/qemu/startup.c",
               REPO / "firmware/platform/qemu/platform_qemu.c",
               REPO / "tests/qemu/test_kernels_dsp.c", REPO / "firmware/common/kws_status.c"]
    sources += sorted((REPO / "firmware/kernels").glob("*.c"))
    sources += sorted((REPO / "firmware/kernels").glob("*.cc"))
    out = OUT / ("cached" if defines else "default")
    out.mkdir(parents=True, exist_ok=True)
    objs = []
    for src in sources:
        obj = out / (src.relative_to(REPO).as_posix().replace("/", "_") + ".o")
        if src.suffix == ".cc":
            cmd = ["arm-none-eabi-g++", "-std=c++17", "-fno-exceptions", "-fno-rtti",
                   "-fno-threadsafe-statics"]
        else:
            cmd = ["arm-none-eabi-gcc", "-std=c11"]
        subprocess.run(cmd + FLAGS + defines + ["-c", str(src), "-o", str(obj)], cwd=REPO,
                       check=True)
        objs.append(str(obj))
    elf = out / "test_kernels_dsp.elf"
    subprocess.run(["arm-none-eabi-g++", *CPU, "-nostartfiles", "--specs=nano.specs",
                    "-Tfirmware/platform/qemu/linker.ld", "-Wl,--gc-sections", *objs,
                    "-lm", "-lc", "-lgcc", "-o", str(elf)], cwd=REPO, check=True)
    return elf


@pytest.mark.slow
@pytest.mark.parametrize("cache", [False, True], ids=["recompute", "cached-multipliers"])
def test_dsp_kernels_match_portable_on_qemu(cache: bool) -> None:
    if not shutil.which("arm-none-eabi-gcc") or not shutil.which("qemu-system-arm"):
        pytest.skip("needs gcc-arm-none-eabi and qemu-system-arm (./scripts/bootstrap)")
    elf = _build(["-DKWS_KERNELS_CACHE_MULTIPLIERS=1"] if cache else [])
    proc = subprocess.run(["qemu-system-arm", "-M", "mps2-an505", "-nographic", "-monitor", "none",
                           "-semihosting-config", "enable=on,target=native", "-serial", "stdio",
                           "-kernel", str(elf)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "KWS-TEST PASS" in proc.stdout, proc.stdout + proc.stderr
