"""The ``musiclass`` command line: one sub-command per stage, plus ``demo`` for the whole job.

Exit status: 0 success; 1 an error (printed as ``error: ...``); 2 bad usage; 3 the stage finished
but some tracks failed (they are listed, and written to the store's ``failures.csv``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from pathlib import Path

from . import __version__, evaluation, interrupts, locks
from .config import frontend_config, load_yaml
from .datasets import jamendo
from .datasets.base import FILE_PROBLEMS, TrackIndex, labels_to_matrix
from .demo import run_demo
from .errors import ConfigError, DatasetError, MetadataError, MusiclassError
from .evaluation import NO_TEST_TRACKS
from .features.extract import extract
from .features.store import FeatureStore
from .figures import write_figures
from .layout import ClassicalFiles, IndexFiles, ModelDir, SplitFolder, StoreFiles
from .models import classical
from .pipeline import index_gtzan, index_jamendo, make_splits, synthesize
from .plots import results_markdown
from .predict import predict
from .pretrained import catalog as pretrained_catalog
from .pretrained import weights
from .registry import results_for_display, table_metrics
from .report import build_report
from .splits import check_fractions
from .study import load_study, run_study
from .training import load_predictions, train, train_audio, train_preset
from .utils import check_writable_folder, default_jobs, read_json_object

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3


def _parse_value(text: str, key: str = "?"):
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"--set {key}={text}: the value is not valid YAML ({problem})") from None


def _overrides(pairs: list[str] | None) -> dict:
    out = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise ConfigError(f"--set expects key=value, got {pair!r}")
        key, value = pair.split("=", 1)
        out[key.strip()] = _parse_value(value, key.strip())
    return out


# ---------------------------------------------------------------------------- commands
def cmd_synth(args) -> int:
    """Run ``musiclass synth``: write the synthetic data sets and print where they went.

    Parameters
    ----------
    args : argparse.Namespace
        The sub-command's parsed options (see :func:`build_parser`).

    Returns
    -------
    int
        ``EXIT_OK``.

    Raises
    ------
    musiclass.errors.MusiclassError
        For any error of the stage; :func:`main` prints it and exits with ``EXIT_ERROR``.
    """
    which = {"all": ("gtzan", "mtg-jamendo"), "gtzan": ("gtzan",), "mood": ("mtg-jamendo",)}[
        args.only
    ]
    paths = synthesize(
        args.out,
        clips_per_genre=args.clips_per_genre,
        mood_tracks=args.mood_tracks,
        seed=args.seed,
        jobs=args.jobs,
        progress=not args.quiet,
        which=which,
    )
    for name, path in paths.items():
        print(f"{name}: {path}")
    return EXIT_OK


def cmd_index(args) -> int:
    """Run ``musiclass index``: index a GTZAN tree or MTG-Jamendo's metadata and print the problems found.

    Parameters
    ----------
    args : argparse.Namespace
        The sub-command's parsed options (see :func:`build_parser`).

    Returns
    -------
    int
        ``EXIT_OK`` (problems found while indexing are listed, not failures), or ``EXIT_PARTIAL``
        when more than ``--max-missing`` of the files the metadata names (MTG-Jamendo, or GTZAN
        with ``--expect-full``) are missing (see :func:`index_outcome`).

    Raises
    ------
    musiclass.errors.MusiclassError
        For any error of the stage, and when no track at all was indexed (the index is still
        written, with its problems.csv); :func:`main` prints it and exits with ``EXIT_ERROR``.
    """
    out = Path(args.out)
    if not 0 <= args.max_missing <= 1:
        raise ConfigError(f"--max-missing must be a share between 0 and 1, not {args.max_missing}")
    if args.dataset == "gtzan":
        idx = index_gtzan(
            args.root,
            out,
            check=args.check or "header",
            expect_full=args.expect_full,
            min_duration=args.min_duration,
            allow_outside_links=args.allow_outside_links,
            progress=not args.quiet,
        )
    else:
        idx = index_jamendo(
            args.root,
            out,
            metadata=args.metadata,
            curation=args.curation,
            check=args.check or "exists",
            split=args.split,
            allow_outside_links=args.allow_outside_links,
            progress=not args.quiet,
        )
    identical = int((idx.problems["problem"] == "identical").sum()) if len(idx.problems) else 0
    note = (
        f" ({identical} exact duplicate audio file(s), kept: see problems.csv)" if identical else ""
    )
    print(f"{len(idx)} tracks, {len(idx.classes)} classes -> {out}{note}")
    if len(idx.problems):
        counts = idx.problems["problem"].value_counts().to_dict()
        print(f"{len(idx.problems)} problem(s) {counts}, listed in {out / 'problems.csv'}:")
        for _, rows in idx.problems.groupby("problem", sort=False):  # a few of each kind
            for row in rows.head(3).itertuples():
                print(f"  {row.problem:8s} {row.path}: {row.reason}")
    return index_outcome(idx, args.root, out, args.max_missing)


def index_outcome(idx: TrackIndex, root, out: Path, max_missing: float) -> int:
    """The exit status of ``musiclass index``: empty and near-empty inputs are not a success.

    Parameters
    ----------
    idx : musiclass.datasets.base.TrackIndex
        The index just written.
    root : str or pathlib.Path
        The dataset root it was built from (named in the messages).
    out : pathlib.Path
        The index folder (its ``problems.csv`` lists why entries were left out).
    max_missing : float
        The largest share of the listed entries that may be ``missing`` (0 .. 1).

    Returns
    -------
    int
        ``EXIT_OK``, or ``EXIT_PARTIAL`` (a warning printed to stderr, with the counts) when more
        than ``max_missing`` of the audio files listed (the tracks indexed and those left out for
        a problem of their file, :data:`~musiclass.datasets.base.FILE_PROBLEMS`) are missing.

    Raises
    ------
    musiclass.errors.DatasetError
        When the index holds no track at all, with the counts of what was found instead.
    """
    problems = idx.problems
    files = problems[problems["problem"].isin(FILE_PROBLEMS)] if len(problems) else problems
    listed = len(idx) + (int(files["track_id"].nunique()) if len(files) else 0)
    missing = int((files["problem"] == "missing").sum()) if len(files) else 0
    if len(idx) == 0:
        counts = problems["problem"].value_counts().to_dict() if len(problems) else {}
        found = f"every entry left out {counts}" if counts else "no audio file found"
        raise DatasetError(
            f"{root}: no track indexed: {found} (see {out / IndexFiles.PROBLEMS}); "
            "is this the right root?"
        )
    if listed and missing / listed > max_missing:
        print(
            f"warning: {missing} of the {listed} files listed are missing ({missing / listed:.1%}, "
            f"more than --max-missing {max_missing:.0%}); only {len(idx)} tracks indexed: "
            f"is {root} the right root, or the download incomplete?",
            file=sys.stderr,
        )
        return EXIT_PARTIAL
    return EXIT_OK


def cmd_extract(args) -> int:
    """Run ``musiclass extract``: compute the feature store of a track index.

    Parameters
    ----------
    args : argparse.Namespace
        The sub-command's parsed options (see :func:`build_parser`).

    Returns
    -------
    int
        ``EXIT_OK``, or ``EXIT_PARTIAL`` when some tracks failed (they are in the store's ``failures.csv``).

    Raises
    ------
    musiclass.errors.ConfigError
        For a bad ``--set``, or ``--jobs`` given with ``--scheduler`` or ``--cluster``.
    musiclass.errors.MusiclassError
        For any error of the stage; :func:`main` prints it and exits with ``EXIT_ERROR``.
    """
    overrides = _overrides(args.set)  # bad usage first, before any file is read
    dask = args.scheduler or args.cluster
    if dask and args.jobs:
        raise ConfigError(
            "--jobs sets local worker processes; with --scheduler or --cluster the Dask workers "
            "do the work (--cluster local:N: N of them), so leave --jobs out"
        )
    # every value is checked before any file is read (the task's preset may differ: checked again)
    frontend_config(args.task or "genre", args.preset, args.config, overrides)
    idx = TrackIndex.load(args.index)
    if len(idx) == 0:
        raise MetadataError(
            Path(args.index) / IndexFiles.TRACKS,
            f"0 tracks to extract ({len(idx.problems)} problem(s) listed in "
            f"{Path(args.index) / IndexFiles.PROBLEMS})",
        )
    task = args.task or ("mood" if idx.multilabel else "genre")
    config = frontend_config(task, args.preset, args.config, overrides)
    report = extract(
        idx,
        config,
        args.out,
        jobs=1 if dask else (args.jobs or _jobs()),
        progress=not args.quiet,
        force=args.force,
        scheduler=args.scheduler,
        cluster=args.cluster,
    )
    print(report.summary())
    return EXIT_PARTIAL if report.failed else EXIT_OK


def cmd_split(args) -> int:
    """Run ``musiclass split``: make one split of a feature store and print its sizes and leak.

    Parameters
    ----------
    args : argparse.Namespace
        The sub-command's parsed options (see :func:`build_parser`).

    Returns
    -------
    int
        ``EXIT_OK``.

    Raises
    ------
    musiclass.errors.ConfigError
        For ``--method official`` without ``--splits-dir``.
    musiclass.errors.MusiclassError
        For any error of the stage; :func:`main` prints it and exits with ``EXIT_ERROR``.
    """
    fractions = check_fractions(args.fractions, every_part=True)  # bad usage first
    store = FeatureStore(args.store)
    if not store.manifest.get("n_tracks", 1) or not store.manifest.get("n_rows", 1):
        raise MetadataError(
            Path(args.store) / StoreFiles.MANIFEST,
            f"the store holds 0 tracks ({store.manifest.get('n_failed', 0)} failed): nothing "
            "to split (extract some tracks first)",
        )
    official = (
        {"splits_dir": args.splits_dir, "split": args.official_split} if args.splits_dir else None
    )
    if args.method == "official" and official is None:
        raise ConfigError(
            "--method official needs --splits-dir (the folder holding split-0 ... split-4)"
        )
    res = make_splits(store, (args.method,), seed=args.seed, fractions=fractions, official=official)
    r = res[args.method]
    print(f"{args.method} split -> {r['file']}")
    print(f"tracks per part: {r['tracks']}; frames per part: {r['frames']}")
    print(f"tracks with frames in several parts: {r['tracks_in_several_parts']}")
    print("leak: " + ", ".join(f"{k} {v:.3g}" for k, v in r["leak"].items()))
    for note in r["notes"]:
        print(f"note: {note}")
    return EXIT_OK


def cmd_info(args) -> int:
    """Run ``musiclass info``: describe a feature store (or print its manifest with ``--json``).

    Parameters
    ----------
    args : argparse.Namespace
        The sub-command's parsed options (see :func:`build_parser`).

    Returns
    -------
    int
        ``EXIT_OK``.

    Raises
    ------
    musiclass.errors.MusiclassError
        For any error of the stage; :func:`main` prints it and exits with ``EXIT_ERROR``.
    """
    store = FeatureStore(args.store)
    if args.json:
        print(json.dumps(store.manifest, indent=2))
    else:
        print(store.summary())
    return EXIT_OK


def cmd_report(args) -> int:
    """Run ``musiclass report``: write ``report.pdf`` from a run folder's results.

    Parameters
    ----------
    args : argparse.Namespace
        The sub-command's parsed options (see :func:`build_parser`).

    Returns
    -------
    int
        ``EXIT_OK``.

    Raises
    ------
    musiclass.errors.MusiclassError
        For any error of the stage; :func:`main` prints it and exits with ``EXIT_ERROR``.
    """
    out = Path(args.out) if args.out else Path(args.run_dir) / "report.pdf"
    build_report(args.run_dir, out)
    return EXIT_OK


def cmd_demo(args) -> int:
    """Run ``musiclass demo``: the main job (:func:`musiclass.demo.run_demo`).

    Parameters
    ----------
    args : argparse.Namespace
        The sub-command's parsed options (see :func:`build_parser`).

    Returns
    -------
    int
        ``EXIT_OK``.

    Raises
    ------
    musiclass.errors.MusiclassError
        For any error of the stage; :func:`main` prints it and exits with ``EXIT_ERROR``.
    """
    run_demo(
        args.out,
        jobs=args.jobs,
        preset=args.preset,
        clips_per_genre=args.clips_per_genre,
        mood_tracks=args.mood_tracks,
        seed=args.seed,
        profile=args.profile,
        figures=args.figures,
        mood_figures=args.mood_figures,
        progress=not args.quiet,
        notebooks=args.notebooks,
        report=args.report,
        publish=args.publish,
        reuse=args.store or (),
    )
    return EXIT_OK


def cmd_train(args) -> int:
    """Run ``musiclass train``: train one network on a split and print its test evaluation.

    From a feature store, or with ``--from-audio`` from a track index (features computed inside
    the network).

    Parameters
    ----------
    args : argparse.Namespace
        The sub-command's parsed options (see :func:`build_parser`).

    Returns
    -------
    int
        ``EXIT_OK``.

    Raises
    ------
    musiclass.errors.ConfigError
        For ``--split official`` without ``--splits-dir``, or a bad config or ``--set``.
    musiclass.errors.MusiclassError
        For any error of the stage; :func:`main` prints it and exits with ``EXIT_ERROR``.
    """
    values = {}
    if args.config:
        data = load_yaml(args.config)
        values.update(data.get("train", data))
    values.update(
        {
            k: v
            for k, v in (
                ("model", args.model),
                ("representation", args.representation),
                ("epochs", args.epochs),
                ("batch_size", args.batch_size),
                ("seed", args.seed),
            )
            if v is not None
        }
    )
    values.update(_execution_options(args))
    if getattr(args, "cache", None):
        values["cache"] = args.cache
    values.update(_overrides(args.set))
    preset = values.pop("preset", args.preset)
    config = train_preset(preset, **values)
    if args.from_audio:
        idx = TrackIndex.load(args.store)
        task = "mood" if idx.multilabel else "genre"
        frontend = frontend_config(task, args.frontend_preset or preset, args.frontend_config)
        split = args.split
        if split == "official":
            if not args.splits_dir:
                raise ConfigError(
                    "--split official needs --splits-dir (the folder holding split-0 ... split-4)"
                )
            split = jamendo.split_assignment(args.splits_dir, args.official_split)
        result = train_audio(
            idx,
            split,
            frontend,
            config,
            args.out,
            workers=args.workers,
            progress=not args.quiet,
            n_boot=args.n_boot,
            split_name=f"official split {args.official_split}"
            if args.split == "official"
            else None,
        )
    else:
        result = train(
            args.store, args.split, config, args.out, progress=not args.quiet, n_boot=args.n_boot
        )
    _print_evaluation(
        result.metrics["test"], f"{config.model} on {config.representation}, {args.split} split"
    )
    print(
        f"\nmodel directory: {result.model_dir} ({result.metrics['epochs_run']} epochs, "
        f"{result.seconds:.0f} s; selected epoch {result.metrics['selected']['epoch']} on "
        f"{result.metrics['selected']['monitor']})"
    )
    return EXIT_OK


def _execution_options(args) -> dict:
    """``--strategy``, ``--precision`` and ``--xla``/``--no-xla`` as TrainConfig values (given ones only)."""
    return {
        k: v
        for k, v in (("strategy", args.strategy), ("precision", args.precision), ("xla", args.xla))
        if v is not None
    }


def _add_execution_options(sp) -> None:
    """Add the ``devices`` options (``--strategy``, ``--precision``, ``--xla``) to a sub-command."""
    g = sp.add_argument_group(
        "devices", "how training runs (also settable as train.strategy / precision / xla)"
    )
    g.add_argument(
        "--strategy",
        choices=("default", "mirrored"),
        help="mirrored: tf.distribute.MirroredStrategy over every GPU (batch-size is the global batch, "
        "split across them)",
    )
    g.add_argument(
        "--precision",
        choices=("float32", "mixed_float16", "mixed_bfloat16"),
        help="mixed_float16 on GPUs with tensor cores (default float32)",
    )
    g.add_argument(
        "--xla",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="XLA-compile the train step (default: Keras' choice, on for one GPU)",
    )


def _print_evaluation(ev: dict, title: str) -> None:
    if "accuracy" not in ev.get("track", {}):  # a tagging model: the MediaEval metrics
        m, ci = ev["track"], ev["track"].get("intervals", {})
        print(f"\n{title}: {ev.get('n_tracks', '?')} test tracks")
        for name in ("roc_auc_macro", "pr_auc_macro", "roc_auc_micro", "pr_auc_micro"):
            if name in m:
                print(f"  track  {name:14s} {_ci(m[name], ci.get(name, (None, None)))}")
        return
    print(f"\n{title}: {ev['n_tracks']} test tracks, {ev['n_frames']} frames")
    for level in ("track", "frame"):
        m, ci = ev[level], ev[level]["intervals"]
        print(
            f"  {level:5s}  accuracy {_ci(m['accuracy'], ci['accuracy'])}"
            f"  macro F1 {_ci(m['f1_macro'], ci['f1_macro'])}"
            f"  ROC-AUC {_ci(m['roc_auc_ovr_macro'], ci['roc_auc'])}"
        )
    per = ev["track"]["per_class"]
    print(
        "  per-class recall (tracks): "
        + ", ".join(
            f"{c} {NO_TEST_TRACKS if not v.get('support') else format(v['recall'], '.2f')}"
            for c, v in per.items()
        )
    )


def _ci(value, interval) -> str:
    if value is None:
        return "n/a"
    lo, hi = interval
    return f"{value:.3f}" + (f" [{lo:.3f}, {hi:.3f}]" if lo is not None and hi is not None else "")


def _evaluate_matrices(args) -> int:
    """``musiclass evaluate --truth Y.npy --pred P.npy``: re-score a published run's matrices."""

    if not (args.truth and args.pred):
        raise ConfigError("give both --truth and --pred (.npy matrices: n x tags, truth 0/1)")
    tags = args.tags.split(",") if args.tags else None
    result = evaluation.tagging_metrics_to_json(
        evaluation.score_matrices(
            args.truth, args.pred, tags, n_boot=args.n_boot, seed=args.seed or 0
        )
    )
    if args.json:
        print(json.dumps(result, indent=2, default=str))
        return EXIT_OK
    print(f"{args.pred} against {args.truth}: {result.get('n')} rows, {result.get('n_tags')} tags")
    for m in ("roc_auc_macro", "pr_auc_macro", "roc_auc_micro", "pr_auc_micro"):
        print(
            f"  {m:14s} {_ci(result.get(m), (result.get('intervals') or {}).get(m, (None, None)))}"
        )
    for note in result.get("notes", []):
        print(f"note: {note}")
    return EXIT_OK


def _evaluate_tagging_model(args) -> int:
    """A multi-label model directory: MediaEval metrics with its validation thresholds."""

    model_dir = Path(args.model_dir)
    path = model_dir / "predictions" / f"{args.part}.csv"
    rows, probs, tags = load_predictions(path)
    Y = labels_to_matrix(rows["label"], tags)
    thr_path = ModelDir(model_dir).thresholds
    thresholds = None
    if thr_path.is_file():
        chosen = read_json_object(thr_path).get("thresholds")
        if not isinstance(chosen, dict) or any(t not in chosen for t in tags):
            raise MetadataError(thr_path, "lacks a 'thresholds' object with every tag")
        thresholds = [chosen[t] for t in tags]
    seed = args.seed if args.seed is not None else _training_seed(model_dir)
    ev = evaluation.evaluate_tags(
        probs,
        Y,
        rows["track_id"].to_numpy(),
        tags,
        thresholds=thresholds,
        n_boot=args.n_boot,
        seed=seed,
    )
    result = {"model_dir": str(model_dir), "part": args.part, **ev.to_dict()}
    if args.compare:
        result["comparison"] = _compare_taggers(args, ev, tags, seed)
    if args.json:
        print(json.dumps(result, indent=2, default=str))
        return EXIT_OK
    print(
        f"{model_dir} ({args.part}): {ev.n_tracks} tracks, {ev.n_frames} frames, {len(tags)} tags"
    )
    for level in ("track", "frame"):
        m = result[level]
        ci = m.get("intervals", {})
        print(
            f"  {level:5s}  ROC-AUC macro {_ci(m.get('roc_auc_macro'), ci.get('roc_auc_macro', (None, None)))}"
            f"  PR-AUC macro {_ci(m.get('pr_auc_macro'), ci.get('pr_auc_macro', (None, None)))}"
            f"  F1 macro {_ci(m.get('f1_macro'), ci.get('f1_macro', (None, None)))}"
        )
    print(ev.per_tag().to_string(float_format=lambda v: f"{v:.3f}"))
    if args.compare:
        c = result["comparison"]
        print(f"\npaired comparison on {c['shared_tracks']} shared tracks: {c['verdict']}")
    return EXIT_OK


def _compare_taggers(args, ev, tags, seed) -> dict:
    """``evaluate --compare`` of two tagging models: a paired bootstrap on their shared tracks."""
    import pandas as pd

    other = Path(args.compare)
    path = other / "predictions" / f"{args.part}.csv"
    if not path.is_file():
        raise ConfigError(f"{path}: no predictions (is {other} a finished model directory?)")
    rows_b, probs_b, tags_b = load_predictions(path)
    if tuple(tags_b) != tuple(tags):
        raise ConfigError(f"{other}: different tags, cannot compare")
    tracks_b, tp_b = evaluation.track_probabilities(probs_b, rows_b["track_id"].to_numpy())
    a = pd.DataFrame(ev.track_probs, index=ev.tracks)
    b = pd.DataFrame(tp_b, index=tracks_b)
    common = a.index.intersection(b.index)
    if len(common) == 0:
        raise ConfigError(
            "the two models share no test track: they were tested on different splits"
        )
    truth = pd.DataFrame(ev.track_truth, index=ev.tracks).loc[common].to_numpy()
    c = evaluation.paired_tag_comparison(
        truth,
        a.loc[common].to_numpy(),
        b.loc[common].to_numpy(),
        n_boot=max(int(args.n_boot), 1),
        seed=seed,
        names=(str(args.model_dir), str(args.compare)),
    )
    c["shared_tracks"] = int(len(common))
    return c


def _split_of(model_dir) -> str:
    """``split 'song' of store st``, from a model directory's ``train.json`` (for messages)."""
    path = ModelDir(model_dir).train
    try:
        info = read_json_object(path)
    except MusiclassError:
        return "an unknown split"
    return f"split {info.get('split', '?')!r} of store {info.get('store', '?')}"


def _training_seed(model_dir, default: int | None = None) -> int:
    """The seed a model directory was trained with (``train.json``), checked; ``default`` if absent."""
    path = ModelDir(model_dir).train
    if default is not None and not path.is_file():
        return default
    seed = (read_json_object(path).get("config") or {}).get("seed")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise MetadataError(
            path, "lacks an integer config.seed (not written by `musiclass train`?)"
        )
    return seed


def cmd_evaluate(args) -> int:
    """Run ``musiclass evaluate``: score a model directory's predictions, or re-score matrices.

    A tagging model gets the MediaEval metrics at its validation thresholds; a genre model its
    track and frame metrics, its confusion matrix and, with ``--compare``, a paired comparison with
    another model on their shared test tracks.

    Parameters
    ----------
    args : argparse.Namespace
        The sub-command's parsed options (see :func:`build_parser`).

    Returns
    -------
    int
        ``EXIT_OK``.

    Raises
    ------
    musiclass.errors.ConfigError
        Without a model directory or matrices, for a finished model without predictions of the
        part, labels outside the model's classes, or a ``--compare`` that is not possible.
    musiclass.errors.MusiclassError
        For any error of the stage; :func:`main` prints it and exits with ``EXIT_ERROR``.
    """
    import pandas as pd

    if args.truth or args.pred:
        return _evaluate_matrices(args)
    if not args.model_dir:
        raise ConfigError("give a model directory, or --truth and --pred matrices")
    labels_json = ModelDir(args.model_dir).labels
    if labels_json.is_file() and read_json_object(labels_json).get("multilabel"):
        return _evaluate_tagging_model(args)

    def load(model_dir):  # a closure, not API; numpydoc ignore=GL08
        path = Path(model_dir) / "predictions" / f"{args.part}.csv"
        if not path.is_file():
            raise ConfigError(
                f"{path}: no predictions (is {model_dir} a finished model directory?)"
            )
        rows, probs, classes = load_predictions(path)
        lookup = {c: i for i, c in enumerate(classes)}
        y = rows["label"].map(lookup)
        if y.isna().any():
            raise ConfigError(f"{path}: labels outside the model's classes")
        return rows, probs, classes, y.to_numpy()

    rows, probs, classes, y = load(args.model_dir)
    if args.seed is None:  # the training seed, so the intervals are the ones training reported
        args.seed = _training_seed(args.model_dir, default=0)
    ev = evaluation.evaluate(
        probs, y, rows["track_id"].to_numpy(), classes, n_boot=args.n_boot, seed=args.seed
    )
    result = {"model_dir": str(args.model_dir), "part": args.part, **ev.to_dict()}
    if args.compare:
        rows_b, probs_b, classes_b, y_b = load(args.compare)
        if classes_b != classes:
            raise ConfigError(f"{args.compare}: different classes, cannot compare")
        ev_b = evaluation.evaluate(probs_b, y_b, rows_b["track_id"].to_numpy(), classes, n_boot=0)
        a = pd.DataFrame(ev.track_probs, index=ev.tracks)
        b = pd.DataFrame(ev_b.track_probs, index=ev_b.tracks)
        common = a.index.intersection(b.index)
        if set(a.index) != set(b.index):
            raise ConfigError(
                f"cannot compare: the two models were tested on different tracks "
                f"({len(a.index)} and {len(b.index)}, {len(common)} shared): "
                f"{args.model_dir} on {_split_of(args.model_dir)}, "
                f"{args.compare} on {_split_of(args.compare)}; "
                "a paired comparison needs the same test set (train both on one split)"
            )
        labels = pd.Series(ev.track_labels, index=ev.tracks).loc[common].to_numpy()
        result["comparison"] = evaluation.paired_comparison(
            labels,
            a.loc[common].to_numpy(),
            b.loc[common].to_numpy(),
            n_boot=args.n_boot,
            seed=args.seed,
            names=(str(args.model_dir), str(args.compare)),
        )
        result["comparison"]["shared_tracks"] = int(len(common))
    if args.json:
        print(json.dumps(result, indent=2, default=str))
        return EXIT_OK
    _print_evaluation(result, f"{args.model_dir} ({args.part})")
    print("\nconfusion matrix (tracks; rows true, columns predicted):")
    print(ev.track["confusion"].to_string())
    if args.compare:
        c = result["comparison"]
        print(f"\npaired comparison on {c['shared_tracks']} shared tracks: {c['verdict']}")
    return EXIT_OK


def cmd_predict(args) -> int:
    """``musiclass predict MODEL_DIR PATH...``: the readable table (or CSV / JSON) of each file's prediction.

    With ``--format csv`` or ``json`` stdout holds the data and the notes and failures go to
    stderr.

    Parameters
    ----------
    args : argparse.Namespace
        The sub-command's parsed options (see :func:`build_parser`).

    Returns
    -------
    int
        ``EXIT_OK``, or ``EXIT_PARTIAL`` when some files gave no prediction.

    Raises
    ------
    musiclass.errors.ConfigError
        For ``--top-k`` below 1 or an ``--out`` not ending in ``.csv`` or ``.json``.
    musiclass.errors.MusiclassError
        For any error of the stage; :func:`main` prints it and exits with ``EXIT_ERROR``.
    """

    if args.top_k < 1:  # bad usage first, before the model is loaded
        raise ConfigError("--top-k must be at least 1")
    if args.out and Path(args.out).suffix.lower() not in (".csv", ".json"):
        raise ConfigError(f"--out {args.out}: the file must end in .csv or .json")
    jobs = args.jobs or min(_jobs(), 4)
    # --out is locked from the start: a second writer of the file is refused before any work
    with locks.locked_file(args.out) if args.out else contextlib.nullcontext():
        report = predict(
            args.model_dir, args.paths, top_k=args.top_k, progress=not args.quiet, jobs=jobs
        )
        if args.out:
            report.save(args.out)
    if args.format == "csv":
        sys.stdout.write(report.table.to_csv(index=False, float_format="%.6g", lineterminator="\n"))
    elif args.format == "json":
        print(json.dumps(report.records(), indent=2, ensure_ascii=False))
    else:
        print(report.summary())
    if args.format != "table":  # stdout holds the data: notes and failures go to stderr
        for note in report.notes:
            print(f"note: {note}", file=sys.stderr)
        for row in report.failures.itertuples():
            print(f"failed: {row.path}: {row.reason}", file=sys.stderr)
    if args.out:
        print(f"wrote {args.out} ({len(report)} track(s))", file=sys.stderr)
    return EXIT_PARTIAL if len(report.failures) else EXIT_OK


def cmd_models(args) -> int:
    """``musiclass models``: the pretrained models ``predict`` takes by name, their provenance and cache.

    With ``--download`` the weights are obtained into the cache first (pinned by hash).

    Parameters
    ----------
    args : argparse.Namespace
        The sub-command's parsed options (see :func:`build_parser`).

    Returns
    -------
    int
        ``EXIT_OK``.

    Raises
    ------
    musiclass.errors.MusiclassError
        When ``--download`` cannot obtain the weights (no network, a hash mismatch).
    """
    if args.download:
        for name in pretrained_catalog.PRETRAINED:  # one wheel holds every network: convert each
            weights.load_network(pretrained_catalog.get(name).network)
    rows = pretrained_catalog.table()
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return EXIT_OK
    for r in rows:
        print(f"{r['name']}  ({r['network']}, {r['tags']} tags, trained on {r['trained_on']})")
        print(f"    {r['summary']}")
        for key in ("authors", "paper", "licence", "source"):
            print(f"    {key}: {r[key]}")
        print(f"    cached: {r['cached']} ({r['where']})")
    print(
        "\nmodel directories written by `musiclass train` (or `import-keras`) are given to predict "
        "by their path"
    )
    return EXIT_OK


def cmd_run(args) -> int:
    """Run ``musiclass run``: a study config end to end, then its results table and figures.

    Parameters
    ----------
    args : argparse.Namespace
        The sub-command's parsed options (see :func:`build_parser`).

    Returns
    -------
    int
        ``EXIT_OK``.

    Raises
    ------
    musiclass.errors.MusiclassError
        For any error of the stage; :func:`main` prints it and exits with ``EXIT_ERROR``.
    """
    overrides = {f"train.{k}": v for k, v in _execution_options(args).items()}
    overrides.update(_overrides(args.set))
    if args.out is None:  # runs/genre or runs/mood, after the config's task
        args.out = str(Path("runs") / load_study(args.config)[0].task)
    table = run_study(
        args.config,
        args.out,
        profile=args.profile,
        data_dir=args.data_dir,
        jobs=args.jobs,
        preset=args.preset,
        overrides=overrides,
        progress=not args.quiet,
        reuse=args.store or (),
    )
    print("\n" + results_markdown(results_for_display(table), metrics=table_metrics(table)))
    if not args.no_figures:
        write_figures(args.out, args.figures or Path(args.out) / "figures")
    print(
        f"\nresults: {Path(args.out) / 'results.csv'}  (one JSON per result in {Path(args.out) / 'registry'})"
    )
    return EXIT_OK


def cmd_classical(args) -> int:
    """Run ``musiclass classical``: the original's classifiers on a hand-crafted feature table.

    Parameters
    ----------
    args : argparse.Namespace
        The sub-command's parsed options (see :func:`build_parser`).

    Returns
    -------
    int
        ``EXIT_OK``.

    Raises
    ------
    musiclass.errors.MusiclassError
        For any error of the stage; :func:`main` prints it and exits with ``EXIT_ERROR``.
    """
    models = (
        classical.parse_models(args.models) if args.models else None
    )  # bad usage first, before any file is read
    classical.check_run_options(n_repeats=args.repeats, n_boot=args.n_boot)
    with locks.locked(args.out) if args.out else contextlib.nullcontext():  # before any work
        return _classical(args, models)


def _classical(args, models) -> int:
    """``musiclass classical`` once its options are checked (and its ``--out`` locked)."""
    table = classical.read_features(args.features)
    protocols = ("seed", "ours") if args.protocol == "both" else (args.protocol,)
    results = {}
    for protocol in protocols:
        groups = args.groups
        if protocol == "ours":  # artist-disjoint: grouped CV, or the artist-filtered GTZAN lists
            protocol, groups, note = classical.default_design(table)
            if note:
                print(f"warning: {note}", file=sys.stderr)
        results[protocol] = classical.run(
            table,
            protocol=protocol,
            models=models,
            seed=args.seed,
            n_repeats=args.repeats,
            n_boot=args.n_boot,
            progress=not args.quiet,
            groups=groups,
        )
    if args.out:
        classical.save(results, args.out, table)
    if args.json:
        print(json.dumps(classical.summary(results, table), indent=2))
        return EXIT_OK
    print(
        f"{table.source}: {len(table)} rows, {table.X.shape[1]} features, {len(table.classes)} classes "
        f"(labels from {table.label_column})"
    )
    for protocol, result in results.items():
        print()
        print(classical.format_table(result))
        for note in result.notes:
            print(f"note: {note}")
        print(f"({protocol} protocol took {result.elapsed_s:.1f} s)")
    if args.out:
        print(
            f"\nwrote {Path(args.out) / ClassicalFiles.SUMMARY}, classical.csv and classical_predictions.csv"
        )
    return EXIT_OK


def _jobs() -> int:
    return default_jobs()


# ---------------------------------------------------------------------------- parser
def _common(sp) -> None:
    """The options every long-running sub-command takes: ``--quiet`` and ``--jobs``."""
    sp.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    sp.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=None,
        help="worker processes (default: every CPU this process may use)",
    )


def _add_demo(sub) -> None:
    """The ``demo`` sub-command's options."""
    s = sub.add_parser(
        "demo",
        help="the main job: the genre and mood studies on the embedded synthetic data, "
        "the numbered notebooks executed on them, report.pdf",
    )
    s.add_argument("--out", default="runs/demo", help="run folder (default: runs/demo)")
    s.add_argument("--preset", choices=("default", "seed"), default="default")
    s.add_argument(
        "--clips-per-genre", type=int, default=20, help="synthetic GTZAN clips per genre (1-100)"
    )
    s.add_argument("--mood-tracks", type=int, default=None, help="synthetic MTG-Jamendo tracks")
    s.add_argument("--seed", type=int, default=0, help="seed of the synthetic data")
    s.add_argument(
        "--profile",
        choices=("quick", "full", "tiny"),
        default="quick",
        help="quick (default, about 12 minutes on 2 cores), full (every frame, early stopping; "
        "about 1.5 hours on 2 cores), tiny (a smoke test)",
    )
    s.add_argument("--figures", help="genre figure folder (default OUT/genre/figures)")
    s.add_argument("--mood-figures", help="mood figure folder (default OUT/mood/figures)")
    s.add_argument(
        "--no-notebooks",
        dest="notebooks",
        action="store_false",
        help="do not execute the numbered notebooks (draw the figures directly)",
    )
    s.add_argument(
        "--no-report", dest="report", action="store_false", help="do not build OUT/report.pdf"
    )
    s.add_argument(
        "--publish",
        action="store_true",
        help="from a clone: replace the committed notebooks' outputs, the results folders' figures, "
        "images/ and report.pdf with this run's (what `make run PROFILE=full` does)",
    )
    _add_store_reuse(s)
    _common(s)
    s.set_defaults(func=cmd_demo)


def _add_synth(sub) -> None:
    """The ``synth`` sub-command's options."""
    s = sub.add_parser("synth", help="write the synthetic GTZAN- and MTG-Jamendo-shaped sets")
    s.add_argument(
        "--out", default="runs/demo/data", help="folder receiving gtzan/ and mtg-jamendo/"
    )
    s.add_argument("--only", choices=("all", "gtzan", "mood"), default="all")
    s.add_argument("--clips-per-genre", type=int, default=20)
    s.add_argument("--mood-tracks", type=int, default=None)
    s.add_argument("--seed", type=int, default=0)
    _common(s)
    s.set_defaults(func=cmd_synth)


def _add_index(sub) -> None:
    """The ``index`` sub-command's options."""
    s = sub.add_parser(
        "index", help="index a GTZAN tree or an MTG-Jamendo metadata file into a track table"
    )
    s.add_argument("dataset", choices=("gtzan", "jamendo"))
    s.add_argument(
        "root", help="GTZAN: the dataset folder; jamendo: the audio root (holding 00/ .. 99/)"
    )
    s.add_argument(
        "--out", required=True, help="folder receiving tracks.csv, tracks.json, problems.csv"
    )
    s.add_argument(
        "--check",
        choices=("none", "exists", "header", "decode"),
        default=None,
        help="how far each file is verified (gtzan default: header; jamendo default: exists); "
        "header and decode flag a length that disagrees with the metadata's by more than "
        "max(1 s, 2%%)",
    )
    s.add_argument(
        "--allow-outside-links",
        action="store_true",
        help="follow symbolic links that lead out of ROOT (by default they are refused and "
        "listed in problems.csv as unsafe; links inside ROOT are always followed)",
    )
    s.add_argument(
        "--max-missing",
        type=float,
        default=0.05,
        help="exit 3 when more than this share of the files listed (jamendo metadata, gtzan "
        "--expect-full) are missing (default 0.05); no track at all always exits 1",
    )
    s.add_argument(
        "--expect-full",
        action="store_true",
        help="gtzan: report which of the 1000 clips are missing",
    )
    s.add_argument(
        "--min-duration", type=float, default=29.0, help="gtzan: report clips shorter than this (s)"
    )
    s.add_argument("--metadata", help="jamendo: the TSV (default: ROOT/autotagging_moodtheme.tsv)")
    s.add_argument(
        "--curation",
        choices=("official", "none", "original"),
        default="official",
        help="jamendo tags: official 56 (default), all 59, or the original study's curation",
    )
    s.add_argument(
        "--split", type=int, default=None, help="jamendo: keep only the tracks of official split K"
    )
    s.add_argument("-q", "--quiet", action="store_true")
    s.set_defaults(func=cmd_index)


def _add_extract(sub) -> None:
    """The ``extract`` sub-command's options."""
    s = sub.add_parser(
        "extract", help="compute spectrogram / mel / MFCC frames and descriptors into a store"
    )
    s.add_argument("index", help="a folder written by `musiclass index`")
    s.add_argument("--out", required=True, help="the feature store folder")
    s.add_argument(
        "--task", choices=("genre", "mood"), default=None, help="default: mood for multi-label data"
    )
    s.add_argument("--preset", choices=("default", "seed"), default="default")
    s.add_argument("--config", help="YAML file with a `frontend:` section (overrides the preset)")
    s.add_argument(
        "--set", action="append", metavar="KEY=VALUE", help="override one frontend value"
    )
    s.add_argument("--force", action="store_true", help="rebuild a store made from another config")
    dask = s.add_mutually_exclusive_group()
    dask.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="send the tracks to the workers of an existing Dask cluster: its scheduler's address "
        "(tcp://HOST:8786) or scheduler file, e.g. a dask-jobqueue SLURMCluster's "
        "scheduler_address, or `dask scheduler` with `dask worker` jobs under SLURM. The workers "
        "write into --out directly: --out and the audio must be on a filesystem they share, "
        "at the same paths (checked before the work is sent)",
    )
    dask.add_argument(
        "--cluster",
        metavar="local:N",
        help="start a local Dask cluster of N worker processes for this run (its dashboard shows "
        "progress, memory and failures), closed at the end",
    )
    _common(s)
    s.set_defaults(func=cmd_extract)


def _add_split(sub) -> None:
    """The ``split`` sub-command's options."""
    s = sub.add_parser(
        "split", help="assign tracks (or, under seed, frames) to train/validation/test"
    )
    s.add_argument("store", help="a feature store folder")
    s.add_argument(
        "--method",
        choices=("song", "artist", "seed-frame", "gtzan-filtered", "gtzan-stratified", "official"),
        default="song",
        help="song: stratified by label (default); artist: no artist in two parts; seed-frame: the "
        "original study's random split of frames, which leaks songs (to measure that leak); "
        "gtzan-*: the published GTZAN lists; official: the MTG-Jamendo split files",
    )
    s.add_argument("--seed", type=int, default=42)
    s.add_argument(
        "--fractions",
        type=float,
        nargs=3,
        default=(0.8, 0.1, 0.1),
        metavar=("TRAIN", "VAL", "TEST"),
    )
    s.add_argument("--splits-dir", help="official: the MTG-Jamendo splits folder")
    s.add_argument("--official-split", type=int, default=0)
    s.set_defaults(func=cmd_split)


def _add_classical(sub) -> None:
    """The ``classical`` sub-command's options."""
    s = sub.add_parser(
        "classical",
        help="the original's classifiers on a hand-crafted feature table, under the "
        "seed protocol (its leaky split) and/or cross-validation",
    )
    s.add_argument(
        "features",
        help="a feature CSV (label or file-name column + numeric features) or a feature store",
    )
    s.add_argument(
        "--protocol",
        choices=("seed", "default", "filtered", "ours", "both"),
        default="both",
        help="seed: the original's scaler-on-all-rows 70/30 split; default: scaler in the pipeline, "
        "repeated stratified 5-fold CV (grouped by artist with --groups); filtered: the default "
        "pipelines on the artist-filtered GTZAN lists (GTZAN-named tables); ours: artist-disjoint, "
        "grouped CV when the table has artists, else the filtered lists on GTZAN names, else "
        "default with a warning; both (default): seed and ours",
    )
    s.add_argument(
        "--models",
        default=None,
        metavar="LIST",
        help="comma-separated, from lr,rf,gb,svm,knn,svm-tuned (default: the first five under seed, "
        "all six under default)",
    )
    s.add_argument(
        "--seed",
        type=int,
        default=42,
        help="split, fold and model seed (default 42, the original's)",
    )
    s.add_argument(
        "--repeats", type=int, default=3, help="default protocol: CV repeats (default 3)"
    )
    s.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples (default 1000)")
    s.add_argument(
        "--groups",
        action="store_true",
        help="default protocol: keep each artist (the table's artist/group column) in one fold",
    )
    s.add_argument(
        "--json", action="store_true", help="print only machine-readable results on stdout"
    )
    s.add_argument(
        "--out", help="folder receiving classical.json, classical.csv and classical_predictions.csv"
    )
    s.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    s.set_defaults(func=cmd_classical)


def _add_train(sub) -> None:
    """The ``train`` sub-command's options."""
    s = sub.add_parser(
        "train",
        help="train one network on a feature store split (streamed, seeded, early stopping), "
        "or straight from audio (--from-audio)",
    )
    s.add_argument(
        "store",
        help="a feature store folder (musiclass extract); with --from-audio, an index folder "
        "(musiclass index)",
    )
    s.add_argument(
        "--split",
        default="song",
        help="a split saved in the store (song, artist, seed-frame, ...) "
        "or a split CSV (default: song; with --from-audio a seeded "
        "80/10/10 song split of the index)",
    )
    s.add_argument(
        "--from-audio",
        action="store_true",
        help="no feature store: decode the audio batch by batch and compute the features inside the "
        "model (a tf.signal layer matching the stored frontend), e.g. on a GPU",
    )
    s.add_argument(
        "--frontend-preset",
        choices=("default", "seed"),
        help="with --from-audio: the frontend preset (default: the training preset)",
    )
    s.add_argument("--frontend-config", help="with --from-audio: a YAML with a `frontend:` section")
    s.add_argument(
        "--workers",
        type=int,
        default=1,
        help="with --from-audio: processes decoding audio for the training batches",
    )
    s.add_argument(
        "--splits-dir", help="with --from-audio --split official: MTG-Jamendo's splits folder"
    )
    s.add_argument(
        "--official-split",
        type=int,
        default=0,
        help="with --split official: which of the 5 (default 0)",
    )
    s.add_argument(
        "--out", required=True, help="the model directory to write (an unfinished one is resumed)"
    )
    s.add_argument("--model", help="cnn-3 .. cnn-7, mfcc-1d or fnn (default cnn-3)")
    s.add_argument("--representation", choices=("mel", "spectrogram", "mfcc"), help="default mel")
    s.add_argument(
        "--preset",
        choices=("default", "seed"),
        default="default",
        help="seed: the original settings (20 epochs, LR on plateau, no early stopping)",
    )
    s.add_argument("--config", help="YAML with a `train:` section")
    s.add_argument("--epochs", type=int)
    s.add_argument("--batch-size", type=int)
    s.add_argument("--seed", type=int)
    s.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="any training option, e.g. early_stopping_patience=3 or model_options={pool3: [4, 5]}",
    )
    s.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples for the intervals")
    s.add_argument(
        "--cache",
        choices=("auto", "device", "memory", "stream"),
        help="where the training and validation frames are served from: device (loaded once "
        "into the GPU's memory, batches gathered there), memory (loaded once into RAM), stream "
        "(read from the store batch by batch: memory flat with the data size) or auto (device "
        "when they fit in half the GPU's memory, else memory when they fit in half the RAM "
        "available, else stream); every mode gives the same batches (default: auto; also "
        "settable as train.cache)",
    )
    s.add_argument("-q", "--quiet", action="store_true")
    _add_execution_options(s)
    s.set_defaults(func=cmd_train)


def _add_evaluate(sub) -> None:
    """The ``evaluate`` sub-command's options."""
    s = sub.add_parser(
        "evaluate",
        help="score a trained model's test predictions (intervals, confusion, "
        "paired comparison), or saved truth/prediction matrices",
    )
    s.add_argument("model_dir", nargs="?", help="a model directory (musiclass train / run)")
    s.add_argument("--part", choices=("test", "validation"), default="test")
    s.add_argument(
        "--truth", help="instead of a model: a ground-truth matrix (.npy, n x tags, 0/1) ..."
    )
    s.add_argument(
        "--pred", help="... and a prediction matrix (.npy, n x tags), e.g. a published run's"
    )
    s.add_argument("--tags", help="comma-separated tag names of the matrices' columns")
    s.add_argument(
        "--compare",
        metavar="MODEL_DIR",
        help="a second model tested on the same tracks: paired bootstrap of the difference "
        "(genre: and McNemar's test; tagging: ROC-AUC and PR-AUC, with a bootstrap p-value)",
    )
    s.add_argument("--n-boot", type=int, default=1000)
    s.add_argument(
        "--seed", type=int, default=None, help="bootstrap seed (default: the model's training seed)"
    )
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.set_defaults(func=cmd_evaluate)


def _add_predict(sub) -> None:
    """The ``predict`` sub-command's options."""
    s = sub.add_parser(
        "predict",
        help="predict the genre (or mood tags) of your own audio files with a trained "
        "model directory or a pretrained tagger (musicnn-mtt, musicnn-msd: see musiclass models)",
    )
    s.add_argument(
        "model_dir",
        metavar="MODEL",
        help="a model directory (musiclass train, or an audio-input export), or the name of a "
        "pretrained tagger listed by `musiclass models` (musicnn-mtt, musicnn-msd, ...; its "
        "weights are downloaded on first use)",
    )
    s.add_argument(
        "paths",
        metavar="PATH",
        nargs="+",
        help="audio files (any format soundfile reads: WAV, FLAC, OGG, MP3, ...; any rate and channel "
        "count), folders (searched recursively) or glob patterns (quote them; ** spans folders)",
    )
    s.add_argument(
        "--top-k",
        type=int,
        default=3,
        help="genre models and pretrained taggers: how many classes (tags) to list (default 3)",
    )
    s.add_argument(
        "--out",
        metavar="FILE",
        help="also write the results to FILE.csv (one row per track, p:<class> "
        "columns) or FILE.json (one record per track)",
    )
    s.add_argument(
        "--format",
        choices=("table", "csv", "json"),
        default="table",
        help="what to print on stdout (default: a readable table; with csv/json the failures go to "
        "stderr)",
    )
    s.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    s.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=None,
        help="threads decoding files ahead of the network (default: the CPUs, at most 4)",
    )
    s.set_defaults(func=cmd_predict)


def cmd_import_keras(args) -> int:
    """Run ``musiclass import-keras``: one of the original study's ``.h5`` models as a model directory.

    Parameters
    ----------
    args : argparse.Namespace
        The sub-command's parsed options (see :func:`build_parser`).

    Returns
    -------
    int
        ``EXIT_OK``.

    Raises
    ------
    musiclass.errors.MusiclassError
        For any error of the stage (see :func:`musiclass.models.imported.import_keras`);
        :func:`main` prints it and exits with ``EXIT_ERROR``.
    """
    # Keras: imported only for this command, so `musiclass --help` and the light commands stay light
    from .models.imported import import_keras

    result = import_keras(
        args.file,
        args.out,
        task=args.task,
        preset=args.preset,
        classes=args.classes,
        test_index=args.test,
        force=args.force,
    )
    kind = f"{len(result.classes)} {'tags' if result.multilabel else 'classes'}"
    print(
        f"wrote {result.model_dir}: {result.name} ({result.parameters:,} parameters) from "
        f"{args.file}; input {result.representation} frames {result.input_shape} of the "
        f"{args.task} {args.preset!r} preset; {kind}"
    )
    if args.test:
        print(
            f"predicted {result.test_tracks} test track(s), {result.test_frames} frames: "
            f"musiclass evaluate {result.model_dir}"
        )
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    return EXIT_OK


def _add_import_keras(sub) -> None:
    """The ``import-keras`` sub-command's options."""
    s = sub.add_parser(
        "import-keras",
        help="turn one of the original study's Keras .h5 models into a model directory "
        "(for predict, evaluate, export)",
    )
    s.add_argument("file", metavar="FILE.h5", help="the Keras model file (Keras 2 or 3 .h5)")
    # no argparse choices: an unknown task or preset is an error (exit 1) naming the valid ones
    s.add_argument("--task", default="genre", help="genre (softmax classes) or mood (tags)")
    s.add_argument(
        "--preset", default="seed", help="the frontend the model was trained on (default: seed)"
    )
    s.add_argument(
        "--classes",
        metavar="FILE.json",
        help="the output order: a JSON list of names or a {name: index} map (default: the "
        "original's genre or mood order)",
    )
    s.add_argument("--out", required=True, metavar="MODEL_DIR", help="the model directory to write")
    s.add_argument(
        "--test",
        metavar="INDEX_DIR",
        help="a track index (musiclass index) to predict into predictions/test.csv, "
        "for musiclass evaluate",
    )
    s.add_argument(
        "--force", action="store_true", help="replace the model files of a non-empty MODEL_DIR"
    )
    s.set_defaults(func=cmd_import_keras)


def _add_models(sub) -> None:
    """The ``models`` sub-command's options."""
    s = sub.add_parser(
        "models",
        help="list the pretrained taggers predict takes by name (musicnn-mtt, musicnn-msd, ...), "
        "where each came from, its licence and whether its weights are cached",
    )
    s.add_argument(
        "--download",
        action="store_true",
        help="obtain the weights now (pip download musicnn==0.1.0, pinned by SHA-256) into the "
        "cache ($MUSICLASS_CACHE or ~/.cache/musiclass)",
    )
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.set_defaults(func=cmd_models)


def _add_run(sub) -> None:
    """The ``run`` sub-command's options."""
    s = sub.add_parser(
        "run", help="run a study config end to end (configs/genre/*.yaml, configs/mood/*.yaml)"
    )
    s.add_argument(
        "config",
        help="e.g. configs/genre/exp1.yaml, configs/genre/study.yaml, configs/mood/study.yaml",
    )
    s.add_argument(
        "--out", help="study folder (default runs/genre or runs/mood, after the config's task)"
    )
    s.add_argument(
        "--profile",
        choices=("full", "quick", "tiny"),
        default="full",
        help="quick: fewer epochs and training frames (the demo); tiny: for tests",
    )
    s.add_argument(
        "--preset", choices=("default", "seed"), help="override the frontend and training presets"
    )
    s.add_argument(
        "--set",
        action="append",
        metavar="SECTION.KEY=VALUE",
        help="e.g. data.dataset=gtzan data.root=/data/gtzan train.epochs=5 splits=[song]",
    )
    s.add_argument("--data-dir", help="where synthetic data is written (default: OUT/../data)")
    s.add_argument("--figures", help="figure folder (default OUT/figures)")
    s.add_argument("--no-figures", action="store_true")
    _add_store_reuse(s)
    _common(s)
    _add_execution_options(s)
    s.set_defaults(func=cmd_run)


def _add_store_reuse(s) -> None:
    """``--store PATH`` (repeatable): feature stores to use instead of extracting them again."""
    s.add_argument(
        "--store",
        action="append",
        metavar="PATH",
        help="a feature store you already have (repeatable): used, not extracted again, when its "
        "frontend config hash and tracks are the study's",
    )


def _add_info(sub) -> None:
    """The ``info`` sub-command's options."""
    s = sub.add_parser("info", help="describe a feature store")
    s.add_argument("store")
    s.add_argument("--json", action="store_true", help="print the manifest")
    s.set_defaults(func=cmd_info)


def _add_report(sub) -> None:
    """The ``report`` sub-command's options."""
    s = sub.add_parser(
        "report", help="write report.pdf from a run folder's results (musiclass demo / run)"
    )
    s.add_argument(
        "run_dir",
        metavar="RUN_DIR",
        help="a run folder (e.g. runs/demo, holding genre/ and/or mood/) or one study folder",
    )
    s.add_argument("--out", help="the PDF to write (default RUN_DIR/report.pdf)")
    s.set_defaults(func=cmd_report)


def build_parser() -> argparse.ArgumentParser:
    """Build the ``musiclass`` parser, with one sub-command per stage.

    Returns
    -------
    argparse.ArgumentParser
        The parser; each sub-command's namespace carries its ``cmd_*`` function as ``func``.
    """
    p = argparse.ArgumentParser(
        prog="musiclass",
        description="Reproducible music genre classification (GTZAN) and mood tagging (MTG-Jamendo).",
        epilog="Run `musiclass demo` for the whole job on the embedded synthetic data.",
    )
    p.add_argument("--version", action="version", version=f"musiclass {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="log every skipped or failed item")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    for add in (
        _add_demo,
        _add_synth,
        _add_index,
        _add_extract,
        _add_split,
        _add_classical,
        _add_train,
        _add_evaluate,
        _add_predict,
        _add_import_keras,
        _add_models,
        _add_run,
        _add_info,
        _add_report,
    ):
        add(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the ``musiclass`` command line.

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 success; 1 an error (a :class:`~musiclass.errors.MusiclassError`,
        printed as ``error: ...``); 2 bad usage (or no sub-command: the help is printed); 3 the
        stage finished but some tracks failed; 130 interrupted (Ctrl-C), 143 stopped by SIGTERM.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:
        quiet_tensorflow()
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        if getattr(args, "jobs", None) is not None and args.jobs < 1:
            raise ConfigError(f"--jobs must be at least 1, got {args.jobs}")
        for folder in _output_folders(args):  # a read-only --out is refused before any work
            check_writable_folder(folder)
        # SIGTERM unwinds like Ctrl-C: workers stopped, locks freed, what finished kept
        with interrupts.sigterm_interrupts(resend=False):
            return args.func(args)
    except MusiclassError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return getattr(exc, "exit_status", EXIT_ERROR)
    except BrokenPipeError:  # `musiclass ... | head`: the reader left; stop quietly
        _silence_stdout()
        return EXIT_OK
    except PermissionError as exc:  # a folder made read-only after the check above
        print(f"error: {_permission_message(exc)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt as exc:
        print("interrupted", file=sys.stderr)
        return 128 + interrupts.signal_of(exc)


def quiet_tensorflow() -> None:
    """Silence TensorFlow's start-up noise (``failed call to cuInit``, retracing warnings).

    Called by :func:`main` without ``--verbose``, before TensorFlow is imported: it sets
    ``TF_CPP_MIN_LOG_LEVEL=3`` (TensorFlow's C++ log lines, errors included: real errors reach
    Python as exceptions) unless the user set it already, and raises the ``tensorflow`` and
    ``absl`` Python loggers to ERROR.
    """
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    for name in ("tensorflow", "absl"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _output_folders(args) -> list[Path]:
    """The folders a sub-command writes into, checked for writing before it starts."""
    if args.command == "split":
        return [SplitFolder(args.store).path]
    if args.command == "predict":
        return [Path(args.out).parent] if getattr(args, "out", None) else []
    out = getattr(args, "out", None)
    if args.command == "report":
        return [Path(out).parent if out else Path(args.run_dir)]
    return [Path(out)] if out and args.command != "evaluate" else []


def _permission_message(exc: PermissionError) -> str:
    """``FOLDER: cannot write here (...)`` for a file being created, ``FILE: ...`` otherwise."""
    if not exc.filename:
        return f"permission denied ({exc.strerror or exc})"
    path = Path(exc.filename)
    if not path.exists():  # it was being created: the folder is what refuses
        return f"{path.parent}: cannot write in this folder ({exc.strerror}; is it read-only?)"
    return f"{path}: {exc.strerror or 'permission denied'}"


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that Python's flush at exit raises no second BrokenPipeError."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (captured): nothing to flush there
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
