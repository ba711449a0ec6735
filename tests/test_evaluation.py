"""Metrics against hand-worked cases and scikit-learn; track aggregation; bootstrap and paired tests."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)

from musiclass import evaluation as ev
from musiclass.errors import MusiclassError

CLASSES3 = ("c0", "c1", "c2")

# Hand-worked 3-class example, 6 samples.
#   y_true = 0 0 1 1 2 2, argmax of PROBS6 = 0 1 1 1 2 0
#   confusion (rows true, columns predicted):   [[1, 1, 0],
#                                                 [0, 2, 0],
#                                                 [1, 0, 1]]
#   accuracy = 4/6 = 2/3
#   precision per class = 1/2, 2/3, 1/1  -> macro (1/2 + 2/3 + 1) / 3 = 13/18
#   recall    per class = 1/2, 2/2, 1/2  -> macro 2/3
#   F1        per class = 1/2, 4/5, 2/3  -> macro (15 + 24 + 20) / 30 / 3 = 59/90
#   ROC-AUC one-vs-rest from probabilities (positives vs negatives, pairs won / pairs):
#     class 0: pos .7 .3, neg .1 .2 .1 .5 -> (4 + 3) / 8 = 7/8
#     class 1: pos .8 .5, neg .2 .6 .2 .1 -> (4 + 3) / 8 = 7/8
#     class 2: pos .7 .4, neg .1 .1 .1 .3 -> (4 + 4) / 8 = 1
#     macro = (7/8 + 7/8 + 1) / 3 = 11/12
#   hard-label AUC (one point per curve: (TPR + TNR) / 2):
#     class 0: TPR 1/2, FPR 1/4 -> 5/8; class 1: TPR 1, FPR 1/4 -> 7/8; class 2: TPR 1/2, FPR 0 -> 3/4
#     macro = 3/4
Y6 = np.array([0, 0, 1, 1, 2, 2])
PROBS6 = np.array(
    [
        [0.7, 0.2, 0.1],
        [0.3, 0.6, 0.1],
        [0.1, 0.8, 0.1],
        [0.2, 0.5, 0.3],
        [0.1, 0.2, 0.7],
        [0.5, 0.1, 0.4],
    ]
)


def random_frames(n_tracks=60, frames=(3, 8), k=4, seed=0, signal=1.5):
    """Frames of tracks with a per-track effect (frames of a track are correlated)."""
    rng = np.random.default_rng(seed)
    n_per = rng.integers(frames[0], frames[1] + 1, n_tracks)
    track_y = np.arange(n_tracks) % k
    unit = np.repeat(np.arange(n_tracks), n_per)
    y = track_y[unit]
    logits = (
        signal * np.eye(k)[y]
        + rng.normal(size=(n_tracks, k))[unit]
        + 0.7 * rng.normal(size=(len(y), k))
    )
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    ids = np.array([f"track{u:04d}" for u in unit])
    return p, y, ids, unit


# ---------------------------------------------------------------- classification_metrics


def test_hand_worked_three_class_example():
    m = ev.classification_metrics(Y6, PROBS6, CLASSES3)
    assert m["n"] == 6
    assert m["accuracy"] == pytest.approx(2 / 3)
    assert m["precision_macro"] == pytest.approx(13 / 18)
    assert m["recall_macro"] == pytest.approx(2 / 3)
    assert m["f1_macro"] == pytest.approx(59 / 90)
    assert m["roc_auc_ovr_macro"] == pytest.approx(11 / 12)
    np.testing.assert_array_equal(m["confusion"].to_numpy(), [[1, 1, 0], [0, 2, 0], [1, 0, 1]])
    assert m["per_class"]["c0"] == pytest.approx(
        {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    )
    assert m["per_class"]["c1"] == pytest.approx(
        {"precision": 2 / 3, "recall": 1.0, "f1": 0.8, "support": 2}
    )
    assert m["per_class"]["c2"] == pytest.approx(
        {"precision": 1.0, "recall": 0.5, "f1": 2 / 3, "support": 2}
    )
    assert m["notes"] == []


def test_metrics_equal_sklearn_on_random_data():
    p, y, _, _ = random_frames(n_tracks=80, k=5, seed=3)
    m = ev.classification_metrics(y, p, list("abcde"))
    pred = p.argmax(axis=1)
    assert m["accuracy"] == pytest.approx(accuracy_score(y, pred))
    assert m["precision_macro"] == pytest.approx(precision_score(y, pred, average="macro"))
    assert m["recall_macro"] == pytest.approx(recall_score(y, pred, average="macro"))
    assert m["f1_macro"] == pytest.approx(f1_score(y, pred, average="macro"))
    assert m["roc_auc_ovr_macro"] == pytest.approx(
        roc_auc_score(y, p, multi_class="ovr", average="macro")
    )
    np.testing.assert_array_equal(m["confusion"].to_numpy(), confusion_matrix(y, pred))


def test_confusion_rows_are_true_classes():
    y = np.array([0, 0, 0, 2])
    p = np.array([[0.1, 0.8, 0.1]] * 3 + [[0.1, 0.1, 0.8]])  # every c0 predicted as c1
    conf = ev.classification_metrics(y, p, CLASSES3)["confusion"]
    assert conf.index.name == "true" and conf.columns.name == "predicted"
    assert list(conf.index) == list(CLASSES3) and list(conf.columns) == list(CLASSES3)
    assert conf.loc["c0", "c1"] == 3 and conf.loc["c1", "c0"] == 0 and conf.loc["c2", "c2"] == 1
    assert conf.to_numpy().sum(axis=1).tolist() == [3, 0, 1]  # row sums = true supports


def test_auc_is_nan_with_a_note_when_a_class_is_absent():
    y = np.array([0, 0, 1, 1])
    p = np.array([[0.6, 0.3, 0.1], [0.5, 0.3, 0.2], [0.2, 0.7, 0.1], [0.3, 0.3, 0.4]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = ev.classification_metrics(y, p, CLASSES3)
    assert np.isnan(m["roc_auc_ovr_macro"])
    assert any("c2" in note for note in m["notes"])
    # absent class still counted (labels=range(k)): its F1 is 0 in the macro average, as in sklearn
    assert m["f1_macro"] == pytest.approx(
        f1_score(y, p.argmax(1), labels=[0, 1, 2], average="macro", zero_division=0)
    )
    assert m["per_class"]["c2"]["support"] == 0


def test_two_classes_auc_is_binary_auc():
    rng = np.random.default_rng(0)
    p1 = rng.random(30)
    y = (rng.random(30) < p1).astype(int)
    y[:2] = [0, 1]
    m = ev.classification_metrics(y, np.c_[1 - p1, p1], ["neg", "pos"])
    assert m["roc_auc_ovr_macro"] == pytest.approx(roc_auc_score(y, p1))


@pytest.mark.parametrize(
    "y, probs, classes, match",
    [
        (Y6, PROBS6[:, :2] / PROBS6[:, :2].sum(1, keepdims=True), CLASSES3, "3 class names"),
        (Y6[:5], PROBS6, CLASSES3, "5 entries"),
        (Y6, PROBS6.ravel(), CLASSES3, "2-D"),
        (
            Y6,
            np.where(np.arange(18).reshape(6, 3) == 4, np.nan, PROBS6),
            CLASSES3,
            "NaN or infinite",
        ),
        (Y6, PROBS6 * 2, CLASSES3, r"\[0, 1\]"),
        (Y6, PROBS6 * 0.9, CLASSES3, "sum to 1"),
        (Y6 + 1, PROBS6, CLASSES3, "outside 0..2"),
        (Y6.astype(str), PROBS6, CLASSES3, "integer"),
        (Y6, PROBS6, ("a", "a", "b"), "unique"),
        (Y6, PROBS6[:0], CLASSES3, "no rows"),
    ],
)
def test_input_validation(y, probs, classes, match):
    with pytest.raises(ValueError, match=match) as info:
        ev.classification_metrics(y, probs, classes)
    assert isinstance(info.value, MusiclassError)


# ---------------------------------------------------------------- track aggregation


def test_track_probabilities_means_in_order_of_first_appearance():
    ids = np.array(["b", "a", "b", "a", "b"])
    p = np.array([[0.4, 0.6], [0.2, 0.8], [0.4, 0.6], [0.6, 0.4], [0.9, 0.1]])
    tracks, tp = ev.track_probabilities(p, ids)
    assert tracks.tolist() == ["b", "a"] and tracks.dtype.kind == "U"
    np.testing.assert_allclose(tp, [[1.7 / 3, 1.3 / 3], [0.4, 0.6]])
    # track "b": 2 of 3 frames vote class 1, but the mean probability picks class 0
    frames_b = p[ids == "b"].argmax(axis=1)
    assert np.bincount(frames_b).argmax() == 1 and tp[0].argmax() == 0


def test_track_probabilities_accepts_integer_ids():
    tracks, tp = ev.track_probabilities(np.full((4, 2), 0.5), np.array([7, 3, 7, 3]))
    assert tracks.tolist() == ["7", "3"] and tp.shape == (2, 2)


def test_evaluate_track_level_uses_mean_probabilities():
    ids = np.array(["b", "a", "b", "a", "b"])
    p = np.array([[0.4, 0.6], [0.2, 0.8], [0.4, 0.6], [0.6, 0.4], [0.9, 0.1]])
    y = np.array([0, 1, 0, 1, 0])
    e = ev.evaluate(p, y, ids, ["x", "y"], n_boot=0)
    assert e.tracks.tolist() == ["b", "a"] and e.track_labels.tolist() == [0, 1]
    assert e.track["accuracy"] == 1.0  # both tracks right at track level
    assert e.frame["accuracy"] == pytest.approx(2 / 5)  # frames 1, 4 (0-based) and 0, 2 wrong
    assert np.isnan(e.intervals["track"]["accuracy"][0]) and np.isnan(
        e.intervals["frame"]["roc_auc"][1]
    )


def test_evaluate_rejects_a_track_with_mixed_labels():
    p = np.full((4, 2), 0.5)
    with pytest.raises(ValueError, match="1 track.*different labels: t2"):
        ev.evaluate(p, [0, 0, 1, 0], ["t1", "t1", "t2", "t2"], ["x", "y"], n_boot=0)


def test_evaluate_validates_inputs():
    p = np.full((4, 2), 0.5)
    with pytest.raises(ValueError, match="track_ids has 3 entries"):
        ev.evaluate(p, [0, 0, 1, 1], ["a", "a", "b"], ["x", "y"], n_boot=0)
    with pytest.raises(ValueError, match="frame_labels has 3"):
        ev.evaluate(p, [0, 0, 1], ["a", "a", "b", "b"], ["x", "y"], n_boot=0)
    with pytest.raises(ValueError, match="level"):
        ev.evaluate(p, [0, 0, 1, 1], ["a", "a", "b", "b"], ["x", "y"], level=95)
    with pytest.raises(ValueError, match="n_boot"):
        ev.evaluate(p, [0, 0, 1, 1], ["a", "a", "b", "b"], ["x", "y"], n_boot=-1)


# ---------------------------------------------------------------- bootstrap


def test_bootstrap_interval_contains_point_and_narrows_with_n():
    rng = np.random.default_rng(0)
    widths = []
    for n in (50, 800):
        right = (rng.random(n) < 0.8).astype(float)
        point, low, high = ev.bootstrap_ci(np.mean, right, n_boot=300, seed=1)
        assert low <= point <= high
        widths.append(high - low)
    assert widths[1] < widths[0] / 2  # width ~ 1/sqrt(n): 4x narrower expected


def test_bootstrap_is_deterministic_given_a_seed():
    x = np.random.default_rng(5).random(40)
    assert ev.bootstrap_ci(np.mean, x, n_boot=200, seed=3) == ev.bootstrap_ci(
        np.mean, x, n_boot=200, seed=3
    )
    assert ev.bootstrap_ci(np.mean, x, n_boot=200, seed=3) != ev.bootstrap_ci(
        np.mean, x, n_boot=200, seed=4
    )


def test_bootstrap_ci_and_cluster_bootstrap_draw_the_same_resamples():
    seen = []

    def record(rows):
        seen.append(rows.copy())
        return 0.0

    ev.bootstrap_ci(record, np.arange(7), n_boot=5, seed=11)
    np.testing.assert_array_equal(np.array(seen[1:]), ev._bootstrap_indices(7, 5, 11))


def test_cluster_bootstrap_equals_sklearn_on_explicit_resamples():
    p, y, _, unit = random_frames(n_tracks=30, k=4, seed=2)
    p = np.round(p, 1)  # many tied scores
    p /= p.sum(axis=1, keepdims=True)
    idx = ev._bootstrap_indices(30, 12, seed=0)
    reps = ev._cluster_bootstrap(y, p, unit, 30, idx)
    for b in range(len(idx)):
        frames = np.concatenate(
            [np.flatnonzero(unit == t) for t in idx[b]]
        )  # all frames of drawn tracks
        yy, pp = y[frames], p[frames]
        assert reps["accuracy"][b] == pytest.approx(accuracy_score(yy, pp.argmax(1)), abs=1e-12)
        assert reps["f1_macro"][b] == pytest.approx(
            f1_score(yy, pp.argmax(1), labels=range(4), average="macro", zero_division=0), abs=1e-12
        )
        if len(np.unique(yy)) == 4:
            assert reps["roc_auc"][b] == pytest.approx(
                roc_auc_score(yy, pp, multi_class="ovr", labels=range(4)), abs=1e-12
            )
        else:
            assert np.isnan(reps["roc_auc"][b])


def test_frame_interval_equals_track_interval_when_frames_repeat_their_track():
    # every track has 4 identical frames: resampling tracks gives the same frame and track metrics
    p_tracks, y_tracks, _, _ = random_frames(n_tracks=40, frames=(1, 1), k=3, seed=4, signal=0.8)
    p = np.repeat(p_tracks, 4, axis=0)
    y = np.repeat(y_tracks, 4)
    ids = np.repeat([f"t{i}" for i in range(40)], 4)
    e = ev.evaluate(p, y, ids, CLASSES3, n_boot=200, seed=9)
    for key in ("accuracy", "f1_macro", "roc_auc"):
        assert e.intervals["frame"][key] == pytest.approx(e.intervals["track"][key], abs=1e-12)
    row = e.table().set_index("level")
    assert row.loc["frame", "accuracy"] == pytest.approx(row.loc["track", "accuracy"])


def test_frame_interval_is_wider_than_a_naive_frame_bootstrap():
    # correlated frames: resampling frames as if independent would understate the uncertainty
    p, y, ids, _ = random_frames(n_tracks=60, frames=(8, 8), k=3, seed=6, signal=1.0)
    e = ev.evaluate(p, y, ids, CLASSES3, n_boot=200, seed=0)
    _, lo, hi = ev.bootstrap_ci(
        lambda a, b: accuracy_score(a, b), y, p.argmax(1), n_boot=200, seed=0
    )
    clo, chi = e.intervals["frame"]["accuracy"]
    assert clo <= e.frame["accuracy"] <= chi
    assert chi - clo > 1.3 * (hi - lo)


def test_cluster_bootstrap_at_full_size():
    # its speed is measured in benchmarks/bootstrap_bench.py, never asserted here
    p, y, _, unit = random_frames(n_tracks=400, frames=(10, 10), k=10, seed=1)
    idx = ev._bootstrap_indices(400, 1000, 0)
    reps = ev._cluster_bootstrap(y, p, unit, 400, idx)
    assert np.isfinite(reps["roc_auc"]).all() and len(reps["accuracy"]) == 1000
    assert ((reps["accuracy"] >= 0) & (reps["accuracy"] <= 1)).all()


def test_evaluation_outputs():
    p, y, ids, _ = random_frames(n_tracks=30, k=3, seed=8)
    e = ev.evaluate(p, y, ids, CLASSES3, n_boot=100, seed=0)
    assert e.n_tracks == 30 and e.n_frames == len(y)
    table = e.table()
    assert table.columns.tolist() == [
        "level",
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
    ]
    assert table["level"].tolist() == ["frame", "track"]
    for _, r in table.iterrows():
        assert r.accuracy_low <= r.accuracy <= r.accuracy_high
        assert r.f1_low <= r.f1_macro <= r.f1_high
        assert r.roc_auc_low <= r.roc_auc <= r.roc_auc_high
    pc = e.per_class()
    assert pc.index.tolist() == list(CLASSES3) and pc.columns.tolist() == [
        "recall",
        "precision",
        "f1",
        "support",
    ]
    assert pc["support"].sum() == 30
    d = json.loads(json.dumps(e.to_dict(predictions=True), allow_nan=False))
    assert d["track"]["confusion"]["classes"] == list(CLASSES3)
    assert np.array(d["track"]["confusion"]["matrix"]).sum() == 30
    assert d["frame"]["intervals"]["accuracy"] == list(e.intervals["frame"]["accuracy"])
    assert len(d["predictions"]["tracks"]) == 30


def test_to_dict_writes_nan_as_null():
    y = np.array([0, 0, 1, 1])  # class c2 absent -> AUC NaN
    p = np.array([[0.6, 0.3, 0.1], [0.5, 0.3, 0.2], [0.2, 0.7, 0.1], [0.3, 0.3, 0.4]])
    e = ev.evaluate(p, y, ["a", "b", "c", "d"], CLASSES3, n_boot=20)
    d = e.to_dict()
    assert d["track"]["roc_auc_ovr_macro"] is None and d["track"]["intervals"]["roc_auc"] == [
        None,
        None,
    ]
    json.dumps(d, allow_nan=False)


# ---------------------------------------------------------------- paired comparison


def test_paired_identical_models():
    p, y, _, _ = random_frames(n_tracks=40, frames=(1, 1), k=3, seed=1)
    r = ev.paired_comparison(y, p, p, n_boot=200)
    assert r["accuracy_diff"] == 0 and r["accuracy_diff_low"] == 0 and r["accuracy_diff_high"] == 0
    assert r["f1_macro_diff"] == 0
    assert r["n01"] == 0 and r["n10"] == 0 and r["p_value"] == 1.0
    assert r["verdict"].startswith("no significant difference")


def test_paired_mcnemar_exact_with_ten_discordant_pairs():
    y = np.zeros(30, dtype=int)
    right, wrong = [0.9, 0.1], [0.1, 0.9]
    a = np.array([right] * 20 + [wrong] * 10)
    b = np.array([right] * 30)
    r = ev.paired_comparison(y, a, b, n_boot=300, seed=0)
    assert (r["n01"], r["n10"]) == (10, 0)
    assert r["p_value"] == pytest.approx(2 * 0.5**10)
    assert r["accuracy_diff"] == pytest.approx(1 / 3)
    assert r["accuracy_diff_low"] > 0  # paired: b is never worse on any resample
    assert r["verdict"].startswith("b better than a")
    swapped = ev.paired_comparison(y, b, a, n_boot=50)
    assert (swapped["n01"], swapped["n10"]) == (0, 10) and swapped["verdict"].startswith(
        "a better than b"
    )


def test_paired_validation():
    with pytest.raises(ValueError, match="same shape"):
        ev.paired_comparison(Y6, PROBS6, PROBS6[:5])


# ---------------------------------------------------------------- the original study's (buggy) metrics


def test_seed_metrics_reproduce_the_bugs():
    s = ev.seed_metrics(Y6, PROBS6, CLASSES3)
    pred = PROBS6.argmax(axis=1)
    assert s["precision_macro"] == pytest.approx(precision_score(pred, Y6, average="macro"))
    assert s["recall_macro"] == pytest.approx(recall_score(pred, Y6, average="macro"))
    # swapped: the "precision" is the true recall (2/3) and the "recall" the true precision (13/18)
    assert s["precision_macro"] == pytest.approx(2 / 3) and s["recall_macro"] == pytest.approx(
        13 / 18
    )
    assert s["f1_macro"] == pytest.approx(59 / 90)
    assert s["roc_auc_macro"] == pytest.approx(11 / 12)
    assert s["hard_label_auc"] == pytest.approx(3 / 4)
    assert ev.hard_label_auc(Y6, PROBS6) == pytest.approx(
        roc_auc_score(Y6, np.eye(3)[pred], multi_class="ovr", average="macro")
    )
    assert s["per_class"]["c1"]["precision"] == pytest.approx(1.0)  # true recall of c1


def test_swapped_precision_recall_on_random_data():
    rng = np.random.default_rng(0)
    y, pred = rng.integers(0, 4, 50), rng.integers(0, 4, 50)
    prec, rec = ev.swapped_precision_recall(y, pred, 4)
    assert prec == pytest.approx(recall_score(y, pred, average="macro"))
    assert rec == pytest.approx(precision_score(y, pred, average="macro"))


def test_confusion_is_a_dataframe_and_per_class_table_is_labelled():
    m = ev.classification_metrics(Y6, PROBS6, CLASSES3)
    assert isinstance(m["confusion"], pd.DataFrame)
    assert set(m["per_class"]) == set(CLASSES3)
