"""What the numbered notebooks call, so that each of their cells is a few lines.

The notebooks in ``genre-classification/code/`` and ``mood-classification/code/`` run in order
against one **run folder** (the layout :func:`musiclass.demo.run_demo` writes)::

    runs/demo/data/            the synthetic sets (when the dataset is synthetic)
    runs/demo/genre/           the genre study: index, feature store, splits, models, registry
    runs/demo/genre/workspace.json   what 1_Data_Collection was run with; later notebooks check it
    runs/demo/mood/            the mood study, laid out the same way

Every notebook opens the same :class:`Workspace` from its ``parameters`` cell
(:func:`open_workspace`); notebook 1 of each task prepares the data, the others require it and say
which notebook to run first when it is missing. Training and evaluation go through
:func:`musiclass.study.run_study`, so a model a notebook trained is never trained again, by another
notebook or by ``musiclass demo``.

:func:`musiclass.publish.execute` runs notebooks with papermill (the tests and ``musiclass demo`` use it).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .config import frontend_from_mapping
from .errors import ConfigError
from .features.store import FeatureStore
from .figures import write_figures
from .layout import (
    NOTEBOOKS,
    TASK_FOLDERS,
    ModelDir,
    RunFolder,
    SplitFolder,
    StoreFiles,
    StudyFolder,
    repo_root,
    study_config,
)
from .plots import format_results, interval_plot, save_figure
from .reference import MEDIAEVAL, beside
from .registry import (
    PROTOCOL_OF_SPLIT,
    best_on_validation,
    collect,
    headline_split,
    leak_table,
    results_for_display,
    seed_table,
    source_path,
    table_metrics,
    track_confusion,
    track_recall,
)
from .study import PROFILES, load_study, prepare, run_study
from .utils import write_csv_atomic, write_json_atomic

#: the cell API (``leak_table`` and ``seed_table`` are the registry's, offered here because the
#: notebooks call them)
__all__ = [
    "Workspace",
    "open_workspace",
    "class_table",
    "split_table",
    "splits_of",
    "show_table",
    "leak_table",
    "seed_table",
    "histories",
    "confusion",
    "per_class_recall",
    "interval_figure",
    "mean_mel_figure",
    "curation_counts",
    "export_features",
    "descriptor_figure",
    "original_beside",
    "mediaeval_beside",
]

#: the study config whose data section the data notebooks use
DATA_CONFIG = {"genre": "exp1", "mood": "resampling"}
#: the repository the Colab cell clones
REPOSITORY = "https://github.com/musiclass/musiclass"
STATE = StudyFolder.WORKSPACE
FEATURES_CSV = StudyFolder.FEATURES


@dataclass
class Workspace:
    """One task's notebooks' shared settings and paths (all relative to the repository root).

    Made by :func:`open_workspace` from a notebook's ``parameters`` cell; notebook 1 saves it as
    ``workspace.json`` in the study folder (:meth:`save_state`) and the later notebooks check it
    (:meth:`require`).

    Attributes
    ----------
    task : {"genre", "mood"}
        The task whose notebooks share it.
    dataset : str, default="synthetic"
        ``"synthetic"`` or the folder of a real GTZAN or MTG-Jamendo tree.
    out : str, default="runs/demo"
        The run folder; the study folder is ``<out>/<task>``.
    preset : {"default", "seed"}, default="default"
        Our protocol's frontend and training preset, or the original's.
    profile : {"quick", "full", "tiny"}, default="quick"
        The study profile (:data:`musiclass.study.PROFILES`).
    results : str or None, default=None
        Where the figures go; None: ``<out>/<task>/figures``.
    jobs : int or None, default=None
        Worker processes; None: :func:`musiclass.utils.default_jobs`.
    progress : bool, default=True
        Whether to show progress bars.
    clips_per_genre : int, default=20
        Clips per genre of the synthetic genre set.
    mood_tracks : int or None, default=None
        Tracks of the synthetic mood set; None: the generator's default.
    metadata : str or None, default=None
        MTG-Jamendo's metadata TSV; None: ``autotagging_moodtheme.tsv`` in ``dataset``.
    splits_dir : str or None, default=None
        MTG-Jamendo's ``splits`` folder; None: ``splits`` in ``dataset``.
    seed : int, default=0
        Seed of the synthetic data.
    created : str
        When the workspace was made (``YYYY-MM-DD HH:MM``, local time).
    """

    task: str
    dataset: str = "synthetic"
    out: str = "runs/demo"
    preset: str = "default"
    profile: str = "quick"
    results: str | None = None
    jobs: int | None = None
    progress: bool = True
    clips_per_genre: int = 20
    mood_tracks: int | None = None
    metadata: str | None = None
    splits_dir: str | None = None
    seed: int = 0
    created: str = field(default_factory=lambda: time.strftime("%Y-%m-%d %H:%M"))

    # ---------------------------------------------------------------------------- paths
    @property
    def synthetic(self) -> bool:
        """Whether the data is the embedded synthetic data.

        Returns
        -------
        bool
            True when :attr:`dataset` is ``synthetic``.
        """
        return self.dataset == "synthetic"

    @property
    def study_dir(self) -> Path:
        """The task's study folder.

        Returns
        -------
        pathlib.Path
            ``<out>/<task>``.
        """
        return Path(self.out) / self.task

    @property
    def data_dir(self) -> Path:
        """The run folder's data folder, where synthetic sets are written.

        Returns
        -------
        pathlib.Path
            ``<out>/data``.
        """
        return RunFolder(self.out).data

    @property
    def figures(self) -> Path:
        """Where this run's figures go: ``results`` if given, else ``<out>/<task>/figures``.

        Returns
        -------
        pathlib.Path
            The figures folder (not created).
        """
        return Path(self.results) if self.results else StudyFolder(self.study_dir).figures

    def figure(self, name: str) -> Path:
        """Return the path of one figure in :attr:`figures`, creating the folder.

        Parameters
        ----------
        name : str
            The figure's file name (its suffix gives the format).

        Returns
        -------
        pathlib.Path
            ``figures / name``.
        """
        self.figures.mkdir(parents=True, exist_ok=True)
        return self.figures / name

    def config(self, name: str) -> Path:
        """Find one of the task's study configs.

        Parameters
        ----------
        name : str
            The config's name (``"exp1"``, ``"fnn"``, ...).

        Returns
        -------
        pathlib.Path
            ``configs/<task>/<name>.yaml`` (:func:`musiclass.layout.study_config`).

        Raises
        ------
        musiclass.errors.ConfigError
            If the config is not found (not run from a clone of the repository).
        """
        return study_config(f"{self.task}/{name}.yaml")

    # ------------------------------------------------------------------------- settings
    def overrides(self) -> dict[str, Any]:
        """Return the ``data.*`` settings every study config of this task runs with.

        Returns
        -------
        dict
            Overrides for :func:`musiclass.study.run_study`: the synthetic data's size and seed, or
            the real dataset's folders (for MTG-Jamendo also its metadata TSV and splits folder).
        """
        if self.task == "genre":
            if self.synthetic:
                return {"data.clips_per_genre": self.clips_per_genre, "data.seed": self.seed}
            return {"data.dataset": "gtzan", "data.root": self.dataset}
        if self.synthetic:
            return {"data.n_tracks": self.mood_tracks, "data.seed": self.seed}
        root = Path(self.dataset)
        return {
            "data.dataset": "jamendo",
            "data.root": self.dataset,
            "data.metadata": self.metadata or str(root / "autotagging_moodtheme.tsv"),
            "data.splits_dir": self.splits_dir or str(root / "splits"),
        }

    def _kwargs(self) -> dict[str, Any]:
        return dict(
            data_dir=self.data_dir,
            jobs=self.jobs,
            preset=None if self.preset == "default" else self.preset,
            overrides=self.overrides(),
            progress=self.progress,
        )

    def save_state(self) -> Path:
        """Write the settings to ``workspace.json`` in the study folder, for the later notebooks.

        Returns
        -------
        pathlib.Path
            The file written.
        """
        path = self.study_dir / STATE
        write_json_atomic(path, asdict(self))
        return path

    def state(self) -> dict[str, Any] | None:
        """Read the settings notebook 1 saved (:meth:`save_state`).

        Returns
        -------
        dict or None
            The content of ``workspace.json``, or None when there is none.
        """
        path = self.study_dir / STATE
        return json.loads(path.read_text()) if path.is_file() else None

    def describe(self) -> str:
        """Describe the workspace in one line: task, data, profile, preset, run folder and figures.

        Returns
        -------
        str
            The line :func:`open_workspace` prints.
        """
        data = (
            "the embedded SYNTHETIC data (not GTZAN / MTG-Jamendo)"
            if self.synthetic
            else self.dataset
        )
        return (
            f"{self.task} study: data {data}; profile {self.profile}; preset {self.preset}; "
            f"run folder {self.out}; figures -> {self.figures}"
        )

    # --------------------------------------------------------------------------- stages
    def prepare(self):
        """Notebook 1: synthesise or index the data, extract the feature store, make the splits.

        The settings are saved afterwards (:meth:`save_state`).

        Returns
        -------
        store : musiclass.features.store.FeatureStore
            The extracted feature store.
        splits : dict of str to dict
            Per split method, its sizes and measured leak (see :func:`musiclass.study.prepare`).

        Raises
        ------
        musiclass.errors.ConfigError
            For a data config that cannot be run (a dataset's settings missing).
        """
        store, splits = prepare(
            self.config(DATA_CONFIG[self.task]), self.study_dir, **self._kwargs()
        )
        self.save_state()
        return store, splits

    def require(self, what: str = "data", notebook: str | None = None) -> None:
        """Raise a clear error when an earlier notebook has not written what this one reads.

        Parameters
        ----------
        what : str, default="data"
            ``"data"`` (notebook 1's feature store) or a file name inside the study folder.
        notebook : str, optional
            The notebook that writes it, named in the error (default: notebook 1 of the task).

        Raises
        ------
        musiclass.errors.ConfigError
            If it is missing, or if the data was prepared for another dataset.
        """
        first = notebook or f"1_Data_Collection ({TASK_FOLDERS[self.task]}/code)"
        if what == "data":
            state = self.state()
            if state is None or not self.stores():
                raise ConfigError(
                    f"{self.study_dir}: no prepared {self.task} data here. Run {first} first, "
                    f"with the same `out` ({self.out!r}) and `dataset` parameters."
                )
            if state.get("dataset") != self.dataset:
                raise ConfigError(
                    f"{self.study_dir} was prepared for dataset {state.get('dataset')!r}, not "
                    f"{self.dataset!r}: run {first} again with dataset={self.dataset!r}, or use "
                    f"another `out` folder."
                )
            return
        if not (self.study_dir / what).is_file():
            raise ConfigError(f"{self.study_dir / what} is missing: run {notebook or first} first.")

    def stores(self) -> list[Path]:
        """List the study folder's finished feature stores.

        Returns
        -------
        list of pathlib.Path
            The store folders (those with a manifest), sorted by name.
        """
        return StudyFolder(self.study_dir).stores()

    def store(self):
        """Open the feature store notebook 1 extracted (the one of the task's data config).

        Returns
        -------
        musiclass.features.store.FeatureStore
            That store, or the first store of the study folder when the config's is not found.

        Raises
        ------
        musiclass.errors.ConfigError
            If notebook 1 has not prepared the data (:meth:`require`).
        """

        self.require("data")
        study = load_study(self.config(DATA_CONFIG[self.task]))[0]
        frontend = dict(study.frontend)
        if self.preset != "default":
            frontend["preset"] = self.preset
        path = StudyFolder(self.study_dir).store(
            frontend_from_mapping(frontend, task=self.task).hash()[:12]
        )
        return FeatureStore(path if (path / StoreFiles.MANIFEST).is_file() else self.stores()[0])

    def run(self, *configs: str) -> pd.DataFrame:
        """Train and evaluate the runs of some of the task's study configs, each under its splits.

        Parameters
        ----------
        *configs : str
            The study configs (``"exp1"``, ``"fnn"``, ...); each run is trained under every split
            its config names (:func:`musiclass.study.run_study`).

        Returns
        -------
        pandas.DataFrame
            Those experiments' rows of the results table.

        Raises
        ------
        musiclass.errors.ConfigError
            If notebook 1 has not prepared the data, or a config is not found or not valid.
        """
        self.require("data")
        studies = [s for name in configs for s in load_study(self.config(name))]
        table = run_study(studies, self.study_dir, profile=self.profile, **self._kwargs())
        names = {s.experiment for s in studies}
        return table[table["experiment"].isin(names)].reset_index(drop=True)

    def table(self) -> pd.DataFrame:
        """Read every result of this task's study folder so far (all notebooks), as ``results.csv``.

        Returns
        -------
        pandas.DataFrame
            The results table (:func:`musiclass.registry.collect`, which also writes it).
        """
        return collect(self.study_dir)

    def write_figures(self) -> list[Path]:
        """Draw the study's figures and tables (:func:`musiclass.figures.write_figures`) into :attr:`figures`.

        Returns
        -------
        list of pathlib.Path
            The files written.

        Raises
        ------
        musiclass.errors.ConfigError
            If no result is registered yet.
        """
        return write_figures(self.study_dir, self.figures)

    def model_dirs(self, table: pd.DataFrame) -> dict[str, Path]:
        """Map the networks of a results table to their model folders.

        Parameters
        ----------
        table : pandas.DataFrame
            A results table; its rows with ``epochs`` (the networks) are used.

        Returns
        -------
        dict of str to pathlib.Path
            ``"model (split)" -> model folder``.
        """
        nets = table[table["epochs"].notna()]
        return {
            f"{r['model']} ({r['split']})": source_path(self.study_dir, r["source"])
            for r in nets.to_dict("records")
        }

    def leak_table(self, table: pd.DataFrame) -> pd.DataFrame:
        """Both leaks of the networks of a results table, with intervals from their test tracks.

        Parameters
        ----------
        table : pandas.DataFrame
            A results table of this workspace's study.

        Returns
        -------
        pandas.DataFrame
            :func:`musiclass.registry.leak_table` with this study's folder: per network, the track
            accuracy under each split, the frame leak and the artist leak with 95 % intervals.
        """
        return leak_table(table, self.study_dir)

    def headline_split(self, table: pd.DataFrame) -> str | None:
        """The split the per-model figures show (:func:`musiclass.registry.headline_split`).

        Parameters
        ----------
        table : pandas.DataFrame
            A results table.

        Returns
        -------
        str or None
            The most artist-disjoint of our splits the table's networks were run under.
        """
        return headline_split(table)


def open_workspace(
    task: str,
    *,
    dataset: str = "synthetic",
    out: str = "runs/demo",
    preset: str = "default",
    profile: str = "quick",
    results: str | None = None,
    jobs: int | None = None,
    progress: bool = True,
    clips_per_genre: int = 20,
    mood_tracks: int | None = None,
    metadata: str | None = None,
    splits_dir: str | None = None,
    seed: int = 0,
    quiet: bool = False,
) -> Workspace:
    """Check a notebook's parameters, move to the repository root and set up inline figures.

    Run from inside a musiclass checkout (its own notebooks), every path is relative to the
    repository root, and the working directory becomes that root; run from anywhere else, relative
    paths are relative to the working directory (which is left alone), and absolute paths work
    everywhere. Figures of :mod:`musiclass.plots` are shown in
    Jupyter as PNG, or JPEG for large image-like ones, at :data:`NOTEBOOK_DPI`.

    Parameters
    ----------
    task : {"genre", "mood"}
        The notebook's task.
    dataset : str, default="synthetic"
        ``"synthetic"`` or the folder of a real GTZAN (``genres/<genre>/<genre>.NNNNN.wav``) or
        MTG-Jamendo (``NN/ID.mp3``) tree.
    out : str, default="runs/demo"
        The run folder.
    preset : {"default", "seed"}, default="default"
        Our protocol or the original's.
    profile : {"quick", "full", "tiny"}, default="quick"
        The study profile.
    results : str, optional
        Where the figures go (default: ``<out>/<task>/figures``).
    jobs : int, optional
        Worker processes.
    progress : bool, default=True
        Whether to show progress bars.
    clips_per_genre : int, default=20
        Clips per genre of the synthetic genre set.
    mood_tracks : int, optional
        Tracks of the synthetic mood set.
    metadata : str, optional
        MTG-Jamendo's metadata TSV (default: in ``dataset``).
    splits_dir : str, optional
        MTG-Jamendo's ``splits`` folder (default: in ``dataset``).
    seed : int, default=0
        Seed of the synthetic data.
    quiet : bool, default=False
        Whether not to print the workspace's description.

    Returns
    -------
    Workspace
        The settings (see :class:`Workspace`).

    Raises
    ------
    musiclass.errors.ConfigError
        For an unknown task, profile or preset, or a dataset folder that does not exist.
    """
    if task not in NOTEBOOKS:
        raise ConfigError(f"task must be genre or mood, got {task!r}")
    if profile not in PROFILES:
        raise ConfigError(f"profile must be one of {sorted(PROFILES)}, got {profile!r}")
    if preset not in ("default", "seed"):
        raise ConfigError(
            f"preset must be default (our protocol) or seed (the original's), got {preset!r}"
        )
    root = repo_root()
    # the checkout's own notebooks (run from inside it): paths relative to the repository root, as
    # their parameters cell says; anywhere else (a copy, the package imported from a checkout
    # elsewhere) relative paths stay relative to the working directory, as a user expects
    if root is not None and Path.cwd().resolve().is_relative_to(root.resolve()):
        os.chdir(root)
    if dataset != "synthetic":
        path = Path(dataset).expanduser()
        if not path.is_dir():
            raise ConfigError(
                f"dataset {dataset!r}: no such folder. Give 'synthetic' or the folder of a real "
                f"{'GTZAN' if task == 'genre' else 'MTG-Jamendo'} tree (see the README, 'Real data')."
            )
        dataset = str(path)
    ws = Workspace(
        task=task,
        dataset=dataset,
        out=str(out),
        preset=preset,
        profile=profile,
        results=str(results) if results else None,
        jobs=jobs,
        progress=progress,
        clips_per_genre=int(clips_per_genre),
        mood_tracks=mood_tracks,
        metadata=metadata,
        splits_dir=splits_dir,
        seed=int(seed),
    )
    _inline_figures()
    if not quiet:
        print(ws.describe())
    return ws


#: resolution of the figures shown in notebooks (the saved PNGs use :data:`musiclass.plots.DPI`)
NOTEBOOK_DPI = 80
#: figures with more pixels than this (at :data:`NOTEBOOK_DPI`) are shown as JPEG: spectrogram
#: grids compress badly as PNG and would make the committed notebooks too large for GitHub
JPEG_ABOVE = 600_000


def _pixels(fig) -> float:
    w, h = fig.get_size_inches()
    return w * h * NOTEBOOK_DPI**2


def _figure_bytes(fig, fmt: str) -> bytes:
    import io

    buf = io.BytesIO()
    kwargs = {"pil_kwargs": {"quality": 80}} if fmt == "jpeg" else {}
    fig.savefig(buf, format=fmt, dpi=NOTEBOOK_DPI, bbox_inches="tight", facecolor="white", **kwargs)
    return buf.getvalue()


def _inline_figures() -> None:
    """Show the ``Figure`` objects :mod:`musiclass.plots` returns (made without pyplot) in Jupyter:
    PNG, or JPEG for large image-like figures, at a resolution that keeps notebooks small."""
    import logging

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow is first imported
    for name in ("tensorflow", "absl"):  # retracing warnings and Keras' absl notes
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return
    shell = get_ipython()
    if shell is None:
        return
    from matplotlib.figure import Figure

    formatters = shell.display_formatter.formatters
    formatters["image/png"].for_type(
        Figure, lambda f: None if _pixels(f) > JPEG_ABOVE else _figure_bytes(f, "png")
    )
    formatters["image/jpeg"].for_type(
        Figure, lambda f: _figure_bytes(f, "jpeg") if _pixels(f) > JPEG_ABOVE else None
    )


# ------------------------------------------------------------------------------ tables
def class_table(store) -> pd.DataFrame:
    """Count per class its tracks, minutes of audio and frames (for tags: tracks carrying the tag).

    Parameters
    ----------
    store : musiclass.features.store.FeatureStore
        The feature store.

    Returns
    -------
    pandas.DataFrame
        Columns ``tracks``, ``minutes`` and ``frames``, indexed by ``genre`` in class order, or by
        ``tag`` sorted by tracks (most first).
    """
    tracks = store.tracks()
    Y = tracks.label_matrix().astype(bool)
    frames = store.label_matrix().sum(axis=0)
    minutes = [tracks.tracks.loc[Y[:, i], "duration"].sum() / 60 for i in range(len(store.classes))]
    table = pd.DataFrame(
        {"tracks": Y.sum(axis=0), "minutes": np.round(minutes, 1), "frames": frames},
        index=pd.Index(store.classes, name="tag" if store.multilabel else "genre"),
    )
    return table.sort_values("tracks", ascending=False) if store.multilabel else table


def split_table(splits: dict[str, Any]) -> pd.DataFrame:
    """Tabulate the split sizes and the measured leak (share of test frames whose song is in training).

    Parameters
    ----------
    splits : dict of str to dict
        Per split method, its summary (:func:`splits_of`, :meth:`Workspace.prepare`).

    Returns
    -------
    pandas.DataFrame
        One row per split (index ``split``): its protocol, tracks and frames per part, and the
        leak as a percentage.
    """
    rows = []
    for method, s in splits.items():
        row = {"split": method, "protocol": PROTOCOL_OF_SPLIT.get(method, method)}
        for part in ("train", "validation", "test"):
            row[f"{part} tracks"] = s["tracks"].get(part)
            row[f"{part} frames"] = s["frames"].get(part)
        row["test frames whose song is in train"] = (
            f"{s['leak']['test_frames_with_song_in_train']:.0%}"
        )
        rows.append(row)
    return pd.DataFrame(rows).set_index("split")


def splits_of(store) -> dict[str, Any]:
    """Read the summaries of a store's splits (``splits/summary.json``).

    Parameters
    ----------
    store : musiclass.features.store.FeatureStore
        The feature store.

    Returns
    -------
    dict of str to dict
        Per split method, its sizes and measured leak; empty when the store has no splits yet.
    """
    path = SplitFolder(store.path).summary
    return json.loads(path.read_text()) if path.is_file() else {}


def show_table(table: pd.DataFrame, digits: int = 3):
    """Format a results table as the notebooks show it: ``value [low, high]`` cells.

    Parameters
    ----------
    table : pandas.DataFrame
        A results table (:meth:`Workspace.table`, :meth:`Workspace.run`).
    digits : int, default=3
        Decimals shown.

    Returns
    -------
    pandas.DataFrame
        Strings, one row per model, one column per protocol and metric (see
        :func:`musiclass.plots.format_results`).
    """

    return format_results(results_for_display(table), metrics=table_metrics(table), digits=digits)


def histories(ws: Workspace, table: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Read the training histories (``history.csv``) of the networks in ``table``.

    Parameters
    ----------
    ws : Workspace
        The notebook's workspace.
    table : pandas.DataFrame
        A results table.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``"model (split)"`` to its history, one row per epoch; networks without one are left out.
    """
    out = {}
    for name, folder in ws.model_dirs(table).items():
        if ModelDir(folder).history.is_file():
            out[name] = pd.read_csv(ModelDir(folder).history)
    return out


def confusion(
    ws: Workspace, table: pd.DataFrame, model: str, split: str | None = None
) -> pd.DataFrame:
    """Read the test-track confusion matrix of one network (rows true, columns predicted).

    Parameters
    ----------
    ws : Workspace
        The notebook's workspace.
    table : pandas.DataFrame
        A results table holding the network.
    model : str
        The network's name in the table.
    split : str, optional
        The split it was trained on (default: our headline split,
        :func:`musiclass.registry.headline_split`).

    Returns
    -------
    pandas.DataFrame
        Track counts (:func:`musiclass.registry.track_confusion`).

    Raises
    ------
    musiclass.errors.ConfigError
        If the table has no such network trained on ``split``.
    """
    split = split or headline_split(table)
    folder = ws.model_dirs(table).get(f"{model} ({split})")
    if folder is None:
        raise ConfigError(f"no {model!r} trained on the {split!r} split in this table")
    return track_confusion(folder)


def per_class_recall(ws: Workspace, table: pd.DataFrame, split: str | None = None) -> pd.DataFrame:
    """Read the per-genre recall on test tracks of the networks trained on ``split``.

    Parameters
    ----------
    ws : Workspace
        The notebook's workspace.
    table : pandas.DataFrame
        A results table.
    split : str, optional
        The split the networks were trained on (default: our headline split,
        :func:`musiclass.registry.headline_split`).

    Returns
    -------
    pandas.DataFrame
        One row per genre, one column per network.
    """
    split = split or headline_split(table)
    return pd.DataFrame(
        {
            name.rsplit(" (", 1)[0]: track_recall(folder)
            for name, folder in ws.model_dirs(table).items()
            if name.endswith(f"({split})")
        }
    )


def interval_figure(
    table: pd.DataFrame, metric: str | None = None, *, title: str | None = None, out=None
):
    """Plot test figures with their 95 % intervals, original protocol beside ours.

    Drawn by :func:`musiclass.plots.interval_plot`; chance level is marked for genres (0.1) and for
    ROC-AUC (0.5).

    Parameters
    ----------
    table : pandas.DataFrame
        A results table.
    metric : str, optional
        The metric drawn (default: ``roc_auc_macro`` for mood, ``accuracy`` for genres).
    title : str, optional
        The figure's title.
    out : str or os.PathLike, optional
        Where to save the figure (default: not saved).

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """

    mood = "task" in table and (table["task"] == "mood").all()
    metric = metric or ("roc_auc_macro" if mood else "accuracy")
    shown = results_for_display(table).drop_duplicates(["model", "split"])
    chance = 0.5 if metric.startswith("roc_auc") else (None if mood else 0.1)
    return interval_plot(shown, metric, chance=chance, title=title, out=out)


def mean_mel_figure(store, out=None, *, chunk: int = 512):
    """Plot the mean mel spectrum of each class: where in frequency the classes differ on average.

    The spectrum is in dB, averaged over every frame and time step of the class, one line per class.

    Parameters
    ----------
    store : musiclass.features.store.FeatureStore
        A feature store with the ``mel`` representation.
    out : str or os.PathLike, optional
        Where to save the figure (default: not saved).
    chunk : int, default=512
        Frames read at a time.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    from matplotlib.figure import Figure

    mel = store.array("mel")
    Y = store.label_matrix().astype(np.float64)
    sums = np.zeros((Y.shape[1], mel.shape[1]))
    for start in range(0, len(mel), chunk):
        rows = np.arange(start, min(start + chunk, len(mel)))
        spectra = np.asarray(mel.rows(rows), dtype=np.float64).mean(axis=2)  # (rows, bands)
        sums += Y[rows].T @ spectra
    means = sums / np.maximum(Y.sum(axis=0), 1)[:, None]
    fig = Figure(figsize=(8.0, 4.2), layout="constrained")
    ax = fig.subplots()
    for i, name in enumerate(store.classes):
        if Y[:, i].any():
            ax.plot(means[i], label=name, lw=1.2)
    ax.set_xlabel("mel band")
    ax.set_ylabel("mean level (dB re frame max)")
    ax.set_title("Mean mel spectrum per class, over all frames")
    ax.legend(fontsize=7, ncol=2 if len(store.classes) <= 12 else 4, loc="lower left")
    if out is not None:
        save_figure(fig, out)
    return fig


def curation_counts(ws: Workspace) -> pd.DataFrame:
    """Read the tracks per tag before curation (every tag of the metadata) and after, one row each.

    Parameters
    ----------
    ws : Workspace
        A mood notebook's workspace.

    Returns
    -------
    pandas.DataFrame
        Index ``group``: ``all tags (no curation)`` and ``after curation (<curation>)``; one
        column per tag.

    Raises
    ------
    musiclass.errors.ConfigError
        If ``tag_counts_curation.csv`` is missing (notebook 1 has not run).
    """
    ws.require(StudyFolder.CURATION)
    return pd.read_csv(StudyFolder(ws.study_dir).curation).set_index("group")


def export_features(ws: Workspace) -> tuple[pd.DataFrame, Path]:
    """Notebook 5: write the store's hand-crafted descriptors as ``<study>/features.csv``.

    One row per track, the original's 97 columns plus ``track_id`` and ``label``; the table of the
    original study, ``df_features.csv``, has the same columns.

    Parameters
    ----------
    ws : Workspace
        A genre notebook's workspace.

    Returns
    -------
    table : pandas.DataFrame
        The descriptors.
    path : pathlib.Path
        The file written.

    Raises
    ------
    musiclass.errors.ConfigError
        If notebook 1 has not prepared the data.
    """
    table = ws.store().handcrafted()
    path = ws.study_dir / FEATURES_CSV
    write_csv_atomic(table, path)
    return table, path


def descriptor_figure(table: pd.DataFrame, columns: Sequence[str], out=None):
    """Draw box plots of a few descriptors per genre (one panel each).

    Parameters
    ----------
    table : pandas.DataFrame
        The descriptor table (:func:`export_features`), with a ``label`` column.
    columns : sequence of str
        The descriptors; those not in ``table`` are left out.
    out : str or os.PathLike, optional
        Where to save the figure (default: not saved).

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    from matplotlib.figure import Figure

    columns = [c for c in columns if c in table]
    fig = Figure(figsize=(3.6 * len(columns), 3.6), layout="constrained")
    axes = fig.subplots(1, len(columns), squeeze=False)[0]
    labels = sorted(table["label"].unique())
    for ax, col in zip(axes, columns):
        ax.boxplot(
            [table.loc[table["label"] == g, col].to_numpy() for g in labels], showfliers=False
        )
        ax.set_xticks(range(1, len(labels) + 1), labels, rotation=60, ha="right", fontsize=8)
        ax.set_title(col, fontsize=10)
    if out is not None:
        save_figure(fig, out)
    return fig


def original_beside(table: pd.DataFrame) -> pd.DataFrame:
    """Put the original study's reported accuracy beside ours (see :mod:`musiclass.reference`).

    Parameters
    ----------
    table : pandas.DataFrame
        Our genre results table.

    Returns
    -------
    pandas.DataFrame
        :func:`musiclass.reference.beside` without the interval columns, rounded to 3 decimals,
        columns without any value left out.
    """
    shown = beside(table)
    keep = [c for c in shown if not c.endswith((" low", " high"))]
    return shown[keep].round(3).dropna(axis=1, how="all")


def transfer_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The rows to compare transfer learning with: every model under our artist-disjoint protocol.

    Parameters
    ----------
    table : pandas.DataFrame
        A study's results table.

    Returns
    -------
    pandas.DataFrame
        Its rows whose protocol is ours (``our protocol``: artist-disjoint networks, classical
        cross-validation grouped by artist, the transfer experiment's), in the table's order; an
        empty table says the run has none.
    """
    return table[table["protocol"] == "our protocol"].reset_index(drop=True)


# ----------------------------------------------------------------------------- running


def mediaeval_beside(table: pd.DataFrame) -> pd.DataFrame:
    """MediaEval 2019's published figures beside our configuration chosen on validation.

    Parameters
    ----------
    table : pandas.DataFrame
        The mood study's results table.

    Returns
    -------
    pandas.DataFrame
        One row per MediaEval system and one for ours (the official-split configuration with the
        best validation ROC-AUC macro, scored on test), columns ``ROC-AUC macro`` and
        ``PR-AUC macro``, rounded to 4 decimals.
    """
    rows = {k: {"ROC-AUC macro": v[0], "PR-AUC macro": v[1]} for k, v in MEDIAEVAL.items()}
    best = best_on_validation(table[table["split"] == "official"])
    if best is not None:
        rows[f"ours, best on validation ({best['model']})"] = {
            "ROC-AUC macro": best["roc_auc_macro"],
            "PR-AUC macro": best["pr_auc_macro"],
        }
    return pd.DataFrame(rows).T.round(4)
