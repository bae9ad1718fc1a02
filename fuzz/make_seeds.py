"""Small seed models for the fuzzer: the random int8 models of the kernel tests (every op),
so mutations hit model structure rather than the weights of a 200 kB model."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from random_models import generate  # noqa: E402


def main() -> None:
    corpus = Path(sys.argv[1])
    corpus.mkdir(parents=True, exist_ok=True)
    for path in generate(seed=1234, count=30, out_dir=REPO / "build" / "test-models"):
        shutil.copy(path, corpus / path.name)


if __name__ == "__main__":
    main()
