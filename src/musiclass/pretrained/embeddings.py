"""The ``embeddings`` feature extractor: a pretrained musicnn's outputs, summarised per track.

For transfer learning (Pons & Serra's musicnn features; Choi et al. 2017): each track is decoded at
16 kHz, cut into musicnn's 3 s patches, and three of the network's outputs are taken per patch:

* ``max_pool`` (753 values): the front- and mid-end features, max over the patch's time axis;
* ``penultimate`` (200): the batch-normalised penultimate dense layer;
* ``taggram`` (50): the tag probabilities.

Each is summarised over the track's patches by its **mean** and its **spread** (population standard
deviation, as the hand-crafted descriptors): ``2 x (753 + 200 + 50) = 2006`` numbers per track,
columns ``max_pool_mean_0 ... max_pool_std_752, penultimate_mean_0 ..., taggram_mean:<tag> ...``.

:func:`extract_embeddings` writes them into a feature store as ``embeddings-<model>.csv``
(:func:`musiclass.features.store.write_embeddings`), in the store's track order, beside the
descriptor table; :func:`musiclass.features.store.read_embeddings` (or
:meth:`FeatureStore.embeddings <musiclass.features.store.FeatureStore.embeddings>`) reads it back.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..datasets.base import TrackIndex
from ..errors import ConfigError, FileError
from ..features.store import FeatureStore, write_embeddings
from .musicnn import HOP_LENGTH, PATCH_FRAMES, Architecture, log_mel, patches
from .tagger import Tagger, load_tagger

log = logging.getLogger(__name__)

__all__ = [
    "OUTPUTS",
    "column_names",
    "spread_patches",
    "chosen_patches",
    "track_embedding",
    "extract_embeddings",
    "EmbeddingResult",
]

#: musicnn's outputs summarised, in column order
OUTPUTS = ("max_pool", "penultimate", "taggram")
#: the summaries over patches, in column order within each output
STATS = ("mean", "std")


def column_names(arch: Architecture, widths: dict[str, int]) -> list[str]:
    """The embedding table's value columns.

    Parameters
    ----------
    arch : Architecture
        The network (its tags name the taggram's columns).
    widths : dict of str to int
        Width of each output of :data:`OUTPUTS`.

    Returns
    -------
    list of str
        ``<output>_<stat>_<i>`` (``<output>_<stat>:<tag>`` for the taggram), outputs in
        :data:`OUTPUTS` order, mean then std.
    """
    names = []
    for key in OUTPUTS:
        for stat in STATS:
            if key == "taggram":
                names += [f"taggram_{stat}:{tag}" for tag in arch.labels]
            else:
                names += [f"{key}_{stat}_{i}" for i in range(widths[key])]
    return names


def spread_patches(n: int, k: int | None) -> np.ndarray:
    """Which of a track's ``n`` patches to keep when at most ``k`` are embedded: evenly spread.

    Patch ``i`` of ``k`` is the one holding the centre of the ``i``-th of ``k`` equal stretches of
    the track, so one patch is the middle one and none is repeated.

    Parameters
    ----------
    n : int
        The track's patches.
    k : int or None
        The most to keep (None: all).

    Returns
    -------
    numpy.ndarray of int
        Increasing patch numbers, ``min(n, k)`` of them.

    Raises
    ------
    ValueError
        If ``k`` is less than 1.

    Examples
    --------
    >>> spread_patches(10, 1).tolist(), spread_patches(10, 2).tolist(), spread_patches(3, 5).tolist()
    ([5], [2, 7], [0, 1, 2])
    """
    if k is not None and k < 1:
        raise ValueError(f"max_patches must be at least 1, got {k}")
    if k is None or k >= n:
        return np.arange(n)
    return ((np.arange(k) + 0.5) * n / k).astype(int)


def chosen_patches(y: np.ndarray, max_patches: int | None = None) -> np.ndarray:
    """The input patches of a 16 kHz signal, at most ``max_patches`` of them (:func:`spread_patches`).

    With a limit, only the chosen patches' samples are transformed: each patch's log-mel frames
    are those of the whole track (a centred frame reads 256 samples either side of its centre, so
    a stretch with that margin gives them exactly; a track's ends keep their reflect padding).

    Parameters
    ----------
    y : numpy.ndarray of shape (samples,)
        The signal at 16 kHz.
    max_patches : int, optional
        The most patches kept (None: all, :func:`musiclass.pretrained.musicnn.patches`).

    Returns
    -------
    numpy.ndarray of shape (n_patches, 187, 96)
        The patches, in track order.
    """
    n_frames = 1 + len(y) // HOP_LENGTH
    if max_patches is None or n_frames < 2 * PATCH_FRAMES:
        _, x = patches(log_mel(y))
        return x[spread_patches(len(x), max_patches)]
    out = []
    for i in spread_patches(n_frames // PATCH_FRAMES, max_patches):
        start = int(i) * PATCH_FRAMES * HOP_LENGTH  # the centre of the patch's first frame
        lo = max(0, start - HOP_LENGTH)
        spec = log_mel(y[lo : start + PATCH_FRAMES * HOP_LENGTH])
        first = 1 if lo > 0 else 0  # the stretch's own first frame is padded: not the track's
        out.append(spec[first : first + PATCH_FRAMES])
    return np.stack(out)


def track_embedding(
    tagger: Tagger, y: np.ndarray, max_patches: int | None = None
) -> tuple[np.ndarray, dict[str, int]]:
    """One track's embedding: the mean and spread of each output over its patches.

    Parameters
    ----------
    tagger : Tagger
        A musicnn network (not a VGG baseline).
    y : numpy.ndarray of shape (samples,)
        The track at 16 kHz.
    max_patches : int, optional
        Embed at most this many patches, evenly spread over the track (:func:`spread_patches`);
        default all (the study's quick profiles embed one, to keep the demo short).

    Returns
    -------
    values : numpy.ndarray of shape (n_values,)
        Per output of :data:`OUTPUTS`: its mean over patches, then its population standard
        deviation (0 for a track of one patch), float64.
    widths : dict of str to int
        Each output's width.
    """
    out = tagger.outputs(chosen_patches(y, max_patches), OUTPUTS)
    parts, widths = [], {}
    for key in OUTPUTS:
        v = out[key].astype(np.float64)
        widths[key] = v.shape[1]
        parts += [v.mean(axis=0), v.std(axis=0)]
    return np.concatenate(parts), widths


class EmbeddingResult:
    """What :func:`extract_embeddings` wrote.

    Parameters
    ----------
    table : pandas.DataFrame
        ``track_id``, ``label`` and the embeddings, one row per track embedded.
    failures : pandas.DataFrame
        ``track_id, path, reason`` of the tracks that could not be embedded.
    path : pathlib.Path
        The table's file.

    Attributes
    ----------
    table : pandas.DataFrame
        The embeddings.
    failures : pandas.DataFrame
        The tracks that failed.
    path : pathlib.Path
        The table's file.
    """

    def __init__(self, table: pd.DataFrame, failures: pd.DataFrame, path: Path):
        self.table, self.failures, self.path = table, failures, Path(path)

    def __repr__(self) -> str:
        return (
            f"EmbeddingResult({len(self.table)} tracks x {self.table.shape[1] - 2} values, "
            f"{len(self.failures)} failed, {str(self.path)!r})"
        )


def extract_embeddings(
    source: str | os.PathLike | FeatureStore | TrackIndex,
    out: str | os.PathLike | None = None,
    *,
    model: str = "musicnn-msd",
    tagger: Tagger | None = None,
    progress: bool = False,
    max_patches: int | None = None,
) -> EmbeddingResult:
    """Embed every track of a feature store (or a track index) and write the table.

    Parameters
    ----------
    source : str or os.PathLike or FeatureStore or TrackIndex
        A feature store (its tracks, in its order; the table is written into it) or a track index.
    out : str or os.PathLike, optional
        Where to write the table (default: the store; required for a track index).
    model : str, default="musicnn-msd"
        The pretrained musicnn model (``musicnn-msd`` or ``musicnn-mtt``).
    tagger : Tagger, optional
        A loaded network to use instead (tests: random weights, no download); ``model`` still
        names the file.
    progress : bool, default=False
        Whether to show a progress bar.
    max_patches : int, optional
        Embed at most this many patches per track (:func:`track_embedding`); default all.

    Returns
    -------
    EmbeddingResult
        The table, the failures and the file.

    Raises
    ------
    musiclass.errors.ConfigError
        For a VGG baseline (it has no penultimate or max-pool features), or a track index without
        ``out``.
    musiclass.pretrained.weights.WeightsUnavailable
        When the published weights cannot be had.
    """
    if isinstance(source, TrackIndex):
        if out is None:
            raise ConfigError("extract_embeddings: give out= for a track index")
        index = source
    else:
        store = source if isinstance(source, FeatureStore) else FeatureStore(Path(source))
        order = [c["track_id"] for c in store.manifest["chunks"]]
        index = store.tracks().subset(order)
        out = store.path if out is None else out
    tagger = tagger or load_tagger(model)
    if tagger.architecture.kind != "musicnn":
        raise ConfigError(f"{model}: embeddings need a musicnn network, not the VGG baseline")

    from tqdm.auto import tqdm

    rows, ids, labels, failed, widths = [], [], [], [], None
    tracks = index.tracks[["track_id", "path", "label"]].itertuples(index=False, name=None)
    for track_id, path, label in tqdm(tracks, total=len(index), disable=not progress):
        try:
            values, widths = track_embedding(tagger, tagger.load(path), max_patches)
        except FileError as exc:
            log.info("embeddings: %s failed: %s", path, exc.reason)
            failed.append((track_id, path, exc.reason))
            continue
        rows.append(values)
        ids.append(track_id)
        labels.append(label)
    if widths is None:  # no track embedded: the columns are still known from the network
        widths = {k: int(tagger.network.output[k].shape[-1]) for k in OUTPUTS}
    names = column_names(tagger.architecture, widths)
    table = pd.DataFrame(np.vstack(rows) if rows else np.empty((0, len(names))), columns=names)
    table.insert(0, "label", labels)
    table.insert(0, "track_id", ids)
    failures = pd.DataFrame(failed, columns=["track_id", "path", "reason"])
    return EmbeddingResult(table, failures, write_embeddings(out, model, table, failures))
