"""Long non-keyword streams in noise, and hard-negative mining with the device pipeline.

`noise_bed`, `prepare` and `mix` build the streams bench/detect uses (held-out voices) and the
ones `kwshost dataset mine` uses (training voices): utterances trimmed, sped up or slowed down
a little, sometimes reverberated, at random levels, joined by short gaps, over a bed of
synthesized room noise at 5..20 dB SNR.

`mine` speaks confusable words, single words and sentences with *training* voices (never the
held-out ones, and by default never the validation split's voice groups), runs a model over
the stream through the device pipeline on the PC (our C frontend, runtime and detector with
the model's metadata) and saves every window whose keyword score crosses a mining threshold
(lower than the detector's) as `OUT/_unknown_/mined-s<seed>-<n>.wav`: the layout of the user's
own recordings, which `kwshost dataset make --recordings` and the feature cache's `extra`
directories read. `OUT/mined-s<seed>.json` lists the windows, what was said in each, and the counts.
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from kwshost.data import augment, noise, voices, words, workers
from kwshost.data.features import VoiceSplit
from kwshost.errors import KwsError
from kwshost.json_file import write_json_whole

SR = 16000
MAX_MINUTES = 240        # about 4 GB while mixing (float buffers): several streams for more
STREAM_SNR_DB = (5.0, 20.0)   # room noise below the speech, one draw per stream
NOISE_KINDS = ("pink", "babble", "fan", "hum", "music", "clatter", "brown", "tones", "white")


def noise_bed(rng: np.random.Generator, seconds: float, speech: list[np.ndarray]) -> np.ndarray:
    """Synthesized room noise changing kind every 20..40 s (babble made from `speech`)."""
    parts, total = [], 0.0
    while total < seconds:
        seg = float(rng.uniform(20, 40))
        x = noise.make_noise(NOISE_KINDS[int(rng.integers(len(NOISE_KINDS)))], rng, seg, speech)
        ramp = np.minimum(1, np.minimum(np.arange(len(x)), np.arange(len(x))[::-1]) / 800)
        parts.append(x * ramp)
        total += seg
    return np.concatenate(parts)[: int(seconds * SR)]


def prepare(clip: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One utterance for a stream: trimmed, speed +-8%, reverberated 30% of the time, -18..-4
    dBFS peak."""
    x = augment.trim(clip)
    x = augment.speed(x, float(rng.uniform(0.92, 1.08)))
    if rng.random() < 0.3:
        x = augment.reverb(x, rng, (0.1, 0.5))
    return x / (np.max(np.abs(x)) + 1e-9) * 10 ** (rng.uniform(-18, -4) / 20)


def mix(clips, gaps, rng, snr_db=STREAM_SNR_DB, babble_src=None):
    """Concatenate clips with gaps; add a noise bed at a random SNR. Returns (int16 audio,
    [(start, end)] sample spans of the clips)."""
    total = sum(len(c) for c in clips) + sum(gaps) + SR
    speech = np.zeros(total, np.float32)
    spans, pos = [], 0
    for c, g in zip(clips, gaps, strict=True):
        pos += g
        speech[pos:pos + len(c)] = c
        spans.append((pos, pos + len(c)))
        pos += len(c)
    bed = noise_bed(rng, total / SR + 1, babble_src or [])[:total]
    level = augment.rms(speech[speech != 0]) / 10 ** (rng.uniform(*snr_db) / 20)
    bed = bed * level / max(augment.rms(bed), 1e-9)
    audio = np.clip(speech + bed, -1, 1)
    return (audio * 32767).astype(np.int16), spans


@dataclass(frozen=True)
class Utterance:
    voice: voices.Voice
    text: str
    kind: str            # "confusable", "word" or "sentence"
    prosody: dict
    cents: int           # sox pitch shift after synthesis, as `dataset make` does


def stream_voices(split: str, voice_split: VoiceSplit | None = None,
                  engines: tuple[str, ...] | None = None) -> list[voices.Voice]:
    """Training voices whose speaker group falls in `split` ("train" or "val") of the feature
    cache's split (`voice_split`, the default config's when None); held-out voices are never
    among them. `engines` keeps those synthesizers only (opt-in ones, Kokoro, only so)."""
    if split not in ("train", "val"):
        raise KwsError(f"unknown voice split {split!r}", hint="use train or val")
    split_of = voice_split or VoiceSplit()
    heldout = {v.group for v in voices.heldout_voices()}
    pool = [v for v in voices.training_voices(engines) if v.group not in heldout]
    split_of.check({v.group for v in pool}, "the training voices installed here" + (
        "" if engines else f" (the opt-in {', '.join(voices.OPT_IN_ENGINES)} voices count "
        "only with --engines naming them)"))
    out = [v for v in pool if split_of(v.group) == split]
    if not out and split == "val" and pool:
        # Only espeak's variants fall into validation by themselves; other engines' voices
        # stay in training unless named, so a stream of those alone has no val voice.
        raise KwsError(f"none of the {', '.join(sorted({v.engine for v in pool}))} voices is "
                       "in the validation split",
                       hint=f"name some with --validation-voices (e.g. {pool[0].group}), as the "
                            "model's config names them, or use --split train")
    if not out:
        raise KwsError(f"no {split}-split voice is installed here",
                       hint="install espeak-ng, festival and flite (./scripts/bootstrap)")
    return out


def plan_utterances(n: int, seed: int, split: str = "train", confusable_share: float = 0.6,
                    voice_split: VoiceSplit | None = None,
                    keywords: bool = False,
                    engines: tuple[str, ...] | None = None) -> list[Utterance]:
    """`n` non-keyword utterances: confusables (`confusable_share` of them; never the
    near-keywords of words.NEAR_KEYWORD), single words and sentences, each by a voice drawn as
    `dataset make` draws them (engine shares, English accents favoured), with its prosody.
    With `keywords`, every utterance is the keyword instead (its spellings, as `dataset make`)."""
    from kwshost.data.make import _pick_voice

    rng = random.Random(seed)
    by_engine: dict[str, list[voices.Voice]] = {}
    for v in stream_voices(split, voice_split, engines):
        by_engine.setdefault(v.engine, []).append(v)
    out = []
    while len(out) < n:
        voice = _pick_voice(rng, by_engine)
        if keywords:
            kind, text = "keyword", words.keyword_text(rng, voice.language)
        elif voice.language == "en" and rng.random() < confusable_share:
            kind, text = "confusable", rng.choice(words.CONFUSABLES)
        else:
            kind, text = words.unknown_text(rng, voice.language)
        if not keywords and text.lower().strip(".?,!") in words.NEAR_KEYWORD:
            continue
        cents = rng.randint(-300, 300) if rng.random() < 0.5 else 0
        out.append(Utterance(voice, text, kind, voices.random_prosody(voice, rng), cents))
    return out


def _say_group(items: list[tuple[int, Utterance]]) -> list[tuple[int, np.ndarray | str]]:
    """(plan index, audio) per utterance, or (plan index, why it failed). A failure is tried
    once more: a voice that fails only under load (a timeout) must not change the stream."""
    from kwshost.data.make import _formant_shift

    voice = items[0][1].voice
    for _try in range(2):
        try:
            clips = voices.synthesize(voice, [(u.text, u.prosody) for _, u in items])
            out: list[tuple[int, np.ndarray | str]] = []
            for (i, u), clip in zip(items, clips, strict=True):
                clip = _formant_shift(clip, u.cents)
                ok = len(clip) and np.max(np.abs(clip)) > 1e-4
                out.append((i, clip if ok else f"{voice.group}: silent output"))
            return out
        except (subprocess.SubprocessError, RuntimeError, OSError) as e:
            why = f"{voice.group}: {type(e).__name__}: {e}"[:300]
    return [(i, why) for i, _ in items]     # a voice failing twice drops its utterances


def synthesize_all(plan: list[Utterance], jobs: int = 1, progress=None
                   ) -> tuple[list[np.ndarray | None], list[str]]:
    """Every planned utterance's audio in plan order (None where its voice failed), the same
    whatever `jobs` is, and why each failed one failed."""
    by_voice: dict[voices.Voice, list[tuple[int, Utterance]]] = {}
    for i, u in enumerate(plan):
        by_voice.setdefault(u.voice, []).append((i, u))
    groups = [g[k:k + 40] for g in by_voice.values() for k in range(0, len(g), 40)]
    out: list[np.ndarray | None] = [None] * len(plan)
    why: dict[int, str] = {}
    task = progress.add_task("synthesizing", total=len(plan)) if progress else None
    for rows in workers.results(jobs, _say_group, groups):
        for i, clip in rows:
            if isinstance(clip, str):
                why[i] = clip
            else:
                out[i] = clip
        if progress:
            progress.advance(task, len(rows))
    return out, [why[i] for i in sorted(why)]


@dataclass
class Stream:
    audio: np.ndarray                      # int16
    said: list[dict]                       # {"start_s", "end_s", "text", "voice", "kind"}
    failed: list[str] = field(default_factory=list)   # planned utterances no voice said

    @functools.cached_property
    def digest(self) -> str:
        """SHA-256 of the audio (computed once): two runs with one seed must give the same."""
        return hashlib.sha256(self.audio.tobytes()).hexdigest()

    @property
    def duration_s(self) -> float:
        return len(self.audio) / SR


def build_stream(minutes: float, seed: int, split: str = "train", jobs: int = 1,
                 confusable_share: float = 0.6, voice_split: VoiceSplit | None = None,
                 progress=None, keywords: bool = False,
                 engines: tuple[str, ...] | None = None,
                 snr_db: tuple[float, float] = STREAM_SNR_DB) -> Stream:
    """About `minutes` of non-keyword speech by `split` voices in synthesized noise `snr_db`
    below it; with `keywords`, the keyword alone every 2.5..4.5 s instead (as bench/detect's
    positives); `engines` keeps those synthesizers only."""
    if not 0 <= confusable_share <= 1:
        raise KwsError(f"--confusables must be 0..1 (got {confusable_share})")
    if not 0 < minutes <= MAX_MINUTES:
        raise KwsError(f"--minutes must be above 0 and at most {MAX_MINUTES} (got {minutes}): "
                       "the stream is built in memory", hint="make several streams with "
                       "different --seed values for more")
    # ~1.9 s per utterance with its gap on average (~4 s for keywords); cut to `minutes` below.
    n = max(4, int(minutes * 60 / (3.3 if keywords else 1.5)) + 2)
    gap_s = (2.5, 4.5) if keywords else (0.2, 1.5)
    plan = plan_utterances(n, seed, split, confusable_share, voice_split, keywords, engines)
    audio, failed = synthesize_all(plan, jobs, progress)
    rng = np.random.default_rng(seed)
    clips, gaps, kept, length = [], [], [], 0
    for u, a in zip(plan, audio, strict=True):
        if a is None:
            continue
        if length >= minutes * 60 * SR:
            break
        c = prepare(a, rng)
        g = int(rng.uniform(*gap_s) * SR)
        clips.append(c)
        gaps.append(g)
        kept.append(u)
        length += len(c) + g
    if not clips:
        raise KwsError("no voice could be synthesized for the stream",
                       hint="check espeak-ng, festival and flite (./scripts/bootstrap)")
    babble_src = [augment.trim(c) for c in (a for a in audio[:60] if a is not None)]
    pcm, spans = mix(clips, gaps, rng, snr_db=snr_db, babble_src=babble_src)
    said = [{"start_s": a / SR, "end_s": b / SR, "text": u.text, "voice": u.voice.group,
             "kind": u.kind} for (a, b), u in zip(spans, kept, strict=True)]
    return Stream(pcm, said, failed)


def write_stream(stream: Stream, wav: Path, keyword: str = "alexa") -> Path:
    """WAV.wav and WAV.json in `kwshost evaluate --stream WAV --events JSON`'s format: every
    keyword utterance is an event labelled `keyword`; "said" lists every utterance."""
    wav = Path(wav)
    wav.parent.mkdir(parents=True, exist_ok=True)
    try:
        sf.write(wav, stream.audio, SR, subtype="PCM_16")
    except (sf.LibsndfileError, RuntimeError) as e:
        raise KwsError(f"cannot write {wav}: {e}") from None
    events = [{"label": keyword, "start_s": s["start_s"], "end_s": s["end_s"]}
              for s in stream.said if s["kind"] == "keyword"]
    meta = wav.with_suffix(".json")
    meta.write_text(json.dumps({"duration_s": stream.duration_s, "events": events,
                                "said": stream.said, "failed": stream.failed,
                                "sha256": stream.digest}))
    return meta


def window_samples(params: dict) -> int:
    """Audio samples one model input covers (`fe.sample_length_ms`, 1.2 s for ours)."""
    from kwshost.frontend import FrontendSettings

    s = FrontendSettings.from_params(params)
    return s.sample_rate_hz * s.sample_length_ms // 1000


def mine_stream(model: Path, stream: Stream, threshold: int, progress=None) -> dict:
    """Runs the device pipeline over the stream. Every run of inferences whose keyword score
    (0..255) is >= `threshold` gives one window, at the run's highest score: the model input's
    length of audio ending at that inference. Also counts the detector's own detections."""
    from kwshost.pipeline import PcPipeline

    pipe = PcPipeline.from_model(model)
    n_win = window_samples(pipe.params)
    peaks: list[tuple[int, int]] = []       # (end sample, score)
    detections: list[float] = []
    run_best: tuple[int, int] | None = None
    task = progress.add_task("mining", total=len(stream.audio)) if progress else None
    done = 0
    for inf in pipe.process(stream.audio):
        score = inf.scores[0] + 128
        end = inf.time_ms * SR // 1000
        if inf.detected and inf.class_index == 0:
            detections.append(inf.time_ms / 1000)
        if score >= threshold:
            if run_best is None or score > run_best[1]:
                run_best = (end, score)
        elif run_best is not None:
            peaks.append(run_best)
            run_best = None
        if progress and end - done >= SR * 10:
            progress.advance(task, end - done)
            done = end
    if run_best is not None:
        peaks.append(run_best)
    if progress:
        progress.update(task, completed=len(stream.audio))

    def said_in(a: float, b: float) -> list[dict]:
        return [s for s in stream.said if s["end_s"] > a and s["start_s"] < b]

    windows = []
    for end, score in peaks:
        if end < n_win:
            continue
        a, b = (end - n_win) / SR, end / SR
        windows.append({"end_s": round(b, 3), "score": int(score),
                        "said": [s["text"] for s in said_in(a, b)],
                        "voices": sorted({s["voice"] for s in said_in(a, b)}),
                        "pcm": stream.audio[end - n_win:end]})
    fired = [next((s["text"] for s in said_in(t - 1.0, t + 0.5)), "(noise or a gap)")
             for t in detections]
    return {"window_samples": n_win, "windows": windows, "detections": detections,
            "fired_on": fired}


def says_keyword(said: list[str], keyword: str) -> bool:
    """Whether a word holding the keyword in any of its written forms ("alexander",
    "alexandra", "александр") was said in a window: such a window ends where the keyword itself
    has just been heard, so it is no negative to train on (training on it cost keyword recall:
    docs/training.md, session 4)."""
    forms = words.written_forms(keyword)
    return any(f in t.lower() for t in said for f in forms)


def mine(model: Path, out: Path, minutes: float = 10.0, seed: int = 1, threshold: int = 150,
         split: str = "train", jobs: int = 1, confusable_share: float = 0.6,
         voice_split: VoiceSplit | None = None, save_stream: bool = False,
         progress=None, engines: tuple[str, ...] | None = None) -> dict:
    """Synthesize a stream (of `engines`' voices only, when given), mine it with `model`,
    write `OUT/_unknown_/*.wav` and `OUT/mined-s<seed>.json`; returns the manifest."""
    from kwshost.evaluate import load_model

    model = Path(model)
    if not model.exists():
        raise KwsError(f"no model at {model}", hint="give a .tflite made by kwshost convert")
    _, params = load_model(model)
    if not 0 < threshold <= 255:
        raise KwsError(f"--threshold must be 1..255 (got {threshold})")
    stream = build_stream(minutes, seed, split, jobs, confusable_share, voice_split, progress,
                          engines=engines)
    found = mine_stream(model, stream, threshold, progress)
    unknown = str(params["classes"][1]) if len(params["classes"]) > 1 else "_unknown_"
    keyword = str(params["classes"][0])
    kept = [w for w in found["windows"] if not says_keyword(w["said"], keyword)]
    (out / unknown).mkdir(parents=True, exist_ok=True)
    listing = out / f"mined-s{seed}.json"
    listing.unlink(missing_ok=True)   # first: a run stopped below leaves no listing of old files
    for stale in (out / unknown).glob(f"mined-s{seed}-*.wav"):
        stale.unlink()     # an earlier run with this seed (another model) must not linger
    rows = []
    for k, w in enumerate(kept):
        rel = f"{unknown}/mined-s{seed}-{k:05d}.wav"
        sf.write(out / rel, w["pcm"], SR, subtype="PCM_16")
        rows.append({"path": rel, **{key: v for key, v in w.items() if key != "pcm"}})
    hours = stream.duration_s / 3600
    manifest = {
        "format": "kwshost-mined-1",
        "model": str(model), "model_threshold": params.get("detection_threshold"),
        "seed": seed, "split": split, "minutes": round(stream.duration_s / 60, 2),
        "mining_threshold": threshold, "confusable_share": confusable_share,
        "utterances": len(stream.said),
        "failed_utterances": stream.failed,
        "stream_sha256": stream.digest,
        "voices": len({s["voice"] for s in stream.said}),
        "window_samples": found["window_samples"],
        "windows": len(rows),
        "windows_per_hour": round(len(rows) / hours, 1),
        "skipped_keyword_windows": len(found["windows"]) - len(kept),
        "detections": len(found["detections"]),
        "detections_per_hour": round(len(found["detections"]) / hours, 2),
        "top_words": Counter(t for r in rows for t in r["said"]).most_common(25),
        "detected_on": Counter(found["fired_on"]).most_common(25),
        "files": rows,
    }
    if save_stream:
        write_stream(stream, out / f"stream-s{seed}.wav", keyword)
    write_json_whole(listing, manifest)
    return manifest
