"""Evaluating a .tflite keyword model: clip classification and streaming wake-word figures.

Clip figures (accuracy, per-class precision/recall, confusion matrix, ROC AUC) run the model on
our C runtime (kwshost.runtime) over spectrograms from a feature cache or a dataset directory.

Streaming figures are what a user feels: the whole device pipeline (our C frontend, runtime and
MLTK-compatible detector, kwshost.pipeline) runs over long WAVs with known keyword times. A
detection inside [start, end + tolerance] of a keyword is a hit (one per keyword); any other is
a false accept. The FRR-vs-FA/h curve re-runs the detector (kwshost.detector) over the recorded
scores at other thresholds; the device's own post-detection reset is only applied at the
model's threshold, so other points of the curve are close approximations.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kwshost.errors import KwsError


def load_model(path: Path) -> tuple[bytes, dict]:
    from kwshost.metadata import read_params
    from kwshost.model_file import read_model

    data = read_model(path)
    params = read_params(data)
    if not params.get("classes"):
        from kwshost.mww import no_settings_hint

        raise KwsError(f"{path} has no 'classes' in its SL_PARAMSv1 metadata",
                       hint=no_settings_hint(data) if params == {} else
                       "convert with kwshost convert, which writes the metadata")
    return data, params


class Runner:
    """int8 spectrogram -> int8 scores, on our C runtime (TFLite's interpreter as fallback)."""

    def __init__(self, model: bytes) -> None:
        try:
            from kwshost.runtime import Interpreter

            self._rt = Interpreter(model)
            self.engine = "kwshost runtime"
        except ImportError:
            import tensorflow as tf

            self._tf = tf.lite.Interpreter(model_content=model)
            self._tf.allocate_tensors()
            self._rt = None
            self.engine = "tf.lite.Interpreter (kwshost.runtime missing)"

    def scores(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.int8).reshape(1, x.shape[0], 1, x.shape[-1])
        if self._rt is not None:
            return np.asarray(self._rt.invoke(x)).reshape(-1)
        d = self._tf.get_input_details()[0]
        self._tf.set_tensor(d["index"], x.reshape(d["shape"]))
        self._tf.invoke()
        return self._tf.get_tensor(self._tf.get_output_details()[0]["index"]).reshape(-1)


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney statistic, ties counted half)."""
    pos, neg = scores[labels == 1], scores[labels == 0]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    order = np.argsort(np.concatenate([pos, neg]), kind="mergesort")
    allv = np.concatenate([pos, neg])[order]
    ranks = np.empty(len(allv))
    i = 0
    while i < len(allv):
        j = i
        while j + 1 < len(allv) and allv[j + 1] == allv[i]:
            j += 1
        ranks[i:j + 1] = (i + j) / 2 + 1
        i = j + 1
    r = np.empty(len(allv))
    r[order] = ranks
    return float((r[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def classify(model: bytes, params: dict, x: np.ndarray, y: np.ndarray, progress=None) -> dict:
    classes = [str(c) for c in params["classes"]]
    runner = Runner(model)
    scores = np.empty((len(x), len(classes)), dtype=np.int16)
    task = progress.add_task("inference", total=len(x)) if progress else None
    for i in range(len(x)):
        scores[i] = runner.scores(np.asarray(x[i]))
        if progress:
            progress.advance(task)
    pred = scores.argmax(axis=1)
    n = len(classes)
    confusion = np.zeros((n, n), dtype=int)
    for t, p in zip(y, pred, strict=True):
        confusion[int(t), int(p)] += 1
    per_class = {}
    for k, c in enumerate(classes):
        tp = confusion[k, k]
        per_class[c] = {"precision": float(tp / max(confusion[:, k].sum(), 1)),
                        "recall": float(tp / max(confusion[k, :].sum(), 1)),
                        "count": int(confusion[k, :].sum()),
                        "predicted": int(confusion[:, k].sum())}
    kw = 0
    is_kw = (y == kw).astype(int)
    kw_score = scores[:, kw].astype(float) + 128
    return {"engine": runner.engine, "examples": int(len(y)),
            "accuracy": float((pred == y).mean()), "classes": classes, "per_class": per_class,
            "confusion": confusion.tolist(), "roc_auc": roc_auc(is_kw, kw_score),
            "_scores": kw_score, "_labels": is_kw}


@dataclass
class StreamResult:
    name: str
    duration_s: float
    keywords: int
    hits: int
    false_accepts: int
    detections: list[float] = field(default_factory=list)
    scores: np.ndarray | None = None     # [n_inferences, classes] raw int8 outputs
    times_ms: np.ndarray | None = None
    events: list[tuple[float, float]] = field(default_factory=list)


def recordings(root: Path, classes: list[str]) -> list[tuple[Path, int]]:
    """(wav, class index) of ROOT/<class>/*.wav for a model's classes: labelled clips of the
    user's own, with no dataset manifest. Folders of WAVs named otherwise are an error, and
    so are WAVs in a subfolder of a class folder (they would be left out)."""
    from kwshost.data.clips import labelled_files

    items, strays = labelled_files(root, classes)
    if strays:
        raise KwsError(f"{root}: folder(s) {', '.join(strays)} are not classes of the model",
                       hint=f"name each folder after a class: {', '.join(classes)}")
    if not items:
        raise KwsError(f"{root} holds neither a dataset (manifest.json) nor recordings "
                       "DIR/<class>/*.wav",
                       hint=f"the model's classes: {', '.join(classes)}; or make a dataset "
                            "with `kwshost dataset make`")
    return items


def fit_window(audio: np.ndarray, length: int) -> np.ndarray:
    """One recording as one model input of `length` samples: its leading and trailing
    silence trimmed, then centred if shorter, else its loudest `length` samples."""
    from kwshost.data.augment import trim_span

    x = audio[trim_span(audio.astype(np.float32))]
    out = np.zeros(length, np.int16)
    if len(x) <= length:
        start = (length - len(x)) // 2
        out[start:start + len(x)] = x
        return out
    energy = np.concatenate([[0.0], np.cumsum(x.astype(np.float64) ** 2)])
    start = int(np.argmax(energy[length:] - energy[:-length]))
    return x[start:start + length].copy()


def recording_features(items: list[tuple[Path, int]], settings, warmup_ms: int = 1000,
                       progress=None) -> tuple[np.ndarray, np.ndarray]:
    """int8 model inputs and labels of `recordings()`: each WAV read as `kwshost listen`
    reads it (converted to the model's rate, mono), fitted to the window (`fit_window`), and
    run through the C frontend after `warmup_ms` of silence, as `kwshost features --warmup`
    does and the seed's training pads its clips. No augmentation: the recordings as they are."""
    from kwshost import frontend
    from kwshost.audio import read_wavs

    audio = read_wavs([wav for wav, _ in items], settings.sample_rate_hz, progress)
    clips = np.stack([fit_window(a, settings.sample_length) for a in audio])
    x = frontend.spectrograms(clips, settings, warmup=warmup_ms)
    return x, np.array([label for _, label in items], np.uint8)


def _json_kind(value: object) -> str:
    return {list: "list", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number")


def load_events(path: Path | None, keyword: str, classes: list[str] | None = None
                ) -> tuple[list[tuple[float, float]], float | None]:
    """Keyword times from JSON: {"events": [{"label", "start_s", "end_s"}], "duration_s"}.
    With `classes` (the model's), a label that is none of them is refused: a hand-written
    "Alexa" for "alexa" would make that keyword's detection a false accept."""
    if path is None:
        return [], None
    hint = 'a JSON object: {"duration_s": 60, "events": [{"label": "alexa", "start_s": 1.5, ' \
           '"end_s": 2.1}]}'
    try:
        data = json.loads(Path(path).read_text())
        # The layout first, said in its own terms (not "AttributeError: 'list' object has
        # no attribute 'get'").
        if not isinstance(data, dict):
            raise KwsError(f"{path}: the top level is a JSON {_json_kind(data)}, not an "
                           "object with an \"events\" list", hint=hint)
        listed = data.get("events", [])
        if not isinstance(listed, list) or not all(isinstance(e, dict) for e in listed):
            raise KwsError(f"{path}: \"events\" must be a list of objects (label, start_s, "
                           "end_s)", hint=hint)
        events = [(float(e["start_s"]), float(e["end_s"])) for e in listed
                  if e.get("label", keyword) == keyword]
        duration = data.get("duration_s")
        if duration is not None:
            duration = float(duration)
            if not math.isfinite(duration):  # NaN passed the length check below unseen
                raise KwsError(f"{path}: duration_s is {duration}, not a length in seconds",
                               hint=hint)
    except OSError as e:
        raise KwsError(f"cannot read the events file {path}: {e.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise KwsError(f"{path} is not a JSON events file ({e})", hint=hint) from None
    except (AttributeError, KeyError, TypeError, ValueError) as e:
        raise KwsError(f"{path}: malformed event list ({type(e).__name__}: {e})",
                       hint=hint) from None
    bad = next(((a, b) for a, b in events if not (0 <= a <= b < float("inf"))), None)
    if bad is not None:
        raise KwsError(f"{path}: a keyword event from {bad[0]} s to {bad[1]} s (each needs "
                       "0 <= start_s <= end_s)", hint=hint)
    ordered = sorted(events)
    both = next(((a, b) for a, b in zip(ordered, ordered[1:], strict=False) if b[0] < a[1]),
                None)
    if both is not None:   # one keyword listed twice: one detection, and a miss counted
        raise KwsError(f"{path}: keyword events {both[0][0]:g}-{both[0][1]:g} s and "
                       f"{both[1][0]:g}-{both[1][1]:g} s overlap (one keyword listed twice?)",
                       hint="list each keyword once; events may touch but not overlap")
    if listed and not events:
        labels = sorted({str(e.get("label")) for e in listed})
        raise KwsError(f"{path}: none of its {len(listed)} events is labelled {keyword!r} "
                       f"(the model's keyword), they are {', '.join(labels)}",
                       hint="label keyword events with the model's first class")
    strays = sorted({str(e.get("label")) for e in listed if "label" in e} - set(classes or [])
                    ) if classes else []
    if strays:
        raise KwsError(f"{path}: event label(s) {', '.join(map(repr, strays))} are not classes "
                       f"of the model ({', '.join(classes)})",
                       hint=f"label keyword events {keyword!r} (labels are case-sensitive); "
                            "events of other classes are not counted as keywords")
    return events, duration


def match(detections: list[float], events: list[tuple[float, float]],
          tolerance_s: float) -> tuple[int, int]:
    """(hits, false accepts): a detection inside [start, end + tolerance] of a keyword hits
    the first such keyword not hit yet (each is hit at most once); one inside none is a false
    accept."""
    used, false = _assign(detections, events, tolerance_s)
    return int(used.sum()), false


def found(detections: list[float], events: list[tuple[float, float]],
          tolerance_s: float = 1.0) -> np.ndarray:
    """Which keywords (in the events' order) `match` counts as hit."""
    return _assign(detections, events, tolerance_s)[0]


def _assign(detections, events, tolerance_s: float) -> tuple[np.ndarray, int]:
    starts, ends = _windows(events, tolerance_s)
    used = np.zeros(len(events), dtype=bool)
    false = 0
    for t in detections:
        inside = np.flatnonzero((starts <= t) & (t <= ends))
        if not len(inside):
            false += 1
        elif len(free := inside[~used[inside]]):
            used[free[0]] = True
    return used, false


def paired(a_found: np.ndarray, b_found: np.ndarray) -> dict:
    """Two models on the same keywords: how many only A finds, only B finds, and the exact
    two-sided McNemar p-value (a binomial test on those discordant keywords). Keywords both
    find or both miss say nothing about which is better, so this sees differences that the
    two FRRs' separate intervals are too wide to show."""
    from scipy.stats import binomtest

    a, b = np.asarray(a_found, bool), np.asarray(b_found, bool)
    if a.shape != b.shape:
        raise ValueError("the two models were not run on the same keywords")
    only_a, only_b = int((a & ~b).sum()), int((b & ~a).sum())
    p = binomtest(only_a, only_a + only_b).pvalue if only_a + only_b else 1.0
    return {"only_a": only_a, "only_b": only_b, "p_value": float(p)}


def _windows(events: list[tuple[float, float]], tolerance_s: float):
    """Where a detection counts for each keyword: [start, end + tolerance]."""
    return (np.array([e[0] for e in events], dtype=float),
            np.array([e[1] for e in events], dtype=float) + tolerance_s)


def false_accept_times(detections: list[float], events: list[tuple[float, float]],
                       tolerance_s: float = 1.0) -> list[float]:
    """The detections `match` counts as false accepts: inside no keyword's window."""
    starts, ends = _windows(events, tolerance_s)
    return [t for t in detections if not np.any((starts <= t) & (t <= ends))]


GAP = "(noise or a gap)"


def said_at(said: list[dict], t: float) -> dict:
    """The utterance ({"text", "kind", ...} from a stream's events file) a detection at `t` s
    fired on: one that began at most 0.5 s later or ended at most 1 s before (the detector
    reports up to a window late); GAP's entry when none."""
    return next((c for c in said if c["start_s"] - 0.5 <= t <= c["end_s"] + 1.0),
                {"text": GAP, "kind": "gap"})


def load_said(path: Path | None) -> list[dict]:
    """The "said" list of an events file (`kwshost dataset stream` writes one): what each
    utterance was; [] when the file has none or it is malformed."""
    if path is None:
        return []
    try:
        said = json.loads(Path(path).read_text()).get("said", [])
        return [c for c in said if isinstance(c, dict) and isinstance(c.get("text"), str)
                and all(isinstance(c.get(k), (int, float)) for k in ("start_s", "end_s"))]
    except (OSError, ValueError, AttributeError, TypeError):
        return []


def stream(model_path: Path, wav: Path, events_path: Path | None,
           tolerance_s: float = 1.0, audio: np.ndarray | None = None,
           events: list[tuple[float, float]] | None = None,
           params: dict | None = None, uncut: bool = False) -> StreamResult:
    """Run the device pipeline over a WAV; detections are matched to the keyword events.
    `params` replaces the model's metadata (e.g. detector settings being tried): the model
    is rewritten with it, since the pipeline reads its settings as the device does.

    `uncut`: the scores kept for a threshold sweep come from a second run with detections
    off. The device clears its feature window after each detection (as MLTK's app does), so
    the scores recorded beside the detections drop there, keyword or not, and a sweep over
    them misses keywords the device finds at a higher threshold or with a longer window."""
    from kwshost.detector import one_threshold
    from kwshost.metadata import read_params, write_params
    from kwshost.pipeline import PcPipeline

    def pipeline(settings: dict | None) -> PcPipeline:
        if settings is None:
            return PcPipeline.from_model(model_path)
        data = write_params(load_model(model_path)[0], settings)
        return PcPipeline(data, read_params(data))

    pipe = pipeline(params)
    keyword = pipe.labels[0]
    if audio is None:
        from kwshost.audio import read_wav

        audio = read_wav(wav, pipe.sample_rate)  # AudioError names a bad file
    if events is None:
        events, said_s = load_events(events_path, keyword, list(pipe.labels))
        _check_times(events_path, events, said_s, len(audio) / pipe.sample_rate, wav)
    times, scores, detections = _run(pipe, audio)
    if uncut:   # 255 for every class: a strict threshold no average exceeds, so no clears
        times, scores, never = _run(pipeline(one_threshold(pipe.params, 255)), audio)
        assert not never
    hits, fa = match(detections, events, tolerance_s)
    return StreamResult(Path(wav).name if wav else "stream", len(audio) / pipe.sample_rate,
                        len(events), hits, fa, detections, scores, times, events)


def _run(pipe, audio: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """Inference times (ms), raw int8 scores [n, classes] and the keyword's detections (s)."""
    times, scores, detections = [], [], []
    for inf in pipe.process(audio):
        times.append(inf.time_ms)
        scores.append(inf.scores)
        if inf.detected and pipe.labels[inf.class_index] == pipe.labels[0]:   # the keyword
            detections.append(inf.time_ms / 1000)
    return np.array(times), np.array(scores, dtype=np.int8), detections


def _check_times(events_path: Path | None, events: list[tuple[float, float]],
                 said_s: float | None, audio_s: float, wav: Path | None) -> None:
    """An events file that belongs to another recording (another length, or keywords after
    the end) would count keywords the stream never had as misses: refused, named."""
    if events_path is None:
        return
    # A second's slack: rounding, and a recording a few frames shorter than its plan.
    if said_s is not None and abs(said_s - audio_s) > 1.0:
        raise KwsError(f"{events_path} is for a {said_s:g} s stream, {wav} holds {audio_s:.1f} s",
                       hint="give each --stream the --events file written with it")
    late = [a for a, _ in events if a > audio_s]
    if late:
        raise KwsError(f"{events_path}: {len(late)} keyword event(s) start after the end of "
                       f"{wav} ({audio_s:.1f} s), e.g. at {late[0]:g} s",
                       hint="give each --stream the --events file written with it")


def sweep(result: StreamResult, params: dict, thresholds, tolerance_s: float = 1.0):
    """(threshold, hits, false accepts) re-running only the detector on recorded scores
    (recorded with `stream(..., uncut=True)`, or a sweep above the recording's own threshold
    undercounts what the device finds)."""
    from kwshost.detector import DetectorSettings, detections, one_threshold

    out = []
    for th in thresholds:
        settings = DetectorSettings.from_params(one_threshold(params, th))
        found = [t / 1000 for t, c in detections(settings, result.times_ms, result.scores)
                 if c == 0]
        hits, fa = match(found, result.events, tolerance_s)
        out.append((int(th), hits, fa))
    return out


def plot_report(out_dir: Path, name: str, clip: dict | None, curve: dict | None) -> list[Path]:
    """ROC, DET (FRR vs FA/h) and threshold-sweep plots as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    if clip is not None:
        s, y = clip["_scores"], clip["_labels"]
        ths = np.arange(0, 257)
        tpr = [(s[y == 1] >= t).mean() if (y == 1).any() else 0 for t in ths]
        fpr = [(s[y == 0] >= t).mean() if (y == 0).any() else 0 for t in ths]
        fig, ax = plt.subplots(figsize=(5, 4))
        ax.plot(fpr, tpr)
        ax.set(xlabel="false positive rate", ylabel="true positive rate",
               title=f"ROC {name} (AUC {clip['roc_auc']:.4f})")
        paths.append(out_dir / f"{name}_roc.png")
        fig.savefig(paths[-1], dpi=100, bbox_inches="tight")
        plt.close(fig)
    if curve is not None:
        th, frr, fah = curve["threshold"], curve["frr"], curve["fa_per_hour"]
        fig, ax = plt.subplots(figsize=(5, 4))
        ax.plot(fah, np.array(frr) * 100, marker=".")
        ax.set(xlabel="false accepts per hour", ylabel="false rejection rate (%)",
               title=f"DET {name}")
        paths.append(out_dir / f"{name}_det.png")
        fig.savefig(paths[-1], dpi=100, bbox_inches="tight")
        plt.close(fig)
        fig, ax = plt.subplots(figsize=(5, 4))
        ax.plot(th, np.array(frr) * 100, label="FRR %")
        ax.plot(th, fah, label="FA/h")
        ax.set(xlabel="detection threshold", title=f"threshold sweep {name}")
        ax.legend()
        paths.append(out_dir / f"{name}_sweep.png")
        fig.savefig(paths[-1], dpi=100, bbox_inches="tight")
        plt.close(fig)
    return paths


def curve_from(results: list[StreamResult], params: dict, thresholds) -> dict:
    """FRR and FA/h per threshold over several streams together."""
    totals: dict[int, list[int]] = {}
    for r in results:
        for th, hits, fa in sweep(r, params, thresholds):
            t = totals.setdefault(th, [0, 0])
            t[0] += hits
            t[1] += fa
    n_kw = sum(r.keywords for r in results)
    hours = sum(r.duration_s for r in results) / 3600
    ths = sorted(totals)
    return {"threshold": ths,
            "frr": [1 - totals[t][0] / n_kw if n_kw else float("nan") for t in ths],
            "fa_per_hour": [totals[t][1] / hours for t in ths]}


def frr_at(curve: dict, fa_per_hour: float) -> tuple[float, int] | None:
    """Lowest FRR whose FA/h is at most `fa_per_hour`, with its threshold. Of thresholds with
    that FRR, the one with the fewest false accepts (then the highest): a lower threshold that
    finds no more keywords only fires more."""
    best = None
    for th, frr, fah in zip(curve["threshold"], curve["frr"], curve["fa_per_hour"],
                            strict=True):
        if fah <= fa_per_hour and (best is None or (frr, fah, -th) <= best):
            best = (frr, fah, -th)
    return None if best is None else (best[0], -best[2])


def proportion_interval(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson's 95% interval for a rate of K in N (an FRR from N keywords): from the few
    hundred keywords a test stream holds, several points either way are chance."""
    if n <= 0:
        raise ValueError("no trials")
    p, z2 = k / n, z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, float(centre - half)), min(1.0, float(centre + half))


def rate_interval(k: int, hours: float) -> tuple[float, float]:
    """The exact (Garwood) 95% interval of an hourly rate from K events in HOURS: 0 false
    accepts in one hour still allows up to 3.7 an hour."""
    from scipy.stats import chi2

    if hours <= 0:
        raise ValueError("no time")
    low = chi2.ppf(0.025, 2 * k) / 2 if k > 0 else 0.0
    return float(low) / hours, float(chi2.ppf(0.975, 2 * k + 2) / 2) / hours


def stream_figures(keywords: int, hits: int, false_accepts: int, hours: float) -> dict:
    """The streaming figures evaluate and bench/detect report: FRR (None without keywords) and
    false accepts per hour, each with its 95% interval."""
    return {"keywords": keywords, "hits": hits,
            "frr": (1 - hits / keywords) if keywords else None,
            "frr_interval": proportion_interval(keywords - hits, keywords) if keywords else None,
            "false_accepts": false_accepts, "fa_per_hour": false_accepts / hours,
            "fa_per_hour_interval": rate_interval(false_accepts, hours)}


def inference_interval_ms(results: list[StreamResult]) -> int:
    """The time between inferences in recorded streams (the model's latency_ms, or the
    frontend's stride when it is 0)."""
    steps = np.concatenate([np.diff(r.times_ms) for r in results if r.times_ms is not None
                            and len(r.times_ms) > 1] or [np.array([], int)])
    if not len(steps):
        raise KwsError("the streams are too short to tune on (fewer than two inferences)")
    return int(np.median(steps))


TUNE_WINDOW_MS = 1000   # the longest window tune tries where 6 intervals span less


def tune_results(interval_ms: int) -> int:
    """How many intervals tune's longest window spans: 6, or up to TUNE_WINDOW_MS where the
    inferences come more often (a keyword's score lasts ~600 ms; at most 20 intervals)."""
    return min(20, max(6, -(-TUNE_WINDOW_MS // max(1, interval_ms))))


def tune(results: list[StreamResult], params: dict, fa_per_hour: float,
         max_results: int | None = None) -> dict:
    """Sweeps the averaging window (0 to `max_results` inference intervals, by default
    `tune_results`) and, for each, the detection threshold (0..254) over recorded streams
    (record them with `stream(..., uncut=True)`). Per window: the lowest FRR with at most
    `fa_per_hour` (frr_at's tie rule). The choice: the lowest FRR of those, then the fewest
    false accepts, then the window nearest the model's own. minimum_count is the model's,
    capped at the results a window holds, so that every window can fire."""
    interval = inference_interval_ms(results)
    if max_results is None:
        max_results = tune_results(interval)
    own_window = int(params.get("average_window_duration_ms", 1000))
    own_count = int(params.get("minimum_count", 3))
    rows, curves = [], {}
    for k in range(max_results + 1):
        window = k * interval
        count = 0 if k == 0 else max(1, min(own_count, k + 1))
        setting = {**params, "average_window_duration_ms": window, "minimum_count": count}
        curve = curves[window] = curve_from(results, setting, range(0, 255))
        best = frr_at(curve, fa_per_hour)
        row = {"average_window_duration_ms": window, "minimum_count": count, "results": k + 1,
               "detection_threshold": None, "frr": None, "fa_per_hour": None}
        if best is not None:
            i = curve["threshold"].index(best[1])
            row.update(detection_threshold=best[1], frr=best[0],
                       fa_per_hour=curve["fa_per_hour"][i])
        rows.append(row)
    ok = [r for r in rows if r["frr"] is not None]
    choice = min(ok, key=lambda r: (r["frr"], r["fa_per_hour"],
                                    abs(r["average_window_duration_ms"] - own_window)),
                 default=None)
    return {"interval_ms": interval, "fa_per_hour_budget": fa_per_hour, "windows": rows,
            "choice": choice, "_curves": curves}


def stricter(curve: dict, threshold: int) -> tuple[int, float, float] | None:
    """The next threshold above `threshold` at which the curve has fewer false accepts, with
    its FRR and FA/h: the step to take when the device pipeline fires more than the sweep
    over recorded scores said (a detection clears the features, which the sweep omits)."""
    th, frr, fah = curve["threshold"], curve["frr"], curve["fa_per_hour"]
    now = fah[th.index(threshold)]
    for i in range(th.index(threshold) + 1, len(th)):
        if fah[i] < now:
            return th[i], frr[i], fah[i]
    return None
