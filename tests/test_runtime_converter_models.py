"""Models made by TensorFlow's converter that the runtime must take as they are."""

from __future__ import annotations

import struct

import numpy as np
from kwshost.audio import write_wav
from kwshost.cli import main
from kwshost.flatbuf import Builder
from kwshost.metadata import write_params
from kwshost.runtime import Interpreter
from test_summarize_graph import Ints, Tab, _write


class _Int64At4(Builder):
    """Places every buffer's data 4 bytes past an 8-byte boundary: flatbuffers promise
    vectors 4-byte alignment only, and TFLite's converter writes int64 data (PAD's paddings,
    int16x8 biases) there."""

    def bytes_vector(self, data: bytes, align: int = 4) -> int:
        while (self.pos + 4) % 8 != 4:
            self.out.append(0)
        at = self.put("I", len(data))
        self.out += data
        return at


def _pad_model() -> bytes:
    """int8 1x5x1x2 -> PAD with int64 paddings [[0,0],[1,2],[0,0],[0,0]] -> int8 1x8x1x2."""
    def quant() -> Tab:
        return Tab([None, None, Ints("f", [0.5]), Ints("q", [-3])])

    pads = np.array([[0, 0], [1, 2], [0, 0], [0, 0]], np.int64)
    buffers = [Tab([]), Tab([pads.tobytes()])]
    tensors = [Tab([Ints("i", [1, 5, 1, 2]), ("B", 9), ("I", 0), "x", quant()]),
               Tab([Ints("i", [4, 2]), ("B", 4), ("I", 1), "paddings", None]),
               Tab([Ints("i", [1, 8, 1, 2]), ("B", 9), ("I", 0), "y", quant()])]
    operators = [Tab([("I", 0), Ints("i", [0, 1]), Ints("i", [2])])]
    opcodes = [Tab([("b", 34), None, ("i", 1), ("i", 34)])]
    subgraph = Tab([tensors, Ints("i", [0]), Ints("i", [2]), operators])
    b = _Int64At4(base=8)
    root = _write(b, Tab([("I", 3), opcodes, [subgraph], "pad int64", buffers]), {})
    return struct.pack("<I", root) + b"TFL3" + bytes(b.out)


def test_int64_constants_on_a_4_byte_boundary_are_not_damage(tmp_path, capsys):
    model = _pad_model()
    at = model.find(np.array([0, 0, 1, 2], np.int64).tobytes())
    assert at % 8 == 4  # the layout this test is about
    x = np.arange(10, dtype=np.int8).reshape(1, 5, 1, 2)
    y = Interpreter(model).invoke(x)
    assert np.array_equal(y, np.pad(x, [[0, 0], [1, 2], [0, 0], [0, 0]], constant_values=-3))
    path = tmp_path / "pad.tflite"
    path.write_bytes(model)
    assert main(["summarize", str(path)]) == 0
    assert "n/a" not in capsys.readouterr().out


def _two_input_model() -> bytes:
    """int8 x 1x2 + int8 y 1x2 -> int8 1x2 (ADD): a second input no spectrogram fills."""
    def quant() -> Tab:
        return Tab([None, None, Ints("f", [0.05]), Ints("q", [0])])

    tensors = [Tab([Ints("i", [1, 2]), ("B", 9), ("I", 0), name, quant()])
               for name in ("x", "y", "out")]
    operators = [Tab([("I", 0), Ints("i", [0, 1]), Ints("i", [2]), ("B", 11),
                      Tab([("B", 0)])])]
    opcodes = [Tab([("b", 0), None, ("i", 1), ("i", 0)])]
    subgraph = Tab([tensors, Ints("i", [0, 1]), Ints("i", [2]), operators])
    b = Builder(base=8)
    root = _write(b, Tab([("I", 3), opcodes, [subgraph], "two inputs", [Tab([])]]), {})
    return struct.pack("<I", root) + b"TFL3" + bytes(b.out)


def test_a_model_with_a_second_input_is_refused_for_listening(tmp_path, capsys):
    """The engine fills input 0 with the spectrogram; a second input would stay whatever
    bytes the arena held, so such a model is refused with the reason, not run."""
    data = _two_input_model()
    assert len(Interpreter(data).input_details) == 2  # the runtime itself takes it
    params = {"classes": ["a", "b"], "fe.filterbank_n_channels": 2, "fe.sample_length_ms": 30,
              "fe.window_size_ms": 30, "fe.window_step_ms": 10}
    model = tmp_path / "two_inputs.tflite"
    model.write_bytes(write_params(data, params))
    wav = tmp_path / "a.wav"
    write_wav(wav, np.zeros(1600, np.int16))
    assert main(["listen", "--pc", "--wav", str(wav), "--model", str(model)]) == 2
    assert "more than one input" in capsys.readouterr().err
