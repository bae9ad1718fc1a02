"""The audio frontend on the PC: the firmware's own C code (firmware/frontend) through ctypes.

Features computed here are bit-exact with MLTK's AudioFeatureGenerator and with the device,
because it is the same C code the device runs. Three ways in:

- `Frontend(settings)`: streaming, like the device: feed int16 audio in any chunk sizes, get
  uint16 rows (one per window step); the state carries across calls.
- `rows(clip)` / `batch_rows(clips)`: uint16 rows of whole clips, each from a fresh frontend
  (as MLTK's wrapper); the batch form runs many clips in one C call.
- `spectrogram(clip)` / `spectrograms(clips)`: the int8 model input, with the seed's optional
  training warm-up (audio prepended to warm the noise reduction up, quantized together with
  the clip, then cropped to the clip's rows).

Settings come from a model's metadata (`FrontendSettings.from_params(read_params(model))`) or
default to the seed model's.
"""

from __future__ import annotations

import ctypes
import logging
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from kwshost.errors import KwsError

log = logging.getLogger(__name__)

_NOT_FOUND = 9      # KWS_ERR_NOT_FOUND
_SEEN_LEGACY_KEYS = 1   # KWS_SEEN_LEGACY_KEYS in firmware/detector/engine.h
_STATUS = {0: "ok", 1: "bad argument", 2: "not enough memory", 4: "unsupported settings",
           8: "wrong state"}


@dataclass(frozen=True)
class FrontendSettings:
    """Every `fe.*` setting of a model, in the metadata's units; defaults are the seed's.

    Field order mirrors `kws_frontend_config_t` in firmware/frontend/frontend.h.
    """

    sample_rate_hz: int = 16000
    sample_length_ms: int = 1200
    window_size_ms: int = 30
    window_step_ms: int = 10
    fft_length: int = 512
    filterbank_n_channels: int = 108
    filterbank_upper_band_limit: float = 7500.0
    filterbank_lower_band_limit: float = 125.0
    noise_reduction_enable: bool = True
    noise_reduction_smoothing_bits: int = 10
    noise_reduction_even_smoothing: float = 0.025
    noise_reduction_odd_smoothing: float = 0.06
    noise_reduction_min_signal_remaining: float = 0.40
    pcan_enable: bool = False
    pcan_strength: float = 0.95
    pcan_offset: float = 80.0
    pcan_gain_bits: int = 21
    log_scale_enable: bool = True
    log_scale_shift: int = 6
    activity_detection_enable: bool = False
    activity_detection_alpha_a: float = 0.5
    activity_detection_alpha_b: float = 0.8
    activity_detection_arm_threshold: float = 0.75
    activity_detection_trip_threshold: float = 0.8
    dc_notch_filter_enable: bool = True
    dc_notch_filter_coefficient: float = 0.95
    quantize_dynamic_scale_enable: bool = True
    quantize_dynamic_scale_range_db: float = 40.0

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> FrontendSettings:
        """Settings from a model's metadata dictionary (its `fe.*` keys; others ignored).

        The keys go through the firmware's own reader (`kws_settings_set` in
        firmware/detector/settings.c), so the PC reads a model exactly as the device does,
        older MLTK key names (`fe.n_channels`, ...) included. Missing keys keep the seed's
        value (with a warning), except the DC notch and dynamic quantization, which are off
        when not named (MLTK's models from before them: `kws_settings_finish_model`); unknown
        `fe.*` keys are reported.
        """
        lib = _lib()
        buf = ctypes.create_string_buffer(lib.kws_binding_settings_size())
        lib.kws_settings_default(buf)
        given = set()
        for key, value in params.items():
            if not key.startswith("fe."):
                continue
            try:
                number = float(value)
            except (TypeError, ValueError) as e:
                raise KwsError(f"model setting {key} = {value!r} is not a number") from e
            status = lib.kws_settings_set(buf, key.encode(), number)
            if status == _NOT_FOUND:
                log.warning("ignoring unknown frontend setting %s", key)
            elif status != 0:
                raise KwsError(f"model setting {key} = {value!r} is out of range")
            else:
                given.add(key)
        lib.kws_settings_finish_model(buf)   # no DC notch / dynamic quantization key: off
        config = _Config.from_buffer_copy(buf.raw[:ctypes.sizeof(_Config)])
        values = {f.name: getattr(config, f.name) for f in fields(cls)}
        for f in fields(cls):
            if f.type in ("bool", bool):
                values[f.name] = bool(values[f.name])
            elif f.type in ("float", float):
                # The C struct holds float32; keep the metadata's own spelling of that value.
                spelled = float(params.get(f"fe.{f.name}", f.default))
                same = np.float32(spelled) == np.float32(values[f.name])
                values[f.name] = spelled if same else float(values[f.name])
        legacy = bool(buf.raw[lib.kws_binding_settings_keys_seen_offset()] & _SEEN_LEGACY_KEYS)
        off = ("fe.dc_notch_filter_enable", "fe.quantize_dynamic_scale_enable")
        # A stage that is off uses none of its settings: MLTK's zoo models (no activity
        # detection, DC notch or dynamic quantization) were warned about seven keys that
        # change nothing, where `listen` runs them without a word.
        unused = {"activity_detection": not values["activity_detection_enable"],
                  "dc_notch_filter": not values["dc_notch_filter_enable"],
                  "quantize_dynamic_scale": not values["quantize_dynamic_scale_enable"]}
        missing = sorted(f"fe.{f.name}" for f in fields(cls)
                         if f"fe.{f.name}" not in given and f"fe.{f.name}" not in off
                         and not any(f.name.startswith(stage) and unused[stage]
                                     for stage in unused))
        if missing and not legacy:
            log.warning("model metadata lacks %s; using the seed's values", ", ".join(missing))
        return cls(**values)

    def to_params(self) -> dict[str, Any]:
        """The `fe.*` dictionary (as MLTK and the model metadata spell it)."""
        return {f"fe.{k}": v for k, v in asdict(self).items()}

    @property
    def window_size(self) -> int:
        return self.window_size_ms * self.sample_rate_hz // 1000

    @property
    def window_step(self) -> int:
        return self.window_step_ms * self.sample_rate_hz // 1000

    @property
    def sample_length(self) -> int:
        """Samples in one model window (fe.sample_length_ms)."""
        return self.sample_rate_hz * self.sample_length_ms // 1000

    def n_rows(self, n_samples: int) -> int:
        """Rows a fresh frontend makes from n_samples (0 when shorter than one window)."""
        if n_samples < self.window_size:
            return 0
        return (n_samples - self.window_size) // self.window_step + 1

    @property
    def spectrogram_shape(self) -> tuple[int, int]:
        """(rows, channels) of one model input."""
        return self.n_rows(self.sample_length), self.filterbank_n_channels


_FLOAT_FIELDS = {f.name for f in fields(FrontendSettings) if f.type in ("float", float)}


class _Config(ctypes.Structure):
    """Mirror of kws_frontend_config_t (flags and counts as int32, the rest float)."""

    _fields_ = [(f.name, ctypes.c_float if f.name in _FLOAT_FIELDS else ctypes.c_int32)
                for f in fields(FrontendSettings)]


def _config(settings: FrontendSettings) -> _Config:
    return _Config(**{k: (float(v) if k in _FLOAT_FIELDS else int(v))
                      for k, v in asdict(settings).items()})


_I16P = np.ctypeslib.ndpointer(dtype=np.int16, flags="C_CONTIGUOUS")
_U16P = np.ctypeslib.ndpointer(dtype=np.uint16, flags="C_CONTIGUOUS")
_I8P = np.ctypeslib.ndpointer(dtype=np.int8, flags="C_CONTIGUOUS")
_SZ = ctypes.c_size_t


def _lib() -> ctypes.CDLL:
    from kwshost import native

    lib = native.lib()
    if getattr(lib, "_kws_frontend_declared", False):
        return lib
    lib.kws_fe_config_size.restype = _SZ
    lib.kws_fe_config_size.argtypes = []
    if lib.kws_fe_config_size() != ctypes.sizeof(_Config):
        raise KwsError("the native library's frontend config does not match this kwshost",
                       hint="rebuild it: scons target=host")
    lib.kws_fe_open.restype = ctypes.c_void_p
    lib.kws_fe_open.argtypes = [ctypes.POINTER(_Config), ctypes.POINTER(ctypes.c_int)]
    lib.kws_fe_close.restype = None
    lib.kws_fe_close.argtypes = [ctypes.c_void_p]
    lib.kws_fe_reset.restype = ctypes.c_int
    lib.kws_fe_reset.argtypes = [ctypes.c_void_p]
    lib.kws_fe_feed.restype = ctypes.c_int
    lib.kws_fe_feed.argtypes = [ctypes.c_void_p, _I16P, _SZ, _U16P, _SZ, ctypes.POINTER(_SZ),
                                ctypes.POINTER(_SZ), ctypes.POINTER(ctypes.c_int)]
    lib.kws_fe_batch.restype = ctypes.c_int
    lib.kws_fe_batch.argtypes = [ctypes.POINTER(_Config), _I16P, _SZ, _SZ, _U16P]
    lib.kws_frontend_quantize_window.restype = ctypes.c_int
    lib.kws_frontend_quantize_window.argtypes = [_U16P, _SZ, _SZ, ctypes.POINTER(_Config), _I8P]
    lib.kws_frontend_state_size.restype = _SZ
    lib.kws_frontend_state_size.argtypes = [ctypes.POINTER(_Config)]
    lib.kws_frontend_range_count.restype = _SZ
    lib.kws_frontend_range_at.argtypes = [_SZ]
    lib.kws_frontend_range_at.restype = ctypes.POINTER(_Range)
    lib.kws_frontend_first_out_of_range.argtypes = [ctypes.POINTER(_Config)]
    lib.kws_frontend_first_out_of_range.restype = _SZ
    lib.kws_binding_settings_size.restype = _SZ
    lib.kws_binding_settings_keys_seen_offset.restype = _SZ
    lib.kws_settings_default.argtypes = [ctypes.c_void_p]
    lib.kws_settings_set.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_double]
    lib.kws_settings_finish_model.argtypes = [ctypes.c_void_p]
    lib.kws_settings_finish_model.restype = None
    lib._kws_frontend_declared = True
    return lib


def _check(status: int, what: str, settings: FrontendSettings | None = None) -> None:
    if status != 0:
        why = _explain(settings) if settings is not None else ""
        raise KwsError(f"frontend {what} failed: {_STATUS.get(status, f'status {status}')}"
                       + (f" ({why})" if why else ""), hint="check the model's fe.* settings")


class _Range(ctypes.Structure):
    """Mirror of kws_frontend_range_t: a setting's range, as kws_frontend_geometry checks it."""

    _fields_ = [("name", ctypes.c_char_p), ("offset", ctypes.c_uint16),
                ("is_float", ctypes.c_uint8), ("lo", ctypes.c_float), ("hi", ctypes.c_float),
                ("int_lo", ctypes.c_int32), ("int_hi", ctypes.c_int32)]


def _out_of_range(s: FrontendSettings) -> str:
    """The first setting outside the range the C frontend takes (its own table), in words."""
    lib = _lib()
    i = lib.kws_frontend_first_out_of_range(ctypes.byref(_config(s)))
    if i >= lib.kws_frontend_range_count():
        return ""
    r = lib.kws_frontend_range_at(i).contents
    name = r.name.decode()
    value = getattr(s, name)
    if name == "filterbank_n_channels" and value <= 0:
        return "fe.filterbank_n_channels must be positive"
    low, high = (r.lo, r.hi) if r.is_float else (r.int_lo, r.int_hi)
    takes = "1 or more" if high == 2**31 - 1 else f"{low:g} to {high:g}"
    return f"fe.{name} is {value:g}; the frontend takes {takes}"


def _explain(s: FrontendSettings) -> str:
    """The likely reason a config is refused (the C code only returns a status)."""
    fft = 1
    while fft < s.window_size:
        fft <<= 1
    # Each range first, by name: the checks below assume them (a sample rate of 0 made
    # every window 0 samples, and the message blamed fe.window_step_ms).
    out_of_range = _out_of_range(s)
    if out_of_range:
        return out_of_range
    if s.pcan_enable and not s.noise_reduction_enable:
        return "fe.pcan_enable needs fe.noise_reduction_enable"
    if s.window_step <= 0 or s.window_step > s.window_size:
        return "fe.window_step_ms must be between 1 sample and fe.window_size_ms"
    if s.sample_length < s.window_size:
        return "fe.sample_length_ms is shorter than one window"
    if fft < 32:
        return "windows under 32 samples are not supported"
    if fft > 32768:
        return f"the window of {s.window_size} samples needs an FFT over 32768 points"
    if s.fft_length not in (0, fft):
        return f"fe.fft_length is {s.fft_length}, the window of {s.window_size} samples needs {fft}"
    if not 0 <= s.filterbank_lower_band_limit < s.filterbank_upper_band_limit:
        return "fe.filterbank_lower_band_limit must be below fe.filterbank_upper_band_limit"
    if s.filterbank_upper_band_limit >= s.sample_rate_hz / 2:
        return "fe.filterbank_upper_band_limit must be below half the sample rate"
    return ""


def _as_int16(audio: np.ndarray) -> np.ndarray:
    a = np.asarray(audio)
    if a.dtype != np.int16:
        raise KwsError(f"audio must be int16 samples, got {a.dtype}",
                       hint="use kwshost.audio.read_wav, or convert: (x * 32768).astype(np.int16)")
    return np.ascontiguousarray(a)


def state_size(settings: FrontendSettings | None = None) -> int:
    """Bytes of memory the C frontend needs for these settings (what a device reserves)."""
    cfg = _config(settings or FrontendSettings())
    return int(_lib().kws_frontend_state_size(ctypes.byref(cfg)))


class Frontend:
    """A streaming frontend: the device's computation, chunk by chunk, without resets."""

    def __init__(self, settings: FrontendSettings | None = None) -> None:
        self.settings = settings or FrontendSettings()
        self._lib = _lib()
        status = ctypes.c_int(0)
        self._cfg = _config(self.settings)
        self._handle = self._lib.kws_fe_open(ctypes.byref(self._cfg), ctypes.byref(status))
        if not self._handle:
            _check(status.value or 1, "setup", self.settings)
        self._buffered = 0  # samples waiting in the window (for sizing the output)
        self.activity_tripped = False

    def process(self, samples: np.ndarray) -> np.ndarray:
        """Feeds int16 samples; returns the rows completed (uint16, [rows, n_channels])."""
        x = _as_int16(samples).reshape(-1)
        s = self.settings
        total = self._buffered + x.size
        max_rows = 0 if total < s.window_size else (total - s.window_size) // s.window_step + 1
        out = np.empty((max(max_rows, 1), s.filterbank_n_channels), dtype=np.uint16)
        n_rows, used, trip = _SZ(0), _SZ(0), ctypes.c_int(0)
        _check(self._lib.kws_fe_feed(self._handle, x, x.size, out, max_rows, ctypes.byref(n_rows),
                                     ctypes.byref(used), ctypes.byref(trip)), "processing")
        if used.value != x.size or n_rows.value != max_rows:
            raise KwsError("frontend row accounting went wrong (a bug)")
        self._buffered = total - max_rows * s.window_step if max_rows else total
        self.activity_tripped = self.activity_tripped or bool(trip.value)
        return out[:max_rows]

    def reset(self) -> None:
        _check(self._lib.kws_fe_reset(self._handle), "reset")
        self._buffered = 0
        self.activity_tripped = False

    def close(self) -> None:
        if self._handle:
            self._lib.kws_fe_close(self._handle)
            self._handle = None

    def __enter__(self) -> Frontend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass


def batch_rows(clips: np.ndarray, settings: FrontendSettings | None = None) -> np.ndarray:
    """uint16 rows [n_clips, rows, n_channels] of equally long int16 clips [n_clips, length],
    each from a fresh frontend, in one C call."""
    s = settings or FrontendSettings()
    x = _as_int16(clips)
    if x.ndim != 2:
        raise KwsError("batch_rows wants a 2-D array [n_clips, n_samples]")
    n_rows = s.n_rows(x.shape[1])
    if n_rows == 0:
        raise KwsError(f"clips of {x.shape[1]} samples are shorter than one window "
                       f"({s.window_size} samples)")
    out = np.empty((x.shape[0], n_rows, s.filterbank_n_channels), dtype=np.uint16)
    if x.shape[0]:
        _check(_lib().kws_fe_batch(ctypes.byref(_config(s)), x, x.shape[0], x.shape[1], out),
               "batch", s)
    return out


def rows(clip: np.ndarray, settings: FrontendSettings | None = None) -> np.ndarray:
    """uint16 rows [rows, n_channels] of one clip from a fresh frontend."""
    return batch_rows(_as_int16(clip).reshape(1, -1), settings)[0]


def quantize(window: np.ndarray, settings: FrontendSettings | None = None) -> np.ndarray:
    """int8 model input from uint16 rows: dynamic quantization over all of `window` (or the
    static mapping when fe.quantize_dynamic_scale_enable is off), as the device does."""
    s = settings or FrontendSettings()
    w = np.ascontiguousarray(window, dtype=np.uint16)
    out = np.empty(w.shape, dtype=np.int8)
    width = w.shape[-1] if w.ndim else 1
    _check(_lib().kws_frontend_quantize_window(w.reshape(-1), w.size // max(width, 1), width,
                                               ctypes.byref(_config(s)), out.reshape(-1)),
           "quantization")
    return out


def _warmup_audio(warmup: int | np.ndarray, s: FrontendSettings) -> np.ndarray:
    if isinstance(warmup, np.ndarray):
        return _as_int16(warmup).reshape(-1)
    return np.zeros(int(s.sample_rate_hz * int(warmup) / 1000), dtype=np.int16)


def spectrograms(clips: np.ndarray, settings: FrontendSettings | None = None, *,
                 warmup: int | np.ndarray = 0) -> np.ndarray:
    """int8 model inputs [n_clips, rows, n_channels] of equally long clips.

    warmup: milliseconds of silence (or int16 audio) prepended to every clip, as the seed's
    training script does (it pads 1000 ms) to warm the noise reduction up; the padded clip is
    quantized as a whole and then cropped to the clip's own rows.
    """
    s = settings or FrontendSettings()
    x = _as_int16(clips)
    if x.ndim != 2:
        raise KwsError("spectrograms wants a 2-D array [n_clips, n_samples]")
    pad = _warmup_audio(warmup, s)
    keep = s.n_rows(x.shape[1])
    if pad.size:
        x = np.concatenate([np.broadcast_to(pad, (x.shape[0], pad.size)), x], axis=1)
    r = batch_rows(x, s)
    q = np.stack([quantize(one, s) for one in r]) if len(r) else r.astype(np.int8)
    return q[:, q.shape[1] - keep:, :]


def spectrogram(clip: np.ndarray, settings: FrontendSettings | None = None, *,
                warmup: int | np.ndarray = 0) -> np.ndarray:
    """int8 model input [rows, n_channels] of one clip (see `spectrograms`)."""
    return spectrograms(_as_int16(clip).reshape(1, -1), settings, warmup=warmup)[0]
