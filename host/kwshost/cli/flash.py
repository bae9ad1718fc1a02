"""kwshost flash: put the firmware and a model on the board, or start the emulated board."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kwshost import model_image
from kwshost.cli._progress import progress_bar
from kwshost.errors import KwsError, LinkError
from kwshost.paths import BUILD_DIR, DEFAULT_MODEL, REPO_ROOT, firmware_image

NAME = "flash"
HELP = "flash the firmware and a model to the board, or start the emulated board"
DESCRIPTION = """\
Puts a firmware image and a model on a board. The model goes to its own flash region with a
small header (magic, version, length, CRC), so a new model needs no firmware rebuild; the
firmware reports an absent or damaged model on its serial port.

Before anything is flashed, the model is opened by the firmware's own engine (runtime,
kernels, frontend settings, detector) built for this PC, with the target's kernels (MVP on
the board, reference on QEMU): a model the firmware would refuse is refused here with the
same reason. --no-check skips this.

--target qemu (the emulated board, QEMU mps2-an505): starts the board with IMAGE (default
build/qemu/kws.elf) and the model, prints the URL of its serial port,
socket://127.0.0.1:PORT, and keeps it running until Ctrl-C, so other commands can talk to it.
Virtual time counts instructions (-icount), which `kwshost profile --device` reports.

--target efr32xg24 (the BRD2601B): programs IMAGE (default build/efr32xg24/kws.hex) at
0x08000000 and the model image at 0x08100000 through pyOCD and the board's debugger, with
progress, then reads the model region back to verify it. Needs the EFR32MG24 CMSIS pack (pinned in
third_party/cmsis-packs.txt): pyocd pack install EFR32MG24B310F1536IM48

examples:
  kwshost flash --target qemu
  kwshost flash --target qemu --model models/my_model.tflite --port 4321
  kwshost flash --model models/mltk_keyword_spotting_alexa.tflite       # the board
  kwshost flash build/efr32xg24/kws.hex --probe 000440123456 --no-model
"""

EFR32_PART = "efr32mg24b310f1536im48"
EFR32_FLASH_BASE = 0x08000000
FIRMWARE_ARENA_BYTES = 112 * 1024  # KWS_ARENA_BYTES of firmware/app/main.c


def _tcp_port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"a TCP port is 1 to 65535, not {port}")
    return port


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("image", nargs="?", type=Path, metavar="IMAGE",
                        help="firmware image (default: the build for the target)")
    parser.add_argument("--model", "-m", type=Path, default=DEFAULT_MODEL, metavar="M",
                        help="a .tflite (or a model image) to flash (default: the bundled "
                             f"{DEFAULT_MODEL.name})")
    parser.add_argument("--no-model", action="store_true",
                        help="leave the model region as it is (board) or empty (qemu)")
    parser.add_argument("--target", "-t", choices=("efr32xg24", "qemu"), default="efr32xg24",
                        help="the board (default) or the emulated board")
    parser.add_argument("--probe", metavar="ID", help="debug probe unique ID (pyocd list)")
    parser.add_argument("--port", type=_tcp_port, metavar="PORT",
                        help="qemu: TCP port for the serial link (default: a free one)")
    parser.add_argument("--no-check", action="store_true",
                        help="flash the model without first opening it with the firmware's "
                             "engine on this PC")
    parser.add_argument("--no-icount", action="store_true",
                        help="qemu: run at full speed instead of counting instructions")


@contextmanager
def _model_image(args: argparse.Namespace, target: str) -> Iterator[Path | None]:
    """The model image to flash, in a file of this run's own, removed afterwards: QEMU reads
    it only once its first client connects, so a shared file (build/qemu/model.kwsm) that a
    second `flash` rewrote in the meantime gave the first board the second board's model."""
    if args.no_model:
        yield None
        return
    fd, name = tempfile.mkstemp(prefix=f"kwshost-{target}-", suffix=".kwsm")
    os.close(fd)
    out = Path(name)
    try:
        model_image.write_image(args.model, out, target)
        if not args.no_check:
            _check_model_runs(args.model, model_image.unwrap(out.read_bytes()), target)
        yield out
    finally:
        out.unlink(missing_ok=True)


def _check_model_runs(path: Path, tflite: bytes, target: str) -> None:
    """Opens the model with the firmware's engine on this PC, with the target's kernels, so a
    model the board would refuse is named now, not after flashing."""
    from kwshost import native
    from kwshost.metadata import read_params
    from kwshost.pipeline import PcPipeline, warn_if_no_frontend_settings

    try:
        native.lib()
    except KwsError as e:  # no compiler on a flashing-only host: the board will still tell
        print(f"note: the model was not checked on this PC ({e})", file=sys.stderr)
        return
    from kwshost.runtime import Interpreter

    accelerator = "mvp" if target == "efr32xg24" else "none"
    hint = f"`kwshost summarize {path}` lists its operators; --no-check flashes it anyway"
    try:
        params = read_params(tflite)
        PcPipeline(tflite, params, accelerator)
        warn_if_no_frontend_settings(path, params)
        need = Interpreter(tflite, accelerator).arena_bytes
    except KwsError as e:
        why = str(e).removeprefix("the model cannot run: ")
        if e.hint:  # a metadata problem says what to do about it: better than the operators
            hint = f"{e.hint}; --no-check flashes it anyway"
        if (any(word in why for word in ("malformed", "flatbuffer", "past the end"))
                and "does not match" not in why and "not an audio model" not in why):
            hint = "the file is truncated, damaged or not a .tflite model"   # no table to list
        raise KwsError(f"{path} would not run on the {target} firmware: {why}",
                       hint=hint) from None
    if need > FIRMWARE_ARENA_BYTES:
        raise KwsError(f"{path} would not run on the {target} firmware: it needs {need:,} bytes "
                       f"of arena with the {target}'s kernels; the firmware has "
                       f"{FIRMWARE_ARENA_BYTES:,}", hint=hint)


def _build(target: str) -> None:
    scons = Path(sys.executable).with_name("scons")
    print(f"building the {target} firmware (scons target={target})", file=sys.stderr)
    proc = subprocess.run([str(scons), "-Q", "-j2", f"target={target}"], cwd=REPO_ROOT,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise KwsError(f"building the firmware failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")


def run(args: argparse.Namespace) -> int:
    if args.target == "qemu":
        return _run_qemu(args)
    return _run_board(args)


def _run_qemu(args: argparse.Namespace) -> int:
    if args.port is not None:
        _check_port_free(args.port)
    image = args.image or firmware_image("qemu")
    if args.image is None and not image.exists():
        _build("qemu")
    with _model_image(args, "qemu") as model:
        return _serve_qemu(args, image, model)


def _serve_qemu(args: argparse.Namespace, image: Path, model: Path | None) -> int:
    from kwshost.qemu import QemuBoard

    board = QemuBoard(image, model_image=model, icount=not args.no_icount, port=args.port)
    # A plain `kill` must stop QEMU too, not leave it orphaned: turn SIGTERM into an exit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with board:
        code = board.exit_code()
        if code is not None:  # it could not start: print no URL that a script would use
            said = [line for line in board.output().splitlines() if line.strip()]
            raise KwsError(f"the emulated board did not start (exit code {code})"
                           + (f": {said[-1].strip()}" if said else ""))
        print(board.url, flush=True)
        print(f"emulated board running {image.name}"
              f"{' with ' + args.model.name if model else ' without a model'}; Ctrl-C to stop",
              file=sys.stderr, flush=True)
        while board.exit_code() is None:
            time.sleep(0.2)
        code = board.exit_code()
        said = [line for line in board.output().splitlines() if line.strip()]
        if code != 0:  # QEMU failed, or the firmware exited with an error
            raise KwsError(f"the emulated board stopped with exit code {code}"
                           + (f": {said[-1].strip()}" if said else ""))
        # QEMU exits with 0 when another program kills it: say so ("terminating on signal")
        print("the emulated board stopped (exit code 0)"
              + (f": {said[-1].strip()}" if said else ""), file=sys.stderr)
    return 0


def _check_port_free(port: int) -> None:
    """--port must be free: QEMU would fail on a taken one only after `flash` had printed its
    URL, the URL of whatever listens there."""
    import socket

    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as QEMU binds
        try:
            s.bind(("127.0.0.1", port))
        except OSError as e:
            raise KwsError(f"cannot start the emulated board on port {port}: {e.strerror}",
                           hint="another program (another emulated board?) listens there; "
                                "leave --port out for a free one") from None


def _run_board(args: argparse.Namespace) -> int:
    try:
        import pyocd.flash.file_programmer  # noqa: F401  (checked before any work)
    except ImportError as e:
        raise KwsError("flashing the board needs pyOCD", hint="pip install pyocd") from e
    image = args.image or (BUILD_DIR / "efr32xg24" / "kws.hex")
    if args.image is None and not image.exists():
        _build("efr32xg24")
    if not image.exists():
        raise KwsError(f"firmware image not found: {image}", hint="scons target=efr32xg24")
    _check_board_image(image)
    with _model_image(args, "efr32xg24") as model:
        return _program_board(args, image, model)


def _probe_session(probe_id: str | None, options: dict):
    """A pyOCD session on the one probe that matches: never pyOCD's own prompt (it would wait
    on stdin when several are connected) nor its printed complaints."""
    from pyocd.core.helpers import ConnectHelper
    from pyocd.core.session import Session

    probes = ConnectHelper.get_all_connected_probes(blocking=False, unique_id=probe_id)
    if not probes:
        raise LinkError("no debug probe found" + (f" with ID {probe_id}" if probe_id else ""),
                        hint="connect the BRD2601B over USB; `pyocd list` shows the probes")
    if len(probes) > 1:
        ids = ", ".join(f"{p.unique_id} ({p.description})" for p in probes)
        raise KwsError(f"{len(probes)} debug probes match: {ids}",
                       hint="choose one with --probe ID (any part of its ID)")
    return Session(probes[0], target_override=EFR32_PART, options=options)


def _program_board(args: argparse.Namespace, image: Path, model: Path | None) -> int:
    from pyocd.core.exceptions import Error as PyocdError
    from pyocd.flash.file_programmer import FileProgrammer

    packs = sorted(str(p) for p in (REPO_ROOT / "third_party" / "packs").glob("*.pack"))
    options = {"pack": packs} if packs else {}
    try:
        session = _probe_session(args.probe, options)
    except PyocdError as e:
        raise _pack_or_probe_error(e) from e
    regions = [(image, None, image.name)]
    if model is not None:
        base, _size = model_image.MODEL_REGION["efr32xg24"]
        regions.append((model, base, args.model.name))
    try:
        with session, progress_bar() as progress:
            for path, base, name in regions:
                task = progress.add_task(f"flashing {name}", total=1.0)
                programmer = FileProgrammer(
                    session, progress=lambda f, t=task: progress.update(t, completed=f))
                if base is None:   # the format named: pyOCD matches the extension's case
                    programmer.program(str(path), file_format=path.suffix.lower()[1:])
                else:
                    programmer.program(str(path), base_address=base, file_format="bin")
            if model is not None:
                data = model.read_bytes()
                back = bytes(session.target.read_memory_block8(base, len(data)))
                if back != data:
                    raise KwsError("verify failed: the model region does not read back as written")
            session.target.reset()
    except PyocdError as e:
        raise _pack_or_probe_error(e) from e
    print(f"flashed {image.name}" + (f" and {args.model.name}" if model else "")
          + "; verified; board reset", file=sys.stderr)
    return 0


BOARD_IMAGE_FORMATS = ("hex", "bin", "elf", "axf")  # what pyOCD's FileProgrammer reads


def _check_board_image(image: Path) -> None:
    """pyOCD picks the format by extension: an .elf must be an Arm ELF and a .hex Intel HEX;
    a .bin is raw bytes and cannot be checked. Any other name (Simplicity Studio's .s37, a
    folder, KWS.HEX in capitals) was pyOCD's ValueError, a traceback, once a probe was
    connected: refused here, before the probe is looked for."""
    from kwshost.qemu import check_arm_elf

    if image.is_dir():
        raise KwsError(f"{image} is a folder, not a firmware image",
                       hint="the board's firmware is build/efr32xg24/kws.hex")
    if image.suffix.lower()[1:] not in BOARD_IMAGE_FORMATS:
        raise KwsError(f"{image}: pyOCD programs .hex, .bin, .elf or .axf images, not "
                       f"{image.suffix or 'a file without an extension'}",
                       hint="the board's firmware is build/efr32xg24/kws.hex (a Simplicity "
                            "Studio .s37 converts with `arm-none-eabi-objcopy -I srec -O "
                            "ihex F.s37 F.hex`)")
    if image.suffix.lower() in (".elf", ".axf"):
        check_arm_elf(image, hint="the board's firmware is build/efr32xg24/kws.hex or kws.elf")
    elif image.suffix.lower() == ".hex":
        with image.open("rb") as f:
            if f.read(1) != b":":
                raise KwsError(f"{image} is not an Intel HEX file",
                               hint="the board's firmware is build/efr32xg24/kws.hex")


def _pack_or_probe_error(e: Exception) -> KwsError:
    text = str(e)
    if "target" in text.lower() and ("unknown" in text.lower() or "not" in text.lower()):
        return KwsError(f"pyOCD does not know the part {EFR32_PART}: {text}",
                        hint="install its CMSIS pack: pyocd pack install EFR32MG24B310F1536IM48 "
                             "(see third_party/cmsis-packs.txt)")
    return LinkError(f"the debug probe failed: {text}",
                     hint="replug the board; close other debuggers (Simplicity Studio)")
