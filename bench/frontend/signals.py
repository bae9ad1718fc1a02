"""Varied int16 test audio for the frontend's bit-exactness checks (tests and bench).

Kinds: espeak-ng speech (several voices and speeds), white and brown noise, silence,
full-scale square waves, clipped speech, DC offsets, very quiet input, sweeps, impulses and
mixtures. Everything is generated from a seed, so a run can be repeated exactly.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path

import numpy as np

RATE = 16000
KINDS = ("speech", "noise", "brown", "silence", "square", "clipped", "dc", "quiet", "sweep",
         "impulses", "mixture")
PHRASES = ("alexa", "hey alexa what time is it", "turn the lights off please",
           "one two three four five six", "the quick brown fox jumps over the lazy dog",
           "alexander went to a lecture in alaska", "play some music", "stop")
VOICES = ("en", "en-us", "en-gb", "de", "fr", "es", "en+f3", "en+m4")


def have_espeak() -> bool:
    return shutil.which("espeak-ng") is not None


@cache
def espeak(text: str, voice: str = "en", speed: int = 160) -> np.ndarray:
    """int16 speech at 16 kHz from espeak-ng (which speaks at 22050 Hz)."""
    from scipy.signal import resample_poly

    with tempfile.TemporaryDirectory() as d:
        wav = Path(d) / "s.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), text],
                       check=True, capture_output=True)
        raw = wav.read_bytes()
    pcm = np.frombuffer(raw[44:], dtype="<i2").astype(np.float64)  # espeak writes 44-byte headers
    y = resample_poly(pcm, 320, 441)
    return np.clip(np.round(y), -32768, 32767).astype(np.int16)


def _fit(x: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """x placed at a random offset in n samples (zero-padded or cropped)."""
    out = np.zeros(n, dtype=np.float64)
    if x.size >= n:
        start = int(rng.integers(0, x.size - n + 1))
        out[:] = x[start:start + n]
    else:
        start = int(rng.integers(0, n - x.size + 1))
        out[start:start + x.size] = x
    return out


def _voice(n: int, rng: np.random.Generator, synthetic: bool = False) -> np.ndarray:
    if synthetic or not have_espeak():  # a voiced-like stand-in: harmonics, moving pitch
        t = np.arange(n) / RATE
        f0 = 120 + 40 * np.sin(2 * np.pi * 0.7 * t)
        phase = 2 * np.pi * np.cumsum(f0) / RATE
        return sum(np.sin(k * phase) / k for k in range(1, 20)) * 6000
    text = PHRASES[int(rng.integers(len(PHRASES)))]
    voice = VOICES[int(rng.integers(len(VOICES)))]
    speed = (120, 150, 175, 200, 230, 260)[int(rng.integers(6))]  # few speeds: cache hits
    return _fit(espeak(text, voice, speed).astype(np.float64), n, rng)


def make(kind: str, n: int, rng: np.random.Generator, synthetic: bool = False) -> np.ndarray:
    """One int16 clip of n samples of the given kind (synthetic: no espeak-ng, numpy only,
    so the result is the same on every machine)."""
    t = np.arange(n) / RATE

    def _speech(n: int, rng: np.random.Generator) -> np.ndarray:
        return _voice(n, rng, synthetic)

    if kind == "speech":
        x = _speech(n, rng) * rng.uniform(0.3, 3.0)
    elif kind == "noise":
        x = rng.standard_normal(n) * 10 ** rng.uniform(0.5, 4.3)
    elif kind == "brown":
        x = np.cumsum(rng.standard_normal(n))
        x = (x - x.mean()) / (x.std() + 1e-9) * 10 ** rng.uniform(1, 4)
    elif kind == "silence":
        x = np.zeros(n)
    elif kind == "square":
        f = rng.uniform(20, 7900)
        x = np.where(np.sin(2 * np.pi * f * t + rng.uniform(0, 6.3)) >= 0, 32767.0, -32768.0)
    elif kind == "clipped":
        x = _speech(n, rng) * rng.uniform(10, 60)
    elif kind == "dc":
        x = _speech(n, rng) * 0.5 + rng.choice([-1, 1]) * rng.uniform(1000, 30000)
    elif kind == "quiet":
        x = rng.standard_normal(n) * rng.uniform(0.2, 3) + _speech(n, rng) * 0.001
    elif kind == "sweep":
        f = np.geomspace(rng.uniform(20, 200), rng.uniform(2000, 8000), n)
        x = np.sin(2 * np.pi * np.cumsum(f) / RATE) * rng.uniform(100, 32767)
    elif kind == "impulses":
        x = np.zeros(n)
        x[rng.integers(0, n, size=int(rng.integers(1, 20)))] = rng.choice([-32768, 32767])
    elif kind == "mixture":
        x = (_speech(n, rng) + rng.standard_normal(n) * 10 ** rng.uniform(1, 3.5)
             + np.sin(2 * np.pi * rng.uniform(40, 400) * t) * rng.uniform(0, 3000))
    else:
        raise ValueError(f"unknown kind {kind}")
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def clips(n_clips: int, n_samples: int, seed: int, kinds=KINDS) -> np.ndarray:
    """[n_clips, n_samples] int16, kinds in turn."""
    rng = np.random.default_rng(seed)
    return np.stack([make(kinds[i % len(kinds)], n_samples, rng) for i in range(n_clips)])


def stream(seconds: float, seed: int) -> np.ndarray:
    """One long recording: segments of every kind (0.3-6 s each) one after the other."""
    rng = np.random.default_rng(seed)
    total = int(seconds * RATE)
    parts, have = [], 0
    while have < total:
        n = int(rng.integers(RATE * 3 // 10, RATE * 6))
        parts.append(make(KINDS[int(rng.integers(len(KINDS)))], n, rng))
        have += n
    return np.concatenate(parts)[:total]


if __name__ == "__main__":
    print(__doc__.strip() + "\n\n(a module of bench/frontend/run.py, not a bench itself: "
          "run .venv/bin/python bench/frontend/run.py --help)")
