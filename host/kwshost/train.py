"""Training TENet12 on the feature cache: schedule, class weights, checkpoints, resume.

A run directory holds everything a run needs to continue in a later session:

    RUN/cache/            the feature cache (kwshost.data.features), with the config's extra
                          clips (mined hard negatives) in RUN/cache/extra_*
    RUN/last.keras        model + optimizer state after the latest epoch (`--resume` loads it)
    RUN/best.keras        the epoch with the best validation accuracy (`kwshost convert` uses it)
    RUN/state.json        epochs done, global step, best accuracy, wall time, history
    RUN/history.csv       loss, accuracy and validation figures per epoch
    RUN/logs/             TensorBoard logs, when tensorboard is installed

The learning rate follows the seed's stepped schedule scaled to `total_steps`, set per step
from the optimizer's own step counter, so a resumed run continues the schedule where it was.
With several GPUs, `tf.distribute.MirroredStrategy` builds the model on all of them.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import json
import math
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kwshost.data import features
from kwshost.errors import KwsError
from kwshost.json_file import write_json_whole
from kwshost.train_config import FIXED_FRONTEND, MaskParams, TrainConfig, WarpParams

if TYPE_CHECKING:
    from kwshost.frontend import FrontendSettings


def class_weights(y: np.ndarray, n_classes: int) -> np.ndarray:
    """'balanced' weights: n / (classes * count), as scikit-learn and the seed compute them."""
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    return np.where(counts > 0, len(y) / (n_classes * np.maximum(counts, 1)), 0.0)


def example_weights(cfg: TrainConfig, y: np.ndarray, n_classes: int) -> np.ndarray | None:
    """Per-class loss weights from the config: balanced, none, or balanced x given factors."""
    if cfg.class_weights == "none":
        return None
    if cfg.class_weights == "balanced":
        return class_weights(y, n_classes)
    factors = np.asarray([] if isinstance(cfg.class_weights, str) else cfg.class_weights,
                         dtype=np.float64)
    if factors.shape != (n_classes,) or not np.all(factors > 0):
        raise KwsError(f"class_weights = {cfg.class_weights!r}",
                       hint=f'use "balanced", "none" or {n_classes} positive factors')
    return class_weights(y, n_classes) * factors


def apply_masks(x: np.ndarray, masks: MaskParams, rng: np.random.Generator) -> np.ndarray:
    """Masks bands of rows and channels of a float batch [n, rows, channels] in place."""
    n, rows, channels = x.shape
    chosen = np.flatnonzero(rng.random(n) < masks.probability)

    def bands(count: int, widest: int, size: int) -> np.ndarray:
        hit = np.zeros((len(chosen), size), dtype=bool)
        span = np.arange(size)
        for _ in range(count):
            width = rng.integers(0, widest + 1, len(chosen))
            start = rng.integers(0, size - width + 1)
            hit |= (span >= start[:, None]) & (span < (start + width)[:, None])
        return hit

    hit = (bands(masks.time_masks, masks.max_rows, rows)[:, :, None]
           | bands(masks.freq_masks, masks.max_channels, channels)[:, None, :])
    sub = x[chosen]
    x[chosen] = np.where(hit, sub.min(axis=(1, 2), keepdims=True), sub)
    return x


def warp_sources(settings: FrontendSettings, factors: np.ndarray) -> np.ndarray:
    """[len(factors), channels] fractional source channels: with formants `factor` times
    higher, channel c (its centre f_c on the filterbank's mel scale) reads what the original
    spectrum had at f_c / factor; beyond the first or last channel it reads that channel."""
    def mel(hz):
        return 1127.0 * np.log1p(np.asarray(hz) / 700.0)

    n = settings.filterbank_n_channels
    low = mel(settings.filterbank_lower_band_limit)
    step = (mel(settings.filterbank_upper_band_limit) - low) / (n + 1)
    centres_hz = 700.0 * np.expm1((low + step * np.arange(1, n + 1)) / 1127.0)
    source = (mel(centres_hz[None, :] / np.asarray(factors)[:, None]) - low) / step - 1
    return np.clip(source, 0, n - 1)


def apply_warp(x: np.ndarray, warp: WarpParams, settings: FrontendSettings,
               rng: np.random.Generator) -> np.ndarray:
    """Stretches the spectra of a float batch [n, rows, channels] along frequency in place
    (`WarpParams`), interpolating between neighbouring channels."""
    n, rows, channels = x.shape
    chosen = np.flatnonzero(rng.random(n) < warp.probability)
    if len(chosen) == 0:
        return x
    span = np.log(warp.max_factor)
    source = warp_sources(settings, np.exp(rng.uniform(-span, span, len(chosen))))
    below = np.floor(source).astype(np.intp)
    above = np.minimum(below + 1, channels - 1)
    frac = (source - below)[:, None, :].astype(np.float32)
    sub = x[chosen]
    # One example at a time: indexing the channel axis with a row of indices is ~3x faster
    # than take_along_axis with broadcast indices, and gathers the same values.
    lo = np.stack([example[:, i] for example, i in zip(sub, below, strict=True)])
    hi = np.stack([example[:, i] for example, i in zip(sub, above, strict=True)])
    x[chosen] = lo + (hi - lo) * frac
    return x


def prefetched(make, count: int, workers: int):
    """make(0), ..., make(count - 1) in order; with several workers, up to 2 x workers of them
    are made ahead on threads (numpy releases the GIL in the array work)."""
    if workers <= 1:
        for i in range(count):
            yield make(i)
        return
    pool = ThreadPoolExecutor(workers, thread_name_prefix="batches")
    ahead: collections.deque = collections.deque()
    try:
        for i in range(count):
            while len(ahead) < 2 * workers and i + len(ahead) < count:
                ahead.append(pool.submit(make, i + len(ahead)))
            yield ahead.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


class BatchFeeder:
    """Shuffled batches straight from the memory-mapped cache, reshuffled per epoch (seeded),
    warped (`WarpParams`, with the frontend's settings) and masked (`MaskParams`) with a
    generator seeded per epoch and step."""

    def __init__(self, x: np.ndarray, y: np.ndarray, n_classes: int, batch_size: int,
                 seed: int, weights: np.ndarray | None, masks: MaskParams | None = None,
                 warp: tuple[WarpParams, FrontendSettings] | None = None) -> None:
        self.x, self.y, self.n_classes = x, y, n_classes
        self.batch_size, self.seed, self.weights = batch_size, seed, weights
        self.masks = masks if masks is not None and masks.probability > 0 else None
        self.warp = warp if warp is not None and warp[0].probability > 0 else None
        # One thread of numpy limited the first GPU run (~18 steps/s); half the cores make
        # batches ahead of the step. Each batch has its own seed, so any count of workers
        # gives the same batches.
        self.workers = max(1, min(8, (os.cpu_count() or 2) // 2))

    def batches(self, epoch: int, steps: int):
        rng = np.random.default_rng([self.seed, epoch])
        order = np.concatenate([rng.permutation(len(self.y))
                                for _ in range(math.ceil(steps * self.batch_size / len(self.y))
                                               + 1)])

        def make(s: int):
            idx = np.sort(order[s * self.batch_size:(s + 1) * self.batch_size])
            rng = (np.random.default_rng([self.seed, epoch, s])
                   if self.masks or self.warp else None)
            return self.batch(idx, rng)

        yield from prefetched(make, steps, self.workers)

    def batch(self, idx: np.ndarray, rng: np.random.Generator | None = None):
        x = np.asarray(self.x[idx], dtype=np.float32)
        if rng is not None and self.warp is not None:
            x = apply_warp(x, *self.warp, rng)
        if rng is not None and self.masks is not None:
            x = apply_masks(x, self.masks, rng)
        x = x[:, :, None, :]
        y = np.eye(self.n_classes, dtype=np.float32)[self.y[idx]]
        if self.weights is None:
            return x, y
        return x, y, self.weights[self.y[idx]].astype(np.float32)


def _strategy():
    """Several GPUs under TensorFlow: MirroredStrategy. Other Keras backends (KERAS_BACKEND=jax
    or torch, e.g. on a GPU host without TensorFlow) train on their default device."""
    import keras

    if keras.backend.backend() != "tensorflow":
        return contextlib.nullcontext()
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    strategy = tf.distribute.MirroredStrategy() if len(gpus) > 1 else tf.distribute.get_strategy()
    return strategy.scope()


def _steps_per_execution(cfg: TrainConfig, on_tf: bool) -> int:
    """Steps between Keras' per-step callbacks. Under JAX or torch the callbacks (NaN check,
    progress) read the loss back, which waits for the GPU; once per 25 steps lets steps queue
    in between (not measured on its own). TensorFlow (the CPU path) keeps 1."""
    return 1 if on_tf else math.gcd(cfg.steps_per_epoch, 25)


def compile_for_training(model, cfg: TrainConfig, offset: int = 0) -> None:
    """The loss, optimizer (Adam on the scaled schedule from `offset`) and execution settings
    every training run uses; XLA only off TensorFlow (it is 6-10x slower on small CPUs)."""
    import keras

    on_tf = keras.backend.backend() == "tensorflow"
    model.compile(loss="categorical_crossentropy",
                  optimizer=keras.optimizers.Adam(learning_rate=_schedule(cfg, offset),
                                                  epsilon=1e-8),
                  metrics=["accuracy"], jit_compile=False if on_tf else "auto",
                  steps_per_execution=_steps_per_execution(cfg, on_tf))


def _schedule(cfg: TrainConfig, offset: int = 0):
    """The scaled seed schedule as a Keras schedule: evaluated inside the training step from
    the optimizer's own step counter, so it works on every backend and resumes in place.

    `offset`: the schedule step at the optimizer's step 0. A run started from a converted
    model begins mid-schedule with fresh Adam moments, whose bias correction needs the
    optimizer to count from 0 (counting from the schedule's step instead skips the correction
    and makes the first updates about 3x the learning rate on every weight)."""
    import keras

    bounds, at = [], 0
    for steps, _ in cfg.schedule()[:-1]:
        at += steps
        bounds.append(at - offset)
    values = [lr for _, lr in cfg.schedule()]
    later = [i for i, b in enumerate(bounds) if b > 0]
    if not later:
        return values[-1]
    return keras.optimizers.schedules.PiecewiseConstantDecay(
        [bounds[i] for i in later], [values[i] for i in later] + [values[-1]])


def _save_atomic(model, path: Path) -> None:
    """Write then rename: a run killed mid-save keeps its previous checkpoint readable."""
    tmp = path.with_name(f".{path.stem}.partial.keras")
    model.save(tmp)
    os.replace(tmp, path)


def _callbacks(cfg: TrainConfig, run: Path, state: dict, deadline: float | None):
    import keras

    class Checkpoint(keras.callbacks.Callback):
        """Saves last/best and the state file after every epoch; stops at the deadline."""

        def __init__(self):
            super().__init__()
            self.t0 = time.time()

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            state["epochs_done"] = epoch + 1
            state["global_step"] = (int(self.model.optimizer.iterations.numpy())
                                    + int(state.get("step_offset", 0)))
            state["train_seconds"] = state.get("train_seconds", 0.0) + time.time() - self.t0
            self.t0 = time.time()
            row = {k: float(v) for k, v in logs.items()}
            row["epoch"] = epoch + 1
            row["lr"] = float(cfg.learning_rate(state["global_step"]))
            state.setdefault("history", []).append(row)
            _save_atomic(self.model, run / "last.keras")
            acc = row.get("val_accuracy", row.get("accuracy", 0.0))
            if acc >= state.get("best_val_accuracy", -1.0):
                state["best_val_accuracy"] = acc
                state["best_epoch"] = epoch + 1
                _save_atomic(self.model, run / "best.keras")
            write_json_whole(run / "state.json", state)
            if deadline is not None and time.time() > deadline:
                print(f"time budget reached after epoch {epoch + 1}: stopping "
                      "(continue with --resume)")
                self.model.stop_training = True

    callbacks = [keras.callbacks.TerminateOnNaN(), Checkpoint(),
                 keras.callbacks.CSVLogger(str(run / "history.csv"), append=True)]
    try:
        import tensorboard  # noqa: F401  (optional: pip install tensorboard)

        if keras.backend.backend() == "tensorflow":
            callbacks.append(keras.callbacks.TensorBoard(log_dir=str(run / "logs"),
                                                         update_freq=100, profile_batch=0))
    except ImportError:
        pass
    return callbacks


def _refuse_checkpoint(run: Path) -> None:
    """A new stage never overwrites a run folder that has trained."""
    if (run / "last.keras").exists():
        raise KwsError(f"{run} already has a checkpoint",
                       hint="continue it with --resume, or name a new folder with --run")


def start_from(run: Path, source: Path) -> str:
    """Begin a new stage in RUN from an earlier `kwshost train` run: SOURCE is its folder (its
    best epoch) or its best.keras or last.keras.

    That checkpoint becomes RUN/last.keras (weights and optimizer, so the schedule goes on from
    its step), the history up to its epoch RUN's state and history.csv, with the best-epoch
    record left for the new epochs to set; the main feature cache is linked into RUN/cache,
    where `build_cache` reuses it if this config's recipe is the same and otherwise replaces
    the links with its own arrays (never writing through them). Returns what was started from.
    """
    _refuse_checkpoint(run)
    checkpoint = source if source.suffix == ".keras" else source / "best.keras"
    source = checkpoint.parent
    state_path = source / "state.json"
    if checkpoint.name not in ("best.keras", "last.keras") or not checkpoint.exists() \
            or not state_path.exists():
        raise KwsError(f"no run checkpoint at {checkpoint} with a state.json beside it",
                       hint="--start-from takes an earlier `kwshost train` run's folder, or "
                            "its best.keras or last.keras")
    old = json.loads(state_path.read_text())
    done = old.get("epochs_done")
    epoch = done if checkpoint.name == "last.keras" else old.get("best_epoch")
    if not epoch or not done:
        raise KwsError(f"{state_path} names no finished epoch", hint="has the run trained?")
    step = int(round(old.get("global_step", 0) * epoch / done))
    origin = f"{checkpoint} (epoch {epoch}, step {step})"
    state = {k: v for k, v in old.items()
             if k not in ("best_val_accuracy", "best_epoch", "cache_counts", "resumed_from")}
    state.update(epochs_done=epoch, global_step=step, resumed_from=origin,
                 history=[h for h in old.get("history", []) if h.get("epoch", 0) <= epoch])
    run.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(checkpoint, run / "last.keras")
    write_json_whole(run / "state.json", state)
    if (source / "history.csv").exists():
        lines = (source / "history.csv").read_text().splitlines()
        # Keras's CSV logger counts epochs from 0, the state from 1.
        first = [ln.split(",")[0] for ln in lines]
        kept = [ln for ln, e in zip(lines[1:], first[1:], strict=True)
                if e.isdigit() and int(e) < epoch]
        (run / "history.csv").write_text("\n".join(lines[:1] + kept) + "\n")
    (run / "cache").mkdir(exist_ok=True)
    for name in features.MAIN_FILES:
        src, dst = source / "cache" / name, run / "cache" / name
        if src.exists() and not dst.exists():
            dst.symlink_to(src.resolve())
    return origin


def fine_tune_step(cfg: TrainConfig) -> int:
    """Where the schedule reaches the seed's fine-tuning rate (0.0005): a converted model,
    whose step is unknown, continues from there."""
    at = 0
    for steps, lr in cfg.schedule():
        if lr <= 0.0005:
            return at
        at += steps
    return at


def check_importable(cfg: TrainConfig, source: Path) -> None:
    """Refuse a .tflite that cannot be imported for this config: no file, no frontend settings
    in its metadata, other features or classes than the config's, not a TENet12 graph."""
    from kwshost.frontend import FrontendSettings
    from kwshost.metadata import read_params
    from kwshost.model_import import read_tenet

    if not source.is_file():
        raise KwsError(f"no model at {source}")
    params = read_params(source)
    if not any(k.startswith("fe.") for k in params):
        raise KwsError(f"{source} has no frontend settings (fe.*) in its metadata",
                       hint="without them nothing says which features it was trained on")
    theirs = dataclasses.asdict(FrontendSettings.from_params(params))
    ours = dataclasses.asdict(features.frontend_settings(cfg.frontend))
    differ = [k for k in ours if np.float32(ours[k]) != np.float32(theirs[k])]
    if differ:
        # The dataset's clips are 16 kHz and 1.2 s whatever the config says ([frontend]
        # refuses other values): a model of another window cannot start this recipe at all.
        fixed = [k for k in differ if k in FIXED_FRONTEND]
        hint = ("set them in the config's [frontend] table" if not fixed else
                "a model of " + " and ".join(f"fe.{k} = {theirs[k]}" for k in fixed)
                + " cannot be fine-tuned with this recipe, whose clips are "
                f"{FIXED_FRONTEND['sample_rate_hz']} Hz and {FIXED_FRONTEND['sample_length_ms']}"
                " ms long; start from a model of that window (or train from scratch)")
        raise KwsError(f"{source} was trained on other features than this config's: "
                       + ", ".join(f"fe.{k} = {theirs[k]} (config: {ours[k]})"
                                   for k in differ), hint=hint)
    if list(params.get("classes", [])) != list(cfg.classes):
        raise KwsError(f"{source} has classes {params.get('classes')}, the config "
                       f"{list(cfg.classes)}", hint="the classes and their order must match")
    read_tenet(source)   # refuses another graph now, before the feature cache is built


def import_epoch(cfg: TrainConfig) -> int:
    """The epoch an imported model starts at: the first epoch boundary in the fine-tuning
    phase, leaving at least one epoch to train however short the schedule."""
    return min(math.ceil(fine_tune_step(cfg) / cfg.steps_per_epoch),
               math.ceil(cfg.total_steps / cfg.steps_per_epoch) - 1)


def start_from_model(cfg: TrainConfig, source: Path) -> str:
    """Begin a new stage in the config's run folder from a converted int8 TENet12 .tflite
    (ours from `kwshost convert`, or MLTK's): `train` rebuilds the Keras model from its weights
    (kwshost.model_import) once the feature cache is there, then trains from the first epoch
    at the schedule's fine-tuning rate. The model must have been trained on this config's
    features (its metadata's `fe.*` settings) and classes. Returns what was started from."""
    run = cfg.path(cfg.run_dir)
    _refuse_checkpoint(run)
    check_importable(cfg, source)
    epoch = import_epoch(cfg)
    # The schedule position: the fine-tuning rate's first step even where a short schedule
    # puts the epoch boundary before it (epoch 0 would start at the warm-up and peak rates).
    step = max(epoch * cfg.steps_per_epoch, fine_tune_step(cfg))
    origin = f"{source} (imported; epoch {epoch}, step {step} of the schedule)"
    run.mkdir(parents=True, exist_ok=True)
    state = {"epochs_done": epoch, "global_step": step, "step_offset": step,
             "resumed_from": origin, "import_model": str(source.resolve())}
    write_json_whole(run / "state.json", state)
    return origin


def training_feeder(cfg: TrainConfig, x: np.ndarray, y: np.ndarray) -> BatchFeeder:
    """The training split's batches as the config draws them: class weights, warp, masks."""
    n_classes = len(cfg.classes)
    return BatchFeeder(x, y, n_classes, cfg.batch_size, cfg.training_seed,
                       example_weights(cfg, y, n_classes), cfg.masks,
                       (cfg.warp, features.frontend_settings(cfg.frontend)))


def imported_start(cfg: TrainConfig, source: Path):
    """The Keras model `train --start-from SOURCE.tflite` begins from with this config: the
    .tflite's weights, batch norms set on the first batches of the import epoch from the
    config's run cache (which must exist: `train` builds it)."""
    import keras

    check_importable(cfg, source)
    cache = cfg.path(cfg.run_dir) / "cache"
    try:
        x, y = features.load_train(cache, bool(cfg.cache.extra))
    except (OSError, ValueError) as e:
        raise KwsError(f"no feature cache to import {source} on: {e}",
                       hint=f"build {cache} first (kwshost train --config ... builds it), or "
                            "name the run that has it with --run") from None
    keras.utils.set_random_seed(cfg.training_seed)
    return _imported_model(source, training_feeder(cfg, x, y), import_epoch(cfg))


def _imported_model(source: Path, feeder: BatchFeeder, epoch: int, batches: int = 10):
    """The Keras model rebuilt from a .tflite, its batch norms set on the first training
    batches (masks included): those statistics are what training moves the moving averages
    toward, so set from unmasked examples the averages would drift and the model with them."""
    from kwshost.model_import import keras_model, read_tenet

    tenet = read_tenet(source)
    if (tenet.shape.time_steps, tenet.shape.features) != tuple(feeder.x.shape[1:]):
        raise KwsError(f"{source} takes {tenet.shape.time_steps} x {tenet.shape.features} "
                       f"spectrograms, the feature cache has {feeder.x.shape[1]} x "
                       f"{feeder.x.shape[2]}")
    x = np.concatenate([b[0] for b in feeder.batches(epoch, batches)])
    return keras_model(tenet, x)


def check_cache_classes(cfg: TrainConfig, cache_dir: Path) -> None:
    """The cache labels its examples by the dataset's classes, in the dataset's order; the
    config's must be the same, else the model's outputs (and the converted model's labels)
    would name other classes than it learned."""
    try:
        theirs = json.loads((cache_dir / "cache.json").read_text()).get("classes")
    except (OSError, ValueError, AttributeError):
        return   # build_cache has just written or checked it; nothing more to say here
    if theirs is not None and list(theirs) != list(cfg.classes):
        raise KwsError(f"the config's classes {list(cfg.classes)} are not the dataset's "
                       f"{list(theirs)}", hint=f"set classes = {json.dumps(list(theirs))} "
                                               "(the same classes in the same order)")


def train(cfg: TrainConfig, resume: bool = False, epochs: int | None = None,
          jobs: int = 1, max_minutes: float | None = None, verbose: int = 1,
          progress=None, feeder_threads: int | None = None) -> dict:
    run = cfg.path(cfg.run_dir)
    run.mkdir(parents=True, exist_ok=True)
    cache_dir = run / "cache"
    counts = features.build_cache(cfg.path(cfg.dataset), cache_dir, cfg.cache, cfg.seed,
                                  cfg.frontend, jobs=jobs, progress=progress,
                                  extra_root=cfg.path("."))
    if progress is not None:
        progress.stop()
    check_cache_classes(cfg, cache_dir)
    x_train, y_train = features.load_train(cache_dir, bool(cfg.cache.extra))
    x_val, y_val = features.load_split(cache_dir, "val")
    n_classes = len(cfg.classes)
    val_x, val_y = BatchFeeder(x_val, y_val, n_classes, 500, cfg.seed, None).batch(
        np.arange(len(y_val)))
    feeder = training_feeder(cfg, x_train, y_train)
    if feeder_threads:
        feeder.workers = feeder_threads
    weights = feeder.weights

    from kwshost.tf_quiet import import_quietly

    import_quietly("keras")
    import keras

    on_tf = keras.backend.backend() == "tensorflow"
    if on_tf:
        import tensorflow as tf

        tf.config.optimizer.set_jit(False)   # XLA is 6-10x slower on small CPUs
    keras.utils.set_random_seed(cfg.training_seed)
    state_path = run / "state.json"
    state: dict = json.loads(state_path.read_text()) if resume and state_path.exists() else {}
    from kwshost.model import TENetShape, build_tenet, custom_objects

    with _strategy():
        if resume and (run / "last.keras").exists():
            model = keras.models.load_model(run / "last.keras",
                                             custom_objects=custom_objects())
            offset = int(state.get("step_offset", 0))
            # The budget may have changed since the checkpoint.
            model.optimizer.learning_rate = _schedule(cfg, offset)
            # A checkpoint saved under JAX or torch asks for XLA ("auto"): off on TensorFlow.
            model.jit_compile = False if on_tf else "auto"
            model.steps_per_execution = _steps_per_execution(cfg, on_tf)
            print(f"resuming from epoch {state.get('epochs_done', 0)}, "
                  f"step {int(model.optimizer.iterations.numpy()) + offset}")
        else:
            imported = state.get("import_model")
            if not imported:
                if resume:
                    print(f"nothing to resume in {run}: starting fresh")
                state = {}
            rows, channels = x_train.shape[1:]
            model = (_imported_model(Path(imported), feeder, int(state["epochs_done"]))
                     if imported else
                     build_tenet(TENetShape(time_steps=rows, features=channels,
                                            classes=n_classes)))
            compile_for_training(model, cfg, int(state.get("step_offset", 0)))
            if imported:
                accuracy = model.evaluate(val_x, val_y, batch_size=250, verbose=0,
                                          return_dict=True)["accuracy"]
                print(f"imported {imported}: validation accuracy {accuracy:.4f} before "
                      f"training; from epoch {state['epochs_done']}, step "
                      f"{state['global_step']}")
    state.update({"config": cfg.name, "cache_counts": counts,
                  "train_class_counts": np.bincount(y_train, minlength=n_classes).tolist(),
                  "parameters": int(model.count_params())})
    total_epochs = math.ceil(cfg.total_steps / cfg.steps_per_epoch)
    start_epoch = int(state.get("epochs_done", 0))
    end_epoch = total_epochs if epochs is None else min(total_epochs, start_epoch + epochs)
    if start_epoch >= end_epoch:
        if not (run / "best.keras").exists():
            # A stage started from a run that had finished its schedule: nothing was trained.
            raise KwsError(f"{run}: nothing to train, the schedule ends at epoch "
                           f"{total_epochs} and the start is at epoch {start_epoch}",
                           hint="give a longer schedule (--steps, or total_steps in the "
                                "config), or start a fine-tune from a converted model "
                                "(--start-from M.tflite)")
        print(f"training already complete ({start_epoch}/{total_epochs} epochs)")
        return state

    def gen():
        epoch = start_epoch
        while True:
            yield from feeder.batches(epoch, cfg.steps_per_epoch)
            epoch += 1

    train_ds = gen()
    if on_tf:
        spec = (tf.TensorSpec((None, *x_train.shape[1:2], 1, x_train.shape[2]), tf.float32),
                tf.TensorSpec((None, n_classes), tf.float32))
        if weights is not None:
            spec = (*spec, tf.TensorSpec((None,), tf.float32))
        train_ds = tf.data.Dataset.from_generator(gen, output_signature=spec).prefetch(4)
    deadline = time.time() + max_minutes * 60 if max_minutes else None
    t0 = time.time()
    # shuffle=False: the feeder shuffles (seeded); Keras would only warn it cannot.
    model.fit(train_ds, validation_data=(val_x, val_y), epochs=end_epoch, shuffle=False,
              initial_epoch=start_epoch, steps_per_epoch=cfg.steps_per_epoch,
              callbacks=_callbacks(cfg, run, state, deadline), verbose=verbose)
    elapsed = time.time() - t0
    steps = state.get("global_step", 0)
    print(f"trained to step {steps} in {elapsed:.0f} s this session; best validation "
          f"accuracy {state.get('best_val_accuracy', 0):.4f} (epoch {state.get('best_epoch')})")
    if not (run / "best.keras").exists():
        raise KwsError("training produced no checkpoint")
    return state
