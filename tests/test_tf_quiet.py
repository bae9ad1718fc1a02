"""TensorFlow's start-up noise stays off stderr; real errors, even a crash's, still show."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "host"), *extra.pop("path", "").split()])
    return {**env, **extra}


def test_a_command_that_loads_tensorflow_prints_only_its_own_error(tmp_path: Path) -> None:
    """`average` loads TensorFlow (and Keras) before reading its models: the cheapest CLI
    path through the import."""
    models = []
    for name in ("a", "b"):
        models.append(str(tmp_path / f"{name}.keras"))
        with zipfile.ZipFile(models[-1], "w") as z:
            z.writestr("other.txt", "not a model")
    proc = subprocess.run([sys.executable, "-m", "kwshost", "average", *models,
                           "--out", str(tmp_path / "out.keras")],
                          capture_output=True, text=True, timeout=120, env=_env())
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        f"kwshost average: error: cannot load {models[0]} as a Keras model: \"There is no item "
        "named 'config.json' in the archive\""]


def test_the_filter_drops_noise_and_keeps_errors_up_to_a_crash(tmp_path: Path) -> None:
    (tmp_path / "noisy.py").write_text(
        "import os\n"
        "for line in ('WARNING: All log messages before absl::InitializeLog() is called are '\n"
        "             'written to STDERR', 'I0 port.cc:153] oneDNN custom operations are on.',\n"
        "             'I0 cudart_stub.cc:31] Could not find cuda drivers on your machine',\n"
        "             'E0 cuda_platform.cc:52] failed call to cuInit: UNKNOWN ERROR (303)',\n"
        "             'E0 op.cc:1] a real error'):\n"
        "    os.write(2, (line + '\\n').encode())\n"
        "if os.environ.get('CRASH'):\n"
        "    os.abort()\n")
    code = "from kwshost.tf_quiet import import_quietly; import_quietly('noisy'); print('done')"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, env=_env(path=str(tmp_path)))
    assert (proc.returncode, proc.stdout) == (0, "done\n")
    assert proc.stderr == "E0 op.cc:1] a real error\n"
    crash = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           timeout=60, env=_env(path=str(tmp_path), CRASH="1"))
    assert crash.returncode != 0 and crash.stderr.endswith("E0 op.cc:1] a real error\n")
    mine = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, env=_env(path=str(tmp_path), TF_CPP_MIN_LOG_LEVEL="0"))
    assert len(mine.stderr.splitlines()) == 5   # the user asked for TensorFlow's whole log
