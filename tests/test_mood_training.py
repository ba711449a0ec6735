"""Multi-label training on a synthetic MTG-Jamendo-shaped store: losses, resampled sets, tag weights,
thresholds chosen on validation, the MediaEval metrics."""

from __future__ import annotations

import json

import numpy as np
import pytest

from musiclass import resampling
from musiclass.config import frontend_preset
from musiclass.datasets import jamendo, synthetic
from musiclass.features.extract import extract
from musiclass.pipeline import make_splits
from musiclass.training import load_split, tag_weights, targets, train, train_preset


@pytest.fixture(scope="module")
def mood_store(tmp_path_factory):
    root = tmp_path_factory.mktemp("mood")
    data = synthetic.make_jamendo(root / "mtg-jamendo", n_tracks=40, seed=0, jobs=1, progress=False)
    index = jamendo.index(
        data / "autotagging_moodtheme.tsv", data, curation="official", split=0, check="exists"
    )
    store = extract(
        index,
        frontend_preset("mood", "default", handcrafted=False),
        root / "store",
        jobs=1,
        progress=False,
    ).store
    make_splits(
        store, ("official", "seed-frame"), official={"splits_dir": data / "splits", "split": 0}
    )
    return store


def cfg(**kw):
    values = dict(
        model="mood-cnn",
        representation="mel",
        epochs=2,
        batch_size=16,
        early_stopping_patience=None,
        reduce_lr_patience=None,
        tensorboard=False,
    )
    values.update(kw)
    return train_preset("default", **values)


def test_tagging_run_reports_mediaeval_metrics_and_keeps_validation_thresholds(
    mood_store, tmp_path
):
    import keras

    res = train(mood_store, "official", cfg(), tmp_path / "base", progress=False, n_boot=100)
    track = res.metrics["test"]["track"]
    for m in ("roc_auc_macro", "pr_auc_macro", "roc_auc_micro", "pr_auc_micro"):
        assert 0.0 <= track[m] <= 1.0, m
        lo, hi = track["intervals"][m]
        assert lo <= hi
    thresholds = json.loads((tmp_path / "base" / "thresholds.json").read_text())["thresholds"]
    assert list(thresholds) == list(mood_store.classes)
    assert all(0.0 <= t <= 1.0 for t in thresholds.values())
    assert "seed_metrics" in res.metrics["test"]
    model = keras.saving.load_model(tmp_path / "base" / "model.keras", safe_mode=True)
    assert model.get_layer("output").activation.__name__ == "sigmoid"
    assert model.loss == "binary_crossentropy"


def test_resampled_set_is_what_the_model_trains_on(mood_store, tmp_path):
    rows = load_split(mood_store, "official")
    Y = targets(rows[rows["part"] == "train"]["label"], mood_store.classes, True).astype(np.int8)
    expected = resampling.upsample(Y, 0.5, seed=42)
    res = train(
        mood_store,
        "official",
        cfg(resample="up-0.5", epochs=1),
        tmp_path / "up",
        progress=False,
        n_boot=0,
    )
    assert res.metrics["train_frames"] == len(expected) > len(Y)
    assert list(res.metrics["train_tag_counts"].values()) == Y[expected].sum(axis=0).tolist()
    # the base set is the training part itself: same config as no resampling
    assert cfg(resample="base").hash() == cfg().hash()


def test_balanced_tag_weights_are_inverse_tag_frequencies():
    Y = np.array([[1, 0], [1, 0], [1, 0], [0, 1]])
    # n / (k * count): tag 0 -> 4 / (2 * 3) = 2/3, tag 1 -> 4 / (2 * 1) = 2; mean (2/3 * 3 + 2) / 4 = 1
    np.testing.assert_allclose(tag_weights(Y), [2 / 3, 2 / 3, 2 / 3, 2], rtol=1e-6)
    both = np.array([[1, 1], [1, 0]])  # a frame with two tags gets the mean of their weights
    w = tag_weights(both)
    np.testing.assert_allclose(w / w[1], [(1 + 2) / 2 / 1, 1], rtol=1e-6)


def test_seed_preset_trains_with_the_originals_categorical_loss(mood_store, tmp_path):
    import keras

    config = train_preset(
        "seed", model="mood-cnn", representation="mel", epochs=1, batch_size=16, tensorboard=False
    )
    assert config.loss == "categorical" and config.model_options["bn_momentum"] == 0.99
    train(mood_store, "seed-frame", config, tmp_path / "seed", progress=False, n_boot=0)
    model = keras.saving.load_model(tmp_path / "seed" / "model.keras", safe_mode=True)
    assert model.loss == "categorical_crossentropy"


def test_balanced_loss_run_trains(mood_store, tmp_path):
    res = train(
        mood_store,
        "official",
        cfg(tag_weights="balanced", epochs=1),
        tmp_path / "w",
        progress=False,
        n_boot=0,
    )
    assert res.metrics["train_frames"] == int(
        (load_split(mood_store, "official")["part"] == "train").sum()
    )


def test_evaluate_command_scores_a_tagging_model_and_saved_matrices(mood_store, tmp_path, capsys):
    from sklearn.metrics import roc_auc_score

    from musiclass.cli import main

    res = train(mood_store, "official", cfg(epochs=1), tmp_path / "m", progress=False, n_boot=100)
    assert main(["evaluate", str(tmp_path / "m"), "--json", "--n-boot", "100"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["track"]["roc_auc_macro"] == pytest.approx(
        res.metrics["test"]["track"]["roc_auc_macro"]
    )
    assert main(["evaluate", str(tmp_path / "m")]) == 0
    assert "ROC-AUC macro" in capsys.readouterr().out
    # a paired comparison of taggers on their shared tracks: a model against itself differs by 0
    args = ["evaluate", str(tmp_path / "m"), "--compare", str(tmp_path / "m"), "--n-boot", "50"]
    assert main([*args, "--json"]) == 0
    c = json.loads(capsys.readouterr().out)["comparison"]
    assert c["shared_tracks"] > 0
    assert c["roc_auc_macro_diff"] == 0.0 and c["roc_auc_macro_p_value"] == 1.0
    assert c["roc_auc_macro_a"] == pytest.approx(out["track"]["roc_auc_macro"])
    assert main(args) == 0
    assert "no significant difference" in capsys.readouterr().out

    rng = np.random.default_rng(0)
    Y = rng.integers(0, 2, size=(60, 4))
    Y[0], Y[1] = 1, 0  # every tag has both classes
    P = np.clip(Y * 0.3 + rng.random((60, 4)) * 0.7, 0, 1)
    np.save(tmp_path / "y.npy", Y)
    np.save(tmp_path / "p.npy", P)
    assert (
        main(
            [
                "evaluate",
                "--truth",
                str(tmp_path / "y.npy"),
                "--pred",
                str(tmp_path / "p.npy"),
                "--json",
            ]
        )
        == 0
    )
    scored = json.loads(capsys.readouterr().out)
    assert scored["roc_auc_macro"] == pytest.approx(roc_auc_score(Y, P, average="macro"))
    np.save(tmp_path / "bad.npy", np.array([{"a": 1}], dtype=object))
    assert (
        main(["evaluate", "--truth", str(tmp_path / "y.npy"), "--pred", str(tmp_path / "bad.npy")])
        == 1
    )
