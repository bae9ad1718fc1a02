"""Instruction mix of one 10 ms frontend step on the Cortex-M33 (QEMU mps2-an505), and a
cycle estimate derived from it.

QEMU counts instructions, not cycles (-icount shift=0 is one virtual ns per instruction), so
the cost bench (build_and_run.sh) gives instructions per step. This script reads the
instructions themselves: it builds bench.c twice (ROWS=4 and ROWS=12, with nothing but the
rows after start-up), runs each under QEMU with `-d in_asm,exec,nochain` (every translated
block's instructions, then every block executed, in order), counts the executed
instructions by kind and the taken branches, and divides the difference of the two runs by
8 rows, so start-up and the first window cancel out (both images have the same buffers and
signal; only the number of rows differs). Arm publishes no cycle table for the M33, so it
then prices each kind with the Cortex-M3/M4 tables (the same 3-stage single-issue class) as a
range:

  data processing, SIMD (SADD16, SEL...), single-cycle multiplies and MACs  1
  64-bit multiply-accumulate (SMLAL, UMLAL, UMULL...)                         1 .. 2
  LDR/STR of one register                                                     1 .. 2
  LDRD/STRD                                                                   2 .. 3
  PUSH/POP/LDM/STM/VPUSH/VPOP of N registers                                  1 + N
  branch not taken / taken                                                    1 / 2 .. 4
  VFMA 3, VSQRT 14, other FP moves and conversions 1, UDIV/SDIV 2 .. 12

The low end assumes every load pipelines with its neighbour and the branch refill is one
cycle; the high end does not. Flash wait states are left out (code in zero-wait RAM or
cache); they would add to both.

    .venv/bin/python bench/frontend/m33/mix.py [--out DIR]

Needs arm-none-eabi-gcc and qemu-system-arm; takes about 40 s. No peer: the figures are this
frontend's own (bench/frontend/run.py compares it with MLTK's).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
ROWS = (4, 12)
INSN = re.compile(r"^0x([0-9a-f]+):\s+((?:[0-9a-f]{4} ?)+)\s+(\S+)\s*(.*)$")
TRACE = re.compile(r"^Trace \d+: \S+ \[[0-9a-f]+/([0-9a-f]+)/")
CONDS = ("eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt",
         "gt", "le", "al")
# (low, high) cycles per kind
PRICE = {
    "alu": (1, 1), "mul": (1, 1), "mul64": (1, 2), "load": (1, 2), "store": (1, 2),
    "load2": (2, 3), "store2": (2, 3), "branch": (1, 1), "fp": (1, 1), "vfma": (3, 3),
    "vsqrt": (14, 14), "div": (2, 12),
}


def build(rows: int, out: Path) -> Path:
    """build_and_run.sh's image with `rows` rows, buffers for the most, no self-check."""
    flags = f"-DKWS_BENCH_MIX=1 -DROWS={rows} -DROWS_ALLOCATED={ROWS[-1]}"
    done = subprocess.run(["sh", str(HERE / "build_and_run.sh"), "--build-only", str(out)],
                          capture_output=True, text=True, check=True,
                          env={**os.environ, "BENCH_CFLAGS": flags})
    return Path(done.stdout.strip().splitlines()[-1])


def base_mnemonic(m: str) -> tuple[str, bool]:
    """The mnemonic without width suffix and condition (IT blocks), and whether it had one."""
    m = m.lower().split(".")[0] if not m.lower().startswith("v") else m.lower()
    for c in CONDS:  # conditional forms inside IT blocks: addgt, suble, movcs...
        if m.endswith(c) and len(m) > len(c) + 1 and not m.startswith(("b", "cb", "it")):
            stem = m[: -len(c)]
            if stem in ("add", "adds", "sub", "subs", "mov", "movs", "orr", "and", "rsb", "usat",
                        "mvn", "neg", "ldr", "str", "lsl", "lsr", "asr"):
                return stem, True
    return m, False


def n_regs(ops: str) -> int:
    regs = ops[ops.find("{") + 1: ops.find("}")]
    n = 0
    for part in regs.split(","):
        part = part.strip()
        if "-" in part:
            a, b = part.split("-")
            n += int(re.sub(r"\D", "", b)) - int(re.sub(r"\D", "", a)) + 1
        elif part:
            n += 1
    return n


def kind(mnem: str, ops: str) -> tuple[str, int]:
    """(kind, extra cycles) of one instruction; push/pop-style ones cost 1 + N."""
    m, _ = base_mnemonic(mnem)
    if m.startswith("v"):
        v = m.split(".")[0]
        if v == "vsqrt":
            return "vsqrt", 0
        if v in ("vfma", "vfms", "vmla", "vmls", "vfnma", "vfnms"):
            return "vfma", 0
        if v in ("vpush", "vpop", "vldm", "vstm"):
            return "fp", n_regs(ops)
        if v == "vldr":
            return "load", 0
        if v == "vstr":
            return "store", 0
        return "fp", 0
    if m in ("push", "pop", "ldm", "ldmia", "stm", "stmia", "stmdb", "ldmdb"):
        return ("load" if m.startswith(("pop", "ldm")) else "store"), n_regs(ops)
    if m in ("ldrd",):
        return "load2", 0
    if m in ("strd",):
        return "store2", 0
    if m.startswith("ldr"):
        return "load", 0
    if m.startswith("str"):
        return "store", 0
    if m in ("udiv", "sdiv"):
        return "div", 0
    if m in ("umull", "smull", "umlal", "smlal", "smlald", "smlaldx", "smlsld", "umaal") or \
            m.startswith(("smlalbb", "smlalbt", "smlaltb", "smlaltt")):
        return "mul64", 0
    if m.startswith(("mul", "mla", "mls", "smul", "smla", "smua", "smus", "smls", "smmul",
                     "smmla", "smmls", "smlad", "smlsd")):
        return "mul", 0
    if m in ("b", "bl", "blx", "bx", "cbz", "cbnz") or (m.startswith("b") and m[1:] in CONDS):
        return "branch", 0
    return "alu", 0


def is_branch(mnem: str, ops: str) -> bool:
    m, _ = base_mnemonic(mnem)
    if m in ("b", "bl", "blx", "bx", "cbz", "cbnz") or (m.startswith("b") and m[1:] in CONDS):
        return True
    return (m in ("pop", "ldm", "ldmia") and "pc" in ops) or (m.startswith("ldr") and
                                                               ops.startswith("pc"))


def run(elf: Path) -> tuple[Counter, Counter, int]:
    """Executed instructions by kind, extra (1 + N) cycles by kind, taken branches."""
    blocks: dict[int, list[tuple[int, int, str, str]]] = {}
    counts: Counter = Counter()
    extra: Counter = Counter()
    taken = 0
    with tempfile.TemporaryDirectory() as tmp:
        fifo = Path(tmp) / "log"
        os.mkfifo(fifo)
        cmd = ["qemu-system-arm", "-M", "mps2-an505", "-cpu", "cortex-m33", "-nographic",
               "-monitor", "none", "-serial", "none",
               "-semihosting-config", "enable=on,target=native", "-kernel", str(elf),
               "-d", "in_asm,exec,nochain", "-D", str(fifo)]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        output: list[bytes] = []
        reader = threading.Thread(target=lambda: output.append(proc.stdout.read()))
        reader.start()
        current: list[tuple[int, int, str, str]] | None = None
        start = 0
        pending_end: tuple[int, bool] | None = None  # (fall-through pc, ends in a branch)
        with open(fifo) as log:
            for line in log:
                if line.startswith("IN:"):
                    current = []
                    continue
                mi = INSN.match(line)
                if mi and current is not None:
                    addr = int(mi.group(1), 16)
                    size = 2 * len(mi.group(2).split())
                    if not current:
                        start = addr
                        blocks[start] = current
                    current.append((addr, size, mi.group(3), mi.group(4)))
                    continue
                mt = TRACE.match(line)
                if mt:
                    current = None
                    pc = int(mt.group(1), 16)
                    if pending_end is not None and pending_end[1] and pc != pending_end[0]:
                        taken += 1
                    block = blocks.get(pc, [])
                    for _, _, mnem, ops in block:
                        k, n = kind(mnem, ops)
                        counts[k] += 1
                        extra[k] += n
                    if block:
                        a, sz, mnem, ops = block[-1]
                        pending_end = (a + sz, is_branch(mnem, ops))
                    else:
                        pending_end = None
        proc.wait()
        reader.join()
    if proc.returncode != 0:
        sys.exit(f"QEMU failed: {b''.join(output).decode(errors='replace')}")
    return counts, extra, taken


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=REPO / "build" / "bench_frontend_m33",
                    help="where the two images are built (default build/bench_frontend_m33)")
    args = ap.parse_args()
    missing = [t for t in ("arm-none-eabi-gcc", "qemu-system-arm") if not shutil.which(t)]
    if missing:
        print(f"{' and '.join(missing)} not installed: nothing measured "
              "(scripts/bootstrap installs them)")
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    (c0, e0, t0), (c1, e1, t1) = (run(build(r, args.out)) for r in ROWS)
    rows = ROWS[1] - ROWS[0]
    per = {k: (c1[k] - c0[k]) / rows for k in set(c0) | set(c1)}
    ext = {k: (e1[k] - e0[k]) / rows for k in set(e0) | set(e1)}
    taken = (t1 - t0) / rows
    total = sum(per.values())
    print(f"instructions per 10 ms step: {total:.0f} (rows {ROWS[0]} and {ROWS[1]}, difference)")
    for k in sorted(per, key=lambda k: -per[k]):
        more = f" (+{ext[k]:.0f} for multiple registers)" if ext.get(k) else ""
        print(f"  {k:7} {per[k]:8.0f}{more}")
    print(f"  taken branches {taken:.0f} of {per.get('branch', 0):.0f} branch instructions "
          "(and returns by POP/LDR pc)")
    low = sum(per[k] * PRICE[k][0] + ext.get(k, 0) for k in per) + taken * 1
    high = sum(per[k] * PRICE[k][1] + ext.get(k, 0) for k in per) + taken * 3
    print(f"cycle estimate: {low:.0f} .. {high:.0f} per step = "
          f"{low / 780000 * 100:.2f}% .. {high / 780000 * 100:.2f}% of a 78 MHz core")
    return 0


if __name__ == "__main__":
    sys.exit(main())
