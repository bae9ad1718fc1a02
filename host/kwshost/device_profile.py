"""Per-operator cost measured on a device: the firmware runs one inference with the runtime's
per-op hook reading its counter (DWT cycles on the EFR32; on QEMU a 20 MHz timer in virtual
time, which under -icount shift=0 counts exactly one tick per 50 instructions), and sends one
PROFILE frame per operator. Here the counts are joined with the model's own per-op facts
(op, OPs, MACs, shapes, options) into the seed's table."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from kwshost.errors import LinkError
from kwshost.link import Link
from kwshost.protocol import PROFILE_OP, PROFILE_SUMMARY, PROFILE_UNIT, Msg

CPU_HZ = 78_000_000  # the EFR32xG24 at its 78 MHz HFXO+DPLL clock


@dataclass
class DeviceProfile:
    unit: str = ""
    ticks: dict[int, int] = field(default_factory=dict)  # op index -> counter ticks
    builtin: dict[int, int] = field(default_factory=dict)
    total_ticks: int = 0          # sum over operators
    invoke_ticks: int = 0         # one whole inference (operators + interpreter), 0 if unknown
    arena_bytes: int = 0
    model_bytes: int = 0
    n_ops: int = 0

    @property
    def is_cycles(self) -> bool:
        return self.unit.startswith("cpu cycles")

    @property
    def scale(self) -> int:
        """Instructions per tick on QEMU (-icount), cycles per tick on the board."""
        return 50 if "x50 instructions" in self.unit else 1

    def measure(self, ticks: int) -> int:
        return ticks * self.scale

    @property
    def measure_name(self) -> str:
        return "CPU cycles" if self.is_cycles else "instructions (QEMU -icount)"


def request_profile(link: Link, timeout: float = 30.0, tries: int = 3) -> DeviceProfile:
    """Asks the device for one profiled inference; retries if a frame was lost on the way."""
    for _ in range(tries):
        link.send(Msg.PROFILE_REQ)
        prof = DeviceProfile()
        deadline = time.monotonic() + timeout
        done = False
        while not done and time.monotonic() < deadline:
            for frame in link.read_frames(0.5):
                if frame.type == Msg.ERROR:
                    text = frame.payload[1:].decode("utf-8", "replace")
                    raise LinkError(f"the device cannot profile: {text}")
                if frame.type != Msg.PROFILE or not frame.payload:
                    continue
                kind, body = frame.payload[0], frame.payload[1:]
                if kind == PROFILE_UNIT:
                    prof.unit = body.decode("utf-8", "replace")
                elif kind == PROFILE_OP:
                    index, code, ticks = frame.fields("HHI", 1)
                    prof.ticks[index], prof.builtin[index] = ticks, code
                elif kind == PROFILE_SUMMARY:
                    (prof.total_ticks, prof.arena_bytes, prof.model_bytes,
                     prof.n_ops) = frame.fields("IIIH", 1)
                    if len(body) >= 20:   # firmware that also times the whole inference
                        (prof.invoke_ticks,) = frame.fields("I", 17)
                    done = True
        if done and len(prof.ticks) == prof.n_ops and prof.unit:
            return prof
    raise LinkError(f"no complete profile from {link.url} after {tries} tries",
                    hint="is a model flashed? (kwshost info shows it in the banner)")


def profile_rows(prof: DeviceProfile, model: Path) -> list[dict[str, object]]:
    """The seed's per-op table: index, op, OPs, MACs, cost, time, shapes, options."""
    from kwshost.cli.summarize import summarize

    summary = summarize(Path(model))
    rows = []
    for op in summary["operators"]:  # type: ignore[union-attr]
        i = op["index"]
        measure = prof.measure(prof.ticks.get(i, 0))
        rows.append({
            "index": i, "op": op["op"], "ops": op["ops"], "macs": op["macs"],
            "measure": measure,
            "time_ms": measure / CPU_HZ * 1000 if prof.is_cycles else None,
            "inputs": [None if t is None else t["shape"] for t in op["inputs"]],
            "outputs": [t["shape"] for t in op["outputs"]],
            "options": op["options"],
        })
    return rows
