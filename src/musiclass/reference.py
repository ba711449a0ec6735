"""The figures the original 2020 study reported, and reference figures from the field.

Read from the study's notebooks and report (see ``docs/protocol.md``, "The original study"). They
are shown beside ours in the notebooks and in ``report.pdf``; they are *not* comparable one to one:
the original tested frames of songs it also trained on (a random split of 3 s frames), computed its
classical "AUC" from hard labels, and scored mood tags after setting probabilities above 0.9 to 1
(see ``docs/protocol.md``, "Metric bugs").
"""

from __future__ import annotations

import pandas as pd

#: genre task, test set of the original frame split (CNNs, FNN) or 70/30 clip split (classical):
#: model -> (accuracy, F1, AUC); keys are the model names of our study configs
GENRE: dict[tuple[str, str], tuple[float, float, float]] = {
    ("exp1", "cnn-3-mel"): (0.866, 0.866, 0.987),
    ("exp1", "cnn-3-spectrogram"): (0.700, 0.686, 0.951),
    ("exp1", "mfcc-1d"): (0.611, 0.608, 0.920),
    ("exp2", "cnn-3-mel"): (0.856, 0.855, 0.985),
    ("exp2", "cnn-4-mel"): (0.890, 0.889, 0.990),
    ("exp2", "cnn-5-mel"): (0.878, 0.878, 0.990),
    ("exp2", "cnn-6-mel"): (0.888, 0.887, 0.993),
    ("exp2", "cnn-7-mel"): (0.892, 0.891, 0.991),
    ("fnn", "fnn-mel"): (0.200, 0.080, 0.681),
    ("classical", "lr"): (0.743, 0.745, 0.857),
    ("classical", "rf"): (0.730, 0.730, 0.850),
    ("classical", "gb"): (0.776, 0.775, 0.875),  # XGBoost in the original
    ("classical", "svm"): (0.746, 0.748, 0.859),
    ("classical", "knn"): (0.720, 0.723, 0.844),
}

#: CNN-7's per-genre recall in the original
CNN7_RECALL = {
    "blues": 0.947,
    "classical": 0.989,
    "country": 0.853,
    "disco": 0.868,
    "hiphop": 0.884,
    "jazz": 0.926,
    "metal": 0.926,
    "pop": 0.911,
    "reggae": 0.889,
    "rock": 0.726,
}

#: mood task: the original's best "AUC" (of binarised predictions, base set, frame split); every
#: resampled set scored .50-.57
MOOD_BEST_AUC = 0.620
MOOD_RESAMPLED_AUC_RANGE = (0.50, 0.57)

#: MTG-Jamendo mood/theme, MediaEval 2019, split-0 test (4,231 tracks, 56 tags): (ROC-AUC, PR-AUC), macro
MEDIAEVAL = {
    "VGG-ish baseline (2019)": (0.7258, 0.1077),
    "best 2019 entry": (0.7729, 0.1546),
    "2021 winner (about)": (0.775, 0.151),
}

#: the field on the artist-filtered GTZAN split (Kereliuk, Sturm & Larsen's lists: 443 / 197 / 290
#: clips), test accuracy: the baselines of Pons' sklearn-audio-transfer-learning, MFCCs + SVM and
#: VGGish embeddings + linear SVM, beside ours of the same kind. Keys: (experiment, model) of our rows
#: -> (what the field ran, its accuracy)
FIELD_SOURCE = (
    "J. Pons, sklearn-audio-transfer-learning (2019), "
    "https://github.com/jordipons/sklearn-audio-transfer-learning: artist-filtered GTZAN test accuracy"
)
FIELD_GTZAN_FILTERED: dict[tuple[str, str], tuple[str, float]] = {
    ("classical", "svm"): ("MFCC + SVM", 0.534),
    ("transfer", "svm"): ("VGGish embeddings + linear SVM", 0.772),
}

#: GTZAN in the literature
GTZAN_NOTE = (
    "random-split systems report 90 %+; the artist-filtered split (443 / 197 / 290 clips) drops "
    "typical systems to 70-80 %"
)


def genre_table() -> pd.DataFrame:
    """Return the original's genre results as a table: experiment, model, accuracy, f1, auc.

    Returns
    -------
    pandas.DataFrame
        One row per entry of :data:`GENRE`, with columns ``experiment``, ``model``, ``accuracy``,
        ``f1`` and ``auc``.

    Examples
    --------
    >>> from musiclass.reference import genre_table
    >>> t = genre_table()
    >>> t.shape
    (14, 5)
    >>> t.columns.tolist()
    ['experiment', 'model', 'accuracy', 'f1', 'auc']
    """
    return pd.DataFrame(
        [(e, m, *v) for (e, m), v in GENRE.items()],
        columns=["experiment", "model", "accuracy", "f1", "auc"],
    )


def beside(results: pd.DataFrame) -> pd.DataFrame:
    """Put our genre results (a ``results.csv`` table) beside the original's reported figures.

    One row per (experiment, model) the original reported: its accuracy, and our test-track accuracy
    with its interval under the original protocol and under ours.

    Parameters
    ----------
    results : pandas.DataFrame
        Our results, with columns ``experiment``, ``model``, ``protocol`` (a row whose protocol is
        ``"original protocol"`` is ours under the original protocol, any other under ours),
        ``accuracy`` and, where known, ``accuracy_low``, ``accuracy_high`` and ``frame_accuracy``.

    Returns
    -------
    pandas.DataFrame
        Columns ``experiment``, ``model`` and ``original reported accuracy``, then, for each
        protocol found (``<p>`` is ``original protocol`` or ``our protocol``):

        * ``ours, <p>``: our test-track accuracy;
        * ``ours, <p> low`` and ``ours, <p> high``: its interval;
        * ``ours, <p>, frames``: our frame accuracy, when known.

        Models we did not run have only the original's figure.
    """
    rows = []
    for (exp, model), (acc, _f1, _auc) in GENRE.items():
        mine = results[(results["experiment"] == exp) & (results["model"] == model)]
        row = {"experiment": exp, "model": model, "original reported accuracy": acc}
        for _, r in mine.iterrows():
            label = "original protocol" if r["protocol"] == "original protocol" else "our protocol"
            row[f"ours, {label}"] = r["accuracy"]
            row[f"ours, {label} low"] = r.get("accuracy_low")
            row[f"ours, {label} high"] = r.get("accuracy_high")
            if pd.notna(r.get("frame_accuracy")):
                row[f"ours, {label}, frames"] = r["frame_accuracy"]
        rows.append(row)
    return pd.DataFrame(rows)


def field_beside(results: pd.DataFrame) -> pd.DataFrame:
    """Put the field's artist-filtered GTZAN figures (:data:`FIELD_GTZAN_FILTERED`) beside ours.

    One row per reference system: what it is, its reported test accuracy, and our row of the same
    kind (the SVM on our descriptors, the SVM on the musicnn embeddings) under our protocol.

    Parameters
    ----------
    results : pandas.DataFrame
        Our genre results (a ``results.csv`` table), with columns ``experiment``, ``model``,
        ``protocol``, ``accuracy`` and, where known, ``accuracy_low``, ``accuracy_high`` and
        ``split``.

    Returns
    -------
    pandas.DataFrame
        Columns ``reference``, ``reported accuracy``, ``source``, ``ours`` (``experiment: model``),
        ``ours, accuracy``, ``ours low``, ``ours high`` and ``ours, split``; our columns are empty
        where the run has no such row.

    Examples
    --------
    >>> t = field_beside(pd.DataFrame(columns=["experiment", "model", "protocol", "accuracy"]))
    >>> t[["reference", "reported accuracy"]].values.tolist()
    [['MFCC + SVM', 0.534], ['VGGish embeddings + linear SVM', 0.772]]
    """
    rows = []
    for (exp, model), (what, acc) in FIELD_GTZAN_FILTERED.items():
        row = {
            "reference": what,
            "reported accuracy": acc,
            "source": "Pons, sklearn-audio-transfer-learning",
            "ours": f"{exp}: {model}",
        }
        mine = results[
            (results["experiment"] == exp)
            & (results["model"] == model)
            & (results["protocol"] != "original protocol")
        ]
        if not mine.empty:
            r = mine.iloc[0]
            row.update(
                {
                    "ours, accuracy": r["accuracy"],
                    "ours low": r.get("accuracy_low"),
                    "ours high": r.get("accuracy_high"),
                    "ours, split": r.get("split"),
                }
            )
        rows.append(row)
    columns = ["reference", "reported accuracy", "source", "ours", "ours, accuracy", "ours low"]
    return pd.DataFrame(rows).reindex(columns=[*columns, "ours high", "ours, split"])
