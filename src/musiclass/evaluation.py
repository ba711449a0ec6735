"""Metrics from probabilities, track-level aggregation, bootstrap intervals and paired comparisons.

Layout of this module (the multi-label tagging metrics of the mood task will get their own section,
reusing the shared helpers; they are not implemented yet):

* shared helpers: input validation, bootstrap resampling (:func:`bootstrap_ci`), percentile intervals
  and a vectorised *cluster* bootstrap that resamples whole tracks;
* single-label classification (genre task): :func:`track_probabilities`, :func:`classification_metrics`,
  :func:`evaluate` -> :class:`Evaluation`, :func:`paired_comparison`;
* the original study's buggy metrics, kept only to reproduce its tables: :func:`seed_metrics`,
  :func:`hard_label_auc`, :func:`swapped_precision_recall`.

Every metric is scikit-learn's (macro averages over the classes that occur, ``zero_division=0``;
ROC-AUC one-vs-rest macro from the probability matrix). The one exception is the inner loop of the
cluster bootstrap (frame and track intervals), where calling scikit-learn 1000 times on thousands of frames would take tens of
seconds: there accuracy and macro F1 come from resampled confusion matrices and ROC-AUC from weighted
rank sums (the Mann-Whitney form of the area that scikit-learn computes with the trapezoid rule). The
tests check both against scikit-learn on explicit resamples.

Bad inputs raise :class:`EvaluationError`, which is both a :class:`~musiclass.errors.MusiclassError`
and a ``ValueError``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import pandas as pd
from scipy import sparse, stats
from sklearn.metrics import (accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support,
                             precision_score, recall_score, roc_auc_score)

from musiclass.errors import MusiclassError

__all__ = [
    "EvaluationError", "bootstrap_ci", "track_probabilities", "classification_metrics", "Evaluation",
    "evaluate", "paired_comparison", "seed_metrics", "hard_label_auc", "swapped_precision_recall",
]


class EvaluationError(MusiclassError, ValueError):
    """Predictions, labels or parameters that cannot be evaluated (wrong shape, non-finite, ...)."""


# --------------------------------------------------------------------------------------------------
# Shared helpers: bootstrap
# --------------------------------------------------------------------------------------------------

def _iter_bootstrap_indices(n: int, n_boot: int, seed: int) -> Iterator[np.ndarray]:
    """The resamples of ``n`` units used everywhere in this module, one ``(n,)`` index array at a time.

    One draw of ``n`` per resample from ``default_rng(seed)``: track-level (:func:`bootstrap_ci`) and
    frame-level (cluster) intervals with the same seed therefore use the very same resampled tracks.
    """
    rng = np.random.default_rng(seed)
    for _ in range(n_boot):
        yield rng.integers(0, n, n)


def _bootstrap_indices(n: int, n_boot: int, seed: int) -> np.ndarray:
    """All resamples as an ``(n_boot, n)`` array (same stream as :func:`bootstrap_ci`)."""
    out = np.empty((n_boot, n), dtype=np.int64)
    for b, idx in enumerate(_iter_bootstrap_indices(n, n_boot, seed)):
        out[b] = idx
    return out


def _percentile_interval(values: np.ndarray | Sequence[float], level: float) -> tuple[float, float]:
    """Percentile interval of the finite ``values``; ``(nan, nan)`` when there are none."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float("nan"), float("nan")
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(v, [alpha, 1.0 - alpha])
    return float(low), float(high)


def bootstrap_ci(metric: Callable[..., float], *arrays: np.ndarray, n_boot: int = 1000, seed: int = 0,
                 level: float = 0.95) -> tuple[float, float, float]:
    """Point estimate and percentile bootstrap interval of ``metric(*arrays)``.

    Each array has one entry (row) per independent unit, e.g. one per test *track*: rows are
    resampled with replacement ``n_boot`` times, the same rows from every array. Resamples on
    which the metric is undefined (``ValueError``, e.g. ROC-AUC when a class is missing) or NaN
    are dropped. Returns ``(point, low, high)``; the bounds are NaN when every resample failed.
    """
    arrays = tuple(np.asarray(a) for a in arrays)
    n = len(arrays[0])
    if any(len(a) != n for a in arrays):
        raise ValueError("bootstrap_ci: all arrays need the same number of rows")
    if n == 0:
        raise ValueError("bootstrap_ci: no rows")
    point = float(metric(*arrays))
    values = []
    for idx in _iter_bootstrap_indices(n, n_boot, seed):
        try:
            v = float(metric(*(a[idx] for a in arrays)))
        except ValueError:
            continue
        if np.isfinite(v):
            values.append(v)
    low, high = _percentile_interval(values, level)
    return point, low, high


def _resample_counts(indices: np.ndarray, n_units: int) -> np.ndarray:
    """``(n_boot, n)`` resampled unit indices -> ``(n_boot, n_units)`` multiplicities (float)."""
    n_boot = indices.shape[0]
    flat = (indices + n_units * np.arange(n_boot)[:, None]).ravel()
    return np.bincount(flat, minlength=n_boot * n_units).reshape(n_boot, n_units).astype(float)


def _macro_f1_from_confusions(conf: np.ndarray, k: int) -> np.ndarray:
    """Macro F1 of ``(m, k*k)`` confusions over the classes that occur (as truth or prediction), as
    scikit-learn's ``f1_score(average="macro")`` with its default ``labels``: a class absent from a
    resample must not count as an F1 of 0."""
    conf = conf.reshape(-1, k, k)
    tp = np.diagonal(conf, axis1=1, axis2=2)
    denom = conf.sum(axis=2) + conf.sum(axis=1)          # true_sum + pred_sum = 2tp + fn + fp
    f1 = np.divide(2.0 * tp, denom, out=np.zeros_like(tp, dtype=float), where=denom > 0)
    present = denom > 0
    return f1.sum(axis=1) / np.maximum(present.sum(axis=1), 1)


def _cluster_bootstrap(y: np.ndarray, probs: np.ndarray, units: np.ndarray, n_units: int,
                       indices: np.ndarray, *, chunk_elems: int = 2_000_000) -> dict[str, np.ndarray]:
    """Accuracy, macro F1 and macro OvR ROC-AUC of every cluster resample, vectorised.

    ``units[i]`` is the unit (track) of sample (frame) ``i``; ``indices`` is ``(n_boot, n_units)``
    resampled units. A resample takes every frame of every drawn track, as often as the track was
    drawn, which is the same as weighting each frame by its track's multiplicity. Resamples in which a
    class has no positive (or no negative) frame get a NaN ROC-AUC, as scikit-learn's undefined case.
    """
    n, k = probs.shape
    counts = _resample_counts(indices, n_units)                                  # (B, T)
    pred = probs.argmax(axis=1)
    # Per-unit confusion counts: the sufficient statistic of accuracy and F1.
    per_unit = np.bincount(units * (k * k) + y * k + pred, minlength=n_units * k * k)
    per_unit = per_unit.reshape(n_units, k * k).astype(float)
    conf = counts @ per_unit                                                     # (B, k*k)
    total = conf.sum(axis=1)
    accuracy = conf[:, :: k + 1].sum(axis=1) / total
    f1 = _macro_f1_from_confusions(conf, k)

    # Weighted Mann-Whitney area per class: sum over positive frames i and negative frames j of
    # w_i w_j ([s_i > s_j] + 0.5 [s_i == s_j]) / (W_pos W_neg), with w = track multiplicity.
    n_boot = counts.shape[0]
    aucs = np.empty((k, n_boot))
    for c in range(k):
        values, group = np.unique(probs[:, c], return_inverse=True)
        g = len(values)
        pos = y == c
        a_pos = sparse.csr_matrix((np.ones(pos.sum()), (group[pos], units[pos])), shape=(g, n_units))
        a_neg = sparse.csr_matrix((np.ones((~pos).sum()), (group[~pos], units[~pos])), shape=(g, n_units))
        step = max(1, chunk_elems // max(g, 1))
        for start in range(0, n_boot, step):
            cb = counts[start:start + step].T                                    # (T, b)
            w_pos = np.asarray(a_pos @ cb).T                                     # (b, g)
            w_neg = np.asarray(a_neg @ cb).T
            below = np.cumsum(w_neg, axis=1) - 0.5 * w_neg                       # neg weight below + half tied
            num = np.einsum("ij,ij->i", w_pos, below)
            den = w_pos.sum(axis=1) * w_neg.sum(axis=1)
            aucs[c, start:start + step] = np.divide(num, den, out=np.full(len(num), np.nan), where=den > 0)
    return {"accuracy": accuracy, "f1_macro": f1, "roc_auc": aucs.mean(axis=0)}


# --------------------------------------------------------------------------------------------------
# Shared helpers: validation
# --------------------------------------------------------------------------------------------------

def _check_classes(classes: Sequence[str], k: int | None = None) -> tuple[str, ...]:
    if isinstance(classes, str):
        raise EvaluationError("classes must be a sequence of class names, not one string")
    names = tuple(str(c) for c in classes)
    if len(names) < 2:
        raise EvaluationError(f"need at least 2 classes, got {len(names)}")
    if len(set(names)) != len(names):
        raise EvaluationError(f"class names must be unique, got {list(names)}")
    if k is not None and len(names) != k:
        raise EvaluationError(f"{len(names)} class names for probabilities with {k} columns")
    return names


def _check_probs(probs: Any, name: str = "probs") -> np.ndarray:
    """A finite ``(n, k)`` probability matrix, rows summing to 1, as float64."""
    p = np.asarray(probs)
    if p.ndim != 2:
        raise EvaluationError(f"{name} must be a 2-D array (n_samples, n_classes), got shape {p.shape}")
    if p.shape[0] == 0:
        raise EvaluationError(f"{name} has no rows")
    if p.shape[1] < 2:
        raise EvaluationError(f"{name} needs at least 2 class columns, got {p.shape[1]}")
    if p.dtype.kind not in "biuf":
        raise EvaluationError(f"{name} must be numeric, got dtype {p.dtype}")
    p = p.astype(np.float64, copy=False)
    bad = ~np.isfinite(p).all(axis=1)
    if bad.any():
        rows = np.flatnonzero(bad)
        raise EvaluationError(f"{name} has {len(rows)} row(s) with NaN or infinite values "
                              f"(first: row {rows[0]})")
    if (p < -1e-6).any() or (p > 1 + 1e-6).any():
        raise EvaluationError(f"{name} must hold probabilities in [0, 1] (apply softmax to logits)")
    sums = p.sum(axis=1)
    off = ~np.isclose(sums, 1.0, rtol=1e-5, atol=1e-8)
    if off.any():
        i = int(np.flatnonzero(off)[0])
        raise EvaluationError(f"{name} rows must sum to 1 (softmax outputs); {int(off.sum())} row(s) do not, "
                              f"e.g. row {i} sums to {sums[i]:.6g}")
    return p


def _check_labels(y: Any, n: int, k: int, name: str = "y_true") -> np.ndarray:
    """Integer class indices in ``[0, k)``, one per row of the probability matrix."""
    a = np.asarray(y)
    if a.ndim != 1:
        raise EvaluationError(f"{name} must be 1-D (one class index per sample), got shape {a.shape}")
    if len(a) != n:
        raise EvaluationError(f"{name} has {len(a)} entries but the probabilities have {n} rows")
    if a.dtype.kind == "f" and np.isfinite(a).all() and (a == np.round(a)).all():
        a = a.astype(np.int64)
    if a.dtype.kind not in "iu":
        raise EvaluationError(f"{name} must hold integer class indices, got dtype {a.dtype}")
    a = a.astype(np.int64, copy=False)
    if len(a) and (a.min() < 0 or a.max() >= k):
        raise EvaluationError(f"{name} has class indices outside 0..{k - 1} "
                              f"(min {a.min()}, max {a.max()})")
    return a


def _group_tracks(track_ids: Any, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Track ids (as str) in order of first appearance, each frame's track index, first frame per track."""
    ids = np.asarray(track_ids)
    if ids.ndim != 1:
        raise EvaluationError(f"track_ids must be 1-D (one id per frame), got shape {ids.shape}")
    if len(ids) != n:
        raise EvaluationError(f"track_ids has {len(ids)} entries but there are {n} frames")
    ids = ids.astype(str)
    uniq, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return uniq[order], rank[inverse.ravel()], first[order]


# --------------------------------------------------------------------------------------------------
# Single-label classification (genre task)
# --------------------------------------------------------------------------------------------------

def track_probabilities(frame_probs: Any, track_ids: Any) -> tuple[np.ndarray, np.ndarray]:
    """Mean of the frame probabilities of each track.

    ``frame_probs`` is ``(n_frames, n_classes)``, ``track_ids`` ``(n_frames,)`` (any ids; compared as
    strings). Returns ``(tracks, probs)``: the track ids as a ``str`` array in order of first
    appearance and their ``(n_tracks, n_classes)`` mean probabilities.
    """
    p = _check_probs(frame_probs, "frame_probs")
    tracks, inverse, _ = _group_tracks(track_ids, len(p))
    sums = np.zeros((len(tracks), p.shape[1]))
    np.add.at(sums, inverse, p)
    return tracks, sums / np.bincount(inverse, minlength=len(tracks))[:, None]


def _roc_auc_ovr(y: np.ndarray, probs: np.ndarray) -> float:
    """scikit-learn's OvR macro ROC-AUC over ``labels=range(k)``; NaN when a class is absent from ``y``."""
    k = probs.shape[1]
    if np.count_nonzero(np.bincount(y, minlength=k)) < k:
        return float("nan")
    if k == 2:  # scikit-learn's binary case; equals the OvR macro of the two (mirror-image) classes
        return float(roc_auc_score(y, probs[:, 1]))
    return float(roc_auc_score(y, probs, multi_class="ovr", average="macro", labels=np.arange(k)))


def _accuracy(y: np.ndarray, pred: np.ndarray) -> float:
    return float(accuracy_score(y, pred))


def _f1_macro(y: np.ndarray, pred: np.ndarray, k: int) -> float:
    # the classes occurring in y or pred (scikit-learn's default labels), as the bootstrap does
    return float(f1_score(y, pred, average="macro", zero_division=0))


def _prepare(y_true: Any, probs: Any, classes: Sequence[str]):
    """Validated ``(probs, labels, argmax predictions, class names)``."""
    p = _check_probs(probs)
    names = _check_classes(classes, p.shape[1])
    y = _check_labels(y_true, len(p), p.shape[1])
    return p, y, p.argmax(axis=1), names


def classification_metrics(y_true: Any, probs: Any, classes: Sequence[str]) -> dict[str, Any]:
    """Single-label metrics of a probability matrix; the predicted class is the argmax of each row.

    Returns a dict with ``n``, ``accuracy``, ``precision_macro``, ``recall_macro``, ``f1_macro``
    (macro over the classes that occur, ``zero_division=0``), ``roc_auc_ovr_macro`` (one-vs-rest from the
    probabilities; NaN, with an entry in ``notes``, when a class is absent from ``y_true``),
    ``per_class`` (``{class: {precision, recall, f1, support}}``), ``confusion`` (DataFrame, rows
    ``true`` class, columns ``predicted`` class) and ``notes`` (list of str).
    """
    p, y, pred, names = _prepare(y_true, probs, classes)
    k = p.shape[1]
    labels = np.arange(k)
    notes: list[str] = []

    prec, rec, f1, support = precision_recall_fscore_support(y, pred, labels=labels, average=None,
                                                             zero_division=0)
    absent = [names[c] for c in range(k) if support[c] == 0]
    if absent:
        notes.append(f"classes absent from y_true: {', '.join(absent)}; the macro averages "
                     f"cover the classes that occur (as truth or prediction) and roc_auc_ovr_macro is NaN")
    conf = confusion_matrix(y, pred, labels=labels)
    return {
        "n": int(len(y)),
        "accuracy": _accuracy(y, pred),
        "precision_macro": float(precision_score(y, pred, average="macro", zero_division=0)),
        "recall_macro": float(recall_score(y, pred, average="macro", zero_division=0)),
        "f1_macro": _f1_macro(y, pred, k),
        "roc_auc_ovr_macro": _roc_auc_ovr(y, p),
        "per_class": {names[c]: {"precision": float(prec[c]), "recall": float(rec[c]), "f1": float(f1[c]),
                                 "support": int(support[c])} for c in range(k)},
        "confusion": pd.DataFrame(conf, index=pd.Index(names, name="true"),
                                  columns=pd.Index(names, name="predicted")),
        "notes": notes,
    }


_INTERVAL_KEYS = ("accuracy", "f1_macro", "roc_auc")


def _json_float(x: Any) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def _metrics_to_json(m: dict[str, Any]) -> dict[str, Any]:
    conf: pd.DataFrame = m["confusion"]
    out = {key: (_json_float(m[key]) if key != "n" else int(m[key]))
           for key in ("n", "accuracy", "precision_macro", "recall_macro", "f1_macro", "roc_auc_ovr_macro")}
    out["per_class"] = {c: {"precision": _json_float(v["precision"]), "recall": _json_float(v["recall"]),
                            "f1": _json_float(v["f1"]), "support": int(v["support"])}
                        for c, v in m["per_class"].items()}
    out["confusion"] = {"classes": [str(c) for c in conf.index], "rows": "true", "columns": "predicted",
                        "matrix": conf.to_numpy().astype(int).tolist()}
    out["notes"] = list(m["notes"])
    return out


@dataclass(frozen=True)
class Evaluation:
    """Frame- and track-level results of one model on one test set (see :func:`evaluate`).

    ``frame`` and ``track`` are :func:`classification_metrics` dicts; ``intervals[level][metric]`` is a
    ``(low, high)`` bootstrap interval over test tracks for ``accuracy``, ``f1_macro`` and ``roc_auc``
    (``level`` is ``"frame"`` or ``"track"``). ``tracks``, ``track_labels`` and ``track_probs`` are the
    track-level predictions, in order of first appearance, e.g. for :func:`paired_comparison`.
    """

    classes: tuple[str, ...]
    frame: dict[str, Any]
    track: dict[str, Any]
    intervals: dict[str, dict[str, tuple[float, float]]]
    tracks: np.ndarray = field(repr=False)
    track_labels: np.ndarray = field(repr=False)
    track_probs: np.ndarray = field(repr=False)
    n_boot: int = 1000
    seed: int = 0
    level: float = 0.95

    @property
    def n_frames(self) -> int:
        return int(self.frame["n"])

    @property
    def n_tracks(self) -> int:
        return int(self.track["n"])

    def to_dict(self, predictions: bool = False) -> dict[str, Any]:
        """JSON-safe dict (NaN -> None, confusion as nested lists with the class names).

        With ``predictions=True`` the track ids, labels and probabilities are included too.
        """
        out: dict[str, Any] = {"classes": list(self.classes), "n_frames": self.n_frames,
                               "n_tracks": self.n_tracks, "n_boot": int(self.n_boot), "seed": int(self.seed),
                               "level": float(self.level), "bootstrap_unit": "track"}
        for lvl in ("frame", "track"):
            d = _metrics_to_json(getattr(self, lvl))
            d["intervals"] = {key: [_json_float(lo), _json_float(hi)]
                              for key, (lo, hi) in self.intervals[lvl].items()}
            out[lvl] = d
        if predictions:
            out["predictions"] = {"tracks": [str(t) for t in self.tracks],
                                  "labels": [int(v) for v in self.track_labels],
                                  "probs": np.asarray(self.track_probs, dtype=float).tolist()}
        return out

    def table(self) -> pd.DataFrame:
        """One row per level (``frame``, ``track``): point estimates and interval bounds."""
        rows = []
        for lvl in ("frame", "track"):
            m, ci = getattr(self, lvl), self.intervals[lvl]
            rows.append({"level": lvl,
                         "accuracy": m["accuracy"], "accuracy_low": ci["accuracy"][0],
                         "accuracy_high": ci["accuracy"][1],
                         "f1_macro": m["f1_macro"], "f1_low": ci["f1_macro"][0], "f1_high": ci["f1_macro"][1],
                         "roc_auc": m["roc_auc_ovr_macro"], "roc_auc_low": ci["roc_auc"][0],
                         "roc_auc_high": ci["roc_auc"][1],
                         "precision_macro": m["precision_macro"], "recall_macro": m["recall_macro"]})
        return pd.DataFrame(rows)

    def per_class(self) -> pd.DataFrame:
        """Track-level recall, precision, F1 and support per class (index ``class``)."""
        df = pd.DataFrame.from_dict(self.track["per_class"], orient="index")
        df.index.name = "class"
        return df[["recall", "precision", "f1", "support"]]


def _check_boot(n_boot: int, level: float) -> None:
    if int(n_boot) != n_boot or n_boot < 0:
        raise EvaluationError(f"n_boot must be a non-negative integer, got {n_boot!r}")
    if not 0.0 < level < 1.0:
        raise EvaluationError(f"level must be between 0 and 1, got {level!r}")


def evaluate(frame_probs: Any, frame_labels: Any, track_ids: Any, classes: Sequence[str], *,
             n_boot: int = 1000, seed: int = 0, level: float = 0.95) -> Evaluation:
    """Frame- and track-level metrics of one model, with bootstrap intervals over test tracks.

    ``frame_probs`` ``(n_frames, k)``, ``frame_labels`` ``(n_frames,)`` class indices, ``track_ids``
    ``(n_frames,)``. A track's probabilities are the mean of its frames' (:func:`track_probabilities`)
    and its label is its frames' label (an error if they differ). Intervals: track level with
    :func:`bootstrap_ci` over the track arrays; frame level with a cluster bootstrap drawing the same
    resamples of tracks and taking every frame of each drawn track. Resamples where a metric is
    undefined (ROC-AUC with a class missing) are dropped, as in :func:`bootstrap_ci`.
    """
    _check_boot(n_boot, level)
    p = _check_probs(frame_probs, "frame_probs")
    k = p.shape[1]
    names = _check_classes(classes, k)
    y = _check_labels(frame_labels, len(p), k, "frame_labels")
    tracks, unit, first = _group_tracks(track_ids, len(p))
    track_y = y[first]
    mixed = y != track_y[unit]
    if mixed.any():
        bad = tracks[np.unique(unit[mixed])]
        shown = ", ".join(map(str, bad[:5])) + (", ..." if len(bad) > 5 else "")
        raise EvaluationError(f"{len(bad)} track(s) have frames with different labels: {shown}")
    sums = np.zeros((len(tracks), k))
    np.add.at(sums, unit, p)
    track_p = sums / np.bincount(unit, minlength=len(tracks))[:, None]

    frame_m = classification_metrics(y, p, names)
    track_m = classification_metrics(track_y, track_p, names)

    # Intervals: the same resamples of tracks for both levels. Track level is the cluster bootstrap
    # with one "frame" per track (equal to bootstrap_ci over the track arrays, tested, and 20x faster:
    # no scikit-learn call per resample).
    if n_boot:
        idx = _bootstrap_indices(len(tracks), int(n_boot), seed)
        n_t = len(tracks)
        track_reps = _cluster_bootstrap(track_y, track_p, np.arange(n_t), n_t, idx)
        frame_reps = _cluster_bootstrap(y, p, unit, n_t, idx)
        track_ci = {key: _percentile_interval(track_reps[key], level) for key in _INTERVAL_KEYS}
        frame_ci = {key: _percentile_interval(frame_reps[key], level) for key in _INTERVAL_KEYS}
    else:
        track_ci = {key: (float("nan"), float("nan")) for key in _INTERVAL_KEYS}
        frame_ci = dict(track_ci)
    return Evaluation(classes=names, frame=frame_m, track=track_m,
                      intervals={"frame": frame_ci, "track": track_ci}, tracks=tracks,
                      track_labels=track_y, track_probs=track_p, n_boot=int(n_boot), seed=seed, level=level)


def paired_comparison(y_true: Any, probs_a: Any, probs_b: Any, *, n_boot: int = 1000, seed: int = 0,
                      level: float = 0.95, names: tuple[str, str] = ("a", "b")) -> dict[str, Any]:
    """Compare two models on the *same* test units (e.g. tracks), differences taken as ``b - a``.

    Accuracy and macro F1 of each model, their differences with paired percentile bootstrap
    intervals (both models scored on the same resampled units), and an exact McNemar test:
    ``n01`` = units ``a`` gets wrong and ``b`` right, ``n10`` = the reverse; ``p_value`` is the
    two-sided ``scipy.stats.binomtest(n01, n01 + n10, 0.5)`` p-value (1 when there is no discordant
    unit). ``verdict`` is one line; "better" needs ``p_value < 1 - level``.
    """
    _check_boot(n_boot, level)
    pa = _check_probs(probs_a, "probs_a")
    pb = _check_probs(probs_b, "probs_b")
    if pa.shape != pb.shape:
        raise EvaluationError(f"probs_a and probs_b must have the same shape, got {pa.shape} and {pb.shape}")
    k = pa.shape[1]
    y = _check_labels(y_true, len(pa), k)
    pred_a, pred_b = pa.argmax(axis=1), pb.argmax(axis=1)
    kw = dict(n_boot=int(n_boot), seed=seed, level=level)

    def acc_diff(t, a, b):
        return _accuracy(t, b) - _accuracy(t, a)

    def f1_diff(t, a, b):
        return _f1_macro(t, b, k) - _f1_macro(t, a, k)

    d_acc, acc_lo, acc_hi = bootstrap_ci(acc_diff, y, pred_a, pred_b, **kw)
    d_f1, f1_lo, f1_hi = bootstrap_ci(f1_diff, y, pred_a, pred_b, **kw)
    right_a, right_b = pred_a == y, pred_b == y
    n01 = int(np.sum(~right_a & right_b))
    n10 = int(np.sum(right_a & ~right_b))
    p_value = float(stats.binomtest(n01, n01 + n10, 0.5, alternative="two-sided").pvalue) if n01 + n10 else 1.0

    name_a, name_b = names
    acc_a, acc_b = _accuracy(y, pred_a), _accuracy(y, pred_b)
    alpha = 1.0 - level
    if p_value < alpha:
        head = f"{name_b} better than {name_a}" if n01 > n10 else f"{name_a} better than {name_b}"
    else:
        head = f"no significant difference between {name_a} and {name_b} (alpha {alpha:.3g})"
    verdict = (f"{head}: accuracy {acc_a:.3f} vs {acc_b:.3f}, {name_b} - {name_a} = {d_acc:+.3f} "
               f"[{acc_lo:+.3f}, {acc_hi:+.3f}]; McNemar exact p = {p_value:.3g} (n01={n01}, n10={n10})")
    return {"n": int(len(y)), "accuracy_a": acc_a, "accuracy_b": acc_b,
            "accuracy_diff": d_acc, "accuracy_diff_low": acc_lo, "accuracy_diff_high": acc_hi,
            "f1_macro_a": _f1_macro(y, pred_a, k), "f1_macro_b": _f1_macro(y, pred_b, k),
            "f1_macro_diff": d_f1, "f1_macro_diff_low": f1_lo, "f1_macro_diff_high": f1_hi,
            "n01": n01, "n10": n10, "p_value": p_value, "n_boot": int(n_boot), "seed": seed, "level": level,
            "verdict": verdict}


# --------------------------------------------------------------------------------------------------
# The original study's metrics, bugs included. ONLY to reproduce its tables next to ours; never use
# these numbers as results (see SEED_PROTOCOL.md, "Metric bugs").
# --------------------------------------------------------------------------------------------------

def hard_label_auc(y_true: Any, probs: Any) -> float:
    """The original ML classifiers' "AUC": OvR macro ROC-AUC of one-hot *argmax* predictions.

    Reproduction only. With hard labels each class's curve has one point, so this is the mean over
    classes of (TPR + TNR) / 2, not a ranking measure. NaN when a class is absent from ``y_true``.
    """
    p = _check_probs(probs)
    y = _check_labels(y_true, len(p), p.shape[1])
    one_hot = np.eye(p.shape[1])[p.argmax(axis=1)]
    return _roc_auc_ovr(y, one_hot)


def swapped_precision_recall(y_true: Any, y_pred: Any, n_classes: int) -> tuple[float, float]:
    """The original study's macro "precision" and "recall": scikit-learn called with the arguments swapped.

    Reproduction only. Returns ``(precision_score(y_pred, y_true), recall_score(y_pred, y_true))``,
    which are the true macro recall and the true macro precision respectively.
    """
    t = np.asarray(y_true)
    pr = _check_labels(y_pred, len(t), n_classes, "y_pred")
    t = _check_labels(t, len(t), n_classes)
    labels = np.arange(n_classes)
    return (float(precision_score(pr, t, labels=labels, average="macro", zero_division=0)),
            float(recall_score(pr, t, labels=labels, average="macro", zero_division=0)))


def seed_metrics(y_true: Any, probs: Any, classes: Sequence[str]) -> dict[str, Any]:
    """The original study's numbers for these predictions, its metric bugs reproduced. Reproduction only.

    ``precision_macro`` / ``recall_macro`` are computed with scikit-learn's arguments swapped (so they
    are the true recall / precision; its F1 is unaffected); ``roc_auc_macro`` is the OvR macro AUC from
    probabilities (as for its CNNs) and ``hard_label_auc`` the one its ML classifiers reported.
    ``per_class`` holds the swapped per-class precision / recall of its per-genre table.
    """
    p, y, pred, names = _prepare(y_true, probs, classes)
    k = p.shape[1]
    labels = np.arange(k)
    precision, recall = swapped_precision_recall(y, pred, k)
    sw_p, sw_r, sw_f, _ = precision_recall_fscore_support(pred, y, labels=labels, average=None, zero_division=0)
    return {
        "accuracy": _accuracy(y, pred),
        "precision_macro": precision,
        "recall_macro": recall,
        "f1_macro": float(f1_score(pred, y, labels=labels, average="macro", zero_division=0)),
        "roc_auc_macro": _roc_auc_ovr(y, p),
        "hard_label_auc": hard_label_auc(y, p),
        "per_class": {names[c]: {"precision": float(sw_p[c]), "recall": float(sw_r[c]), "f1": float(sw_f[c])}
                      for c in range(k)},
        "note": "original study's metrics with its bugs (precision/recall swapped, hard-label AUC); "
                "for comparison with its tables only",
    }
