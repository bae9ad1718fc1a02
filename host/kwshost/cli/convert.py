"""kwshost convert: a trained Keras model -> int8 .tflite with MLTK's SL_PARAMSv1 metadata."""

from __future__ import annotations

import argparse
from pathlib import Path

from kwshost.cli._args import folder_here, int_at_least, positive_number
from kwshost.errors import KwsError

NAME = "convert"
HELP = "quantize a trained model to int8 .tflite with its metadata"
DESCRIPTION = """\
Converts RUN/best.keras (or --keras FILE) to a fully int8 .tflite: batch fixed to 1 so the graph
holds only the seed's 7 operator types, activation ranges calibrated on spectrograms from the
run's feature cache. The metadata (MLTK's SL_PARAMSv1) carries every fe.* frontend setting, the
detector parameters (latency_ms, minimum_count, average_window_duration_ms,
detection_threshold, suppression_ms, volume_gain), classes, name and version from the config,
so the firmware, `kwshost listen/evaluate` and MLTK's own tools need nothing else. A model
trained on clips of voices licensed for non-commercial use only (`dataset make --engines
silero` or `mbrola`, by the datasets' manifests) says so in its metadata, training_data_terms.

--temperature T divides the last layer's outputs (the logits) by T before the softmax. The
int8 softmax output tops out at 255 (p >= 0.996), where a confident model puts keywords and
near misses alike; T = 2 spreads them below the top, so a detection threshold separates them
there (the order of the scores in float does not change). Choose the threshold afterwards
(`kwshost evaluate --tune`).

examples:
  kwshost convert --config configs/alexa.toml                 # runs/alexa/best.keras
  kwshost convert --config configs/alexa.toml --out models/alexa.tflite
  kwshost convert --keras runs/x/last.keras --run runs/x --out x.tflite
  kwshost convert --config configs/alexa_pitch.toml --temperature 2 --out pitch_t2.tflite
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", "-c", default="alexa", metavar="F",
                        help="TOML config or a name in configs/ (default: alexa)")
    parser.add_argument("--run", metavar="DIR", type=folder_here,
                        help="run directory, relative to this folder (default: the config's)")
    parser.add_argument("--keras", type=Path, metavar="FILE",
                        help="model to convert (default: RUN/best.keras)")
    parser.add_argument("--out", "-o", type=Path, metavar="FILE",
                        help="output .tflite (default: RUN/model.tflite)")
    parser.add_argument("--representative", type=int_at_least(1), default=500, metavar="N",
                        help="spectrograms used to calibrate quantization (default 500)")
    parser.add_argument("--temperature", type=positive_number(), default=1.0, metavar="T",
                        help="divide the logits by T before the softmax (default 1: as trained)")


def run(args: argparse.Namespace) -> int:
    from kwshost.model import check_keras_file
    from kwshost.train_config import load_config

    cfg = load_config(args.config)
    if args.run:
        cfg = cfg.replace(run_dir=args.run)
    run_dir = cfg.path(cfg.run_dir)
    keras_path = args.keras or run_dir / "best.keras"
    if not keras_path.exists():
        raise KwsError(f"no trained model at {keras_path}",
                       hint="train first: kwshost train --config ...")
    check_keras_file(keras_path)
    out = args.out or run_dir / "model.tflite"
    if out.is_dir():
        raise KwsError(f"cannot write {out}: it is a folder", hint="give a file path for --out")
    if out.resolve() == keras_path.resolve():
        raise KwsError(f"--out {out} is the model being converted: writing there would replace "
                       "the checkpoint", hint="give another file for --out, e.g. model.tflite")
    from kwshost.convert import convert
    from kwshost.tf_quiet import import_quietly

    import_quietly("tensorflow", "keras")   # only once the inputs are known good

    data, report = convert(keras_path, cfg, run_dir / "cache", args.representative,
                           args.temperature)
    replaced = " (replacing the file that was there)" if out.exists() else ""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
    except OSError as e:
        raise KwsError(f"cannot write {out}: {e.strerror}") from None
    print(f"wrote {out}{replaced}: {report['bytes']} bytes, {report['operators']} operators "
          f"({', '.join(report['operator_types'])})")
    print(f"input {report['input_shape']} int8, quantization scale/zero point "
          f"{report['input_quantization']}")
    if report["training_data_terms"]:
        print(f"note: {report['training_data_terms']}; stored in the metadata as "
              "training_data_terms")
    if args.temperature != 1.0:
        print(f"logits divided by {args.temperature:g} before the softmax: choose the detection "
              "threshold for it (kwshost evaluate --tune)")
    return 0
