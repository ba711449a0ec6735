"""Writing the datasets: the on-disk layouts, metadata files and parallel rendering.

:func:`make_gtzan` writes ``genres/<genre>/<genre>.NNNNN.wav`` and ``artists.csv``;
:func:`make_jamendo` plans the tracks (:func:`plan_jamendo`: ids, artists, albums, durations,
tags), splits them (:func:`assign_splits`) and writes the MP3s and the MTG-Jamendo TSV files;
:func:`make_all` writes both with one worker pool. Every file is written by a pure task of its
own arguments, so the bytes never depend on ``jobs``. The top layer: it imports :mod:`.genres`,
:mod:`.mood` and :mod:`.tags`, and nothing imports it but the package.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from tqdm.auto import tqdm

from ...errors import ConfigError
from ...interrupts import exit_with
from ...utils import atomic_path, write_text_atomic
from .common import _check_count, _check_duration, _check_seed, _rng
from .constants import (
    DEFAULT_CLIPS_PER_GENRE,
    DEFAULT_MAX_DURATION,
    DEFAULT_MIN_DURATION,
    DEFAULT_N_TRACKS,
    GTZAN_DURATION,
    GTZAN_GENRES,
    GTZAN_SAMPLE_RATE,
    JAMENDO_HEADER,
    JAMENDO_SAMPLE_RATE,
    MAX_CLIPS_PER_GENRE,
    SPLIT_DROPPED_TAGS,
    SPLIT_FRACTIONS,
    TAG_PREFIX,
)
from .genres import _artist_runs, render_genre_clip
from .mood import render_mood_track
from .tags import sample_tags


def _write_audio(path: Path, y: np.ndarray, sr: int, fmt: str, subtype: str | None) -> None:
    with atomic_path(path) as tmp:
        sf.write(tmp, y, sr, format=fmt, subtype=subtype)


def _gtzan_task(genre: str, index: int, seed: int, duration: float, path: str) -> str:
    y = render_genre_clip(genre, index, seed, duration=duration)
    _write_audio(Path(path), y, GTZAN_SAMPLE_RATE, "WAV", "PCM_16")
    return path


def _jamendo_task(
    tags: tuple[str, ...], number: int, seed: int, duration: float, artist: int, path: str
) -> str:
    y = render_mood_track(tags, number, seed, duration=duration, artist=artist)
    _write_audio(Path(path), y, JAMENDO_SAMPLE_RATE, "MP3", None)
    return path


def _call(task: tuple) -> str:
    fn, args = task
    return fn(*args)


def _check_jobs(jobs) -> int:
    if jobs is None:
        return os.cpu_count() or 1
    return _check_count(jobs, "jobs", 1, 1024)


def _run_tasks(tasks: list[tuple[Callable, tuple]], jobs: int, progress: bool, desc: str) -> None:
    """Run ``(function, args)`` tasks, each writing its own file, in ``jobs`` processes.

    Every task is a pure function of its arguments, so the files do not depend on scheduling.
    """
    with tqdm(total=len(tasks), desc=desc, unit="file", disable=not progress) as bar:
        if jobs <= 1 or len(tasks) <= 1:
            for task in tasks:
                _call(task)
                bar.update()
            return
        with ProcessPoolExecutor(
            max_workers=min(jobs, len(tasks)),
            initializer=exit_with,  # no worker outlives this process, even SIGKILLed
            initargs=(os.getpid(),),
        ) as pool:
            for _ in pool.map(_call, tasks, chunksize=1):
                bar.update()


def _gtzan_plan(
    root: Path, clips_per_genre: int, seed: int, duration: float
) -> list[tuple[Callable, tuple]]:
    return [
        (
            _gtzan_task,
            (genre, i, seed, duration, str(root / "genres" / genre / f"{genre}.{i:05d}.wav")),
        )
        for genre in GTZAN_GENRES
        for i in range(clips_per_genre)
    ]


def _write_gtzan_artists(root: Path, clips_per_genre: int, seed: int) -> None:
    lines = ["track_id,artist"]
    for genre in GTZAN_GENRES:
        runs = _artist_runs(genre, seed)
        for i in range(clips_per_genre):
            lines.append(f"{genre}.{i:05d},{genre}_artist_{runs[i] + 1:02d}")
    write_text_atomic(root / "artists.csv", "\n".join(lines) + "\n", newline="")


def _check_gtzan_args(clips_per_genre, duration) -> tuple[int, float]:
    return (
        _check_count(clips_per_genre, "clips_per_genre", 1, MAX_CLIPS_PER_GENRE),
        _check_duration(duration, "duration"),
    )


def make_gtzan(
    root,
    clips_per_genre: int = DEFAULT_CLIPS_PER_GENRE,
    seed: int = 0,
    jobs: int = 1,
    progress: bool = True,
    duration: float = GTZAN_DURATION,
) -> Path:
    """Write a GTZAN-shaped set under ``root``.

    ``root/genres/<genre>/<genre>.NNNNN.wav``: ``clips_per_genre`` clips per genre
    (:func:`render_genre_clip`), 22,050 Hz mono 16-bit PCM, ``duration`` seconds each
    (30 s: 661,500 samples); and ``root/artists.csv`` (``track_id,artist``, for instance
    ``blues.00000,blues_artist_01``; LF line ends). Same arguments, same bytes, whatever
    ``jobs``.

    Parameters
    ----------
    root : str or os.PathLike
        Folder to write into, created as needed; each file is replaced atomically, other files
        are left alone.
    clips_per_genre : int in [1, 100]
        Clips per genre.
    seed : int >= 0
        Seed of the whole set.
    jobs : int in [1, 1024] or None
        Worker processes; ``None``: one per CPU.
    progress : bool
        Show a progress bar.
    duration : float in [1, 3600]
        Length of each clip (s).

    Returns
    -------
    pathlib.Path
        ``root``.

    Raises
    ------
    ConfigError
        If an argument is out of its range or of the wrong type.
    """
    clips_per_genre, duration = _check_gtzan_args(clips_per_genre, duration)
    seed, jobs, root = _check_seed(seed), _check_jobs(jobs), Path(root)
    _run_tasks(
        _gtzan_plan(root, clips_per_genre, seed, duration), jobs, progress, "synthetic GTZAN"
    )
    _write_gtzan_artists(root, clips_per_genre, seed)
    return root


@dataclass(frozen=True)
class JamendoTrack:
    """One planned track of the synthetic MTG-Jamendo set (its numbers become the TSV's ids).

    Attributes
    ----------
    number : int > 0
        Track number (``track_NNNNNNN``, and the audio file's name).
    artist : int > 0
        Artist number (``artist_NNNNNN``).
    album : int > 0
        Album number (``album_NNNNNN``).
    duration : float
        Length (s), one decimal.
    tags : tuple of str
        The track's tags, sorted, without the TSV prefix.
    """

    number: int
    artist: int
    album: int
    duration: float  # s, one decimal
    tags: tuple[str, ...]

    @property
    def track_id(self) -> str:
        """The TSV's track id, ``track_`` and the number in seven digits.

        Returns
        -------
        str
            ``track_NNNNNNN``.
        """
        return f"track_{self.number:07d}"

    @property
    def relpath(self) -> str:
        """Path of the audio file below the root: ``NN/<number>.mp3``, ``NN`` = number mod 100.

        Returns
        -------
        str
            The relative path, with ``/`` separators.
        """
        return f"{self.number % 100:02d}/{self.number}.mp3"

    def row(self, drop: Iterable[str] = ()) -> str | None:
        """The track's TSV row.

        Parameters
        ----------
        drop : iterable of str
            Tags to leave out (the split files drop :data:`SPLIT_DROPPED_TAGS`).

        Returns
        -------
        str or None
            ``TRACK_ID, ARTIST_ID, ALBUM_ID, PATH, DURATION`` and the prefixed tags (sorted),
            tab-separated, without a line end; ``None`` when dropping tags leaves none.
        """
        tags = [t for t in self.tags if t not in set(drop)]
        if not tags:
            return None
        return "\t".join(
            [
                self.track_id,
                f"artist_{self.artist:06d}",
                f"album_{self.album:06d}",
                self.relpath,
                f"{self.duration:.1f}",
                *(TAG_PREFIX + t for t in sorted(tags)),
            ]
        )


#: tracks per artist: 1 + a geometric draw, at most this many
MAX_TRACKS_PER_ARTIST = 12


#: track lengths, skewed toward short ones: most are min + SHORT_SPAN * (max - min) * Beta(a, b)
#: (30-90 s by default, about 40 s on average); LONG_TRACK_PROB of them are uniform over the
#: rest of the range (90-180 s)
SHORT_SPAN = 0.4


DURATION_BETA = (0.7, 3.5)
LONG_TRACK_PROB = 0.05


def plan_jamendo(
    n_tracks: int = DEFAULT_N_TRACKS,
    seed: int = 0,
    min_duration: float = DEFAULT_MIN_DURATION,
    max_duration: float = DEFAULT_MAX_DURATION,
) -> list[JamendoTrack]:
    """The tracks of the synthetic mood set: ids, artists, albums, durations and tags.

    Track numbers are distinct, in [1, 1,500,000]; artists play runs of consecutive tracks
    (a geometric number, at most :data:`MAX_TRACKS_PER_ARTIST`) spread over one to three
    albums; durations are skewed toward short tracks (see :data:`SHORT_SPAN`), in 0.1 s steps;
    tags come from :func:`~.tags.sample_tags`.

    Parameters
    ----------
    n_tracks : int in [1, 20000]
        Number of tracks.
    seed : int >= 0
        Seed of the whole set.
    min_duration, max_duration : float in [1, 3600]
        Shortest and longest track (s).

    Returns
    -------
    list of JamendoTrack
        The tracks, ordered by track number.

    Raises
    ------
    ConfigError
        If ``n_tracks`` or a duration is out of its range, ``max_duration < min_duration`` or
        ``seed`` is not a non-negative integer.
    """
    n_tracks = _check_count(n_tracks, "n_tracks", 1, 20_000)
    min_duration = _check_duration(min_duration, "min_duration")
    max_duration = _check_duration(max_duration, "max_duration")
    if max_duration < min_duration:
        raise ConfigError(f"max_duration ({max_duration}) must be >= min_duration ({min_duration})")
    rng = _rng(seed, "jamendo-plan")
    tags = sample_tags(n_tracks, seed)
    sizes: list[int] = []
    while sum(sizes) < n_tracks:
        sizes.append(int(min(rng.geometric(0.3), MAX_TRACKS_PER_ARTIST)))
    sizes[-1] -= sum(sizes) - n_tracks
    numbers = np.sort(rng.choice(1_500_000, size=n_tracks, replace=False) + 1)
    artists = np.sort(rng.choice(999_999, size=len(sizes), replace=False) + 1)
    albums = iter(np.sort(rng.choice(999_999, size=3 * len(sizes), replace=False) + 1).tolist())
    span = max_duration - min_duration
    short = min_duration + SHORT_SPAN * span * rng.beta(*DURATION_BETA, size=n_tracks)
    long = min_duration + span * rng.uniform(SHORT_SPAN, 1.0, size=n_tracks)
    raw = np.where(rng.random(n_tracks) < LONG_TRACK_PROB, long, short)
    durations = np.clip(
        np.round(raw, 1), round(min_duration, 1), round(max_duration, 1)
    )  # 0.1 s steps
    plan, i = [], 0
    for artist, size in zip(artists.tolist(), sizes):
        artist_albums = [next(albums) for _ in range(3)][: int(rng.integers(1, 4))]
        for _ in range(size):
            plan.append(
                JamendoTrack(
                    int(numbers[i]),
                    artist,
                    artist_albums[int(rng.integers(len(artist_albums)))],
                    float(durations[i]),
                    tags[i],
                )
            )
            i += 1
    return plan


def assign_splits(plan: Sequence[JamendoTrack], seed: int = 0) -> dict[str, list[JamendoTrack]]:
    """Artist-disjoint train/validation/test parts, as in the official split-0 files.

    Only the tracks that keep a tag once :data:`SPLIT_DROPPED_TAGS` are removed take part;
    artists, in a random order, go to the part furthest below its share
    (:data:`SPLIT_FRACTIONS`) of those tracks.

    Parameters
    ----------
    plan : sequence of JamendoTrack
        The set's tracks (:func:`plan_jamendo`).
    seed : int >= 0
        Seed of the whole set.

    Returns
    -------
    dict[str, list of JamendoTrack]
        ``{"train", "validation", "test"}`` -> the part's tracks, ordered by track number.

    Raises
    ------
    ConfigError
        If ``seed`` is not a non-negative integer.
    """
    rng = _rng(seed, "jamendo-split")
    kept = [t for t in plan if t.row(SPLIT_DROPPED_TAGS) is not None]
    by_artist: dict[int, list[JamendoTrack]] = {}
    for t in kept:
        by_artist.setdefault(t.artist, []).append(t)
    parts: dict[str, list[JamendoTrack]] = {p: [] for p in SPLIT_FRACTIONS}
    for artist in rng.permutation(sorted(by_artist)).tolist():
        deficit = {p: SPLIT_FRACTIONS[p] * len(kept) - len(parts[p]) for p in parts}
        parts[max(deficit, key=deficit.get)].extend(by_artist[artist])
    return {p: sorted(ts, key=lambda t: t.number) for p, ts in parts.items()}


def _tsv(rows: Iterable[str]) -> str:
    return "".join(line + "\r\n" for line in ["\t".join(JAMENDO_HEADER), *rows])


def _write_jamendo_metadata(root: Path, plan: Sequence[JamendoTrack], seed: int) -> None:
    write_text_atomic(root / "autotagging_moodtheme.tsv", _tsv(t.row() for t in plan), newline="")
    for part, tracks in assign_splits(plan, seed).items():
        write_text_atomic(
            root / "splits" / "split-0" / f"autotagging_moodtheme-{part}.tsv",
            _tsv(t.row(SPLIT_DROPPED_TAGS) for t in tracks),
            newline="",
        )


def _jamendo_tasks(
    root: Path, plan: Sequence[JamendoTrack], seed: int
) -> list[tuple[Callable, tuple]]:
    # the longest first, so that the workers finish together
    order = sorted(plan, key=lambda t: (-t.duration, t.number))
    return [
        (_jamendo_task, (t.tags, t.number, seed, t.duration, t.artist, str(root / t.relpath)))
        for t in order
    ]


def make_jamendo(
    root,
    n_tracks: int = DEFAULT_N_TRACKS,
    seed: int = 0,
    jobs: int = 1,
    progress: bool = True,
    min_duration: float = DEFAULT_MIN_DURATION,
    max_duration: float = DEFAULT_MAX_DURATION,
) -> Path:
    """Write an MTG-Jamendo-shaped mood/theme set under ``root``.

    ``root/autotagging_moodtheme.tsv`` (59 tags), ``root/splits/split-0/autotagging_moodtheme-
    {train,validation,test}.tsv`` (artist-disjoint, 56 tags)
    and ``root/NN/ID.mp3`` (16,000 Hz mono, :func:`~.mood.render_mood_track`): ``n_tracks``
    tracks of ``min_duration`` to ``max_duration`` seconds; the TSVs have CRLF line ends. Same
    arguments, same bytes, whatever ``jobs``.

    Parameters
    ----------
    root : str or os.PathLike
        Folder to write into, created as needed; each file is replaced atomically, other files
        are left alone.
    n_tracks : int in [1, 20000]
        Number of tracks.
    seed : int >= 0
        Seed of the whole set.
    jobs : int in [1, 1024] or None
        Worker processes; ``None``: one per CPU.
    progress : bool
        Show a progress bar.
    min_duration, max_duration : float in [1, 3600]
        Shortest and longest track (s).

    Returns
    -------
    pathlib.Path
        ``root``.

    Raises
    ------
    ConfigError
        If an argument is out of its range or of the wrong type.
    """
    seed, jobs, root = _check_seed(seed), _check_jobs(jobs), Path(root)
    plan = plan_jamendo(n_tracks, seed, min_duration, max_duration)
    _run_tasks(_jamendo_tasks(root, plan, seed), jobs, progress, "synthetic MTG-Jamendo")
    _write_jamendo_metadata(root, plan, seed)
    return root


def make_all(
    root,
    clips_per_genre: int = DEFAULT_CLIPS_PER_GENRE,
    n_tracks: int = DEFAULT_N_TRACKS,
    seed: int = 0,
    jobs: int = 1,
    progress: bool = True,
) -> dict[str, Path]:
    """Write both sets, sharing one pool of worker processes.

    ``root/gtzan`` as :func:`make_gtzan` (30 s clips) and ``root/mtg-jamendo`` as
    :func:`make_jamendo` (tracks of the default 30-180 s); the files are the same as those two
    would write.

    Parameters
    ----------
    root : str or os.PathLike
        Folder to write both sets into.
    clips_per_genre : int in [1, 100]
        GTZAN clips per genre.
    n_tracks : int in [1, 20000]
        MTG-Jamendo tracks.
    seed : int >= 0
        Seed of both sets.
    jobs : int in [1, 1024] or None
        Worker processes; ``None``: one per CPU.
    progress : bool
        Show a progress bar.

    Returns
    -------
    dict[str, pathlib.Path]
        ``{"gtzan": root / "gtzan", "mtg-jamendo": root / "mtg-jamendo"}``.

    Raises
    ------
    ConfigError
        If an argument is out of its range or of the wrong type.
    """
    clips_per_genre, duration = _check_gtzan_args(clips_per_genre, GTZAN_DURATION)
    seed, jobs, root = _check_seed(seed), _check_jobs(jobs), Path(root)
    paths = {"gtzan": root / "gtzan", "mtg-jamendo": root / "mtg-jamendo"}
    plan = plan_jamendo(n_tracks, seed)
    tasks = _jamendo_tasks(paths["mtg-jamendo"], plan, seed) + _gtzan_plan(
        paths["gtzan"], clips_per_genre, seed, duration
    )
    _run_tasks(tasks, jobs, progress, "synthetic data")
    _write_gtzan_artists(paths["gtzan"], clips_per_genre, seed)
    _write_jamendo_metadata(paths["mtg-jamendo"], plan, seed)
    return paths
