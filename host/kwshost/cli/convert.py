"""kwshost convert: a trained Keras model -> int8 .tflite with MLTK's SL_PARAMSv1 metadata."""

from __future__ import annotations

import argparse
from pathlib import Path

from kwshost.errors import KwsError

NAME = "convert"
HELP = "quantize a trained model to int8 .tflite with its metadata"
DESCRIPTION = """\
Converts RUN/best.keras (or --keras FILE) to a fully int8 .tflite: batch fixed to 1 so the graph
holds only the seed's 7 operator types, activation ranges calibrated on spectrograms from the
run's feature cache. The metadata (MLTK's SL_PARAMSv1) carries every fe.* frontend setting, the
detector parameters (latency_ms, minimum_count, average_window_duration_ms,
detection_threshold, suppression_ms, volume_gain), classes, name and version from the config,
so the firmware, `kwshost listen/evaluate` and MLTK's own tools need nothing else.

examples:
  kwshost convert --config configs/alexa.toml                 # runs/alexa/best.keras
  kwshost convert --config configs/alexa.toml --out models/alexa.tflite
  kwshost convert --keras runs/x/last.keras --run runs/x --out x.tflite
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", "-c", default="alexa", metavar="F",
                        help="TOML config or a name in configs/ (default: alexa)")
    parser.add_argument("--run", metavar="DIR", help="run directory (default: the config's)")
    parser.add_argument("--keras", type=Path, metavar="FILE",
                        help="model to convert (default: RUN/best.keras)")
    parser.add_argument("--out", "-o", type=Path, metavar="FILE",
                        help="output .tflite (default: RUN/model.tflite)")
    parser.add_argument("--representative", type=int, default=500, metavar="N",
                        help="spectrograms used to calibrate quantization (default 500)")


def run(args: argparse.Namespace) -> int:
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from kwshost.convert import convert
    from kwshost.train_config import load_config

    cfg = load_config(args.config)
    if args.run:
        cfg = cfg.replace(run_dir=args.run)
    run_dir = cfg.path(cfg.run_dir)
    keras_path = args.keras or run_dir / "best.keras"
    if not keras_path.exists():
        raise KwsError(f"no trained model at {keras_path}",
                       hint="train first: kwshost train --config ...")
    data, report = convert(keras_path, cfg, run_dir / "cache", args.representative)
    out = args.out or run_dir / "model.tflite"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    print(f"wrote {out}: {report['bytes']} bytes, {report['operators']} operators "
          f"({', '.join(report['operator_types'])})")
    print(f"input {report['input_shape']} int8, quantization scale/zero point "
          f"{report['input_quantization']}")
    return 0
