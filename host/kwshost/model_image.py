"""Model images: a 32-byte header (magic, version, length, CRC) in front of a .tflite.

The firmware finds its model in a flash region of its own by this header
(firmware/common/model_image.h has the layout), so a new model is flashed without
rebuilding the firmware, and an empty or damaged region is reported, not run.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from kwshost.errors import ModelError

MAGIC = b"KWSM"
VERSION = 1
HEADER_BYTES = 32
_FIRST = struct.Struct("<4sHHII12x")  # bytes 0..27; then the header's own CRC-32

# Where each target expects the region (must match the linker scripts).
MODEL_REGION = {"qemu": (0x10100000, 1 << 20), "efr32xg24": (0x08100000, 512 << 10)}


@dataclass(frozen=True)
class ModelImage:
    model: bytes
    version: int = VERSION

    @property
    def crc32(self) -> int:
        return zlib.crc32(self.model)

    def to_bytes(self) -> bytes:
        first = _FIRST.pack(MAGIC, self.version, HEADER_BYTES, len(self.model), self.crc32)
        return first + struct.pack("<I", zlib.crc32(first)) + self.model


def wrap(tflite: bytes) -> bytes:
    """A model image holding `tflite` (checked to be a TFLite flatbuffer)."""
    if len(tflite) < 8 or tflite[4:8] != b"TFL3":
        raise ModelError("not a .tflite model (the TFL3 identifier is missing)")
    return ModelImage(tflite).to_bytes()


def unwrap(image: bytes) -> bytes:
    """The .tflite inside an image; raises ModelError naming what is wrong."""
    if len(image) < HEADER_BYTES or image[:4] != MAGIC:
        raise ModelError("not a kwshost model image (magic KWSM missing)")
    magic, version, header, length, crc = _FIRST.unpack_from(image)
    if zlib.crc32(image[:28]) != struct.unpack_from("<I", image, 28)[0]:
        raise ModelError("model image header is damaged (CRC mismatch)")
    if version != VERSION:
        raise ModelError(f"model image format version {version} is not supported (want {VERSION})")
    model = image[header:header + length]
    if len(model) != length:
        raise ModelError(f"model image is truncated: {len(model)} of {length} model bytes")
    if zlib.crc32(model) != crc:
        raise ModelError("model image is damaged (model CRC mismatch)")
    return model


def image_for(path: Path) -> bytes:
    """Reads a .tflite (wrapped here) or an existing image file, and returns the image."""
    from kwshost.model_file import read_model

    data = read_model(path)
    if data[:4] == MAGIC:
        unwrap(data)
        return data
    return wrap(data)


def model_crc32(path: Path) -> int:
    """The CRC-32 an image header carries for the .tflite at PATH (or in the image there):
    what the firmware's banner reports for the model it runs."""
    return _FIRST.unpack_from(image_for(path))[4]


def write_image(tflite_path: Path, out_path: Path, target: str = "qemu") -> int:
    """Writes the image for `tflite_path`; returns its size. Checks it fits the target."""
    image = image_for(tflite_path)
    _base, size = MODEL_REGION[target]
    if len(image) > size:
        raise ModelError(f"model image of {len(image)} bytes does not fit the {target} model "
                         f"region ({size} bytes)")
    Path(out_path).write_bytes(image)
    return len(image)
