"""Piper voices the user brings: neural (VITS) speakers, one speaker group each.

Every model this project measured misses the held-out US English voices most, and
microWakeWord's "alexa", trained on many piper speakers, finds them (docs/training.md, session
20): what our data lacks is neural English speech of many speakers. No piper voice but the
held-out `joe` ships inside a package, so this engine speaks with the voices a user
downloaded: piper's `NAME.onnx` beside its `NAME.onnx.json` (e.g. en_US-libritts_r-medium,
904 speakers, from huggingface.co/rhasspy/piper-voices), named with `--piper-voices`.
A multi-speaker model gives one voice per speaker ("NAME-s12"). The PyPI package piper-tts
turns text into phonemes and runs the model; each utterance gets its own speaking rate and
VITS noise scales. Output is deterministic: a batch's random draws come from a session seeded
by what the batch says.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kwshost.errors import KwsError

# Voices reserved for evaluation (bench/detect), by the config's "dataset" name.
HELDOUT_DATASETS = ("joe",)
INSTALL_HINT = "install piper-tts: .venv/bin/pip install 'piper-tts>=1.3,<2'"
DOWNLOAD_HINT = ("download voices (NAME.onnx and NAME.onnx.json) from "
                 "huggingface.co/rhasspy/piper-voices, e.g. en_US-libritts_r-medium, and name "
                 "their folder: --piper-voices DIR")


@dataclass(frozen=True)
class PiperModel:
    path: Path           # NAME.onnx; its config is NAME.onnx.json
    name: str            # NAME
    speakers: int

    def voices(self) -> list[tuple[str, dict]]:
        """(voice name, what a worker needs to speak as it: the model file and the speaker
        id) for each speaker: "NAME", or "NAME-s12" in a multi-speaker model."""
        if self.speakers <= 1:
            return [(self.name, {"model": str(self.path), "speaker": None})]
        return [(f"{self.name}-s{i}", {"model": str(self.path), "speaker": i})
                for i in range(self.speakers)]


def config_path(model: Path) -> Path:
    return model.with_name(model.name + ".json")


def read_model(path: Path) -> PiperModel:
    """A voice's settings from its config, or a KwsError naming what is wrong with it."""
    cfg_path = config_path(path)
    if not cfg_path.is_file():
        raise KwsError(f"{path}: its config {cfg_path.name} is missing (piper needs both)",
                       hint=DOWNLOAD_HINT)
    try:
        cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
        rate = int(cfg["audio"]["sample_rate"])
        speakers = int(cfg.get("num_speakers", 1))
        if rate < 8000 or speakers < 1 or not isinstance(cfg.get("phoneme_id_map"), dict):
            raise ValueError("sample rate, speakers or phoneme map out of range")
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as e:
        raise KwsError(f"{cfg_path}: not a piper voice config ({type(e).__name__}: {e})",
                       hint=DOWNLOAD_HINT) from None
    if cfg.get("dataset") in HELDOUT_DATASETS:
        raise KwsError(f"{path}: piper's {cfg['dataset']!r} voice is held out for evaluation "
                       "(bench/detect measures unheard voices with it): it is never trained on",
                       hint="name other piper voices")
    return PiperModel(path.resolve(), path.name.removesuffix(".onnx"), speakers)


def find_models(paths: tuple[Path, ...]) -> list[PiperModel]:
    """The voices in `paths` (model files, or folders of them), each read and checked."""
    models: list[PiperModel] = []
    for p in paths:
        if p.is_dir():
            found = sorted(p.glob("*.onnx"))
            if not found:
                raise KwsError(f"{p}: no piper voice (*.onnx) in this folder", hint=DOWNLOAD_HINT)
            models += [read_model(f) for f in found]
        elif p.is_file():
            models.append(read_model(p))
        else:
            raise KwsError(f"{p}: no such file or folder", hint=DOWNLOAD_HINT)
    names = [m.name for m in models]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:   # a voice's name is its speaker group: two files of one name would merge them
        raise KwsError(f"two piper voices are named {twice[0]}", hint="name each once")
    return models


def _voice(model: str, seed: int):
    """A piper voice on a fresh single-threaded session whose random draws start at `seed`
    (an onnxruntime session takes its seed when it is made)."""
    try:
        import onnxruntime as ort
        from piper import PiperVoice
        from piper.config import PiperConfig
    except ImportError as e:
        raise RuntimeError(f"piper-tts is not installed ({e}); {INSTALL_HINT}") from None
    ort.set_seed(seed)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1     # dataset workers run one process per core
    opts.inter_op_num_threads = 1
    cfg = json.loads(config_path(Path(model)).read_text(encoding="utf-8"))
    try:
        session = ort.InferenceSession(model, sess_options=opts,
                                       providers=["CPUExecutionProvider"])
    except Exception as e:   # onnxruntime's own errors are not RuntimeErrors
        raise RuntimeError(f"onnxruntime cannot load {model}: {e}") from None
    return PiperVoice(config=PiperConfig.from_dict(cfg), session=session)


def speak_batch(items: list[tuple[str, dict]]) -> list[tuple[np.ndarray, int]]:
    """(float32 audio, sample rate) of each (text, prosody) of one voice."""
    from piper.config import SynthesisConfig

    text, p = items[0]   # the seed: what is said and how, not where the voice is stored
    said = json.dumps([text, {**p, "model": Path(p["model"]).name}], sort_keys=True).encode()
    voice = _voice(p["model"], int.from_bytes(hashlib.sha256(said).digest()[:4], "little"))
    out = []
    for text, p in items:
        syn = SynthesisConfig(speaker_id=p["speaker"], length_scale=p["length_scale"],
                              noise_scale=p["noise_scale"], noise_w_scale=p["noise_w"],
                              normalize_audio=False)
        chunks = list(voice.synthesize(text, syn))
        if not chunks:
            raise RuntimeError(f"piper said nothing for {text!r}")
        out.append((np.concatenate([c.audio_float_array for c in chunks]).astype(np.float32),
                    chunks[0].sample_rate))
    return out
