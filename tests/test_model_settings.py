"""Models written by older MLTK versions: TFLM-style `fe.*` names, latency_ms 0, long windows.

The device reads a model's settings with `kws_settings_from_model` (C, from the flatbuffer),
and so does the PC pipeline; `FrontendSettings.from_params` feeds the same C setter key by key
from a dictionary. Both must give the same engine settings, for new and old key names alike.
"""

from __future__ import annotations

import ctypes
from pathlib import Path

import numpy as np
import pytest
from kwshost import native
from kwshost.errors import ModelError
from kwshost.frontend import FrontendSettings
from kwshost.metadata import read_params, write_params
from kwshost.pipeline import PcPipeline

REPO = Path(__file__).resolve().parents[1]
ALEXA = REPO / "models" / "mltk_keyword_spotting_alexa.tflite"
LEGACY_NAMES = {
    "fe.filterbank_n_channels": "fe.n_channels",
    "fe.filterbank_upper_band_limit": "fe.upper_band_limit",
    "fe.filterbank_lower_band_limit": "fe.lower_band_limit",
    "fe.noise_reduction_enable": "fe.enable_noise_reduction",
    "fe.noise_reduction_smoothing_bits": "fe.smoothing_bits",
    "fe.noise_reduction_even_smoothing": "fe.even_smoothing",
    "fe.noise_reduction_odd_smoothing": "fe.odd_smoothing",
    "fe.noise_reduction_min_signal_remaining": "fe.min_signal_remaining",
    "fe.pcan_enable": "fe.enable_pcan",
    "fe.pcan_gain_bits": "fe.gain_bits",
    "fe.log_scale_enable": "fe.enable_log",
    "fe.log_scale_shift": "fe.scale_shift",
}
NOT_IN_OLD_MODELS = ("fe.fft_length", "fe.dc_notch_filter_enable",
                     "fe.dc_notch_filter_coefficient", "fe.quantize_dynamic_scale_enable",
                     "fe.quantize_dynamic_scale_range_db")


def _legacy_params() -> dict:
    params = read_params(ALEXA)
    out = {LEGACY_NAMES.get(k, k): v for k, v in params.items() if k not in NOT_IN_OLD_MODELS
           and not k.startswith("fe.activity")}
    out["latency_ms"] = 0
    return out


def _device_settings(model: bytes) -> bytes:
    """What the firmware's own reader makes of a model (kws_settings_from_model)."""
    lib = native.lib()
    lib.kws_binding_settings_size.restype = ctypes.c_size_t
    buf = ctypes.create_string_buffer(lib.kws_binding_settings_size())
    labels = ctypes.create_string_buffer(512)
    lib.kws_settings_from_model.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
                                            ctypes.c_void_p, ctypes.c_size_t]
    assert lib.kws_settings_from_model(buf, model, len(model), labels, 512) == 0
    return buf.raw


@pytest.fixture(scope="module")
def legacy_model(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("legacy") / "legacy.tflite"
    path.write_bytes(write_params(ALEXA.read_bytes(), _legacy_params()))
    return path


def test_old_key_names_mean_the_old_feature_generator(legacy_model: Path) -> None:
    new = FrontendSettings.from_params(read_params(ALEXA))
    old = FrontendSettings.from_params(read_params(legacy_model))
    assert old.filterbank_n_channels == new.filterbank_n_channels == 108
    # the same float32 setting (the metadata spells it 0.4000000059604645, the default 0.4)
    assert np.float32(old.noise_reduction_min_signal_remaining) == \
        np.float32(new.noise_reduction_min_signal_remaining)
    assert new.dc_notch_filter_enable and new.quantize_dynamic_scale_enable
    # older generators had no DC notch and quantized statically; the FFT follows the window
    assert not old.dc_notch_filter_enable and not old.quantize_dynamic_scale_enable
    assert old.fft_length == 0
    assert old.spectrogram_shape == new.spectrogram_shape


def test_an_explicit_new_key_wins_over_the_old_defaults_in_any_order() -> None:
    for order in (1, -1):
        items = [("fe.n_channels", 40), ("fe.dc_notch_filter_enable", True)][::order]
        s = FrontendSettings.from_params(dict(items))
        assert s.filterbank_n_channels == 40 and s.dc_notch_filter_enable
        assert not s.quantize_dynamic_scale_enable


def _key_by_key_settings(params: dict) -> bytes:
    """The engine settings from a dictionary through kws_settings_set (from_params' path)."""
    lib = native.lib()
    buf = ctypes.create_string_buffer(lib.kws_binding_settings_size())
    lib.kws_settings_default.argtypes = [ctypes.c_void_p]
    lib.kws_settings_set.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_double]
    lib.kws_settings_default(buf)
    for key, value in params.items():
        if isinstance(value, bool | int | float):
            lib.kws_settings_set(buf, key.encode(), float(value))
    lib.kws_settings_set_classes.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    assert lib.kws_settings_set_classes(buf, "\n".join(params["classes"]).encode()) == 0
    return buf.raw


def test_key_by_key_setter_agrees_with_the_device_reader(legacy_model: Path) -> None:
    for model in (ALEXA, legacy_model):
        data = model.read_bytes()
        params = read_params(data)
        device = _device_settings(data)
        # the dictionary in reverse order too: an old alias must not override a new key
        for items in (list(params.items()), list(params.items())[::-1]):
            assert _key_by_key_settings(dict(items)) == device, model.name
        assert bytes(PcPipeline(data, params)._settings.raw) == device, model.name


def test_pc_refuses_the_settings_the_device_refuses() -> None:
    data = ALEXA.read_bytes()
    lib = native.lib()
    buf = ctypes.create_string_buffer(lib.kws_binding_settings_size())
    labels = ctypes.create_string_buffer(512)
    for key, value, why in (("detection_threshold", 300, "detection_threshold = 300"),
                            ("classes", [f"c{i}" for i in range(40)], "at most 32")):
        bad = write_params(data, {**read_params(data), key: value})
        assert lib.kws_settings_from_model(buf, bad, len(bad), labels, 512) != 0, key
        with pytest.raises(ModelError, match=why):
            PcPipeline(bad, read_params(bad))


def test_latency_zero_runs_an_inference_every_step(legacy_model: Path) -> None:
    rng = np.random.default_rng(0)
    audio = (rng.normal(0, 2000, 16000 * 3)).astype(np.int16)
    runs = list(PcPipeline.from_model(legacy_model).process(audio))
    steps = [b.time_ms - a.time_ms for a, b in zip(runs, runs[1:], strict=False)]
    assert set(steps) == {10}                      # one inference per 10 ms frontend step
    assert len(runs) > 150                         # well past the detector's 50-result queue


def test_pc_takes_rate_and_latency_as_the_device_reads_them() -> None:
    data = ALEXA.read_bytes()
    odd = write_params(data, {**read_params(data), "fe.sample_rate_hz": "sixteen",
                              "latency_ms": 350})
    pipe = PcPipeline(odd, read_params(odd))   # the device skips a key it cannot read
    assert (pipe.sample_rate, pipe.latency_ms) == (16000, 350)
    runs = list(pipe.process(np.zeros(16000 * 2, np.int16)))
    assert runs and {b.time_ms - a.time_ms for a, b in zip(runs, runs[1:], strict=False)} == {350}
