"""A study from config files: data -> features -> splits -> every model under every split -> registry.

A study config (YAML, see ``configs/genre/``) says::

    experiment: exp1                    # a name for the rows it adds to the results table
    task: genre
    data: {dataset: synthetic}          # or {dataset: gtzan, root: /path/to/gtzan}
    frontend: {preset: default}         # any FrontendConfig value may follow
    splits: [song, seed-frame]          # every run is trained and tested under each
    train: {preset: default}            # any TrainConfig value may follow
    runs:                               # one network each
      - {name: cnn-3-mel, model: cnn-3, representation: mel}
    classical: {models: [lr, rf, gb, svm, knn]}   # optional: the scikit-learn baselines
    # ... on a pretrained network's embeddings instead of the descriptors (configs/genre/transfer.yaml):
    #   classical: {features: embeddings, pretrained: musicnn-msd, models: [...], protocols: [default]}
    probe: {pretrained: musicnn-msd}    # optional, mood: a linear probe per tag on the embeddings
    include: [exp1.yaml, ...]           # optional: other configs run first

:func:`run_study` writes under ``out``: ``index/``, ``stores/<frontend hash>/`` (with ``splits/``),
``models/<split>/<run>-<hash>/`` (model directories, see :mod:`musiclass.training`),
``registry/<experiment>__<run>__<split>.json`` (one record per result) and ``results.csv`` (all
records, one row each). Every stage is skipped when its config is unchanged, so an interrupted
study resumes where it stopped and a second experiment reuses the first one's models.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import locks, transfer
from .config import frontend_from_mapping, load_yaml
from .datasets import jamendo
from .errors import ConfigError, MusiclassError
from .features.extract import extract
from .features.store import FeatureStore, tracks_fingerprint
from .layout import ClassicalFiles, ProbeFiles, SplitFolder, StoreFiles, StudyFolder
from .models import classical
from .pipeline import index_gtzan, index_jamendo, make_splits, synthesize
from .pretrained.weights import WeightsUnavailable
from .registry import (
    CLASSICAL_METRICS,
    CLASSICAL_PROTOCOL,
    MOOD_METRICS,
    PROTOCOL_OF_SPLIT,
    collect,
    register,
    relative_source,
    resampled_counts,
    stale_records,
    tags_per_part,
    unregister,
)
from .splits import METHODS, check_fractions
from .training import train, train_preset
from .utils import config_hash, default_jobs, write_csv_atomic, write_json_atomic

#: ``tags_per_part`` and ``resampled_counts`` are the registry's; the mood notebooks call them
#: as ``study.tags_per_part`` / ``study.resampled_counts``, so they are offered here too
__all__ = [
    "DEFAULT_SPLIT",
    "PROFILES",
    "Study",
    "load_study",
    "run_study",
    "prepare",
    "resampled_counts",
    "resolve_splits",
    "seed_spread",
    "tags_per_part",
]

log = logging.getLogger(__name__)

#: train, validation and test fractions of the random splits unless a config says otherwise
DEFAULT_FRACTIONS = (0.8, 0.1, 0.1)
#: the split methods whose parts depend on the fractions
RANDOM_METHODS = ("song", "artist", "seed-frame")
#: what a config's ``default`` split is, per (task, dataset): artist-disjoint everywhere. Real
#: GTZAN has no artist labels but the fault-filtered lists (Kereliuk, Sturm & Larsen) keep each
#: artist on one side; MTG-Jamendo's official splits are artist-disjoint
DEFAULT_SPLIT = {
    ("genre", "synthetic"): "artist",
    ("genre", "gtzan"): "gtzan-filtered",
    ("mood", "synthetic"): "official",
    ("mood", "jamendo"): "official",
}


#: profile overrides: ``quick`` is the README demo (under 15 minutes on 2 cores), ``full`` the study
PROFILES: dict[str, dict[str, Any]] = {
    "full": {
        "train": {},
        "n_boot": 1000,
        "repeats": 3,
        # sized for one sitting on 2 CPU cores (at most 150 min; measured in December 2026:
        # 46 min for experiment 1 with every run under the frame split, 39 min for experiment
        # 2's 15 artist-split trainings, 15 min for its song split, 20-25 min for the mood
        # study's frame split): every network under the default split (experiment 2: three
        # seeds each) and every depth under the song split, so both leaks of each depth are
        # measured; the original frame split for CNN-3, 5 and 7 of experiment 2 (the frame leak
        # at both ends and the middle), not for the spectrogram CNN (30 min alone: its input is
        # 4x the mel one's, and on frames of songs it trains on, validation keeps improving for
        # 27 epochs instead of 8), and for the four mood
        # training sets the quick profile trains (no resampling, up-1, down-1, the weighted loss)
        "only_runs": {
            "seed-frame": [
                "cnn-3-mel",
                "cnn-5-mel",
                "cnn-7-mel",
                "mfcc-1d",
                "fnn-mel",
                "base",
                "up-1",
                "down-1",
                "balanced-loss",
            ],
        },
    },
    "quick": {
        # a tour of every stage, sized for 15 minutes on 2 CPU cores: a CNN-3 epoch of 2 frames of
        # each of 138 training tracks in batches of 32 takes about 3 s there (oneDNN on)
        "train": {
            "epochs": 4,
            "early_stopping_patience": 2,
            "train_frames_per_track": 2,
            "validation_frames_per_track": 4,
            "batch_size": 32,
        },
        "n_boot": 500,
        "repeats": 1,
        "skip_models": ["svm-tuned"],
        # one seed; the song split (for the three-way leak table) for CNN-3 only, the original
        # frame split for one network of each kind (the frame leak); the depths 3 and 7 of
        # experiment 2 and four of the mood study's ten training sets (the full profile: all)
        "max_seeds": 1,
        "only_runs": {
            "song": ["cnn-3-mel"],
            "seed-frame": ["cnn-3-mel", "mfcc-1d", "fnn-mel", "base", "mood-cnn"],
        },
        # the spectrogram CNN's input is 4x the mel one's: one training frame per track
        "run_train": {"cnn-3-spectrogram": {"train_frames_per_track": 1}},
        "skip_runs": [
            "cnn-4-mel",
            "cnn-5-mel",
            "cnn-6-mel",
            "up-0.25",
            "up-0.5",
            "up-0.75",
            "down-0.25",
            "down-0.5",
            "down-0.75",
        ],
        # the transfer experiments embed one (the middle) 3 s patch per track: about 0.2 s of
        # CPU each instead of 2 s for a 30 s clip (the full profile embeds every patch), and skip
        # the forest and the boosting, slow on 2,006 values (gb: about 4 CPU minutes per repeat)
        "embedding_patches": 1,
        "embedding_skip_models": ["rf", "gb"],
    },
    # for tests: a few steps per model, just enough to exercise every stage
    "tiny": {
        "train": {
            "epochs": 1,
            "early_stopping_patience": None,
            "train_frames_per_track": 2,
            "batch_size": 32,
            "tensorboard": False,
        },
        "n_boot": 50,
        "repeats": 1,
        "skip_models": ["svm-tuned", "rf", "gb"],
        "max_seeds": 1,
        "only_runs": {"song": ["cnn-3-mel"]},
        "embedding_patches": 1,
        "embedding_skip_models": ["rf", "gb"],
        "probe_C": (0.1,),
    },
}


@dataclass
class Study:
    """One config file, resolved (includes first).

    Attributes
    ----------
    experiment : str
        A name for the rows it adds to the results table (default: the file's stem).
    task : {"genre", "mood"}, default="genre"
        What is classified: genres (single-label) or moods and themes (tags).
    data : dict, default={"dataset": "synthetic"}
        Where the data comes from: ``dataset`` (``synthetic``, ``gtzan`` or ``jamendo``) and what
        that needs (``root``, ``metadata``, ``splits_dir``, ...).
    frontend : dict, default={"preset": "default"}
        A frontend ``preset`` and any :class:`~musiclass.config.FrontendConfig` value.
    splits : list of str, default=["default", "seed-frame"]
        Every run is trained and tested under each of these split methods (a config without
        ``splits`` gets ``["default"]`` from :func:`load_study`). ``default`` is the dataset's
        artist-disjoint split (:data:`DEFAULT_SPLIT`): ``artist`` on synthetic GTZAN,
        ``gtzan-filtered`` on real GTZAN, ``official`` on MTG-Jamendo.
    train : dict, default={"preset": "default"}
        A training ``preset`` and any :class:`~musiclass.training.TrainConfig` value.
    runs : list of dict, default=[]
        One network each: ``model`` and optionally ``name``, ``representation`` and any
        :class:`~musiclass.training.TrainConfig` value.
    classical : dict or None, default=None
        The scikit-learn baselines (``models``, ``protocols``), or None for none. With
        ``features: embeddings`` they run on a pretrained network's embeddings (``pretrained``,
        default ``musicnn-msd``; :mod:`musiclass.transfer`) instead of the descriptors.
    source : str, default=""
        The config file it was read from.
    split_fractions : tuple of float, default=(0.8, 0.1, 0.1)
        Train, validation and test fractions of the random splits (``song``, ``artist``,
        ``seed-frame``); a split made with other fractions is made again.
    seeds : list of int or None, default=None
        Extra training seeds: each run is also trained with each of these seeds under the study's
        first split, and its record gains the spread across seeds (``<metric>_seed_mean``,
        ``<metric>_seed_sd``, ``n_seeds``). None: one seed (the training config's).
    probe : dict or None, default=None
        Mood: a linear probe per tag on a pretrained network's embeddings (``pretrained``,
        default ``musicnn-msd``; ``C``, the values tried on validation), under every split; see
        :func:`musiclass.transfer.fit_probe`. None for none.
    """

    experiment: str
    task: str = "genre"
    data: dict = field(default_factory=lambda: {"dataset": "synthetic"})
    frontend: dict = field(default_factory=lambda: {"preset": "default"})
    splits: list = field(default_factory=lambda: ["default", "seed-frame"])
    train: dict = field(default_factory=lambda: {"preset": "default"})
    runs: list = field(default_factory=list)
    classical: dict | None = None
    source: str = ""
    split_fractions: tuple = DEFAULT_FRACTIONS
    seeds: list | None = None
    probe: dict | None = None


KNOWN_KEYS = {
    "experiment",
    "task",
    "data",
    "frontend",
    "splits",
    "train",
    "runs",
    "classical",
    "include",
    "description",
    "split_fractions",
    "seeds",
    "probe",
}


def load_study(path: str | Path) -> list[Study]:
    """Read a study config and the configs it includes (depth first, each once).

    Parameters
    ----------
    path : str or pathlib.Path
        The study config (YAML, see the module docstring).

    Returns
    -------
    list of Study
        One per file with ``runs``, a ``classical`` or a ``probe`` section, the included ones first.

    Raises
    ------
    musiclass.errors.ConfigError
        If a file is missing or not valid YAML, has an unknown key, or a run without ``model``, or
        if no file has anything to do.
    """
    out: list[Study] = []
    seen: set[Path] = set()

    def visit(p: Path) -> None:  # a closure, not API; numpydoc ignore=GL08
        p = p.resolve()
        if p in seen:
            return
        seen.add(p)
        d = load_yaml(p)
        unknown = sorted(set(d) - KNOWN_KEYS)
        if unknown:
            raise ConfigError(f"{p}: unknown key(s) {unknown}; known: {sorted(KNOWN_KEYS)}")
        for inc in d.get("include") or []:
            visit(p.parent / inc)
        if d.get("runs") or d.get("classical") or d.get("probe"):
            runs = d.get("runs") or []
            for r in runs:
                if not isinstance(r, dict) or "model" not in r:
                    raise ConfigError(f"{p}: every run needs at least `model:` (got {r!r})")
            out.append(
                Study(
                    experiment=str(d.get("experiment") or p.stem),
                    task=d.get("task", "genre"),
                    data=dict(d.get("data") or {"dataset": "synthetic"}),
                    frontend=dict(d.get("frontend") or {"preset": "default"}),
                    splits=_split_list(d.get("splits"), p),
                    train=dict(d.get("train") or {}),
                    runs=runs,
                    classical=d.get("classical"),
                    source=str(p),
                    split_fractions=_fractions(d.get("split_fractions"), p),
                    seeds=_seed_list(d.get("seeds"), p),
                    probe=_probe_spec(d.get("probe"), p),
                )
            )

    visit(Path(path))
    if not out:
        raise ConfigError(f"{path}: no runs and no classical section (nothing to do)")
    return out


def _probe_spec(value, where) -> dict | None:
    """A config's ``probe`` section: ``pretrained`` and ``C`` (positive numbers), checked."""
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"pretrained", "C"}:
        raise ConfigError(
            f"{where}: probe takes pretrained and C, e.g. {{pretrained: musicnn-msd}}"
        )
    grid = value.get("C", list(transfer.PROBE_C))
    if (
        not isinstance(grid, list)
        or not grid
        or not all(isinstance(c, (int, float)) and not isinstance(c, bool) and c > 0 for c in grid)
    ):
        raise ConfigError(f"{where}: probe.C must be a list of positive numbers, got {grid!r}")
    return {"pretrained": str(value.get("pretrained", transfer.DEFAULT_MODEL)), "C": grid}


def _split_list(value, where) -> list[str]:
    """A config's ``splits``: a list of split method names (or ``default``), checked."""
    if value is None:
        return ["default"]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ConfigError(
            f"{where}: splits must be a list of split methods, e.g. [default, seed-frame]; got "
            f"{value!r}"
        )
    known = (*METHODS, "default")
    unknown = [v for v in value if v not in known]
    if unknown:
        raise ConfigError(
            f"{where}: unknown split method {unknown[0]!r}; choose from {list(known)}"
        )
    return list(dict.fromkeys(value))


def _seed_list(value, where) -> list[int] | None:
    """A config's ``seeds``: distinct integers in [0, 2**32), or None."""
    if value is None:
        return None
    ok = (
        isinstance(value, list)
        and value
        and all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**32 for v in value)
    )
    if not ok or len(set(value)) != len(value):
        raise ConfigError(
            f"{where}: seeds must be a list of distinct integers in [0, 2**32), got {value!r}"
        )
    return list(value)


def resolve_splits(task: str, dataset: str, methods: list[str]) -> list[str]:
    """The split methods a study runs, ``default`` replaced by the dataset's own.

    Parameters
    ----------
    task : {"genre", "mood"}
        The study's task.
    dataset : str
        Its dataset (``synthetic``, ``gtzan`` or ``jamendo``).
    methods : list of str
        The configured split methods, ``default`` among them or not.

    Returns
    -------
    list of str
        The methods, ``default`` replaced by :data:`DEFAULT_SPLIT`'s entry, without repeats.

    Examples
    --------
    >>> resolve_splits("genre", "synthetic", ["default", "song", "seed-frame"])
    ['artist', 'song', 'seed-frame']
    >>> resolve_splits("genre", "gtzan", ["default"])
    ['gtzan-filtered']
    """
    own = DEFAULT_SPLIT.get((task, dataset), "official" if task == "mood" else "song")
    return list(dict.fromkeys(own if m == "default" else m for m in methods))


def _fractions(value, where) -> tuple:
    """A config's ``split_fractions`` (train, validation, test), checked; the default when absent."""
    if value is None:
        return DEFAULT_FRACTIONS
    if not isinstance(value, (list, tuple)) or len(value) != 3:
        raise ConfigError(f"{where}: split_fractions must be 3 numbers (train, validation, test)")
    try:
        return tuple(check_fractions(value, every_part=True))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: split_fractions {value!r}: {exc}") from None


def _apply_overrides(study: Study, overrides: dict[str, Any]) -> Study:
    """``train.epochs=5``, ``frontend.dtype=float16``, ``data.root=...``, ``splits=[song]``."""
    for key, value in overrides.items():
        section, _, name = key.partition(".")
        if section in ("train", "frontend", "data") and name:
            getattr(study, section)[name] = value
        elif section == "splits" and not name:
            study.splits = _split_list(
                list(value) if isinstance(value, (list, tuple)) else [value], key
            )
        elif section == "seeds" and not name:
            study.seeds = _seed_list(value, key)
        elif section == "split_fractions" and not name:
            study.split_fractions = _fractions(value, key)
        else:
            raise ConfigError(
                f"cannot override {key!r}: use train.KEY, frontend.KEY, data.KEY, splits, "
                f"split_fractions or seeds"
            )
    study.splits = resolve_splits(
        study.task, str(study.data.get("dataset", "synthetic")), study.splits
    )
    return study


@locks.writes("out")  # one writer per study folder
def run_study(
    config: str | Path | list[Study],
    out: str | Path = "runs/genre",
    *,
    profile: str = "full",
    data_dir: str | Path | None = None,
    jobs: int | None = None,
    preset: str | None = None,
    overrides: dict[str, Any] | None = None,
    progress: bool = True,
    echo=print,
    reuse=(),
) -> pd.DataFrame:
    """Run every experiment of a study config; return (and write) the results table.

    Parameters
    ----------
    config : str or pathlib.Path or list of Study
        The study config, or studies already read (:func:`load_study`).
    out : str or pathlib.Path, default="runs/genre"
        The study folder (see the module docstring).
    profile : {"full", "quick", "tiny"}, default="full"
        The overrides of :data:`PROFILES`: training epochs, bootstrap resamples, cross-validation
        repeats and baselines skipped.
    data_dir : str or pathlib.Path, optional
        Where synthetic data is written (default: ``data/`` beside ``out``).
    jobs : int, optional
        Worker processes (default: :func:`musiclass.utils.default_jobs`).
    preset : str, optional
        A preset for both the frontend and the training config of every study, replacing theirs.
    overrides : dict, optional
        Config values to override in every study: ``train.KEY``, ``frontend.KEY``, ``data.KEY``
        (``train.epochs=5``, ``frontend.dtype=float16``, ``data.root=...``) or ``splits``.
    progress : bool, default=True
        Whether to show progress bars.
    echo : callable, default=print
        Called with each line of progress.
    reuse : sequence of str or pathlib.Path, default=()
        Feature stores the user already has (``musiclass run --store``): one of the same frontend
        config hash and track list is used where it is (``stores/<hash>`` becomes a link to it)
        instead of being extracted again.

    Returns
    -------
    pandas.DataFrame
        The study's results table (:func:`musiclass.registry.collect`), also written to
        ``out/results.csv``.

    Raises
    ------
    musiclass.errors.ConfigError
        For an unknown profile, task, dataset or override, or data settings a dataset needs that
        are missing.
    """
    if profile not in PROFILES:
        raise ConfigError(f"unknown profile {profile!r}; choose from {sorted(PROFILES)}")
    prof = PROFILES[profile]
    studies = load_study(config) if not isinstance(config, list) else config
    out = Path(out)
    jobs = jobs or default_jobs()
    data_dir = Path(data_dir) if data_dir else out.parent / "data"
    stores: dict[str, FeatureStore] = {}
    records: list[dict[str, Any]] = []
    for study in studies:
        study = _apply_overrides(study, dict(overrides or {}))
        if preset:
            study.frontend["preset"] = preset
            study.train["preset"] = preset
        if study.task not in ("genre", "mood"):
            raise ConfigError(f"{study.source}: task must be genre or mood, got {study.task!r}")
        _record_run(study, out, profile)
        t0 = time.perf_counter()
        written: set[Path] = set()  # this run's records of the study, for the sweep at its end
        echo(f"\n== {study.experiment} ({Path(study.source).name}, profile {profile})")
        store, official = _store_for(study, out, data_dir, stores, jobs, progress, echo, reuse)
        if study.runs or study.probe:  # the classical baselines cross-validate: no split to make
            _ensure_splits(
                store, study.splits, echo, official=official, fractions=study.split_fractions
            )
        for split in study.splits:
            for run_spec in study.runs:
                run = dict(run_spec)
                name = run.pop("name", None) or f"{run['model']}-{run.get('representation', 'mel')}"
                if not _trained_under(prof, split, name, study.splits[0]):
                    # a record an earlier run (another profile) left would pass into this table
                    stale = unregister(out, study.experiment, name, split)
                    echo(
                        f"-- {name} on {split} split: skipped by the {profile} profile"
                        + (
                            "; the earlier run's result of it removed from the table"
                            if stale
                            else ""
                        )
                    )
                    continue
                values = {k: v for k, v in study.train.items() if k != "preset"}
                values.update(prof["train"])
                values.update(run)
                values.update(prof.get("run_train", {}).get(name, {}))
                cfg = train_preset(study.train.get("preset", "default"), **values)
                res = _train_one(study, out, store, split, name, cfg, prof, progress, echo)
                rec = _network_record(study, name, split, res)
                # the seed spread: the same run trained with other seeds, under the first split
                # (a profile's ``max_seeds`` counts the first seed too)
                extra = [x for x in (study.seeds or []) if x != cfg.seed]
                extra = extra[: max(0, prof.get("max_seeds", len(extra) + 1) - 1)]
                if split != study.splits[0]:
                    extra = []
                if extra:
                    again = [
                        _network_record(
                            study,
                            name,
                            split,
                            _train_one(
                                study,
                                out,
                                store,
                                split,
                                f"{name} (seed {seed})",
                                dataclasses.replace(cfg, seed=seed),
                                prof,
                                progress,
                                echo,
                            ),
                        )
                        for seed in extra
                    ]
                    rec.update(seed_spread([rec, *again], [cfg.seed, *extra]))
                rec["source"] = relative_source(res.model_dir, out)
                rec["order"] = study.runs.index(run_spec)
                written.add(register(out, rec, split))
                records.append(rec)
                head = "roc_auc_macro" if study.task == "mood" else "accuracy"
                echo(
                    f"   test {head} {rec[head]:.3f} [{rec[head + '_low']:.3f}, {rec[head + '_high']:.3f}] "
                    f"on {rec['test_tracks']} tracks; {rec['epochs']} epochs, {rec['seconds']:.0f} s"
                    + (
                        f"; over {rec['n_seeds']} seeds {rec[head + '_seed_mean']:.3f} "
                        f"+/- {rec[head + '_seed_sd']:.3f}"
                        if rec.get("n_seeds")
                        else ""
                    )
                )
        if study.classical:
            for key, rec in _run_classical(study, store, out, prof, progress, echo):
                rec["source"] = relative_source(rec["source"], out)
                written.add(register(out, rec, key))
                records.append(rec)
        if study.probe:
            for split, rec in _run_probe(study, store, out, prof, progress, echo):
                rec["source"] = relative_source(rec["source"], out)
                written.add(register(out, rec, f"probe-{split}"))
                records.append(rec)
        # records an earlier run (another profile: a run, a classical model or a probe this one
        # skips) left would pass into this run's table, which must hold what a fresh run's does
        stale = stale_records(out, study.experiment, keep=written)
        if stale:
            echo(f"   removed {len(stale)} earlier result(s) this run did not produce: {stale}")
        echo(f"   {study.experiment} done in {time.perf_counter() - t0:.0f} s")
    table = collect(out)
    return table


def _trained_under(prof: dict, split: str, name: str, first: str) -> bool:
    """Whether a profile trains run ``name`` under ``split``: not when ``skip_runs`` names it;
    else ``only_runs`` (split -> run names) decides, but never limits the study's ``first``
    split, its headline."""
    if name in prof.get("skip_runs", ()):
        return False
    only = prof.get("only_runs", {}).get(split)
    return split == first or only is None or name in only


def _train_one(
    study: Study, out: Path, store, split: str, name: str, cfg, prof: dict, progress, echo
):
    """Train (or find trained) one network of a study under one split; its training result."""
    # named by what is trained, so identical runs in two experiments share one model
    model_dir = (
        StudyFolder(out).model(split, f"{cfg.model}-{cfg.representation}-{cfg.hash()[:8]}").path
    )
    echo(f"-- {name} on {split} split: {cfg.model} on {cfg.representation} -> {model_dir}")
    return train(store, split, cfg, model_dir, progress=progress, n_boot=prof["n_boot"])


#: the metrics whose spread across training seeds a record keeps
SEED_METRICS = (
    "accuracy",
    "frame_accuracy",
    "f1_macro",
    "roc_auc",
    "roc_auc_macro",
    "pr_auc_macro",
)


def seed_spread(records: list[dict[str, Any]], seeds: list[int]) -> dict[str, Any]:
    """The spread of a run's test metrics across training seeds.

    Parameters
    ----------
    records : list of dict
        The run's result records (one per seed, as :func:`run_study` registers them).
    seeds : list of int
        Their seeds, in the same order.

    Returns
    -------
    dict
        ``n_seeds``, ``seeds`` (``"0,1,2"``), and per metric of :data:`SEED_METRICS` the records
        have: ``<metric>_seed_mean``, ``<metric>_seed_sd`` (sample standard deviation, ``ddof=1``)
        and ``<metric>_seed_values`` (``"0.812,0.790,0.801"``).

    Examples
    --------
    >>> out = seed_spread([{"accuracy": 0.8}, {"accuracy": 0.6}], [0, 1])
    >>> out["n_seeds"], round(out["accuracy_seed_mean"], 3), round(out["accuracy_seed_sd"], 3)
    (2, 0.7, 0.141)
    """
    out: dict[str, Any] = {"n_seeds": len(records), "seeds": ",".join(str(s) for s in seeds)}
    for m in SEED_METRICS:
        values = [r.get(m) for r in records]
        if any(v is None or v != v for v in values):
            continue
        arr = np.asarray(values, dtype=float)
        out[f"{m}_seed_mean"] = float(arr.mean())
        out[f"{m}_seed_sd"] = float(arr.std(ddof=1)) if arr.size > 1 else 0.0
        out[f"{m}_seed_values"] = ",".join(f"{v:.4f}" for v in arr)
    return out


@locks.writes("out")  # one writer per study folder
def prepare(
    config: str | Path,
    out: str | Path,
    *,
    data_dir: str | Path | None = None,
    jobs: int | None = None,
    preset: str | None = None,
    overrides: dict[str, Any] | None = None,
    progress: bool = True,
    echo=print,
    reuse=(),
):
    """Run the data stages of a study config, without training.

    Synthesise (or index the real data), extract the feature store and make the splits of the
    config's first experiment. :func:`run_study` on the same config and ``out`` finds both done and
    goes straight to training.

    Parameters
    ----------
    config : str or pathlib.Path
        The study config.
    out : str or pathlib.Path
        The study folder.
    data_dir : str or pathlib.Path, optional
        Where synthetic data is written (default: ``data/`` beside ``out``).
    jobs : int, optional
        Worker processes (default: :func:`musiclass.utils.default_jobs`).
    preset : str, optional
        A preset for both the frontend and the training config, replacing the study's.
    overrides : dict, optional
        Config values to override, as for :func:`run_study`.
    progress : bool, default=True
        Whether to show progress bars.
    echo : callable, default=print
        Called with each line of progress.
    reuse : sequence of str or pathlib.Path, default=()
        Feature stores the user already has (``musiclass run --store``): one of the same frontend
        config hash and track list is used where it is (``stores/<hash>`` becomes a link to it)
        instead of being extracted again.

    Returns
    -------
    store : musiclass.features.store.FeatureStore
        The extracted feature store.
    splits : dict of str to dict
        Per split method, its sizes and measured leak (as kept in ``splits/summary.json``, see
        :func:`musiclass.pipeline.make_splits`).

    Raises
    ------
    musiclass.errors.ConfigError
        For an unknown dataset or override, or data settings a dataset needs that are missing.
    """
    study = _apply_overrides(load_study(config)[0], dict(overrides or {}))
    if preset:
        study.frontend["preset"] = preset
        study.train["preset"] = preset
    out = Path(out)
    data_dir = Path(data_dir) if data_dir else out.parent / "data"
    store, official = _store_for(
        study,
        out,
        data_dir,
        {},
        jobs or default_jobs(),
        progress,
        echo,
        reuse,
    )
    return store, _ensure_splits(
        store, study.splits, echo, official=official, fractions=study.split_fractions
    )


def _record_run(study: Study, out: Path, profile: str) -> None:
    """Write ``run.json`` (dataset, profile, preset, seed): what reports say the results came from."""
    data = study.data
    values = {k: v for k, v in study.train.items() if k != "preset"}
    train_seed = train_preset(study.train.get("preset", "default"), **values).seed
    dataset = str(data.get("dataset", "synthetic"))
    if dataset != "synthetic" and data.get("root"):
        dataset = f"{dataset} ({Path(str(data['root'])).expanduser()})"
    write_json_atomic(
        StudyFolder(out).run_record,
        {
            "dataset": dataset,
            "profile": profile,
            "preset": study.train.get("preset") or study.frontend.get("preset") or "default",
            # the synthetic data's seed (as a notebook's workspace.json), else training's
            "seed": int(data.get("seed", 0)) if dataset == "synthetic" else train_seed,
            "train_seed": train_seed,
            "config": str(study.source),
            "task": study.task,
        },
    )


def _store_for(
    study: Study,
    out: Path,
    data_dir: Path,
    stores: dict,
    jobs,
    progress,
    echo,
    reuse=(),
):
    """Index the study's data and extract it with its frontend (each once per config); a store of
    ``reuse`` with the same config and tracks is linked in instead of extracted."""
    data = study.data
    dataset = data.get("dataset", "synthetic")
    official = None
    if study.task == "mood":
        if dataset == "synthetic":
            root = synthesize(
                data_dir,
                mood_tracks=data.get("n_tracks"),
                seed=int(data.get("seed", 0)),
                jobs=jobs,
                progress=progress,
                which=("mtg-jamendo",),
            )["mtg-jamendo"]
            metadata, splits_dir = root / "autotagging_moodtheme.tsv", root / "splits"
        elif dataset == "jamendo":
            for key in ("root", "metadata", "splits_dir"):
                if not data.get(key):
                    raise ConfigError(
                        f"{study.source}: data.{key} is needed for dataset: jamendo "
                        f"(root: the audio folder with NN/ID.mp3; metadata: "
                        f"autotagging_moodtheme.tsv; splits_dir: the folder of split-0..4)"
                    )
            root = Path(data["root"]).expanduser()
            metadata, splits_dir = (
                Path(data["metadata"]).expanduser(),
                Path(data["splits_dir"]).expanduser(),
            )
        else:
            raise ConfigError(
                f"{study.source}: data.dataset must be synthetic or jamendo, got {dataset!r}"
            )
        official = {"splits_dir": splits_dir, "split": int(data.get("split", 0))}
        index_args = dict(
            metadata=metadata,
            curation=data.get("curation", "official"),
            split=official["split"],
            check="header",
        )
    elif dataset == "synthetic":
        root = synthesize(
            data_dir,
            clips_per_genre=int(data.get("clips_per_genre", 20)),
            seed=int(data.get("seed", 0)),
            jobs=jobs,
            progress=progress,
            which=("gtzan",),
        )["gtzan"]
        index_args = dict(check="header")
    elif dataset == "gtzan":
        if not data.get("root"):
            raise ConfigError(
                f"{study.source}: data.root must give the GTZAN folder for dataset: gtzan"
            )
        root = Path(data["root"]).expanduser()
        index_args = dict(check="header")
    else:
        raise ConfigError(
            f"{study.source}: data.dataset must be synthetic or gtzan, got {dataset!r}"
        )
    frontend = frontend_from_mapping(dict(study.frontend), task=study.task)
    key = config_hash(
        {
            "root": str(Path(root).resolve()),
            "frontend": frontend.hash(),
            "index": {k: str(v) for k, v in index_args.items()},
        }
    )
    if key in stores:
        return stores[key], official
    if study.task == "mood":
        index = index_jamendo(root, out / "index", **index_args)
        _save_curation_counts(root, index_args, index, out)
    else:
        index = index_gtzan(root, out / "index", **index_args)
    path = StudyFolder(out).store(frontend.hash()[:12])
    if not path.exists() and not path.is_symlink():
        given = _matching_store(reuse, frontend.hash(), tracks_fingerprint(index))
        if given is not None:  # the user's store of this config and index: used where it is
            path.parent.mkdir(parents=True, exist_ok=True)
            path.symlink_to(given, target_is_directory=True)
            echo(f"   reusing the feature store {given} (config {frontend.hash()}, same tracks)")
    if not (path / StoreFiles.MANIFEST).is_file():
        echo(f"   extracting {len(index)} tracks with frontend {frontend.hash()} -> {path}")
    # also for a finished store: extract says it is up to date, or retries transient failures
    # the study's own store follows the study's index (chunks still reused by fingerprint only);
    # a user's store (a link, from --store) is never rewritten for another index
    report = extract(
        index,
        frontend,
        path,
        jobs=jobs,
        progress=progress,
        allow_other_index=not path.is_symlink(),
    )
    echo("   " + report.summary().replace("\n", "\n   "))
    stores[key] = report.store
    return report.store, official


def _matching_store(reuse, config: str, tracks: str) -> Path | None:
    """The first of the user's stores (``--store``) of this frontend config and track list."""
    for candidate in reuse or ():
        path = Path(candidate).expanduser()
        try:
            m = FeatureStore(path).manifest
        except MusiclassError:
            continue
        if m.get("config_hash") == config and m.get("tracks_fingerprint") == tracks:
            return path.resolve()
    return None


def _save_curation_counts(root, index_args: dict, index, out: Path) -> None:
    """Tracks per tag before curation (all tags of the TSV) and after, for the tag-frequency figure."""
    raw = jamendo.index(
        index_args["metadata"], root, curation="none", check="none", split=index_args.get("split")
    )
    table = pd.DataFrame(
        {
            "all tags (no curation)": pd.Series(raw.label_matrix().sum(axis=0), index=raw.classes),
            f"after curation ({index_args.get('curation')})": pd.Series(
                index.label_matrix().sum(axis=0), index=index.classes
            ),
        }
    ).fillna(0)
    write_csv_atomic(
        table.astype(int).T.rename_axis("group").reset_index(), StudyFolder(out).curation
    )


@locks.writes(lambda store, **_: SplitFolder(store.path).path)  # summary.json too
def _ensure_splits(
    store, methods, echo=print, official: dict | None = None, fractions=None
) -> dict[str, Any]:
    """Make the splits the store lacks (or that were made with other fractions); return (and keep
    in ``splits/summary.json``) their sizes and the measured leak of each."""
    fractions = list(fractions or DEFAULT_FRACTIONS)
    folder = SplitFolder(store.path)
    path = folder.summary
    summary = json.loads(path.read_text()) if path.is_file() else {}

    def stale(m: str) -> bool:
        if not folder.split(m).is_file() or m not in summary:
            return True
        made_with = summary[m].get("fractions", list(DEFAULT_FRACTIONS))
        return m in RANDOM_METHODS and not all(
            abs(float(a) - float(b)) < 1e-9 for a, b in zip(made_with, fractions)
        )

    missing = tuple(m for m in methods if stale(m))
    if missing:
        made = make_splits(store, missing, seed=42, official=official, fractions=tuple(fractions))
        for m in missing:
            if m in RANDOM_METHODS:
                made[m]["fractions"] = fractions
        summary.update(made)
        write_json_atomic(path, summary)
    for m in methods:
        leak, tracks = summary[m]["leak"], summary[m]["tracks"]
        sizes = ", ".join(
            f"{p} {tracks[p]}" for p in ("train", "validation", "test") if p in tracks
        )
        echo(
            f"   {m} split: tracks {sizes}; test frames whose song is in train: "
            f"{leak['test_frames_with_song_in_train']:.0%}"
        )
        missing = summary[m].get("classes_without_test") or []
        if missing:
            echo(
                f"   WARNING: the {m} split has no test track of {len(missing)} class(es): "
                f"{', '.join(missing)}; their per-class metrics read n/a (no test tracks). "
                f"More data, or larger test fractions, give every class a test track."
            )
    return {m: summary[m] for m in methods}


def _network_record(study: Study, name: str, split: str, res) -> dict[str, Any]:
    if study.task == "mood":
        return _tagging_record(study, name, split, res)
    test = res.metrics["test"]
    track = test["track"]
    ci = track["intervals"]
    return {
        "task": study.task,
        "experiment": study.experiment,
        "model": name,
        "protocol": PROTOCOL_OF_SPLIT.get(split, split),
        "split": split,
        "accuracy": track["accuracy"],
        "accuracy_low": ci["accuracy"][0],
        "accuracy_high": ci["accuracy"][1],
        "f1_macro": track["f1_macro"],
        "f1_low": ci["f1_macro"][0],
        "f1_high": ci["f1_macro"][1],
        "roc_auc": track["roc_auc_ovr_macro"],
        "roc_auc_low": ci["roc_auc"][0],
        "roc_auc_high": ci["roc_auc"][1],
        "precision_macro": track["precision_macro"],
        "recall_macro": track["recall_macro"],
        "frame_accuracy": test["frame"]["accuracy"],
        "frame_accuracy_low": test["frame"]["intervals"]["accuracy"][0],
        "frame_accuracy_high": test["frame"]["intervals"]["accuracy"][1],
        "test_tracks": res.metrics["tracks"]["test"],
        "epochs": res.metrics["epochs_run"],
        "seconds": res.metrics["seconds"],
        "parameters": res.metrics["parameters"],
        "chance_accuracy": track.get("chance_accuracy"),
        **_chance_columns(test.get("chance", {})),
        "degenerate": track.get("degenerate"),
        "source": str(res.model_dir),
    }


def _chance_columns(chance: dict[str, Any]) -> dict[str, Any]:
    """``<metric>_chance`` (the permutation mean) and its 95 % range, per metric with a chance level."""
    out: dict[str, Any] = {}
    for key, c in chance.items():
        out[f"{key}_chance"] = c.get("mean")
        out[f"{key}_chance_low"], out[f"{key}_chance_high"] = c.get("low"), c.get("high")
    return out


def _tagging_record(study: Study, name: str, split: str, res) -> dict[str, Any]:
    """A mood result: MediaEval metrics on test tracks with intervals, and the original's metrics."""
    test = res.metrics["test"]
    track, ci = test["track"], test["track"]["intervals"]
    rec: dict[str, Any] = {
        "task": study.task,
        "experiment": study.experiment,
        "model": name,
        "protocol": PROTOCOL_OF_SPLIT.get(split, split),
        "split": split,
    }
    # the validation figures, on which a "best" configuration is chosen (never on test)
    validation = res.metrics.get("validation", {}).get("track", {})
    for m in ("roc_auc_macro", "pr_auc_macro"):
        rec[f"validation_{m}"] = validation.get(m)
    for m in MOOD_METRICS:
        lo, hi = ci.get(m) or (None, None)
        rec.update({m: track.get(m), f"{m}_low": lo, f"{m}_high": hi})
    rec.update(_chance_columns(test.get("chance", {})))
    # the macro PR-AUC of tags with fewer than 10 test positives is biased upward: flagged
    rec["pr_auc_macro_estimable"] = track.get("pr_auc_macro_estimable")
    rec["min_test_positives"] = track.get("min_test_positives")
    seed = test.get("seed_metrics", {})
    rec.update(
        {f"original_{k}": v for k, v in seed.items() if isinstance(v, (int, float)) or v is None}
    )
    rec.update(
        {
            "test_tracks": res.metrics["tracks"]["test"],
            "train_frames": res.metrics.get("train_frames"),
            "epochs": res.metrics["epochs_run"],
            "seconds": res.metrics["seconds"],
            "parameters": res.metrics["parameters"],
            "source": str(res.model_dir),
        }
    )
    return rec


def _run_classical(
    study: Study, store, out: Path, prof: dict, progress: bool, echo
) -> list[tuple[str, dict]]:
    """The scikit-learn baselines on the store's descriptor table (or a pretrained network's
    embeddings, ``features: embeddings``), under both protocols."""
    spec = dict(study.classical or {})
    skip = set(prof.get("skip_models", []))
    features = spec.get("features", "descriptors")
    if features not in ("descriptors", "embeddings"):
        raise ConfigError(
            f"{study.source}: classical.features must be descriptors or embeddings, got {features!r}"
        )
    extra: dict[str, Any] = {}
    if features == "embeddings":
        model = str(spec.get("pretrained", transfer.DEFAULT_MODEL))
        name = _embeddings(store, model, prof, progress, echo)
        if name is None:
            return []
        table = transfer.embedding_features(store, name)
        extra = {"features": f"{name} embeddings"}
        skip |= set(prof.get("embedding_skip_models", []))
    else:
        table = classical.read_features(store.path)
    rows = []
    for protocol in spec.get("protocols", ["seed", "default"]):
        models = [
            m
            for m in classical.parse_models(spec.get("models", "lr,rf,gb,svm,knn"))
            if m not in skip and not (protocol == "seed" and m == "svm-tuned")
        ]
        # our protocol keeps every artist on one side: grouped CV, or the artist-filtered lists
        design, groups, note = (
            classical.default_design(table) if protocol == "default" else (protocol, False, None)
        )
        if note:
            echo(f"   WARNING: {note}")
        key = config_hash(
            {
                "store": store.manifest["config_hash"],
                "protocol": protocol,
                **({"design": [design, groups]} if protocol == "default" else {}),
                "models": models,
                "repeats": prof["repeats"],
                "n_boot": prof["n_boot"],
                "tracks": store.manifest.get("tracks_fingerprint"),
                **extra,
            }
        )
        prefix = "transfer-" if extra else ""  # the classifiers on embeddings: beside, not over
        folder = StudyFolder(out).classical(f"{prefix}{protocol}-{key[:8]}")
        if not (folder / ClassicalFiles.SUMMARY).is_file():
            echo(
                f"-- classical ML ({', '.join(models)}), {protocol} protocol, on {len(table)} tracks"
                + (f" x {table.X.shape[1]} {extra['features']}" if extra else "")
            )
            result = classical.run(
                table,
                protocol=design,
                groups=groups,
                models=models,
                seed=42,
                n_repeats=prof["repeats"],
                n_boot=prof["n_boot"],
                progress=progress,
            )
            classical.save({protocol: result}, folder, table)
        for r in pd.read_csv(folder / ClassicalFiles.TABLE).to_dict("records"):
            rows.append(
                (
                    f"classical-{protocol}",
                    {
                        "task": study.task,
                        "experiment": study.experiment,
                        "model": r["model"],
                        "protocol": CLASSICAL_PROTOCOL[protocol],
                        "split": _classical_split(protocol, design, groups, prof["repeats"]),
                        **{k: r.get(k) for k in CLASSICAL_METRICS},
                        "frame_accuracy": None,
                        "frame_accuracy_low": None,
                        "frame_accuracy_high": None,
                        "test_tracks": r.get("n_eval"),
                        "epochs": None,
                        "seconds": r.get("fit_s"),
                        "parameters": None,
                        "source": str(folder),
                        **extra,
                    },
                )
            )
    return rows


def _embeddings(store, model: str, prof: dict, progress: bool, echo) -> str | None:
    """The store's embedding table for ``model`` under the profile's patch limit (extracted once);
    None, said in one line, when the published weights cannot be had."""
    try:
        return transfer.ensure_embeddings(
            store,
            model,
            max_patches=prof.get("embedding_patches"),
            progress=progress,
            echo=echo,
        )
    except WeightsUnavailable as exc:
        echo(f"   transfer learning skipped: the {model} weights cannot be had ({exc.reason})")
        return None


def _run_probe(
    study: Study, store, out: Path, prof: dict, progress: bool, echo
) -> list[tuple[str, dict]]:
    """The mood linear probe on the store's embeddings, under each of the study's splits."""
    spec = dict(study.probe or {})
    model = spec.get("pretrained", transfer.DEFAULT_MODEL)
    name = _embeddings(store, model, prof, progress, echo)
    if name is None:
        return []
    grid = tuple(float(c) for c in prof.get("probe_C", spec.get("C", transfer.PROBE_C)))
    rows = []
    for split in study.splits:
        key = config_hash(
            {
                "store": store.manifest["config_hash"],
                "tracks": store.manifest.get("tracks_fingerprint"),
                "split": split,
                "features": name,
                "C": list(grid),
                "n_boot": prof["n_boot"],
            }
        )
        folder = StudyFolder(out).probe(f"{split}-{key[:8]}")
        summary_file = folder / ProbeFiles.SUMMARY
        if summary_file.is_file():
            metrics = json.loads(summary_file.read_text())
        else:
            echo(f"-- linear probe (one logistic regression per tag, C in {list(grid)}) on {split}")
            metrics = transfer.run_probe(
                store, split, name, folder, C=grid, n_boot=prof["n_boot"], seed=42
            )
        res = _ProbeResult(metrics, folder)
        rec = _tagging_record(study, "linear-probe", split, res)
        rec.update({"features": f"{name} embeddings", "probe_C": metrics["C"]})
        rec["source"] = str(folder)
        echo(
            f"   test roc_auc_macro {rec['roc_auc_macro']:.3f} [{rec['roc_auc_macro_low']:.3f}, "
            f"{rec['roc_auc_macro_high']:.3f}] on {rec['test_tracks']} tracks; C={metrics['C']:g} "
            f"chosen on validation"
        )
        rows.append((split, rec))
    return rows


@dataclass
class _ProbeResult:
    """A linear probe's summary in the shape a training result has, for :func:`_tagging_record`."""

    metrics: dict
    model_dir: Path


def _classical_split(protocol: str, design: str, groups: bool, repeats: int) -> str:
    """How a classical result was split, as the results table says it."""
    if protocol == "seed":
        return "70/30 of tracks, scaler fitted on all"
    if design == "filtered":
        return "artist-filtered GTZAN lists"
    cv = f"{repeats}x 5-fold CV of tracks"
    return f"{cv}, grouped by artist" if groups else f"{cv} (no artists: may leak)"


# ------------------------------------------------------------------------------ figures and tables
