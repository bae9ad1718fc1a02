"""Reading audio for the frontend: any WAV (or FLAC/OGG/AIFF/MP3 that libsndfile reads) to
int16 mono at the model's sample rate, with clear errors for files that cannot be used."""

from __future__ import annotations

import logging
import math
import struct
from pathlib import Path

import numpy as np

from kwshost.errors import AudioError

log = logging.getLogger(__name__)


def _to_int16(x: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1) to int16, rounding and saturating (no wrap-around)."""
    return np.clip(np.round(x * 32768.0), -32768, 32767).astype(np.int16)


def _check_wav_length(path: Path) -> None:
    """A WAV whose data chunk claims more bytes than the file holds was cut short."""
    try:
        with path.open("rb") as f:
            head = f.read(12)
            if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return
            while True:
                chunk = f.read(8)
                if len(chunk) < 8:
                    return
                cid, size = struct.unpack("<4sI", chunk)
                if cid == b"data":
                    have = path.stat().st_size - f.tell()
                    if size != 0xFFFFFFFF and size > have:
                        raise AudioError(f"{path}: truncated WAV: the header announces "
                                         f"{size} bytes of audio, the file holds {have}",
                                         hint="the recording was cut short; re-export it")
                    after = f.read(4)
                    if size == 0 and have > 0 and not (len(after) == 4 and after.isalnum()):
                        # audio follows, not another chunk: a recorder stopped before it
                        # wrote the size
                        raise AudioError(f"{path}: unfinished WAV: the header announces 0 "
                                         f"bytes of audio, {have} bytes follow it",
                                         hint="the recording was not closed properly; "
                                              "re-export it")
                    return
                f.seek(size + (size & 1), 1)
    except OSError:
        return


def _check_float_samples(path: Path, data: np.ndarray) -> None:
    """Float samples must be finite (NaN has no int16 value: it would become garbage, not an
    error); samples beyond full scale are clipped, with a warning."""
    bad = int(np.count_nonzero(~np.isfinite(data)))
    if bad:
        raise AudioError(f"{path}: {bad} of {data.size} samples are NaN or infinite",
                         hint="the file is damaged or was written from a broken float signal")
    loud = int(np.count_nonzero(np.abs(data) > 1.0))
    if loud:
        log.warning("%s: %d of %d samples are beyond full scale (|x| > 1.0): clipped",
                    path, loud, data.size)


# What libsndfile reads: the soundfile wheels (0.12 and later) bundle libsndfile 1.2, which
# reads MP3 and Opus as well as AIFF and CAF (a Mac's and an iPhone's recorders) and FLAC/OGG.
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".opus", ".aif", ".aiff", ".caf", ".mp3")
MIN_SAMPLE_RATE_HZ = 1000  # below it a "recording" holds no speech: a damaged header


def is_resource_fork(path: Path) -> bool:
    """A Mac's ._NAME beside NAME (AppleDouble: the Finder's metadata, written next to every
    file copied to a FAT/exFAT stick or a network share), not audio whatever its suffix."""
    return path.name.startswith("._")


def is_audio_file(path: Path) -> bool:
    """A file named as a recording libsndfile reads (AUDIO_SUFFIXES, any case)."""
    return path.suffix.lower() in AUDIO_SUFFIXES and not is_resource_fork(path)


def audio_files(folder: Path) -> list[Path]:
    """The audio files of a folder of recordings, sorted: .wav (any case, as recorders on
    Windows write .WAV) and the other AUDIO_SUFFIXES, which libsndfile reads too; a Mac's
    ._NAME resource forks beside them are not recordings."""
    if not folder.is_dir():
        return []
    return sorted(f for f in folder.iterdir() if f.is_file() and is_audio_file(f))


def read_wavs(paths: list[Path], sample_rate: int = 16000, progress=None,
              what: str = "recordings") -> list[np.ndarray]:
    """`read_wav` of many files, with one notice for all the conversions instead of one per
    file (a folder of 44.1 kHz stereo recordings would print two lines for each)."""
    notes: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            notes.append(record.getMessage())

    handler, propagate = Collect(logging.WARNING), log.propagate
    log.addHandler(handler)
    log.propagate = False
    task = progress.add_task(what, total=len(paths)) if progress else None
    try:
        out = []
        for path in paths:
            out.append(read_wav(path, sample_rate))
            if progress:
                progress.advance(task)
    finally:
        log.removeHandler(handler)
        log.propagate = propagate
    if notes:
        changed = len({n.split(": ", 1)[0] for n in notes})
        log.warning("%d of %d %s converted (mixed down, resampled or clipped), e.g. %s",
                    changed, len(paths), what, notes[0])
    return out


def read_wav(path: str | Path, sample_rate: int = 16000) -> np.ndarray:
    """int16 mono samples of an audio file at `sample_rate`.

    Several channels are averaged and other rates resampled (polyphase, scipy), each with a
    warning in the log. Raises AudioError for a missing, unreadable, truncated or empty file.
    """
    import soundfile as sf

    if sample_rate <= 0:
        raise AudioError(f"cannot convert audio to {sample_rate} Hz")
    p = Path(path)
    if not p.exists():
        raise AudioError(f"{p}: no such file")
    if p.is_dir():
        raise AudioError(f"{p} is a folder, not an audio file")
    if p.stat().st_size == 0:
        raise AudioError(f"{p} is empty (0 bytes)")
    try:
        info = sf.info(str(p))
        if info.subtype == "PCM_16":
            data, rate = sf.read(str(p), dtype="int16", always_2d=True)
        else:
            data, rate = sf.read(str(p), dtype="float64", always_2d=True)
    except (RuntimeError, sf.LibsndfileError, ValueError) as e:
        raise AudioError(f"{p}: not a readable audio file ({e})",
                         hint="give a WAV file (16-bit PCM, mono, 16 kHz is what the model "
                              "uses; other formats are converted)") from e
    if info.format in ("WAV", "WAVEX"):
        _check_wav_length(p)
    if data.shape[0] == 0:
        raise AudioError(f"{p}: the file holds no audio samples")
    if rate < MIN_SAMPLE_RATE_HZ:
        # Resampling 200,000 samples "at 1 Hz" to 16 kHz would need gigabytes (MemoryError).
        raise AudioError(f"{p}: its header gives a sample rate of {rate} Hz, too low for "
                         f"audio (at least {MIN_SAMPLE_RATE_HZ} Hz)",
                         hint="the header is damaged, or the file is not a recording")
    if data.dtype != np.int16:
        _check_float_samples(p, data)
    if data.shape[1] > 1:
        log.warning("%s: %d channels mixed down to mono", p, data.shape[1])
        mono = data.astype(np.float64).mean(axis=1)
        data = mono / 32768.0 if data.dtype == np.int16 else mono
    else:
        data = data[:, 0]
    if rate != sample_rate:
        from scipy.signal import resample_poly

        log.warning("%s: resampled from %d Hz to %d Hz", p, rate, sample_rate)
        g = math.gcd(int(rate), int(sample_rate))
        x = data.astype(np.float64) / (32768.0 if data.dtype == np.int16 else 1.0)
        data = resample_poly(x, sample_rate // g, int(rate) // g)
    if data.dtype != np.int16:
        data = _to_int16(np.asarray(data, dtype=np.float64))
    return np.ascontiguousarray(data)


def write_wav(path: str | Path, samples: np.ndarray, sample_rate: int = 16000) -> None:
    """Writes int16 mono samples as a 16-bit PCM WAV."""
    import soundfile as sf

    sf.write(str(path), np.asarray(samples, dtype=np.int16), sample_rate, subtype="PCM_16")
