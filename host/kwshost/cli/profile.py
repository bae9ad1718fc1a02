"""kwshost profile: per-layer cost of a model, on the PC (MVP simulator + cycle model) or
measured on a device over the serial link."""

from __future__ import annotations

import argparse
import json
import struct
import sys

from kwshost.errors import KwsError, LinkError

NAME = "profile"
HELP = "per-layer accelerator/CPU cycles and time of a model (PC cycle model or a device)"
DESCRIPTION = """\
Prints one row per layer in the format of the seed's (MLTK's) profiling report: OPs, MACs,
accelerator cycles, CPU cycles, time at 78 MHz, shapes and options, then the totals.

On the PC (the default) the firmware's own kernels run on the model through the firmware
runtime; with --accelerator mvp the MVP kernels run on the C simulator of the EFR32xG24's MVP,
whose cycle model is calibrated against MLTK 0.20's simulator (bench/mvp shows the per-layer
agreement). Accelerator cycles are the simulator's; CPU cycles are estimates (a fixed cost per
MVP kernel call and per MVP program, per-element costs for CPU layers; see docs/mvp.md). A
layer's time is its accelerator cycles plus the CPU work before its first program (the CPU
builds later programs while the MVP runs), or its CPU cycles for a CPU layer.

With --device, the firmware on a board (or the emulated board) runs one inference with its
per-operator counter and reports each operator's ticks in the device's own unit.

examples:
  kwshost profile                                   # the bundled alexa model, MVP kernels
  kwshost profile my_model.tflite --accelerator none
  kwshost profile --json > profile.json
  kwshost profile --device --port socket://127.0.0.1:4321
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="M.tflite", nargs="?",
                        help="the .tflite model "
                             "(default: models/mltk_keyword_spotting_alexa.tflite)")
    parser.add_argument("--accelerator", "-a", choices=("mvp", "none"), default="mvp",
                        help="mvp: MVP kernels on the simulated MVP (default); none: CPU only")
    parser.add_argument("--device", action="store_true",
                        help="profile on a board running kwshost firmware (needs --port)")
    parser.add_argument("--port", "-p", metavar="URL", help="serial port or socket:// URL")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait (device)")
    parser.add_argument("--json", action="store_true", help="print rows and totals as JSON")


def _si(n: float, unit: str = "") -> str:
    for suffix, div in (("M", 1e6), ("k", 1e3)):
        if abs(n) >= div:
            return f"{n / div:.1f}{suffix}{unit}"
    return f"{n:.0f}{unit}" if unit != "s" else f"{n:.1f}"


def _seconds(s: float) -> str:
    if s == 0:
        return "0"
    if s >= 1:
        return f"{s:.2f}"
    if s >= 1e-3:
        return f"{s * 1e3:.1f}m"
    return f"{s * 1e6:.1f}u"


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape))


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    def fmt(cells: list[str]) -> str:
        return "|" + "|".join(f" {c:<{w}} " for c, w in zip(cells, widths, strict=True)) + "|"
    return "\n".join([line, fmt(headers), line, *(fmt(r) for r in rows), line])


def _pc(args: argparse.Namespace) -> int:
    from kwshost import mvp
    from kwshost.paths import MODELS_DIR

    model = args.model or str(MODELS_DIR / "mltk_keyword_spotting_alexa.tflite")
    rows = mvp.profile(model, accelerator=args.accelerator)
    tot = mvp.totals(rows)
    if args.json:
        print(json.dumps({"model": model, "accelerator": args.accelerator,
                          "clock_hz": mvp.CLOCK_HZ, "totals": tot,
                          "layers": [{"index": r.index, "op": r.name, "kernel": r.kernel,
                                      "ops": r.ops, "macs": r.macs, "acc_cycles": r.acc_cycles,
                                      "cpu_cycles": r.cpu_cycles, "seconds": r.seconds,
                                      "input_shapes": [list(s) for s in r.input_shapes],
                                      "output_shape": list(r.output_shape),
                                      "options": r.options} for r in rows]}, indent=1))
        return 0
    n_mvp = sum(r.on_mvp for r in rows)
    n_acc_ops = sum(1 for r in rows if r.kernel.endswith(("/mvp", "/cpu")))
    print("Profiling Summary")
    print(f" Model: {model}")
    how = "simulated MVP, calibrated cycle model" if args.accelerator == "mvp" \
        else "CPU reference kernels"
    print(f" Accelerator: {args.accelerator} ({how})")
    print(f" Operation Count: {_si(tot['ops'])}")
    print(f" Multiply-Accumulate Count: {_si(tot['macs'])}")
    print(f" Layer Count: {len(rows)}")
    if args.accelerator == "mvp":
        print(f" Layers on the MVP: {n_mvp} (of {n_acc_ops} with an MVP kernel)")
    print(f" Accelerator Cycle Count: {_si(tot['acc_cycles'])}")
    print(f" CPU Cycle Count (estimated): {_si(tot['cpu_cycles'])}")
    print(f" Clock Rate (hz): {_si(mvp.CLOCK_HZ)}")
    print(f" Time (s): {_seconds(tot['seconds'])}")
    print(f" Inference/s: {1 / tot['seconds']:.1f}" if tot["seconds"] else "")
    print()
    print(" Model Layers")
    table = [[str(r.index), r.name, _si(r.ops), _si(r.macs), _si(r.acc_cycles), _si(r.cpu_cycles),
              _seconds(r.seconds), ",".join(_shape(s) for s in r.input_shapes),
              _shape(r.output_shape), r.options] for r in rows]
    print(_table(["Index", "OpCode", "# Ops", "# MACs", "Acc Cycles", "CPU Cycles", "Time (s)",
                  "Input Shape", "Output Shape", "Options"], table))
    return 0


def _device(args: argparse.Namespace) -> int:
    from kwshost.link import Link
    from kwshost.protocol import PROFILE_OP, PROFILE_SUMMARY, PROFILE_UNIT, Msg
    from kwshost.runtime_names import builtin_name

    if not args.port:
        raise KwsError("--device needs --port", hint="kwshost profile --device --port "
                                                     "/dev/ttyACM0 (or the URL `kwshost flash "
                                                     "--target qemu` prints)")
    unit, ops, summary = "", [], None
    with Link(args.port, connect_timeout=args.timeout) as link:
        link.hello(timeout=args.timeout)
        link.send(Msg.PROFILE_REQ)
        while summary is None:
            frame = _next(link, args.timeout)
            if frame.type == Msg.ERROR:
                raise LinkError(f"the device could not profile: "
                                f"{frame.payload[1:].decode(errors='replace')}",
                                hint="is a model flashed? (`kwshost flash`)")
            kind, body = frame.payload[0], frame.payload[1:]
            if kind == PROFILE_UNIT:
                unit = body.decode(errors="replace")
            elif kind == PROFILE_OP:
                op, code, ticks = struct.unpack_from("<HHI", body)
                ops.append((op, builtin_name(code).lower(), ticks))
            elif kind == PROFILE_SUMMARY:
                total, arena, model_len, n_ops = struct.unpack_from("<IIIH", body)
                summary = (total, arena, model_len, n_ops)
    total, arena, model_len, n_ops = summary
    if args.json:
        print(json.dumps({"unit": unit, "total": total, "arena_bytes": arena,
                          "model_bytes": model_len,
                          "layers": [{"index": i, "op": n, "ticks": t} for i, n, t in ops]},
                         indent=1))
        return 0
    print("Profiling Summary (device)")
    print(f" Port: {args.port}")
    print(f" Counter unit: {unit}")
    print(f" Layers: {n_ops}, arena {arena} bytes, model {model_len} bytes")
    print(f" Total: {total} {unit}")
    if unit == "cycles":
        print(f" Time at 78 MHz (s): {_seconds(total / 78e6)}")
    print()
    print(_table(["Index", "OpCode", f"Ticks ({unit})"],
                 [[str(i), n, str(t)] for i, n, t in ops]))
    return 0


def _next(link, timeout: float):
    import time

    from kwshost.protocol import Msg

    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        for frame in link.read_frames(left):
            if frame.type in (Msg.PROFILE, Msg.ERROR):
                return frame
    raise LinkError(f"no profiling report from {link.url} within {timeout:g} s",
                    hint="try a longer --timeout")


def run(args: argparse.Namespace) -> int:
    if args.device:
        return _device(args)
    if args.port:
        print("note: --port is only used with --device", file=sys.stderr)
    return _pc(args)
