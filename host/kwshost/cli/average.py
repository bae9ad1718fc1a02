"""kwshost average: one model from the averaged weights of models trained from one start."""

from __future__ import annotations

import argparse
from pathlib import Path

from kwshost.cli._args import folder_here
from kwshost.errors import KwsError

NAME = "average"
HELP = "average the weights of fine-tunes of one model (WiSE-FT, model soups)"
DESCRIPTION = """\
Writes a Keras model whose every weight (batch-norm statistics included) is the weighted
average of the given models'. Models fine-tuned from one start stay close enough in weight
space that their average is a model too, and it often does better than each of them on voices
none was tuned on: a fine-tune's gains partly survive, its drift from what the start knew
partly cancels (WiSE-FT: the start and a fine-tune; a "soup": several fine-tunes).

A MODEL is a training run's folder (its best.keras), a .keras file, or a converted .tflite,
which is imported as `kwshost train --start-from` imports it (float weights, batch norms set
on the first training batches of the config's run cache, so that cache must exist). The
models must share the graph and descend from one start: models trained from different
random starts (their kernels' median cosine similarity near 0, where fine-tunes of one model
measure above 0.9) are refused, as their average is no model.
Convert the result as any checkpoint (kwshost convert --keras FILE), then judge it on
validation streams before trusting it.

examples:
  kwshost average models/alexa_kwshost.tflite runs/alexaMW --config configs/alexa_mine3_warp.toml \\
      --out runs/wise/wise.keras                 # WiSE-FT 0.5: the start and its fine-tune
  kwshost average runs/a runs/b runs/c --out soup.keras          # a uniform soup of three runs
  kwshost average start.tflite runs/tuned --weights 0.3 0.7 --out w.keras
  kwshost convert --config configs/alexa_mine3_warp.toml --run runs/alexaMW \\
      --keras runs/wise/wise.keras --temperature 2 --out runs/wise/wise.tflite
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("models", nargs="+", type=Path, metavar="MODEL",
                        help="two or more: run folders, .keras files or .tflite models")
    parser.add_argument("--out", "-o", type=Path, required=True, metavar="FILE",
                        help="the averaged model (.keras)")
    parser.add_argument("--weights", "-w", nargs="+", type=float,
                        metavar="W", help="one weight per model (normalized; default equal)")
    parser.add_argument("--config", "-c", default="alexa", metavar="F",
                        help="TOML config or a name in configs/, for a .tflite's import "
                             "(default: alexa)")
    parser.add_argument("--run", metavar="DIR", type=folder_here,
                        help="run whose feature cache a .tflite is imported on "
                             "(default: the config's)")


def run(args: argparse.Namespace) -> int:
    from kwshost.train_config import load_config

    if args.out.suffix != ".keras":
        raise KwsError(f"--out {args.out}: the averaged model is written as a .keras file",
                       hint="name it e.g. soup.keras")
    if args.out.is_dir():
        raise KwsError(f"cannot write {args.out}: it is a folder")
    for source in args.models:   # a run folder stands for its best.keras
        path = source / "best.keras" if source.is_dir() else source
        if path.resolve() == args.out.resolve():
            raise KwsError(f"--out {args.out} is one of the models being averaged ({source}): "
                           "writing there would replace it", hint="name a new file for --out")
    cfg = load_config(args.config)
    if args.run:
        cfg = cfg.replace(run_dir=args.run)
    from kwshost.average import average
    from kwshost.tf_quiet import import_quietly

    import_quietly("keras")

    model, coefficients = average(cfg, args.models, args.weights)
    replaced = " (replacing the file that was there)" if args.out.exists() else ""
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    mix = ", ".join(f"{c:.3g} x {m}" for c, m in zip(coefficients, args.models, strict=True))
    print(f"wrote {args.out}{replaced}: {mix}")
    # convert calibrates on a run's feature cache: name one the user has (--run, else the
    # first run folder averaged), not the config's default run, which may not exist.
    run_dir = args.run or next((str(m) for m in args.models
                                if m.is_dir() and (m / "cache").is_dir()), None)
    run = f" --run {run_dir}" if run_dir else ""
    print(f"convert it: kwshost convert --config {args.config}{run} --keras {args.out} "
          "--temperature 2 --out MODEL.tflite")
    from kwshost.convert import inherited_terms_notes

    for note in inherited_terms_notes(args.models):
        print(note)
    return 0
