"""microWakeWord's models (ESPHome, pymicro-wakeword) as kwshost models.

A microWakeWord model is a streaming .tflite (3 new feature rows in, one uint8 probability
out, its past kept in resource variables) with a JSON manifest beside it instead of
SL_PARAMSv1 metadata:

    {"type": "micro", "wake_word": "Alexa", "model": "alexa.tflite",
     "micro": {"probability_cutoff": 0.9, "sliding_window_size": 5, "feature_step_size": 10}}

`adopt` writes the manifest's settings as SL_PARAMSv1 metadata, so the firmware, the PC
pipeline and every command read such a model as they read ours. The frontend settings are
microWakeWord's fixed ones (TFLite Micro's micro_speech frontend: 30 ms windows every
feature_step_size ms, 40 channels 125-7500 Hz, noise reduction, PCAN, log scale) with its
static int8 quantization (value * 256 / 666 - 128), which is ours without dynamic scaling.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from kwshost.errors import ModelError
from kwshost.frontend import FrontendSettings

MANIFEST_TYPE = "micro"
WINDOW_MS = 30
CHANNELS = 40

# TFLite Micro's micro_speech frontend, as microWakeWord trains and ESPHome runs it (the
# other fe.* keys keep FrontendSettings' values: activity detection off, fft_length 512).
FRONTEND = {
    "sample_rate_hz": 16000,
    "window_size_ms": WINDOW_MS,
    "filterbank_n_channels": CHANNELS,
    "filterbank_lower_band_limit": 125.0,
    "filterbank_upper_band_limit": 7500.0,
    "noise_reduction_enable": True,
    "noise_reduction_smoothing_bits": 10,
    "noise_reduction_even_smoothing": 0.025,
    "noise_reduction_odd_smoothing": 0.06,
    "noise_reduction_min_signal_remaining": 0.05,
    "pcan_enable": True,
    "pcan_strength": 0.95,
    "pcan_offset": 80.0,
    "pcan_gain_bits": 21,
    "log_scale_enable": True,
    "log_scale_shift": 6,
    "dc_notch_filter_enable": False,
    "quantize_dynamic_scale_enable": False,
}
SUPPRESSION_MS = 1000  # a refractory second (ESPHome skips a fixed count of inferences)


def find_manifest(model: Path) -> Path | None:
    """The microWakeWord manifest that names MODEL: MODEL with .json, else a .json beside it
    whose "model" is MODEL's file name."""
    same_stem = model.with_suffix(".json")
    candidates = [same_stem] + sorted(p for p in model.parent.glob("*.json") if p != same_stem)
    for path in candidates:
        manifest = _read_json(path)
        if (isinstance(manifest, dict) and manifest.get("type") == MANIFEST_TYPE
                and Path(str(manifest.get("model", ""))).name == model.name):
            return path
    return None


def _read_json(path: Path) -> object:
    try:
        if path.stat().st_size > 1 << 20:
            return None
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def _number(micro: dict, key: str, low: float, high: float, path: Path) -> float:
    value = micro.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ModelError(f"{path}: micro.{key} is {value!r}; a number in [{low}, {high}] is "
                         "expected", hint="a microWakeWord manifest (.json beside the model)")
    return float(value)


def params_from_manifest(manifest: dict, path: Path, input_rows: int) -> dict[str, object]:
    """SL_PARAMSv1 settings for a microWakeWord model whose input takes INPUT_ROWS feature
    rows per inference, from its manifest (read from PATH, named in errors)."""
    micro = manifest.get("micro")
    if not isinstance(micro, dict):
        raise ModelError(f"{path}: no \"micro\" settings", hint="a microWakeWord manifest has "
                         "probability_cutoff and sliding_window_size under \"micro\"")
    cutoff = _number(micro, "probability_cutoff", 0.0, 1.0, path)
    if "sliding_window_size" not in micro and "sliding_window_average_size" in micro:
        micro = {**micro, "sliding_window_size": micro["sliding_window_average_size"]}  # v1
    window = int(_number(micro, "sliding_window_size", 1, 50, path))
    step_ms = int(_number({"feature_step_size": 10, **micro}, "feature_step_size", 1,
                          WINDOW_MS, path))
    latency = step_ms * input_rows
    word = str(manifest.get("wake_word") or manifest.get("model") or "wake word")
    # The input holds the newest INPUT_ROWS rows; the model keeps the rest itself.
    frontend = FrontendSettings(**FRONTEND, window_step_ms=step_ms,
                                sample_length_ms=WINDOW_MS + (input_rows - 1) * step_ms)
    return {
        **frontend.to_params(),
        "latency_ms": latency,
        "classes": [word.strip().lower().replace(" ", "_")],
        # The detector averages the results of the last `window` inferences (those at most
        # (window - 1) * latency ms old) and fires above the uint8 threshold: mean > cutoff
        # on the model's 1/256 probability scale, to the nearest lower step.
        "average_window_duration_ms": (window - 1) * latency,
        "minimum_count": window,
        "detection_threshold": min(254, math.floor(cutoff * 256)),
        "suppression_ms": SUPPRESSION_MS,
    }


def adopt(model: Path, data: bytes) -> tuple[bytes, Path] | None:
    """DATA (the bytes of MODEL) with SL_PARAMSv1 metadata made from its microWakeWord
    manifest, and the manifest's path; None when MODEL has metadata already or no manifest."""
    from kwshost.metadata import find_metadata, write_params
    from kwshost.tflite_graph import _Graph

    try:
        if find_metadata(data) is not None:
            return None
    except ModelError:
        return None  # not a model we can read: the caller's own checks say so
    manifest_path = find_manifest(model)
    if manifest_path is None:
        return None
    graph = _Graph(data)
    inputs = graph.inputs()
    shape = graph.tensor(inputs[0]).shape if inputs else ()
    if len(shape) < 2 or math.prod(shape) % CHANNELS or shape[-1] != CHANNELS:
        raise ModelError(f"{model}: its manifest {manifest_path.name} says microWakeWord, but "
                         f"its input is {'x'.join(map(str, shape)) or 'missing'}, not rows of "
                         f"{CHANNELS} features")
    rows = math.prod(shape) // CHANNELS
    manifest = _read_json(manifest_path)
    assert isinstance(manifest, dict)
    params = params_from_manifest(manifest, manifest_path, rows)
    return write_params(data, params), manifest_path


def no_settings_hint(data: bytes) -> str:
    """What to do about a model with no settings: for a streaming model (microWakeWord's,
    with no manifest beside it), its manifest; else SL_PARAMSv1 metadata."""
    from kwshost.tflite_graph import keeps_state

    try:
        streaming = keeps_state(data)
    except ModelError:
        streaming = False
    if streaming:
        return ("a streaming model such as microWakeWord's takes its settings from the JSON "
                "manifest it ships with: put NAME.json beside NAME.tflite (kwshost reads it)")
    return ("a keyword model carries its class labels in SL_PARAMSv1: add them with "
            "`kwshost params M.tflite --set classes=A,B,... -o OUT.tflite`")

