"""Multi-label tagging metrics (MediaEval 2019 style) against hand-worked cases and scikit-learn;
thresholds; the original's metrics; track aggregation; the vectorised bootstrap; re-scoring .npy files."""

from __future__ import annotations

import json
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    precision_recall_fscore_support,
    roc_auc_score,
)

from musiclass import evaluation as ev
from musiclass.errors import FileError, MusiclassError

# Hand-worked case: 4 samples, 2 tags.
#   tag A: y = 1 0 1 0, p = .9 .8 .4 .1
#     ROC-AUC: positives .9 .4 vs negatives .8 .1 -> pairs won: (.9>.8) (.9>.1) (.4>.1), lost (.4<.8) = 3/4
#     AP: ranked .9(+) .8(-) .4(+) .1(-): precision at each positive 1/1 and 2/3, recall step 1/2 each
#         -> 1/2 * 1 + 1/2 * 2/3 = 5/6
#   tag B: y = 0 1 1 0, p = .3 .6 .6 .6 (three-way tie at .6)
#     ROC-AUC: positives .6 .6 vs negatives .3 .6 -> 2 wins over .3, 2 ties with .6 (1/2 each) = 3/4
#     AP: one threshold .6 takes both positives and one negative: precision 2/3, recall step 1 -> 2/3
#   macro: ROC (3/4 + 3/4) / 2 = 3/4;  AP (5/6 + 2/3) / 2 = 3/4
#   micro (the 8 (sample, tag) pairs pooled): positives .9 .4 .6 .6, negatives .8 .1 .3 .6
#     ROC: .9 beats 4; .4 beats .1 .3 (2); each .6 beats .1 .3 and ties .6 (2.5) -> (4 + 2 + 5) / 16 = 11/16
#     AP: .9 (+): P 1, dR 1/4; .8 (-); .6 group (2+, 1-): P 3/5, dR 2/4; .4 (+): P 4/6, dR 1/4
#         -> 1/4 + 3/10 + 1/6 = 43/60
Y4 = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
P4 = np.array([[0.9, 0.3], [0.8, 0.6], [0.4, 0.6], [0.1, 0.6]])


def random_tags(n=120, k=7, seed=0, rate=0.2, signal=0.3, ties=False):
    rng = np.random.default_rng(seed)
    Y = (rng.random((n, k)) < rate).astype(int)
    Y[0], Y[1] = 1, 0  # every tag has both classes
    P = np.clip(signal * Y + (1 - signal) * rng.random((n, k)), 0, 1)
    if ties:
        P = np.round(P, 1)
    return Y, P


def tagged_frames(n_tracks=40, k=5, frames=(2, 5), seed=0):
    """Frames of tracks: the track's tags on every frame, correlated frame scores."""
    rng = np.random.default_rng(seed)
    n_per = rng.integers(frames[0], frames[1] + 1, n_tracks)
    unit = np.repeat(np.arange(n_tracks), n_per)
    track_Y = (rng.random((n_tracks, k)) < 0.3).astype(int)
    track_Y[0], track_Y[1] = 1, 0
    base = 0.35 * track_Y + 0.4 * rng.random((n_tracks, k))
    P = np.clip(base[unit] + 0.25 * rng.random((len(unit), k)), 0, 1)
    ids = np.array([f"t{u:03d}" for u in unit])
    return P, track_Y[unit], ids, unit


# ---------------------------------------------------------------- tagging_metrics


def test_equals_sklearn_on_random_data():
    Y, P = random_tags(seed=1)
    m = ev.tagging_metrics(Y, P, list("abcdefg"))
    assert m["roc_auc_macro"] == pytest.approx(roc_auc_score(Y, P, average="macro"), abs=1e-12)
    assert m["pr_auc_macro"] == pytest.approx(
        average_precision_score(Y, P, average="macro"), abs=1e-12
    )
    assert m["roc_auc_micro"] == pytest.approx(roc_auc_score(Y, P, average="micro"), abs=1e-12)
    assert m["pr_auc_micro"] == pytest.approx(
        average_precision_score(Y, P, average="micro"), abs=1e-12
    )
    per_roc = roc_auc_score(Y, P, average=None)
    per_ap = average_precision_score(Y, P, average=None)
    for j, t in enumerate("abcdefg"):
        assert m["per_tag"][t]["roc_auc"] == pytest.approx(per_roc[j])
        assert m["per_tag"][t]["pr_auc"] == pytest.approx(per_ap[j])
        assert m["per_tag"][t]["support"] == Y[:, j].sum()
        assert np.isnan(m["per_tag"][t]["threshold"]) and np.isnan(m["per_tag"][t]["f1"])
    assert m["n"] == 120 and m["n_tags"] == 7 and m["n_tags_macro"] == 7
    assert m["excluded_tags"] == [] and m["notes"] == []
    assert np.isnan(m["f1_macro"])  # no thresholds, no decisions


def test_hand_worked_two_tags():
    m = ev.tagging_metrics(Y4, P4, ["A", "B"])
    assert m["per_tag"]["A"]["roc_auc"] == pytest.approx(3 / 4)
    assert m["per_tag"]["A"]["pr_auc"] == pytest.approx(5 / 6)
    assert m["per_tag"]["B"]["roc_auc"] == pytest.approx(3 / 4)
    assert m["per_tag"]["B"]["pr_auc"] == pytest.approx(2 / 3)
    assert m["roc_auc_macro"] == pytest.approx(3 / 4)
    assert m["pr_auc_macro"] == pytest.approx(3 / 4)
    assert m["roc_auc_micro"] == pytest.approx(11 / 16)
    assert m["pr_auc_micro"] == pytest.approx(43 / 60)


def test_tags_without_both_classes_are_excluded_with_a_note():
    Y, P = random_tags(n=60, k=5, seed=2)
    Y[:, 1] = 0  # no positive
    Y[:, 3] = 1  # no negative
    tags = ["a", "b", "c", "d", "e"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = ev.tagging_metrics(Y, P, tags)
    keep = [0, 2, 4]
    assert m["roc_auc_macro"] == pytest.approx(
        roc_auc_score(Y[:, keep], P[:, keep], average="macro")
    )
    assert m["pr_auc_macro"] == pytest.approx(
        average_precision_score(Y[:, keep], P[:, keep], average="macro")
    )
    assert m["roc_auc_micro"] == pytest.approx(roc_auc_score(Y, P, average="micro"))  # every tag
    assert m["pr_auc_micro"] == pytest.approx(average_precision_score(Y, P, average="micro"))
    assert m["excluded_tags"] == ["b", "d"] and m["n_tags_macro"] == 3
    assert len(m["notes"]) == 1 and "no positive example: b" in m["notes"][0]
    assert "no negative example: d" in m["notes"][0]
    assert np.isnan(m["per_tag"]["b"]["roc_auc"]) and np.isnan(m["per_tag"]["d"]["pr_auc"])
    # what the exclusion avoids: scikit-learn raises (older versions) or warns and returns NaN, and
    # scores a tag without positives an AP of 0, which would drag pr_auc_macro down
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            assert np.isnan(roc_auc_score(Y, P, average="macro"))
        except ValueError:
            pass


def test_single_kept_tag_and_no_kept_tag():
    Y, P = random_tags(n=30, k=3, seed=3)
    Y[:, 1:] = 0
    m = ev.tagging_metrics(Y, P)
    assert m["roc_auc_macro"] == pytest.approx(roc_auc_score(Y[:, 0], P[:, 0]))
    assert m["excluded_tags"] == ["tag1", "tag2"]
    m0 = ev.tagging_metrics(np.zeros_like(Y), P)
    assert np.isnan(m0["roc_auc_macro"]) and np.isnan(m0["roc_auc_micro"]) and len(m0["notes"]) == 3


def test_decision_metrics_equal_sklearn():
    Y, P = random_tags(n=80, k=6, seed=4)
    thr = np.linspace(0.3, 0.6, 6)
    m = ev.tagging_metrics(Y, P, thresholds=thr)
    D = (P >= thr).astype(int)
    for avg in ("macro", "micro"):
        p, r, f, _ = precision_recall_fscore_support(Y, D, average=avg, zero_division=0)
        assert (m[f"precision_{avg}"], m[f"recall_{avg}"], m[f"f1_{avg}"]) == pytest.approx(
            (p, r, f)
        )
    p, r, f, _ = precision_recall_fscore_support(Y, D, average=None, zero_division=0)
    assert m["per_tag"]["tag2"]["threshold"] == pytest.approx(thr[2])
    assert m["per_tag"]["tag2"]["f1"] == pytest.approx(f[2])
    assert m["per_tag"]["tag5"]["precision"] == pytest.approx(p[5])
    assert ev.tagging_metrics(Y, P, thresholds=0.5)["f1_macro"] == pytest.approx(
        precision_recall_fscore_support(
            Y, (P >= 0.5).astype(int), average="macro", zero_division=0
        )[2]
    )


@pytest.mark.parametrize(
    "y, p, kw, match",
    [
        (Y4 * 2, P4, {}, "only 0 and 1"),
        (Y4[:3], P4, {}, "shape"),
        (Y4, P4.ravel(), {}, "2-D"),
        (Y4, np.where(P4 > 0.85, np.nan, P4), {}, "NaN or infinite"),
        (Y4, P4 * 2, {}, r"\[0, 1\]"),
        (Y4, P4, {"tags": ["a"]}, "1 tag names"),
        (Y4, P4, {"tags": ["a", "a"]}, "unique"),
        (Y4, P4, {"thresholds": [0.5, 0.5, 0.5]}, "one number per tag"),
        (Y4.astype(str), P4, {}, "0/1 numbers"),
    ],
)
def test_input_validation(y, p, kw, match):
    with pytest.raises(ValueError, match=match) as info:
        ev.tagging_metrics(y, p, **kw)
    assert isinstance(info.value, MusiclassError)


# ---------------------------------------------------------------- thresholds


def test_choose_thresholds_recovers_a_separating_threshold():
    # tag 0: positives score >= .6, negatives <= .4; tag 1: positives >= .75, negatives <= .7
    Y = np.array([[1, 0], [1, 1], [1, 0], [0, 1], [0, 0], [0, 0]])
    P = np.array([[0.6, 0.1], [0.9, 0.8], [0.7, 0.7], [0.4, 0.75], [0.1, 0.2], [0.3, 0.65]])
    thr = ev.choose_thresholds(Y, P, ["x", "y"])
    np.testing.assert_allclose(thr, [0.6, 0.75])  # the lowest positive score
    m = ev.tagging_metrics(Y, P, ["x", "y"], thresholds=thr)
    assert m["f1_macro"] == 1.0 and m["f1_micro"] == 1.0
    # on a grid, .5 and .6 both separate tag 0 (F1 = 1): ties go to the largest threshold
    grid = np.round(np.linspace(0, 1, 11), 1)
    np.testing.assert_allclose(ev.choose_thresholds(Y, P, grid=grid), [0.6, 0.7])
    # tag 1 on the grid: .7 keeps row 2 (a negative) -> F1 4/5; .8 loses row 3 -> 2/3; 0.7 is the best


def test_choose_thresholds_matches_f1_of_precision_recall_curve():
    Y, P = random_tags(n=100, k=4, seed=5)
    thr = ev.choose_thresholds(Y, P)
    for j in range(4):
        f1_best = max(
            precision_recall_fscore_support(
                Y[:, j], (P[:, j] >= t).astype(int), average="binary", zero_division=0
            )[2]
            for t in np.unique(P[:, j])
        )
        f1 = precision_recall_fscore_support(
            Y[:, j], (P[:, j] >= thr[j]).astype(int), average="binary"
        )[2]
        assert f1 == pytest.approx(f1_best)


def test_choose_thresholds_without_positives_gives_half_and_warns():
    Y, P = random_tags(n=20, k=3, seed=6)
    Y[:, 2] = 0
    with pytest.warns(UserWarning, match="0.5: c"):
        thr = ev.choose_thresholds(Y, P, ["a", "b", "c"])
    assert thr[2] == 0.5 and thr.shape == (3,)


# ---------------------------------------------------------------- the original's metrics


def test_seed_tagging_metrics_hand_worked():
    # binarised (P > .9, strictly): [[1,0,0],[0,1,0],[1,0,1]]   (the .9 of row 2 stays 0)
    #   exact match: row 0 only -> 1/3
    #   per row (P, R, F1): row 0 (1, 1, 1); row 1 true {1,2} pred {1}: (1, 1/2, 2/3);
    #                       row 2 true {0,1} pred {0,2}: (1/2, 1/2, 1/2)
    #   samples averages: P 5/6, R 2/3, F1 (1 + 2/3 + 1/2) / 3 = 13/18
    #   AUC of the binarised columns: tag 0 1, tag 1 (TPR 1/2, FPR 0) 3/4, tag 2 (TPR 0, FPR 1/2) 1/4 -> 2/3
    Y = np.array([[1, 0, 0], [0, 1, 1], [1, 1, 0]])
    P = np.array([[0.95, 0.2, 0.1], [0.5, 0.91, 0.3], [0.92, 0.9, 0.95]])
    s = ev.seed_tagging_metrics(Y, P)
    B = np.array([[1, 0, 0], [0, 1, 0], [1, 0, 1]])
    assert s["exact_match_accuracy"] == pytest.approx(1 / 3) == accuracy_score(Y, B)
    assert s["precision_samples"] == pytest.approx(5 / 6)
    assert s["recall_samples"] == pytest.approx(2 / 3)
    assert s["f1_samples"] == pytest.approx(13 / 18)
    assert s["auc_binarised"] == pytest.approx(2 / 3) == roc_auc_score(Y, B, average="macro")
    assert s["n_tags_auc"] == 3 and "comparison" in s["note"]


def test_seed_auc_on_binarised_predictions_equals_sklearn():
    Y, P = random_tags(n=90, k=6, seed=7, signal=0.5)
    Y[:, 4] = 0  # left out of the AUC
    s = ev.seed_tagging_metrics(Y, P)
    B = (P > 0.9).astype(int)
    keep = [0, 1, 2, 3, 5]
    assert s["auc_binarised"] == pytest.approx(
        roc_auc_score(Y[:, keep], B[:, keep], average="macro")
    )
    assert s["n_tags_auc"] == 5
    json.dumps(s, allow_nan=False)


# ---------------------------------------------------------------- evaluate_tags: tracks


def test_track_aggregation_two_tracks():
    ids = np.array(["b", "a", "b", "a", "b"])
    Y = np.array([[1, 0], [0, 1], [1, 0], [0, 1], [1, 0]])
    P = np.array([[0.9, 0.2], [0.3, 0.6], [0.6, 0.1], [0.1, 0.8], [0.3, 0.3]])
    e = ev.evaluate_tags(P, Y, ids, ["x", "y"], n_boot=0)
    assert e.tracks.tolist() == ["b", "a"] and e.n_tracks == 2 and e.n_frames == 5
    np.testing.assert_allclose(e.track_probs, [[0.6, 0.2], [0.2, 0.7]])
    np.testing.assert_array_equal(e.track_truth, [[1, 0], [0, 1]])
    assert e.track["roc_auc_macro"] == 1.0 and e.track["roc_auc_micro"] == pytest.approx(1.0)
    assert e.frame["roc_auc_macro"] == pytest.approx(roc_auc_score(Y, P, average="macro"))
    # the same mean as track_probabilities, which takes multi-label rows too
    tracks, tp = ev.track_probabilities(P, ids)
    np.testing.assert_allclose(tp, e.track_probs)
    assert np.isnan(e.intervals["track"]["roc_auc_macro"]).all()


def test_frames_of_one_track_must_agree():
    Y = np.array([[1, 0], [0, 1], [1, 0]])
    with pytest.raises(ValueError, match="1 track\\(s\\) have frames with different tags: a"):
        ev.evaluate_tags(np.full((3, 2), 0.5), Y, ["a", "a", "b"], n_boot=0)


def test_bootstrap_interval_contains_point_and_is_deterministic():
    P, Y, ids, _ = tagged_frames(n_tracks=60, seed=1)
    thr = np.full(5, 0.5)
    a = ev.evaluate_tags(P, Y, ids, thresholds=thr, n_boot=200, seed=3)
    b = ev.evaluate_tags(P, Y, ids, thresholds=thr, n_boot=200, seed=3)
    c = ev.evaluate_tags(P, Y, ids, thresholds=thr, n_boot=200, seed=4)
    for lvl in ("frame", "track"):
        for key in (
            "roc_auc_macro",
            "pr_auc_macro",
            "roc_auc_micro",
            "pr_auc_micro",
            "f1_macro",
            "f1_micro",
        ):
            lo, hi = a.intervals[lvl][key]
            m = getattr(a, lvl)[key]
            assert lo <= m <= hi and hi - lo > 0, (lvl, key)
    assert a.intervals == b.intervals and a.intervals != c.intervals


def test_track_intervals_equal_tagging_metrics_on_explicit_resamples():
    P, Y, ids, _ = tagged_frames(n_tracks=25, seed=2)
    thr = np.full(5, 0.45)
    e = ev.evaluate_tags(P, Y, ids, thresholds=thr, n_boot=40, seed=7, level=0.9)
    idx = ev._bootstrap_indices(e.n_tracks, 40, 7)  # evaluate's resampling stream
    vals = {key: [] for key in e.intervals["track"]}
    for rows in idx:
        m = ev.tagging_metrics(e.track_truth[rows], e.track_probs[rows], thresholds=thr)
        for key in vals:
            vals[key].append(m[key])
    for key, v in vals.items():
        # the reported interval: percentile (basic for PR-AUC), widened to contain the point
        expected = ev._interval(e.track[key], v, 0.9, basic=key.startswith("pr_auc"))
        assert e.intervals["track"][key] == pytest.approx(expected, abs=1e-12), key


# ---------------------------------------------------------------- the vectorised resample scores


@pytest.mark.parametrize("ties", [False, True])
def test_fast_auc_and_ap_equal_sklearn_on_explicit_resamples(ties):
    # cluster resamples: units (tracks) own 1-4 frames; a resample repeats every frame of a drawn unit
    rng = np.random.default_rng(11)
    n_units, k = 30, 4
    unit = np.repeat(np.arange(n_units), rng.integers(1, 5, n_units))
    Y = (rng.random((n_units, k)) < 0.3).astype(int)[unit]
    P = np.clip(0.3 * Y + 0.7 * rng.random(Y.shape), 0, 1)
    if ties:
        P = np.round(P, 1)
    idx = ev._bootstrap_indices(n_units, 25, 5)
    counts = ev._resample_counts(idx, n_units).astype(np.int64)
    for j in range(k):
        auc, ap = ev._weighted_auc_ap(Y[:, j] == 1, P[:, j], unit, counts)
        for b, drawn in enumerate(idx):
            rows = np.concatenate([np.flatnonzero(unit == u) for u in drawn])
            y, s = Y[rows, j], P[rows, j]
            if 0 < y.sum() < len(y):
                assert auc[b] == pytest.approx(roc_auc_score(y, s), abs=1e-9)
                assert ap[b] == pytest.approx(average_precision_score(y, s), abs=1e-9)
                # the same as scikit-learn with the multiplicities as sample weights
                w = counts[b, unit]
                assert auc[b] == pytest.approx(
                    roc_auc_score(Y[:, j], P[:, j], sample_weight=w), abs=1e-9
                )
            else:
                assert np.isnan(auc[b]) and np.isnan(ap[b])
    reps = ev._tag_bootstrap(Y, P, unit, counts, None)
    for b, drawn in enumerate(idx[:8]):
        rows = np.concatenate([np.flatnonzero(unit == u) for u in drawn])
        m = ev.tagging_metrics(Y[rows], P[rows])
        for key in ("roc_auc_macro", "pr_auc_macro", "roc_auc_micro", "pr_auc_micro"):
            assert reps[key][b] == pytest.approx(m[key], abs=1e-9, nan_ok=True), key


def test_bootstrap_at_full_size():
    # its speed is measured in benchmarks/bootstrap_bench.py, never asserted here
    P, Y, ids, _ = tagged_frames(n_tracks=200, k=56, frames=(3, 3), seed=3)
    e = ev.evaluate_tags(P, Y, ids, thresholds=np.full(56, 0.5), n_boot=1000, seed=0)
    assert np.isfinite(e.intervals["frame"]["roc_auc_macro"]).all()


# ---------------------------------------------------------------- outputs


def test_tag_evaluation_outputs():
    P, Y, ids, _ = tagged_frames(n_tracks=30, seed=4)
    Y[ids == "t000", 2] = 0  # still consistent within the track
    e = ev.evaluate_tags(P, Y, ids, list("vwxyz"), thresholds=np.full(5, 0.5), n_boot=50, seed=0)
    d = e.to_dict(predictions=True)
    json.dumps(d, allow_nan=False)
    assert d["tags"] == list("vwxyz") and d["n_tracks"] == 30 and d["bootstrap_unit"] == "track"
    assert d["thresholds"] == {t: 0.5 for t in "vwxyz"}
    assert set(d["track"]["intervals"]) == {
        "roc_auc_macro",
        "pr_auc_macro",
        "roc_auc_micro",
        "pr_auc_micro",
        "f1_macro",
        "f1_micro",
    }
    assert "per_tag" in d["track"] and "per_tag" not in d["frame"]
    assert d["track"]["per_tag"]["x"]["support"] == int(e.track_truth[:, 2].sum())
    assert len(d["predictions"]["tracks"]) == 30 and len(d["predictions"]["probs"][0]) == 5
    table = e.table()
    assert table["level"].tolist() == ["frame", "track"]
    assert table.columns.tolist() == ["level"] + [
        f"{m}{s}"
        for m in ("roc_auc_macro", "pr_auc_macro", "roc_auc_micro", "pr_auc_micro", "f1_macro")
        for s in ("", "_low", "_high")
    ]
    per_tag = e.per_tag()
    assert (
        isinstance(per_tag, pd.DataFrame)
        and per_tag.index.name == "tag"
        and per_tag.index.tolist() == list("vwxyz")
    )
    assert per_tag.loc["x", "roc_auc"] == pytest.approx(e.track["per_tag"]["x"]["roc_auc"])
    no_thr = ev.evaluate_tags(P, Y, ids, n_boot=0, frame_intervals=False)
    assert "f1_macro" not in no_thr.table().columns and no_thr.to_dict()["thresholds"] is None
    assert no_thr.to_dict()["track"]["f1_macro"] is None
    skipped = ev.evaluate_tags(P, Y, ids, n_boot=20, frame_intervals=False)
    assert (
        np.isnan(skipped.intervals["frame"]["roc_auc_macro"]).all()
        and "frame_intervals" in skipped.notes[0]
    )
    assert np.isfinite(skipped.intervals["track"]["roc_auc_macro"]).all()


# ---------------------------------------------------------------- score_matrices


def test_score_matrices_rescores_npy_files(tmp_path):
    Y, P = random_tags(n=50, k=4, seed=8)
    np.save(tmp_path / "groundtruth.npy", Y.astype(bool))
    np.save(tmp_path / "predictions.npy", P.astype(np.float32))
    r = ev.score_matrices(tmp_path / "groundtruth.npy", tmp_path / "predictions.npy", list("abcd"))
    m = ev.tagging_metrics(Y, P.astype(np.float32), list("abcd"))
    assert r["roc_auc_macro"] == pytest.approx(m["roc_auc_macro"]) and "intervals" not in r
    assert r["pr_auc_micro"] == pytest.approx(m["pr_auc_micro"])
    rb = ev.score_matrices(
        tmp_path / "groundtruth.npy", tmp_path / "predictions.npy", n_boot=100, seed=1
    )
    lo, hi = rb["intervals"]["roc_auc_macro"]
    assert lo <= rb["roc_auc_macro"] <= hi
    json.dumps(ev.tagging_metrics_to_json(rb), allow_nan=False)


def test_score_matrices_refuses_objects_pickles_and_mismatches(tmp_path):
    Y, P = random_tags(n=10, k=3, seed=9)
    np.save(tmp_path / "truth.npy", Y)
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    with open(tmp_path / "pickle.npy", "wb") as f:
        pickle.dump({"predictions": P}, f)
    np.save(tmp_path / "short.npy", P[:5])
    np.save(tmp_path / "flat.npy", P.ravel())
    for name, match in (
        ("obj.npy", "object arrays and pickles"),
        ("pickle.npy", "object arrays and pickles"),
        ("short.npy", "shape"),
        ("flat.npy", "2-D"),
    ):
        with pytest.raises(ev.EvaluationError, match=match):
            ev.score_matrices(tmp_path / "truth.npy", tmp_path / name)
    with pytest.raises(FileError, match="missing.npy"):
        ev.score_matrices(tmp_path / "truth.npy", tmp_path / "missing.npy")
    np.save(tmp_path / "notbinary.npy", P)
    with pytest.raises(ev.EvaluationError, match="only 0 and 1"):
        ev.score_matrices(tmp_path / "notbinary.npy", tmp_path / "notbinary.npy")
