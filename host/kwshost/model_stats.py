"""Operation counts of a model's operators, counted the way MLTK's `summarize` counts them.

The rules were read off the seed's figures for MLTK's alexa model and MLTK 0.20's metrics
code, and are checked against `mltk summarize` on the random test models
(tests/test_runtime_cli.py): batch is not counted in MACs; a multiply-accumulate is 2 OPs; a
bias add is 1 OP per output element (batch included for FULLY_CONNECTED, as MLTK does);
fused activations are not counted (MLTK's profiler adds 2 OPs per output for a fused ReLU in
its per-layer table, 9.434 M in all, but its summary total, 9.247 M, does not); ADD and MUL
are 1 OP per element, average pooling one add per tap plus one division per output, softmax
an exp and a division per element, RESHAPE one copy per element, QUANTIZE 4 and DEQUANTIZE 2
per element, PAD 6 per output element. Operators MLTK has no rule for (MEAN, LOGISTIC,
CONCATENATION) count 0, as in MLTK's totals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from kwshost.runtime import OpDetails


@dataclass
class OpCount:
    macs: int
    ops: int


def _flat(shape: tuple[int, ...], skip_batch: bool = True) -> int:
    dims = shape[1:] if skip_batch and len(shape) > 1 else shape
    return math.prod(dims)


def count(op: OpDetails) -> OpCount:
    out = op.outputs[0].shape
    ins = [t.shape if t is not None else () for t in op.inputs]
    bias = len(op.inputs) > 2  # MLTK counts a bias slot even when the model omits it
    out_n = _flat(out)
    name = op.name
    if name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        f = ins[1]  # CONV: [out_c, h, w, in_c]; DEPTHWISE: [1, h, w, out_c]
        if name == "CONV_2D":
            macs = f[1] * f[2] * f[3] * out_n
        else:
            macs = f[1] * f[2] * out_n
        return OpCount(macs, 2 * macs + (out_n if bias else 0))
    if name == "FULLY_CONNECTED":
        macs = ins[1][-1] * out[-1] if ins[1] else 0
        return OpCount(macs, 2 * macs + (_flat(out, skip_batch=False) if bias else 0))
    if name == "ADD":
        return OpCount(0, _flat(ins[0]))
    if name == "MUL":
        return OpCount(0, out_n)
    if name == "AVERAGE_POOL_2D":
        fw, fh = op.options["filter"]  # type: ignore[misc]
        return OpCount(0, out_n * (fw * fh + 1))
    if name == "MAX_POOL_2D":
        fw, fh = op.options["filter"]  # type: ignore[misc]
        return OpCount(0, out_n * fw * fh)
    if name == "SOFTMAX":
        return OpCount(0, 2 * _flat(ins[0]))
    if name == "PAD":
        return OpCount(0, 6 * out_n)
    if name == "QUANTIZE":
        return OpCount(0, 4 * _flat(ins[0]))
    if name == "DEQUANTIZE":
        return OpCount(0, 2 * _flat(ins[0]))
    if name == "RESHAPE":
        return OpCount(0, _flat(ins[0], skip_batch=False))
    return OpCount(0, 0)  # MEAN, LOGISTIC, CONCATENATION: not counted by MLTK
