"""Where the repository's build outputs and bundled files live."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = REPO_ROOT / "build"
MODELS_DIR = REPO_ROOT / "models"


def firmware_image(target: str) -> Path:
    return BUILD_DIR / target / "kws.elf"
