"""The README's set-up scripts answer --help and refuse bad arguments at once, before any set-up,
from any folder and through a link to them."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "scripts"

# scripts/demo checks its arguments with the system's python3 before the set-up; without one it
# would go on to the set-up, which these tests must never start.
pytestmark = pytest.mark.skipif(shutil.which("python3") is None, reason="no python3 on PATH")


def run(script: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "KWS_DEMO_ARGS_ONLY"}
    return subprocess.run([str(script), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=30, env=env)


@pytest.fixture
def linked(tmp_path: Path) -> Path:
    """A folder elsewhere with links to the three scripts."""
    folder = tmp_path / "a folder ü"
    folder.mkdir()
    for name in ("bootstrap", "demo", "test"):
        (folder / name).symlink_to(SCRIPTS / name)
    return folder


@pytest.mark.parametrize("via_link", [False, True])
@pytest.mark.parametrize("name, says", [("bootstrap", "--ref"), ("demo", "usage: scripts/demo"),
                                        ("test", "Extra arguments go to pytest")])
def test_help_is_answered_at_once(name: str, says: str, via_link: bool, linked: Path,
                                  tmp_path: Path) -> None:
    script = linked / name if via_link else SCRIPTS / name
    for flag in ("--help", "-h"):
        proc = run(script, flag, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert says in proc.stdout
        assert "bootstrap:" not in proc.stdout + proc.stderr  # no set-up ran


def test_bootstrap_refuses_an_unknown_argument(tmp_path: Path) -> None:
    proc = run(SCRIPTS / "bootstrap", "--refs", cwd=tmp_path)
    assert proc.returncode == 2
    assert "unknown argument '--refs'" in proc.stderr


def test_demo_refuses_bad_arguments_before_set_up(linked: Path, tmp_path: Path) -> None:
    proc = run(linked / "demo", "--bogus", cwd=tmp_path)
    assert proc.returncode == 2
    assert "unrecognized arguments: --bogus" in proc.stderr
    assert "bootstrap:" not in proc.stdout + proc.stderr
    # A relative --model is the caller's file: here it is missing from the caller's folder.
    (tmp_path / "sub").mkdir()
    proc = run(linked / "demo", "--model", "missing.tflite", cwd=tmp_path / "sub")
    assert proc.returncode == 2
    assert "--model missing.tflite: no such file" in proc.stderr
