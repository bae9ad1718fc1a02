"""The figures a stage's bundling rule is decided on (docs/training.md), for each model.

On the validation streams of `kwshost dataset stream ... --split val` (voices never trained on
and never the held-out ones): the detector threshold is the lowest whose false accepts on the
speech streams (together, when --speech names several) stay within --budget when the detector
is replayed on the recorded scores, raised until the device pipeline (which resets after each
detection) agrees; then the keyword streams' misses at it, replayed and on the device pipeline.
`--threshold T` reports the figures at T instead (a bundled model at its own threshold). With
several models, each after the first is compared with it keyword by keyword (found only by one,
only by the other, and the exact McNemar p-value: how likely chance alone splits them so).
Scores are recorded once per stream. The run folders the sessions kept this in do not travel
between machines; this does.

    .venv/bin/python bench/detect/val_rule.py --streams runs/val_streams --budget 29 \\
        models/alexa_kwshost.tflite runs/alexaB/alexa_mine3_t2.tflite

The first model named is the reference the others are compared with (name MLTK's model first to
compare with it). How long: about 3 minutes per model on the default streams (each stream once
in the C pipeline, then the device pipeline again at the thresholds the rule tries).
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "host"))

from kwshost import evaluate as ev  # noqa: E402
from kwshost.detector import one_threshold  # noqa: E402


def rule_threshold(replay_fa: dict[int, int], device_fa: Callable[[int], int],
                   budget: int) -> int | None:
    """The lowest threshold whose replayed false accepts are within budget, raised one step
    at a time while the device pipeline counts more; None if none is within budget."""
    within = [t for t, fa in sorted(replay_fa.items()) if fa <= budget]
    if not within:
        return None
    t = within[0]
    while t < max(replay_fa) and device_fa(t) > budget:
        t += 1
    return t


def figures(model: Path, streams: Path, speech: list[str], keywords: list[str], budget: int,
            threshold: int | None = None) -> dict:
    _, params = ev.load_model(model)
    names = [*speech, *keywords]
    recorded = {n: ev.stream(model, streams / f"{n}.wav", streams / f"{n}.json", uncut=True)
                for n in names}

    @functools.cache   # the rule's last check and the report run the same stream and threshold
    def on_device(name: str, at: int) -> ev.StreamResult:
        return ev.stream(model, streams / f"{name}.wav", None, events=recorded[name].events,
                         params=one_threshold(params, at))

    sweeps = {n: {t: (hits, fa) for t, hits, fa in ev.sweep(recorded[n], params, range(256))}
              for n in names}
    if threshold is None:
        t = rule_threshold({th: sum(sweeps[n][th][1] for n in speech) for th in range(256)},
                           lambda th: sum(on_device(n, th).false_accepts for n in speech), budget)
    else:
        t = threshold
    out: dict = {"model": str(model), "threshold": t, "budget": budget}
    if t is None:
        return out
    for kind in ("replay", "device"):
        rows = {}
        for n in names:
            if kind == "replay":
                hits, fa = sweeps[n][t]
            else:
                r = on_device(n, t)
                hits, fa = r.hits, r.false_accepts
            rows[n] = {"keywords": recorded[n].keywords, "missed": recorded[n].keywords - hits,
                       "false_accepts": fa}
            if kind == "device" and n in keywords:
                # Which keywords it found, for the paired comparison between models.
                rows[n]["found"] = ev.found(r.detections, r.events).astype(int).tolist()
        out[kind] = rows
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="+", type=Path)
    p.add_argument("--streams", type=Path, default=REPO / "runs" / "val_streams",
                   help="folder of NAME.wav + NAME.json streams (default runs/val_streams)")
    p.add_argument("--speech", nargs="+", default=["speech-s8"],
                   help="speech streams' NAMEs (the budget is on their false accepts together; "
                        "default speech-s8)")
    p.add_argument("--keywords", nargs="+", default=["kw-s8", "kw-s8-p400", "kw-s8-p-400"],
                   help="keyword streams' NAMEs (the sox-shifted copies included; default kw-s8 "
                        "kw-s8-p400 kw-s8-p-400)")
    p.add_argument("--budget", type=int, default=29,
                   help="false accepts allowed on --speech (default 29)")
    p.add_argument("--threshold", type=int, choices=range(256), metavar="T",
                   help="report at this threshold instead of choosing one by --budget")
    p.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = p.parse_args()
    if not args.streams.is_dir():
        p.error(f"{args.streams}: no such folder (validation streams come from `kwshost dataset "
                "stream ... --split val`, docs/training.md)")
    rows = []
    for model in args.models:
        f = figures(model, args.streams, args.speech, args.keywords, args.budget, args.threshold)
        rows.append(f)
        speech = " + ".join(args.speech)
        if f["threshold"] is None:
            print(f"{model.name}: no threshold keeps {speech} within {args.budget}")
            continue
        for kind in ("replay", "device"):
            r = f[kind]
            fas = " + ".join(str(r[n]["false_accepts"]) for n in args.speech)
            missed = sum(r[n]["missed"] for n in args.keywords)
            print(f"{model.name} T={f['threshold']} {kind}: {speech} {fas} false accepts; "
                  f"missed {missed} in all; " + ", ".join(
                      f"{n} missed {r[n]['missed']}/{r[n]['keywords']} "
                      f"({100 * r[n]['missed'] / max(r[n]['keywords'], 1):.1f}%)"
                      for n in args.keywords))
    for f in rows[1:]:
        if rows[0]["threshold"] is not None and f["threshold"] is not None:
            print(compare(rows[0], f, args.keywords))
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1))
    return 0


def compare(reference: dict, other: dict, keywords: list[str]) -> str:
    """A model against the first one named, keyword by keyword on the device pipeline: the
    misses' difference and whether chance explains it (exact McNemar test)."""
    def found(f: dict) -> list[int]:
        return [x for n in keywords for x in f["device"][n].get("found", [])]

    c = ev.paired(found(other), found(reference))
    return (f"{Path(other['model']).name} vs {Path(reference['model']).name}: found only by "
            f"the first {c['only_a']}, only by the second {c['only_b']} (exact McNemar p = "
            f"{c['p_value']:.3f})")


if __name__ == "__main__":
    from kwshost.errors import run_script

    run_script(main)   # a KwsError (missing build, model, stream): one line, no trace
