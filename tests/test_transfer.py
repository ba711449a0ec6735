"""Transfer learning in the study: the linear probe against scikit-learn, its C chosen on validation
only; the genre ``transfer`` experiment end to end on a tiny store with a random-weight musicnn (no
download), its skip when the weights cannot be had; the field's reference rows beside ours."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from musiclass import reference, transfer
from musiclass.errors import ConfigError
from musiclass.pretrained.embeddings import spread_patches
from musiclass.pretrained.weights import WeightsUnavailable
from musiclass.study import load_study, run_study

from .conftest import tone_index


# ------------------------------------------------------------------------------ the probe
def _probe_data(seed=0, n=60, d=40):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * rng.uniform(0.5, 3, d) + rng.uniform(-2, 2, d)
    signal = X[:, :3] @ np.array([1.0, -1.0, 0.5])
    Y = np.stack(
        [
            (signal + rng.standard_normal(n) > 0.5),
            (X[:, 3] + 2 * rng.standard_normal(n) > 0),
            np.zeros(n, bool),  # never present in training: its frequency (0)
        ],
        axis=1,
    ).astype(int)
    parts = np.array(["train"] * 30 + ["validation"] * 15 + ["test"] * 15)
    Y[45:, 2] = 1  # ... but present in test
    return X, Y, parts


def test_probe_is_scikit_learns_logistic_regression_with_c_chosen_on_validation():
    X, Y, parts = _probe_data()
    grid = (0.01, 0.1, 1.0)
    probs, chosen, scores = transfer.fit_probe(X, Y, parts, C=grid)
    train, val = parts == "train", parts == "validation"
    Z = (X - X[train].mean(0)) / X[train].std(0)
    want_scores = {}
    for c in grid:  # by hand: one regression per tag on the full standardised embeddings
        p = np.column_stack(
            [
                LogisticRegression(C=c, max_iter=5000, tol=1e-10)
                .fit(Z[train], Y[train, j])
                .predict_proba(Z)[:, 1]
                for j in (0, 1)
            ]
        )
        want_scores[c] = np.mean([roc_auc_score(Y[val, j], p[val, j]) for j in (0, 1)])
        if c == chosen:
            np.testing.assert_allclose(probs[:, :2], p, atol=2e-3)
    assert scores == pytest.approx(want_scores, abs=1e-6)
    assert chosen == max(grid, key=lambda c: (want_scores[c], -c))
    assert (probs[:, 2] == 0).all()  # constant in training: its training frequency


def test_probe_never_looks_at_the_test_tracks():
    X, Y, parts = _probe_data(seed=1)
    probs, chosen, scores = transfer.fit_probe(X, Y, parts)
    test = parts == "test"
    X2, Y2 = X.copy(), Y.copy()
    X2[test] = np.random.default_rng(9).standard_normal(X2[test].shape)
    Y2[test] = 1 - Y2[test]
    probs2, chosen2, scores2 = transfer.fit_probe(X2, Y2, parts)
    assert chosen2 == chosen and scores2 == scores
    np.testing.assert_allclose(probs2[~test], probs[~test], atol=1e-6)
    with pytest.raises(ConfigError, match="validation"):
        transfer.fit_probe(X, Y, np.where(parts == "validation", "test", parts))


def test_patches_are_spread_over_the_track():
    assert spread_patches(10, 1).tolist() == [5]
    assert spread_patches(9, 3).tolist() == [1, 4, 7]
    assert spread_patches(2, None).tolist() == [0, 1]
    with pytest.raises(ValueError):
        spread_patches(3, 0)


# ------------------------------------------------------------------------------ the study
@pytest.fixture(scope="module")
def random_tagger():
    import keras

    from musiclass.pretrained import musicnn as M
    from musiclass.pretrained.tagger import Tagger

    keras.utils.set_random_seed(0)
    return Tagger(M.build("MSD_musicnn"), M.ARCHITECTURES["MSD_musicnn"], batch_size=4)


CONFIGS = Path(__file__).resolve().parents[1] / "configs"


@pytest.fixture(scope="module")
def transfer_config(tmp_path_factory):
    """The shipped genre transfer experiment, on a tree of 15 short tone clips."""
    root = tmp_path_factory.mktemp("transfer")
    tone_index(root / "gtzan", genres=("blues", "classical", "metal"), per_genre=5, seconds=3.5)
    return root


def test_transfer_experiment_classifies_the_embeddings_and_is_skipped_without_weights(
    transfer_config, random_tagger, monkeypatch
):
    root = transfer_config
    config = CONFIGS / "genre" / "transfer.yaml"
    loads = []
    monkeypatch.setattr(transfer, "load_tagger", lambda model: loads.append(model) or random_tagger)
    lines: list[str] = []
    out = root / "run"
    data = {"data.dataset": "gtzan", "data.root": str(root / "gtzan"), "frontend.n_mels": 32}
    data.update({"frontend.representations": ["mel"], "frontend.handcrafted": False})
    kwargs = dict(profile="tiny", jobs=1, progress=False, echo=lines.append, overrides=data)
    table = run_study(config, out, **kwargs)
    assert loads == ["musicnn-msd"]
    # tiny: the shipped config's classifiers but the forest, the boosting and the tuned SVM
    assert list(table["model"]) == ["knn", "lr", "svm"] and set(table["experiment"]) == {"transfer"}
    assert (table["protocol"] == "our protocol").all()
    assert (table["features"] == "musicnn-msd-1patch embeddings").all()  # tiny: one patch
    assert table[["accuracy", "accuracy_low", "accuracy_high"]].notna().all().all()
    store = next((out / "stores").iterdir())
    embedded = pd.read_csv(store / "embeddings-musicnn-msd-1patch.csv")
    assert embedded.shape == (15, 2 + 2006)
    std = [c for c in embedded.columns if "_std" in c]
    assert (embedded[std] == 0).all().all()  # one patch per track: no spread
    assert table["source"].str.startswith("models/classical/transfer-default-").all()
    assert any("x 2006 musicnn-msd-1patch embeddings" in line for line in lines)

    # a second run finds the table up to date: no network loaded
    again = run_study(config, out, **kwargs)
    assert loads == ["musicnn-msd"]
    pd.testing.assert_frame_equal(again, table)

    # without the weights (and the table gone): one line, no classifier, no failure
    def unavailable(model):
        raise WeightsUnavailable(root / "cache", "cannot download musicnn==0.1.0 (no network)")

    monkeypatch.setattr(transfer, "load_tagger", unavailable)
    monkeypatch.setattr(transfer, "_UNAVAILABLE", {})
    (store / "embeddings-musicnn-msd-1patch.csv").unlink()
    lines.clear()
    run_study(config, out, **kwargs)
    skipped = [line for line in lines if "skipped" in line]
    assert len(skipped) == 1 and "no network" in skipped[0]
    assert not any("classical ML" in line for line in lines)
    # a second study in the same process does not ask again
    monkeypatch.setattr(transfer, "load_tagger", lambda model: pytest.fail("asked again"))
    run_study(config, out, **kwargs)


def test_the_repository_transfer_configs_load_and_bad_probes_are_refused(tmp_path):
    (genre,) = load_study(CONFIGS / "genre" / "transfer.yaml")
    assert genre.classical["features"] == "embeddings" and genre.classical["protocols"] == [
        "default"
    ]
    (mood,) = load_study(CONFIGS / "mood" / "transfer.yaml")
    assert mood.task == "mood" and mood.splits == ["official"]
    assert mood.probe == {"pretrained": "musicnn-msd", "C": [0.01, 0.1, 1.0]}
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"task": "mood", "probe": {"C": [0, 1]}}))
    with pytest.raises(ConfigError, match="positive"):
        load_study(bad)


# ------------------------------------------------------------------------------ the field
def test_the_fields_figures_stand_beside_our_svms():
    results = pd.DataFrame(
        {
            "experiment": ["classical", "classical", "transfer"],
            "model": ["svm", "svm", "svm"],
            "protocol": ["original protocol", "our protocol", "our protocol"],
            "split": ["70/30", "5-fold, by artist", "5-fold, by artist"],
            "accuracy": [0.9, 0.41, 0.62],
            "accuracy_low": [0.8, 0.3, 0.5],
            "accuracy_high": [1.0, 0.5, 0.7],
        }
    )
    t = reference.field_beside(results).set_index("reference")
    assert t.loc["MFCC + SVM", "reported accuracy"] == 0.534
    assert t.loc["MFCC + SVM", "ours, accuracy"] == 0.41  # ours, not the original protocol's row
    assert t.loc["VGGish embeddings + linear SVM", "reported accuracy"] == 0.772
    assert t.loc["VGGish embeddings + linear SVM", "ours low"] == 0.5
    assert "sklearn-audio-transfer-learning" in reference.FIELD_SOURCE


def test_a_limited_embedding_transforms_only_its_patches_and_gets_the_same_frames():
    from musiclass.pretrained import musicnn as M
    from musiclass.pretrained.embeddings import chosen_patches

    from .conftest import tone

    y = tone(12.3, 16000, seed=3)  # 769 frames: 4 patches and a tail
    _, every = M.patches(M.log_mel(y))
    for k in (1, 2, 4):
        np.testing.assert_allclose(chosen_patches(y, k), every[spread_patches(4, k)], atol=1e-5)
    np.testing.assert_array_equal(chosen_patches(y[:5000], 1), M.patches(M.log_mel(y[:5000]))[1])
