"""Training config, model structure, and the CI smoke path: train --test, convert, evaluate."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from kwshost.errors import KwsError
from kwshost.frontend import FrontendSettings
from kwshost.train import (
    BatchFeeder,
    apply_masks,
    apply_warp,
    class_weights,
    example_weights,
    prefetched,
    warp_sources,
)
from kwshost.train_config import SEED_SCHEDULE, MaskParams, TrainConfig, WarpParams, load_config

SEED_OPS = {"CONV_2D", "DEPTHWISE_CONV_2D", "ADD", "AVERAGE_POOL_2D", "RESHAPE",
            "FULLY_CONNECTED", "SOFTMAX"}


def test_schedule_is_the_seeds_scaled_to_the_budget() -> None:
    cfg = TrainConfig(total_steps=5020)
    sched = cfg.schedule()
    assert [lr for _, lr in sched] == [lr for _, lr in SEED_SCHEDULE]
    assert abs(sum(s for s, _ in sched) - 5020) <= len(sched)
    assert cfg.learning_rate(0) == 0.001
    assert cfg.learning_rate(sched[0][0] + sched[1][0] + sched[2][0] + sched[3][0]) == 0.005
    assert cfg.learning_rate(10**9) == 1e-7
    assert TrainConfig(total_steps=100400).schedule() == list(SEED_SCHEDULE)


def test_keras_schedule_follows_the_config_between_boundaries() -> None:
    from kwshost.train import _schedule

    cfg = TrainConfig(total_steps=5020)
    keras_lr = _schedule(cfg)
    starts = np.cumsum([0] + [s for s, _ in cfg.schedule()])
    for step in [int(a) + 1 for a in starts[:-1]] + [int(b) - 1 for b in starts[1:]] + [10**6]:
        assert float(keras_lr(step)) == pytest.approx(cfg.learning_rate(step), rel=1e-6), step


def test_configs_load_and_reject_unknown_settings(tmp_path: Path) -> None:
    cfg = load_config("alexa")
    assert cfg.classes == ("alexa", "_unknown_")
    assert cfg.detector.detection_threshold == 204 and cfg.detector.suppression_ms == 900
    bad = tmp_path / "bad.toml"
    bad.write_text("totl_steps = 5\n")
    with pytest.raises(KwsError, match="unknown setting 'totl_steps'"):
        load_config(bad)
    with pytest.raises(KwsError):
        load_config("no-such-config")


def test_models_of_non_commercial_voices_say_so_in_their_metadata(tmp_path: Path) -> None:
    from kwshost.convert import model_params

    def folder(name: str, manifest: str | None) -> str:
        (tmp_path / name).mkdir()
        if manifest is not None:
            (tmp_path / name / "manifest.json").write_text(manifest)
        return str(tmp_path / name)

    main = folder("main", json.dumps({"engines": ["espeak", "festival"]}))
    config = tmp_path / "c.toml"
    config.write_text(f'dataset = "{main}"\n')
    assert "training_data_terms" not in model_params(load_config(config))
    extras = [folder("recordings", None), folder("broken", "{not json"),
              folder("odd", json.dumps(["engines"])),
              folder("timbre", json.dumps(
                  {"clips": [{"path": "alexa/t0.wav", "group": "espeak:en-us"}]}))]
    config.write_text(f'dataset = "{main}"\n[cache]\nextra = {json.dumps(extras)}\n')
    assert "training_data_terms" not in model_params(load_config(config))

    def terms_with(extra: str) -> str:
        config.write_text(f'dataset = "{main}"\n[cache]\nextra = {json.dumps([*extras, extra])}\n')
        return model_params(load_config(config))["training_data_terms"]

    terms = terms_with(folder("silero", json.dumps({"engines": ["silero"]})))
    assert terms.startswith("non-commercial") and "silero" in terms and "CC BY-NC-SA" in terms
    assert "mbrola" not in terms
    # Voice conversion keeps the source clips' groups; mining lists the voices it heard.
    assert "mbrola" in terms_with(folder("timbre_mb", json.dumps(
        {"clips": [{"path": "alexa/t0.wav", "group": "mbrola:us2"}]})))
    (tmp_path / "mined").mkdir()
    (tmp_path / "mined" / "mined-s1.json").write_text(json.dumps(
        {"files": [{"voices": ["espeak:en-us", "silero:en_5"]}]}))
    assert "silero" in terms_with(str(tmp_path / "mined"))
    # A model made from a converted model with terms (a fine-tune, an average) is told so.
    from kwshost.convert import inherited_terms_notes
    from kwshost.metadata import read_params, write_params

    bundled = Path(__file__).resolve().parents[1] / "models" / "alexa_kwshost.tflite"
    marked = tmp_path / "nc.tflite"
    marked.write_bytes(write_params(bundled, {**read_params(bundled),
                                              "training_data_terms": terms}))
    notes = inherited_terms_notes([bundled, marked, tmp_path / "gone.tflite",
                                   tmp_path / "x.keras"])
    assert len(notes) == 1 and str(marked) in notes[0] and terms in notes[0]


@pytest.mark.parametrize("line, why", [
    ('batch_size = "big"', "batch_size = 'big' is not of type int"),
    ("total_steps = 0", "total_steps must be at least 1"),
    ('class_weights = [1, "x"]', "class_weights"),
    ("cache = 3", r"cache must be a \[cache\] table"),
    ("[masks]\nprobability = true", "probability = True is not of type float"),
    ("[warp]\nprobability = 1.5", r"\[warp\] probability = 1.5 is not in \[0, 1\]"),
    ("[warp]\nmax_factor = 0.9", r"\[warp\] max_factor = 0.9 is not in \[1, 2\]"),
])
def test_configs_reject_values_of_the_wrong_type(tmp_path: Path, line: str, why: str) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(line + "\n")
    with pytest.raises(KwsError, match=why):
        load_config(bad)


def test_a_cache_augment_table_loads(tmp_path: Path) -> None:
    cfg_path = tmp_path / "aug.toml"
    cfg_path.write_text("[cache]\nkeyword_variants = 2\n[cache.augment]\n"
                        "speed_range = [0.8, 1.25]\nreverb_p = 0.7\n")
    cfg = load_config(cfg_path)
    assert cfg.cache.augment == {"speed_range": [0.8, 1.25], "reverb_p": 0.7}
    assert load_config("alexa").cache.augment == {}


def test_balanced_class_weights() -> None:
    w = class_weights(np.array([0, 1, 1, 1]), 2)
    assert np.allclose(w, [2.0, 2 / 3])
    y = np.array([0, 1, 1, 1])
    assert np.allclose(example_weights(TrainConfig(class_weights=(1.0, 3.0)), y, 2), [2.0, 2.0])
    assert example_weights(TrainConfig(class_weights="none"), y, 2) is None
    for bad in ((1.0,), (1.0, -1.0), "sometimes"):
        with pytest.raises(KwsError):
            example_weights(TrainConfig(class_weights=bad), y, 2)


def test_masks_blank_whole_bands_to_the_floor_and_nothing_else() -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(-100, 127, (40, 118, 108)).astype(np.float32)
    x[:, 5, 7] = -128
    masks = MaskParams(probability=0.5, time_masks=1, max_rows=12, freq_masks=1, max_channels=10)
    y = apply_masks(x.copy(), masks, np.random.default_rng(1))
    changed = y != x
    assert 5 < changed.any(axis=(1, 2)).sum() < 35          # about half the examples
    for after, diff in zip(y, changed, strict=True):
        assert np.all(after[diff] == -128)                  # masked values are the floor
        floor = after == -128
        rows, cols = floor.all(axis=1), floor.all(axis=0)
        # every changed value lies in a fully masked row or column band of width <= the limit
        assert np.all(diff <= (rows[:, None] | cols[None, :]))
        assert rows.sum() <= 12 and cols.sum() <= 10
    again = apply_masks(x.copy(), masks, np.random.default_rng(1))
    assert np.array_equal(again, y)                         # seeded: reproducible


def test_feeder_masks_only_when_asked() -> None:
    x = np.random.default_rng(2).integers(-100, 127, (50, 118, 108)).astype(np.int8)
    y = np.arange(50) % 2
    plain = BatchFeeder(x, y, 2, 10, 3, None, MaskParams())
    masked = BatchFeeder(x, y, 2, 10, 3, None, MaskParams(probability=1.0))
    a, b = next(plain.batches(0, 1)), next(masked.batches(0, 1))
    assert np.array_equal(a[1], b[1])                       # same examples, same labels
    assert np.array_equal(a[0][:, :, 0, :], x[np.sort(np.random.default_rng([3, 0])
                                                     .permutation(50)[:10])].astype(np.float32))
    assert not np.array_equal(a[0], b[0])


def test_warp_reads_each_channel_at_its_frequency_over_the_factor() -> None:
    s = FrontendSettings()
    n = s.filterbank_n_channels
    same, up, down = warp_sources(s, np.array([1.0, 1.15, 1 / 1.15]))
    assert np.allclose(same, np.arange(n))
    # Formants 15% higher: each channel reads a lower one, by about ln(1.15) on the mel scale
    # at high frequencies (6 of 108 channels here); the top channels of a lower voice read
    # past the last channel, so they repeat it.
    assert np.all(up <= np.arange(n)) and np.all(np.diff(up[2:]) > 0) and up[0] == 0
    assert 5.5 < n - 1 - up[-1] < 6.5
    assert np.all(down >= np.arange(n)) and down[-1] == n - 1 and down[0] > 1

    # A spectrum with one peak: warped up, the peak moves up; chosen examples only.
    x = np.full((200, 3, n), -100.0, dtype=np.float32)
    x[:, :, 40] = 100.0
    warp = WarpParams(probability=0.5, max_factor=1.15)
    y = apply_warp(x.copy(), warp, s, np.random.default_rng(4))
    changed = (y != x).any(axis=(1, 2))
    assert 60 < changed.sum() < 140
    peaks = y[:, 0, :].argmax(axis=1)
    assert np.all(peaks[~changed] == 40) and np.all(np.abs(peaks - 40) <= 4)
    assert (peaks > 40).any() and (peaks < 40).any()
    assert np.all(y.max(axis=2) <= 100.0) and np.all(y.min(axis=2) >= -100.0)
    assert np.array_equal(apply_warp(x.copy(), warp, s, np.random.default_rng(4)), y)


def test_feeder_warps_only_when_asked_and_keeps_unwarped_batches() -> None:
    x = np.random.default_rng(2).integers(-100, 127, (50, 118, 108)).astype(np.int8)
    y = np.arange(50) % 2
    masks = MaskParams(probability=0.5)
    s = FrontendSettings()
    plain = BatchFeeder(x, y, 2, 10, 3, None, masks, (WarpParams(), s))
    warped = BatchFeeder(x, y, 2, 10, 3, None, masks, (WarpParams(probability=1.0), s))
    a, b = next(plain.batches(0, 1)), next(warped.batches(0, 1))
    # Warping off: the batch is what masking alone made before warping existed.
    idx = np.sort(np.random.default_rng([3, 0]).permutation(50)[:10])
    expected = apply_masks(x[idx].astype(np.float32), masks, np.random.default_rng([3, 0, 0]))
    assert np.array_equal(a[0][:, :, 0, :], expected)
    assert np.array_equal(a[1], b[1]) and not np.array_equal(a[0], b[0])


def test_feeder_threads_make_the_same_batches_in_the_same_order() -> None:
    x = np.random.default_rng(5).integers(-100, 127, (230, 118, 108)).astype(np.int8)
    y = np.arange(230) % 2
    s = FrontendSettings()
    feeder = BatchFeeder(x, y, 2, 20, 7, None, MaskParams(probability=0.5),
                         (WarpParams(probability=0.5), s))
    feeder.workers = 1
    alone = list(feeder.batches(3, 25))
    feeder.workers = 4
    threaded = list(feeder.batches(3, 25))
    assert len(threaded) == 25
    for a, b in zip(alone, threaded, strict=True):
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    # A consumer that stops early leaves no batch-making thread behind.
    first = feeder.batches(4, 25)
    next(first)
    first.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("batches")]


def test_train_seed_changes_the_batches_and_leaves_the_cache_seed(tmp_path: Path) -> None:
    from kwshost.train import training_feeder

    x = np.random.default_rng(6).integers(-100, 127, (60, 118, 108)).astype(np.int8)
    y = np.arange(60) % 2
    cfg = load_config("test")
    again = training_feeder(cfg, x, y)
    other = training_feeder(cfg.replace(train_seed=cfg.seed + 4), x, y)
    assert again.seed == cfg.training_seed == cfg.seed and other.seed == cfg.seed + 4
    a, b = next(again.batches(0, 1)), next(other.batches(0, 1))
    assert not np.array_equal(a[0], b[0])
    (tmp_path / "s.toml").write_text("train_seed = 3\n")
    assert load_config(tmp_path / "s.toml").training_seed == 3
    assert load_config(tmp_path / "s.toml").seed == 1   # the cache's seed stays the default


def test_prefetched_passes_a_makers_error_to_the_consumer() -> None:
    def make(i: int) -> int:
        if i == 5:
            raise ValueError("batch 5")
        return i

    got = []
    with pytest.raises(ValueError, match="batch 5"):
        for v in prefetched(make, 9, 3):
            got.append(v)
    assert got == [0, 1, 2, 3, 4]


@pytest.mark.slow
@pytest.mark.parametrize(("steps", "stride"), [(118, 2), (59, 1), (59, 2), (30, 2), (15, 2)])
def test_time_depthwise_sum_is_the_depthwise_convolution(steps: int, stride: int) -> None:
    """The shifted-product form JAX trains with equals Keras' DepthwiseConv2D ('same' padding,
    the (9, 1) kernel and strides of the blocks) on the same weights."""
    import keras
    from kwshost.model import time_depthwise_sum

    rng = np.random.default_rng(steps + stride)
    x = rng.standard_normal((3, steps, 1, 96)).astype(np.float32)
    layer = keras.layers.DepthwiseConv2D((9, 1), strides=(stride, stride), padding="same",
                                         use_bias=False)
    layer.build(x.shape)
    layer.kernel.assign(rng.standard_normal(layer.kernel.shape).astype(np.float32))
    expected = np.asarray(layer(x))
    got = np.asarray(time_depthwise_sum(x, np.asarray(layer.kernel), stride))
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.slow
def test_tenet12_has_the_seeds_layer_plan() -> None:
    import keras
    from kwshost.model import build_tenet

    m = build_tenet()
    assert 105_000 < m.count_params() < 115_000
    kinds = [type(layer).__name__ for layer in m.layers]
    assert kinds.count("TimeDepthwise") == 12
    assert sum(isinstance(layer, keras.layers.DepthwiseConv2D) for layer in m.layers) == 12
    assert kinds.count("Add") == 12
    assert kinds.count("Conv2D") == 1 + 12 * 2 + 3   # stem, 2 per block, 3 strided shortcuts
    assert m.output_shape == (None, 2)
    x = np.zeros((2, 118, 1, 108), np.float32)
    assert np.allclose(m.predict(x, verbose=0).sum(axis=1), 1.0, atol=1e-5)
    assert isinstance(m, keras.Model)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, Path]:
    """One `train --test` run (its dataset synthesized on the way) and the dataset folder,
    shared by the tests below: neither writes into them (each checks what it relies on)."""
    from kwshost.cli import main

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng missing")
    tmp = tmp_path_factory.mktemp("trained")
    run, data = tmp / "run", tmp / "data"
    assert main(["train", "--test", "--run", str(run), "--dataset", str(data)]) == 0
    return run, data


@pytest.mark.slow
def test_train_test_convert_evaluate_end_to_end(trained, tmp_path: Path, capsys) -> None:
    """The CI smoke path: tiny synthesized set, a few steps, int8 model with metadata that
    runs on our runtime, then evaluation through the device pipeline."""
    from kwshost import metadata
    from kwshost.cli import main
    from kwshost.convert import operators
    from kwshost.runtime import Interpreter

    run, data = trained
    assert (run / "best.keras").exists() and (run / "state.json").exists()
    # --resume finds the finished run and does nothing more.
    assert main(["train", "--test", "--run", str(run), "--dataset", str(data),
                 "--resume"]) == 0
    assert "already complete" in capsys.readouterr().out
    out = tmp_path / "m.tflite"
    assert main(["convert", "--config", "test", "--run", str(run), "--out", str(out)]) == 0
    model = out.read_bytes()
    assert len(model) < 220_000
    ops = operators(model)
    assert len(ops) == 56 and set(ops) == SEED_OPS
    params = metadata.read_params(model)
    assert params["classes"] == ["alexa", "_unknown_"]
    for key in ("fe.sample_rate_hz", "fe.filterbank_n_channels", "fe.noise_reduction_enable",
                "fe.quantize_dynamic_scale_range_db", "latency_ms", "minimum_count",
                "average_window_duration_ms", "detection_threshold", "suppression_ms",
                "volume_gain", "name", "version"):
        assert key in params, key
    rt = Interpreter(model)
    x = np.random.default_rng(0).integers(-128, 128, (1, 118, 1, 108), dtype=np.int8)
    y = np.asarray(rt.invoke(x)).reshape(-1).astype(int)
    assert y.shape == (2,) and abs((y + 128).sum() - 256) <= 2   # int8 softmax sums to ~1
    # --temperature 4: the logits divided by 4, so scores sit nearer the middle, same ranking.
    hot = tmp_path / "t4.tflite"
    assert main(["convert", "--config", "test", "--run", str(run), "--out", str(hot),
                 "--temperature", "4"]) == 0
    assert "divided by 4" in capsys.readouterr().out
    xs = np.random.default_rng(1).integers(-128, 128, (20, 1, 118, 1, 108), dtype=np.int8)
    cool = [np.asarray(rt.invoke(v)).reshape(-1).astype(int) for v in xs]
    rt4 = Interpreter(hot.read_bytes())
    warm = [np.asarray(rt4.invoke(v)).reshape(-1).astype(int) for v in xs]
    assert all(abs(w[0] - w[1]) <= abs(c[0] - c[1]) + 2 for c, w in zip(cool, warm, strict=True))
    assert sum(abs(w[0] - w[1]) for w in warm) < sum(abs(c[0] - c[1]) for c in cool)
    for bad in ("0", "-1", "nan", "x"):
        with pytest.raises(SystemExit):
            main(["convert", "--config", "test", "--run", str(run), "--temperature", bad])
    assert main(["evaluate", str(out), "--cache", str(run / "cache"), "--split", "val"]) == 0
    assert "accuracy" in capsys.readouterr().out


@pytest.mark.slow
def test_a_stage_starts_from_an_earlier_runs_best_epoch(trained, tmp_path: Path, capsys) -> None:
    """--start-from: the earlier run's best weights, step, history and main cache carry over;
    the earlier run is left as it was."""
    import hashlib

    from kwshost.cli import main

    (first, data), stage = trained, tmp_path / "stage"
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
              for p in first.rglob("*") if p.is_file()}
    old = json.loads((first / "state.json").read_text())
    best = old["best_epoch"]
    # (batches made on 3 threads: the threaded feeder inside a real run)
    assert main(["train", "--test", "--run", str(stage), "--dataset", str(data), "--steps", "18",
                 "--epochs", "1", "--start-from", str(first), "--feeder-threads", "3"]) == 0
    out = capsys.readouterr().out
    assert f"starting from {first / 'best.keras'} (epoch {best}" in out
    assert f"resuming from epoch {best}" in out
    state = json.loads((stage / "state.json").read_text())
    assert state["epochs_done"] == best + 1 and state["best_epoch"] == best + 1
    assert [h["epoch"] for h in state["history"]] == [*range(1, best + 1), best + 1]
    assert state["resumed_from"].startswith(str(first / "best.keras"))
    rows = (stage / "history.csv").read_text().splitlines()
    assert rows[0].startswith("epoch,") and [r.split(",")[0] for r in rows[1:]] == [
        str(e) for e in range(best + 1)]   # Keras counts them from 0 there
    linked = stage / "cache" / "train_x.npy"
    assert linked.resolve() == (first / "cache" / "train_x.npy").resolve()
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
             for p in first.rglob("*") if p.is_file()}
    assert after == before
    # A stage folder with a checkpoint is continued with --resume, never overwritten.
    assert main(["train", "--test", "--run", str(stage), "--dataset", str(data),
                 "--start-from", str(first)]) == 2
    assert main(["train", "--test", "--run", str(tmp_path / "new"), "--dataset", str(data),
                 "--start-from", str(tmp_path / "nothing")]) == 2
    assert main(["train", "--test", "--run", str(tmp_path / "new"), "--dataset", str(data),
                 "--start-from", str(first / "state.json")]) == 2
    # From the last epoch of a run instead of its best: the finished stage's epoch 3.
    from kwshost.train import start_from

    assert start_from(tmp_path / "again", stage / "last.keras") == (
        f"{stage / 'last.keras'} (epoch {best + 1}, step {state['global_step']})")
    assert json.loads((tmp_path / "again" / "state.json").read_text())["epochs_done"] == best + 1
    # From a run that finished its schedule, with no longer one: said, no checkpoint advertised.
    capsys.readouterr()
    assert main(["train", "--test", "--run", str(tmp_path / "done"), "--dataset", str(data),
                 "--steps", "18", "--start-from", str(stage / "last.keras")]) == 2
    out, err = capsys.readouterr()
    assert "nothing to train, the schedule ends at epoch 3" in err and "checkpoints:" not in out
    # From a converted model: the bundled .tflite's weights, at the fine-tuning rate.
    bundled = Path(__file__).resolve().parents[1] / "models" / "alexa_kwshost.tflite"
    tuned = tmp_path / "tuned"
    assert main(["train", "--test", "--run", str(tuned), "--dataset", str(data), "--steps", "24",
                 "--epochs", "1", "--start-from", str(bundled)]) == 0
    out = capsys.readouterr().out
    assert f"starting from {bundled} (imported; epoch 3, step 18" in out
    accuracy = float(out.split("validation accuracy ")[1].split()[0])
    assert accuracy >= 0.8   # the bundled model's, not an untrained one's (about 0.5)
    state = json.loads((tuned / "state.json").read_text())
    assert state["epochs_done"] == 4 and state["best_epoch"] == 4
    assert state["global_step"] == 24 and (tuned / "best.keras").exists()
    # The optimizer counts its own steps from 0 (Adam's bias correction for fresh moments);
    # the schedule is offset instead.
    import keras
    from kwshost.model import custom_objects

    trained = keras.models.load_model(tuned / "last.keras", custom_objects=custom_objects())
    assert state["step_offset"] == 18 and int(trained.optimizer.iterations.numpy()) == 6
    # kwshost average: the start (imported again on the run's cache) and its fine-tune, half
    # and half (WiSE-FT); the result converts as any checkpoint.
    from kwshost.train import imported_start

    start = imported_start(load_config("test").replace(run_dir=str(tuned)), bundled)
    best = keras.models.load_model(tuned / "best.keras", custom_objects=custom_objects())
    soup = tmp_path / "soup" / "soup.keras"
    assert main(["average", str(bundled), str(tuned), "--config", "test", "--run", str(tuned),
                 "--out", str(soup)]) == 0
    mixed = keras.models.load_model(soup, custom_objects=custom_objects()).get_weights()
    pairs = list(zip(start.get_weights(), best.get_weights(), strict=True))
    assert len(mixed) == len(pairs) and any(not np.allclose(a, b) for a, b in pairs)
    for m, (a, b) in zip(mixed, pairs, strict=True):
        assert np.allclose(m, 0.5 * a + 0.5 * b, rtol=1e-6, atol=1e-6)
    assert main(["convert", "--config", "test", "--run", str(tuned), "--keras", str(soup),
                 "--out", str(tmp_path / "soup.tflite")]) == 0
    # Without a feature cache to import a .tflite on, it says so.
    assert main(["average", str(bundled), str(tuned), "--config", "test", "--run",
                 str(tmp_path / "nocache"), "--out", str(soup)]) == 2
    assert "feature cache" in capsys.readouterr().err
    # Models it cannot start from: other classes, other features, not a TENet12, no file.
    from kwshost import metadata

    params = metadata.read_params(bundled)
    for change, why in (({"classes": ["_unknown_", "alexa"]}, "classes"),
                        ({"fe.filterbank_n_channels": 40}, "fe.filterbank_n_channels = 40")):
        other = tmp_path / "other.tflite"
        other.write_bytes(metadata.write_params(bundled, {**params, **change}))
        assert main(["train", "--test", "--run", str(tmp_path / "no"), "--dataset", str(data),
                     "--start-from", str(other)]) == 2
        assert why in capsys.readouterr().err
    garbage = tmp_path / "garbage.tflite"
    garbage.write_bytes(b"\0" * 64)
    for model in (garbage, tmp_path / "missing.tflite"):
        assert main(["train", "--test", "--run", str(tmp_path / "no"), "--dataset", str(data),
                     "--start-from", str(model)]) == 2
    assert not (tmp_path / "no" / "last.keras").exists()
