"""Model images written by the host are read by the firmware's C reader, and damage is named."""

from __future__ import annotations

import ctypes

import pytest
from kwshost import model_image
from kwshost.errors import ModelError
from kwshost.paths import MODELS_DIR

ALEXA = MODELS_DIR / "mltk_keyword_spotting_alexa.tflite"
OK, NOT_FOUND, UNSUPPORTED, CRC, MODEL_INVALID = 0, 9, 4, 6, 3


class _Image(ctypes.Structure):
    _fields_ = [("model", ctypes.c_void_p), ("length", ctypes.c_uint32),
                ("crc32", ctypes.c_uint32), ("version", ctypes.c_uint16)]


def c_open(native_lib, region: bytes) -> tuple[int, _Image, ctypes.Array]:
    buf = ctypes.create_string_buffer(region, len(region))
    img = _Image()
    native_lib.kws_model_image_open.argtypes = [ctypes.c_void_p, ctypes.c_size_t,
                                                ctypes.POINTER(_Image)]
    status = native_lib.kws_model_image_open(buf, len(region), ctypes.byref(img))
    return status, img, buf


def test_c_reader_opens_host_image(native_lib) -> None:
    tflite = ALEXA.read_bytes()
    image = model_image.wrap(tflite)
    region = image + b"\xff" * 4096  # the rest of the region stays erased
    status, img, buf = c_open(native_lib, region)
    assert status == OK
    assert img.length == len(tflite)
    assert img.model - ctypes.addressof(buf) == model_image.HEADER_BYTES
    assert ctypes.string_at(img.model, img.length) == tflite
    assert model_image.unwrap(image) == tflite


def test_damage_is_reported(native_lib) -> None:
    image = bytearray(model_image.wrap(ALEXA.read_bytes()))
    assert c_open(native_lib, b"\xff" * 64)[0] == NOT_FOUND
    assert c_open(native_lib, b"\x00" * 64)[0] == NOT_FOUND
    flipped = bytearray(image)
    flipped[5000] ^= 0x10
    assert c_open(native_lib, bytes(flipped))[0] == CRC
    with pytest.raises(ModelError, match="model CRC"):
        model_image.unwrap(bytes(flipped))
    header = bytearray(image)
    header[9] ^= 1  # the length: caught by the header CRC
    assert c_open(native_lib, bytes(header))[0] == CRC
    assert c_open(native_lib, bytes(image[:-10]))[0] == MODEL_INVALID  # region too small
    newer = model_image.ModelImage(b"TFL3" * 4, version=2).to_bytes()
    assert c_open(native_lib, newer)[0] == UNSUPPORTED


def test_wrap_refuses_non_tflite(tmp_path) -> None:
    with pytest.raises(ModelError, match="not a .tflite"):
        model_image.wrap(b"hello world, not a model")
    p = tmp_path / "m.tflite"
    p.write_bytes(ALEXA.read_bytes())
    out = tmp_path / "m.kwsm"
    assert model_image.write_image(p, out) == ALEXA.stat().st_size + 32
    assert model_image.image_for(out) == out.read_bytes()
