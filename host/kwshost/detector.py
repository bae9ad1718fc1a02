"""The MLTK-compatible smoothing/suppression detector, run through the firmware's C code.

The same `firmware/detector/detector.c` decides on the device, so a score stream gives the
same detections on the PC and the board. Semantics: see firmware/detector/detector.h.
"""

from __future__ import annotations

import ctypes
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kwshost import native
from kwshost.errors import KwsError

MAX_CLASSES = 32


class _Config(ctypes.Structure):
    _fields_ = [
        ("average_window_duration_ms", ctypes.c_int32),
        ("minimum_count", ctypes.c_int32),
        ("detection_threshold", ctypes.c_uint8),
        ("suppression_ms", ctypes.c_int32),
        ("class_count", ctypes.c_uint32),
        ("ignored_classes", ctypes.c_uint32),
        ("class_threshold_set", ctypes.c_uint32),
        ("class_thresholds", ctypes.c_uint8 * MAX_CLASSES),
    ]


class _Result(ctypes.Structure):
    _fields_ = [
        ("class_index", ctypes.c_uint32),
        ("score", ctypes.c_uint8),
        ("averaged", ctypes.c_bool),
        ("detected", ctypes.c_bool),
    ]


@dataclass(frozen=True)
class DetectorSettings:
    """The detector's parameters, normally read from the model's SL_PARAMSv1 metadata."""

    classes: tuple[str, ...]
    average_window_duration_ms: int = 1000
    minimum_count: int = 3
    detection_threshold: int = 50
    suppression_ms: int = 1500
    # MLTK's detection_threshold_list: a threshold per class (the first len() classes), which
    # wins over detection_threshold for those classes
    class_thresholds: tuple[int, ...] = ()

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> DetectorSettings:
        """Settings from a model's metadata dictionary (keys as MLTK writes them)."""
        classes = params.get("classes")
        if not classes:
            raise KwsError("the model's metadata has no 'classes' list",
                           hint="a keyword model needs its class labels in SL_PARAMSv1")
        defaults = cls(classes=())
        return cls(
            classes=tuple(str(c) for c in classes),  # type: ignore[union-attr]
            average_window_duration_ms=int(params.get("average_window_duration_ms",
                                                      defaults.average_window_duration_ms)),
            minimum_count=int(params.get("minimum_count", defaults.minimum_count)),
            detection_threshold=int(params.get("detection_threshold",
                                               defaults.detection_threshold)),
            suppression_ms=int(params.get("suppression_ms", defaults.suppression_ms)),
            class_thresholds=class_thresholds(params.get("detection_threshold_list")),
        )


def class_thresholds(listed: object) -> tuple[int, ...]:
    """MLTK's detection_threshold_list as thresholds (none: ()); KwsError for anything else."""
    if listed is None:
        return ()
    if not isinstance(listed, list | tuple) or not all(
            isinstance(t, int) and not isinstance(t, bool) and 0 <= t <= 255 for t in listed):
        raise KwsError(f"detection_threshold_list {listed!r} is not a list of 0..255 thresholds")
    return tuple(listed)


def one_threshold(params: Mapping[str, object], threshold: int) -> dict[str, object]:
    """PARAMS with THRESHOLD for every class (a per-class list dropped): what a threshold
    sweep, or a tuned model, sets."""
    return {**{k: v for k, v in params.items() if k != "detection_threshold_list"},
            "detection_threshold": int(threshold)}


@dataclass(frozen=True)
class Decision:
    time_ms: int
    class_index: int
    score: int
    averaged: bool
    detected: bool


def _lib() -> ctypes.CDLL:
    lib = native.lib()
    lib.kws_detector_state_size.restype = ctypes.c_size_t
    lib.kws_detector_init.argtypes = [ctypes.c_void_p, ctypes.POINTER(_Config)]
    lib.kws_detector_init.restype = ctypes.c_int
    lib.kws_detector_process.argtypes = [ctypes.c_void_p, ctypes.c_int32,
                                         ctypes.POINTER(ctypes.c_int8), ctypes.POINTER(_Result)]
    lib.kws_detector_process.restype = ctypes.c_int
    lib.kws_detector_run.argtypes = [ctypes.POINTER(_Config), ctypes.c_void_p, ctypes.c_void_p,
                                     ctypes.c_uint32, ctypes.c_void_p, ctypes.c_void_p,
                                     ctypes.c_uint32, ctypes.POINTER(ctypes.c_uint32)]
    lib.kws_detector_run.restype = ctypes.c_int
    lib.kws_status_str.argtypes = [ctypes.c_int]
    lib.kws_status_str.restype = ctypes.c_char_p
    return lib


class Detector:
    """Feed it one inference at a time (int8 model outputs); it says when a keyword fires."""

    def __init__(self, settings: DetectorSettings) -> None:
        if not 0 < len(settings.classes) <= MAX_CLASSES:
            raise KwsError(f"the detector handles 1..{MAX_CLASSES} classes, "
                           f"not {len(settings.classes)}")
        if not 0 <= settings.detection_threshold <= 255:
            raise KwsError(f"detection_threshold {settings.detection_threshold} is outside 0..255")
        self.settings = settings
        self._lib = _lib()
        self._state = ctypes.create_string_buffer(self._lib.kws_detector_state_size())
        ignored = sum(1 << i for i, c in enumerate(settings.classes) if c.startswith("_"))
        listed = settings.class_thresholds[:len(settings.classes)]
        self._config = _Config(settings.average_window_duration_ms, settings.minimum_count,
                               settings.detection_threshold, settings.suppression_ms,
                               len(settings.classes), ignored, (1 << len(listed)) - 1,
                               (ctypes.c_uint8 * MAX_CLASSES)(*listed))
        self._check(self._lib.kws_detector_init(self._state, ctypes.byref(self._config)), "init")

    def _check(self, status: int, what: str) -> None:
        if status != 0:
            raise KwsError(f"detector {what} failed: {self._lib.kws_status_str(status).decode()}")

    def process(self, time_ms: int, scores: Sequence[int]) -> Decision:
        n = len(self.settings.classes)
        if len(scores) != n:
            raise KwsError(f"expected {n} scores, got {len(scores)}")
        arr = (ctypes.c_int8 * n)(*[int(s) for s in scores])
        res = _Result()
        self._check(self._lib.kws_detector_process(self._state, int(time_ms), arr,
                                                   ctypes.byref(res)), "process")
        return Decision(int(time_ms), res.class_index, res.score, res.averaged, res.detected)


def detections(settings: DetectorSettings, times_ms, scores) -> list[tuple[int, int]]:
    """(time_ms, class) of every detection a fresh detector makes over a recorded score stream
    (times_ms [n]; scores [n, classes] int8): what feeding `Detector.process` one inference
    at a time gives, in one call to the C detector."""
    import numpy as np

    n_classes = len(settings.classes)
    times = np.ascontiguousarray(times_ms, dtype=np.int32)
    s = np.ascontiguousarray(scores, dtype=np.int8)
    if s.ndim != 2 or s.shape != (len(times), n_classes):
        raise KwsError(f"expected scores of shape ({len(times)}, {n_classes}), got {s.shape}")
    detector = Detector(settings)  # validates the settings
    cap = max(1, len(times))
    found_ms = np.zeros(cap, np.int32)
    found_class = np.zeros(cap, np.uint32)
    n_found = ctypes.c_uint32()
    detector._check(detector._lib.kws_detector_run(
        ctypes.byref(detector._config), times.ctypes.data, s.ctypes.data, len(times),
        found_ms.ctypes.data, found_class.ctypes.data, cap, ctypes.byref(n_found)), "run")
    k = n_found.value
    return list(zip(found_ms[:k].tolist(), found_class[:k].tolist(), strict=True))
