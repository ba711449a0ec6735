"""The track index: the one table shape every dataset module produces.

Nothing downstream (extraction, splits, training) knows which dataset it reads; it sees a
:class:`TrackIndex`:

``tracks`` (a DataFrame, one row per usable track, in a stable order)
    * ``track_id``: unique string (``blues.00042``, ``track_0000948``)
    * ``path``: absolute path of the audio file
    * ``label``: the genre, or for multi-label data the tags joined by ``|`` (``calm|melodic``)
    * ``duration``: seconds, from the metadata or the file header (NaN when unknown)
    * ``artist``: artist identifier when known, else empty string
    * plus dataset-specific columns (``album``, ``relpath``, ...).
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
from ..layout import IndexFiles
from ..utils import atomic_path, read_csv_table, write_csv_atomic

TRACK_COLUMNS = ("track_id", "path", "label", "duration", "artist")
PROBLEM_COLUMNS = ("track_id", "path", "problem", "reason")
LABEL_SEP = "|"


def empty_problems() -> pd.DataFrame:
    """Return an empty problems table.

    Returns
    -------
    pandas.DataFrame
        No rows; the columns of :data:`PROBLEM_COLUMNS` (``track_id, path, problem, reason``),
        object dtype.
    """
    return pd.DataFrame({c: pd.Series(dtype=object) for c in PROBLEM_COLUMNS})


@dataclass
class TrackIndex:
    """The tracks of a dataset, their labels, and the problems found while indexing them.

    See the module docstring for the columns. On construction the track table is checked and
    re-indexed (``0 .. n-1``) and ``classes`` becomes a tuple; ``len(index)`` is the number of
    tracks. Dataset modules build it (:func:`musiclass.datasets.gtzan.index`,
    :func:`musiclass.datasets.jamendo.index`); :meth:`save` and :meth:`load` keep it in a folder.

    Attributes
    ----------
    tracks : pandas.DataFrame
        One row per usable track, with at least the columns of :data:`TRACK_COLUMNS`.
    classes : tuple of str
        The label vocabulary; class ``i`` is ``classes[i]``.
    multilabel : bool, default=False
        Whether a track may carry several labels (joined by ``|`` in ``label``).
    dataset : str, default="custom"
        The dataset's name (``"gtzan"``, ``"mtg-jamendo"``, ...).
    root : str, default=""
        The dataset root the audio paths lie in; empty for an index built in code without one.
    problems : pandas.DataFrame, default=empty_problems()
        ``track_id, path, problem, reason`` of the files reported instead of indexed.

    Raises
    ------
    ValueError
        When the track table lacks a column of :data:`TRACK_COLUMNS`, repeats a ``track_id``, or
        has a label outside ``classes``.

    Examples
    --------
    >>> import pandas as pd
    >>> from musiclass.datasets.base import TrackIndex
    >>> tracks = pd.DataFrame(
    ...     {"track_id": ["t1", "t2"], "path": ["/data/t1.mp3", "/data/t2.mp3"],
    ...      "label": ["calm|happy", "sad"], "duration": [212.7, 180.0], "artist": ["", ""]}
    ... )
    >>> index = TrackIndex(tracks, ("calm", "happy", "sad"), multilabel=True)
    >>> len(index), index.label_lists()
    (2, [['calm', 'happy'], ['sad']])
    >>> index.label_matrix().tolist()
    [[1, 1, 0], [0, 0, 1]]
    """

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
        """Per track, its labels as a list (one element unless multi-label).

        Returns
        -------
        list of list of str
            The labels of each track, in track order (an empty list for an empty label).
        """
        return [split_labels(v) for v in self.tracks["label"]]

    def label_lists_flat(self) -> list[str]:
        """Every label of every track, in track order, repeats included.

        Returns
        -------
        list of str
            The labels of :meth:`label_lists`, concatenated.
        """
        return [t for labels in self.label_lists() for t in labels]

    def label_ids(self) -> np.ndarray:
        """Integer class per track (single-label indexes only).

        Returns
        -------
        numpy.ndarray of shape (n_tracks,)
            ``int64`` indices into :attr:`classes`.

        Raises
        ------
        ValueError
            For a multi-label index (use :meth:`label_matrix`).
        """
        if self.multilabel:
            raise ValueError("label_ids() needs a single-label index; use label_matrix()")
        lookup = {c: i for i, c in enumerate(self.classes)}
        return np.array([lookup[v] for v in self.tracks["label"]], dtype=np.int64)

    def label_matrix(self) -> np.ndarray:
        """Multi-hot ``(n_tracks, n_classes)`` uint8 matrix (one-hot for single-label data).

        Returns
        -------
        numpy.ndarray of shape (n_tracks, n_classes)
            ``1`` where the track carries the class (see :func:`labels_to_matrix`).
        """
        return labels_to_matrix(self.tracks["label"], self.classes)

    def subset(self, track_ids) -> TrackIndex:
        """The rows whose ``track_id`` is in ``track_ids``, keeping this index's order.

        Parameters
        ----------
        track_ids : iterable of str
            The tracks to keep; ids that are not in the index are ignored.

        Returns
        -------
        TrackIndex
            A new index with the same classes, flags, root and (whole) problems table.
        """
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
        """Return the metadata :meth:`save` writes to ``tracks.json``.

        Returns
        -------
        dict
            ``classes`` (list), ``multilabel``, ``dataset``, ``root`` and ``n_tracks``.
        """
        return {
            "classes": list(self.classes),
            "multilabel": self.multilabel,
            "dataset": self.dataset,
            "root": self.root,
            "n_tracks": len(self),
        }

    def save(self, folder: str | Path) -> Path:
        """Write ``tracks.csv``, ``problems.csv`` and ``tracks.json`` (the metadata) into ``folder``.

        Each file is written atomically; the folder is created when missing.

        Parameters
        ----------
        folder : str or pathlib.Path
            The index folder.

        Returns
        -------
        pathlib.Path
            ``folder``.
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        write_csv_atomic(self.tracks, folder / IndexFiles.TRACKS)
        write_csv_atomic(self.problems, folder / IndexFiles.PROBLEMS)
        with atomic_path(folder / IndexFiles.META) as tmp:
            tmp.write_text(json.dumps(self.meta(), indent=2) + "\n", encoding="utf-8")
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> TrackIndex:
        """Read an index folder written by :meth:`save` (``musiclass index``).

        A missing ``problems.csv`` reads as no problems.

        Parameters
        ----------
        folder : str or pathlib.Path
            The index folder (or a feature store, which holds a copy of its index).

        Returns
        -------
        TrackIndex
            The index.

        Raises
        ------
        musiclass.errors.MetadataError
            Naming the file and the reason when a file is missing, cannot be parsed, ``tracks.json``
            lacks ``classes``/``multilabel``, or ``tracks.csv`` lacks a column, repeats a ``track_id``,
            has an empty ``track_id``, a non-numeric ``duration`` or a label outside ``classes`` (an
            empty label, for a single-label index), or names an audio path outside the dataset root
            recorded in ``tracks.json`` (an index written by ``musiclass index`` never leaves its root).
        """
        folder = Path(folder)
        meta_path, tracks_path = folder / IndexFiles.META, folder / IndexFiles.TRACKS
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
        problems_path = folder / IndexFiles.PROBLEMS
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
    """Split a ``label`` cell into its labels (on ``|``).

    Parameters
    ----------
    value : str or None
        The cell; None, NaN and ``""`` mean no label.

    Returns
    -------
    list of str
        The labels, in order.

    Examples
    --------
    >>> from musiclass.datasets.base import split_labels
    >>> split_labels("calm|melodic"), split_labels("rock"), split_labels("")
    (['calm', 'melodic'], ['rock'], [])
    """
    if value is None or (isinstance(value, float) and np.isnan(value)) or value == "":
        return []
    return str(value).split(LABEL_SEP)


def join_labels(labels) -> str:
    """Join labels into one ``label`` cell, separated by ``|`` (the inverse of :func:`split_labels`).

    Parameters
    ----------
    labels : iterable of str
        The labels.

    Returns
    -------
    str
        The cell (``""`` for no label).

    Examples
    --------
    >>> from musiclass.datasets.base import join_labels
    >>> join_labels(["calm", "melodic"])
    'calm|melodic'
    """
    return LABEL_SEP.join(labels)


def labels_to_matrix(values, classes) -> np.ndarray:
    """Turn ``label`` cells into a multi-hot matrix (one-hot for single labels).

    Parameters
    ----------
    values : iterable of str
        One ``label`` cell per row (labels joined by ``|``).
    classes : sequence of str
        The vocabulary; column ``i`` is ``classes[i]``.

    Returns
    -------
    numpy.ndarray of shape (n_rows, n_classes)
        ``uint8``, 1 where the row carries the class.

    Raises
    ------
    ValueError
        When a label is not one of ``classes``.

    Examples
    --------
    >>> from musiclass.datasets.base import labels_to_matrix
    >>> labels_to_matrix(["calm|sad", "sad"], ("calm", "happy", "sad")).tolist()
    [[1, 0, 1], [0, 0, 1]]
    """
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
