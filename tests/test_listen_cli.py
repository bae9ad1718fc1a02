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


def test_listen_pc_says_why_a_short_recording_got_no_inference(tmp_path) -> None:
    """A recording shorter than the first inference printed "(0 inferences)" and nothing
    more: it reads as a model or pipeline that does not work."""
    wav = tmp_path / "short.wav"
    sf.write(str(wav), np.zeros(1600, dtype=np.int16), 16000, subtype="PCM_16")
    out = kwshost("listen", "--pc", "--wav", str(wav))
    assert out.returncode == 0, out.stderr
    assert "the recording (0.10 s) ends before the first inference at 0.20 s" in out.stderr
    long = tmp_path / "long.wav"
    sf.write(str(long), np.zeros(3200, dtype=np.int16), 16000, subtype="PCM_16")
    out = kwshost("listen", "--pc", "--wav", str(long))
    assert "(1 inferences)" in out.stderr and "first inference" not in out.stderr


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
    # A fine-tune's twin: the same size, classes, threshold and operators, one weight byte
    # changed (the last byte of the largest buffer), told apart by the banner's CRC-32.
    twin = bytearray(ALEXA.read_bytes())
    at = _largest_buffer_end(bytes(twin)) - 1
    twin[at] ^= 1
    (tmp_path / "twin.tflite").write_bytes(bytes(twin))
    with QemuBoard(qemu_firmware(), model_image=model_image_file(tmp_path)) as board:
        out = kwshost("listen", "--device", "--port", board.url, "--wav", str(wav),
                      "--model", str(other))
        same = kwshost("listen", "--device", "--port", board.url, "--wav", str(wav),
                       "--model", str(ALEXA))
        twins = [kwshost(*cmd, "--port", board.url, "--model", str(tmp_path / "twin.tflite"))
                 for cmd in (("listen", "--device", "--wav", str(wav)),
                             ("profile", "--device"))]
    assert out.returncode != 0
    assert "the board runs another model" in out.stderr and "threshold 204" in out.stderr
    assert "kwshost flash --target qemu --model" in out.stderr   # the board is QEMU
    assert same.returncode == 0, same.stderr
    # 0.1 s of audio: no inference on the board either, and it says why
    assert "the recording (0.10 s) ends before the first inference at 0.20 s" in same.stderr
    for result in twins:
        assert result.returncode == 2 and "its model's CRC-32 is" in result.stderr, result.stderr


def _largest_buffer_end(model: bytes) -> int:
    """Offset just past the data of the model's largest buffer (weights)."""
    from kwshost.flatbuf import Buf

    root = Buf(model).root()
    best = (0, 0)
    for buffer in root.tables(4):
        data = buffer.bytes(0)
        if data:
            best = max(best, (len(data), model.find(data) + len(data)))
    return best[1]


def test_volume_gain_scales_the_microphone_as_the_board_does(tmp_path, monkeypatch,
                                                              capsys) -> None:
    """`--pc --mic` with a model whose volume_gain is 2 sees what a WAV at twice the level
    shows (the firmware's own kws_engine_scale_microphone); WAVs are not scaled."""
    import json
    import types

    from device_helpers import spoken_wav
    from kwshost.cli import main
    from kwshost.metadata import read_params, write_params

    loud = spoken_wav(tmp_path / "loud.wav", ["alexa", "the weather is nice", "alexa"])
    quiet = sf.read(str(loud), dtype="int16")[0] // 2
    sf.write(str(loud), quiet * 2, 16000, subtype="PCM_16")   # exactly twice `quiet`
    model = REPO / "models" / "alexa_kwshost.tflite"
    params = read_params(model.read_bytes())
    params["volume_gain"] = 2
    gained = tmp_path / "gain2.tflite"
    gained.write_bytes(write_params(model.read_bytes(), params))

    class Stream:
        def __init__(self, **_):
            self.at = 0

        def __enter__(self):
            return self

        def __exit__(self, *_):
            return False

        def read(self, n):
            if self.at >= len(quiet):
                raise KeyboardInterrupt
            block = np.zeros((n, 1), np.int16)
            part = quiet[self.at:self.at + n]
            block[:len(part), 0] = part
            self.at += n
            return block, False

    fake = types.SimpleNamespace(check_input_settings=lambda **_: None, InputStream=Stream)
    monkeypatch.setitem(sys.modules, "sounddevice", fake)

    def events(*argv: str) -> list[dict]:
        main(["listen", "--pc", "--model", str(gained), "--json", "--verbose", *argv])
        return [json.loads(line) for line in capsys.readouterr().out.splitlines()]

    from_mic = events("--mic")
    from_wav = events("--wav", str(loud))
    assert any(e["type"] == "detection" for e in from_wav)
    assert from_mic[:len(from_wav)] == from_wav          # the mic's audio ends padded
    # A WAV is fed as it is: the quiet one under the same model gives other scores.
    sf.write(str(tmp_path / "quiet.wav"), quiet, 16000, subtype="PCM_16")
    assert events("--wav", str(tmp_path / "quiet.wav")) != from_wav


def test_listen_pc_says_when_a_model_names_no_frontend_settings(tmp_path, caplog) -> None:
    """Another tool's model with its classes but no fe.* keys ran on the seed's frontend
    without a word; its input fits the seed's window, so it runs, and listen (and flash's
    check before flashing) says on what."""
    from kwshost.metadata import read_params, write_params
    from kwshost.paths import REPO_ROOT

    bundled = REPO_ROOT / "models" / "alexa_kwshost.tflite"
    bare = tmp_path / "bare.tflite"
    bare.write_bytes(write_params(bundled, {k: v for k, v in read_params(bundled).items()
                                            if not k.startswith("fe.")}))
    wav = tmp_path / "a.wav"
    sf.write(str(wav), np.zeros(16000, dtype=np.int16), 16000, subtype="PCM_16")
    out = kwshost("listen", "--pc", "--model", str(bare), "--wav", str(wav))
    assert out.returncode == 0 and "names no fe.* frontend settings" in out.stderr, out.stderr
    out = kwshost("listen", "--pc", "--model", str(bundled), "--wav", str(wav))
    assert out.returncode == 0 and "fe.*" not in out.stderr, out.stderr
    from kwshost.cli.flash import _check_model_runs

    _check_model_runs(bare, bare.read_bytes(), "qemu")
    assert "names no fe.* frontend settings" in caplog.text
    caplog.clear()
    _check_model_runs(bundled, bundled.read_bytes(), "efr32xg24")
    assert "fe.*" not in caplog.text
