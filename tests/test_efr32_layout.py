"""The BRD2601B's memory layout: what the linker script reserves is where the host tools
write (the model region of `kwshost flash`), and it fits the part (1536 kB flash, 256 kB RAM)."""

from __future__ import annotations

import re
from pathlib import Path

from kwshost import model_image

REPO = Path(__file__).resolve().parents[1]
PART_FLASH = (0x08000000, 1536 * 1024)
PART_RAM = (0x20000000, 256 * 1024)


def _size(text: str) -> int:
    units = {"K": 1024, "M": 1024 * 1024}
    match = re.fullmatch(r"(0x[0-9A-Fa-f]+|\d+)\s*([KM]?)", text.strip())
    assert match, text
    return int(match.group(1), 0) * units.get(match.group(2), 1)


def _regions(linker_script: Path) -> dict[str, tuple[int, int]]:
    found = {}
    pattern = r"^\s*(\w+)\s*\([rwx]+\)\s*:\s*ORIGIN\s*=\s*(\w+)\s*,\s*LENGTH\s*=\s*(\w+)"
    for name, origin, length in re.findall(pattern, linker_script.read_text(), re.MULTILINE):
        found[name] = (int(origin, 0), _size(length))
    return found


def test_model_region_is_where_kwshost_flashes_it() -> None:
    regions = _regions(REPO / "firmware/platform/efr32xg24/linker.ld")
    assert regions["MODEL"] == model_image.MODEL_REGION["efr32xg24"]


def test_regions_fit_the_part_without_overlap() -> None:
    regions = _regions(REPO / "firmware/platform/efr32xg24/linker.ld")
    flash_start, flash_size = PART_FLASH
    code, model = regions["FLASH"], regions["MODEL"]
    assert code[0] == flash_start  # the reset vector table sits at the start of flash
    assert code[0] + code[1] <= model[0]
    assert model[0] + model[1] <= flash_start + flash_size
    assert regions["RAM"] == PART_RAM
