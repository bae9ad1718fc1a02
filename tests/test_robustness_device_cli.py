"""The device commands and the PC commands next to them against hostile input: a peer that
talks but never gets anywhere, one that keeps rebooting, a device decoder left mid-frame by a
cut session, two emulated boards started together, a taken --port, WAV headers and .npy
headers that announce absurd sizes, -o naming the input, and a read-only model. Each ends with
a one-line error (or works), never a hang, a MemoryError traceback or a lost file."""

from __future__ import annotations

import socket
import stat
import struct
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import cli as kwshost
from conftest import fails_if_hung
from device_helpers import fake_device
from kwshost import model_image, protocol
from kwshost.cli import main
from kwshost.errors import LinkError
from kwshost.paths import DEFAULT_MODEL
from kwshost.protocol import Msg

STARTED = struct.pack("<HHHBB", 16000, 200, 4096, 2, 200) + b"alexa\n_unknown_"
HELLO = bytes([protocol.PROTOCOL_VERSION]) + b"fake firmware"


def _stuck_ack(frame: protocol.Frame) -> list[tuple[int, bytes]]:
    if frame.type == Msg.HELLO_REQ:
        return [(Msg.HELLO, HELLO)]
    if frame.type == Msg.START:
        return [(Msg.STARTED, STARTED)]
    if frame.type in (Msg.AUDIO, Msg.SYNC_REQ):  # always "send me sample 0 again"
        return [(Msg.ACK, struct.pack("<IIHB", 0, 0, 4096, 0))]
    return []


def test_stream_gives_up_on_a_device_that_talks_but_never_progresses() -> None:
    from kwshost.device import DeviceStream
    from kwshost.link import Link

    logs = []
    with fake_device(_stuck_ack, chatter=(Msg.LOG, b"\x00still alive")) as url, \
            Link(url, connect_timeout=2) as link:
        link.hello(timeout=2)
        stream = DeviceStream(link, logs.append, give_up_after=1.0)
        stream.start(timeout=2)
        with fails_if_hung(15, "a stream to a stuck device"), \
                pytest.raises(LinkError, match="makes no progress for 1 s .at sample 0 of"):
            stream.stream(np.zeros(16000, np.int16))
    assert any(e.type == "log" for e in logs)


def test_listen_gives_up_on_a_device_that_keeps_rebooting(capsys, tmp_path) -> None:
    wav = tmp_path / "a.wav"
    sf.write(str(wav), np.zeros(16000, np.int16), 16000, subtype="PCM_16")

    def reboots(frame: protocol.Frame) -> list[tuple[int, bytes]]:
        if frame.type == Msg.AUDIO:  # it crashes on the first audio, every time
            return [(Msg.BOOT, bytes([protocol.PROTOCOL_VERSION, 0]) + b"fake firmware")]
        return _stuck_ack(frame)

    with fake_device(reboots) as url, fails_if_hung(30, "listen to a rebooting device"):
        code, _out, err = kwshost(capsys, "listen", "--device", "--port", url, "--wav",
                                  str(wav), "--timeout", "2")
    assert code == 3
    assert "the device reset 6 times during one stream (last: the device rebooted)" in err
    assert "Traceback" not in err


def test_hello_ends_a_frame_that_a_cut_session_left_in_the_device() -> None:
    """Ctrl-C during `listen --device` can leave the device's decoder inside an AUDIO frame
    (QEMU drops what it had not read when the client goes): the next hello must get through
    at once, not after the device has swallowed a kilobyte of requests."""
    from kwshost.link import Link

    audio = protocol.encode(Msg.AUDIO, 3, struct.pack("<I", 0) + bytes(1024))
    with fake_device(_stuck_ack, pending=audio[:300]) as url, Link(url, connect_timeout=2) as link:
        info = link.hello(timeout=1.5)
    assert info.banner == "fake firmware"


class FakeBoard:
    """Stands in for kwshost.qemu.QemuBoard: reads its model image when "its first client
    connects" (QEMU loads -device loader files only then), after `before_connect` ran."""

    boards: list[FakeBoard] = []
    before_connect: Callable[[], None] | None = None

    def __init__(self, elf, model_image=None, icount=False, port=None) -> None:
        self.model_path = model_image
        self.url = "socket://127.0.0.1:1"
        self.loaded: bytes | None = None
        FakeBoard.boards.append(self)

    def __enter__(self) -> FakeBoard:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def exit_code(self) -> int | None:
        if self.loaded is None:
            action, FakeBoard.before_connect = FakeBoard.before_connect, None
            if action:
                action()
            self.loaded = Path(self.model_path).read_bytes()
            return None
        return 0

    def output(self) -> str:
        return ""


def test_two_emulated_boards_each_run_their_own_model(capsys, monkeypatch, tmp_path) -> None:
    import kwshost.cli.flash as flash
    import kwshost.qemu

    monkeypatch.setattr(kwshost.qemu, "QemuBoard", FakeBoard)
    monkeypatch.setattr(flash.signal, "signal", lambda *_: None)  # keep pytest's SIGTERM
    monkeypatch.setattr(FakeBoard, "boards", [])
    second = tmp_path / "other model.tflite"
    assert main(["params", str(DEFAULT_MODEL), "--set", "detection_threshold=100",
                 "-o", str(second)]) == 0
    # a second `flash --target qemu --model OTHER` while the first board waits for a client
    monkeypatch.setattr(FakeBoard, "before_connect", lambda: main(
        ["flash", "--target", "qemu", "--no-check", "--model", str(second)]))
    code = main(["flash", "--target", "qemu", "--no-check"])
    capsys.readouterr()
    assert code == 0
    first, nested = FakeBoard.boards
    assert model_image.unwrap(first.loaded) == DEFAULT_MODEL.read_bytes()
    assert model_image.unwrap(nested.loaded) == second.read_bytes()
    assert first.model_path != nested.model_path
    assert not Path(first.model_path).exists() and not Path(nested.model_path).exists()


def test_flash_qemu_on_a_taken_port_prints_no_url(capsys) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with fails_if_hung(60, "flash on a taken port"):
            code, out, err = kwshost(capsys, "flash", "--target", "qemu", "--no-model",
                                     "--port", str(port))
    assert code == 2
    assert "socket://" not in out
    assert f"cannot start the emulated board on port {port}" in err
    assert "leave --port out" in err


def test_wav_header_with_an_absurd_sample_rate_is_refused(capsys, tmp_path) -> None:
    """2,000,000 samples "at 1 Hz" would be resampled to 3.2e10 (a MemoryError traceback)."""
    wav = tmp_path / "slow.wav"
    sf.write(str(wav), np.zeros(2_000_000, np.int16), 1, subtype="PCM_16")
    code, _out, err = kwshost(capsys, "features", str(wav), "-o", str(tmp_path / "f.npy"))
    assert code == 2
    assert "sample rate of 1 Hz, too low for audio" in err
    code, _out, err = kwshost(capsys, "listen", "--pc", "--wav", str(wav))
    assert code == 2 and "sample rate of 1 Hz" in err


def test_npy_whose_header_announces_more_than_the_file_holds(capsys, tmp_path) -> None:
    header = b"{'descr': '|i1', 'fortran_order': False, 'shape': (100000000000,), }"
    header += b" " * (117 - 10 - len(header)) + b"\n"
    bad = tmp_path / "huge.npy"
    bad.write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + bytes(10))
    code, _out, err = kwshost(capsys, "infer", str(DEFAULT_MODEL), str(bad))
    assert code == 2
    assert "the header announces 100000000000 int8 (100,000,000,000 bytes), the file holds 10" \
        in err


def test_output_naming_an_input_is_refused_and_the_input_kept(capsys, tmp_path) -> None:
    wav = tmp_path / "in put.wav"
    sf.write(str(wav), np.zeros(16000, np.int16), 16000, subtype="PCM_16")
    before = wav.read_bytes()
    code, _out, err = kwshost(capsys, "features", str(wav), "-o", str(wav))
    assert code == 2 and "it is the input" in err and wav.read_bytes() == before

    x = tmp_path / "x.npy"
    np.save(x, np.zeros((118, 108), np.int8))
    before = x.read_bytes()
    code, _out, err = kwshost(capsys, "infer", str(DEFAULT_MODEL), str(x), "-o", str(x))
    assert code == 2 and "it is the input" in err and x.read_bytes() == before


def test_params_in_place_keeps_a_read_only_model_and_the_file_mode(capsys, tmp_path) -> None:
    model = tmp_path / "m.tflite"
    model.write_bytes(DEFAULT_MODEL.read_bytes())
    model.chmod(0o444)
    code, _out, err = kwshost(capsys, "params", str(model), "--set", "detection_threshold=100",
                              "--in-place")
    assert code == 2 and "read-only" in err
    assert model.read_bytes() == DEFAULT_MODEL.read_bytes()
    assert not (tmp_path / "m.tflite.partial").exists()

    model.chmod(0o640)
    code, out, _err = kwshost(capsys, "params", str(model), "--set", "detection_threshold=100",
                              "--in-place")
    assert code == 0 and "wrote" in out
    assert stat.S_IMODE(model.stat().st_mode) == 0o640


def test_decoder_keeps_a_bounded_tail_of_endless_noise() -> None:
    """`listen --device --mic` runs until Ctrl-C: a board printing debug text (or a noisy
    line) for hours must not grow the host's memory without end."""
    decoder = protocol.Decoder()
    chunk = bytes(range(256)).replace(b"\xa5", b"") * 256  # no sync byte: all noise
    for _ in range(200):
        assert decoder.feed(chunk) == []
    assert decoder.skipped_bytes == 200 * len(chunk)
    assert protocol.TEXT_KEPT <= len(decoder.text) <= 2 * protocol.TEXT_KEPT
    assert bytes(decoder.text).endswith(chunk[-100:])
    # and frames are still found after it
    frame = protocol.encode(Msg.HELLO, 1, HELLO)
    assert decoder.feed(chunk[:1000] + frame) == [protocol.Frame(Msg.HELLO, 1, HELLO)]


def test_params_set_classes_to_nothing_says_so(capsys, tmp_path) -> None:
    code, _out, err = kwshost(capsys, "params", str(DEFAULT_MODEL), "--set", "classes= , ",
                              "-o", str(tmp_path / "o.tflite"))
    assert code == 2
    assert "give the classes comma-separated, at least one" in err
    assert "has no 'classes' list" not in err
    assert not (tmp_path / "o.tflite").exists()


def test_flash_qemu_says_why_the_board_stopped(capsys, monkeypatch) -> None:
    """QEMU exits with 0 when another program kills it; `flash` says what QEMU said."""
    import kwshost.cli.flash as flash
    from kwshost import qemu

    class Killed(FakeBoard):
        def output(self) -> str:
            return "qemu-system-arm: terminating on signal 15 from pid 4242 (kill)\n"

    monkeypatch.setattr(qemu, "QemuBoard", Killed)
    monkeypatch.setattr(flash.signal, "signal", lambda *_: None)
    monkeypatch.setattr(FakeBoard, "boards", [])
    code, _out, err = kwshost(capsys, "flash", "--target", "qemu", "--no-check")
    assert code == 0
    assert "stopped (exit code 0): qemu-system-arm: terminating on signal 15 from pid 4242" in err


def test_the_emulated_board_stops_when_its_starter_is_killed(tmp_path) -> None:
    """`kill -9` of `kwshost flash --target qemu` runs no clean-up; QEMU kept running and
    held its port. The kernel now stops it (setpriv's parent-death signal)."""
    import os
    import shutil
    import signal
    import subprocess
    import sys

    from device_helpers import qemu_firmware

    if shutil.which("setpriv") is None:
        pytest.skip("util-linux's setpriv is not installed: QEMU outlives a killed kwshost")
    code = ("import sys, time; sys.path.insert(0, 'host'); from kwshost.qemu import QemuBoard; "
            f"b = QemuBoard({str(qemu_firmware())!r}).start(); print(b.process.pid, flush=True); "
            "time.sleep(60)")
    starter = subprocess.Popen([sys.executable, "-c", code], cwd=Path(__file__).parents[1],
                               stdout=subprocess.PIPE, text=True)
    qemu = int(starter.stdout.readline())
    os.kill(starter.pid, signal.SIGKILL)
    starter.wait(10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:   # gone, or a zombie waiting for init to reap it
            with open(f"/proc/{qemu}/stat") as f:
                if f.read().split(") ")[1].startswith("Z"):
                    break
        except FileNotFoundError:
            break
        time.sleep(0.1)
    else:
        os.kill(qemu, signal.SIGKILL)
        pytest.fail("QEMU outlived the process that started it")


@pytest.mark.parametrize("count", [0, 1, 2])
def test_flash_picks_the_one_probe_or_says_which_to_choose(monkeypatch, count: int) -> None:
    """Several probes connected: an error naming them, never pyOCD's prompt on stdin (a script
    would wait forever); none: the link error; one: a session on it for the EFR32 part."""
    pytest.importorskip("pyocd")
    from kwshost.cli import flash
    from kwshost.errors import KwsError
    from pyocd.core import helpers, session

    class Probe:
        def __init__(self, n: int) -> None:
            self.unique_id, self.description = f"44000000{n}", f"J-Link {n}"
    probes = [Probe(n) for n in range(count)]
    monkeypatch.setattr(helpers.ConnectHelper, "get_all_connected_probes",
                        staticmethod(lambda blocking, unique_id: probes))
    made = []
    monkeypatch.setattr(session, "Session", lambda probe, **kw: made.append((probe, kw)) or "s")
    monkeypatch.setattr("builtins.input", lambda *a: pytest.fail("prompted on stdin"))
    if count == 1:
        assert flash._probe_session(None, {}) == "s"
        assert made == [(probes[0], {"target_override": flash.EFR32_PART, "options": {}})]
        return
    with pytest.raises(LinkError if count == 0 else KwsError) as e:
        flash._probe_session(None, {})
    if count == 2:
        assert "440000000" in str(e.value) and "440000001" in str(e.value)
        assert "--probe" in e.value.hint


def test_profile_device_waits_for_the_board_as_long_as_timeout_says(capsys) -> None:
    """`profile --device` waited a fixed 5 s for the board's first answer whatever --timeout
    said (listen and info wait --timeout)."""
    with fake_device(lambda frame: []) as url, fails_if_hung(30, "profile of a silent board"):
        began = time.monotonic()
        code, _out, err = kwshost(capsys, "profile", "--device", "--port", url, "--timeout",
                                  "0.5")
        took = time.monotonic() - began
    assert code == 3 and "Traceback" not in err
    assert took < 3.0, f"waited {took:.1f} s with --timeout 0.5"


def test_profile_with_a_port_profiles_the_board(capsys) -> None:
    """`profile --port URL` without --device ran the PC profile with a note, where `listen
    --port URL` means the board: a port given means the board; --pc with one is refused."""
    with fake_device(lambda frame: []) as url, fails_if_hung(30, "profile of a silent board"):
        code, out, err = kwshost(capsys, "profile", "--port", url, "--timeout", "0.5")
        assert code == 3 and url in err and "Model Layers" not in out, (out, err)
        code, out, err = kwshost(capsys, "profile", "--pc", "--port", url)
        assert code == 2 and "--port is for --device" in err and not out
    code, out, err = kwshost(capsys, "profile", "--pc", "--accelerator", "none", "--json")
    assert code == 0 and '"accelerator": "none"' in out


def test_profile_on_a_board_refuses_an_accelerator_it_cannot_choose(capsys) -> None:
    """`profile --device --accelerator none` measured the board's own kernels and said
    nothing (as `listen --device --accelerator` did): refused before any port is opened."""
    code, _out, err = kwshost(capsys, "profile", "--device", "--port", "socket://127.0.0.1:1",
                              "--accelerator", "none")
    assert code == 2 and "--accelerator is for the PC" in err and "cannot open" not in err
