"""`kwshost dataset timbre`: voice conversion with F0 and vocal tract moved apart."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from kwshost.cli import main
from kwshost.data import timbre
from kwshost.errors import KwsError
from scipy.signal import lfilter

SR = 16000
FORMANTS_HZ = (700, 1200, 2600)


def vowel(f0: float, seconds: float = 0.8, formants=FORMANTS_HZ) -> np.ndarray:
    """A glottal pulse train at f0 through three formant resonators: a sustained vowel."""
    n = int(seconds * SR)
    x = np.zeros(n)
    x[:: int(SR / f0)] = 1.0
    for f in formants:
        r = np.exp(-np.pi * 90 / SR)
        x = lfilter([1.0], [1, -2 * r * np.cos(2 * np.pi * f / SR), r * r], x)
    return (0.5 * x / np.max(np.abs(x))).astype(np.float32)


def median_f0(x: np.ndarray) -> float:
    import pyworld

    x = x.astype(np.float64)
    f0, t = pyworld.dio(x, SR, f0_floor=50.0, frame_period=5.0)
    f0 = pyworld.stonemask(x, f0, t, SR)
    return float(np.median(f0[f0 > 0]))


def first_formant(x: np.ndarray) -> float:
    """Frequency of the strongest peak of the smoothed spectrum below 1 kHz."""
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    smooth = np.convolve(spec, np.ones(81) / 81, mode="same")
    freqs = np.fft.rfftfreq(len(x), 1 / SR)
    low = freqs < 1000
    return float(freqs[low][np.argmax(smooth[low])])


def test_f0_and_vocal_tract_move_apart() -> None:
    src = vowel(110.0)
    f1 = first_formant(src)
    # An octave up with the formants where they were: the F0 doubles, F1 stays.
    y, applied = timbre.convert(src, timbre.Timbre(tract_ratio=1.0, f0_semitones=12.0))
    assert applied == pytest.approx(12.0, abs=0.05)
    assert median_f0(y) == pytest.approx(220.0, rel=0.04)
    assert first_formant(y) == pytest.approx(f1, rel=0.08)
    # A 15% shorter vocal tract at the same F0: F1 rises 15%, the F0 stays.
    y, applied = timbre.convert(src, timbre.Timbre(tract_ratio=1.15, f0_semitones=0.0))
    assert applied == 0.0
    assert median_f0(y) == pytest.approx(110.0, rel=0.04)
    assert first_formant(y) == pytest.approx(f1 * 1.15, rel=0.08)
    assert len(y) == pytest.approx(len(src), abs=SR * 0.01)
    assert np.max(np.abs(y)) == pytest.approx(np.max(np.abs(src)), rel=1e-3)


def test_f0_stays_in_adult_range() -> None:
    y, applied = timbre.convert(vowel(200.0), timbre.Timbre(1.2, 14.0))
    assert median_f0(y) <= timbre.F0_LIMITS_HZ[1] * 1.04
    assert applied < 14.0
    y, applied = timbre.convert(vowel(90.0), timbre.Timbre(0.84, -12.0))
    assert median_f0(y) >= timbre.F0_LIMITS_HZ[0] * 0.96
    assert applied > -12.0


def test_drawn_speakers_cover_both_directions() -> None:
    rng = np.random.default_rng(0)
    drawn = [timbre.draw(rng) for _ in range(400)]
    ratios = np.array([d.tract_ratio for d in drawn])
    shifts = np.array([d.f0_semitones for d in drawn])
    assert timbre.TRACT_RANGE[0] <= ratios.min() < 0.87 and 1.17 < ratios.max() <= 1.2
    # Formants and F0 move the same way, F0 several times as far.
    assert np.corrcoef(np.log(ratios), shifts)[0, 1] > 0.8
    assert shifts.max() > 9 and shifts.min() < -9


@pytest.fixture()
def source(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    for label, f0s in (("alexa", (100, 130, 210)), ("_unknown_", (95, 180))):
        (src / label).mkdir(parents=True)
        for k, f0 in enumerate(f0s):
            sf.write(src / label / f"clip{k}.wav", vowel(f0), SR, subtype="PCM_16")
    (src / "_background_noise_").mkdir()
    sf.write(src / "_background_noise_" / "white.wav", np.zeros(SR, np.float32), SR)
    (src / "manifest.json").write_text(json.dumps({"clips": [
        {"path": "alexa/clip0.wav", "group": "flite:kal", "text": "alexa"}]}))
    return src


def test_dataset_timbre_is_deterministic_whatever_jobs(source: Path, tmp_path: Path) -> None:
    a = timbre.make_timbres(source, tmp_path / "a", copies=2, seed=5, jobs=1)
    b = timbre.make_timbres(source, tmp_path / "b", copies=2, seed=5, jobs=2)
    assert a["counts"] == {"alexa": 6, "_unknown_": 4} and a["n_errors"] == 0
    assert a["clips"] == b["clips"]
    for row in a["clips"]:
        x, _ = sf.read(tmp_path / "a" / row["path"], dtype="int16")
        y, _ = sf.read(tmp_path / "b" / row["path"], dtype="int16")
        assert np.array_equal(x, y)
    assert not (tmp_path / "a" / "_background_noise_").exists()
    first = next(r for r in a["clips"] if r["source"] == "alexa/clip0.wav")
    assert (first["group"], first["text"]) == ("flite:kal", "alexa")
    other = timbre.make_timbres(source, tmp_path / "c", copies=1, seed=6, jobs=1)
    assert [r["tract_ratio"] for r in other["clips"]] != [r["tract_ratio"] for r in a["clips"]
                                                          if r["path"].endswith("__t0.wav")]


def test_bad_clips_are_listed_not_fatal(source: Path, tmp_path: Path) -> None:
    sf.write(source / "alexa" / "silence.wav", np.zeros(SR // 2, np.float32), SR)
    (source / "alexa" / "truncated.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt ")
    sf.write(source / "_unknown_" / "long.wav", np.zeros(31 * 8000, np.int16), 8000)
    out = timbre.make_timbres(source, tmp_path / "out", seed=1, jobs=1)
    assert out["counts"] == {"alexa": 3, "_unknown_": 2}
    why = {e["source"]: e["error"] for e in out["errors"]}
    assert sorted(why) == ["_unknown_/long.wav", "alexa/silence.wav", "alexa/truncated.wav"]
    assert "longer than 30 s" in why["_unknown_/long.wav"]
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["n_errors"] == 3


def test_missing_or_empty_source_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "src" / "alexa").mkdir(parents=True)
    with pytest.raises(KwsError, match="not SRC"):
        timbre.make_timbres(tmp_path / "src", tmp_path / "src")
    with pytest.raises(KwsError, match="no folder"):
        timbre.make_timbres(tmp_path / "nope", tmp_path / "out")
    (tmp_path / "empty" / "alexa").mkdir(parents=True)
    with pytest.raises(KwsError, match="no clips"):
        timbre.make_timbres(tmp_path / "empty", tmp_path / "out")


def test_cli(source: Path, tmp_path: Path, capsys) -> None:
    assert main(["dataset", "timbre", str(source), str(tmp_path / "t"), "--copies", "1",
                 "--seed", "2", "--jobs", "1"]) == 0
    assert "alexa 3" in capsys.readouterr().out
    assert len(list((tmp_path / "t" / "alexa").glob("*__t0.wav"))) == 3
    assert main(["dataset", "info", str(tmp_path / "t")]) == 0
    assert "audio:    _unknown_ 1.6 s, alexa 2.4 s" in capsys.readouterr().out
    assert main(["dataset", "timbre", str(tmp_path / "missing"), str(tmp_path / "u")]) == 2
