"""Training from the store: streamed seeded batches, model selection, the model directory, evaluate."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from musiclass import splits
from musiclass.cli import main
from musiclass.config import frontend_preset
from musiclass.features.extract import extract
from musiclass.training import (
    frame_batches,
    input_statistics,
    load_split,
    select_frames,
    train,
    train_preset,
)

from .conftest import tone_index

GENRES3 = ("blues", "classical", "country")


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """3 tone 'genres' x 12 clips of 6 s; 1 s frames of 32 mel bands; a song split 50/25/25."""
    root = tmp_path_factory.mktemp("train_store")
    index = tone_index(root / "tones", genres=GENRES3, per_genre=12, seconds=6.0)
    cfg = frontend_preset(
        "genre",
        "default",
        n_mels=32,
        frame_seconds=1.0,
        hop_seconds=0.5,
        representations=("mel", "mfcc"),
        handcrafted=False,
    )
    store = extract(index, cfg, root / "store", jobs=1, progress=False).store
    split = splits.song_split(store.tracks(), (0.5, 0.25, 0.25), seed=0)
    splits.save(split, store.path / "splits" / "song.csv")
    splits.save(
        splits.frame_split(store.index, (0.5, 0.25, 0.25), seed=0),
        store.path / "splits" / "seed-frame.csv",
    )
    return store


def quick(**kw):
    values = dict(
        model="cnn-3",
        representation="mel",
        epochs=8,
        batch_size=32,
        early_stopping_patience=None,
        reduce_lr_patience=None,
        tensorboard=False,
    )
    values.update(kw)
    return train_preset("default", **values)


@pytest.fixture(scope="module")
def trained(small, tmp_path_factory):
    out = tmp_path_factory.mktemp("model") / "cnn3"
    return train(small, "song", quick(), out, progress=False, n_boot=200)


def test_cnn_learns_well_above_chance_and_leaves_a_complete_model_dir(small, trained):
    import keras

    d = trained.model_dir
    for name in (
        "model.keras",
        "train.json",
        "labels.json",
        "frontend.json",
        "history.csv",
        "metrics.json",
        "predictions/test.csv",
        "predictions/validation.csv",
        "done.json",
    ):
        assert (d / name).is_file(), name
    assert not (d / "backup").exists()
    assert len(trained.history) == 8 and {"loss", "val_loss", "accuracy", "val_accuracy"} <= set(
        trained.history
    )
    test = trained.metrics["test"]
    assert test["track"]["accuracy"] >= 0.8  # chance is 1/3
    lo, hi = test["track"]["intervals"]["accuracy"]
    assert lo <= test["track"]["accuracy"] <= hi
    labels = json.loads((d / "labels.json").read_text())
    assert labels == {"classes": list(GENRES3), "multilabel": False}
    frontend = json.loads((d / "frontend.json").read_text())
    assert frontend["hash"] == small.config.hash() and tuple(frontend["input_shape"]) == (32, 44)
    # the kept model is the best epoch on val_loss, and it loads in safe mode
    best = json.loads((d / "model.best.json").read_text())
    assert best["epoch"] == int(trained.history["val_loss"].idxmin()) + 1
    model = keras.saving.load_model(d / "model.keras", safe_mode=True)
    rows = load_split(small, "song")
    test_rows = rows[rows["part"] == "test"]
    preds = pd.read_csv(d / "predictions" / "test.csv", dtype={"track_id": str})
    assert len(preds) == len(test_rows)
    x = small.array("mel").rows(test_rows["row"].to_numpy()[:5])
    np.testing.assert_allclose(
        model.predict(x, verbose=0), preds.filter(like="p:").to_numpy()[:5], atol=1e-5
    )


def test_a_finished_model_dir_is_not_trained_again(small, trained):
    before = (trained.model_dir / "model.keras").stat().st_mtime_ns
    again = train(small, "song", quick(), trained.model_dir, progress=False, n_boot=200)
    assert (trained.model_dir / "model.keras").stat().st_mtime_ns == before
    assert again.metrics["test"] == trained.metrics["test"]


def test_batches_cover_every_row_once_per_epoch_in_a_new_seeded_order(small):
    array = small.array("mel")
    rows = np.arange(0, len(array), 2)
    y = np.arange(len(rows))
    seq = frame_batches(array, rows, y, 16, shuffle=True, seed=3)
    twin = frame_batches(array, rows, y, 16, shuffle=True, seed=3)
    orders = []
    for _epoch in range(2):
        seq.on_epoch_begin()
        twin.on_epoch_begin()
        got = [seq[i] for i in range(len(seq))]
        ys = np.concatenate([b[1] for b in got])
        assert sorted(ys) == list(y)  # each row once
        assert all(
            np.array_equal(a[1], twin[i][1]) for i, a in enumerate(got)
        )  # same seed, same batches
        np.testing.assert_array_equal(
            got[0][0], array.rows(rows[got[0][1]])
        )  # x matches its target
        orders.append(ys)
        seq.on_epoch_end()
        twin.on_epoch_end()
    assert not np.array_equal(orders[0], orders[1])  # reshuffled every epoch
    plain = frame_batches(array, rows, None, 16, shuffle=False)
    np.testing.assert_array_equal(plain[0], array.rows(rows[:16]))


def test_fnn_input_statistics_come_from_training_frames_only(small, tmp_path):
    array = small.array("mel")
    rows = load_split(small, "song")
    train_rows = rows.loc[rows["part"] == "train", "row"].to_numpy()
    mean, var = input_statistics(array, train_rows, chunk=7)
    x = array.rows(train_rows).astype(np.float64)
    np.testing.assert_allclose(mean, x.mean(axis=(0, 2)), rtol=1e-9)
    np.testing.assert_allclose(var, x.var(axis=(0, 2)), rtol=1e-6)
    res = train(
        small, "song", quick(model="fnn", epochs=4), tmp_path / "fnn", progress=False, n_boot=50
    )
    import keras

    model = keras.saving.load_model(tmp_path / "fnn" / "model.keras", safe_mode=True)
    np.testing.assert_allclose(np.ravel(model.get_layer("normalize").mean), mean, rtol=1e-5)
    assert res.metrics["test"]["track"]["accuracy"] >= 0.6


def test_frame_selection_first_frames_and_evenly_spaced_training_frames(small):
    rows = load_split(small, "song")
    cfg = quick(train_frames_per_track=3, first_frames=9)
    sel = select_frames(rows, cfg)
    assert sel["frame"].max() == 8
    per_track = sel[sel["part"] == "train"].groupby("track_id")["frame"].apply(list)
    assert all(f == [0, 3, 6] for f in per_track)
    other = sel[sel["part"] != "train"].groupby("track_id").size()
    assert (other == 9).all()  # validation and test keep every (first) frame


def test_validation_frames_per_track_thins_validation_only_and_keys_the_model_when_set(small):
    """``validation_frames_per_track`` keeps K evenly spaced frames of each validation track (the
    rule of the training frames), leaves the training and test parts alone, and changes the
    model's key only when set (models trained before it existed keep theirs)."""
    rows = load_split(small, "song")
    sel = select_frames(rows, quick(validation_frames_per_track=2, first_frames=9))
    per_track = sel[sel["part"] == "validation"].groupby("track_id")["frame"].apply(list)
    assert len(per_track) and all(f == [0, 5] for f in per_track)
    for part in ("train", "test"):
        assert (sel[sel["part"] == part].groupby("track_id").size() == 9).all(), part
    both = select_frames(rows, quick(train_frames_per_track=3, validation_frames_per_track=1))
    assert (both[both["part"] == "train"].groupby("track_id").size() == 3).all()
    assert (both[both["part"] == "validation"].groupby("track_id")["frame"].max() == 0).all()
    assert quick().hash() == quick(validation_frames_per_track=None).hash()
    assert quick(validation_frames_per_track=4).hash() != quick().hash()
    from musiclass.errors import ConfigError

    with pytest.raises(ConfigError, match="validation_frames_per_track must be at least 1"):
        quick(validation_frames_per_track=0)


def test_seed_frame_split_is_read_by_row(small):
    rows = load_split(small, "seed-frame")
    assert len(rows) == len(small.index)
    assert (
        rows.groupby("track_id")["part"].nunique().max() > 1
    )  # the leak: a track in several parts


def test_training_errors_name_the_problem(small, tmp_path):
    from musiclass.errors import ConfigError, MetadataError

    with pytest.raises(ConfigError, match="spectrogram"):
        train(small, "song", quick(representation="spectrogram"), tmp_path / "x", progress=False)
    with pytest.raises(MetadataError, match="split file not found"):
        train(small, "artist", quick(), tmp_path / "y", progress=False)


def test_evaluate_command_scores_and_compares_models(small, trained, tmp_path, capsys):
    other = train(
        small,
        "song",
        quick(model="mfcc-1d", representation="mfcc", epochs=3),
        tmp_path / "mfcc",
        progress=False,
        n_boot=50,
    )
    assert (
        main(
            [
                "evaluate",
                str(trained.model_dir),
                "--json",
                "--n-boot",
                "100",
                "--compare",
                str(other.model_dir),
            ]
        )
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert result["track"]["accuracy"] == pytest.approx(
        trained.metrics["test"]["track"]["accuracy"]
    )
    cmp_ = result["comparison"]
    assert cmp_["shared_tracks"] == trained.metrics["tracks"]["test"]
    assert 0.0 <= cmp_["p_value"] <= 1.0
    assert cmp_["accuracy_diff"] == pytest.approx(cmp_["accuracy_b"] - cmp_["accuracy_a"])
    assert main(["evaluate", str(trained.model_dir), "--json", "--n-boot", "200"]) == 0
    again = json.loads(capsys.readouterr().out)  # same resamples as training (its seed by default)
    assert again["track"]["intervals"] == trained.metrics["test"]["track"]["intervals"]
    assert main(["evaluate", str(trained.model_dir)]) == 0
    text = capsys.readouterr().out
    assert "confusion matrix" in text and "blues" in text
    assert main(["evaluate", str(tmp_path)]) == 1


def test_a_killed_run_resumes_from_its_last_epoch(small, tmp_path):
    import keras

    class Crash(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 2:
                raise KeyboardInterrupt("killed after epoch 3")

    cfg = quick(epochs=6)
    out = tmp_path / "resumed"
    with pytest.raises(KeyboardInterrupt):
        train(small, "song", cfg, out, progress=False, n_boot=50, callbacks=[Crash()])
    assert not (out / "done.json").exists() and (out / "backup").is_dir()
    assert len(pd.read_csv(out / "history.csv")) == 3
    best_before = json.loads((out / "model.best.json").read_text())

    seen = []

    class Watch(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            seen.append(epoch)

    res = train(small, "song", cfg, out, progress=False, n_boot=50, callbacks=[Watch()])
    assert seen == [3, 4, 5]  # epochs 1-3 were not trained again
    history = pd.read_csv(out / "history.csv")
    assert history["epoch"].tolist() == list(range(6))
    best = json.loads((out / "model.best.json").read_text())
    assert best["value"] <= best_before["value"]  # the best-so-far survived the restart
    assert best["epoch"] == int(history["val_loss"].idxmin()) + 1
    assert (out / "done.json").is_file() and not (out / "backup").exists()
    assert res.metrics["epochs_run"] == 6
