"""--jobs: capped at the cores here (same results, less memory), refused below 1."""

from __future__ import annotations

import os

import pytest
from kwshost.cli import _args, build_parser

# Every command with --jobs, with the arguments it needs to parse.
COMMANDS = [
    ["dataset", "make", "out"],
    ["dataset", "mine", "m.tflite", "--out", "out"],
    ["dataset", "stream", "out.wav"],
    ["dataset", "timbre", "src", "out"],
    ["evaluate", "m.tflite"],
    ["train"],
]


@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
def test_jobs_beyond_the_cores_is_capped_with_a_notice(argv, monkeypatch, capsys):
    monkeypatch.setattr(_args, "cores", lambda: 2)
    assert build_parser().parse_args([*argv, "--jobs", "64"]).jobs == 2
    assert capsys.readouterr().err.strip() == "kwshost: --jobs 64 capped at 2 (the cores here)"
    assert build_parser().parse_args([*argv, "-j", "2"]).jobs == 2
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
@pytest.mark.parametrize("bad", ["0", "-3", "two"])
def test_jobs_below_one_is_a_usage_error(argv, bad, capsys):
    with pytest.raises(SystemExit) as stop:
        build_parser().parse_args([*argv, f"--jobs={bad}"])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "argument --jobs/-j:" in err and ("must be 1 or more" in err or "not a whole" in err)


def test_cores_is_this_process_share():
    assert 1 <= _args.cores() <= (os.cpu_count() or 1)


@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
def test_the_default_is_two_or_the_cores_here_quietly(argv, monkeypatch, capsys):
    monkeypatch.setattr(_args, "cores", lambda: 1)
    assert build_parser().parse_args(argv).jobs == 1
    monkeypatch.setattr(_args, "cores", lambda: 16)
    assert build_parser().parse_args(argv).jobs == 2
    assert capsys.readouterr().err == ""
