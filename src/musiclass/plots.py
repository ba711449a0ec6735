"""Figures for reports and the README: inputs, confusion matrices, ROC curves, training curves, results.

Every function takes plain arrays / DataFrames, builds a :class:`matplotlib.figure.Figure` and
returns it; with ``out=`` it also saves it atomically (PNG by default, ``dpi`` 120, tight bounding
box; the format follows ``out``'s suffix). Figures are made with ``Figure(...)`` directly, never
through :mod:`matplotlib.pyplot`: nothing is registered with pyplot, no backend is switched (a
notebook keeps its inline backend and still displays the returned figure), there is nothing to
close, and saving works headless (Agg renders PNGs). Styling is applied through a local
``rc_context``, so the caller's rcParams are untouched.

Needs the ``plots`` extra (matplotlib, seaborn); librosa, already a dependency, draws spectrograms.

=================================  ========================================================
:func:`representation_grid`         the study's Figure 1: one row per genre, one column per input
:func:`examples_from_store`         picks one frame per class from a feature store for it
:func:`confusion_matrix`            heatmap, true rows x predicted columns, recall or counts
:func:`roc_curves`                  one-vs-rest ROC per class, AUC in the legend, macro AUC in the title
:func:`training_curves`             loss and accuracy, train vs validation, best epoch, learning rate
:func:`training_curves_grid`        one small validation panel per run
:func:`results_table`               the results as a figure in the study's Table 4 layout
:func:`format_results`              the same cells as a wide DataFrame ("0.866 [0.820, 0.900]")
:func:`results_markdown`            the same cells as a GitHub markdown table
:func:`leak_markdown`               the three-way leak table (frame, song, artist split) as markdown
:func:`seed_markdown`               the spread across training seeds as markdown, with its verdict
:func:`interval_plot`               forest plot of one metric, point + interval per split
:func:`per_class_bars`              grouped bars of a per-class metric
:func:`tag_frequencies`             tracks (or frames) per tag, one panel per group of tracks
:func:`resampled_counts`            frames per tag of the up- and downsampled sets vs the base
:func:`cooccurrence`                tag co-occurrence heatmap, counts or P(column | row)
:func:`per_tag_auc`                 per-tag ROC-AUC / PR-AUC bars, chance level, support
=================================  ========================================================
"""

from __future__ import annotations

import functools
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from .config import FrontendConfig
from .features.store import FeatureStore
from .utils import atomic_path

__all__ = [
    "representation_grid",
    "examples_from_store",
    "confusion_matrix",
    "roc_curves",
    "training_curves",
    "training_curves_grid",
    "results_table",
    "format_results",
    "results_markdown",
    "leak_markdown",
    "seed_markdown",
    "interval_plot",
    "per_class_bars",
    "tag_frequencies",
    "resampled_counts",
    "cooccurrence",
    "per_tag_auc",
    "save_figure",
    "METRIC_LABELS",
    "INTERVAL_COLUMNS",
]

DPI = 120
#: fonts sized for a figure shown about 1000 px wide on GitHub
STYLE = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 8.5,
    "legend.title_fontsize": 9,
    "figure.titlesize": 13,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "savefig.dpi": DPI,
}
DASH = "\u2013"  # en dash: a missing value

#: display names of metrics (tables, axis labels)
METRIC_LABELS = {
    "accuracy": "accuracy",
    "frame_accuracy": "frame accuracy",
    "roc_auc_macro": "ROC-AUC (macro)",
    "pr_auc_macro": "PR-AUC (macro)",
    "roc_auc_micro": "ROC-AUC (micro)",
    "pr_auc_micro": "PR-AUC (micro)",
    "f1_macro": "F1 (macro)",
    "roc_auc": "ROC-AUC",
    "balanced_accuracy": "balanced accuracy",
    "pr_auc": "PR-AUC",
    "recall": "recall",
    "precision": "precision",
    "f1": "F1",
}
#: interval columns of each metric in a results table; other metrics use ``<metric>_low/_high``
INTERVAL_COLUMNS = {
    "accuracy": ("accuracy_low", "accuracy_high"),
    "f1_macro": ("f1_low", "f1_high"),
    "roc_auc": ("roc_auc_low", "roc_auc_high"),
}
DEFAULT_METRICS = ("accuracy", "f1_macro", "roc_auc")
#: column order of :func:`representation_grid` (the study's Figure 1)
REPRESENTATION_ORDER = ("mel", "spectrogram", "mfcc")


# ---------------------------------------------------------------------------------------- helpers
def _styled(func):
    """Run ``func`` under the module's style, without touching the caller's rcParams."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with mpl.rc_context(STYLE):
            return func(*args, **kwargs)

    return wrapper


def save_figure(fig: Figure, out: str | os.PathLike, dpi: int = DPI) -> Path:
    """Save ``fig`` to ``out`` atomically (a reader never sees half a file); format from the suffix.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure; saved with a tight bounding box on white.
    out : str or os.PathLike
        The file; its suffix gives the format (PNG without one).
    dpi : int, default=120
        Resolution (:data:`DPI`).

    Returns
    -------
    pathlib.Path
        ``out``.
    """
    out = Path(out)
    fmt = out.suffix.lstrip(".").lower() or "png"
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight", facecolor="white")
    return out


def _finish(fig: Figure, out, dpi: int) -> Figure:
    # Tick labels are created lazily at draw time, possibly outside our rc_context (a notebook
    # drawing the returned figure): fix their size now so every rendering looks the same.
    for ax in fig.axes:
        ax.tick_params(labelsize=STYLE["xtick.labelsize"])
    if out is not None:
        save_figure(fig, out, dpi)
    return fig


def _metric_label(metric: str) -> str:
    return METRIC_LABELS.get(metric, metric)


def _interval_columns(metric: str, columns: Iterable[str]) -> tuple[str | None, str | None]:
    columns = set(columns)
    candidates = [INTERVAL_COLUMNS.get(metric), (f"{metric}_low", f"{metric}_high")]
    for pair in candidates:
        if pair and pair[0] in columns and pair[1] in columns:
            return pair
    return None, None


def _slant_xticks(ax, angle: float) -> None:
    """Slanted x tick labels anchored at their right end (long names stay under their column);
    upright y tick labels."""
    ax.tick_params(axis="x", labelrotation=angle)
    for t in ax.get_xticklabels():
        t.set_ha("right")
        t.set_rotation_mode("anchor")
    ax.tick_params(axis="y", labelrotation=0)


def _is_missing(x) -> bool:
    return x is None or (isinstance(x, (float, np.floating)) and math.isnan(x)) or x is pd.NA


# ---------------------------------------------------------------------------------- 1. Figure 1
def examples_from_store(
    store,
    representations: Sequence[str] = REPRESENTATION_ORDER,
    per_class: int = 1,
    seed: int = 0,
    *,
    return_index: bool = False,
):
    """Pick one frame of one track per class (``per_class`` tracks each), deterministic given ``seed``.

    Tracks are drawn per class with ``numpy.random.default_rng([seed, class_number])``; of each
    drawn track the middle complete frame (``fill == 1``, any frame if none is complete) is taken.
    Representations the store lacks are skipped; classes without frames are left out.

    Parameters
    ----------
    store : musiclass.features.store.FeatureStore or str or os.PathLike
        A feature store or its folder.
    representations : sequence of str, default=("mel", "spectrogram", "mfcc")
        The representations to take (:data:`REPRESENTATION_ORDER`).
    per_class : int, default=1
        Tracks per class.
    seed : int, default=0
        Seed of the draw.
    return_index : bool, default=False
        Whether to also return the chosen rows of ``store.index``.

    Returns
    -------
    examples : dict
        ``{class: {representation: (bins, columns) array}}`` (keys ``"class (2)"``... when
        ``per_class > 1``), in class order: the input of :func:`representation_grid`.
    index : pandas.DataFrame
        Only with ``return_index=True``: the chosen rows of ``store.index`` (plus a ``key``
        column), to say which track and time each example shows.

    Raises
    ------
    ValueError
        If ``per_class`` is less than 1.
    KeyError
        If the store has none of the ``representations``.
    """

    if not isinstance(store, FeatureStore):
        store = FeatureStore(store)
    if per_class < 1:
        raise ValueError("per_class must be at least 1")
    reps = [r for r in representations if r in store.representations]
    if not reps:
        raise KeyError(
            f"none of {tuple(representations)} in this store; it has {store.representations}"
        )
    index = store.index
    labels = index["label"].astype(str)
    examples: dict[str, dict[str, np.ndarray]] = {}
    chosen = []
    for ci, cls in enumerate(store.classes):
        mask = labels.map(lambda v, c=cls: c in v.split("|")) if store.multilabel else labels == cls
        rows = index[mask.to_numpy()]
        if rows.empty:
            continue
        tracks = pd.unique(rows["track_id"])
        rng = np.random.default_rng([seed, ci])
        picks = rng.choice(len(tracks), size=min(per_class, len(tracks)), replace=False)
        for k, track in enumerate(tracks[picks]):
            frames = rows[rows["track_id"] == track]
            full = frames[frames["fill"] >= 1.0]
            frames = full if len(full) else frames
            row = frames.iloc[len(frames) // 2]
            key = cls if per_class == 1 else f"{cls} ({k + 1})"
            examples[key] = {r: np.asarray(store.array(r)[int(row["row"])]) for r in reps}
            chosen.append({"key": key, **row.to_dict()})
    if return_index:
        return examples, pd.DataFrame(chosen)
    return examples


_REP_TITLES = {
    "mel": "mel spectrogram",
    "spectrogram": "spectrogram (log frequency)",
    "mfcc": "MFCC",
}


@_styled
def representation_grid(
    examples: Mapping[str, Mapping[str, np.ndarray]],
    config=None,
    out=None,
    *,
    title: str | None = None,
    row_labels: Mapping[str, str] | None = None,
    dpi: int = DPI,
) -> Figure:
    """Draw the study's Figure 1: one row per genre (``examples``' order), one column per representation.

    Columns come in the order mel, spectrogram, mfcc (those present), then any other
    representation. Each column shares one colour scale and one colour bar.

    Parameters
    ----------
    examples : mapping of str to mapping of str to numpy.ndarray
        ``examples[genre][rep]`` is a 2-D ``(bins, columns)`` array: mel and spectrogram in dB
        (drawn on a mel and a log-Hz axis), MFCC in its own units (coefficient index on the y
        axis); see :func:`examples_from_store`.
    config : musiclass.config.FrontendConfig or dict, optional
        Gives sample rate, hop, n_fft, fmin and fmax for the axes (None: the defaults).
    out : str or os.PathLike, optional
        Where to save the figure (atomically; the format follows the suffix); default: not saved.
    title : str, optional
        The figure's title (default: "Input representations: one <frame length> s frame per
        genre").
    row_labels : mapping of str to str, optional
        May replace a row's label (e.g. add the track id).
    dpi : int, default=120
        Resolution of the saved figure (:data:`DPI`).

    Returns
    -------
    matplotlib.figure.Figure
        The figure.

    Raises
    ------
    ValueError
        If ``examples`` is empty or an example is not 2-D.
    """
    import librosa.display

    if config is None:
        config = FrontendConfig()
    elif isinstance(config, Mapping):
        config = FrontendConfig.from_dict(dict(config))
    if not examples:
        raise ValueError("representation_grid: no examples")
    present = {r for reps in examples.values() for r in reps}
    columns = [r for r in REPRESENTATION_ORDER if r in present] + sorted(
        present - set(REPRESENTATION_ORDER)
    )
    for genre, reps in examples.items():
        for r, a in reps.items():
            if np.ndim(a) != 2:
                raise ValueError(
                    f"examples[{genre!r}][{r!r}] has shape {np.shape(a)}; expected (bins, columns)"
                )
    sr, hop = config.sample_rate, config.hop_length
    fmax = config.fmax if config.fmax is not None else sr / 2

    # one colour scale per column, so that its colour bar is true for every row
    scales = {}
    for r in columns:
        values = np.concatenate(
            [
                np.asarray(reps[r], dtype=np.float64).ravel()
                for reps in examples.values()
                if r in reps
            ]
        )
        values = values[np.isfinite(values)]
        if r == "mfcc":
            # c0 (overall level) is far below the rest: scale on the other coefficients, symmetric
            # about 0, and let c0 saturate; otherwise every other coefficient looks flat
            rest = np.concatenate(
                [
                    np.asarray(reps[r], dtype=np.float64)[1:].ravel()
                    for reps in examples.values()
                    if r in reps
                ]
            )
            rest = rest[np.isfinite(rest)]
            base = rest if rest.size else values
            v = float(np.percentile(np.abs(base), 99)) if base.size else 1.0
            scales[r] = (-v, v, "coolwarm")
        else:
            scales[r] = (
                float(values.min()) if values.size else -80.0,
                float(values.max()) if values.size else 0.0,
                "magma",
            )

    nrows, ncols = len(examples), len(columns)
    fig = Figure(figsize=(3.4 * ncols + 1.0, 1.45 * nrows + 1.6), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    meshes: dict[str, Any] = {}
    last_row = {r: max(i for i, reps in enumerate(examples.values()) if r in reps) for r in columns}
    n_cols_frame = 0
    for i, (genre, reps) in enumerate(examples.items()):
        for j, r in enumerate(columns):
            ax = axes[i, j]
            if r not in reps:
                ax.set_axis_off()
                ax.text(
                    0.5, 0.5, "n/a", ha="center", va="center", transform=ax.transAxes, color="grey"
                )
                continue
            data = np.asarray(reps[r])
            n_cols_frame = max(n_cols_frame, data.shape[1])
            vmin, vmax, cmap = scales[r]
            common = dict(
                x_axis="time", sr=sr, hop_length=hop, ax=ax, vmin=vmin, vmax=vmax, cmap=cmap
            )
            if r == "mel":
                mesh = librosa.display.specshow(
                    data, y_axis="mel", fmin=config.fmin, fmax=fmax, **common
                )
                ax.set_ylabel("Hz")
            elif r == "spectrogram":
                mesh = librosa.display.specshow(data, y_axis="log", n_fft=config.n_fft, **common)
                ax.set_ylabel("Hz")
            else:
                mesh = librosa.display.specshow(data, **common)
                n = data.shape[0]
                step = 5 if n > 10 else 1
                ticks = np.arange(0, n, step)
                ax.set_yticks(ticks + 0.5, [str(t) for t in ticks])  # bin i spans [i, i + 1)
                ax.set_ylabel("coefficient" if r == "mfcc" else "bin")
            meshes.setdefault(r, mesh)
            if i == 0:
                ax.set_title(_REP_TITLES.get(r, r), fontweight="bold")
            if i == last_row[r]:  # the lowest panel of the column carries the time axis
                ax.set_xlabel("time (s)")
            else:
                ax.set_xlabel("")
                ax.tick_params(labelbottom=False)
        label = (row_labels or {}).get(genre, genre)
        axes[i, 0].annotate(
            label,
            xy=(0, 0.5),
            xycoords=axes[i, 0].yaxis.label,
            xytext=(-6, 0),
            textcoords="offset points",
            ha="right",
            va="center",
            fontsize=11,
            fontweight="bold",
        )
    for j, r in enumerate(columns):
        if r in meshes:
            unit = (
                "dB (re frame max)"
                if r in ("mel", "spectrogram")
                else ("MFCC value (DCT of dB; c0 saturates)" if r == "mfcc" else "value")
            )
            cb = fig.colorbar(
                meshes[r],
                ax=axes[:, j].tolist(),
                location="bottom",
                shrink=0.85,
                aspect=25,
                pad=0.01,
                format="%+.0f" if r != "mfcc" else None,
            )
            cb.set_label(unit)
    if title is None:
        seconds = (n_cols_frame - 1) * hop / sr if n_cols_frame else 0.0
        title = f"Input representations: one {seconds:.1f} s frame per genre"
    fig.suptitle(title, fontweight="bold")
    return _finish(fig, out, dpi)


# ------------------------------------------------------------------------- 2. confusion matrix
def row_normalised(matrix: np.ndarray) -> np.ndarray:
    """Divide each row of a confusion matrix by its sum.

    Parameters
    ----------
    matrix : numpy.ndarray, shape (n_classes, n_classes)
        Counts, true classes as rows.

    Returns
    -------
    numpy.ndarray, shape (n_classes, n_classes)
        Each row as fractions of its true class (the diagonal is each class's recall); NaN for a
        class with no true example.
    """
    values = np.asarray(matrix, dtype=np.float64)
    sums = values.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(sums > 0, values / np.where(sums > 0, sums, 1), np.nan)


@_styled
def confusion_matrix(
    confusion,
    *,
    normalize: bool = True,
    title: str | None = None,
    out=None,
    noun: str = "genre",
    cmap: str = "Blues",
    dpi: int = DPI,
) -> Figure:
    """Heatmap of a confusion matrix: true classes as rows, predicted as columns.

    ``confusion`` is a DataFrame of counts (index = true class, columns = predicted class, in the
    order to show; a square array is accepted too). With ``normalize`` each row is divided by its
    sum (the diagonal is then each class's recall) and cells are annotated with 2 decimals;
    otherwise the counts are shown. Axis labels read "true <noun>" / "predicted <noun>". The default
    title gives the accuracy when the input holds counts.

    Parameters
    ----------
    confusion : pandas.DataFrame or array-like of shape (n_classes, n_classes)
        Counts, true classes as rows (e.g. :func:`musiclass.registry.track_confusion`).
    normalize : bool, default=True
        Whether to show each row as fractions of its sum (recall) instead of the counts.
    title : str, optional
        The title (default: what is shown and, for counts, the accuracy).
    out : str or os.PathLike, optional
        Where to save the figure (atomically; the format follows the suffix); default: not saved.
    noun : str, default="genre"
        What the classes are, for the axis labels.
    cmap : str, default="Blues"
        The colour map.
    dpi : int, default=120
        Resolution of the saved figure (:data:`DPI`).

    Returns
    -------
    matplotlib.figure.Figure
        The figure.

    Raises
    ------
    ValueError
        If the matrix is not square.
    """
    import seaborn as sns

    cm = confusion if isinstance(confusion, pd.DataFrame) else pd.DataFrame(np.asarray(confusion))
    values = cm.to_numpy(dtype=np.float64)
    if values.ndim != 2 or values.shape[0] != values.shape[1]:
        raise ValueError(f"confusion matrix must be square, got shape {values.shape}")
    counts = np.all(np.isfinite(values)) and np.allclose(values, np.round(values))
    if normalize:
        shown = row_normalised(values)
        fmt, cbar_label, vmin, vmax = ".2f", "recall (fraction of the true row)", 0.0, 1.0
    else:
        shown = values
        fmt = "d" if counts else ".3g"
        cbar_label, vmin, vmax = ("count" if counts else "value"), 0.0, None
        if counts:
            shown = values.astype(np.int64)
    data = pd.DataFrame(
        shown, index=[str(i) for i in cm.index], columns=[str(c) for c in cm.columns]
    )
    n = len(data)
    side = max(4.5, 0.62 * n + 2.6)
    fig = Figure(figsize=(side + 1.2, side), layout="constrained")
    ax = fig.subplots()
    sns.heatmap(
        data,
        ax=ax,
        annot=n <= 25,
        fmt=fmt,
        cmap=cmap,
        vmin=vmin,
        vmax=vmax,
        square=True,
        linewidths=0.5,
        linecolor="white",
        cbar_kws={"label": cbar_label, "shrink": 0.8},
        annot_kws={"fontsize": 9 if n <= 12 else 7},
    )
    ax.set_xlabel(f"predicted {noun}")
    ax.set_ylabel(f"true {noun}")
    _slant_xticks(ax, 45)
    if title is None:
        title = "Confusion matrix" + (" (row-normalised: recall)" if normalize else " (counts)")
        total = values.sum()
        if counts and total > 0:
            title += f"\naccuracy {np.trace(values) / total:.3f} on {int(total)} examples"
    ax.set_title(title)
    return _finish(fig, out, dpi)


# ------------------------------------------------------------------------------ 3. ROC curves
@_styled
def roc_curves(
    y_true, probs, classes: Sequence[str], *, title: str | None = None, out=None, dpi: int = DPI
) -> Figure:
    """One-vs-rest ROC curve per class (:func:`sklearn.metrics.roc_curve`), AUC in the legend.

    ``y_true`` holds class numbers (or class names from ``classes``), shape ``(n,)``, or is a
    ``(n, k)`` indicator matrix (multi-label); ``probs`` is ``(n, k)``. A class whose column has no
    positive or no negative example has no curve (marked "undefined" in the legend) and is left
    out of the macro average, which is given in the title.

    Parameters
    ----------
    y_true : array-like of shape (n,) or (n, k)
        Class numbers or names, or a 0/1 indicator matrix.
    probs : array-like of shape (n, k)
        The scores of each class.
    classes : sequence of str
        The ``k`` class names, in column order.
    title : str, optional
        The first line of the title (default: "ROC curves, one vs rest").
    out : str or os.PathLike, optional
        Where to save the figure (atomically; the format follows the suffix); default: not saved.
    dpi : int, default=120
        Resolution of the saved figure (:data:`DPI`).

    Returns
    -------
    matplotlib.figure.Figure
        The figure.

    Raises
    ------
    ValueError
        If the shapes do not match, or a label is not one of ``classes``.
    """
    from sklearn.metrics import auc, roc_curve

    probs = np.asarray(probs, dtype=np.float64)
    classes = [str(c) for c in classes]
    k = len(classes)
    if probs.ndim != 2 or probs.shape[1] != k:
        raise ValueError(f"probs must be (n, {k}), got {probs.shape}")
    y = np.asarray(y_true)
    if y.ndim == 2:
        if y.shape != probs.shape:
            raise ValueError(f"indicator y_true has shape {y.shape}, probs {probs.shape}")
        indicator = y.astype(bool)
    else:
        if len(y) != len(probs):
            raise ValueError(f"{len(y)} labels for {len(probs)} probability rows")
        if y.dtype.kind not in "iu":
            lookup = {c: i for i, c in enumerate(classes)}
            try:
                y = np.array([lookup[str(v)] for v in y], dtype=np.int64)
            except KeyError as exc:
                raise ValueError(f"label {exc.args[0]!r} not in classes") from None
        indicator = y[:, None] == np.arange(k)[None, :]

    fig = Figure(figsize=(7.8, 6.4), layout="constrained")
    ax = fig.subplots()
    colors = mpl.colormaps["tab10" if k <= 10 else "tab20"]
    aucs = []
    for i, cls in enumerate(classes):
        pos = indicator[:, i]
        if pos.all() or not pos.any():
            ax.plot([], [], color=colors(i % colors.N), label=f"{cls} (AUC undefined)")
            continue
        fpr, tpr, _ = roc_curve(pos, probs[:, i])
        a = float(auc(fpr, tpr))
        aucs.append(a)
        ax.plot(fpr, tpr, color=colors(i % colors.N), lw=1.6, label=f"{cls} (AUC {a:.3f})")
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="chance (AUC 0.5)")
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.set_aspect("equal")
    ax.set_xlabel("false positive rate (1 \u2212 specificity)")
    ax.set_ylabel("true positive rate (recall)")
    ax.grid(alpha=0.3)
    ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False, title="one vs rest")
    macro = float(np.mean(aucs)) if aucs else float("nan")
    ax.set_title(f"{title or 'ROC curves, one vs rest'}\nmacro-average AUC {macro:.3f}")
    return _finish(fig, out, dpi)


# ------------------------------------------------------------------------- 4. training curves
def _epochs(history: pd.DataFrame) -> np.ndarray:
    return (
        history["epoch"].to_numpy()
        if "epoch" in history.columns
        else np.arange(1, len(history) + 1)
    )


def _best_position(history: pd.DataFrame) -> int | None:
    """Position (not label) of the best epoch: min val_loss (min loss without validation)."""
    for col in ("val_loss", "loss"):
        if col in history.columns and history[col].notna().any():
            return int(np.nanargmin(history[col].to_numpy(dtype=np.float64)))
    return None


@_styled
def training_curves(
    history: pd.DataFrame, *, title: str | None = None, out=None, dpi: int = DPI
) -> Figure:
    """Loss and accuracy per epoch, train vs validation, best epoch (min ``val_loss``) marked.

    ``history`` has columns ``epoch, loss, val_loss, accuracy, val_accuracy`` (any of the validation
    or accuracy columns may be missing) and optionally ``learning_rate``, drawn as a step line on
    a secondary log axis of the loss panel. Two panels (one without accuracy columns).

    Parameters
    ----------
    history : pandas.DataFrame
        One row per epoch (a model directory's ``history.csv``).
    title : str, optional
        The title (default: "Training curves").
    out : str or os.PathLike, optional
        Where to save the figure (atomically; the format follows the suffix); default: not saved.
    dpi : int, default=120
        Resolution of the saved figure (:data:`DPI`).

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    history = history.reset_index(drop=True)
    epochs = _epochs(history)
    best = _best_position(history)
    has_acc = any(c in history.columns for c in ("accuracy", "val_accuracy"))
    panels = [("loss", "loss")] + ([("accuracy", "accuracy (fraction)")] if has_acc else [])
    fig = Figure(figsize=(5.3 * len(panels) + 0.8, 4.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(panels)))
    for ax, (metric, ylabel) in zip(axes, panels):
        handles = []
        for col, name, style in ((metric, "train", "-"), (f"val_{metric}", "validation", "-")):
            if col in history.columns:
                color = "C0" if name == "train" else "C1"
                handles += ax.plot(
                    epochs, history[col], style, color=color, marker="o", ms=3.5, lw=1.6, label=name
                )
        if best is not None:
            e = epochs[best]
            ax.axvline(e, color="grey", ls=":", lw=1)
            col = f"val_{metric}" if f"val_{metric}" in history.columns else metric
            if col in history.columns:
                v = history[col].iloc[best]
                handles += ax.plot(
                    [e],
                    [v],
                    ls="none",
                    marker="*",
                    ms=15,
                    color="C3",
                    zorder=5,
                    markeredgecolor="black",
                    markeredgewidth=0.6,
                    label=f"best epoch {e} (min val_loss): {v:.3f}",
                )
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.set_title(metric)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        if (
            metric == "loss"
            and "learning_rate" in history.columns
            and history["learning_rate"].notna().any()
        ):
            ax.spines["right"].set_visible(True)
            lr_ax = ax.twinx()
            handles += lr_ax.step(
                epochs,
                history["learning_rate"],
                where="post",
                color="C2",
                ls="--",
                lw=1.2,
                label="learning rate",
            )
            lr_ax.set_yscale("log")
            lr_ax.set_ylabel("learning rate (log scale)", color="C2")
            lr_ax.tick_params(axis="y", colors="C2", which="both")
        ax.legend(
            handles=handles, labels=[h.get_label() for h in handles], loc="best", framealpha=0.85
        )
    fig.suptitle(title or "Training curves", fontweight="bold")
    return _finish(fig, out, dpi)


@_styled
def training_curves_grid(
    histories: Mapping[str, pd.DataFrame],
    out=None,
    *,
    ncols: int | None = None,
    title: str | None = None,
    dpi: int = DPI,
) -> Figure:
    """One small panel per run: validation accuracy (left axis) and validation loss (right axis).

    The best epoch (min ``val_loss``) is a dotted vertical line; the panel title gives it and its
    validation accuracy. Runs without validation columns fall back to the training ones.

    Parameters
    ----------
    histories : mapping of str to pandas.DataFrame
        Run name (the panel's title) to its history, as for :func:`training_curves`.
    out : str or os.PathLike, optional
        Where to save the figure (atomically; the format follows the suffix); default: not saved.
    ncols : int, optional
        Panels per row (default: up to 3).
    title : str, optional
        The title (default: "Validation curves per run").
    dpi : int, default=120
        Resolution of the saved figure (:data:`DPI`).

    Returns
    -------
    matplotlib.figure.Figure
        The figure.

    Raises
    ------
    ValueError
        If ``histories`` is empty.
    """
    if not histories:
        raise ValueError("training_curves_grid: no histories")
    n = len(histories)
    ncols = ncols or min(n, 3)
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(4.0 * ncols + 0.6, 3.0 * nrows + 0.9), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[n:]:
        fig.delaxes(ax)
    handles = {}
    for ax, (name, h) in zip(axes, histories.items()):
        h = h.reset_index(drop=True)
        epochs = _epochs(h)
        best = _best_position(h)
        acc_col = next((c for c in ("val_accuracy", "accuracy") if c in h.columns), None)
        loss_col = next((c for c in ("val_loss", "loss") if c in h.columns), None)
        subtitle = name
        if acc_col:
            (line,) = ax.plot(
                epochs,
                h[acc_col],
                color="C0",
                marker="o",
                ms=2.5,
                lw=1.5,
                label="validation accuracy" if acc_col == "val_accuracy" else "accuracy",
            )
            handles.setdefault(line.get_label(), line)
            ax.set_ylabel("accuracy", color="C0")
            ax.tick_params(axis="y", colors="C0")
        if loss_col:
            lax = ax.twinx()
            (line,) = lax.plot(
                epochs,
                h[loss_col],
                color="C1",
                marker="s",
                ms=2.5,
                lw=1.2,
                ls="--",
                label="validation loss" if loss_col == "val_loss" else "loss",
            )
            handles.setdefault(line.get_label(), line)
            lax.set_ylabel("loss", color="C1")
            lax.tick_params(axis="y", colors="C1")
            lax.spines["right"].set_visible(True)
        if best is not None:
            e = epochs[best]
            line = ax.axvline(e, color="grey", ls=":", lw=1.2, label="best epoch (min val_loss)")
            handles.setdefault(line.get_label(), line)
            subtitle += f"\nbest epoch {e}" + (
                f", val acc {h[acc_col].iloc[best]:.3f}" if acc_col else ""
            )
        ax.set_title(subtitle, fontsize=10)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    fig.legend(
        list(handles.values()),
        list(handles.keys()),
        loc="outside lower center",
        ncols=len(handles),
        frameon=False,
    )
    fig.suptitle(title or "Validation curves per run", fontweight="bold")
    return _finish(fig, out, dpi)


# --------------------------------------------------------------------------- 5. results tables
def _format_cell(value, low, high, digits: int, chance=None, signed: bool = False) -> str:
    if _is_missing(value):
        return DASH
    spec = f"+.{digits}f" if signed else f".{digits}f"
    text = f"{float(value):{spec}}"
    if not _is_missing(low) and not _is_missing(high):
        text += f" [{float(low):{spec}}, {float(high):{spec}}]"
    if not _is_missing(chance):
        text += f" {CHANCE_MARK} {float(chance):.{digits}f}"
    return text


#: what precedes a cell's chance level: the metric of the same model with its test predictions
#: shuffled over the test tracks (the permutation mean, :func:`musiclass.evaluation.chance_levels`)
CHANCE_MARK = "chance"


def _results_layout(df: pd.DataFrame, metrics):
    if "model" not in df.columns:
        raise ValueError("results table needs a 'model' column")
    df = df.copy()
    if "split" not in df.columns:
        df["split"] = ""
    df["model"] = df["model"].astype(str)
    df["split"] = df["split"].fillna("").astype(str)
    dup = df.duplicated(["model", "split"])
    if dup.any():
        first = df.loc[dup, ["model", "split"]].iloc[0].tolist()
        raise ValueError(f"more than one row for model/split {first}")
    if metrics is None:
        metrics = [m for m in DEFAULT_METRICS if m in df.columns]
    else:
        metrics = list(metrics)
        missing = [m for m in metrics if m not in df.columns]
        if missing:
            raise ValueError(f"results table lacks metric column(s) {missing}")
    if not metrics:
        raise ValueError(f"results table has none of the metric columns {DEFAULT_METRICS}")
    return df, list(pd.unique(df["model"])), list(pd.unique(df["split"])), metrics


def format_results(
    df: pd.DataFrame, *, metrics: Sequence[str] | None = None, digits: int = 3
) -> pd.DataFrame:
    """Format the results as strings, one row per model (``df`` order), columns ``(split, metric)``.

    ``df`` has one row per model and split (protocol label; the column may be absent), metric
    columns (default: those of accuracy, f1_macro, roc_auc present) and optionally their interval
    columns (``accuracy_low/high``, ``f1_low/high``, ``roc_auc_low/high``, else ``<metric>_low/high``).
    A cell reads ``"0.866 [0.820, 0.900]"``, ``"0.866"`` without an interval, ``"–"`` when the value is
    NaN or the model was not run on that split; with a ``<metric>_chance`` column (the permutation
    chance level on the same test truth) the cell ends with ``"chance 0.104"``.

    Parameters
    ----------
    df : pandas.DataFrame
        The results (e.g. :func:`musiclass.registry.results_for_display`).
    metrics : sequence of str, optional
        The metric columns (default: those of accuracy, f1_macro, roc_auc present).
    digits : int, default=3
        Decimals shown.

    Returns
    -------
    pandas.DataFrame
        The cells, index ``model``, columns a ``(split, metric)`` MultiIndex.

    Raises
    ------
    ValueError
        If ``df`` has no ``model`` column, more than one row for a model and split, or lacks a
        metric column asked for (or, by default, has none of accuracy, f1_macro, roc_auc).
    """
    df, models, splits, metrics = _results_layout(df, metrics)
    bounds = {m: _interval_columns(m, df.columns) for m in metrics}
    cols = pd.MultiIndex.from_product([splits, metrics], names=["split", "metric"])
    table = pd.DataFrame(DASH, index=pd.Index(models, name="model"), columns=cols, dtype=object)
    for _, row in df.iterrows():
        for m in metrics:
            lo, hi = bounds[m]
            table.loc[row["model"], (row["split"], m)] = _format_cell(
                row[m],
                row[lo] if lo else None,
                row[hi] if hi else None,
                digits,
                row.get(f"{m}_chance"),
            )
    return table


def _flat_headers(table: pd.DataFrame) -> list[str]:
    out = []
    for split, metric in table.columns:
        label = _metric_label(metric)
        out.append(f"{split}: {label}" if split else label)
    return out


def results_markdown(
    df: pd.DataFrame, *, metrics: Sequence[str] | None = None, digits: int = 3
) -> str:
    """Write the :func:`format_results` table as GitHub markdown: 2 header lines, then one line per model.

    Parameters
    ----------
    df : pandas.DataFrame
        The results, as for :func:`format_results`.
    metrics : sequence of str, optional
        The metric columns (default: those of accuracy, f1_macro, roc_auc present).
    digits : int, default=3
        Decimals shown.

    Returns
    -------
    str
        The table, ending with a newline; headers read ``<split>: <metric>``.

    Raises
    ------
    ValueError
        If ``df`` has no ``model`` column, more than one row for a model and split, or lacks a
        metric column asked for (or, by default, has none of accuracy, f1_macro, roc_auc).
    """
    table = format_results(df, metrics=metrics, digits=digits)
    rows = [[model, *row.tolist()] for model, row in table.iterrows()]
    return _markdown(["model", *_flat_headers(table)], rows)


def _markdown(header: Sequence[str], rows: Iterable[Sequence], *, left: int = 1) -> str:
    """A GitHub markdown table: the first ``left`` columns left-aligned, the others right-aligned."""

    def esc(s) -> str:  # a closure, not API; numpydoc ignore=GL08
        return str(s).replace("|", "\\|")

    lines = [
        "| " + " | ".join(esc(h) for h in header) + " |",
        "| " + " | ".join([":---"] * left + ["---:"] * (len(header) - left)) + " |",
    ]
    lines += ["| " + " | ".join(esc(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


#: the differences of :func:`musiclass.registry.leak_table`, in table order
LEAKS = ("frame leak", "artist leak", "total leak")


def leak_markdown(table: pd.DataFrame, *, digits: int = 3) -> str:
    """Write :func:`musiclass.registry.leak_table` as GitHub markdown, one line per network.

    Parameters
    ----------
    table : pandas.DataFrame
        The leak table: ``experiment``, ``model``, ``track acc., <split> split`` columns, the
        differences (``frame leak``, ``artist leak``, ``total leak``, any of them) with optional
        ``_low``/``_high`` bounds, and an optional ``note``.
    digits : int, default=3
        Decimals shown.

    Returns
    -------
    str
        The table, ending with a newline: the track accuracy under each split, then each
        difference signed with its interval (``"+0.515 [+0.400, +0.645]"``); a difference left
        out because a model collapsed reads ``"degenerate"`` and the note says under which split.

    Examples
    --------
    >>> t = pd.DataFrame({"experiment": ["exp1"], "model": ["cnn-3-mel"],
    ...                   "track acc., seed-frame split": [0.99], "track acc., artist split": [0.475],
    ...                   "total leak": [0.515], "total leak_low": [0.4], "total leak_high": [0.645]})
    >>> print(leak_markdown(t), end="")
    | network | seed-frame split: track acc. | artist split: track acc. | total leak |
    | :--- | ---: | ---: | ---: |
    | exp1: cnn-3-mel | 0.990 | 0.475 | +0.515 [+0.400, +0.645] |
    """
    accs = [c for c in table.columns if c.startswith("track acc., ")]
    leaks = [c for c in LEAKS if c in table.columns]
    notes = "note" in table.columns and table["note"].notna().any()
    header = ["network"]
    header += [f"{c.removeprefix('track acc., ')}: track acc." for c in accs] + leaks
    header += ["note"] if notes else []
    rows = []
    for r in table.to_dict("records"):
        collapsed = isinstance(r.get("note"), str)
        row = [f"{r['experiment']}: {r['model']}"]
        row += [_format_cell(r.get(c), None, None, digits) for c in accs]
        row += [
            "degenerate"
            if collapsed and _is_missing(r.get(c))
            else _format_cell(r.get(c), r.get(f"{c}_low"), r.get(f"{c}_high"), digits, signed=True)
            for c in leaks
        ]
        row += [r["note"] if collapsed else ""] if notes else []
        rows.append(row)
    return _markdown(header, rows)


def seed_markdown(table: pd.DataFrame, verdict: str, *, metric: str = "accuracy") -> str:
    """Write :func:`musiclass.registry.seed_table` as GitHub markdown, its verdict below.

    Parameters
    ----------
    table : pandas.DataFrame
        The seed table: ``model``, ``split``, ``seeds``, ``metric`` with optional ``_low``/``_high``
        bounds, ``seed mean``, ``seed sd``, ``per seed`` and ``rank per seed``.
    verdict : str
        The ranking sentence :func:`musiclass.registry.seed_table` returns with it.
    metric : str, default="accuracy"
        The metric the table holds.

    Returns
    -------
    str
        The table (the first seed's value with its test-sampling interval, then mean ± sd across
        seeds, each seed's value and rank), a blank line and the verdict; the verdict alone when
        the table is empty.
    """
    if table.empty:
        return verdict + "\n"
    label = _metric_label(metric)
    header = ["model", "split", "seeds", f"{label}, first seed [95 % interval]"]
    header += [f"{label}, mean ± sd over seeds", "per seed", "rank per seed"]
    rows = [
        [
            r["model"],
            r["split"],
            r["seeds"],
            _format_cell(r[metric], r.get(f"{metric}_low"), r.get(f"{metric}_high"), 3),
            f"{r['seed mean']:.3f} ± {r['seed sd']:.3f}",
            r["per seed"],
            r["rank per seed"],
        ]
        for r in table.to_dict("records")
    ]
    return _markdown(header, rows, left=3) + "\n" + verdict + "\n"


@_styled
def results_table(
    df: pd.DataFrame,
    *,
    title: str | None = None,
    out=None,
    metrics: Sequence[str] | None = None,
    digits: int = 3,
    highlight_best: bool = True,
    note: str | None = None,
    dpi: int = DPI,
) -> Figure:
    """Draw the results as a table in the study's Table 4 layout (``note``: a line under the key).

    Rows are models (``df`` order); a column group per split (protocol) holds one column per
    metric; each cell shows the point estimate and, below it, its interval. With
    ``highlight_best`` the highest value of each column is bold. Input as for :func:`format_results`.

    Parameters
    ----------
    df : pandas.DataFrame
        The results, as for :func:`format_results`.
    title : str, optional
        The title (default: none).
    out : str or os.PathLike, optional
        Where to save the figure (atomically; the format follows the suffix); default: not saved.
    metrics : sequence of str, optional
        The metric columns (default: those of accuracy, f1_macro, roc_auc present).
    digits : int, default=3
        Decimals shown.
    highlight_best : bool, default=True
        Whether to set the highest value of each column in bold (with more than one model).
    note : str, optional
        A line written under the key.
    dpi : int, default=120
        Resolution of the saved figure (:data:`DPI`).

    Returns
    -------
    matplotlib.figure.Figure
        The figure.

    Raises
    ------
    ValueError
        If ``df`` has no ``model`` column, more than one row for a model and split, or lacks a
        metric column asked for (or, by default, has none of accuracy, f1_macro, roc_auc).
    """
    df_, models, splits, metrics_ = _results_layout(df, metrics)
    table = format_results(df, metrics=metrics_, digits=digits)
    values = {}
    for _, row in df_.iterrows():
        for m in metrics_:
            values[(row["model"], row["split"], m)] = row[m]
    grouped = len(splits) > 1 or splits[0] != ""

    # geometry in inches; the axes spans the figure with data units = inches, y downwards
    w_model = max(1.4, 0.085 * max(len(m) for m in models) + 0.35)
    w_cell = max(1.45, 0.085 * (2 * digits + 6) + 0.35)
    any_interval = any(" [" in v for v in table.to_numpy().ravel())
    any_chance = any(f" {CHANCE_MARK} " in v for v in table.to_numpy().ravel())
    h_row = (0.52 if any_interval else 0.34) + (0.18 if any_chance else 0.0)
    h_group, h_head, h_title = (0.34 if grouped else 0.0), 0.36, (0.45 if title else 0.1)
    h_note = 0.3 if any_interval else 0.1
    n_cols = len(splits) * len(metrics_)
    width = w_model + n_cols * w_cell + 0.2
    height = h_title + h_group + h_head + len(models) * h_row + h_note
    fig = Figure(figsize=(width, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.set_axis_off()

    x0 = 0.1
    xs = [x0 + w_model + k * w_cell for k in range(n_cols)]  # left edge of each metric column
    right = x0 + w_model + n_cols * w_cell
    y = h_title
    if title:
        ax.text(
            width / 2,
            h_title * 0.45,
            title,
            ha="center",
            va="center",
            fontsize=12,
            fontweight="bold",
        )
    ax.plot([x0, right], [y, y], color="black", lw=1.4)  # top rule
    if grouped:
        for g, split in enumerate(splits):
            left = xs[g * len(metrics_)]
            ax.text(
                left + len(metrics_) * w_cell / 2,
                y + h_group / 2,
                split,
                ha="center",
                va="center",
                fontweight="bold",
            )
            ax.plot(
                [left + 0.08, left + len(metrics_) * w_cell - 0.08],
                [y + h_group - 0.03] * 2,
                color="black",
                lw=0.8,
            )
        y += h_group
    ax.text(x0 + 0.05, y + h_head / 2, "model", ha="left", va="center", fontweight="bold")
    for k, (_split, metric) in enumerate(table.columns):
        ax.text(
            xs[k] + w_cell / 2,
            y + h_head / 2,
            _metric_label(metric),
            ha="center",
            va="center",
            fontweight="bold",
        )
    y += h_head
    ax.plot([x0, right], [y, y], color="black", lw=0.8)

    best = {}
    if highlight_best and len(models) > 1:
        for split, metric in table.columns:
            col = [values.get((m, split, metric)) for m in models]
            col = [np.nan if _is_missing(v) else float(v) for v in col]
            if np.isfinite(col).any():
                best[(split, metric)] = models[int(np.nanargmax(col))]
    for r, model in enumerate(models):
        if r % 2 == 1:
            ax.add_patch(Rectangle((x0, y), right - x0, h_row, color="#f2f2f2", zorder=0, lw=0))
        ax.text(x0 + 0.05, y + h_row / 2, model, ha="left", va="center")
        for k, (split, metric) in enumerate(table.columns):
            text = (
                table.loc[model, (split, metric)]
                .replace(" [", "\n[")
                .replace(f" {CHANCE_MARK} ", f"\n{CHANCE_MARK} ")
            )
            weight = "bold" if best.get((split, metric)) == model else "normal"
            ax.text(
                xs[k] + w_cell / 2,
                y + h_row / 2,
                text,
                ha="center",
                va="center",
                fontweight=weight,
                linespacing=1.15,
                fontsize=9.5,
            )
        y += h_row
    ax.plot([x0, right], [y, y], color="black", lw=1.4)  # bottom rule
    if any_interval:
        ax.text(
            x0,
            y + 0.18,
            "point estimate, below it the interval [low, high]"
            + ("; then the chance level (test predictions permuted)" if any_chance else "")
            + ("; best of each column in bold" if best else ""),
            ha="left",
            va="center",
            fontsize=8,
            color="dimgray",
            style="italic",
        )
    if note:
        ax.text(
            x0,
            y + 0.18 + (0.3 if any_interval else 0),
            note,
            ha="left",
            va="center",
            fontsize=8,
            color="dimgray",
            style="italic",
        )
    return _finish(fig, out, dpi)


# ------------------------------------------------------------------------------ 6. forest plot
@_styled
def interval_plot(
    df: pd.DataFrame,
    metric: str = "accuracy",
    *,
    chance: float | None = None,
    title: str | None = None,
    out=None,
    dpi: int = DPI,
) -> Figure:
    """Draw a forest plot of ``metric``: one row per model (``df`` order, top down).

    Each model has a point and its interval per split, one colour per split. Same input as
    :func:`format_results`.

    Parameters
    ----------
    df : pandas.DataFrame
        The results, as for :func:`format_results`.
    metric : str, default="accuracy"
        The metric drawn; its interval columns are found as in :func:`format_results`.
    chance : float, optional
        Draws a vertical reference line (e.g. 1/k). A ``<metric>_chance`` column (the permutation
        chance level of each model on its own test truth) is drawn as a grey tick on each row.
    title : str, optional
        The title (default: "<metric> per model and split").
    out : str or os.PathLike, optional
        Where to save the figure (atomically; the format follows the suffix); default: not saved.
    dpi : int, default=120
        Resolution of the saved figure (:data:`DPI`).

    Returns
    -------
    matplotlib.figure.Figure
        The figure.

    Raises
    ------
    ValueError
        If ``df`` has no ``model`` column, more than one row for a model and split, or lacks a
        metric column asked for (or, by default, has none of accuracy, f1_macro, roc_auc).
    """
    df, models, splits, _ = _results_layout(df, [metric])
    lo_col, hi_col = _interval_columns(metric, df.columns)
    n_s = len(splits)
    dodge = min(0.22, 0.7 / max(n_s, 1))
    fig = Figure(figsize=(8.0, 0.5 * len(models) + 1.9), layout="constrained")
    ax = fig.subplots()
    ypos = {m: i for i, m in enumerate(models)}
    markers = "osD^vP"
    chance_drawn = False
    for j, split in enumerate(splits):
        sub = df[df["split"] == split]
        sub = sub[sub[metric].notna()]
        if sub.empty:
            continue
        y = np.array([ypos[m] for m in sub["model"]]) + (j - (n_s - 1) / 2) * dodge
        x = sub[metric].to_numpy(dtype=np.float64)
        if lo_col:
            lo = sub[lo_col].to_numpy(dtype=np.float64)
            hi = sub[hi_col].to_numpy(dtype=np.float64)
            err = np.vstack(
                [np.where(np.isfinite(lo), x - lo, 0), np.where(np.isfinite(hi), hi - x, 0)]
            )
        else:
            err = None
        ax.errorbar(
            x,
            y,
            xerr=err,
            fmt=markers[j % len(markers)],
            color=f"C{j}",
            ms=6,
            capsize=3,
            lw=1.5,
            label=split or metric,
        )
        if f"{metric}_chance" in sub:  # each model's own chance level, by permutation
            c = sub[f"{metric}_chance"].to_numpy(dtype=np.float64)
            ok = np.isfinite(c)
            if ok.any():
                ax.scatter(
                    c[ok],
                    y[ok],
                    marker="|",
                    s=140,
                    color="dimgray",
                    zorder=3,
                    label=None if chance_drawn else "chance (permuted)",
                )
                chance_drawn = True
    if chance is not None:
        ax.axvline(chance, color="grey", ls="--", lw=1.2, label=f"chance ({chance:.2f})")
    ax.set_yticks(range(len(models)), models)
    ax.set_ylim(len(models) - 0.5, -0.5)  # first model on top
    ax.set_xlabel(_metric_label(metric) + (" (point and interval)" if lo_col else ""))
    ax.grid(axis="x", alpha=0.3)
    # beside the axes: inside ("best") it covered a model's interval in the published report
    ax.legend(
        title="split" if n_s > 1 or splits[0] else None,
        loc="center left",
        bbox_to_anchor=(1.01, 0.5),
        frameon=False,
    )
    ax.set_title(title or f"{_metric_label(metric)} per model and split")
    return _finish(fig, out, dpi)


# ------------------------------------------------------------------------------ 7. bar chart
@_styled
def per_class_bars(
    per_class, metric: str = "recall", out=None, *, title: str | None = None, dpi: int = DPI
) -> Figure:
    """Draw grouped bars of a per-class metric, one group per class, one bar per model.

    Values in [0, 1] get a 0-1 axis.

    Parameters
    ----------
    per_class : pandas.DataFrame or pandas.Series
        The classes as index and one column per model (or a Series / a single column).
    metric : str, default="recall"
        The metric's name, for the axis and the default title (and the column of a Series
        without a name).
    out : str or os.PathLike, optional
        Where to save the figure (atomically; the format follows the suffix); default: not saved.
    title : str, optional
        The title (default: "Per-class <metric>").
    dpi : int, default=120
        Resolution of the saved figure (:data:`DPI`).

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    data = (
        per_class.to_frame(per_class.name or metric)
        if isinstance(per_class, pd.Series)
        else per_class
    )
    classes = [str(c) for c in data.index]
    n_c, n_m = len(classes), data.shape[1]
    fig = Figure(
        figsize=(min(11.0, max(6.5, 0.42 * n_c * max(n_m, 1.5) + 2.0)), 4.6), layout="constrained"
    )
    ax = fig.subplots()
    width = 0.8 / n_m
    x = np.arange(n_c)
    for j, col in enumerate(data.columns):
        vals = data[col].to_numpy(dtype=np.float64)
        bars = ax.bar(
            x + (j - (n_m - 1) / 2) * width,
            np.nan_to_num(vals),
            width=width * 0.95,
            color=f"C{j % 10}",
            label=str(col),
        )
        if n_m * n_c <= 40:
            ax.bar_label(
                bars,
                labels=["n/a" if np.isnan(v) else f"{v:.2f}" for v in vals],
                fontsize=7,
                padding=1.5,
            )
    ax.set_xticks(x, classes, rotation=30 if n_c > 6 else 0, ha="right" if n_c > 6 else "center")
    ax.set_xlabel("class")
    ax.set_ylabel(_metric_label(metric))
    finite = data.to_numpy(dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if finite.size and finite.min() >= 0 and finite.max() <= 1:
        ax.set_ylim(0, 1.08)
    ax.grid(axis="y", alpha=0.3)
    if n_m > 1:
        ax.legend(title="model", loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    ax.set_title(title or f"Per-class {_metric_label(metric)}")
    return _finish(fig, out, dpi)


# =========================================================================== mood / tagging figures
def _number_label(v: float) -> str:
    if not np.isfinite(v):
        return DASH
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.3g}"


def _tag_order(values: pd.Series, sort: bool) -> list:
    """Tags (the Series' index) by value, largest first, missing last, ties in input order."""
    if not sort:
        return list(values.index)
    v = values.to_numpy(dtype=np.float64)
    key = np.where(np.isfinite(v), -v, np.inf)
    return [values.index[i] for i in np.argsort(key, kind="stable")]


def _counts_frame(counts, what: str) -> pd.DataFrame:
    """``counts`` as a float DataFrame, rows = groups, columns = tags (str)."""
    if isinstance(counts, pd.Series):
        data = counts.to_frame().T
    elif isinstance(counts, pd.DataFrame):
        data = counts.copy()
    else:
        raise TypeError(
            f"{what}: expected a pandas Series or DataFrame, got {type(counts).__name__}"
        )
    if data.shape[0] == 0 or data.shape[1] == 0:
        raise ValueError(f"{what}: no counts (shape {data.shape})")
    try:
        data = data.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what}: counts must be numbers ({exc})") from None
    data.columns = [str(c) for c in data.columns]
    if data.columns.duplicated().any():
        raise ValueError(
            f"{what}: duplicate tag names {sorted(set(data.columns[data.columns.duplicated()]))}"
        )
    return data


@_styled
def tag_frequencies(
    counts,
    *,
    title: str | None = None,
    out=None,
    sort: bool = True,
    log: bool = False,
    unit: str = "tracks",
    dpi: int = DPI,
) -> Figure:
    """Horizontal bars of the number of ``unit`` (tracks, frames) per tag, one tag per row.

    ``counts`` is a Series (tag -> count) or a DataFrame with one row per group (e.g. "before
    curation" / "after curation", or "train" / "validation" / "test") and one column per tag. Each
    group gets its own panel (small multiples sharing the tag axis, each with its own count axis,
    so groups of very different sizes stay readable); a missing count (NaN, e.g. a tag dropped by
    curation) is an empty bar labelled "–". With ``sort`` the tags run from the first group's most
    frequent down (missing last); otherwise in column order. Every bar is labelled with its count;
    ``log`` puts the counts on a log axis. The figure grows with the number of tags (56 stay legible).

    Parameters
    ----------
    counts : pandas.Series or pandas.DataFrame
        Tag -> count, or one row per group and one column per tag.
    title : str, optional
        The title.
    out : str or os.PathLike, optional
        Where to save the figure (atomically; the format follows the suffix); default: not saved.
    sort : bool, default=True
        Whether to sort the tags by the first group's counts.
    log : bool, default=False
        Whether to put the counts on a log axis.
    unit : str, default="tracks"
        What is counted (tracks, frames), for the labels.
    dpi : int, default=120
        Resolution of the saved figure (:data:`DPI`).

    Returns
    -------
    matplotlib.figure.Figure
        The figure.

    Raises
    ------
    TypeError
        If ``counts`` is neither a Series nor a DataFrame.
    ValueError
        If it is empty, holds something other than numbers, or repeats a tag name.
    """
    data = _counts_frame(counts, "tag_frequencies")
    tags = _tag_order(data.iloc[0], sort)
    data = data[tags]
    n_groups, n_tags = data.shape
    named = isinstance(counts, pd.DataFrame) or counts.name is not None
    panel_w = 3.4 if n_groups <= 3 else max(2.4, 10.2 / n_groups)
    label_w = 0.075 * max(len(t) for t in tags) + 0.6
    fig = Figure(
        figsize=(max(6.0, label_w + panel_w * n_groups + 0.3), 0.2 * n_tags + 1.5),
        layout="constrained",
    )
    axes = fig.subplots(1, n_groups, sharey=True, squeeze=False)[0]
    y = np.arange(n_tags)
    for j, (ax, (group, row)) in enumerate(zip(axes, data.iterrows())):
        vals = row.to_numpy(dtype=np.float64)
        bars = ax.barh(y, np.nan_to_num(vals, nan=0.0), height=0.75, color=f"C{j % 10}")
        ax.bar_label(bars, labels=[_number_label(v) for v in vals], fontsize=7, padding=2)
        if log:
            ax.set_xscale("log")
        ax.margins(x=0.14)
        ax.set_xlabel(unit + (" (log scale)" if log else ""))
        ax.grid(axis="x", alpha=0.3)
        if named:
            present = int(np.sum(np.isfinite(vals) & (vals > 0)))
            ax.set_title(
                f"{group}\n{present} tags, {_number_label(float(np.nansum(vals)))} tag assignments",
                fontsize=10,
            )
    axes[0].set_yticks(y, tags)
    axes[0].set_ylim(n_tags - 0.5, -0.5)  # first tag on top
    fig.suptitle(title or f"{unit.capitalize()} per tag", fontweight="bold")
    return _finish(fig, out, dpi)


def _resampled_groups(index) -> tuple[str, list[str], list[str]]:
    """Split set names into base, upsampling and downsampling sets (each sorted by the size s)."""
    base, up, down = None, [], []
    for name in index:
        low = str(name).strip().lower()
        if low == "base":
            base = name
        elif low.startswith("up"):
            up.append(name)
        elif low.startswith("down"):
            down.append(name)
        else:
            raise ValueError(
                f"resampled_counts: set {name!r} is neither 'base' nor 'up-<s>' / 'down-<s>'"
            )
    if base is None:
        raise ValueError("resampled_counts: the table needs a 'base' row (the unmodified set)")

    def by_size(names):
        sizes = [re.search(r"(\d+(?:\.\d*)?|\.\d+)\s*$", str(n)) for n in names]
        if all(sizes):
            order = np.argsort([float(m.group(1)) for m in sizes], kind="stable")
            return [names[i] for i in order]
        return names

    return base, by_size(up), by_size(down)


@_styled
def resampled_counts(
    table: pd.DataFrame, *, title: str | None = None, out=None, unit: str = "frames", dpi: int = DPI
) -> Figure:
    """The study's up- and down-sampling bar charts: frames per tag of each resampled set vs the base.

    ``table`` has one row per set, named ``"base"``, ``"up-<s>"`` and ``"down-<s>"`` (as made by
    :func:`musiclass.resampling.counts_table`), one column per tag and optionally ``frames``, the
    set's size, which is not drawn as a tag (it is given in the legend). One panel for the upsampling
    sets and one for the downsampling sets (only those present), each with the base set as the first,
    grey, bar of every group; sets within a panel by increasing size s, darker = larger. Tags run
    along the x axis in the base set's descending order.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per set, one column per tag, optionally ``frames``.
    title : str, optional
        The title (default: "Training <unit> per tag: resampled sets vs base").
    out : str or os.PathLike, optional
        Where to save the figure (atomically; the format follows the suffix); default: not saved.
    unit : str, default="frames"
        What is counted, for the labels.
    dpi : int, default=120
        Resolution of the saved figure (:data:`DPI`).

    Returns
    -------
    matplotlib.figure.Figure
        The figure.

    Raises
    ------
    TypeError
        If ``table`` is not a DataFrame.
    ValueError
        If it has no ``base`` row, a set named otherwise than ``base``, ``up-<s>``, ``down-<s>``, or
        counts that are not numbers.
    """
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"resampled_counts: expected a DataFrame, got {type(table).__name__}")
    frames = table["frames"] if "frames" in table.columns else None
    data = _counts_frame(table.drop(columns=["frames"], errors="ignore"), "resampled_counts")
    data.index = list(table.index)
    base, up, down = _resampled_groups(data.index)
    tags = _tag_order(data.loc[base], True)
    data = data[tags]
    groups = [
        (kind, names, cmap)
        for kind, names, cmap in (("upsampling", up, "Blues"), ("downsampling", down, "Oranges"))
        if names
    ]
    if not groups:
        raise ValueError(
            "resampled_counts: no 'up-<s>' or 'down-<s>' rows to compare with the base"
        )
    n_tags = len(tags)
    fig = Figure(
        figsize=(min(11.0, max(7.5, 0.26 * n_tags + 1.5)), 3.5 * len(groups) + 1.3),
        layout="constrained",
    )
    axes = fig.subplots(len(groups), 1, sharex=True, squeeze=False)[:, 0]
    x = np.arange(n_tags)
    for ax, (kind, names, cmap) in zip(axes, groups):
        sets = [base, *names]
        colours = ["0.45", *mpl.colormaps[cmap](np.linspace(0.45, 0.95, len(names)))]
        width = 0.84 / len(sets)
        for j, (name, colour) in enumerate(zip(sets, colours)):
            label = str(name)
            if frames is not None and np.isfinite(float(frames.loc[name])):
                label += f" ({float(frames.loc[name]):,.0f} {unit})"
            vals = data.loc[name].to_numpy(dtype=np.float64)
            ax.bar(
                x + (j - (len(sets) - 1) / 2) * width,
                np.nan_to_num(vals, nan=0.0),
                width=width,
                color=colour,
                label=label,
                linewidth=0,
            )
        ax.set_ylabel(f"{unit} per tag")
        ax.grid(axis="y", alpha=0.3)
        ax.set_xlim(-0.6, n_tags - 0.4)
        # above the panel, where no bar can hide behind it (every up-1 bar reaches the top)
        legend = ax.legend(
            title=f"{kind} vs base",
            loc="lower left",
            bbox_to_anchor=(0.0, 1.0),
            ncols=min(len(sets), 5),
            frameon=False,
            borderaxespad=0.2,
            alignment="left",
        )
        legend.get_title().set_fontweight("bold")
    axes[-1].set_xticks(x, tags, rotation=60, ha="right", rotation_mode="anchor")
    axes[-1].set_xlabel("tag (base set's order, most frequent first)")
    fig.suptitle(title or f"Training {unit} per tag: resampled sets vs base", fontweight="bold")
    return _finish(fig, out, dpi)


@_styled
def cooccurrence(
    Y,
    tags: Sequence[str] | None,
    *,
    normalize: bool = True,
    top: int | None = None,
    title: str | None = None,
    out=None,
    show_diagonal: bool | None = None,
    unit: str = "tracks",
    cmap: str = "Blues",
    dpi: int = DPI,
) -> Figure:
    """Heatmap of tag co-occurrence from a multi-hot ``(n, k)`` matrix ``Y`` (non-zero = tagged).

    Counts ``C = Y.T @ Y`` (``C[i, j]``: items with both tags; the diagonal: items per tag). With
    ``normalize`` each row is divided by its diagonal: cell ``(i, j)`` is P(column tag j | row tag i),
    the fraction of row tag i's items that also carry tag j (a row of a tag without items is empty).
    The diagonal (1 when normalised) is masked unless ``show_diagonal`` (default: shown for counts,
    masked when normalised). ``tags`` names the columns of ``Y`` (None when ``Y`` is a DataFrame: its
    columns); ``top`` keeps the ``top`` most frequent tags, most frequent first, otherwise the given
    order is kept. Cells are annotated up to 20 tags.

    Parameters
    ----------
    Y : array-like or pandas.DataFrame of shape (n, k)
        The multi-hot matrix, one row per item (track, frame).
    tags : sequence of str or None
        The names of the columns of ``Y``.
    normalize : bool, default=True
        Whether to show P(column tag | row tag) instead of counts.
    top : int, optional
        Keep only the ``top`` most frequent tags.
    title : str, optional
        The title (default: what is shown, the number of items and tags).
    out : str or os.PathLike, optional
        Where to save the figure (atomically; the format follows the suffix); default: not saved.
    show_diagonal : bool, optional
        Whether to show the diagonal.
    unit : str, default="tracks"
        What the items are, for the labels.
    cmap : str, default="Blues"
        The colour map.
    dpi : int, default=120
        Resolution of the saved figure (:data:`DPI`).

    Returns
    -------
    matplotlib.figure.Figure
        The figure.

    Raises
    ------
    ValueError
        If ``Y`` is not 2-D, ``tags`` is missing or does not match its columns, or ``top`` is less
        than 1.
    """
    import seaborn as sns

    if isinstance(Y, pd.DataFrame):
        tags = list(Y.columns) if tags is None else tags
        Y = Y.to_numpy()
    Y = np.asarray(Y)
    if Y.ndim != 2:
        raise ValueError(f"cooccurrence: Y must be a 2-D (items, tags) matrix, got shape {Y.shape}")
    if tags is None:
        raise ValueError("cooccurrence: tags are needed when Y is not a DataFrame")
    tags = [str(t) for t in tags]
    if len(tags) != Y.shape[1]:
        raise ValueError(f"cooccurrence: {len(tags)} tag names for a Y with {Y.shape[1]} columns")
    B = (np.nan_to_num(Y.astype(np.float64)) != 0).astype(np.int64)
    C = B.T @ B
    order = np.arange(len(tags))
    if top is not None:
        if top < 1:
            raise ValueError("cooccurrence: top must be at least 1")
        order = np.argsort(-np.diag(C), kind="stable")[:top]
    C = C[np.ix_(order, order)]
    tags = [tags[i] for i in order]
    k = len(tags)
    diag = np.diag(C).astype(np.float64)
    if normalize:
        with np.errstate(invalid="ignore", divide="ignore"):
            shown = np.where(diag[:, None] > 0, C / np.where(diag > 0, diag, 1)[:, None], np.nan)
        fmt, vmin, vmax = ".2f", 0.0, 1.0
        cbar_label = "P(column tag | row tag)"
    else:
        shown, fmt, vmin, vmax = C, "d", 0, None
        cbar_label = f"{unit} with both tags"
    if show_diagonal is None:
        show_diagonal = not normalize
    mask = None if show_diagonal else np.eye(k, dtype=bool)
    data = pd.DataFrame(shown, index=tags, columns=tags)
    side = max(5.0, 0.18 * k + 0.075 * max(len(t) for t in tags) + 1.8)
    fig = Figure(figsize=(side + 1.2, side), layout="constrained")
    ax = fig.subplots()
    sns.heatmap(
        data,
        ax=ax,
        mask=mask,
        annot=k <= 20,
        fmt=fmt,
        cmap=cmap,
        vmin=vmin,
        vmax=vmax,
        square=True,
        linewidths=0.5 if k <= 40 else 0.2,
        linecolor="white",
        xticklabels=True,
        yticklabels=True,
        cbar_kws={"label": cbar_label, "shrink": 0.8},
        annot_kws={"fontsize": 8 if k <= 12 else 6.5},
    )
    ax.set_facecolor("white")
    ax.set_xlabel("co-occurring tag (column)" if normalize else "tag")
    ax.set_ylabel("given tag (row)" if normalize else "tag")
    _slant_xticks(ax, 60)
    if title is None:
        title = (
            "Tag co-occurrence: P(column tag | row tag)"
            if normalize
            else f"Tag co-occurrence: {unit} with both tags"
        )
        title += f"\n{B.shape[0]:,} {unit}, {k} tags" + (
            f" (the {k} most frequent)" if top is not None else ""
        )
    ax.set_title(title)
    return _finish(fig, out, dpi)


@_styled
def per_tag_auc(
    per_tag,
    *,
    metric: str = "roc_auc",
    title: str | None = None,
    out=None,
    chance=0.5,
    dpi: int = DPI,
) -> Figure:
    """Horizontal bars of a per-tag metric (ROC-AUC, PR-AUC...), one row per tag, best on top.

    ``per_tag`` is indexed by tag and either has a ``metric`` column (plus e.g. ``pr_auc``,
    ``support``: one model) or one column per model holding that metric (grouped bars, sorted by the
    first model, the legend gives each model's macro mean); a Series is one model. A ``support``
    column is written at the right of each row. ``chance``: a number draws a vertical line (0.5 for
    ROC-AUC); a per-tag Series / mapping or the name of a ``per_tag`` column (e.g. ``"prevalence"``,
    the chance level of PR-AUC) draws a mark on each row; None draws nothing.

    Parameters
    ----------
    per_tag : pandas.DataFrame or pandas.Series
        The per-tag values, indexed by tag.
    metric : str, default="roc_auc"
        The metric drawn.
    title : str, optional
        The title.
    out : str or os.PathLike, optional
        Where to save the figure (atomically; the format follows the suffix); default: not saved.
    chance : float or str or pandas.Series or mapping or None, default=0.5
        The chance level, as above.
    dpi : int, default=120
        Resolution of the saved figure (:data:`DPI`).

    Returns
    -------
    matplotlib.figure.Figure
        The figure.

    Raises
    ------
    TypeError
        If ``per_tag`` is neither a Series nor a DataFrame.
    ValueError
        If it is empty, ``chance`` names a column it lacks, or it has neither a ``metric`` column
        nor model columns.
    """
    if isinstance(per_tag, pd.Series):
        frame = per_tag.to_frame(metric)
    elif isinstance(per_tag, pd.DataFrame):
        frame = per_tag.copy()
    else:
        raise TypeError(
            f"per_tag_auc: expected a Series or DataFrame, got {type(per_tag).__name__}"
        )
    frame.index = [str(t) for t in frame.index]
    if frame.empty:
        raise ValueError("per_tag_auc: no tags")
    support = frame["support"] if "support" in frame.columns else None
    per_tag_chance = None
    if isinstance(chance, str):
        if chance not in frame.columns:
            raise ValueError(f"per_tag_auc: chance column {chance!r} not in {list(frame.columns)}")
        per_tag_chance = frame[chance]
    elif isinstance(chance, (pd.Series, Mapping)):
        per_tag_chance = pd.Series(chance)
        per_tag_chance.index = [str(t) for t in per_tag_chance.index]
    if metric in frame.columns:
        values = frame[[metric]]
    else:
        skip = {"support", "prevalence", "n", "positives"} | (
            {chance} if isinstance(chance, str) else set()
        )
        cols = [
            c for c in frame.columns if c not in skip and pd.api.types.is_numeric_dtype(frame[c])
        ]
        if not cols:
            raise ValueError(
                f"per_tag_auc: no {metric!r} column and no model columns in {list(frame.columns)}"
            )
        values = frame[cols]
    values = values.astype(np.float64)
    tags = _tag_order(values.iloc[:, 0], True)
    values = values.loc[tags]
    n_tags, n_models = values.shape
    row_h = max(0.22, 0.14 * n_models + 0.08)
    label_w = 0.075 * max(len(t) for t in tags) + 0.6
    fig = Figure(figsize=(max(7.0, label_w + 6.0), row_h * n_tags + 1.6), layout="constrained")
    ax = fig.subplots()
    y = np.arange(n_tags)
    height = 0.8 / n_models
    single = n_models == 1
    for j, col in enumerate(values.columns):
        vals = values[col].to_numpy(dtype=np.float64)
        mean = float(np.nanmean(vals)) if np.isfinite(vals).any() else float("nan")
        bars = ax.barh(
            y + (j - (n_models - 1) / 2) * height,
            np.nan_to_num(vals, nan=0.0),
            height=height * 0.92,
            color=f"C{j % 10}",
            label=f"{_metric_label(str(col)) if single else col} (macro {mean:.3f})",
        )
        if single or n_tags * n_models <= 60:
            # a light box keeps a label readable over a per-tag chance mark
            box = (
                dict(boxstyle="square,pad=0.1", fc="white", ec="none", alpha=0.75)
                if per_tag_chance is not None
                else None
            )
            ax.bar_label(
                bars,
                labels=[DASH if np.isnan(v) else f"{v:.3f}" for v in vals],
                fontsize=7,
                padding=2,
                bbox=box,
                zorder=4,
            )
    label = _metric_label(metric)
    if chance is not None and per_tag_chance is None:
        ax.axvline(
            float(chance), color="grey", ls="--", lw=1.2, label=f"chance ({float(chance):.2f})"
        )
    elif per_tag_chance is not None:
        c = per_tag_chance.reindex(tags).to_numpy(dtype=np.float64)
        ax.plot(
            c,
            y,
            ls="none",
            marker="|",
            ms=max(6.0, 60 * row_h * 0.8),
            mew=2,
            color="crimson",
            label="chance (per tag)",
            zorder=3,
        )
    finite = values.to_numpy(dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if not finite.size or (finite.min() >= 0 and finite.max() <= 1):
        ax.set_xlim(0, 1.09)
    else:
        ax.margins(x=0.1)
    ax.set_yticks(y, tags)
    ax.set_ylim(n_tags - 0.5, -0.5)  # best on top
    ax.set_xlabel(label)
    ax.grid(axis="x", alpha=0.3)
    if support is not None:
        sec = ax.secondary_yaxis("right")
        sec.set_ticks(
            y, [_number_label(float(s)) for s in support.reindex(tags).to_numpy(dtype=np.float64)]
        )
        sec.tick_params(labelsize=7, length=0)
        sec.set_ylabel("support (positives)", fontsize=9)
    handles, labels = ax.get_legend_handles_labels()
    if not single or len(handles) > 1:  # below the axis label, where it hides no bar
        fig.legend(
            handles, labels, loc="outside lower center", ncols=min(len(handles), 4), frameon=False
        )
    if title is None:
        title = f"Per-tag {label}"
        if single:
            vals = values.iloc[:, 0]
            title += f"\nmacro average {vals.mean():.3f} over {int(vals.notna().sum())} tags"
    ax.set_title(title)
    return _finish(fig, out, dpi)
