"""Structural mutants of small models, for the fuzz target: every operator input and output
index replaced by every tensor index (and -1), every dimension set to 1, 2, 3, 7 and 64,
every tensor type replaced by each supported type. Random byte flips rarely reach these
combinations; run them through the sanitized target with `-runs=0`:

    .venv/bin/python fuzz/structural_mutants.py OUT_DIR MODEL.tflite...
    build/fuzz/fuzz_model_loader -runs=0 OUT_DIR
"""

from __future__ import annotations

import hashlib
import struct
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "host"))

from kwshost.flatbuf import Buf  # noqa: E402

DIMS = (1, 2, 3, 7, 64)
TYPES = (0, 2, 3, 4, 6, 7, 9)


def mutants(model: bytes):
    sg = Buf(model).root().tables(2)[0]
    tensors = sg.tables(0)

    def patched(pos: int, fmt: str, value: int) -> bytes:
        out = bytearray(model)
        struct.pack_into("<" + fmt, out, pos, value)
        return bytes(out)

    for op in sg.tables(3):
        for field in (1, 2):  # inputs, outputs
            vec = op.vector(field)
            if vec is None:
                continue
            first, count = vec
            for i in range(count):
                for t in range(-1, len(tensors)):
                    yield patched(first + 4 * i, "i", t)
    for t in tensors:
        vec = t.vector(0)
        if vec is not None:
            first, count = vec
            for d in range(count):
                for value in DIMS:
                    yield patched(first + 4 * d, "i", value)
        pos = t.field_pos(1)
        if pos is not None:
            for value in TYPES:
                yield patched(pos, "B", value)


def main() -> int:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    n = 0
    for path in sys.argv[2:]:
        for m in mutants(Path(path).read_bytes()):
            (out / hashlib.sha1(m).hexdigest()).write_bytes(m)
            n += 1
    print(f"{n} mutants in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
