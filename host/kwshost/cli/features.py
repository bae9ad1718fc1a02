"""kwshost features: the spectrogram a model sees, computed by the firmware's own frontend."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

from kwshost.errors import KwsError

NAME = "features"
HELP = "compute the int8 spectrogram a model sees from a WAV file"
DESCRIPTION = """\
Runs a WAV file through the audio frontend (the same C code as the firmware, bit-exact with
MLTK's AudioFeatureGenerator) and saves the result as a NumPy .npy file.

Settings come from the model's metadata (its fe.* entries) with --model, else the seed
model's (16 kHz, 30 ms windows every 10 ms, 108 channels, 1.2 s per model input).
Other sample rates and channel counts are resampled / mixed down, with a notice.

Clip mode (default): the model input of one clip, int8 [rows, channels] (118 x 108 for the
seed): the WAV is cut or zero-padded to the model's sample length (fe.sample_length_ms),
run from a fresh frontend, and quantized over the whole window as the device does.
  --warmup MS  prepends MS of silence, as the seed's training script pads its clips (1000),
               quantizes the padded spectrogram as a whole and keeps the clip's own rows.
               (The seed mixes background noise into the padding, which warms the noise
               reduction up; kwshost.frontend.spectrogram(clip, warmup=audio) takes that.)

Stream mode (--stream): the rows a device computes over the whole recording, without
resets and without a length limit: uint16 [rows, channels], one row per window step. The
device quantizes each model window of the latest rows itself (kwshost.frontend.quantize).

examples:
  kwshost features clip.wav -o clip.npy
  kwshost features clip.wav --model my_model.tflite --warmup 1000 -o clip.npy
  kwshost features long_recording.wav --stream -o rows.npy
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", metavar="IN.wav",
                        help="audio file (WAV; FLAC/OGG/Opus/AIFF/CAF/MP3 also read)")
    parser.add_argument("-o", "--output", metavar="OUT.npy", required=True,
                        help="where to save the features (.npy)")
    parser.add_argument("--model", "-m", metavar="M.tflite",
                        help="take the frontend settings from this model's metadata")
    parser.add_argument("--stream", action="store_true",
                        help="all rows of the whole recording (uint16), as a device streams")
    parser.add_argument("--warmup", type=int, default=0, metavar="MS",
                        help="clip mode: ms of silence prepended, as the seed's training pads "
                             "(1000); default 0")
    parser.add_argument("--dtype", choices=("int8", "uint16"), default=None,
                        help="clip mode: int8 model input (default) or the raw uint16 rows")


MAX_WARMUP_MS = 60_000


def check_output(path: str | Path, *inputs: str | Path | None) -> None:
    """Fails before any work when -o names a folder, a file in a folder that is not there, or
    one of the command's `inputs` (which writing the result would destroy)."""
    p = Path(path)
    if p.is_dir():
        raise KwsError(f"cannot write {p}: it is a folder", hint="give a file path for -o")
    if not p.parent.is_dir():
        raise KwsError(f"cannot write {p}: no folder {p.parent}", hint="give a file path "
                       "for -o in an existing folder")
    for source in inputs:
        try:
            same = source is not None and p.exists() and p.samefile(source)
        except OSError:  # an input that is not there: the command names it itself
            same = False
        if same:
            raise KwsError(f"cannot write {p}: it is the input {source}, which would be lost",
                           hint="give another file path for -o")


def save_npy(path: str | Path, array: np.ndarray) -> None:
    """Writes `array` to exactly `path` (np.save would add .npy to a name without it, and the
    message would name a file that does not exist); a path that cannot be written is a
    KwsError, not a traceback."""
    _write(path, lambda f: np.save(f, array))


def save_npz(path: str | Path, arrays: dict[str, np.ndarray]) -> None:
    """Writes named arrays to exactly `path` as an .npz, with save_npy's errors."""
    _write(path, lambda f: np.savez(f, **arrays))


def _write(path: str | Path, write) -> None:
    try:
        with open(path, "wb") as f:
            write(f)
    except OSError as e:
        raise KwsError(f"cannot write {path}: {e.strerror}",
                       hint="give a writable file path for -o") from None


def load_settings(model: str | None):
    """FrontendSettings of a model file (its fe.* metadata), or the seed's."""
    from kwshost.frontend import FrontendSettings

    if not model:
        return FrontendSettings()
    from kwshost.metadata import read_params  # lazily: only --model needs it

    path = Path(model)
    params = read_params(path)  # names a missing model as every command does (model_file)
    if not any(k.startswith("fe.") for k in params):
        raise KwsError(f"{path} has no fe.* settings in its metadata",
                       hint="train or convert it with kwshost, or leave --model out for the "
                            "seed's settings")
    for key, value in params.items():  # NaN would reach the frontend's integer conversions
        if key.startswith("fe.") and isinstance(value, float) and not math.isfinite(value):
            raise KwsError(f"{path}: model setting {key} = {value} is not a finite number",
                           hint="the firmware refuses this model too; fix its metadata")
    settings = FrontendSettings.from_params(params)
    # The firmware's frontend checks the settings when it opens (rates, window, FFT, bands):
    # do that first, so that settings it refuses are named, not met as a numpy error later.
    from kwshost.frontend import Frontend

    Frontend(settings).close()
    return settings


def run(args: argparse.Namespace) -> int:
    from kwshost import frontend
    from kwshost.audio import read_wav

    check_output(args.output, args.input, args.model)
    if not 0 <= args.warmup <= MAX_WARMUP_MS:
        raise KwsError(f"--warmup is 0 to {MAX_WARMUP_MS} milliseconds, not {args.warmup}",
                       hint="the seed's training pads 1000 ms; the frontend's noise estimate "
                            "settles within seconds")
    settings = load_settings(args.model)
    audio = read_wav(args.input, settings.sample_rate_hz)
    seconds = audio.size / settings.sample_rate_hz
    if args.stream:
        if args.warmup or args.dtype == "int8":
            raise KwsError("--warmup and --dtype int8 apply to clip mode, not --stream",
                           hint="--stream writes the uint16 rows of the whole recording")
        with frontend.Frontend(settings) as fe:
            step = settings.sample_rate_hz * 10  # 10 s chunks keep memory flat
            parts = [fe.process(audio[i:i + step]) for i in range(0, audio.size, step)]
        out = (np.concatenate(parts) if parts
               else np.zeros((0, settings.filterbank_n_channels), np.uint16))
    else:
        length = settings.sample_length
        if audio.size > length:
            print(f"note: {args.input} lasts {seconds:.2f} s; the model input covers "
                  f"{length / settings.sample_rate_hz:.2f} s: used the start "
                  f"(--stream processes all of it)", file=sys.stderr)
        elif audio.size < length:
            print(f"note: {args.input} lasts {seconds:.2f} s; the model input covers "
                  f"{length / settings.sample_rate_hz:.2f} s: padded with silence",
                  file=sys.stderr)
        clip = np.zeros(length, dtype=np.int16)
        clip[:min(length, audio.size)] = audio[:length]
        if args.dtype == "uint16":
            if args.warmup:
                pad = np.zeros(settings.sample_rate_hz * args.warmup // 1000, np.int16)
                out = frontend.rows(np.concatenate([pad, clip]), settings)
                out = out[out.shape[0] - settings.n_rows(length):]
            else:
                out = frontend.rows(clip, settings)
        else:
            out = frontend.spectrogram(clip, settings, warmup=args.warmup)
    save_npy(args.output, out)
    print(f"{args.output}: {out.dtype} {list(out.shape)} from {args.input} ({seconds:.2f} s)")
    return 0
