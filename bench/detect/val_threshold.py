"""Choose each model's detector threshold on validation voices, matched to a reference model.

For every model, on a validation keyword stream and a validation speech stream (both from
`kwshost dataset stream ... --split val`: voice groups the models were validated on, never
trained on, and never the held-out voices of bench/detect/run.py), the threshold T is the one
(100..252, step 4) with the lowest keyword-stream FRR among those whose false accepts per hour
on the speech stream are at most the reference model's at its own shipped threshold (ties as
`kwshost evaluate` breaks them, `evaluate.frr_at`: the fewest false accepts, then the higher
threshold; session 4's rule took the lower one, which only fires more). Then
bench/detect/run.py can compare models at T on the held-out voices without choosing anything
on them.

    .venv/bin/python bench/detect/val_threshold.py --kw runs/val_streams/kw-s8.wav \\
        --speech runs/val_streams/speech-s8.wav --models M1.tflite M2.tflite

The peer is --reference (default MLTK's model), run on the same streams in the same run. How
long: each model runs once through each stream in the C pipeline on the PC, at about 120x real
time on one core (an hour of streams: about 30 s per model).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "host"))

from kwshost import evaluate as ev  # noqa: E402

THRESHOLDS = np.arange(100, 256, 4)
REFERENCE = REPO / "models" / "mltk_keyword_spotting_alexa.tflite"


def operating_points(model: Path, kw: Path, speech: Path) -> dict:
    """Per threshold: FRR on the keyword stream and FA/h on the speech stream."""
    _, params = ev.load_model(model)
    pos = ev.stream(model, kw, kw.with_suffix(".json"), uncut=True)
    neg = ev.stream(model, speech, speech.with_suffix(".json"), uncut=True)
    hours = neg.duration_s / 3600
    frr = {th: 1 - hits / max(pos.keywords, 1) for th, hits, _ in ev.sweep(pos, params,
                                                                          THRESHOLDS)}
    fah = {th: fa / hours for th, _, fa in ev.sweep(neg, params, THRESHOLDS)}
    shipped = int(params.get("detection_threshold", 204))
    at_shipped = (1 - pos.hits / max(pos.keywords, 1), neg.false_accepts / hours)
    return {"model": str(model), "shipped": shipped, "at_shipped": at_shipped,
            "frr": frr, "fa_per_hour": fah, "keywords": pos.keywords,
            "speech_hours": hours}


def matched_threshold(points: dict, fa_budget: float) -> int | None:
    ths = list(points["frr"])
    curve = {"threshold": ths, "frr": [points["frr"][t] for t in ths],
             "fa_per_hour": [points["fa_per_hour"][t] for t in ths]}
    best = ev.frr_at(curve, fa_budget + 1e-9)
    return None if best is None else best[1]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kw", type=Path, required=True, help="validation keyword stream .wav")
    p.add_argument("--speech", type=Path, required=True, help="validation speech stream .wav")
    p.add_argument("--models", nargs="+", type=Path, required=True)
    p.add_argument("--reference", type=Path, default=REFERENCE,
                   help="the model whose FA/h at its own threshold sets the budget "
                        "(default models/mltk_keyword_spotting_alexa.tflite)")
    p.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = p.parse_args()
    ref = operating_points(args.reference, args.kw, args.speech)
    budget = ref["at_shipped"][1]
    print(f"reference {args.reference.name} at {ref['shipped']}: FRR "
          f"{ref['at_shipped'][0] * 100:.1f}% ({ref['keywords']} keywords), "
          f"{budget:.2f} FA/h ({ref['speech_hours'] * 60:.0f} min of speech)")
    rows = [ref]
    for m in args.models:
        pts = operating_points(m, args.kw, args.speech)
        th = matched_threshold(pts, budget)
        pts["matched_threshold"] = th
        at = (f"T={th}: FRR {pts['frr'][th] * 100:.1f}%, {pts['fa_per_hour'][th]:.2f} FA/h"
              if th is not None else "no threshold meets the reference's FA/h")
        print(f"{m.name:40s} at {pts['shipped']}: FRR {pts['at_shipped'][0] * 100:.1f}%, "
              f"{pts['at_shipped'][1]:.2f} FA/h;  {at}")
        rows.append(pts)
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1, default=float))
    return 0


if __name__ == "__main__":
    from kwshost.errors import run_script

    run_script(main)   # a KwsError (missing build, model, stream): one line, no trace
