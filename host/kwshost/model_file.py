"""Reading a model file: the one place that names a missing, empty or unreadable model, so
that every command says the same about it."""

from __future__ import annotations

from pathlib import Path

from kwshost.errors import ModelError


def read_model(path: Path | str, hint: str | None = None) -> bytes:
    """The bytes of the model file at PATH; ModelError (with HINT where it is missing) for a
    missing file, a folder, an empty file or one that cannot be read."""
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
    return data
