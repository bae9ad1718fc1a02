"""The CPU's side of the MVP kernels, measured: instructions counted on QEMU's Cortex-M33, put
on a timeline with the MVP cycles of every program from the host simulator.

bench/mvp/m33/bench_main.c runs the firmware's runtime and MVP kernels on QEMU mps2-an505 with
a register image that executes nothing (KWS_MVP_PORT_NULL): every instruction counted is the
CPU's (runtime, kernel calls, program building and register writes, the CPU's share of split
convolutions, CPU-only layers). The driver's trace hook and the runtime's operator hook read the
timer at each hand-off. QEMU runs with -icount shift=SHIFT: 2^SHIFT virtual ns per instruction,
the timer ticks every 50 ns, so instructions = ticks * 50 / 2^SHIFT (to within one).

QEMU counts instructions, not cycles. Cycles are estimated as instructions x CPI, with CPI
stated by the caller (see docs/mvp.md for the default and why); memory contention between the
CPU and the MVP is not modelled.

The timeline: the CPU runs its measured instructions between hand-offs; a program starts when
the CPU starts it (after its register writes) and runs for the simulator's cycles; a wait ends
when the running program ends. An operator's time is from its B event to its A event (the
kernels wait for their last program before returning).

    .venv/bin/python bench/mvp/m33.py [--cpi 1.25]

Needs arm-none-eabi-gcc and qemu-system-arm; builds under build/bench_mvp_m33 (objects cached)
and then takes a second or two (the first build up to a minute on 2 cores). No peer here:
bench/mvp/run.py puts these figures beside MLTK's simulator and the seed's device table.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "host"))

MODEL = REPO / "models" / "mltk_keyword_spotting_alexa.tflite"
OUT = REPO / "build" / "bench_mvp_m33"
SHIFT = 6          # -icount shift: 64 virtual ns per instruction
TICK_NS = 50       # CMSDK timer at 20 MHz
CPU_FLAGS = ["-mcpu=cortex-m33", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-sp-d16"]


def available() -> bool:
    return bool(shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm"))


def _sources() -> list[Path]:
    fw = REPO / "firmware"
    srcs = [fw / "common" / "kws_status.c", fw / "common" / "model_image.c"]
    for module in ("runtime", "kernels"):
        for p in sorted((fw / module).rglob("*")):
            if p.suffix in (".c", ".cc") and "host" not in p.relative_to(fw).parts:
                srcs.append(p)
    srcs += sorted(p for p in (fw / "mvp").glob("*.c"))  # not sim/: the null port runs nothing
    srcs += [fw / "platform" / "qemu" / "startup.c", fw / "platform" / "qemu" / "platform_qemu.c",
             REPO / "bench" / "mvp" / "m33" / "bench_main.c"]
    return srcs


def build(split: tuple[int, int, int], out: Path = OUT) -> Path:
    """Builds the bench ELF (objects cached by modification time); split: the CPU share's
    (cycles per MAC x16, per output, reserve) for the second inference."""
    out.mkdir(parents=True, exist_ok=True)
    defs = [f"-DBENCH_CPU_MAC_X16={split[0]}", f"-DBENCH_CPU_PER_OUTPUT={split[1]}",
            f"-DBENCH_CPU_RESERVE={split[2]}"]
    flags = CPU_FLAGS + ["-O2", "-g", "-fwrapv", "-ffunction-sections", "-fdata-sections",
                         "-ffreestanding", "-fno-common", "-Wall", "-Wextra", "-Werror",
                         "-DKWS_PLATFORM_QEMU=1", "-DKWS_MVP_PORT_NULL=1",
                         "-Ifirmware", "-Ifirmware/common", "-Ifirmware/platform",
                         "-Ifirmware/platform/qemu", "-Itests/c"]
    asm = out / "model.S"
    asm.write_text('.section .rodata.bench_model,"a"\n.balign 16\n.global bench_model\n'
                   f'bench_model:\n.incbin "{MODEL}"\n.global bench_model_end\nbench_model_end:\n')
    jobs: list[tuple[list[str], Path]] = []
    objs = []
    stamp = out / "defines.txt"
    changed = not stamp.exists() or stamp.read_text() != " ".join(defs)
    for src in _sources() + [asm]:
        obj = out / (src.relative_to(REPO).as_posix().replace("/", "_") + ".o"
                     if src != asm else "model.o")
        objs.append(str(obj))
        deps = [src, *(REPO / "firmware").rglob("*.h"), *(REPO / "tests" / "c").glob("*.h")]
        if obj.exists() and not (changed and src.name == "bench_main.c") and \
                obj.stat().st_mtime >= max(d.stat().st_mtime for d in deps):
            continue
        if src.suffix == ".cc":
            cc = ["arm-none-eabi-g++", "-std=c++17", "-fno-exceptions", "-fno-rtti",
                  "-fno-threadsafe-statics"]
        else:
            cc = ["arm-none-eabi-gcc"] + (["-std=c11"] if src.suffix == ".c" else [])
        jobs.append((cc + flags + defs + ["-c", str(src), "-o", str(obj)], obj))
    running: list[subprocess.Popen] = []
    for cmd, _ in jobs:  # two at a time: the machine is shared
        if len(running) == 2:
            running.pop(0).wait()
        running.append(subprocess.Popen(cmd, cwd=REPO))
    for p in running:
        p.wait()
    for cmd, obj in jobs:
        if not obj.exists():
            raise RuntimeError("compile failed: " + " ".join(cmd))
    stamp.write_text(" ".join(defs))
    elf = out / "bench_mvp_m33.elf"
    subprocess.run(["arm-none-eabi-g++", *CPU_FLAGS, "-nostartfiles", "--specs=nano.specs",
                    "-Tfirmware/platform/qemu/linker.ld", "-Wl,--gc-sections", *objs,
                    "-lm", "-lc", "-lgcc", "-o", str(elf)], cwd=REPO, check=True)
    return elf


@dataclass
class QemuRun:
    check_mismatches: int
    trace_instr: float                    # instructions of one trace call (subtracted)
    arena: int = 0                        # arena bytes the runtime needed (last run)
    events: dict[int, list[tuple[str, int, float]]] = field(default_factory=dict)
    status: dict[int, int] = field(default_factory=dict)


def run_qemu(elf: Path, timeout: float = 600) -> QemuRun:
    proc = subprocess.run(["qemu-system-arm", "-M", "mps2-an505", "-cpu", "cortex-m33",
                           "-nographic", "-monitor", "none", "-icount", f"shift={SHIFT}",
                           "-semihosting-config", "enable=on,target=native", "-serial", "stdio",
                           "-kernel", str(elf)], capture_output=True, text=True, timeout=timeout)
    per_tick = TICK_NS / 2 ** SHIFT
    run = QemuRun(check_mismatches=-1, trace_instr=0.0)
    current = -1
    for line in proc.stdout.splitlines():
        f = line.split()
        if not f:
            continue
        if f[0] == "check":
            run.check_mismatches = int(f[1])
        elif f[0] == "arena":
            run.arena = int(f[1])
        elif f[0] == "calib":
            run.trace_instr = int(f[1]) * per_tick / 64
        elif f[0] == "run":
            current = int(f[1])
            run.events[current] = []
        elif f[0] == "end":
            run.status[current] = int(f[1])
        elif f[0] in ("B", "A", "W", "S") and current >= 0:
            run.events[current].append((f[0], int(f[1]), int(f[2]) * per_tick))
    if proc.returncode != 0 or run.check_mismatches < 0 or len(run.status) != 3:
        raise RuntimeError(f"QEMU bench failed (rc {proc.returncode}):\n{proc.stdout[-2000:]}"
                           f"\n{proc.stderr[-2000:]}")
    return run


def host_program_cycles(split: tuple[int, int, int] | None,
                        x=None) -> tuple[list[int], list[int]]:
    """MVP cycles of every program of one inference on the host simulator, in order, and the
    number of programs per operator, with the same split as the QEMU run (None: no share)."""
    import numpy as np
    from kwshost import mvp
    from kwshost.runtime import Interpreter

    lib = mvp._lib()
    with mvp.cpu_share_split(split or mvp.NO_CPU_SHARE):
        it = Interpreter(MODEL, accelerator="mvp")
    if x is None:
        d = it.input_details[0]
        x = np.zeros(d.shape, dtype=d.dtype)
    mvp.reset()
    lib.kws_mvp_api_program_log_start()
    it.invoke(x)
    n = lib.kws_mvp_api_program_log(None, 0)
    buf = (ctypes.c_uint32 * max(n, 1))()
    lib.kws_mvp_api_program_log(buf, n)
    per_op = []
    for op in it.ops:
        cyc, progs, on = ctypes.c_uint32(), ctypes.c_uint32(), ctypes.c_uint8()
        macs = ctypes.c_uint32()
        lib.kws_mvp_api_op_stats(op.index, ctypes.byref(cyc), ctypes.byref(progs),
                                 ctypes.byref(on), ctypes.byref(macs))
        per_op.append(int(progs.value))
    return list(buf[:n]), per_op


@dataclass
class OpTime:
    op: int
    cpu_instr: float     # CPU instructions since the previous operator's end (measured)
    acc_cycles: int      # MVP cycles of its programs (simulator)
    cycles: float        # its share of the timeline: from when the previous operator was done
    #                      (CPU returned and its programs ended) to when this one is
    programs: int


def timeline(events: list[tuple[str, int, float]], trace_instr: float, prog_cycles: list[int],
             cpi: float) -> tuple[list[OpTime], float, float]:
    """Returns per-operator times, the total (cycles) and the CPU's total instructions.
    The CPU's work between operators (the runtime) counts for the next operator."""
    t = 0.0            # CPU time, cycles
    mvp_free = 0.0     # when the running program ends
    last = events[0][2] if events else 0.0
    j = 0
    ops: dict[int, OpTime] = {}
    cpu_total = 0.0
    done = 0.0         # when the previous operator was done
    ends: dict[int, float] = {}  # per operator: when its last program ends
    for kind, op, stamp in events:
        d = max(stamp - last - trace_instr, 0.0)  # instructions since the last hand-off
        last = stamp
        cpu_total += d
        t += d * cpi
        o = ops.setdefault(op, OpTime(op, 0.0, 0, 0.0, 0))
        o.cpu_instr += d
        if kind == "W":
            t = max(t, mvp_free)
        elif kind == "S":
            if j >= len(prog_cycles):
                raise RuntimeError("QEMU started more programs than the host simulator ran")
            mvp_free = t + prog_cycles[j]
            ends[op] = mvp_free
            o.acc_cycles += prog_cycles[j]
            o.programs += 1
            j += 1
        elif kind == "A":
            end = max(t, ends.get(op, t))
            o.cycles = end - done
            done = end
    if j != len(prog_cycles):
        raise RuntimeError(f"program counts differ: QEMU {j}, host {len(prog_cycles)}")
    return [ops[k] for k in sorted(ops)], max(t, mvp_free), cpu_total


@dataclass
class Measured:
    ops: list[OpTime]
    cycles: float
    cpu_instr: float
    acc_cycles: int
    between_ops: float  # CPU instructions of the runtime between operators (A to next B)
    arena: int = 0      # arena bytes the runtime needed on the M33 (with the CPU share)


def measure(split: tuple[int, int, int], cpis: tuple[float, ...]
            ) -> tuple[dict[tuple[int, float], Measured], int]:
    """Runs the QEMU bench and the host simulator; returns {(run, cpi): ...} for run 0 (MVP
    alone), 1 (with the CPU share), both the second inference after allocation (the steady
    state), and 2 (with the CPU share, the first inference: the kernels build the programs they
    keep), and the CPU-share check's mismatch count on the M33."""
    elf = build(split)
    run = run_qemu(elf)
    out = {}
    for share in (0, 1, 2):
        if run.status[share] != 0:
            raise RuntimeError(f"inference {share} on QEMU failed: status {run.status[share]}")
        progs, _ = host_program_cycles(split if share else None)  # the same programs warm or cold
        ev = run.events[share]
        between = sum(b[2] - a[2] - run.trace_instr for a, b in zip(ev, ev[1:], strict=False)
                      if a[0] == "A" and b[0] == "B")
        for cpi in cpis:
            ops, total, cpu = timeline(ev, run.trace_instr, progs, cpi)
            out[share, cpi] = Measured(ops, total, cpu, sum(progs), between, run.arena)
    return out, run.check_mismatches


def main() -> int:
    import argparse

    from kwshost import mvp

    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cpi", type=float, default=mvp.M33_CPI,
                    help=f"cycles per counted instruction (default {mvp.M33_CPI})")
    args = ap.parse_args()
    if not available():
        print("needs arm-none-eabi-gcc and qemu-system-arm")
        return 1
    res, bad = measure(mvp.CPU_SHARE_SPLIT, (args.cpi,))
    print(f"CPU share bit-exact on the M33: {'yes' if bad == 0 else f'NO ({bad} mismatches)'}")
    for (share, _), m in res.items():
        name = ("MVP alone", "with the CPU share", "with the CPU share, first inference")[share]
        print(f"{name}: {m.acc_cycles} MVP cycles, "
              f"{m.cpu_instr:.0f} CPU instructions, total {m.cycles:.0f} cycles = "
              f"{m.cycles / mvp.CLOCK_HZ * 1e3:.2f} ms at 78 MHz (CPI {args.cpi})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
