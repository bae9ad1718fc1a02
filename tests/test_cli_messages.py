"""Command-line paths of the device-side commands: models made with TensorFlow, odd WAVs, misuse."""

from __future__ import annotations

import os
import pty
from pathlib import Path

import numpy as np
import pytest
from kwshost.audio import write_wav
from kwshost.cli import main
from kwshost.cli.infer import load_input
from kwshost.metadata import read_params, write_params

REPO = Path(__file__).resolve().parents[1]
ALEXA = REPO / "models" / "mltk_keyword_spotting_alexa.tflite"


def _without_classes(tmp_path: Path) -> Path:
    """The bundled model with every parameter but its classes."""
    data = ALEXA.read_bytes()
    params = {k: v for k, v in read_params(data).items() if k != "classes"}
    path = tmp_path / "no_classes.tflite"
    path.write_bytes(write_params(data, params))
    return path


def test_params_set_new_classes_writes_a_list(tmp_path, capsys):
    model = _without_classes(tmp_path)
    out = tmp_path / "labelled.tflite"
    assert main(["params", str(model), "--set", "classes=alexa,_unknown_", "-o", str(out)]) == 0
    assert read_params(out.read_bytes())["classes"] == ["alexa", "_unknown_"]
    capsys.readouterr()
    more = tmp_path / "thresholds.tflite"
    assert main(["params", str(out), "--set", "detection_threshold_list=200,255",
                 "-o", str(more)]) == 0
    assert read_params(more.read_bytes())["detection_threshold_list"] == [200, 255]


def test_listen_device_refuses_an_accelerator_it_cannot_choose(tmp_path, capsys):
    """The board runs the kernels its firmware was built with: --accelerator mvp with
    --device would change nothing, so it is refused before any port is opened."""
    wav = tmp_path / "a.wav"
    write_wav(wav, np.zeros(1600, np.int16))
    code = main(["listen", "--device", "--port", "socket://127.0.0.1:1", "--wav", str(wav),
                 "--accelerator", "mvp"])
    err = capsys.readouterr().err
    assert code == 2
    assert "--accelerator" in err and "--pc" in err
    assert "cannot open" not in err


def test_a_frontend_window_the_model_does_not_take_says_both_sizes(tmp_path, capsys):
    data = ALEXA.read_bytes()
    params = dict(read_params(data), **{"fe.filterbank_n_channels": 40})
    model = tmp_path / "forty.tflite"
    model.write_bytes(write_params(data, params))
    wav = tmp_path / "a.wav"
    write_wav(wav, np.zeros(1600, np.int16))
    assert main(["listen", "--pc", "--wav", str(wav), "--model", str(model)]) == 2
    err = capsys.readouterr().err
    assert "118 x 40" in err and "1x118x1x108" in err


def test_listen_says_which_frontend_setting_the_firmware_refuses(tmp_path, capsys):
    """`features` named the setting; listen, params and flash (the engine's reader) said
    only "not supported"."""
    data = ALEXA.read_bytes()
    model = tmp_path / "eight_k.tflite"
    params = dict(read_params(data), **{"fe.sample_rate_hz": 8000})
    model.write_bytes(write_params(data, params))
    wav = tmp_path / "a.wav"
    write_wav(wav, np.zeros(1600, np.int16))
    assert main(["listen", "--pc", "--wav", str(wav), "--model", str(model)]) == 2
    err = capsys.readouterr().err
    assert "fe.fft_length is 512" in err


def test_infer_quantizes_floats_as_tflite_does(tmp_path):
    """TFLite (and the firmware's QUANTIZE) computes round(x / scale) + zero_point with the
    quotient in float32 and halves rounded away from zero; numpy's round takes halves to
    even, which moved ties by one step."""
    x = np.array([0.25, 0.75, 1.25, -0.25, -0.75, 0.0, 100.0], np.float32)
    path = tmp_path / "x.npy"
    np.save(path, x)
    (q,) = load_input(str(path), (7,), np.int8, 0.5, 3)
    assert q.tolist() == [4, 5, 6, 2, 1, 3, 127]


def test_info_baud_must_be_a_rate_a_port_can_take(capsys):
    """--baud 12345678901 on a tty was an OverflowError traceback inside pyserial; 0 and
    negative rates are bad arguments (exit 2), not a port that cannot be opened (exit 3)."""
    master, slave = pty.openpty()
    try:
        for baud in ("12345678901", "0", "-5"):
            with pytest.raises(SystemExit) as e:
                main(["info", "--port", os.ttyname(slave), "--baud", baud, "--timeout", "0.2"])
            assert e.value.code == 2
            assert "--baud" in capsys.readouterr().err
    finally:
        os.close(master)
        os.close(slave)


def test_a_model_without_classes_is_told_how_to_add_them(tmp_path, capsys):
    """listen and flash said what was missing, and flash pointed at `summarize` (operators)
    for a metadata problem; both now give the `params` command that adds the labels."""
    model = _without_classes(tmp_path)
    wav = tmp_path / "a.wav"
    write_wav(wav, np.zeros(1600, np.int16))
    assert main(["listen", "--pc", "--wav", str(wav), "--model", str(model)]) == 2
    assert "--set classes=" in capsys.readouterr().err
    assert main(["flash", "--target", "qemu", "--model", str(model)]) == 2
    err = capsys.readouterr().err
    assert "--set classes=" in err and "--no-check" in err


def test_a_silent_socket_says_the_board_may_be_busy(capsys):
    """The emulated board serves one connection at a time: `info` while a `listen` streams
    got "is the board powered?", which sends the user looking in the wrong place."""
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    try:
        port = server.getsockname()[1]
        code = main(["info", "--port", f"socket://127.0.0.1:{port}", "--timeout", "0.3"])
        err = capsys.readouterr().err
        assert code == 3
        assert "one connection at a time" in err
    finally:
        server.close()


def test_flash_names_a_board_image_pyocd_cannot_read(tmp_path, capsys, monkeypatch):
    """pyOCD picks the format by extension, case and all: Simplicity Studio's .s37, a folder or
    KWS.HEX were its ValueError (a traceback) once a probe was found; each is refused first,
    and a .HEX in capitals is programmed as the Intel HEX it is."""
    pytest.importorskip("pyocd")
    from kwshost.cli import flash
    from pyocd.flash import file_programmer

    s37 = tmp_path / "kws.s37"
    s37.write_text("S00F0000\n")
    for image, said in ((s37, "pyOCD programs .hex, .bin, .elf or .axf images, not .s37"),
                        (tmp_path, "is a folder, not a firmware image")):
        assert main(["flash", str(image), "--no-model", "--probe", "none"]) == 2
        err = capsys.readouterr().err
        assert said in err and "probe" not in err.split("\n")[0], err

    programmed = []

    class Session:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            pass

        class target:
            reset = staticmethod(lambda: None)

    class Programmer:
        def __init__(self, session, progress=None):
            pass

        def program(self, path, **kw):
            programmed.append((Path(path).name, kw))

    monkeypatch.setattr(flash, "_probe_session", lambda *a: Session())
    monkeypatch.setattr(file_programmer, "FileProgrammer", Programmer)
    upper = tmp_path / "KWS.HEX"
    upper.write_text(":00000001FF\n")
    assert main(["flash", str(upper), "--no-model"]) == 0
    assert programmed == [("KWS.HEX", {"file_format": "hex"})]
