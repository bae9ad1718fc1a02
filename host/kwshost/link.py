"""The serial link to a device running kwshost firmware, over any pyserial URL.

A URL is a device path (/dev/ttyACM0), a pty, or `socket://127.0.0.1:PORT` (the emulated
board). Every failure becomes a LinkError whose message says what to do.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from kwshost import protocol
from kwshost.errors import KwsError, LinkError
from kwshost.protocol import Frame, Msg

DEFAULT_BAUD = 115200


@dataclass(frozen=True)
class DeviceInfo:
    protocol_version: int
    banner: str

    def check_protocol(self, url: str) -> None:
        """Frames of another protocol version would be read wrong: refuse to go on."""
        if self.protocol_version != protocol.PROTOCOL_VERSION:
            raise LinkError(f"the device on {url} speaks protocol version "
                            f"{self.protocol_version}; this kwshost speaks version "
                            f"{protocol.PROTOCOL_VERSION} ({self.banner})",
                            hint="flash the firmware of this kwshost version (`kwshost flash`)")

    def check_model(self, url: str, model: Path) -> None:
        """Refuses a device that runs another model than MODEL (a .tflite or an image), judged
        by the CRC-32 the firmware's banner gives (older firmware gives none: not judged).
        Fine-tunes of one model share size, classes and operators: only this tells them
        apart."""
        import re

        from kwshost.model_image import model_crc32

        found = re.search(r"crc32 ([0-9a-f]{8})", self.banner)
        ours = model_crc32(model) if found else None
        if found and int(found.group(1), 16) != ours:
            raise KwsError(f"the board runs another model than {Path(model).name}: its "
                           f"model's CRC-32 is {found.group(1)}, {Path(model).name}'s "
                           f"{ours:08x}", hint=f"flash it: {flash_command(url, model)}")


def flash_command(url: str, model: str | Path = "M.tflite") -> str:
    """How to put MODEL on the device at URL: the emulated board (a socket URL) is started
    anew with it, the real board is programmed."""
    if _is_socket_url(url):
        return f"kwshost flash --target qemu --model {model} (and use the URL it prints)"
    return f"kwshost flash --model {model}"


def _is_socket_url(url: str) -> bool:
    """Whether URL is a socket:// URL; one is refused unless it is socket://HOST:PORT with a
    port pyserial can use (its own errors for a bad one are "'<=' not supported between
    instances of 'int' and 'NoneType'" and the like)."""
    from urllib.parse import urlsplit

    if not url.lower().startswith("socket://"):
        return False
    try:
        port = urlsplit(url).port
    except ValueError:
        port = -1
    if port is None or not 0 < port < 65536 or not urlsplit(url).hostname:
        raise LinkError(f"cannot open {url}: a socket URL is socket://HOST:PORT with a port "
                        "from 1 to 65535",
                        hint="use the URL `kwshost flash --target qemu` prints")
    return True


class Link:
    """An open connection. Use as a context manager; `connect_timeout` retries refused
    socket:// connections (an emulated board that is still starting) for that many seconds;
    a device path that cannot be opened fails at once."""

    def __init__(self, url: str, baud: int = DEFAULT_BAUD, connect_timeout: float = 0.0) -> None:
        import serial  # pyserial: imported here so `kwshost --help` stays fast

        retry = connect_timeout if _is_socket_url(url) else 0.0
        self.url = url
        self.decoder = protocol.Decoder()
        self._seq = 0
        deadline = time.monotonic() + retry
        while True:
            try:
                self._port = serial.serial_for_url(url, baudrate=baud, timeout=0.05)
                break
            except (serial.SerialException, ValueError, OSError) as e:
                if time.monotonic() < deadline:
                    time.sleep(0.05)
                    continue
                raise LinkError(
                    f"cannot open {url}: {_open_failure(url, e)}",
                    hint="check the port name (ls /dev/ttyACM* /dev/ttyUSB*) or, for the "
                         "emulated board, start it with `kwshost flash --target qemu` and use "
                         "the URL it prints",
                ) from e

    def __enter__(self) -> Link:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._port.close()

    def send(self, msg_type: int, payload: bytes = b"") -> None:
        import serial

        try:
            self._port.write(protocol.encode(msg_type, self._seq, payload))
            self._port.flush()
        except (serial.SerialException, OSError) as e:
            raise LinkError(f"writing to {self.url} failed: {e}") from e
        self._seq = (self._seq + 1) & 0xFF

    def read_frames(self, timeout: float) -> list[Frame]:
        """Frames that arrive within `timeout` seconds (returns as soon as some arrive)."""
        import serial

        deadline = time.monotonic() + timeout
        while True:
            try:
                # Take what has arrived (at least one byte, waiting up to the port timeout):
                # a fixed-size read would sit out the whole timeout on every call.
                data = self._port.read(1)
                if data and self._port.in_waiting:
                    data += self._port.read(self._port.in_waiting)
            except (serial.SerialException, OSError) as e:
                raise LinkError(f"reading from {self.url} failed: {e}") from e
            frames = self.decoder.feed(data) if data else []
            if frames or time.monotonic() >= deadline:
                return frames

    def wait_for(self, msg_type: int, timeout: float) -> Frame:
        """The next frame of `msg_type`; other frames are dropped. LinkError on timeout."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            for frame in self.read_frames(left):
                if frame.type == msg_type:
                    return frame
        raise self._silence_error(timeout)

    def _silence_error(self, timeout: float) -> LinkError:
        # NULs are left out: a peer that echoes (loop://, a terminal) returns our padding
        heard = bytes(self.decoder.text[-4096:]).replace(b"\0", b"")[-80:]
        if heard:
            return LinkError(
                f"the device on {self.url} does not speak the kwshost protocol "
                f"(in {timeout:g} s it sent {self.decoder.skipped_bytes} other bytes, "
                f"ending {heard!r})",
                hint="is kwshost firmware flashed on it? (`kwshost flash`)")
        hint = "is the board powered and running kwshost firmware? try a longer --timeout"
        if _is_socket_url(self.url):  # QEMU's serial socket takes the next client only later
            hint = ("the emulated board serves one connection at a time: is another kwshost "
                    "command (a listen, a profile) connected to it? else " + hint)
        return LinkError(f"no answer from {self.url} within {timeout:g} s", hint=hint)

    def flush_device_decoder(self) -> None:
        """Zero bytes enough to complete the longest frame: a session cut off mid-frame
        (Ctrl-C, a killed host) leaves the device's decoder waiting for up to 2 kB of payload,
        which would swallow every request until that many bytes arrived. The padding ends
        that frame (its CRC fails) and is then skipped as noise; an idle decoder skips it."""
        import serial

        try:
            self._port.write(bytes(protocol.HEADER_BYTES + protocol.MAX_PAYLOAD
                                   + protocol.TRAILER_BYTES))
            self._port.flush()
        except (serial.SerialException, OSError) as e:
            raise LinkError(f"writing to {self.url} failed: {e}") from e

    def hello(self, timeout: float = 3.0) -> DeviceInfo:
        """Asks the device who it is. Re-asks every 0.25 s, as the first request may be
        sent before the firmware listens; first ends any frame a previous session left
        unfinished in the device's decoder."""
        deadline = time.monotonic() + timeout
        self.flush_device_decoder()
        while (left := deadline - time.monotonic()) > 0:
            self.send(Msg.HELLO_REQ)
            for frame in self.read_frames(min(0.25, left)):
                if frame.type == Msg.HELLO and frame.payload:
                    return DeviceInfo(frame.payload[0],
                                      frame.payload[1:].decode("utf-8", errors="replace"))
        raise self._silence_error(timeout)


def _open_failure(url: str, e: Exception) -> str:
    """Why a port did not open, without pyserial's repetition of the port's name."""
    errno = getattr(e, "errno", None)
    if isinstance(errno, int) and errno > 0:
        return os.strerror(errno)
    text = str(e)
    for lead in (f"could not open port {url}: ", f"Could not open port {url}: "):
        text = text.removeprefix(lead)
    return text
