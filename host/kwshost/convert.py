"""Keras model -> fully int8 .tflite with MLTK's SL_PARAMSv1 metadata.

The model is rebuilt with batch size 1 before conversion: with a free batch dimension the
converter emits SHAPE/STRIDED_SLICE/PACK ops around the final reshape, which the seed's graph
(and our runtime's op set) does not have. Inputs and outputs are int8; the representative set
is drawn from the feature cache, so activation ranges are those of real spectrograms.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import tempfile
from pathlib import Path

import numpy as np

from kwshost.errors import KwsError, ModelError
from kwshost.train_config import TrainConfig

SEED_OPERATORS = {"CONV_2D", "DEPTHWISE_CONV_2D", "ADD", "AVERAGE_POOL_2D", "RESHAPE",
                  "FULLY_CONNECTED", "SOFTMAX"}


def representative_samples(cache_dir: Path, n: int, seed: int) -> np.ndarray:
    from kwshost.data.features import load_split

    xs = []
    for split in ("val", "train"):
        if (cache_dir / f"{split}_x.npy").exists():
            try:
                x, _ = load_split(cache_dir, split)
            except (OSError, ValueError) as e:
                raise KwsError(f"cannot read the feature cache {cache_dir} ({split} split): {e}",
                               hint="rebuild it with kwshost train, or pass --run RUN") from None
            rng = np.random.default_rng(seed)
            idx = np.sort(rng.choice(len(x), size=min(n, len(x)), replace=False))
            xs.append(np.asarray(x[idx]))
    if not xs:
        raise KwsError(f"no feature cache in {cache_dir} for the representative set",
                       hint="train first (kwshost train), or pass --run RUN")
    return np.concatenate(xs)[:n].astype(np.float32)[:, :, None, :]


def model_params(cfg: TrainConfig) -> dict[str, object]:
    """Everything the device, the host and MLTK's tools need, in MLTK's key names."""
    from kwshost.data.features import frontend_settings

    fe = frontend_settings(cfg.frontend)
    params: dict[str, object] = {"name": cfg.name, "version": int(cfg.version),
                                 "classes": list(cfg.classes)}
    params.update(fe.to_params())
    d = cfg.detector
    params.update({"latency_ms": d.latency_ms, "minimum_count": d.minimum_count,
                   "average_window_duration_ms": d.average_window_duration_ms,
                   "detection_threshold": d.detection_threshold,
                   "suppression_ms": d.suppression_ms, "volume_gain": d.volume_gain,
                   "description": cfg.description,
                   "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")})
    terms = training_data_terms(cfg)
    if terms:
        params["training_data_terms"] = terms
    return params


def training_data_terms(cfg: TrainConfig) -> str:
    """The licence terms the config's datasets (main and extra folders) carry from the
    synthesizers that spoke them, by their manifests (`dataset make`'s and `timbre`'s
    manifest.json, `dataset mine`'s mined-s*.json): "" when none restricts use. The user's
    own recordings have no manifest and name no synthesizer."""
    from kwshost.data.features import manifest_groups
    from kwshost.data.voices import NON_COMMERCIAL_ENGINES

    engines: set[str] = set()
    for folder in (cfg.dataset, *cfg.cache.extra):
        root = cfg.path(folder)
        groups = [*manifest_groups(root).values()]   # a timbre folder keeps its sources' groups
        for listing in [root / "manifest.json", *sorted(root.glob("mined-s*.json"))]:
            named, voices = _listing_engines_and_voices(listing)
            engines |= named
            groups += voices
        engines |= {str(g).split(":")[0] for g in groups if ":" in str(g)}
    restricted = sorted(engines & NON_COMMERCIAL_ENGINES.keys())
    if not restricted:
        return ""
    return "non-commercial: trained on " + "; ".join(
        f"{e} ({NON_COMMERCIAL_ENGINES[e]})" for e in restricted)


def inherited_terms_notes(models: list[Path]) -> list[str]:
    """A note for each converted model among MODELS whose metadata carries
    training_data_terms: what is made from it (a fine-tune, an average) may carry them too,
    and conversion sees only the new config's data."""
    from kwshost.metadata import read_params

    notes = []
    for model in models:
        if model.suffix != ".tflite" or not model.is_file():
            continue
        try:
            terms = read_params(model).get("training_data_terms")
        except (KwsError, OSError):
            continue   # the import that follows says what is wrong with it
        if terms:
            notes.append(f"note: {model} carries training_data_terms ({terms}); a model made "
                         "from it may carry them too: after converting, keep them with "
                         f"kwshost params OUT.tflite --set \"training_data_terms={terms}\" -o "
                         "OUT2.tflite")
    return notes


def _listing_engines_and_voices(listing: Path) -> tuple[set[str], list[str]]:
    """The "engines" a dataset listing names (`dataset make`'s manifest) and the voices of the
    windows it lists (`dataset mine`'s "engine:voice" groups). A missing or unreadable listing
    names none."""
    try:
        m = json.loads(listing.read_text())
        voices = [g for row in m.get("files", []) for g in row.get("voices", [])]
        return set(m.get("engines", [])), voices
    except (OSError, ValueError, AttributeError, TypeError):
        return set(), []


def _interpreter(tflite: bytes):
    """tf.lite.Interpreter, without its deprecation warning (LiteRT's is another package)."""
    import warnings

    import tensorflow as tf

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"\s*Warning: tf.lite.Interpreter is deprecated")
        return tf.lite.Interpreter(model_content=tflite)


def operators(tflite: bytes) -> list[str]:
    interp = _interpreter(tflite)
    return [op["op_name"] for op in interp._get_ops_details()]


def _quantize(converter, reps: np.ndarray) -> bytes:
    import tensorflow as tf

    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8

    def rep():
        for i in range(len(reps)):
            yield [reps[i:i + 1]]

    converter.representative_dataset = rep
    from kwshost.tf_quiet import quiet_stderr

    with quiet_stderr():
        return converter.convert()


def short_tensor_names(tflite: bytes) -> bytes:
    """Replace the converter's tensor names by "t<index>" (input/output keep theirs).

    Folding batch norm into convolutions concatenates every folded op's name: ~30 kB of
    strings in a ~200 kB model, flash a device should not spend on debug text.
    """
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model_from_bytearray(bytearray(tflite))
    for graph in model.subgraphs:
        keep = set(graph.inputs) | set(graph.outputs)
        for i, tensor in enumerate(graph.tensors):
            if i not in keep:
                tensor.name = f"t{i}".encode()
    model.signatureDefs = []
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def convert(keras_path: Path, cfg: TrainConfig, cache_dir: Path, n_representative: int = 500,
            temperature: float = 1.0) -> tuple[bytes, dict]:
    """The int8 model with metadata, and a small report (operators, size, quantization).
    `temperature` divides the logits (the last Dense layer's weights and bias) before the
    softmax."""
    import keras
    import tensorflow as tf

    from kwshost import metadata
    from kwshost.model import TENetShape, build_tenet, custom_objects

    trained = keras.models.load_model(keras_path, custom_objects=custom_objects())
    _, rows, _, channels = trained.input_shape
    if trained.output_shape[-1] != len(cfg.classes):
        raise KwsError(f"{keras_path} has {trained.output_shape[-1]} outputs, the config "
                       f"{len(cfg.classes)} classes {list(cfg.classes)}",
                       hint="convert with the config the model was trained with")
    model = build_tenet(TENetShape(time_steps=rows, features=channels,
                                   classes=len(cfg.classes)), batch_size=1)
    model.set_weights(trained.get_weights())
    if temperature != 1.0:
        dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)][-1]
        dense.set_weights([w / temperature for w in dense.get_weights()])
    reps = representative_samples(cache_dir, n_representative, cfg.seed)
    # A model of other features (another run's [frontend]) would get metadata for features
    # it never saw, and TensorFlow's calibrator dies on the cache's with a traceback.
    from kwshost.data.features import frontend_settings

    wanted = {"the config's [frontend]": tuple(frontend_settings(cfg.frontend).spectrogram_shape),
              f"the cache {cache_dir}": (reps.shape[1], reps.shape[3])}
    for where, shape in wanted.items():
        if shape != (rows, channels):
            raise KwsError(f"{keras_path} takes {rows} x {channels} features (rows x channels), "
                           f"{where} gives {shape[0]} x {shape[1]}",
                           hint="convert with the config and --run the model was trained with")

    # Keras 3 models convert reliably through a SavedModel (concrete functions keep their
    # variables as resources, which the calibrator cannot read).
    with tempfile.TemporaryDirectory() as tmp:
        model.export(tmp, format="tf_saved_model", verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(tmp)
        tflite = _quantize(converter, reps)
    ops = operators(tflite)
    extra = sorted(set(ops) - SEED_OPERATORS)
    if extra:
        raise ModelError(f"the converted graph has operators outside the seed's set: {extra}")
    tflite = short_tensor_names(tflite)
    params = model_params(cfg)
    params["hash"] = hashlib.md5(tflite).hexdigest()
    out = metadata.write_params(tflite, params)
    interp = _interpreter(out)
    inp = interp.get_input_details()[0]
    report = {"bytes": len(out), "operators": len(ops), "operator_types": sorted(set(ops)),
              "input_shape": inp["shape"].tolist(),
              "input_quantization": [float(inp["quantization"][0]),
                                     int(inp["quantization"][1])],
              "parameters": int(trained.count_params()), "temperature": temperature,
              "training_data_terms": params.get("training_data_terms", "")}
    return out, report
