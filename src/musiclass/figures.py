"""Which figures a study gets: :func:`write_figures` draws every figure of a study folder.

The figures of a genre or mood study folder go into a results folder; they are drawn from the
registry (:mod:`musiclass.registry`) and the model directories, with the pure figure functions of
:mod:`musiclass.plots`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import plots
from .errors import ConfigError
from .evaluation import track_probabilities
from .features.store import FeatureStore
from .layout import LEAK_MD, RESULTS_CSV, RESULTS_MD, SEEDS_MD, ModelDir, SplitFolder, StudyFolder
from .registry import (
    MOOD_TABLE_METRICS,
    PROTOCOL_NOTE,
    TABLE_METRICS,
    base_tagger,
    collect,
    headline_split,
    leak_table,
    read_json,
    resampled_counts,
    results_for_display,
    seed_table,
    source_path,
    table_metrics,
    tags_per_part,
    track_confusion,
    track_recall,
)
from .training import load_predictions
from .utils import write_csv_atomic, write_text_atomic


def write_figures(out: str | Path, figures: str | Path, *, echo=print) -> list[Path]:
    """Draw the study's figures from ``out`` (its registry, stores and model folders) into ``figures``.

    Figure 1 (one frame per genre in every representation), the results table (PNG, Markdown, CSV),
    the leak table (both leaks per network) and the seed table (Markdown, when the study has
    them), test accuracy with intervals under both protocols, and per network under our split:
    its confusion matrix, ROC curves, training curves; per-genre recall of every network.

    A mood study (every result's task is ``mood``) gets its own figures instead: tag frequencies
    (before and after curation, per split part, per resampled set), tag co-occurrence, the results
    table and the per-tag ROC-AUC of the base model.

    Parameters
    ----------
    out : str or pathlib.Path
        The study folder; its registry is collected first (:func:`musiclass.registry.collect`
        rewrites ``results.csv``).
    figures : str or pathlib.Path
        The results folder the figures go to; created when missing.
    echo : callable, default=print
        Called with one line of progress, the count of files written.

    Returns
    -------
    list of pathlib.Path
        The figures and tables written, in the order they were drawn.

    Raises
    ------
    musiclass.errors.ConfigError
        If no result is registered in ``out`` yet (run the study first).
    musiclass.errors.MetadataError
        If a registry record or a model's ``metrics.json`` is not valid JSON.
    """

    out, figures = Path(out), Path(figures)
    figures.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    table = collect(out)
    if table.empty:
        raise ConfigError(f"{out}: no results registered yet (run the study first)")
    if table_metrics(table) == MOOD_TABLE_METRICS:
        return _write_mood_figures(out, figures, table, echo)
    shown = results_for_display(table)

    stores = StudyFolder(out).stores()
    if stores:
        store = FeatureStore(stores[0])
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

    write_text_atomic(figures / RESULTS_MD, md + "\n")
    write_csv_atomic(table, figures / RESULTS_CSV, float_format="%.4f")
    written += [figures / RESULTS_MD, figures / RESULTS_CSV]
    # the headline tables: both leaks per network (with two-sample intervals), the spread over seeds
    leaks = leak_table(table, out)
    if not leaks.empty:
        written.append(figures / LEAK_MD)
        write_text_atomic(written[-1], plots.leak_markdown(leaks))
    seeds, verdict = seed_table(table)
    if not seeds.empty:
        written.append(figures / SEEDS_MD)
        write_text_atomic(written[-1], plots.seed_markdown(seeds, verdict))
    written.append(figures / "accuracy_intervals.png")
    plots.interval_plot(
        shown.drop_duplicates(["model", "split"]),
        "accuracy",
        chance=1.0 / n_classes if n_classes else None,
        title="Test accuracy per split: original protocol (frame split) vs ours",
        out=written[-1],
    )

    nets = table[table["epochs"].notna()].drop_duplicates("source")
    ours = headline_split(table)
    recalls, histories = {}, {}
    for rec in nets.to_dict("records"):
        model_dir = ModelDir(source_path(out, rec["source"]))
        if not model_dir.predictions("test").is_file():
            continue
        histories[f"{rec['model']} ({rec['split']})"] = pd.read_csv(model_dir.history)
        if rec["split"] != ours:  # the per-model figures show our headline split only
            continue
        written.append(figures / f"confusion_{rec['model']}.png")
        plots.confusion_matrix(
            track_confusion(model_dir.path),
            title=f"{rec['model']}, {rec['protocol']}: test tracks",
            out=written[-1],
        )
        rows, probs, classes = load_predictions(model_dir.predictions("test"))

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
        recalls[rec["model"]] = track_recall(model_dir.path)
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
            title=f"Per-genre recall on test tracks ({ours} split)",
        )
    echo(f"wrote {len(written)} figures and tables to {figures}")
    return written


def _write_mood_figures(out: Path, figures: Path, table: pd.DataFrame, echo=print) -> list[Path]:
    """Tag frequencies (before and after curation, per split part, per resampled set), tag
    co-occurrence, the results table and per-tag ROC-AUC of the base model."""

    written: list[Path] = []

    def add(name: str) -> Path:
        written.append(figures / name)
        return written[-1]

    if StudyFolder(out).curation.is_file():
        counts = pd.read_csv(StudyFolder(out).curation).set_index("group")
        plots.tag_frequencies(
            counts,
            title="Tracks per tag, before and after curation",
            out=add("tag_frequencies_curation.png"),
        )
    stores = StudyFolder(out).stores()
    if stores:
        store = FeatureStore(stores[0])
        tags = store.classes
        tracks = store.tracks()
        plots.cooccurrence(
            tracks.label_matrix(),
            tags,
            title="Tag co-occurrence: P(column tag | row tag), tracks",
            out=add("tag_cooccurrence.png"),
        )
        if SplitFolder(store.path).split("official").is_file():
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
        add(RESULTS_MD), plots.results_markdown(shown, metrics=MOOD_TABLE_METRICS) + "\n"
    )
    write_csv_atomic(table, add(RESULTS_CSV), float_format="%.4f")
    base = base_tagger(table)
    if not base.empty:
        metrics = read_json(ModelDir(source_path(out, base.iloc[0]["source"])).metrics)
        per_tag = pd.DataFrame(metrics["test"]["track"]["per_tag"]).T
        plots.per_tag_auc(
            per_tag.astype(float),
            metric="roc_auc",
            out=add("per_tag_roc_auc.png"),
            title=f"Per-tag ROC-AUC on test tracks: {base.iloc[0]['model']} (official split)",
        )
    echo(f"wrote {len(written)} figures and tables to {figures}")
    return written
