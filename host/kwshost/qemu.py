"""The emulated board: QEMU mps2-an505 (Cortex-M33) with its UART on a local TCP socket.

    with QemuBoard(firmware_image("qemu")) as board:
        with Link(board.url, connect_timeout=5) as link:
            print(link.hello().banner)

Facts about this board (addresses, UART rates, cost counting): shared/notes/qemu-facts.md.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

from kwshost.errors import KwsError

# The model region of firmware/platform/qemu/linker.ld.
MODEL_REGION_ADDR = 0x10100000


def check_arm_elf(path: Path,
                  hint: str = "the emulated board runs build/qemu/kws.elf (scons target=qemu)"
                  ) -> None:
    """`path` is a 32-bit little-endian Arm ELF (what the boards run), or a KwsError: QEMU
    would otherwise wait for a client and then abort, or run garbage."""
    try:
        with Path(path).open("rb") as f:
            head = f.read(20)
    except OSError as e:
        raise KwsError(f"cannot read firmware image {path}: {e.strerror}") from None
    is_elf = head[:4] == b"\x7fELF"
    if not is_elf or head[4] != 1 or head[5] != 1 or int.from_bytes(head[18:20], "little") != 40:
        what = "an ELF file for another machine" if is_elf else "not an ELF file"
        raise KwsError(f"{path} is not an Arm firmware image ({what})", hint=hint)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_listening(port: int) -> bool | None:
    """Whether a socket listens on 127.0.0.1:PORT, read from the kernel's table so that QEMU's
    one serial client is not taken by a probe; None where there is no such table (not Linux)."""
    # The kernel writes the address as the host stores it: 127.0.0.1 is 0100007F on x86.
    local = {f"{ip}:{port:04X}" for ip in ("0100007F", "7F000001")}
    try:
        rows = [r.split() for r in Path("/proc/net/tcp").read_text().splitlines()[1:]]
    except OSError:
        return None
    # Columns: slot, local address, remote address, state (0A: LISTEN), ...
    return any(len(r) > 3 and r[1] in local and r[3] == "0A" for r in rows)


def _dies_with_this_process() -> list[str]:
    """A prefix that has the kernel stop QEMU when this process dies, even by SIGKILL (which
    runs no clean-up and left QEMU holding its port): util-linux's setpriv sets the child's
    parent-death signal, then execs QEMU. Only from the main thread, since the signal follows
    the thread that started the child."""
    setpriv = shutil.which("setpriv")
    if setpriv is None or threading.current_thread() is not threading.main_thread():
        return []
    return [setpriv, "--pdeathsig", "TERM", "--"]


class QemuBoard:
    """Starts QEMU with `elf` (and optionally a model image at the model region).

    QEMU waits for the first client to connect before it runs, so no output is lost.
    `icount=True` makes virtual time count instructions (1 ns each) for honest profiling.
    """

    def __init__(self, elf: Path, model_image: Path | None = None, icount: bool = False,
                 port: int | None = None) -> None:
        exe = shutil.which("qemu-system-arm")
        if exe is None:
            raise KwsError("qemu-system-arm is not installed",
                           hint="sudo apt-get install qemu-system-arm (or ./scripts/bootstrap)")
        if not Path(elf).exists():
            raise KwsError(f"firmware image not found: {elf}", hint="build it: scons target=qemu")
        check_arm_elf(Path(elf))
        self.port = port or free_port()
        self.url = f"socket://127.0.0.1:{self.port}"
        self.args = [exe, "-M", "mps2-an505", "-nographic", "-monitor", "none",
                     "-semihosting-config", "enable=on,target=native",
                     "-serial", f"tcp:127.0.0.1:{self.port},server=on,wait=on",
                     "-kernel", str(elf)]
        if model_image is not None:
            if not Path(model_image).exists():
                raise KwsError(f"model image not found: {model_image}")
            # QEMU's option lists take a comma in a value as ",,"
            path = str(model_image).replace(",", ",,")
            self.args += ["-device", f"loader,file={path},addr={MODEL_REGION_ADDR:#x}"]
        if icount:
            self.args += ["-icount", "shift=0"]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> QemuBoard:
        """Start QEMU and return once it listens on its serial port, so `url` can be used at
        once (a connect right after the start used to be refused)."""
        self.process = subprocess.Popen(_dies_with_this_process() + self.args,
                                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT)
        self.wait_listening()
        return self

    def wait_listening(self, timeout_s: float = 10.0) -> None:
        """Return once QEMU listens on its serial port, or has exited, or where that cannot
        be seen."""
        end = time.monotonic() + timeout_s
        while time.monotonic() < end and self.exit_code() is None:
            if port_listening(self.port) is not False:
                return
            time.sleep(0.05)

    def exit_code(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def output(self) -> str:
        """What QEMU printed (its own messages; the firmware talks on the socket), once it
        has exited."""
        if self.process is None or self.process.poll() is None or self.process.stdout is None:
            return ""
        return self.process.stdout.read().decode(errors="replace")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> QemuBoard:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
