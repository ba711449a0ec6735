"""The track index: the one table shape every dataset module produces.

Nothing downstream (extraction, splits, training) knows which dataset it reads; it sees a
:class:`TrackIndex`:

``tracks`` (a DataFrame, one row per usable track, in a stable order)
    ``track_id``  unique string (``blues.00042``, ``track_0000948``)
    ``path``      absolute path of the audio file
    ``label``     the genre, or for multi-label data the tags joined by ``|`` (``calm|melodic``)
    ``duration``  seconds, from the metadata or the file header (NaN when unknown)
    ``artist``    artist identifier when known, else empty string
    plus dataset-specific columns (``album``, ``relpath``, ...).
``classes``
    the label vocabulary; class ``i`` is ``classes[i]`` (genres alphabetical, as in the original).
``multilabel``
    whether a track may carry several labels.
``problems`` (a DataFrame)
    ``track_id, path, problem, reason``: files that are missing, unreadable or short, reported
    instead of raised, so one bad file in a thousand does not stop anything.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import MetadataError
from ..utils import atomic_path, read_csv_table, write_csv_atomic

TRACK_COLUMNS = ("track_id", "path", "label", "duration", "artist")
PROBLEM_COLUMNS = ("track_id", "path", "problem", "reason")
LABEL_SEP = "|"


def empty_problems() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in PROBLEM_COLUMNS})


@dataclass
class TrackIndex:
    tracks: pd.DataFrame
    classes: tuple[str, ...]
    multilabel: bool = False
    dataset: str = "custom"
    root: str = ""
    problems: pd.DataFrame = field(default_factory=empty_problems)

    def __post_init__(self) -> None:
        missing = [c for c in TRACK_COLUMNS if c not in self.tracks.columns]
        if missing:
            raise ValueError(f"track table lacks column(s) {missing}")
        dup = self.tracks["track_id"][self.tracks["track_id"].duplicated()]
        if len(dup):
            raise ValueError(f"duplicate track_id(s): {sorted(dup)[:5]}")
        self.classes = tuple(self.classes)
        self.tracks = self.tracks.reset_index(drop=True)
        unknown = sorted(set(self.label_lists_flat()) - set(self.classes))
        if unknown:
            raise ValueError(f"labels not in classes: {unknown[:10]}")

    # ------------------------------------------------------------------ labels
    def __len__(self) -> int:
        return len(self.tracks)

    def label_lists(self) -> list[list[str]]:
        """Per track, its labels as a list (one element unless multi-label)."""
        return [split_labels(v) for v in self.tracks["label"]]

    def label_lists_flat(self) -> list[str]:
        return [t for labels in self.label_lists() for t in labels]

    def label_ids(self) -> np.ndarray:
        """Integer class per track (single-label indexes only)."""
        if self.multilabel:
            raise ValueError("label_ids() needs a single-label index; use label_matrix()")
        lookup = {c: i for i, c in enumerate(self.classes)}
        return np.array([lookup[v] for v in self.tracks["label"]], dtype=np.int64)

    def label_matrix(self) -> np.ndarray:
        """Multi-hot ``(n_tracks, n_classes)`` uint8 matrix (one-hot for single-label data)."""
        return labels_to_matrix(self.tracks["label"], self.classes)

    def subset(self, track_ids) -> TrackIndex:
        """The rows whose ``track_id`` is in ``track_ids``, keeping this index's order."""
        keep = self.tracks["track_id"].isin(set(track_ids))
        return TrackIndex(
            self.tracks[keep].copy(),
            self.classes,
            self.multilabel,
            self.dataset,
            self.root,
            self.problems,
        )

    # ------------------------------------------------------------------ persistence
    def meta(self) -> dict:
        return {
            "classes": list(self.classes),
            "multilabel": self.multilabel,
            "dataset": self.dataset,
            "root": self.root,
            "n_tracks": len(self),
        }

    def save(self, folder: str | Path) -> Path:
        """Write ``tracks.csv``, ``problems.csv`` and ``tracks.json`` (the metadata) into ``folder``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        write_csv_atomic(self.tracks, folder / "tracks.csv")
        write_csv_atomic(self.problems, folder / "problems.csv")
        with atomic_path(folder / "tracks.json") as tmp:
            tmp.write_text(json.dumps(self.meta(), indent=2) + "\n", encoding="utf-8")
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> TrackIndex:
        """Read an index folder written by :meth:`save` (``musiclass index``).

        Raises :class:`MetadataError` naming the file and the reason when a file is missing, cannot
        be parsed, ``tracks.json`` lacks ``classes``/``multilabel``, or ``tracks.csv`` lacks a column,
        repeats a ``track_id``, has an empty ``track_id``, a non-numeric ``duration`` or a label
        outside ``classes`` (an empty label, for a single-label index).
        """
        folder = Path(folder)
        meta_path, tracks_path = folder / "tracks.json", folder / "tracks.csv"
        for p in (meta_path, tracks_path):
            if not p.is_file():
                raise MetadataError(p, "missing: run `musiclass index` first")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise MetadataError(meta_path, f"not valid JSON ({exc})") from None
        except UnicodeDecodeError as exc:
            raise MetadataError(meta_path, f"not UTF-8 text (byte {exc.start})") from None
        classes, multilabel = _check_meta(meta_path, meta)
        tracks = _read_table(
            tracks_path,
            dtype={"track_id": str, "label": str, "artist": str},
            keep_default_na=False,
            na_values={"duration": [""]},
        )
        _check_tracks(tracks_path, tracks, classes, multilabel)
        _check_inside_root(tracks_path, tracks, meta.get("root", ""))
        problems_path = folder / "problems.csv"
        problems = (
            _read_table(problems_path, dtype=str, keep_default_na=False)
            if problems_path.is_file()
            else empty_problems()
        )
        return cls(
            tracks,
            classes,
            multilabel,
            meta.get("dataset", "custom"),
            meta.get("root", ""),
            problems,
        )


def _read_table(path: Path, **kwargs) -> pd.DataFrame:
    """``pd.read_csv`` that turns an unparsable file into a :class:`MetadataError` naming it."""
    return read_csv_table(path, **kwargs)


def _check_inside_root(path: Path, tracks: pd.DataFrame, root: str) -> None:
    """Every audio path of an index made from a dataset root stays inside that root.

    ``musiclass index`` only writes paths under the root, so a ``tracks.csv`` naming a file
    elsewhere was edited (or is hostile): extraction would decode whatever it names. The check is
    lexical (``..`` and absolute paths elsewhere are refused; symlinks inside the root are allowed,
    as annexed or cached datasets are made of them). Indexes built in code without a root are not
    checked.
    """
    if not root:
        return
    base = os.path.abspath(root)
    for row, value in enumerate(tracks["path"].astype(str), start=2):
        # a relative path may be relative to the root or, like a relative root, to the working folder
        seen_as = [value] if os.path.isabs(value) else [os.path.join(base, value), value]
        if not any(os.path.commonpath([base, os.path.abspath(p)]) == base for p in seen_as):
            raise MetadataError(
                path,
                f"line {row}: path {value!r} is outside the dataset root {root!r} "
                "(an index written by `musiclass index` never leaves its root)",
            )


def _check_meta(path: Path, meta) -> tuple[tuple[str, ...], bool]:
    """``(classes, multilabel)`` from a parsed ``tracks.json``; MetadataError when malformed."""
    if not isinstance(meta, dict):
        raise MetadataError(path, f"expected a JSON object, found {type(meta).__name__}")
    missing = [k for k in ("classes", "multilabel") if k not in meta]
    if missing:
        raise MetadataError(path, f"lacks key(s) {missing}: not written by `musiclass index`?")
    classes = meta["classes"]
    if not isinstance(classes, list) or not all(isinstance(c, str) and c for c in classes):
        raise MetadataError(path, "'classes' must be a list of non-empty class names")
    if len(set(classes)) != len(classes):
        raise MetadataError(path, "'classes' lists a class twice")
    if not isinstance(meta["multilabel"], bool):
        raise MetadataError(path, f"'multilabel' must be true or false, not {meta['multilabel']!r}")
    return tuple(classes), meta["multilabel"]


def _check_tracks(
    path: Path, tracks: pd.DataFrame, classes: tuple[str, ...], multilabel: bool
) -> None:
    """What :class:`TrackIndex` would refuse, as a :class:`MetadataError` naming ``tracks.csv`` and the row."""
    missing = [c for c in TRACK_COLUMNS if c not in tracks.columns]
    if missing:
        raise MetadataError(
            path, f"header lacks column(s) {missing}; expected at least {', '.join(TRACK_COLUMNS)}"
        )
    ids = tracks["track_id"]
    empty = np.flatnonzero((ids == "").to_numpy())
    if len(empty):
        raise MetadataError(path, f"empty track_id on line {empty[0] + 2}")
    dup = ids[ids.duplicated()]
    if len(dup):
        first = dup.iloc[0]
        lines = [i + 2 for i in np.flatnonzero((ids == first).to_numpy())[:2]]
        raise MetadataError(path, f"duplicate track_id {first!r} (lines {lines[0]} and {lines[1]})")
    if not pd.api.types.is_numeric_dtype(tracks["duration"]):
        bad = np.flatnonzero(
            (
                pd.to_numeric(tracks["duration"], errors="coerce").isna()
                & tracks["duration"].notna()
            ).to_numpy()
        )
        if len(bad):
            raise MetadataError(
                path,
                f"duration {tracks['duration'].iloc[bad[0]]!r} on line {bad[0] + 2} "
                "is not a number",
            )
    known = set(classes)
    for i, value in enumerate(tracks["label"]):
        labels = split_labels(value)
        if not labels and not multilabel:
            raise MetadataError(path, f"empty label on line {i + 2} (track {ids.iloc[i]!r})")
        unknown = [t for t in labels if t not in known]
        if unknown:
            raise MetadataError(
                path,
                f"label {unknown[0]!r} on line {i + 2} (track {ids.iloc[i]!r}) is not one "
                f"of the {len(classes)} classes in tracks.json",
            )


def split_labels(value) -> list[str]:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value == "":
        return []
    return str(value).split(LABEL_SEP)


def join_labels(labels) -> str:
    return LABEL_SEP.join(labels)


def labels_to_matrix(values, classes) -> np.ndarray:
    lookup = {c: i for i, c in enumerate(classes)}
    values = list(values)
    out = np.zeros((len(values), len(classes)), dtype=np.uint8)
    for row, value in enumerate(values):
        for t in split_labels(value):
            try:
                out[row, lookup[t]] = 1
            except KeyError:
                raise ValueError(f"label {t!r} is not one of the classes") from None
    return out
