"""Framing of the serial link, the Python twin of firmware/protocol/frame.c (docs/protocol.md).

    A5 5A | type u8 | seq u8 | len u16 LE | hcheck u8 (CRC-8 of type..len) | payload | crc32 LE
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

SYNC = b"\xa5\x5a"
HEADER_BYTES = 7
TRAILER_BYTES = 4
MAX_PAYLOAD = 2048
TEXT_KEPT = 4096  # the latest bytes outside frames kept in Decoder.text, for error messages
PROTOCOL_VERSION = 1


class Msg:
    """Message types (firmware/protocol/messages.h). Device-to-host types have bit 7 set."""

    HELLO_REQ = 0x01
    START = 0x02
    AUDIO = 0x03
    EVENTS_REQ = 0x04
    SYNC_REQ = 0x05
    PROFILE_REQ = 0x06
    RESET_REQ = 0x07

    HELLO = 0x81
    STARTED = 0x82
    ACK = 0x83
    DETECTION = 0x84
    SCORES = 0x85
    LOG = 0x86
    ERROR = 0x87
    PROFILE = 0x88
    BOOT = 0x89


START_VERBOSE, START_MICROPHONE = 1, 2
ACK_GAP, ACK_DUPLICATE, ACK_NOT_STARTED = 1, 2, 4
PROFILE_OP, PROFILE_SUMMARY, PROFILE_UNIT = 1, 2, 3
AUDIO_MAX_SAMPLES = 512


def crc8(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


@dataclass(frozen=True)
class Frame:
    type: int
    seq: int
    payload: bytes

    def fields(self, fmt: str, offset: int = 0) -> tuple:
        """struct.unpack_from of little-endian `fmt` at `offset` of the payload. A payload too
        short for it (a peer speaking another protocol version, or one that is broken) is a
        LinkError naming the frame, not a struct.error."""
        need = offset + struct.calcsize("<" + fmt)
        if len(self.payload) < need:
            from kwshost.errors import LinkError

            raise LinkError(f"the device sent a malformed frame: type 0x{self.type:02x} with "
                            f"{len(self.payload)} payload bytes, {need} needed",
                            hint="is it running this kwshost's firmware? (`kwshost info` "
                                 "shows its protocol version)")
        return struct.unpack_from("<" + fmt, self.payload, offset)


def encode(msg_type: int, seq: int, payload: bytes = b"") -> bytes:
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    head = struct.pack("<BBH", msg_type, seq & 0xFF, len(payload))
    crc = zlib.crc32(head + payload)
    return SYNC + head + bytes([crc8(head)]) + payload + struct.pack("<I", crc)


class Decoder:
    """Streaming decoder: feed bytes, get frames; skips garbage and resynchronises.

    Bytes that are not part of a valid frame are kept in `text` (boot banners, logs printed
    before the protocol starts; the latest TEXT_KEPT or more of them), and counted in
    `skipped_bytes`, of which `preamble_bytes` came before the first valid frame (the
    firmware's boot banner, not link noise); dropped frames in `bad_frames`.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self.skipped_bytes = 0
        self.preamble_bytes = 0
        self.bad_frames = 0
        self.text = bytearray()
        self._framed = False

    def _skip(self, n: int) -> None:
        self.text += self._buf[:n]
        if len(self.text) > 2 * TEXT_KEPT:  # a peer that never stops sending noise (or
            del self.text[:-TEXT_KEPT]       # a board's debug output for hours): bounded
        self.skipped_bytes += n
        if not self._framed:
            self.preamble_bytes += n
        del self._buf[:n]

    def feed(self, data: bytes) -> list[Frame]:
        self._buf += data
        frames: list[Frame] = []
        while True:
            start = self._buf.find(SYNC)
            if start < 0:
                # keep a trailing A5: it may be the first half of a sync split across reads
                keep = 1 if self._buf.endswith(SYNC[:1]) else 0
                self._skip(len(self._buf) - keep)
                return frames
            self._skip(start)
            if len(self._buf) < HEADER_BYTES:
                return frames
            head = bytes(self._buf[2:6])
            length = struct.unpack_from("<H", head, 2)[0]
            if length > MAX_PAYLOAD or crc8(head) != self._buf[6]:
                self.bad_frames += 1
                self._skip(1)
                continue
            total = HEADER_BYTES + length + TRAILER_BYTES
            if len(self._buf) < total:
                return frames
            payload = bytes(self._buf[HEADER_BYTES:HEADER_BYTES + length])
            (crc,) = struct.unpack_from("<I", self._buf, HEADER_BYTES + length)
            if crc != zlib.crc32(head + payload):
                self.bad_frames += 1
                self._skip(1)
                continue
            frames.append(Frame(head[0], head[1], payload))
            self._framed = True
            del self._buf[:total]
