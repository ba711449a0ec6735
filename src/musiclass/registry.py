"""The one reader and writer of results: registry records, results tables, the leak table, tag counts.

The tag counts are those of the resampled sets of the mood study.

A study registers one JSON record per result in its ``registry/`` folder (:func:`register`);
:func:`read_registry` reads them back as one table and :func:`collect` also writes it to
``results.csv``. :func:`load_run` reads a whole run folder (its studies and what they
were run with) for the report, the notebooks and the figures, so every consumer sees the same
table. File names come from :mod:`musiclass.layout`.
"""

from __future__ import annotations

import glob
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import FileError, MetadataError
from .layout import SYNTH_STAMP, IndexFiles, ModelDir, RunFolder, StudyFolder
from .resampling import counts_table, resample_sets
from .training import load_split, targets
from .utils import is_temporary, read_json_object, safe_name, write_csv_atomic, write_json_atomic

#: how each split is labelled in the results table. Networks: the original protocol is its random
#: split of frames, ours a split of songs. Classical baselines: the original's is a scaler fitted on
#: all rows and one 70/30 split, ours repeated cross-validation with the scaler in the pipeline.
PROTOCOL_OF_SPLIT = {
    "seed-frame": "original protocol",
    "song": "our protocol, song split",
    "artist": "our protocol",
    "gtzan-filtered": "our protocol, fault-filtered split",
    "gtzan-stratified": "our protocol, published stratified split",
    "official": "our protocol",
}


CLASSICAL_PROTOCOL = {"seed": "original protocol", "default": "our protocol"}


#: the columns of the printed and Markdown tables: the original reported frame accuracy, we report tracks
TABLE_METRICS = ("frame_accuracy", "accuracy", "f1_macro", "roc_auc")


#: mood: the MediaEval task's figures (ROC-AUC and PR-AUC macro) and F1 at thresholds chosen on validation
MOOD_TABLE_METRICS = ("roc_auc_macro", "pr_auc_macro", "f1_macro")


MOOD_METRICS = ("roc_auc_macro", "pr_auc_macro", "roc_auc_micro", "pr_auc_micro", "f1_macro")


def table_metrics(table: pd.DataFrame) -> tuple[str, ...]:
    """Choose the metric columns to print for a results table (genre or mood).

    Parameters
    ----------
    table : pandas.DataFrame
        A results table (:func:`read_registry`).

    Returns
    -------
    tuple of str
        :data:`MOOD_TABLE_METRICS` when every row's ``task`` is ``mood``, else :data:`TABLE_METRICS`.
    """
    return (
        MOOD_TABLE_METRICS if "task" in table and (table["task"] == "mood").all() else TABLE_METRICS
    )


PROTOCOL_NOTE = (
    "networks: original = random split of frames, ours = split of artists (and of songs, to measure "
    "the artist leak); classical: original = "
    "scaler fitted on all rows + one 70/30 split, ours = repeated 5-fold CV, scaler in the pipeline"
)


#: the metric columns a classical result carries over from ``classical.csv``
CLASSICAL_METRICS = (
    "accuracy",
    "accuracy_low",
    "accuracy_high",
    "f1_macro",
    "f1_low",
    "f1_high",
    "roc_auc",
    "roc_auc_low",
    "roc_auc_high",
    "precision_macro",
    "recall_macro",
)


RESULT_COLUMNS = [
    "task",
    "experiment",
    "model",
    "protocol",
    "split",
    "accuracy",
    "accuracy_low",
    "accuracy_high",
    "f1_macro",
    "f1_low",
    "f1_high",
    "roc_auc",
    "roc_auc_low",
    "roc_auc_high",
    "precision_macro",
    "recall_macro",
    "frame_accuracy",
    "frame_accuracy_low",
    "frame_accuracy_high",
    "test_tracks",
    "epochs",
    "seconds",
    "parameters",
    "source",
]


def relative_source(model_dir: str | Path, out: str | Path) -> str:
    """Return a result's folder as recorded in the registry: relative to the study folder.

    Relative paths keep the records valid when the run folder is moved or read from another working
    directory.

    Parameters
    ----------
    model_dir : str or pathlib.Path
        The result's folder (a model directory, a classical protocol's folder).
    out : str or pathlib.Path
        The study folder.

    Returns
    -------
    str
        ``model_dir`` relative to ``out``, with forward slashes.
    """
    return Path(os.path.relpath(Path(model_dir).resolve(), Path(out).resolve())).as_posix()


def source_path(out: str | Path, source: str | Path) -> Path:
    """Resolve the folder a registry record's ``source`` names, confined to the study folder.

    Parameters
    ----------
    out : str or pathlib.Path
        The study folder the record belongs to.
    source : str or pathlib.Path
        The record's ``source``: relative to ``out`` (:func:`relative_source`); older records held
        a path relative to the working directory, which is still accepted.

    Returns
    -------
    pathlib.Path
        ``source`` itself when absolute; else ``out / source`` when that exists or ``source`` does
        not, else ``source`` (an older record's path).

    Raises
    ------
    musiclass.errors.MetadataError
        Naming the study's registry folder, when ``source`` is not a string or the folder it names
        is outside ``out`` (a record's ``source`` of ``../../etc`` is never read).
    """
    if not isinstance(source, (str, os.PathLike)) or not str(source):
        raise MetadataError(
            StudyFolder(out).registry, f"a record's source {source!r} is not a folder name"
        )
    path = Path(source)
    if path.is_absolute():
        found = path
    else:
        inside = Path(out) / path
        found = inside if inside.exists() or not path.exists() else path
    root = Path(out).resolve()
    if not found.resolve().is_relative_to(root):
        raise MetadataError(
            StudyFolder(out).registry,
            f"a record's source {str(source)!r} points outside the study folder {out}: not read",
        )
    return found


def register(out: str | Path, record: dict[str, Any], key: str) -> Path:
    """Write one result's registry record: one JSON per result.

    The record is named by what produced it (experiment, model, split or protocol key), so a re-run
    replaces its record whatever the display labels. It is written atomically.

    Parameters
    ----------
    out : str or pathlib.Path
        The study folder.
    record : dict
        The result: one row of the results table (:data:`RESULT_COLUMNS` and more); it must hold
        ``experiment`` and ``model``.
    key : str
        What distinguishes the result among those of the same experiment and model (the split or
        protocol key).

    Returns
    -------
    pathlib.Path
        The record, ``registry/<experiment>__<model>__<key>.json`` (made a safe file name).
    """
    path = _record_path(out, record["experiment"], record["model"], key)
    write_json_atomic(path, record)
    return path


def unregister(out: str | Path, experiment: str, model: str, key: str) -> bool:
    """Remove the registry record of a result, if there is one (:func:`register`'s inverse).

    A study run with a profile that no longer trains a run calls it, so that a record an earlier
    run (another profile) left in the folder does not pass into this run's results table.

    Parameters
    ----------
    out : str or pathlib.Path
        The study folder.
    experiment, model, key : str
        What names the record (:func:`register`).

    Returns
    -------
    bool
        True when a record was removed.
    """
    path = _record_path(out, experiment, model, key)
    if not path.is_file():
        return False
    path.unlink()
    return True


def stale_records(out: str | Path, experiment: str, *, keep: set[Path]) -> list[str]:
    """Remove the registry records of ``experiment`` that are not in ``keep``.

    A study calls it when it has run, with the records it wrote: what an earlier run under
    another profile produced (a network, a classical model or a probe this one skips) leaves
    the table, so a re-run into the same folder shows what a fresh run would.

    Parameters
    ----------
    out : str or pathlib.Path
        The study folder.
    experiment : str
        The experiment whose records are swept.
    keep : set of pathlib.Path
        The records to keep (:func:`register`'s return values).

    Returns
    -------
    list of str
        The names of the records removed, sorted.
    """
    # a record's name starts with its experiment as _record_path spells it
    prefix = re.sub(r"[^A-Za-z0-9._-]+", "-", experiment) + "__"
    kept = {Path(p).resolve() for p in keep}
    removed = []
    for path in sorted(StudyFolder(out).record(prefix).parent.glob(f"{glob.escape(prefix)}*.json")):
        if path.resolve() not in kept:
            path.unlink()
            removed.append(path.stem)
    return removed


def _record_path(out: str | Path, experiment: str, model: str, key: str) -> Path:
    """Where the record of one result lives: ``registry/<experiment>__<model>__<key>.json``."""
    name = safe_name(re.sub(r"[^A-Za-z0-9._-]+", "-", f"{experiment}__{model}__{key}"))
    return StudyFolder(out).record(name)


def read_registry(out: str | Path) -> pd.DataFrame:
    """Read every registry record under ``out`` as one table; nothing is written (see :func:`collect`).

    Parameters
    ----------
    out : str or pathlib.Path
        The study folder.

    Returns
    -------
    pandas.DataFrame
        One row per record, networks first (in config order), the classical baselines last; the
        :data:`RESULT_COLUMNS` first, then any others. Empty, with those columns, when there is no
        record.

    Raises
    ------
    musiclass.errors.MetadataError
        If a record is not valid JSON, not a JSON object or lacks ``experiment`` or ``model``
        (naming its file).
    """
    out = Path(out)
    rows = []
    for f in sorted(StudyFolder(out).registry.glob("*.json")):
        if is_temporary(
            f
        ):  # a write killed mid-way left it (glob's * matches hidden names): not a record
            continue
        record = read_json_object(f)  # not JSON, or a list: MetadataError naming the record
        lacking = [k for k in ("experiment", "model") if k not in record]
        if lacking:
            raise MetadataError(f, f"lacks key(s) {lacking}: not a registry record")
        rows.append(record)
    table = pd.DataFrame(rows)
    if table.empty:
        return pd.DataFrame(columns=RESULT_COLUMNS)
    known = [c for c in RESULT_COLUMNS if c in table] + [
        c for c in table if c not in RESULT_COLUMNS
    ]
    table = table[known].astype(
        {c: "Int64" for c in ("epochs", "parameters", "test_tracks", "train_frames") if c in table}
    )
    # networks first (exp1, exp2, fnn, ...) in config order, the classical baselines last
    last = (
        table["epochs"].isna().astype(int) if "epochs" in table else pd.Series(1, index=table.index)
    )
    order = table["order"] if "order" in table else pd.Series(0, index=table.index)
    keys = {*table.columns, "_order"}  # records may lack protocol (networks) or more
    return (
        table.assign(_last=last, _order=order.fillna(0))
        .sort_values(
            ["_last"] + [c for c in ("experiment", "_order", "model", "protocol") if c in keys],
            kind="stable",
        )
        .drop(columns=["_last", "_order"])
        .reset_index(drop=True)
    )


def collect(out: str | Path) -> pd.DataFrame:
    """Read every registry record under ``out`` as one table and write it to ``out/results.csv``.

    Parameters
    ----------
    out : str or pathlib.Path
        The study folder.

    Returns
    -------
    pandas.DataFrame
        The table of :func:`read_registry`; it is written (4 decimals) unless it is empty.

    Raises
    ------
    musiclass.errors.MetadataError
        If a record is not valid JSON, not a JSON object or lacks ``experiment`` or ``model``
        (naming its file).
    """
    table = read_registry(out)
    if not table.empty:
        write_csv_atomic(table, StudyFolder(out).results, float_format="%.4f")
    return table


def track_confusion(model_dir: str | Path) -> pd.DataFrame:
    """Read a network's confusion matrix on its test tracks from its ``metrics.json``.

    Parameters
    ----------
    model_dir : str or pathlib.Path
        The network's model directory.

    Returns
    -------
    pandas.DataFrame
        Track counts, rows true (index ``true``), columns predicted (``predicted``), both by class.

    Raises
    ------
    musiclass.errors.MetadataError
        If ``metrics.json`` is not valid JSON.
    """
    conf = read_json(ModelDir(model_dir).metrics)["test"]["track"]["confusion"]
    return pd.DataFrame(
        conf["matrix"],
        index=pd.Index(conf["classes"], name="true"),
        columns=pd.Index(conf["classes"], name="predicted"),
    )


def track_recall(model_dir: str | Path) -> dict[str, float]:
    """Read a network's recall per class on its test tracks from its ``metrics.json``.

    Parameters
    ----------
    model_dir : str or pathlib.Path
        The network's model directory.

    Returns
    -------
    dict of str to float
        Class name to its track recall.

    Raises
    ------
    musiclass.errors.MetadataError
        If ``metrics.json`` is not valid JSON.
    """
    per_class = read_json(ModelDir(model_dir).metrics)["test"]["track"]["per_class"]
    return {c: v["recall"] for c, v in per_class.items()}


def results_for_display(table: pd.DataFrame) -> pd.DataFrame:
    """Reshape a results table for :mod:`musiclass.plots`.

    Parameters
    ----------
    table : pandas.DataFrame
        A results table (:func:`read_registry`), networks first (in config order), then the
        classical baselines.

    Returns
    -------
    pandas.DataFrame
        A copy in the same order, in the shape :mod:`musiclass.plots` draws: ``model`` is
        "experiment: model" and ``split`` the protocol.
    """
    t = table.copy()
    t["model"] = t["experiment"] + ": " + t["model"]
    if "degenerate" in t:  # a collapsed network is named as such wherever the table is shown
        flagged = t["degenerate"].notna() & (t["degenerate"].astype(str) != "")
        t.loc[flagged, "model"] = t.loc[flagged, "model"] + " " + DEGENERATE_MARK
    t["split"] = t["protocol"]
    return t


#: appended to a degenerate model's name in displayed tables and figures
DEGENERATE_MARK = "[degenerate]"


def is_degenerate(record: dict | pd.Series) -> bool:
    """Whether a registry record is flagged degenerate (see :func:`musiclass.evaluation.degenerate`).

    Parameters
    ----------
    record : dict or pandas.Series
        One result.

    Returns
    -------
    bool
        True when its ``degenerate`` field holds a reason.
    """
    value = record.get("degenerate")
    return isinstance(value, str) and value != ""


def tags_per_part(store, split: str = "official") -> pd.DataFrame:
    """Count the tracks per tag in each part (train, validation, test) of a split.

    Parameters
    ----------
    store : musiclass.features.store.FeatureStore
        A multi-label (mood) feature store.
    split : str or pathlib.Path, default="official"
        A split method saved in the store, or a split CSV (:func:`musiclass.training.load_split`).

    Returns
    -------
    pandas.DataFrame
        One row per part present, in the order train, validation, test; one column per tag.

    Raises
    ------
    musiclass.errors.MetadataError
        If no frame of the store is in the split.
    """
    rows = load_split(store, split)
    tags = list(store.classes)
    per_part = pd.DataFrame(
        {
            p: targets(r.drop_duplicates("track_id")["label"], tags, True).sum(axis=0)
            for p, r in rows.groupby("part")
        },
        index=tags,
    ).T
    return per_part.loc[[p for p in ("train", "validation", "test") if p in per_part.index]]


def resampled_counts(store, split: str = "official", seed: int = 42) -> pd.DataFrame:
    """Count the training frames per tag in the base set and each of the 8 resampled sets of a split.

    Parameters
    ----------
    store : musiclass.features.store.FeatureStore
        A multi-label (mood) feature store.
    split : str or pathlib.Path, default="official"
        A split method saved in the store, or a split CSV; its training part is resampled.
    seed : int, default=42
        Seed of the resampling (:func:`musiclass.resampling.resample_sets`).

    Returns
    -------
    pandas.DataFrame
        :func:`musiclass.resampling.counts_table`: one row per set, one column per tag, then
        ``frames``.

    Raises
    ------
    musiclass.errors.MetadataError
        If no frame of the store is in the split.
    """
    rows = load_split(store, split)
    train = rows[rows["part"] == "train"]
    Y = targets(train["label"], list(store.classes), True).astype(np.int8)
    return counts_table(Y, resample_sets(Y, seed=seed), list(store.classes))


# ============================================================================== reading the run
@dataclass
class StudyResults:
    """One study folder of a run: its results table (from ``registry/*.json``) and its task.

    Attributes
    ----------
    task : str
        ``"genre"`` or ``"mood"``.
    folder : pathlib.Path
        The study folder.
    table : pandas.DataFrame
        Its results table (:func:`read_registry`, with the frame accuracy and ``epochs`` columns
        present, NaN where missing).
    """

    task: str
    folder: Path
    table: pd.DataFrame

    @property
    def networks(self) -> pd.DataFrame:
        """The network results (they have epochs; the classical baselines do not).

        Returns
        -------
        pandas.DataFrame
            The rows of :attr:`table` whose ``epochs`` is set.
        """
        return (
            self.table[self.table["epochs"].notna()]
            if "epochs" in self.table
            else self.table.iloc[:0]
        )

    @property
    def classical(self) -> pd.DataFrame:
        """The classical baselines' results.

        Returns
        -------
        pandas.DataFrame
            The rows of :attr:`table` without ``epochs``.
        """
        return self.table[self.table["epochs"].isna()] if "epochs" in self.table else self.table

    def source(self, record: dict | pd.Series) -> Path:
        """Return the model or result folder a registry record names.

        Parameters
        ----------
        record : dict or pandas.Series
            A row of :attr:`table`; its ``source`` is read.

        Returns
        -------
        pathlib.Path
            The folder, resolved with :func:`source_path` against :attr:`folder`.
        """
        return source_path(self.folder, record["source"])

    def stores(self) -> list[Path]:
        """List the study's feature store folders (those with a manifest).

        Returns
        -------
        list of pathlib.Path
            The store folders, sorted by name.
        """
        return StudyFolder(self.folder).stores()


@dataclass
class Run:
    """A run folder as the report sees it: its studies (by task) and what it was run with.

    Attributes
    ----------
    folder : pathlib.Path
        The run folder.
    studies : dict of str to StudyResults
        Task (``"genre"``, ``"mood"``) to its study, sorted by task.
    info : dict, default={}
        What the run was made with: ``profile``, ``preset``, ``seed``, ``datasets`` (task to
        dataset name) and ``sources`` (task to where that was read); "unknown" where nothing says.
    """

    folder: Path
    studies: dict[str, StudyResults]
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def synthetic(self) -> bool:
        """Whether any study of the run was made from the embedded synthetic data.

        Returns
        -------
        bool
            True when a study's dataset (in :attr:`info`) is ``synthetic``.
        """
        return any(d == "synthetic" for d in self.info.get("datasets", {}).values())


def read_json(path: Path) -> dict:
    """Read a JSON file of the run.

    Parameters
    ----------
    path : pathlib.Path
        The file.

    Returns
    -------
    dict
        Its content.

    Raises
    ------
    musiclass.errors.MetadataError
        If the file is damaged (not valid JSON), naming it.
    """
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise MetadataError(path, f"not valid JSON ({exc})") from None


def _results(folder: Path) -> pd.DataFrame:
    """Every registry record of a study folder as one table (:func:`read_registry`: networks in
    config order, classical baselines last), without rewriting ``results.csv``."""
    table = read_registry(folder)  # a damaged record is a MetadataError naming its file
    if table.empty:
        return table.iloc[0:0]
    for col in ("epochs", "frame_accuracy", "frame_accuracy_low", "frame_accuracy_high"):
        if col not in table:
            table[col] = np.nan
    return table


def _no_results(run_dir: Path, why: str) -> FileError:
    """The error for a folder the report cannot be made from: what is wrong, and what to run."""
    return FileError(
        run_dir,
        f"{why}: run `musiclass demo --out {run_dir}` or a study "
        f"(`musiclass run configs/genre/study.yaml --out {run_dir}/genre`) first",
    )


def load_run(run_dir: str | Path) -> Run:
    """Find the studies of a run folder and what they were run with.

    The studies are ``genre/``, ``mood/``, or the folder itself when it is a study folder (then
    any other subfolder with registry records); the first study found for a task is kept.

    Parameters
    ----------
    run_dir : str or pathlib.Path
        The run folder (``musiclass demo``) or a study folder (``musiclass run``).

    Returns
    -------
    Run
        Its studies by task and :attr:`Run.info`.

    Raises
    ------
    musiclass.errors.FileError
        If the folder does not exist or holds no results (naming it and what to run).
    musiclass.errors.MetadataError
        If a registry record or a settings file is not valid JSON.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise _no_results(run_dir, "no such run folder")
    candidates = [run_dir / "genre", run_dir / "mood", run_dir]
    candidates += [p for p in sorted(run_dir.iterdir()) if p.is_dir() and p not in candidates]
    studies: dict[str, StudyResults] = {}
    for folder in candidates:
        if not any(not is_temporary(p) for p in StudyFolder(folder).registry.glob("*.json")):
            continue
        table = _results(folder)
        if table.empty:
            continue
        task = "mood" if "task" in table and (table["task"] == "mood").all() else "genre"
        studies.setdefault(task, StudyResults(task, folder, table))
    if not studies:
        raise _no_results(
            run_dir,
            "no results in this run folder (no genre/registry/*.json or mood/registry/*.json)",
        )
    return Run(run_dir, dict(sorted(studies.items())), _run_info(run_dir, studies))


def _run_info(run_dir: Path, studies: dict[str, StudyResults]) -> dict[str, Any]:
    """Dataset, profile, preset and seed: from each study's ``workspace.json`` (the notebooks
    write it) or ``run.json`` (``musiclass run`` writes it), else the run's ``summary.json``
    (``musiclass demo`` writes it, and the demo runs only on the embedded synthetic data), else
    whether the indexed data carries the synthetic sets' stamp; what none of them says is
    "unknown"."""
    summary_path = RunFolder(run_dir).summary
    summary = read_json(summary_path) if summary_path.is_file() else {}
    info: dict[str, Any] = {"datasets": {}, "sources": {}}
    for task, study in studies.items():
        workspace = StudyFolder(study.folder).workspace
        if not workspace.is_file():  # no notebook ran here: what `musiclass run` recorded
            workspace = StudyFolder(study.folder).run_record
        ws = read_json(workspace) if workspace.is_file() else {}
        for key in ("profile", "preset", "seed"):
            value = ws.get(key, summary.get(key))
            if value is not None:
                info.setdefault(key, value)
        dataset, source = ws.get("dataset"), workspace.name
        if dataset is None and summary:
            dataset, source = summary.get("dataset", "synthetic"), summary_path.name
        if dataset is None:
            for store in study.stores():
                meta = store / IndexFiles.META
                root = Path(read_json(meta).get("root", "")) if meta.is_file() else None
                if root is not None and str(root) and (root / SYNTH_STAMP).is_file():
                    dataset, source = "synthetic", f"the stamp {shown_path(root / SYNTH_STAMP)}"
                    break
        info["datasets"][task] = str(dataset) if dataset is not None else "unknown"
        info["sources"][task] = source if dataset is not None else "nothing in the run folder says"
    for key in ("profile", "preset", "seed"):
        info.setdefault(key, "unknown")
    return info


def shown_path(path: str | Path) -> str:
    """Return a path as reports and notebooks print it.

    Parameters
    ----------
    path : str or pathlib.Path
        Any path.

    Returns
    -------
    str
        ``path`` relative to the working directory when inside it (so a committed report carries
        no machine path), else as given.
    """
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


#: the models whose per-tag figures stand for a mood study: the base training set's network
BASE_TAGGERS = ("base", "mood-cnn")


def base_tagger(table: pd.DataFrame) -> pd.DataFrame:
    """Select the registry rows of the mood study's base model on the official split.

    Parameters
    ----------
    table : pandas.DataFrame
        A results table (:func:`read_registry`).

    Returns
    -------
    pandas.DataFrame
        Its rows whose split is ``official`` and model one of :data:`BASE_TAGGERS` (empty if
        none): the model whose per-tag ROC-AUC the figures and the report show.
    """
    return table[(table["split"] == "official") & (table["model"].isin(BASE_TAGGERS))]


#: our artist-disjoint splits first: the split a results figure or the leak table calls "ours"
HEADLINE_SPLITS = ("gtzan-filtered", "artist", "official", "song", "gtzan-stratified")


def headline_split(table: pd.DataFrame) -> str | None:
    """The split of "our protocol" that figures and tables show: the most artist-disjoint one run.

    Parameters
    ----------
    table : pandas.DataFrame
        A results table (:func:`read_registry`).

    Returns
    -------
    str or None
        The first of :data:`HEADLINE_SPLITS` some network row of ``table`` was run under; None
        when there is none.

    Examples
    --------
    >>> headline_split(pd.DataFrame({"split": ["seed-frame", "song", "artist"], "epochs": [3, 3, 3]}))
    'artist'
    """
    if table.empty or "split" not in table:
        return None
    nets = table[table["epochs"].notna()] if "epochs" in table else table
    present = set(nets["split"])
    return next((s for s in HEADLINE_SPLITS if s in present), None)


def _track_scores(out: str | Path, rec: dict) -> tuple[np.ndarray, np.ndarray] | None:
    """Per test track of a network record: 1.0 where it is classified correctly, and its label."""
    from .evaluation import track_probabilities  # lazy: the table without intervals needs none
    from .training import load_predictions  # lazy: as above

    try:
        path = ModelDir(source_path(out, rec["source"])).predictions("test")
        rows, probs, classes = load_predictions(path)
    except (OSError, KeyError, ValueError, FileError, MetadataError):
        return None
    tracks, tp = track_probabilities(probs, rows["track_id"].to_numpy())
    labels = rows.drop_duplicates("track_id").set_index("track_id").loc[tracks, "label"].to_numpy()
    predicted = np.asarray(classes)[np.argmax(tp, axis=1)]
    return (predicted == labels).astype(float), labels


def leak_table(
    table: pd.DataFrame, out: str | Path | None = None, *, n_boot: int = 1000
) -> pd.DataFrame:
    """Both leaks per network: the original frame split, the song split and the artist split.

    The *frame leak* is the track accuracy under the frame split minus that under the song split
    (test songs heard in training); the *artist leak* is the song split's minus the artist-disjoint
    split's (test artists heard in training). A network run under only two of the three splits
    gets the one difference it has (``total`` = frame minus artist-disjoint when the song split is
    missing). A degenerate model's gap is its collapse, not a leak: its differences are NaN with a
    note.

    Parameters
    ----------
    table : pandas.DataFrame
        A results table (:func:`read_registry`); its network rows are used.
    out : str or pathlib.Path, optional
        The study or run folder the records' sources are relative to. Given, each difference gets
        a 95 % interval from its test tracks (:func:`musiclass.evaluation.difference_interval`:
        the two test sets are resampled independently, class-stratified).
    n_boot : int, default=1000
        Resamples of each interval.

    Returns
    -------
    pandas.DataFrame
        One row per network (experiment and model) run under the frame split and at least one of
        ours: the track accuracy under each split, ``frame leak``, ``artist leak`` and
        ``total leak`` (with ``_low``/``_high`` bounds when ``out`` is given), and ``note``;
        rounded to 3 decimals.
    """
    nets = table[table["epochs"].notna()] if "epochs" in table else table.iloc[0:0]
    disjoint = next((s for s in HEADLINE_SPLITS if s != "song" and s in set(nets["split"])), None)
    rows = []
    for (experiment, model), group in nets.groupby(["experiment", "model"], sort=False):
        by = {r["split"]: r for r in group.to_dict("records")}
        frame, song, artist = by.get("seed-frame"), by.get("song"), by.get(disjoint)
        if frame is None or (song is None and artist is None):
            continue
        row: dict[str, Any] = {"experiment": experiment, "model": model}
        for split, rec in (("seed-frame", frame), ("song", song), (disjoint, artist)):
            if split is not None:
                row[f"track acc., {split} split"] = None if rec is None else rec["accuracy"]
        collapsed = [
            r["split"] for r in (frame, song, artist) if r is not None and is_degenerate(r)
        ]
        scores = {}
        if out is not None:
            for rec in (frame, song, artist):
                if rec is not None:
                    scores[rec["split"]] = _track_scores(out, rec)
        for name, hi, lo in (
            ("frame leak", frame, song),
            ("artist leak", song, artist),
            ("total leak", frame, artist),
        ):
            if hi is None or lo is None:
                continue
            bad = is_degenerate(hi) or is_degenerate(lo)
            row[name] = float("nan") if bad else float(hi["accuracy"]) - float(lo["accuracy"])
            if out is not None:
                a, b = scores.get(hi["split"]), scores.get(lo["split"])
                low = high = float("nan")
                if a is not None and b is not None and not bad:
                    from .evaluation import difference_interval  # lazy: as above

                    point, low, high = difference_interval(
                        a[0], b[0], strata_a=a[1], strata_b=b[1], n_boot=n_boot
                    )
                    row[name] = point
                row[f"{name}_low"], row[f"{name}_high"] = low, high
        if collapsed:
            row["note"] = f"degenerate model under {', '.join(collapsed)}: not a leak"
        rows.append(row)
    return pd.DataFrame(rows).round(3)


def leak_pairs(nets: pd.DataFrame) -> list[tuple[dict, dict]]:
    """Pair each network's result under the original frame split with each of ours.

    Parameters
    ----------
    nets : pandas.DataFrame
        Network rows of a results table (:func:`read_registry`).

    Returns
    -------
    list of (dict, dict)
        ``(frame-split record, our-split record)`` for every network (experiment and model) run
        under the ``seed-frame`` split and another one, in table order: the pairs whose
        difference is the leak.
    """
    pairs = []
    for (_, _), group in nets.groupby(["experiment", "model"], sort=False):
        frame = group[group["split"] == "seed-frame"]
        for rec in group[group["split"] != "seed-frame"].to_dict("records"):
            if not frame.empty:
                pairs.append((frame.iloc[0].to_dict(), rec))
    return pairs


def seed_table(table: pd.DataFrame, metric: str = "accuracy") -> tuple[pd.DataFrame, str]:
    """The spread across training seeds of the networks trained with several, and what it allows.

    Parameters
    ----------
    table : pandas.DataFrame
        A results table (:func:`read_registry`); rows with ``n_seeds`` are used.
    metric : str, default="accuracy"
        The metric (``<metric>_seed_values`` holds its value per seed).

    Returns
    -------
    table : pandas.DataFrame
        Per network: ``model``, ``split``, ``seeds``, the first seed's value with its test-sampling
        interval, the mean and sd across seeds, the per-seed values and each seed's rank.
    verdict : str
        The ranking by mean, and whether it holds for every seed: a ranking is claimed only then.

    Examples
    --------
    >>> t = pd.DataFrame({"model": ["a", "b"], "split": ["artist"] * 2, "n_seeds": [2, 2],
    ...                   "seeds": ["0,1"] * 2, "accuracy": [0.8, 0.6],
    ...                   "accuracy_seed_values": ["0.8,0.7", "0.6,0.75"]})
    >>> seed_table(t)[1]
    'by mean over 2 seeds: a (0.750) > b (0.675); the ranking does NOT hold for every seed'
    """
    column = f"{metric}_seed_values"
    if column not in table or "n_seeds" not in table:
        return pd.DataFrame(), "no network was trained with several seeds"
    rows = table[table["n_seeds"].notna() & table[column].notna()]
    if rows.empty:
        return pd.DataFrame(), "no network was trained with several seeds"
    values = np.array([[float(v) for v in str(x).split(",")] for x in rows[column]])
    if len({len(v) for v in values}) != 1:
        return pd.DataFrame(), "the networks were trained with different numbers of seeds"
    # rank 1 = best, per seed (columns)
    ranks = (-values).argsort(axis=0).argsort(axis=0) + 1
    out = pd.DataFrame(
        {
            "model": rows["model"].to_numpy(),
            "split": rows["split"].to_numpy(),
            "seeds": rows["seeds"].to_numpy(),
            metric: rows[metric].to_numpy(),
            **(
                {f"{metric}_low": rows[f"{metric}_low"].to_numpy()}
                if f"{metric}_low" in rows
                else {}
            ),
            **(
                {f"{metric}_high": rows[f"{metric}_high"].to_numpy()}
                if f"{metric}_high" in rows
                else {}
            ),
            "seed mean": values.mean(axis=1),
            "seed sd": values.std(axis=1, ddof=1) if values.shape[1] > 1 else 0.0,
            "per seed": [", ".join(f"{v:.3f}" for v in r) for r in values],
            "rank per seed": [", ".join(str(int(x)) for x in r) for r in ranks],
        }
    ).round(3)
    order = np.argsort(-values.mean(axis=1), kind="stable")
    holds = bool((ranks[order] == ranks[order][:, :1]).all()) and bool(
        (ranks[order][:, 0] == np.arange(1, len(order) + 1)).all()
    )
    names = " > ".join(f"{rows['model'].iloc[i]} ({values[i].mean():.3f})" for i in order)
    verdict = f"by mean over {values.shape[1]} seeds: {names}; the ranking " + (
        "holds for every seed" if holds else "does NOT hold for every seed"
    )
    return out, verdict


def best_on_validation(table: pd.DataFrame, metric: str = "roc_auc_macro") -> pd.Series | None:
    """The result whose *validation* figure is best: a configuration chosen without test data.

    Parameters
    ----------
    table : pandas.DataFrame
        A results table (:func:`read_registry`), e.g. the mood study's official-split rows.
    metric : str, default="roc_auc_macro"
        The metric; its validation value is the column ``validation_<metric>``.

    Returns
    -------
    pandas.Series or None
        The chosen row (report its test columns), or None when no row has a validation value.
    """
    column = f"validation_{metric}"
    if column not in table or not table[column].notna().any():
        return None
    return table.loc[table[column].astype(float).idxmax()]
