"""Regenerates golden.npz from MLTK's AudioFeatureGenerator (run once; needs .venv-ref):

    .venv/bin/python tests/data/frontend/make_golden.py

The inputs are stored with the outputs, so tests/test_frontend.py proves bit-exactness
without MLTK. The long stream is stored as a SHA-256 of its rows (its input is regenerated
from a seed with numpy only), after checking it against MLTK in 120 s segments.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[3]
sys.path[:0] = [str(REPO / "host"), str(REPO / "bench" / "frontend")]

import reference  # noqa: E402
import signals  # noqa: E402
from kwshost import frontend  # noqa: E402

SEED = frontend.FrontendSettings()
ALT = replace(SEED, window_size_ms=25, filterbank_n_channels=40, fft_length=0,
              filterbank_lower_band_limit=300.0, filterbank_upper_band_limit=3800.0,
              noise_reduction_smoothing_bits=8, pcan_enable=True, activity_detection_enable=True,
              dc_notch_filter_enable=False, quantize_dynamic_scale_enable=False)
NOISELESS = ["noise", "brown", "silence", "square", "dc", "quiet", "sweep", "impulses"]
STREAM_SECONDS = 720  # 12 minutes
STREAM_SEED = 20261125


def stateless(s: frontend.FrontendSettings) -> frontend.FrontendSettings:
    """Settings whose rows depend only on the current window (no noise estimate, no notch)."""
    return replace(s, noise_reduction_enable=False, dc_notch_filter_enable=False)


def long_stream() -> np.ndarray:
    """12 minutes of numpy-only audio (speech replaced by its synthetic stand-in), the same on
    every machine."""
    rng = np.random.default_rng(STREAM_SEED)
    n = STREAM_SECONDS * signals.RATE
    parts, have = [], 0
    while have < n:
        k = int(rng.integers(signals.RATE // 2, signals.RATE * 8))
        parts.append(signals.make(NOISELESS[int(rng.integers(len(NOISELESS)))], k, rng,
                                  synthetic=True))
        have += k
    return np.concatenate(parts)[:n]


def stream_segments(py, params, audio, step, segment_s=120):
    """MLTK rows of a long stream from overlapping segments that start on row boundaries."""
    rows = []
    rate = signals.RATE
    per = segment_s * rate
    start = 0
    while True:
        seg = audio[start:start + per]
        seg = seg[:len(seg) // 16 * 16]
        r, _ = reference.mltk_features(py, params, seg[None, :])
        rows.append(r[0])
        next_start = start + r.shape[1] * step
        if start + per >= audio.size:
            break
        start = next_start
    return np.concatenate(rows)


def main() -> None:
    py = reference.ref_python()
    assert py, "needs the reference venv"
    out: dict[str, np.ndarray] = {}
    rng = np.random.default_rng(7)
    kinds = ["speech", "square", "clipped", "dc", "quiet", "mixture"]
    seed_in = np.stack([signals.make(k, 9600, rng) for k in kinds])
    alt_in = np.stack([signals.make(k, 8000, rng) for k in ("speech", "noise", "sweep")])
    for name, s, x in (("seed", SEED, seed_in), ("alt", ALT, alt_in)):
        out[f"{name}_input"] = x
        out[f"{name}_rows"], _ = reference.mltk_features(py, s.to_params(), x, "uint16")
        out[f"{name}_int8"], _ = reference.mltk_features(py, s.to_params(), x, "int8")
        assert np.array_equal(frontend.batch_rows(x, s), out[f"{name}_rows"]), name
    # The seed's training warm-up: 1000 ms of silence before a 1.2 s clip, quantized together.
    clip = signals.make("speech", SEED.sample_length, rng)
    padded = np.concatenate([np.zeros(16000, np.int16), clip])
    full, _ = reference.mltk_features(py, SEED.to_params(), padded[None, :], "int8")
    out["warmup_input"] = clip
    out["warmup_int8"] = full[0][-SEED.spectrogram_shape[0]:]
    assert np.array_equal(frontend.spectrogram(clip, SEED, warmup=1000), out["warmup_int8"])
    # 12 minutes, continuous: ours in one stream vs MLTK segment by segment (stateless path).
    audio = long_stream()
    st = stateless(SEED)
    ours = frontend.Frontend(st).process(audio)
    ref = stream_segments(py, st.to_params(), audio, st.window_step)
    assert ref.shape == ours.shape and np.array_equal(ref, ours), "long stream differs"
    out["stream_sha256"] = np.frombuffer(hashlib.sha256(ours.tobytes()).digest(), np.uint8)
    out["stream_rows"] = np.array(ours.shape, dtype=np.int64)
    np.savez_compressed(Path(__file__).with_name("golden.npz"), **out)
    print("golden.npz written; long stream rows:", ours.shape)


if __name__ == "__main__":
    main()
