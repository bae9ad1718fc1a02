"""The feature cache: augmented examples turned into int8 spectrograms by our C frontend.

Augmenting and computing features on the fly would cost more CPU than training itself on a
small machine, so each split is precomputed once into memory-mapped arrays:

    CACHE/<split>_x.npy   int8  [N, 118, 108]   spectrograms, exactly what the device computes
    CACHE/<split>_y.npy   uint8 [N]              class index
    CACHE/cache.json      the recipe (dataset, seeds, settings); a changed recipe rebuilds
    CACHE/extra_x.npy, extra_y.npy, extra.json
                          the config's `extra` clips (DIR/<class>/*.wav, e.g. mined hard
                          negatives), augmented `extra_variants` times, training split only

Speaker groups (one TTS voice configuration each) are split between training and validation,
so validation accuracy measures unheard voices. Example `i` of a split is augmented with a
generator seeded by (seed, split, i): the cache is the same whatever `jobs` is.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from kwshost.data import workers
from kwshost.data.augment import AugmentSettings, make_example
from kwshost.data.make import NOISE_DIR
from kwshost.errors import KwsError
from kwshost.json_file import write_json_whole

SPLITS = ("train", "val")
# The main cache's files (the `extra` part is apart): its recipe and each split's arrays.
MAIN_FILES = ("cache.json", *(f"{split}_{a}.npy" for split in SPLITS for a in "xy"))
CHUNK = 128


def frontend_settings(overrides: dict | None = None):
    """The seed's frontend settings with the config's overrides (the frontend's own dataclass)."""
    from kwshost.frontend import FrontendSettings

    if not overrides:
        return FrontendSettings()
    # The seed's values first: a config names only what it changes, which is no reason for
    # from_params' warning about a model's metadata lacking the rest.
    return FrontendSettings.from_params({**FrontendSettings().to_params(),
                                         **{k if k.startswith("fe.") else f"fe.{k}": v
                                            for k, v in overrides.items()}})


def spectrograms(audio: list[np.ndarray], settings, warmup_ms: int) -> np.ndarray:
    """int8 [n, rows, channels] for equally long float clips that start with `warmup_ms` of
    warm-up audio.

    The frontend runs over warm-up and clip (so noise reduction has settled, as the seed's
    training does), then only the clip's own rows are quantized: the device also quantizes
    exactly the model's 118-row window, so training sees what the device computes.
    """
    from kwshost import frontend

    x = np.stack(audio)
    pcm = np.clip(np.round(x * 32767.0), -32768, 32767).astype(np.int16)
    keep = settings.n_rows(pcm.shape[1] - settings.sample_rate_hz * warmup_ms // 1000)
    rows = frontend.batch_rows(pcm, settings)[:, -keep:, :]
    return np.stack([frontend.quantize(r, settings) for r in rows])


@dataclass(frozen=True)
class VoiceSplit:
    """Which speaker groups validation gets: those named in `voices` (any engine), and a
    hash-chosen `percent` of espeak's. Other engines' few voices (festival, flite, Pico) and
    user recordings stay in training unless named: validating on them removes their voices
    from training, so name them (`[cache] validation_voices`) to measure unheard
    synthesizers, not espeak's variants only."""

    percent: int = 10
    voices: tuple[str, ...] = ()

    @classmethod
    def of_cache(cls, cache) -> VoiceSplit:
        return cls(cache.validation_percent, tuple(cache.validation_voices))

    def __call__(self, group: str) -> str:
        if group in self.voices:
            return "val"
        if not group.startswith("espeak:"):
            return "train"
        h = int(hashlib.sha1(group.encode()).hexdigest()[:8], 16)
        return "val" if h % 100 < self.percent else "train"

    def check(self, groups: set[str], where: str) -> None:
        """Every named voice must be one of `groups`: a misspelt name would validate on
        nothing new without a word."""
        unknown = [v for v in self.voices if v not in groups]
        if unknown:
            raise KwsError(f"validation voice {unknown[0]!r} is not one of {where}",
                           hint="name groups as ENGINE:VOICE, e.g. " + ", ".join(
                               sorted(g for g in groups if not g.startswith("espeak:"))[:4]))


def plan_examples(manifest: dict, cache, seed: int, extra_groups: frozenset[str] = frozenset()
                  ) -> dict[str, list[tuple[int, str]]]:
    """Per split: (clip index or -1, kind) for every example, in a seeded shuffled order.
    `extra_groups`: the voice groups of the extra folders' manifests, which validation
    voices may name too (their clips are then left out of the extra features)."""
    clips = manifest["clips"]
    classes = manifest["classes"]
    keyword, unknown = classes[0], classes[1]
    rng = np.random.default_rng(seed)
    aug = augment_settings(cache)
    plans: dict[str, list[tuple[int, str]]] = {}
    split_of = VoiceSplit.of_cache(cache)
    split_of.check({c["group"] for c in clips} | extra_groups,
                   "the voice groups of the dataset or its extra folders")
    for split in SPLITS:
        idx = [i for i, c in enumerate(clips) if split_of(c["group"]) == split]
        kw = [i for i in idx if clips[i]["label"] == keyword]
        unk = [i for i in idx if clips[i]["label"] == unknown]
        if not kw or not unk:
            raise KwsError(f"the {split} split has no {'keyword' if not kw else unknown} clips",
                           hint="make a larger dataset (kwshost dataset make --size small)")
        variants = cache.keyword_variants if split == "train" else cache.validation_variants
        examples = [(i, "keyword") for i in kw for _ in range(variants)]
        n_unknown = int(len(examples) * cache.unknown_multiplier)
        for _ in range(n_unknown):
            r = rng.random()
            if r < aug.silence_p:
                examples.append((-1, "silence"))
            elif r < aug.silence_p + aug.cropped_keyword_p:
                examples.append((int(rng.choice(kw)), "cropped"))
            else:
                examples.append((int(rng.choice(unk)), "speech"))
        order = rng.permutation(len(examples))
        plans[split] = [examples[k] for k in order]
    return plans


def augment_settings(cache) -> AugmentSettings:
    """The augmentation a cache is built with: the config's `[cache.augment]` overrides."""
    return AugmentSettings.from_overrides(cache.augment, cache.warmup_ms)


def _recipe(dataset: Path, manifest: dict, cache, seed: int, fe_overrides: dict) -> dict:
    params = asdict(cache)
    # extra: cached apart (see build_extra); augment: recorded in full below.
    for key in ("extra", "extra_variants", "augment"):
        params.pop(key, None)
    if not params["validation_voices"]:
        del params["validation_voices"]   # as caches made before it existed recorded it
    augment = asdict(augment_settings(cache))
    augment["warmup_ms"] = AugmentSettings.warmup_ms   # as recorded before it was settable
    recipe = {"dataset": str(dataset.resolve()), "dataset_seed": manifest["seed"],
              "n_clips": len(manifest["clips"]), "cache": params, "seed": seed,
              "frontend": fe_overrides, "augment": augment}
    return json.loads(json.dumps(recipe))   # tuples as lists, as the saved copy has them


_worker: dict = {}


def _init_worker(dataset: str, manifest: dict, fe_overrides: dict,
                 aug: AugmentSettings) -> None:
    # A failure here is kept and raised by the worker's first task, so the parent gets its
    # reason (an initializer that raises only breaks the pool: "a worker process died").
    try:
        root = Path(dataset)
        _worker["clips"] = manifest["clips"]
        _worker["root"] = root
        _worker["noises"] = [sf.read(root / n["path"], dtype="float32")[0]
                             for n in manifest["noises"]]
        _worker["settings"] = frontend_settings(fe_overrides)
        _worker["aug"] = aug
        _worker["audio"] = {}
    except Exception as e:  # any reason: the task reports it
        _worker["failed"] = f"a feature worker could not start: {type(e).__name__}: {e}"


def _check_worker() -> None:
    if "failed" in _worker:
        raise KwsError(_worker["failed"])


def _clip(i: int) -> np.ndarray:
    cache = _worker["audio"]
    if i not in cache:
        if len(cache) > 4000:
            cache.clear()
        cache[i] = _read_clip(_worker["root"] / _worker["clips"][i]["path"])
    return cache[i]


def _read_clip(path: Path | str) -> np.ndarray:
    """A clip's float32 samples; an unreadable file reaches the CLI as one line naming it."""
    try:
        return sf.read(path, dtype="float32")[0]
    except (RuntimeError, OSError) as e:     # libsndfile's errors are RuntimeErrors
        raise KwsError(f"cannot read the dataset's clip {path}: {e}") from None


def _compute_chunk(args: tuple[str, int, int, list[tuple[int, str]]]):
    _check_worker()
    split, seed, start, items = args
    audio = []
    for k, (clip, kind) in enumerate(items):
        rng = np.random.default_rng([seed, SPLITS.index(split), start + k])
        src = _clip(clip) if clip >= 0 else np.zeros(0, dtype=np.float32)
        audio.append(make_example(src, kind, rng, _worker["noises"], _worker["aug"]))
    return split, start, spectrograms(audio, _worker["settings"], _worker["aug"].warmup_ms)


def _fill(arrays: dict[str, np.ndarray], task_fn, work: list, dataset: Path, manifest: dict,
          fe_overrides: dict, aug: AugmentSettings, jobs: int, progress, label: str) -> None:
    """Runs `task_fn` over `work` in a pool of feature workers; each result
    (split, start, features) lands in arrays[split][start:]."""
    task = progress.add_task(label, total=sum(len(a) for a in arrays.values())) \
        if progress else None
    for split, start, feats in workers.results(
            jobs, task_fn, work, _init_worker, (str(dataset), manifest, fe_overrides, aug)):
        arrays[split][start:start + len(feats)] = feats
        if progress:
            progress.advance(task, len(feats))


def _complete_info(info_path: Path, recipe: dict) -> dict | None:
    """The saved record of a cache part made complete with this very recipe, else None."""
    if not info_path.exists():
        return None
    info = json.loads(info_path.read_text())
    return info if info.get("recipe") == recipe and info.get("complete") else None


def _begin_rewrite(info_path: Path) -> None:
    """A cache about to be rewritten is no longer complete: a run killed midway must rebuild it,
    not reuse half-written arrays under the old recipe."""
    info_path.unlink(missing_ok=True)


def _partial(path: Path) -> Path:
    """Arrays are written beside their final name and renamed when complete, so a job still
    reading the old cache (memory-mapped) keeps its own copy until it closes it."""
    return path.with_name(path.stem + ".partial.npy")


def _finish_rewrite(paths: list[Path]) -> None:
    for path in paths:
        os.replace(_partial(path), path)


def build_cache(dataset: Path, out: Path, cache, seed: int, fe_overrides: dict,
                jobs: int = 1, progress=None, extra_root: Path | None = None) -> dict[str, int]:
    """Build (or reuse, if the recipe is unchanged) the cache and its `extra` part; returns
    examples per split ("extra" too when the config names extra directories, relative to
    `extra_root`)."""
    dirs = [Path(extra_root or ".") / d for d in cache.extra]
    # The extras' manifests are read only where validation voices could name their groups.
    extra_groups = frozenset().union(*(manifest_groups(d).values() for d in dirs)) \
        if cache.validation_voices else frozenset()
    counts = _build_main(dataset, out, cache, seed, fe_overrides, jobs, progress, extra_groups)
    if cache.extra:
        counts = {**counts, "extra": build_extra(dirs, dataset, out, cache, seed,
                                                 fe_overrides, jobs, progress)}
    return counts


def _build_main(dataset: Path, out: Path, cache, seed: int, fe_overrides: dict,
                jobs: int = 1, progress=None,
                extra_groups: frozenset[str] = frozenset()) -> dict[str, int]:
    manifest_path = dataset / "manifest.json"
    info_path = out / "cache.json"
    if not manifest_path.exists() and info_path.exists():
        # Training on another machine (a GPU host, say) needs only the cache, not the clips.
        info = json.loads(info_path.read_text())
        if info.get("complete"):
            print(f"no dataset at {dataset}: training on the feature cache in {out} as it is")
            return info["counts"]
    if not manifest_path.exists():
        raise KwsError(f"no dataset at {dataset} (manifest.json missing)",
                       hint="make one first: kwshost dataset make " + str(dataset))
    manifest = json.loads(manifest_path.read_text())
    recipe = _recipe(dataset, manifest, cache, seed, fe_overrides)
    if (info := _complete_info(info_path, recipe)) is not None:
        return info["counts"]
    out.mkdir(parents=True, exist_ok=True)
    _begin_rewrite(info_path)
    plans = plan_examples(manifest, cache, seed, extra_groups)
    settings = frontend_settings(fe_overrides)
    rows, channels = settings.spectrogram_shape
    label_of = {c: k for k, c in enumerate(manifest["classes"])}
    arrays = {}
    work = []
    for split, items in plans.items():
        x = np.lib.format.open_memmap(_partial(out / f"{split}_x.npy"), mode="w+",
                                      dtype=np.int8, shape=(len(items), rows, channels))
        y = np.array([label_of[manifest["classes"][0]] if kind == "keyword"
                      else label_of[manifest["classes"][1]] for _, kind in items], np.uint8)
        np.save(_partial(out / f"{split}_y.npy"), y)
        arrays[split] = x
        work += [(split, seed, s, items[s:s + CHUNK]) for s in range(0, len(items), CHUNK)]
    _fill(arrays, _compute_chunk, work, dataset, manifest, fe_overrides,
          augment_settings(cache), jobs, progress, "features")
    for x in arrays.values():
        x.flush()
    _finish_rewrite([out / f"{split}_{a}.npy" for split in plans for a in "xy"])
    counts = {s: len(p) for s, p in plans.items()}
    info_path.write_text(json.dumps({"recipe": recipe, "counts": counts, "complete": True,
                                     "classes": manifest["classes"]}, indent=1))
    return counts


def manifest_groups(d: Path) -> dict[str, str]:
    """Clip path (relative to `d`) -> voice group, where `d` is a dataset with a manifest
    (`dataset make`, `dataset timbre`); empty for a folder of recordings."""
    try:
        clips = json.loads((d / "manifest.json").read_text()).get("clips", [])
        return {c["path"]: c["group"] for c in clips if "path" in c and "group" in c}
    except (OSError, ValueError, AttributeError, TypeError):
        return {}


def extra_clips(dirs: list[Path], classes: list[str], held: frozenset[str] = frozenset()
                ) -> list[tuple[Path, int]]:
    """(clip, class index) of every DIR/<class>/*.wav (and the other AUDIO_SUFFIXES, any
    case, as evaluate --data reads them), sorted; other folders, and clips in a class's
    subfolders, are an error. Clips whose voice group (in DIR's manifest) is one of `held` are
    left out: an extra folder is all training, so a validation voice named there is kept out."""
    from kwshost.data.clips import class_files

    items = []
    for d in dirs:
        if not d.is_dir():
            raise KwsError(f"extra clips: no directory {d}",
                           hint="make it with kwshost dataset mine MODEL --out DIR")
        # a whole dataset (`dataset make OUT`) can be an extra folder: its noise is skipped
        names = sorted(f.name for f in d.iterdir() if f.is_dir() and f.name != NOISE_DIR)
        group_of = manifest_groups(d) if held else {}
        for wav in sorted(class_files(d, names)):
            if group_of.get(wav.relative_to(d).as_posix()) in held:
                continue
            if wav.parent.name not in classes:
                raise KwsError(f"extra clip {wav}: {wav.parent.name!r} is not a class",
                               hint=f"put clips in DIR/<class>/ with class one of {classes}")
            items.append((wav, classes.index(wav.parent.name)))
    if not items:
        raise KwsError(f"no clips in {', '.join(map(str, dirs))}",
                       hint="expected DIR/<class>/*.wav")
    return items


# extra.json's mark of extra features made from clips converted to 16 kHz mono
# (read_extra_clip); caches made before it read every clip as if it were.
CONVERTED = "clips_read_as_16k_mono"


def _converted_clips(paths: list[Path]) -> int:
    """How many of the clips are not 16 kHz mono; an unreadable one is named here, before the
    feature workers start."""
    from kwshost.data.voices import SAMPLE_RATE

    n = 0
    for path in paths:
        try:
            info = sf.info(str(path))
        except (RuntimeError, OSError) as e:     # libsndfile's errors are RuntimeErrors
            raise KwsError(f"cannot read the extra clip {path}: {e}") from None
        n += info.samplerate != SAMPLE_RATE or info.channels != 1
    return n


def read_extra_clip(path: Path | str) -> np.ndarray:
    """An extra clip as float32 16 kHz mono: a user's recordings come at any rate and channel
    count (the dataset's clips and mined windows are 16 kHz mono already, read unchanged)."""
    from kwshost.data.voices import to_16k

    try:
        audio, rate = sf.read(path, dtype="float32")
    except (RuntimeError, OSError) as e:     # libsndfile's errors are RuntimeErrors
        raise KwsError(f"cannot read the extra clip {path}: {e}") from None
    if not len(audio):
        raise KwsError(f"the extra clip {path} holds no audio samples")
    return to_16k(audio, rate)


def _compute_files(args: tuple[int, int, list[tuple[str, str]]]):
    _check_worker()
    seed, start, items = args
    audio = []
    for k, (path, kind) in enumerate(items):
        rng = np.random.default_rng([seed, len(SPLITS), start + k])
        src = read_extra_clip(path)
        audio.append(make_example(src, kind, rng, _worker["noises"], _worker["aug"]))
    return "extra", start, spectrograms(audio, _worker["settings"], _worker["aug"].warmup_ms)


def build_extra(dirs: list[Path], dataset: Path, out: Path, cache, seed: int,
                fe_overrides: dict, jobs: int = 1, progress=None) -> int:
    """CACHE/extra_x.npy and extra_y.npy: each extra clip augmented `extra_variants` times
    (with the dataset's noises, as training examples are); reused while the recipe holds."""
    info_path = out / "extra.json"
    if not (dataset / "manifest.json").exists() and info_path.exists():
        # As the main cache: a host with the cache but not the clips trains on it as it is.
        info = json.loads(info_path.read_text())
        if info.get("complete"):
            print(f"no dataset at {dataset}: training on the extra features in {out} as they are")
            return info["count"]
    main = json.loads((out / "cache.json").read_text())
    classes = main["classes"]
    items = extra_clips(dirs, classes, frozenset(cache.validation_voices))
    digest = hashlib.sha1()
    for wav, label in items:
        digest.update(f"{wav.resolve()}|{wav.stat().st_size}|{label}\n".encode())
    recipe = {"dirs": [str(d.resolve()) for d in dirs], "files": len(items),
              "digest": digest.hexdigest(), "variants": cache.extra_variants, "seed": seed,
              "main": main["recipe"]}
    recipe = json.loads(json.dumps(recipe))
    if (info := _complete_info(info_path, recipe)) is not None:
        if info.get(CONVERTED):
            return info["count"]
        # Made before extra clips were converted: clips of other rates or channel counts were
        # read as if 16 kHz mono then. Without any, the cache holds; checked once.
        converted = _converted_clips([wav for wav, _ in items])
        if not converted:
            write_json_whole(info_path, {**info, CONVERTED: True})
            return info["count"]
        print(f"extra clips: {converted} not 16 kHz mono, read unconverted when the extra "
              "features were made: rebuilding them")
    manifest_path = dataset / "manifest.json"
    if not manifest_path.exists():
        raise KwsError(f"extra clips need the dataset's noises: no dataset at {dataset}",
                       hint="build the cache where the dataset is, then copy RUN/cache")
    manifest = json.loads(manifest_path.read_text())
    kinds = {0: "keyword"}
    plan = [(str(wav), kinds.get(label, "speech"), label)
            for wav, label in items for _ in range(cache.extra_variants)]
    settings = frontend_settings(fe_overrides)
    _begin_rewrite(info_path)
    x = np.lib.format.open_memmap(_partial(out / "extra_x.npy"), mode="w+", dtype=np.int8,
                                  shape=(len(plan), *settings.spectrogram_shape))
    np.save(_partial(out / "extra_y.npy"), np.array([label for _, _, label in plan], np.uint8))
    work = [(seed, s, [(p, k) for p, k, _ in plan[s:s + CHUNK]])
            for s in range(0, len(plan), CHUNK)]
    _fill({"extra": x}, _compute_files, work, dataset, manifest, fe_overrides,
          augment_settings(cache), jobs, progress, "extra features")
    x.flush()
    _finish_rewrite([out / "extra_x.npy", out / "extra_y.npy"])
    info_path.write_text(json.dumps({"recipe": recipe, "count": len(plan), "complete": True,
                                     CONVERTED: True}, indent=1))
    return len(plan)


def load_train(out: Path, with_extra: bool) -> tuple[np.ndarray, np.ndarray]:
    """The training split, with the extra examples appended (in memory) when asked."""
    x, y = load_split(out, "train")
    if not with_extra:
        return x, y
    if not (out / "extra.json").exists():
        raise KwsError(f"{out} has no extra examples", hint="build the cache with [cache] extra")
    xe, ye = load_split(out, "extra")
    return np.concatenate([x, xe]), np.concatenate([y, ye])


def load_split(out: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """The memory-mapped features and labels of one split."""
    return (np.load(out / f"{split}_x.npy", mmap_mode="r"), np.load(out / f"{split}_y.npy"))


def compute_dataset(dataset: Path, seed: int, jobs: int = 1, fe_overrides: dict | None = None,
                    warmup_ms: int = 1000, progress=None,
                    classes: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Features of every clip of a dataset once (keyword: the keyword, else `_unknown_`),
    augmented as in training, for evaluation on data a model never saw. Labels are indexes
    of `classes` (a model's; default the dataset's), each clip's by its class name, and each
    example is as long as the model's window (`fe_overrides`' sample length)."""
    from kwshost.data.voices import SAMPLE_RATE

    manifest = json.loads((dataset / "manifest.json").read_text())
    keyword = manifest["classes"][0]
    names = [str(c) for c in (classes or manifest["classes"])]
    missing = [c for c in manifest["classes"] if c not in names]
    if missing:
        raise KwsError(f"{dataset}: its class(es) {', '.join(map(repr, missing))} are not "
                       f"classes of the model ({', '.join(names)})",
                       hint="evaluate a model of the dataset's classes, or give recordings of "
                            "the model's classes as DIR/<class>/*.wav")
    settings = frontend_settings(fe_overrides)
    if settings.sample_rate_hz != SAMPLE_RATE:
        raise KwsError(f"the model takes {settings.sample_rate_hz} Hz audio; a dataset's clips "
                       f"are augmented at {SAMPLE_RATE} Hz",
                       hint="give recordings as DIR/<class>/*.wav (converted to its rate)")
    items = [(i, "keyword" if c["label"] == keyword else "speech")
             for i, c in enumerate(manifest["clips"])]
    y = np.array([names.index(c["label"]) for c in manifest["clips"]], np.uint8)
    x = np.empty((len(items), *settings.spectrogram_shape), np.int8)
    work = [("val", seed, s, items[s:s + CHUNK]) for s in range(0, len(items), CHUNK)]
    aug = AugmentSettings(clip_ms=int(settings.sample_length_ms), warmup_ms=warmup_ms)
    _fill({"val": x}, _compute_chunk, work, dataset, manifest, fe_overrides or {}, aug, jobs,
          progress, "features")
    return x, y
