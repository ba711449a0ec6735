"""Intervals that cover and chance levels that are measured (issue: numbers you can publish).

The coverage tests are simulations with a known population value: draw many test sets from one
population, compute the 95 % interval on each, and count how often it holds the population value.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.metrics import average_precision_score

from musiclass import evaluation as ev
from musiclass.splits import classes_without


def single_label(n_tracks, k, p_correct, rng):
    """Tracks whose top class is right with probability ``p_correct`` (the population accuracy)."""
    y = np.arange(n_tracks) % k
    right = rng.random(n_tracks) < p_correct
    wrong = (y + rng.integers(1, k, n_tracks)) % k
    top = np.where(right, y, wrong)
    probs = np.full((n_tracks, k), 0.1 / (k - 1))
    probs[np.arange(n_tracks), top] = 0.9
    return probs, y


def tags(n_tracks, k, prevalence, d, rng):
    """Scores N(d, 1) for positives and N(0, 1) for negatives, squashed into (0, 1)."""
    Y = (rng.random((n_tracks, k)) < prevalence).astype(int)
    Y[0], Y[1] = 1, 0  # every tag has a positive and a negative
    z = rng.normal(size=(n_tracks, k)) + d * Y
    return 1 / (1 + np.exp(-z)), Y


# ---------------------------------------------------------------- resampling


def test_stratified_resamples_keep_every_class_count():
    strata = np.array([0, 0, 0, 1, 1, 2, 3, 3, 3, 3])
    idx = ev._stratified_bootstrap_indices(strata, 50, seed=1)
    assert idx.shape == (50, 10)
    for row in idx:
        np.testing.assert_array_equal(np.bincount(strata[row], minlength=4), [3, 2, 1, 4])
    # and they are seeded
    np.testing.assert_array_equal(idx, ev._stratified_bootstrap_indices(strata, 50, seed=1))


def test_no_resample_is_dropped_with_one_track_per_class():
    # 10 genres, 2 test tracks each: a plain bootstrap misses a class in most resamples
    rng = np.random.default_rng(0)
    probs, y = single_label(20, 10, 0.6, rng)
    e = ev.evaluate(
        probs, y, [f"t{i}" for i in range(20)], [f"g{i}" for i in range(10)], n_boot=200
    )
    lo, hi = e.intervals["track"]["roc_auc"]
    assert np.isfinite(lo) and np.isfinite(hi)
    plain = ev._bootstrap_indices(20, 200, 0)
    missing = np.mean([len(np.unique(y[r])) < 10 for r in plain])
    assert missing > 0.5  # the failure the stratified resamples remove


def test_every_interval_contains_its_point():
    rng = np.random.default_rng(3)
    for trial in range(25):
        n = int(rng.integers(12, 60))
        probs, y = single_label(n, 4, rng.uniform(0.3, 0.95), rng)
        e = ev.evaluate(probs, y, np.arange(n), list("abcd"), n_boot=100, seed=trial, n_perm=0)
        for lvl in ("frame", "track"):
            m = getattr(e, lvl)
            for key, point in (
                ("accuracy", m["accuracy"]),
                ("f1_macro", m["f1_macro"]),
                ("roc_auc", m["roc_auc_ovr_macro"]),
            ):
                lo, hi = e.intervals[lvl][key]
                assert lo <= point <= hi, (trial, lvl, key, lo, point, hi)
        P, Y = tags(n, 5, 0.15, 1.0, rng)
        t = ev.evaluate_tags(P, Y, np.arange(n), n_boot=100, seed=trial, n_perm=0)
        for key in ("roc_auc_macro", "pr_auc_macro", "roc_auc_micro", "pr_auc_micro"):
            lo, hi = t.intervals["track"][key]
            assert lo <= t.track[key] <= hi, (trial, key, lo, t.track[key], hi)


def test_basic_interval_corrects_an_upward_bias():
    # resamples sitting above the point: the basic interval reflects them below it
    values = np.linspace(0.5, 0.7, 101)
    assert ev._interval(0.45, values, 0.9) == pytest.approx((0.45, 0.69))  # widened to the point
    lo, hi = ev._interval(0.55, values, 0.9, basic=True)
    assert lo == pytest.approx(2 * 0.55 - 0.69) and hi == pytest.approx(2 * 0.55 - 0.51)
    assert lo <= 0.55 <= hi
    assert ev._interval(0.5, [np.nan, np.inf], 0.9) == (pytest.approx(np.nan, nan_ok=True),) * 2


# ---------------------------------------------------------------- coverage (simulations)


def coverage(draw, estimate, truth, reps):
    hits = 0
    for r in range(reps):
        lo, hi = estimate(*draw(np.random.default_rng(1000 + r)), r)
        hits += lo <= truth <= hi
    return hits / reps


def test_accuracy_interval_covers_the_population_accuracy():
    truth = 0.7

    def estimate(probs, y, r):
        e = ev.evaluate(probs, y, np.arange(len(y)), list("abc"), n_boot=300, seed=r, n_perm=0)
        return e.intervals["track"]["accuracy"]

    cov = coverage(lambda rng: single_label(60, 3, truth, rng), estimate, truth, 200)
    print(f"coverage {cov:.3f}")
    assert 0.90 <= cov <= 0.99, cov


def test_roc_auc_interval_covers_the_population_auc():
    d = 1.0
    truth = float(norm.cdf(d / np.sqrt(2)))  # P(positive score > negative score)

    def estimate(P, Y, r):
        t = ev.evaluate_tags(P, Y, np.arange(len(Y)), n_boot=300, seed=r, n_perm=0)
        return t.intervals["track"]["roc_auc_micro"]

    cov = coverage(lambda rng: tags(120, 1, 0.3, d, rng), estimate, truth, 150)
    print(f"coverage {cov:.3f}")
    assert 0.90 <= cov <= 0.99, cov


def test_pr_auc_interval_covers_when_estimable_and_beats_the_percentile_one():
    # 300 tracks, 10 tags, ~30 positives each; the population AP from 400,000 draws
    d, prevalence = 1.0, 0.1
    big_P, big_Y = tags(400_000, 1, prevalence, d, np.random.default_rng(7))
    truth = float(average_precision_score(big_Y[:, 0], big_P[:, 0]))
    basic = percentile = 0
    reps = 60
    for r in range(reps):
        P, Y = tags(300, 10, prevalence, d, np.random.default_rng(1000 + r))
        t = ev.evaluate_tags(P, Y, np.arange(300), n_boot=200, seed=r, n_perm=0)
        assert t.track["pr_auc_macro_estimable"]
        lo, hi = t.intervals["track"]["pr_auc_macro"]
        basic += lo <= truth <= hi
        counts = ev._resample_counts(ev._bootstrap_indices(300, 200, r), 300)
        boot = ev._tag_bootstrap(Y, P, np.arange(300), counts, None)["pr_auc_macro"]
        lo, hi = ev._percentile_interval(boot, 0.95)
        percentile += lo <= truth <= hi
    print(f"coverage: basic {basic / reps:.2f}, percentile {percentile / reps:.2f}")
    assert basic / reps >= 0.85, basic
    assert basic - percentile >= 12  # the percentile interval sits near theta + 2 bias


def test_macro_pr_auc_with_few_positives_is_flagged():
    P, Y = tags(38, 20, 0.1, 1.0, np.random.default_rng(3))
    m = ev.tagging_metrics(Y, P)
    assert m["min_test_positives"] < ev.MIN_AP_POSITIVES and not m["pr_auc_macro_estimable"]
    P, Y = tags(400, 3, 0.3, 1.0, np.random.default_rng(3))
    assert ev.tagging_metrics(Y, P)["pr_auc_macro_estimable"]


# ---------------------------------------------------------------- chance and degenerate models


def test_permutation_chance_of_accuracy_and_auc():
    rng = np.random.default_rng(2)
    probs, y = single_label(200, 4, 0.8, rng)
    e = ev.evaluate(probs, y, np.arange(200), list("abcd"), n_boot=50, n_perm=300)
    assert e.chance["accuracy"]["mean"] == pytest.approx(0.25, abs=0.03)
    assert e.chance["roc_auc"]["mean"] == pytest.approx(0.5, abs=0.03)
    lo, hi = e.chance["accuracy"]["low"], e.chance["accuracy"]["high"]
    assert lo < 0.25 < hi and hi < e.track["accuracy"]
    assert e.to_dict()["chance"]["accuracy"]["mean"] == pytest.approx(e.chance["accuracy"]["mean"])


def test_chance_pr_auc_is_measured_not_the_tag_frequency():
    # few test tracks: a random ranking's AP is well above the tags' frequency
    rng = np.random.default_rng(4)
    P, Y = tags(38, 6, 0.05, 0.0, rng)
    t = ev.evaluate_tags(P, Y, np.arange(38), n_boot=50, n_perm=200)
    assert t.chance["pr_auc_macro"]["mean"] > Y.mean() + 0.03
    assert t.chance["roc_auc_macro"]["mean"] == pytest.approx(0.5, abs=0.05)


def test_a_collapsed_model_is_named():
    y = np.arange(40) % 4
    probs = np.tile([0.7, 0.1, 0.1, 0.1], (40, 1))  # always class 0
    m = ev.classification_metrics(y, probs, list("abcd"))
    assert m["degenerate"] and "class 0" in m["degenerate"] and m["chance_accuracy"] == 0.25
    assert any(n.startswith("degenerate model") for n in m["notes"])
    good, yy = single_label(40, 4, 0.9, np.random.default_rng(0))
    assert ev.classification_metrics(yy, good, list("abcd"))["degenerate"] is None
    # at chance without collapsing: predictions spread, accuracy at the largest class's share
    assert "chance" in ev.degenerate(np.arange(40) % 4, 0.25, 0.25, 4)


def test_recall_of_a_class_without_test_tracks_is_not_zero():
    y = np.array([0, 0, 1, 1])
    probs = np.array([[0.8, 0.1, 0.1], [0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.3, 0.6, 0.1]])
    per = ev.classification_metrics(y, probs, list("abc"))["per_class"]
    assert per["a"]["recall"] == 1.0 and per["c"]["support"] == 0 and np.isnan(per["c"]["recall"])
    e = ev.evaluate(probs, y, np.arange(4), list("abc"), n_boot=10, n_perm=0)
    assert e.to_dict()["track"]["per_class"]["c"]["recall"] is None


def test_classes_without_test_tracks_are_listed():
    import pandas as pd

    frames = pd.DataFrame({"row": range(6), "label": ["a", "a", "b", "b", "c", "a|c"]})
    parts = pd.DataFrame(
        {"row": range(6), "part": ["train", "test", "train", "train", "train", "test"]}
    )
    assert classes_without(parts, frames, ["a", "b", "c"]) == ["b"]
    assert classes_without(parts, frames, ["a", "b", "c"], part="train") == []


# ---------------------------------------------------------------- in the results tables


def results(splits=(("seed-frame", 0.95, 0.9), ("song", 0.6, 0.5)), **degenerate):
    import pandas as pd

    rows = []
    for model in ("cnn-3", "cnn-5"):
        for split, acc, frame in splits:
            rows.append(
                {
                    "experiment": "exp2",
                    "model": model,
                    "protocol": "original" if split == "seed-frame" else "ours",
                    "split": split,
                    "accuracy": acc,
                    "frame_accuracy": frame,
                    "epochs": 5,
                    "degenerate": degenerate.get(f"{model}/{split}"),
                }
            )
    return pd.DataFrame(rows)


def test_the_leak_table_does_not_credit_a_collapse_to_the_leak():
    from musiclass.registry import leak_table

    t = leak_table(results(**{"cnn-5/song": "predicts class 0 for 100% of the test items"}))
    t = t.set_index("model")
    assert t.loc["cnn-3", "frame leak"] == pytest.approx(0.35)
    assert np.isnan(t.loc["cnn-5", "frame leak"])
    assert "degenerate" in t.loc["cnn-5", "note"] and "song" in t.loc["cnn-5", "note"]


def test_the_leak_table_splits_the_gap_into_the_frame_and_the_artist_leak():
    from musiclass.registry import headline_split, leak_table

    three = (("seed-frame", 0.95, 0.9), ("song", 0.7, 0.6), ("artist", 0.55, 0.5))
    table = results(three)
    assert headline_split(table) == "artist"
    t = leak_table(table).set_index("model")
    assert t.loc["cnn-3", "frame leak"] == pytest.approx(0.25)
    assert t.loc["cnn-3", "artist leak"] == pytest.approx(0.15)
    assert t.loc["cnn-3", "total leak"] == pytest.approx(0.40)
    assert t.loc["cnn-3", "track acc., artist split"] == pytest.approx(0.55)
    # without the song split only the total is known
    t2 = leak_table(results((three[0], three[2]))).set_index("model")
    assert "frame leak" not in t2 and t2.loc["cnn-3", "total leak"] == pytest.approx(0.40)


def test_the_leak_markdown_signs_each_leak_and_names_a_collapse():
    from musiclass.plots import leak_markdown
    from musiclass.registry import leak_table

    three = (("seed-frame", 0.95, 0.9), ("song", 0.7, 0.6), ("artist", 0.55, 0.5))
    t = leak_table(results(three, **{"cnn-5/song": "predicts class 0 for 100% of the test items"}))
    t["frame leak_low"], t["frame leak_high"] = 0.1, 0.4
    lines = leak_markdown(t).splitlines()
    assert lines[0] == (
        "| network | seed-frame split: track acc. | song split: track acc. "
        "| artist split: track acc. | frame leak | artist leak | total leak | note |"
    )
    assert len(lines) == 4  # header, alignment, one line per network
    cnn3 = lines[2].split(" | ")
    assert cnn3[0] == "| exp2: cnn-3" and cnn3[1:4] == ["0.950", "0.700", "0.550"]
    assert cnn3[4:7] == ["+0.250 [+0.100, +0.400]", "+0.150", "+0.400"]
    # cnn-5 collapsed under the song split: both leaks through it are not leaks; the total stands
    cnn5 = lines[3].split(" | ")
    assert cnn5[4:7] == ["degenerate", "degenerate", "+0.400"]
    assert "degenerate model under song" in cnn5[7]


def test_the_seed_markdown_gives_mean_and_sd_and_the_verdict():
    import pandas as pd

    from musiclass.plots import seed_markdown
    from musiclass.registry import seed_table

    table = pd.DataFrame(
        {
            "model": ["cnn-3", "cnn-7"],
            "split": ["artist"] * 2,
            "n_seeds": [3] * 2,
            "seeds": ["42,1,2"] * 2,
            "accuracy": [0.6, 0.8],
            "accuracy_low": [0.45, 0.675],
            "accuracy_high": [0.75, 0.9],
            "accuracy_seed_values": ["0.6,0.7,0.5", "0.8,0.9,0.7"],
        }
    )
    text = seed_markdown(*seed_table(table))
    rows = [line.split(" | ") for line in text.splitlines()[2:4]]
    assert rows[0][3:6] == ["0.600 [0.450, 0.750]", "0.600 ± 0.100", "0.600, 0.700, 0.500"]
    assert rows[1][3:5] == ["0.800 [0.675, 0.900]", "0.800 ± 0.100"]
    assert text.rstrip().endswith("the ranking holds for every seed")
    assert seed_markdown(pd.DataFrame(), "no network was trained with several seeds") == (
        "no network was trained with several seeds\n"
    )


def test_the_difference_interval_covers_the_true_difference():
    from musiclass.evaluation import difference_interval

    # two test sets of 40 tracks, true accuracies .8 and .6: the 95 % interval of the difference
    # covers .2 about 95 % of the time, and always contains its own point
    rng = np.random.default_rng(0)
    hits, n_sim = 0, 300
    for i in range(n_sim):
        a, b = rng.random(40) < 0.8, rng.random(40) < 0.6
        d, low, high = difference_interval(a, b, n_boot=300, seed=i)
        assert low <= d <= high and d == pytest.approx(a.mean() - b.mean())
        hits += low <= 0.2 <= high
    assert 0.88 <= hits / n_sim <= 0.99
    # worked by hand: identical all-correct sets differ by exactly 0
    assert difference_interval(np.ones(5), np.ones(7), n_boot=50) == (0.0, 0.0, 0.0)


def test_a_degenerate_model_is_marked_in_displayed_tables():
    from musiclass.registry import DEGENERATE_MARK, best_on_validation, results_for_display

    shown = results_for_display(results(**{"cnn-5/song": "accuracy 0.100 is at or below chance"}))
    marked = shown[shown["model"].str.endswith(DEGENERATE_MARK)]
    assert list(marked["split"]) == ["ours"] and marked["model"].iloc[0].startswith("exp2: cnn-5")
    # and "our best" is picked on validation, whatever the test figures say
    t = results().assign(
        validation_roc_auc_macro=[0.6, 0.9, 0.7, 0.5], roc_auc_macro=[0.9, 0.5, 0.8, 0.9]
    )
    assert best_on_validation(t)["roc_auc_macro"] == 0.5
    assert best_on_validation(t.drop(columns="validation_roc_auc_macro")) is None


# ---------------------------------------------------------------- split fractions from configs


def test_split_fractions_come_from_the_config_and_remake_the_split(tmp_path):
    import json

    import yaml

    from musiclass.config import frontend_preset
    from musiclass.errors import ConfigError
    from musiclass.features.extract import extract
    from musiclass.layout import SplitFolder
    from musiclass.study import _apply_overrides, _ensure_splits, load_study

    from .conftest import tone_index

    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        yaml.safe_dump({"runs": [{"model": "cnn-3"}], "split_fractions": [0.5, 0.25, 0.25]})
    )
    study = load_study(cfg)[0]
    assert study.split_fractions == (0.5, 0.25, 0.25)
    assert _apply_overrides(study, {"split_fractions": [0.6, 0.2, 0.2]}).split_fractions == (
        0.6,
        0.2,
        0.2,
    )
    for bad in ([0.5, 0.5], [float("nan"), 0.5, 0.5], [1.2, -0.1, -0.1], "0.8", [0.8, 0.1, "x"]):
        with pytest.raises(ConfigError, match="split_fractions|fractions"):
            _apply_overrides(study, {"split_fractions": bad})

    index = tone_index(tmp_path / "audio", per_genre=4, seconds=6.0)
    store = extract(
        index, frontend_preset("genre", "default"), tmp_path / "store", progress=False
    ).store
    first = _ensure_splits(store, ["song"], echo=lambda *a: None, fractions=(0.5, 0.25, 0.25))
    assert first["song"]["tracks"] == {"train": 6, "validation": 3, "test": 3}
    again = _ensure_splits(store, ["song"], echo=lambda *a: None, fractions=(0.5, 0.25, 0.25))
    assert again == first  # unchanged fractions: the split is reused
    other = _ensure_splits(store, ["song"], echo=lambda *a: None, fractions=(0.75, 0.0, 0.25))
    assert other["song"]["tracks"]["train"] == 9 and "validation" not in other["song"]["tracks"]
    saved = json.loads(SplitFolder(store.path).summary.read_text())
    assert saved["song"]["fractions"] == [0.75, 0.0, 0.25]


def test_vectorised_chance_levels_equal_scikit_learn_on_the_same_permutations():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(5)
    probs, y = single_label(45, 3, 0.6, rng)
    probs = np.round(probs + 0.05 * rng.random(probs.shape), 2)  # ties too
    probs /= probs.sum(axis=1, keepdims=True)
    fast = ev.chance_levels(y, probs, n_perm=40, seed=3)
    slow = ev.permutation_chance(
        lambda t, q: roc_auc_score(t, q, multi_class="ovr"),
        y,
        probs,
        n_perm=40,
        seed=3,
    )
    assert fast["roc_auc"] == pytest.approx(slow, abs=1e-9)
    acc = ev.permutation_chance(lambda t, q: np.mean(t == q.argmax(1)), y, probs, n_perm=40, seed=3)
    assert fast["accuracy"] == pytest.approx(acc, abs=1e-12)
    P, Y = tags(30, 4, 0.3, 0.5, rng)
    P = np.round(P, 1)
    tfast = ev.tag_chance_levels(Y, P, n_perm=40, seed=2)
    for key, metric in (
        ("roc_auc_macro", roc_auc_score),
        ("pr_auc_macro", average_precision_score),
    ):
        slow = ev.permutation_chance(
            lambda t, q, m=metric: m(t, q, average="macro"), Y, P, n_perm=40, seed=2
        )
        assert tfast[key] == pytest.approx(slow, abs=1e-9), key


# ---------------------------------------------------------------- paired comparison of taggers


def _taggers(rng, n=60, k=8, gap=0.0):
    y = (rng.random((n, k)) < 0.3).astype(int)
    a = y * 0.8 + rng.normal(0, 0.6, (n, k))
    b = y * (0.8 + gap) + rng.normal(0, 0.6, (n, k))
    return y, 1 / (1 + np.exp(-a)), 1 / (1 + np.exp(-b))  # probabilities, as taggers give


def test_paired_tag_comparison_scores_by_definition():
    from sklearn.metrics import average_precision_score, roc_auc_score

    y, a, b = _taggers(np.random.default_rng(1), gap=0.5)
    c = ev.paired_tag_comparison(y, a, b, n_boot=200, seed=3)
    for name, s in (("a", a), ("b", b)):
        assert c[f"roc_auc_macro_{name}"] == pytest.approx(roc_auc_score(y, s, average="macro"))
        assert c[f"pr_auc_macro_{name}"] == pytest.approx(
            average_precision_score(y, s, average="macro")
        )
        assert c[f"roc_auc_micro_{name}"] == pytest.approx(roc_auc_score(y, s, average="micro"))
    for m in ("roc_auc_macro", "pr_auc_macro", "roc_auc_micro", "pr_auc_micro"):
        assert c[f"{m}_diff"] == pytest.approx(c[f"{m}_b"] - c[f"{m}_a"])
        assert c[f"{m}_diff_low"] <= c[f"{m}_diff"] <= c[f"{m}_diff_high"]
    assert c["scorable_tags"] == 8 and "better" in c["verdict"]
    with pytest.raises(ev.EvaluationError, match="same shape"):
        ev.paired_tag_comparison(y, a, b[:-1])


def test_paired_tag_comparison_false_alarms_and_power():
    # simulation with a known answer: two taggers of equal skill are called different in about
    # 5 % of test sets (alpha .05); a clearly better one is found in most
    rng = np.random.default_rng(7)
    n_sim = 80
    null = [
        ev.paired_tag_comparison(*_taggers(rng), n_boot=200, seed=i)["roc_auc_macro_p_value"]
        for i in range(n_sim)
    ]
    alt = [
        ev.paired_tag_comparison(*_taggers(rng, gap=0.8), n_boot=200, seed=i)[
            "roc_auc_macro_p_value"
        ]
        for i in range(n_sim // 4)
    ]
    assert np.mean(np.asarray(null) < 0.05) <= 0.125
    assert np.mean(np.asarray(alt) < 0.05) >= 0.7


def test_a_depth_ranking_is_claimed_only_when_it_holds_for_every_seed():
    import pandas as pd

    from musiclass.registry import seed_table

    def table(values):
        return pd.DataFrame(
            {
                "model": ["cnn-3", "cnn-5", "cnn-7"],
                "split": ["artist"] * 3,
                "n_seeds": [3] * 3,
                "seeds": ["42,1,2"] * 3,
                "accuracy": [v[0] for v in values],
                "accuracy_seed_values": [",".join(map(str, v)) for v in values],
            }
        )

    t, verdict = seed_table(table([(0.6, 0.62, 0.61), (0.7, 0.72, 0.69), (0.8, 0.79, 0.81)]))
    assert verdict.startswith("by mean over 3 seeds: cnn-7 (0.800) > cnn-5") and "holds" in verdict
    assert list(t["rank per seed"]) == ["3, 3, 3", "2, 2, 2", "1, 1, 1"]
    assert t["seed sd"].iloc[0] == pytest.approx(np.std([0.6, 0.62, 0.61], ddof=1), abs=1e-3)
    # one seed swaps cnn-5 and cnn-7: no ranking is claimed
    _, verdict = seed_table(table([(0.6, 0.62, 0.61), (0.7, 0.82, 0.69), (0.8, 0.79, 0.81)]))
    assert "does NOT hold" in verdict
    assert seed_table(table([(0.6,)] * 3).drop(columns="n_seeds"))[1].startswith("no network")
