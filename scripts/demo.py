"""The demo behind scripts/demo: the wake-word firmware on the emulated board, driven by kwshost.

It speaks a few sentences with espeak-ng (three of them "alexa"), starts the emulated board with
`kwshost flash --target qemu` and the bundled model, and then runs, as a user would:

    kwshost info    --port URL
    kwshost listen  --device --port URL --wav demo.wav     (the firmware on the Cortex-M33)
    kwshost listen  --pc --wav demo.wav                     (the same C code on this PC)
    kwshost profile --device --port URL                     (per-layer cost on the firmware)
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEMO_DIR = REPO / "build" / "demo"
PHRASES = ["alexa", "what time is it", "alexa", "turn on the kitchen lights", "alexa"]


def speak(text: str) -> np.ndarray:
    import soundfile as sf
    from scipy.signal import resample_poly

    with tempfile.NamedTemporaryFile(suffix=".wav") as f:
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", f.name, text],
                       check=True, capture_output=True)
        data, rate = sf.read(f.name, dtype="float32")
    return resample_poly(data, 16000, rate)


def make_wav(path: Path) -> Path:
    import numpy as np
    import soundfile as sf

    parts = [np.zeros(16000, dtype=np.float32)]
    for text in PHRASES:
        parts += [speak(text), np.zeros(14400, dtype=np.float32)]
    x = np.concatenate(parts)
    x = (x / float(np.abs(x).max()) * 0.5 * 32767).astype(np.int16)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), x, 16000, subtype="PCM_16")
    return path


def kwshost(*args: str) -> int:
    print(f"\n$ kwshost {shlex.join(args)}", flush=True)
    return subprocess.call([sys.executable, "-m", "kwshost", *args], cwd=REPO)


def main() -> int:
    parser = argparse.ArgumentParser(prog="scripts/demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=None,
                        help="a .tflite with MLTK metadata (default: the bundled model)")
    args = parser.parse_args()
    if args.model is not None and not args.model.is_file():
        parser.error(f"--model {args.model}: no such file")
    if os.environ.get("KWS_DEMO_ARGS_ONLY"):  # scripts/demo checks the arguments before set-up
        return 0
    from kwshost.paths import DEFAULT_MODEL

    model = args.model.resolve() if args.model else DEFAULT_MODEL
    wav = make_wav(DEMO_DIR / "demo.wav")
    print(f"== demo audio: {wav.relative_to(REPO)} ({', '.join(repr(p) for p in PHRASES)})")
    print(f"== model: {model.relative_to(REPO) if model.is_relative_to(REPO) else model}")
    print(f"\n$ kwshost flash --target qemu --model {shlex.quote(model.name)}", flush=True)
    board = subprocess.Popen([sys.executable, "-m", "kwshost", "flash", "--target", "qemu",
                              "--model", str(model)], cwd=REPO, stdout=subprocess.PIPE,
                             text=True)
    try:
        url = ""
        assert board.stdout is not None
        for line in board.stdout:
            print(line, end="", flush=True)
            if line.startswith("socket://"):
                url = line.strip()
                break
        if not url:
            print("demo: the emulated board did not start", file=sys.stderr)
            return 1
        failures = 0
        failures += kwshost("info", "--port", url, "--timeout", "10") != 0
        failures += kwshost("listen", "--device", "--port", url, "--wav", str(wav)) != 0
        failures += kwshost("listen", "--pc", "--model", str(model), "--wav", str(wav)) != 0
        failures += kwshost("profile", "--device", "--port", url, "--model", str(model)) != 0
    finally:
        board.terminate()
        board.wait(timeout=10)
    print("\n== demo finished" + (f" with {failures} failed step(s)" if failures else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except KeyboardInterrupt:  # Ctrl-C: the board is stopped (main's finally), no traceback
        print("\ndemo: interrupted", file=sys.stderr)
        raise SystemExit(130) from None
