"""The project's main job, ``musiclass demo`` (``make run``): both studies, the notebooks, the report.

Both studies run on the embedded synthetic default, then the numbered notebooks and the report,
and with ``publish=True`` the committed outputs of the repository are written::

    synthesise -> index -> extract -> split -> train and evaluate -> figures   (genre and mood)
    -> notebooks -> report.pdf -> (publish)

Every stage writes named artefacts under one run folder (:class:`musiclass.layout.RunFolder`) and
is skipped when its inputs and config are unchanged, so running it again is cheap and an
interrupted run resumes.
"""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from . import locks
from .errors import ConfigError
from .figures import write_figures
from .layout import RESULT_FOLDERS, RunFolder, SplitFolder, StudyFolder, repo_root, study_config
from .pipeline import synthesize
from .plots import leak_markdown, results_markdown, seed_markdown
from .publish import publish_run, run_notebooks
from .registry import leak_table, results_for_display, seed_table, table_metrics
from .report import build_report
from .study import PROFILES, run_study
from .training.config import RESAMPLED_SETS
from .utils import default_jobs, write_json_atomic


def _split_summaries(study_out: Path) -> dict[str, Any]:
    """The split sizes and measured leaks of a study's stores (``stores/*/splits/summary.json``)."""
    summaries = (
        SplitFolder(p).summary for p in sorted(StudyFolder(study_out).stores_dir.glob("*"))
    )
    return {p.parent.parent.name: json.loads(p.read_text()) for p in summaries if p.is_file()}


@locks.writes("out")  # one writer per run folder
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
    reuse=(),
) -> dict[str, Any]:
    """Run the main job on the embedded synthetic default.

    Synthesise both data sets; run the whole genre study (``configs/genre/study.yaml``: experiments 1
    and 2, the FNN and the classical baselines, each under the original frame split and our
    artist-disjoint split, experiment 2 also under the song split, and the classifiers on
    pretrained musicnn embeddings) and the mood study (``configs/mood/study.yaml``: the base set,
    the 8 resampled sets and a tag-weighted loss under the original frame split and the official
    track split, the MediaEval run and a linear probe on the embeddings) in the given
    ``profile``; then execute the numbered notebooks in order on the same run (every
    model is already trained, so they only evaluate and draw), which writes the figures; build
    ``report.pdf``; print both results tables.

    Writes under ``out``: ``data/``, ``genre/`` and ``mood/`` (study folders, see
    :func:`musiclass.study.run_study`), ``notebooks/`` (the executed notebooks), ``report.pdf`` and
    ``summary.json``. With ``publish=True`` (from a clone) the executed notebooks, with machine paths
    removed and labelled with the run, replace the committed ones; the figures go to the results
    folders, the README's figures to ``images/`` and the report to ``report.pdf`` at the repository root.

    Parameters
    ----------
    out : str or pathlib.Path, default="runs/demo"
        The run folder.
    jobs : int, optional
        Worker processes (default: :func:`musiclass.utils.default_jobs`).
    preset : str, default="default"
        The frontend and training preset of both studies and the notebooks.
    clips_per_genre : int, default=20
        Clips per genre of the synthetic GTZAN-shaped set.
    mood_tracks : int, optional
        Tracks of the synthetic MTG-Jamendo-shaped set (default: the generator's,
        :data:`musiclass.datasets.synthetic.DEFAULT_N_TRACKS`).
    seed : int, default=0
        Seed of the synthetic data.
    profile : {"quick", "full", "tiny"}, default="quick"
        The study profile (:data:`musiclass.study.PROFILES`).
    figures : str or pathlib.Path, optional
        Where the genre figures go (default: ``genre/figures/`` in the run folder); with
        ``publish=True``, the repository's genre results folder.
    mood_figures : str or pathlib.Path, optional
        The same for the mood figures.
    progress : bool, default=True
        Whether to show progress bars.
    notebooks : bool, default=True
        Whether to execute the notebooks (they draw the figures); without them the figures are drawn
        directly (:func:`musiclass.figures.write_figures`).
    report : bool, default=True
        Whether to build ``report.pdf`` (:func:`musiclass.report.build_report`).
    publish : bool, default=False
        Whether to copy the run into the repository (:func:`musiclass.publish.publish_run`).
    echo : callable, default=print
        Called with each line of progress and the results tables.
    reuse : sequence of str or pathlib.Path, default=()
        Feature stores already made (``--store``): one of a study's frontend config and tracks is
        used instead of extracting it again (see :func:`musiclass.study.run_study`).

    Returns
    -------
    dict
        The run's summary, also written to ``summary.json``: the settings (``preset``, ``jobs``,
        ``seed``, ``profile``), per task its ``results`` file, ``rows`` and ``splits`` summaries,
        ``notebooks`` (task to executed notebooks), ``report``, ``seconds`` per stage,
        ``total_seconds`` and, when published, ``published`` (the paths written).

    Raises
    ------
    musiclass.errors.ConfigError
        With ``publish=True`` outside a clone of the repository; or from the studies
        (:func:`musiclass.study.run_study`).
    """
    out = Path(out)
    run = RunFolder(out)
    jobs = jobs or default_jobs()
    timings: dict[str, float] = {}
    summary: dict[str, Any] = {"preset": preset, "jobs": jobs, "seed": seed, "profile": profile}
    root = None
    if publish:
        root = repo_root()
        if root is None:
            raise ConfigError(
                "--publish writes into a clone of the repository; none found from here"
            )
        figures, mood_figures = root / RESULT_FOLDERS["genre"], root / RESULT_FOLDERS["mood"]

    def stage(name: str):  # a closure, not API; numpydoc ignore=GL08
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
        f"genre study ({profile} profile): experiments 1 and 2, FNN, classical ML, transfer learning; "
        f"original frame split vs our artist and song splits"
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
        reuse=reuse,
    )
    timings["genre_study"] = time.perf_counter() - t
    t = stage(
        f"mood study ({profile} profile): the base set, {_resampled_sets(profile)}, a tag-weighted "
        "loss, a linear probe; "
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
        reuse=reuse,
    )
    timings["mood_study"] = time.perf_counter() - t

    executed: dict[str, list[str]] = {}
    if notebooks:
        t = stage(
            "the numbered notebooks, in order, on this run (models already trained: they evaluate and draw)"
        )
        base = root or Path.cwd()
        rel = Path(os.path.relpath(out.resolve(), base.resolve())) if publish else out.resolve()
        chains = {}
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
            chains[task] = params
        # the genre and the mood chains side by side (each in order): a notebook is mostly one
        # kernel starting and importing, single-threaded (measured: 194 s one after the other)
        with ThreadPoolExecutor(max_workers=2 if jobs > 1 else 1) as pool:
            running = {
                task: pool.submit(run_notebooks, task, params, out / "notebooks" / task, echo=echo)
                for task, params in chains.items()
            }
            for task, future in running.items():
                executed[task] = [str(p) for p in future.result()]
        timings["notebooks"] = time.perf_counter() - t
    else:
        t = stage("figures")
        write_figures(out / "genre", figures or out / "genre" / "figures", echo=echo)
        write_figures(out / "mood", mood_figures or out / "mood" / "figures", echo=echo)
        timings["figures"] = time.perf_counter() - t

    report_path = None
    if report:
        # what the report reads
        write_json_atomic(run.summary, {**summary, "seconds": dict(timings)})

        t = stage("report")
        report_path = build_report(out, run.report, echo=echo)
        timings["report"] = time.perf_counter() - t

    summary.update(
        {
            "genre": {
                "results": str(run.study("genre").results),
                "rows": len(table),
                "splits": _split_summaries(run.study("genre").path),
            },
            "mood": {
                "results": str(run.study("mood").results),
                "rows": len(mood_table),
                "splits": _split_summaries(run.study("mood").path),
            },
            "notebooks": executed,
            "report": str(report_path) if report_path else None,
            "seconds": {k: round(v, 2) for k, v in timings.items()},
            "total_seconds": round(time.perf_counter() - started, 1),
        }
    )
    if publish:
        summary["published"] = publish_run(out, root, summary, echo=echo)
    write_json_atomic(run.summary, summary)
    echo("\n== genre results (test tracks; 95 % bootstrap intervals over test tracks)\n")
    echo(results_markdown(results_for_display(table), metrics=table_metrics(table)))
    leaks = leak_table(table, out / "genre")
    if not leaks.empty:
        echo(
            "\n== both leaks per network (track accuracy; 95 % intervals, each test set "
            "resampled on its own: the splits test different tracks)\n"
        )
        echo(leak_markdown(leaks))
    seeds, verdict = seed_table(table)
    if not seeds.empty:
        echo(
            "\n== training seeds (the networks trained with several; test-sampling interval of the first)\n"
        )
        echo(seed_markdown(seeds, verdict))
    echo(
        "\n== mood results (test tracks; MediaEval ROC-AUC and PR-AUC, macro; F1 at thresholds chosen on "
        "validation)\n"
    )
    echo(results_markdown(results_for_display(mood_table), metrics=table_metrics(mood_table)))
    echo(
        f"\ndone in {summary['total_seconds']:.0f} s; results in {run.study('genre').results} and "
        f"{run.study('mood').results}" + (f"; report {report_path}" if report_path else "")
    )
    return summary


def _resampled_sets(profile: str) -> str:
    """How many of the 8 resampled mood training sets ``profile`` trains, in words."""
    skipped = set(PROFILES[profile].get("skip_runs", ()))
    kept = [name for name in RESAMPLED_SETS if name != "base" and name not in skipped]
    return "the 8 resampled sets" if len(kept) == 8 else f"{len(kept)} of the 8 resampled sets"
