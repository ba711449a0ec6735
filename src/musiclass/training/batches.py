"""What a network is fed from a feature store: frame rows, targets, weights and batches.

The frame rows of a split, their targets and weights, and the batches gathered from the
memory-mapped store.

The seeded order (:func:`epoch_order`) and the frame selection rule (:func:`evenly_spaced`) are
shared with the audio batches of :mod:`musiclass.models.frontend_layer`, which import them from
here: both kinds of batches are drawn the same way. Nothing here imports Keras until a
:func:`frame_batches` is made.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from .. import resampling
from .. import splits as splits_mod
from ..datasets.base import labels_to_matrix
from ..errors import MetadataError
from ..features.store import INDEX, FeatureStore
from ..layout import SplitFolder
from ..splits import PARTS
from .config import TrainConfig
from .execution import import_keras


# ------------------------------------------------------------------------------ rows
def load_split(store: FeatureStore, split: str | Path) -> pd.DataFrame:
    """The store's frame rows that a split assigns to a part.

    Parameters
    ----------
    store : FeatureStore
        The store whose frames are split.
    split : str or Path
        A method name saved in the store (``song``, ``seed-frame``, ...: the store's
        ``splits/<method>.csv``) or a CSV path: ``track_id,part`` for a track split,
        ``row,track_id,part`` for a frame split.

    Returns
    -------
    pandas.DataFrame
        One row per frame in a part, in store order: ``row, track_id, frame, label, part`` (and
        the index's other columns), ``part`` one of train, validation, test.

    Raises
    ------
    MetadataError
        The split file is unreadable, or no frame of the store is in it.
    """
    path = Path(split)
    if not path.suffix:
        path = SplitFolder(store.path).split(str(split))
    table = splits_mod.load(path)
    frames = store.index
    if "row" in table.columns:
        merged = frames.merge(table[["row", "part"]], on="row", how="left")
    else:
        merged = frames.merge(
            table[["track_id", "part"]].astype({"track_id": str}), on="track_id", how="left"
        )
    merged = merged[merged["part"].isin(PARTS)]
    if merged.empty:
        raise MetadataError(
            path, "no frame of this store is in the split (was it made for another store?)"
        )
    return merged.reset_index(drop=True)


def select_frames(rows: pd.DataFrame, config: TrainConfig) -> pd.DataFrame:
    """The rows ``config`` trains and evaluates on.

    Parameters
    ----------
    rows : pandas.DataFrame
        :func:`load_split`'s rows.
    config : TrainConfig
        ``first_frames`` applies to every part, ``train_frames_per_track`` (at most K evenly
        spaced frames per track, :func:`evenly_spaced_mask`) to the training part only.

    Returns
    -------
    pandas.DataFrame
        The kept rows, in store (``row``) order, with a fresh index.
    """
    if config.first_frames is not None:
        rows = rows[rows["frame"] < int(config.first_frames)]
    k = config.train_frames_per_track
    if k is not None:
        train = rows["part"] == "train"
        t = rows[train]
        n = t.groupby("track_id")["frame"].transform("size").to_numpy()
        pos = t.groupby("track_id").cumcount().to_numpy()
        rows = pd.concat([t[evenly_spaced_mask(pos, n, int(k))], rows[~train]]).sort_values("row")
    return rows.reset_index(drop=True)


def evenly_spaced_mask(pos: np.ndarray, n: np.ndarray | int, k: int) -> np.ndarray:
    """Which frame positions are among ``k`` evenly spaced ones of their track.

    Position ``p`` is kept when ``floor(p * k / n)`` changes from ``p - 1``: k picks spread over
    n frames (all of them when ``n <= k``). The rule of ``train_frames_per_track``, for stored
    and for audio batches alike.

    Parameters
    ----------
    pos : np.ndarray [shape=(m,), int]
        Positions of frames within their tracks (0-based).
    n : np.ndarray [shape=(m,), int] or int
        Frames in each frame's track.
    k : int
        Frames to keep per track (at least 1).

    Returns
    -------
    np.ndarray [shape=(m,), bool]
        True where the frame is kept.
    """
    return (n <= k) | (np.floor(pos * k / n) != np.floor((pos - 1) * k / n))


def evenly_spaced(n: int, k: int | None) -> np.ndarray:
    """The positions of ``k`` evenly spaced frames among ``n`` (:func:`evenly_spaced_mask`).

    Parameters
    ----------
    n : int
        Frames in the track.
    k : int or None
        Frames to keep; None keeps every frame.

    Returns
    -------
    np.ndarray [shape=(min(n, k),), int]
        Increasing positions in ``[0, n)``; all of them when ``k`` is None or ``n <= k``.
    """
    pos = np.arange(n)
    return pos if k is None else pos[evenly_spaced_mask(pos, n, int(k))]


def epoch_order(n: int, shuffle: bool, seed: int, epoch: int) -> np.ndarray:
    """The order of ``n`` items in one epoch.

    The permutation is drawn from the seed and the epoch number only, so the same config gives
    the same batches whatever the worker count, and a resumed run the same as an uninterrupted one.

    Parameters
    ----------
    n : int
        Items (frames or tracks).
    shuffle : bool
        Permute; False keeps the items in order.
    seed : int
        The config's seed.
    epoch : int
        The epoch number (0-based).

    Returns
    -------
    np.ndarray [shape=(n,), int]
        A permutation of ``0 .. n-1`` (``np.random.default_rng([seed, epoch])``), or ``arange(n)``.
    """
    if not shuffle:
        return np.arange(n)
    return np.random.default_rng([seed, epoch]).permutation(n)


# ------------------------------------------------------------------------------ targets and weights
def targets(labels: pd.Series, classes: tuple[str, ...], multilabel: bool) -> np.ndarray:
    """The training targets of frame labels.

    Parameters
    ----------
    labels : pandas.Series [shape=(n,)]
        One label per frame (``|``-joined tags when ``multilabel``).
    classes : tuple of str
        The class (tag) order.
    multilabel : bool
        Multi-hot targets instead of class indices.

    Returns
    -------
    np.ndarray [shape=(n,), int32] or [shape=(n, len(classes)), float32]
        Class indices, or the multi-hot matrix.

    Raises
    ------
    MetadataError
        A label that is not one of ``classes`` (single-label; named against the store's index).
    ValueError
        A tag that is not one of ``classes`` (multi-label).
    """
    if multilabel:
        return labels_to_matrix(labels, classes).astype(np.float32)
    lookup = {c: i for i, c in enumerate(classes)}
    try:
        return np.fromiter((lookup[v] for v in labels), dtype=np.int32, count=len(labels))
    except KeyError as exc:
        raise MetadataError(
            INDEX, f"label {exc.args[0]!r} is not one of the store's classes"
        ) from None


def training_rows(rows: np.ndarray, y: np.ndarray, config: TrainConfig) -> np.ndarray:
    """Positions into the training part to train on: all of them, or ``config.resample``'s set.

    Parameters
    ----------
    rows : np.ndarray [shape=(n,)]
        The training part's store rows.
    y : np.ndarray [shape=(n,) or (n, n_classes)]
        Their targets (:func:`targets`).
    config : TrainConfig
        ``resample``, ``resample_reading`` and ``seed`` (see :mod:`musiclass.resampling`).

    Returns
    -------
    np.ndarray [shape=(m,), int]
        Positions in ``[0, n)``; an upsampled set repeats some.
    """
    if config.resample is None:
        return np.arange(len(rows))
    Y = y if y.ndim == 2 else np.eye(int(y.max()) + 1, dtype=np.int8)[y]
    kind, size = config.resample.split("-")
    if kind == "up":
        return resampling.upsample(Y, float(size), seed=config.seed)
    return resampling.downsample(Y, float(size), seed=config.seed, reading=config.resample_reading)


def tag_weights(y: np.ndarray) -> np.ndarray:
    """Per-frame weights for ``tag_weights="balanced"``.

    A frame's weight is the mean, over its tags, of ``n / (k * count(tag))`` (scikit-learn's
    "balanced" class weight); a frame without tags weighs 1; the weights are scaled to mean 1.

    Parameters
    ----------
    y : np.ndarray [shape=(n,) or (n, k)]
        Class indices or a multi-hot matrix.

    Returns
    -------
    np.ndarray [shape=(n,), float32]
        The weights, mean 1.
    """
    Y = y if y.ndim == 2 else np.eye(int(y.max()) + 1)[y]
    Y = Y.astype(np.float64)
    counts = Y.sum(axis=0)
    per_tag = np.divide(len(Y), len(counts) * counts, out=np.zeros_like(counts), where=counts > 0)
    n_tags = Y.sum(axis=1)
    w = np.divide(Y @ per_tag, n_tags, out=np.ones(len(Y)), where=n_tags > 0)
    return (w / w.mean()).astype(np.float32)


def input_statistics(array, rows: np.ndarray, chunk: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """Per-bin mean and variance of stored frames, streamed ``chunk`` frames at a time.

    The normalisation of the FNN (``model_options`` ``mean``, ``variance``).

    Parameters
    ----------
    array : ChunkedArray
        A store array (:meth:`FeatureStore.array`): ``rows(indices)`` gives
        ``(len(indices), bins, columns)`` frames.
    rows : np.ndarray [shape=(n,), int]
        The store rows to take the statistics over.
    chunk : int
        Frames read at a time.

    Returns
    -------
    mean : np.ndarray [shape=(bins,), float64]
        Over every frame and column.
    variance : np.ndarray [shape=(bins,), float64]
        Likewise, floored at 1e-12.
    """
    n, s, s2 = 0, 0.0, 0.0
    for i in range(0, len(rows), chunk):
        x = array.rows(np.sort(rows[i : i + chunk])).astype(np.float64)
        n += x.shape[0] * x.shape[2]
        s = s + x.sum(axis=(0, 2))
        s2 = s2 + np.square(x).sum(axis=(0, 2))
    mean = s / n
    return mean, np.maximum(s2 / n - mean**2, 1e-12)


# ------------------------------------------------------------------------------ batches
def frame_batches(
    array,
    rows: np.ndarray,
    y: np.ndarray | None,
    batch_size: int,
    *,
    shuffle: bool,
    seed: int = 0,
    weights: np.ndarray | None = None,
    **kwargs,
):
    """Batches of stored frames, gathered on demand: a ``FrameBatches`` ``keras.utils.PyDataset``.

    The class is made when this is called, so importing this module does not import Keras. With
    ``shuffle`` the order is a fresh permutation each epoch (:func:`epoch_order`); the epoch
    counter (``.epoch``) is what a resumed run restores.

    Parameters
    ----------
    array : ChunkedArray
        A store array (:meth:`FeatureStore.array`), read with ``array.rows(indices)``.
    rows : np.ndarray [shape=(n,), int]
        The store rows to serve, in this order before shuffling (repeats allowed).
    y : np.ndarray [shape=(n,) or (n, n_classes)] or None
        Their targets; None serves frames only (for ``predict``).
    batch_size : int
        Frames per batch (the last batch may be smaller).
    shuffle : bool
        Permute the rows every epoch.
    seed : int
        The seed of the permutations.
    weights : np.ndarray [shape=(n,), float32], optional
        Per-frame sample weights (:func:`tag_weights`), served as the batches' third element.
    **kwargs
        For ``keras.utils.PyDataset``: ``workers``, ``use_multiprocessing``, ``max_queue_size``.

    Returns
    -------
    keras.utils.PyDataset
        ``ceil(n / batch_size)`` batches: ``x`` float32 ``(batch, bins, columns)``, or
        ``(x, y)``, or ``(x, y, weights)``.
    """
    keras = import_keras()

    class FrameBatches(keras.utils.PyDataset):
        """Batches of stored frames ``(batch, bins, columns)`` (and targets); see :func:`frame_batches`."""

        def __init__(self):
            super().__init__(**kwargs)
            self.array, self.rows, self.y = array, np.asarray(rows, dtype=np.int64), y
            self.batch_size, self.shuffle, self.seed = int(batch_size), shuffle, seed
            self.epoch = 0
            self.order = self._order()

        def _order(self) -> np.ndarray:
            return epoch_order(len(self.rows), self.shuffle, self.seed, self.epoch)

        def __len__(self) -> int:
            return math.ceil(len(self.rows) / self.batch_size)

        def __getitem__(self, i: int):
            sel = self.order[i * self.batch_size : (i + 1) * self.batch_size]
            x = self.array.rows(self.rows[sel])
            if x.dtype != np.float32:
                x = x.astype(np.float32)
            if self.y is None:
                return x
            return (x, self.y[sel]) if weights is None else (x, self.y[sel], weights[sel])

        def on_epoch_begin(self) -> None:
            """Draw this epoch's row order (Keras calls it before every epoch)."""
            self.order = self._order()

        def on_epoch_end(self) -> None:
            """Count the finished epoch: the next order is drawn with the next ``epoch``."""
            self.epoch += 1

    return FrameBatches()
