"""kwshost evaluate: clip accuracy and streaming wake-word figures of any .tflite with metadata."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from kwshost.cli._args import default_jobs, int_at_least, jobs
from kwshost.errors import KwsError

NAME = "evaluate"
HELP = "measure a keyword model: accuracy, ROC, and FRR at a false-accept rate on streams"
DESCRIPTION = """\
Evaluates any .tflite that carries SL_PARAMSv1 metadata (ours, or MLTK's pretrained model).

Clip figures: accuracy, per-class precision and recall, confusion matrix and ROC AUC, run on
our C runtime, over --cache DIR (a training run's feature cache, split --split) or --data DIR:
a dataset from `kwshost dataset make` (every clip once, augmented as in training), or your own
labelled recordings as DIR/<class>/*.wav (.flac, .ogg, .opus, .aif(f), .caf, .mp3 too; others
refused), one folder per class of the model (e.g. alexa/ and _unknown_/, no subfolders;
`dataset timbre`'s OUT reads so too): each recording as it is, no augmentation, converted to
the model's rate, its silence trimmed, centred in the model's window (or its loudest window
kept), after 1 s of silence as the seed pads its clips.

Streaming figures: --stream WAV (repeatable) runs the device pipeline (C frontend, runtime and
detector with the model's own settings) over long recordings. With --events JSON per stream
({"duration_s": .., "events": [{"label": "alexa", "start_s": .., "end_s": ..}]}; each label
one of the model's classes, as it spells them; keyword events must not overlap) it reports
hits, false rejection rate and false accepts per hour, and the FRR at --fa-per-hour found by
sweeping the detection threshold. Where the events files also say what was said (the "said"
list `kwshost dataset stream` writes), each false accept is named by the utterance it fired
on (a confusable word, a word, a sentence, or a gap). --plots DIR writes ROC, DET and
threshold-sweep PNGs.

--tune also sweeps the detector's averaging window (0 to 6 inference intervals, or to 1 s where
inferences come more often; each with every threshold) and picks the setting with the lowest
FRR within --fa-per-hour, then runs the device pipeline again with it for exact figures (the
sweeps replay scores recorded with detections off, and a detection clears the features, which
they leave out); where that fires more than the budget, the threshold is raised step by step.
The time between inferences is the model's latency_ms; --latencies 100 200 tries others too
(each one more run over the streams). --tuned-model OUT.tflite writes a copy of the model
that carries the chosen settings, latency included (weights untouched), but only if the
device pipeline keeps to the budget (else exit status 1, nothing written). Tune on validation
recordings and report on others: settings picked on a stream fit that stream.

examples:
  kwshost evaluate runs/alexa/model.tflite --cache runs/alexa/cache
  kwshost evaluate models/mltk_keyword_spotting_alexa.tflite --data data/heldout
  kwshost evaluate models/alexa_kwshost.tflite --data my_recordings   # alexa/, _unknown_/
  kwshost evaluate models/alexa.tflite --stream s.wav --events s.json --plots report/
  kwshost evaluate models/alexa.tflite --stream val_kw.wav --events val_kw.json \\
      --stream val_speech.wav --events val_speech.json --fa-per-hour 10 \\
      --tune --tuned-model alexa_tuned.tflite
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", type=Path, metavar="M.tflite")
    parser.add_argument("--cache", type=Path, metavar="DIR", help="a run's feature cache")
    parser.add_argument("--split", default="val", help="cache split (default val)")
    parser.add_argument("--data", type=Path, metavar="DIR",
                        help="a dataset (kwshost dataset make) or recordings DIR/<class>/*.wav")
    parser.add_argument("--stream", type=Path, action="append", default=[], metavar="WAV")
    parser.add_argument("--events", type=Path, action="append", default=[], metavar="JSON",
                        help="keyword times of each --stream, in the same order")
    parser.add_argument("--fa-per-hour", type=float, default=0.5, metavar="R",
                        help="report the FRR at this false-accept rate (default 0.5)")
    parser.add_argument("--tune", action="store_true",
                        help="also sweep the averaging window and pick the detector setting "
                             "with the lowest FRR within --fa-per-hour")
    parser.add_argument("--tuned-model", type=Path, metavar="OUT.tflite",
                        help="write the model with the tuned settings here (implies --tune)")
    parser.add_argument("--latencies", type=int_at_least(0), nargs="+", metavar="MS",
                        help="--tune: the times between inferences to try (latency_ms, "
                             "multiples of the frontend's 10 ms step; default: the model's own); "
                             "each is one more run over the streams")
    parser.add_argument("--plots", type=Path, metavar="DIR", help="write PNG plots here")
    parser.add_argument("--jobs", "-j", type=jobs, default=default_jobs(),
                        help="workers for the --data features (default min(2, cores))")
    parser.add_argument("--seed", type=int_at_least(0), default=7)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def _is_dataset(root: Path) -> bool:
    """Whether --data names a `dataset make` dataset (its clips augmented with its noises)
    rather than recordings DIR/<class>/*.wav: `dataset timbre`'s OUT has a manifest.json too,
    of its own format, over class folders of clips."""
    from kwshost.data.timbre import FORMAT as TIMBRE_FORMAT

    try:
        manifest = json.loads((root / "manifest.json").read_text())
    except FileNotFoundError:
        return False
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return True   # _check_dataset names the problem
    return not (isinstance(manifest, dict) and manifest.get("format") == TIMBRE_FORMAT)


def _check_dataset(root: Path) -> None:
    """The manifest's shape and the noise files it names: the feature workers read those when
    they start, where a failure would stall the pool instead of stopping it."""
    hint = "make one with `kwshost dataset make DIR`"
    try:
        manifest = json.loads((root / "manifest.json").read_text())
    except OSError:
        raise KwsError(f"{root} is not a dataset (no manifest.json)", hint=hint) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise KwsError(f"{root}/manifest.json is not JSON ({e})", hint=hint) from None
    ok = (isinstance(manifest, dict) and isinstance(manifest.get("classes"), list)
          and manifest["classes"] and isinstance(manifest.get("clips"), list)
          and isinstance(manifest.get("noises"), list)
          and all(isinstance(c, dict) and "path" in c and "label" in c
                  for c in manifest["clips"])
          and all(isinstance(n, dict) and "path" in n for n in manifest["noises"]))
    if not ok:
        raise KwsError(f"{root}/manifest.json is not a dataset manifest (it needs classes, "
                       "clips with path and label, and noises with path)", hint=hint)
    for what in ("clips", "noises"):
        missing = [c["path"] for c in manifest[what] if not (root / c["path"]).is_file()]
        if missing:
            raise KwsError(f"{root}: {len(missing)} of the manifest's {what} are missing, "
                           f"e.g. {missing[0]}", hint=hint)
    import soundfile as sf

    for noise in manifest["noises"]:
        try:
            sf.info(str(root / noise["path"]))
        except (RuntimeError, sf.LibsndfileError) as e:
            raise KwsError(f"{root}: noise {noise['path']} is not readable audio ({e})",
                           hint=hint) from None


def _check_sources(args: argparse.Namespace) -> None:
    """Every input named on the command line exists, before minutes of work start."""
    if args.cache:
        if not args.cache.is_dir():
            raise KwsError(f"no feature cache at {args.cache}: no such folder",
                           hint="a training run's cache is runs/NAME/cache")
        for part in ("x", "y"):
            if not (args.cache / f"{args.split}_{part}.npy").is_file():
                raise KwsError(f"{args.cache} is not a feature cache with a '{args.split}' split "
                               f"({args.split}_{part}.npy is missing)",
                               hint="give a training run's cache (runs/NAME/cache) and --split")
    if args.data:
        if not args.data.is_dir():
            raise KwsError(f"{args.data}: no such folder",
                           hint="--data takes a dataset or recordings DIR/<class>/*.wav")
        if _is_dataset(args.data):
            _check_dataset(args.data)
    if not args.fa_per_hour >= 0:   # NaN too: no rate is at most NaN
        raise KwsError(f"--fa-per-hour must be 0 or more, not {args.fa_per_hour}")
    if args.latencies and not (args.tune or args.tuned_model):
        raise KwsError("--latencies is for --tune", hint="add --tune (or --tuned-model OUT)")
    if (args.tune or args.tuned_model) and not args.events:
        raise KwsError("--tune needs streams with keyword events",
                       hint="give --stream WAV --events JSON for keyword and other speech")


def _fe_settings(params: dict) -> dict:
    """The model's own frontend settings, so that features match what it was trained on;
    read once here, so a model lacking some is warned about once, not by every worker."""
    from kwshost.frontend import FrontendSettings

    return FrontendSettings.from_params(params).to_params()


def _check_clips(x, y, n_classes: int, source: Path) -> None:
    """Features and labels that belong together: one label per clip, each a class index."""
    import numpy as np

    if len(x) != len(y):
        raise KwsError(f"{source}: {len(x)} feature rows but {len(y)} labels")
    if len(y) == 0:
        raise KwsError(f"{source} holds no clips")
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= n_classes:
        raise KwsError(f"{source}: labels must be class indexes 0..{n_classes - 1} "
                       f"(the model's classes); found {y.min()}..{y.max()} ({y.dtype})")


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from kwshost import evaluate as ev
    from kwshost.cli._progress import progress_bar
    from kwshost.tflite_graph import keeps_state

    model, params = ev.load_model(args.model)
    if not (args.cache or args.data or args.stream):
        raise KwsError("nothing to evaluate on",
                       hint="give --cache RUN/cache, --data DATASET or --stream WAV --events J")
    if args.events and len(args.events) != len(args.stream):
        raise KwsError("give one --events file per --stream")
    if (args.cache or args.data) and keeps_state(model):
        raise KwsError(f"{args.model} keeps its past between inferences (a streaming model, "
                       "such as microWakeWord's): a clip is not one input of it",
                       hint="evaluate it on streams: --stream WAV --events JSON")
    report: dict = {"model": str(args.model), "name": params.get("name"),
                    "classes": params["classes"]}
    clip = curve = None
    _check_sources(args)
    with progress_bar(transient=True) as progress:
        if args.cache or args.data:
            if args.cache:
                from kwshost.data.features import load_split

                try:
                    x, y = load_split(args.cache, args.split)
                except (OSError, ValueError) as e:
                    raise KwsError(f"cannot read the feature cache {args.cache}: {e}") from None
            elif _is_dataset(args.data):
                from kwshost.data.features import compute_dataset

                x, y = compute_dataset(args.data, args.seed, args.jobs, progress=progress,
                                       fe_overrides=_fe_settings(params),
                                       classes=params["classes"])
            else:
                from kwshost.frontend import FrontendSettings

                items = ev.recordings(args.data, params["classes"])
                x, y = ev.recording_features(items, FrontendSettings.from_params(params),
                                             progress=progress)
            _check_clips(x, y, len(params["classes"]), args.cache or args.data)
            clip = ev.classify(model, params, x, y, progress)
            report["clips"] = {k: v for k, v in clip.items() if not k.startswith("_")}
        if args.stream:
            results = [ev.stream(args.model, w, e, uncut=True) for w, e in
                       zip(args.stream, args.events or [None] * len(args.stream), strict=True)]
            seconds = sum(r.duration_s for r in results)
            report["stream"] = {"hours": round(seconds / 3600, 4), "seconds": round(seconds, 3),
                                **_totals(results),
                                "threshold": _threshold(params)}
            fired = _fired_on(args, results)
            if fired is not None:
                report["stream"]["false_accepts_on"] = fired
            curve = ev.curve_from(results, params, np.arange(100, 256, 5))
            best = ev.frr_at(curve, args.fa_per_hour)
            report["stream"][f"frr_at_{args.fa_per_hour}_fa_per_hour"] = (
                {"frr": best[0], "threshold": best[1]}
                if best and report["stream"]["keywords"] else None)
            if args.tune or args.tuned_model:
                report["tuning"] = _tune(args, model, params, results)
    if args.plots:
        name = args.model.stem
        try:
            report["plots"] = [str(p) for p in ev.plot_report(args.plots, name, clip, curve)]
        except OSError as e:
            raise KwsError(f"cannot write the plots to {args.plots}: {e.strerror}") from None
    if args.json:
        from kwshost.cli.summarize import json_safe

        print(json.dumps(json_safe(report), indent=1))
        return _status(report)
    print(f"model: {args.model}" + (f" ({params['name']})" if params.get("name") else ""))
    if "clips" in report:
        c = report["clips"]
        auc = c["roc_auc"]
        auc_text = f"{auc:.4f}" if auc == auc else "n/a (the clips hold one class)"
        classes = list(params["classes"])
        which = f" ({classes[0]} against the rest)" if len(classes) > 2 else ""  # its score's
        print(f"clips: {c['examples']} on {c['engine']}: accuracy {c['accuracy']:.4f}, "
              f"ROC AUC{which} {auc_text}")
        for name, pc in c["per_class"].items():
            recall = f"{pc['recall']:.4f}" if pc["count"] else "n/a   "
            # No clip predicted as the class: its precision is 0/0, not 0.
            precision = f"{pc['precision']:.4f}" if pc.get("predicted", 1) else "n/a   "
            print(f"  {name:10s} precision {precision}  recall {recall}  "
                  f"n={pc['count']}")
        print(f"  confusion (rows true, columns predicted {c['classes']}): {c['confusion']}")
    if "stream" in report:
        s = report["stream"]
        frr = "n/a"
        if s["frr"] is not None:
            lo, hi = s["frr_interval"]
            frr = f"{s['frr'] * 100:.1f}%, 95% CI {lo * 100:.1f}-{hi * 100:.1f}%"
        lo, hi = s["fa_per_hour_interval"]
        length = (f"{s['seconds'] / 60:.1f} min" if s["seconds"] >= 60
                  else f"{s['seconds']:.1f} s")
        print(f"streams: {length}, {s['keywords']} keywords, {s['hits']} hits "
              f"(FRR {frr}), {s['false_accepts']} false accepts ({s['fa_per_hour']:.2f}/h, "
              f"95% CI {lo:.2f}-{hi:.2f}) at threshold {s['threshold']}"
              + ("" if "detection_threshold" in params else " (the detector's default: the "
                 "model names no detection_threshold)"))
        if s.get("false_accepts_on"):
            from collections import Counter

            kinds = Counter(f["kind"] for f in s["false_accepts_on"])
            top = Counter(f["text"] for f in s["false_accepts_on"]).most_common(6)
            print("  false accepts on: " + ", ".join(f"{k} {n}" for k, n in kinds.most_common())
                  + "; most: " + ", ".join(f"{t!r} x{n}" for t, n in top))
        best = s[f"frr_at_{args.fa_per_hour}_fa_per_hour"]
        if best:
            print(f"  best FRR at <= {args.fa_per_hour} FA/h: {best['frr'] * 100:.1f}% "
                  f"(threshold {best['threshold']})")
    if "tuning" in report:
        _print_tuning(report["tuning"], params)
    for p in report.get("plots", []):
        print(f"plot: {p}")
    return _status(report)


def _status(report: dict) -> int:
    """1 when --tuned-model was asked for and not written (over the budget), else 0."""
    return 1 if "not_written" in report.get("tuning", {}) else 0


def _fired_on(args: argparse.Namespace, results: list) -> list[dict] | None:
    """Each false accept with what was said there ({"stream", "time_s", "text", "kind"}), when
    the events files say what was said (`kwshost dataset stream` writes it); else None."""
    from kwshost import evaluate as ev

    out, any_said = [], False
    for r, events in zip(results, args.events or [None] * len(results), strict=True):
        said = ev.load_said(events)
        any_said = any_said or bool(said)
        for t in ev.false_accept_times(r.detections, r.events):
            c = ev.said_at(said, t) if said else {"text": "(not recorded)", "kind": "unknown"}
            out.append({"stream": r.name, "time_s": round(t, 3), "text": c["text"],
                        "kind": c.get("kind", "unknown")})
    return out if any_said else None


def _totals(results: list) -> dict:
    """Keywords, hits, FRR and false accepts (also per hour) over several streams, with
    their 95% intervals."""
    from kwshost import evaluate as ev

    return ev.stream_figures(sum(r.keywords for r in results), sum(r.hits for r in results),
                             sum(r.false_accepts for r in results),
                             sum(r.duration_s for r in results) / 3600)


def _threshold(params: dict) -> int:
    """The detection threshold the detector uses for this model (its default where the
    metadata names none)."""
    from kwshost.detector import DetectorSettings

    return DetectorSettings.from_params(params).detection_threshold


TUNED_KEYS = ("average_window_duration_ms", "minimum_count", "detection_threshold")
# How often the sweep's choice is re-checked on the device pipeline with a stricter threshold
# before --tune gives up on the budget (each check runs every stream again).
TIGHTENING_STEPS = 6


def _tune(args: argparse.Namespace, model: bytes, params: dict, results: list) -> dict:
    """Sweeps the detector's settings over the recorded scores, re-runs the device pipeline
    with the choice and writes --tuned-model."""
    from kwshost import evaluate as ev
    from kwshost.detector import one_threshold

    if not sum(r.keywords for r in results):
        raise KwsError("--tune needs keywords in the streams' events",
                       hint=f"the events files hold no '{params['classes'][0]}'")
    tuning, params, results = _tune_latencies(args, params, results)
    choice = tuning["choice"]
    if choice is None:
        if args.tuned_model:
            raise KwsError(f"no detector setting keeps to {args.fa_per_hour} false accepts "
                           "per hour on these streams; nothing written",
                           hint="raise --fa-per-hour")
        tuning.pop("_curves")
        return tuning
    curve = tuning.pop("_curves")[choice["average_window_duration_ms"]]
    for _ in range(TIGHTENING_STEPS):  # the sweep's estimate, checked on the device pipeline
        tuned = {**one_threshold(params, choice["detection_threshold"]),   # for every class
                 **{k: choice[k] for k in TUNED_KEYS}, "latency_ms": tuning["latency_ms"]}
        checked = [ev.stream(args.model, w, None, events=r.events, params=tuned)
                   for w, r in zip(args.stream, results, strict=True)]
        tuning["checked"] = {"detection_threshold": choice["detection_threshold"],
                             **_totals(checked)}
        if tuning["checked"]["fa_per_hour"] <= args.fa_per_hour or not (step := ev.stricter(
                curve, choice["detection_threshold"])):
            break
        choice.update(detection_threshold=step[0], frr=step[1], fa_per_hour=step[2])
    over = tuning["checked"]["fa_per_hour"] > args.fa_per_hour
    if args.tuned_model and over:
        # A model that misses its budget on the very streams it was tuned on is not a result.
        tuning["not_written"] = (f"{args.tuned_model} not written: the device pipeline still "
                                 f"gives {tuning['checked']['fa_per_hour']:.2f} FA/h at "
                                 f"threshold {choice['detection_threshold']}")
    elif args.tuned_model:
        from kwshost.cli.params import save_with_params

        save_with_params(model, tuned, args.tuned_model)
        tuning["tuned_model"] = str(args.tuned_model)
    return tuning


def _tune_latencies(args: argparse.Namespace, params: dict, results: list
                    ) -> tuple[dict, dict, list]:
    """ev.tune at each --latencies (the model's own by default; the others record the streams
    again): the tuning with the lowest FRR within the budget (then the fewest false accepts,
    then the model's own latency), with the params and results it was made on."""
    from kwshost import evaluate as ev
    from kwshost.detector import one_threshold

    own = int(params.get("latency_ms", 0))
    tried = []
    for latency in dict.fromkeys(args.latencies or [own]):
        p, r = params, results
        if latency != own:
            p = {**params, "latency_ms": latency}
            # only the scores are swept: one pass with detections off records them uncut
            r = [ev.stream(args.model, w, e, params=one_threshold(p, 255))
                 for w, e in zip(args.stream, args.events, strict=True)]
        t = ev.tune(r, p, args.fa_per_hour)
        t["latency_ms"] = latency
        tried.append((t, p, r))

    def rank(entry: tuple[dict, dict, list]) -> tuple:
        t = entry[0]
        c = t["choice"] or {"frr": 0, "fa_per_hour": 0}
        return t["choice"] is None, c["frr"], c["fa_per_hour"], t["latency_ms"] != own

    best = min(tried, key=rank)
    if len(tried) > 1:   # the sweep's estimates (the chosen one's is tightened later)
        best[0]["latencies"] = [{"latency_ms": t["latency_ms"], "interval_ms": t["interval_ms"],
                                 "choice": dict(t["choice"]) if t["choice"] else None}
                                for t, _, _ in tried]
    return best


def _print_tuning(t: dict, params: dict) -> None:
    for row in t.get("latencies", []):
        c = row["choice"]
        got = ("no setting within the budget" if c is None else
               f"window {c['average_window_duration_ms']} ms, threshold "
               f"{c['detection_threshold']}: FRR {c['frr'] * 100:.1f}%, "
               f"{c['fa_per_hour']:.2f} FA/h")
        print(f"an inference every {row['interval_ms']} ms (latency_ms {row['latency_ms']}): "
              f"{got}")
    print(f"detector tuning for <= {t['fa_per_hour_budget']} FA/h (an inference every "
          f"{t['interval_ms']} ms; FRR and FA/h from the recorded scores):")
    print("  window  results  minimum_count  threshold     FRR     FA/h")
    for r in t["windows"]:
        best = ("no threshold within the budget" if r["frr"] is None else
                f"{r['detection_threshold']:9d}  {r['frr'] * 100:6.1f}%  {r['fa_per_hour']:7.2f}")
        mark = "  <- chosen" if r is t["choice"] else ""
        print(f"  {r['average_window_duration_ms']:4d} ms  {r['results']:7d}  "
              f"{r['minimum_count']:13d}  {best}{mark}")
    c = t["choice"]
    if c is None:
        print(f"  no setting keeps to {t['fa_per_hour_budget']} FA/h on these streams")
        return
    own = ", ".join(f"{k} {params.get(k)}" for k in ("latency_ms", *TUNED_KEYS))
    chosen = ", ".join(f"{k} {c[k]}" for k in TUNED_KEYS)
    print(f"  chosen: latency_ms {t['latency_ms']}, {chosen} (the model has {own})")
    k = t["checked"]
    over = "" if k["fa_per_hour"] <= t["fa_per_hour_budget"] else "  (over the budget)"
    print(f"  device pipeline with it: {k['hits']}/{k['keywords']} hits (FRR "
          f"{k['frr'] * 100:.1f}%), {k['false_accepts']} false accepts "
          f"({k['fa_per_hour']:.2f}/h){over}")
    if "tuned_model" in t:
        print(f"wrote {t['tuned_model']}")
    if "not_written" in t:
        print(f"{t['not_written']} (raise --fa-per-hour, or tune on more streams)")
