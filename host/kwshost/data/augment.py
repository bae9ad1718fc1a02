"""Waveform augmentation for one training example, after the seed's pipeline.

The seed's recipe, kept: a 1 s warm-up before the 1.2 s clip (so the frontend's noise reduction
has settled as it has in a stream), the clip placed at a random offset after trimming silence,
a low absolute "microphone" noise always, room noise at a random SNR (-2..35 dB) 95% of the time,
Gaussian noise at 30..60 dB SNR a quarter of the time, and `_unknown_` examples replaced by
silence (8%) or by the first 20..50% of a keyword (7%: a keyword not yet fully heard is not a
keyword). Added, because our voices are synthetic: speed perturbation, reverberation from
synthesized room impulse responses, microphone band-limiting and wide level changes.
Every random choice comes from the `numpy.random.Generator` passed in, so a seed reproduces it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np
from scipy.signal import butter, fftconvolve, resample_poly, sosfilt

from kwshost.errors import KwsError

SAMPLE_RATE = 16000


@dataclass(frozen=True)
class AugmentSettings:
    clip_ms: int = 1200
    warmup_ms: int = 1000
    speed_range: tuple[float, float] = (0.88, 1.12)
    speed_p: float = 0.6
    reverb_p: float = 0.5
    rt60_range: tuple[float, float] = (0.1, 0.8)
    bandlimit_p: float = 0.5
    peak_dbfs_range: tuple[float, float] = (-32.0, -1.0)
    mic_noise_dbfs_range: tuple[float, float] = (-75.0, -60.0)
    ambient_p: float = 0.95
    snr_db_range: tuple[float, float] = (-2.0, 35.0)
    gaussian_p: float = 0.25
    gaussian_snr_db_range: tuple[float, float] = (30.0, 60.0)
    silence_p: float = 0.08
    cropped_keyword_p: float = 0.07

    @classmethod
    def from_overrides(cls, overrides: dict, warmup_ms: int) -> AugmentSettings:
        """The defaults with a config's `[cache.augment]` values (ranges as [low, high],
        probabilities 0..1), checked; clip length and warm-up come from elsewhere."""
        tunable = {f.name: f.default for f in fields(cls)}
        del tunable["clip_ms"], tunable["warmup_ms"]
        values = {}
        for key, value in overrides.items():
            where = f"[cache.augment] {key}"
            if key not in tunable:
                raise KwsError(f"[cache.augment]: unknown setting {key!r}",
                               hint=f"known settings: {', '.join(sorted(tunable))}")
            if isinstance(tunable[key], tuple):
                pair = list(value) if isinstance(value, list | tuple) else []
                if len(pair) != 2 or not all(_finite(v) for v in pair) or pair[0] > pair[1]:
                    raise KwsError(f"{where} must be [low, high] with low <= high "
                                   f"(got {value!r})")
                values[key] = (float(pair[0]), float(pair[1]))
            elif not (_finite(value) and 0 <= value <= 1):
                raise KwsError(f"{where} is a probability, 0..1 (got {value!r})")
            else:
                values[key] = float(value)
        if values.get("speed_range", (1.0, 1.0))[0] <= 0:
            raise KwsError("[cache.augment] speed_range: speed factors must be above 0")
        return cls(warmup_ms=warmup_ms, **values)


def _finite(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def trim(x: np.ndarray, top_db: float = 30.0, frame: int = 256) -> np.ndarray:
    """Drop leading/trailing audio quieter than `top_db` below the loudest frame."""
    return x[trim_span(x, top_db, frame)]


def trim_span(x: np.ndarray, top_db: float = 30.0, frame: int = 256) -> slice:
    """Where `trim` keeps float audio `x`."""
    if len(x) < frame:
        return slice(0, len(x))
    n = len(x) // frame
    energy = np.sqrt(np.mean(x[: n * frame].reshape(n, frame) ** 2, axis=1)) + 1e-10
    db = 20 * np.log10(energy / energy.max())
    loud = np.nonzero(db > -top_db)[0]
    if len(loud) == 0:
        return slice(0, 0)
    return slice(loud[0] * frame, (loud[-1] + 1) * frame)


def speed(x: np.ndarray, factor: float) -> np.ndarray:
    """Play faster (factor > 1) or slower: tempo, pitch and formants move together (VTL-like)."""
    up = 100
    down = int(round(up * factor))
    return resample_poly(x, up, down).astype(np.float32)


def room_impulse(rng: np.random.Generator, rt60: float) -> np.ndarray:
    """A synthetic room: direct path, a few early reflections, exponentially decaying tail."""
    n = int(rt60 * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    tail = rng.standard_normal(n) * np.exp(-6.9 * t / rt60) * rng.uniform(0.1, 0.5)
    ir = tail
    ir[0] = 1.0
    for _ in range(rng.integers(2, 7)):
        ir[rng.integers(int(0.002 * SAMPLE_RATE), max(int(0.03 * SAMPLE_RATE), 2))] += \
            rng.uniform(-0.6, 0.6)
    return (ir / np.sqrt(np.sum(ir * ir))).astype(np.float32)


def reverb(x: np.ndarray, rng: np.random.Generator, rt60_range: tuple[float, float]) -> np.ndarray:
    ir = room_impulse(rng, rng.uniform(*rt60_range))
    wet = fftconvolve(x, ir)[: len(x) + len(ir) // 4]
    return wet.astype(np.float32)


def bandlimit(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A cheap microphone/speaker: high-pass 60..400 Hz, low-pass 3..7.8 kHz."""
    lo = rng.uniform(60, 400)
    hi = rng.uniform(3000, 7800)
    sos = butter(2, [lo, hi], btype="band", fs=SAMPLE_RATE, output="sos")
    return sosfilt(sos, x).astype(np.float32)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0


def place(x: np.ndarray, length: int, rng: np.random.Generator, crop_random: bool) -> np.ndarray:
    """Fit `x` into `length` samples: a random crop if longer, a random offset if shorter."""
    out = np.zeros(length, dtype=np.float32)
    if len(x) >= length:
        start = rng.integers(0, len(x) - length + 1) if crop_random else (len(x) - length) // 2
        return x[start:start + length].astype(np.float32)
    offset = rng.integers(0, length - len(x) + 1)
    out[offset:offset + len(x)] = x
    return out


def noise_piece(noises: list[np.ndarray], n: int, rng: np.random.Generator) -> np.ndarray:
    src = noises[rng.integers(0, len(noises))]
    if len(src) < n:
        src = np.tile(src, n // len(src) + 1)
    start = rng.integers(0, len(src) - n + 1)
    return src[start:start + n]


def make_example(clip: np.ndarray, kind: str, rng: np.random.Generator,
                 noises: list[np.ndarray], s: AugmentSettings) -> np.ndarray:
    """One augmented example: `warmup_ms + clip_ms` of audio in [-1, 1].

    `kind`: "keyword" (whole clip must fit), "speech" (any 1.2 s of it), "silence",
    or "cropped" (the start of a keyword clip, ending at the window's end).
    """
    n_clip = s.clip_ms * SAMPLE_RATE // 1000
    n_warm = s.warmup_ms * SAMPLE_RATE // 1000
    speech = np.zeros(n_clip, dtype=np.float32)
    if kind != "silence":
        x = trim(clip)
        if len(x) and rng.random() < s.speed_p:
            x = speed(x, rng.uniform(*s.speed_range))
        if len(x) and rng.random() < s.reverb_p:
            x = reverb(x, rng, s.rt60_range)
        if kind == "cropped":
            keep = int(len(x) * rng.uniform(0.2, 0.5))
            if keep > 0.1 * SAMPLE_RATE:
                speech[-keep:] = x[:keep]
        elif len(x):
            speech = place(x, n_clip, rng, crop_random=(kind == "speech"))
        peak = float(np.max(np.abs(speech))) if len(speech) else 0.0
        if peak > 0:
            speech *= 10 ** (rng.uniform(*s.peak_dbfs_range) / 20) / peak
    audio = np.concatenate([np.zeros(n_warm, dtype=np.float32), speech])
    n = len(audio)
    # Microphone self-noise: always there, at a low absolute level.
    mic = rng.standard_normal(n).astype(np.float32)
    audio += mic * 10 ** (rng.uniform(*s.mic_noise_dbfs_range) / 20)
    if noises and rng.random() < s.ambient_p:
        amb = noise_piece(noises, n, rng)
        ref = rms(speech[speech != 0]) if kind != "silence" else 0.0
        if ref > 0:
            level = ref / 10 ** (rng.uniform(*s.snr_db_range) / 20)
        else:
            level = 10 ** (rng.uniform(-60.0, -25.0) / 20)
        audio += amb * (level / max(rms(amb), 1e-9))
    if rng.random() < s.gaussian_p:
        ref = max(rms(audio), 1e-6)
        audio += rng.standard_normal(n).astype(np.float32) * ref / 10 ** (
            rng.uniform(*s.gaussian_snr_db_range) / 20)
    if rng.random() < s.bandlimit_p:
        audio = bandlimit(audio, rng)
    return np.clip(audio, -1.0, 1.0).astype(np.float32)
