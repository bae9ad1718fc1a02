"""Where the repository's build outputs and bundled files live."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = REPO_ROOT / "build"
MODELS_DIR = REPO_ROOT / "models"
# What flash, listen, profile and the demo use without --model: MLTK's pretrained model, until
# ours beats it on held-out voices (docs/training.md).
DEFAULT_MODEL = MODELS_DIR / "mltk_keyword_spotting_alexa.tflite"


def firmware_image(target: str) -> Path:
    return BUILD_DIR / target / "kws.elf"


def reference_mww_models() -> Path | None:
    """The folder of microWakeWord's models where `scripts/bootstrap --ref` installed
    pymicro-wakeword into .venv-ref (benchmarks' peers; kwshost itself never needs them)."""
    found = sorted(REPO_ROOT.glob(".venv-ref/lib/python3*/site-packages/pymicro_wakeword/models"))
    return found[0] if found else None
