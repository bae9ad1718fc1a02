"""Where a training step's time goes, on this machine's Keras backend (CPU or GPU).

A lent H200 trained at ~58 steps/s (16-17 ms a step at batch 100) with the batch feeder
making 233 batches/s beside it (docs/training.md, session 14), so the step, not the feeder's
output, limited the run, for reasons not measured then. This bench times the pieces one by one
on random features of the real shapes, with the run's own feeder, model and compile settings:

  feeder        batches/s of `BatchFeeder` (warp + masks) on 1 thread and on its default count
  fit, fixed    `model.fit` on one premade batch (model step + the batch's copy to the device)
  fit, feeder   `model.fit` on the feeder, as `kwshost train` runs (its threads beside the step)
  kernel 1      the same as "fit, fixed" with (1, 1) depthwise kernels instead of (9, 1): how
                much of a step the depthwise convolutions take
  native dw     the same as "fit, fixed" with Keras' DepthwiseConv2D instead of TimeDepthwise
                (kwshost.model: k shifted products off TensorFlow, which XLA fuses)

Measured on the 2-core CPU machine under JAX (session 14, two runs): a step took 575-766 ms
with the native layer and 261-266 ms with TimeDepthwise; under TensorFlow (which keeps the
native layer) 160 ms. On an H100 under JAX (session 16, --steps 500, two calls): fit, fixed
7.4-8.7 ms; fit, feeder 8.3-11.6 ms; kernel 1 6.3 ms; native dw 15.4 ms; feeder 98 batches/s
on 1 thread, 289 on 8 (docs/training.md, section 3).

usage (any backend; on a GPU host without TensorFlow):
  .venv/bin/python bench/train/step.py
  KERAS_BACKEND=jax python bench/train/step.py --steps 500 --json OUT.json

No outside peer: the variants above are each other's reference, measured in the same run (the
last line gives the ratios). How long: four fits of --steps + 25 steps each, plus the feeder;
on the 2-core CPU machine under TensorFlow a step takes 160-340 ms, so the defaults take 4-6
minutes and --steps 2 about a minute and a half (mostly compilation); on an H100 under JAX
about a minute.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "host"))

from kwshost.train import BatchFeeder, compile_for_training, training_feeder  # noqa: E402
from kwshost.train_config import load_config  # noqa: E402


def feeder_rate(feeder: BatchFeeder, workers: int, batches: int) -> float:
    feeder.workers = workers
    t = time.perf_counter()
    n = sum(1 for _ in feeder.batches(0, batches))
    return n / (time.perf_counter() - t)


def fit_rate(model, source, steps: int, per_execution: int) -> float:
    """Steps per second of model.fit over `steps` steps, after one untimed epoch (compilation)."""
    epoch = max(per_execution, 25)
    model.fit(source(), steps_per_epoch=epoch, epochs=1, verbose=0)
    t = time.perf_counter()
    model.fit(source(), steps_per_epoch=steps, epochs=1, verbose=0)
    return steps / (time.perf_counter() - t)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="alexa_allnk_warp",
                    help="masks, warp, batch size and schedule from this config (a name in "
                         "configs/ or a path; default alexa_allnk_warp)")
    ap.add_argument("--steps", type=int, default=200,
                    help="timed steps per measurement (default 200)")
    ap.add_argument("--examples", type=int, default=20000,
                    help="random examples to draw from (default 20000)")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    if args.steps < 1 or args.examples < 1:
        ap.error("--steps and --examples must be at least 1")

    import keras
    from kwshost.data.features import frontend_settings
    from kwshost.model import TENetShape, build_tenet

    cfg = load_config(args.config)
    settings = frontend_settings(cfg.frontend)
    rows, channels = settings.spectrogram_shape
    rng = np.random.default_rng(0)
    x = rng.integers(-128, 128, (args.examples, rows, channels), dtype=np.int8)
    y = (rng.random(args.examples) < 0.35).astype(np.int64)
    feeder = training_feeder(cfg, x, y)   # as `kwshost train` makes it (weights, warp, masks)
    threads = feeder.workers
    fixed = feeder.batch(np.arange(cfg.batch_size), np.random.default_rng(1))

    def endless(make):
        def source():
            while True:
                yield make()
        return source

    def from_feeder():
        epoch = 0
        while True:
            yield from feeder.batches(epoch, 100)
            epoch += 1

    shape = TENetShape(time_steps=rows, features=channels, classes=len(cfg.classes))
    results: dict = {"backend": keras.backend.backend(), "device": device(),
                     "batch_size": cfg.batch_size,
                     "feeder_threads": threads,
                     "feeder_batches_per_s_1_thread": feeder_rate(feeder, 1, args.steps),
                     f"feeder_batches_per_s_{threads}_threads": feeder_rate(feeder, threads,
                                                                              args.steps)}
    feeder.workers = threads
    model = build_tenet(shape)
    compile_for_training(model, cfg)
    per = model.steps_per_execution
    results["steps_per_execution"] = per
    results["fit_fixed_steps_per_s"] = fit_rate(model, endless(lambda: fixed), args.steps, per)
    results["fit_feeder_steps_per_s"] = fit_rate(model, from_feeder, args.steps, per)
    variants = {"kernel1": build_tenet(TENetShape(time_steps=rows, features=channels,
                                                  classes=len(cfg.classes), kernel=1)),
                "native_dw": build_tenet(shape, native_depthwise=True)}
    for name, variant in variants.items():
        compile_for_training(variant, cfg)
        results[f"fit_fixed_{name}_steps_per_s"] = fit_rate(variant, endless(lambda: fixed),
                                                            args.steps, per)
    for key, value in results.items():
        shown = f"{value:.1f}" if isinstance(value, float) else value
        print(f"{key:36s} {shown}")
    step_ms = 1000 / results["fit_fixed_steps_per_s"]
    print(f"a step on a premade batch: {step_ms:.1f} ms; with the feeder: "
          f"{1000 / results['fit_feeder_steps_per_s']:.1f} ms; with (1, 1) depthwise kernels: "
          f"{1000 / results['fit_fixed_kernel1_steps_per_s']:.1f} ms; with Keras' own "
          f"depthwise layer: {1000 / results['fit_fixed_native_dw_steps_per_s']:.1f} ms")
    fixed_s = results["fit_fixed_steps_per_s"]
    print(f"ratios to a step on a premade batch ({results['backend']} on {results['device']}): "
          f"with the feeder {fixed_s / results['fit_feeder_steps_per_s']:.2f}x, (1, 1) kernels "
          f"{fixed_s / results['fit_fixed_kernel1_steps_per_s']:.2f}x, Keras' own depthwise "
          f"layer {fixed_s / results['fit_fixed_native_dw_steps_per_s']:.2f}x (time per step)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


def device() -> str:
    """What the backend computes on, in words (the machine label of the figures)."""
    import platform

    import keras

    try:
        if keras.backend.backend() == "jax":
            import jax

            d = jax.devices()[0]
            return f"{d.platform} {getattr(d, 'device_kind', '')}".strip()
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            gpus = tf.config.list_physical_devices("GPU")
            if gpus:
                return f"GPU ({len(gpus)})"
        if keras.backend.backend() == "torch":
            import torch

            if torch.cuda.is_available():
                return f"cuda {torch.cuda.get_device_name(0)}"
    except Exception:  # noqa: BLE001 - a label only
        pass
    import os

    return f"CPU ({platform.machine()}, {os.cpu_count()} cores)"


if __name__ == "__main__":
    from kwshost.errors import run_script

    run_script(main)   # a KwsError (missing build, model, stream): one line, no trace
