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
    instead of raised, so one bad file in a thousand does not stop anything. A problem of
    :data:`WARNINGS` (``short``, ``identical``, ``duration``, ``normalised``) keeps its track in
    ``tracks``; every other problem means the entry was left out.

Helpers shared by the dataset modules: :class:`RootGuard` (symbolic links inside the dataset root
are followed, links out of it refused unless allowed), :func:`name_problem` (file names that are
not UTF-8 or hold control characters), :func:`shown` (a path made printable for a report),
:func:`identical_files` (exact duplicate content) and :func:`duration_disagrees`.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DatasetError, MetadataError
from ..layout import IndexFiles
from ..utils import atomic_path, read_csv_table, write_csv_atomic

TRACK_COLUMNS = ("track_id", "path", "label", "duration", "artist")
PROBLEM_COLUMNS = ("track_id", "path", "problem", "reason")
LABEL_SEP = "|"

#: problems that keep their track in the index (warnings); any other problem left the entry out
WARNINGS = ("short", "identical", "duration", "normalised")
#: problems of an audio file that leave its track out (``untagged`` and ``tag`` are the metadata's)
FILE_PROBLEMS = ("missing", "corrupt", "unsafe", "unexpected", "duplicate")

#: a header (or decoded) duration disagrees with the metadata's when they differ by more than
#: ``max(DURATION_TOLERANCE_S, DURATION_TOLERANCE_SHARE * metadata)`` seconds
DURATION_TOLERANCE_S = 1.0
DURATION_TOLERANCE_SHARE = 0.02

#: the control characters (Unicode category Cc), escaped by :func:`shown`
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
#: a path with neither control characters nor surrogate escapes (undecodable bytes)
_PLAIN = re.compile("[^\x00-\x1f\x7f-\x9f\ud800-\udfff]*")

#: bytes read for the first content hash of same-size files (the full hash only if these agree)
_HEAD_BYTES = 1 << 16


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
            lacks ``classes``/``multilabel``/``root`` (or, for a ``gtzan`` or ``mtg-jamendo`` index, has
            an empty ``root``), or ``tracks.csv`` lacks a column, repeats a ``track_id``,
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
        root = _check_root(meta_path, meta)
        tracks = _read_table(
            tracks_path,
            dtype={"track_id": str, "label": str, "artist": str},
            keep_default_na=False,
            na_values={"duration": [""]},
        )
        _check_tracks(tracks_path, tracks, classes, multilabel)
        _check_inside_root(tracks_path, tracks, root)
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
            root,
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


def _check_root(path: Path, meta: dict) -> str:
    """The ``root`` of a parsed ``tracks.json``: required, since it confines the audio paths.

    ``musiclass index`` always writes it; without it ``tracks.csv`` could name any file. An index
    built in code may have an empty root (nothing to confine to), but not one of a real dataset.
    """
    if "root" not in meta:
        raise MetadataError(
            path,
            "lacks key 'root' (the dataset folder that confines the audio paths): "
            "re-run `musiclass index`",
        )
    root = meta["root"]
    if not isinstance(root, str):
        raise MetadataError(path, f"'root' must be a folder name, not {root!r}")
    if not root and meta.get("dataset") in ("gtzan", "mtg-jamendo"):
        raise MetadataError(
            path,
            f"'root' is empty, but a {meta['dataset']} index always has its dataset folder: "
            "re-run `musiclass index`",
        )
    return root


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


# ---------------------------------------------------------------------------------- shared checks
class RootGuard:
    """Symbolic links under a dataset root: followed inside it, refused out of it unless allowed.

    Both dataset modules check each audio path with one guard, so GTZAN and MTG-Jamendo treat
    links alike. The folder of a path is resolved once and cached, so a tree of 18,000 files
    costs about one ``lstat`` per file.

    Parameters
    ----------
    root : str or os.PathLike
        The dataset root (made absolute; its own symbolic links are resolved).
    allow_outside_links : bool, default=False
        Follow links whose target lies outside ``root`` instead of refusing them
        (``musiclass index --allow-outside-links``).
    what : str, default="dataset root"
        How a refusal names the root (``"audio root"`` for MTG-Jamendo).

    Examples
    --------
    >>> from musiclass.datasets.base import RootGuard
    >>> RootGuard("/data/gtzan").refusal("/data/gtzan/genres/blues/blues.00000.wav") is None
    True
    """

    def __init__(
        self,
        root: str | os.PathLike,
        *,
        allow_outside_links: bool = False,
        what: str = "dataset root",
    ):
        self.what = what
        self.root = os.path.abspath(root)
        self.root_real = os.path.realpath(self.root)
        self.allow_outside_links = allow_outside_links
        self._folders: dict[str, str | OSError] = {}

    def refusal(self, path: str | os.PathLike) -> tuple[str, str] | None:
        """Why ``path`` may not be read, as ``(problem, reason)``, or None when it may.

        Parameters
        ----------
        path : str or os.PathLike
            An audio path under the root (it need not exist: a missing file is for the caller
            to report).

        Returns
        -------
        tuple of (str, str) or None
            ``("corrupt", ...)`` for a symbolic link loop (of the file or a folder on the way),
            ``("unsafe", ...)`` for a path that resolves outside the root (unless
            ``allow_outside_links``), None otherwise.
        """
        folder, name = os.path.split(os.path.abspath(path))
        folder_real = self._folders.get(folder)
        if folder_real is None:
            folder_real = self._folders[folder] = _resolve(folder)
        if isinstance(folder_real, OSError):
            return "corrupt", f"symbolic link loop in its folder ({folder_real.strerror})"
        real = os.path.join(folder_real, name)
        if os.path.islink(real):
            resolved = _resolve(real)
            if isinstance(resolved, OSError):
                return "corrupt", f"symbolic link loop ({resolved.strerror})"
            real = resolved
        if self.allow_outside_links or _inside(real, self.root_real):
            return None
        return (
            "unsafe",
            f"resolves to {shown(real)}, outside the {self.what} {shown(self.root_real)} "
            "(a symbolic link out of the root; pass --allow-outside-links to follow it)",
        )


def _resolve(path: str) -> str | OSError:
    """``realpath`` of ``path``; a missing target resolves lexically, a loop is returned as the error."""
    try:
        return os.path.realpath(path, strict=True)
    except FileNotFoundError:
        return os.path.realpath(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return exc
        return os.path.realpath(path)


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def check_root_name(root: str | os.PathLike) -> None:
    """Refuse a dataset root whose path cannot be written to ``tracks.csv`` (UTF-8, one line).

    Parameters
    ----------
    root : str or os.PathLike
        The dataset root.

    Raises
    ------
    musiclass.errors.DatasetError
        When the path is not valid UTF-8 or holds a control character: every track path under
        it would be unusable, so nothing is indexed.
    """
    problem = name_problem(os.fspath(root))
    if problem is not None:
        raise DatasetError(
            f"{shown(root)}: cannot index under this folder: its path {problem.removeprefix('file name ')}"
        )


def name_problem(name: str) -> str | None:
    """Why a file name cannot name a track, or None when it can.

    Parameters
    ----------
    name : str
        A file name as :func:`os.scandir` gives it (bytes that are not UTF-8 come as surrogate
        escapes).

    Returns
    -------
    str or None
        The reason: the name is not valid UTF-8, or holds a control character (a newline, a tab,
        ...: a track id must print on one line); None for a usable name.

    Examples
    --------
    >>> from musiclass.datasets.base import name_problem
    >>> name_problem("blues.00001.wav") is None
    True
    >>> name_problem("blues.00001\\n.wav")
    'file name holds a control character (U+000A)'
    """
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "file name is not valid UTF-8 (the bytes that are not are shown as \\xNN)"
    bad = _CONTROL.search(name)
    if bad is not None:
        return f"file name holds a control character (U+{ord(bad.group()):04X})"
    return None


def shown(path: str | os.PathLike) -> str:
    """A path made printable on one line: bytes that are not UTF-8 and control characters escaped.

    Parameters
    ----------
    path : str or os.PathLike
        The path.

    Returns
    -------
    str
        The path, with each undecodable byte and each control character as ``\\xNN``
        (``\\n`` for a newline, ``\\t`` for a tab); a plain path is returned unchanged.

    Examples
    --------
    >>> from musiclass.datasets.base import shown
    >>> print(shown("blues/blues.00001\\n.wav"))
    blues/blues.00001\\n.wav
    """
    text = os.fspath(path)
    if isinstance(text, str) and _PLAIN.fullmatch(text):
        return text
    text = os.fsencode(path).decode("utf-8", "backslashreplace")
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def identical_files(paths: Sequence[str | os.PathLike]) -> list[list[int]]:
    """Group files of identical content: cheap first (size), then hashes only where sizes agree.

    Files of one size are told apart by a BLAKE2b hash of their first 64 KiB, and only those
    that still agree are hashed whole. A file that cannot be read is in no group.

    Parameters
    ----------
    paths : sequence of str or os.PathLike
        The files.

    Returns
    -------
    list of list of int
        The positions in ``paths`` of each set of two or more files with the same bytes, each
        set in ``paths`` order, the sets ordered by their first position.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from musiclass.datasets.base import identical_files
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for name, data in [("a", b"xy"), ("b", b"xz"), ("c", b"xy")]:
    ...     _ = (d / name).write_bytes(data)
    >>> identical_files([d / "a", d / "b", d / "c"])
    [[0, 2]]
    """
    by_size: dict[int, list[int]] = {}
    for i, p in enumerate(paths):
        try:
            by_size.setdefault(os.stat(p).st_size, []).append(i)
        except OSError:
            continue
    groups: list[list[int]] = []
    for same_size in by_size.values():
        if len(same_size) < 2:
            continue
        by_head = _group_by(same_size, lambda i: _digest(paths[i], _HEAD_BYTES))
        for same_head in by_head:
            groups.extend(_group_by(same_head, lambda i: _digest(paths[i], None)))
    return sorted(groups, key=lambda g: g[0])


def _group_by(members: list[int], key) -> list[list[int]]:
    """The groups of two or more ``members`` sharing ``key(member)`` (None: unreadable, no group)."""
    out: dict[str, list[int]] = {}
    for i in members:
        k = key(i)
        if k is not None:
            out.setdefault(k, []).append(i)
    return [g for g in out.values() if len(g) > 1]


def _digest(path, limit: int | None) -> str | None:
    h = hashlib.blake2b(digest_size=20)
    try:
        with open(path, "rb") as f:
            if limit is not None:
                h.update(f.read(limit))
            else:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
    except OSError:
        return None
    return h.hexdigest()


def identical_problems(tracks: pd.DataFrame) -> list[dict]:
    """One ``identical`` problem for each track whose file has the same bytes as an earlier one.

    Both tracks stay in the index (the user decides which to drop; GTZAN's artist-filtered split
    already leaves out its known repetitions).

    Parameters
    ----------
    tracks : pandas.DataFrame
        A track table (``track_id``, ``path``).

    Returns
    -------
    list of dict
        Problem rows (``track_id, path, problem, reason``), in track order.
    """
    ids, paths = list(tracks["track_id"]), list(tracks["path"])
    rows = []
    for group in identical_files(paths):
        first = group[0]
        for i in group[1:]:
            rows.append(
                {
                    "track_id": ids[i],
                    "path": shown(paths[i]),
                    "problem": "identical",
                    "reason": f"exact duplicate audio: the same bytes as {ids[first]} "
                    f"({shown(paths[first])}); both kept",
                }
            )
    return rows


def duration_disagrees(measured: float, expected: float) -> bool:
    """Whether a measured duration disagrees with the metadata's beyond the stated tolerance.

    Parameters
    ----------
    measured : float
        Seconds, from the file's header or its decoded signal.
    expected : float
        Seconds, from the metadata.

    Returns
    -------
    bool
        True when ``|measured - expected|`` exceeds ``max(DURATION_TOLERANCE_S,
        DURATION_TOLERANCE_SHARE * expected)`` (1 s, or 2 % of a track longer than 50 s);
        False when either is NaN.

    Examples
    --------
    >>> from musiclass.datasets.base import duration_disagrees
    >>> duration_disagrees(2.0, 212.7), duration_disagrees(212.1, 212.7)
    (True, False)
    """
    if not (np.isfinite(measured) and np.isfinite(expected)):
        return False
    return abs(measured - expected) > max(DURATION_TOLERANCE_S, DURATION_TOLERANCE_SHARE * expected)
