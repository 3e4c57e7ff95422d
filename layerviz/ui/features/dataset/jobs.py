"""The Dataset view's work as plain functions (no Dash): datasets, the lens run, projections.

A run may go on a Celery worker (team mode), so nothing it leaves may live only in one
process: an uploaded dataset is read and checked when it arrives and kept in the session's
upload store (this process, or Redis shared by every worker), and the run keeps its pooled
features and peaks there too, all layers side by side in one ``(n, Σ channels)`` array each.
The page holds only small store forms: the dataset's digest, and the run's names, widths,
labels, probe curve and CKA matrix.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from layerviz.errors import ArgumentError, PatternError
from layerviz.lens.datasets import Dataset, bundled_dataset, read_dataset
from layerviz.lens.features import dataset_features
from layerviz.lens.probes import PROJECTIONS, probe_accuracy, project
from layerviz.lens.similarity import layer_similarity
from layerviz.patterns.readers import MAX_PATTERN_BYTES
from layerviz.ui.store import current_session
from layerviz.ui.workbench import Workbench, pattern_digest

__all__ = [
    "DATASET_FILE_BYTES",
    "MAX_DATASET_PATTERNS",
    "SOURCES",
    "add_dataset",
    "checked_result",
    "dataset_of",
    "layer_columns",
    "projection_of",
    "run_lens",
]

#: An uploaded dataset: one request's worth, like a pattern (the server reads one request).
DATASET_FILE_BYTES = MAX_PATTERN_BYTES
#: The most patterns one run goes over in the dashboard: bounds a run's server time.
MAX_DATASET_PATTERNS = 2000
#: Patterns per forward pass in the dashboard (as the health run: a large model stays < 1 GB).
BATCH_SIZE = 16
SOURCES = {"bundled": "the model's held-out set", "upload": "an uploaded .npz"}
_PROJECTIONS_KEPT = 32
_projections: OrderedDict[tuple, np.ndarray] = OrderedDict()
_projections_lock = threading.Lock()
#: Finished runs by (session, model, dataset digest): their store forms (small).
_RUNS_KEPT = 16
_runs: OrderedDict[tuple, dict] = OrderedDict()

Progress = Callable[[str, int, int], object]


def add_dataset(workbench: Workbench, model: str, data: bytes, filename: str) -> dict:
    """Read an uploaded ``.npz`` (``x``, optional ``y``) for ``model`` and keep it.

    Returns:
        Its store form ``{"digest", "filename", "n", "labelled"}``.

    Raises:
        PatternError: unsafe, unreadable, not fitting the input, too many patterns, or over
            one session's share of the store.
    """
    extractor = workbench.entry(model).extractor
    if len(extractor.input_shapes) != 1:
        raise PatternError(f"{filename}: a dataset fits a model with one input")
    found = read_dataset(data, filename, extractor.input_shapes[0], DATASET_FILE_BYTES)
    if len(found) > MAX_DATASET_PATTERNS:
        raise PatternError(
            f"{filename}: the dashboard runs up to {MAX_DATASET_PATTERNS} patterns, this "
            f"dataset holds {len(found)}; use `layerviz lens` for more"
        )
    kept = found.x if found.y is None else (found.x, found.y.astype(np.float32))
    digest = "dataset-" + pattern_digest(kept)
    workbench.keep_upload(digest, kept, filename, "dataset")
    labelled = found.y is not None
    return {"digest": digest, "filename": filename, "n": len(found), "labelled": labelled}


def dataset_of(workbench: Workbench, model: str, source: Any, upload: Any) -> Dataset:
    """The dataset the controls name: the model's held-out set, or the session's upload.

    Raises:
        PatternError: no held-out set, no upload, or an upload no longer kept.
        ArgumentError: an unknown source.
    """
    shape = tuple(workbench.input_shape(model))
    if source == "bundled":
        found = bundled_dataset(model, shape)
        if found is None:
            raise PatternError(f"model {model!r} has no held-out set; upload a dataset (.npz)")
        return found
    if source != "upload":
        raise ArgumentError(f"the dataset comes from {', '.join(SOURCES)}; got {source!r}"[:200])
    digest = upload.get("digest") if isinstance(upload, dict) else None
    if not isinstance(digest, str) or not digest.startswith("dataset-"):
        raise PatternError("upload a dataset (.npz with x and optionally y) first")
    kept = workbench.uploads.get(current_session.get(), digest)
    x, y = (kept, None) if isinstance(kept, np.ndarray) else (kept or (None, None))
    if not isinstance(x, np.ndarray) or x.shape[1:] != shape:
        raise PatternError("the uploaded dataset is no longer kept on the server; upload it again")
    labels = None if y is None else np.asarray(y).astype(np.int64)
    return Dataset(x, labels, None, str(upload.get("filename", "upload"))[:200])


def run_lens(
    workbench: Workbench, model: str, data: Dataset, progress: Progress | None = None
) -> dict:
    """The streamed pass, the probes and the CKA matrix; the page's result store form.

    ``progress(stage, done, total)`` hears each batch, layer and block; it may raise to stop.
    A second run of the same model over the same data in one session is answered from the
    run kept for it (while its features are still in the session's store).
    """
    labelled = data.x if data.y is None else (data.x, data.y)
    key = (current_session.get(), model, pattern_digest(labelled))
    with _projections_lock:
        known = _runs.get(key)
    if known is not None and _still_kept(workbench, known):
        return known
    result = _run_lens(workbench, model, data, progress)
    with _projections_lock:
        _runs[key] = result
        while len(_runs) > _RUNS_KEPT:
            _runs.popitem(last=False)
    return result


def _still_kept(workbench: Workbench, result: dict) -> bool:
    try:
        kept_features(workbench, result)
    except PatternError:
        return False
    return True


def _run_lens(workbench: Workbench, model: str, data: Dataset, progress: Progress | None) -> dict:
    entry = workbench.entry(model)

    def step(stage):
        return None if progress is None else lambda done, total: progress(stage, done, total)

    features = dataset_features(
        entry.extractor, data.x, batch_size=BATCH_SIZE, progress=step("patterns")
    )
    labels = data.y
    probe = None
    if labels is not None and len(np.unique(labels)) > 1:
        curve = probe_accuracy(features, labels, progress=step("probes"))
        probe = {
            "accuracy": curve.accuracy.tolist(),
            "spread": curve.spread.tolist(),
            "chance": curve.chance,
            "folds": curve.folds,
        }
    names, matrix = layer_similarity(features, progress=step("CKA blocks"))
    pooled = np.concatenate([lay.pooled for lay in features.layers], axis=1)
    peak = np.concatenate([lay.peak for lay in features.layers], axis=1)
    key = "lens-" + pattern_digest((pooled, peak))
    workbench.keep_upload(key, (pooled, peak), data.source, "dataset's features")
    predicted = features.predicted
    classes = data.classes or entry.class_names
    return {
        "model": model,
        "key": key,
        "source": data.source,
        "n": features.n_patterns,
        "names": names,
        "widths": [lay.n_channels for lay in features.layers],
        "labels": None if labels is None else labels.tolist(),
        "predicted": None if predicted is None else predicted.tolist(),
        "classes": list(classes) if classes else None,
        "probe": probe,
        "cka": np.round(matrix, 5).tolist(),
    }


def checked_result(value: Any) -> dict | None:
    """A run's store form as the page sent it back, or None when it is not one (a browser's
    store is untrusted: the views read only what this lets through)."""
    if not isinstance(value, dict) or not isinstance(value.get("model"), str):
        return None
    names, widths, cka = value.get("names"), value.get("widths"), value.get("cka")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        return None
    if not isinstance(widths, list) or len(widths) != len(names):
        return None
    if not all(isinstance(w, int) and not isinstance(w, bool) and w > 0 for w in widths):
        return None
    if not isinstance(cka, list) or len(cka) != len(names):
        return None
    if not all(isinstance(row, list) and len(row) == len(names) for row in cka):
        return None
    for key in ("labels", "predicted"):
        found = value.get(key)
        if found is not None and not (
            isinstance(found, list) and all(isinstance(v, int) and v >= 0 for v in found)
        ):
            return None
    probe = value.get("probe")
    if probe is not None and not _is_probe(probe, len(names)):
        return None
    return value


def _is_probe(probe: Any, n: int) -> bool:
    if not isinstance(probe, dict) or not isinstance(probe.get("chance"), int | float):
        return False
    return all(
        isinstance(probe.get(k), list) and len(probe[k]) == n for k in ("accuracy", "spread")
    )


def layer_columns(result: dict, layer: str) -> slice:
    """Which columns of the kept ``(n, Σ channels)`` arrays hold ``layer``.

    Raises:
        ArgumentError: the run has no such layer.
    """
    names, widths = result.get("names") or [], result.get("widths") or []
    if layer not in names:
        raise ArgumentError(f"the dataset run has no layer {layer!r}")
    i = names.index(layer)
    start = int(sum(widths[:i]))
    return slice(start, start + int(widths[i]))


def kept_features(workbench: Workbench, result: dict) -> tuple[np.ndarray, np.ndarray]:
    """The run's ``(pooled, peak)`` arrays from the session's store.

    Raises:
        PatternError: they are no longer kept (run again).
    """
    kept = workbench.uploads.get(current_session.get(), str(result.get("key")))
    if not isinstance(kept, tuple) or len(kept) != 2:
        raise PatternError("the dataset run is no longer kept on the server; run it again")
    return kept


def projection_of(workbench: Workbench, result: dict, layer: str, method: str) -> np.ndarray:
    """``(n, 2)`` coordinates of ``layer``'s pooled features (kept for the last few asked)."""
    if method not in PROJECTIONS:
        raise ArgumentError(f"projection must be one of {', '.join(PROJECTIONS)}; got {method!r}")
    key = (result.get("key"), layer, method)
    with _projections_lock:
        if key in _projections:
            _projections.move_to_end(key)
            return _projections[key]
    pooled, _ = kept_features(workbench, result)
    coords = project(pooled[:, layer_columns(result, layer)], method)
    with _projections_lock:
        _projections[key] = coords
        while len(_projections) > _PROJECTIONS_KEPT:
            _projections.popitem(last=False)
    return coords


def colour_groups(result: dict, by: str) -> tuple[np.ndarray | None, list[str]]:
    """Each point's group for colouring by label, prediction or correctness, with names."""
    labels, predicted = result.get("labels"), result.get("predicted")
    classes = result.get("classes") or []
    if by == "correct" and labels is not None and predicted is not None:
        return (np.asarray(labels) == np.asarray(predicted)).astype(int), ["wrong", "right"]
    chosen = predicted if by == "prediction" else labels
    if chosen is None:
        chosen = predicted if labels is None else labels
    if chosen is None:
        return None, []
    values = np.asarray(chosen, dtype=int)
    names = [classes[v] if 0 <= v < len(classes) else str(v) for v in range(values.max() + 1)]
    return values, names
