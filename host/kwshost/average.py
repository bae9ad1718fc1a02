"""Weight averaging of models trained from one start: WiSE-FT and "model soups".

Fine-tunes of one model stay in one basin of the loss, so the elementwise average of their
weights (batch-norm statistics included) is itself a good model, and often better on data
none of them was tuned on than any of them: each fine-tune's gains on its own data partly
survive, its drift away from what the start knew partly cancels. Wortsman et al., "Robust
fine-tuning of zero-shot models" (WiSE-FT: the start and a fine-tune) and "Model soups"
(several fine-tunes) measured it; here the start is typically the bundled .tflite, imported
exactly as `kwshost train --start-from` imports it, and the fine-tunes are runs that started
from it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kwshost.errors import KwsError
from kwshost.train_config import TrainConfig


def load_source(cfg: TrainConfig, source: Path):
    """A Keras model from a run folder (its best epoch), a .keras file, or a converted .tflite
    (imported on the config's run cache as `train --start-from` does)."""
    import keras

    from kwshost.model import check_keras_file, custom_objects
    from kwshost.train import imported_start

    if source.suffix == ".tflite":
        return imported_start(cfg, source)
    path = source / "best.keras" if source.is_dir() else source
    if not path.is_file():
        raise KwsError(f"no model at {path}",
                       hint="give a training run's folder, its best.keras or last.keras, or a "
                            "converted .tflite")
    check_keras_file(path)
    try:
        return keras.models.load_model(path, custom_objects=custom_objects(), compile=False)
    except (OSError, ValueError, KeyError) as e:
        raise KwsError(f"cannot load {path} as a Keras model: {e}") from None


def parse_weights(weights: list[float] | None, count: int) -> np.ndarray:
    """The mixing coefficients: equal when not given, else COUNT non-negative numbers with a
    positive sum, normalized to sum to 1."""
    if weights is None:
        return np.full(count, 1.0 / count)
    w = np.asarray(weights, np.float64)
    if w.shape != (count,):
        raise KwsError(f"{len(weights)} weights for {count} models",
                       hint="give one weight per model, in the models' order")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise KwsError(f"weights {list(weights)} must be non-negative with a positive sum")
    return w / w.sum()


# Fine-tunes of one start measured 0.97-0.98 here (kernels' median cosine similarity, also
# to their start); models from different random starts (ours and MLTK's alexa) about 0.00.
RELATED_MIN = 0.5


def kinship(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    """The median cosine similarity of two models' kernels (variables of 2+ dimensions): near 1
    for models fine-tuned from one start, near 0 for models from different random starts,
    whose units sit in unrelated orders so that averaging them mixes unrelated features."""
    sims = []
    for x, y in zip(a, b, strict=True):
        if x.ndim < 2:
            continue
        x, y = np.asarray(x, np.float64).ravel(), np.asarray(y, np.float64).ravel()
        norms = np.linalg.norm(x) * np.linalg.norm(y)
        if norms > 0:
            sims.append(float(x @ y) / norms)
    return float(np.median(sims)) if sims else 1.0


def average_weights(models: list, coefficients: np.ndarray):
    """The first model with every variable set to the weighted sum of the models' (in float64,
    stored in each variable's own type). Models of different graphs, and models that do not
    descend from model 1's start (see kinship), are refused."""
    lists = [m.get_weights() for m in models]
    shapes = [[w.shape for w in ws] for ws in lists]
    for k, other in enumerate(shapes[1:], start=2):
        if other != shapes[0]:
            if len(other) != len(shapes[0]):
                what = f"{len(other)} variables against {len(shapes[0])}"
            else:   # the first variable of another shape, named as the model names it
                i = next(i for i, (a, b) in enumerate(zip(other, shapes[0], strict=True))
                         if a != b)
                name = getattr(models[0].weights[i], "path", "?")
                what = f"variable {i} ({name}) is {other[i]} against {shapes[0][i]}"
            raise KwsError(f"model {k} is another graph than model 1: {what}",
                           hint="average only models of one architecture and size (trained "
                                "on the same features)")
    for k, ws in enumerate(lists[1:], start=2):
        similarity = kinship(lists[0], ws)
        if similarity < RELATED_MIN:
            raise KwsError(f"model {k} was not trained from the same start as model 1: their "
                           f"kernels' median cosine similarity is {similarity:.2f} (fine-tunes "
                           f"of one model measure above 0.9), so their average is no model",
                           hint="average only fine-tunes of one model, with that model")
    mixed = [sum(c * np.asarray(ws[i], np.float64) for c, ws in zip(coefficients, lists,
                                                                    strict=True))
             .astype(lists[0][i].dtype) for i in range(len(lists[0]))]
    models[0].set_weights(mixed)
    return models[0]


def average(cfg: TrainConfig, sources: list[Path], weights: list[float] | None = None):
    """The weighted average of SOURCES' weights (see load_source) as a Keras model, and the
    normalized coefficients it used; bad weights are refused before any model is loaded."""
    if len(sources) < 2:
        raise KwsError("averaging needs at least two models")
    coefficients = parse_weights(weights, len(sources))
    return average_weights([load_source(cfg, s) for s in sources], coefficients), coefficients
