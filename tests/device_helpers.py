"""Shared by the device tests: a spoken test WAV, the QEMU firmware and a booted board,
and a fake device on a TCP port."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from kwshost import protocol

REPO = Path(__file__).resolve().parents[1]
ALEXA = REPO / "models" / "mltk_keyword_spotting_alexa.tflite"


def say(text: str, speed: int = 150) -> np.ndarray:
    import soundfile as sf
    from scipy.signal import resample_poly

    with tempfile.NamedTemporaryFile(suffix=".wav") as f:
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", str(speed), "-w", f.name, text],
                       check=True, capture_output=True)
        data, rate = sf.read(f.name, dtype="float32")
    return resample_poly(data, 16000, rate)


def spoken_wav(path: Path, phrases: list[str], gap_s: float = 1.0) -> Path:
    """Speech with silence around each phrase (the detector suppresses the first 900 ms)."""
    import soundfile as sf

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (./scripts/bootstrap)")
    parts = [np.zeros(16000)]
    for text in phrases:
        parts += [say(text), np.zeros(int(16000 * gap_s))]
    x = np.concatenate(parts)
    x = (x / max(1e-9, float(np.abs(x).max())) * 0.5 * 32767).astype(np.int16)
    sf.write(str(path), x, 16000, subtype="PCM_16")
    return path


def qemu_firmware() -> Path:
    """build/qemu/kws.elf, (re)built with scons (quick when up to date)."""
    if shutil.which("qemu-system-arm") is None:
        pytest.skip("qemu-system-arm is not installed (./scripts/bootstrap)")
    scons = Path(sys.executable).with_name("scons")
    proc = subprocess.run([str(scons), "-Q", "-j2", "target=qemu"], cwd=REPO,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return REPO / "build" / "qemu" / "kws.elf"


def model_image_file(tmp: Path, model: Path = ALEXA) -> Path:
    from kwshost import model_image

    out = tmp / "model.kwsm"
    model_image.write_image(model, out, "qemu")
    return out


def kwshost(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kwshost", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


@contextmanager
def fake_device(reply: Callable[[protocol.Frame], list[tuple[int, bytes]]],
                chatter: tuple[int, bytes] | None = None,
                pending: bytes = b"") -> Iterator[str]:
    """A TCP peer answering each frame with reply(frame); `chatter` is a frame it also sends
    every 0.1 s; `pending` is fed to its decoder first (a frame a cut session left unfinished).
    Yields its URL."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    server.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            conn.settimeout(0.05)
            decoder = protocol.Decoder()
            decoder.feed(pending)
            last_chatter = time.monotonic()
            with conn:
                while not stop.is_set():
                    try:
                        data = conn.recv(4096)
                        if not data:
                            break
                    except TimeoutError:
                        data = b""
                    except OSError:
                        break
                    out = b"".join(protocol.encode(t, 0, p)
                                   for frame in decoder.feed(data) for t, p in reply(frame))
                    if chatter and time.monotonic() - last_chatter > 0.1:
                        last_chatter = time.monotonic()
                        out += protocol.encode(*chatter[:1], 0, chatter[1])
                    try:
                        conn.sendall(out)
                    except OSError:
                        break

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"socket://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(2)
        server.close()
