"""Other people's models: every .tflite MLTK 0.20 ships (its model zoo archives, its test
data) run on our runtime. The int8 ones give outputs bit-identical to tflite-micro's own
interpreter on random inputs; the rest are refused with the operator and the reason."""

from __future__ import annotations

import numpy as np
from conftest import run_in_ref
from kwshost.errors import ModelError
from kwshost.runtime import Interpreter

REF_CODE = r"""
import sys, numpy as np
from tflite_micro.python.tflite_micro import runtime
for path in sys.argv[1:]:
    z = np.load(path + ".in.npz")
    it = runtime.Interpreter.from_file(path, arena_size=4 << 20)
    for i in range(len(z.files)):
        it.set_input(z[f"arr_{i}"], i)
    it.invoke()
    np.savez(path + ".ref.npz", it.get_output(0))
"""


def test_int8_models_match_tflite_micro_and_the_rest_are_named(mltk_models, ref_python,
                                                               tmp_path):
    ran, refused = [], {}
    rng = np.random.default_rng(3)
    for name, path in mltk_models.items():
        try:
            it = Interpreter(path)
        except ModelError as e:
            refused[name] = str(e)
            continue
        xs = []
        for d in it.input_details:
            if np.issubdtype(d.dtype, np.integer):
                info = np.iinfo(d.dtype)
                xs.append(rng.integers(info.min, info.max + 1, d.shape).astype(d.dtype))
            else:
                xs.append(rng.standard_normal(d.shape).astype(d.dtype))
        y = it.invoke(*xs)
        copy = tmp_path / f"{len(ran)}.tflite"
        copy.write_bytes(path.read_bytes())
        np.savez(f"{copy}.in.npz", *xs)
        ran.append((name, copy, y[0] if isinstance(y, list) else y))
    run_in_ref(ref_python, REF_CODE, *(str(copy) for _, copy, _ in ran))
    for name, copy, ours in ran:
        theirs = np.load(f"{copy}.ref.npz")["arr_0"]
        np.testing.assert_array_equal(ours, theirs.reshape(ours.shape), err_msg=name)
    assert len(ran) >= 15, (sorted(n for n, _, _ in ran), refused)
    # Float models and an operator we have no kernel for: refused, naming op and reason.
    for name, message in refused.items():
        assert "operator" in message, (name, message)
        if "float32" in name or "sine" in name:
            assert "only int8" in message, (name, message)
    assert any("(SHAPE)" in m for n, m in refused.items() if "anomaly" in n), refused


def test_flash_refuses_a_model_too_big_for_the_board_arena(mltk_models, tmp_path, capsys):
    """MLTK's mobilenetv2 keyword model needs 141,584 bytes of arena with the MVP kernels, more
    than the board firmware's 112 kB: refused before any probe is looked for."""
    from kwshost.cli import main

    image = tmp_path / "kws.bin"
    image.write_bytes(bytes(64))
    model = mltk_models["keyword_spotting_mobilenetv2/keyword_spotting_mobilenetv2.tflite"]
    code = main(["flash", str(image), "--model", str(model), "--probe", "none"])
    err = capsys.readouterr().err
    assert code == 2 and "bytes of arena with the efr32xg24's kernels" in err, err
