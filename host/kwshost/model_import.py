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
from kwshost.runtime import OpDetails


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
    """Subgraph 0 as our flatbuffer reader sees it (operators, options), with the constant
    tensors' values and per-channel quantization from TensorFlow's interpreter."""

    def __init__(self, path: Path) -> None:
        import tensorflow as tf

        from kwshost.tflite_graph import read_ops

        self.path = path
        self.ops = read_ops(path)
        try:
            self.interp = tf.lite.Interpreter(model_path=str(path))
        except (ValueError, RuntimeError) as e:
            raise ModelError(f"{path}: TensorFlow cannot read it ({e})") from None
        self.details = {t["index"]: t for t in self.interp.get_tensor_details()}
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

    def only(self, tensor: int, names: tuple[str, ...]) -> OpDetails:
        ops = self.consumers.get(tensor, [])
        if len(ops) != 1 or ops[0].name not in names:
            found = [op.name for op in ops] or "nothing"
            raise self.fail(f"tensor {tensor} feeds {found}, expected one of {list(names)}")
        return ops[0]

    def constant(self, tensor: int) -> np.ndarray:
        """A weight or bias tensor as floats: (q - zero point) x scale, per channel."""
        q = self.interp.get_tensor(tensor)
        if q.dtype == np.float32:
            return q
        p = self.details[tensor]["quantization_parameters"]
        scales, zeros, axis = p["scales"], p["zero_points"], p["quantized_dimension"]
        if len(scales) == 0:
            raise self.fail(f"tensor {tensor} ({q.dtype}) has no quantization scale")
        bshape = [1] * q.ndim
        if len(scales) > 1:
            bshape[axis] = len(scales)
        return ((q.astype(np.float64) - zeros.reshape(bshape)) * scales.reshape(bshape)) \
            .astype(np.float32)

    def layer(self, op: OpDetails, kind: str, activation: str) -> ImportedLayer:
        """The op's float kernel and bias, after checking its fused activation and padding."""
        act = op.options.get("activation")
        padding = op.options.get("padding", "Same")
        kh = op.inputs[1].shape[1] if op.inputs[1] is not None else 1
        if act != activation or (padding != "Same" and kh > 1):
            raise self.fail(f"operator {op.index} ({op.name}, the {kind} layer): activation "
                            f"{act}, padding {padding}; expected {activation}, Same")
        if len(op.inputs) != 3 or op.inputs[1] is None or op.inputs[2] is None:
            raise self.fail(f"operator {op.index} ({op.name}) has no weights and bias")
        w, b = self.constant(op.inputs[1].index), self.constant(op.inputs[2].index)
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
    inputs = r.interp.get_input_details()
    if len(inputs) != 1 or len(inputs[0]["shape"]) != 4:
        raise r.fail("expected one input [1, time, 1, features]")
    inp = inputs[0]
    scale, zero = inp["quantization"]
    if inp["dtype"] != np.int8 or scale != 1.0 or zero != 0:
        raise r.fail(f"input {np.dtype(inp['dtype']).name} with scale {scale} and zero point "
                     f"{zero}; the Keras model takes the frontend's int8 values as they are "
                     "(int8, scale 1, zero point 0)")
    _, rows, _, features = (int(d) for d in inp["shape"])
    stem_op = r.only(int(inp["index"]), ("CONV_2D",))
    stem = r.layer(stem_op, "stem", "None")
    x = stem_op.outputs[0].index
    channels = stem_op.outputs[0].shape[-1]
    blocks: list[list[ImportedLayer]] = []
    while True:
        ops = r.consumers.get(x, [])
        if [op.name for op in ops] == ["AVERAGE_POOL_2D"]:
            break
        expand = [op for op in ops if op.name == "CONV_2D" and op.outputs[0].shape[-1]
                  != channels]
        rest = [op for op in ops if op not in expand]
        if len(expand) != 1 or len(rest) != 1 or rest[0].name not in ("CONV_2D", "ADD"):
            raise r.fail(f"block {len(blocks)} starts with {[op.name for op in ops]}")
        e = expand[0]
        d = r.only(e.outputs[0].index, ("DEPTHWISE_CONV_2D",))
        p = r.only(d.outputs[0].index, ("CONV_2D",))
        add = r.only(p.outputs[0].index, ("ADD",))
        layers = [r.layer(e, "expand", "Relu"), r.layer(d, "depthwise", "Relu"),
                  r.layer(p, "project", "None")]
        joined = x
        if rest[0].name == "CONV_2D":
            layers.append(r.layer(rest[0], "shortcut", "Relu"))
            joined = rest[0].outputs[0].index
        other = [t.index for t in add.inputs if t is not None and t.index != p.outputs[0].index]
        if other != [joined] or add.options.get("activation") != "Relu" \
                or layers[1].stride != (layers[3].stride if len(layers) == 4 else 1):
            raise r.fail(f"block {len(blocks)} (ADD operator {add.index}) does not join a "
                         "strided block with a strided shortcut, or a block with its input, "
                         "through a fused ReLU")
        blocks.append(layers)
        x = add.outputs[0].index
    pool = r.consumers[x][0]
    reshape = r.only(pool.outputs[0].index, ("RESHAPE",))
    fc = r.only(reshape.outputs[0].index, ("FULLY_CONNECTED",))
    softmax = r.only(fc.outputs[0].index, ("SOFTMAX",))
    dense = r.layer(fc, "dense", "None")
    if pool.options.get("filter", (0, 0))[-1] != pool.inputs[0].shape[1]:
        raise r.fail(f"the average pool ({pool.options.get('filter')}) is not over all "
                     f"{pool.inputs[0].shape[1]} time steps")
    # softmax(beta * z): the logits' factor goes into the dense layer.
    beta = float(softmax.options.get("beta", 1.0))  # type: ignore[arg-type]
    dense.kernel, dense.bias = dense.kernel * beta, dense.bias * beta
    return ImportedTENet(_shape_of(r, blocks, rows, features, channels, dense), stem,
                         blocks, dense)


def _shape_of(r: _Reader, blocks: list[list[ImportedLayer]], rows: int, features: int,
              channels: int, dense: ImportedLayer) -> TENetShape:
    """The TENetShape the blocks form; refuses a block plan build_tenet cannot make."""
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
