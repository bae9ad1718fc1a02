"""The training chain at a user's small scale: what `train --steps N` with N under an epoch,
`train --start-from M.tflite` on a short schedule, and `average`'s convert hint do (found by
running the chain end to end with a 40-clip dataset and --steps 200)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import cli
from kwshost.train import fine_tune_step, start_from_model
from kwshost.train_config import load_config

REPO = Path(__file__).resolve().parents[1]
BUNDLED = REPO / "models" / "alexa_kwshost.tflite"


def test_steps_under_an_epoch_train_that_many_steps(tmp_path, capsys, monkeypatch) -> None:
    # alexa.toml has 500 steps an epoch: --steps 200 used to train 500 (300 at the last rate).
    import kwshost.train

    seen = {}
    monkeypatch.setattr(kwshost.train, "train", lambda cfg, **_: seen.setdefault("cfg", cfg))
    code, out, _ = cli(capsys, "train", "--config", "alexa", "--steps", "200",
                       "--dataset", tmp_path / "data", "--run", tmp_path / "run")
    assert code == 0, out
    assert seen["cfg"].total_steps == 200 and seen["cfg"].steps_per_epoch == 200
    assert "one epoch of 200 steps" in out
    # A schedule of whole epochs keeps the config's epoch length.
    code, out, _ = cli(capsys, "train", "--config", "alexa", "--steps", "1500",
                       "--dataset", tmp_path / "data", "--run", tmp_path / "run")
    assert code == 0 and seen["cfg"].steps_per_epoch == 200   # the first call's, unchanged
    seen.clear()
    cli(capsys, "train", "--config", "alexa", "--steps", "1500",
        "--dataset", tmp_path / "data", "--run", tmp_path / "run")
    assert seen["cfg"].steps_per_epoch == 500


@pytest.mark.parametrize("steps", [200, 1000, 12450])
def test_import_on_a_short_schedule_starts_at_the_fine_tuning_rate(tmp_path, steps) -> None:
    # With a schedule of one or two epochs the import's epoch boundary is epoch 0 or 1, before
    # the fine-tuning phase: the imported model used to start at the warm-up and peak rates.
    cfg = load_config("alexa").replace(total_steps=steps, run_dir=str(tmp_path / "run"))
    cfg = cfg.replace(steps_per_epoch=min(cfg.steps_per_epoch, steps))
    start_from_model(cfg, BUNDLED)
    state = json.loads((tmp_path / "run" / "state.json").read_text())
    assert state["step_offset"] == state["global_step"] >= fine_tune_step(cfg)
    assert cfg.learning_rate(state["step_offset"]) <= 0.0005
    assert state["epochs_done"] < -(-steps // cfg.steps_per_epoch)   # an epoch left to train


@pytest.mark.slow
def test_average_of_runs_names_a_run_for_convert(tmp_path, capsys) -> None:
    # The hint used to omit --run, so convert looked for the config's runs/alexa/cache.
    import keras
    from kwshost.model import TENetShape, build_tenet

    keras.utils.set_random_seed(1)
    model = build_tenet(TENetShape(time_steps=118, features=108))
    for name in ("a", "b"):
        (tmp_path / name / "cache").mkdir(parents=True)
        model.save(tmp_path / name / "best.keras")
    code, out, err = cli(capsys, "average", tmp_path / "a", tmp_path / "b",
                         "--out", tmp_path / "soup.keras")
    assert code == 0, err
    assert f"kwshost convert --config alexa --run {tmp_path / 'a'} --keras" in out
