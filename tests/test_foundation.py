"""The foundation: build targets, CLI errors, and `kwshost info` against the emulated board."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCONS = [sys.executable, "-m", "SCons"]


def kwshost(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kwshost", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=REPO)


def scons(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SCONS, "-Q", "-j2", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=900)


@pytest.fixture(scope="session")
def qemu_elf() -> Path:
    proc = scons("target=qemu")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return REPO / "build" / "qemu" / "kws.elf"


def test_unknown_target_is_a_clear_error() -> None:
    proc = scons("target=esp32")
    assert proc.returncode != 0
    assert "unknown target 'esp32'" in proc.stdout + proc.stderr
    assert "efr32xg24" in proc.stdout + proc.stderr


def test_efr32_build_fits_the_part() -> None:
    proc = scons("target=efr32xg24")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = REPO / "build" / "efr32xg24"
    for name in ("kws.elf", "kws.hex", "kws.bin", "size.txt"):
        assert (out / name).stat().st_size > 0, name
    report = (out / "size.txt").read_text()
    assert "of the 1048576 B firmware region" in report and "of 262144 B" in report


def test_help_lists_every_command() -> None:
    proc = kwshost("--help")
    assert proc.returncode == 0
    for command in ("info", "flash", "listen", "profile", "features", "summarize", "train"):
        assert command in proc.stdout


def test_info_without_port_explains() -> None:
    proc = kwshost("info")
    assert proc.returncode == 2
    assert "no port given" in proc.stderr and "Traceback" not in proc.stderr


def test_info_on_missing_port_is_a_clear_error() -> None:
    proc = kwshost("info", "--port", "/dev/ttyDOESNOTEXIST")
    assert proc.returncode == 3
    assert "cannot open /dev/ttyDOESNOTEXIST" in proc.stderr and "Traceback" not in proc.stderr


def _serve_once(answer: bytes) -> int:
    """A TCP peer that answers every chunk it receives with `answer` (b"" = stays silent),
    as a modem or another firmware would."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def run() -> None:
        conn, _ = server.accept()
        conn.settimeout(10)
        try:
            while conn.recv(4096):
                if answer:
                    conn.sendall(answer)
        except OSError:
            pass
        conn.close()
        server.close()

    threading.Thread(target=run, daemon=True).start()
    return server.getsockname()[1]


def test_info_on_a_silent_device_times_out_clearly() -> None:
    port = _serve_once(b"")
    proc = kwshost("info", "--port", f"socket://127.0.0.1:{port}", "--timeout", "1")
    assert proc.returncode == 3
    assert "no answer" in proc.stderr and "Traceback" not in proc.stderr


def test_info_on_a_foreign_device_says_so() -> None:
    port = _serve_once(b"ERROR\r\n")
    proc = kwshost("info", "--port", f"socket://127.0.0.1:{port}", "--timeout", "1")
    assert proc.returncode == 3
    assert "does not speak the kwshost protocol" in proc.stderr


def test_info_waits_for_a_socket_that_is_not_listening_yet() -> None:
    """A board started a moment ago (QEMU started by hand, or by a script that does not wait
    as `kwshost flash --target qemu` does): info retries the refused connection within
    --timeout, as listen does."""
    from kwshost.qemu import free_port

    port = free_port()

    def late() -> None:
        time.sleep(1.0)
        server = socket.socket()
        server.bind(("127.0.0.1", port))
        server.listen(1)
        conn, _ = server.accept()
        conn.settimeout(10)
        try:
            while conn.recv(4096):
                conn.sendall(b"ERROR\r\n")
        except OSError:
            pass
        conn.close()
        server.close()

    threading.Thread(target=late, daemon=True).start()
    proc = kwshost("info", "--port", f"socket://127.0.0.1:{port}", "--timeout", "8")
    assert proc.returncode == 3
    assert "does not speak the kwshost protocol" in proc.stderr   # it got through


def test_a_listening_port_is_seen_without_connecting() -> None:
    from kwshost.qemu import port_listening

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        assert port_listening(port) is False          # bound, not listening yet
        s.listen()
        assert port_listening(port) is True
    assert port_listening(port) is False


@pytest.mark.qemu
def test_the_board_listens_once_started(qemu_elf: Path, qemu_available: str) -> None:
    """A started board (what `flash --target qemu` prints the URL of) takes a client's first
    connect, with no retry (it used to race QEMU's start)."""
    from kwshost.qemu import QemuBoard

    with QemuBoard(qemu_elf) as board:
        with socket.create_connection(("127.0.0.1", board.port), timeout=5):
            pass


@pytest.mark.qemu
def test_info_talks_to_the_emulated_board(qemu_elf: Path, qemu_available: str) -> None:
    from kwshost.qemu import QemuBoard

    with QemuBoard(qemu_elf) as board:
        proc = kwshost("info", "--port", board.url, "--json", "--timeout", "10")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["protocol_version"] == 1
    assert info["banner"].startswith("kws firmware 0.1.0 on qemu mps2-an505")


def test_missing_toolchain_names_the_package(tmp_path: Path) -> None:
    import os

    # A PATH without the Arm compiler: scons must say what to install, not crash.
    proc = subprocess.run([*SCONS, "-Q", "target=qemu"],
                          capture_output=True, text=True, cwd=REPO, timeout=120,
                          env={**os.environ, "PATH": str(tmp_path)})
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "arm-none-eabi-gcc' is missing" in out and "apt-get install gcc-arm-none-eabi" in out
    assert "Traceback" not in out


def test_an_unforeseen_file_system_error_is_one_line(monkeypatch, capsys) -> None:
    from kwshost import cli
    from kwshost.cli import info

    def refused(args):
        raise PermissionError(13, "Permission denied", "/models/x.tflite")

    monkeypatch.setattr(info, "run", refused)
    assert cli.main(["info"]) == 2
    err = capsys.readouterr().err
    assert err == "kwshost info: error: Permission denied: /models/x.tflite\n"
    with pytest.raises(PermissionError):   # --debug keeps the traceback
        cli.main(["--debug", "info"])
