"""Whole stages in one call: what the command line and the notebooks run.

:func:`run_demo` is the project's main job on the embedded default (synthetic) data::

    synthesise -> index -> extract -> split -> train and evaluate -> figures   (genre and mood)

Every stage writes named artefacts under one run folder and is skipped when its inputs and
config are unchanged, so running it again is cheap and an interrupted run resumes.
"""

from __future__ import annotations

import json
import logging
import os
import time
import warnings
from pathlib import Path
from typing import Any

from . import splits
from .config import FrontendConfig
from .datasets import gtzan, jamendo
from .datasets.base import TrackIndex
from .errors import ConfigError
from .features.store import FeatureStore
from .utils import write_json_atomic

log = logging.getLogger(__name__)

STAMP = "synth.json"


def default_jobs() -> int:
    """Worker processes to use when not told: the CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


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
    from .datasets import synthetic

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
        stamp = out / name / STAMP
        return stamp.is_file() and json.loads(stamp.read_text()) == params[name]

    todo = [name for name in which if not stamped(name)]
    for name in which:
        if name not in todo:
            log.info("%s: synthetic %s already written, skipping", out / name, name)
    for name in todo:
        (out / name / STAMP).unlink(missing_ok=True)
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
            out / name / STAMP, params[name]
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
    path = splits.save(saved, store.path / "splits" / f"{method}.csv")
    summary = splits.summarize(row_parts, frame_index)
    return {
        "file": str(path),
        "tracks": summary["tracks"].to_dict(),
        "frames": summary["frames"].to_dict(),
        "tracks_in_several_parts": len(splits.tracks_in_several_parts(row_parts)),
        "leak": splits.frame_leak(row_parts, frame_index, store.config.frame_seconds),
    }


# ------------------------------------------------------------------------------ the main job
def _split_summaries(study_out: Path) -> dict[str, Any]:
    """The split sizes and measured leaks of a study's stores (``stores/*/splits/summary.json``)."""
    return {
        p.parent.parent.name: json.loads(p.read_text())
        for p in sorted((study_out / "stores").glob("*/splits/summary.json"))
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


#: the figures the README shows, copied into ``images/`` by a published run: (task, file in the
#: task's results folder, name in images/)
README_IMAGES = (
    ("genre", "results_table.png", "genre_results_table.png"),
    ("genre", "accuracy_intervals.png", "genre_accuracy_intervals.png"),
    ("genre", "figure1_representations.png", "figure1_representations.png"),
    ("genre", "confusion_cnn-7-mel.png", "confusion_cnn-7-mel.png"),
    ("mood", "results_table.png", "mood_results_table.png"),
    ("mood", "per_tag_roc_auc.png", "mood_per_tag_roc_auc.png"),
    ("mood", "resampled_tag_counts.png", "mood_resampled_tag_counts.png"),
)


def run_demo(
    out: str | Path = "runs/demo",
    *,
    jobs: int | None = None,
    preset: str = "default",
    clips_per_genre: int = 20,
    mood_tracks: int | None = None,
    seed: int = 0,
    profile: str = "quick",
    figures: str | Path | None = None,
    mood_figures: str | Path | None = None,
    progress: bool = True,
    notebooks: bool = True,
    report: bool = True,
    publish: bool = False,
    echo=print,
) -> dict[str, Any]:
    """The main job on the embedded synthetic default.

    Synthesise both data sets; run the whole genre study (``configs/genre/study.yaml``: experiments 1
    and 2, the FNN and the classical baselines, each under the original frame split and our song
    split) and the mood study (``configs/mood/study.yaml``: the base set, the 8 resampled sets and a
    tag-weighted loss under the original frame split and the official track split, and the MediaEval
    run) in the given ``profile``; then execute the numbered notebooks in order on the same run (every
    model is already trained, so they only evaluate and draw), which writes the figures; build
    ``report.pdf``; print both results tables.

    Writes under ``out``: ``data/``, ``genre/`` and ``mood/`` (study folders, see
    :func:`musiclass.study.run_study`), ``notebooks/`` (the executed notebooks), ``report.pdf`` and
    ``summary.json``. With ``publish=True`` (from a clone) the executed notebooks, with machine paths
    removed and labelled with the run, replace the committed ones; the figures go to the results
    folders, the README's figures to ``images/`` and the report to ``report.pdf`` at the repository root.
    """
    from .plots import results_markdown
    from .study import results_for_display, run_study, table_metrics, write_figures

    out = Path(out)
    jobs = jobs or default_jobs()
    timings: dict[str, float] = {}
    summary: dict[str, Any] = {"preset": preset, "jobs": jobs, "seed": seed, "profile": profile}
    root = None
    if publish:
        from .notebook import RESULT_FOLDERS, repo_root

        root = repo_root()
        if root is None:
            raise ConfigError(
                "--publish writes into a clone of the repository; none found from here"
            )
        figures, mood_figures = root / RESULT_FOLDERS["genre"], root / RESULT_FOLDERS["mood"]

    def stage(name: str):
        echo(f"\n== {name}")
        return time.perf_counter()

    started = time.perf_counter()
    t = stage(
        f"synthesise the default data ({clips_per_genre} clips per genre + mood set) -> {out / 'data'}"
    )
    synthesize(
        out / "data",
        clips_per_genre=clips_per_genre,
        mood_tracks=mood_tracks,
        seed=seed,
        jobs=jobs,
        progress=progress,
    )
    timings["synthesise"] = time.perf_counter() - t

    t = stage(
        f"genre study ({profile} profile): experiments 1 and 2, FNN, classical ML; "
        f"original frame split vs our song split"
    )
    table = run_study(
        study_config(),
        out / "genre",
        profile=profile,
        data_dir=out / "data",
        jobs=jobs,
        preset=preset if preset != "default" else None,
        overrides={"data.clips_per_genre": clips_per_genre, "data.seed": seed},
        progress=progress,
        echo=echo,
    )
    timings["genre_study"] = time.perf_counter() - t
    t = stage(
        f"mood study ({profile} profile): the base set, 8 resampled sets and a tag-weighted loss; "
        f"original frame split vs the official track split"
    )
    mood_table = run_study(
        study_config("mood/study.yaml"),
        out / "mood",
        profile=profile,
        data_dir=out / "data",
        jobs=jobs,
        preset=preset if preset != "default" else None,
        overrides={"data.n_tracks": mood_tracks, "data.seed": seed},
        progress=progress,
        echo=echo,
    )
    timings["mood_study"] = time.perf_counter() - t

    executed: dict[str, list[str]] = {}
    if notebooks:
        from .notebook import run_notebooks

        t = stage(
            "the numbered notebooks, in order, on this run (models already trained: they evaluate and draw)"
        )
        base = root or Path.cwd()
        rel = Path(os.path.relpath(out.resolve(), base.resolve())) if publish else out.resolve()
        for task, fig in (("genre", figures), ("mood", mood_figures)):
            params = {
                "dataset": "synthetic",
                "preset": preset,
                "profile": profile,
                "out": rel.as_posix(),
                "results": (
                    Path(os.path.relpath(Path(fig).resolve(), base.resolve())).as_posix()
                    if publish
                    else str(Path(fig).resolve())
                )
                if fig
                else None,
                "progress": False,
            }
            params.update(
                {"clips_per_genre": clips_per_genre}
                if task == "genre"
                else {"mood_tracks": mood_tracks}
            )
            executed[task] = [
                str(p) for p in run_notebooks(task, params, out / "notebooks" / task, echo=echo)
            ]
        timings["notebooks"] = time.perf_counter() - t
    else:
        t = stage("figures")
        write_figures(out / "genre", figures or out / "genre" / "figures", echo=echo)
        write_figures(out / "mood", mood_figures or out / "mood" / "figures", echo=echo)
        timings["figures"] = time.perf_counter() - t

    report_path = None
    if report:
        from .report import build_report

        write_json_atomic(
            out / "summary.json", {**summary, "seconds": dict(timings)}
        )  # what the report reads

        t = stage("report")
        report_path = build_report(out, out / "report.pdf", echo=echo)
        timings["report"] = time.perf_counter() - t

    summary.update(
        {
            "genre": {
                "results": str(out / "genre" / "results.csv"),
                "rows": len(table),
                "splits": _split_summaries(out / "genre"),
            },
            "mood": {
                "results": str(out / "mood" / "results.csv"),
                "rows": len(mood_table),
                "splits": _split_summaries(out / "mood"),
            },
            "notebooks": executed,
            "report": str(report_path) if report_path else None,
            "seconds": {k: round(v, 2) for k, v in timings.items()},
            "total_seconds": round(time.perf_counter() - started, 1),
        }
    )
    if publish:
        summary["published"] = publish_run(out, root, summary, echo=echo)
    write_json_atomic(out / "summary.json", summary)
    echo("\n== genre results (test tracks; 95 % bootstrap intervals over test tracks)\n")
    echo(results_markdown(results_for_display(table), metrics=table_metrics(table)))
    echo(
        "\n== mood results (test tracks; MediaEval ROC-AUC and PR-AUC, macro; F1 at thresholds chosen on "
        "validation)\n"
    )
    echo(results_markdown(results_for_display(mood_table), metrics=table_metrics(mood_table)))
    echo(
        f"\ndone in {summary['total_seconds']:.0f} s; results in {out / 'genre' / 'results.csv'} and "
        f"{out / 'mood' / 'results.csv'}" + (f"; report {report_path}" if report_path else "")
    )
    return summary


def training_seconds(out: str | Path) -> float:
    """Seconds spent fitting every model of a run (networks and classical baselines), each model
    counted once however many experiments report it, from the studies' ``results.csv``."""
    import pandas as pd

    total = 0.0
    for task in ("genre", "mood"):
        path = Path(out) / task / "results.csv"
        if path.is_file():
            table = pd.read_csv(path)
            total += float(table.drop_duplicates("source")["seconds"].fillna(0).sum())
    return total


def publish_run(
    out: str | Path, root: str | Path, summary: dict[str, Any], *, echo=print
) -> list[str]:
    """Copy a finished run into the repository: the executed notebooks (machine paths removed,
    labelled with the run) over the committed ones, the README's figures into ``images/`` and the
    report to ``report.pdf``. Returns the paths written, relative to ``root``."""
    import shutil

    from .notebook import RESULT_FOLDERS, TASK_FOLDERS, clean_outputs, label_run

    out, root = Path(out), Path(root)
    minutes = training_seconds(out) / 60
    took = f"{minutes:.0f} min" if minutes >= 1 else "under a minute"
    label = (
        f"**These outputs come from a `{summary.get('profile')}` profile run on the embedded SYNTHETIC data** "
        f"(`make run PROFILE={summary.get('profile')}`, {time.strftime('%Y-%m-%d')}; its models trained in "
        f"{took} in all on {summary.get('jobs')} CPU cores). Synthetic genres and tags test the pipeline end "
        f"to end; they are not results on GTZAN or MTG-Jamendo. Set `dataset` to your copy of the real data "
        f"for those."
    )
    written = []
    for task, paths in summary.get("notebooks", {}).items():
        for p in paths:
            target = root / TASK_FOLDERS[task] / "code" / Path(p).name
            shutil.copyfile(p, target)
            clean_outputs(target, root)
            label_run(target, label)
            written.append(target)
    images = root / "images"
    images.mkdir(exist_ok=True)
    for task, name, image in README_IMAGES:
        src = root / RESULT_FOLDERS[task] / name
        if src.is_file():
            shutil.copyfile(src, images / image)
            written.append(images / image)
    if summary.get("report"):
        shutil.copyfile(summary["report"], root / "report.pdf")
        written.append(root / "report.pdf")
    echo(f"published {len(written)} files into {root}")
    return [str(Path(w).relative_to(root)) for w in written]


def frontend_config(
    task: str,
    preset: str = "default",
    config_file: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
) -> FrontendConfig:
    """A preset, then a YAML file's ``frontend:`` section, then ``key=value`` overrides."""
    from .config import frontend_from_mapping, load_yaml

    mapping: dict[str, Any] = {"preset": preset}
    if config_file:
        data = load_yaml(config_file)
        section = data.get("frontend", data)
        if not isinstance(section, dict):
            raise ConfigError(f"{config_file}: 'frontend' must be a mapping")
        task = data.get("task", task)
        mapping.update(section)
    mapping.update(overrides or {})
    return frontend_from_mapping(mapping, task=task)
