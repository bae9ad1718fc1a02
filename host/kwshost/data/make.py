"""`kwshost dataset make`: synthesize keyword and `_unknown_` clips and background noise offline.

Layout of OUT (a plain directory, easy to inspect or extend by hand):

    OUT/alexa/<voice-group>__<n>.wav       keyword clips, 16 kHz mono int16
    OUT/_unknown_/<voice-group>__<n>.wav   confusable words, vocabulary, sentences
    OUT/_background_noise_/<kind>_<n>.wav  synthesized noise (babble is made from `_unknown_`)
    OUT/manifest.json                      every clip with its voice, text, class and duration

The plan (who says what with which prosody) is drawn from one seeded RNG before any work is
shared out, so the result does not depend on `--jobs`.
"""

from __future__ import annotations

import random
import subprocess
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from kwshost.data import noise as noise_mod
from kwshost.data import voices as voices_mod
from kwshost.data import words, workers
from kwshost.errors import KwsError
from kwshost.json_file import write_json_whole

SAMPLE_RATE = 16000
KEYWORD = "alexa"
UNKNOWN = "_unknown_"
NOISE_DIR = "_background_noise_"
SIZE_PRESETS = {"tiny": 16, "small": 300, "medium": 3000, "large": 10000}
UNKNOWN_PER_KEYWORD = 2.0
# Festival's 12 training voices (diphone, unit selection, HTS) sound least like espeak's formant
# synthesis, so they get a larger share than their count alone would give.
# Kokoro, MBROLA, Open JTalk, piper and Silero are opt-in (voices.OPT_IN_ENGINES): their
# weights count only when --engines names them.
ENGINE_WEIGHTS = {"espeak": 0.52, "festival": 0.23, "flite": 0.13, "pico": 0.12, "kokoro": 0.15,
                  "mbrola": 0.2, "openjtalk": 0.1, "piper": 0.3, "silero": 0.3}
DEFAULT_ENGINES = tuple(e for e in ENGINE_WEIGHTS if e not in voices_mod.OPT_IN_ENGINES)


@dataclass
class ClipPlan:
    path: str            # relative to OUT
    label: str
    kind: str            # "keyword", "confusable", "word", "sentence", "user"
    engine: str
    voice: str
    group: str
    text: str
    prosody: dict
    formant_cents: int   # sox pitch shift applied after synthesis (moves formants and F0)


def parse_size(size: str | int) -> int:
    if isinstance(size, int) or str(size).lstrip("-").isdigit():
        if int(size) < 1:
            raise KwsError(f"--size {size}: a dataset needs at least 1 keyword clip",
                           hint=f"use a number of keyword clips or one of "
                                f"{', '.join(SIZE_PRESETS)}")
        return int(size)
    if size not in SIZE_PRESETS:
        raise KwsError(f"unknown --size {size!r}",
                       hint=f"use a number of keyword clips or one of {', '.join(SIZE_PRESETS)}")
    return SIZE_PRESETS[size]


def check_engines(engines: tuple[str, ...] | None) -> None:
    """Every named synthesizer must be one of ENGINE_WEIGHTS."""
    unknown = set(engines or ()) - set(ENGINE_WEIGHTS)
    if unknown:
        raise KwsError(f"unknown engine {', '.join(sorted(unknown))}",
                       hint=f"choose from {', '.join(ENGINE_WEIGHTS)}")


def _pick_voice(rng: random.Random, by_engine: dict[str, list[voices_mod.Voice]]):
    engines = [e for e in ENGINE_WEIGHTS if by_engine.get(e)]
    engine = rng.choices(engines, [ENGINE_WEIGHTS[e] for e in engines])[0]
    if engine in ("espeak", "mbrola"):
        # Three in four espeak or MBROLA clips use an English voice; the rest a foreign one.
        pool = by_engine[engine]
        english = [v for v in pool if v.reads_english]
        if english and rng.random() < 0.75:
            return rng.choice(english)
        return rng.choice(pool)
    return rng.choice(by_engine[engine])


def plan(n_keyword: int, seed: int, engines: tuple[str, ...] | None = None) -> list[ClipPlan]:
    """Every clip's voice, text and prosody; `engines` keeps only those synthesizers."""
    rng = random.Random(seed)
    by_engine: dict[str, list[voices_mod.Voice]] = {}
    for v in voices_mod.training_voices(engines):
        by_engine.setdefault(v.engine, []).append(v)
    plans: list[ClipPlan] = []
    n_unknown = int(round(n_keyword * UNKNOWN_PER_KEYWORD))
    for i in range(n_keyword + n_unknown):
        voice = _pick_voice(rng, by_engine)
        if i < n_keyword:
            label, kind = KEYWORD, "keyword"
            if voice.engine == "espeak" and voice.reads_english and rng.random() < 0.25:
                text = rng.choice(words.KEYWORD_PHONEMES_ESPEAK)
            else:
                text = words.keyword_text(rng, voice.language)
        else:
            label = UNKNOWN
            kind, text = words.unknown_text(rng, voice.language)
        cents = rng.randint(-300, 300) if rng.random() < 0.5 else 0
        safe_group = voice.group.replace(":", "-").replace("+", "-")
        plans.append(ClipPlan(f"{label}/{safe_group}__{i:06d}.wav", label, kind, voice.engine,
                              voice.name, voice.group, text,
                              voices_mod.random_prosody(voice, rng), cents))
    return plans


def _formant_shift(audio: np.ndarray, cents: int) -> np.ndarray:
    if cents == 0 or len(audio) == 0:
        return audio
    proc = subprocess.run(["sox", "-t", "f32", "-r", str(SAMPLE_RATE), "-c", "1", "-",
                           "-t", "f32", "-", "pitch", str(cents)],
                          input=audio.astype(np.float32).tobytes(), capture_output=True,
                          check=True)
    return np.frombuffer(proc.stdout, dtype=np.float32).copy()


def _run_chunk(args: tuple[str, list[ClipPlan]]) -> list[dict]:
    out_dir, chunk = args
    first = chunk[0]
    voice = voices_mod.Voice(first.engine, first.voice)
    try:
        clips = voices_mod.synthesize(voice, [(p.text, p.prosody) for p in chunk])
    except (subprocess.SubprocessError, RuntimeError, OSError) as e:
        # One failing voice must not sink the whole dataset: report it in the manifest.
        return [{"path": p.path, "error": f"{type(e).__name__}: {e}"[:300]} for p in chunk]
    rows = []
    for p, audio in zip(chunk, clips, strict=True):
        audio = _formant_shift(audio, p.formant_cents)
        peak = float(np.max(np.abs(audio))) if len(audio) else 0.0
        if peak < 1e-4:
            rows.append({"path": p.path, "error": "silent output"})
            continue
        audio = 0.9 * audio / peak
        path = Path(out_dir) / p.path
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, audio, SAMPLE_RATE, subtype="PCM_16")
        rows.append({**asdict(p), "duration_s": round(len(audio) / SAMPLE_RATE, 3)})
    return rows


def _chunks(plans: list[ClipPlan], size: int = 40) -> list[list[ClipPlan]]:
    by_voice: dict[tuple[str, str], list[ClipPlan]] = {}
    for p in plans:
        by_voice.setdefault((p.engine, p.voice), []).append(p)
    out = []
    for group in by_voice.values():
        out += [group[i:i + size] for i in range(0, len(group), size)]
    return out


def read_recordings(src: Path) -> list[tuple[str, str, np.ndarray]]:
    """The user's own `SRC/<class>/*.wav` as (class, name, 16 kHz mono int16), read before
    any synthesis so that a bad file stops `dataset make` at once, named (kwshost.audio reads
    it: other rates and channel counts converted; truncated, empty or unreadable refused)."""
    from kwshost.audio import read_wavs
    from kwshost.data.clips import labelled_files

    if not src.is_dir():
        raise KwsError(f"no recordings folder {src}", hint="expected DIR/<class>/*.wav")
    items, strays = labelled_files(src, [KEYWORD, UNKNOWN])
    if strays:
        raise KwsError(f"recordings in {src / strays[0]}: {strays[0]!r} is not a class",
                       hint=f"put recordings in DIR/{KEYWORD}/ or DIR/{UNKNOWN}/")
    wavs = sorted(wav for wav, _ in items)   # folder by folder, as the dataset lists them
    if not wavs:
        raise KwsError(f"no recordings found in {src}", hint="expected DIR/<class>/*.wav")
    seen: dict[tuple[str, str], Path] = {}
    for wav in wavs:   # each becomes <class>/user-<name>.wav in the dataset
        other = seen.setdefault((wav.parent.name, wav.stem), wav)
        if other is not wav:
            raise KwsError(f"recordings {other} and {wav} would both be "
                           f"{wav.parent.name}/user-{wav.stem}.wav in the dataset",
                           hint="rename one of them")
    audio = read_wavs(wavs, SAMPLE_RATE)
    return [(wav.parent.name, wav.stem, a) for wav, a in zip(wavs, audio, strict=True)]


def import_recordings(recorded: list[tuple[str, str, np.ndarray]], out: Path) -> list[dict]:
    """Writes `read_recordings`' clips into the dataset as OUT/<class>/user-<name>.wav; each
    recording is its own voice group."""
    rows = []
    for label, name, audio in recorded:
        rel = f"{label}/user-{name}.wav"
        (out / label).mkdir(parents=True, exist_ok=True)
        sf.write(out / rel, audio, SAMPLE_RATE, subtype="PCM_16")
        rows.append({"path": rel, "label": label, "kind": "user", "engine": "user",
                     "voice": name, "group": f"user:{name}", "text": "",
                     "duration_s": round(len(audio) / SAMPLE_RATE, 3)})
    return rows


def clip_totals(rows: list[dict], classes) -> dict:
    """A manifest's "counts" and "durations_s" (seconds per class) of its clip rows."""
    return {"counts": dict(Counter(r["label"] for r in rows)),
            "durations_s": {k: round(sum(r["duration_s"] for r in rows if r["label"] == k), 1)
                            for k in classes}}


def make_noises(out: Path, rows: list[dict], n_files: int, seconds: float,
                seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    speech_paths = [r["path"] for r in rows if r.get("kind") in ("sentence", "word", "confusable")]
    speech = [sf.read(out / p, dtype="float32")[0] for p in speech_paths[:200]]
    (out / NOISE_DIR).mkdir(parents=True, exist_ok=True)
    noise_rows = []
    for i in range(n_files):
        kind = noise_mod.KINDS[i % len(noise_mod.KINDS)]
        x = noise_mod.make_noise(kind, rng, seconds, speech)
        rel = f"{NOISE_DIR}/{kind}_{i:04d}.wav"
        sf.write(out / rel, x, SAMPLE_RATE, subtype="PCM_16")
        noise_rows.append({"path": rel, "label": NOISE_DIR, "kind": kind,
                           "duration_s": seconds})
    return noise_rows


def make_dataset(out: Path, size: str | int, jobs: int, seed: int,
                 recordings: Path | None = None, progress=None,
                 engines: tuple[str, ...] | None = None) -> dict:
    n_keyword = parse_size(size)
    check_engines(engines)
    recorded = read_recordings(recordings) if recordings else []
    try:
        out.mkdir(parents=True, exist_ok=True)
        # A dataset made again here overwrites the old one's clips one by one: its manifest
        # goes first, so a make stopped midway leaves no dataset that looks complete.
        (out / "manifest.json").unlink(missing_ok=True)
    except OSError as e:
        raise KwsError(f"cannot make the dataset folder {out}: {e.strerror}") from e
    plans = plan(n_keyword, seed, engines)
    chunks = _chunks(plans)
    rows: list[dict] = []
    task = progress.add_task("synthesizing", total=len(plans)) if progress else None
    for chunk_rows in workers.results(jobs, _run_chunk, [(str(out), c) for c in chunks]):
        rows += chunk_rows
        if progress:
            progress.advance(task, len(chunk_rows))
    errors = [r for r in rows if "error" in r]
    rows = sorted((r for r in rows if "error" not in r), key=lambda r: r["path"])
    rows += import_recordings(recorded, out)
    n_noise = max(len(noise_mod.KINDS), n_keyword // 100)
    noise_seconds = 4.0 if n_keyword < 100 else 10.0
    noises = make_noises(out, rows, n_noise, noise_seconds, seed + 1)
    manifest = {
        "format": "kwshost-dataset-1",
        "seed": seed,
        "size": n_keyword,
        "engines": sorted(engines or DEFAULT_ENGINES),
        "classes": [KEYWORD, UNKNOWN],
        **clip_totals(rows, (KEYWORD, UNKNOWN)),
        "groups": len({r["group"] for r in rows}),
        "noise_files": len(noises),
        "errors": errors[:50],
        "n_errors": len(errors),
        "clips": rows,
        "noises": noises,
    }
    write_json_whole(out / "manifest.json", manifest)   # never a half-written manifest
    return manifest
