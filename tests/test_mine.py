"""Hard-negative mining (`kwshost dataset mine`, kwshost.data.streams) and extra cache clips."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import cli
from kwshost.data import features, make, streams, voices
from kwshost.errors import KwsError
from kwshost.paths import REPO_ROOT
from kwshost.train_config import CacheParams

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng missing")

MODEL = REPO_ROOT / "models" / "alexa_kwshost.tflite"
SECONDS = 20


def _mine(out: Path, seed: int, threshold: int = 100) -> dict:
    from kwshost.cli import main

    rc = main(["dataset", "mine", str(MODEL), "--out", str(out), "--minutes", str(SECONDS / 60),
               "--seed", str(seed), "--threshold", str(threshold), "--jobs", "2"])
    assert rc == 0
    return json.loads((out / f"mined-s{seed}.json").read_text())


@pytest.fixture(scope="module")
def mined(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("mined")
    return out, _mine(out, seed=4)


def test_mine_writes_model_length_windows_and_a_manifest(mined) -> None:
    out, m = mined
    wavs = sorted((out / "_unknown_").glob("*.wav"))
    assert m["windows"] == len(wavs) == len(m["files"]) > 0
    assert m["window_samples"] == 19200          # fe.sample_length_ms 1200 at 16 kHz
    assert SECONDS / 60 <= m["minutes"] < SECONDS / 60 + 0.2
    for row, wav in zip(m["files"], wavs, strict=True):
        assert out / row["path"] == wav
        audio, rate = sf.read(wav, dtype="int16")
        assert rate == 16000 and audio.shape == (19200,)
        assert np.abs(audio).max() > 0
        assert row["score"] >= m["mining_threshold"]
        assert row["said"], "every saved window overlaps something that was said"
    # The counts add up to the files' contents.
    said = [t for r in m["files"] for t in r["said"]]
    assert sum(n for _, n in m["top_words"]) == len(said)
    # The synthesizers heard, for the licence terms a model trained on the windows inherits.
    heard = {g.split(":")[0] for r in m["files"] for g in r["voices"]}
    assert heard and heard <= set(make.ENGINE_WEIGHTS)


def test_mine_uses_training_split_voices_only() -> None:
    heldout = {v.group for v in voices.heldout_voices()} | {"flite:slt",
                                                           "festival:cmu_us_slt_arctic_hts"}
    plan = streams.plan_utterances(300, seed=2)
    groups = {u.voice.group for u in plan}
    assert not groups & heldout
    assert all(features.VoiceSplit(10)(g) == "train" for g in groups)
    val = {u.voice.group for u in streams.plan_utterances(100, seed=2, split="val")}
    assert val and all(features.VoiceSplit(10)(g) == "val" for g in val)
    named = features.VoiceSplit(voices=("flite:rms",))     # another engine's voice, by name
    assert "flite:rms" in {v.group for v in streams.stream_voices("val", named)}
    assert "flite:rms" not in {v.group for v in streams.stream_voices("train", named)}
    assert "flite:rms" in {v.group for v in streams.stream_voices("train")}
    from kwshost.data import words

    assert not {u.text.lower() for u in plan} & words.NEAR_KEYWORD
    assert sum(u.kind == "confusable" for u in plan) > 100


def test_mine_is_deterministic_per_seed(mined, tmp_path: Path) -> None:
    out, m = mined
    stale = tmp_path / "a" / "_unknown_" / "mined-s4-99999.wav"
    stale.parent.mkdir(parents=True)
    sf.write(stale, np.zeros(19200, np.int16), 16000)
    again = _mine(tmp_path / "a", seed=4)
    assert not stale.exists(), "a rerun with the same seed replaces that seed's windows"
    assert m["failed_utterances"] == again["failed_utterances"] == []
    assert again["stream_sha256"] == m["stream_sha256"], "same seed, same stream audio"
    assert len(list(stale.parent.glob("*.wav"))) == m["windows"]
    assert again["files"] == m["files"]
    for row in m["files"]:
        assert (tmp_path / "a" / row["path"]).read_bytes() == (out / row["path"]).read_bytes()
    other = streams.build_stream(SECONDS / 60, seed=5)
    first = streams.build_stream(SECONDS / 60, seed=4)
    assert [s["text"] for s in other.said] != [s["text"] for s in first.said]


def test_mine_threshold_selects_windows(mined, tmp_path: Path) -> None:
    """A higher mining threshold keeps a subset: only windows at or above it."""
    _, m = mined
    high = _mine(tmp_path / "h", seed=4, threshold=255)
    assert high["windows"] <= m["windows"]
    assert all(r["score"] >= 255 for r in high["files"])


def test_mine_skips_windows_where_a_word_holding_the_keyword_was_said(
        tmp_path: Path, monkeypatch) -> None:
    """"alexander" ends where "alexa" was just heard: not a negative; counted, not written."""
    said = [{"start_s": 0.0, "end_s": 1.0, "text": "a lexus", "voice": "v", "kind": "c"},
            {"start_s": 1.5, "end_s": 2.5, "text": "Alexander", "voice": "v", "kind": "c"}]
    monkeypatch.setattr(streams, "build_stream",
                        lambda *a, **k: streams.Stream(np.zeros(16000 * 3, np.int16), said))
    pcm = np.ones(19200, np.int16)
    windows = [{"end_s": 1.2, "score": 200, "said": ["a lexus"], "voices": ["v"], "pcm": pcm},
               {"end_s": 2.4, "score": 250, "said": ["a lexus", "Alexander"], "voices": ["v"],
                "pcm": pcm}]
    monkeypatch.setattr(streams, "mine_stream", lambda *a, **k: {
        "window_samples": 19200, "windows": windows, "detections": [], "fired_on": []})
    m = streams.mine(MODEL, tmp_path, minutes=0.05, seed=9)
    assert m["windows"] == 1 and m["skipped_keyword_windows"] == 1
    assert [r["said"] for r in m["files"]] == [["a lexus"]]
    assert len(list((tmp_path / "_unknown_").glob("*.wav"))) == 1
    assert streams.says_keyword(["hey ALEXA"], "alexa")
    assert not streams.says_keyword(["a lexus", "alexis"], "alexa")
    assert streams.says_keyword(["Александр"], "alexa"), "the Russian voice's spelling too"
    assert not streams.says_keyword(["алексей", "лексика"], "alexa")


def test_mine_reports_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(KwsError, match="no model"):
        streams.mine(tmp_path / "missing.tflite", tmp_path / "o", minutes=0.1)
    with pytest.raises(KwsError, match="threshold"):
        streams.mine(MODEL, tmp_path / "o", minutes=0.1, threshold=0)
    with pytest.raises(KwsError, match="minutes"):
        streams.build_stream(0, seed=1)
    with pytest.raises(KwsError, match="confusables must be 0..1"):
        streams.build_stream(1, seed=1, confusable_share=1.5)
    with pytest.raises(KwsError, match="at most 240"):
        streams.build_stream(1e9, seed=1)
    with pytest.raises(KwsError, match="minutes"):
        streams.build_stream(float("nan"), seed=1)


def test_extra_clips_join_the_training_split_only(mined, tmp_path: Path) -> None:
    out, m = mined
    ds = tmp_path / "ds"
    make.make_dataset(ds, "tiny", jobs=2, seed=3)
    cache = CacheParams(keyword_variants=1, unknown_multiplier=1.0, validation_percent=20,
                        extra=(str(out),), extra_variants=2)
    counts = features.build_cache(ds, tmp_path / "cache", cache, 1, {}, jobs=2)
    assert counts["extra"] == 2 * m["windows"]
    x, y = features.load_train(tmp_path / "cache", with_extra=True)
    x0, y0 = features.load_split(tmp_path / "cache", "train")
    assert len(y) == len(y0) + counts["extra"]
    assert (y[len(y0):] == 1).all()                      # `_unknown_`
    assert x.shape[1:] == x0.shape[1:] and x.dtype == np.int8
    assert len(features.load_split(tmp_path / "cache", "val")[1]) == counts["val"]
    # The two variants of a window differ (augmented), and adding extras kept the main cache.
    xe = x[len(y0):]
    assert not np.array_equal(xe[0], xe[1])
    before = (tmp_path / "cache" / "train_x.npy").stat().st_mtime_ns
    features.build_cache(ds, tmp_path / "cache", cache.__class__(
        **{**cache.__dict__, "extra_variants": 1}), 1, {}, jobs=2)
    assert (tmp_path / "cache" / "train_x.npy").stat().st_mtime_ns == before
    # A GPU host has the cache but neither the dataset nor the extra folders: it trains on the
    # cache as it is, extra features included.
    host = tmp_path / "host"
    shutil.copytree(tmp_path / "cache", host)
    moved = cache.__class__(**{**cache.__dict__, "extra": (str(tmp_path / "gone"),)})
    there = features.build_cache(tmp_path / "no-dataset", host, moved, 1, {}, jobs=1)
    assert there["extra"] == m["windows"] and there["val"] == counts["val"]
    assert len(features.load_train(host, with_extra=True)[1]) == len(y0) + m["windows"]
    with pytest.raises(KwsError, match="not a class"):
        bad = tmp_path / "bad" / "other"
        bad.mkdir(parents=True)
        sf.write(bad / "a.wav", np.zeros(1600, np.int16), 16000)
        features.extra_clips([tmp_path / "bad"], ["alexa", "_unknown_"])


def test_dataset_stream_writes_keyword_events_for_evaluate(tmp_path: Path, capsys) -> None:
    """`dataset stream --keywords`: the keyword alone, each one an event evaluate can score;
    without --keywords no event, and no near-keyword in what was said."""
    from kwshost.cli import main
    from kwshost.data import words

    kw, speech = tmp_path / "kw.wav", tmp_path / "speech.wav"
    assert main(["dataset", "stream", str(kw), "--keywords", "--minutes", "0.4",
                 "--seed", "3"]) == 0
    assert main(["dataset", "stream", str(speech), "--minutes", "0.3", "--seed", "3"]) == 0
    k = json.loads(kw.with_suffix(".json").read_text())
    s = json.loads(speech.with_suffix(".json").read_text())
    audio, rate = sf.read(kw, dtype="int16")
    assert rate == 16000 and abs(len(audio) / rate - k["duration_s"]) < 1e-6
    assert len(k["events"]) == len(k["said"]) >= 4
    assert all(e["label"] == "alexa" and 0 < e["start_s"] < e["end_s"] <= k["duration_s"]
               for e in k["events"])
    ev = k["events"]
    gaps = [b["start_s"] - a["end_s"] for a, b in zip(ev[:-1], ev[1:], strict=True)]
    assert min(gaps) >= 2.5 - 0.01
    val = {u["voice"] for u in k["said"] + s["said"]}
    assert all(features.VoiceSplit(10)(g) == "val" for g in val)
    assert s["events"] == [] and len(s["said"]) >= 4
    assert not {u["text"].lower().strip(".?,!") for u in s["said"]} & words.NEAR_KEYWORD
    rc = main(["evaluate", str(MODEL), "--stream", str(kw), "--events",
               str(kw.with_suffix(".json")), "--json"])
    assert rc == 0
    assert main(["dataset", "stream", str(tmp_path / "x.mp3"), "--minutes", "0.1"]) == 2
    assert "name the stream OUT.wav" in capsys.readouterr().err
    taken = tmp_path / "taken.wav"
    taken.mkdir()                          # a folder where the WAV should go
    assert main(["dataset", "stream", str(taken), "--minutes", "0.05"]) == 2
    assert f"cannot write {taken}" in capsys.readouterr().err
    with pytest.raises(SystemExit):        # numpy's generator takes seeds of 0 or more
        main(["dataset", "stream", str(kw), "--minutes", "0.05", "--seed", "-1"])
    assert "must be 0 or more" in capsys.readouterr().err


def test_a_voice_failing_once_is_retried_and_one_failing_twice_is_reported(monkeypatch) -> None:
    """A timeout under load must not change the stream; a voice that keeps failing is named."""
    plan = streams.plan_utterances(6, seed=2)
    items = [(0, plan[0])]
    calls = []

    def flaky(voice, todo):
        calls.append(voice)
        if len(calls) == 1:
            raise RuntimeError("hung")
        return [np.full(1600, 0.1, np.float32) for _ in todo]

    monkeypatch.setattr(voices, "synthesize", flaky)
    monkeypatch.setattr(make, "_formant_shift", lambda a, cents: a)
    [(i, clip)] = streams._say_group(items)
    assert i == 0 and isinstance(clip, np.ndarray) and len(calls) == 2

    def broken(voice, todo):
        raise RuntimeError("hung")

    monkeypatch.setattr(voices, "synthesize", broken)
    [(i, why)] = streams._say_group(items)
    assert why == f"{plan[0].voice.group}: RuntimeError: hung"
    # In the workers (a voice espeak-ng does not have): the stream goes on, the reason is kept.
    prosody = {"rate": 160, "pitch": 50, "gap": 0, "emphasis": False}
    missing = streams.Utterance(voices.Voice("espeak", "zz-missing"), "a lexus", "confusable",
                                prosody, 0)
    good = streams.Utterance(voices.Voice("espeak", "en-us"), "a lexus", "confusable", prosody, 0)
    audio, failed = streams.synthesize_all([missing, good], jobs=2)
    assert audio[0] is None and audio[1] is not None and len(audio[1]) > 1000
    assert len(failed) == 1 and "CalledProcessError" in failed[0], failed


def test_stream_at_another_snr_says_the_same_things_at_the_same_places() -> None:
    """`dataset stream --snr`: the same seed in a quiet room keeps every utterance and its
    place; only the noise bed is lower (what a quiet-room copy of a validation stream needs)."""
    noisy = streams.build_stream(SECONDS / 60, seed=4, keywords=True)
    quiet = streams.build_stream(SECONDS / 60, seed=4, keywords=True, snr_db=(50.0, 60.0))
    assert quiet.said == noisy.said
    first = int(noisy.said[0]["start_s"] * 16000) - 800     # the gap before the first keyword

    def rms(pcm: np.ndarray) -> float:
        return float(np.sqrt(np.mean(pcm[:first].astype(np.float64) ** 2)))
    assert rms(quiet.audio) < rms(noisy.audio) / 30


@pytest.mark.parametrize("snr", ["5", "20,5", "nan,5", "a,b", "1,2,3"])
def test_stream_snr_must_be_a_range(capsys, tmp_path: Path, snr: str) -> None:
    code, _, err = cli(capsys, "dataset", "stream", tmp_path / "s.wav", "--snr", snr)
    assert code == 2 and "error: argument --snr" in err.splitlines()[-1]
    assert not (tmp_path / "s.wav").exists()


def test_mine_passes_engines_to_its_stream(capsys, tmp_path: Path, monkeypatch) -> None:
    """`dataset mine --engines mbrola` mines a stream of those voices only, so an opt-in
    engine's speakers can be mined (and held out with --validation-voices) as for streams."""
    seen = {}

    def fake_build(*args, **kwargs):
        seen.update(kwargs)
        return streams.Stream(np.zeros(32000, np.int16), [])
    monkeypatch.setattr(streams, "build_stream", fake_build)
    code, out, err = cli(capsys, "dataset", "mine", REPO_ROOT / "models" / "alexa_kwshost.tflite",
                         "--out", tmp_path / "m", "--minutes", "0.1", "--engines", "mbrola")
    assert code == 0, err
    assert seen.get("engines") == ("mbrola",)


def test_mine_stopped_while_writing_leaves_no_listing_of_the_old_run(mined, tmp_path: Path,
                                                                      monkeypatch) -> None:
    """A second mine into the same folder, stopped after its first window: the earlier run's
    listing (naming files now deleted or overwritten) used to stay, looking complete."""
    import shutil

    out = tmp_path / "again"
    shutil.copytree(mined[0], out)
    assert (out / "mined-s4.json").exists() and mined[1]["windows"] >= 2
    written = []

    def stop_after_one(path, *a, **k):
        if written:
            raise KeyboardInterrupt
        written.append(path)

    monkeypatch.setattr(streams.sf, "write", stop_after_one)
    with pytest.raises(KeyboardInterrupt):
        streams.mine(MODEL, out, minutes=SECONDS / 60, seed=4, threshold=100, jobs=2)
    assert not (out / "mined-s4.json").exists()
