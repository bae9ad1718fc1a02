"""Streaming audio into a device and collecting its events, reliably over a lossy link.

The device takes audio frames only in order (each frame names its first sample) and acks
the next sample it needs; events are numbered and can be asked for again (docs/protocol.md).
This side keeps at most the device's window of audio unacknowledged, goes back to the acked
sample on a gap or a silence, asks again for events it missed, and, if the device resets,
starts the stream over and drops the events it already reported: the pipeline is
deterministic, so the replay gives the same events with the same numbers. Every sample is
processed exactly once per device run; every event is reported exactly once.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from kwshost.errors import LinkError
from kwshost.events import Event, label_of
from kwshost.link import Link, flash_command
from kwshost.protocol import (
    ACK_GAP,
    ACK_NOT_STARTED,
    AUDIO_MAX_SAMPLES,
    START_MICROPHONE,
    START_VERBOSE,
    Frame,
    Msg,
)

STATUS_NAMES = {0: "ok", 1: "bad argument", 2: "buffer too small", 3: "malformed model",
                4: "unsupported", 5: "i/o error", 6: "checksum mismatch", 7: "timeout",
                8: "wrong state", 9: "not found"}


@dataclass
class LinkReport:
    """What happened on the link during a stream (printed by `listen`, checked by tests)."""

    samples: int = 0
    frames_sent: int = 0
    samples_resent: int = 0
    gaps: int = 0            # device saw a frame from the future: one was lost or damaged
    timeouts: int = 0        # silences after which the host went back to the acked sample
    events_requested: int = 0
    device_resets: int = 0
    garbage_bytes: int = 0   # bytes from the device outside valid frames, after the first one
    bad_frames: int = 0      # frames from the device dropped for a bad check or CRC
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        rate = self.samples / self.seconds / 1000 if self.seconds else 0
        parts = [f"{self.samples} samples in {self.seconds:.1f} s ({rate:.1f} kS/s)"]
        for name in ("samples_resent", "gaps", "timeouts", "events_requested", "device_resets",
                     "garbage_bytes", "bad_frames"):
            value = getattr(self, name)
            if value:
                parts.append(f"{name.replace('_', ' ')} {value}")
        return "link: " + ", ".join(parts)


@dataclass(frozen=True)
class StreamInfo:
    sample_rate: int
    latency_ms: int
    window_bytes: int
    threshold: int
    labels: tuple[str, ...]


class DeviceStream:
    """One listening session on a device: `start()`, then `stream(samples)`."""

    def __init__(self, link: Link, on_event: Callable[[Event], None], verbose: bool = False,
                 silence_timeout: float = 0.6, give_up_after: float = 20.0,
                 max_resets: int = 5) -> None:
        self.link = link
        self.on_event = on_event
        self.verbose = verbose
        self.silence_timeout = silence_timeout
        self.give_up_after = give_up_after
        self.max_resets = max_resets  # a device that keeps rebooting would loop forever
        self.report = LinkReport()
        self.info: StreamInfo | None = None
        self._delivered = 0          # events reported so far (their numbers are 0.._delivered-1)
        self._pending: dict[int, Event] = {}
        self._device_events = 0      # events the device says it has emitted
        self._reset_seen = False
        self._last_events_req = 0.0
        self._last_ack_time = 0.0

    # --- session start ---------------------------------------------------------------------
    def start(self, timeout: float = 5.0) -> StreamInfo:
        deadline = time.monotonic() + timeout
        flags = START_VERBOSE if self.verbose else 0
        while time.monotonic() < deadline:
            self.link.send(Msg.START, bytes([flags]))
            for frame in self.link.read_frames(0.5):
                if frame.type == Msg.STARTED:
                    rate, latency, window, n, threshold = frame.fields("HHHBB")
                    if rate == 0:  # audio cannot be converted to 0 Hz: say whose fault it is
                        raise LinkError(f"the device on {self.link.url} reports a sample "
                                        "rate of 0 Hz", hint="is it running this kwshost's "
                                                             "firmware? (kwshost info)")
                    labels = tuple(frame.payload[8:].decode("utf-8", "replace").split("\n"))
                    if len(labels) != n:
                        labels = tuple(str(i) for i in range(n))
                    self.info = StreamInfo(rate, latency, window, threshold, labels)
                    return self.info
                if frame.type == Msg.ERROR:
                    raise LinkError(f"the device cannot listen: {self._error_text(frame)}",
                                    hint=f"flash a model: {flash_command(self.link.url)}")
                self._other(frame)
        raise LinkError(f"the device on {self.link.url} did not start listening within "
                        f"{timeout:g} s", hint="is kwshost firmware running on it? (kwshost info)")

    def listen_microphone(self) -> None:
        """The board listens to its own microphone; prints its events until Ctrl-C."""
        flags = (START_VERBOSE if self.verbose else 0) | START_MICROPHONE
        self.link.send(Msg.START, bytes([flags]))
        last_sync = time.monotonic()
        while True:
            for frame in self.link.read_frames(0.5):
                if frame.type == Msg.ERROR:
                    raise LinkError(f"the board cannot listen: {self._error_text(frame)}")
                if frame.type in (Msg.DETECTION, Msg.SCORES):
                    self._event(frame)
                elif frame.type == Msg.ACK:
                    self._device_events = max(self._device_events, frame.fields("I", 4)[0])
                    self._ask_for_missing_events()
                elif frame.type != Msg.STARTED:
                    self._other(frame)
            if time.monotonic() - last_sync > 1.0:
                last_sync = time.monotonic()
                self.link.send(Msg.SYNC_REQ)

    # --- streaming -------------------------------------------------------------------------
    def stream(self, samples: np.ndarray, chunk: int = AUDIO_MAX_SAMPLES,
               on_progress: Callable[[int, int], None] | None = None) -> LinkReport:
        """Streams `samples` (each processed exactly once); on_progress(acked, total) is
        called whenever the device acknowledges more of them."""
        if self.info is None:
            self.start()
        assert self.info is not None
        pcm = np.ascontiguousarray(samples, dtype="<i2")
        total = len(pcm)
        window = max(1, self.info.window_bytes // 2)
        acked = sent = 0
        rewound_at, rewound_time = -1, 0.0
        began = time.monotonic()
        last_progress = began
        ack_gap = 0.0  # running average of the time between acks that moved forward
        final_sync_sent = 0.0
        while True:
            while sent < total and sent - acked < window:
                n = min(chunk, total - sent, window - (sent - acked))
                self.link.send(Msg.AUDIO, struct.pack("<I", sent) + pcm[sent:sent + n].tobytes())
                self.report.frames_sent += 1
                sent += n
            if acked >= total and self._delivered >= self._device_events and not self._pending:
                if final_sync_sent and self._synced_after(final_sync_sent):
                    break
                if not final_sync_sent:
                    final_sync_sent = time.monotonic()
                    self.link.send(Msg.SYNC_REQ)
            # A silence counts as a loss only when it is well beyond the usual gap between
            # acks on this link (a slow or loaded link is not a lossy one).
            wait = max(self.silence_timeout, 4 * ack_gap)
            frames = self.link.read_frames(wait)
            self._count_link_noise()
            if time.monotonic() - last_progress > self.give_up_after:
                # Checked whether or not frames come: a device that keeps sending logs, or
                # acks that never move on, is as stuck as a silent one.
                what = "answers but makes" if frames else "stopped answering:"
                raise LinkError(f"the device {what} no progress for {self.give_up_after:g} s "
                                f"(at sample {acked} of {total})",
                                hint="is the board still running? (kwshost info)")
            if not frames:
                self.report.timeouts += 1
                if sent > acked:
                    self.report.samples_resent += sent - acked
                    sent = acked
                self.link.send(Msg.SYNC_REQ)
                final_sync_sent = 0.0
                continue
            for frame in frames:
                if frame.type == Msg.ACK:
                    nxt, emitted, _win, flags = frame.fields("IIHB")
                    self._last_ack_time = time.monotonic()
                    if flags & ACK_NOT_STARTED or nxt < acked:
                        self._handle_reset("the device lost its session" if flags & ACK_NOT_STARTED
                                           else f"the device went back to sample {nxt}")
                        acked = sent = 0
                        last_progress = time.monotonic()
                        rewound_at = -1
                        final_sync_sent = 0.0
                        break
                    if nxt > acked:
                        acked = nxt
                        now = time.monotonic()
                        ack_gap = 0.8 * ack_gap + 0.2 * (now - last_progress)
                        last_progress = now
                        if on_progress is not None:
                            on_progress(acked, total)
                    self._device_events = max(self._device_events, emitted)
                    # Go back on a gap, once per position; again at the same position only
                    # when the resent frame should have arrived by now (it was lost too).
                    now = time.monotonic()
                    if flags & ACK_GAP and (rewound_at != acked or
                                            now - rewound_time > max(0.2, 2 * ack_gap)):
                        self.report.gaps += 1
                        self.report.samples_resent += max(0, sent - acked)
                        rewound_at, rewound_time = acked, now
                        sent = acked
                    sent = max(sent, acked)
                    self._ask_for_missing_events()
                elif frame.type in (Msg.DETECTION, Msg.SCORES):
                    self._event(frame)
                elif frame.type == Msg.BOOT:
                    self._handle_reset("the device rebooted")
                    acked = sent = 0
                    last_progress = time.monotonic()
                    rewound_at = -1
                    final_sync_sent = 0.0
                    break
                else:
                    self._other(frame)
        self.report.samples = total
        self.report.seconds = time.monotonic() - began
        return self.report

    def _synced_after(self, when: float) -> bool:
        return self._last_ack_time >= when

    def _count_link_noise(self) -> None:
        # The boot banner comes before the first frame: text, not link noise.
        d = self.link.decoder
        self.report.garbage_bytes = d.skipped_bytes - d.preamble_bytes
        self.report.bad_frames = d.bad_frames

    def _handle_reset(self, why: str) -> None:
        self.report.device_resets += 1
        if self.report.device_resets > self.max_resets:
            raise LinkError(f"the device reset {self.report.device_resets} times during one "
                            f"stream (last: {why}); giving up",
                            hint="is the board's power or firmware unstable? (kwshost info)")
        note = (f"{why}: streaming again from the start; the {self._delivered} events already "
                f"reported are not repeated")
        self.report.notes.append(note)
        self.on_event(Event("link", text=note))
        self._pending.clear()
        self._device_events = 0
        self.info = None
        self.start()

    def _ask_for_missing_events(self) -> None:
        if self._device_events > self._delivered:
            now = time.monotonic()
            if now - self._last_events_req > self.silence_timeout:
                self._last_events_req = now
                self.report.events_requested += 1
                self.link.send(Msg.EVENTS_REQ, struct.pack("<I", self._delivered))

    def _event(self, frame: Frame) -> None:
        assert self.info is not None
        labels = self.info.labels
        if frame.type == Msg.DETECTION:
            seq, t, cls, score = frame.fields("IIBB")
            ev = Event("detection", t, cls, label_of(labels, cls), score)
        else:
            seq, t, n = frame.fields("IIB")
            raw = frame.fields(f"{n}B", 9)
            top, avg = frame.fields("BB", 9 + n)
            ev = Event("scores", t, top, label_of(labels, top), avg, raw)
        if seq >= self._delivered:
            self._pending[seq] = ev
        self._device_events = max(self._device_events, seq + 1)
        while self._delivered in self._pending:
            self.on_event(self._pending.pop(self._delivered))
            self._delivered += 1
        if self._pending:
            self._ask_for_missing_events()

    @staticmethod
    def _error_text(frame: Frame) -> str:
        code = frame.payload[0] if frame.payload else 0
        text = frame.payload[1:].decode("utf-8", "replace")
        return f"{text} ({STATUS_NAMES.get(code, code)})"

    def _other(self, frame: Frame) -> None:
        if frame.type == Msg.LOG:
            self.on_event(Event("log", text=frame.payload[1:].decode("utf-8", "replace")))
        elif frame.type == Msg.ERROR:
            self.on_event(Event("error", text=self._error_text(frame)))
