"""TensorFlow's import, less the start-up lines that only worry a user.

TensorFlow 2.21's C++ libraries log from their static initializers, before TensorFlow has read
TF_CPP_MIN_LOG_LEVEL, and two of them carry their own copy of absl's logging: so every import
printed, twice, absl's "All log messages before absl::InitializeLog() is called are written to
STDERR", the oneDNN notice ("You may see slightly different numerical results": oneDNN stays on,
as turning it off changes the trained weights), "Could not find cuda drivers on your machine"
on a host without a GPU, then "failed call to cuInit" at the first use; on a GPU host, the
"Unable to register cuDNN/cuFFT/cuBLAS factory" duplicates instead. No setting reaches those,
so while TensorFlow loads, the process's stderr goes through a small filter process that drops
them and passes every other line on as it comes: a real error, and a crash's last words (the
filter outlives this process), still show. TF_CPP_MIN_LOG_LEVEL=0 set by the user keeps them
all; it defaults to 2 (errors only) for the log after start-up. The converter's quantizer
prints a "fully_quantize: 0, inference_type: 6, ..." line on each conversion, dropped alike.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

NOISE = (r"All log messages before absl::InitializeLog\(\) is called"
         r"|\] oneDNN custom operations are on"
         r"|\] Could not find cuda drivers on your machine"
         r"|\] Unable to register cu(DNN|FFT|BLAS) factory"
         r"|\] computation placer already registered"
         r"|TF-TRT Warning: Could not find TensorRT"
         r"|^fully_quantize: \d")   # the converter's quantizer, on every conversion

# Reads the lines written to stderr from stdin and writes the others to its own stderr; the
# cuInit failure is noise only after "no cuda drivers" (a GPU host's failure is an error).
FILTER = r"""
import re, sys
noise, no_driver = re.compile(sys.argv[1]), False
for line in sys.stdin.buffer:
    no_driver = no_driver or b"Could not find cuda drivers" in line
    text = line.decode(errors="replace")
    if not (noise.search(text) or (no_driver and "failed call to cuInit" in text)):
        sys.stderr.buffer.write(line)
        sys.stderr.buffer.flush()
"""


@contextmanager
def quiet_stderr() -> Iterator[None]:
    """While in the block, stderr (the file descriptor, C++ included) goes through FILTER,
    unless the user set TF_CPP_MIN_LOG_LEVEL=0 to see everything."""
    if os.environ.get("TF_CPP_MIN_LOG_LEVEL") == "0":
        yield
        return
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:   # no stderr to filter
        yield
        return
    try:
        filt = subprocess.Popen([sys.executable, "-I", "-S", "-c", FILTER, NOISE],
                                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=saved,
                                start_new_session=True)   # Ctrl-C here stops us, not it
    except OSError:
        os.close(saved)
        yield
        return
    os.dup2(filt.stdin.fileno(), 2)
    filt.stdin.close()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        try:
            filt.wait(timeout=10)   # its lines before ours
        except subprocess.TimeoutExpired:
            pass


def import_quietly(*modules: str) -> None:
    """Import `modules` (keras, tensorflow) with TensorFlow's start-up noise left off stderr;
    with TensorFlow loaded, also list its devices (where cuInit fails on a CPU-only host)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if all(m in sys.modules for m in modules):
        return
    with quiet_stderr():
        for m in modules:
            importlib.import_module(m)
        if "tensorflow" in sys.modules:
            sys.modules["tensorflow"].config.list_physical_devices()
