"""The report's sections, one function per page group, each reading what it shows from the run.

The run is read through :mod:`musiclass.registry`; only the protocol text and the published
reference figures are fixed.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .. import plots, reference
from ..evaluation import NO_TEST_TRACKS
from ..features.store import FeatureStore
from ..layout import ModelDir, SplitFolder, StoreFiles
from ..registry import (
    MOOD_TABLE_METRICS,
    PROTOCOL_NOTE,
    PROTOCOL_OF_SPLIT,
    TABLE_METRICS,
    Run,
    StudyResults,
    base_tagger,
    best_on_validation,
    leak_pairs,
    leak_table,
    read_json,
    resampled_counts,
    results_for_display,
    shown_path,
)
from .page import (
    CONFUSIONS_PER_PAGE,
    DASH,
    MARGIN,
    PAGE,
    TABLE_ROWS_PER_PAGE,
    _blank_page,
    _ci,
    _Flow,
    _folded,
    _missing,
    _num,
    _pct,
    _shorten,
    _wrap,
)

#: section keys and titles, in page order
SECTIONS = {
    "protocol": "Protocol: the original study's and ours",
    "settings": "Settings of this run",
    "data": "The data: classes and splits",
    "genre": "Genre results",
    "leak": "The leaks measured: frame, song and artist splits",
    "confusion": "Confusion matrices under our split",
    "classical": "Classical baselines",
    "beside": "The original study's reported figures beside ours",
    "mood": "Mood tagging",
}


#: the original protocol and ours, point by point (what our default fixes; the ``seed`` preset keeps it)
PROTOCOL = (
    (
        "Test set",
        "3 s frames (mood: 29.1 s) split 80/10/10 at random, so almost every test frame has frames of its own "
        "song, often overlapping it, in training: the figure measures recognition of songs already heard",
        "tracks split 80/10/10 by artist (synthetic data: no artist on two sides; real GTZAN: the published "
        "artist-filtered lists; mood: the official MTG-Jamendo split); the frame split and the song split "
        "(no song on two sides, artists shared) are still run, only to measure the two leaks",
    ),
    (
        "Short frames",
        "the last frame 'fixed' with ndarray.resize, which shears the rows",
        "short frames zero-padded",
    ),
    (
        "MFCC network",
        "1-D convolution across the 20 coefficients, time as channels",
        "1-D convolution along time",
    ),
    (
        "Classical baselines",
        "MinMax scaler fitted on all 1000 clips before splitting; one 70/30 split",
        "every scaler and transform inside a scikit-learn Pipeline fitted on training folds; repeated "
        "5-fold cross-validation grouped by artist (StratifiedGroupKFold; real GTZAN: the artist-filtered "
        "lists), with a loud note on a table without artists",
    ),
    (
        "Metrics",
        "precision and recall swapped; classical 'AUC' from hard labels; mood scored after setting "
        "probabilities above 0.9 to 1 (exact-match accuracy, AUC of binarised predictions)",
        "accuracy, macro F1 and one-vs-rest ROC-AUC from probabilities; mood: ROC-AUC and PR-AUC (macro, micro) "
        "as the MediaEval task computes them, F1 at per-tag thresholds chosen on validation",
    ),
    (
        "Multi-label loss",
        "sigmoid outputs trained with categorical cross-entropy",
        "sigmoid outputs with binary cross-entropy",
    ),
    (
        "Training",
        "no seeds; resampled mood sets stored by tag and never shuffled; best epoch picked by hand",
        "seeds everywhere; shuffled every epoch; early stopping and model selection on validation, automatically",
    ),
    ("FNN baseline", "raw dB inputs, not normalised", "inputs normalised with training statistics"),
    (
        "Uncertainty",
        "single point estimates",
        "95 % bootstrap intervals over test tracks on every headline figure",
    ),
)


@dataclass
class _Report:
    """The pages as they are made, each under its section, and why sections were left out."""

    run: Run
    echo: Callable = print
    pages: list[tuple[str, Figure]] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    def add(self, section: str, figures: Figure | Sequence[Figure]) -> None:
        for fig in [figures] if isinstance(figures, Figure) else figures:
            self.pages.append((section, fig))

    def skip(self, section: str, why: str) -> None:
        self.skipped[section] = why
        self.echo(f"report: {SECTIONS[section].split(':')[0]} left out: {why}")


def _title_page(report: _Report, version: str) -> Figure:
    """Page 1: what the run is, a warning when its data is synthetic, and the contents."""
    run = report.run
    info = run.info
    fig, ax = _blank_page()
    width = PAGE[0] - 2 * MARGIN
    ax.text(MARGIN, 0.9, "musiclass report", fontsize=28, fontweight="bold", va="top")
    ax.text(
        MARGIN,
        1.55,
        "Music genre classification (GTZAN-shaped) and mood tagging (MTG-Jamendo-shaped): "
        "the original 2020 study's protocol against ours",
        fontsize=11,
        va="top",
        color="dimgray",
    )
    datasets = info["datasets"]
    if len(set(datasets.values())) == 1:
        dataset_text = next(iter(datasets.values()))
    else:
        dataset_text = "; ".join(f"{task}: {d}" for task, d in datasets.items())
    sources = "; ".join(f"{task}: {s}" for task, s in info["sources"].items())
    studies = "; ".join(
        f"{task} ({len(s.table)} results: {len(s.networks)} network, {len(s.classical)} classical) in "
        f"{s.folder}"
        for task, s in run.studies.items()
    )
    lines = [
        ("Run folder", shown_path(run.folder)),
        ("Dataset", f"{dataset_text}   (read from {sources})"),
        ("Profile", str(info["profile"])),
        ("Preset", str(info["preset"])),
        ("Data seed", str(info["seed"])),
        ("Studies", studies),
        ("Generated", _dt.datetime.now().strftime("%Y-%m-%d %H:%M")),
        ("musiclass version", version),
    ]
    y = 2.05
    for key, value in lines:
        ax.text(MARGIN, y, key, fontsize=10.5, fontweight="bold", va="top")
        for line in _wrap(value, width - 2.0, 10.5):
            ax.text(MARGIN + 2.0, y, line, fontsize=10.5, va="top")
            y += 0.21
        y += 0.04
    y += 0.1
    if run.synthetic:
        which = ", ".join(t for t, d in datasets.items() if d == "synthetic")
        text = _wrap(
            "This report was built from a run on the embedded SYNTHETIC data: its figures test the "
            "pipeline and are not results on GTZAN / MTG-Jamendo. Run the study on the real data sets "
            "(see the README, 'Real data') for results.",
            width - 0.3,
            10.5,
        )
        box_h = 0.55 + 0.21 * len(text)
        ax.add_patch(
            Rectangle((MARGIN, y), width, box_h, facecolor="#fdecea", edgecolor="#c0392b", lw=1.5)
        )
        ax.text(
            MARGIN + 0.15,
            y + 0.14,
            f"SYNTHETIC DATA ({which})",
            fontsize=13,
            fontweight="bold",
            color="#c0392b",
            va="top",
        )
        for i, line in enumerate(text):
            ax.text(
                MARGIN + 0.15, y + 0.5 + 0.21 * i, line, fontsize=10.5, va="top", color="#7b241c"
            )
        y += box_h + 0.25
    elif all(d == "unknown" for d in datasets.values()):
        ax.text(
            MARGIN,
            y,
            "The dataset is unknown (no workspace.json or summary.json in the run folder): check "
            "which data these figures come from before quoting them.",
            fontsize=10.5,
            va="top",
            color="#7b241c",
        )
        y += 0.45
    ax.text(MARGIN, y, "Contents", fontsize=12, fontweight="bold", va="top")
    y += 0.3
    first_page: dict[str, int] = {}
    for i, (section, _) in enumerate(report.pages):
        first_page.setdefault(section, i + 2)
    for section, title in SECTIONS.items():
        if section in first_page:
            ax.text(
                MARGIN + 0.55, y, f"page {first_page[section]}", fontsize=9.5, va="top", ha="right"
            )
            ax.text(MARGIN + 0.7, y, title, fontsize=9.5, va="top")
        else:
            ax.text(MARGIN + 0.55, y, DASH, fontsize=9.5, va="top", ha="right", color="dimgray")
            ax.text(
                MARGIN + 0.7,
                y,
                _shorten(
                    f"{title}: left out ({report.skipped.get(section, 'no data')})",
                    width - 0.7,
                    9.5,
                ),
                fontsize=9.5,
                va="top",
                color="dimgray",
            )
        y += 0.2
    return fig


# ------------------------------------------------------------------------------ 2. protocol
def _protocol(report: _Report) -> None:
    """The original protocol against ours, point by point, and what this run used."""
    run = report.run
    flow = _Flow(SECTIONS["protocol"])
    flow.para(
        "The original 2020 study and this re-implementation differ in how the test set is drawn, how "
        "baselines are fitted and how results are scored. The `seed` preset reproduces the original's "
        "settings; the default preset is our protocol. The networks are trained and tested "
        "under the original's frame split as well as ours (and the song split), so the size of each "
        "difference is measured, not assumed."
    )
    for topic, original, ours in PROTOCOL:
        flow.heading(topic, size=10.5)
        flow.bullets([f"original: {original}", f"ours: {ours}"], size=9)
    splits = sorted(
        {s for st in run.studies.values() for s in st.networks.get("split", pd.Series(dtype=str))}
    )
    flow.heading("This run", size=10.5)
    flow.bullets(
        [
            f"preset: {run.info['preset']} (default: our frontend and training settings; seed: the "
            f"original's); profile: {run.info['profile']}",
            "networks trained and tested under the splits: " + (", ".join(splits) or DASH),
        ],
        size=9,
    )
    report.add("protocol", flow.pages)


def _settings(report: _Report) -> None:
    """The training settings of one network per study (its ``train.json``) and the frontend of
    each study's feature store (its manifest)."""
    train: dict[str, tuple[str, dict]] = {}
    frontend: dict[str, tuple[str, dict]] = {}
    for task, study in report.run.studies.items():
        nets = study.networks
        # a network under our split first: its settings are the ones the headline figures come from
        preferred = nets.assign(_frame=(nets["split"] == "seed-frame").astype(int)).sort_values(
            "_frame", kind="stable"
        )
        for rec in preferred.to_dict("records"):
            path = ModelDir(study.source(rec)).train
            if path.is_file():
                train[task] = (
                    f"{task}: {rec['experiment']}: {rec['model']} ({rec['split']} split)",
                    read_json(path).get("config", {}),
                )
                break
        for store in study.stores():
            manifest = read_json(store / StoreFiles.MANIFEST)
            frontend[task] = (f"{task}: store {store.name}", manifest.get("config", {}))
            break
    if not train and not frontend:
        report.skip("settings", "no train.json in any model folder and no feature store manifest")
        return
    flow = _Flow(SECTIONS["settings"])
    for what, found, source in (
        ("Training settings", train, "the train.json of one network per study"),
        ("Frontend (feature extraction) settings", frontend, "each study's feature store manifest"),
    ):
        if not found:
            flow.para(f"{what}: not found in this run.", color="dimgray", style="italic")
            continue
        flow.heading(f"{what} (from {source})")
        keys = list(dict.fromkeys(k for _, cfg in found.values() for k in cfg))
        rows = [[k] + [_setting(cfg.get(k, DASH)) for _, cfg in found.values()] for k in keys]
        flow.table(["setting"] + [label for label, _ in found.values()], rows, size=8)
    report.add("settings", flow.pages)


def _setting(value) -> str:
    """A config value as written in a settings table."""
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, separators=(", ", ": "))
    return "None" if value is None else str(value)


# ------------------------------------------------------------------------------ 3. the data
def _data(report: _Report) -> None:
    """Per study and store: sizes, every split's parts and measured leak, tracks and frames per class."""

    flow = _Flow(SECTIONS["data"])
    any_store = False
    for task, study in report.run.studies.items():
        for store_dir in study.stores():
            any_store = True
            manifest = read_json(store_dir / StoreFiles.MANIFEST)
            flow.heading(f"{task.capitalize()} study: store {store_dir.name}")
            flow.para(
                f"{manifest.get('n_tracks', DASH)} tracks, {manifest.get('n_rows', DASH)} frames, "
                f"{len(manifest.get('classes', []))} {'tags' if manifest.get('multilabel') else 'classes'}; "
                f"index dataset '{manifest.get('dataset', DASH)}'; {manifest.get('n_failed', 0)} tracks failed "
                f"extraction."
            )
            summary_path = SplitFolder(store_dir).summary
            if summary_path.is_file():
                rows = []
                for method, s in read_json(summary_path).items():
                    tracks, frames, leak = (
                        s.get("tracks", {}),
                        s.get("frames", {}),
                        s.get("leak", {}),
                    )
                    rows.append(
                        [
                            method,
                            PROTOCOL_OF_SPLIT.get(method, method),
                            *(tracks.get(p, DASH) for p in ("train", "validation", "test")),
                            *(frames.get(p, DASH) for p in ("train", "validation", "test")),
                            s.get("tracks_in_several_parts", DASH),
                            _pct(leak.get("test_frames_with_song_in_train")),
                        ]
                    )
                flow.table(
                    [
                        "split",
                        "protocol",
                        "train\ntracks",
                        "validation\ntracks",
                        "test\ntracks",
                        "train\nframes",
                        "validation\nframes",
                        "test\nframes",
                        "tracks in\nseveral parts",
                        "leak: test frames\nwith song in train",
                    ],
                    rows,
                    size=8,
                    note="leak: the share of test frames whose song also has frames in the training part "
                    "(measured on this run's split files)",
                )
            else:
                flow.para(
                    "no splits/summary.json in this store: split sizes unknown.", color="dimgray"
                )
            try:
                store = FeatureStore(store_dir)
                tracks = store.tracks().label_matrix().sum(axis=0)
                frames = store.label_matrix().sum(axis=0)
            except (
                Exception
            ) as exc:  # an older or damaged store: say so, keep the rest of the report
                flow.para(f"classes not readable from this store ({exc})", color="dimgray")
                continue
            noun = "tag" if store.multilabel else "class"
            counts = pd.DataFrame({"tracks": tracks, "frames": frames}, index=list(store.classes))
            if store.multilabel:
                counts = counts.sort_values("tracks", ascending=False, kind="stable")
            columns, rows = _folded(
                [noun, "tracks", "frames"],
                [[c, int(r.tracks), int(r.frames)] for c, r in counts.iterrows()],
                10,
            )
            flow.heading(
                f"Tracks and frames per {noun}"
                + (" (a track may carry several tags)" if store.multilabel else ""),
                size=10.5,
                keep=flow.height(len(rows), 8),
            )
            flow.table(columns, rows, size=8)
    if not any_store:
        report.skip("data", "no feature store (stores/*/manifest.json) in any study folder")
        return
    report.add("data", flow.pages)


# ------------------------------------------------------------------------------ 4. genre results
def _results_pages(
    shown: pd.DataFrame, metrics: Sequence[str], title: str, note: str | None
) -> list[Figure]:
    """:func:`musiclass.plots.results_table`, :data:`TABLE_ROWS_PER_PAGE` models per page."""

    models = list(pd.unique(shown["model"]))
    chunks = [
        models[i : i + TABLE_ROWS_PER_PAGE] for i in range(0, len(models), TABLE_ROWS_PER_PAGE)
    ]
    figures = []
    for k, chunk in enumerate(chunks):
        part = f" ({k + 1} of {len(chunks)})" if len(chunks) > 1 else ""
        figures.append(
            plots.results_table(
                shown[shown["model"].isin(chunk)],
                metrics=metrics,
                title=title + part,
                note=note,
                highlight_best=len(chunks) == 1,
            )
        )
    return figures


def _genre_results(report: _Report) -> None:
    """The genre results table with 95 % intervals (both protocols side by side)."""

    study = report.run.studies.get("genre")
    if study is None:
        report.skip("genre", "no genre study in this run")
        return
    shown = results_for_display(study.table)
    metrics = [m for m in TABLE_METRICS if m in shown and shown[m].notna().any()]
    report.add(
        "genre",
        _results_pages(
            shown,
            metrics,
            "Genre classification: test tracks (frame accuracy: test frames), 95 % bootstrap interval",
            PROTOCOL_NOTE,
        ),
    )


# ------------------------------------------------------------------------------ 5. the leak


def _split_leaks(study: StudyResults) -> dict[str, float]:
    """Per split method, the share of test frames whose song is in train (from ``splits/summary.json``)."""
    leaks = {}
    for store in study.stores():
        path = SplitFolder(store).summary
        if path.is_file():
            for method, s in read_json(path).items():
                leaks.setdefault(method, s.get("leak", {}).get("test_frames_with_song_in_train"))
    return leaks


def _leak(report: _Report) -> None:
    """Per network, the original frame split's test accuracy against ours (table and interval plots)."""

    study = report.run.studies.get("genre")
    if study is None:
        report.skip("leak", "no genre study in this run")
        return
    pairs = leak_pairs(study.networks)
    if not pairs:
        report.skip("leak", "no network was run under both the seed-frame split and one of ours")
        return
    leaks = _split_leaks(study)
    flow = _Flow(SECTIONS["leak"])
    measured = ", ".join(f"{m} split {_pct(v)}" for m, v in leaks.items()) or DASH
    table = leak_table(study.networks, study.folder)
    splits = [
        c.removeprefix("track acc., ").removesuffix(" split")
        for c in table
        if c.startswith("track acc., ")
    ]
    flow.para(
        "The original protocol splits 3 s frames at random: test frames come from songs whose other "
        "(overlapping) frames were trained on. Each network below was trained and tested under that "
        "frame split (seed-frame) and under our splits: by song (no song on two sides) and by artist "
        "(no artist on two sides, the default). Frame leak = frame split minus song split (songs heard "
        "in training); artist leak = song split minus the artist-disjoint split (artists heard in "
        f"training). Measured share of test frames whose song is in train: {measured}."
    )
    leaks_shown = [c for c in ("frame leak", "artist leak", "total leak") if c in table]
    rows = []
    for r in table.to_dict("records"):
        rows.append(
            [f"{r['experiment']}: {r['model']}"]
            + [_num(r.get(f"track acc., {m} split")) for m in splits]
            + [
                "degenerate"
                if _missing(r.get(c)) and isinstance(r.get("note"), str)
                else _ci(r.get(c), r.get(f"{c}_low"), r.get(f"{c}_high"))
                for c in leaks_shown
            ]
        )
    flow.table(
        ["network"]
        + [f"{m} split:\ntrack acc." for m in splits]
        + [c.replace(" ", "\n", 1) for c in leaks_shown],
        rows,
        size=8.5,
        note="accuracy on test tracks (probabilities averaged over a track's frames); each leak with a 95 % "
        "bootstrap interval (the two splits' test sets resampled independently, by class); a degenerate "
        "model's gap is its collapse, not a leak",
    )
    report.add("leak", flow.pages)
    nets = results_for_display(pd.DataFrame([r for pair in pairs for r in pair]))
    nets = nets.drop_duplicates(["model", "split"])
    n_classes = _n_classes(study)
    for metric, what in (("accuracy", "test tracks"), ("frame_accuracy", "test frames")):
        if nets[metric].notna().any():
            report.add(
                "leak",
                plots.interval_plot(
                    nets,
                    metric,
                    chance=1.0 / n_classes if n_classes else None,
                    title=f"Accuracy on {what} per split, 95 % interval",
                ),
            )


def _n_classes(study: StudyResults) -> int | None:
    """The number of classes (tags) of the study's first feature store."""
    for store in study.stores():
        return len(read_json(store / StoreFiles.MANIFEST).get("classes", [])) or None
    return None


# ------------------------------------------------------------------------------ 6. confusion matrices
def _confusions(report: _Report) -> None:
    """The test-track confusion matrix of every network under our split, several per page."""
    study = report.run.studies.get("genre")
    if study is None:
        report.skip("confusion", "no genre study in this run")
        return
    panels = []
    for rec in study.networks.drop_duplicates("source").to_dict("records"):
        if rec["split"] == "seed-frame":
            continue
        path = ModelDir(study.source(rec)).metrics
        if not path.is_file():
            continue
        conf = read_json(path).get("test", {}).get("track", {}).get("confusion")
        if conf:
            panels.append(
                (
                    f"{rec['experiment']}: {rec['model']}\n{rec['split']} split, test accuracy "
                    f"{_num(rec.get('accuracy'))}",
                    np.asarray(conf["matrix"], dtype=float),
                    conf["classes"],
                )
            )
    if not panels:
        report.skip(
            "confusion", "no metrics.json with a confusion matrix for a network under our split"
        )
        return
    max_rows, max_cols = CONFUSIONS_PER_PAGE
    per_page = max_rows * max_cols
    for start in range(0, len(panels), per_page):
        chunk = panels[start : start + per_page]
        cols = min(max_cols, len(chunk))
        rows = -(-len(chunk) // cols)
        fig = Figure(figsize=PAGE, layout="constrained")
        page = start // per_page + 1
        pages = -(-len(panels) // per_page)
        fig.suptitle(
            "Confusion matrices of the networks under our split (test tracks, rows normalised: recall)"
            + (f" ({page} of {pages})" if pages > 1 else ""),
            fontweight="bold",
        )
        axes = fig.subplots(rows, cols, squeeze=False).ravel()
        mesh = None
        for ax, (title, matrix, classes) in zip(axes, chunk):
            mesh = _confusion_panel(
                ax, matrix, classes, title, fontsize={1: 8.0, 2: 6.5}.get(len(chunk), 5.0)
            )
        for ax in axes[len(chunk) :]:
            ax.set_axis_off()
        if mesh is not None:
            fig.colorbar(mesh, ax=list(axes), shrink=0.6, label="recall (fraction of the true row)")
        report.add("confusion", fig)


def _confusion_panel(
    ax, matrix: np.ndarray, classes: Sequence[str], title: str, fontsize: float = 5.0
):
    """One row-normalised confusion matrix as vector cells, annotated for up to 12 classes."""
    shown = plots.row_normalised(matrix)
    n = len(classes)
    mesh = ax.pcolormesh(
        np.arange(n + 1),
        np.arange(n + 1),
        shown,
        cmap="Blues",
        vmin=0,
        vmax=1,
        edgecolors="white",
        linewidth=0.3,
    )
    if n <= 12:
        for i in range(n):
            for j in range(n):
                if np.isfinite(shown[i, j]):
                    ax.text(
                        j + 0.5,
                        i + 0.5,
                        f"{shown[i, j]:.2f}",
                        ha="center",
                        va="center",
                        fontsize=fontsize,
                        color="white" if shown[i, j] > 0.6 else "black",
                    )
    ax.set_xlim(0, n)
    ax.set_ylim(n, 0)
    ax.set_aspect("equal")
    ax.set_xticks(
        np.arange(n) + 0.5, classes, rotation=60, ha="right", rotation_mode="anchor", fontsize=6
    )
    ax.set_yticks(np.arange(n) + 0.5, classes, fontsize=6)
    ax.set_xlabel("predicted", fontsize=7)
    ax.set_ylabel("true", fontsize=7)
    ax.set_title(title, fontsize=8)
    return mesh


# ------------------------------------------------------------------------------ 7. classical
def _classical(report: _Report) -> None:
    """The classical baselines under the original protocol and ours."""

    study = report.run.studies.get("genre")
    if study is None:
        report.skip("classical", "no genre study in this run")
        return
    table = study.classical
    if table.empty:
        report.skip("classical", "the genre study has no classical baselines")
        return
    shown = results_for_display(table)
    metrics = [
        m for m in ("accuracy", "f1_macro", "roc_auc") if m in shown and shown[m].notna().any()
    ]
    how = "; ".join(
        f"{p}: {s}"
        for p, s in table.drop_duplicates("protocol")[["protocol", "split"]].itertuples(index=False)
    )
    report.add(
        "classical",
        _results_pages(
            shown,
            metrics,
            "Classical baselines on the hand-crafted features: original protocol vs ours",
            how,
        ),
    )


# ------------------------------------------------------------------------------ 8. beside the original
def _beside(report: _Report) -> None:
    """The original study's reported accuracies (:func:`musiclass.reference.beside`) beside ours."""

    study = report.run.studies.get("genre")
    if study is None:
        report.skip("beside", "no genre study in this run")
        return
    table = reference.beside(study.table)
    ran = (
        table.drop(columns=["experiment", "model", "original reported accuracy"])
        .notna()
        .any(axis=1)
    )
    if not ran.any():
        report.skip(
            "beside",
            "none of the original study's models (experiment and model names of "
            "configs/genre/) is in this run",
        )
        return
    flow = _Flow(SECTIONS["beside"])
    flow.para(
        "The accuracies the original study reported (test set of its frame split; classical: one 70/30 split, "
        "scaler fitted on all clips) beside ours on test tracks, under the original protocol and ours, with "
        "95 % intervals. They are not comparable one to one: the original tested frames of songs it also "
        "trained on and computed its classical 'AUC' from hard labels. From the literature: GTZAN "
        + reference.GTZAN_NOTE
        + "."
    )
    rows = []
    for i, r in table.iterrows():
        mine = [
            (
                r.get(f"ours, {p}"),
                r.get(f"ours, {p} low"),
                r.get(f"ours, {p} high"),
                r.get(f"ours, {p}, frames"),
            )
            for p in ("original protocol", "our protocol")
        ]
        rows.append(
            [
                r["experiment"],
                r["model"],
                _num(r["original reported accuracy"]),
                *(cell for v, lo, hi, frames in mine for cell in (_ci(v, lo, hi), _num(frames))),
                "" if ran[i] else "not in this run",
            ]
        )
    flow.table(
        [
            "experiment",
            "model",
            "original\nreported",
            "ours, original protocol\n(test tracks)",
            "ours, original protocol\n(test frames)",
            "ours, our protocol\n(test tracks)",
            "ours, our protocol\n(test frames)",
            "",
        ],
        rows,
        size=8.5,
    )
    field = reference.field_beside(study.table)
    flow.heading("The field on the artist-filtered GTZAN split, beside ours", size=10.5)
    flow.para(reference.FIELD_SOURCE + "; ours: our protocol, test tracks, 95 % intervals.")
    flow.table(
        ["reference", "reported", "ours", "ours, accuracy", "ours, split"],
        [
            [
                r["reference"],
                _num(r["reported accuracy"]),
                r["ours"],
                _ci(r["ours, accuracy"], r["ours low"], r["ours high"]),
                "" if pd.isna(r["ours, split"]) else str(r["ours, split"]),
            ]
            for _, r in field.iterrows()
        ],
        size=8.5,
    )
    recall_source = study.networks[
        (study.networks["model"] == "cnn-7-mel") & (study.networks["split"] != "seed-frame")
    ]
    if not recall_source.empty:
        path = ModelDir(study.source(recall_source.iloc[0])).metrics
        if path.is_file():
            per_class = read_json(path).get("test", {}).get("track", {}).get("per_class", {})
            if per_class:
                flow.heading(
                    "CNN-7: per-genre recall, the original's (frame split) beside ours (test tracks)",
                    size=10.5,
                    keep=flow.height(len(per_class)),
                )
                flow.table(
                    [
                        "genre",
                        "original reported",
                        f"ours ({recall_source.iloc[0]['split']} split)",
                    ],
                    [
                        [
                            g,
                            _num(reference.CNN7_RECALL.get(g)),
                            _recall_cell(per_class.get(g, {})),
                        ]
                        for g in per_class
                    ],
                    size=8,
                )
    report.add("beside", flow.pages)


def _recall_cell(entry: dict) -> str:
    """A class's test recall, or "n/a (no test tracks)" for a class the test part lacks."""
    return NO_TEST_TRACKS if entry.get("support") == 0 else _num(entry.get("recall"))


# ------------------------------------------------------------------------------ 9. mood
def _mood(report: _Report) -> None:
    """Mood results, per-tag ROC-AUC of the base model, resampled tag counts, MediaEval references."""

    study = report.run.studies.get("mood")
    if study is None:
        report.skip("mood", "no mood study in this run")
        return
    table = study.table
    shown = results_for_display(table)
    metrics = [m for m in MOOD_TABLE_METRICS if m in shown and shown[m].notna().any()]
    report.add(
        "mood",
        _results_pages(
            shown,
            metrics,
            "Mood tagging: test-track ROC-AUC, PR-AUC (macro) and F1, 95 % bootstrap interval",
            "original protocol = random split of frames (seed-frame); ours = the official track split; F1 at "
            "per-tag thresholds chosen on validation",
        ),
    )
    notes = []
    base = base_tagger(table)
    path = ModelDir(study.source(base.iloc[0])).metrics if not base.empty else None
    if path is not None and path.is_file():
        per_tag = read_json(path).get("test", {}).get("track", {}).get("per_tag")
        if per_tag:
            frame = pd.DataFrame(per_tag).T
            cols = [c for c in ("roc_auc", "support") if c in frame]
            report.add(
                "mood",
                plots.per_tag_auc(
                    frame[cols].astype(float),
                    metric="roc_auc",
                    title=f"Per-tag ROC-AUC on test tracks: {base.iloc[0]['experiment']}: {base.iloc[0]['model']} "
                    f"(official split)",
                ),
            )
    else:
        notes.append("per-tag ROC-AUC left out: no base model trained on the official split")
    counts = _resampled_counts(study)
    if isinstance(counts, pd.DataFrame):
        report.add(
            "mood",
            plots.resampled_counts(
                counts, title="Training frames per tag in each resampled set (official split)"
            ),
        )
    else:
        notes.append(f"resampled tag counts left out: {counts}")
    flow = _Flow("Mood tagging beside the MediaEval references")
    ours = table[table["split"] == "official"]
    ours = ours if not ours.empty else table
    rows = []
    for name, (roc, pr) in reference.MEDIAEVAL.items():
        rows.append(
            [
                f"MediaEval: {name}",
                _num(roc, 4),
                _num(pr, 4),
                "MTG-Jamendo split-0 test, 4,231 tracks, 56 tags",
            ]
        )
    for metric, label in (("roc_auc_macro", "ROC-AUC"), ("pr_auc_macro", "PR-AUC")):
        # the configuration is chosen on validation, then reported on test
        best = best_on_validation(ours, metric)
        if best is not None:
            cells = {
                m: _ci(best.get(m), best.get(f"{m}_low"), best.get(f"{m}_high"))
                for m in ("roc_auc_macro", "pr_auc_macro")
            }
            rows.append(
                [
                    f"ours, best validation {label} macro: {best['experiment']}: {best['model']}",
                    cells["roc_auc_macro"],
                    cells["pr_auc_macro"],
                    f"this run, {best['split']} split, {best.get('test_tracks', DASH)} "
                    f"test tracks, {_n_classes(study) or DASH} tags",
                ]
            )
    rows.append(
        [
            "the original study's best 'AUC' (binarised predictions)",
            _num(reference.MOOD_BEST_AUC),
            DASH,
            "its random frame split, 35 tags; resampled sets "
            f"{reference.MOOD_RESAMPLED_AUC_RANGE[0]:.2f}-{reference.MOOD_RESAMPLED_AUC_RANGE[1]:.2f}",
        ]
    )
    flow.para(
        "Our configuration with the best validation ROC-AUC (and PR-AUC) macro, scored on the test tracks "
        "(computed as the MediaEval 2019 task computes them), beside the task's published figures; "
        "nothing is chosen on test. They are comparable only on the real data: the MediaEval "
        "figures are on MTG-Jamendo's split-0 test set."
    )
    flow.table(["system", "ROC-AUC macro", "PR-AUC macro", "test set"], rows, size=8.5)
    for note in notes:
        flow.para(note, color="dimgray", style="italic")
        report.echo(f"report: {note}")
    report.add("mood", flow.pages)


def _resampled_counts(study: StudyResults) -> pd.DataFrame | str:
    """Training frames per tag of the base set and the 8 resampled sets (official split), or why not."""
    for store_dir in study.stores():
        if not SplitFolder(store_dir).split("official").is_file():
            continue
        try:
            return resampled_counts(FeatureStore(store_dir), "official", seed=42)
        except Exception as exc:  # a store this version cannot read: say so, keep the rest
            return f"{store_dir}: {exc}"
    return "no store with an official split"
