"""kwshost train: train the TENet12 keyword model on a synthesized dataset."""

from __future__ import annotations

import argparse
from pathlib import Path

from kwshost.cli._args import default_jobs, folder_here, int_at_least, jobs
from kwshost.errors import KwsError

NAME = "train"
HELP = "train the TENet12 keyword model (resumable, CPU-friendly)"
DESCRIPTION = """\
Trains TENet12 (the seed's model: 3 groups of 4 blocks, ~110 k parameters) on the dataset named
in the config. The first run augments every clip (speed, reverberation, band-limiting, level,
background noise at random SNR, silence and cropped-keyword unknowns) and computes features with
our C frontend into RUN/cache; later runs reuse the cache while the recipe is unchanged.

The learning rate follows the seed's stepped schedule, scaled to `total_steps` of the config.
After every epoch RUN/last.keras, RUN/best.keras and RUN/state.json are written, so a run
stopped by Ctrl-C, --max-minutes or the end of a session continues with --resume. Per-epoch
figures go to RUN/history.csv (and TensorBoard logs to RUN/logs when tensorboard is installed).
With several GPUs, TensorFlow's MirroredStrategy spreads each batch over all of them.
On a GPU host without TensorFlow, KERAS_BACKEND=jax (or torch) trains the same model; a
complete RUN/cache is all it needs (copy it there, train, copy RUN back, convert here).
SpecAugment-style masks ([masks] in the config) and a vocal-tract-length frequency warp
([warp], configs/alexa_allnk_warp.toml) are drawn afresh for every batch.
Hard negatives mined with `kwshost dataset mine` join the training split through the config's
[cache] extra (configs/alexa_mined.toml), cached apart so the main cache is kept.
A stage that continues an earlier run in a new folder (more data, other augmentation) starts
with --start-from RUN0: RUN0's best epoch, schedule position and main cache carry over.
--start-from M.tflite starts from a converted model instead (the bundled one, MLTK's, or any
int8 TENet12 with our metadata): its weights come back as floats, each batch normalization is
set from the training features so training starts where the model is, and the schedule starts
at its fine-tuning rate (0.0005). Checkpoints of runs stay on the machine that trained them; a
.tflite travels with the repository.

Configs are TOML files (configs/alexa.toml: the recipe's first stage, whose run the bundled
model was built from in stages, docs/training.md); any field of
kwshost.train_config.TrainConfig may be set there, and --steps/--dataset/--run override.

examples:
  kwshost dataset make data/alexa --size 9000 --jobs 2 --seed 2
  kwshost train --config configs/alexa.toml --jobs 2 --max-minutes 60
  kwshost train --config configs/alexa.toml --resume          # continue where it stopped
  kwshost train --config configs/alexa_timbre.toml --start-from runs/alexaW --epochs 12
                                                 # a new stage from an earlier run's best epoch
  kwshost train --config configs/alexa.toml --run runs/tuned --epochs 4 \\
      --start-from models/alexa_kwshost.tflite        # fine-tune the bundled model
  kwshost train --test                                        # CI smoke test, ~1 minute
  KERAS_BACKEND=jax kwshost train --config configs/alexa.toml --run runs/alexa   # on a GPU
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", "-c", default=None, metavar="F",
                        help="TOML config, or a name in configs/ (default: alexa)")
    parser.add_argument("--epochs", type=int, metavar="N", help="train at most N more epochs")
    parser.add_argument("--steps", type=int, metavar="N",
                        help="override total_steps (the schedule's length)")
    parser.add_argument("--dataset", metavar="DIR", type=folder_here,
                        help="override the config's dataset (relative to this folder; the "
                             "config's own paths are relative to the repository)")
    parser.add_argument("--run", metavar="DIR", type=folder_here,
                        help="override the config's run directory (relative to this folder)")
    parser.add_argument("--resume", action="store_true",
                        help="continue from RUN/last.keras (schedule and epoch included)")
    parser.add_argument("--start-from", type=Path, metavar="RUN0",
                        help="begin a new stage from run RUN0's best epoch (its weights, "
                             "optimizer step and main feature cache; RUN0/last.keras for its "
                             "last epoch), or from a converted int8 TENet12 M.tflite (ours or "
                             "MLTK's: its weights, at the schedule's fine-tuning rate), then "
                             "train as --resume")
    parser.add_argument("--test", action="store_true",
                        help="a few steps on a tiny synthesized set (configs/test.toml)")
    parser.add_argument("--jobs", "-j", type=jobs, default=default_jobs(),
                        help="workers for the feature cache (default min(2, cores))")
    parser.add_argument("--max-minutes", type=float, metavar="M",
                        help="stop after the epoch that passes M minutes (resume later)")
    parser.add_argument("--feeder-threads", type=int, metavar="N",
                        help="threads making batches ahead of the step (default: half the "
                             "cores, at most 8; lower it for several runs on one host)")
    parser.add_argument("--seed", type=int_at_least(0), metavar="N",
                        help="seed the batch order, masks, warp and new weights with N; the "
                             "feature cache keeps the config's seed, so runs of several seeds "
                             "share one cache (copy it with cp -al)")
    parser.add_argument("--quiet", action="store_true", help="one line per epoch")


def _check_backend() -> None:
    """The Keras backend KERAS_BACKEND names must import, said before minutes of features."""
    import importlib.util
    import os

    backend = os.environ.get("KERAS_BACKEND", "tensorflow")   # also the module's name
    if backend not in ("tensorflow", "jax", "torch"):
        raise KwsError(f"KERAS_BACKEND={backend}: kwshost trains with tensorflow, jax or torch")
    if importlib.util.find_spec(backend) is None:
        raise KwsError(f"KERAS_BACKEND={backend} but {backend} is not installed here",
                       hint=f"pip install {'jax[cuda12]' if backend == 'jax' else backend} "
                            "(or leave KERAS_BACKEND unset for TensorFlow)")


def run(args: argparse.Namespace) -> int:
    from kwshost.cli._progress import progress_bar
    from kwshost.train import train
    from kwshost.train_config import load_config

    for flag, value in (("--epochs", args.epochs), ("--steps", args.steps),
                        ("--max-minutes", args.max_minutes),
                        ("--feeder-threads", args.feeder_threads)):
        if value is not None and value <= 0:
            raise KwsError(f"{flag} must be positive (got {value})")
    _check_backend()
    cfg = load_config(args.config or ("test" if args.test else "alexa"))
    if args.steps:
        cfg = cfg.replace(total_steps=args.steps)
    if args.dataset:
        cfg = cfg.replace(dataset=args.dataset)
    if args.run:
        cfg = cfg.replace(run_dir=args.run)
    if args.seed is not None:
        cfg = cfg.replace(train_seed=args.seed)
    if cfg.total_steps < cfg.steps_per_epoch:
        # Training runs whole epochs: a schedule shorter than one (--steps 200 with 500 steps
        # an epoch) would otherwise train a full epoch, its rest at the schedule's last rate.
        print(f"note: {cfg.total_steps} steps is less than an epoch ({cfg.steps_per_epoch}): "
              f"one epoch of {cfg.total_steps} steps")
        cfg = cfg.replace(steps_per_epoch=cfg.total_steps)
    dataset = cfg.path(cfg.dataset)
    if args.start_from:
        from kwshost.train import start_from, start_from_model

        origin = (start_from_model(cfg, args.start_from) if args.start_from.suffix == ".tflite"
                  else start_from(cfg.path(cfg.run_dir), args.start_from))
        print(f"starting from {origin}")
        from kwshost.convert import inherited_terms_notes

        for note in inherited_terms_notes([args.start_from]):
            print(note)
    with progress_bar() as progress:
        if args.test and not (dataset / "manifest.json").exists():
            from kwshost.data.make import make_dataset

            make_dataset(dataset, "tiny", args.jobs, cfg.seed, progress=progress)
        try:
            train(cfg, resume=args.resume or bool(args.start_from), epochs=args.epochs,
                  jobs=args.jobs, max_minutes=args.max_minutes,
                  verbose=2 if args.quiet or args.test else 1, progress=progress,
                  feeder_threads=args.feeder_threads)
        except KeyboardInterrupt:
            _say_how_to_resume(args, cfg)
            raise
    config = args.config or ("test" if args.test else None)
    print(f"checkpoints: {cfg.path(cfg.run_dir)}/best.keras (convert with: kwshost convert "
          f"--run {cfg.run_dir}{f' --config {config}' if config else ''})")
    return 0


def _say_how_to_resume(args: argparse.Namespace, cfg) -> None:
    """On Ctrl-C: the epochs a run has saved, and the command that goes on from them."""
    import json
    import shlex
    import sys

    run = cfg.path(cfg.run_dir)
    try:
        done = json.loads((run / "state.json").read_text())["epochs_done"]
    except (OSError, ValueError, KeyError, TypeError):
        return   # nothing saved yet: running the same command again starts afresh
    again = ["kwshost", "train", *(["--test"] if args.test and not args.config else [])]
    for flag, value in (("--config", args.config), ("--run", args.run),
                        ("--dataset", args.dataset), ("--steps", args.steps),
                        ("--seed", args.seed)):
        if value is not None:
            again += [flag, str(value)]
    print(f"{run} keeps the run through epoch {done}; go on with: "
          f"{shlex.join([*again, '--resume'])}", file=sys.stderr)
