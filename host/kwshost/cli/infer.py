"""kwshost infer: run a .tflite model on an input tensor (.npy) with the firmware's runtime."""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

import numpy as np

from kwshost.errors import KwsError

NAME = "infer"
HELP = "run a .tflite model on an input tensor (.npy) with the firmware's runtime"
DESCRIPTION = """\
Runs a model on one input (or a batch of inputs) with the firmware's own model runtime and
kernels (the C++ code the device runs, bit-exact with TFLite's reference kernels) and prints
the output tensor. Where the model's metadata names its classes, each score is shown with
its class and its dequantized value.

The input is a NumPy .npy file:
  - an array of the model input's element count (any shape; 118 x 108 from
    `kwshost features` fits the alexa model's 1 x 118 x 1 x 108 input), or
  - a batch: N such arrays stacked on a first axis; each is run in turn.
A float input to an int8 model is quantized with the input's scale and zero point.

examples:
  kwshost features clip.wav -o clip.npy
  kwshost infer models/mltk_keyword_spotting_alexa.tflite clip.npy
  kwshost infer my_model.tflite batch.npy -o scores.npy
  kwshost infer two_heads.tflite clip.npy -o outputs.npz    # every output: output_0, output_1
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="M.tflite", help="the .tflite model")
    parser.add_argument("input", metavar="IN.npy", help="input tensor or batch (.npy)")
    parser.add_argument("-o", "--output", metavar="OUT.npy",
                        help="also save the raw output tensor (a batch: stacked) to this .npy "
                             "file (output 0), or every output to an .npz (output_0, ...)")


def _read_npy(path: str) -> np.ndarray:
    """The array in a .npy file; anything else (a WAV, an .npz, text, object arrays) is named."""
    try:
        with open(path, "rb") as f:
            magic = f.read(6)
    except OSError as e:
        raise KwsError(f"cannot read {path}: {e.strerror}", hint="pass a NumPy .npy file") from None
    if magic != b"\x93NUMPY":
        what = "an .npz archive" if magic[:2] == b"PK" else "not a .npy file"
        raise KwsError(f"{path} is {what}", hint="pass a NumPy .npy file (numpy.save, or "
                                                  "`kwshost features IN.wav -o OUT.npy`)")
    try:
        _check_npy_size(path)
        x = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise KwsError(f"cannot read {path}: {e}", hint="pass a NumPy .npy file") from None
    if x.dtype.kind not in "iuf":
        raise KwsError(f"{path} holds {x.dtype} values; the model takes numbers",
                       hint="an integer array of the input's type, or floats to quantize")
    return x


def _check_npy_size(path: str) -> None:
    """A header announcing more data than the file holds (a damaged or cut file) is a
    ValueError here, before np.load tries to allocate all of it (MemoryError for 10^11)."""
    from numpy.lib import format as npy

    with open(path, "rb") as f:
        version = npy.read_magic(f)
        read_header = npy.read_array_header_1_0 if version == (1, 0) else \
            npy.read_array_header_2_0
        shape, _fortran, dtype = read_header(f)
        have = os.fstat(f.fileno()).st_size - f.tell()
    if dtype.hasobject:
        return  # np.load refuses it (allow_pickle=False), with its own message
    need = math.prod(shape) * dtype.itemsize
    if need > have:
        raise ValueError(f"the header announces {'x'.join(map(str, shape)) or 'a scalar'} "
                         f"{dtype} ({need:,} bytes), the file holds {have:,}")


def load_input(path: str, shape: tuple[int, ...], dtype: type, scale: float,
               zero_point: int) -> list[np.ndarray]:
    x = _read_npy(path)
    size = int(np.prod(shape))
    if x.size == size:
        batch = [x.reshape(shape)]
    elif x.ndim >= 1 and x.shape[0] > 0 and x.size == x.shape[0] * size:
        batch = [row.reshape(shape) for row in x]
    else:
        raise KwsError(f"{path} holds an array of shape {x.shape}; the model takes "
                       f"{'x'.join(map(str, shape))} ({size} values) or a batch of those")
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        raise KwsError(f"{path}: {int(np.count_nonzero(~np.isfinite(x)))} values are NaN or "
                       "infinite")
    out = []
    clipped = 0
    for item in batch:
        if np.issubdtype(item.dtype, np.floating) and np.issubdtype(dtype, np.integer):
            info = np.iinfo(dtype)
            # As TFLite's QUANTIZE (and the firmware's): the quotient in float32, halves
            # rounded away from zero (numpy's round takes them to even).
            with np.errstate(over="ignore"):  # beyond float32: +-inf, clipped below
                v = (item.astype(np.float32) / np.float32(scale)).astype(np.float64)
            q = np.sign(v) * np.floor(np.abs(v) + 0.5) + zero_point
            clipped += int(np.count_nonzero((q < info.min) | (q > info.max)))
            item = np.clip(q, info.min, info.max)
        elif item.dtype != dtype and np.issubdtype(item.dtype, np.integer) and \
                np.issubdtype(dtype, np.integer):
            info = np.iinfo(dtype)
            if item.min() < info.min or item.max() > info.max:
                raise KwsError(f"{path}: values outside the {np.dtype(dtype).name} range")
        out.append(np.asarray(item).astype(dtype))
    if clipped:
        print(f"note: {clipped} of {x.size} values quantize outside the "
              f"{np.dtype(dtype).name} range (scale {scale:g}, zero point {zero_point}): "
              f"clipped", file=sys.stderr)
    return out


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from kwshost.cli.features import check_output, save_npy, save_npz
    from kwshost.metadata import read_params
    from kwshost.runtime import Interpreter

    if args.output:
        check_output(args.output, args.input, args.model)
    model = Path(args.model)
    it = Interpreter(model)
    if len(it.input_details) != 1:
        raise KwsError("`kwshost infer` runs models with one input; this one has "
                       f"{len(it.input_details)}")
    d = it.input_details[0]
    batch = load_input(args.input, d.shape, d.dtype, d.scale, d.zero_point)
    classes = read_params(model).get("classes")
    console = Console()
    outputs: list[list[np.ndarray]] = [[] for _ in it.output_details]
    for n, x in enumerate(batch):
        y = it.invoke(x)
        ys = y if isinstance(y, list) else [y]
        for k, out in enumerate(ys):
            outputs[k].append(out)
        prefix = f"[{n}] " if len(batch) > 1 else ""
        for k, (out, od) in enumerate(zip(ys, it.output_details, strict=True)):
            console.print(f"{prefix}output {k} {od.type_name} {'x'.join(map(str, od.shape))}: "
                          f"{np.array2string(out, separator=', ', threshold=64)}", highlight=False)
            if k == 0 and isinstance(classes, list) and out.size == len(classes) and \
                    np.issubdtype(out.dtype, np.integer):
                real = (out.reshape(-1).astype(np.float64) - od.zero_point) * od.scale
                for name, q, r in zip(classes, out.reshape(-1), real, strict=True):
                    console.print(f"{prefix}  {name:<16} {r:8.4f}  ({od.type_name} {int(q)})",
                                  highlight=False)
    if args.output:
        arrays = [np.stack(o) if len(o) > 1 else o[0] for o in outputs]
        if str(args.output).lower().endswith(".npz"):
            save_npz(args.output, {f"output_{k}": a for k, a in enumerate(arrays)})
        else:
            save_npy(args.output, arrays[0])
            if len(arrays) > 1:
                print(f"note: the model has {len(arrays)} outputs; {args.output} holds output 0 "
                      "(name an .npz to save them all)", file=sys.stderr)
    return 0
