"""The one owner of on-disk names: what a model directory, a feature store's split folder, a study
folder, a run folder and the repository hold, and under which names.

Every other module asks these classes for a path instead of spelling a file name, so a format has
exactly one place where its name is written. The classes only name paths: reading and writing
stays with the module that owns the content (:mod:`musiclass.training` writes a model directory,
:mod:`musiclass.registry` the results registry, :mod:`musiclass.features.store` a store).

A model directory (written by ``musiclass train``, read by ``predict``, ``evaluate``, the registry
and the report)::

    model.keras        the selected weights (best validation epoch)
    model.best.json    which epoch that was and its monitored value
    train.json         the training config, its hash, the data it was trained on
    labels.json        the class (tag) order and whether the task is multi-label
    frontend.json      the feature config the model expects (or "input": "audio")
    history.csv        one row per epoch
    metrics.json       the final metrics on every part, with intervals
    done.json          written last: the directory is complete
    thresholds.json    per-tag decision thresholds chosen on validation (taggers only)
    predictions/       <part>.csv: one row per frame, probabilities per class
    backup/            Keras' resumable state while training runs
    tensorboard/       TensorBoard logs

A study folder (written by ``musiclass run``)::

    workspace.json     the notebooks' settings (dataset, profile, preset, seed)
    stores/<hash>/     one feature store per frontend config (see FeatureStore)
    models/<split>/<name>/   one model directory per network and split
    models/classical/<protocol>-<hash>/   classical.json, classical.csv, classical_predictions.csv
    registry/<key>.json      one record per result
    results.csv        the registry as one table
    tag_counts_curation.csv  tracks per tag before and after curation (mood)
    features.csv       the descriptor table exported by a notebook

A run folder (written by ``musiclass demo``)::

    summary.json       settings, timings and the results of both studies
    data/              the synthetic data sets
    genre/  mood/      the two study folders
    notebooks/<task>/  the executed notebooks
    report.pdf
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError

#: folders of the repository (relative to its root)
TASK_FOLDERS = {"genre": "genre-classification", "mood": "mood-classification"}
RESULT_FOLDERS = {
    "genre": "genre-classification/genre-results",
    "mood": "mood-classification/mood-results",
}
#: the README's figures, copied into ``images/`` by a published run: (task, file in the task's
#: results folder, name in images/)
README_IMAGES = (
    ("genre", "results_table.png", "genre_results_table.png"),
    ("genre", "accuracy_intervals.png", "genre_accuracy_intervals.png"),
    ("genre", "figure1_representations.png", "figure1_representations.png"),
    ("genre", "confusion_cnn-7-mel.png", "confusion_cnn-7-mel.png"),
    ("mood", "results_table.png", "mood_results_table.png"),
    ("mood", "per_tag_roc_auc.png", "mood_per_tag_roc_auc.png"),
    ("mood", "resampled_tag_counts.png", "mood_resampled_tag_counts.png"),
)
#: the stamp a synthetic data set writes beside its files (its generator's parameters)
SYNTH_STAMP = "synth.json"
#: the results table's file name, in a study folder and in a results folder
RESULTS_CSV = "results.csv"
RESULTS_MD = "results_table.md"


class ClassicalFiles:
    """The files of one classical protocol's results folder (written by
    :func:`musiclass.models.classical.save`)."""

    SUMMARY = "classical.json"
    TABLE = "classical.csv"
    PREDICTIONS = "classical_predictions.csv"


class StoreFiles:
    """The files of a feature store (see :mod:`musiclass.features.store`, which writes them)."""

    MANIFEST = "manifest.json"
    EXTRACTING = "extracting.json"
    INDEX = "index.csv"
    HANDCRAFTED = "handcrafted.csv"
    FAILURES = "failures.csv"
    CHUNKS = "chunks"
    META = "meta"
    SPLITS = "splits"


class IndexFiles:
    """The files of a track index folder (written by :meth:`TrackIndex.save`; a feature store
    holds a copy of the index it was built from)."""

    TRACKS = "tracks.csv"
    META = "tracks.json"
    PROBLEMS = "problems.csv"


def repo_root(start: str | Path | None = None) -> Path | None:
    """The musiclass checkout that holds ``configs/genre/study.yaml``.

    Parameters
    ----------
    start : str or Path, optional
        Where to start looking (default: the working directory); its parents follow, then the
        checkout the package itself was imported from.

    Returns
    -------
    Path or None
        The repository root, or None outside a checkout (an installed package).
    """
    here = Path(start or Path.cwd()).resolve()
    for base in (here, *here.parents, Path(__file__).resolve().parents[2]):
        if (base / "configs" / "genre" / "study.yaml").is_file():
            return base
    return None


@dataclass(frozen=True)
class ModelDir:
    """The files of one model directory (see the module docstring).

    Parameters
    ----------
    path : str or Path
        The directory.
    """

    path: Path

    MODEL = "model.keras"
    BEST = "model.best.json"
    TRAIN = "train.json"
    LABELS = "labels.json"
    FRONTEND = "frontend.json"
    HISTORY = "history.csv"
    METRICS = "metrics.json"
    THRESHOLDS = "thresholds.json"
    DONE = "done.json"
    PREDICTIONS = "predictions"
    BACKUP = "backup"
    TENSORBOARD = "tensorboard"
    #: what ``predict`` needs
    REQUIRED = (MODEL, LABELS, FRONTEND)

    def __init__(self, path: str | Path) -> None:
        object.__setattr__(self, "path", Path(path))

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    @property
    def model(self) -> Path:
        return self.path / self.MODEL

    @property
    def best(self) -> Path:
        return self.path / self.BEST

    @property
    def train(self) -> Path:
        return self.path / self.TRAIN

    @property
    def labels(self) -> Path:
        return self.path / self.LABELS

    @property
    def frontend(self) -> Path:
        return self.path / self.FRONTEND

    @property
    def history(self) -> Path:
        return self.path / self.HISTORY

    @property
    def metrics(self) -> Path:
        return self.path / self.METRICS

    @property
    def thresholds(self) -> Path:
        return self.path / self.THRESHOLDS

    @property
    def backup(self) -> Path:
        return self.path / self.BACKUP

    @property
    def tensorboard(self) -> Path:
        return self.path / self.TENSORBOARD

    @property
    def predictions_dir(self) -> Path:
        return self.path / self.PREDICTIONS

    def predictions(self, part: str) -> Path:
        """``predictions/<part>.csv`` (``part``: train, validation or test)."""
        return self.path / self.PREDICTIONS / f"{part}.csv"


@dataclass(frozen=True)
class SplitFolder:
    """The ``splits/`` folder of a feature store: ``<method>.csv`` and ``summary.json``.

    Parameters
    ----------
    store : str or Path
        The feature store's folder.
    """

    path: Path

    SUMMARY = "summary.json"

    def __init__(self, store: str | Path) -> None:
        object.__setattr__(self, "path", Path(store) / StoreFiles.SPLITS)

    def split(self, method: str) -> Path:
        """The split file of ``method`` (a track -> part table)."""
        return self.path / f"{method}.csv"

    @property
    def summary(self) -> Path:
        return self.path / self.SUMMARY


@dataclass(frozen=True)
class StudyFolder:
    """The files of one study folder (see the module docstring).

    Parameters
    ----------
    path : str or Path
        The study folder (``runs/<name>/genre``, say).
    """

    path: Path

    WORKSPACE = "workspace.json"
    STORES = "stores"
    MODELS = "models"
    REGISTRY = "registry"
    CURATION = "tag_counts_curation.csv"
    FEATURES = "features.csv"

    def __init__(self, path: str | Path) -> None:
        object.__setattr__(self, "path", Path(path))

    @property
    def workspace(self) -> Path:
        return self.path / self.WORKSPACE

    @property
    def stores_dir(self) -> Path:
        return self.path / self.STORES

    def store(self, key: str) -> Path:
        """The store folder of a frontend config hash prefix ``key``."""
        return self.path / self.STORES / key

    def stores(self) -> list[Path]:
        """The finished stores (those with a manifest), sorted by name."""
        return [p.parent for p in sorted(self.stores_dir.glob(f"*/{StoreFiles.MANIFEST}"))]

    def model(self, split: str, name: str) -> ModelDir:
        """The model directory of network ``name`` trained on ``split``."""
        return ModelDir(self.path / self.MODELS / split / name)

    def classical(self, name: str) -> Path:
        """The folder of one classical protocol's results."""
        return self.path / self.MODELS / "classical" / name

    @property
    def registry(self) -> Path:
        return self.path / self.REGISTRY

    def record(self, key: str) -> Path:
        """The registry record of result ``key``."""
        return self.path / self.REGISTRY / f"{key}.json"

    @property
    def results(self) -> Path:
        return self.path / RESULTS_CSV

    @property
    def curation(self) -> Path:
        return self.path / self.CURATION

    @property
    def features(self) -> Path:
        return self.path / self.FEATURES

    @property
    def figures(self) -> Path:
        """Where figures go when no results folder is given."""
        return self.path / "figures"


@dataclass(frozen=True)
class RunFolder:
    """The files of one ``musiclass demo`` run folder (see the module docstring).

    Parameters
    ----------
    path : str or Path
        The run folder (``runs/demo``, say).
    """

    path: Path

    SUMMARY = "summary.json"
    REPORT = "report.pdf"

    def __init__(self, path: str | Path) -> None:
        object.__setattr__(self, "path", Path(path))

    @property
    def summary(self) -> Path:
        return self.path / self.SUMMARY

    @property
    def data(self) -> Path:
        return self.path / "data"

    def study(self, task: str) -> StudyFolder:
        """The study folder of ``task`` (genre or mood)."""
        return StudyFolder(self.path / task)

    def notebooks(self, task: str) -> Path:
        return self.path / "notebooks" / task

    @property
    def report(self) -> Path:
        return self.path / self.REPORT


#: the notebooks of each task, in the order they run
NOTEBOOKS: dict[str, tuple[str, ...]] = {
    "genre": (
        "1_Data_Collection",
        "2_Exploratory_Data_Analysis",
        "3_Feedforward_Baseline",
        "4.1_Experiment_1_Different_Inputs",
        "4.2_Experiment_2_Number_Layers",
        "5_Handcrafted_Features",
        "6_Machine_Learning_Classifiers",
    ),
    "mood": ("1_Data_Collection", "2_Exploratory_Data_Analysis", "3_CNN"),
}


def study_config(name: str = "genre/study.yaml") -> Path:
    """A study config shipped in the repository's ``configs/`` (found from the working directory or
    from the package's checkout)."""
    for base in (Path.cwd(), Path(__file__).resolve().parents[2]):
        path = base / "configs" / name
        if path.is_file():
            return path
    raise ConfigError(
        f"configs/{name} not found: run from a clone of the musiclass repository "
        f"(the study configs live in its configs/ folder)"
    )
