"""An int8 TENet12 .tflite back into the Keras model, so training can go on from it.

The converter folds every batch normalization into its convolution and quantizes weights to
int8 with a scale per output channel; dequantized, those give each convolution's float kernel
and bias. The Keras model keeps its batch normalizations (training needs them), so each one is
set to pass its input through unchanged in inference: with the per-channel mean and variance
of its input over real spectrograms, moving mean = beta = mean and moving variance = var,
gamma = sqrt(var + epsilon) (`keras_model` also brings each kernel to Keras' own scale, the
batch norm dividing the factor out, for Adam's sake). In training mode a batch then normalizes
with nearly the same statistics, so training starts where the .tflite model is.

The graph is walked by its tensors (not by operator order): stem convolution, then blocks of
expand 1x1 + depthwise + project 1x1 with an identity or strided 1x1 shortcut into an ADD,
then average pool, reshape, fully connected and softmax, the layer plan of kwshost.model. Any
other graph is refused with what was found where. What does not come back: the int8 rounding
and the activations' clipping to their quantized ranges (the float model is the unclipped one)
and the exact batch-norm split (the statistics come from the spectrograms given).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kwshost.errors import ModelError
from kwshost.model import TENetShape
from kwshost.runtime import OpDetails, TensorDetails


@dataclass
class ImportedLayer:
    """One convolution or dense layer as floats, in Keras' kernel layout."""

    kind: str                 # "stem", "expand", "depthwise", "project", "shortcut", "dense"
    kernel: np.ndarray
    bias: np.ndarray
    stride: int = 1


@dataclass
class ImportedTENet:
    shape: TENetShape
    stem: ImportedLayer
    blocks: list[list[ImportedLayer]]   # expand, depthwise, project[, shortcut] per block
    dense: ImportedLayer


class _Reader:
    """Subgraph 0 through our bounds-checked flatbuffer reader (kwshost.tflite_graph): no
    runtime or TensorFlow touches the file, so a damaged one is a ModelError, not a crash."""

    def __init__(self, path: Path) -> None:
        from kwshost.tflite_graph import read_graph

        self.path = path
        self.ops, self.inputs, self._constant = read_graph(path)
        self.consumers: dict[int, list[OpDetails]] = {}
        for op in self.ops:
            for t in op.inputs:
                if t is not None:
                    self.consumers.setdefault(t.index, []).append(op)

    def fail(self, what: str) -> ModelError:
        return ModelError(f"{self.path} is not a TENet12 graph as kwshost.model builds it: "
                          f"{what}",
                          hint="--start-from takes an int8 .tflite with that layer plan (ours "
                               "from kwshost convert, or MLTK's keyword_spotting_alexa)")

    def out(self, op: OpDetails) -> TensorDetails:
        """The op's one output tensor."""
        if len(op.outputs) != 1:
            raise self.fail(f"operator {op.index} ({op.name}) has {len(op.outputs)} outputs")
        return op.outputs[0]

    def only(self, tensor: int, names: tuple[str, ...]) -> OpDetails:
        ops = self.consumers.get(tensor, [])
        if len(ops) != 1 or ops[0].name not in names:
            found = [op.name for op in ops] or "nothing"
            raise self.fail(f"tensor {tensor} feeds {found}, expected one of {list(names)}")
        return ops[0]

    def layer(self, op: OpDetails, kind: str, activation: str) -> ImportedLayer:
        """The op's float kernel and bias, after checking its fused activation and padding."""
        if len(op.inputs) != 3 or op.inputs[1] is None or op.inputs[2] is None:
            raise self.fail(f"operator {op.index} ({op.name}) has no weights and bias")
        act = op.options.get("activation")
        padding = op.options.get("padding", "Same")
        kh = op.inputs[1].shape[1] if len(op.inputs[1].shape) > 1 else 1
        if act != activation or (padding != "Same" and kh > 1):
            raise self.fail(f"operator {op.index} ({op.name}, the {kind} layer): activation "
                            f"{act}, padding {padding}; expected {activation}, Same")
        w = self._constant(op.inputs[1].index).dequantized()
        b = self._constant(op.inputs[2].index).dequantized()
        out = w.shape[-1] if op.name == "DEPTHWISE_CONV_2D" else w.shape[0] if w.ndim else -1
        if w.ndim != (2 if op.name == "FULLY_CONNECTED" else 4) or b.shape != (out,) \
                or (op.name == "DEPTHWISE_CONV_2D" and w.shape[0] != 1):
            raise self.fail(f"operator {op.index} ({op.name}): weights {list(w.shape)} and "
                            f"bias {list(b.shape)} do not fit each other")
        if not (np.isfinite(w).all() and np.isfinite(b).all()):
            raise self.fail(f"operator {op.index} ({op.name}): weights that are not finite")
        if op.name == "CONV_2D":                # [out, kh, kw, in] -> [kh, kw, in, out]
            kernel = np.transpose(w, (1, 2, 3, 0))
        elif op.name == "DEPTHWISE_CONV_2D":    # [1, kh, kw, in] -> [kh, kw, in, 1]
            kernel = w[0][..., None]
        else:                                   # FULLY_CONNECTED [out, in] -> [in, out]
            kernel = w.T
        stride = op.options.get("stride", (1, 1))
        return ImportedLayer(kind, kernel, b, max(stride))  # type: ignore[arg-type]


def read_tenet(path: Path) -> ImportedTENet:
    """The float layers of an int8 TENet12 .tflite (ModelError for any other graph)."""
    r = _Reader(path)
    if len(r.inputs) != 1:
        raise r.fail(f"{len(r.inputs)} inputs, expected one [1, time, 1, features]")
    stem_op = r.only(r.inputs[0], ("CONV_2D",))
    inp = stem_op.inputs[0]
    if inp is None or inp.index != r.inputs[0] or len(inp.shape) != 4:
        raise r.fail("expected one input [1, time, 1, features] into a convolution")
    if inp.dtype != np.int8 or inp.scale != 1.0 or inp.zero_point != 0:
        raise r.fail(f"input {inp.type_name} with scale {inp.scale} and zero point "
                     f"{inp.zero_point}; the Keras model takes the frontend's int8 values as "
                     "they are (int8, scale 1, zero point 0)")
    _, rows, _, features = inp.shape
    stem = r.layer(stem_op, "stem", "None")
    x = r.out(stem_op).index
    channels = stem.kernel.shape[-1]
    blocks: list[list[ImportedLayer]] = []
    seen: set[int] = set()
    while True:
        if x in seen:   # a malformed file can loop its tensors back
            raise r.fail(f"tensor {x} comes back around")
        seen.add(x)
        ops = r.consumers.get(x, [])
        if [op.name for op in ops] == ["AVERAGE_POOL_2D"]:
            break
        expand = [op for op in ops if op.name == "CONV_2D" and r.out(op).shape[-1:]
                  != (channels,)]
        rest = [op for op in ops if op not in expand]
        if len(expand) != 1 or len(rest) != 1 or rest[0].name not in ("CONV_2D", "ADD"):
            raise r.fail(f"block {len(blocks)} starts with {[op.name for op in ops]}")
        e = expand[0]
        d = r.only(r.out(e).index, ("DEPTHWISE_CONV_2D",))
        p = r.only(r.out(d).index, ("CONV_2D",))
        add = r.only(r.out(p).index, ("ADD",))
        layers = [r.layer(e, "expand", "Relu"), r.layer(d, "depthwise", "Relu"),
                  r.layer(p, "project", "None")]
        joined = x
        if rest[0].name == "CONV_2D":
            layers.append(r.layer(rest[0], "shortcut", "Relu"))
            joined = r.out(rest[0]).index
        other = [t.index for t in add.inputs if t is not None and t.index != r.out(p).index]
        if other != [joined] or add.options.get("activation") != "Relu" \
                or layers[1].stride != (layers[3].stride if len(layers) == 4 else 1):
            raise r.fail(f"block {len(blocks)} (ADD operator {add.index}) does not join a "
                         "strided block with a strided shortcut, or a block with its input, "
                         "through a fused ReLU")
        blocks.append(layers)
        x = r.out(add).index
    pool = r.consumers[x][0]
    reshape = r.only(r.out(pool).index, ("RESHAPE",))
    fc = r.only(r.out(reshape).index, ("FULLY_CONNECTED",))
    softmax = r.only(r.out(fc).index, ("SOFTMAX",))
    dense = r.layer(fc, "dense", "None")
    steps = [t.shape[1] for t in pool.inputs if t is not None and t.index == x
             and len(t.shape) == 4]
    if steps[:1] != [pool.options.get("filter", (0, 0))[-1]]:   # type: ignore[index]
        raise r.fail(f"the average pool ({pool.options.get('filter')}) is not over all "
                     f"{steps[:1]} time steps")
    # softmax(beta * z): the logits' factor goes into the dense layer.
    beta = float(softmax.options.get("beta", 1.0))  # type: ignore[arg-type]
    dense.kernel, dense.bias = dense.kernel * beta, dense.bias * beta
    return ImportedTENet(_shape_of(r, blocks, rows, features, channels, dense), stem,
                         blocks, dense)


def _shape_of(r: _Reader, blocks: list[list[ImportedLayer]], rows: int, features: int,
              channels: int, dense: ImportedLayer) -> TENetShape:
    """The TENetShape the blocks form; refuses a block plan build_tenet cannot make."""
    if channels < 1:
        raise r.fail("a stem convolution without output channels")
    starts = [i for i, b in enumerate(blocks) if b[1].stride == 2]
    if not starts or starts[0] != 0:
        raise r.fail(f"{len(blocks)} blocks, strided ones at {starts}: the first must be")
    per_group = starts[1] - starts[0] if len(starts) > 1 else len(blocks)
    if starts != list(range(0, len(blocks), per_group)) or any(
            b[1].stride not in (1, 2) for b in blocks):
        raise r.fail(f"strided blocks at {starts} of {len(blocks)}: not groups of equal size "
                     "each starting with a stride-2 block")
    return TENetShape(time_steps=rows, features=features, classes=dense.kernel.shape[1],
                      channels=channels, expansion=blocks[0][0].kernel.shape[-1] // channels,
                      groups=len(starts), blocks_per_group=per_group,
                      kernel=blocks[0][1].kernel.shape[0])


def keras_model(tenet: ImportedTENet, spectrograms: np.ndarray):
    """The Keras TENet12 computing what the .tflite does (in float), with each batch
    normalization set from its input's statistics over `spectrograms` [n, rows, 1, features].

    The folded kernels come out at whatever scale folding left them (the stem's about 20x
    below Keras' initial one): a batch norm after a convolution makes the function blind to
    that scale, but Adam's steps are not (a fixed size per weight), so at the fine-tuning rate
    the small kernels would change by a tenth a step and the moving averages lag behind. Each
    output channel's kernel and bias are therefore scaled to the RMS Keras initialized the
    layer with, and its batch norm divides the factor out again."""
    import keras

    from kwshost.model import build_tenet

    model = build_tenet(tenet.shape)
    keras_layers: dict[str, list] = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D | keras.layers.DepthwiseConv2D
                      | keras.layers.Dense):
            keras_layers.setdefault(_kind_of(layer, tenet.shape), []).append(layer)
    imported: dict[str, list[ImportedLayer]] = {"stem": [tenet.stem], "dense": [tenet.dense]}
    for block in tenet.blocks:
        for part in block:
            imported.setdefault(part.kind, []).append(part)
    factors: dict[int, np.ndarray] = {}   # id(convolution's output) -> per-channel factor
    try:
        for kind, parts in imported.items():
            # Keras lists layers in graph order, so the k-th of a kind is block k's.
            for layer, part in zip(keras_layers.get(kind, []), parts, strict=True):
                kernel, bias = part.kernel, part.bias
                if kind != "dense":
                    start_rms = float(np.sqrt(np.mean(np.square(layer.kernel.numpy()))))
                    kernel, bias, factor = _rescaled(kernel, bias, start_rms)
                    factors[id(layer.output)] = factor
                layer.set_weights([kernel, bias])
    except ValueError as e:
        raise ModelError(f"the .tflite's layers do not fit TENet12 {tenet.shape}: {e}") from None
    norms = [layer for layer in model.layers
             if isinstance(layer, keras.layers.BatchNormalization)]
    scale = [factors[id(bn.input)] for bn in norms]
    for bn, c in zip(norms, scale, strict=True):   # pass-through while statistics are taken
        n = bn.gamma.shape[0]
        bn.set_weights([(np.sqrt(1 + bn.epsilon) / c).astype(np.float32),
                        np.zeros(n, np.float32), np.zeros(n, np.float32),
                        np.ones(n, np.float32)])
    probe = keras.Model(model.inputs, [bn.input for bn in norms])
    sums = [np.zeros(bn.gamma.shape[0]) for bn in norms]
    squares = [np.zeros(bn.gamma.shape[0]) for bn in norms]
    counts = [0] * len(norms)
    for start in range(0, len(spectrograms), 64):
        outs = probe([np.asarray(spectrograms[start:start + 64], np.float32)], training=False)
        for k, out in enumerate(outs):
            a = np.asarray(out, dtype=np.float64).reshape(-1, sums[k].shape[0])
            sums[k] += a.sum(axis=0)
            squares[k] += (a * a).sum(axis=0)
            counts[k] += a.shape[0]
    for k, bn in enumerate(norms):
        mean = sums[k] / max(counts[k], 1)
        var = np.maximum(squares[k] / max(counts[k], 1) - mean * mean, 1e-6)
        # Input x = c * z: gamma * (x - mean) / sqrt(var + eps) + beta == z in inference.
        bn.set_weights([np.sqrt(var + bn.epsilon) / scale[k], mean / scale[k], mean, var])
    return model


def _rescaled(kernel: np.ndarray, bias: np.ndarray,
              rms: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Kernel and bias with each output channel scaled so its kernel's RMS is `rms`, and the
    factors. Output channels are the last axis, or for a depthwise kernel [kh, kw, in, 1]
    the input axis."""
    per_channel = kernel.reshape(-1, bias.shape[0])   # both layouts: channels last-but-flat
    now = np.sqrt(np.mean(np.square(per_channel), axis=0))
    factor = np.where(now > 0, rms / np.maximum(now, 1e-30), 1.0)
    return ((per_channel * factor).reshape(kernel.shape).astype(np.float32),
            (bias * factor).astype(np.float32), factor)


def _kind_of(layer, shape: TENetShape) -> str:
    """Which part of a block a Keras convolution layer is, from its kernel's shape."""
    import keras

    if isinstance(layer, keras.layers.Dense):
        return "dense"
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        return "depthwise"
    kh, _, cin, cout = layer.kernel.shape
    if cin == shape.features and kh != 1:
        return "stem"
    if cout != shape.channels:
        return "expand"
    return "project" if cin != shape.channels else "shortcut"
