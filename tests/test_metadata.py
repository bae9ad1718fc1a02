"""SL_PARAMSv1 metadata: read MLTK's model, write ours, and check both ways with MLTK itself."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import run_in_ref
from kwshost import metadata
from kwshost.errors import ModelError

ALEXA = Path(__file__).resolve().parents[1] / "models" / "mltk_keyword_spotting_alexa.tflite"

# One MLTK process for both directions: reads argv[1]'s parameters (printed as JSON) and
# writes parameters with MLTK's writer into a copy of argv[2], saved to argv[3].
MLTK_ROUND_TRIP = """
import json, sys
from mltk.core.tflite_model_parameters import TfliteModelParameters
p = TfliteModelParameters.load_from_tflite_file(sys.argv[1])
print(json.dumps({k: (v.hex() if isinstance(v, bytes) else v) for k, v in p.items()}))
p = TfliteModelParameters()
p['name'] = 'written_by_mltk'
p['threshold'] = 190
p['gain'] = -3
p['ratio'] = 0.5
p['on'] = True
p['classes'] = ['a', 'b', '_c']
p.add_to_tflite_file(sys.argv[2], output=sys.argv[3])
"""

SAMPLE = {
    "name": "kws_test", "version": 3, "classes": ["alexa", "_unknown_"],
    "detection_threshold": 204, "volume_gain": -6, "big": 2**40, "neg_big": -2**40,
    "fe.filterbank_upper_band_limit": 7500.0, "fe.pcan_strength": 0.95,
    "fe.pcan_enable": False, "fe.noise_reduction_enable": True,
    "blob": b"\x00\x01\xff", "ints": [1, -2, 3], "floats": [0.5, 1.25],
    "empty": [], "unicode": "äöü ✓",
}


def test_reads_mltk_alexa_parameters():
    params = metadata.read_params(ALEXA)
    assert params["classes"] == ["alexa", "_unknown_"]
    assert params["detection_threshold"] == 204
    assert params["fe.filterbank_n_channels"] == 108
    assert params["fe.sample_rate_hz"] == 16000
    assert params["fe.noise_reduction_enable"] is True
    assert params["fe.pcan_enable"] is False
    assert params["fe.filterbank_upper_band_limit"] == 7500.0
    assert params["runtime_memory_size"] == 54344


def test_write_then_read_round_trip():
    model = metadata.write_params(ALEXA.read_bytes(), SAMPLE)
    back = metadata.read_params(model)
    assert back == SAMPLE
    assert type(back["fe.pcan_enable"]) is bool


def test_replace_keeps_one_entry_and_model_intact():
    original = ALEXA.read_bytes()
    raw = metadata.find_metadata(original)
    # A payload that fits is written over the old one: only its bytes change.
    once = metadata.write_params(original, {"a": 1})
    twice = metadata.write_params(once, {"b": "x"})
    assert metadata.read_params(twice) == {"b": "x"}
    assert len(once) == len(twice) == len(original)
    at = original.index(raw)
    assert twice[:at] == original[:at] and twice[at + len(raw):] == original[at + len(raw):]
    # One that does not fit: a new root in front, the original embedded unchanged after it.
    big = metadata.write_params(original, {"c": "y" * (len(raw) + 100)})
    assert metadata.read_params(big) == {"c": "y" * (len(raw) + 100)}
    assert big.endswith(original)
    entries = [len(metadata.Buf(m).root().tables(6)) for m in (original, big)]
    assert entries[0] == entries[1]                  # replaced, not added


def test_explicit_types():
    model = metadata.write_params(ALEXA.read_bytes(), {"x": metadata.Typed(5, "int32"),
                                                       "y": metadata.Typed(1.5, "double")})
    assert metadata.read_params(model) == {"x": 5, "y": 1.5}


def test_model_without_metadata_reads_empty(tmp_path):
    # A model whose SL_PARAMSv1 name is changed has no parameters.
    data = ALEXA.read_bytes().replace(b"SL_PARAMSv1", b"XX_PARAMSv1")
    assert metadata.read_params(data) == {}


@pytest.mark.parametrize("bad", [b"", b"abcd", b"\x08\x00\x00\x00TFL3",
                                 b"\xff\xff\xff\x7fTFL3" + bytes(16)])
def test_malformed_models_raise_model_error(bad):
    with pytest.raises(ModelError):
        metadata.read_params(bad)


def test_corrupted_metadata_raises_model_error_or_reads():
    data = bytearray(ALEXA.read_bytes())
    raw = metadata.find_metadata(bytes(data))
    start = bytes(data).index(raw)
    rng = np.random.default_rng(1)
    for _ in range(200):
        bad = bytearray(data)
        for pos in rng.integers(start, start + len(raw), 3):
            bad[pos] = int(rng.integers(0, 256))
        try:
            metadata.read_params(bytes(bad))
        except ModelError:
            pass


def test_unsupported_value_type():
    with pytest.raises(ModelError):
        metadata.write_params(ALEXA.read_bytes(), {"x": {"nested": 1}})


def test_written_model_still_runs_in_tflite():
    tf = pytest.importorskip("tensorflow")
    model = metadata.write_params(ALEXA.read_bytes(), SAMPLE)
    interp = tf.lite.Interpreter(model_content=model)
    interp.allocate_tensors()
    inp = interp.get_input_details()[0]
    x = np.random.default_rng(0).integers(-128, 128, inp["shape"], dtype=np.int8)
    outputs = []
    for content in (model, ALEXA.read_bytes()):
        it = tf.lite.Interpreter(model_content=content)
        it.allocate_tensors()
        it.set_tensor(inp["index"], x)
        it.invoke()
        outputs.append(it.get_tensor(it.get_output_details()[0]["index"]))
    np.testing.assert_array_equal(outputs[0], outputs[1])


@pytest.fixture(scope="module")
def mltk_round_trip(ref_python, tmp_path_factory):
    """(what MLTK read from our file, the path of a file MLTK wrote)."""
    tmp = tmp_path_factory.mktemp("mltk")
    ours = tmp / "ours.tflite"
    ours.write_bytes(metadata.write_params(ALEXA.read_bytes(), SAMPLE))
    src = tmp / "src.tflite"
    src.write_bytes(metadata.write_params(ALEXA.read_bytes(), {"old": 1}))
    out = tmp / "mltk.tflite"
    read = json.loads(run_in_ref(ref_python, MLTK_ROUND_TRIP, str(ours), str(src), str(out)))
    return read, out


def test_mltk_reads_what_we_write(mltk_round_trip):
    expected = {k: (v.hex() if isinstance(v, bytes) else v) for k, v in SAMPLE.items()}
    assert mltk_round_trip[0] == expected


def test_we_read_what_mltk_writes(mltk_round_trip):
    assert metadata.read_params(mltk_round_trip[1]) == {
        "name": "written_by_mltk", "threshold": 190, "gain": -3, "ratio": 0.5, "on": True,
        "classes": ["a", "b", "_c"]}
