"""Calls MLTK's AudioFeatureGenerator (bench/frontend/oracle.py in the reference venv) from the
project's venv: int16 clips in, its features out, and the seconds it spent computing them."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np

ORACLE = Path(__file__).with_name("oracle.py")
REPO = Path(__file__).resolve().parents[2]
MAX_SECONDS_PER_CALL = 134  # the wrapper computes sample_length_ms * rate in 32 bits


def ref_python() -> Path | None:
    """The reference venv's interpreter, or None when it is not installed."""
    p = Path(os.environ.get("KWS_REF_PYTHON", REPO / ".venv-ref" / "bin" / "python"))
    return p if p.exists() else None


def mltk_features(python: Path, params: dict, clips: np.ndarray,
                  dtype: str = "uint16") -> tuple[np.ndarray, float]:
    """MLTK's features of each clip [n, samples] (each from a fresh frontend)."""
    clips = np.ascontiguousarray(clips, dtype=np.int16)
    rate = int(params["fe.sample_rate_hz"])
    if (clips.shape[1] * 1000) % rate or clips.shape[1] > MAX_SECONDS_PER_CALL * rate:
        raise ValueError("clip length must be whole milliseconds and under 134 s")
    with tempfile.TemporaryDirectory() as d:
        s, i, o = (Path(d) / n for n in ("s.json", "in.npy", "out.npy"))
        s.write_text(json.dumps(params))
        np.save(i, clips)
        proc = subprocess.run([str(python), str(ORACLE), str(s), str(i), str(o), "--dtype", dtype],
                              capture_output=True, text=True, timeout=1800)
        if proc.returncode != 0:
            raise RuntimeError(f"MLTK oracle failed:\n{proc.stderr[-3000:]}")
        return np.load(o), float(proc.stderr.strip().splitlines()[-1])


if __name__ == "__main__":
    print(__doc__.strip() + "\n\n(a module of bench/frontend/run.py, not a bench itself: "
          "run .venv/bin/python bench/frontend/run.py --help)")
