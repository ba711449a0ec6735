"""The data stages, each in one call: synthesise the default data, index a dataset, split a store.

:mod:`musiclass.study` runs them in order (``musiclass run``), the command line and the notebooks
call them one by one; the main job that strings both studies together is
:func:`musiclass.demo.run_demo`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import warnings
from pathlib import Path
from typing import Any

from . import locks, splits
from .datasets import gtzan, jamendo, synthetic
from .datasets.base import TrackIndex
from .errors import ConfigError
from .features.store import FeatureStore
from .layout import SYNTH_STAMP, SplitFolder
from .utils import default_jobs, write_json_atomic

log = logging.getLogger(__name__)


# ------------------------------------------------------------------------------ synthesis
def synthesize(
    out: str | Path,
    *,
    clips_per_genre: int = 20,
    mood_tracks: int | None = None,
    seed: int = 0,
    jobs: int | None = None,
    progress: bool = True,
    which: tuple[str, ...] = ("gtzan", "mtg-jamendo"),
) -> dict[str, Path]:
    """Write the synthetic GTZAN-shaped and MTG-Jamendo-shaped sets under ``out``.

    A set whose stamp file records the same parameters is not written again; a set without its
    stamp (never written, or interrupted) is written from scratch.

    Parameters
    ----------
    out : str or pathlib.Path
        The data folder; the sets go to ``gtzan/`` and ``mtg-jamendo/`` in it.
    clips_per_genre : int, default=20
        Clips per genre of the GTZAN-shaped set.
    mood_tracks : int, optional
        Tracks of the MTG-Jamendo-shaped set (default:
        :data:`musiclass.datasets.synthetic.DEFAULT_N_TRACKS`).
    seed : int, default=0
        Seed of the generator.
    jobs : int, optional
        Worker processes (default: :func:`musiclass.utils.default_jobs`).
    progress : bool, default=True
        Whether to show a progress bar.
    which : tuple of str, default=("gtzan", "mtg-jamendo")
        The sets to write.

    Returns
    -------
    dict of str to pathlib.Path
        Set name to its folder, for each set of ``which``.

    Raises
    ------
    musiclass.errors.ConfigError
        If ``which`` names a set other than ``gtzan`` and ``mtg-jamendo``.
    musiclass.locks.LockedError
        If a set must be written and another process is writing ``out``.
    """
    out = Path(out)
    jobs = jobs or default_jobs()
    n_tracks = synthetic.DEFAULT_N_TRACKS if mood_tracks is None else mood_tracks
    params = {
        "gtzan": {"clips_per_genre": clips_per_genre, "seed": seed},
        "mtg-jamendo": {"n_tracks": n_tracks, "seed": seed},
    }
    for name in which:
        if name not in params:
            raise ConfigError(f"unknown synthetic set {name!r}; choose gtzan or mtg-jamendo")
        params[name]["generator"] = synthetic.GENERATOR_VERSION

    todo = [name for name in which if not _stamped(out, name, params[name])]
    for name in which:
        if name not in todo:
            log.info("%s: synthetic %s already written, skipping", out / name, name)
    if todo:  # one writer per data folder; sets already written are read without a lock
        with locks.locked(out):
            # again under the lock: a writer that held it may have finished them meanwhile
            todo = [name for name in todo if not _stamped(out, name, params[name])]
            _write_sets(out, todo, params, clips_per_genre, n_tracks, seed, jobs, progress)
    return {name: out / name for name in which}


def _stamped(out: Path, name: str, params: dict) -> bool:
    """Set ``name`` under ``out`` is complete, written with ``params`` (its stamp file)."""
    stamp = out / name / SYNTH_STAMP
    return stamp.is_file() and json.loads(stamp.read_text()) == params


def _write_sets(out: Path, todo, params, clips_per_genre, n_tracks, seed, jobs, progress) -> None:
    """Write the sets named in ``todo``, each stamped with its ``params`` once complete."""
    for name in todo:
        (out / name / SYNTH_STAMP).unlink(missing_ok=True)
    if set(todo) == {"gtzan", "mtg-jamendo"}:  # one worker pool for both
        synthetic.make_all(
            out,
            clips_per_genre=clips_per_genre,
            n_tracks=n_tracks,
            seed=seed,
            jobs=jobs,
            progress=progress,
        )
    elif "gtzan" in todo:
        synthetic.make_gtzan(
            out / "gtzan", clips_per_genre=clips_per_genre, seed=seed, jobs=jobs, progress=progress
        )
    elif "mtg-jamendo" in todo:
        synthetic.make_jamendo(
            out / "mtg-jamendo", n_tracks=n_tracks, seed=seed, jobs=jobs, progress=progress
        )
    for name in todo:
        write_json_atomic(
            out / name / SYNTH_STAMP, params[name]
        )  # last: a set without its stamp is incomplete


# ------------------------------------------------------------------------------ indexing
def index_gtzan(root: str | Path, out: str | Path | None = None, **kwargs) -> TrackIndex:
    """Index a GTZAN tree (:func:`musiclass.datasets.gtzan.index`), and save the index if asked.

    Parameters
    ----------
    root : str or pathlib.Path
        The dataset folder.
    out : str or pathlib.Path, optional
        Where to save the index (:meth:`~musiclass.datasets.base.TrackIndex.save`); default: not
        saved.
    **kwargs
        Passed on to :func:`musiclass.datasets.gtzan.index` (``check``, ``min_duration``,
        ``artists``, ``expect_full``, ``progress``).

    Returns
    -------
    musiclass.datasets.base.TrackIndex
        One row per usable clip, and the problems found.

    Raises
    ------
    musiclass.errors.DatasetError
        If no genre folder is found under ``root``, or one cannot be listed.
    musiclass.errors.MetadataError
        If the artists file is missing (when named explicitly) or malformed.
    musiclass.errors.ConfigError
        For an unknown ``check``.
    musiclass.locks.LockedError
        If another process is writing the index folder ``out``.
    """
    with _index_lock(out):  # one writer per index folder, from before the tree is read
        idx = gtzan.index(root, **kwargs)
        if out is not None:
            idx.save(out)
    return idx


def index_jamendo(
    root: str | Path, out: str | Path | None = None, *, metadata: str | Path | None = None, **kwargs
) -> TrackIndex:
    """Index MTG-Jamendo's mood/theme subset (:func:`musiclass.datasets.jamendo.index`), and save it if asked.

    Parameters
    ----------
    root : str or pathlib.Path
        The audio folder (holding ``00/`` .. ``99/``).
    out : str or pathlib.Path, optional
        Where to save the index (:meth:`~musiclass.datasets.base.TrackIndex.save`); default: not
        saved.
    metadata : str or pathlib.Path, optional
        The metadata TSV (default: ``<root>/autotagging_moodtheme.tsv``).
    **kwargs
        Passed on to :func:`musiclass.datasets.jamendo.index` (``curation``, ``check``, ``split``,
        ``splits_dir``, ``progress``).

    Returns
    -------
    musiclass.datasets.base.TrackIndex
        The tagged tracks, and the problems found.

    Raises
    ------
    musiclass.errors.ConfigError
        For an unknown ``check`` or ``curation``, or an invalid ``split``.
    musiclass.errors.MetadataError
        For a missing or malformed metadata or split file.
    musiclass.locks.LockedError
        If another process is writing the index folder ``out``.
    """
    root = Path(root)
    metadata = Path(metadata) if metadata else root / "autotagging_moodtheme.tsv"
    with _index_lock(out):  # one writer per index folder, from before the tree is read
        idx = jamendo.index(metadata, root, **kwargs)
        if out is not None:
            idx.save(out)
    return idx


def _index_lock(out):
    return locks.locked(out) if out is not None else contextlib.nullcontext()


# ------------------------------------------------------------------------------ splitting
@locks.writes(lambda store, **_: SplitFolder(store.path).path)  # one writer per split folder
def make_splits(
    store: FeatureStore,
    methods: tuple[str, ...],
    *,
    seed: int = 42,
    fractions=(0.8, 0.1, 0.1),
    official: dict | None = None,
) -> dict[str, dict[str, Any]]:
    """Compute, save (``<store>/splits/<method>.csv``) and summarise the given split methods.

    Parameters
    ----------
    store : musiclass.features.store.FeatureStore
        The feature store to split.
    methods : tuple of str
        Split methods, each one of :data:`musiclass.splits.METHODS`.
    seed : int, default=42
        Seed of the random splits (``song``, ``artist``, ``seed-frame``).
    fractions : tuple of float, default=(0.8, 0.1, 0.1)
        Train, validation and test fractions of the random splits.
    official : dict, optional
        For ``official``: ``splits_dir`` (the dataset's ``splits`` folder) and ``split`` (its
        number, default 0).

    Returns
    -------
    dict of str to dict
        Method to its summary: ``file`` (the saved split), ``tracks`` and ``frames`` (counts per
        part), ``tracks_in_several_parts``, ``leak`` (:func:`musiclass.splits.frame_leak`) and
        ``notes`` (the warnings raised while splitting, sorted).

    Raises
    ------
    musiclass.errors.ConfigError
        For an unknown split method.
    musiclass.errors.MetadataError
        For a missing or malformed official split file.
    """
    index = store.tracks()
    frame_index = store.index
    results: dict[str, dict[str, Any]] = {}
    for method in methods:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            results[method] = _one_split(
                store, method, index, frame_index, seed, fractions, official
            )
        results[method]["notes"] = sorted({str(w.message) for w in caught})
    return results


def _check_artists(store: FeatureStore, index: TrackIndex) -> None:
    """The artist split needs an artist per track; say where GTZAN's come from when some lack one."""
    if "artist" not in index.tracks.columns:
        return  # song_split names the missing column
    lacking = int((index.tracks["artist"].astype(str) == "").sum())
    if not lacking:
        return
    where = (
        f"GTZAN's come from ROOT/artists.csv (columns track_id,artist; ROOT the folder given to "
        f"`musiclass index gtzan`, here {index.root or 'unknown'}): add it and re-run "
        "`musiclass index` and `extract` (see docs/data.md)"
        if index.dataset == "gtzan"
        else "the index's artist column comes from the dataset's metadata"
    )
    raise ConfigError(
        f"{store.path}: --method artist needs an artist for every track, and {lacking} of "
        f"{len(index)} have none; {where}"
    )


def _one_split(
    store: FeatureStore,
    method: str,
    index: TrackIndex,
    frame_index,
    seed: int,
    fractions,
    official: dict | None,
) -> dict[str, Any]:
    if method == "seed-frame":
        row_parts = splits.frame_split(
            frame_index, fractions, seed=seed, multilabel=store.multilabel
        )
        saved = row_parts
    else:
        if method == "song":
            saved = splits.song_split(index, fractions, seed=seed)
        elif method == "artist":
            _check_artists(store, index)
            saved = splits.song_split(index, fractions, seed=seed, group="artist")
        elif method in ("gtzan-filtered", "gtzan-stratified"):
            saved = gtzan.split(index, kind=method.split("-", 1)[1])
        elif method == "official":
            official = official or {}
            saved = jamendo.split_assignment(official["splits_dir"], official.get("split", 0))
        else:
            raise ConfigError(f"unknown split method {method!r}; choose from {splits.METHODS}")
        row_parts = splits.rows_for(saved, frame_index)
    path = splits.save(saved, SplitFolder(store.path).split(method))
    summary = splits.summarize(row_parts, frame_index)
    return {
        "file": str(path),
        "tracks": summary["tracks"].to_dict(),
        "frames": summary["frames"].to_dict(),
        "tracks_in_several_parts": len(splits.tracks_in_several_parts(row_parts)),
        "leak": splits.frame_leak(row_parts, frame_index, store.config.frame_seconds),
        "classes_without_test": splits.classes_without(row_parts, frame_index, store.classes),
    }


# ------------------------------------------------------------------------------ the main job
