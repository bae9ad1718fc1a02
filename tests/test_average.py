"""kwshost average: weighted means of models' weights, and what it refuses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from kwshost.average import average, average_weights, parse_weights
from kwshost.errors import KwsError
from kwshost.train_config import load_config


def test_weights_default_equal_and_are_normalized() -> None:
    assert np.allclose(parse_weights(None, 4), 0.25)
    assert np.allclose(parse_weights([1, 3], 2), [0.25, 0.75])
    assert np.allclose(parse_weights([0, 2], 2), [0, 1])
    for bad in ([1.0], [1, 2, 3], [-1, 2], [0, 0], [float("nan"), 1], [float("inf"), 1]):
        with pytest.raises(KwsError):
            parse_weights(bad, 2)


@pytest.mark.slow
def test_every_variable_is_the_weighted_mean_and_other_graphs_are_refused(
        tmp_path: Path) -> None:
    import keras
    from kwshost.model import TENetShape, build_tenet

    shape = TENetShape(time_steps=40, features=12)
    keras.utils.set_random_seed(1)
    start = build_tenet(shape).get_weights()
    rng = np.random.default_rng(0)
    models = []
    for k in (1, 2, 3):
        # Three "fine-tunes" of one start; batch-norm statistics too get values that differ.
        m = build_tenet(shape)
        m.set_weights([w + 0.01 * k + 0.02 * rng.normal(size=w.shape).astype(w.dtype)
                       for w in start])
        models.append(m)
    before = [m.get_weights() for m in models]
    mixed = average_weights(models, np.array([0.5, 0.25, 0.25])).get_weights()
    assert len(mixed) == len(before[0]) > 100
    for k, w in enumerate(mixed):
        expected = 0.5 * before[0][k] + 0.25 * before[1][k] + 0.25 * before[2][k]
        assert w.dtype == before[0][k].dtype
        assert np.allclose(w, expected, rtol=1e-6, atol=1e-6)
    x = np.random.default_rng(0).normal(size=(3, 40, 1, 12)).astype(np.float32)
    assert np.allclose(models[0].predict(x, verbose=0).sum(axis=1), 1.0, atol=1e-5)
    # Models from different random starts: same graph, unrelated units.
    keras.utils.set_random_seed(7)
    with pytest.raises(KwsError, match="not trained from the same start as model 1"):
        average_weights([build_tenet(shape), build_tenet(shape)], np.array([0.5, 0.5]))
    wider = build_tenet(TENetShape(time_steps=40, features=12, channels=16))
    with pytest.raises(KwsError, match="another graph"):
        average_weights([build_tenet(shape), wider], np.array([0.5, 0.5]))
    # A checkpoint cut short (a full disk, a copy interrupted) is named, not a Keras traceback.
    saved = tmp_path / "m.keras"
    models[1].save(saved)
    cut = tmp_path / "cut.keras"
    cut.write_bytes(saved.read_bytes()[: saved.stat().st_size // 2])
    cfg = load_config("test")
    with pytest.raises(KwsError, match="not a Keras model file"):
        average(cfg, [saved, cut])


def test_sources_that_are_no_model_are_named(tmp_path: Path) -> None:
    cfg = load_config("test").replace(run_dir=str(tmp_path / "run"))
    with pytest.raises(KwsError, match="at least two"):
        average(cfg, [tmp_path])
    (tmp_path / "empty").mkdir()
    with pytest.raises(KwsError, match="no model at .*best.keras"):
        average(cfg, [tmp_path / "empty", tmp_path / "empty"])
    junk = tmp_path / "junk.keras"
    junk.write_bytes(b"not a zip")
    with pytest.raises(KwsError, match="not a Keras model file"):
        average(cfg, [junk, junk])
    import zipfile

    other = tmp_path / "other.keras"
    with zipfile.ZipFile(other, "w") as z:
        z.writestr("notes.txt", "a zip, but no model in it")
    with pytest.raises(KwsError, match="cannot load"):
        average(cfg, [other, other])
    with pytest.raises(KwsError, match="no model at"):
        average(cfg, [tmp_path / "missing.tflite", junk])


def test_the_cli_refuses_bad_arguments_before_loading_anything(tmp_path: Path, capsys) -> None:
    from kwshost.cli import main

    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    assert main(["average", a, b, "--out", str(tmp_path / "x.tflite")]) == 2
    assert ".keras" in capsys.readouterr().err
    assert main(["average", a, b, "--out", str(tmp_path / "x.keras"), "--weights", "1"]) == 2
    assert "1 weights for 2 models" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["average", a, b, "--out", str(tmp_path / "x.keras"), "--weights", "1", "x"])
