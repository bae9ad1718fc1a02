"""JSON files written whole: a manifest or a run's state on disk is the old one or the new one,
never half of one (a process stopped while writing it)."""

from __future__ import annotations

import json
from pathlib import Path


def write_json_whole(path: Path, data: object) -> None:
    """DATA as indented JSON at PATH, written beside it first and renamed over it."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(data, indent=1))
    partial.replace(path)
