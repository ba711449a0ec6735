"""The feature store: what extraction writes and training reads.

A store is a folder::

    manifest.json          config, its hash, shapes, counts, the chunk list; written last:
                           a store without it is incomplete (extraction can resume it)
    extracting.json        the config being extracted (lets a restarted run check it resumes the same)
    chunks/<rep>/<id>.npy  one standard .npy per representation per track, (frames, rows, columns)
    chunks/meta/<id>.npy   per track: frame starts, fill, descriptors (written last: the track is done)
    index.csv              one row per frame: row, track_id, frame, start (s), fill, label
    handcrafted.csv        one row per track: track_id, label, the 97 descriptors
    embeddings-<model>.csv one row per track: track_id, label, a pretrained network's embeddings
                           (written afterwards by musiclass.pretrained.embeddings; optional)
    failures.csv           tracks that could not be processed: track_id, path, reason, kind
                           (transient: retried by the next run; permanent: the file's content)
    fingerprints.csv       per track of the index: track_id, path, size, mtime_ns, sample_hash (what
                           a later run reuses chunks by: the same path and content, never the id alone)
    tracks.csv ...         the track index it was built from (tracks.csv, tracks.json, problems.csv)

Each track's chunks are written once, by the worker that computed them, to a temporary name and
then renamed: a chunk is complete or absent, a killed run loses at most the tracks in flight, and
nothing is ever copied a second time (with spectrograms a store is gigabytes: writing it twice
made extraction disk-bound). :meth:`FeatureStore.array` presents the chunks of one representation
as a single ``(n_rows, rows, columns)`` array, each chunk memory-mapped on first use.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import __version__
from ..config import FrontendConfig
from ..datasets.base import TrackIndex, labels_to_matrix
from ..errors import ConfigError, MetadataError
from ..layout import StoreFiles
from ..utils import (
    atomic_path,
    config_hash,
    read_json_object,
    remove_temporaries,
    safe_name,
    write_csv_atomic,
    write_json_atomic,
)
from .handcrafted import DESCRIPTOR_NAMES

MANIFEST = StoreFiles.MANIFEST
EXTRACTING = StoreFiles.EXTRACTING
INDEX = StoreFiles.INDEX
HANDCRAFTED = StoreFiles.HANDCRAFTED
FAILURES = StoreFiles.FAILURES
FINGERPRINTS = StoreFiles.FINGERPRINTS
CHUNKS = StoreFiles.CHUNKS
META = StoreFiles.META
EMBEDDINGS = StoreFiles.EMBEDDINGS
EMBEDDING_FAILURES = StoreFiles.EMBEDDING_FAILURES
FORMAT_VERSION = 2


def tracks_fingerprint(index: TrackIndex) -> str:
    """Hash of what the store's content depends on: track ids, paths and labels, in order.

    Parameters
    ----------
    index : TrackIndex
        The track index the store is built from.

    Returns
    -------
    str
        12 hex digits (:func:`musiclass.utils.config_hash`).
    """
    t = index.tracks
    return config_hash([t["track_id"].tolist(), t["path"].tolist(), t["label"].tolist()])


#: bytes read from each end of an audio file for its fingerprint
SAMPLE_BYTES = 64 * 1024
FINGERPRINT_COLUMNS = ("track_id", "path", "size", "mtime_ns", "sample_hash")
FAILURE_COLUMNS = ("track_id", "path", "reason", "kind")


def file_fingerprint(path: str | os.PathLike) -> tuple[int, int, str]:
    """Fingerprint one audio file's content: size, modification time and a hash of both ends.

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    size : int
        Its size in bytes; -1 when it cannot be ``stat``-ed (missing).
    mtime_ns : int
        Its modification time in nanoseconds (0 when missing).
    sample_hash : str
        BLAKE2b (16 bytes, hex) of the size and the first and last :data:`SAMPLE_BYTES` (the whole
        file when shorter); ``""`` when it cannot be read.

    Examples
    --------
    >>> from musiclass.features.store import file_fingerprint
    >>> file_fingerprint("no/such/file.wav")
    (-1, 0, '')
    """
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return -1, 0, ""
    h = hashlib.blake2b(str(st.st_size).encode(), digest_size=16)
    try:
        with open(path, "rb") as f:
            h.update(f.read(SAMPLE_BYTES))
            if st.st_size > SAMPLE_BYTES:
                f.seek(max(SAMPLE_BYTES, st.st_size - SAMPLE_BYTES))
                h.update(f.read(SAMPLE_BYTES))
    except OSError:
        return int(st.st_size), int(st.st_mtime_ns), ""
    return int(st.st_size), int(st.st_mtime_ns), h.hexdigest()


def fingerprint_table(index: TrackIndex, threads: int = 8) -> pd.DataFrame:
    """Fingerprint every track of an index (:func:`file_fingerprint`), a few files at a time.

    Parameters
    ----------
    index : TrackIndex
        The tracks.
    threads : int, default=8
        Files read at once (the reads are small; on a network filesystem their latency dominates).

    Returns
    -------
    pandas.DataFrame
        :data:`FINGERPRINT_COLUMNS`, one row per track, in index order.
    """
    ids = index.tracks["track_id"].astype(str).tolist()
    paths = index.tracks["path"].astype(str).tolist()
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        prints = list(pool.map(file_fingerprint, paths))
    return pd.DataFrame(
        {
            "track_id": ids,
            "path": paths,
            "size": np.array([p[0] for p in prints], dtype=np.int64),
            "mtime_ns": np.array([p[1] for p in prints], dtype=np.int64),
            "sample_hash": [p[2] for p in prints],
        },
        columns=list(FINGERPRINT_COLUMNS),
    )


def read_fingerprints(store: Path) -> pd.DataFrame | None:
    """Read a store's ``fingerprints.csv``: the tracks its chunks were computed from.

    Parameters
    ----------
    store : pathlib.Path
        The store folder.

    Returns
    -------
    pandas.DataFrame or None
        :data:`FINGERPRINT_COLUMNS`; None when the store has none (a store of musiclass 0.x before
        fingerprints, or no run has started) or the file cannot be read.
    """
    path = Path(store) / FINGERPRINTS
    if not path.is_file():
        return None
    try:
        t = pd.read_csv(
            path,
            dtype={"track_id": str, "path": str, "sample_hash": str},
            keep_default_na=False,
        )
        if list(t.columns) != list(FINGERPRINT_COLUMNS):
            return None
        return t.astype({"size": np.int64, "mtime_ns": np.int64})
    except (OSError, ValueError, pd.errors.ParserError):
        return None


def write_fingerprints(store: Path, table: pd.DataFrame) -> None:
    """Write ``fingerprints.csv`` atomically.

    Parameters
    ----------
    store : pathlib.Path
        The store folder.
    table : pandas.DataFrame
        :data:`FINGERPRINT_COLUMNS` (:func:`fingerprint_table`).
    """
    write_csv_atomic(table[list(FINGERPRINT_COLUMNS)], Path(store) / FINGERPRINTS)


def read_failures(store: Path) -> pd.DataFrame:
    """Read a store's ``failures.csv`` (empty when it has none).

    Parameters
    ----------
    store : pathlib.Path
        The store folder.

    Returns
    -------
    pandas.DataFrame
        :data:`FAILURE_COLUMNS` (strings); ``kind`` is ``""`` in a store written before failures
        had kinds (such failures are retried, as transient ones).
    """
    path = Path(store) / FAILURES
    try:
        t = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, pd.errors.ParserError, pd.errors.EmptyDataError):
        return pd.DataFrame(columns=list(FAILURE_COLUMNS))
    if "kind" not in t.columns:
        t["kind"] = ""
    return t.reindex(columns=list(FAILURE_COLUMNS), fill_value="")


def remove_track(store: Path, track_id: str) -> None:
    """Delete one track's chunks: the meta chunk first (so the track stops counting as done).

    Parameters
    ----------
    store : pathlib.Path
        The store folder.
    track_id : str
        The track.
    """
    meta_path(store, track_id).unlink(missing_ok=True)
    chunks = Path(store) / CHUNKS
    for folder in chunks.iterdir() if chunks.is_dir() else ():
        if folder.is_dir():
            (folder / f"{safe_name(track_id)}.npy").unlink(missing_ok=True)


def chunk_path(store: Path, representation: str, track_id: str) -> Path:
    """Return the file of one track's chunk of one representation: ``chunks/<rep>/<id>.npy``.

    Parameters
    ----------
    store : pathlib.Path
        The store folder.
    representation : str
        The representation (``"mel"``, ...), or ``"meta"`` for the meta chunk.
    track_id : str
        The track; its file name is :func:`musiclass.utils.safe_name` of it.

    Returns
    -------
    pathlib.Path
        The chunk's path.

    Examples
    --------
    >>> from pathlib import Path
    >>> from musiclass.features.store import chunk_path
    >>> chunk_path(Path("store"), "mel", "blues.00042").as_posix()
    'store/chunks/mel/blues.00042.npy'
    """
    return Path(store) / CHUNKS / representation / f"{safe_name(track_id)}.npy"


def meta_path(store: Path, track_id: str) -> Path:
    """Return the file of one track's meta chunk (frame starts, fill, descriptors).

    Parameters
    ----------
    store : pathlib.Path
        The store folder.
    track_id : str
        The track.

    Returns
    -------
    pathlib.Path
        ``chunks/meta/<id>.npy`` in the store.
    """
    return chunk_path(store, META, track_id)


def is_done(store: Path, track_id: str) -> bool:
    """Tell whether a track is done: its meta chunk exists (it is written after its representations).

    Parameters
    ----------
    store : pathlib.Path
        The store folder.
    track_id : str
        The track.

    Returns
    -------
    bool
        True when the track's chunks are all written.
    """
    return meta_path(store, track_id).is_file()


def save_track(
    store: Path,
    track_id: str,
    arrays: dict[str, np.ndarray],
    starts: np.ndarray,
    fill: np.ndarray,
    handcrafted: np.ndarray | None,
    dtype: str,
) -> None:
    """Write one track's chunks, each atomically; the meta chunk last.

    Parameters
    ----------
    store : pathlib.Path
        The store folder.
    track_id : str
        The track.
    arrays : dict of str to numpy.ndarray
        Representation name -> ``(frames, rows, columns)`` array (:attr:`~musiclass.features.frontend.Frames.arrays`).
    starts : numpy.ndarray of shape (frames,)
        Frame starts in seconds.
    fill : numpy.ndarray of shape (frames,)
        Audio fraction of each frame.
    handcrafted : numpy.ndarray of shape (97,) or None
        The track's descriptors, or None when the store has none.
    dtype : str
        Dtype the representations are stored in (``"float32"`` or ``"float16"``).
    """
    for rep, a in arrays.items():
        with atomic_path(chunk_path(store, rep, track_id)) as tmp:
            np.save(tmp, np.ascontiguousarray(a, dtype=dtype), allow_pickle=False)
    records = (
        np.asarray(starts, dtype=np.float64),
        np.asarray(fill, dtype=np.float64),
        np.asarray(handcrafted if handcrafted is not None else [], dtype=np.float64),
    )
    with atomic_path(meta_path(store, track_id)) as tmp, open(tmp, "wb") as f:
        for r in records:
            np.save(f, r, allow_pickle=False)


def load_meta(store: Path, track_id: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read the meta chunk of a finished track.

    Parameters
    ----------
    store : pathlib.Path
        The store folder.
    track_id : str
        The track.

    Returns
    -------
    starts : numpy.ndarray
        Frame starts in seconds.
    fill : numpy.ndarray
        Audio fraction of each frame.
    handcrafted : numpy.ndarray
        The 97 descriptors, or an empty array when the store has none.
    """
    with open(meta_path(store, track_id), "rb") as f:
        return tuple(np.load(f, allow_pickle=False) for _ in range(3))  # type: ignore[return-value]


def begin(out: Path, config: FrontendConfig, force: bool, index: TrackIndex | None = None) -> None:
    """Claim ``out`` for ``config``: resume a run of the same config, refuse another unless ``force``.

    Temporary files of a killed run are removed first. With ``force``, the chunks of an
    unfinished extraction with another config (or, when there is no claim, any chunks) are
    deleted. The claim, ``extracting.json``, records the config being extracted.

    Parameters
    ----------
    out : pathlib.Path
        The store folder.
    config : FrontendConfig
        The config about to be extracted.
    force : bool
        Discard an unfinished extraction with another config instead of refusing.
    index : TrackIndex, optional
        The index about to be extracted: its dataset and root are recorded in the claim (a later
        run of another index is refused, see :func:`musiclass.features.extract.extract`).

    Raises
    ------
    musiclass.errors.ConfigError
        When ``out`` holds an unfinished extraction with another config and ``force`` is False.
    """
    out = Path(out)
    remove_temporaries(
        out
    )  # a run killed while finalizing left them (chunk folders: see _remove_orphans)
    claim = out / EXTRACTING
    if claim.is_file():
        try:
            previous = json.loads(claim.read_text(encoding="utf-8")).get("config_hash")
        except json.JSONDecodeError:
            previous = None
        if previous != config.hash():
            if not force:
                raise ConfigError(
                    f"{out} holds an unfinished extraction with another config ({previous} vs {config.hash()}); "
                    "pass --force to discard it, or choose another output folder"
                )
            shutil.rmtree(out / CHUNKS, ignore_errors=True)
    elif (out / CHUNKS).exists() and force:
        shutil.rmtree(out / CHUNKS, ignore_errors=True)
    record = {"config_hash": config.hash(), "config": config.to_dict()}
    if index is not None:
        record |= {"dataset": index.dataset, "root": index.root}
    write_json_atomic(claim, record)


def finalize(
    out: Path, index: TrackIndex, config: FrontendConfig, done: list[str], failures: pd.DataFrame
) -> FeatureStore:
    """Write the tables and the manifest for the finished tracks (``done``, taken in index order).

    ``index.csv``, ``handcrafted.csv`` (removed when the config computes no descriptors),
    ``failures.csv`` and the track index are written, chunks of tracks not in the store are
    deleted, then the manifest is written (last: it marks the store complete) and the claim
    ``extracting.json`` removed.

    Parameters
    ----------
    out : pathlib.Path
        The store folder.
    index : TrackIndex
        The track index extracted.
    config : FrontendConfig
        The config extracted.
    done : list of str
        The tracks whose chunks are complete.
    failures : pandas.DataFrame
        :data:`FAILURE_COLUMNS` of the tracks that could not be processed.

    Returns
    -------
    FeatureStore
        The finished store.
    """
    out = Path(out)
    done_set = set(done)
    order = [t for t in index.tracks["track_id"] if t in done_set]
    labels = dict(zip(index.tracks["track_id"], index.tracks["label"]))
    reps = list(config.representations)

    metas = [load_meta(out, t) for t in order]
    counts = np.array([len(m[0]) for m in metas], dtype=np.int64)
    n_rows = int(counts.sum())
    offsets = np.concatenate([[0], np.cumsum(counts)])
    frame_index = pd.DataFrame(
        {
            "row": np.arange(n_rows),
            "track_id": np.repeat(np.asarray(order, dtype=object), counts),
            "frame": np.arange(n_rows) - np.repeat(offsets[:-1], counts),
            "start": np.concatenate([m[0] for m in metas]).round(6) if metas else np.empty(0),
            "fill": np.concatenate([m[1] for m in metas]).round(6) if metas else np.empty(0),
            "label": np.repeat(np.asarray([labels[t] for t in order], dtype=object), counts),
        }
    )
    write_csv_atomic(frame_index, out / INDEX)

    if config.handcrafted:
        values = np.vstack([m[2] for m in metas]) if metas else np.empty((0, len(DESCRIPTOR_NAMES)))
        table = pd.DataFrame(values, columns=list(DESCRIPTOR_NAMES))
        table.insert(0, "label", [labels[t] for t in order])
        table.insert(0, "track_id", order)
        write_csv_atomic(table, out / HANDCRAFTED, float_format="%.9g")
    else:
        (out / HANDCRAFTED).unlink(missing_ok=True)
    write_csv_atomic(failures, out / FAILURES)
    index.save(out)
    _remove_orphans(out, set(order), reps)

    manifest = {
        "format_version": FORMAT_VERSION,
        "musiclass_version": __version__,
        "config": config.to_dict(),
        "config_hash": config.hash(),
        "tracks_fingerprint": tracks_fingerprint(index),
        "dataset": index.dataset,
        "root": index.root,
        "classes": list(index.classes),
        "multilabel": index.multilabel,
        "n_tracks": len(order),
        "n_failed": int(len(failures)),
        "n_rows": n_rows,
        "representations": {
            r: {
                "folder": f"{CHUNKS}/{r}",
                "shape": [n_rows, *config.shape(r)],
                "dtype": config.dtype,
            }
            for r in reps
        },
        "chunks": [
            {"track_id": t, "file": f"{safe_name(t)}.npy", "rows": int(c)}
            for t, c in zip(order, counts)
        ],
        "handcrafted": HANDCRAFTED if config.handcrafted else None,
    }
    write_json_atomic(out / MANIFEST, manifest)
    (out / EXTRACTING).unlink(missing_ok=True)
    return FeatureStore(out)


def _remove_orphans(out: Path, keep: set[str], reps: list[str]) -> None:
    """Delete chunks of tracks that are not in the store (failed now, or dropped from the index)."""
    wanted = {f"{safe_name(t)}.npy" for t in keep}
    for folder in [out / CHUNKS / r for r in reps] + [out / CHUNKS / META]:
        if folder.is_dir():
            for p in folder.iterdir():
                if p.name not in wanted:
                    p.unlink()
    for folder in (out / CHUNKS).iterdir() if (out / CHUNKS).is_dir() else ():
        if folder.name not in reps and folder.name != META:
            shutil.rmtree(folder)


def write_embeddings(
    store: str | Path, model: str, table: pd.DataFrame, failures: pd.DataFrame
) -> Path:
    """Write a pretrained network's per-track embeddings beside the descriptor table.

    Parameters
    ----------
    store : str or pathlib.Path
        The store folder (or any folder: the files are plain CSV).
    model : str
        The pretrained model's name (``musicnn-msd``, ...): it names the file.
    table : pandas.DataFrame
        ``track_id``, ``label``, then the embedding columns; one row per track.
    failures : pandas.DataFrame
        ``track_id, path, reason`` of the tracks that could not be embedded.

    Returns
    -------
    pathlib.Path
        ``embeddings-<model>.csv`` in the store (written atomically, as is its failures file).

    Raises
    ------
    musiclass.errors.ConfigError
        When ``table`` does not start with ``track_id`` and ``label``, or repeats a track.
    """
    if list(table.columns[:2]) != ["track_id", "label"]:
        raise ConfigError("an embedding table starts with the columns track_id, label")
    if table["track_id"].duplicated().any():
        raise ConfigError("an embedding table has one row per track: a track_id repeats")
    path = Path(store) / EMBEDDINGS.format(model=safe_name(model))
    write_csv_atomic(failures, Path(store) / EMBEDDING_FAILURES.format(model=safe_name(model)))
    write_csv_atomic(table, path, float_format="%.9g")
    return path


def read_embeddings(store: str | Path, model: str) -> pd.DataFrame:
    """Read the embedding table of one pretrained model (:func:`write_embeddings`).

    Parameters
    ----------
    store : str or pathlib.Path
        The store folder.
    model : str
        The pretrained model's name.

    Returns
    -------
    pandas.DataFrame
        ``track_id``, ``label`` (strings) and the embedding columns (float64).

    Raises
    ------
    musiclass.errors.MetadataError
        When the store holds no embeddings of that model.
    """
    path = Path(store) / EMBEDDINGS.format(model=safe_name(model))
    if not path.is_file():
        raise MetadataError(path, f"no {model} embeddings in this store: extract them first")
    table = pd.read_csv(path, dtype={"track_id": str, "label": str}, keep_default_na=False)
    return table.astype({c: np.float64 for c in table.columns[2:]})  # "0" columns stay floats


class ChunkedArray:
    """The chunks of one representation, seen as one ``(n_rows, rows, columns)`` array.

    Indexing with an integer, a slice or an array of row numbers returns a NumPy array (gathered
    from the memory-mapped chunks, in the order asked); ``np.asarray(a)`` loads everything.
    At most ``max_open`` chunks stay mapped at once: pages of a mapped chunk count in the process's
    resident memory once read, so a small bound keeps training's memory flat however large the
    store (re-opening a chunk costs tens of microseconds, nothing beside a training step).
    A tuple index selects rows first, then applies the other axes to the gathered rows.

    Parameters
    ----------
    folder : pathlib.Path
        The representation's chunk folder.
    files : list of str
        The chunk file names, in row order.
    rows : list of int
        Rows (frames) in each chunk.
    shape : tuple of int
        ``(n_rows, rows, columns)`` of the whole array.
    dtype : str
        The chunks' dtype.
    max_open : int, default=64
        Most chunks kept memory-mapped at once (least recently used are closed).

    Attributes
    ----------
    folder : pathlib.Path
        The chunk folder.
    files : list of str
        The chunk file names.
    max_open : int
        Most chunks kept memory-mapped at once.
    shape : tuple of int
        ``(n_rows, rows, columns)``.
    dtype : numpy.dtype
        The dtype of the rows returned.
    ndim : int
        Number of dimensions, ``len(shape)``.
    offsets : numpy.ndarray
        First row of each chunk, and the total, ``(n_chunks + 1,)``.
    """

    def __init__(
        self,
        folder: Path,
        files: list[str],
        rows: list[int],
        shape: tuple[int, ...],
        dtype: str,
        max_open: int = 64,
    ):
        self.folder = Path(folder)
        self.files = files
        self.offsets = np.concatenate([[0], np.cumsum(np.asarray(rows, dtype=np.int64))])
        self.shape = tuple(int(s) for s in shape)
        self.dtype = np.dtype(dtype)
        self.max_open = max_open
        self._open: OrderedDict[int, np.ndarray] = OrderedDict()

    ndim = property(lambda self: len(self.shape))

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return f"ChunkedArray(shape={self.shape}, dtype={self.dtype}, chunks={len(self.files)})"

    def chunk(self, i: int) -> np.ndarray:
        """Return chunk ``i`` (one track's frames), memory-mapped.

        Parameters
        ----------
        i : int
            The chunk's position in :attr:`files`.

        Returns
        -------
        numpy.ndarray
            A read-only memory map of shape ``(frames, rows, columns)``.

        Raises
        ------
        musiclass.errors.MetadataError
            Naming the chunk when it is missing, not a plain numeric ``.npy`` file (object arrays are
            never unpickled), or not of the shape the manifest says.
        """
        a = self._open.get(i)
        if a is None:
            path = self.folder / self.files[i]
            try:
                a = np.load(path, mmap_mode="r", allow_pickle=False)
            except FileNotFoundError:
                raise MetadataError(
                    path, "chunk missing: the store is damaged; re-run `musiclass extract`"
                ) from None
            except (
                ValueError
            ) as exc:  # object arrays (pickles), or not a .npy file at all: never unpickled
                raise MetadataError(
                    path,
                    f"not a plain numeric .npy chunk ({exc}); the store is damaged or was "
                    "not written by `musiclass extract`",
                ) from None
            expected = (int(self.offsets[i + 1] - self.offsets[i]), *self.shape[1:])
            if a.shape != expected:
                raise MetadataError(
                    path, f"chunk has shape {a.shape}, the manifest says {expected}"
                )
            self._open[i] = a
            if len(self._open) > self.max_open:
                self._open.popitem(last=False)
        else:
            self._open.move_to_end(i)
        return a

    def rows(self, rows) -> np.ndarray:
        """Return the given rows (any order, repeats allowed), as a new array.

        Parameters
        ----------
        rows : array-like of int
            Row numbers; negative ones count from the end.

        Returns
        -------
        numpy.ndarray of shape (len(rows), rows, columns)
            The rows, in the order asked; each chunk involved is read once.

        Raises
        ------
        IndexError
            When a row number is out of range.
        musiclass.errors.MetadataError
            When a chunk needed is damaged (see :meth:`chunk`).
        """
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        if rows.size and (rows.min() < -len(self) or rows.max() >= len(self)):
            raise IndexError(f"row index out of range for {len(self)} rows")
        rows = np.where(rows < 0, rows + len(self), rows)
        out = np.empty((rows.size, *self.shape[1:]), dtype=self.dtype)
        which = np.searchsorted(self.offsets, rows, side="right") - 1
        # group the requests by chunk with one sort: each chunk is then read once, in one slice
        order = np.argsort(which, kind="stable")
        chunks, starts = np.unique(which[order], return_index=True)
        for c, sel in zip(chunks, np.split(order, starts[1:])):
            out[sel] = self.chunk(int(c))[rows[sel] - self.offsets[c]]
        return out

    def __getitem__(self, key):
        if isinstance(key, tuple):  # rows first, then the remaining axes on the gathered rows
            rows, rest = key[0], key[1:]
            return self[rows][rest] if np.isscalar(rows) else self[rows][(slice(None), *rest)]
        if isinstance(key, (int, np.integer)):
            return self.rows([key])[0]
        if isinstance(key, slice):
            return self.rows(np.arange(len(self))[key])
        return self.rows(key)

    def __array__(self, dtype=None, copy=None):
        a = self.rows(np.arange(len(self)))
        return a if dtype is None else a.astype(dtype, copy=False)


def _plain_chunk_name(name: str) -> bool:
    """``NAME.npy`` with no folder part, not hidden (what :func:`chunk_path` writes, via ``safe_name``)."""
    return (
        name == Path(name).name
        and "/" not in name
        and "\\" not in name
        and not name.startswith(".")
        and name.endswith(".npy")
    )


#: what every manifest holds (checked on opening, so a damaged one is named, not a KeyError)
MANIFEST_KEYS = ("config", "classes", "multilabel", "representations", "chunks")


@dataclass
class FeatureStore:
    """Read access to a finished store.

    Open one with ``FeatureStore(path)``; the manifest is read and checked at once, the tables
    and chunks when first asked for.

    Attributes
    ----------
    path : pathlib.Path
        The store folder.
    manifest : dict
        The parsed ``manifest.json``.
    config : FrontendConfig
        The frontend the store was extracted with.

    Raises
    ------
    musiclass.errors.MetadataError
        When the folder has no manifest (an incomplete store: run or resume ``musiclass extract``),
        the manifest is not valid JSON, or its format version is not this package's.
    musiclass.errors.ConfigError
        When the manifest's config is not a valid frontend config.

    Examples
    --------
    >>> from musiclass.features.store import FeatureStore
    >>> store = FeatureStore("runs/gtzan/store")  # doctest: +SKIP
    >>> mel = store.array("mel")  # doctest: +SKIP
    >>> mel.shape[1:], mel[[0, 5]].shape  # doctest: +SKIP
    ((128, 130), (2, 128, 130))
    """

    path: Path

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        mpath = self.path / MANIFEST
        if not mpath.is_file():
            raise MetadataError(
                mpath,
                "no manifest: this is not a complete feature store "
                "(run or resume `musiclass extract`)",
            )
        self.manifest = read_json_object(mpath)  # not JSON, or a list: MetadataError
        lacking = [k for k in MANIFEST_KEYS if k not in self.manifest]
        if lacking and self.manifest.get("format_version") == FORMAT_VERSION:
            raise MetadataError(
                mpath, f"lacks key(s) {lacking}: damaged (re-run `musiclass extract --force`)"
            )
        if self.manifest.get("format_version") != FORMAT_VERSION:
            raise MetadataError(
                mpath,
                f"store format {self.manifest.get('format_version')} is not "
                f"{FORMAT_VERSION}: re-run `musiclass extract --force`",
            )
        for key, kind, name in (
            ("config", dict, "an object"),
            ("representations", dict, "an object"),
            ("chunks", list, "a list"),
        ):
            if not isinstance(self.manifest[key], kind):
                raise MetadataError(mpath, f"{key!r} must be {name}: damaged")
        self.config = FrontendConfig.from_dict(self.manifest["config"])
        self._index: pd.DataFrame | None = None
        self._arrays: dict[str, ChunkedArray] = {}

    @property
    def classes(self) -> tuple[str, ...]:
        """The label vocabulary of the store; class ``i`` is ``classes[i]``.

        Returns
        -------
        tuple of str
            The classes, from the manifest.
        """
        return tuple(self.manifest["classes"])

    @property
    def multilabel(self) -> bool:
        """Whether a track may carry several labels.

        Returns
        -------
        bool
            The index's ``multilabel`` flag, from the manifest.
        """
        return bool(self.manifest["multilabel"])

    @property
    def representations(self) -> tuple[str, ...]:
        """The representations stored.

        Returns
        -------
        tuple of str
            Their names (``"spectrogram"``, ``"mel"``, ``"mfcc"``), from the manifest.
        """
        return tuple(self.manifest["representations"])

    @property
    def index(self) -> pd.DataFrame:
        """Frame table: ``row, track_id, frame, start, fill, label``.

        Read from ``index.csv`` on first use, then kept.

        Returns
        -------
        pandas.DataFrame
            One row per frame; ``track_id`` and ``label`` are strings.
        """
        if self._index is None:
            self._index = pd.read_csv(
                self.path / INDEX, dtype={"track_id": str, "label": str}, keep_default_na=False
            )
        return self._index

    def array(self, representation: str) -> ChunkedArray:
        """All frames of one representation, ``(n_rows, rows, columns)``, read on demand.

        Parameters
        ----------
        representation : str
            One of :attr:`representations`.

        Returns
        -------
        ChunkedArray
            The frames, one chunk per track (the same object on every call).

        Raises
        ------
        KeyError
            When the store does not hold ``representation``.
        musiclass.errors.MetadataError
            When the manifest names a chunk folder outside ``chunks/`` of the store or a chunk file
            that is not a plain ``.npy`` name: every file read is inside the store.
        """
        info = self.manifest["representations"].get(representation)
        if info is None:
            raise KeyError(f"{representation!r} not in this store; it has {self.representations}")
        if representation not in self._arrays:
            chunks = self.manifest["chunks"]
            folder, files = str(info["folder"]), [str(c["file"]) for c in chunks]
            # every file read is inside the store: the manifest names chunks, it does not point elsewhere
            if (
                Path(folder).is_absolute()
                or ".." in Path(folder).parts
                or not folder.startswith(f"{CHUNKS}/")
            ):
                raise MetadataError(
                    self.path / MANIFEST,
                    f"representation folder {folder!r} is not inside {CHUNKS}/ of the store",
                )
            bad = [f for f in files if not _plain_chunk_name(f)]
            if bad:
                raise MetadataError(
                    self.path / MANIFEST,
                    f"chunk file name {bad[0]!r} is not a plain .npy file name inside the store",
                )
            self._arrays[representation] = ChunkedArray(
                self.path / folder,
                files,
                [c["rows"] for c in chunks],
                tuple(info["shape"]),
                info["dtype"],
            )
        return self._arrays[representation]

    def tracks(self) -> TrackIndex:
        """Read the track index the store was built from.

        Returns
        -------
        TrackIndex
            :meth:`~musiclass.datasets.base.TrackIndex.load` of the store folder.

        Raises
        ------
        musiclass.errors.MetadataError
            As :meth:`~musiclass.datasets.base.TrackIndex.load`.
        """
        return TrackIndex.load(self.path)

    def handcrafted(self) -> pd.DataFrame:
        """Read the descriptor table: one row per track.

        Returns
        -------
        pandas.DataFrame
            ``track_id``, ``label`` and the 97 descriptors.

        Raises
        ------
        KeyError
            When the store was extracted with ``handcrafted=False``.
        """
        if not self.manifest.get("handcrafted"):
            raise KeyError("this store was extracted with handcrafted=False")
        return pd.read_csv(
            self.path / HANDCRAFTED, dtype={"track_id": str, "label": str}, keep_default_na=False
        )

    def embeddings(self, model: str = "musicnn-msd") -> pd.DataFrame:
        """Read a pretrained network's embedding table: one row per track.

        Parameters
        ----------
        model : str, default="musicnn-msd"
            The pretrained model's name.

        Returns
        -------
        pandas.DataFrame
            ``track_id``, ``label`` and the embeddings (:func:`read_embeddings`).

        Raises
        ------
        musiclass.errors.MetadataError
            When the store holds none of that model.
        """
        return read_embeddings(self.path, model)

    def failures(self) -> pd.DataFrame:
        """Read the tracks that could not be processed.

        Returns
        -------
        pandas.DataFrame
            ``track_id, path, reason, kind`` (strings; see :func:`read_failures`).
        """
        return read_failures(self.path)

    def label_matrix(self) -> np.ndarray:
        """Per frame row, the multi-hot (or one-hot) label vector, ``(n_rows, n_classes)`` uint8.

        Returns
        -------
        numpy.ndarray of shape (n_rows, n_classes)
            1 where the frame's track carries the class.
        """
        return labels_to_matrix(self.index["label"], self.classes)

    def summary(self) -> str:
        """Describe the store in one line: tracks, frames, classes, config hash, shapes and failures.

        Returns
        -------
        str
            The line.
        """
        m = self.manifest
        reps = ", ".join(f"{r} {tuple(v['shape'])}" for r, v in m["representations"].items())
        return (
            f"feature store {self.path}: {m['n_tracks']} tracks, {m['n_rows']} frames, "
            f"{len(m['classes'])} classes ({m['dataset']}), config {m['config_hash']}; "
            f"{reps}; {m['n_failed']} failed"
        )
