"""The feature store: what extraction writes and training reads.

A store is a folder::

    manifest.json      config, its hash, shapes, counts; written last: a store without it is incomplete
    tracks.csv ...     the track index it was built from (tracks.csv, tracks.json, problems.csv)
    index.csv          one row per frame: row, track_id, frame, start (s), fill, label
    <rep>.npy          one array per representation, (n_rows, rows, columns), memory-mappable
    handcrafted.csv    one row per track: track_id, label, the 97 descriptors
    failures.csv       tracks that could not be processed: track_id, path, reason

During extraction each finished track is saved as one part file under ``parts-<hash>/`` (written
to a temporary name, then renamed, so a part is either complete or absent). Finalising copies the
parts, in track-index order, chunk by chunk into the ``.npy`` arrays, so the result does not
depend on the order in which workers finished and memory stays bounded by one track.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import __version__
from ..config import FrontendConfig
from ..datasets.base import TrackIndex
from ..errors import MetadataError
from ..utils import atomic_path, config_hash, safe_name, write_csv_atomic, write_json_atomic
from .handcrafted import DESCRIPTOR_NAMES

MANIFEST = "manifest.json"
INDEX = "index.csv"
HANDCRAFTED = "handcrafted.csv"
FAILURES = "failures.csv"
FORMAT_VERSION = 1


def tracks_fingerprint(index: TrackIndex) -> str:
    """Hash of what the store's content depends on: track ids, paths and labels, in order."""
    t = index.tracks
    return config_hash([t["track_id"].tolist(), t["path"].tolist(), t["label"].tolist()])


def parts_dir(out: Path, config: FrontendConfig) -> Path:
    return Path(out) / f"parts-{config.hash()}"


def part_path(parts: Path, track_id: str) -> Path:
    return parts / f"{safe_name(track_id)}.part"


# A part file is a plain sequence of .npy records (``np.save`` called repeatedly on one file):
# starts, fill, handcrafted (empty when off), then one record per representation. No zip, no
# pickle; each record's data sits at a known offset, so finalising can copy raw bytes.
_PART_FIXED = ("starts", "fill", "handcrafted")


def save_part(path: Path, arrays: dict[str, np.ndarray], starts: np.ndarray, fill: np.ndarray,
              handcrafted: np.ndarray | None, dtype: str) -> None:
    """Write one track's frames atomically."""
    records = [np.asarray(starts, dtype=np.float64), np.asarray(fill, dtype=np.float64),
               np.asarray(handcrafted if handcrafted is not None else [], dtype=np.float64)]
    records += [np.ascontiguousarray(v, dtype=dtype) for v in arrays.values()]
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        for r in records:
            np.save(f, r, allow_pickle=False)


def part_layout(path: Path, representations) -> dict[str, tuple[int, tuple, np.dtype]]:
    """``name -> (data offset, shape, dtype)`` of every record of a part file, reading headers only."""
    names = list(_PART_FIXED) + list(representations)
    layout = {}
    with open(path, "rb") as f:
        for name in names:
            version = np.lib.format.read_magic(f)
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            shape, fortran, dtype = read_header(f)
            if fortran:
                raise MetadataError(path, "part file holds a Fortran-ordered array")
            offset = f.tell()
            layout[name] = (offset, shape, dtype)
            f.seek(offset + int(np.prod(shape)) * dtype.itemsize)
    return layout


def load_part(path: Path, representations) -> dict[str, np.ndarray]:
    """Every record of a part file as arrays."""
    with open(path, "rb") as f:
        return {name: np.load(f, allow_pickle=False) for name in list(_PART_FIXED) + list(representations)}


def _copy_bytes(src, dst, offset: int, count: int) -> None:
    """Append ``count`` bytes of ``src`` from ``offset`` to ``dst``; kernel-side where possible."""
    dst.flush()
    if hasattr(os, "copy_file_range"):
        try:
            done = 0
            while done < count:
                n = os.copy_file_range(src.fileno(), dst.fileno(), count - done, offset + done)
                if n == 0:
                    break
                done += n
            if done == count:
                return
            count, offset = count - done, offset + done
        except OSError:  # e.g. across file systems on old kernels: copy in user space
            pass
    src.seek(offset)
    while count:
        chunk = src.read(min(count, 1 << 24))
        if not chunk:
            raise MetadataError(src.name, "part file is truncated")
        dst.write(chunk)
        count -= len(chunk)


def finalize(out: Path, index: TrackIndex, config: FrontendConfig, done: list[str],
             failures: pd.DataFrame, keep_parts: bool = False) -> "FeatureStore":
    """Assemble the parts of the tracks in ``done`` (in index order) into the store at ``out``."""
    out = Path(out)
    parts = parts_dir(out, config)
    done_set = set(done)
    order = [t for t in index.tracks["track_id"] if t in done_set]
    labels = dict(zip(index.tracks["track_id"], index.tracks["label"]))
    reps = list(config.representations)
    dtype = np.dtype(config.dtype)

    layouts = [part_layout(part_path(parts, t), reps) for t in order]
    counts = [lay["starts"][1][0] for lay in layouts]
    n_rows = int(sum(counts))
    shapes = {r: (n_rows, *config.shape(r)) for r in reps}
    for t, lay in zip(order, layouts):
        for r in reps:
            if lay[r][1][1:] != shapes[r][1:] or lay[r][2] != dtype:
                raise MetadataError(part_path(parts, t), f"{r} has shape {lay[r][1]} {lay[r][2]}, expected "
                                                         f"(n, {shapes[r][1]}, {shapes[r][2]}) {dtype}")

    # one .npy per representation, written sequentially: header, then each part's raw bytes
    starts: list[np.ndarray] = []
    fills: list[np.ndarray] = []
    handcrafted_rows: list[np.ndarray] = []
    with contextlib.ExitStack() as stack:
        files = {}
        for r in reps:
            tmp = stack.enter_context(atomic_path(out / f"{r}.npy"))
            files[r] = stack.enter_context(open(tmp, "wb"))
            np.lib.format.write_array_header_1_0(files[r], {
                "descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shapes[r]})
        for t, lay in zip(order, layouts):
            path = part_path(parts, t)
            fixed = {}
            with open(path, "rb") as src:
                for name in _PART_FIXED:
                    fixed[name] = np.load(src, allow_pickle=False)
                for r in reps:
                    offset, shape, _ = lay[r]
                    _copy_bytes(src, files[r], offset, int(np.prod(shape)) * dtype.itemsize)
            starts.append(fixed["starts"])
            fills.append(fixed["fill"])
            if config.handcrafted:
                handcrafted_rows.append(fixed["handcrafted"])
        for f in files.values():
            f.close()  # before the atomic renames of the ExitStack

    counts_arr = np.asarray(counts, dtype=np.int64)
    frame_index = pd.DataFrame({
        "row": np.arange(n_rows),
        "track_id": np.repeat(np.asarray(order, dtype=object), counts_arr),
        "frame": np.arange(n_rows) - np.repeat(np.cumsum(counts_arr) - counts_arr, counts_arr),
        "start": np.concatenate(starts).round(6) if starts else np.empty(0),
        "fill": np.concatenate(fills).round(6) if fills else np.empty(0),
        "label": np.repeat(np.asarray([labels[t] for t in order], dtype=object), counts_arr),
    })
    write_csv_atomic(frame_index, out / INDEX)

    if config.handcrafted:
        table = pd.DataFrame(np.vstack(handcrafted_rows) if handcrafted_rows else
                             np.empty((0, len(DESCRIPTOR_NAMES))), columns=list(DESCRIPTOR_NAMES))
        table.insert(0, "label", [labels[t] for t in order])
        table.insert(0, "track_id", order)
        write_csv_atomic(table, out / HANDCRAFTED, float_format="%.9g")
    else:
        (out / HANDCRAFTED).unlink(missing_ok=True)
    write_csv_atomic(failures, out / FAILURES)
    index.save(out)

    manifest = {
        "format_version": FORMAT_VERSION,
        "musiclass_version": __version__,
        "config": config.to_dict(),
        "config_hash": config.hash(),
        "tracks_fingerprint": tracks_fingerprint(index),
        "dataset": index.dataset,
        "classes": list(index.classes),
        "multilabel": index.multilabel,
        "n_tracks": len(order),
        "n_failed": int(len(failures)),
        "n_rows": n_rows,
        "representations": {r: {"file": f"{r}.npy", "shape": list(shapes[r]), "dtype": config.dtype}
                            for r in reps},
        "handcrafted": HANDCRAFTED if config.handcrafted else None,
    }
    write_json_atomic(out / MANIFEST, manifest)
    if not keep_parts:
        shutil.rmtree(parts, ignore_errors=True)
    return FeatureStore(out)


@dataclass
class FeatureStore:
    """Read access to a finished store. Arrays are memory-mapped: nothing is loaded until used."""

    path: Path

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        mpath = self.path / MANIFEST
        if not mpath.is_file():
            raise MetadataError(mpath, "no manifest: this is not a complete feature store "
                                       "(run or resume `musiclass extract`)")
        try:
            self.manifest = json.loads(mpath.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise MetadataError(mpath, f"not valid JSON ({exc})") from None
        self.config = FrontendConfig.from_dict(self.manifest["config"])
        self._index: pd.DataFrame | None = None

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(self.manifest["classes"])

    @property
    def multilabel(self) -> bool:
        return bool(self.manifest["multilabel"])

    @property
    def representations(self) -> tuple[str, ...]:
        return tuple(self.manifest["representations"])

    @property
    def index(self) -> pd.DataFrame:
        """Frame table: ``row, track_id, frame, start, fill, label``."""
        if self._index is None:
            self._index = pd.read_csv(self.path / INDEX, dtype={"track_id": str, "label": str},
                                      keep_default_na=False)
        return self._index

    def array(self, representation: str, mmap: bool = True) -> np.ndarray:
        """The ``(n_rows, rows, columns)`` array of one representation (memory-mapped by default)."""
        info = self.manifest["representations"].get(representation)
        if info is None:
            raise KeyError(f"{representation!r} not in this store; it has {self.representations}")
        return np.load(self.path / info["file"], mmap_mode="r" if mmap else None, allow_pickle=False)

    def tracks(self) -> TrackIndex:
        return TrackIndex.load(self.path)

    def handcrafted(self) -> pd.DataFrame:
        if not self.manifest.get("handcrafted"):
            raise KeyError("this store was extracted with handcrafted=False")
        return pd.read_csv(self.path / HANDCRAFTED, dtype={"track_id": str, "label": str}, keep_default_na=False)

    def failures(self) -> pd.DataFrame:
        return pd.read_csv(self.path / FAILURES, dtype=str, keep_default_na=False)

    def label_matrix(self) -> np.ndarray:
        """Per frame row, the multi-hot (or one-hot) label vector, ``(n_rows, n_classes)`` uint8."""
        from ..datasets.base import labels_to_matrix

        return labels_to_matrix(self.index["label"], self.classes)

    def summary(self) -> str:
        m = self.manifest
        reps = ", ".join(f"{r} {tuple(v['shape'])}" for r, v in m["representations"].items())
        return (f"feature store {self.path}: {m['n_tracks']} tracks, {m['n_rows']} frames, "
                f"{len(m['classes'])} classes ({m['dataset']}), config {m['config_hash']}; "
                f"{reps}; {m['n_failed']} failed")
