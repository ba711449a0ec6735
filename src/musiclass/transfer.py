"""Transfer learning in the study: classifiers on a pretrained musicnn's per-track embeddings.

Two experiments use it (``configs/genre/transfer.yaml``, ``configs/mood/transfer.yaml``):

* **genre**: the classical classifiers of the descriptor baselines (:mod:`musiclass.models.classical`,
  our protocol: cross-validation grouped by artist, or the artist-filtered GTZAN lists) on the
  embedding table instead of the 97 descriptors;
* **mood**: a linear probe, one logistic regression per tag (one-vs-rest) on the standardised
  embeddings (:func:`fit_probe`), its regularisation chosen on the validation tracks only, scored on
  the test tracks with the MediaEval metrics and intervals of every mood result
  (:func:`musiclass.evaluation.evaluate_tags`).

The embeddings are those of :mod:`musiclass.pretrained.embeddings`, written into the feature store
beside the descriptor table once (:func:`ensure_embeddings`). A profile may embed fewer patches per
track (``embedding_patches`` in :data:`musiclass.study.PROFILES`): the table is then named for it
(:func:`embedding_name`), so it never stands in for the full one. Keras is imported only when a
network is loaded.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import ConfigError
from .features.store import FeatureStore, read_embeddings
from .layout import IndexFiles, ModelDir, ProbeFiles, StoreFiles
from .models.classical import FeatureTable, read_features
from .pretrained.embeddings import extract_embeddings
from .pretrained.tagger import load_tagger
from .pretrained.weights import WeightsUnavailable
from .training import load_split
from .training.results import evaluate_parts
from .utils import safe_name, write_csv_atomic, write_json_atomic

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_MODEL",
    "PROBE_C",
    "embedding_name",
    "ensure_embeddings",
    "embedding_features",
    "fit_probe",
    "run_probe",
]

#: the pretrained network whose embeddings the transfer experiments use unless a config says
#: otherwise: MSD_musicnn (its 50 tags include genres and moods)
DEFAULT_MODEL = "musicnn-msd"
#: the inverse regularisation strengths the linear probe tries (chosen on validation)
PROBE_C = (0.01, 0.1, 1.0)
#: the models whose weights could not be had in this process (not asked for again)
_UNAVAILABLE: dict[str, WeightsUnavailable] = {}


def embedding_name(model: str = DEFAULT_MODEL, max_patches: int | None = None) -> str:
    """The name of an embedding table in the store: the model, and the patch limit if any.

    Parameters
    ----------
    model : str, default="musicnn-msd"
        The pretrained model.
    max_patches : int, optional
        At most this many patches embedded per track (None: all).

    Returns
    -------
    str
        ``model``, or ``<model>-<k>patch`` for a limited table.

    Examples
    --------
    >>> embedding_name(), embedding_name("musicnn-mtt", 1)
    ('musicnn-msd', 'musicnn-mtt-1patch')
    """
    return model if max_patches is None else f"{model}-{int(max_patches)}patch"


def _up_to_date(store: FeatureStore, name: str) -> bool:
    """Whether the store's embedding table ``name`` covers exactly its tracks (embedded or failed)."""
    path = store.path / StoreFiles.EMBEDDINGS.format(model=safe_name(name))
    failed = store.path / StoreFiles.EMBEDDING_FAILURES.format(model=safe_name(name))
    if not path.is_file():
        return False
    try:
        done = pd.read_csv(path, usecols=["track_id"], dtype=str)["track_id"].tolist()
        bad = pd.read_csv(failed, dtype=str)["track_id"].tolist() if failed.is_file() else []
    except (OSError, ValueError, pd.errors.ParserError, KeyError):
        return False
    wanted = {c["track_id"] for c in store.manifest["chunks"]}
    return set(done) | set(bad) == wanted and len(done) == len(set(done))


def ensure_embeddings(
    store: FeatureStore,
    model: str = DEFAULT_MODEL,
    *,
    max_patches: int | None = None,
    progress: bool = False,
    echo: Callable[[str], Any] = print,
    tagger: Any = None,
) -> str:
    """Write the store's embedding table unless it is there for exactly its tracks.

    Parameters
    ----------
    store : FeatureStore
        The study's feature store.
    model : str, default="musicnn-msd"
        The pretrained musicnn model.
    max_patches : int, optional
        Embed at most this many patches per track (a quick profile's limit); default all.
    progress : bool, default=False
        Whether to show a progress bar.
    echo : callable, default=print
        Called with a line of progress.
    tagger : musiclass.pretrained.tagger.Tagger, optional
        A loaded network to use instead of the published one (tests: random weights).

    Returns
    -------
    str
        The table's name (:func:`embedding_name`), for :func:`musiclass.features.store.read_embeddings`.

    Raises
    ------
    musiclass.pretrained.weights.WeightsUnavailable
        When the published weights cannot be had.
    """
    name = embedding_name(model, max_patches)
    if _up_to_date(store, name):
        return name
    if tagger is None:
        if model in _UNAVAILABLE:  # one failed download per process: the next study skips at once
            raise _UNAVAILABLE[model]
        try:
            tagger = load_tagger(model)
        except WeightsUnavailable as exc:
            _UNAVAILABLE[model] = exc
            raise
    limit = f", at most {max_patches} patch(es) per track" if max_patches else ""
    echo(f"   embedding {len(store.manifest['chunks'])} tracks with {model}{limit} -> {store.path}")
    t0 = time.perf_counter()
    result = extract_embeddings(
        store, model=name, tagger=tagger, progress=progress, max_patches=max_patches
    )
    echo(
        f"   {len(result.table)} tracks embedded ({result.table.shape[1] - 2} values each), "
        f"{len(result.failures)} failed, in {time.perf_counter() - t0:.0f} s"
    )
    return name


def embedding_features(store: FeatureStore, name: str) -> FeatureTable:
    """The store's embedding table as a classical feature table, grouped by the store's artists.

    Parameters
    ----------
    store : FeatureStore
        The feature store.
    name : str
        The table's name (:func:`ensure_embeddings`).

    Returns
    -------
    musiclass.models.classical.FeatureTable
        Its values, labels, track ids and (when the index has them) artists as groups.

    Raises
    ------
    musiclass.errors.MetadataError
        When the table is missing or unusable for a classifier (see
        :func:`musiclass.models.classical.read_features`).
    """
    path = store.path / StoreFiles.EMBEDDINGS.format(model=safe_name(name))
    return read_features(path, tracks=store.path / IndexFiles.TRACKS)


def fit_probe(
    X: np.ndarray,
    Y: np.ndarray,
    parts: np.ndarray,
    *,
    C: tuple[float, ...] = PROBE_C,
    seed: int = 42,
) -> tuple[np.ndarray, float, dict[float, float]]:
    """A linear probe: one logistic regression per tag, ``C`` chosen on the validation rows.

    The embeddings are standardised with the training rows' mean and deviation; for each ``C`` one
    L2-regularised logistic regression per tag is fitted on the training rows (in an orthonormal
    basis of the training rows' span: the same model, faster when tracks are fewer than values); the ``C`` with the
    best macro ROC-AUC on the validation rows (over the tags with both classes there; the smallest
    ``C`` on a tie) is kept. Test rows are never looked at before the choice. A tag that is constant
    in training gets its training frequency as probability.

    Parameters
    ----------
    X : numpy.ndarray of shape (n, d)
        The embeddings, one row per track.
    Y : numpy.ndarray of shape (n, k)
        0/1 tags.
    parts : numpy.ndarray of shape (n,)
        ``train``, ``validation`` or ``test`` per row.
    C : tuple of float, default=PROBE_C
        The inverse regularisation strengths tried.
    seed : int, default=42
        The solver's seed.

    Returns
    -------
    probs : numpy.ndarray of shape (n, k)
        Every row's probabilities under the chosen ``C``.
    chosen : float
        The ``C`` kept.
    scores : dict of float to float
        Each ``C``'s validation macro ROC-AUC (NaN when no tag has both classes there).

    Raises
    ------
    musiclass.errors.ConfigError
        When there are no training or no validation rows, or ``C`` is empty.
    """
    from sklearn.linear_model import LogisticRegression  # scikit-learn: heavy, only here (lazy)
    from sklearn.metrics import roc_auc_score
    from sklearn.preprocessing import StandardScaler

    X, Y, parts = np.asarray(X, np.float64), np.asarray(Y, np.int64), np.asarray(parts)
    train, val = parts == "train", parts == "validation"
    if not train.any() or not val.any() or not C:
        raise ConfigError("a linear probe needs training and validation tracks and some C")
    Z = StandardScaler().fit(X[train]).transform(X)  # constant columns: scale 1, as before
    # the L2-penalised weights lie in the span of the training rows (a component orthogonal to it
    # changes no training score and only adds to the penalty), so fitting in an orthonormal basis
    # of that span gives the same probabilities with n_train instead of d columns
    _, s, vt = np.linalg.svd(Z[train], full_matrices=False)
    Z = Z @ vt[s > s[0] * 1e-10].T if s.size and s[0] > 0 else Z
    k = Y.shape[1]
    scores: dict[float, float] = {}
    best, best_probs = None, None
    for c in sorted(C):
        probs = np.empty((len(X), k))
        for j in range(k):
            y = Y[train, j]
            if y.min() == y.max():
                probs[:, j] = y.mean()
                continue
            lr = LogisticRegression(C=c, max_iter=2000, random_state=seed)
            probs[:, j] = lr.fit(Z[train], y).predict_proba(Z)[:, 1]
        aucs = [
            roc_auc_score(Y[val, j], probs[val, j])
            for j in range(k)
            if 0 < Y[val, j].sum() < val.sum()
        ]
        scores[c] = float(np.mean(aucs)) if aucs else float("nan")
        if best is None or scores[c] > scores[best]:
            best, best_probs = c, probs
    return best_probs, float(best), scores


def run_probe(
    store: FeatureStore,
    split: str,
    name: str,
    folder: str | Path,
    *,
    C: tuple[float, ...] = PROBE_C,
    n_boot: int = 1000,
    seed: int = 42,
) -> dict[str, Any]:
    """Fit and score the linear probe on a mood store's embeddings under one track split.

    Parameters
    ----------
    store : FeatureStore
        A mood (multi-label) feature store with its embedding table and the split.
    split : str
        The split method (``official``: a track split saved in the store).
    name : str
        The embedding table (:func:`ensure_embeddings`).
    folder : str or pathlib.Path
        Where ``probe.json`` and ``probe_predictions.csv`` go (see
        :class:`musiclass.layout.ProbeFiles`).
    C : tuple of float, default=PROBE_C
        The inverse regularisation strengths tried on validation.
    n_boot : int, default=1000
        Bootstrap resamples of the test tracks for the intervals.
    seed : int, default=42
        Seed of the solver and the bootstrap.

    Returns
    -------
    dict
        What ``probe.json`` holds: ``validation`` and ``test`` (as a tagger's ``metrics.json``,
        :func:`musiclass.training.results.evaluate_parts`: test with intervals and chance
        levels, F1 at per-tag thresholds chosen on validation, kept in ``thresholds.json``),
        ``tracks`` per part, ``C`` (chosen), ``validation_roc_auc_macro_by_C``, ``features``,
        ``parameters``, ``seconds``, ``epochs_run`` (None) and ``train_frames``.

    Raises
    ------
    musiclass.errors.MetadataError
        When the embedding table or the split is missing.
    musiclass.errors.ConfigError
        When the split has no training or validation track embedded.
    """
    t0 = time.perf_counter()
    table = read_embeddings(store.path, name)
    index = store.tracks()
    tags = tuple(index.classes)
    truth = pd.DataFrame(
        index.label_matrix(), index=index.tracks["track_id"].astype(str), columns=tags
    )
    part = load_split(store, split).drop_duplicates("track_id").set_index("track_id")["part"]
    table = table[table["track_id"].isin(part.index)].reset_index(drop=True)
    ids = table["track_id"].to_numpy(str)
    parts = part.loc[ids].to_numpy(str)
    X = table.iloc[:, 2:].to_numpy(np.float64)
    Y = truth.loc[ids].to_numpy(np.int64)
    probs, chosen, scores = fit_probe(X, Y, parts, C=C, seed=seed)

    folder = Path(folder)
    val, test = parts == "validation", parts == "test"
    # as every tagger: thresholds chosen on validation (thresholds.json), intervals on test
    results = evaluate_parts(
        {
            p: (pd.DataFrame({"track_id": ids[rows]}), probs[rows], Y[rows])
            for p, rows in (("validation", val), ("test", test))
        },
        tags,
        True,
        seed=seed,
        n_boot=n_boot,
        model_dir=ModelDir(folder),
    )
    shown = val | test
    write_csv_atomic(
        pd.concat(
            [
                pd.DataFrame({"track_id": ids[shown], "part": parts[shown]}),
                pd.DataFrame(probs[shown], columns=list(tags)),
            ],
            axis=1,
        ),
        folder / ProbeFiles.PREDICTIONS,
        float_format="%.6g",
    )
    summary = {
        **results,
        "tracks": {p: int((parts == p).sum()) for p in ("train", "validation", "test")},
        "C": chosen,
        "validation_roc_auc_macro_by_C": {str(c): s for c, s in scores.items()},
        "features": name,
        "parameters": int((X.shape[1] + 1) * len(tags)),
        "train_frames": int((parts == "train").sum()),
        "epochs_run": None,
        "seconds": time.perf_counter() - t0,
    }
    write_json_atomic(folder / ProbeFiles.SUMMARY, summary)  # last: marks the folder complete
    return summary
