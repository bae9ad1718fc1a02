"""The always-on pipeline on the PC: the firmware's own C code (frontend, runtime, detector,
wired by firmware/detector/engine.c) run through the binding, so the PC reports exactly what
a device reports for the same audio and model.

    pipe = PcPipeline.from_model("models/mltk_keyword_spotting_alexa.tflite")
    for inference in pipe.process(samples):      # int16 mono at the model's sample rate
        if inference.detected: ...
"""

from __future__ import annotations

import ctypes
import functools
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kwshost.detector import class_thresholds
from kwshost.errors import KwsError, ModelError
from kwshost.events import Event, label_of
from kwshost.frontend import _NOT_FOUND, _Config
from kwshost.frontend import _lib as frontend_lib

MAX_CLASSES = 32  # KWS_DETECTOR_MAX_CLASSES (firmware/detector/detector.h)
ARENA_BYTES = 1 << 20
LABELS_BYTES = 256  # the firmware's label buffer (g_labels in firmware/app/main.c)

log = logging.getLogger(__name__)


def warn_if_no_frontend_settings(path: Path | str, params: Mapping[str, object]) -> None:
    """A model that names no fe.* settings runs (its input is the seed's window), but on
    settings it never named: say so where it is run or flashed."""
    if not any(str(k).startswith("fe.") for k in params):
        log.warning("%s names no fe.* frontend settings: it runs on the seed's frontend "
                    "(kwshost params M --set fe.KEY=VALUE -o OUT stores its own)", path)


class _Inference(ctypes.Structure):
    _fields_ = [("time_ms", ctypes.c_int32), ("index", ctypes.c_uint32),
                ("scores", ctypes.c_int8 * MAX_CLASSES), ("class_index", ctypes.c_uint32),
                ("score", ctypes.c_uint8), ("averaged", ctypes.c_uint8),
                ("detected", ctypes.c_uint8)]


@dataclass(frozen=True)
class Inference:
    time_ms: int
    index: int
    scores: tuple[int, ...]  # raw int8 model outputs
    class_index: int         # the detector's top class
    score: int               # its averaged score (0 when too few results)
    averaged: bool
    detected: bool

    def events(self, labels: tuple[str, ...], verbose: bool) -> list[Event]:
        out = []
        if verbose:
            out.append(Event("scores", self.time_ms, self.class_index,
                             label_of(labels, self.class_index), self.score,
                             tuple(s + 128 for s in self.scores)))
        if self.detected:
            out.append(Event("detection", self.time_ms, self.class_index,
                             label_of(labels, self.class_index), self.score))
        return out


def _lib() -> ctypes.CDLL:
    lib = frontend_lib()      # the settings reader's signatures are declared there
    for name in ("kws_engine_size", "kws_binding_inference_size"):
        getattr(lib, name).restype = ctypes.c_size_t
    lib.kws_settings_from_model.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t,
                                            ctypes.c_void_p, ctypes.c_size_t]
    lib.kws_engine_open.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t,
                                    ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                                    ctypes.c_size_t]
    lib.kws_binding_open.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t,
                                     ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p,
                                     ctypes.c_size_t]
    lib.kws_engine_message.argtypes = [ctypes.c_void_p]
    lib.kws_engine_message.restype = ctypes.c_char_p
    lib.kws_engine_first_inference_ms.argtypes = [ctypes.c_void_p]
    lib.kws_engine_first_inference_ms.restype = ctypes.c_uint32
    lib.kws_binding_process.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t,
                                        ctypes.POINTER(_Inference), ctypes.c_size_t,
                                        ctypes.POINTER(ctypes.c_size_t)]
    lib.kws_binding_reset.argtypes = [ctypes.c_void_p]
    lib.kws_engine_scale_microphone.argtypes = [ctypes.c_void_p, ctypes.c_void_p,
                                                ctypes.c_size_t]
    lib.kws_status_str.argtypes = [ctypes.c_int]
    lib.kws_status_str.restype = ctypes.c_char_p
    if lib.kws_binding_inference_size() != ctypes.sizeof(_Inference):
        raise ModelError("the native library's inference record does not match this kwshost")
    return lib


def _default_settings(lib: ctypes.CDLL) -> ctypes.Array:
    """A scratch kws_engine_settings_t holding the defaults, for trying keys on."""
    scratch = ctypes.create_string_buffer(lib.kws_binding_settings_size())
    lib.kws_settings_default(scratch)
    return scratch


def _settings_problem(lib: ctypes.CDLL, params: Mapping[str, object], status: int) -> str:
    """Which metadata entry the C reader refused (it returns only a status): each number
    through the same setter, then the classes."""
    scratch = _default_settings(lib)
    for key, value in params.items():
        if isinstance(value, bool | int | float):
            st = lib.kws_settings_set(scratch, key.encode(), float(value))
            if st not in (0, _NOT_FOUND):
                return f"{key} = {value!r} is out of range"
    try:
        class_thresholds(params.get("detection_threshold_list"))
    except KwsError as e:
        return str(e)
    classes = [str(c) for c in params.get("classes") or ()]  # type: ignore[union-attr]
    if len(classes) > MAX_CLASSES:
        return f"{len(classes)} classes; the detector takes at most {MAX_CLASSES}"
    if len("\n".join(classes).encode()) + 1 > LABELS_BYTES:
        return f"the class labels take more than the firmware's {LABELS_BYTES} bytes"
    return lib.kws_status_str(status).decode()


def _details(tflite: bytes, settings: ctypes.Array, n_classes: int, why: str) -> str:
    """What the engine's message leaves out (it names no setting and no number): which fe.*
    setting it refused, what the fe.* settings make against what the model takes, or the
    model's output against its classes."""
    from dataclasses import fields

    from kwshost.frontend import FrontendSettings, _explain
    from kwshost.runtime import Interpreter

    config = _Config.from_buffer_copy(settings.raw[:ctypes.sizeof(_Config)])
    fe = FrontendSettings(**{f.name: getattr(config, f.name) for f in fields(FrontendSettings)})
    if "fe.* settings are not supported" in why:
        reason = _explain(fe)
        return f": {reason}" if reason else ""
    if "input size" not in why and "output size" not in why:
        return ""
    try:
        it = Interpreter(tflite)
    except KwsError:
        return ""
    if "input size" in why:
        rows, channels = fe.spectrogram_shape
        shape = it.input_details[0].shape
        return (f": the fe.* settings make {rows} x {channels} = {rows * channels} values, "
                f"the model's input is {'x'.join(map(str, shape))} = {int(np.prod(shape))}")
    shape = it.output_details[0].shape
    return (f": the model's output is {'x'.join(map(str, shape))}, its metadata names "
            f"{n_classes} classes")


@functools.cache
def firmware_reads(key: str) -> bool:
    """Whether the firmware's metadata reader takes KEY (an fe.* or detector setting): it
    answers 'not found' for any other (asked once per key: `params` asks again to annotate)."""
    lib = _lib()
    return (key in ("classes", "detection_threshold_list")   # lists: read apart from numbers
            or lib.kws_settings_set(_default_settings(lib), key.encode(), 0.0) != _NOT_FOUND)


class PcPipeline:
    """Frontend + model + detector with the model's own settings (SL_PARAMSv1 metadata)."""

    ACCELERATORS = {"none": 0, "mvp": 1}

    def __init__(self, tflite: bytes, params: Mapping[str, object],
                 accelerator: str = "none") -> None:
        """accelerator "mvp" runs the MVP kernels (the simulator on the PC), as the EFR32
        firmware does; "none" the reference kernels, as the QEMU firmware does."""
        if accelerator not in self.ACCELERATORS:
            raise ModelError(f"unknown accelerator '{accelerator}'",
                             hint=f"choose one of {', '.join(self.ACCELERATORS)}")
        self._lib = lib = _lib()
        classes = params.get("classes")
        if not classes:
            from kwshost.mww import no_settings_hint

            raise ModelError("the model's metadata has no 'classes' list",
                             hint=no_settings_hint(bytes(tflite)))
        self.labels: tuple[str, ...] = tuple(str(c) for c in classes)  # type: ignore[union-attr]
        self.params = dict(params)
        self._model = ctypes.create_string_buffer(bytes(tflite), len(tflite))
        # The device's own reader of the metadata, so the PC accepts and refuses what it does.
        self._settings = ctypes.create_string_buffer(lib.kws_binding_settings_size())
        labels = ctypes.create_string_buffer(LABELS_BYTES)
        status = lib.kws_settings_from_model(self._settings, self._model, len(tflite), labels,
                                             LABELS_BYTES)
        if status != 0:
            raise ModelError(f"the model's settings are not usable: "
                             f"{_settings_problem(lib, params, status)}",
                             hint="the firmware refuses this model too; fix its metadata "
                                  "(kwshost summarize shows it)")
        self._arena = ctypes.create_string_buffer(ARENA_BYTES)
        self._engine = ctypes.create_string_buffer(lib.kws_engine_size())
        status = lib.kws_binding_open(self._engine, self._model, len(tflite), self._settings,
                                      self.ACCELERATORS[accelerator], self._arena, ARENA_BYTES)
        if status != 0:
            why = lib.kws_engine_message(self._engine).decode()
            if "frontend window" in why and not any(k.startswith("fe.") for k in params):
                # No fe.* at all: an image or other sensor model, not a damaged audio one.
                raise ModelError("the model cannot run: it is not an audio model (its metadata "
                                 "has no fe.* frontend settings, and its input is not the "
                                 "default frontend's window)",
                                 hint="this firmware runs keyword models fed by MLTK's audio "
                                      "frontend; `kwshost summarize` shows the model's input")
            raise ModelError(f"the model cannot run: {why}"
                             f"{_details(tflite, self._settings, len(self.labels), why)} "
                             f"({lib.kws_status_str(status).decode()})")
        # As the firmware reads them (a key it cannot use keeps its default there too).
        config = _Config.from_buffer_copy(self._settings.raw[:ctypes.sizeof(_Config)])
        self.sample_rate = int(config.sample_rate_hz)
        latency = ctypes.c_uint32.from_buffer_copy(self._settings.raw, ctypes.sizeof(_Config))
        self.latency_ms = int(latency.value)  # kws_engine_settings_t: frontend, latency_ms
        # Audio that ends before it gets no inference at all (the engine's own schedule).
        self.first_inference_ms = int(lib.kws_engine_first_inference_ms(self._engine))

    @classmethod
    def from_model(cls, path: Path | str, accelerator: str = "none") -> PcPipeline:
        from kwshost.metadata import read_params
        from kwshost.model_file import read_model

        data = read_model(path)
        params = read_params(data)
        pipe = cls(data, params, accelerator)
        warn_if_no_frontend_settings(path, params)
        return pipe

    def reset(self) -> None:
        self._lib.kws_binding_reset(self._engine)

    def scale_microphone(self, samples: np.ndarray) -> np.ndarray:
        """Microphone samples scaled by the model's volume_gain as the firmware scales its
        microphone's (a copy; WAVs are fed unscaled, as on the board)."""
        pcm = np.array(samples, dtype=np.int16, copy=True, order="C")
        self._lib.kws_engine_scale_microphone(self._engine, pcm.ctypes.data, len(pcm))
        return pcm

    def process(self, samples: np.ndarray, block: int = 16000) -> Iterator[Inference]:
        pcm = np.ascontiguousarray(samples, dtype=np.int16)
        room = block // 160 + 2
        out = (_Inference * room)()
        count = ctypes.c_size_t()
        for at in range(0, len(pcm), block):
            part = pcm[at:at + block]
            status = self._lib.kws_binding_process(self._engine, part.ctypes.data, len(part),
                                                   out, room, ctypes.byref(count))
            if status != 0:
                raise ModelError(f"inference failed: {self._lib.kws_status_str(status).decode()}")
            for r in out[:min(count.value, room)]:
                yield Inference(r.time_ms, r.index, tuple(r.scores[:len(self.labels)]),
                                r.class_index, r.score, bool(r.averaged), bool(r.detected))
