"""The C detector (through the binding) against an independent Python model of MLTK's rules."""

from __future__ import annotations

import random

import pytest
from kwshost.detector import Detector, DetectorSettings
from kwshost.errors import KwsError


def reference_decisions(settings: DetectorSettings, stream: list[tuple[int, list[int]]]):
    """MLTK's RecognizeCommands, restated plainly (scores int8; 0..255 = int8 + 128)."""
    queue: list[tuple[int, list[int]]] = []
    prev_class, prev_time = 0, 0
    out = []
    for t, raw in stream:
        scores = [s + 128 for s in raw]
        if settings.minimum_count == 0:
            avg = scores
        else:
            queue.append((t, scores))
            queue = [(qt, qs) for qt, qs in queue if qt >= t - settings.average_window_duration_ms]
            if len(queue) < settings.minimum_count:
                out.append((prev_class, 0, False))
                continue
            avg = [sum(qs[i] for _, qs in queue) // len(queue) for i in range(len(scores))]
        top, best = 0, 0
        for i, v in enumerate(avg):
            if v > best:
                top, best = i, v
        fire = (best > settings.detection_threshold
                and not settings.classes[top].startswith("_")
                and (top != prev_class or t - prev_time > settings.suppression_ms))
        if fire:
            prev_class, prev_time = top, t
        out.append((top, best, fire))
    return out


@pytest.mark.parametrize("seed", range(6))
def test_matches_reference_on_random_streams(seed: int) -> None:
    rng = random.Random(seed)
    classes = rng.choice([("alexa", "_unknown_"), ("on", "off", "_unknown_", "_silence_")])
    settings = DetectorSettings(classes=classes,
                                average_window_duration_ms=rng.choice([0, 200, 440, 1000]),
                                minimum_count=rng.choice([0, 1, 2, 3]),
                                detection_threshold=rng.choice([150, 204, 216]),
                                suppression_ms=rng.choice([0, 300, 900]))
    stream, t = [], 0
    for _ in range(400):
        t += rng.choice([0, 100, 200, 200, 200, 300])
        hot = rng.randrange(len(classes))
        stream.append((t, [rng.randint(60, 127) if i == hot else rng.randint(-128, -60)
                           for i in range(len(classes))]))
    det = Detector(settings)
    got = [(d.class_index, d.score, d.detected) for d in (det.process(t, s) for t, s in stream)]
    want = reference_decisions(settings, stream)
    assert got == want
    assert any(fire for _, _, fire in want), "the stream should exercise detections"


def test_settings_from_alexa_metadata() -> None:
    params = {"classes": ["alexa", "_unknown_"], "latency_ms": 200, "minimum_count": 2,
              "average_window_duration_ms": 440, "detection_threshold": 204,
              "suppression_ms": 900}
    s = DetectorSettings.from_params(params)
    assert (s.average_window_duration_ms, s.minimum_count, s.detection_threshold,
            s.suppression_ms) == (440, 2, 204, 900)
    det = Detector(s)
    assert not det.process(200, [127, -128]).averaged
    assert not det.process(400, [127, -128]).detected  # start-up suppression
    assert not det.process(800, [127, -128]).detected
    assert det.process(1000, [127, -128]).detected


def test_rejects_bad_input() -> None:
    with pytest.raises(KwsError):
        DetectorSettings.from_params({"latency_ms": 200})
    det = Detector(DetectorSettings(classes=("a", "b")))
    with pytest.raises(KwsError):
        det.process(0, [1])
    det.process(100, [0, 0])
    with pytest.raises(KwsError, match="bad argument"):
        det.process(50, [0, 0])


@pytest.mark.parametrize("seed", range(4))
def test_a_whole_stream_in_one_call_decides_as_one_inference_at_a_time(seed: int) -> None:
    """`detections` (kws_detector_run, used to sweep settings) is the device's process loop."""
    import numpy as np
    from kwshost.detector import detections

    rng = np.random.default_rng(seed)
    classes = ("alexa", "_unknown_") if seed % 2 else ("on", "off", "_unknown_")
    times = np.cumsum(rng.choice([0, 100, 200, 300], 3000))
    scores = rng.integers(-128, 128, (3000, len(classes))).astype(np.int8)
    fired = 0
    for window, count, threshold, suppression in [(440, 2, 204, 900), (0, 0, 150, 500),
                                                  (1000, 3, 100, 1500), (600, 1, 240, 0)]:
        settings = DetectorSettings(classes, window, count, threshold, suppression)
        det = Detector(settings)
        want = [(int(t), d.class_index) for t, s in zip(times, scores, strict=True)
                if (d := det.process(int(t), s)).detected]
        assert detections(settings, times, scores) == want
        fired += len(want)
    assert fired, "the stream should exercise detections"
    with pytest.raises(KwsError, match="shape"):
        detections(settings, times, scores[:, :1])
