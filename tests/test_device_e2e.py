"""End to end on the emulated board: the firmware, streamed a spoken WAV over the serial
protocol, reports exactly the detections and scores the PC pipeline reports for that WAV."""

from __future__ import annotations

import json

import pytest
from device_helpers import kwshost, model_image_file, qemu_firmware, spoken_wav


def events(stdout: str, types=("detection", "scores")) -> list[dict]:
    return [e for e in map(json.loads, stdout.splitlines()) if e["type"] in types]


@pytest.mark.slow
def test_device_reports_what_the_pc_reports(tmp_path) -> None:
    from kwshost.qemu import QemuBoard

    wav = spoken_wav(tmp_path / "speech.wav",  # 10.8 s: kept short, QEMU takes ~5 kS/s
                     ["alexa", "what time is it", "alexa", "good morning", "alexa"], 0.9)
    pc = kwshost("listen", "--pc", "--wav", str(wav), "--verbose", "--json")
    assert pc.returncode == 0, pc.stderr
    pc_events = events(pc.stdout)
    detections = [e for e in pc_events if e["type"] == "detection"]
    assert len(detections) == 3, detections  # the three "alexa", nothing else
    assert all(e["label"] == "alexa" and e["score"] > 204 for e in detections)

    with QemuBoard(qemu_firmware(), model_image=model_image_file(tmp_path)) as board:
        dev = kwshost("listen", "--device", "--port", board.url, "--wav", str(wav),
                      "--verbose", "--json")
    assert dev.returncode == 0, dev.stderr
    assert events(dev.stdout) == pc_events  # every inference's scores, every detection
    link = events(dev.stdout, ("link",))
    assert link and "samples" in link[-1]["text"]


def test_device_without_model_says_so(tmp_path) -> None:
    from kwshost.qemu import QemuBoard

    wav = tmp_path / "silence.wav"
    import numpy as np
    import soundfile as sf

    sf.write(str(wav), np.zeros(1600, dtype=np.int16), 16000, subtype="PCM_16")
    with QemuBoard(qemu_firmware()) as board:
        info = kwshost("info", "--port", board.url)
        dev = kwshost("listen", "--device", "--port", board.url, "--wav", str(wav))
        assert board.exit_code() is None  # still running: a message, not a fault
    assert info.returncode == 0 and "kws firmware" in info.stdout
    assert "; no model running (not found)" in info.stdout
    assert dev.returncode != 0
    assert "no model in the model region" in dev.stderr
    assert "kwshost flash" in dev.stderr


def test_profile_on_the_emulated_board(tmp_path) -> None:
    from kwshost.qemu import QemuBoard

    with QemuBoard(qemu_firmware(), model_image=model_image_file(tmp_path), icount=True) as board:
        out = kwshost("profile", "--device", "--port", board.url, "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    layers, summary = report["layers"], report["summary"]
    assert len(layers) == summary["operators"] == 56
    assert summary["unit"].startswith("instructions")  # QEMU: not cycles, and says so
    assert summary["operators_total"] == sum(r["measure"] for r in layers)
    # the whole inference, timed without the per-operator reports, costs a little more
    overhead = summary["total"] - summary["operators_total"]
    assert 0 < overhead < 0.1 * summary["total"]
    assert all(r["measure"] > 0 for r in layers)
    convs = [r for r in layers if r["op"] == "CONV_2D"]
    assert max(convs, key=lambda r: r["macs"])["measure"] == max(r["measure"] for r in convs)
    assert summary["arena_bytes"] > 0 and summary["model_flash_bytes"] == 207460
