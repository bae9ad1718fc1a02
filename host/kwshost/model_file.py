"""Reading a model file: the one place that names a missing, empty or unreadable model, so
that every command says the same about it."""

from __future__ import annotations

import sys
from pathlib import Path

from kwshost.errors import ModelError

_ADOPTED: set[Path] = set()  # models already announced as read through their manifest


def read_model(path: Path | str, hint: str | None = None) -> bytes:
    """The bytes of the model file at PATH; ModelError (with HINT where it is missing) for a
    missing file, a folder, an empty file or one that cannot be read. A microWakeWord model
    (no SL_PARAMSv1, its JSON manifest beside it) comes with metadata made from the manifest
    (kwshost.mww), so every command runs it as it runs ours."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise ModelError(f"model not found: {path}", hint=hint) from None
    except IsADirectoryError:
        raise ModelError(f"{path} is a folder, not a model") from None
    except OSError as e:
        raise ModelError(f"cannot read model {path}: {e.strerror}") from None
    if not data:
        raise ModelError(f"{path}: empty file, not a .tflite model")
    if data[:4] == b"PK\x03\x04" or data[:8] == b"\x89HDF\r\n\x1a\n":
        # A .keras (zip) or .h5 (HDF5) model: "not a well-formed .tflite ... damaged, or not
        # a model at all" sent its owner looking for damage; it wants converting.
        kind = "a zip archive (a Keras .keras model?)" if data[:2] == b"PK" else \
            "an HDF5 file (a Keras .h5 model?)"
        raise ModelError(f"{path} is {kind}, not a .tflite model",
                         hint="a model trained with kwshost converts to int8 .tflite with "
                              f"`kwshost convert --keras {path} --out M.tflite`")
    from kwshost.mww import adopt

    adopted = adopt(Path(path), data)
    if adopted is None:
        return data
    data, manifest = adopted
    if Path(path).resolve() not in _ADOPTED:
        _ADOPTED.add(Path(path).resolve())
        print(f"note: {path} has no SL_PARAMSv1 metadata; using the microWakeWord settings of "
              f"{manifest.name} (`kwshost params {path} -o OUT.tflite` stores them)",
              file=sys.stderr)
    return data
