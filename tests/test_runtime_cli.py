"""`kwshost summarize` and `kwshost infer` on MLTK's alexa model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import run_in_ref
from kwshost.cli import main
from kwshost.cli.summarize import summarize
from kwshost.runtime import Interpreter

REPO = Path(__file__).resolve().parents[1]
ALEXA = REPO / "models" / "mltk_keyword_spotting_alexa.tflite"


def test_summarize_totals_agree_with_the_seed(capsys):
    assert main(["summarize", str(ALEXA), "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    # The seed's `mltk summarize` page: Total MACs 4.562 M, Total OPs 9.247 M.
    assert round(s["total_macs"] / 1e6, 3) == 4.562
    assert round(s["total_ops"] / 1e6, 3) == 9.247
    assert len(s["operators"]) == 56
    first = s["operators"][0]
    assert first["op"] == "CONV_2D" and first["macs"] == 118 * 32 * 3 * 108
    assert first["inputs"][1]["shape"] == [32, 3, 1, 108]
    assert first["options"] == {"padding": "Same", "stride": [1, 1], "activation": "None"}
    assert s["flash_bytes"] == ALEXA.stat().st_size
    assert s["ram_bytes"] <= 40 * 1024
    assert s["params"]["classes"] == ["alexa", "_unknown_"]


def test_summarize_table(capsys):
    assert main(["summarize", str(ALEXA)]) == 0
    out = capsys.readouterr().out
    for text in ("depthwise_conv_2d", "118x1x108 (int8)", "pad:Same stride:2x2 act:Relu",
                 "Total MACs:", "4.562 M", "9.247 M", "detection_threshold", "204"):
        assert text in out


def test_summarize_rejects_broken_model(tmp_path, capsys):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(ALEXA.read_bytes()[:3000])
    assert main(["summarize", str(bad)]) == 2
    assert "rejected the model" in capsys.readouterr().err


def test_infer_prints_output_and_classes(tmp_path, capsys):
    x = np.random.default_rng(3).integers(-128, 128, (118, 108), dtype=np.int8)
    np.save(tmp_path / "x.npy", x)
    assert main(["infer", str(ALEXA), str(tmp_path / "x.npy"), "-o",
                 str(tmp_path / "y.npy")]) == 0
    out = capsys.readouterr().out
    expected = Interpreter(ALEXA).invoke(x.reshape(1, 118, 1, 108))
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), expected)
    assert "output 0 int8 1x2" in out and "alexa" in out and "_unknown_" in out
    assert f"(int8 {int(expected[0, 0])})" in out


def test_infer_batch_and_bad_shape(tmp_path, capsys):
    xs = np.random.default_rng(5).integers(-128, 128, (3, 118, 108), dtype=np.int8)
    np.save(tmp_path / "xs.npy", xs)
    assert main(["infer", str(ALEXA), str(tmp_path / "xs.npy"), "-o",
                 str(tmp_path / "ys.npy")]) == 0
    assert np.load(tmp_path / "ys.npy").shape == (3, 1, 2)
    np.save(tmp_path / "bad.npy", np.zeros((5, 5), np.int8))
    assert main(["infer", str(ALEXA), str(tmp_path / "bad.npy")]) == 2
    assert "shape (5, 5)" in capsys.readouterr().err


def test_infer_saves_every_output_of_a_two_output_model(tmp_path, capsys):
    """-o OUT.npz holds each output (output_0, output_1) as the runtime gave it; -o OUT.npy
    keeps output 0 and says the rest were left out."""
    tf = pytest.importorskip("tensorflow")
    import random_models

    model = tmp_path / "two.tflite"
    model.write_bytes(random_models.convert(
        lambda x: (tf.nn.softmax(x), tf.reduce_mean(x, axis=1, keepdims=True)), [(1, 6)],
        np.random.default_rng(1), float_io=False))
    x = np.random.default_rng(2).integers(-128, 128, (2, 6), dtype=np.int8)   # a batch of 2
    np.save(tmp_path / "x.npy", x)
    it = Interpreter(model)
    expected = [it.invoke(row.reshape(1, 6)) for row in x]
    assert main(["infer", str(model), str(tmp_path / "x.npy"), "-o",
                 str(tmp_path / "y.npz")]) == 0
    saved = np.load(tmp_path / "y.npz")
    assert sorted(saved.files) == ["output_0", "output_1"]
    for k in range(2):
        np.testing.assert_array_equal(saved[f"output_{k}"], np.stack([e[k] for e in expected]))
    capsys.readouterr()
    assert main(["infer", str(model), str(tmp_path / "x.npy"), "-o",
                 str(tmp_path / "y.npy")]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), np.stack([e[0] for e in expected]))
    assert "holds output 0 (name an .npz" in capsys.readouterr().err


# MLTK's own summary totals of each model (its 3-digit rounding), as JSON.
MLTK_TOTALS = r"""
import json, logging, re, sys
logging.disable(logging.CRITICAL)
from mltk.core import summarize_model
out = {}
for path in sys.argv[1:]:
    text = summarize_model(path, tflite=True)
    units = {'': 1, 'k': 1e3, 'M': 1e6, 'G': 1e9}
    found = [re.search(name + r': ([\d.]+) ?([kMG]?)', text)
             for name in ('Total MACs', 'Total OPs')]
    out[path] = [float(m.group(1)) * units[m.group(2)] for m in found]
print(json.dumps(out))
"""


@pytest.mark.slow
def test_totals_agree_with_mltk_summarize(ref_python):
    """MACs and OPs as `mltk summarize --tflite` counts them, on random models of every op."""
    cached = sorted((REPO / "build" / "test-models").glob("*seed20261125-n*/manifest.json"))
    if not cached:
        pytest.skip("random test models not built (tests/test_kernels_random.py builds them)")
    names = json.loads(cached[-1].read_text())[:30]  # two of each op kind
    models = [ALEXA] + [cached[-1].parent / n for n in names]
    mltk = json.loads(run_in_ref(ref_python, MLTK_TOTALS, *map(str, models)).splitlines()[-1])
    for path in models:
        s = summarize(path)
        for theirs, ours in zip(mltk[str(path)], (s["total_macs"], s["total_ops"]), strict=True):
            assert abs(theirs - ours) <= max(0.0006 * ours, 0.5), (path.name, theirs, ours)
