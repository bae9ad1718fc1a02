"""The link survives injected faults: random garbage, dropped and corrupted frames in both
directions, and a device reset mid-stream. No detection or score is lost or duplicated (the
events equal the PC pipeline's), and the host's report says what happened."""

from __future__ import annotations

import random

import pytest
from device_helpers import ALEXA, model_image_file, qemu_firmware, spoken_wav
from kwshost import protocol


class FaultyPort:
    """Wraps the pyserial port under a Link and damages traffic at random (seeded)."""

    def __init__(self, port, rng: random.Random, reset_after_frames: int) -> None:
        self.port = port
        self.rng = rng
        self.reset_after_frames = reset_after_frames
        self.frames = 0
        self.rx_bytes = 0
        self.next_rx_damage = 1500
        self.counts = {"dropped": 0, "corrupted": 0, "garbage": 0, "rx_damaged": 0, "reset": 0}

    def write(self, data: bytes) -> int:  # Link.send writes one whole frame per call
        self.frames += 1
        if self.frames == self.reset_after_frames:
            self.counts["reset"] += 1
            self.port.write(protocol.encode(protocol.Msg.RESET_REQ, 0))
        r = self.rng.random()
        if r < 0.03:
            self.counts["dropped"] += 1
            return len(data)
        out = bytearray(data)
        if r < 0.06:
            out[self.rng.randrange(len(out))] ^= 1 << self.rng.randrange(8)
            self.counts["corrupted"] += 1
        if self.rng.random() < 0.03:
            out[:0] = self.rng.randbytes(self.rng.randrange(1, 48))
            self.counts["garbage"] += 1
        self.port.write(bytes(out))
        return len(data)

    def read(self, n: int) -> bytes:
        data = self.port.read(n)
        self.rx_bytes += len(data)
        if data and self.rx_bytes >= self.next_rx_damage:  # about once per 2 kB received
            self.next_rx_damage = self.rx_bytes + self.rng.randint(1000, 3000)
            self.counts["rx_damaged"] += 1
            b = bytearray(data)
            i = self.rng.randrange(len(b))
            if self.rng.random() < 0.5:
                del b[i:i + self.rng.randrange(1, 12)]  # bytes lost
            else:
                b[i] ^= 0x5A  # a flipped byte
            data = bytes(b)
        return data

    @property
    def in_waiting(self) -> int:
        return self.port.in_waiting

    def flush(self) -> None:
        self.port.flush()

    def close(self) -> None:
        self.port.close()


@pytest.mark.slow
def test_stream_survives_faults_and_a_reset(tmp_path) -> None:
    import soundfile as sf
    from kwshost.device import DeviceStream
    from kwshost.link import Link
    from kwshost.pipeline import PcPipeline
    from kwshost.qemu import QemuBoard

    wav = spoken_wav(tmp_path / "speech.wav", ["alexa", "lights on", "alexa"], 0.7)
    samples, _ = sf.read(str(wav), dtype="int16")
    pipe = PcPipeline.from_model(ALEXA)
    want = [e for inf in pipe.process(samples) for e in inf.events(pipe.labels, verbose=True)]
    assert sum(e.type == "detection" for e in want) == 2

    got, notes = [], []
    with QemuBoard(qemu_firmware(), model_image=model_image_file(tmp_path)) as board:
        with Link(board.url, connect_timeout=5) as link:
            link.hello(timeout=5)
            faulty = FaultyPort(link._port, random.Random(7), reset_after_frames=40)
            link._port = faulty

            def on_event(event) -> None:
                (notes if event.type == "link" else got).append(event)

            stream = DeviceStream(link, on_event, verbose=True, silence_timeout=0.4)
            stream.start(timeout=10)
            report = stream.stream(samples)

    print(report.summary(), faulty.counts)  # shown with pytest -s
    assert [e for e in got if e.type in ("detection", "scores")] == want
    c = faulty.counts
    assert c["reset"] == 1 and c["dropped"] and c["corrupted"] and c["garbage"] and c["rx_damaged"]
    assert report.device_resets == 1 and len(notes) == 1 and "streaming again" in notes[0].text
    assert report.gaps + report.timeouts > 0 and report.samples_resent > 0
    assert report.bad_frames + report.garbage_bytes > 0
    summary = report.summary()
    assert "device resets 1" in summary and "samples resent" in summary
