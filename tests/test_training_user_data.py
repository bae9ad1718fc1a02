"""The training-side commands on a user's own material (recordings in other formats
and folder layouts, hand-written events files, a dataset made again over an old one)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import cli as kwshost
from conftest import one_line_error
from kwshost.audio import read_wav
from kwshost.cli.train import add_arguments as train_arguments
from kwshost.data import features, make, timbre
from kwshost.errors import KwsError
from kwshost.train_config import CacheParams

REPO = Path(__file__).resolve().parents[1]
ALEXA = REPO / "models" / "mltk_keyword_spotting_alexa.tflite"


def _tone(seconds: float, rate: int, channels: int = 1) -> np.ndarray:
    """A voiced-looking test sound (a 150 Hz buzz with harmonics, fading in and out)."""
    t = np.arange(int(seconds * rate)) / rate
    x = sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 12))
    x = 0.3 * x / np.max(np.abs(x)) * np.hanning(len(t))
    return np.repeat(x[:, None], channels, axis=1) if channels > 1 else x


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ds")
    make.make_dataset(out, "tiny", jobs=2, seed=3)
    return out


def test_extra_clips_in_other_formats_are_read_as_16_khz_mono(tiny: Path, tmp_path: Path):
    """[cache] extra with a user's recordings: a 44.1 kHz stereo WAV stopped training with
    numpy's reshape traceback from a feature worker, a 48 kHz one was read as if it were
    16 kHz (a third as fast, deeper), and .WAV / .flac files were left out without a word."""
    extra = tmp_path / "mine"
    (extra / "alexa").mkdir(parents=True)
    (extra / "_unknown_").mkdir()
    sf.write(extra / "alexa" / "stereo.wav", _tone(0.8, 44100, 2), 44100, subtype="PCM_16")
    sf.write(extra / "alexa" / "high.wav", _tone(0.8, 48000), 48000, subtype="PCM_24")
    sf.write(extra / "alexa" / "LOUD.WAV", _tone(0.8, 16000), 16000, subtype="PCM_16")
    sf.write(extra / "_unknown_" / "other.flac", _tone(0.8, 22050), 22050)
    items = features.extra_clips([extra], ["alexa", "_unknown_"])
    assert sorted(w.name for w, _ in items) == ["LOUD.WAV", "high.wav", "other.flac",
                                                 "stereo.wav"]
    for wav, _ in items:
        audio = features.read_extra_clip(wav)
        assert audio.ndim == 1 and audio.dtype == np.float32
        assert abs(len(audio) - 0.8 * 16000) <= 2, wav.name
    out = tmp_path / "cache"
    cache = CacheParams(keyword_variants=1, validation_percent=40, extra=(str(extra),),
                        extra_variants=1)
    counts = features.build_cache(tiny, out, cache, seed=1, fe_overrides={}, jobs=1,
                                  extra_root=tmp_path)
    assert counts["extra"] == 4
    # A 16 kHz mono clip (what `dataset mine` writes) reads as soundfile reads it: the
    # caches of the recipe's extra folders stay as they were.
    mined = extra / "_unknown_" / "mined.wav"
    sf.write(mined, _tone(1.2, 16000), 16000, subtype="PCM_16")
    assert np.array_equal(features.read_extra_clip(mined), sf.read(mined, dtype="float32")[0])


def _nested(root: Path) -> Path:
    (root / "alexa").mkdir(parents=True)
    sf.write(root / "alexa" / "a.wav", _tone(0.8, 16000), 16000, subtype="PCM_16")
    (root / "_unknown_" / "session2").mkdir(parents=True)
    nested = root / "_unknown_" / "session2" / "b.wav"
    sf.write(nested, _tone(0.8, 16000), 16000, subtype="PCM_16")
    return nested


def test_recordings_in_subfolders_of_a_class_folder_are_named_not_left_out(capsys, tmp_path):
    """DIR/_unknown_/session2/*.wav was skipped by every reader of DIR/<class>/*.wav: evaluate
    reported n=0 for the class (or that DIR held no recordings at all), dataset make, timbre
    and the config's extra folders made data without them."""
    root = tmp_path / "rec"
    nested = _nested(root)
    code, out, err = kwshost(capsys, "evaluate", ALEXA, "--data", root)
    assert code == 2 and "subfolder" in one_line_error(err, "evaluate") and nested.name in err
    with pytest.raises(KwsError, match="subfolder"):
        make.read_recordings(root)
    with pytest.raises(KwsError, match="subfolder"):
        features.extra_clips([root], ["alexa", "_unknown_"])
    with pytest.raises(KwsError, match="subfolder"):
        timbre.make_timbres(root, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_timbre_reads_the_recordings_evaluate_reads(tmp_path):
    """dataset timbre took DIR/<class>/*.wav only: a recorder's .WAV or a .flac was left out."""
    root = tmp_path / "rec"
    (root / "alexa").mkdir(parents=True)
    sf.write(root / "alexa" / "A.WAV", _tone(0.8, 16000), 16000, subtype="PCM_16")
    sf.write(root / "alexa" / "b.flac", _tone(0.8, 44100, 2), 44100)
    manifest = timbre.make_timbres(root, tmp_path / "out", jobs=1)
    assert sorted(r["source"] for r in manifest["clips"]) == ["alexa/A.WAV", "alexa/b.flac"]
    # Two recordings that would both be written as alexa/b__t0.wav: refused, named.
    sf.write(root / "alexa" / "b.wav", _tone(0.8, 16000), 16000, subtype="PCM_16")
    with pytest.raises(KwsError, match="b.flac and .*b.wav"):
        timbre.make_timbres(root, tmp_path / "out2", jobs=1)


def _quiet_noise(wav: Path) -> Path:
    """20 s of faint noise: a stream with no keyword, for events files to be checked against."""
    rng = np.random.default_rng(0)
    sf.write(wav, (0.01 * rng.standard_normal(16000 * 20)).astype(np.float32), 16000,
             subtype="PCM_16")
    return wav


def _evaluate_events(capsys, tmp_path: Path, events: list[dict]) -> tuple[int, str, str]:
    """`kwshost evaluate` of the bundled model on 20 s of quiet noise with these events."""
    wav, path = tmp_path / "s.wav", tmp_path / "e.json"
    if not wav.exists():
        _quiet_noise(wav)
    path.write_text(json.dumps({"events": events}))
    return kwshost(capsys, "evaluate", ALEXA, "--stream", wav, "--events", path)


def test_evaluate_refuses_event_labels_that_are_not_classes_of_the_model(capsys, tmp_path):
    """A hand-written events file with "Alexa" beside "alexa": the "Alexa" keyword was not
    counted, so the model's detection of it became a false accept, without a word. Labels of
    the model's other classes are fine (they are not keywords)."""
    code, _, err = _evaluate_events(capsys, tmp_path, [
        {"label": "alexa", "start_s": 3, "end_s": 3.6},
        {"label": "Alexa", "start_s": 8, "end_s": 8.6},
        {"label": "hey", "start_s": 12, "end_s": 12.6}])
    line = one_line_error(err, "evaluate")
    assert code == 2 and "'Alexa', 'hey'" in line and "not classes of the model" in line
    code, out, _ = _evaluate_events(capsys, tmp_path, [
        {"label": "alexa", "start_s": 3, "end_s": 3.6},
        {"label": "_unknown_", "start_s": 8, "end_s": 8.6}])
    assert code == 0 and "1 keywords" in out


def test_an_interrupted_remake_leaves_no_manifest_of_the_old_dataset(tmp_path, monkeypatch):
    """`dataset make OUT` again over an old dataset overwrites its clips one by one; stopped
    midway, the old manifest.json stayed and named clips whose audio was now another's, a
    dataset that looked complete to train and evaluate."""
    out = tmp_path / "ds"
    out.mkdir()
    (out / "manifest.json").write_text(json.dumps({"seed": 1, "clips": []}))

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt
        yield   # a generator, as workers.results is

    monkeypatch.setattr(make.workers, "results", stopped)
    with pytest.raises(KeyboardInterrupt):
        make.make_dataset(out, 2, jobs=1, seed=2)
    assert not (out / "manifest.json").exists()


def test_evaluate_reads_a_timbre_output_as_recordings(capsys, tmp_path):
    """`dataset timbre` writes OUT/<class>/*.wav and its own manifest.json; evaluate --data
    OUT took that manifest for a broken `dataset make` one ("it needs ... noises") and refused
    the clips."""
    root = tmp_path / "timbre"
    (root / "alexa").mkdir(parents=True)
    sf.write(root / "alexa" / "a__t0.wav", _tone(0.8, 16000), 16000, subtype="PCM_16")
    (root / "manifest.json").write_text(json.dumps({
        "format": "kwshost-timbre-1", "source": "rec", "counts": {"alexa": 1},
        "clips": [{"source": "alexa/a.wav", "label": "alexa", "path": "alexa/a__t0.wav"}]}))
    code, out, err = kwshost(capsys, "evaluate", ALEXA, "--data", root)
    assert code == 0, err
    assert "clips: 1 on" in out


def test_an_interrupted_training_says_how_to_go_on(capsys, tmp_path, monkeypatch):
    """Ctrl-C in `kwshost train` said only "interrupted"; the run's epochs are kept and
    --resume continues them, which is what the user needs to hear then."""
    from kwshost import train as train_module

    run = tmp_path / "run"
    config = tmp_path / "c.toml"
    config.write_text(f'dataset = "{tmp_path / "ds"}"\nrun_dir = "{run}"\n')

    def stopped(cfg, **kwargs):
        run.mkdir()
        (run / "state.json").write_text(json.dumps({"epochs_done": 3, "global_step": 1500}))
        raise KeyboardInterrupt

    monkeypatch.setattr(train_module, "train", stopped)
    code, _, err = kwshost(capsys, "train", "--config", config)
    assert code == 130
    assert "epoch 3" in err and f"kwshost train --config {config} --resume" in err


@pytest.mark.slow
def test_convert_refuses_a_model_of_other_features_than_the_config_and_cache(capsys, tmp_path):
    """`convert --keras` of a model from a run with another [frontend] (40 channels where the
    config and cache have 108) died in TensorFlow's calibrator with a RuntimeError traceback
    ("input_channel % filter_input_channel != 0")."""
    import keras
    from kwshost.model import TENetShape, build_tenet

    run = tmp_path / "run"
    (run / "cache").mkdir(parents=True)
    rng = np.random.default_rng(0)
    np.save(run / "cache" / "val_x.npy", rng.integers(-128, 127, (8, 118, 108), np.int8))
    np.save(run / "cache" / "val_y.npy", np.zeros(8, np.uint8))
    config = tmp_path / "c.toml"
    config.write_text(f'run_dir = "{run}"\n')
    keras.utils.set_random_seed(1)
    build_tenet(TENetShape(time_steps=118, features=40)).save(tmp_path / "other.keras")
    code, _, err = kwshost(capsys, "convert", "--config", config, "--keras",
                           tmp_path / "other.keras", "--out", tmp_path / "m.tflite")
    line = one_line_error(err, "convert")
    assert code == 2 and "118 x 40" in line and "118 x 108" in line
    assert not (tmp_path / "m.tflite").exists()


def test_average_names_the_variable_whose_shape_differs():
    """Models of other sizes were refused as "242 variables against 242, or other shapes":
    the same count, and no word of what differs."""
    from kwshost.average import average_weights
    from kwshost.model import TENetShape, build_tenet

    a = build_tenet(TENetShape(time_steps=118, features=108))
    b = build_tenet(TENetShape(time_steps=118, features=40))
    with pytest.raises(KwsError, match=r"variable 0 \(stem/kernel\) is \(3, 1, 40, 32\) "
                                       r"against \(3, 1, 108, 32\)") as e:
        average_weights([a, b], np.array([0.5, 0.5]))
    assert "242 against 242" not in str(e.value)


def test_config_keys_toml_puts_in_a_table_are_explained(tmp_path):
    """TOML puts every key after a [table] header into that table: `run_dir` written below
    [cache] was "[cache]: unknown setting 'run_dir'", with the cache's keys as the hint; and
    MLTK's spelling `fe.window_step_ms = 20` in [frontend] (a dotted key, a table `fe` to TOML)
    was "unknown setting 'fe'" though the `fe.` prefix is documented as accepted."""
    from kwshost.train_config import load_config

    path = tmp_path / "c.toml"
    path.write_text('[cache]\nkeyword_variants = 2\nrun_dir = "runs/x"\n')
    with pytest.raises(KwsError, match="unknown setting 'run_dir'") as e:
        load_config(path)
    assert "above the first [table]" in e.value.hint
    path.write_text('[frontend]\nfe.window_step_ms = 20\n"fe.fft_length" = 1024\n')
    assert load_config(path).frontend == {"fe.window_step_ms": 20, "fe.fft_length": 1024}
    path.write_text('[frontend]\nfe.window_stepms = 20\n')
    with pytest.raises(KwsError, match="unknown setting 'fe.window_stepms'"):
        load_config(path)


def test_evaluate_refuses_overlapping_keyword_events(capsys, tmp_path):
    """One keyword listed twice in a hand-written events file (1.5-2.3 s and 1.6-2.4 s): one
    detection hits one of them and the other counted as a miss, an FRR of 50% for a keyword
    the model found."""
    code, _, err = _evaluate_events(capsys, tmp_path, [
        {"label": "alexa", "start_s": 9, "end_s": 9.6},
        {"label": "alexa", "start_s": 3, "end_s": 3.8},
        {"label": "alexa", "start_s": 3.2, "end_s": 4}])
    line = one_line_error(err, "evaluate")
    assert code == 2 and "overlap" in line and "3.2" in line
    code, out, _ = _evaluate_events(capsys, tmp_path, [   # touching is not overlapping
        {"label": "alexa", "start_s": 3, "end_s": 3.8},
        {"label": "alexa", "start_s": 3.8, "end_s": 4.4}])
    assert code == 0 and "2 keywords" in out


def test_an_extra_cache_of_clips_read_at_the_wrong_rate_is_rebuilt(tiny: Path, tmp_path: Path):
    """A 22.05 kHz mono extra clip was read as if 16 kHz: extra features made so (by an older
    kwshost) must not be reused now that it is converted; those of 16 kHz mono clips only
    are kept (checked once)."""
    extra = tmp_path / "mine"
    (extra / "_unknown_").mkdir(parents=True)
    sf.write(extra / "_unknown_" / "a.wav", _tone(0.8, 16000), 16000, subtype="PCM_16")
    out = tmp_path / "cache"
    cache = CacheParams(keyword_variants=1, validation_percent=40, extra=(str(extra),),
                        extra_variants=1)

    def build() -> dict:
        features.build_cache(tiny, out, cache, seed=1, fe_overrides={}, jobs=1,
                             extra_root=tmp_path)
        return json.loads((out / "extra.json").read_text())

    def as_made_before(info: dict) -> None:
        (out / "extra.json").write_text(json.dumps(
            {k: v for k, v in info.items() if k != features.CONVERTED}))

    info = build()
    before = (out / "extra_x.npy").stat().st_mtime_ns
    as_made_before(info)
    assert build()[features.CONVERTED]        # 16 kHz mono only: kept, marked
    assert (out / "extra_x.npy").stat().st_mtime_ns == before
    sf.write(extra / "_unknown_" / "b.wav", _tone(0.8, 22050), 22050, subtype="PCM_16")
    info = build()
    before = (out / "extra_x.npy").stat().st_mtime_ns
    as_made_before(info)                      # as an older kwshost made them from b.wav
    assert build()[features.CONVERTED]
    assert (out / "extra_x.npy").stat().st_mtime_ns != before   # rebuilt


ON_OFF = REPO / ".venv-ref/lib/python3.11/site-packages/mltk/models/siliconlabs/" \
    "keyword_spotting_on_off_v3.mltk.zip"


def test_evaluate_data_on_a_dataset_takes_the_models_window_and_classes(capsys, tiny, tmp_path):
    """`evaluate M --data DATASET` with a model of a 1 s window (MLTK's on/off model) died in
    numpy's broadcast with a traceback (examples were 1.2 s); and with another keyword its
    clips were labelled by position: "alexa" as "on", `_unknown_` as "off"."""
    import zipfile

    from kwshost.metadata import read_params, write_params

    base = read_params(ALEXA.read_bytes())
    assert base["fe.sample_length_ms"] == 1200
    # ALEXA's weights with other metadata: a 3-class model of another keyword
    other = tmp_path / "other.tflite"
    other.write_bytes(write_params(ALEXA.read_bytes(), {**base, "classes": ["on", "_unknown_"]}))
    code, _, err = kwshost(capsys, "evaluate", other, "--data", tiny)
    line = one_line_error(err, "evaluate")
    assert code == 2 and "'alexa'" in line and "not classes of the model" in line
    if not ON_OFF.exists():
        pytest.skip("MLTK's model zoo is not installed in .venv-ref")
    with zipfile.ZipFile(ON_OFF) as z:
        name = next(n for n in z.namelist() if n.endswith("on_off_v3.tflite"))
        model = read_params(z.read(name))
        assert model["fe.sample_length_ms"] == 1000
        data = write_params(z.read(name), {**model, "classes": ["alexa", "off", "_unknown_"]})
    short = tmp_path / "short.tflite"
    short.write_bytes(data)
    code, out, err = kwshost(capsys, "evaluate", short, "--data", tiny, "--jobs", "1")
    assert code == 0, err
    assert "alexa" in out and "n=16" in out    # the keyword clips, as 'alexa'
    assert "off        precision 0.0000  recall n/a" in out
    assert "ROC AUC (alexa against the rest)" in out    # of three classes: says which


def test_timbre_again_into_its_out_leaves_no_clips_of_the_run_before(tmp_path):
    """OUT is read as a folder (a config's [cache] extra takes every OUT/<class>/*.wav): a
    second `dataset timbre` with fewer --copies left the first run's __t1 clips there, trained
    on, though its manifest no longer listed them."""
    root = tmp_path / "rec"
    (root / "alexa").mkdir(parents=True)
    sf.write(root / "alexa" / "a.wav", _tone(0.8, 16000), 16000, subtype="PCM_16")
    out = tmp_path / "out"
    timbre.make_timbres(root, out, copies=2, jobs=1)
    assert sorted(p.name for p in (out / "alexa").iterdir()) == ["a__t0.wav", "a__t1.wav"]
    (out / "alexa" / "mine.wav").write_bytes(b"a file timbre did not write")
    timbre.make_timbres(root, out, copies=1, jobs=1)
    assert sorted(p.name for p in (out / "alexa").iterdir()) == ["a__t0.wav", "mine.wav"]


def test_recordings_in_formats_not_read_are_named_not_left_out(capsys, tmp_path):
    """A phone's .m4a or .mp3 recordings beside WAVs in DIR/<class>/ were skipped without a
    word (evaluate counted the WAVs only; with none, "holds neither a dataset nor
    recordings")."""
    root = tmp_path / "rec"
    (root / "alexa").mkdir(parents=True)
    sf.write(root / "alexa" / "a.wav", _tone(0.8, 16000), 16000, subtype="PCM_16")
    (root / "alexa" / "b.m4a").write_bytes(b"\\0\\0\\0\\x20ftypM4A ")
    (root / "alexa" / "notes.txt").write_text("not audio, not a recording: ignored")
    code, _, err = kwshost(capsys, "evaluate", ALEXA, "--data", root)
    line = one_line_error(err, "evaluate")
    assert code == 2 and "b.m4a: .m4a recordings are not read" in line
    with pytest.raises(KwsError, match=r"\.m4a recordings are not read"):
        make.read_recordings(root)
    (root / "alexa" / "b.m4a").unlink()
    # An iPhone's or a Mac's .caf and an Opus file are libsndfile's to read: taken, not refused.
    sf.write(root / "alexa" / "c.caf", _tone(0.8, 16000), 16000, format="CAF", subtype="PCM_16")
    sf.write(root / "alexa" / "d.opus", _tone(0.8, 48000), 48000, format="OGG", subtype="OPUS")
    clips = [p for p, _ in features.extra_clips([root], ["alexa", "_unknown_"])]
    assert [p.name for p in clips] == ["a.wav", "c.caf", "d.opus"]
    assert [len(read_wav(p)) for p in clips[1:]] == [12800, 12800]
    from kwshost.audio import AUDIO_SUFFIXES
    from kwshost.data.clips import OTHER_AUDIO

    assert not OTHER_AUDIO & set(AUDIO_SUFFIXES)   # a format is either read or refused


# What a Mac writes beside every file it copies to a FAT/exFAT stick or a network share: an
# AppleDouble header (the file's Finder metadata), named ._NAME, not audio.
APPLE_DOUBLE = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + b"\x00" * 60


def test_macos_resource_forks_beside_recordings_are_skipped(capsys, tmp_path):
    """Recordings copied from a Mac come with ._a.wav beside a.wav: evaluate --data stopped
    on "._a.wav: not a readable audio file", and ._b.m4a would be refused as a recording in
    a format not read."""
    from kwshost.audio import audio_files
    from kwshost.data.clips import labelled_files

    root = tmp_path / "rec"
    (root / "alexa").mkdir(parents=True)
    sf.write(root / "alexa" / "a.wav", _tone(0.8, 16000), 16000, subtype="PCM_16")
    for name in ("._a.wav", "._b.m4a", "._c.WAV"):
        (root / "alexa" / name).write_bytes(APPLE_DOUBLE)
    (root / "notes").mkdir()          # a folder of forks only is no folder of recordings
    (root / "notes" / "._x.wav").write_bytes(APPLE_DOUBLE)
    (root / "alexa" / "take2").mkdir()  # nor is a subfolder of one
    (root / "alexa" / "take2" / "._y.wav").write_bytes(APPLE_DOUBLE)
    assert [p.name for p in audio_files(root / "alexa")] == ["a.wav"]
    assert labelled_files(root, ["alexa", "_unknown_"]) == ([(root / "alexa" / "a.wav", 0)], [])
    assert [p.name for p, _ in features.extra_clips([root], ["alexa", "_unknown_"])] == ["a.wav"]
    code, out, err = kwshost(capsys, "evaluate", ALEXA, "--data", root)
    assert code == 0, err
    assert "clips: 1 on" in out


@pytest.mark.parametrize("suffix", [".aiff", ".aif", ".mp3"])
def test_aiff_and_mp3_recordings_are_read(tmp_path, suffix):
    """A Mac's .aif/.aiff and a phone's .mp3 were refused as "not read", though libsndfile
    (the soundfile package's, 1.1 and later) reads them: they are read as .flac is."""
    from kwshost.audio import read_wav

    if suffix == ".mp3" and "MP3" not in sf.available_formats():
        pytest.skip("this libsndfile has no MP3 support")
    root = tmp_path / "rec"
    (root / "alexa").mkdir(parents=True)
    clip = root / "alexa" / f"a{suffix}"
    sf.write(clip, _tone(0.8, 44100, 2), 44100,
             format="MP3" if suffix == ".mp3" else "AIFF")
    assert [c for c, _, _ in make.read_recordings(root)] == ["alexa"]
    assert [p.name for p, _ in features.extra_clips([root], ["alexa", "_unknown_"])] == \
        [clip.name]
    audio = read_wav(clip)
    want = read_wav(_write(tmp_path / "ref.wav", _tone(0.8, 44100, 2), 44100))
    assert abs(len(audio) - len(want)) <= 2
    n = min(len(audio), len(want))
    assert np.corrcoef(audio[:n].astype(float), want[:n].astype(float))[0, 1] > 0.99


def _write(path: Path, x: np.ndarray, rate: int) -> Path:
    sf.write(path, x, rate, subtype="PCM_16")
    return path


def test_run_and_dataset_folders_on_the_command_line_are_relative_to_the_working_folder(
        capsys, tmp_path, monkeypatch):
    """`--run rs4` typed in /tmp wrote into the repository's rs4: a folder named on the command
    line is the shell user's, relative to where they are (a config's own paths stay relative
    to the repository)."""
    monkeypatch.chdir(tmp_path)
    code, _, err = kwshost(capsys, "convert", "--config", "test", "--run", "myrun")
    assert code == 2 and f"{tmp_path / 'myrun' / 'best.keras'}" in one_line_error(err, "convert")
    parser = argparse.ArgumentParser()
    train_arguments(parser)
    args = parser.parse_args(["--run", "r", "--dataset", "d"])
    assert (args.run, args.dataset) == (str(tmp_path / "r"), str(tmp_path / "d"))
