"""A small bounds-checked FlatBuffers reader and the few writing helpers metadata.py needs.

FlatBuffers facts this relies on (from the format's specification):
- every offset to a table, vector or string is an unsigned 32-bit offset (uoffset) counted
  from where it is stored, so it always points forward;
- a table starts with a signed 32-bit offset to its vtable (vtable = table - soffset); the
  vtable holds its own size, the table's size, then one uint16 per field (0: field absent);
- a vector or string is a uint32 length followed by its elements (strings add a 0 byte).

Every read checks its bounds and raises FlatbufferError; nothing here trusts the input.
"""

from __future__ import annotations

import struct


class FlatbufferError(ValueError):
    """The bytes are not a well-formed flatbuffer where they were expected to be."""


class Buf:
    """A byte buffer with bounds-checked little-endian reads."""

    def __init__(self, data: bytes) -> None:
        self.data = bytes(data)

    def _check(self, pos: int, size: int) -> None:
        if pos < 0 or size < 0 or pos + size > len(self.data):
            raise FlatbufferError(f"read of {size} bytes at {pos} is outside the "
                                  f"{len(self.data)}-byte buffer")

    def scalar(self, fmt: str, pos: int):
        size = struct.calcsize("<" + fmt)
        self._check(pos, size)
        return struct.unpack_from("<" + fmt, self.data, pos)[0]

    def uoffset_target(self, pos: int) -> int:
        target = pos + self.scalar("I", pos)
        if target >= len(self.data):
            raise FlatbufferError(f"offset at byte {pos} points to byte {target}, past the end "
                                  f"of the {len(self.data)}-byte buffer (truncated?)")
        return target

    def root(self) -> Table:
        return Table(self, self.uoffset_target(0))


class Table:
    """One table: field lookups by index, each checked against the vtable and the buffer."""

    def __init__(self, buf: Buf, pos: int) -> None:
        self.buf = buf
        self.pos = pos
        self.vtable = pos - buf.scalar("i", pos)
        self.vtable_size = buf.scalar("H", self.vtable)
        if self.vtable_size < 4 or self.vtable_size % 2:
            raise FlatbufferError(f"vtable at {self.vtable} has a bad size {self.vtable_size}")
        buf._check(self.vtable, self.vtable_size)
        self.table_size = buf.scalar("H", self.vtable + 2)
        buf._check(pos, max(self.table_size, 4))

    def field_pos(self, index: int) -> int | None:
        """Absolute position of field `index`, or None where the table omits it."""
        entry = 4 + 2 * index
        if entry + 2 > self.vtable_size:
            return None
        rel = self.buf.scalar("H", self.vtable + entry)
        if rel == 0:
            return None
        if rel + 1 > self.table_size:
            raise FlatbufferError(f"field {index} of the table at {self.pos} lies outside it")
        return self.pos + rel

    def scalar(self, index: int, fmt: str, default=0):
        pos = self.field_pos(index)
        return default if pos is None else self.buf.scalar(fmt, pos)

    def table(self, index: int) -> Table | None:
        pos = self.field_pos(index)
        return None if pos is None else Table(self.buf, self.buf.uoffset_target(pos))

    def vector(self, index: int) -> tuple[int, int] | None:
        """(position of the first element, element count) of a vector field, or None."""
        pos = self.field_pos(index)
        if pos is None:
            return None
        start = self.buf.uoffset_target(pos)
        count = self.buf.scalar("I", start)
        return start + 4, count

    def tables(self, index: int) -> list[Table]:
        vec = self.vector(index)
        if vec is None:
            return []
        first, count = vec
        self.buf._check(first, 4 * count)
        return [Table(self.buf, self.buf.uoffset_target(first + 4 * i)) for i in range(count)]

    def scalars(self, index: int, fmt: str) -> list:
        vec = self.vector(index)
        if vec is None:
            return []
        first, count = vec
        size = struct.calcsize("<" + fmt)
        self.buf._check(first, size * count)
        return list(struct.unpack_from(f"<{count}{fmt}", self.buf.data, first))

    def bytes(self, index: int) -> bytes | None:
        vec = self.vector(index)
        if vec is None:
            return None
        first, count = vec
        self.buf._check(first, count)
        return self.buf.data[first:first + count]

    def string(self, index: int) -> str | None:
        raw = self.bytes(index)
        return None if raw is None else _decode(raw)

    def strings(self, index: int) -> list[str]:
        vec = self.vector(index)
        if vec is None:
            return []
        first, count = vec
        self.buf._check(first, 4 * count)
        out = []
        for i in range(count):
            start = self.buf.uoffset_target(first + 4 * i)
            length = self.buf.scalar("I", start)
            self.buf._check(start + 4, length)
            out.append(_decode(self.buf.data[start + 4:start + 4 + length]))
        return out


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise FlatbufferError(f"a string is not UTF-8: {e}") from None


class Builder:
    """Appends flatbuffer objects front-to-back at positions known in advance.

    Objects are laid out in the order they are written, so an object may only refer to
    objects written after it (uoffsets point forward). `patch_uoffset` fills a reference once
    its target's position is known.
    """

    def __init__(self, base: int = 0) -> None:
        self.base = base  # absolute position of out[0] in the final file
        self.out = bytearray()
        self._vtables: dict[bytes, int] = {}  # written vtables, shared by equal tables

    @property
    def pos(self) -> int:
        return self.base + len(self.out)

    def align(self, n: int) -> None:
        while self.pos % n:
            self.out.append(0)

    def put(self, fmt: str, *values) -> int:
        at = self.pos
        self.out += struct.pack("<" + fmt, *values)
        return at

    def patch_uoffset(self, at: int, target: int) -> None:
        if target <= at:
            raise FlatbufferError("a flatbuffer offset must point forward")
        struct.pack_into("<I", self.out, at - self.base, target - at)

    def table(self, fields: list[tuple[str, object] | None]) -> tuple[int, list[int]]:
        """Write a vtable then its table. `fields[i]` is (struct format, value) or None.

        Returns the table's position and each field's position (-1 where absent), so
        uoffset fields (format "I", value 0) can be patched later.
        """
        n = len(fields)
        sizes = [0 if f is None else struct.calcsize("<" + f[0]) for f in fields]
        # Lay out fields largest first; a table whose layout was written before shares that
        # vtable (as flatbuffers builders do), else its own goes right before it.
        offsets = [0] * n
        cursor = 4
        for i in sorted(range(n), key=lambda i: -sizes[i]):
            if fields[i] is None:
                continue
            cursor += (-cursor) % sizes[i]
            offsets[i] = cursor
            cursor += sizes[i]
        table_size = cursor + (-cursor) % 4
        vtable = struct.pack(f"<HH{n}H", 4 + 2 * n, table_size, *offsets)
        self.align(4)
        vtable_at = self._vtables.get(vtable)
        if vtable_at is None:
            vtable_at = self._vtables[vtable] = self.pos
            self.out += vtable
            self.align(4)
        table_at = self.pos
        body = bytearray(table_size)
        struct.pack_into("<i", body, 0, table_at - vtable_at)
        field_pos = [-1] * n
        for i, f in enumerate(fields):
            if f is not None:
                struct.pack_into("<" + f[0], body, offsets[i], f[1])
                field_pos[i] = table_at + offsets[i]
        self.out += body
        return table_at, field_pos

    def vector_of_offsets(self, count: int) -> tuple[int, list[int]]:
        """A vector of `count` uoffsets to patch later: (vector position, slot positions)."""
        self.align(4)
        at = self.put("I", count)
        slots = [self.put("I", 0) for _ in range(count)]
        return at, slots

    def vector_of_scalars(self, fmt: str, values: list, align: int = 4) -> int:
        size = struct.calcsize("<" + fmt)
        # The length prefix sits right before the elements, which need their own alignment.
        while (self.pos + 4) % max(size, align):
            self.out.append(0)
        at = self.put("I", len(values))
        if values:
            self.out += struct.pack(f"<{len(values)}{fmt}", *values)
        return at

    def bytes_vector(self, data: bytes, align: int = 4) -> int:
        while (self.pos + 4) % align:
            self.out.append(0)
        at = self.put("I", len(data))
        self.out += data
        return at

    def string(self, text: str) -> int:
        self.align(4)
        raw = text.encode("utf-8")
        at = self.put("I", len(raw))
        self.out += raw + b"\0"
        return at
