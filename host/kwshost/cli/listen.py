"""kwshost listen: run the wake-word detector on a WAV or a microphone, on the PC or a device."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

import numpy as np

from kwshost.cli._args import add_board_or_pc, on_board, seconds
from kwshost.errors import AudioError, KwsError
from kwshost.events import Event
from kwshost.paths import DEFAULT_MODEL

NAME = "listen"
HELP = "run the wake-word detector on a WAV or microphone, on the PC or on a device"
DESCRIPTION = """\
Runs the always-on pipeline (frontend every 10 ms, model every latency_ms, MLTK's smoothing
and suppression detector) and prints each detection as it happens:

  Detected class=0 label=alexa score=230 @1400ms

--pc runs the firmware's own C code on this computer (through the native binding);
--device streams the audio to a board running kwshost firmware (or uses the board's
microphone with --mic) and prints the events the board sends. Same WAV, same model: both
print the same detections with the same scores. Times are ms of audio from the start.

--verbose adds every inference's raw scores (0..255 per class) and the averaged top score;
--json prints one JSON object per event instead (type, time_ms, class_index, label, score).
Streaming to a device uses flow control, so every sample is processed exactly once however
fast the link is; problems on the link (retransmissions, a device reset) are reported at
the end (in --json as an event of type "link").

The model's settings (frontend, latency, threshold, suppression) come from its metadata.
For --device the model is the one flashed on the board (kwshost flash --model M).

examples:
  kwshost listen --pc --wav speech.wav
  kwshost listen --pc --wav speech.wav --model models/my_model.tflite --verbose
  kwshost listen --device --port socket://127.0.0.1:4321 --wav speech.wav --json
  kwshost listen --device --port /dev/ttyACM0 --mic
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_board_or_pc(parser, "run", "run")
    src = parser.add_mutually_exclusive_group()
    src.add_argument("--wav", metavar="FILE", type=Path,
                     help="a WAV (or FLAC/OGG/Opus/AIFF/CAF/MP3) to listen to; other sample "
                          "rates and channel counts are converted, with a notice")
    src.add_argument("--mic", action="store_true", help="listen to a microphone until Ctrl-C")
    parser.add_argument("--model", metavar="M", type=Path, default=None,
                        help=f"a .tflite with MLTK metadata (default: {DEFAULT_MODEL.name}); "
                             "with --device, checked against the model the board runs")
    parser.add_argument("--accelerator", choices=("none", "mvp"), default="none",
                        help="--pc: reference kernels (as the emulated board) or the MVP "
                             "kernels on the MVP simulator (as the BRD2601B); default none")
    parser.add_argument("--verbose", action="store_true", help="print every inference's scores")
    parser.add_argument("--json", action="store_true", help="one JSON object per event")
    parser.add_argument("--timeout", type=seconds, default=5.0, metavar="S",
                        help="seconds to wait for the device to answer (default %(default)s)")


def read_wav(path: Path, sample_rate: int) -> np.ndarray:
    """int16 mono samples at `sample_rate` (kwshost.audio: other rates and channel counts are
    converted with a warning; AudioError names a missing or unreadable file)."""
    from kwshost.audio import read_wav as read

    return np.asarray(read(path, sample_rate), dtype=np.int16)


class Printer:
    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.labels: tuple[str, ...] = ()
        self.detections = 0

    def __call__(self, event: Event) -> None:
        if event.type == "detection":
            self.detections += 1
        stream = sys.stderr if event.type in ("link", "log") and not self.as_json else sys.stdout
        print(event.to_json() if self.as_json else event.format(self.labels), file=stream,
              flush=True)


def run(args: argparse.Namespace) -> int:
    if not args.wav and not args.mic:
        raise KwsError("nothing to listen to", hint="give --wav FILE or --mic")
    board = on_board(args, accelerator_chosen=args.accelerator != "none")
    printer = Printer(args.json)
    if board:
        return _run_device(args, printer)
    return _run_pc(args, printer)


def _run_pc(args: argparse.Namespace, printer: Printer) -> int:
    from kwshost.pipeline import PcPipeline

    pipe = PcPipeline.from_model(args.model or DEFAULT_MODEL, args.accelerator)
    printer.labels = pipe.labels
    if args.mic:
        return _pc_microphone(pipe, args, printer)
    samples = read_wav(args.wav, pipe.sample_rate)
    inferences = 0
    for inference in pipe.process(samples):
        inferences += 1
        for event in inference.events(pipe.labels, args.verbose):
            printer(event)
    if not args.json:  # so that no detection reads as a result, not as a silent failure
        seconds = samples.size / pipe.sample_rate
        print(f"{printer.detections} detection(s) in {seconds:.2f} s of audio ({inferences} "
              f"inferences{_too_short(seconds, pipe.first_inference_ms)})", file=sys.stderr)
    return 0


def _too_short(seconds: float, first_ms: int) -> str:
    """Why a recording got no inference (so no detection could happen), where that is why:
    "0 inferences" alone reads as a model or pipeline that does not work."""
    if first_ms <= 0 or seconds * 1000 >= first_ms:
        return ""
    return (f": the recording ({seconds:.2f} s) ends before the first inference at "
            f"{first_ms / 1000:.2f} s")


def _pc_microphone(pipe, args: argparse.Namespace, printer: Printer) -> int:
    try:
        import sounddevice
    except ImportError as e:
        raise AudioError("microphone input needs the `sounddevice` package, which is not "
                         "installed", hint="pip install sounddevice (and a sound card), or "
                                           "use --wav FILE") from e
    try:
        sounddevice.check_input_settings(samplerate=pipe.sample_rate, channels=1, dtype="int16")
    except Exception as e:  # PortAudio raises several types; all mean "no usable input"
        raise AudioError(f"no usable microphone on this computer: {e}",
                         hint="plug in a sound card or use --wav FILE") from e
    print(f"listening at {pipe.sample_rate} Hz; Ctrl-C to stop", file=sys.stderr)
    with sounddevice.InputStream(samplerate=pipe.sample_rate, channels=1, dtype="int16",
                                 blocksize=pipe.sample_rate // 10) as stream:
        while True:
            block, _overflow = stream.read(pipe.sample_rate // 10)
            for inference in pipe.process(pipe.scale_microphone(block[:, 0])):
                for event in inference.events(pipe.labels, args.verbose):
                    printer(event)


def _check_device_model(model: Path, labels: tuple[str, ...], threshold: int,
                        url: str) -> None:
    """The board reports its model's classes and threshold; they must be --model's."""
    from kwshost.link import flash_command
    from kwshost.metadata import read_params

    params = read_params(model)
    want = tuple(str(c) for c in params.get("classes", ()))  # type: ignore[union-attr]
    want_threshold = int(params.get("detection_threshold", threshold))  # type: ignore[arg-type]
    if want != labels or want_threshold != threshold:
        raise KwsError(f"the board runs another model (classes {', '.join(labels)}, threshold "
                       f"{threshold}) than {model.name} (classes {', '.join(want)}, threshold "
                       f"{want_threshold})",
                       hint=f"flash it: {flash_command(url, model)}")


@contextlib.contextmanager
def _stream_progress(args: argparse.Namespace, seconds: float):
    """A progress bar on a terminal's stderr while a WAV streams to the board (QEMU runs at
    about real time: a long file would otherwise sit silent for minutes); none for --json
    (progress_bar draws nothing where stderr is not a terminal)."""
    if args.json:
        yield None
        return
    from kwshost.cli._progress import progress_bar

    with progress_bar(transient=True) as progress:
        task = progress.add_task(f"streaming {seconds:.1f} s", total=1.0)
        yield lambda done, total: progress.update(task, completed=done / total)


def _run_device(args: argparse.Namespace, printer: Printer) -> int:
    from kwshost.device import DeviceStream
    from kwshost.link import Link

    if not args.port:
        raise KwsError("--device needs --port", hint="kwshost listen --device --port /dev/ttyACM0 "
                                                     "(or the URL `kwshost flash --target qemu` "
                                                     "prints)")
    with Link(args.port, connect_timeout=args.timeout) as link:
        hello = link.hello(timeout=args.timeout)
        hello.check_protocol(args.port)
        session = DeviceStream(link, printer, verbose=args.verbose)
        info = session.start(timeout=args.timeout)
        printer.labels = info.labels
        if args.model is not None:
            _check_device_model(args.model, info.labels, info.threshold, args.port)
            hello.check_model(args.port, args.model)
        if args.mic:
            session.listen_microphone()
            return 0
        samples = read_wav(args.wav, info.sample_rate)
        with _stream_progress(args, len(samples) / info.sample_rate) as on_progress:
            report = session.stream(samples, on_progress=on_progress)
    if args.json:
        print(Event("link", text=report.summary()).to_json(), flush=True)
    else:   # as --pc says it: no detection reads as a result, not as a silent failure
        # the board infers every latency_ms from its first boundary on, as the PC pipeline
        seconds = samples.size / info.sample_rate
        short = _too_short(seconds, info.latency_ms)
        print(f"{printer.detections} detection(s) in {seconds:.2f} s of audio"
              + (f" (no inference{short})" if short else ""), file=sys.stderr)
        print(report.summary(), file=sys.stderr)
    return 0
