"""The firmware's MVP kernels on QEMU: the driver writes programs into the register image and the
simulator (compiled for the Cortex-M33) executes them inside the emulated board.

The QEMU firmware registers the reference kernels (firmware/app/main.c enables the MVP kernels
on the EFR32xG24 only), so this script builds a copy of HEAD with them enabled for QEMU, streams
a short spoken WAV into it and compares every inference's raw scores with the PC pipeline running
the same MVP kernels on the host simulator. Slow: the simulated MVP under QEMU takes 8-14 s
per inference (binary16 emulated with soft-float doubles): 76-137 s for the 10 inferences in
runs so far, plus the build. A correctness check, no peer: the PC pipeline is its reference.
Needs git, arm-none-eabi-gcc, qemu-system-arm and .venv's scons.

    .venv/bin/python bench/mvp/qemu_check.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "host"))
sys.path.insert(0, str(REPO / "tests"))

PATTERN = '''#if defined(KWS_PLATFORM_EFR32XG24)
#include "kernels/mvp/mvp_kernels.h"
#define KWS_USE_MVP 1
#endif'''


def build(tmp: Path) -> Path:
    src = tmp / "src"
    src.mkdir()
    archive = subprocess.run(["git", "archive", "HEAD"], cwd=REPO, capture_output=True,
                             check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
    main = src / "firmware" / "app" / "main.c"
    text = main.read_text()
    if PATTERN not in text:
        raise SystemExit("firmware/app/main.c no longer has the expected MVP switch")
    main.write_text(text.replace(PATTERN, '#include "kernels/mvp/mvp_kernels.h"\n'
                                          '#define KWS_USE_MVP 1'))
    subprocess.run([str(REPO / ".venv" / "bin" / "scons"), "-Q", "-j2", "target=qemu"], cwd=src,
                   check=True, capture_output=True)
    return src / "build" / "qemu" / "kws.elf"


def main() -> int:
    import argparse
    import shutil

    argparse.ArgumentParser(description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    missing = [t for t in ("git", "arm-none-eabi-gcc", "qemu-system-arm") if not shutil.which(t)]
    if not (REPO / ".venv" / "bin" / "scons").exists():
        missing.append(".venv/bin/scons")
    if missing:
        print(f"{', '.join(missing)} missing: nothing checked (scripts/bootstrap installs them)")
        return 2
    from device_helpers import model_image_file, spoken_wav
    from kwshost.audio import read_wav
    from kwshost.device import DeviceStream
    from kwshost.link import Link
    from kwshost.pipeline import PcPipeline
    from kwshost.qemu import QemuBoard

    model = REPO / "models" / "mltk_keyword_spotting_alexa.tflite"
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        elf = build(tmp)
        x = read_wav(spoken_wav(tmp / "short.wav", ["alexa"], gap_s=0.2))
        pc = [tuple(i.scores) for i in PcPipeline.from_model(model, "mvp").process(x)]
        events = []
        t0 = time.time()
        with QemuBoard(elf, model_image=model_image_file(tmp)) as board, \
                Link(board.url, connect_timeout=10) as link:
            link.hello(timeout=10)
            stream = DeviceStream(link, events.append, verbose=True, give_up_after=900.0)
            stream.start(timeout=30)
            stream.stream(x)
        dev = [tuple(v - 128 for v in e.scores) for e in events if e.type == "scores"]
    print(f"{len(dev)} inferences on QEMU in {time.time() - t0:.0f} s; raw scores identical to "
          f"the PC's MVP kernels: {dev == pc}")
    return 0 if dev == pc else 1


if __name__ == "__main__":
    from kwshost.errors import run_script

    try:
        run_script(main)   # a KwsError (missing build, QEMU that does not answer): one line
    except subprocess.CalledProcessError as e:  # git archive or the QEMU build failed
        out = (e.stderr or b"").decode(errors="replace")[-2000:] if e.stderr else ""
        print(f"error: {' '.join(map(str, e.cmd))[:200]} failed (exit {e.returncode})\n{out}",
              file=sys.stderr)
        sys.exit(2)
