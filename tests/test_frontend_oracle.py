"""Bit-exactness against MLTK's AudioFeatureGenerator itself (the compiled wrapper in the
reference venv), on fresh varied audio: espeak-ng speech, noise, silence, full-scale square
waves, clipping, DC offsets, very quiet input, sweeps, impulses, mixtures; several settings;
a stream over 10 minutes. Skipped, with the reason, when the reference venv is absent;
tests/test_frontend.py keeps golden vectors from the same oracle for that case."""

from __future__ import annotations

import sys
import zlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "bench" / "frontend"), str(REPO / "tests" / "data" / "frontend")]

import make_golden  # noqa: E402
import reference  # noqa: E402
import signals  # noqa: E402
from kwshost import frontend  # noqa: E402
from kwshost.frontend import FrontendSettings  # noqa: E402

SEED = FrontendSettings()
VARIANTS = {
    "seed": SEED,
    "pcan_activity": replace(SEED, pcan_enable=True, activity_detection_enable=True),
    "mltk_defaults": FrontendSettings(window_size_ms=25, fft_length=0, filterbank_n_channels=32,
                                      noise_reduction_enable=False,
                                      noise_reduction_min_signal_remaining=0.05,
                                      dc_notch_filter_enable=False,
                                      quantize_dynamic_scale_enable=False),
    "narrow_static": replace(SEED, filterbank_n_channels=64, filterbank_lower_band_limit=60.0,
                             filterbank_upper_band_limit=4000.0, log_scale_shift=5,
                             noise_reduction_smoothing_bits=6, dc_notch_filter_coefficient=0.8,
                             quantize_dynamic_scale_range_db=60.0),
    "8khz_20ms_step": replace(SEED, sample_rate_hz=8000, window_step_ms=20, fft_length=0,
                              filterbank_upper_band_limit=3900.0, filterbank_n_channels=40),
    "no_log": replace(SEED, log_scale_enable=False, noise_reduction_enable=False),
}


@pytest.fixture(scope="module")
def oracle(ref_python, native_lib):
    return ref_python


@pytest.mark.parametrize("name", list(VARIANTS))
def test_clips_match_mltk(oracle, name: str) -> None:
    s = VARIANTS[name]
    n = s.sample_length
    clips = signals.clips(22, n, seed=zlib.crc32(name.encode()))
    want_rows, _ = reference.mltk_features(oracle, s.to_params(), clips, "uint16")
    want_int8, _ = reference.mltk_features(oracle, s.to_params(), clips, "int8")
    got = frontend.batch_rows(clips, s)
    assert got.shape == want_rows.shape
    bad = np.argwhere(got != want_rows)
    assert bad.size == 0, f"{len(bad)} values differ, first at clip/row/channel {bad[0]}"
    assert np.array_equal(frontend.spectrograms(clips, s), want_int8)


def test_seed_training_warmup_matches_mltk(oracle) -> None:
    """The seed pads 1000 ms (noise there) before a clip, quantizes all, keeps the clip's rows."""
    rng = np.random.default_rng(11)
    clips = np.stack([signals.make(k, SEED.sample_length, rng) for k in ("speech", "mixture")])
    pad = signals.make("noise", 16000, rng)
    padded = np.concatenate([np.broadcast_to(pad, (2, pad.size)), clips], axis=1)
    want, _ = reference.mltk_features(oracle, SEED.to_params(), padded, "int8")
    got = frontend.spectrograms(clips, SEED, warmup=pad)
    assert np.array_equal(got, want[:, -SEED.spectrogram_shape[0]:])


def test_stream_in_random_chunks_matches_mltk_long_call(oracle) -> None:
    """A 120 s recording (MLTK's one-call limit is 134 s) fed in chunks of 1..4096 samples."""
    audio = signals.stream(120, seed=5)
    want, _ = reference.mltk_features(oracle, SEED.to_params(), audio[None, :])
    fe = frontend.Frontend(SEED)
    rng = np.random.default_rng(2)
    parts, i = [], 0
    while i < audio.size:
        n = int(rng.integers(1, 4097))
        parts.append(fe.process(audio[i:i + n]))
        i += n
    assert np.array_equal(np.concatenate(parts), want[0])


@pytest.mark.slow
def test_stream_over_ten_minutes_matches_mltk(oracle) -> None:
    """11 minutes streamed without a reset. MLTK cannot take it in one call, so it gets 120 s
    segments starting on row boundaries; with noise reduction and notch off (the stages with
    memory) every row must then agree, so any drift in the window would show."""
    audio = signals.stream(660, seed=9)
    s = make_golden.stateless(SEED)
    fe = frontend.Frontend(s)
    ours = np.concatenate([fe.process(audio[i:i + 48000]) for i in range(0, audio.size, 48000)])
    want = make_golden.stream_segments(oracle, s.to_params(), audio, s.window_step)
    assert ours.shape == want.shape
    assert np.array_equal(ours, want)
