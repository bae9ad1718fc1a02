"""The training configuration: one typed dataclass, read from TOML files in configs/.

Everything that defines a model lives here, once: classes, the feature cache's recipe, the
learning-rate schedule, the detector parameters and frontend overrides that `kwshost convert`
writes into the model's SL_PARAMSv1 metadata. A TOML file names only what it changes.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from kwshost.errors import KwsError
from kwshost.paths import REPO_ROOT

CONFIG_DIR = REPO_ROOT / "configs"
MAX_MINIMUM_COUNT = 50  # KWS_DETECTOR_MAX_RESULTS (firmware/detector/detector.h)

# The seed's stepped schedule (from kws_streaming): (steps, learning rate). 100,400 steps of
# batch 100. `TrainConfig.schedule()` scales the step counts to the budget we can afford.
SEED_SCHEDULE: tuple[tuple[int, float], ...] = (
    (100, 0.001), (100, 0.002), (100, 0.003), (100, 0.004), (30000, 0.005),
    (30000, 0.002), (20000, 0.0005), (10000, 1e-5), (5000, 1e-6), (5000, 1e-7),
)


@dataclass(frozen=True)
class DetectorParams:
    """What the device's detector needs (MLTK's audio classifier parameters)."""

    latency_ms: int = 200
    minimum_count: int = 2
    average_window_duration_ms: int = 440
    detection_threshold: int = 204
    suppression_ms: int = 900
    volume_gain: int = 0

    def __post_init__(self) -> None:
        # What the device's detector would refuse, refused when the config is read rather
        # than in a converted model.
        if not 0 <= self.detection_threshold <= 255:
            raise KwsError(f"[detector] detection_threshold = {self.detection_threshold} is "
                           "not in 0..255 (an int8 score + 128)")
        for key in ("latency_ms", "minimum_count", "average_window_duration_ms",
                    "suppression_ms"):
            if getattr(self, key) < 0:
                raise KwsError(f"[detector] {key} = {getattr(self, key)} is below 0")
        if self.minimum_count > MAX_MINIMUM_COUNT:  # the detector's queue of results
            raise KwsError(f"[detector] minimum_count = {self.minimum_count} is over "
                           f"{MAX_MINIMUM_COUNT}, the most results the device's detector keeps")


@dataclass(frozen=True)
class CacheParams:
    """How `kwshost train` turns the dataset's clips into precomputed feature examples."""

    keyword_variants: int = 4          # augmented copies of each keyword clip
    validation_variants: int = 1
    unknown_multiplier: float = 1.5    # `_unknown_` examples per keyword example (the seed's)
    validation_percent: int = 10       # share of espeak's speaker groups kept for validation
    # Speaker groups (ENGINE:VOICE, e.g. "flite:rms") kept for validation whatever their engine
    # (kwshost.data.features.VoiceSplit); `dataset stream --validation-voices` matches them.
    validation_voices: tuple[str, ...] = ()
    warmup_ms: int = 1000              # audio before the clip that warms up noise reduction
    # Directories of extra training clips in DIR/<class>/*.wav (e.g. hard negatives from
    # `kwshost dataset mine`), each augmented `extra_variants` times into the training split
    # only; cached apart (CACHE/extra_*), so adding them does not rebuild the main cache.
    extra: tuple[str, ...] = ()
    extra_variants: int = 4
    # Overrides of the augmentation's ranges and probabilities (kwshost.data.augment's
    # AugmentSettings), as a [cache.augment] table, e.g. speed_range = [0.8, 1.25].
    augment: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0 <= self.validation_percent <= 100:
            raise KwsError(f"[cache] validation_percent = {self.validation_percent} is not "
                           "in 0..100")
        if not self.unknown_multiplier > 0:
            raise KwsError(f"[cache] unknown_multiplier = {self.unknown_multiplier} must be "
                           "above 0", hint="1.5 makes 1.5 `_unknown_` examples per keyword one")
        if self.warmup_ms < 0:
            raise KwsError(f"[cache] warmup_ms = {self.warmup_ms} is below 0")


@dataclass(frozen=True)
class MaskParams:
    """SpecAugment-style masks drawn afresh for every batch, so no two epochs see the same
    example: bands of rows (time) and channels (frequency) set to the example's floor value."""

    probability: float = 0.0           # share of examples masked; 0 turns masking off
    time_masks: int = 2
    max_rows: int = 12
    freq_masks: int = 2
    max_channels: int = 10

    def __post_init__(self) -> None:
        if not 0 <= self.probability <= 1:
            raise KwsError(f"[masks] probability = {self.probability} is not in [0, 1]")
        for key in ("time_masks", "max_rows", "freq_masks", "max_channels"):
            if getattr(self, key) < 0:
                raise KwsError(f"[masks] {key} = {getattr(self, key)} is below 0")


@dataclass(frozen=True)
class WarpParams:
    """Vocal-tract-length perturbation of the features, drawn afresh for every batch: a chosen
    example's spectrum is stretched along frequency by a factor log-uniform in
    [1 / max_factor, max_factor] (its channels resampled on the filterbank's mel scale), so
    training sees speakers with shorter or longer vocal tracts than any voice in the data."""

    probability: float = 0.0           # share of examples warped; 0 turns warping off
    max_factor: float = 1.15

    def __post_init__(self) -> None:
        if not 0 <= self.probability <= 1:
            raise KwsError(f"[warp] probability = {self.probability} is not in [0, 1]")
        if not 1 <= self.max_factor <= 2:
            raise KwsError(f"[warp] max_factor = {self.max_factor} is not in [1, 2]",
                           hint="1.15 stretches formants by up to 15% either way")


@dataclass(frozen=True)
class TrainConfig:
    name: str = "keyword_spotting_alexa_kwshost"
    version: int = 1
    description: str = 'Keyword spotting classifier to detect: "alexa"'
    classes: tuple[str, ...] = ("alexa", "_unknown_")
    batch_size: int = 100
    total_steps: int = 20000           # the budget; the seed's schedule is scaled to it
    steps_per_epoch: int = 500
    seed: int = 1
    # Seeds the batch order, masks, warp and new weights instead of `seed`, which then seeds
    # only the feature cache: runs that differ in this alone share one cache (the fine-tunes
    # of one start that `kwshost average` mixes). None: `seed` for both.
    train_seed: int | None = None
    # "balanced" (n / (classes * count)), "none", or one factor per class multiplying the
    # balanced weights, e.g. [1.0, 2.0] to make `_unknown_` errors count twice.
    class_weights: str | tuple[float, ...] = "balanced"
    dataset: str = "data/alexa"        # relative to the repository, or absolute
    run_dir: str = "runs/alexa"
    cache: CacheParams = field(default_factory=CacheParams)
    masks: MaskParams = field(default_factory=MaskParams)
    warp: WarpParams = field(default_factory=WarpParams)
    detector: DetectorParams = field(default_factory=DetectorParams)
    frontend: dict = field(default_factory=dict)   # overrides of the seed's fe.* settings

    def __post_init__(self) -> None:
        # Checked here, not after minutes of feature building (train.example_weights uses it).
        weights = self.class_weights
        if (weights not in ("balanced", "none") if isinstance(weights, str)
                else len(weights) != len(self.classes) or not all(w > 0 for w in weights)):
            raise KwsError(f"class_weights = {weights!r}",
                           hint=f'use "balanced", "none" or {len(self.classes)} positive '
                                "factors, one per class")

    def schedule(self) -> list[tuple[int, float]]:
        """The seed's schedule with its step counts scaled to `total_steps` (warm-up kept)."""
        seed_total = sum(s for s, _ in SEED_SCHEDULE)
        scale = self.total_steps / seed_total
        return [(max(1, round(s * scale)), lr) for s, lr in SEED_SCHEDULE]

    def learning_rate(self, step: int) -> float:
        for steps, lr in self.schedule():
            if step < steps:
                return lr
            step -= steps
        return SEED_SCHEDULE[-1][1]

    @property
    def training_seed(self) -> int:
        return self.seed if self.train_seed is None else self.train_seed

    def path(self, value: str) -> Path:
        p = Path(value)
        return p if p.is_absolute() else REPO_ROOT / p

    def replace(self, **changes) -> TrainConfig:
        return dataclasses.replace(self, **changes)


# Settings that count something: a config with 0 or less of them cannot train.
_POSITIVE = {"batch_size", "total_steps", "steps_per_epoch", "keyword_variants",
             "validation_variants", "extra_variants"}
# Seeds seed numpy's generators, which take 0 or more.
_NON_NEGATIVE = {"seed", "train_seed"}
# The dataset's clips and the augmentation are 16 kHz and 1.2 s long whatever the frontend
# says: a [frontend] table may change how features are computed, not these.
FIXED_FRONTEND = {"sample_rate_hz": 16000, "sample_length_ms": 1200}


def _fits(annotation: str, value: object) -> bool:
    """Whether a TOML value fits a field's annotation (the few types the configs use)."""
    def number(v: object) -> bool:
        return isinstance(v, int | float) and not isinstance(v, bool)

    for kind in (a.strip() for a in annotation.split("|")):
        if kind == "bool" and isinstance(value, bool):
            return True
        if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
            return True
        if (kind == "float" and number(value)) or (kind == "str" and isinstance(value, str)):
            return True
        if kind == "dict" and isinstance(value, dict):
            return True
        if kind.startswith("tuple[") and isinstance(value, list):
            of_str = kind.startswith("tuple[str")
            if all(isinstance(v, str) if of_str else number(v) for v in value):
                return True
    return False


def _build(cls, data: dict, where: str):
    names = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in data.items():
        if key not in names:
            top = {f.name for f in dataclasses.fields(TrainConfig)}
            if cls is not TrainConfig and key in top:
                # TOML puts every key after a [table] header into that table
                raise KwsError(f"{where}: unknown setting {key!r}",
                               hint=f"{key} is a top-level setting: in TOML it goes above the "
                                    "first [table] header")
            raise KwsError(f"{where}: unknown setting {key!r}",
                           hint=f"known settings: {', '.join(sorted(names))}")
        sub = {"cache": CacheParams, "detector": DetectorParams,
               "masks": MaskParams, "warp": WarpParams}.get(key) if cls is TrainConfig \
            else None
        if sub is not None:
            if not isinstance(value, dict):
                raise KwsError(f"{where}: {key} must be a [{key}] table")
            value = _build(sub, value, f"{where}[{key}]")
        else:
            annotation = str(names[key].type)
            if not _fits(annotation, value):
                raise KwsError(f"{where}: {key} = {value!r} is not of type {annotation}")
            if key in _POSITIVE and value < 1:
                raise KwsError(f"{where}: {key} must be at least 1 (got {value})")
            if key in _NON_NEGATIVE and value < 0:
                raise KwsError(f"{where}: {key} must be 0 or more (got {value})")
            if cls is TrainConfig and key == "classes" and len(value) < 2:
                raise KwsError(f"{where}: classes = {value!r} needs the keyword and "
                               "`_unknown_`", hint='classes = ["alexa", "_unknown_"]')
            if cls is TrainConfig and key == "frontend":
                value = _flat_fe(value)
                _check_frontend(value, where)
            if isinstance(value, list):
                value = tuple(value)
        kwargs[key] = value
    return cls(**kwargs)


def _flat_fe(table: dict) -> dict:
    """[frontend] with MLTK's names written as they are, `fe.window_step_ms = 20`: TOML reads
    that dotted key as a table `fe`, here flattened back to "fe.window_step_ms"."""
    fe = table.get("fe")
    if not isinstance(fe, dict):
        return table
    return {**{k: v for k, v in table.items() if k != "fe"},
            **{f"fe.{k}": v for k, v in fe.items()}}


def _check_frontend(table: dict, where: str) -> None:
    """A [frontend] table names the frontend's own settings (with or without `fe.`), as
    numbers, and leaves the clips' rate and length alone: a misspelt key would otherwise
    be ignored without a word."""
    from kwshost.frontend import FrontendSettings

    known = {f.name for f in dataclasses.fields(FrontendSettings)}
    for key, value in table.items():
        name = key.removeprefix("fe.")
        if name not in known:
            raise KwsError(f"{where}[frontend]: unknown setting {key!r}",
                           hint=f"known settings: {', '.join(sorted(known))}")
        if not isinstance(value, int | float | bool):
            raise KwsError(f"{where}[frontend]: {key} = {value!r} is not a number")
        if name in FIXED_FRONTEND and value != FIXED_FRONTEND[name]:
            raise KwsError(f"{where}[frontend]: {key} = {value!r} cannot change: the dataset's "
                           f"clips and their augmentation are {FIXED_FRONTEND['sample_rate_hz']}"
                           f" Hz and {FIXED_FRONTEND['sample_length_ms']} ms long")


def load_config(path: str | Path | None) -> TrainConfig:
    """A config from TOML (a name in configs/ or a path); None gives the defaults."""
    if path is None:
        return TrainConfig()
    p = Path(path)
    if not p.exists() and (CONFIG_DIR / f"{path}.toml").exists():
        p = CONFIG_DIR / f"{path}.toml"
    if not p.exists():
        raise KwsError(f"config {path} not found",
                       hint=f"give a TOML path or a name from {CONFIG_DIR}")
    try:
        data = tomllib.loads(p.read_text())
    except tomllib.TOMLDecodeError as e:
        raise KwsError(f"{p}: {e}") from e
    return _build(TrainConfig, data, str(p))
