"""The one owner of on-disk names: what each folder the package writes holds, and under which names.

The folders named here are a model directory, a feature store's split folder, a study folder, a run
folder and the repository. Every other module asks these classes for a path instead of spelling a
file name, so a format has exactly one place where its name is written. The classes only name
paths: reading and writing stays with the module that owns the content (:mod:`musiclass.training`
writes a model directory, :mod:`musiclass.registry` the results registry,
:mod:`musiclass.features.store` a store).

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
    run.json           what `musiclass run` ran (dataset, profile, preset, seed), for reports
    stores/<hash>/     one feature store per frontend config (see FeatureStore)
    models/<split>/<name>/   one model directory per network and split
    models/classical/<protocol>-<hash>/   classical.json, classical.csv, classical_predictions.csv
    models/classical/transfer-<protocol>-<hash>/   the same, on pretrained embeddings
    models/probe/<split>-<hash>/          probe.json, probe_predictions.csv, thresholds.json (mood)
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

import os
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
#: a genre results folder's headline tables: both leaks per network, and the spread over seeds
LEAK_MD = "leak_table.md"
SEEDS_MD = "seed_table.md"
#: the write lock inside a folder being written: a store, a model directory, a store's split
#: folder, a study or run folder (see :mod:`musiclass.locks`); removed when its writer ends
LOCK_FILE = ".musiclass.lock"


def file_lock(path: str | os.PathLike) -> Path:
    """The write lock of one output file (``predict --out``): ``.NAME.musiclass.lock`` beside it.

    Parameters
    ----------
    path : str or os.PathLike
        The file being written.

    Returns
    -------
    pathlib.Path
        The lock file, in the same folder (see :func:`musiclass.locks.locked_file`).
    """
    path = Path(path)
    return path.with_name(f".{path.name}{LOCK_FILE}")


class ClassicalFiles:
    """The files of one classical protocol's results folder.

    The folder is written by :func:`musiclass.models.classical.save`; the class attributes are the
    file names, relative to it.

    Attributes
    ----------
    SUMMARY : str
        ``classical.json``: the summary; written last, it marks the folder complete.
    TABLE : str
        ``classical.csv``: one row per model and protocol.
    PREDICTIONS : str
        ``classical_predictions.csv``: one row per track.
    """

    SUMMARY = "classical.json"
    TABLE = "classical.csv"
    PREDICTIONS = "classical_predictions.csv"


class ProbeFiles:
    """The files of one linear-probe result folder (:mod:`musiclass.transfer`, mood).

    Attributes
    ----------
    SUMMARY : str
        ``probe.json``: the chosen hyper-parameter, its validation scores and the metrics of every
        part; written last, it marks the folder complete.
    PREDICTIONS : str
        ``probe_predictions.csv``: one row per validation and test track, a probability per tag.
    """

    SUMMARY = "probe.json"
    PREDICTIONS = "probe_predictions.csv"


class StoreFiles:
    """The files of a feature store (see :mod:`musiclass.features.store`, which writes them).

    The class attributes are names relative to the store's folder.

    Attributes
    ----------
    MANIFEST : str
        ``manifest.json``: config, its hash, shapes, counts, the chunk list (written last).
    EXTRACTING : str
        ``extracting.json``: the config being extracted.
    INDEX : str
        ``index.csv``: one row per frame.
    HANDCRAFTED : str
        ``handcrafted.csv``: one row of descriptors per track.
    FAILURES : str
        ``failures.csv``: tracks that could not be processed, and whether the failure is transient.
    FINGERPRINTS : str
        ``fingerprints.csv``: each track's path and content fingerprint (what chunks are reused by).
    CHUNKS : str
        ``chunks``: the folder of the per-track chunks, one subfolder per representation.
    META : str
        ``meta``: the subfolder of ``chunks`` holding each track's meta chunk.
    SPLITS : str
        ``splits``: the folder of the store's splits (see :class:`SplitFolder`).
    EMBEDDINGS : str
        ``embeddings-{model}.csv``: one row of a pretrained network's embeddings per track
        (:mod:`musiclass.pretrained.embeddings`); ``{model}`` is the pretrained model's name.
    EMBEDDING_FAILURES : str
        ``embeddings-{model}.failures.csv``: the tracks it could not embed.
    """

    MANIFEST = "manifest.json"
    EXTRACTING = "extracting.json"
    INDEX = "index.csv"
    HANDCRAFTED = "handcrafted.csv"
    FAILURES = "failures.csv"
    FINGERPRINTS = "fingerprints.csv"
    CHUNKS = "chunks"
    META = "meta"
    SPLITS = "splits"
    EMBEDDINGS = "embeddings-{model}.csv"
    EMBEDDING_FAILURES = "embeddings-{model}.failures.csv"


class IndexFiles:
    """The files of a track index folder.

    The folder is written by :meth:`musiclass.datasets.base.TrackIndex.save`; a feature store holds
    a copy of the index it was built from.

    Attributes
    ----------
    TRACKS : str
        ``tracks.csv``: one row per track.
    META : str
        ``tracks.json``: the index's metadata.
    PROBLEMS : str
        ``problems.csv``: the problems found while indexing.
    """

    TRACKS = "tracks.csv"
    META = "tracks.json"
    PROBLEMS = "problems.csv"


def repo_root(start: str | Path | None = None) -> Path | None:
    """Find the musiclass checkout that holds ``configs/genre/study.yaml``.

    Parameters
    ----------
    start : str or pathlib.Path, optional
        Where to start looking (default: the working directory); its parents follow, then the
        checkout the package itself was imported from.

    Returns
    -------
    pathlib.Path or None
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

    The upper-case class attributes are the file names, relative to the directory; the properties
    and :meth:`predictions` join them to :attr:`path`. ``model_dir / name`` is ``path / name``.

    Parameters
    ----------
    path : str or pathlib.Path
        The directory.

    Attributes
    ----------
    path : pathlib.Path
        The directory.
    REQUIRED : tuple of str
        The files ``predict`` needs: ``model.keras``, ``labels.json`` and ``frontend.json``.
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
    INPUT_STATS = "input_statistics.json"
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
        """The selected weights (best validation epoch).

        Returns
        -------
        pathlib.Path
            ``model.keras`` in the model directory.
        """
        return self.path / self.MODEL

    @property
    def best(self) -> Path:
        """Which epoch was selected and its monitored value.

        Returns
        -------
        pathlib.Path
            ``model.best.json`` in the model directory.
        """
        return self.path / self.BEST

    @property
    def train(self) -> Path:
        """The training config, its hash and the data it was trained on.

        Returns
        -------
        pathlib.Path
            ``train.json`` in the model directory.
        """
        return self.path / self.TRAIN

    @property
    def labels(self) -> Path:
        """The class (tag) order and whether the task is multi-label.

        Returns
        -------
        pathlib.Path
            ``labels.json`` in the model directory.
        """
        return self.path / self.LABELS

    @property
    def frontend(self) -> Path:
        """The feature config the model expects.

        Returns
        -------
        pathlib.Path
            ``frontend.json`` in the model directory.
        """
        return self.path / self.FRONTEND

    @property
    def history(self) -> Path:
        """The training history, one row per epoch.

        Returns
        -------
        pathlib.Path
            ``history.csv`` in the model directory.
        """
        return self.path / self.HISTORY

    @property
    def metrics(self) -> Path:
        """The final metrics on every part, with intervals.

        Returns
        -------
        pathlib.Path
            ``metrics.json`` in the model directory.
        """
        return self.path / self.METRICS

    @property
    def input_statistics(self) -> Path:
        """Statistics of the training frames, for ``predict``'s out-of-distribution note.

        Returns
        -------
        pathlib.Path
            ``input_statistics.json`` in the model directory (:mod:`musiclass.novelty`).
        """
        return self.path / self.INPUT_STATS

    @property
    def thresholds(self) -> Path:
        """The per-tag decision thresholds chosen on validation (taggers only).

        Returns
        -------
        pathlib.Path
            ``thresholds.json`` in the model directory.
        """
        return self.path / self.THRESHOLDS

    @property
    def backup(self) -> Path:
        """Keras' resumable state while training runs.

        Returns
        -------
        pathlib.Path
            ``backup/`` in the model directory.
        """
        return self.path / self.BACKUP

    @property
    def tensorboard(self) -> Path:
        """The TensorBoard logs.

        Returns
        -------
        pathlib.Path
            ``tensorboard/`` in the model directory.
        """
        return self.path / self.TENSORBOARD

    @property
    def predictions_dir(self) -> Path:
        """The folder of the per-part predictions.

        Returns
        -------
        pathlib.Path
            ``predictions/`` in the model directory.
        """
        return self.path / self.PREDICTIONS

    def predictions(self, part: str) -> Path:
        """Return the predictions file of one part, ``predictions/<part>.csv``.

        Parameters
        ----------
        part : str
            ``"train"``, ``"validation"`` or ``"test"``.

        Returns
        -------
        pathlib.Path
            One row per frame, probabilities per class.
        """
        return self.path / self.PREDICTIONS / f"{part}.csv"


@dataclass(frozen=True)
class SplitFolder:
    """The ``splits/`` folder of a feature store: ``<method>.csv`` and ``summary.json``.

    Parameters
    ----------
    store : str or pathlib.Path
        The feature store's folder.

    Attributes
    ----------
    path : pathlib.Path
        The ``splits/`` folder in it.
    """

    path: Path

    SUMMARY = "summary.json"

    def __init__(self, store: str | Path) -> None:
        object.__setattr__(self, "path", Path(store) / StoreFiles.SPLITS)

    def split(self, method: str) -> Path:
        """Return the split file of one split method.

        Parameters
        ----------
        method : str
            The split method.

        Returns
        -------
        pathlib.Path
            ``<method>.csv``: a track -> part table.
        """
        return self.path / f"{method}.csv"

    @property
    def summary(self) -> Path:
        """The summary of the store's splits.

        Returns
        -------
        pathlib.Path
            ``summary.json`` in the ``splits/`` folder.
        """
        return self.path / self.SUMMARY


@dataclass(frozen=True)
class StudyFolder:
    """The files of one study folder (see the module docstring).

    The upper-case class attributes are names relative to the folder; the properties and methods
    join them to :attr:`path`.

    Parameters
    ----------
    path : str or pathlib.Path
        The study folder (``runs/<name>/genre``, say).

    Attributes
    ----------
    path : pathlib.Path
        The study folder.
    """

    path: Path

    WORKSPACE = "workspace.json"
    RUN = "run.json"
    STORES = "stores"
    MODELS = "models"
    REGISTRY = "registry"
    CURATION = "tag_counts_curation.csv"
    FEATURES = "features.csv"

    def __init__(self, path: str | Path) -> None:
        object.__setattr__(self, "path", Path(path))

    @property
    def workspace(self) -> Path:
        """The notebooks' settings (dataset, profile, preset, seed).

        Returns
        -------
        pathlib.Path
            ``workspace.json`` in the study folder.
        """
        return self.path / self.WORKSPACE

    @property
    def run_record(self) -> Path:
        """What ``musiclass run`` (:func:`musiclass.study.run_study`) ran: dataset, profile, preset, seed.

        Returns
        -------
        pathlib.Path
            ``run.json`` in the study folder.
        """
        return self.path / self.RUN

    @property
    def stores_dir(self) -> Path:
        """The folder of the feature stores, one per frontend config.

        Returns
        -------
        pathlib.Path
            ``stores/`` in the study folder.
        """
        return self.path / self.STORES

    def store(self, key: str) -> Path:
        """Return the store folder of one frontend config.

        Parameters
        ----------
        key : str
            The config's hash prefix.

        Returns
        -------
        pathlib.Path
            ``stores/<key>``.
        """
        return self.path / self.STORES / key

    def stores(self) -> list[Path]:
        """List the finished stores (those with a manifest), sorted by name.

        Returns
        -------
        list of pathlib.Path
            Their folders.
        """
        return [p.parent for p in sorted(self.stores_dir.glob(f"*/{StoreFiles.MANIFEST}"))]

    def model(self, split: str, name: str) -> ModelDir:
        """Return the model directory of one network trained on one split.

        Parameters
        ----------
        split : str
            The split it was trained on.
        name : str
            The network.

        Returns
        -------
        ModelDir
            ``models/<split>/<name>``.
        """
        return ModelDir(self.path / self.MODELS / split / name)

    def classical(self, name: str) -> Path:
        """Return the folder of one classical protocol's results.

        Parameters
        ----------
        name : str
            The protocol's folder name, ``<protocol>-<hash>``.

        Returns
        -------
        pathlib.Path
            ``models/classical/<name>`` (see :class:`ClassicalFiles`).
        """
        return self.path / self.MODELS / "classical" / name

    def probe(self, name: str) -> Path:
        """Return the folder of one linear probe on pretrained embeddings (mood).

        Parameters
        ----------
        name : str
            ``<split>-<hash>``.

        Returns
        -------
        pathlib.Path
            ``models/probe/<name>`` (see :class:`ProbeFiles`).
        """
        return self.path / self.MODELS / "probe" / name

    @property
    def registry(self) -> Path:
        """The results registry, one record per result.

        Returns
        -------
        pathlib.Path
            ``registry/`` in the study folder.
        """
        return self.path / self.REGISTRY

    def record(self, key: str) -> Path:
        """Return the registry record of one result.

        Parameters
        ----------
        key : str
            The result's key.

        Returns
        -------
        pathlib.Path
            ``registry/<key>.json``.
        """
        return self.path / self.REGISTRY / f"{key}.json"

    @property
    def results(self) -> Path:
        """The registry as one table.

        Returns
        -------
        pathlib.Path
            ``results.csv`` in the study folder.
        """
        return self.path / RESULTS_CSV

    @property
    def curation(self) -> Path:
        """The tracks per tag before and after curation (mood).

        Returns
        -------
        pathlib.Path
            ``tag_counts_curation.csv`` in the study folder.
        """
        return self.path / self.CURATION

    @property
    def features(self) -> Path:
        """The descriptor table exported by a notebook.

        Returns
        -------
        pathlib.Path
            ``features.csv`` in the study folder.
        """
        return self.path / self.FEATURES

    @property
    def figures(self) -> Path:
        """Where figures go when no results folder is given.

        Returns
        -------
        pathlib.Path
            ``figures/`` in the study folder.
        """
        return self.path / "figures"


@dataclass(frozen=True)
class RunFolder:
    """The files of one ``musiclass demo`` run folder (see the module docstring).

    Parameters
    ----------
    path : str or pathlib.Path
        The run folder (``runs/demo``, say).

    Attributes
    ----------
    path : pathlib.Path
        The run folder.
    """

    path: Path

    SUMMARY = "summary.json"
    REPORT = "report.pdf"

    def __init__(self, path: str | Path) -> None:
        object.__setattr__(self, "path", Path(path))

    @property
    def summary(self) -> Path:
        """The run's settings, timings and the results of both studies.

        Returns
        -------
        pathlib.Path
            ``summary.json`` in the run folder.
        """
        return self.path / self.SUMMARY

    @property
    def data(self) -> Path:
        """The synthetic data sets.

        Returns
        -------
        pathlib.Path
            ``data/`` in the run folder.
        """
        return self.path / "data"

    def study(self, task: str) -> StudyFolder:
        """Return the study folder of one task.

        Parameters
        ----------
        task : str
            ``"genre"`` or ``"mood"``.

        Returns
        -------
        StudyFolder
            ``<task>/`` in the run folder.
        """
        return StudyFolder(self.path / task)

    def notebooks(self, task: str) -> Path:
        """Return the folder of one task's executed notebooks.

        Parameters
        ----------
        task : str
            ``"genre"`` or ``"mood"``.

        Returns
        -------
        pathlib.Path
            ``notebooks/<task>/`` in the run folder.
        """
        return self.path / "notebooks" / task

    @property
    def report(self) -> Path:
        """The PDF report.

        Returns
        -------
        pathlib.Path
            ``report.pdf`` in the run folder.
        """
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
        "7_Transfer_Learning",
    ),
    "mood": ("1_Data_Collection", "2_Exploratory_Data_Analysis", "3_CNN", "4_Transfer_Learning"),
}


def study_config(name: str = "genre/study.yaml") -> Path:
    """Find a study config shipped in the repository's ``configs/`` folder.

    The folder is looked for in the working directory, then in the package's checkout.

    Parameters
    ----------
    name : str, default="genre/study.yaml"
        The config, relative to ``configs/``.

    Returns
    -------
    pathlib.Path
        The config file.

    Raises
    ------
    musiclass.errors.ConfigError
        If neither place holds it (the package is not run from a clone of the repository).
    """
    for base in (Path.cwd(), Path(__file__).resolve().parents[2]):
        path = base / "configs" / name
        if path.is_file():
            return path
    raise ConfigError(
        f"configs/{name} not found: run from a clone of the musiclass repository "
        f"(the study configs live in its configs/ folder)"
    )
