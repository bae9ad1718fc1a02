"""`kwshost params`: show a model's SL_PARAMSv1 parameters and write changed copies."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import one_line_error
from kwshost.cli import main
from kwshost.metadata import find_metadata, read_params
from kwshost.paths import REPO_ROOT
from kwshost.pipeline import PcPipeline
from kwshost.runtime import Interpreter

OURS = REPO_ROOT / "models" / "alexa_kwshost.tflite"
MLTK = REPO_ROOT / "models" / "mltk_keyword_spotting_alexa.tflite"


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(["params", *map(str, argv)])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_params_prints_what_the_model_carries(capsys) -> None:
    rc, out, _ = _run(capsys, MLTK, "--json")
    assert rc == 0 and json.loads(out) == read_params(MLTK)
    rc, out, _ = _run(capsys, OURS)
    assert rc == 0 and "detection_threshold" in out and "alexa, _unknown_" in out


def test_set_changes_only_the_named_parameters_and_the_device_reads_them(
        tmp_path: Path, capsys) -> None:
    out_path = tmp_path / "t.tflite"
    rc, out, _ = _run(capsys, OURS, "--set", "detection_threshold=216", "--set",
                      "suppression_ms=1500", "-o", out_path)
    before, after = read_params(OURS), read_params(out_path)
    assert rc == 0 and f"detection_threshold: {before['detection_threshold']} -> 216" in out
    assert after == {**before, "detection_threshold": 216, "suppression_ms": 1500}
    assert isinstance(after["detection_threshold"], int)
    pipe = PcPipeline.from_model(out_path)
    assert pipe.params["detection_threshold"] == 216
    # Same weights and graph: the same scores for the same audio.
    rng = np.random.default_rng(1)
    audio = (rng.normal(0, 3000, 16000 * 2)).astype(np.int16)
    a = [i.scores for i in PcPipeline.from_model(OURS).process(audio)]
    b = [i.scores for i in pipe.process(audio)]
    assert a == b and len(a) > 5
    # A second change replaces the metadata rather than adding another entry.
    assert _run(capsys, out_path, "--set", "detection_threshold=200", "--in-place")[0] == 0
    assert read_params(out_path)["detection_threshold"] == 200
    assert find_metadata(out_path) is not None


def test_repeated_edits_do_not_grow_the_model(tmp_path: Path, capsys) -> None:
    """A payload that fits is written over the old one: tuning a threshold ten times must not
    cost flash (MLTK's model too: our encoding is no larger than its); one that does not fit
    goes in front of the file."""
    for source in (OURS, MLTK):
        path = tmp_path / source.name
        path.write_bytes(source.read_bytes())
        sizes = []
        for threshold in range(200, 210):
            assert _run(capsys, path, "--set", f"detection_threshold={threshold}",
                        "--in-place")[0] == 0
            sizes.append(path.stat().st_size)
        assert set(sizes) == {source.stat().st_size}, sizes
        params = read_params(path)
        assert params == {**read_params(source), "detection_threshold": 209}
        pipe = PcPipeline.from_model(path)          # the firmware's reader agrees
        assert pipe.params["detection_threshold"] == 209
    longer = "x" * 4000                             # cannot fit in the old payload's room
    assert _run(capsys, path, "--set", f"description={longer}", "--in-place")[0] == 0
    assert path.stat().st_size > sizes[-1]
    assert read_params(path)["description"] == longer
    assert read_params(path)["detection_threshold"] == 209


def test_bad_changes_are_refused_and_nothing_is_written(tmp_path: Path, capsys) -> None:
    out_path = tmp_path / "t.tflite"
    cases = [
        (["--set", "detection_threshold=300", "-o", out_path], "detection_threshold = 300"),
        (["--set", "detection_threshold=high", "-o", out_path], "is not one"),
        (["--set", "detection_threshold", "-o", out_path], "KEY=VALUE"),
        (["--set", "suppression_ms=5"], "-o OUT.tflite or --in-place"),
        (["-o", out_path], "nothing to change"),
        # a misspelt setting would be written as a new key and change nothing
        (["--set", "detection_treshold=200", "-o", out_path], "did you mean detection_threshold"),
    ]
    for argv, message in cases:
        rc, _, err = _run(capsys, OURS, *argv)
        assert rc == 2 and message in err, (argv, err)
    assert not out_path.exists() and not list(tmp_path.iterdir())
    rc, _, err = _run(capsys, tmp_path / "missing.tflite")
    assert rc == 2 and "model not found" in err
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"\x00" * 64)
    rc, _, err = _run(capsys, junk, "--set", "detection_threshold=200", "--in-place")
    assert rc == 2 and junk.read_bytes() == b"\x00" * 64


def test_usage_mistakes_are_named_before_the_missing_output(tmp_path: Path, capsys) -> None:
    copy = tmp_path / "t.tflite"
    # a --set that is not KEY=VALUE is said first, not that -o is missing
    rc, _, err = _run(capsys, OURS, "--set", "foo")
    assert rc == 2 and one_line_error(err, "params").endswith("--set 'foo': write KEY=VALUE")
    # both destinations given: they exclude each other, not "say where it goes"
    rc, _, err = _run(capsys, OURS, "--set", "suppression_ms=5", "--in-place", "-o", copy)
    assert rc == 2 and one_line_error(err, "params").endswith(
        "--in-place and -o exclude each other")
    assert not copy.exists()


def test_temperature_changes_only_the_softmax_beta(tmp_path: Path, capsys) -> None:
    """--temperature 2 on MLTK's model: one float in the file changes (beta 1 -> 0.5), the
    metadata stays byte for byte, the runtime's scores equal TFLite's reference kernels on
    the new file, and a confident score comes down from the top while the order stays."""
    out = tmp_path / "t2.tflite"
    rc, text, _ = _run(capsys, MLTK, "--temperature", "2", "-o", out)
    assert rc == 0 and "beta: 1 -> 0.5" in text
    before, after = MLTK.read_bytes(), out.read_bytes()
    diff = [i for i in range(len(before)) if before[i] != after[i]]
    assert len(before) == len(after) and 1 <= len(diff) <= 4 and diff[-1] - diff[0] < 4
    x = np.random.default_rng(0).integers(-128, 128, (8, 1, 118, 1, 108), dtype=np.int8)
    x[:, :, :, :, :54] = 100       # louder rows: confident outputs for some inputs
    ours, hot = Interpreter(out), Interpreter(MLTK)
    got = np.stack([ours.invoke(v) for v in x])[:, 0]
    top = np.stack([hot.invoke(v) for v in x])[:, 0]
    assert np.all(np.sign(got[:, 0].astype(int) - got[:, 1]) ==
                  np.sign(top[:, 0].astype(int) - top[:, 1]))     # same winner
    assert np.all(np.abs(got.astype(int)) <= np.abs(top.astype(int)))  # less extreme
    assert np.any(got != top)
    tf = pytest.importorskip("tensorflow")
    ref = tf.lite.Interpreter(model_content=after, experimental_op_resolver_type=(
        tf.lite.experimental.OpResolverType.BUILTIN_REF))
    ref.allocate_tensors()
    i, o = ref.get_input_details()[0]["index"], ref.get_output_details()[0]["index"]
    for v, mine in zip(x, got, strict=True):
        ref.set_tensor(i, v)
        ref.invoke()
        np.testing.assert_array_equal(ref.get_tensor(o)[0], mine)


def test_temperature_refusals(tmp_path: Path, capsys) -> None:
    """No SOFTMAX, a temperature the firmware's softmax cannot take, or 0: a one-line error
    and nothing written."""
    out = tmp_path / "x.tflite"
    rc, _, err = _run(capsys, MLTK, "--temperature", "1e30", "-o", out)
    assert rc == 2 and "beta * input scale is too small" in err and not out.exists()
    with pytest.raises(SystemExit) as stop:     # argparse's own refusal
        _run(capsys, MLTK, "--temperature", "0", "-o", out)
    assert stop.value.code == 2 and "must be more than 0" in capsys.readouterr().err
    assert not out.exists()
    rc, _, err = _run(capsys, MLTK, "--temperature", "2")
    assert rc == 2 and "-o OUT.tflite or --in-place" in err


def test_temperature_on_a_model_without_metadata(tmp_path: Path, capsys) -> None:
    """A plain int8 softmax model (no SL_PARAMSv1): tempered, checked by the runtime alone,
    and its outputs flatter than before."""
    tf = pytest.importorskip("tensorflow")
    import random_models

    plain = tmp_path / "plain.tflite"
    plain.write_bytes(random_models.convert(lambda x: tf.nn.softmax(x * 4.0), [(1, 6)],
                                            np.random.default_rng(3), float_io=False))
    out = tmp_path / "t3.tflite"
    rc, text, _ = _run(capsys, plain, "--temperature", "3", "-o", out)
    assert rc == 0 and "beta: 1 -> 0.333333" in text and read_params(out) == {}
    x = np.array([[-100, -50, 0, 20, 60, 120]], dtype=np.int8)
    before, after = Interpreter(plain).invoke(x), Interpreter(out).invoke(x)
    assert np.argmax(before) == np.argmax(after) and after.max() < before.max()


def test_a_new_key_is_kept_and_said_to_be_ignored_unless_the_firmware_reads_it(
        tmp_path: Path, capsys) -> None:
    out_path = tmp_path / "n.tflite"
    rc, out, _ = _run(capsys, MLTK, "--set", "trained_by=me", "-o", out_path)
    assert rc == 0 and "the firmware ignores it" in out
    assert read_params(out_path.read_bytes())["trained_by"] == "me"
    # a setting the firmware reads, missing from a model: added, with no note
    from kwshost.metadata import write_params

    params = read_params(MLTK.read_bytes())
    del params["suppression_ms"]
    lacking = tmp_path / "lacking.tflite"
    lacking.write_bytes(write_params(MLTK.read_bytes(), params))
    rc, out, _ = _run(capsys, lacking, "--set", "suppression_ms=900", "--in-place")
    assert rc == 0 and "suppression_ms: (new) -> 900" in out and "ignores" not in out
