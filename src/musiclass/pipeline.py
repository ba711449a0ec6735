"""The data stages, each in one call: synthesise the default data, index a dataset, make the
splits of a feature store. :mod:`musiclass.study` runs them in order (``musiclass run``), the
command line and the notebooks call them one by one; the main job that strings both studies
together is :mod:`musiclass.demo`.
"""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path
from typing import Any

from . import splits
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

    def stamped(name: str) -> bool:
        stamp = out / name / SYNTH_STAMP
        return stamp.is_file() and json.loads(stamp.read_text()) == params[name]

    todo = [name for name in which if not stamped(name)]
    for name in which:
        if name not in todo:
            log.info("%s: synthetic %s already written, skipping", out / name, name)
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
    return {name: out / name for name in which}


# ------------------------------------------------------------------------------ indexing
def index_gtzan(root: str | Path, out: str | Path | None = None, **kwargs) -> TrackIndex:
    idx = gtzan.index(root, **kwargs)
    if out is not None:
        idx.save(out)
    return idx


def index_jamendo(
    root: str | Path, out: str | Path | None = None, *, metadata: str | Path | None = None, **kwargs
) -> TrackIndex:
    root = Path(root)
    metadata = Path(metadata) if metadata else root / "autotagging_moodtheme.tsv"
    idx = jamendo.index(metadata, root, **kwargs)
    if out is not None:
        idx.save(out)
    return idx


# ------------------------------------------------------------------------------ splitting
def make_splits(
    store: FeatureStore,
    methods: tuple[str, ...],
    *,
    seed: int = 42,
    fractions=(0.8, 0.1, 0.1),
    official: dict | None = None,
) -> dict[str, dict[str, Any]]:
    """Compute, save (``<store>/splits/<method>.csv``) and summarise the given split methods."""
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
