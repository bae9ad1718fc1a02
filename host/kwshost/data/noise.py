"""Synthesized background noise: coloured noise, babble, hum, tones, clatter, fans.

Real recordings of rooms are what the seed used; we have none offline, so we make a variety of
stationary and non-stationary noises whose spectra cover what a microphone in a home hears.
Babble is built from speech clips (never the keyword) passed in by the caller.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, lfilter, sosfilt

SAMPLE_RATE = 16000
KINDS = ("white", "pink", "brown", "babble", "hum", "tones", "clatter", "fan", "music")


def _normalize(x: np.ndarray, rms: float = 0.1) -> np.ndarray:
    return (x * (rms / max(float(np.sqrt(np.mean(x * x))), 1e-9))).astype(np.float32)


def coloured(rng: np.random.Generator, n: int, exponent: float) -> np.ndarray:
    """Noise with power spectrum ~ 1/f^exponent (0 white, 1 pink, 2 brown)."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n)
    f[0] = f[1]
    return np.fft.irfft(spec / f ** (exponent / 2), n)


def hum(rng: np.random.Generator, n: int) -> np.ndarray:
    t = np.arange(n) / SAMPLE_RATE
    base = rng.choice((50.0, 60.0)) * rng.uniform(0.99, 1.01)
    x = sum(rng.uniform(0.1, 1.0) / k * np.sin(2 * np.pi * base * k * t + rng.uniform(0, 6.3))
            for k in range(1, 12))
    return x + 0.05 * coloured(rng, n, 1.0) / 10


def tones(rng: np.random.Generator, n: int) -> np.ndarray:
    """Beeps, chirps and whistles at random times."""
    x = np.zeros(n)
    for _ in range(rng.integers(3, 15)):
        length = int(rng.uniform(0.05, 0.8) * SAMPLE_RATE)
        start = rng.integers(0, max(1, n - length))
        t = np.arange(length) / SAMPLE_RATE
        f0, f1 = rng.uniform(200, 6000, size=2)
        phase = 2 * np.pi * (f0 * t + (f1 - f0) * t * t / (2 * t[-1] + 1e-9))
        env = np.minimum(1, np.minimum(t, t[::-1]) * 200)
        x[start:start + length] += rng.uniform(0.2, 1) * env * np.sin(phase)
    return x


def clatter(rng: np.random.Generator, n: int) -> np.ndarray:
    """Dishes, keys, footsteps: decaying filtered impulses."""
    x = np.zeros(n)
    for _ in range(rng.integers(5, 40)):
        length = int(rng.uniform(0.02, 0.3) * SAMPLE_RATE)
        start = rng.integers(0, max(1, n - length))
        burst = rng.standard_normal(length) * np.exp(-np.arange(length) / (length / 5))
        lo, hi = sorted(rng.uniform(100, 7500, size=2))
        sos = butter(2, [lo, max(hi, lo + 200)], btype="band", fs=SAMPLE_RATE, output="sos")
        x[start:start + length] += rng.uniform(0.1, 1) * sosfilt(sos, burst)
    return x


def fan(rng: np.random.Generator, n: int) -> np.ndarray:
    """Low-passed noise with a slow amplitude wobble (fans, air conditioning, traffic)."""
    cutoff = rng.uniform(300, 3000)
    b, a = butter(2, cutoff, fs=SAMPLE_RATE)
    x = lfilter(b, a, rng.standard_normal(n))
    t = np.arange(n) / SAMPLE_RATE
    return x * (1 + 0.3 * np.sin(2 * np.pi * rng.uniform(0.1, 3) * t))


def music(rng: np.random.Generator, n: int) -> np.ndarray:
    """Random chords of harmonic tones with note changes: a stand-in for music in the room."""
    x = np.zeros(n)
    pos = 0
    while pos < n:
        length = min(n - pos, int(rng.uniform(0.2, 1.0) * SAMPLE_RATE))
        t = np.arange(length) / SAMPLE_RATE
        for _ in range(rng.integers(1, 4)):
            f = 110 * 2 ** (rng.integers(0, 36) / 12)
            for k in range(1, 6):
                if f * k < 7500:
                    x[pos:pos + length] += np.sin(2 * np.pi * f * k * t) / k**1.5
        x[pos:pos + length] *= np.exp(-t * rng.uniform(0.5, 4))
        pos += length
    return x


def babble(rng: np.random.Generator, n: int, speech: list[np.ndarray]) -> np.ndarray:
    """Several talkers at once, each a chain of speech clips at random offsets."""
    x = np.zeros(n)
    if not speech:
        return coloured(rng, n, 1.0)
    for _ in range(rng.integers(3, 8)):
        pos = int(rng.integers(0, SAMPLE_RATE))
        gain = rng.uniform(0.3, 1.0)
        while pos < n:
            clip = speech[rng.integers(0, len(speech))]
            clip = clip[: n - pos]
            x[pos:pos + len(clip)] += gain * clip / (np.max(np.abs(clip)) + 1e-9)
            pos += len(clip) + int(rng.uniform(0.0, 0.3) * SAMPLE_RATE)
    return x


def make_noise(kind: str, rng: np.random.Generator, seconds: float,
               speech: list[np.ndarray] | None = None) -> np.ndarray:
    n = int(seconds * SAMPLE_RATE)
    if kind in ("white", "pink", "brown"):
        x = coloured(rng, n, {"white": 0.0, "pink": 1.0, "brown": 2.0}[kind])
    elif kind == "babble":
        x = babble(rng, n, speech or [])
    else:
        x = {"hum": hum, "tones": tones, "clatter": clatter, "fan": fan, "music": music}[kind](
            rng, n)
    return _normalize(np.asarray(x, dtype=np.float64))
