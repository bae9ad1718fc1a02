"""Framing: the Python codec against itself and against the firmware's C codec."""

from __future__ import annotations

import ctypes
import random

from kwshost import protocol


def test_round_trip_through_garbage_and_split_reads() -> None:
    rng = random.Random(1)
    frames = [(rng.randrange(256), i, rng.randbytes(rng.randrange(0, 300))) for i in range(50)]
    stream = b"".join(rng.randbytes(rng.randrange(0, 20)).replace(b"\xa5", b"")
                      + protocol.encode(t, s, p) for t, s, p in frames)
    dec = protocol.Decoder()
    got = []
    pos = 0
    while pos < len(stream):
        step = rng.randrange(1, 64)
        got += dec.feed(stream[pos:pos + step])
        pos += step
    assert [(f.type, f.seq, f.payload) for f in got] == frames


def test_corruption_drops_only_the_damaged_frame() -> None:
    a = bytearray(protocol.encode(1, 1, b"first"))
    b = protocol.encode(2, 2, b"second")
    a[8] ^= 0xFF
    dec = protocol.Decoder()
    assert [f.payload for f in dec.feed(bytes(a) + b)] == [b"second"]
    assert dec.bad_frames == 1


def test_corrupted_length_does_not_swallow_next_frame() -> None:
    a = bytearray(protocol.encode(1, 1, b"first"))
    a[5] = 0x07
    dec = protocol.Decoder()
    assert [f.payload for f in dec.feed(bytes(a) + protocol.encode(2, 2, b"x"))] == [b"x"]


def test_c_and_python_codecs_agree(native_lib) -> None:
    lib = native_lib
    lib.kws_frame_encode.restype = ctypes.c_size_t
    lib.kws_frame_encode.argtypes = [ctypes.c_uint8, ctypes.c_uint8, ctypes.c_char_p,
                                     ctypes.c_uint16, ctypes.c_char_p, ctypes.c_size_t]
    rng = random.Random(7)
    for _ in range(200):
        t, s, payload = rng.randrange(256), rng.randrange(256), rng.randbytes(rng.randrange(600))
        out = ctypes.create_string_buffer(len(payload) + 16)
        n = lib.kws_frame_encode(t, s, payload, len(payload), out, len(out))
        assert out.raw[:n] == protocol.encode(t, s, payload)


def test_text_before_the_first_frame_is_a_preamble_not_noise() -> None:
    """The firmware prints its banner before the protocol starts: `listen` must not report
    it as garbage on the link; bytes between frames are garbage."""
    banner = b"kws firmware 0.1.0 on qemu mps2-an505\r\n"
    dec = protocol.Decoder()
    frames = dec.feed(banner + protocol.encode(1, 1, b"a") + b"\x00junk" +
                      protocol.encode(2, 2, b"b"))
    assert [f.payload for f in frames] == [b"a", b"b"]
    assert dec.preamble_bytes == len(banner) and dec.skipped_bytes == len(banner) + 5
    assert bytes(dec.text) == banner + b"\x00junk"
