"""Small random int8 .tflite models for kernel tests, made with TensorFlow's converter.

Each spec is drawn from a seeded generator: one op (sometimes two or three) with odd shapes,
strides, dilations, paddings, activations, broadcasting, and representative data of extreme
ranges (tiny and huge scales, zero points at both ends). Models are converted with full int8
quantization (per-channel weights where TFLite uses them) and cached under
build/test-models/<seed>/ so a test session converts them once.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

GENERATOR_VERSION = 1  # bump when a spec changes: cached models are keyed by it
OPS = ("conv", "depthwise", "fc", "add", "mul", "avg_pool", "max_pool", "mean", "pad", "concat",
       "reshape", "softmax", "logistic", "chain", "float_io")


def _data_range(rng: np.random.Generator) -> tuple[float, float]:
    """Centre and spread of the representative data: mostly normal, sometimes extreme."""
    kind = rng.integers(0, 8)
    if kind == 0:
        return 0.0, float(10 ** rng.uniform(-4, -2))  # tiny scale
    if kind == 1:
        return 0.0, float(10 ** rng.uniform(2, 4))  # huge scale
    if kind == 2:
        return 5.0, 1.0  # all positive: zero point near -128
    if kind == 3:
        return -5.0, 1.0  # all negative: zero point near 127
    return float(rng.uniform(-1, 1)), float(rng.uniform(0.3, 3))


def _act(x, rng: np.random.Generator):
    import tensorflow as tf

    k = rng.integers(0, 4)
    return x if k == 0 else (tf.nn.relu(x) if k == 1 else (tf.nn.relu6(x) if k == 2 else x))


def _weights(rng: np.random.Generator, shape, out_axis: int) -> np.ndarray:
    w = rng.normal(0, 1, size=shape).astype(np.float32)
    if rng.random() < 0.3:  # channels of very different magnitude: extreme per-channel scales
        scale = 10 ** rng.uniform(-3, 2, size=shape[out_axis]).astype(np.float32)
        w = w * scale.reshape([-1 if a == out_axis else 1 for a in range(len(shape))])
    return w


def _spec(op: str, rng: np.random.Generator) -> tuple[Callable, list[tuple[int, ...]]]:
    """A traceable function and its input shapes (batch included)."""
    import tensorflow as tf

    def hw():
        return int(rng.integers(1, 11)), int(rng.integers(1, 11))

    if op == "conv":
        h, w = hw()
        cin, cout = int(rng.integers(1, 10)), int(rng.integers(1, 10))
        kh, kw = int(rng.integers(1, min(h, 4) + 1)), int(rng.integers(1, min(w, 4) + 1))
        dil = [1, 1]
        stride = [int(rng.integers(1, 4)), int(rng.integers(1, 4))]
        if rng.random() < 0.3:
            stride = [1, 1]
            dil = [int(rng.integers(1, 3)), int(rng.integers(1, 3))]
        pad = "SAME" if rng.random() < 0.5 else "VALID"
        if pad == "VALID" and ((kh - 1) * dil[0] + 1 > h or (kw - 1) * dil[1] + 1 > w):
            pad = "SAME"
        k = _weights(rng, (kh, kw, cin, cout), 3)
        b = rng.normal(0, 1, size=cout).astype(np.float32)

        def f(x):
            y = tf.nn.conv2d(x, k, strides=[1, *stride, 1], padding=pad, dilations=dil) + b
            return _act(y, rng)
        return f, [(1, h, w, cin)]
    if op == "depthwise":
        h, w = hw()
        cin, mult = int(rng.integers(1, 9)), int(rng.integers(1, 4))
        kh, kw = int(rng.integers(1, min(h, 4) + 1)), int(rng.integers(1, min(w, 4) + 1))
        stride, dil = [int(rng.integers(1, 3))] * 2, [1, 1]
        if rng.random() < 0.3:
            stride, dil = [1, 1], [int(rng.integers(1, 3)), int(rng.integers(1, 3))]
        too_big = (kh - 1) * dil[0] + 1 > h or (kw - 1) * dil[1] + 1 > w
        pad = "SAME" if rng.random() < 0.5 or too_big else "VALID"
        k = _weights(rng, (kh, kw, cin, mult), 2)
        b = rng.normal(0, 1, size=cin * mult).astype(np.float32)

        def f(x):
            y = tf.nn.depthwise_conv2d(x, k, strides=[1, *stride, 1], padding=pad,
                                       dilations=dil) + b
            return _act(y, rng)
        return f, [(1, h, w, cin)]
    if op == "fc":
        n, units = int(rng.integers(1, 40)), int(rng.integers(1, 20))
        rows = int(rng.integers(1, 4))
        wt = _weights(rng, (n, units), 1)
        b = rng.normal(0, 1, size=units).astype(np.float32)
        return (lambda x: _act(tf.matmul(x, wt) + b, rng)), [(rows, n)]
    if op in ("add", "mul"):
        shape = (1, *hw(), int(rng.integers(1, 8)))
        other = list(shape)
        for axis in range(1, 4):
            if rng.random() < 0.3:
                other[axis] = 1
        fn = tf.add if op == "add" else tf.multiply
        if rng.random() < 0.5:
            return (lambda x, y: _act(fn(x, y * 0.7), rng)), [shape, tuple(other)]
        const = rng.normal(0, 2, size=other).astype(np.float32)
        return (lambda x: _act(fn(x, const), rng)), [shape]
    if op in ("avg_pool", "max_pool"):
        h, w = hw()
        c = int(rng.integers(1, 8))
        kh, kw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        stride = [int(rng.integers(1, 4)), int(rng.integers(1, 4))]
        pad = "SAME" if rng.random() < 0.5 or kh > h or kw > w else "VALID"
        pool = tf.nn.avg_pool2d if op == "avg_pool" else tf.nn.max_pool2d
        return (lambda x: _act(pool(x, [kh, kw], stride, pad), rng)), [(1, h, w, c)]
    if op == "mean":
        shape = (1, *hw(), int(rng.integers(1, 8)))
        choices = [[1, 2], [2, 1], [1], [2], [3], [1, 3], [-1], [1, 2, 3]]
        axes = choices[int(rng.integers(0, len(choices)))]
        keep = bool(rng.random() < 0.6)
        scale = float(10 ** rng.uniform(-1, 1)) if rng.random() < 0.5 else 1.0  # requantizes
        return (lambda x: tf.reduce_mean(x, axis=axes, keepdims=keep) * scale), [shape]
    if op == "pad":
        rank = int(rng.integers(2, 5))
        shape = (1, *[int(rng.integers(1, 6)) for _ in range(rank - 1)])
        pads = [[0, 0]] + [[int(rng.integers(0, 3)), int(rng.integers(0, 3))]
                           for _ in range(rank - 1)]
        return (lambda x: tf.pad(x, pads) * 1.0), [shape]
    if op == "concat":
        shape = (1, *hw(), int(rng.integers(1, 6)))
        axis = int(rng.integers(1, 4))
        other = list(shape)
        other[axis] = int(rng.integers(1, 5))
        return (lambda x, y: tf.concat([x, y], axis=axis)), [shape, tuple(other)]
    if op == "reshape":
        h, w = hw()
        c = int(rng.integers(1, 6))
        return (lambda x: tf.reshape(x, (1, h * w, c))), [(1, h, w, c)]
    if op == "softmax":
        shape = (1, int(rng.integers(1, 4)), int(rng.integers(1, 40)))
        return (lambda x: tf.nn.softmax(x)), [shape]
    if op == "logistic":
        shape = (1, int(rng.integers(1, 5)), int(rng.integers(1, 30)))
        return (lambda x: tf.sigmoid(x)), [shape]
    if op == "chain":
        h, w = int(rng.integers(3, 12)), int(rng.integers(1, 4))
        cin, cmid = int(rng.integers(1, 12)), int(rng.integers(2, 16))
        units = int(rng.integers(2, 6))
        k1 = _weights(rng, (3, 1, cin, cmid), 3)
        k2 = _weights(rng, (3, 1, cmid, 1), 2)
        k3 = _weights(rng, (1, 1, cmid, cmid), 3)
        wt = _weights(rng, (cmid, units), 1)

        def f(x):
            y = tf.nn.relu(tf.nn.conv2d(x, k1, 1, "SAME"))
            z = tf.nn.relu(tf.nn.depthwise_conv2d(y, k2, [1, 2, 2, 1], "SAME"))
            z = tf.nn.conv2d(z, k3, 1, "VALID")
            z = tf.nn.relu(z + tf.nn.avg_pool2d(y, 1, 2, "SAME"))
            z = tf.nn.avg_pool2d(z, [z.shape[1], z.shape[2]], 1, "VALID")
            return tf.nn.softmax(tf.matmul(tf.reshape(z, (1, cmid)), wt))
        return f, [(1, h, w, cin)]
    if op == "float_io":
        shape = (1, *hw(), int(rng.integers(1, 6)))
        return (lambda x: x * 0.5 + 0.1), [shape]
    raise ValueError(op)


def convert(fn: Callable, shapes: list[tuple[int, ...]], rng: np.random.Generator,
            float_io: bool) -> bytes:
    import tensorflow as tf

    centre, spread = _data_range(rng)
    sig = [tf.TensorSpec(s, tf.float32) for s in shapes]
    concrete = tf.function(fn, input_signature=sig).get_concrete_function()
    samples = [[(centre + spread * rng.normal(0, 1, size=s)).astype(np.float32) for s in shapes]
               for _ in range(16)]
    conv = tf.lite.TFLiteConverter.from_concrete_functions([concrete])
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: iter(samples)
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if not float_io:
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
    return conv.convert()


def generate(seed: int, count: int, out_dir: Path) -> list[Path]:
    """`count` models for `seed`, converted once and cached (a manifest marks completion)."""
    out_dir = out_dir / f"v{GENERATOR_VERSION}-seed{seed}-n{count}"
    manifest = out_dir / "manifest.json"
    if manifest.exists():
        return [out_dir / name for name in json.loads(manifest.read_text())]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    out_dir.mkdir(parents=True, exist_ok=True)
    names: list[str] = []
    for i in range(count):
        rng = np.random.default_rng([seed, i])
        op = OPS[i % len(OPS)]
        if (out_dir / f"{i:04d}_{op}.tflite").exists():  # converted by an interrupted run
            names.append(f"{i:04d}_{op}.tflite")
            continue
        tf.random.set_seed(int(rng.integers(0, 2**31)))
        fn, shapes = _spec(op, rng)
        try:
            data = convert(fn, shapes, rng, float_io=(op == "float_io" or rng.random() < 0.1))
        except Exception as exc:  # a spec the converter refuses is skipped, and recorded
            (out_dir / f"{i:04d}_{op}.error.txt").write_text(str(exc)[:2000])
            continue
        name = f"{i:04d}_{op}.tflite"
        (out_dir / name).write_bytes(data)
        names.append(name)
    names = _runnable_by_tflite(out_dir, names)
    manifest.write_text(json.dumps(names))
    return [out_dir / n for n in names]


def reference_outputs(model_bytes: bytes, input_sets: list[list[np.ndarray]]
                      ) -> list[list[np.ndarray]]:
    """BUILTIN_REF's outputs for each input set (one interpreter, invoked once per set): what
    the kernels are compared with, in the tests and in bench/kernels/sweep.py."""
    import tensorflow as tf

    interp = tf.lite.Interpreter(
        model_content=model_bytes,
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_REF)
    interp.allocate_tensors()
    outs = []
    for inputs in input_sets:
        for d, x in zip(interp.get_input_details(), inputs, strict=True):
            interp.set_tensor(d["index"], x)
        interp.invoke()
        outs.append([interp.get_tensor(d["index"]).copy() for d in interp.get_output_details()])
    return outs


_CHECK_CODE = """
import sys, numpy as np, tensorflow as tf
for path in sys.argv[1:]:
    it = tf.lite.Interpreter(model_path=path,
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    for d in it.get_input_details():
        it.set_tensor(d["index"], np.zeros(d["shape"], d["dtype"]))
    it.invoke()
    print("OK", path, flush=True)
"""


def _runnable_by_tflite(out_dir: Path, names: list[str]) -> list[str]:
    """Drops models TFLite itself cannot run: its reference kernels abort the process on
    quantization parameters they do not support (an ADD whose output scale is far below its
    inputs', ...). Checked in a child process that is restarted after each abort."""
    import subprocess

    good, todo = [], list(names)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    while todo:
        args = [sys.executable, "-c", _CHECK_CODE, *[str(out_dir / n) for n in todo]]
        proc = subprocess.run(args, capture_output=True, text=True, env=env)
        done = [line.split(" ", 2)[1] for line in proc.stdout.splitlines()
                if line.startswith("OK ")]
        good += [Path(p).name for p in done]
        todo = todo[len(done):]
        if todo:  # todo[0] aborted the interpreter
            (out_dir / (todo[0] + ".rejected-by-tflite.txt")).write_text(proc.stderr[-2000:])
            todo = todo[1:]
    return good


def random_inputs(model_bytes: bytes, seed: int) -> list[np.ndarray]:
    """Random full-range values for each model input (int8 or float)."""
    import tensorflow as tf

    interp = tf.lite.Interpreter(model_content=model_bytes)
    rng = np.random.default_rng(seed)
    out = []
    for d in interp.get_input_details():
        if d["dtype"] == np.int8:
            out.append(rng.integers(-128, 128, size=d["shape"]).astype(np.int8))
        else:
            scale, zp = d["quantization"]
            spread = 128 * (scale if scale else 1.0)
            out.append(rng.normal(0, spread, size=d["shape"]).astype(np.float32))
    return out
