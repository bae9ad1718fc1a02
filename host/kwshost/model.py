"""TENet12 in Keras: the seed's keyword model (temporal efficient network, 3 groups of 4 blocks).

Layer plan, as the seed's converted graph shows it (input 118 x 1 x 108, time first):

    conv 3x1 (108 -> 32, no activation)
    12 x inverted bottleneck block:
        conv 1x1 (32 -> 96) + ReLU
        depthwise 9x1, stride 2 on the first block of each group + ReLU
        conv 1x1 (96 -> 32), no activation
        shortcut: identity, or conv 1x1 stride 2 + ReLU on the first block of a group
        add + ReLU
    average pool over time (15 steps), reshape, dense (2), softmax

Every convolution is followed by batch normalization while training; the TFLite converter folds
it into the convolution, so the int8 graph holds only CONV_2D, DEPTHWISE_CONV_2D, ADD,
AVERAGE_POOL_2D, RESHAPE, FULLY_CONNECTED and SOFTMAX: the seed's operators.
"""

from __future__ import annotations

import functools
import zipfile
from dataclasses import dataclass
from pathlib import Path

from kwshost.errors import KwsError


@dataclass(frozen=True)
class TENetShape:
    time_steps: int = 118
    features: int = 108
    classes: int = 2
    channels: int = 32
    expansion: int = 3            # 96 = 3 x 32 channels inside a block
    groups: int = 3
    blocks_per_group: int = 4
    kernel: int = 9


def time_depthwise_sum(x, kernel, stride: int):
    """A depthwise convolution along time with 'same' padding, as TensorFlow pads (the extra
    row after), written as k shifted products: x (batch, time, 1, C), kernel (k, 1, C, 1)."""
    import keras

    k, steps = kernel.shape[0], x.shape[1]
    out_steps = -(-steps // stride)
    pad = max((out_steps - 1) * stride + k - steps, 0)
    x = keras.ops.pad(x, [[0, 0], [pad // 2, pad - pad // 2], [0, 0], [0, 0]])
    w = kernel[:, 0, :, 0]                                    # (k, C)
    span = (out_steps - 1) * stride + 1
    return sum(x[:, i:i + span:stride] * w[i] for i in range(k))


@functools.cache
def custom_objects() -> dict:
    """Layers of ours that `keras.models.load_model` must know."""
    import keras

    class Squeeze(keras.layers.Layer):
        """(batch, 1, 1, C) -> (batch, C) as one RESHAPE with a constant shape [-1, C].

        Keras' Flatten/Reshape compute the batch size at run time, which the converter turns
        into SHAPE, STRIDED_SLICE and PACK operators the seed's graph does not have.
        """

        def call(self, x):
            return keras.ops.reshape(x, (-1, x.shape[-1]))

        def compute_output_shape(self, input_shape):
            return (input_shape[0], input_shape[-1])

    class TimeDepthwise(keras.layers.DepthwiseConv2D):
        """DepthwiseConv2D with a (k, 1) kernel and 'same' padding, the block's time filter.

        On TensorFlow it is the Keras layer itself (so conversion emits DEPTHWISE_CONV_2D and
        the CPU path is unchanged). On other backends it computes the same sum as k shifted
        products, which XLA fuses, where its grouped convolution is slow (3x a whole step on
        a CPU under JAX: bench/train/step.py). Same weights either way."""

        def call(self, inputs):
            k, width = self.kernel_size
            if (keras.backend.backend() == "tensorflow" or width != 1
                    or self.depth_multiplier != 1 or self.padding != "same"
                    or self.data_format != "channels_last" or inputs.shape[2] != 1):
                return super().call(inputs)
            out = time_depthwise_sum(inputs, self.kernel, self.strides[0])
            if self.use_bias:
                out = out + self.bias
            return self.activation(out) if self.activation is not None else out

    return {"Squeeze": Squeeze, "TimeDepthwise": TimeDepthwise}


def build_tenet(shape: TENetShape = TENetShape(), batch_size: int | None = None,
                dropout: float = 0.0, native_depthwise: bool = False):
    """The Keras model; input (batch, time, 1, features): the int8 spectrogram values as floats.

    Training on the raw int8 values (-128..127) makes the converter calibrate the input to
    scale 1, zero point 0, so the device feeds the frontend's int8 rows in unchanged.
    `native_depthwise`: Keras' DepthwiseConv2D instead of TimeDepthwise (same weights and
    results; for timing the two, bench/train/step.py).
    """
    import keras
    from keras import layers

    def bn(x):
        return layers.BatchNormalization(momentum=0.99, epsilon=1e-3)(x)

    inputs = keras.Input(shape=(shape.time_steps, 1, shape.features), batch_size=batch_size,
                         name="spectrogram")
    x = layers.Conv2D(shape.channels, (3, 1), padding="same", name="stem")(inputs)
    x = bn(x)
    wide = shape.channels * shape.expansion
    for g in range(shape.groups):
        for b in range(shape.blocks_per_group):
            stride = 2 if b == 0 else 1
            y = layers.Conv2D(wide, 1, padding="valid")(x)
            y = layers.ReLU()(bn(y))
            depthwise = (layers.DepthwiseConv2D if native_depthwise
                         else custom_objects()["TimeDepthwise"])
            y = depthwise((shape.kernel, 1), strides=(stride, stride), padding="same")(y)
            y = layers.ReLU()(bn(y))
            y = layers.Conv2D(shape.channels, 1, padding="valid")(y)
            y = bn(y)
            if stride == 2:
                shortcut = layers.Conv2D(shape.channels, 1, strides=(2, 2), padding="same")(x)
                shortcut = layers.ReLU()(bn(shortcut))
            else:
                shortcut = x
            x = layers.ReLU(name=f"g{g}b{b}_out")(layers.Add()([y, shortcut]))
    steps = x.shape[1]
    x = layers.AveragePooling2D(pool_size=(steps, 1))(x)
    x = custom_objects()["Squeeze"]()(x)
    if dropout:
        x = layers.Dropout(dropout)(x)
    x = layers.Dense(shape.classes)(x)
    outputs = layers.Softmax(name="scores")(x)
    return keras.Model(inputs, outputs, name="tenet12")


def check_keras_file(path: Path) -> None:
    """Keras 3 loads a .keras archive (a zip) or a legacy .h5; anything else is named here,
    not in a Keras traceback after TensorFlow has loaded."""
    if path.is_dir():
        raise KwsError(f"{path} is a folder, not a Keras model file",
                       hint="give a .keras file (a training run's best.keras or last.keras)")
    with path.open("rb") as f:
        head = f.read(8)
    if not (zipfile.is_zipfile(path) or head == b"\x89HDF\r\n\x1a\n"):
        raise KwsError(f"{path} is not a Keras model file (.keras archive or .h5)",
                       hint="give a training run's best.keras or last.keras")
