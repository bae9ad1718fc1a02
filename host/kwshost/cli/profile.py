"""kwshost profile: per-layer cost of a model, on the PC (MVP simulator + cycle model) or
measured on a device over the serial link."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from kwshost.cli._args import add_board_or_pc, on_board, seconds
from kwshost.errors import KwsError
from kwshost.paths import DEFAULT_MODEL

NAME = "profile"
HELLO_TIMEOUT = 5.0     # s for the board's first answer without --timeout
PROFILE_TIMEOUT = 30.0  # s for its profile (one inference with per-op counters) without it
HELP = "per-layer accelerator/CPU cycles and time of a model (PC cycle model or a device)"
DESCRIPTION = """\
Per-operator cost of one inference, in the seed's (MLTK's) table format: OPs, MACs,
accelerator cycles, CPU cycles, time at 78 MHz, shapes and options, then the totals.

On the PC (--pc, the default without --port) the firmware's own kernels run the model through
the firmware runtime; with --accelerator mvp the MVP kernels run on the C simulator of the
EFR32xG24's MVP, whose cycle model is calibrated against MLTK 0.20's simulator (bench/mvp
shows the per-layer agreement). Accelerator cycles are the simulator's; CPU cycles are
estimates (a fixed cost per MVP kernel call and per MVP program, per-element costs for CPU
layers; see docs/mvp.md). A layer's time is its accelerator cycles plus the CPU work before
its first program (the CPU builds later programs while the MVP runs), or its CPU cycles for a
CPU layer.

--device (implied by --port, as for `listen`) measures on a board running kwshost firmware:
the runtime's per-op hook reads the board's counter. On the BRD2601B that is the DWT cycle
counter (CPU cycles at 78 MHz). On the emulated board it is virtual time under QEMU's -icount
(one tick per 50 instructions): the table says "instructions", which are not cycles and have
no time on a real part. --model names the .tflite flashed on the device (for the op details).
--timeout bounds both the wait for the board's first answer and for the profile.

examples:
  kwshost profile                                   # the bundled alexa model, MVP kernels
  kwshost profile my_model.tflite --accelerator none
  kwshost profile --json > profile.json
  kwshost profile --device --port socket://127.0.0.1:4321
  kwshost profile --port /dev/ttyACM0 --model models/my_model.tflite --json
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model_arg", nargs="?", type=Path, metavar="M.tflite",
                        help=f"the .tflite model (default: {DEFAULT_MODEL.name})")
    parser.add_argument("--model", "-m", type=Path, default=None, metavar="M",
                        help="the same, as an option (for --device: the model flashed)")
    parser.add_argument("--accelerator", "-a", choices=("mvp", "none"), default=None,
                        help="PC: mvp = MVP kernels on the simulated MVP (default); "
                             "none = CPU reference kernels only (a board runs the kernels "
                             "its firmware was built with)")
    parser.add_argument("--cpu-share", action=argparse.BooleanOptionalAction, default=True,
                        help="PC, mvp: the CPU computes some output channels of each "
                             "convolution while the MVP computes the rest, as the firmware "
                             "does by default (--no-cpu-share: the MVP alone)")
    add_board_or_pc(parser, "profile", "measure")
    parser.add_argument("--timeout", type=seconds, default=None, metavar="S",
                        help=f"seconds to wait for the board's answer and for its profile "
                             f"(default {HELLO_TIMEOUT:g} for the answer, {PROFILE_TIMEOUT:g} "
                             "for the profile)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    if on_board(args, accelerator_chosen=args.accelerator is not None):
        return _run_device(args)
    args.accelerator = args.accelerator or "mvp"
    return _pc(args)


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

    model = str(args.model or args.model_arg or DEFAULT_MODEL)
    rows = mvp.profile(model, accelerator=args.accelerator,
                       cpu_share=args.cpu_share and args.accelerator == "mvp")
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



def _run_device(args: argparse.Namespace) -> int:
    from kwshost.device_profile import CPU_HZ, profile_rows, request_profile
    from kwshost.link import Link, flash_command
    from kwshost.model_file import read_model

    if not args.port:
        raise KwsError("--device needs --port", hint="the URL `kwshost flash --target qemu` "
                                                     "prints, or /dev/ttyACM0")
    model = args.model or args.model_arg or DEFAULT_MODEL
    # before the board is asked for minutes of profiling
    data = read_model(model, hint="--model names the .tflite the board runs")
    # --timeout for both waits when given (a board that boots slowly, or a dead port one
    # wants to give up on at once); otherwise a quick answer, a profile that may take a while
    answer = HELLO_TIMEOUT if args.timeout is None else args.timeout
    with Link(args.port, connect_timeout=answer) as link:
        hello = link.hello(timeout=answer)
        hello.check_protocol(args.port)
        banner = hello.banner
        hello.check_model(args.port, Path(model))
        prof = request_profile(link, timeout=PROFILE_TIMEOUT if args.timeout is None
                               else args.timeout)
    rows = profile_rows(prof, model)
    size = len(data)  # as flashed: with a microWakeWord manifest's settings where it had one
    if prof.model_bytes != size or prof.n_ops != len(rows):
        # The device's counts are joined to this model's operators by index: another model
        # would give a table of the wrong operators.
        raise KwsError(f"the board runs another model ({prof.model_bytes:,} bytes, "
                       f"{prof.n_ops} operators) than {model} ({size:,} bytes, {len(rows)} "
                       "operators)", hint=f"pass the model the board runs, or flash this one: "
                                          f"{flash_command(args.port, model)}")
    ops_total = prof.measure(prof.total_ticks)
    # The whole inference (operators + interpreter between them) when the firmware times it.
    total = prof.measure(prof.invoke_ticks) if prof.invoke_ticks else ops_total
    summary = {"device": banner, "unit": prof.measure_name, "total": total,
               "operators_total": ops_total, "operators": prof.n_ops,
               "arena_bytes": prof.arena_bytes, "model_flash_bytes": prof.model_bytes}
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
    print(f"operators: {ops_total} {prof.measure_name} for {prof.n_ops} operators")
    if prof.invoke_ticks:
        print(f"total: {total} {prof.measure_name} for one inference (interpreter between "
              f"operators: {total - ops_total}, {(total - ops_total) / max(total, 1):.1%})")
    if prof.is_cycles:
        print(f"inference: {summary['inference_ms']:.1f} ms at 78 MHz, "
              f"{summary['inferences_per_s']:.1f} inferences/s")
    else:
        print("QEMU counts instructions in virtual time, not cycles: no time on a real part")
    print(f"RAM (arena): {prof.arena_bytes} B; flash (model): {prof.model_bytes} B")
    return 0
