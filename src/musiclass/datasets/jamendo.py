"""MTG-Jamendo, mood/theme subset: strict metadata parsing, tag curation, and the track index.

.. admonition:: Dataset card

    **What it is.** MTG-Jamendo (Bogdanov et al., 2019 [1]_) is an open dataset for music
    auto-tagging: over 55,000 full-length tracks from Jamendo, distributed as 320 kbps MP3, with
    195 tags of three categories (genre, instrument, mood/theme) given by the content uploaders.
    Its mood/theme subset, the one this module reads, has 18,486 tracks and 59 tags; the official
    splits keep 56. It is the data of the MediaEval 2019-2021 "Emotion and Theme Recognition in
    Music" task, which scored split-0 by ROC-AUC and PR-AUC (:data:`musiclass.reference.MEDIAEVAL`).

    **Licence.** The metadata (the annotation and split files) is CC BY-NC-SA 4.0; each audio
    file has its own Creative Commons licence (listed in the dataset repository's
    ``audio_licenses.txt``); the dataset repository's code is Apache 2.0. musiclass neither ships
    nor downloads the audio: point :func:`index` at a copy you have.

    **Known faults.**

    * The tags are the uploaders', not an annotation: incomplete (a missing tag is not a
      negative), uneven in how tags are used, and heavily imbalanced between tags.
    * Themes (film, advertising, corporate, ...) are mixed with moods, and near-synonyms co-exist
      (``fun`` and ``funny``, ``film`` and ``movie``, ``drama`` and ``dramatic``): the original
      2020 study dropped 19 theme tags (:data:`THEME_TAGS`) and merged ``funny`` into ``fun``.
    * Tags describe a whole track of several minutes, not each excerpt: a 29.1 s frame inherits
      tags that may not hold in it (weak labels).
    * The official splits drop three tags too rare to appear in every part (ambiental, horror,
      mellow: :data:`SPLIT_DROPPED_TAGS`).

MTG-Jamendo ships its annotations as tab-separated files::

    TRACK_ID<TAB>ARTIST_ID<TAB>ALBUM_ID<TAB>PATH<TAB>DURATION<TAB>TAGS
    track_0000948<TAB>artist_000087<TAB>album_000149<TAB>48/948.mp3<TAB>212.7<TAB>mood/theme---background

one header, then one row per track; the header names a single ``TAGS`` column but a row carries one
extra tab-separated field per tag (``category---name``: ``mood/theme---happy``, ``genre---rock``,
``instrument---piano``). ``PATH`` is relative to the audio folder (``NN/ID.mp3``, ``NN`` = the last
two digits of the numeric id), ``DURATION`` is the full track's length in seconds. The released files
use CRLF line ends; LF is accepted too.

* ``autotagging_moodtheme.tsv``: 18,486 tracks, 59 mood/theme tags (:data:`MOODTHEME_TAGS`).
* ``splits/split-{0..4}/autotagging_moodtheme-{train,validation,test}.tsv``: the official splits,
  56 tags (:data:`SPLIT_TAGS`: without ambiental, horror, mellow). MediaEval 2019-2021 used split-0:
  9,949 / 3,802 / 4,231 tracks.

:func:`read_tsv` rejects a malformed file with a :class:`MetadataError` naming the file and line;
:func:`curate` applies a tag curation; :func:`index` builds the :class:`TrackIndex`, reporting
missing or unreadable audio instead of raising; :func:`audio_path` refuses any ``PATH`` that would
leave the audio folder.

References
----------
.. [1] D. Bogdanov, M. Won, P. Tovstogan, A. Porter and X. Serra, "The MTG-Jamendo dataset for
   automatic music tagging", Machine Learning for Music Discovery Workshop, ICML 2019.
"""

from __future__ import annotations

import math
import os
import re
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from .. import audio
from ..errors import AudioError, ConfigError, MetadataError
from .base import (
    DURATION_TOLERANCE_S,
    DURATION_TOLERANCE_SHARE,
    LABEL_SEP,
    PROBLEM_COLUMNS,
    RootGuard,
    TrackIndex,
    check_root_name,
    duration_disagrees,
    empty_problems,
    identical_problems,
    join_labels,
    shown,
)

HEADER = ("TRACK_ID", "ARTIST_ID", "ALBUM_ID", "PATH", "DURATION", "TAGS")
TAG_SEP = "---"
CATEGORY = "mood/theme"

#: the 59 tags of ``autotagging_moodtheme.tsv`` (``tags/moodtheme.txt``), alphabetical
MOODTHEME_TAGS = (
    "action",
    "adventure",
    "advertising",
    "ambiental",
    "background",
    "ballad",
    "calm",
    "children",
    "christmas",
    "commercial",
    "cool",
    "corporate",
    "dark",
    "deep",
    "documentary",
    "drama",
    "dramatic",
    "dream",
    "emotional",
    "energetic",
    "epic",
    "fast",
    "film",
    "fun",
    "funny",
    "game",
    "groovy",
    "happy",
    "heavy",
    "holiday",
    "hopeful",
    "horror",
    "inspiring",
    "love",
    "meditative",
    "melancholic",
    "mellow",
    "melodic",
    "motivational",
    "movie",
    "nature",
    "party",
    "positive",
    "powerful",
    "relaxing",
    "retro",
    "romantic",
    "sad",
    "sexy",
    "slow",
    "soft",
    "soundscape",
    "space",
    "sport",
    "summer",
    "trailer",
    "travel",
    "upbeat",
    "uplifting",
)

#: the tags of the full subset that the official split files drop
SPLIT_DROPPED_TAGS = ("ambiental", "horror", "mellow")
#: the 56 tags of the official splits (``tags/moodtheme_split.txt``): too rare for a split
#: that has every tag in each part, ambiental, horror and mellow were dropped
SPLIT_TAGS = tuple(t for t in MOODTHEME_TAGS if t not in SPLIT_DROPPED_TAGS)

#: the 19 tags the original 2020 study judged to be themes rather than moods, and dropped
THEME_TAGS = (
    "action",
    "adventure",
    "advertising",
    "background",
    "children",
    "commercial",
    "corporate",
    "documentary",
    "drama",
    "dramatic",
    "epic",
    "fast",
    "film",
    "game",
    "movie",
    "nature",
    "soundscape",
    "space",
    "trailer",
)

#: tags the original study merged (``funny`` counted as ``fun``)
ORIGINAL_MERGES = {"funny": "fun"}

#: the original study dropped tags carried by fewer tracks than this
ORIGINAL_MIN_TRACKS = 10

CURATIONS = ("none", "official", "original")
CHECKS = ("none", "exists", "header", "decode")
SPLIT_PARTS = ("train", "validation", "test")
COLUMNS = ("track_id", "artist", "album", "relpath", "duration", "tags")
_DRIVE = re.compile(r"^[A-Za-z]:")  # a Windows drive: C:/x, C:x


# ---------------------------------------------------------------------------------- parsing
def read_tsv(
    path: str | os.PathLike,
    *,
    category: str | None = CATEGORY,
    vocabulary=None,
    report: list | None = None,
) -> pd.DataFrame:
    """Parse an MTG-Jamendo metadata or split file, strictly.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.tsv`` file (UTF-8, CRLF or LF line ends; a trailing newline is optional; a byte
        order mark is skipped).
    category : str or None, default="mood/theme"
        Keep only tags of this category (``"mood/theme"``, ``"genre"``, ``"instrument"``),
        named without their prefix (``happy``); tags of other categories are ignored. ``None`` keeps
        every tag, written in full (``genre---rock``).
    vocabulary : collection of str, optional
        Allowed tag names (with or without the ``category---`` prefix); a kept tag outside it is an
        error.
    report : list, optional
        When given, receives a problem row (``track_id, path, problem, reason`` with ``path`` the
        row's PATH) for each tag that was respelled (``normalised``: spaces, including no-break
        spaces, around the category or the name are stripped and both are case-folded, so
        ``Mood/Theme--- Emotional`` reads as ``mood/theme---emotional``) or dropped (``tag``: a
        name holding ``|``, the label separator, or a control character).

    Returns
    -------
    pandas.DataFrame
        One row per track, in file order: ``track_id`` (str), ``artist`` (ARTIST_ID),
        ``album`` (ALBUM_ID), ``relpath`` (PATH, POSIX, relative to the audio folder), ``duration``
        (float, seconds) and ``tags`` (tuple of tag names in file order, duplicates removed; empty when
        the track has no tag of ``category``).

    Raises
    ------
    musiclass.errors.MetadataError
        Naming the file and the line, for: a missing or empty file (or a folder), text that is not
        UTF-8, a header other than ``TRACK_ID ARTIST_ID ALBUM_ID PATH DURATION TAGS``, a row with
        fewer than 6 fields, an empty TRACK_ID, a duplicate TRACK_ID, a DURATION that is not a
        finite number >= 0, a PATH that is empty, absolute, contains ``..`` or a NUL character, a
        tag without a ``category---`` prefix (or with an empty name), a tag not in ``vocabulary``,
        a kept tag whose name holds ``|`` or a control character (unless ``report`` is given:
        then it is dropped and reported).

    Examples
    --------
    >>> from musiclass.datasets import jamendo
    >>> df = jamendo.read_tsv("mtg-jamendo-dataset/data/autotagging_moodtheme.tsv")  # doctest: +SKIP
    >>> len(df), df.loc[0, "tags"]  # doctest: +SKIP
    (18486, ('background',))
    """
    path = Path(path)
    if not path.is_file():
        raise MetadataError(
            path, "a folder, not a metadata file" if path.is_dir() else "metadata file not found"
        )
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MetadataError(path, f"not UTF-8 text (byte {exc.start})") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise MetadataError(path, "empty file: expected a header line and one row per track")
    lines = text.split("\n")
    while lines and lines[-1] in ("", "\r"):
        lines.pop()  # the final newline

    header = tuple(lines[0].rstrip("\r").split("\t"))
    if header != HEADER:
        raise MetadataError(
            path,
            f"wrong header on line 1: expected columns {' '.join(HEADER)} "
            f"(tab separated), found {' '.join(header)!r}",
        )

    prefix = None if category is None else category + TAG_SEP
    allowed = None
    if vocabulary is not None:
        allowed = {_strip_prefix(str(v), prefix) for v in vocabulary}

    records = []
    first_line: dict[str, int] = {}
    for lineno, raw in enumerate(lines[1:], 2):
        fields = raw.rstrip("\r").split("\t")
        if len(fields) < len(HEADER):
            raise MetadataError(
                path,
                f"line {lineno} has {len(fields)} tab-separated field(s), at least "
                f"{len(HEADER)} expected ({' '.join(HEADER)})",
            )
        track_id, artist, album, relpath, duration_text = (f.strip() for f in fields[:5])
        if not track_id:
            raise MetadataError(path, f"empty TRACK_ID on line {lineno}")
        if track_id in first_line:
            raise MetadataError(
                path,
                f"duplicate TRACK_ID {track_id!r} on line {lineno} "
                f"(first on line {first_line[track_id]})",
            )
        first_line[track_id] = lineno
        try:
            duration = float(duration_text)
        except ValueError:
            raise MetadataError(
                path, f"DURATION {duration_text!r} on line {lineno} is not a number"
            ) from None
        if not math.isfinite(duration) or duration < 0:
            raise MetadataError(
                path,
                f"DURATION {duration_text!r} on line {lineno} is not a finite "
                "number of seconds >= 0",
            )
        problem = _unsafe_relpath(relpath)
        if problem:
            raise MetadataError(path, f"PATH {relpath!r} on line {lineno} {problem}")

        tags: list[str] = []
        for raw_tag in fields[5:]:
            cat, sep, name = raw_tag.strip().partition(TAG_SEP)
            cat, name = cat.strip().casefold(), name.strip().casefold()
            if not sep or not cat or not name:
                want = prefix or f"category{TAG_SEP}"
                raise MetadataError(
                    path,
                    f"tag {raw_tag.strip()!r} on line {lineno} lacks the '{want}' prefix "
                    "(or has an empty name)",
                )
            if prefix is not None and cat != category.casefold():
                continue  # another category (genre---, instrument---)
            canonical = f"{cat}{TAG_SEP}{name}"
            tag = name if prefix is not None else canonical
            unusable = _unusable_tag(name)
            if unusable and report is None:
                raise MetadataError(path, f"tag {shown(raw_tag)!r} on line {lineno}: {unusable}")
            if unusable:
                report.append(
                    _problem(
                        track_id,
                        relpath,
                        "tag",
                        f"line {lineno}: tag {shown(raw_tag)!r} dropped: {unusable}",
                    )
                )
            elif report is not None and canonical != raw_tag.rstrip("\r"):
                report.append(
                    _problem(
                        track_id,
                        relpath,
                        "normalised",
                        f"line {lineno}: tag {shown(raw_tag)!r} read as {canonical!r}",
                    )
                )
            if unusable:
                continue
            if allowed is not None and tag not in allowed:
                raise MetadataError(
                    path,
                    f"unknown tag {tag!r} on line {lineno} "
                    f"(not in the vocabulary of {len(allowed)} tags)",
                )
            if tag not in tags:
                tags.append(tag)
        records.append((track_id, artist, album, relpath, duration, tuple(tags)))

    df = pd.DataFrame.from_records([r[:5] for r in records], columns=list(COLUMNS[:5]))
    df = df.astype(
        {"track_id": str, "artist": str, "album": str, "relpath": str, "duration": float}
    )
    df["tags"] = pd.Series([r[5] for r in records], index=df.index, dtype=object)
    return df


def _unusable_tag(name: str) -> str | None:
    """Why a tag name cannot be a class, or None."""
    if LABEL_SEP in name:
        return f"a tag name may not hold {LABEL_SEP!r}, the label separator"
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "a tag name may not hold a control character"
    return None


def _strip_prefix(tag: str, prefix: str | None) -> str:
    return tag[len(prefix) :] if prefix and tag.startswith(prefix) else tag


def _unsafe_relpath(relpath: str) -> str | None:
    """Why ``relpath`` is not a safe relative path, or None when it is."""
    if not relpath:
        return "is empty"
    if relpath.startswith(("/", "\\")) or _DRIVE.match(relpath):
        return "is absolute: it must be relative to the audio folder"
    if ".." in relpath.replace("\\", "/").split("/"):
        return "contains '..': it must stay inside the audio folder"
    if "\x00" in relpath:
        return "contains a NUL character"
    return None


# ---------------------------------------------------------------------------------- curation
def curate(df: pd.DataFrame, curation: str = "official", *, min_tracks: int = ORIGINAL_MIN_TRACKS):
    """Apply a tag curation to a frame from :func:`read_tsv` (mood/theme tag names, no prefix).

    ``curation``:

    ``"none"``
        keep every tag (the 59 of the full subset);
    ``"official"``
        keep only :data:`SPLIT_TAGS` (the 56 of the official splits);
    ``"original"``
        the 2020 study's curation: drop the 19 :data:`THEME_TAGS`, merge ``funny`` into ``fun``,
        drop tags carried by fewer than ``min_tracks`` (10) tracks *of ``df``*, so the result
        depends on the track set it is given (the study applied it to its 992 downloaded tracks:
        799 tracks and 35 tags remain).

    In every curation a track left without a tag is dropped. Tag order within a track is kept.
    Curate the whole track set before splitting it, so that every part shares the vocabulary.

    Parameters
    ----------
    df : pandas.DataFrame
        Tracks with a ``tags`` column of tag tuples.
    curation : {"official", "none", "original"}, default="official"
        The curation.
    min_tracks : int, default=ORIGINAL_MIN_TRACKS
        Under ``"original"``, the fewest tracks a tag must have to be kept (10).

    Returns
    -------
    curated : pandas.DataFrame
        The curated copy of ``df`` (``tags`` rewritten, untagged tracks dropped, index reset).
    vocabulary : tuple of str
        Its tag vocabulary: the sorted tags that occur in it.

    Raises
    ------
    musiclass.errors.ConfigError
        For an unknown ``curation``, or a frame without a ``tags`` column.

    Examples
    --------
    >>> import pandas as pd
    >>> from musiclass.datasets.jamendo import curate
    >>> df = pd.DataFrame({"track_id": ["a", "b"], "tags": [("film", "funny"), ("horror",)]})
    >>> curated, vocabulary = curate(df, "official")
    >>> curated["tags"].tolist(), vocabulary
    ([('film', 'funny')], ('film', 'funny'))
    """
    if curation not in CURATIONS:
        raise ConfigError(f"curation must be one of {CURATIONS}, not {curation!r}")
    if "tags" not in df.columns:
        raise ConfigError("curate() needs a frame with a 'tags' column (from jamendo.read_tsv)")

    if curation == "none":
        new_tags = [tuple(t) for t in df["tags"]]
    elif curation == "official":
        keep = set(SPLIT_TAGS)
        new_tags = [tuple(t for t in tags if t in keep) for tags in df["tags"]]
    else:
        drop = set(THEME_TAGS)
        merged = [
            tuple(dict.fromkeys(ORIGINAL_MERGES.get(t, t) for t in tags if t not in drop))
            for tags in df["tags"]
        ]
        counts = Counter(t for tags in merged for t in tags)
        rare = {t for t, n in counts.items() if n < min_tracks}
        new_tags = [tuple(t for t in tags if t not in rare) for tags in merged]

    out = df.copy()
    out["tags"] = pd.Series(new_tags, index=out.index, dtype=object)
    tagged = np.fromiter((len(t) > 0 for t in new_tags), dtype=bool, count=len(new_tags))
    out = out.loc[tagged].reset_index(drop=True)
    vocabulary = tuple(sorted({t for tags in out["tags"] for t in tags}))
    return out, vocabulary


# ---------------------------------------------------------------------------------- audio paths
def audio_path(root: str | os.PathLike, relpath: str) -> Path:
    r"""The absolute path of ``relpath`` (a metadata PATH such as ``48/948.mp3``) under ``root``.

    The check compares resolved paths, so it holds whether or not the file exists. The returned
    path is ``root`` (made absolute) joined with ``relpath``, not the resolved one.

    Parameters
    ----------
    root : str or os.PathLike
        The audio folder.
    relpath : str
        The PATH of a metadata row (``/`` or ``\`` separated).

    Returns
    -------
    pathlib.Path
        The path of the audio file.

    Raises
    ------
    musiclass.errors.MetadataError
        When the path would leave ``root``: an absolute path, a ``..`` component, or a symlink (of
        the file or a folder on the way) that resolves outside ``root``; also for an empty path,
        one with a NUL character, or a symbolic link loop on the way.

    Examples
    --------
    >>> from musiclass.datasets.jamendo import audio_path
    >>> audio_path("/data/mtg-jamendo", "48/948.mp3").as_posix()
    '/data/mtg-jamendo/48/948.mp3'
    >>> audio_path("/data/mtg-jamendo", "../948.mp3")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    musiclass.errors.MetadataError: ../948.mp3: contains '..': it must stay inside the audio folder ...
    """
    return Path(_AudioResolver(root)(relpath))


class _AudioResolver:
    """:func:`audio_path` for many paths under one root: resolved folders are cached, so checking
    18,000 tracks costs one ``lstat`` per file rather than one per path component."""

    def __init__(self, root: str | os.PathLike, *, allow_outside_links: bool = False):
        self.guard = RootGuard(root, allow_outside_links=allow_outside_links, what="audio root")
        self.root = self.guard.root

    def __call__(self, relpath: str) -> str:
        candidate, refused = self.check(relpath)
        if refused is not None:
            raise MetadataError(relpath, refused[1])
        return candidate

    def check(self, relpath: str) -> tuple[str, tuple[str, str] | None]:
        """``(absolute path, refusal)``: refusal is None or ``(problem, reason)`` (see RootGuard).

        Raises MetadataError for a PATH that is unsafe as text (absolute, ``..``, empty, NUL).
        """
        relpath = str(relpath)
        problem = _unsafe_relpath(relpath)
        if problem:
            raise MetadataError(relpath or "(empty PATH)", f"{problem} (audio root {self.root})")
        candidate = os.path.join(self.root, *relpath.replace("\\", "/").split("/"))
        return candidate, self.guard.refusal(candidate)


# ---------------------------------------------------------------------------------- splits
def split_files(
    splits_dir: str | os.PathLike, split: int = 0, prefix: str = "autotagging_moodtheme"
) -> dict[str, Path]:
    """Name the files of the official split ``split`` under ``splits_dir``: ``split-<k>/<prefix>-<part>.tsv``.

    Nothing is read; the files need not exist.

    Parameters
    ----------
    splits_dir : str or os.PathLike
        The dataset's ``splits`` folder.
    split : int, default=0
        The split number (the official ones are 0 .. 4).
    prefix : str, default="autotagging_moodtheme"
        The subset's file name prefix.

    Returns
    -------
    dict of str to pathlib.Path
        ``{part: path}`` for ``train``, ``validation`` and ``test``.

    Raises
    ------
    musiclass.errors.ConfigError
        When ``split`` is not an integer >= 0.

    Examples
    --------
    >>> from musiclass.datasets.jamendo import split_files
    >>> split_files("data/splits", 0)["test"].as_posix()
    'data/splits/split-0/autotagging_moodtheme-test.tsv'
    """
    if isinstance(split, bool) or not isinstance(split, int) or split < 0:
        raise ConfigError(
            f"split must be an integer >= 0 (the official ones are 0..4), not {split!r}"
        )
    folder = Path(splits_dir) / f"split-{split}"
    return {part: folder / f"{prefix}-{part}.tsv" for part in SPLIT_PARTS}


def read_split(
    splits_dir: str | os.PathLike,
    split: int = 0,
    *,
    prefix: str = "autotagging_moodtheme",
    **read_tsv_kwargs,
) -> dict[str, pd.DataFrame]:
    """Read the three files of official split ``split``: ``{"train": df, "validation": df, "test": df}``.

    Parameters
    ----------
    splits_dir : str or os.PathLike
        The dataset's ``splits`` folder.
    split : int, default=0
        The split number.
    prefix : str, default="autotagging_moodtheme"
        The subset's file name prefix.
    **read_tsv_kwargs
        Passed on to :func:`read_tsv` (``category``, ``vocabulary``).

    Returns
    -------
    dict of str to pandas.DataFrame
        Each part's frame, as :func:`read_tsv` returns it.

    Raises
    ------
    musiclass.errors.MetadataError
        For a missing or malformed file (see :func:`read_tsv`).
    musiclass.errors.ConfigError
        When ``split`` is not an integer >= 0.
    """
    return {
        part: read_tsv(p, **read_tsv_kwargs)
        for part, p in split_files(splits_dir, split, prefix).items()
    }


def split_assignment(
    splits_dir: str | os.PathLike,
    split: int = 0,
    *,
    prefix: str = "autotagging_moodtheme",
    **read_tsv_kwargs,
) -> pd.Series:
    """Official split ``split`` as a Series ``track_id -> part`` (train, validation, test, in that order).

    Parameters
    ----------
    splits_dir : str or os.PathLike
        The dataset's ``splits`` folder.
    split : int, default=0
        The split number.
    prefix : str, default="autotagging_moodtheme"
        The subset's file name prefix.
    **read_tsv_kwargs
        Passed on to :func:`read_tsv`.

    Returns
    -------
    pandas.Series
        ``track_id -> part`` (name ``"part"``), the train tracks first, then validation, then test,
        each in file order.

    Raises
    ------
    musiclass.errors.MetadataError
        Naming both files when a track is in two parts; for a missing or malformed file (see
        :func:`read_tsv`).
    musiclass.errors.ConfigError
        When ``split`` is not an integer >= 0.
    """
    files = split_files(splits_dir, split, prefix)
    parts = read_split(splits_dir, split, prefix=prefix, **read_tsv_kwargs)
    part_of: dict[str, str] = {}
    for part, df in parts.items():
        for track_id in df["track_id"]:
            if track_id in part_of:
                raise MetadataError(
                    files[part],
                    f"track {track_id!r} is also in the {part_of[track_id]} "
                    f"part ({files[part_of[track_id]]})",
                )
            part_of[track_id] = part
    return pd.Series(
        list(part_of.values()),
        index=pd.Index(list(part_of), name="track_id"),
        name="part",
        dtype=object,
    )


# ---------------------------------------------------------------------------------- index
def index(
    metadata_tsv: str | os.PathLike,
    audio_root: str | os.PathLike,
    *,
    curation: str = "official",
    check: str = "exists",
    allow_outside_links: bool = False,
    split: int | None = None,
    splits_dir: str | os.PathLike | None = None,
    progress: bool = False,
) -> TrackIndex:
    """Build the mood/theme :class:`TrackIndex` from a metadata TSV and an audio folder.

    Parameters
    ----------
    metadata_tsv : str or os.PathLike
        ``autotagging_moodtheme.tsv`` (or any file :func:`read_tsv` accepts).
    audio_root : str or os.PathLike
        The folder the PATH column is relative to (holding ``00/`` .. ``99/``).
    curation : {"official", "none", "original"}, default="official"
        ``"official"`` (56 tags), ``"none"`` (59) or ``"original"`` (the 2020 study's), see
        :func:`curate`. Applied to the whole track set (after the ``split`` selection).
    check : {"exists", "header", "decode", "none"}, default="exists"
        ``"exists"``: the file must exist and not be empty; ``"header"``: its header
        must read with :func:`musiclass.audio.info`; ``"decode"``: it must decode whole with
        :func:`musiclass.audio.load` (slow: every track is decoded); ``"none"``: no check.
        Missing files are reported as ``missing``, unreadable or empty ones as ``corrupt``; either
        way they leave ``tracks``. With ``"header"`` and ``"decode"``, a length that disagrees with
        the metadata's DURATION by more than ``max(1 s, 2 %)``
        (:func:`~musiclass.datasets.base.duration_disagrees`) is reported as ``duration``, and the
        track kept.
    allow_outside_links : bool, default=False
        Follow symbolic links (of a file or a folder on the way) that lead out of
        ``audio_root``. By default such a PATH is reported as ``unsafe`` and never opened; links
        inside ``audio_root`` are always followed (as in :func:`musiclass.datasets.gtzan.index`).
    split : int or None, default=None
        Keep only the tracks of official split ``k`` (all three parts); adds a ``part`` column.
    splits_dir : str or os.PathLike or None, default=None
        Where ``split-<k>/`` lies; default ``<folder of metadata_tsv>/splits``.
    progress : bool, default=False
        Show a progress bar while checking files.

    Returns
    -------
    TrackIndex
        ``tracks`` in file order: ``track_id``, ``path`` (absolute), ``label`` (tags joined
        by ``|``), ``duration`` (seconds, from the metadata: the full track), ``artist`` (ARTIST_ID),
        ``album`` (ALBUM_ID), ``relpath`` (PATH), plus ``audio_duration`` (seconds, from the header)
        with ``check="header"`` or ``"decode"``, and ``part`` with ``split``. ``classes`` = the sorted
        vocabulary after curation; ``multilabel`` True; ``dataset`` ``"mtg-jamendo"``;
        ``problems`` the files left out and why (``missing``, ``corrupt``, ``unsafe``,
        ``untagged``: no tag left after curation), and warnings on tracks kept: ``normalised`` (a
        tag respelled, see :func:`read_tsv`), ``tag`` (a tag dropped, or one outside the 59),
        ``duration`` and ``identical`` (the same bytes as an earlier track).

    Raises
    ------
    musiclass.errors.ConfigError
        For an unknown ``check`` or ``curation``, or an invalid ``split``.
    musiclass.errors.MetadataError
        For a missing or malformed metadata or split file (see :func:`read_tsv`,
        :func:`split_assignment`).
    musiclass.errors.DatasetError
        When the path of ``audio_root`` is not UTF-8 or holds a control character.

    Warns
    -----
    UserWarning
        Counting the tracks of the split that are not in the metadata file (they are left out).

    Examples
    --------
    >>> from musiclass.datasets import jamendo
    >>> index = jamendo.index(  # doctest: +SKIP
    ...     "mtg-jamendo-dataset/data/autotagging_moodtheme.tsv", "audio", split=0
    ... )
    >>> index.classes[:3]  # doctest: +SKIP
    ('action', 'adventure', 'advertising')
    """
    if check not in CHECKS:
        raise ConfigError(f"check must be one of {CHECKS}, not {check!r}")
    if curation not in CURATIONS:
        raise ConfigError(f"curation must be one of {CURATIONS}, not {curation!r}")
    metadata_tsv = Path(metadata_tsv)
    root_abs = Path(os.path.abspath(audio_root))
    check_root_name(root_abs)
    problems: list[dict] = []
    df = read_tsv(metadata_tsv, report=problems)
    parts = None
    if split is not None:
        splits_dir = Path(splits_dir) if splits_dir is not None else metadata_tsv.parent / "splits"
        parts = split_assignment(splits_dir, split)
        unknown = int((~parts.index.isin(df["track_id"])).sum())
        if unknown:
            warnings.warn(
                f"{unknown} track(s) of split-{split} are not in {metadata_tsv}; they are left out",
                UserWarning,
                stacklevel=2,
            )
        selected = df["track_id"].isin(parts.index)
        kept_ids = set(df.loc[selected, "track_id"])
        problems = [p for p in problems if p["track_id"] in kept_ids]
        df = df[selected].reset_index(drop=True)
    problems.extend(_unknown_tags(df, curation))
    curated, vocabulary = curate(df, curation)
    problems.extend(_untagged(df, curated, curation))
    for p in problems:  # the rows read_tsv reported name the PATH; make it the file's path
        p["path"] = shown(root_abs / p["path"])
    df = curated

    resolve = _AudioResolver(root_abs, allow_outside_links=allow_outside_links)
    keep: list[bool] = []
    paths: list[str] = []
    audio_durations: list[float] = []
    rows = zip(df["track_id"], df["relpath"], df["duration"], strict=True)
    if progress:
        from tqdm.auto import tqdm

        rows = tqdm(rows, total=len(df), desc="checking MTG-Jamendo files", unit="file")
    for track_id, relpath, expected in rows:
        seconds = math.nan
        try:
            candidate, refused = resolve.check(relpath)
        except MetadataError as exc:
            candidate, refused = str(root_abs / relpath), ("unsafe", exc.reason)
        path = Path(candidate)
        if refused is not None:
            problems.append(_problem(track_id, path, *refused))
            paths.append("")
            keep.append(False)
            audio_durations.append(seconds)
            continue
        ok = True
        if check == "exists":
            if not path.exists():
                problems.append(_problem(track_id, path, "missing", "file not found"))
                ok = False
            elif not path.is_file():
                problems.append(
                    _problem(
                        track_id, path, "corrupt", "not a regular file (a folder, pipe or device)"
                    )
                )
                ok = False
            elif path.stat().st_size == 0:
                problems.append(_problem(track_id, path, "corrupt", "empty file (0 bytes)"))
                ok = False
        elif check in ("header", "decode"):
            try:
                seconds = audio.info(path).duration  # rejects header-less data too
                if check == "decode":
                    y, sr = audio.load(path, sr=None, mono=True)
                    seconds = y.shape[-1] / sr
            except AudioError as exc:
                kind = "missing" if not path.exists() else "corrupt"
                problems.append(_problem(track_id, path, kind, exc.reason))
                ok = False
            else:
                if duration_disagrees(seconds, expected):
                    source = "the header" if check == "header" else "decoding"
                    problems.append(
                        _problem(
                            track_id,
                            path,
                            "duration",
                            f"{seconds:.1f} s of audio by {source}, but {expected:g} s in the "
                            f"metadata (tolerance {_tolerance(expected):.1f} s): a truncated or "
                            "wrong file? Kept",
                        )
                    )
        paths.append(str(path))
        keep.append(ok)
        audio_durations.append(seconds)

    tracks = pd.DataFrame(
        {
            "track_id": df["track_id"],
            "path": paths,
            "label": [join_labels(t) for t in df["tags"]],
            "duration": df["duration"].astype(float),
            "artist": df["artist"],
            "album": df["album"],
            "relpath": df["relpath"],
        }
    )
    if check in ("header", "decode"):
        tracks["audio_duration"] = audio_durations
    if parts is not None:
        tracks["part"] = parts.reindex(tracks["track_id"]).to_numpy()
    tracks = tracks.loc[np.asarray(keep, dtype=bool)].reset_index(drop=True)
    if check != "none":
        problems.extend(identical_problems(tracks))
    problem_frame = (
        pd.DataFrame(problems, columns=list(PROBLEM_COLUMNS)).astype(object)
        if problems
        else empty_problems()
    )
    return TrackIndex(
        tracks,
        vocabulary,
        multilabel=True,
        dataset="mtg-jamendo",
        root=str(root_abs),
        problems=problem_frame,
    )


def _tolerance(expected: float) -> float:
    return max(DURATION_TOLERANCE_S, DURATION_TOLERANCE_SHARE * expected)


def _unknown_tags(df: pd.DataFrame, curation: str) -> list[dict]:
    """A ``tag`` problem for each tag outside the 59 of :data:`MOODTHEME_TAGS` (a typo?)."""
    known = set(MOODTHEME_TAGS)
    fate = "kept (--curation none keeps every tag)" if curation == "none" else "dropped"
    rows = []
    for track_id, relpath, tags in zip(df["track_id"], df["relpath"], df["tags"], strict=True):
        for t in tags:
            if t not in known:
                rows.append(
                    _problem(
                        track_id,
                        relpath,
                        "tag",
                        f"tag {t!r} is not one of the {len(known)} mood/theme tags: {fate}",
                    )
                )
    return rows


def _untagged(before: pd.DataFrame, after: pd.DataFrame, curation: str) -> list[dict]:
    """An ``untagged`` problem for each track that the curation left without a tag (dropped)."""
    left = set(after["track_id"])
    rows = []
    for track_id, relpath, tags in zip(
        before["track_id"], before["relpath"], before["tags"], strict=True
    ):
        if track_id not in left:
            had = f"its tags: {', '.join(tags)}" if tags else "it had no usable mood/theme tag"
            rows.append(
                _problem(
                    track_id,
                    relpath,
                    "untagged",
                    f"no tag left after --curation {curation} ({had}): left out",
                )
            )
    return rows


def _problem(track_id: str, path, problem: str, reason: str) -> dict:
    return {"track_id": shown(track_id), "path": shown(path), "problem": problem, "reason": reason}
