"""The frontend (firmware/frontend through kwshost.frontend) against golden vectors made once
from MLTK's AudioFeatureGenerator (tests/data/frontend/make_golden.py), so bit-exactness is
proven without MLTK installed; plus streaming, settings, audio reading and the CLI."""

from __future__ import annotations

import hashlib
import logging
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "tests" / "data" / "frontend" / "golden.npz"
sys.path.insert(0, str(REPO / "tests" / "data" / "frontend"))

from kwshost import frontend  # noqa: E402
from kwshost.errors import AudioError, KwsError  # noqa: E402
from kwshost.frontend import FrontendSettings  # noqa: E402


@pytest.fixture(scope="module")
def golden(native_lib):
    with np.load(GOLDEN) as g:
        return dict(g)


@pytest.fixture(scope="module")
def make_golden():
    import make_golden as mg

    return mg


@pytest.mark.parametrize("name", ["seed", "alt"])
def test_rows_match_golden(golden, make_golden, name: str) -> None:
    settings = make_golden.SEED if name == "seed" else make_golden.ALT
    x = golden[f"{name}_input"]
    assert np.array_equal(frontend.batch_rows(x, settings), golden[f"{name}_rows"])
    assert np.array_equal(frontend.spectrograms(x, settings), golden[f"{name}_int8"])


def test_warmup_matches_seed_training(golden, make_golden) -> None:
    got = frontend.spectrogram(golden["warmup_input"], make_golden.SEED, warmup=1000)
    assert np.array_equal(got, golden["warmup_int8"])
    # Silence leaves the noise estimate at zero; the seed's warm-up audio carries noise.
    noise = np.random.default_rng(0).normal(0, 300, 16000).astype(np.int16)
    warmed = frontend.spectrogram(golden["warmup_input"], make_golden.SEED, warmup=noise)
    assert warmed.shape == got.shape and not np.array_equal(warmed, got)


@pytest.mark.parametrize("chunk", [1, 2, 7, 159, 160, 161, 479, 480, 481, 1000, 4096, "random"])
def test_any_chunk_size_gives_the_same_rows(golden, chunk) -> None:
    audio = golden["seed_input"].reshape(-1)[:24000]
    expected = frontend.rows(audio)
    fe = frontend.Frontend()
    rng = np.random.default_rng(3)
    parts, i = [], 0
    while i < audio.size:
        n = int(rng.integers(1, 4097)) if chunk == "random" else chunk
        parts.append(fe.process(audio[i:i + n]))
        i += n
    assert np.array_equal(np.concatenate(parts), expected)


@pytest.mark.slow
def test_twelve_minute_stream_has_no_drift(golden, make_golden) -> None:
    """12 min streamed in 10 s chunks; MLTK agreed on every row when the golden was made."""
    audio = make_golden.long_stream()
    settings = make_golden.stateless(make_golden.SEED)
    fe = frontend.Frontend(settings)
    step = 160000
    rows = np.concatenate([fe.process(audio[i:i + step]) for i in range(0, audio.size, step)])
    assert list(rows.shape) == golden["stream_rows"].tolist()
    assert hashlib.sha256(rows.tobytes()).digest() == golden["stream_sha256"].tobytes()


def test_reset_forgets_audio(golden) -> None:
    clip = golden["seed_input"][0]
    fe = frontend.Frontend()
    first = fe.process(clip)
    fe.process(golden["seed_input"][1])
    fe.reset()
    assert np.array_equal(fe.process(clip), first)


def test_quantize_dynamic_and_static() -> None:
    rows = np.array([[0, 100, 500], [700, 800, 806]], dtype=np.uint16)
    # range int(40 * 64 * ln(10)/20) = 294: minval 806 - 294 = 512, (v - 512) * 255 // 294 - 128
    assert frontend.quantize(rows).tolist() == [[-128, -128, -128], [35, 121, 127]]
    static = FrontendSettings(quantize_dynamic_scale_enable=False)
    # round(v * 256 / 666) - 128
    assert frontend.quantize(rows, static).tolist() == [[-128, -90, 64], [127, 127, 127]]


def test_settings_from_model_metadata() -> None:
    params = {"fe.filterbank_n_channels": 40, "fe.noise_reduction_enable": 0,
              "fe.noise_reduction_even_smoothing": 0.02500000037252903, "name": "x"}
    s = FrontendSettings.from_params(params)
    assert s.filterbank_n_channels == 40 and s.noise_reduction_enable is False
    assert s.window_size_ms == 30  # missing keys keep the seed's value
    # but a model that names neither the DC notch nor dynamic quantization predates them in
    # MLTK (its zoo's audio_example1, ...): MLTK computes its features with both off
    assert not s.dc_notch_filter_enable and not s.quantize_dynamic_scale_enable
    assert FrontendSettings.from_params(FrontendSettings().to_params()) == FrontendSettings()
    assert FrontendSettings().spectrogram_shape == (118, 108)


def test_state_size_is_small_and_matches_header() -> None:
    header = (REPO / "firmware" / "frontend" / "frontend.h").read_text()
    declared = int(header.split("KWS_FRONTEND_MEM_FOR_SEED ")[1].split("u")[0])
    assert frontend.state_size() == declared
    assert declared < 16 * 1024


@pytest.mark.parametrize("bad", [dict(window_step_ms=40), dict(filterbank_upper_band_limit=9000.0),
                                 dict(pcan_enable=True, noise_reduction_enable=False),
                                 dict(fft_length=256), dict(filterbank_n_channels=0),
                                 # each beyond what its fixed-point conversion can hold
                                 dict(dc_notch_filter_coefficient=1.0),
                                 dict(activity_detection_alpha_a=300.0),
                                 dict(activity_detection_trip_threshold=8.0),
                                 dict(pcan_enable=True, pcan_offset=-1.0),
                                 dict(noise_reduction_even_smoothing=float("nan")),
                                 dict(quantize_dynamic_scale_range_db=float("inf"))])
def test_bad_settings_are_refused(bad) -> None:
    with pytest.raises(KwsError):
        frontend.Frontend(FrontendSettings(**bad))


def test_float_audio_is_refused() -> None:
    with pytest.raises(KwsError, match="int16"):
        frontend.rows(np.zeros(16000, dtype=np.float32))


def test_read_wav_converts_with_a_notice(tmp_path, caplog) -> None:
    import soundfile as sf
    from kwshost.audio import read_wav

    t = np.arange(44100) / 44100
    stereo = np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 440 * t)], axis=1) * 0.5
    sf.write(tmp_path / "s.wav", stereo, 44100, subtype="PCM_16")
    with caplog.at_level(logging.WARNING):
        x = read_wav(tmp_path / "s.wav")
    assert x.dtype == np.int16 and x.shape == (16000,)
    assert "mixed down" in caplog.text and "resampled" in caplog.text
    assert 15000 < np.abs(x).max() < 17000


def test_read_wav_errors(tmp_path) -> None:
    import soundfile as sf
    from kwshost.audio import read_wav, write_wav

    write_wav(tmp_path / "ok.wav", np.ones(8000, np.int16))
    assert read_wav(tmp_path / "ok.wav").shape == (8000,)
    cut = tmp_path / "cut.wav"
    cut.write_bytes((tmp_path / "ok.wav").read_bytes()[:2000])
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "text.wav").write_text("not audio")
    write_wav(tmp_path / "none.wav", np.zeros(0, np.int16))
    # WAVE_FORMAT_EXTENSIBLE (what sox and many editors write for 24-bit or several channels)
    sf.write(tmp_path / "x.wav", np.zeros((8000, 2)), 44100, format="WAVEX", subtype="PCM_24")
    (tmp_path / "cutx.wav").write_bytes((tmp_path / "x.wav").read_bytes()[:2000])
    for name, msg in (("missing.wav", "no such file"), ("cut.wav", "truncated"),
                      ("cutx.wav", "truncated"),
                      ("empty.wav", "empty"), ("text.wav", "not a readable"),
                      ("none.wav", "no audio")):
        with pytest.raises(AudioError, match=msg):
            read_wav(tmp_path / name)


def test_cli_features(tmp_path, golden) -> None:
    from kwshost.audio import write_wav
    from kwshost.cli import main

    clip = golden["warmup_input"]
    write_wav(tmp_path / "c.wav", clip)
    assert main(["features", str(tmp_path / "c.wav"), "-o", str(tmp_path / "a.npy"),
                 "--warmup", "1000"]) == 0
    assert np.array_equal(np.load(tmp_path / "a.npy"), golden["warmup_int8"])
    long = np.concatenate([clip, clip, clip])
    write_wav(tmp_path / "l.wav", long)
    assert main(["features", str(tmp_path / "l.wav"), "--stream", "-o",
                 str(tmp_path / "s.npy")]) == 0
    assert np.array_equal(np.load(tmp_path / "s.npy"), frontend.rows(long))
    assert main(["features", str(tmp_path / "missing.wav"), "-o", str(tmp_path / "x.npy")]) != 0


def test_audio_files_of_a_recordings_folder(tmp_path) -> None:
    from kwshost.audio import audio_files

    for name in ("b.wav", "A.WAV", "c.flac", "d.ogg", "notes.txt", "e.mp3", "f.AIFF", "g.aif",
                 "h.m4a", "i.caf", "j.opus", "._b.wav"):   # ._b.wav: a Mac's resource fork
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "sub.wav").mkdir()
    assert [f.name for f in audio_files(tmp_path)] == ["A.WAV", "b.wav", "c.flac", "d.ogg",
                                                       "e.mp3", "f.AIFF", "g.aif", "i.caf",
                                                       "j.opus"]
    assert audio_files(tmp_path / "missing") == []


def test_the_c_frontends_range_table_names_the_bindings_fields() -> None:
    """The host names a refused setting from the C table of ranges: each entry is a field of
    the config the binding mirrors, at that field's offset and of its type, with a range that
    holds the seed's value."""
    from kwshost.frontend import _FLOAT_FIELDS, FrontendSettings, _Config, _lib, _out_of_range

    lib = _lib()
    seed = FrontendSettings()
    names = []
    for i in range(lib.kws_frontend_range_count()):
        r = lib.kws_frontend_range_at(i).contents
        name = r.name.decode()
        names.append(name)
        assert getattr(_Config, name).offset == r.offset, name
        assert bool(r.is_float) == (name in _FLOAT_FIELDS), name
        low, high = (r.lo, r.hi) if r.is_float else (r.int_lo, r.int_hi)
        assert low <= getattr(seed, name) <= high, name
    assert not lib.kws_frontend_range_at(len(names))
    assert len(set(names)) == len(names) >= 20
    assert _out_of_range(seed) == ""
