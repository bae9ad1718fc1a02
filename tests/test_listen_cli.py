"""`kwshost listen` and `kwshost flash --target qemu` as a user meets them: clear errors, the
emulated board's URL, and a board that goes away with the command."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import soundfile as sf
from device_helpers import REPO, kwshost, qemu_firmware


def test_listen_needs_a_source_and_a_port(tmp_path) -> None:
    out = kwshost("listen", "--pc")
    assert out.returncode != 0 and "--wav FILE or --mic" in out.stderr
    wav = tmp_path / "a.wav"
    sf.write(str(wav), np.zeros(1600, dtype=np.int16), 16000, subtype="PCM_16")
    out = kwshost("listen", "--device", "--wav", str(wav))
    assert out.returncode != 0 and "--device needs --port" in out.stderr
    out = kwshost("listen", "--device", "--port", "socket://127.0.0.1:1", "--wav", str(wav),
                  "--timeout", "0.5")
    assert out.returncode == 3 and "cannot open socket://127.0.0.1:1" in out.stderr


def test_listen_converts_or_names_what_is_wrong_with_the_audio(tmp_path) -> None:
    stereo = tmp_path / "stereo.wav"
    sf.write(str(stereo), np.zeros((1600, 2), dtype=np.int16), 16000, subtype="PCM_16")
    out = kwshost("listen", "--pc", "--wav", str(stereo))
    assert out.returncode == 0 and "mono" in out.stderr  # converted, and says so
    out = kwshost("listen", "--pc", "--wav", str(tmp_path / "missing.wav"))
    assert out.returncode != 0 and "missing.wav" in out.stderr
    assert "Traceback" not in out.stderr


def test_listen_pc_on_silence_reports_nothing(tmp_path) -> None:
    wav = tmp_path / "silence.wav"
    sf.write(str(wav), np.zeros(32000, dtype=np.int16), 16000, subtype="PCM_16")
    out = kwshost("listen", "--pc", "--wav", str(wav), "--json", "--verbose")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 10  # one scores event per 200 ms of audio, no detection
    assert all('"type": "scores"' in line for line in lines)


def test_flash_qemu_prints_url_and_stops_with_the_command() -> None:
    qemu_firmware()
    proc = subprocess.Popen([sys.executable, "-m", "kwshost", "flash", "--target", "qemu"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("socket://127.0.0.1:"), url
        info = kwshost("info", "--port", url, "--json")
        assert info.returncode == 0 and "model 207460 B" in info.stdout
        again = kwshost("info", "--port", url)  # the board accepts the next client
        assert again.returncode == 0
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    time.sleep(0.5)
    gone = kwshost("info", "--port", url, "--timeout", "0.5")
    assert gone.returncode == 3  # QEMU went away with the command


def test_listen_device_checks_the_model_it_was_given(tmp_path) -> None:
    from device_helpers import ALEXA, model_image_file
    from kwshost.metadata import read_params, write_params
    from kwshost.qemu import QemuBoard

    params = read_params(ALEXA)
    params["detection_threshold"] = 210
    other = tmp_path / "other.tflite"
    other.write_bytes(write_params(ALEXA, params))
    wav = tmp_path / "short.wav"
    sf.write(str(wav), np.zeros(1600, dtype=np.int16), 16000, subtype="PCM_16")
    with QemuBoard(qemu_firmware(), model_image=model_image_file(tmp_path)) as board:
        out = kwshost("listen", "--device", "--port", board.url, "--wav", str(wav),
                      "--model", str(other))
    assert out.returncode != 0
    assert "the board runs another model" in out.stderr and "threshold 204" in out.stderr
    assert "kwshost flash --model" in out.stderr
