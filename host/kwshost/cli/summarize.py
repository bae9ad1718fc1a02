"""kwshost summarize: per-operator table and totals (MACs, RAM, flash, metadata) of a model."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kwshost.model_stats import OpCount
    from kwshost.runtime import Interpreter, OpDetails

NAME = "summarize"
HELP = "per-operator table and totals (MACs, RAM, flash, metadata) of a .tflite model"
DESCRIPTION = """\
Loads a .tflite model into the firmware's runtime (so every operator it lists is one the
device can run) and prints:
  - one row per operator: its type, input and output shapes and types, options
    (padding, strides, fused activation, ...), MACs and OPs;
  - totals: MACs and OPs (counted the way MLTK's summary counts them), the RAM the runtime
    needs (the planned arena plus the interpreter's own state), the model's flash size;
  - the model's parameters (MLTK's SL_PARAMSv1 metadata: classes, fe.* frontend settings,
    detector settings), which the firmware reads from the model itself.
A streaming model (microWakeWord's) keeps its state in resource variables and has an init
subgraph its CALL_ONCE operator runs once; the table shows subgraph 0, the graph that runs
at every invoke, and a line says what the other subgraphs are.
Any other .tflite model (float32, or with an operator the runtime has no kernel for) is
summarized from the graph stored in the file, like `mltk summarize`: the same table and
MAC/OP totals, exit code 0, but no RAM figure: that line says why the runtime cannot run
the model (--json: "runs_on_runtime": false, "runtime_error": the reason, RAM keys null).
A damaged file, or one that is not a .tflite model at all, is still an error (exit code 2).

examples:
  kwshost summarize models/mltk_keyword_spotting_alexa.tflite
  kwshost summarize my_model.tflite --json > summary.json
  kwshost summarize models/mltk_keyword_spotting_alexa.tflite --accelerator mvp
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="M.tflite", help="the .tflite model")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--no-params", action="store_true",
                        help="leave out the metadata parameters")
    parser.add_argument("--accelerator", default="none", metavar="NAME",
                        help="kernels to load the model with: none (reference, default) or "
                             "mvp; an operator run by another kernel shows its name")


def _shape(t) -> str:
    # Like MLTK's summary: a leading batch of 1 is left out.
    dims = t.shape[1:] if len(t.shape) > 1 and t.shape[0] == 1 else t.shape
    return f"{'x'.join(map(str, dims)) or 'scalar'} ({t.type_name})"


_SHORT = {"padding": "pad", "activation": "act", "multiplier": "mult"}


def _options(options: dict[str, object]) -> str:
    parts = []
    for key, value in options.items():
        if isinstance(value, tuple):
            value = "x".join(map(str, value))
        parts.append(f"{_SHORT.get(key, key)}:{value}")
    return " ".join(parts)


def _si(n: float) -> str:
    for unit, div in (("M", 1e6), ("k", 1e3)):
        if n >= div:
            return f"{n / div:.3f} {unit}" if unit == "M" else f"{n / div:.1f} {unit}"
    return f"{n:.0f}"


def _value(v: object) -> str:
    return f"{v:.7g}" if isinstance(v, float) else str(v)  # float32 values without noise


def json_safe(value: object) -> object:
    """`value` with NaN and infinities (a model's metadata can hold them) spelled as strings:
    json.dumps would write NaN/Infinity, which strict JSON readers refuse."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def _load(model: Path, accelerator: str) -> tuple[list[OpDetails], Interpreter | None,
                                                 str | None]:
    """(operators, interpreter, None), or for a model the runtime refuses but whose file is
    sound, (operators read from the file, None, the runtime's reason)."""
    from kwshost.runtime import Interpreter, RuntimeRejected
    from kwshost.tflite_graph import read_ops

    try:
        it = Interpreter(model, accelerator=accelerator)
    except RuntimeRejected as e:
        if e.invalid:  # damaged bytes: an error, not a model to summarize
            raise
        return read_ops(model), None, e.reason
    return it.ops, it, None


def _count(op: OpDetails, from_file: bool) -> OpCount:
    from kwshost.model_stats import OpCount, count

    if not op.outputs:  # ASSIGN_VARIABLE, CALL_ONCE: state and control, no arithmetic
        return OpCount(0, 0)
    try:
        return count(op)
    except (IndexError, KeyError, TypeError, ValueError):
        if not from_file:
            raise
        return OpCount(0, 0)  # no runtime checked these tensors fit the op's counting rule


def summarize(model: Path, accelerator: str = "none") -> dict[str, object]:
    """Everything `kwshost summarize` prints, as plain data."""
    return _summary(model, *_load(model, accelerator))


def _summary(model: Path, graph_ops: list[OpDetails], it: Interpreter | None,
             runtime_error: str | None) -> dict[str, object]:
    from kwshost.metadata import read_params
    from kwshost.tflite_graph import subgraph_sizes

    ops = []
    for op in graph_ops:
        c = _count(op, from_file=it is None)
        ops.append({"index": op.index, "op": op.name, "kernel": op.kernel if it else None,
                    "inputs": [None if t is None else {"shape": list(t.shape),
                                                       "type": t.type_name,
                                                       "constant": t.constant}
                               for t in op.inputs],
                    "outputs": [{"shape": list(t.shape), "type": t.type_name}
                                for t in op.outputs],
                    "options": {k: list(v) if isinstance(v, tuple) else v
                                for k, v in op.options.items()},
                    "macs": c.macs, "ops": c.ops})
    params = read_params(model)
    return {
        "model": str(model), "operators": ops,
        "total_macs": sum(o["macs"] for o in ops), "total_ops": sum(o["ops"] for o in ops),
        "runs_on_runtime": it is not None, "runtime_error": runtime_error,
        "arena_bytes": it.arena_bytes if it else None,
        "runtime_state_bytes": it.state_bytes if it else None,
        "ram_bytes": it.arena_bytes + it.state_bytes if it else None,
        "flash_bytes": model.stat().st_size,
        "subgraph_operators": subgraph_sizes(model),
        "params": {k: (v.hex() if isinstance(v, bytes) else v) for k, v in params.items()},
    }


def _subgraphs(graph_ops: list[OpDetails], sizes: list[int]) -> str:
    """One line on the subgraphs besides the one in the table."""
    init = {op.options.get("init_subgraph") for op in graph_ops if op.name == "CALL_ONCE"}
    parts = [f"subgraph {i} ({n} operators): "
             + ("the init subgraph CALL_ONCE runs once" if i in init else "never run")
             for i, n in enumerate(sizes) if i > 0]
    return f"{len(sizes)}; the table is subgraph 0, run at every invoke; " + "; ".join(parts)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from kwshost.tflite_graph import BUILTIN_CUSTOM

    model = Path(args.model)
    graph_ops, it, runtime_error = _load(model, args.accelerator)
    s = _summary(model, graph_ops, it, runtime_error)
    if args.no_params:
        s.pop("params")
    if args.json:
        print(json.dumps(json_safe(s), indent=1))
        return 0
    console = Console()
    if not console.is_terminal:  # piped or redirected: do not squeeze into 80 columns
        console = Console(width=150)
    table = Table(title=f"{model.name}: {len(graph_ops)} operators", show_lines=False)
    for col, just in (("#", "right"), ("Op", "left"), ("Inputs", "left"), ("Outputs", "left"),
                      ("Options", "left"), ("MACs", "right"), ("OPs", "right")):
        table.add_column(col, justify=just)  # type: ignore[arg-type]
    for op, row in zip(graph_ops, s["operators"], strict=True):  # type: ignore[arg-type]
        ins = "\n".join("-" if t is None else _shape(t) for t in op.inputs)
        outs = "\n".join(_shape(t) for t in op.outputs)
        # A custom operator keeps its own spelling; it may hold markup characters.
        name = escape(op.name) if op.builtin_code == BUILTIN_CUSTOM else op.name.lower()
        if op.kernel != op.name:
            name += "\n" + escape(f"[{op.kernel}]")
        table.add_row(str(op.index), name, ins, outs, _options(op.options),
                      _si(row["macs"]) if row["macs"] else "0", _si(row["ops"]))
    console.print(table)
    totals = Table.grid(padding=(0, 2))
    totals.add_row("Total MACs:", _si(s["total_macs"]))  # type: ignore[arg-type]
    totals.add_row("Total OPs:", _si(s["total_ops"]))  # type: ignore[arg-type]
    if it is None:
        totals.add_row("RAM:", escape(f"n/a (this runtime cannot run the model: "
                                      f"{runtime_error})"))
    else:
        totals.add_row("RAM:", f"{s['ram_bytes']:,} bytes (arena {s['arena_bytes']:,} + "
                               f"runtime state {s['runtime_state_bytes']:,})")
    totals.add_row("Flash (model):", f"{s['flash_bytes']:,} bytes")
    sizes: list[int] = s["subgraph_operators"]  # type: ignore[assignment]
    if len(sizes) > 1:
        totals.add_row("Subgraphs:", _subgraphs(graph_ops, sizes))
    console.print(totals)
    params = s.get("params")
    if params:
        pt = Table(title="Model parameters (SL_PARAMSv1)")
        pt.add_column("Key")
        pt.add_column("Value")
        for key, value in params.items():  # type: ignore[union-attr]
            text = ", ".join(map(_value, value)) if isinstance(value, list) else _value(value)
            pt.add_row(key, text if len(text) < 80 else text[:77] + "...")
        console.print(pt)
    elif params is not None:
        console.print("Model parameters: none (no SL_PARAMSv1 metadata)")
    return 0
