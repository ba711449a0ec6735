"""What a finished run leaves in its model directory, and how it is read back.

The predictions (``predictions/<part>.csv``), the taggers' ``thresholds.json``, the evaluation
that goes into ``metrics.json``, and :class:`TrainResult`.

Light: pandas, NumPy and :mod:`musiclass.evaluation`; no Keras. The readers
(:func:`load_predictions`, :func:`load_result`) are what ``evaluate``, the study and the report
use on model directories written earlier.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import evaluation
from ..errors import MetadataError
from ..layout import ModelDir
from ..utils import read_csv_table, write_csv_atomic, write_json_atomic

#: the columns of a predictions file before the probabilities (one ``p:<class>`` column each)
ROW_COLUMNS = ["row", "track_id", "frame", "label"]


@dataclass
class TrainResult:
    """One trained model directory, as :func:`~musiclass.training.fit.train` returns it.

    Attributes
    ----------
    model_dir : Path
        The model directory.
    metrics : dict
        Its ``metrics.json``: ``selected`` (the kept epoch), ``validation`` and ``test`` (the
        evaluations), frame and track counts, ``seconds``, ``epochs_run``, ``parameters``,
        ``execution``.
    history : pandas.DataFrame
        Its ``history.csv``: one row per epoch (loss, metrics, learning rate).
    seconds : float
        Training time (``model.fit``), in seconds.
    """

    model_dir: Path
    metrics: dict[str, Any]
    history: pd.DataFrame
    seconds: float

    @property
    def test(self) -> dict[str, Any]:
        """The evaluation on the test part (``metrics["test"]``).

        Returns
        -------
        dict
            ``metrics["test"]``.
        """
        return self.metrics["test"]


def load_result(model_dir: str | Path) -> TrainResult:
    """The :class:`TrainResult` of a finished model directory.

    Parameters
    ----------
    model_dir : str or Path
        A model directory with ``metrics.json`` and ``history.csv``.

    Returns
    -------
    TrainResult
        Its metrics, history and training time (``metrics["seconds"]``, 0 when absent).

    Raises
    ------
    FileNotFoundError
        ``metrics.json`` or ``history.csv`` is missing (the run did not finish).
    """
    md = ModelDir(model_dir)
    metrics = json.loads(md.metrics.read_text())
    return TrainResult(md.path, metrics, pd.read_csv(md.history), metrics.get("seconds", 0.0))


def save_predictions(path: Path, rows: pd.DataFrame, probs: np.ndarray, classes) -> None:
    """Write one part's predictions: a row per frame, a probability column per class.

    Parameters
    ----------
    path : Path
        ``predictions/<part>.csv`` of a model directory (:meth:`ModelDir.predictions`); its
        folder is created, the file written atomically.
    rows : pandas.DataFrame [shape=(n, ...)]
        The frames, with ``row, track_id, frame, label``.
    probs : np.ndarray [shape=(n, len(classes))]
        The model's probabilities, written with 6 significant digits.
    classes : sequence of str
        The class order; the columns are named ``p:<class>``.
    """
    table = rows[ROW_COLUMNS].reset_index(drop=True)
    table = pd.concat([table, pd.DataFrame(probs, columns=[f"p:{c}" for c in classes])], axis=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_csv_atomic(table, path, index=False, float_format="%.6g")


def load_predictions(path: str | Path) -> tuple[pd.DataFrame, np.ndarray, tuple[str, ...]]:
    """Read a predictions file written by :func:`save_predictions`.

    Parameters
    ----------
    path : str or Path
        ``predictions/<part>.csv``.

    Returns
    -------
    rows : pandas.DataFrame [shape=(n, 4)]
        ``row, track_id, frame, label`` (track ids and labels as strings).
    probs : np.ndarray [shape=(n, n_classes), float64]
        The probabilities.
    classes : tuple of str
        The class order.

    Raises
    ------
    musiclass.errors.MetadataError
        Naming the file, when it is not CSV, lacks the ``track_id``, ``label`` or ``p:`` columns, or
        holds a missing or non-finite probability.
    """
    table = read_csv_table(
        path,
        header="row,track_id,frame,label,p:CLASS...",
        kind="a predictions file",
        dtype={"track_id": str, "label": str},
        keep_default_na=False,
    )
    missing = [c for c in ("track_id", "label") if c not in table.columns]
    cols = [c for c in table.columns if str(c).startswith("p:")]
    if missing or not cols:
        raise MetadataError(
            path,
            f"lacks column(s) {missing + ([] if cols else ['p:CLASS ...'])}: not a predictions file"
            " written by `musiclass train`",
        )
    probs = table[cols].apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)
    bad = ~np.isfinite(probs).all(axis=1)
    if bad.any():
        line = int(np.flatnonzero(bad)[0]) + 2  # 1-based, after the header
        raise MetadataError(
            path,
            f"{int(bad.sum())} row(s) with a missing or non-finite probability (first on line {line})",
        )
    return table.drop(columns=cols), probs, tuple(c[2:] for c in cols)


def track_truth(y: np.ndarray, track_ids: np.ndarray) -> np.ndarray:
    """Each track's targets, tracks in order of first appearance.

    The order of :func:`musiclass.evaluation.track_probabilities`, so the two line up.

    Parameters
    ----------
    y : np.ndarray [shape=(n, ...)]
        Per-frame targets (every frame of a track has its track's targets).
    track_ids : np.ndarray [shape=(n,)]
        The frames' tracks.

    Returns
    -------
    np.ndarray [shape=(n_tracks, ...)]
        The targets of each track's first frame.
    """
    _, first = np.unique(np.asarray(track_ids), return_index=True)
    return y[np.sort(first)]


def evaluate_parts(
    predicted: dict[str, tuple[pd.DataFrame, np.ndarray, np.ndarray]],
    classes: tuple[str, ...],
    multilabel: bool,
    *,
    seed: int,
    n_boot: int,
    model_dir: ModelDir,
) -> dict[str, Any]:
    """The evaluation of the kept model on validation and test, as ``metrics.json`` keeps it.

    Single-label: :func:`musiclass.evaluation.evaluate` per part. Multi-label (taggers):
    per-tag thresholds are chosen on the validation tracks (max F1 per tag) and written to
    ``thresholds.json`` for ``predict``; :func:`musiclass.evaluation.evaluate_tags` per part,
    with the original study's frame metrics (probabilities above 0.9) under ``seed_metrics``.
    Bootstrap intervals are drawn on test only.

    Parameters
    ----------
    predicted : dict
        ``{"validation": (rows, probs, targets), "test": (...)}``: the frames (with
        ``track_id``), their probabilities ``(n, n_classes)`` and their targets.
    classes : tuple of str
        The class (tag) order.
    multilabel : bool
        Tagging metrics instead of classification metrics.
    seed : int
        The bootstrap's seed.
    n_boot : int
        Bootstrap resamples for the test intervals.
    model_dir : ModelDir
        Where ``thresholds.json`` goes (taggers).

    Returns
    -------
    dict
        ``{"validation": {...}, "test": {...}}``.
    """
    parts = {p: r for p, (r, _, _) in predicted.items()}
    probs = {p: pr for p, (_, pr, _) in predicted.items()}
    y = {p: t for p, (_, _, t) in predicted.items()}
    if multilabel:
        return _evaluate_tags(parts, probs, y, classes, seed, n_boot, model_dir)
    results: dict[str, Any] = {}
    for part in ("validation", "test"):
        ev = evaluation.evaluate(
            probs[part],
            y[part],
            parts[part]["track_id"].to_numpy(),
            classes,
            n_boot=n_boot if part == "test" else 0,
            n_perm=200 if part == "test" else 0,  # chance levels: where results are reported
            seed=seed,
        )
        results[part] = ev.to_dict()
    return results


def _evaluate_tags(
    parts, probs, y, classes, seed: int, n_boot: int, model_dir: ModelDir
) -> dict[str, Any]:
    """Tagging metrics on validation and test; per-tag thresholds chosen on validation tracks
    (kept in ``thresholds.json`` for ``predict``); the original's metrics beside them."""
    ids = {p: parts[p]["track_id"].to_numpy() for p in ("validation", "test")}
    _, val_probs = evaluation.track_probabilities(probs["validation"], ids["validation"])
    with warnings.catch_warnings(record=True) as caught:  # tags absent from validation: a note
        warnings.simplefilter("always")
        thresholds = evaluation.choose_thresholds(
            track_truth(y["validation"], ids["validation"]), val_probs, classes
        )
    write_json_atomic(
        model_dir.thresholds,
        {
            "chosen_on": "validation tracks (max F1 per tag)",
            "thresholds": dict(zip(classes, map(float, thresholds))),
            "notes": [str(w.message) for w in caught],
        },
    )
    results: dict[str, Any] = {}
    for part in ("validation", "test"):
        ev = evaluation.evaluate_tags(
            probs[part],
            y[part],
            ids[part],
            classes,
            thresholds=thresholds,
            n_boot=n_boot if part == "test" else 0,
            n_perm=100 if part == "test" else 0,  # chance levels: where results are reported
            seed=seed,
        )
        results[part] = ev.to_dict()
        # the original's evaluation (frames, probabilities above 0.9), to set its table beside ours
        results[part]["seed_metrics"] = evaluation.tagging_metrics_to_json(
            evaluation.seed_tagging_metrics(y[part], probs[part]), per_tag=False
        )
    return results
