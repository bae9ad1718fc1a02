"""The README's commands on material we did not write: garbage, odd formats, other people's
models. Each bad input gets a one-line error and the documented exit code (2 for input, 3 for
the link), never a traceback, and nothing is silently wrong."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import cli as kwshost
from conftest import one_line_error
from kwshost.flatbuf import Buf

REPO = Path(__file__).resolve().parents[1]
ALEXA = REPO / "models" / "mltk_keyword_spotting_alexa.tflite"


def with_builtin(model: bytes, op_index: int, builtin: int) -> bytes:
    """`model` with operator code `op_index` changed to `builtin`, patched in place."""
    data = bytearray(model)
    code = Buf(bytes(data)).root().tables(1)[op_index]
    deprecated, full = code.field_pos(0), code.field_pos(3)  # int8 (old schema), int32
    assert deprecated is not None
    data[deprecated] = min(builtin, 127)
    if full is not None:
        data[full:full + 4] = struct.pack("<i", builtin)
    return bytes(data)


@pytest.fixture
def wavs(tmp_path: Path) -> dict[str, Path]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(16000) * 0.1
    out = {}
    for name, data, subtype in (("nan", np.full(16000, np.nan), "FLOAT"),
                                ("loud", x * 40, "FLOAT"),
                                ("short", x[:800], "PCM_16"),
                                ("ok", x, "PCM_16")):
        out[name] = tmp_path / f"{name}.wav"
        sf.write(str(out[name]), data, 16000, subtype=subtype)
    out["garbage"] = tmp_path / "garbage.wav"
    out["garbage"].write_bytes(rng.bytes(3000))
    return out


def test_float_wav_with_nan_is_refused_and_beyond_full_scale_is_said(capsys, caplog, wavs,
                                                                     tmp_path):
    code, _, err = kwshost(capsys, "features", wavs["nan"], "-o", tmp_path / "f.npy")
    assert code == 2 and "NaN or infinite" in one_line_error(err, "features")
    code, _, err = kwshost(capsys, "features", wavs["loud"], "-o", tmp_path / "f.npy")
    assert code == 0 and "beyond full scale (|x| > 1.0): clipped" in caplog.text


def test_features_output_path_warmup_and_short_clip(capsys, wavs, tmp_path):
    code, _, err = kwshost(capsys, "features", wavs["ok"], "-o", tmp_path / "no" / "f.npy")
    assert code == 2 and "cannot write" in one_line_error(err, "features")
    code, _, err = kwshost(capsys, "features", wavs["ok"], "-o", tmp_path)  # a folder
    assert code == 2 and "cannot write" in one_line_error(err, "features")
    for warmup in (-1, 10**9):  # 10**9 ms: a 30 GB allocation before
        code, _, err = kwshost(capsys, "features", wavs["ok"], "-o", tmp_path / "f",
                               "--warmup", warmup)
        assert code == 2 and "--warmup is 0 to 60000" in one_line_error(err, "features")
    # The file is written where -o says (np.save alone would write f.npy and report f).
    code, out, err = kwshost(capsys, "features", wavs["short"], "-o", tmp_path / "f")
    assert code == 0 and np.load(tmp_path / "f").shape == (118, 108)
    assert not (tmp_path / "f.npy").exists()
    assert "padded with silence" in err


def test_infer_names_what_is_wrong_with_the_input(capsys, wavs, tmp_path):
    np.savez(tmp_path / "a.npz", x=np.zeros(3))
    np.save(tmp_path / "s.npy", np.array(["a"] * 12744))
    np.save(tmp_path / "c.npy", np.ones((118, 108), np.complex64))
    np.save(tmp_path / "nan.npy", np.full((118, 108), np.nan, np.float32))
    cases = {tmp_path / "a.npz": "an .npz archive", wavs["ok"]: "not a .npy file",
             tmp_path / "s.npy": "<U1 values", tmp_path / "c.npy": "complex64 values",
             tmp_path / "nan.npy": "NaN or infinite"}
    for path, expected in cases.items():
        code, _, err = kwshost(capsys, "infer", ALEXA, path)
        assert code == 2 and expected in one_line_error(err, "infer"), path
    np.save(tmp_path / "ok.npy", np.zeros((118, 108), np.int8))
    code, _, err = kwshost(capsys, "infer", ALEXA, tmp_path / "ok.npy", "-o",
                           tmp_path / "no" / "y.npy")
    assert code == 2 and "cannot write" in one_line_error(err, "infer")
    np.save(tmp_path / "big.npy", np.full((118, 108), 1e6))
    code, _, err = kwshost(capsys, "infer", ALEXA, tmp_path / "big.npy")
    assert code == 0 and "12744 of 12744 values quantize outside the int8 range" in err


def test_evaluate_streams_garbage_and_missing_inputs(capsys, wavs, tmp_path):
    events = tmp_path / "e.json"
    events.write_text("{not json")
    for argv in (["--stream", tmp_path / "missing.wav"], ["--stream", wavs["garbage"]],
                 ["--stream", wavs["nan"]], ["--stream", wavs["ok"], "--events", events],
                 ["--stream", wavs["ok"], "--events", tmp_path / "missing.json"],
                 ["--cache", tmp_path], ["--data", tmp_path / "none"]):
        code, _, err = kwshost(capsys, "evaluate", ALEXA, *argv)
        assert code == 2, (argv, err)
        one_line_error(err, "evaluate")
    # A 1 s stream with no keywords: its length in seconds, and no FRR made up from 0/0.
    code, out, err = kwshost(capsys, "evaluate", ALEXA, "--stream", wavs["ok"])
    assert code == 0, err
    assert "streams: 1.0 s, 0 keywords" in out and "nan" not in out


def test_listen_port_means_the_device_and_pc_reports_a_summary(capsys, wavs):
    code, _, err = kwshost(capsys, "listen", "--pc", "--port", "socket://127.0.0.1:1",
                           "--wav", wavs["ok"])
    assert code == 2 and "--port is for --device" in one_line_error(err, "listen")
    code, _, err = kwshost(capsys, "listen", "--port", "socket://127.0.0.1:1", "--wav",
                           wavs["ok"], "--timeout", "0.2")
    assert code == 3 and "cannot open socket://127.0.0.1:1" in one_line_error(err, "listen")
    code, out, err = kwshost(capsys, "listen", "--pc", "--wav", wavs["ok"])
    assert code == 0 and "0 detection(s) in 1.00 s of audio (5 inferences)" in err


def test_link_arguments_are_checked_before_use(capsys):
    code, _, err = kwshost(capsys, "info", "--port", "socket://127.0.0.1:1", "--timeout", "0")
    assert code == 2 and "must be more than 0 seconds" in err
    for url in ("socket://127.0.0.1:99999", "socket://127.0.0.1", "socket://127.0.0.1:x"):
        code, _, err = kwshost(capsys, "info", "--port", url)
        assert code == 3 and "port from 1 to 65535" in one_line_error(err, "info"), url


def test_unsupported_operator_is_named_and_damage_is_told_apart(capsys, tmp_path):
    shape = tmp_path / "shape.tflite"
    shape.write_bytes(with_builtin(ALEXA.read_bytes(), 0, 77))  # SHAPE: no kernel here
    # Summarized from the file all the same; the RAM line says why the runtime cannot run it.
    code, out, err = kwshost(capsys, "summarize", shape)
    assert code == 0 and "cannot run the model: operator 0 (SHAPE)" in out, err
    cut = tmp_path / "cut.tflite"
    cut.write_bytes(ALEXA.read_bytes()[:-1])
    code, _, err = kwshost(capsys, "summarize", cut)
    assert code == 2 and "not a well-formed .tflite" in err
    code, _, err = kwshost(capsys, "summarize", tmp_path)
    assert code == 2 and "is a folder" in one_line_error(err, "summarize")


def test_flash_refuses_a_model_the_firmware_would_refuse(capsys, tmp_path):
    shape = tmp_path / "shape.tflite"
    shape.write_bytes(with_builtin(ALEXA.read_bytes(), 0, 77))
    # The image is never started: the model is refused first.
    code, _, err = kwshost(capsys, "flash", tmp_path / "kws.elf", "--target", "qemu",
                           "--model", shape)
    line = one_line_error(err, "flash")
    assert code == 2 and "would not run on the qemu firmware" in line and "SHAPE" in line


def test_convert_names_a_file_that_is_not_a_keras_model(capsys, wavs, tmp_path):
    code, _, err = kwshost(capsys, "convert", "--keras", wavs["garbage"], "--out",
                           tmp_path / "m.tflite")
    assert code == 2 and "is not a Keras model file" in one_line_error(err, "convert")
    code, _, err = kwshost(capsys, "convert", "--representative", "-5")
    assert code == 2 and "must be 1 or more" in err


def test_features_names_frontend_settings_the_firmware_refuses(capsys, wavs, tmp_path):
    from kwshost.metadata import read_params, write_params

    for key, value in (("fe.window_step_ms", 0), ("fe.sample_rate_hz", 0),
                       ("fe.sample_length_ms", -1)):
        model = tmp_path / "m.tflite"
        model.write_bytes(write_params(ALEXA, {**read_params(ALEXA), key: value}))
        code, _, err = kwshost(capsys, "features", wavs["ok"], "-o", tmp_path / "f.npy",
                               "--model", model)
        assert code == 2 and "frontend setup failed" in one_line_error(err, "features"), key


def test_evaluate_checks_a_feature_cache_before_using_it(capsys, tmp_path):
    x = np.zeros((4, 118, 108), np.int8)
    for labels, expected in ((np.array([0, 1, 5, 0], np.uint8), "labels must be class indexes"),
                             (np.zeros(3, np.uint8), "4 feature rows but 3 labels")):
        np.save(tmp_path / "val_x.npy", x)
        np.save(tmp_path / "val_y.npy", labels)
        code, _, err = kwshost(capsys, "evaluate", ALEXA, "--cache", tmp_path)
        assert code == 2 and expected in one_line_error(err, "evaluate")


def test_evaluate_data_with_a_broken_dataset_stops_instead_of_stalling(tmp_path):
    """A noise file the feature workers cannot read used to stall their pool for ever."""
    import json
    import subprocess
    import sys

    sf.write(str(tmp_path / "c.wav"), np.zeros(16000, np.int16), 16000, subtype="PCM_16")
    manifest = {"classes": ["alexa", "_unknown_"],
                "clips": [{"path": "c.wav", "label": "alexa"}], "noises": [{"path": "n.wav"}]}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    for noise in (None, b"not audio"):  # missing, then unreadable
        if noise is not None:
            (tmp_path / "n.wav").write_bytes(noise)
        run = subprocess.run([sys.executable, "-m", "kwshost", "evaluate", str(ALEXA), "--data",
                              str(tmp_path)], capture_output=True, text=True, timeout=120)
        assert run.returncode == 2 and "n.wav" in one_line_error(run.stderr, "evaluate")


def test_flash_refuses_an_image_that_is_not_arm_firmware(capsys, wavs, tmp_path):
    # Before: QEMU was started on it and the command said the board was running.
    code, _, err = kwshost(capsys, "flash", "--target", "qemu", wavs["garbage"], "--no-model")
    assert code == 2 and "not an Arm firmware image (not an ELF file)" in err
    elf = tmp_path / "x86.elf"
    elf.write_bytes(b"\x7fELF\x02\x01\x01" + bytes(9) + b"\x02\x00\x3e\x00" + bytes(44))
    code, _, err = kwshost(capsys, "flash", "--target", "qemu", elf, "--no-model")
    assert code == 2 and "an ELF file for another machine" in one_line_error(err, "flash")
    code, _, err = kwshost(capsys, "flash", "--target", "qemu", "--port", "99999")
    assert code == 2 and "a TCP port is 1 to 65535" in err


def test_flash_knows_the_firmware_arena():
    import re

    from kwshost.cli.flash import FIRMWARE_ARENA_BYTES

    main_c = (REPO / "firmware" / "app" / "main.c").read_text()
    kib = re.search(r"#define KWS_ARENA_BYTES \((\d+)u \* 1024u\)", main_c)
    assert kib and int(kib.group(1)) * 1024 == FIRMWARE_ARENA_BYTES


def test_unfinished_wav_is_told_apart_from_an_empty_one(capsys, wavs, tmp_path):
    data = bytearray(wavs["ok"].read_bytes())
    at = data.find(b"data")
    data[at + 4:at + 8] = bytes(4)  # the size a recorder writes last
    wav = tmp_path / "unfinished.wav"
    wav.write_bytes(bytes(data))
    code, _, err = kwshost(capsys, "listen", "--pc", "--wav", wav)
    assert code == 2 and "unfinished WAV" in one_line_error(err, "listen")


def test_summarize_json_stays_strict_json_with_nan_in_the_metadata(capsys, tmp_path):
    import json

    from kwshost.metadata import read_params, write_params

    model = tmp_path / "nan.tflite"
    model.write_bytes(write_params(ALEXA, {**read_params(ALEXA), "volume_gain": float("nan")}))
    code, out, _ = kwshost(capsys, "summarize", "--json", model)

    def refuse(constant: str) -> None:
        raise ValueError(f"not strict JSON: {constant}")

    assert code == 0
    assert json.loads(out, parse_constant=refuse)["params"]["volume_gain"] == "nan"


@pytest.mark.parametrize("key, value", [("fe.pcan_strength", float("nan")),
                                        ("fe.dc_notch_filter_coefficient", float("inf")),
                                        ("volume_gain", 1e300)])
def test_metadata_numbers_that_are_not_finite_floats_are_refused(capsys, wavs, tmp_path,
                                                                 native_lib, key, value):
    """NaN in fe.pcan_strength reached a float-to-short conversion in the frontend (undefined
    behaviour, reported by UBSan on the device's path); a double beyond a float's range was
    converted to float (undefined too). The SL_PARAMSv1 reader now calls such a dictionary
    malformed, on the device and the PC alike."""
    import ctypes

    from kwshost.metadata import read_params, write_params

    model = tmp_path / "m.tflite"
    data = write_params(ALEXA, {**read_params(ALEXA), key: value})
    model.write_bytes(data)
    params = ctypes.create_string_buffer(64)
    native_lib.kws_params_open.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
    assert native_lib.kws_params_open(params, data, len(data)) == 3  # KWS_ERR_MODEL_INVALID
    code, _, err = kwshost(capsys, "listen", "--pc", "--wav", wavs["ok"], "--model", model)
    assert code == 2 and "settings are not usable" in one_line_error(err, "listen")
    if key.startswith("fe."):
        code, _, err = kwshost(capsys, "features", wavs["ok"], "-o", tmp_path / "f.npy",
                               "--model", model)
        assert code == 2 and f"{key} = {value} is not a finite number" in err


def test_a_keras_backend_that_is_not_installed_is_one_line(capsys, monkeypatch) -> None:
    """KERAS_BACKEND=jax on a host without JAX was a traceback after the feature cache."""
    import importlib.util

    monkeypatch.setenv("KERAS_BACKEND", "nosuch")
    code, _, err = kwshost(capsys, "train", "--test", "--run", "/nonexistent/run")
    assert code == 2 and "trains with tensorflow, jax or torch" in one_line_error(err, "train")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "jax" else real(name, *a))
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    code, _, err = kwshost(capsys, "train", "--test", "--run", "/nonexistent/run")
    assert code == 2 and "but jax is not installed here" in one_line_error(err, "train")


def test_output_into_a_closed_pipe_stops_quietly(wavs) -> None:
    """`kwshost listen ... | head`: the reader goes away; no 'error: Broken pipe' line."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "kwshost", "listen", "--pc", "--verbose",
                             "--wav", str(wavs["ok"])], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()   # before the first line is written
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141 and "error" not in err and "Traceback" not in err, err


def test_missing_ports_caches_and_models_are_named_plainly(capsys, tmp_path) -> None:
    code, _, err = kwshost(capsys, "info", "--port", tmp_path / "ttyACM9")
    assert code == 3 and one_line_error(err, "info").endswith(
        f"cannot open {tmp_path / 'ttyACM9'}: No such file or directory")   # said once
    code, _, err = kwshost(capsys, "evaluate", ALEXA, "--cache", tmp_path / "nothing")
    assert code == 2 and "no such folder" in one_line_error(err, "evaluate")
    # profile --device looks for its model before it asks the board for anything
    code, _, err = kwshost(capsys, "profile", "--device", "--port", "socket://127.0.0.1:1",
                           "--model", tmp_path / "none.tflite")
    assert code == 2 and "model not found" in one_line_error(err, "profile")


def test_every_command_names_a_missing_or_empty_model_alike(capsys, wavs, tmp_path):
    npy = tmp_path / "x.npy"
    np.save(npy, np.zeros((118, 108), np.int8))
    fake_elf = tmp_path / "kws.elf"   # flash reads the model before it looks at the firmware
    fake_elf.write_bytes(b"")
    commands = [("summarize", "{m}"), ("infer", "{m}", npy), ("evaluate", "{m}"),
                ("params", "{m}"), ("listen", "--pc", "--model", "{m}", "--wav", wavs["ok"]),
                ("profile", "--pc", "{m}"), ("profile", "--pc", "--model", "{m}"),
                ("features", wavs["ok"], "-o", tmp_path / "f.npy", "--model", "{m}"),
                ("flash", "--target", "qemu", fake_elf, "--model", "{m}")]
    empty, missing = tmp_path / "empty.tflite", tmp_path / "missing.tflite"
    empty.write_bytes(b"")
    for model, said in ((empty, f"{empty}: empty file, not a .tflite model"),
                        (missing, f"model not found: {missing}")):
        for argv in commands:
            code, _, err = kwshost(capsys, *(model if a == "{m}" else a for a in argv))
            assert code == 2 and one_line_error(err, argv[0]).endswith(said), (argv, err)


def test_each_dataset_action_has_its_own_help_with_examples(capsys) -> None:
    for action in ("make", "mine", "stream", "timbre", "info"):
        code, out, _ = kwshost(capsys, "dataset", action, "--help")
        assert code == 0 and f"kwshost dataset {action}" in out.split("examples:")[1], action


def test_settings_the_firmware_refuses_are_named_with_their_range(capsys, tmp_path):
    """The engine returns one status for all of these: minimum_count 1000 was reported as
    "latency_ms must be a whole number of frontend steps", a sample rate of 0 blamed
    fe.window_step_ms, and fe.log_scale_shift 40 or a negative suppression_ms named nothing."""
    import re

    from kwshost.train_config import MAX_MINIMUM_COUNT

    out = tmp_path / "o.tflite"
    for setting, said in (("minimum_count=1000", "minimum_count = 1000 is out of range"),
                          ("suppression_ms=-1", "suppression_ms = -1 is out of range"),
                          ("fe.sample_rate_hz=0", "fe.sample_rate_hz is 0; the frontend "
                                                  "takes 1000 to 192000"),
                          ("fe.log_scale_shift=40", "fe.log_scale_shift is 40; the frontend "
                                                    "takes 0 to 15"),
                          ("fe.window_size_ms=0", "fe.window_size_ms is 0; the frontend "
                                                  "takes 1 or more"),
                          ("fe.pcan_strength=500", "fe.pcan_strength is 500; the frontend "
                                                   "takes -100 to 100"),
                          ("fe.dc_notch_filter_coefficient=1",
                           "fe.dc_notch_filter_coefficient is 1; the frontend takes 0 to "
                           "0.99996"),
                          ("fe.noise_reduction_even_smoothing=nan",
                           "fe.noise_reduction_even_smoothing = nan is out of range")):
        code, _, err = kwshost(capsys, "params", ALEXA, "--set", setting, "-o", out)
        assert code == 2 and said in one_line_error(err, "params"), (setting, err)
        assert "latency_ms" not in err and not out.exists()
    detector_h = (REPO / "firmware" / "detector" / "detector.h").read_text()
    queue = re.search(r"#define KWS_DETECTOR_MAX_RESULTS (\d+)", detector_h)
    assert queue and int(queue.group(1)) == MAX_MINIMUM_COUNT


def test_older_mltk_models_are_not_warned_about_stages_they_leave_off(capsys, caplog,
                                                                      wavs, tmp_path):
    """MLTK's zoo models name no activity detection, DC notch or dynamic quantization (all
    off for them): `features --model` warned that seven such keys were missing."""
    from kwshost.metadata import read_params, write_params

    params = {k: v for k, v in read_params(ALEXA).items()
              if not k.startswith(("fe.activity_detection", "fe.dc_notch",
                                   "fe.quantize_dynamic"))}
    model = tmp_path / "zoo_like.tflite"
    model.write_bytes(write_params(ALEXA, params))
    code, _, err = kwshost(capsys, "features", wavs["ok"], "-o", tmp_path / "f.npy",
                           "--model", model)
    assert code == 0 and "lacks" not in caplog.text, caplog.text
    del params["fe.pcan_offset"]   # a setting a stage that is on uses: still said
    model.write_bytes(write_params(ALEXA, params))
    code, _, err = kwshost(capsys, "features", wavs["ok"], "-o", tmp_path / "f.npy",
                           "--model", model)
    assert code == 0 and "model metadata lacks fe.pcan_offset;" in caplog.text


def test_events_files_of_another_layout_are_named_plainly(capsys, wavs, tmp_path):
    """A list at the top, events that are not objects: Python's AttributeError text; a NaN
    duration_s: accepted, its check against the stream's length skipped."""
    events = tmp_path / "e.json"
    for content, said in (("[]", "the top level is a JSON list, not an object"),
                          ('{"events": {"a": 1}}', '"events" must be a list of objects'),
                          ('{"events": [1, 2]}', '"events" must be a list of objects'),
                          ('{"duration_s": NaN, "events": []}', "duration_s is nan")):
        events.write_text(content)
        code, _, err = kwshost(capsys, "evaluate", ALEXA, "--stream", wavs["ok"],
                               "--events", events)
        line = one_line_error(err, "evaluate")
        assert code == 2 and said in line and "Error" not in line, (content, err)


def test_a_keras_model_given_for_a_tflite_is_named_with_how_to_convert(capsys, tmp_path):
    """It was "not a well-formed .tflite model: truncated, damaged, or not a model at all"."""
    import zipfile

    keras = tmp_path / "best.keras"
    with zipfile.ZipFile(keras, "w") as z:
        z.writestr("config.json", "{}")
    h5 = tmp_path / "model.h5"
    h5.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(100))
    for model, kind in ((keras, "a zip archive (a Keras .keras model?)"),
                        (h5, "an HDF5 file (a Keras .h5 model?)")):
        for argv in (("summarize", model), ("listen", "--pc", "--model", model, "--wav", model)):
            code, _, err = kwshost(capsys, *argv)
            assert code == 2 and one_line_error(err, argv[0]).endswith(
                f"{model} is {kind}, not a .tflite model"), err
            assert f"kwshost convert --keras {model}" in err
