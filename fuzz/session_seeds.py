"""Seed scripts for fuzz_session.cc (its input format: one board byte, then operations), so the
fuzzer starts from sessions that stream audio and get detections back rather than from bytes
that never pass a frame check.

    python fuzz/session_seeds.py DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HELLO, START, AUDIO, EVENTS, SYNC, PROFILE, RESET, OTHER = range(8)


def frame(kind: int, payload: bytes, split: int = 0, flags: int = 0) -> bytes:
    """One encoded-by-the-harness frame: op, [type], length byte, payload, split point."""
    length = len(payload) // 4 if kind == AUDIO else len(payload)
    return bytes([kind | flags, length]) + payload + bytes([split])


def audio(rng: np.random.Generator) -> bytes:
    """An in-order AUDIO op repeated 29 times: ~0.9 s of a tone in noise per op."""
    t = np.arange(508) / 16000
    pcm = (3000 * np.sin(2 * np.pi * 440 * t) + rng.normal(0, 500, t.size)).astype("<i2")
    return frame(AUDIO, b"\0\0\0\0" + pcm.tobytes(), split=17, flags=7 << 3)


def seeds() -> dict[str, bytes]:
    rng = np.random.default_rng(1)
    stream = b"".join(audio(rng) for _ in range(2))   # the harness takes 1.5 s at most
    return {
        "hello": b"\0" + frame(HELLO, b""),
        "stream": b"\0" + frame(START, b"\x01") + stream + frame(EVENTS, b"\0\0\0\0"),
        "stream_quiet": b"\0" + frame(START, b"\x00") + stream + frame(SYNC, b""),
        # the MVP kernels on the simulator (~1 s per inference under ASan): half a second
        "stream_mvp": b"\x01" + frame(START, b"\x01") + frame(AUDIO, b"\0" * 1020, split=3,
                                                               flags=4 << 3),
        "no_model": b"\xff" + frame(START, b"\x01") + frame(PROFILE, b"") + frame(HELLO, b""),
        "noise_then_sync": b"\0" + bytes([0x80 | 40, 3]) + bytes(rng.integers(0, 256, 41,
                                                                          dtype=np.uint8))
                           + frame(SYNC, b"") + frame(RESET, b""),
        "mic_and_unknown": b"\0" + frame(START, b"\x02") + bytes([OTHER, 0x42, 0, 0]),
    }


def main() -> int:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for name, data in seeds().items():
        (out / f"seed_{name}").write_bytes(data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
