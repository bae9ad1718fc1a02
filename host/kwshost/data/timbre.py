"""`kwshost dataset timbre`: new speakers from existing clips by voice conversion.

A synthesizer comes with a few speakers, and sox's pitch shift (make.py) or the speed
augmentation move F0 and formants together, as a resampled recording would. Real speakers
differ in the two apart: a woman's F0 is about an octave above a man's, her formants only
10-20% higher (a shorter vocal tract). WORLD (pyworld) splits a clip into F0, spectral
envelope and aperiodicity; we scale F0 and stretch the envelope's frequency axis each by its
own factor and resynthesize, so a male diphone voice can speak as a female one, and back.

Layout of OUT: OUT/<class>/<source stem>__t<k>.wav for each clip of SRC/<class>/*.wav (the
noise folder is skipped), and OUT/manifest.json with each clip's source, F0 shift and vocal
tract ratio (and, from SRC's manifest when there is one, its voice group and text). Each
clip's conversion comes from a generator seeded by (seed, clip number, copy): the same seed
gives the same files whatever --jobs is.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from kwshost.data import voices, workers
from kwshost.data.make import NOISE_DIR, clip_totals
from kwshost.data.voices import SAMPLE_RATE
from kwshost.errors import KwsError
from kwshost.json_file import write_json_whole

FRAME_MS = 5.0
# Vocal tract length ratios about a speaker's own: adult women's formants lie ~15-20% above
# men's, so 0.84..1.2 crosses between the two from either side.
TRACT_RANGE = (0.84, 1.2)
# F0 moves ~3.5x as far as the formants in semitones between male and female speakers, with
# a speaker's own spread about that.
F0_PER_TRACT = 3.5
F0_SPREAD_ST = 3.0
F0_LIMITS_HZ = (70.0, 330.0)   # the converted median F0 stays in the range of adult speech
F0_SEARCH_HZ = (50.0, 600.0)   # what the F0 tracker looks for (its default floor is 71 Hz)
# WORLD holds two 513-bin float64 spectrograms per clip (~1.6 MB a second): utterances only.
MAX_SECONDS = 30.0


@dataclass(frozen=True)
class Timbre:
    tract_ratio: float     # >1 shorter vocal tract: formants up
    f0_semitones: float    # F0 shift before the limits are applied


def draw(rng: np.random.Generator) -> Timbre:
    """A random new speaker relative to the clip's own."""
    lo, hi = np.log(TRACT_RANGE[0]), np.log(TRACT_RANGE[1])
    ratio = float(np.exp(rng.uniform(lo, hi)))
    st = F0_PER_TRACT * 12 * math.log2(ratio) + float(rng.uniform(-F0_SPREAD_ST, F0_SPREAD_ST))
    return Timbre(round(ratio, 4), round(st, 2))


def _warp(env: np.ndarray, ratio: float) -> np.ndarray:
    """Stretch each frame's envelope along frequency: what was at f moves to f * ratio (when
    ratio < 1 nothing comes from above Nyquist: the top bins repeat the last one)."""
    bins = env.shape[1]
    src = np.arange(bins) / ratio
    idx = np.minimum(src, bins - 1)
    lo = np.floor(idx).astype(int)
    hi = np.minimum(lo + 1, bins - 1)
    w = idx - lo
    return np.ascontiguousarray(env[:, lo] * (1 - w) + env[:, hi] * w)


def convert(audio: np.ndarray, timbre: Timbre) -> tuple[np.ndarray, float]:
    """The clip said with the new timbre (16 kHz float32, the source's peak), and the F0
    shift in semitones actually applied (after the limits)."""
    import pyworld

    x = np.ascontiguousarray(audio, dtype=np.float64)
    f0, t = pyworld.dio(x, SAMPLE_RATE, f0_floor=F0_SEARCH_HZ[0], f0_ceil=F0_SEARCH_HZ[1],
                        frame_period=FRAME_MS)
    f0 = pyworld.stonemask(x, f0, t, SAMPLE_RATE)
    voiced = f0[f0 > 0]
    if len(voiced) == 0:
        raise ValueError("no voiced frames")
    env = pyworld.cheaptrick(x, f0, t, SAMPLE_RATE)
    aper = pyworld.d4c(x, f0, t, SAMPLE_RATE)
    median = float(np.median(voiced))
    target = float(np.clip(median * 2 ** (timbre.f0_semitones / 12), *F0_LIMITS_HZ))
    shift = target / median
    y = pyworld.synthesize(f0 * shift, _warp(env, timbre.tract_ratio),
                           _warp(aper, timbre.tract_ratio), SAMPLE_RATE, FRAME_MS)
    peak = float(np.max(np.abs(y))) or 1.0
    y = y * (float(np.max(np.abs(x))) / peak)
    return y.astype(np.float32), round(12 * math.log2(shift), 2)


FORMAT = "kwshost-timbre-1"   # OUT/manifest.json's


def _sources(src: Path) -> list[Path]:
    if not src.is_dir():
        raise KwsError(f"no folder {src}", hint="a dataset (`kwshost dataset make`) or "
                       "your recordings as DIR/<class>/*.wav")
    from kwshost.data.clips import class_files

    # .WAV and the other AUDIO_SUFFIXES too, as evaluate --data reads recordings; a dataset's
    # noise is not a class; clips in a class's subfolders are refused, named
    files = sorted(class_files(src, (d.name for d in src.iterdir()
                                     if d.is_dir() and d.name != NOISE_DIR)))
    if not files:
        raise KwsError(f"no clips in {src}", hint="expected DIR/<class>/*.wav")
    seen: dict[tuple[str, str], Path] = {}
    for f in files:   # each becomes <class>/<stem>__t<copy>.wav
        other = seen.setdefault((f.parent.name, f.stem), f)
        if other is not f:
            raise KwsError(f"{other} and {f} would both be converted to "
                           f"{f.parent.name}/{f.stem}__t*.wav", hint="rename one of them")
    return files


def _convert_one(task: tuple[str, str, str, int, int, int]) -> dict:
    src_root, rel, out_root, seed, index, copy = task
    row = {"source": rel, "label": Path(rel).parent.name}
    try:
        audio, rate = sf.read(Path(src_root) / rel, dtype="float32")
        audio = voices.to_16k(audio, rate)
        if len(audio) > MAX_SECONDS * SAMPLE_RATE:
            raise ValueError(f"longer than {MAX_SECONDS:.0f} s: cut it into utterances first")
        timbre = draw(np.random.default_rng([seed, index, copy]))
        y, applied = convert(audio, timbre)
    except (ValueError, RuntimeError, OSError) as e:   # soundfile's errors are RuntimeErrors
        return {**row, "error": f"{type(e).__name__}: {e}"[:200]}
    out_rel = f"{row['label']}/{Path(rel).stem}__t{copy}.wav"
    (Path(out_root) / row["label"]).mkdir(parents=True, exist_ok=True)
    sf.write(Path(out_root) / out_rel, y, SAMPLE_RATE, subtype="PCM_16")
    return {**row, "path": out_rel, "tract_ratio": timbre.tract_ratio,
            "f0_semitones": applied, "duration_s": round(len(y) / SAMPLE_RATE, 3)}


def _forget_run(out: Path) -> None:
    """The clips an earlier run wrote into OUT, and its manifest: OUT is read as a folder (a
    config's [cache] extra), where clips this run does not make again would linger unlisted;
    and a run stopped midway leaves no manifest that looks complete. Files it did not write
    stay."""
    try:
        old = json.loads((out / "manifest.json").read_text())
    except (OSError, ValueError):
        return
    if not (isinstance(old, dict) and old.get("format") == FORMAT):
        return
    for row in old.get("clips", []):
        rel = Path(str(row.get("path", ""))) if isinstance(row, dict) else Path()
        if len(rel.parts) == 2 and not rel.is_absolute() and ".." not in rel.parts:
            (out / rel).unlink(missing_ok=True)
    (out / "manifest.json").unlink()


def make_timbres(src: Path, out: Path, copies: int = 1, seed: int = 1, jobs: int = 2,
                 progress=None) -> dict:
    """Convert every clip of SRC `copies` times into OUT; returns (and writes) the manifest."""
    if copies < 1:
        raise KwsError("--copies must be at least 1")
    if out.resolve() == src.resolve():
        raise KwsError("OUT must be a folder of its own, not SRC",
                       hint="the converted clips and their manifest would mix with the sources")
    files = _sources(src)
    known = {}
    if (src / "manifest.json").exists():
        known = {r["path"]: r for r in json.loads((src / "manifest.json").read_text())
                 .get("clips", [])}
    _forget_run(out)
    out.mkdir(parents=True, exist_ok=True)
    tasks = [(str(src), str(f.relative_to(src)), str(out), seed, i, c)
             for i, f in enumerate(files) for c in range(copies)]
    rows = []
    bar = progress.add_task("converting", total=len(tasks)) if progress else None
    for row in workers.results(jobs, _convert_one, tasks, ordered=True, chunksize=16):
        rows.append(row)
        if progress:
            progress.advance(bar)
    errors = [r for r in rows if "error" in r]
    rows = [r for r in rows if "error" not in r]
    for r in rows:
        origin = known.get(r["source"], {})
        r["group"] = origin.get("group", f"user:{Path(r['source']).stem}")
        r["text"] = origin.get("text", "")
    manifest = {
        "format": FORMAT,
        "source": str(src),
        "seed": seed,
        "copies": copies,
        **clip_totals(rows, sorted({r["label"] for r in rows})),
        "errors": errors[:50],
        "n_errors": len(errors),
        "clips": rows,
    }
    write_json_whole(out / "manifest.json", manifest)   # never a half-written manifest
    return manifest
