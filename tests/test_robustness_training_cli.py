"""The model workflow's commands (dataset, train, convert, average, evaluate) on bad input: a
one-line error naming the problem, never a traceback, a silently wrong result or a lost file."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import cli as kwshost
from conftest import one_line_error
from kwshost.errors import KwsError
from kwshost.train_config import load_config

REPO = Path(__file__).resolve().parents[1]
ALEXA = REPO / "models" / "mltk_keyword_spotting_alexa.tflite"


def test_dataset_make_refuses_size_0_and_a_negative_seed(capsys, tmp_path):
    out = tmp_path / "ds"
    for size in ("0", "-3"):   # 0 made an empty dataset and said nothing
        code, _, err = kwshost(capsys, "dataset", "make", out, "--size", size)
        assert code == 2 and "at least 1 keyword clip" in one_line_error(err, "dataset")
    assert not out.exists()
    code, _, err = kwshost(capsys, "dataset", "make", out, "--size", "2", "--seed", "-5")
    assert code == 2 and "--seed: must be 0 or more" in err   # was numpy's traceback


def test_dataset_info_names_a_manifest_that_is_not_one(capsys, tmp_path):
    for text, expected in (('{"counts": ', "is not JSON"), ("[]", "is not a dataset manifest"),
                           ('{"a": 1}', "is not a dataset manifest")):
        (tmp_path / "manifest.json").write_text(text)
        code, _, err = kwshost(capsys, "dataset", "info", tmp_path)
        assert code == 2 and expected in one_line_error(err, "dataset"), text


BAD_CONFIGS = {
    'seed = -1': "seed must be 0 or more",
    'train_seed = -3': "train_seed must be 0 or more",
    'classes = ["alexa"]': "needs the keyword and `_unknown_`",
    'classes = []': "needs the keyword and `_unknown_`",
    'class_weights = "balance"': "class_weights = 'balance'",
    'class_weights = [1.0]': "class_weights = (1.0,)",
    '[masks]\nprobability = 3.0': "[masks] probability = 3.0",
    '[masks]\nprobability = 0.5\nmax_rows = -5': "[masks] max_rows = -5",
    '[cache]\nwarmup_ms = -100': "[cache] warmup_ms = -100",
    '[cache]\nvalidation_percent = 150': "[cache] validation_percent = 150",
    '[cache]\nunknown_multiplier = -1.0': "[cache] unknown_multiplier = -1.0",
    '[detector]\ndetection_threshold = 999': "[detector] detection_threshold = 999",
    '[detector]\nminimum_count = -1': "[detector] minimum_count = -1",
    '[detector]\nminimum_count = 51': "[detector] minimum_count = 51 is over 50",
    '[frontend]\nfilterbank_n_chanels = 40': "unknown setting 'filterbank_n_chanels'",
    '[frontend]\nwindow_step_ms = "10"': "is not a number",
    '[frontend]\nsample_length_ms = 1000': "sample_length_ms = 1000 cannot change",
}


@pytest.mark.parametrize("text", BAD_CONFIGS)
def test_config_values_that_would_crash_or_mislead_training_are_refused(tmp_path, text):
    """Each of these used to load: some crashed training with a traceback (negative seeds,
    masks, warm-up), after minutes of feature building (class_weights), or trained something
    other than asked without a word (a misspelt [frontend] key, unknown_multiplier < 0,
    validation_percent > 100, a detector threshold no device takes)."""
    path = tmp_path / "c.toml"
    path.write_text(text + "\n")
    with pytest.raises(KwsError) as e:
        load_config(path)
    assert BAD_CONFIGS[text] in str(e.value)


def test_a_bad_config_is_one_line_from_train_before_any_work(capsys, tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(f'seed = -1\nrun_dir = "{tmp_path / "run"}"\n')
    code, _, err = kwshost(capsys, "train", "--config", path)
    assert code == 2 and "seed must be 0 or more" in one_line_error(err, "train")
    assert not (tmp_path / "run").exists()


def test_frontend_overrides_load_without_a_warning_about_model_metadata(tmp_path, caplog):
    from kwshost.data.features import frontend_settings

    path = tmp_path / "c.toml"
    path.write_text("[frontend]\n\"fe.pcan_enable\" = true\nwindow_step_ms = 10\n")
    cfg = load_config(path)
    with caplog.at_level(logging.WARNING):
        settings = frontend_settings(cfg.frontend)
    assert settings.pcan_enable is True
    assert "lacks" not in caplog.text   # "model metadata lacks fe.*": there is no model here


def test_train_refuses_config_classes_other_than_the_datasets(tmp_path):
    """The cache labels clips in the dataset's class order: a config naming them in another
    order (or more of them) trained a model whose labels lied, without a word."""
    from kwshost.train import check_cache_classes
    from kwshost.train_config import TrainConfig

    (tmp_path / "cache.json").write_text(json.dumps({"classes": ["alexa", "_unknown_"]}))
    check_cache_classes(TrainConfig(), tmp_path)
    for classes in (("_unknown_", "alexa"), ("alexa", "_unknown_", "other")):
        with pytest.raises(KwsError, match="are not the dataset's"):
            check_cache_classes(TrainConfig(classes=classes), tmp_path)


@pytest.mark.slow
def test_convert_refuses_other_classes_a_broken_cache_and_writing_over_its_input(
        capsys, tmp_path):
    import keras
    from kwshost.model import TENetShape, build_tenet

    run = tmp_path / "run"
    (run / "cache").mkdir(parents=True)
    config = tmp_path / "c.toml"
    config.write_text(f'run_dir = "{run}"\n')
    keras.utils.set_random_seed(1)
    build_tenet(TENetShape(time_steps=40, features=12, classes=3)).save(run / "best.keras")
    code, _, err = kwshost(capsys, "convert", "--config", config, "--out", tmp_path / "m.tflite")
    assert code == 2 and "has 3 outputs, the config 2 classes" in one_line_error(err, "convert")

    build_tenet(TENetShape(time_steps=40, features=12)).save(run / "best.keras")
    (run / "cache" / "val_x.npy").write_text("not numpy")
    (run / "cache" / "val_y.npy").write_text("not numpy")
    code, _, err = kwshost(capsys, "convert", "--config", config, "--out", tmp_path / "m.tflite")
    assert code == 2 and "cannot read the feature cache" in one_line_error(err, "convert")

    before = (run / "best.keras").read_bytes()
    code, _, err = kwshost(capsys, "convert", "--config", config, "--keras", run / "best.keras",
                           "--out", run / "best.keras")
    assert code == 2 and "is the model being converted" in one_line_error(err, "convert")
    assert (run / "best.keras").read_bytes() == before


def test_average_refuses_to_write_over_a_model_it_averages(capsys, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for run in (a, b):
        run.mkdir()
        (run / "best.keras").write_bytes(b"a checkpoint")
    for out in (b / "best.keras", a / "best.keras"):
        code, _, err = kwshost(capsys, "average", a, b / "best.keras", "--out", out)
        assert code == 2 and "is one of the models being averaged" in one_line_error(
            err, "average")
    assert (a / "best.keras").read_bytes() == (b / "best.keras").read_bytes() == b"a checkpoint"


@pytest.fixture
def noise_wav(tmp_path) -> Path:
    path = tmp_path / "s.wav"
    rng = np.random.default_rng(0)
    sf.write(path, (0.01 * rng.standard_normal(16000 * 20)).astype(np.float32), 16000,
             subtype="PCM_16")
    return path


def test_evaluate_refuses_events_that_do_not_fit_the_stream(capsys, tmp_path, noise_wav):
    """Keywords after the stream's end, an events file of another stream's length, reversed
    or NaN times, or no event labelled with the model's keyword: each used to count as misses
    (or as no keywords) without a word."""
    cases = {
        "another length": ({"duration_s": 600, "events": [
            {"label": "alexa", "start_s": 3, "end_s": 3.6}]}, "is for a 600 s stream"),
        "after the end": ({"events": [{"label": "alexa", "start_s": 300, "end_s": 300.6}]},
                          "start after the end"),
        "reversed": ({"events": [{"label": "alexa", "start_s": 5, "end_s": 2}]},
                     "each needs 0 <= start_s <= end_s"),
        "NaN": ('{"events": [{"label": "alexa", "start_s": NaN, "end_s": 2}]}',
                "each needs 0 <= start_s <= end_s"),
        "label": ({"events": [{"label": "Alexa", "start_s": 3, "end_s": 3.6}]},
                  "none of its 1 events is labelled 'alexa'"),
    }
    events = tmp_path / "e.json"
    for name, (content, expected) in cases.items():
        events.write_text(content if isinstance(content, str) else json.dumps(content))
        code, _, err = kwshost(capsys, "evaluate", ALEXA, "--stream", noise_wav,
                               "--events", events)
        assert code == 2 and expected in one_line_error(err, "evaluate"), name
    events.write_text(json.dumps({"duration_s": 20.0, "events": [
        {"label": "alexa", "start_s": 3, "end_s": 3.6}]}))
    code, out, _ = kwshost(capsys, "evaluate", ALEXA, "--stream", noise_wav, "--events", events)
    assert code == 0 and "1 keywords" in out


def test_evaluate_refuses_a_negative_seed_and_a_nan_budget(capsys, tmp_path, noise_wav):
    code, _, err = kwshost(capsys, "evaluate", ALEXA, "--data", tmp_path, "--seed", "-1")
    assert code == 2 and "--seed: must be 0 or more" in err   # was numpy's traceback
    code, _, err = kwshost(capsys, "evaluate", ALEXA, "--stream", noise_wav,
                           "--fa-per-hour", "nan")
    assert code == 2 and "--fa-per-hour must be 0 or more" in one_line_error(err, "evaluate")
