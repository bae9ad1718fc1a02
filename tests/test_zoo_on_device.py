"""Other people's keyword models (MLTK 0.20's zoo) on the emulated board: the board reports
what the PC reports, inference by inference; per-class thresholds are read as MLTK writes
them; a model that lacks the DC notch and dynamic quantization keys gets MLTK's features
(both off); a model that is not an audio model is refused as such, not as a damaged file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_in_ref
from device_helpers import kwshost, model_image_file, qemu_firmware, spoken_wav

ZOO = {  # archive -> the .tflite in it
    "tflite_micro_speech": "tflite_micro_speech.tflite",
    "keyword_spotting_on_off_v3": "keyword_spotting_on_off_v3.tflite",
    "keyword_spotting_alexa": "keyword_spotting_alexa.tflite",
    "image_classification": "image_classification.tflite",
}


@pytest.fixture(scope="module")
def zoo(mltk_models) -> dict[str, Path]:
    return {name: mltk_models[f"{name}/{file}"] for name, file in ZOO.items()}


def _events(stdout: str) -> list[dict]:
    return [e for e in map(json.loads, stdout.splitlines()) if e["type"] != "link"]


@pytest.mark.slow
@pytest.mark.parametrize("name, words, labels", [
    ("tflite_micro_speech", ["yes", "no", "yes"], ["yes", "no", "yes"]),
    ("keyword_spotting_on_off_v3", ["on", "off"], None),  # latency 10 ms: 100 inferences/s
])
def test_zoo_model_on_the_board_reports_what_the_pc_reports(zoo, tmp_path, name, words,
                                                             labels) -> None:
    from kwshost.metadata import read_params
    from kwshost.qemu import QemuBoard

    model = zoo[name]
    wav = spoken_wav(tmp_path / "speech.wav", words, 0.9)
    pc = kwshost("listen", "--pc", "--model", str(model), "--wav", str(wav), "--verbose",
                 "--json")
    assert pc.returncode == 0, pc.stderr
    pc_events = _events(pc.stdout)
    if labels is not None:
        assert [e["label"] for e in pc_events if e["type"] == "detection"] == labels
    with QemuBoard(qemu_firmware(), model_image=model_image_file(tmp_path, model)) as board:
        dev = kwshost("listen", "--device", "--port", board.url, "--model", str(model),
                      "--wav", str(wav), "--verbose", "--json")
        info = kwshost("info", "--port", board.url)  # still answering afterwards
    assert dev.returncode == 0, dev.stderr
    assert _events(dev.stdout) == pc_events and len(pc_events) > 20
    classes = len(read_params(model)["classes"])  # type: ignore[arg-type]
    assert info.returncode == 0 and f"classes {classes}" in info.stdout


def test_per_class_thresholds_are_read_as_mltk_writes_them(zoo, tmp_path) -> None:
    """on_off_v3 carries detection_threshold_list (242, 242, 255) and no detection_threshold:
    the firmware ran it at the default 50, firing on averaged scores of 80-134. Now each
    class has its own threshold, on the PC and the board (same C detector)."""
    from kwshost.detector import DetectorSettings
    from kwshost.metadata import read_params

    model = zoo["keyword_spotting_on_off_v3"]
    assert DetectorSettings.from_params(read_params(model)).class_thresholds == (242, 242, 255)
    wav = spoken_wav(tmp_path / "speech.wav", ["on", "off", "on"], 0.9)
    scores = []
    for listed in ("255,255,255", "242,242,255"):   # nothing exceeds 255
        changed = tmp_path / f"{listed}.tflite"
        assert kwshost("params", str(model), "--set", f"detection_threshold_list={listed}",
                       "-o", str(changed)).returncode == 0
        out = kwshost("listen", "--pc", "--model", str(changed), "--wav", str(wav), "--json")
        assert out.returncode == 0 and "warning" not in out.stderr, out.stderr
        limits = [int(t) for t in listed.split(",")]
        found = [e for e in _events(out.stdout) if e["type"] == "detection"]
        assert all(e["score"] > limits[e["class_index"]] for e in found), found
        scores.append(len(found))
    assert scores[0] == 0 < scores[1]   # the thresholds decide
    shown = kwshost("params", str(model))
    line = next(s for s in shown.stdout.splitlines() if s.startswith("detection_threshold_list"))
    assert "ignores" not in line


def test_an_image_model_is_refused_as_not_audio(zoo) -> None:
    out = kwshost("flash", "--target", "qemu", "--model", str(zoo["image_classification"]))
    assert out.returncode == 2
    assert "not an audio model" in out.stderr and "truncated" not in out.stderr


FEATURES_IN_MLTK = r"""
import sys, numpy as np, soundfile as sf
from mltk.core import load_tflite_model
from mltk.core.tflite_model_parameters import TfliteModelParameters
from mltk.core.preprocess.audio.audio_feature_generator import (
    AudioFeatureGenerator, AudioFeatureGeneratorSettings)
model, wav, out = sys.argv[1:]
settings = AudioFeatureGeneratorSettings()
for key, value in TfliteModelParameters.load_from_tflite_model(load_tflite_model(model)).items():
    if key.startswith("fe."):
        settings[key] = value
x, _ = sf.read(wav, dtype="int16")
x = x[:int(settings.sample_rate_hz * settings.sample_length_ms / 1000)]
np.save(out, AudioFeatureGenerator(settings).process_sample(x, dtype=np.int8))
"""


def test_a_model_without_the_dc_notch_and_quantization_keys_gets_mltks_features(
        zoo, ref_python, tmp_path) -> None:
    """MLTK's zoo model tflite_micro_speech names its frontend's settings but not the DC notch
    or dynamic quantization, which came later: MLTK computes its features with both off; the
    firmware took the bundled model's (on), and 1,461 of 1,960 values differed."""
    import numpy as np
    import soundfile as sf
    from device_helpers import say

    model, wav = zoo["tflite_micro_speech"], tmp_path / "yes.wav"
    speech = say("yes no")   # speech from the first sample: the model looks at 1 s
    sf.write(str(wav), (speech / max(1e-9, abs(speech).max()) * 16000).astype(np.int16),
             16000, subtype="PCM_16")
    ours = tmp_path / "ours.npy"
    assert kwshost("features", str(wav), "--model", str(model), "-o", str(ours)).returncode == 0
    run_in_ref(ref_python, FEATURES_IN_MLTK, str(model), str(wav), str(tmp_path / "mltk.npy"))
    theirs = np.load(tmp_path / "mltk.npy")
    np.testing.assert_array_equal(np.load(ours), theirs.reshape(np.load(ours).shape))
