"""GTZAN genre collection: index the audio tree, and apply the published track splits.

.. admonition:: Dataset card

    **What it is.** GTZAN (Tzanetakis & Cook, 2002 [1]_) is 1000 clips of about 30 s, 10 genres x
    100 (:data:`GENRES`), 22,050 Hz mono 16-bit, gathered in 2000-2001 from CDs, radio and
    microphone recordings so that recording conditions vary. It was made for the genre
    classification paper [1]_ and has been the field's most used genre benchmark since.

    **Licence.** None is stated. The clips are excerpts of commercial recordings, whose rights
    stay with their owners; the collection circulates for research (the Marsyas download, a
    Kaggle copy, mirdata's ``gtzan_genre``). musiclass neither ships nor downloads it: point
    :func:`index` at a copy you have.

    **Known faults** (Sturm [2]_):

    * repetitions: some clips are exact copies of others, or other excerpts of the same
      recording;
    * mislabellings, and clips with distortions;
    * many clips per artist within a genre, so a random split puts one artist's songs on both
      sides: random-split systems report 90 %+, while on the artist-filtered split below
      typical systems drop to 70-80 % (:data:`musiclass.reference.GTZAN_NOTE`);
    * the clips are not all the same length: a few have slightly fewer than 661,500 samples
      (30 s at 22,050 Hz);
    * the Kaggle copy's ``jazz.00054.wav`` is unreadable.

    The artist-filtered ("fault-filtered") split [3]_ shipped with the package keeps each artist
    in one part and leaves out 70 faulty clips (see *Splits* below).

It circulates in several forms; :func:`index` accepts all of them::

    <root>/genres/<genre>/<genre>.NNNNN.au                  original tarball (mirdata ``gtzan_genre``)
    <root>/genres_original/<genre>/<genre>.NNNNN.wav        Kaggle copy
    <root>/Data/genres_original/<genre>/<genre>.NNNNN.wav   Kaggle copy, unzipped as a whole
    <root>/<genre>/<genre>.NNNNN.{au,wav}                   the genre folders directly under root

``.flac``, ``.ogg`` and ``.mp3`` copies with the same names are accepted too. ``NNNNN`` is the clip
number, ``00000`` to ``00099`` in the canonical collection; ``track_id`` is ``<genre>.NNNNN``
(``blues.00042``). Like mirdata's ``validate()``, indexing *reports* what is wrong (missing,
corrupt, short, misnamed files) in :attr:`TrackIndex.problems` instead of stopping at the first bad
file: the Kaggle copy's ``jazz.00054.wav`` is unreadable and comes out as a ``corrupt`` problem.

Splits: :func:`split_lists` reads the lists shipped with the package
(``musiclass/data/gtzan_splits``): the artist-filtered ("fault-filtered", Sturm 2013 / Kereliuk et
al. 2015) split, 443 / 197 / 290 clips, which leaves out 70 clips that are repeated, distorted or
mislabelled, and a stratified random split, 500 / 250 / 250. :func:`split` applies one to an index.

References
----------
.. [1] G. Tzanetakis and P. Cook, "Musical genre classification of audio signals", IEEE
   Transactions on Speech and Audio Processing, 10(5), 2002.
.. [2] B. L. Sturm, "The GTZAN dataset: Its contents, its faults, their effects on evaluation,
   and future use", arXiv, 2013.
.. [3] C. Kereliuk, B. L. Sturm and J. Larsen, "Deep learning and music adversaries", IEEE
   Transactions on Multimedia, 17(11), 2015.
"""

from __future__ import annotations

import errno
import math
import os
import re
import warnings
from collections import Counter
from importlib.resources import files
from pathlib import Path, PurePosixPath

import pandas as pd

from .. import audio
from ..errors import AudioError, ConfigError, DatasetError, MetadataError
from .base import (
    PROBLEM_COLUMNS,
    RootGuard,
    TrackIndex,
    check_root_name,
    empty_problems,
    identical_problems,
    name_problem,
    shown,
)

#: the 10 genres, alphabetical: class ``i`` is ``GENRES[i]`` (the original study's label order)
GENRES = (
    "blues",
    "classical",
    "country",
    "disco",
    "hiphop",
    "jazz",
    "metal",
    "pop",
    "reggae",
    "rock",
)

#: clips per genre in the canonical collection (numbers 00000 to 00099)
CLIPS_PER_GENRE = 100

#: audio extensions a GTZAN tree may use, in order of preference when one clip exists twice
EXTENSIONS = (".au", ".wav", ".flac", ".ogg", ".mp3")

#: where the genre folders are looked for, relative to the root given to :func:`index`
LAYOUTS = ("genres", "genres_original", "Data/genres_original", ".")

#: the shipped split lists; each file names its part ``valid``, we call it ``validation``
SPLIT_KINDS = ("filtered", "stratified")
SPLIT_PARTS = {"train": "train", "validation": "valid", "test": "test"}
EXCLUDED = "excluded"

CHECKS = ("none", "exists", "header", "decode")

_NAME = re.compile(r"(?P<genre>[a-z]+)\.(?P<number>\d{5})")  # used with fullmatch: no "\n" slips by


def canonical_ids() -> list[str]:
    """The 1000 track ids of the full collection, ``blues.00000`` .. ``rock.00099``, in index order.

    Returns
    -------
    list of str
        ``<genre>.NNNNN`` for each genre of :data:`GENRES` and clip number 0 .. 99.

    Examples
    --------
    >>> from musiclass.datasets.gtzan import canonical_ids
    >>> ids = canonical_ids()
    >>> len(ids), ids[0], ids[-1]
    (1000, 'blues.00000', 'rock.00099')
    """
    return [f"{g}.{n:05d}" for g in GENRES for n in range(CLIPS_PER_GENRE)]


def find_genre_root(root: str | os.PathLike) -> Path:
    """Find the folder that holds the genre folders, trying each of :data:`LAYOUTS` in turn.

    Parameters
    ----------
    root : str or os.PathLike
        The dataset folder given by the user.

    Returns
    -------
    pathlib.Path
        The first layout folder (absolute) that holds at least one genre folder.

    Raises
    ------
    musiclass.errors.DatasetError
        When ``root`` is not a folder, or none of the layouts holds a genre folder (the message
        says which layouts were tried).
    """
    root = Path(os.path.abspath(root))
    if not root.is_dir():
        raise DatasetError(f"GTZAN root {root} does not exist or is not a folder")
    for rel in LAYOUTS:
        candidate = root / rel if rel != "." else root
        if candidate.is_dir() and any((candidate / g).is_dir() for g in GENRES):
            return candidate
    tried = ", ".join(
        f"{root}/{rel}/<genre>/" if rel != "." else f"{root}/<genre>/" for rel in LAYOUTS
    )
    raise DatasetError(
        f"no GTZAN genre folder ({', '.join(GENRES)}) found under {root}; looked for {tried}. "
        "Point root at the folder that holds 'genres/' (original tarball), 'genres_original/' or "
        "'Data/genres_original/' (Kaggle), or at the genre folders themselves."
    )


def index(
    root: str | os.PathLike,
    *,
    check: str = "header",
    min_duration: float = 29.0,
    artists: str | os.PathLike | None = None,
    expect_full: bool = False,
    allow_outside_links: bool = False,
    progress: bool = False,
) -> TrackIndex:
    """Index a GTZAN tree: one row per usable clip, and a report of every problem found.

    Parameters
    ----------
    root : str or os.PathLike
        The dataset folder, in any layout of :data:`LAYOUTS` (see the module docstring).
    check : {"header", "decode", "exists", "none"}, default="header"
        How far each file is verified.
        ``"header"`` reads the header with :func:`musiclass.audio.info` (cheap; when the
        header does not give the length the file is decoded to measure it);
        ``"decode"`` decodes every file fully (:func:`musiclass.audio.load`, native rate, which also
        rejects empty, non-finite and silent signals); ``"exists"`` only refuses empty files;
        ``"none"`` trusts the file names. With ``"exists"`` and ``"none"``, ``duration`` is NaN
        and nothing is reported ``short``; with ``"none"`` no content is read (no ``identical``
        check either).
    min_duration : float, default=29.0
        Seconds; a clip shorter than this is kept but also reported ``short``.
        The real clips last about 30 s (661,500 samples at 22,050 Hz, a few slightly fewer).
    artists : str or os.PathLike or None, default=None
        CSV with header ``track_id,artist`` (one row per clip, for instance
        ``blues.00000,blues_artist_01``). ``None``: ``<root>/artists.csv`` if it exists (the
        folder given as ``root``). Tracks it does not list get an empty artist, and the
        ``artist`` split needs every track to have one.
    expect_full : bool, default=False
        Report each of the 1000 canonical ids (:func:`canonical_ids`) that has no file
        as ``missing``.
    allow_outside_links : bool, default=False
        Follow symbolic links whose target lies outside ``root``. By default they are reported
        ``unsafe`` and left out; links inside ``root`` are always followed (as in
        :func:`musiclass.datasets.jamendo.index`).
    progress : bool, default=False
        Show a progress bar while checking files.

    Returns
    -------
    TrackIndex
        ``tracks``: ``track_id`` (``blues.00042``), ``path`` (absolute), ``label`` (the genre),
        ``duration`` (seconds, from the header or the decoded signal), ``artist``, and
        ``number`` (the clip number, int), sorted by (genre in :data:`GENRES` order, number).
        ``problems``: ``track_id, path, problem, reason`` with ``problem`` one of
        ``corrupt`` (unreadable, or named like audio but a folder, a broken link, a link loop or
        a pipe: left out of ``tracks``), ``short`` (kept in ``tracks``),
        ``unexpected`` (an audio file whose name is not ``<genre>.NNNNN``, is not UTF-8 or holds
        a control character, or whose genre is not its folder's: left out), ``unsafe`` (a
        symbolic link out of ``root``: left out), ``duplicate`` (the same clip in a second
        format: left out; the first of :data:`EXTENSIONS` is used), ``identical`` (the same bytes
        as an earlier track under another name: both kept) and ``missing`` (only with
        ``expect_full``). Paths in ``problems`` are printable (:func:`~musiclass.datasets.base.shown`).
        ``classes`` = :data:`GENRES`, ``multilabel`` False, ``dataset`` ``"gtzan"``, ``root`` the
        absolute ``root``.

    Raises
    ------
    musiclass.errors.DatasetError
        No genre folder found under ``root``, a genre folder that cannot be listed, or a
        ``root`` whose path is not UTF-8 or holds a control character.
    musiclass.errors.MetadataError
        The artists file is missing (when named explicitly) or malformed.
    musiclass.errors.ConfigError
        An unknown ``check``.

    Examples
    --------
    >>> from musiclass.datasets import gtzan
    >>> index = gtzan.index("~/datasets/gtzan", expect_full=True)  # doctest: +SKIP
    >>> index.problems[["track_id", "problem"]]  # doctest: +SKIP
          track_id  problem
    0  jazz.00054  corrupt
    """
    if check not in CHECKS:
        raise ConfigError(f"check must be one of {CHECKS}, not {check!r}")
    root_path = Path(os.path.abspath(root))
    check_root_name(root_path)
    genre_root = find_genre_root(root_path)
    guard = RootGuard(root_path, allow_outside_links=allow_outside_links)
    if artists is None and (root_path / "artists.csv").is_file():
        artists = root_path / "artists.csv"
    artist_of = read_artists(artists) if artists is not None else {}

    found: dict[str, Path] = {}
    problems: list[dict] = []
    ext_counts: Counter = Counter()
    for genre in GENRES:
        folder = genre_root / genre
        if not folder.is_dir():
            if folder.is_symlink():  # a broken link or a loop: say so rather than skip the genre
                problems.append(_problem(genre, folder, "corrupt", _not_a_file(folder)))
            continue
        refused = guard.refusal(folder / ".")
        if refused is not None:
            problems.append(_problem(genre, folder, *refused))
            continue
        candidates: dict[str, list[Path]] = {}
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except (
            OSError
        ) as exc:  # a genre that cannot be listed must not silently vanish from the index
            raise DatasetError(f"cannot list {folder}: {exc.strerror or exc}") from None
        for entry in entries:
            name = entry.name
            path = folder / name
            suffix = Path(name).suffix.lower()
            if name.startswith(".") or suffix not in EXTENSIONS:
                continue  # .DS_Store, AppleDouble ._ files, .mf lists, sub-folders, ...
            stem = name[: -len(suffix)]
            bad_name = name_problem(name)
            if bad_name is not None:
                problems.append(_problem(stem, path, "unexpected", bad_name))
                continue
            refused = guard.refusal(path)
            if refused is not None:
                problems.append(_problem(stem, path, *refused))
                continue
            if not _is_file(entry):
                # named like audio but a folder, a broken link, a pipe...: reported, never opened
                problems.append(_problem(stem, path, "corrupt", _not_a_file(path)))
                continue
            match = _NAME.fullmatch(stem)
            if match is None:
                problems.append(
                    _problem(
                        stem,
                        path,
                        "unexpected",
                        f"file name is not '{genre}.NNNNN{suffix}' (5-digit clip number)",
                    )
                )
                continue
            if match["genre"] != genre:
                problems.append(
                    _problem(
                        stem,
                        path,
                        "unexpected",
                        f"genre prefix '{match['genre']}' disagrees with its folder '{genre}'",
                    )
                )
                continue
            candidates.setdefault(stem, []).append(path)
        for track_id, paths in candidates.items():
            paths.sort(key=lambda p: EXTENSIONS.index(p.suffix.lower()))
            found[track_id] = paths[0]
            ext_counts[paths[0].suffix.lower()] += 1
            for other in paths[1:]:
                problems.append(
                    _problem(
                        track_id,
                        other,
                        "duplicate",
                        f"a second copy of {track_id}; {paths[0].name} is used",
                    )
                )

    ids = sorted(found, key=_sort_key)
    rows = []
    for track_id in _progress(ids, progress, "checking GTZAN files"):
        path = found[track_id]
        duration = math.nan
        if check == "exists":
            size = _size(path)
            if size == 0:
                problems.append(_problem(track_id, path, "corrupt", "empty file (0 bytes)"))
                continue
        elif check != "none":
            try:
                duration = _duration(path, check)
            except AudioError as exc:
                problems.append(_problem(track_id, path, "corrupt", exc.reason))
                continue
            if duration < min_duration:
                have, _ = audio.seconds_apart(
                    duration, min_duration
                )  # never "1.00 s, less than 1 s"
                problems.append(
                    _problem(
                        track_id,
                        path,
                        "short",
                        f"{have} s of audio, less than min_duration {min_duration:g} s",
                    )
                )
        genre, number = track_id.split(".")
        rows.append(
            {
                "track_id": track_id,
                "path": str(path),
                "label": genre,
                "duration": duration,
                "artist": artist_of.get(track_id, ""),
                "number": int(number),
            }
        )

    if expect_full:
        ext = ext_counts.most_common(1)[0][0] if ext_counts else ".wav"
        for track_id in canonical_ids():
            if track_id not in found:
                genre = track_id.split(".")[0]
                problems.append(
                    _problem(
                        track_id,
                        genre_root / genre / f"{track_id}{ext}",
                        "missing",
                        "no audio file for this canonical clip",
                    )
                )

    tracks = pd.DataFrame(
        rows, columns=["track_id", "path", "label", "duration", "artist", "number"]
    )
    tracks = tracks.astype(
        {
            "track_id": str,
            "path": str,
            "label": str,
            "duration": float,
            "artist": str,
            "number": "int64",
        }
    )
    if check != "none":
        problems.extend(identical_problems(tracks))
    return TrackIndex(
        tracks,
        GENRES,
        multilabel=False,
        dataset="gtzan",
        root=str(root_path),
        problems=_problem_frame(problems),
    )


def read_artists(path: str | os.PathLike) -> dict[str, str]:
    """Read a ``track_id,artist`` CSV (header required) into ``{track_id: artist}``.

    Values are stripped of surrounding spaces; other columns are ignored.

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file.

    Returns
    -------
    dict of str to str
        Track id to artist.

    Raises
    ------
    musiclass.errors.MetadataError
        Naming the file when it is missing, cannot be parsed as CSV, lacks a column, or lists a
        track twice.
    """
    path = Path(path)
    if not path.is_file():
        raise MetadataError(path, "artists file not found")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise MetadataError(path, f"cannot parse as CSV ({exc})") from None
    missing = [c for c in ("track_id", "artist") if c not in df.columns]
    if missing:
        raise MetadataError(path, f"header lacks column(s) {missing}; expected 'track_id,artist'")
    dup = df["track_id"][df["track_id"].duplicated()]
    if len(dup):
        raise MetadataError(path, f"track_id {dup.iloc[0]!r} is listed twice")
    return dict(zip(df["track_id"].str.strip(), df["artist"].str.strip(), strict=True))


def split_lists(kind: str = "filtered") -> dict[str, list[str]]:
    """The shipped GTZAN split as track ids per part: ``{"train": [...], "validation": [...], "test": [...]}``.

    The list files hold lines like ``blues/blues.00012.wav``; ids keep the list order.

    Parameters
    ----------
    kind : {"filtered", "stratified"}, default="filtered"
        ``"filtered"`` (artist-filtered, 443 / 197 / 290 clips; 70 faulty clips are in no part) or
        ``"stratified"`` (random, stratified by genre, 500 / 250 / 250).

    Returns
    -------
    dict of str to list of str
        Part name to track ids.

    Raises
    ------
    musiclass.errors.ConfigError
        For an unknown ``kind``.
    musiclass.errors.MetadataError
        Naming the list file and line, when a line is not ``<genre>/<genre>.NNNNN.wav`` or names a
        track already in another part (a damaged installation).

    Examples
    --------
    >>> from musiclass.datasets.gtzan import split_lists
    >>> {part: len(ids) for part, ids in split_lists("filtered").items()}
    {'train': 443, 'validation': 197, 'test': 290}
    """
    if kind not in SPLIT_KINDS:
        raise ConfigError(f"GTZAN split kind must be one of {SPLIT_KINDS}, not {kind!r}")
    folder = files("musiclass") / "data" / "gtzan_splits"
    out: dict[str, list[str]] = {}
    seen: dict[str, str] = {}
    for part, stem in SPLIT_PARTS.items():
        resource = folder / f"{stem}_{kind}.txt"
        ids = []
        for lineno, line in enumerate(resource.read_text(encoding="utf-8").splitlines(), 1):
            line = line.strip()
            if not line:
                continue
            pure = PurePosixPath(line)
            track_id = pure.name[: -len(pure.suffix)] if pure.suffix else pure.name
            match = _NAME.fullmatch(track_id)
            if match is None or match["genre"] not in GENRES:
                raise MetadataError(
                    str(resource), f"line {lineno}: {line!r} is not '<genre>/<genre>.NNNNN.wav'"
                )
            if track_id in seen:
                raise MetadataError(
                    str(resource),
                    f"line {lineno}: {track_id} is already in part {seen[track_id]!r}",
                )
            seen[track_id] = part
            ids.append(track_id)
        out[part] = ids
    return out


def split(index: TrackIndex, kind: str = "filtered") -> pd.Series:
    """Assign the tracks of ``index`` to the parts of a shipped split (see :func:`split_lists`).

    Parameters
    ----------
    index : TrackIndex or pandas.DataFrame or sequence of str
        The tracks: an index, a DataFrame with a ``track_id`` column, or track ids.
    kind : {"filtered", "stratified"}, default="filtered"
        The shipped split.

    Returns
    -------
    pandas.Series
        ``track_id -> part`` (name ``"part"``), in the index's track order, with part ``train``,
        ``validation``, ``test`` or ``excluded`` for a track in no list (the filtered split
        deliberately leaves out 70 faulty clips).

    Raises
    ------
    musiclass.errors.ConfigError
        For an unknown ``kind``.

    Warns
    -----
    UserWarning
        Counting the list entries absent from the index (a partial tree, or corrupt files), per
        part; never an error.

    Examples
    --------
    >>> from musiclass.datasets.gtzan import canonical_ids, split
    >>> parts = split(canonical_ids(), "filtered")
    >>> parts.value_counts().to_dict()
    {'train': 443, 'test': 290, 'validation': 197, 'excluded': 70}
    """
    lists = split_lists(kind)
    if isinstance(index, TrackIndex):
        ids = list(index.tracks["track_id"])
    elif isinstance(index, pd.DataFrame):
        ids = list(index["track_id"])
    else:
        ids = list(index)
    part_of = {t: part for part, members in lists.items() for t in members}
    present = set(ids)
    absent = Counter(part for t, part in part_of.items() if t not in present)
    if absent:
        detail = ", ".join(f"{n} {part}" for part, n in absent.items())
        warnings.warn(
            f"GTZAN {kind} split: {sum(absent.values())} listed track(s) are not in the index "
            f"({detail}); those parts are smaller than published",
            UserWarning,
            stacklevel=2,
        )
    parts = [part_of.get(t, EXCLUDED) for t in ids]
    return pd.Series(parts, index=pd.Index(ids, name="track_id"), name="part", dtype=object)


# ---------------------------------------------------------------------------------- helpers
def _duration(path: Path, check: str) -> float:
    """Seconds of audio in ``path``, from its header or by decoding it; raises AudioError."""
    head = audio.info(path)  # rejects header-less data too
    if check == "header" and head.frames > 0:
        return head.duration
    # "decode", or a header that does not know the length (or has no samples): decode to find out
    y, sr = audio.load(path, sr=None, mono=True, check_silence=(check == "decode"))
    return y.shape[-1] / sr


def _is_file(entry: os.DirEntry) -> bool:
    """``entry.is_file()`` (following links), False where the link cannot be followed."""
    try:
        return entry.is_file()
    except OSError:  # a link loop (ELOOP), or a name the file system refuses to resolve
        return False


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def _not_a_file(path: Path) -> str:
    """Why an entry named like an audio file is not one."""
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop (the link leads back to itself)"
    if path.is_symlink() and not path.exists():
        return "broken symbolic link (its target does not exist)"
    if path.is_dir():
        return "not a regular file (a folder named like an audio file)"
    return "not a regular file (a pipe, socket or device named like an audio file)"


def _sort_key(track_id: str) -> tuple[int, int]:
    genre, number = track_id.split(".")
    return GENRES.index(genre), int(number)


def _problem(track_id: str, path: Path, problem: str, reason: str) -> dict:
    return {"track_id": shown(track_id), "path": shown(path), "problem": problem, "reason": reason}


def _problem_frame(rows: list[dict]) -> pd.DataFrame:
    if not rows:
        return empty_problems()
    return pd.DataFrame(rows, columns=list(PROBLEM_COLUMNS)).astype(object)


def _progress(items, enabled: bool, desc: str):
    if not enabled:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc, unit="file")
