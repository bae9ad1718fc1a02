"""kwshost profile: per-layer cost of a model on the PC (cycle model) or measured on a device."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from kwshost.cli._stub import not_yet
from kwshost.errors import KwsError
from kwshost.paths import MODELS_DIR

NAME = "profile"
HELP = "per-layer cost of a model on the PC (cycle model) or measured on a device"
DESCRIPTION = """\
Per-operator cost of one inference, in the seed's table format (index, op, OPs, MACs, cost,
time, input/output shapes, options) and a summary (inference time, inferences/s, RAM, flash).

--device measures on a board running kwshost firmware: the runtime's per-op hook reads the
board's counter. On the BRD2601B that is the DWT cycle counter (CPU cycles at 78 MHz). On
the emulated board it is virtual time under QEMU's -icount (one tick per 50 instructions):
the table says "instructions", which are not cycles and have no time on a real part.
--model names the .tflite flashed on the device (for the op details).

examples:
  kwshost profile --device --port socket://127.0.0.1:4321
  kwshost profile --device --port /dev/ttyACM0 --model models/my_model.tflite --json
"""

DEFAULT_MODEL = MODELS_DIR / "mltk_keyword_spotting_alexa.tflite"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model_arg", nargs="?", type=Path, metavar="MODEL", help=argparse.SUPPRESS)
    parser.add_argument("--model", "-m", type=Path, default=None, metavar="M",
                        help=f"the .tflite (default: {DEFAULT_MODEL.name})")
    parser.add_argument("--device", action="store_true", help="measure on a device")
    parser.add_argument("--port", "-p", metavar="URL", help="the device's serial port or URL")
    parser.add_argument("--timeout", type=float, default=30.0, metavar="S",
                        help="seconds to wait for the profile (default %(default)s)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    if not args.device:
        return not_yet(NAME + " (PC cycle model)", 6)
    return _run_device(args)


def _run_device(args: argparse.Namespace) -> int:
    from kwshost.device_profile import CPU_HZ, profile_rows, request_profile
    from kwshost.link import Link

    if not args.port:
        raise KwsError("--device needs --port", hint="the URL `kwshost flash --target qemu` "
                                                     "prints, or /dev/ttyACM0")
    model = args.model or args.model_arg or DEFAULT_MODEL
    with Link(args.port, connect_timeout=5) as link:
        banner = link.hello(timeout=5).banner
        prof = request_profile(link, timeout=args.timeout)
    rows = profile_rows(prof, model)
    total = prof.measure(prof.total_ticks)
    summary = {"device": banner, "unit": prof.measure_name, "total": total,
               "operators": prof.n_ops, "arena_bytes": prof.arena_bytes,
               "model_flash_bytes": prof.model_bytes}
    if prof.is_cycles:
        summary["inference_ms"] = total / CPU_HZ * 1000
        summary["inferences_per_s"] = CPU_HZ / total if total else None
    if args.json:
        print(json.dumps({"summary": summary, "layers": rows}))
        return 0
    measure = "cycles" if prof.is_cycles else "instr"
    print(f"device: {banner}")
    print(f"{'#':>3} {'op':<18} {'OPs':>10} {'MACs':>10} {measure:>12} {'time':>9}  "
          f"input -> output  options")
    for r in rows:
        t = f"{r['time_ms']:.3f}ms" if r["time_ms"] is not None else "-"
        ins = ",".join("x".join(map(str, s)) for s in r["inputs"] if s is not None)
        outs = ",".join("x".join(map(str, s)) for s in r["outputs"])
        opts = " ".join(f"{k}={v}" for k, v in r["options"].items())
        print(f"{r['index']:>3} {r['op']:<18} {r['ops']:>10} {r['macs']:>10} "
              f"{r['measure']:>12} {t:>9}  {ins} -> {outs}  {opts}")
    print(f"total: {total} {prof.measure_name} for {prof.n_ops} operators")
    if prof.is_cycles:
        print(f"inference: {summary['inference_ms']:.1f} ms at 78 MHz, "
              f"{summary['inferences_per_s']:.1f} inferences/s")
    else:
        print("QEMU counts instructions in virtual time, not cycles: no time on a real part")
    print(f"RAM (arena): {prof.arena_bytes} B; flash (model): {prof.model_bytes} B")
    return 0
