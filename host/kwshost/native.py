"""The one binding to the firmware's C code: loads build/host/libkws.so with ctypes.

The PC pipeline calls the same frontend, runtime and detector as the firmware through this
library, so PC and device agree bit for bit. If the library is missing (or older than the
firmware sources), it is built with `scons target=host` on first use.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

from kwshost.errors import KwsError
from kwshost.paths import BUILD_DIR, REPO_ROOT

LIB_PATH = BUILD_DIR / "host" / "libkws.so"


def _sources_newer_than(lib: Path) -> bool:
    stamp = lib.stat().st_mtime
    for root, _dirs, files in os.walk(REPO_ROOT / "firmware"):
        for f in files:
            if f.endswith((".c", ".cc", ".h")) and (Path(root) / f).stat().st_mtime > stamp:
                return True
    return False


def build_host_library() -> None:
    scons = shutil.which("scons") or str(Path(sys.executable).with_name("scons"))
    if not Path(scons).exists():
        raise KwsError("cannot build the native library: scons is not installed",
                       hint="pip install -e '.[dev]' (or run ./scripts/bootstrap)")
    # Only the library: a C unit test being edited must not stop the Python package working.
    proc = subprocess.run([scons, "-Q", "-j2", "target=host", str(LIB_PATH.relative_to(REPO_ROOT))],
                          cwd=REPO_ROOT,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise KwsError(f"building the native library failed:\n{proc.stdout[-3000:]}"
                       f"{proc.stderr[-3000:]}")


@cache
def lib() -> ctypes.CDLL:
    """The loaded native library (built first if needed). Set KWS_NATIVE_LIB to override."""
    override = os.environ.get("KWS_NATIVE_LIB")
    path = Path(override) if override else LIB_PATH
    if not override and (not path.exists() or _sources_newer_than(path)):
        build_host_library()
    if not path.exists():
        raise KwsError(f"native library not found: {path}", hint="run: scons target=host")
    return ctypes.CDLL(str(path))
