"""Silero's English speakers (`dataset make --engines silero`, opt-in): listed, refused with a
reason where the model is missing or another file, spoken deterministically. The speaking tests
skip where `scripts/bootstrap --silero` has not installed torch and the model."""

from __future__ import annotations

import numpy as np
import pytest
from kwshost.data import make, silero, voices
from kwshost.errors import KwsError


@pytest.fixture
def model_at(monkeypatch):
    """Point the engine at another model file, its caches cleared before and after."""
    def point(path) -> None:
        monkeypatch.setenv("KWSHOST_SILERO_MODEL", str(path))
        voices.silero_voices.cache_clear()
        silero._model.cache_clear()
    yield point
    monkeypatch.undo()
    voices.silero_voices.cache_clear()
    silero._model.cache_clear()


def test_without_the_model_the_engine_says_how_to_install_it(tmp_path, model_at) -> None:
    model_at(tmp_path / "missing.pt")
    assert "silero" in voices.OPT_IN_ENGINES and "silero" not in make.DEFAULT_ENGINES
    with pytest.raises(KwsError, match="no training voice of engine silero") as e:
        voices.training_voices(("silero",))
    assert "bootstrap --silero" in e.value.hint


def test_another_file_in_the_models_place_is_refused_by_its_hash(tmp_path, model_at) -> None:
    (tmp_path / "v3_en.pt").write_bytes(b"not the model")
    model_at(tmp_path / "v3_en.pt")
    with pytest.raises(RuntimeError, match="not Silero's v3_en model"):
        silero.speak("en_0", "alexa", "medium", "medium")


@pytest.mark.skipif(not silero.available(), reason="Silero not installed "
                    "(scripts/bootstrap --silero: torch and the v3_en model)")
def test_silero_speakers_are_opt_in_and_speak_the_same_whatever_came_before() -> None:
    import random

    assert not [v for v in voices.training_voices() if v.engine == "silero"]
    speakers = voices.training_voices(("silero",))
    assert len(speakers) == 118 and speakers[5].group == "silero:en_5"
    p = voices.random_prosody(speakers[5], random.Random(3))
    assert p["rate"] in silero.RATES and p["pitch"] in silero.PITCHES
    slow, fast = ({"rate": r, "pitch": "medium"} for r in ("x-slow", "x-fast"))
    a, b = voices.synthesize(speakers[5], [("alexa", slow), ("alexa", fast)])
    assert len(a) > 1.5 * len(b) and 0.05 < float(np.abs(a).max()) <= 1.5
    other, = voices.synthesize(speakers[9], [("Tom & Jerry <3", fast)])   # SSML escaped
    again, = voices.synthesize(speakers[5], [("alexa", slow)])
    assert np.array_equal(a, again) and len(other) > len(b)   # no state between utterances
