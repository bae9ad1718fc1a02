"""A peer on the serial link that is not quite our firmware: another protocol version, or
well-formed frames (valid checksums) with payloads too short. Each is a one-line error with
exit code 3, not a struct.error traceback and not events read from the wrong bytes."""

from __future__ import annotations

import struct
from collections.abc import Callable

import numpy as np
import pytest
import soundfile as sf
from conftest import cli as kwshost
from device_helpers import fake_device
from kwshost import protocol
from kwshost.protocol import Msg

Reply = Callable[[protocol.Frame], list[tuple[int, bytes]]]


def hello(version: int = protocol.PROTOCOL_VERSION) -> tuple[int, bytes]:
    return Msg.HELLO, bytes([version]) + b"fake firmware"


STARTED_OK = (Msg.STARTED, struct.pack("<HHHBB", 16000, 200, 4096, 2, 200) + b"alexa\n_unknown_")


@pytest.fixture
def wav(tmp_path):
    path = tmp_path / "a.wav"
    sf.write(str(path), np.zeros(1600, np.int16), 16000, subtype="PCM_16")
    return path


def test_another_protocol_version_is_refused(capsys, wav):
    with fake_device(lambda f: [hello(7)] if f.type == Msg.HELLO_REQ else []) as url:
        code, out, err = kwshost(capsys, "info", "--port", url, "--timeout", "2")
        assert code == 3 and "protocol: version 7" in out  # shown, then refused
        assert "speaks protocol version 7; this kwshost speaks version 1" in err
        code, _, err = kwshost(capsys, "listen", "--device", "--port", url, "--wav", str(wav),
                               "--timeout", "2")
        assert code == 3 and "protocol version 7" in err and "Traceback" not in err


@pytest.mark.parametrize("replies", [
    {Msg.START: [(Msg.STARTED, b"\x80\x3e\xc8")]},                    # STARTED cut short
    {Msg.START: [STARTED_OK], Msg.AUDIO: [(Msg.ACK, b"\x00\x00")]},    # ACK cut short
    {Msg.START: [STARTED_OK], Msg.AUDIO: [(Msg.DETECTION, b"\x00" * 9)]},
    {Msg.START: [STARTED_OK], Msg.AUDIO: [(Msg.SCORES, b"\x00" * 8 + b"\x05\x01")]},
    {Msg.START: [(Msg.STARTED, struct.pack("<HHHBB", 0, 200, 4096, 2, 200) + b"a\nb")]},
], ids=["started", "ack", "detection", "scores", "rate0"])
def test_short_frames_from_the_device_are_a_link_error(capsys, wav, replies):
    def reply(frame: protocol.Frame) -> list[tuple[int, bytes]]:
        if frame.type == Msg.HELLO_REQ:
            return [hello()]
        return replies.get(frame.type, [])

    with fake_device(reply) as url:
        code, _, err = kwshost(capsys, "listen", "--device", "--port", url, "--wav", str(wav),
                               "--timeout", "2")
    assert code == 3, err
    assert ("the device sent a malformed frame" in err or "sample rate of 0 Hz" in err) \
        and "Traceback" not in err


def test_short_profile_frame_is_a_link_error(capsys):
    def reply(frame: protocol.Frame) -> list[tuple[int, bytes]]:
        if frame.type == Msg.HELLO_REQ:
            return [hello()]
        if frame.type == Msg.PROFILE_REQ:
            return [(Msg.PROFILE, bytes([protocol.PROFILE_UNIT]) + b"cpu cycles"),
                    (Msg.PROFILE, bytes([protocol.PROFILE_OP, 0, 0]))]
        return []

    with fake_device(reply) as url:
        code, _, err = kwshost(capsys, "profile", "--device", "--port", url, "--timeout", "2")
    assert code == 3 and "the device sent a malformed frame: type 0x88" in err


def test_profile_of_another_model_than_the_board_runs_is_refused(capsys):
    """The device's per-operator counts are joined to the model's operators by index; with
    another model the table named the wrong operators."""
    def reply(frame: protocol.Frame) -> list[tuple[int, bytes]]:
        if frame.type == Msg.HELLO_REQ:
            return [hello()]
        if frame.type == Msg.PROFILE_REQ:
            return [(Msg.PROFILE, bytes([protocol.PROFILE_UNIT]) + b"cpu cycles"),
                    (Msg.PROFILE, bytes([protocol.PROFILE_OP]) + struct.pack("<HHI", 0, 9, 50)),
                    (Msg.PROFILE, bytes([protocol.PROFILE_SUMMARY])
                     + struct.pack("<IIIHxxI", 50, 4000, 1234, 1, 60))]
        return []

    with fake_device(reply) as url:
        code, out, err = kwshost(capsys, "profile", "--device", "--port", url, "--timeout", "2")
    assert code == 2 and "the board runs another model (1,234 bytes, 1 operators)" in err
    assert "FULLY_CONNECTED" not in out
