"""The demo behind scripts/demo: boots the QEMU board and shows kwshost talking to it."""

from __future__ import annotations

import subprocess
import sys

from kwshost.paths import firmware_image
from kwshost.qemu import QemuBoard


def main() -> int:
    with QemuBoard(firmware_image("qemu")) as board:
        print(f"== emulated board started: {board.url}")
        print(f"$ kwshost info --port {board.url}")
        return subprocess.call([sys.executable, "-m", "kwshost", "info", "--port", board.url,
                                "--timeout", "10"])


if __name__ == "__main__":
    raise SystemExit(main())
