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
    include: [exp1.yaml, ...]           # optional: other configs run first

:func:`run_study` writes under ``out``: ``index/``, ``stores/<frontend hash>/`` (with ``splits/``),
``models/<split>/<run>-<hash>/`` (model directories, see :mod:`musiclass.training`),
``registry/<experiment>__<run>__<split>.json`` (one record per result) and ``results.csv`` (all
records, one row each). Every stage is skipped when its config is unchanged, so an interrupted
study resumes where it stopped and a second experiment reuses the first one's models.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .config import frontend_from_mapping, load_yaml
from .errors import ConfigError, MetadataError
from .utils import config_hash, is_temporary, safe_name, write_csv_atomic, write_json_atomic

log = logging.getLogger(__name__)

#: how each split is labelled in the results table. Networks: the original protocol is its random
#: split of frames, ours a split of songs. Classical baselines: the original's is a scaler fitted on
#: all rows and one 70/30 split, ours repeated cross-validation with the scaler in the pipeline.
PROTOCOL_OF_SPLIT = {
    "seed-frame": "original protocol",
    "song": "our protocol",
    "artist": "our protocol, artist split",
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
    """The metric columns to print for a results table (genre or mood)."""
    return (
        MOOD_TABLE_METRICS if "task" in table and (table["task"] == "mood").all() else TABLE_METRICS
    )


PROTOCOL_NOTE = (
    "networks: original = random split of frames, ours = split of songs; classical: original = "
    "scaler fitted on all rows + one 70/30 split, ours = repeated 5-fold CV, scaler in the pipeline"
)

#: profile overrides: ``quick`` is the README demo (about 10 minutes on 2 cores), ``full`` the study
PROFILES: dict[str, dict[str, Any]] = {
    "full": {"train": {}, "n_boot": 1000, "repeats": 3},
    "quick": {
        "train": {"epochs": 10, "early_stopping_patience": 3, "train_frames_per_track": 4},
        "n_boot": 500,
        "repeats": 1,
        "skip_models": ["svm-tuned"],
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
    },
}

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


@dataclass
class Study:
    """One config file, resolved (includes first)."""

    experiment: str
    task: str = "genre"
    data: dict = field(default_factory=lambda: {"dataset": "synthetic"})
    frontend: dict = field(default_factory=lambda: {"preset": "default"})
    splits: list = field(default_factory=lambda: ["song", "seed-frame"])
    train: dict = field(default_factory=lambda: {"preset": "default"})
    runs: list = field(default_factory=list)
    classical: dict | None = None
    source: str = ""


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
}


def load_study(path: str | Path) -> list[Study]:
    """Read a study config and the configs it includes (depth first, each once)."""
    out: list[Study] = []
    seen: set[Path] = set()

    def visit(p: Path) -> None:
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
        if d.get("runs") or d.get("classical"):
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
                    splits=list(d.get("splits") or ["song"]),
                    train=dict(d.get("train") or {}),
                    runs=runs,
                    classical=d.get("classical"),
                    source=str(p),
                )
            )

    visit(Path(path))
    if not out:
        raise ConfigError(f"{path}: no runs and no classical section (nothing to do)")
    return out


def _apply_overrides(study: Study, overrides: dict[str, Any]) -> Study:
    """``train.epochs=5``, ``frontend.dtype=float16``, ``data.root=...``, ``splits=[song]``."""
    for key, value in overrides.items():
        section, _, name = key.partition(".")
        if section in ("train", "frontend", "data") and name:
            getattr(study, section)[name] = value
        elif section == "splits" and not name:
            study.splits = list(value) if isinstance(value, (list, tuple)) else [value]
        else:
            raise ConfigError(
                f"cannot override {key!r}: use train.KEY, frontend.KEY, data.KEY or splits"
            )
    return study


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
) -> pd.DataFrame:
    """Run every experiment of a study config; return (and write) the results table."""
    from . import pipeline
    from .features.extract import extract
    from .features.store import FeatureStore
    from .training import train, train_preset

    if profile not in PROFILES:
        raise ConfigError(f"unknown profile {profile!r}; choose from {sorted(PROFILES)}")
    prof = PROFILES[profile]
    studies = load_study(config) if not isinstance(config, list) else config
    out = Path(out)
    jobs = jobs or pipeline.default_jobs()
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
        t0 = time.perf_counter()
        echo(f"\n== {study.experiment} ({Path(study.source).name}, profile {profile})")
        store, official = _store_for(
            study, out, data_dir, stores, jobs, progress, echo, pipeline, extract, FeatureStore
        )
        _ensure_splits(store, study.splits, pipeline, echo, official=official)
        for split in study.splits:
            for run_spec in study.runs:
                run = dict(run_spec)
                name = run.pop("name", None) or f"{run['model']}-{run.get('representation', 'mel')}"
                values = {k: v for k, v in study.train.items() if k != "preset"}
                values.update(prof["train"])
                values.update(run)
                cfg = train_preset(study.train.get("preset", "default"), **values)
                # named by what is trained, so identical runs in two experiments share one model
                model_dir = (
                    out / "models" / split / f"{cfg.model}-{cfg.representation}-{cfg.hash()[:8]}"
                )
                echo(
                    f"-- {name} on {split} split: {cfg.model} on {cfg.representation} -> {model_dir}"
                )
                res = train(store, split, cfg, model_dir, progress=progress, n_boot=prof["n_boot"])
                rec = _network_record(study, name, split, res)
                rec["source"] = relative_source(res.model_dir, out)
                rec["order"] = study.runs.index(run_spec)
                _register(out, rec, split)
                records.append(rec)
                head = "roc_auc_macro" if study.task == "mood" else "accuracy"
                echo(
                    f"   test {head} {rec[head]:.3f} [{rec[head + '_low']:.3f}, {rec[head + '_high']:.3f}] "
                    f"on {rec['test_tracks']} tracks; {rec['epochs']} epochs, {rec['seconds']:.0f} s"
                )
        if study.classical:
            for key, rec in _run_classical(study, store, out, prof, progress, echo):
                rec["source"] = relative_source(rec["source"], out)
                _register(out, rec, key)
                records.append(rec)
        echo(f"   {study.experiment} done in {time.perf_counter() - t0:.0f} s")
    table = collect(out)
    return table


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
):
    """The data stages of a study config, without training: synthesise (or index the real data),
    extract the feature store and make the splits of the config's first experiment.

    Returns ``(store, splits)``: the :class:`~musiclass.features.store.FeatureStore` and, per split
    method, its sizes and measured leak (as kept in ``splits/summary.json``). :func:`run_study` on the
    same config and ``out`` finds both done and goes straight to training.
    """
    from . import pipeline
    from .features.extract import extract
    from .features.store import FeatureStore

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
        jobs or pipeline.default_jobs(),
        progress,
        echo,
        pipeline,
        extract,
        FeatureStore,
    )
    return store, _ensure_splits(store, study.splits, pipeline, echo, official=official)


def _store_for(
    study: Study,
    out: Path,
    data_dir: Path,
    stores: dict,
    jobs,
    progress,
    echo,
    pipeline,
    extract,
    FeatureStore,
):
    """Index the study's data and extract it with its frontend (each once per config)."""
    data = study.data
    dataset = data.get("dataset", "synthetic")
    official = None
    if study.task == "mood":
        if dataset == "synthetic":
            root = pipeline.synthesize(
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
        root = pipeline.synthesize(
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
        index = pipeline.index_jamendo(root, out / "index", **index_args)
        _save_curation_counts(root, index_args, index, out)
    else:
        index = pipeline.index_gtzan(root, out / "index", **index_args)
    path = out / "stores" / f"{frontend.hash()[:12]}"
    if (path / "manifest.json").is_file():
        store = FeatureStore(path)
        if store.manifest.get("tracks_fingerprint") == _fingerprint(index):
            stores[key] = store
            return store, official
    echo(f"   extracting {len(index)} tracks with frontend {frontend.hash()} -> {path}")
    report = extract(index, frontend, path, jobs=jobs, progress=progress)
    echo("   " + report.summary())
    stores[key] = report.store
    return report.store, official


def _save_curation_counts(root, index_args: dict, index, out: Path) -> None:
    """Tracks per tag before curation (all tags of the TSV) and after, for the tag-frequency figure."""
    from .datasets import jamendo

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
        table.astype(int).T.rename_axis("group").reset_index(), out / "tag_counts_curation.csv"
    )


def _fingerprint(index) -> str:
    from .features.store import tracks_fingerprint

    return tracks_fingerprint(index)


def _ensure_splits(
    store, methods, pipeline, echo=print, official: dict | None = None
) -> dict[str, Any]:
    """Make the splits the store lacks; return (and keep in ``splits/summary.json``) their sizes and
    the measured leak of each."""
    path = store.path / "splits" / "summary.json"
    summary = json.loads(path.read_text()) if path.is_file() else {}
    missing = tuple(
        m for m in methods if not (store.path / "splits" / f"{m}.csv").is_file() or m not in summary
    )
    if missing:
        summary.update(pipeline.make_splits(store, missing, seed=42, official=official))
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
        "source": str(res.model_dir),
    }


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
    for m in MOOD_METRICS:
        lo, hi = ci.get(m) or (None, None)
        rec.update({m: track.get(m), f"{m}_low": lo, f"{m}_high": hi})
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
    """The scikit-learn baselines on the store's descriptor table, under both protocols."""
    from .models import classical

    spec = dict(study.classical or {})
    skip = set(prof.get("skip_models", []))
    table = classical.read_features(store.path)
    rows = []
    for protocol in spec.get("protocols", ["seed", "default"]):
        models = [
            m
            for m in classical.parse_models(spec.get("models", "lr,rf,gb,svm,knn"))
            if m not in skip and not (protocol == "seed" and m == "svm-tuned")
        ]
        key = config_hash(
            {
                "store": store.manifest["config_hash"],
                "protocol": protocol,
                "models": models,
                "repeats": prof["repeats"],
                "n_boot": prof["n_boot"],
                "tracks": store.manifest.get("tracks_fingerprint"),
            }
        )
        folder = out / "models" / "classical" / f"{protocol}-{key[:8]}"
        if not (folder / "classical.json").is_file():
            echo(
                f"-- classical ML ({', '.join(models)}), {protocol} protocol, on {len(table)} tracks"
            )
            result = classical.run(
                table,
                protocol=protocol,
                models=models,
                seed=42,
                n_repeats=prof["repeats"],
                n_boot=prof["n_boot"],
                progress=progress,
            )
            classical.save({protocol: result}, folder, table)
        for r in pd.read_csv(folder / "classical.csv").to_dict("records"):
            rows.append(
                (
                    f"classical-{protocol}",
                    {
                        "task": study.task,
                        "experiment": study.experiment,
                        "model": r["model"],
                        "protocol": CLASSICAL_PROTOCOL[protocol],
                        "split": "70/30 of tracks, scaler fitted on all"
                        if protocol == "seed"
                        else f"{prof['repeats']}x 5-fold CV of tracks",
                        **{k: r.get(k) for k in CLASSICAL_METRICS},
                        "frame_accuracy": None,
                        "frame_accuracy_low": None,
                        "frame_accuracy_high": None,
                        "test_tracks": r.get("n_eval"),
                        "epochs": None,
                        "seconds": r.get("fit_s"),
                        "parameters": None,
                        "source": str(folder),
                    },
                )
            )
    return rows


def relative_source(model_dir: str | Path, out: str | Path) -> str:
    """A result's folder as recorded in the registry: relative to the study folder ``out``, so the
    records stay valid when the run folder is moved or read from another working directory."""
    return Path(os.path.relpath(Path(model_dir).resolve(), Path(out).resolve())).as_posix()


def source_path(out: str | Path, source: str | Path) -> Path:
    """The folder a registry record's ``source`` names (relative to ``out``; older records held a
    path relative to the working directory, which is still accepted)."""
    path = Path(source)
    if path.is_absolute():
        return path
    inside = Path(out) / path
    return inside if inside.exists() or not path.exists() else path


def _register(out: Path, record: dict[str, Any], key: str) -> Path:
    """One JSON per result, named by what produced it (experiment, model, split or protocol key),
    so a re-run replaces its record whatever the display labels."""
    name = safe_name(
        re.sub(r"[^A-Za-z0-9._-]+", "-", f"{record['experiment']}__{record['model']}__{key}")
    )
    path = out / "registry" / f"{name}.json"
    write_json_atomic(path, record)
    return path


def read_registry(out: str | Path) -> pd.DataFrame:
    """Every registry record under ``out`` as one table, networks first (in config order), the
    classical baselines last; nothing is written (see :func:`collect`)."""
    out = Path(out)
    rows = []
    for f in sorted((out / "registry").glob("*.json")):
        if is_temporary(
            f
        ):  # a write killed mid-way left it (glob's * matches hidden names): not a record
            continue
        try:
            rows.append(json.loads(f.read_text(encoding="utf-8")))
        except json.JSONDecodeError as exc:
            raise MetadataError(f, f"not valid JSON ({exc})") from None
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
    last = table["epochs"].isna().astype(int)
    order = table["order"] if "order" in table else pd.Series(0, index=table.index)
    return (
        table.assign(_last=last, _order=order.fillna(0))
        .sort_values(["_last", "experiment", "_order", "model", "protocol"], kind="stable")
        .drop(columns=["_last", "_order"])
        .reset_index(drop=True)
    )


def collect(out: str | Path) -> pd.DataFrame:
    """Every registry record under ``out`` as one table (:func:`read_registry`), also written to
    ``out/results.csv``."""
    table = read_registry(out)
    if not table.empty:
        write_csv_atomic(table, Path(out) / "results.csv", float_format="%.4f")
    return table


def track_confusion(model_dir: str | Path) -> pd.DataFrame:
    """A network's confusion matrix on its test tracks, from its ``metrics.json`` (rows true,
    columns predicted)."""
    conf = json.loads((Path(model_dir) / "metrics.json").read_text())["test"]["track"]["confusion"]
    return pd.DataFrame(
        conf["matrix"],
        index=pd.Index(conf["classes"], name="true"),
        columns=pd.Index(conf["classes"], name="predicted"),
    )


def track_recall(model_dir: str | Path) -> dict[str, float]:
    """A network's recall per class on its test tracks, from its ``metrics.json``."""
    per_class = json.loads((Path(model_dir) / "metrics.json").read_text())["test"]["track"][
        "per_class"
    ]
    return {c: v["recall"] for c, v in per_class.items()}


# ------------------------------------------------------------------------------ figures and tables
def results_for_display(table: pd.DataFrame) -> pd.DataFrame:
    """The results table in the shape :mod:`musiclass.plots` draws: ``model`` is "experiment: model"
    and ``split`` the protocol, networks first (in config order), then the classical baselines."""
    t = table.copy()
    t["model"] = t["experiment"] + ": " + t["model"]
    t["split"] = t["protocol"]
    return t


def write_figures(out: str | Path, figures: str | Path, *, echo=print) -> list[Path]:
    """Draw the study's figures from ``out`` (its registry, stores and model folders) into ``figures``.

    Figure 1 (one frame per genre in every representation), the results table (PNG, Markdown, CSV),
    test accuracy with intervals under both protocols, and per network under our split: its
    confusion matrix, ROC curves, training curves; per-genre recall of every network.
    """
    from . import plots
    from .features.store import FeatureStore
    from .training import load_predictions

    out, figures = Path(out), Path(figures)
    figures.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    table = collect(out)
    if table.empty:
        raise ConfigError(f"{out}: no results registered yet (run the study first)")
    if table_metrics(table) == MOOD_TABLE_METRICS:
        return _write_mood_figures(out, figures, table, echo)
    shown = results_for_display(table)

    stores = sorted((out / "stores").glob("*/manifest.json"))
    if stores:
        store = FeatureStore(stores[0].parent)
        examples = plots.examples_from_store(store)
        written.append(figures / "figure1_representations.png")
        plots.representation_grid(
            examples,
            store.config,
            out=written[-1],
            title="One 3 s frame per genre: mel spectrogram, spectrogram, MFCC",
        )
        n_classes = len(store.classes)
    else:
        n_classes = None

    written.append(figures / "results_table.png")
    plots.results_table(
        shown,
        title="Genre classification: test-track accuracy, macro F1 and ROC-AUC "
        "[95 % bootstrap interval]",
        out=written[-1],
        note=PROTOCOL_NOTE,
    )
    md = plots.results_markdown(shown, metrics=TABLE_METRICS)
    from .utils import write_text_atomic

    write_text_atomic(figures / "results_table.md", md + "\n")
    write_csv_atomic(table, figures / "results.csv", float_format="%.4f")
    written += [figures / "results_table.md", figures / "results.csv"]
    written.append(figures / "accuracy_intervals.png")
    plots.interval_plot(
        shown.drop_duplicates(["model", "split"]),
        "accuracy",
        chance=1.0 / n_classes if n_classes else None,
        title="Test accuracy: original protocol (frame split) vs ours (song split)",
        out=written[-1],
    )

    nets = table[table["epochs"].notna()].drop_duplicates("source")
    recalls, histories = {}, {}
    for rec in nets.to_dict("records"):
        model_dir = source_path(out, rec["source"])
        if not (model_dir / "predictions" / "test.csv").is_file():
            continue
        histories[f"{rec['model']} ({rec['split']})"] = pd.read_csv(model_dir / "history.csv")
        if rec["split"] == "seed-frame":
            continue
        written.append(figures / f"confusion_{rec['model']}.png")
        plots.confusion_matrix(
            track_confusion(model_dir),
            title=f"{rec['model']}, {rec['protocol']}: test tracks",
            out=written[-1],
        )
        rows, probs, classes = load_predictions(model_dir / "predictions" / "test.csv")
        from .evaluation import track_probabilities

        tracks, tp = track_probabilities(probs, rows["track_id"].to_numpy())
        labels = (
            rows.drop_duplicates("track_id").set_index("track_id").loc[tracks, "label"].to_numpy()
        )
        written.append(figures / f"roc_{rec['model']}.png")
        plots.roc_curves(
            labels,
            tp,
            classes,
            title=f"{rec['model']}: one-vs-rest ROC, test tracks",
            out=written[-1],
        )
        recalls[rec["model"]] = track_recall(model_dir)
    if histories:
        written.append(figures / "training_curves.png")
        plots.training_curves_grid(
            histories, out=written[-1], title="Validation accuracy and loss per epoch"
        )
    if recalls:
        written.append(figures / "per_genre_recall.png")
        plots.per_class_bars(
            pd.DataFrame(recalls),
            "recall",
            out=written[-1],
            title="Per-genre recall on test tracks (song split)",
        )
    echo(f"wrote {len(written)} figures and tables to {figures}")
    return written


def tags_per_part(store, split: str = "official") -> pd.DataFrame:
    """Tracks per tag in each part (train, validation, test) of a split: one row per part."""
    from .training import load_split, targets

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
    """Training frames per tag in the base set and each of the 8 resampled sets
    (:func:`musiclass.resampling.counts_table`) of a split's training part."""
    from . import resampling
    from .training import load_split, targets

    rows = load_split(store, split)
    train = rows[rows["part"] == "train"]
    Y = targets(train["label"], list(store.classes), True).astype(np.int8)
    return resampling.counts_table(Y, resampling.resample_sets(Y, seed=seed), list(store.classes))


def _write_mood_figures(out: Path, figures: Path, table: pd.DataFrame, echo=print) -> list[Path]:
    """Tag frequencies (before and after curation, per split part, per resampled set), tag
    co-occurrence, the results table and per-tag ROC-AUC of the base model."""
    from . import plots
    from .features.store import FeatureStore
    from .utils import write_text_atomic

    written: list[Path] = []

    def add(name: str) -> Path:
        written.append(figures / name)
        return written[-1]

    if (out / "tag_counts_curation.csv").is_file():
        counts = pd.read_csv(out / "tag_counts_curation.csv").set_index("group")
        plots.tag_frequencies(
            counts,
            title="Tracks per tag, before and after curation",
            out=add("tag_frequencies_curation.png"),
        )
    stores = sorted((out / "stores").glob("*/manifest.json"))
    if stores:
        store = FeatureStore(stores[0].parent)
        tags = store.classes
        tracks = store.tracks()
        plots.cooccurrence(
            tracks.label_matrix(),
            tags,
            title="Tag co-occurrence: P(column tag | row tag), tracks",
            out=add("tag_cooccurrence.png"),
        )
        if (store.path / "splits" / "official.csv").is_file():
            plots.tag_frequencies(
                tags_per_part(store),
                title="Tracks per tag in each part of the official split",
                out=add("tag_frequencies_split.png"),
            )
            counts = resampled_counts(store)
            write_csv_atomic(counts.reset_index(), add("resampled_tag_counts.csv"))
            plots.resampled_counts(
                counts,
                title="Training frames per tag in each resampled set (official split)",
                out=add("resampled_tag_counts.png"),
            )
    shown = results_for_display(table)
    plots.results_table(
        shown,
        metrics=MOOD_TABLE_METRICS,
        out=add("results_table.png"),
        title="Mood tagging: test-track ROC-AUC, PR-AUC (macro) and F1 [95 % bootstrap interval]",
        note="original protocol = random split of 29.1 s frames; ours = the official track split; "
        "F1 at per-tag thresholds chosen on validation",
    )
    write_text_atomic(
        add("results_table.md"), plots.results_markdown(shown, metrics=MOOD_TABLE_METRICS) + "\n"
    )
    write_csv_atomic(table, add("results.csv"), float_format="%.4f")
    base = table[(table["split"] == "official") & (table["model"].isin(["base", "mood-cnn"]))]
    if not base.empty:
        metrics = json.loads(
            (source_path(out, base.iloc[0]["source"]) / "metrics.json").read_text()
        )
        per_tag = pd.DataFrame(metrics["test"]["track"]["per_tag"]).T
        plots.per_tag_auc(
            per_tag.astype(float),
            metric="roc_auc",
            out=add("per_tag_roc_auc.png"),
            title=f"Per-tag ROC-AUC on test tracks: {base.iloc[0]['model']} (official split)",
        )
    echo(f"wrote {len(written)} figures and tables to {figures}")
    return written
