"""What `kwshost listen` reports, from the PC pipeline or a device: one Event per line.

Text output follows MLTK's classify_audio log (`Detected class=0 label=alexa score=230
@1400ms`); --json prints one object per event with the same fields on both paths.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Event:
    type: str                      # "detection", "scores", "log", "error" or "link"
    time_ms: int | None = None     # ms of audio since the start of the stream
    class_index: int | None = None
    label: str | None = None
    score: int | None = None       # averaged score 0..255 (scores: of the top class)
    scores: tuple[int, ...] | None = field(default=None)  # raw scores 0..255, one per class
    text: str | None = None

    def to_json(self) -> str:
        return json.dumps({k: (list(v) if isinstance(v, tuple) else v)
                           for k, v in asdict(self).items() if v is not None})

    def format(self, labels: tuple[str, ...] = ()) -> str:
        if self.type == "detection":
            return (f"Detected class={self.class_index} label={self.label} score={self.score} "
                    f"@{self.time_ms}ms")
        if self.type == "scores":
            raw = " ".join(f"{labels[i] if i < len(labels) else i}={s:3d}"
                           for i, s in enumerate(self.scores or ()))
            avg = f"avg {self.label}={self.score}" if self.score else "avg (too few results)"
            return f"[{self.time_ms:6d} ms] {raw}  {avg}"
        return f"{self.type}: {self.text}"


def label_of(labels: tuple[str, ...], index: int) -> str:
    return labels[index] if 0 <= index < len(labels) else "?"
