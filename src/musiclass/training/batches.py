"""What a network is fed from a feature store: frame rows, targets, weights and batches.

The frame rows of a split, their targets and weights, and the batches gathered from the store:
for training, a :class:`FrameFeed` serving them from the accelerator's memory, from RAM or
straight from the store (``TrainConfig.cache``, :func:`choose_cache`); for prediction, a
``keras.utils.PyDataset`` (:func:`frame_batches`).

The seeded order (:func:`epoch_order`) and the frame selection rule (:func:`evenly_spaced`) are
shared with the audio batches of :mod:`musiclass.models.frontend_layer`, which import them from
here: both kinds of batches are drawn the same way. Nothing here imports Keras until a
:func:`frame_batches` is made.
"""

from __future__ import annotations

import math
import os
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pandas as pd

from .. import resampling
from .. import splits as splits_mod
from ..datasets.base import labels_to_matrix
from ..errors import ConfigError, MetadataError
from ..features.store import INDEX, FeatureStore
from ..layout import SplitFolder
from ..splits import PARTS
from .config import CACHE_MODES, TrainConfig
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
        spaced frames per track, :func:`evenly_spaced_mask`) to the training part only,
        ``validation_frames_per_track`` (the same rule) to the validation part; the test part
        keeps every frame.

    Returns
    -------
    pandas.DataFrame
        The kept rows, in store (``row``) order, with a fresh index.
    """
    if config.first_frames is not None:
        rows = rows[rows["frame"] < int(config.first_frames)]
    for part, k in (
        ("train", config.train_frames_per_track),
        ("validation", config.validation_frames_per_track),
    ):
        if k is not None:
            mine = rows["part"] == part
            t = rows[mine]
            n = t.groupby("track_id")["frame"].transform("size").to_numpy()
            pos = t.groupby("track_id").cumcount().to_numpy()
            kept = t[evenly_spaced_mask(pos, n, int(k))]
            rows = pd.concat([kept, rows[~mine]]).sort_values("row")
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


# ------------------------------------------------------------------------------ cache modes
#: ``cache="auto"`` serves from the accelerator when the training and validation frames take at
#: most this fraction of its memory (the rest is for the network, activations and optimizer)
DEVICE_FRACTION = 0.5
#: ... else from RAM when they take at most this fraction of the RAM available
MEMORY_FRACTION = 0.5


#: byte alignment TensorFlow requires of a buffer it takes over without a copy (Eigen's)
TENSOR_ALIGNMENT = 64


def aligned_empty(shape: tuple[int, ...], dtype) -> np.ndarray:
    """An uninitialised C-ordered array whose data start at a multiple of 64 bytes.

    Parameters
    ----------
    shape : tuple of int
        The array's shape.
    dtype : numpy.dtype
        Its dtype.

    Returns
    -------
    numpy.ndarray
        A view into a slightly larger byte buffer, aligned so that TensorFlow can wrap it as a
        tensor without copying (:func:`as_tensor`).
    """
    dtype = np.dtype(dtype)
    n = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    raw = np.empty(n + TENSOR_ALIGNMENT, dtype=np.uint8)
    skip = -raw.ctypes.data % TENSOR_ALIGNMENT
    return raw[skip : skip + n].view(dtype).reshape(shape)


def as_tensor(a: np.ndarray):
    """``a`` as a TensorFlow tensor: shared, not copied, when its data are 64-byte aligned.

    Parameters
    ----------
    a : numpy.ndarray
        The array (made C-contiguous if it is not). Once shared it must not be written to.

    Returns
    -------
    tf.Tensor
        A tensor over ``a``'s buffer (through DLPack; TensorFlow aborts the process on an
        unaligned one, so those are copied instead).
    """
    import tensorflow as tf  # tensorflow: only a feed's pipeline gets here

    a = np.ascontiguousarray(a)
    if a.size and a.ctypes.data % TENSOR_ALIGNMENT == 0:
        return tf.experimental.dlpack.from_dlpack(a.__dlpack__())
    return tf.convert_to_tensor(a)


class StoreReader:
    """Rows of a store array read with positioned reads (``os.preadv``) instead of memory maps.

    Nothing is mapped, so the pages read never count in the process's resident memory (a
    memory map's do, once touched): memory stays flat whatever the store's size. Each chunk's
    ``.npy`` header is read and checked once; at most ``max_open`` files stay open (the least
    recently used are closed, once no read is using them). Safe from any thread, and calls from
    several threads read at the same time: a lock guards only the table of open files, never the
    reads (``os.preadv`` releases the GIL).

    Parameters
    ----------
    array : ChunkedArray
        A store array (:meth:`FeatureStore.array`): its chunk files, row offsets, shape, dtype.
    max_open : int
        Most chunk files kept open at once.

    Attributes
    ----------
    shape : tuple of int
        ``(n_rows, rows, columns)`` of the array.
    dtype : numpy.dtype
        The stored dtype (what :meth:`rows` returns).
    """

    def __init__(self, array, max_open: int = 256):
        self.folder, self.files = Path(array.folder), list(array.files)
        self.offsets = np.asarray(array.offsets, dtype=np.int64)
        self.shape, self.dtype = tuple(array.shape), np.dtype(array.dtype)
        self.frame_bytes = int(np.prod(self.shape[1:])) * self.dtype.itemsize
        self.max_open = int(max_open)
        self._paths = [str(self.folder / f) for f in self.files]
        self._start: dict[int, int] = {}
        self._fds: OrderedDict[int, int] = OrderedDict()
        self._lock = threading.Lock()
        # reads in flight, and the files evicted meanwhile (closed when the last read ends: a
        # closed descriptor's number may be reused for another file by the next open)
        self._reading = 0
        self._evicted: list[int] = []

    def _data_start(self, c: int, fd: int) -> int:
        """Byte offset of chunk ``c``'s data, after checking its header against the manifest."""
        from numpy.lib import format as npy

        path = self._paths[c]
        expected = (int(self.offsets[c + 1] - self.offsets[c]), *self.shape[1:])
        with open(fd, "rb", closefd=False) as f:
            try:
                version = npy.read_magic(f)
                read = {(1, 0): npy.read_array_header_1_0, (2, 0): npy.read_array_header_2_0}
                if version not in read:
                    raise ValueError(f"unsupported .npy version {version}")
                shape, fortran, dtype = read[version](f)
            except ValueError as exc:
                raise MetadataError(
                    path, f"not a plain numeric .npy chunk ({exc}); the store is damaged"
                ) from None
            start = f.tell()
        if tuple(shape) != expected or fortran or np.dtype(dtype) != self.dtype:
            raise MetadataError(
                path,
                f"chunk has shape {tuple(shape)} {np.dtype(dtype)}"
                f"{' (Fortran order)' if fortran else ''}, the manifest says {expected} "
                f"{self.dtype}",
            )
        return start

    def _fd(self, c: int) -> int:
        fd = self._fds.get(c)
        if fd is not None:
            self._fds.move_to_end(c)
            return fd
        try:
            fd = os.open(self._paths[c], os.O_RDONLY)
        except FileNotFoundError:
            raise MetadataError(
                self._paths[c], "chunk missing: the store is damaged; re-run `musiclass extract`"
            ) from None
        try:
            if c not in self._start:
                self._start[c] = self._data_start(c, fd)
        except BaseException:
            os.close(fd)
            raise
        self._fds[c] = fd
        if len(self._fds) > self.max_open:
            self._evicted.append(self._fds.popitem(last=False)[1])
        return fd

    def _close_evicted(self) -> None:
        """Close the evicted files (the lock held, no read in flight)."""
        while self._evicted:
            os.close(self._evicted.pop())

    def rows(self, rows) -> np.ndarray:
        """Return the given rows (any order, repeats allowed), as a new array.

        Parameters
        ----------
        rows : array-like of int
            Row numbers in ``[0, n_rows)``.

        Returns
        -------
        numpy.ndarray [shape=(len(rows), rows, columns)]
            The rows in the order asked, of the stored dtype. Runs of consecutive rows of one
            chunk are read in one call.

        Raises
        ------
        IndexError
            A row number out of range.
        MetadataError
            A chunk is missing, damaged, truncated or not of the manifest's shape.
        """
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        if rows.size and (rows.min() < 0 or rows.max() >= self.shape[0]):
            raise IndexError(f"row index out of range for {self.shape[0]} rows")
        out = aligned_empty((rows.size, *self.shape[1:]), self.dtype)
        if not rows.size:
            return out
        which = np.searchsorted(self.offsets, rows, side="right") - 1
        # runs of consecutive rows within one chunk: one read each
        cuts = np.flatnonzero((np.diff(rows) != 1) | (np.diff(which) != 0)) + 1
        begins = np.concatenate([[0], cuts]).tolist()
        ends = np.concatenate([cuts, [rows.size]]).tolist()
        flat = out.reshape(rows.size, -1)
        chunks = which[begins].tolist()
        starts = (rows[begins] - self.offsets[chunks]).tolist()
        with self._lock:  # the files: opened (and checked) here, read below without the lock
            self._reading += 1
            try:
                fds = [self._fd(c) for c in chunks]
                data = [self._start[c] for c in chunks]
            except BaseException:
                self._reading -= 1
                raise
        try:
            size = self.frame_bytes
            for fd, c, at, first, b, e in zip(fds, chunks, data, starts, begins, ends):
                if os.preadv(fd, [flat[b:e]], at + first * size) != (e - b) * size:
                    raise MetadataError(self._paths[c], "chunk truncated: the store is damaged")
        finally:
            with self._lock:
                self._reading -= 1
                if not self._reading:
                    self._close_evicted()
        return out

    def close(self) -> None:
        """Close every open chunk file (the reader reopens them when read again)."""
        with self._lock:
            while self._fds:
                self._evicted.append(self._fds.popitem()[1])
            if not self._reading:
                self._close_evicted()

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown; numpydoc ignore=GL08
            pass


def accelerator_memory() -> int | None:
    """Bytes TensorFlow may allocate on the first GPU, or None when there is no GPU.

    Returns
    -------
    int or None
        The GPU device's memory limit (``device_lib.list_local_devices``: what TensorFlow's
        allocator may use of it), or None without a GPU (or when TensorFlow cannot tell).
    """
    import_keras()
    import tensorflow as tf

    if not tf.config.list_physical_devices("GPU"):
        return None
    try:
        from tensorflow.python.client import device_lib

        for d in device_lib.list_local_devices():
            if d.device_type == "GPU":
                return int(d.memory_limit)
    except Exception:  # an accelerator TensorFlow cannot describe: never picked by auto
        return None
    return None


def available_memory() -> int:
    """Bytes of RAM available to a new allocation.

    Returns
    -------
    int
        ``psutil.virtual_memory().available`` when psutil is installed, else the free
        physical pages (``os.sysconf``).
    """
    try:
        import psutil
    except ImportError:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    return int(psutil.virtual_memory().available)


def choose_cache(
    asked: str,
    nbytes: int,
    *,
    device_bytes: int | None,
    ram_bytes: int,
    strategy: str = "default",
) -> tuple[str, str]:
    """Where the training and validation frames are served from.

    ``auto`` picks ``device`` when there is an accelerator, one device trains (no
    distribution strategy) and the frames take at most :data:`DEVICE_FRACTION` of the
    accelerator's memory and :data:`MEMORY_FRACTION` of the RAM (they pass through it);
    else ``memory`` when they take at most :data:`MEMORY_FRACTION` of the RAM; else
    ``stream``. A mode asked for by name is used as it is.

    Parameters
    ----------
    asked : str
        ``TrainConfig.cache``: ``auto``, ``device``, ``memory`` or ``stream``.
    nbytes : int
        Bytes of the frames as float32.
    device_bytes : int or None
        The accelerator's memory (:func:`accelerator_memory`); None: no accelerator.
    ram_bytes : int
        RAM available (:func:`available_memory`).
    strategy : str
        ``TrainConfig.strategy``; ``device`` is for one device only.

    Returns
    -------
    mode : str
        ``device``, ``memory`` or ``stream``.
    reason : str
        Why, in words (recorded in ``metrics.json``; no machine figures, so the file stays the
        same run to run).

    Raises
    ------
    ConfigError
        ``asked`` is not a cache mode, or ``device`` under a distribution strategy.
    """
    if asked not in CACHE_MODES:
        raise ConfigError(f"cache must be one of {CACHE_MODES}, got {asked!r}")
    if asked == "device" and strategy != "default":
        raise ConfigError(
            f"cache device serves one device; with strategy {strategy!r} use memory or stream"
        )
    if asked != "auto":
        return asked, "asked for"
    # no machine figures in the reason: metrics.json stays the same run to run
    fits_ram = nbytes <= MEMORY_FRACTION * ram_bytes
    ram = f"{MEMORY_FRACTION:.0%} of the RAM available"
    if device_bytes is None:
        where = "no accelerator"
    elif strategy != "default":
        where = f"strategy {strategy}"
    elif nbytes > DEVICE_FRACTION * device_bytes:
        where = f"over {DEVICE_FRACTION:.0%} of the accelerator's memory"
    elif not fits_ram:
        where = f"over {ram}"
    else:
        return "device", f"fit in {DEVICE_FRACTION:.0%} of the accelerator's memory"
    if fits_ram:
        return "memory", f"{where}; fit in {ram}"
    return "stream", f"{where}; over {ram}"


class FrameFeed:
    """The training and validation batches of one run, served from one cache mode.

    Both are ``tf.data`` pipelines: a generator of the epoch's batch positions, a gather and a
    prefetch. The training order of epoch ``k`` of ``model.fit`` is
    ``epoch_order(n, True, seed, k + 1)`` cut into consecutive batches: the frame order the
    :func:`frame_batches` counter drew (Keras ends one epoch of a ``PyDataset`` before the
    first), now independent of how the frames are served, so a deterministic run gives the
    same weights in every mode. :meth:`callback` keeps :attr:`epoch`, which a resumed run
    restores (:func:`~musiclass.training.resume.resume_callback`).

    * ``device``: the frames are loaded once into a tensor on the accelerator (the CPU
      without one); the pipelines serve positions, and :meth:`prepare` makes the model's
      train and test steps gather the frames there (``tf.gather``);
    * ``memory``: the frames are loaded once into a NumPy array, batches gathered from it;
    * ``stream``: every batch is read from the store (:class:`StoreReader`): memory stays flat
      with the data size.

    Parameters
    ----------
    mode : str
        ``device``, ``memory`` or ``stream``.
    array : ChunkedArray
        The store array (:meth:`FeatureStore.array`).
    train_rows : np.ndarray [shape=(n,), int]
        Store rows of the training batches (repeats allowed).
    train_y : np.ndarray [shape=(n,) or (n, n_classes)]
        Their targets.
    val_rows : np.ndarray [shape=(m,), int]
        Store rows of the validation batches.
    val_y : np.ndarray [shape=(m,) or (m, n_classes)]
        Their targets.
    batch_size : int
        Frames per batch (the last batch of an epoch may be smaller).
    seed : int
        The seed of the training orders.
    weights : np.ndarray [shape=(n_train,), float32], optional
        Per-frame sample weights of the training rows, served as the batches' third element.

    Attributes
    ----------
    mode : str
        The cache mode.
    epoch : int
        The epoch number the next training order is drawn with.
    train, validation : tf.data.Dataset
        What ``model.fit`` is given: ``(x, y)`` or ``(x, y, weights)`` batches (``x``: float32
        frames, or their positions in the device tensor for ``device``).
    nbytes : int
        Bytes of the frames loaded (0 for ``stream``).
    """

    def __init__(
        self,
        mode: str,
        array,
        train_rows: np.ndarray,
        train_y: np.ndarray,
        val_rows: np.ndarray,
        val_y: np.ndarray,
        batch_size: int,
        *,
        seed: int = 0,
        weights: np.ndarray | None = None,
    ):
        if mode not in ("device", "memory", "stream"):
            raise ConfigError(f"a frame feed is device, memory or stream, got {mode!r}")
        self.mode, self.epoch, self.seed = mode, 0, int(seed)
        self.batch_size = int(batch_size)
        self._reader = StoreReader(array)
        self._frames = self._on_device = None
        train_rows = np.asarray(train_rows, dtype=np.int64)
        val_rows = np.asarray(val_rows, dtype=np.int64)
        self.frame_shape = tuple(int(s) for s in array.shape[1:])
        if mode == "stream":
            self.nbytes = 0
            train_at, val_at = train_rows, val_rows
        else:
            unique = np.unique(np.concatenate([train_rows, val_rows]))
            frames = self._reader.rows(unique)
            self._reader.close()
            self._frames = frames if frames.dtype == np.float32 else frames.astype(np.float32)
            self.nbytes = int(self._frames.nbytes)
            train_at = np.searchsorted(unique, train_rows)
            val_at = np.searchsorted(unique, val_rows)
        self.train = self._dataset(train_at, train_y, weights, shuffle=True)
        self.validation = self._dataset(val_at, val_y, None, shuffle=False)

    def __len__(self) -> int:
        return self._n_batches

    def _gather(self, at: np.ndarray) -> np.ndarray:
        if self.mode == "device":
            return at.astype(np.int64)
        if self.mode == "memory":
            out = aligned_empty((len(at), *self.frame_shape), np.float32)
            return np.take(self._frames, at, axis=0, out=out)
        x = self._reader.rows(at)
        return x if x.dtype == np.float32 else x.astype(np.float32)

    def _dataset(self, at, y, weights, *, shuffle: bool):
        import tensorflow as tf  # tensorflow: imported when a feed is made, never at import

        n, size = len(at), self.batch_size
        n_batches = math.ceil(n / size)
        if shuffle:
            self._n_batches = n_batches

        def positions():  # the epoch's batches, drawn when its first batch is asked for
            order = epoch_order(n, shuffle, self.seed, self.epoch)
            for i in range(n_batches):
                yield order[i * size : (i + 1) * size]

        def batch(sel: np.ndarray):
            out = (self._gather(at[sel]), y[sel])
            return out if weights is None else (*out, weights[sel])

        x_dtype = tf.int64 if self.mode == "device" else tf.float32
        x_shape = (None,) if self.mode == "device" else (None, *self.frame_shape)
        dtypes = [x_dtype, tf.as_dtype(y.dtype)] + ([tf.float32] if weights is not None else [])
        shapes = [x_shape, (None, *y.shape[1:])] + ([(None,)] if weights is not None else [])

        def tensors(sel):  # the gathered frames become a tensor without a copy
            return [as_tensor(a) for a in batch(sel.numpy())]

        def to_tensors(sel):
            out = tf.py_function(tensors, [sel], dtypes)
            for t, shape in zip(out, shapes):
                t.set_shape(shape)
            return tuple(out)

        ds = tf.data.Dataset.from_generator(
            positions, output_signature=tf.TensorSpec((None,), tf.int64)
        )
        # two gathers at a time, in order, ahead of the training step: the store's reads release
        # the GIL, and handing the batch over without a copy leaves little else under it
        ds = ds.map(to_tensors, num_parallel_calls=2, deterministic=True).prefetch(2)
        return ds.apply(tf.data.experimental.assert_cardinality(n_batches))

    def callback(self):
        """The Keras callback that keeps :attr:`epoch` (give it before the resume callback).

        Returns
        -------
        keras.callbacks.Callback
            Sets :attr:`epoch` to ``k + 1`` as epoch ``k`` begins and ``k + 2`` as it ends (what
            the resume state saves).
        """
        keras = import_keras()
        feed = self

        class EpochCounter(keras.callbacks.Callback):
            """Keep the feed's order counter in step with the epochs; see :meth:`FrameFeed.callback`."""

            def on_epoch_begin(self, epoch, logs=None):  # a Keras hook; numpydoc ignore=GL08
                feed.epoch = epoch + 1

            def on_epoch_end(self, epoch, logs=None):  # a Keras hook; numpydoc ignore=GL08
                feed.epoch = epoch + 2

        return EpochCounter()

    def prepare(self, model, device: str | None = None) -> None:
        """For ``device``: put the frames on the device and make ``model`` gather them there.

        The model's train and test steps get a batch of positions and gather its frames from
        the device tensor (``tf.gather``) before running as before; nothing is saved with the
        model; a second model prepared with the same feed shares the device tensor. Does nothing
        in the other modes.

        Parameters
        ----------
        model : keras.Model
            The compiled model about to be fitted on :attr:`train`.
        device : str, optional
            Where the frames go; default: the first GPU, else the CPU.
        """
        if self.mode != "device":
            return
        import tensorflow as tf  # tensorflow: only a fit gets here

        if self._on_device is None:
            if device is None:
                gpus = tf.config.list_logical_devices("GPU")
                device = gpus[0].name if gpus else "/device:CPU:0"
            with tf.device(device):
                self._on_device = tf.identity(tf.convert_to_tensor(self._frames))
            self._frames = None  # the host copy: another model reuses the device's
        frames = self._on_device
        train_step, test_step = model.train_step, model.test_step

        def gathered(data):  # numpydoc ignore=GL08
            return (tf.gather(frames, data[0]), *data[1:])

        model.train_step = lambda data: train_step(gathered(data))
        model.test_step = lambda data: test_step(gathered(data))

    def close(self) -> None:
        """Release the frames (host and device) and the store's open files."""
        self._frames = self._on_device = None
        self._reader.close()


def frame_feed(
    array,
    train_rows: np.ndarray,
    train_y: np.ndarray,
    val_rows: np.ndarray,
    val_y: np.ndarray,
    config: TrainConfig,
    *,
    weights: np.ndarray | None = None,
) -> tuple[FrameFeed, dict]:
    """The :class:`FrameFeed` of ``config.cache`` (``auto`` resolved by :func:`choose_cache`).

    Parameters
    ----------
    array : ChunkedArray
        The store array.
    train_rows : np.ndarray [shape=(n,), int]
        Store rows of the training batches.
    train_y : np.ndarray
        Their targets.
    val_rows : np.ndarray [shape=(m,), int]
        Store rows of the validation batches.
    val_y : np.ndarray
        Their targets.
    config : TrainConfig
        ``cache``, ``strategy``, ``batch_size`` and ``seed``.
    weights : np.ndarray [shape=(n_train,), float32], optional
        The training rows' sample weights.

    Returns
    -------
    feed : FrameFeed
        The batches.
    record : dict
        ``{"asked", "mode", "reason", "gib"}``: what ``metrics.json`` keeps under
        ``execution.cache``.

    Raises
    ------
    ConfigError
        ``device`` under a distribution strategy.
    """
    unique = np.unique(np.concatenate([np.asarray(train_rows), np.asarray(val_rows)]))
    nbytes = len(unique) * int(np.prod(array.shape[1:])) * 4
    if config.cache == "auto":
        device_bytes = accelerator_memory() if config.strategy == "default" else None
        ram_bytes = available_memory()
    else:
        device_bytes, ram_bytes = None, 0
    mode, reason = choose_cache(
        config.cache,
        nbytes,
        device_bytes=device_bytes,
        ram_bytes=ram_bytes,
        strategy=config.strategy,
    )
    feed = FrameFeed(
        mode,
        array,
        train_rows,
        train_y,
        val_rows,
        val_y,
        config.batch_size,
        seed=config.seed,
        weights=weights,
    )
    record = {
        "asked": config.cache,
        "mode": mode,
        "reason": reason,
        "gib": round(nbytes / 2**30, 3),
    }
    return feed, record
