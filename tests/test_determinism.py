"""Determinism: the same config and seed give the same bytes, in one process and across processes.

Covered here, beyond what the stage tests already check (``--jobs 2`` equals ``--jobs 1`` in
test_store; two ``song_split`` calls in test_splits; two classical runs in one process in
test_classical): splits, resampled training sets and classical predictions computed in fresh
interpreters whose ``PYTHONHASHSEED`` differs (string hashing, hence set and dict-of-set order,
changes with it); two fresh extractions of the same index; CNN training with
``deterministic=True`` (weights bit for bit, ``history.csv`` byte for byte), the seeding that a
``deterministic=False`` run still gets, and a run interrupted and resumed that ends bit-identical
to an uninterrupted one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from musiclass import splits
from musiclass.config import frontend_preset
from musiclass.features.extract import extract
from musiclass.training import train, train_preset

from .conftest import tone_index

GENRES3 = ("blues", "classical", "country")
#: the work whose output must not depend on the interpreter: run in this process and in two
#: fresh ones with other hash seeds (the test exec()s the same text, so both run the same code)
PRODUCE = r'''
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from musiclass import resampling, splits
from musiclass.datasets.base import TrackIndex
from musiclass.features.store import FeatureStore
from musiclass.models import classical

TAGS = ("calm", "dark", "epic", "happy", "melodic", "sad")


def mood_index():
    """A multi-label index: tags drawn from a seeded generator, joined as the loaders do."""
    rng = np.random.default_rng(11)
    rows = []
    for i in range(60):
        tags = sorted({TAGS[j] for j in rng.choice(len(TAGS), size=1 + i % 3, p=[.4, .2, .15, .1, .1, .05])})
        rows.append((f"track_{i:07d}", f"/nowhere/{i}.mp3", "|".join(tags), 30.0, f"artist_{i % 9}"))
    return TrackIndex(pd.DataFrame(rows, columns=["track_id", "path", "label", "duration", "artist"]), TAGS,
                      multilabel=True)


def produce(out, store_path):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    store = FeatureStore(store_path)
    index = store.tracks()
    fractions = (0.5, 0.25, 0.25)
    splits.save(splits.song_split(index, fractions, seed=3), out / "song.csv")
    splits.save(splits.song_split(index, fractions, seed=3, group="artist"), out / "artist.csv")
    splits.save(splits.frame_split(store.index, fractions, seed=3), out / "seed-frame.csv")
    mood = mood_index()
    splits.save(splits.song_split(mood, (0.6, 0.2, 0.2), seed=3), out / "mood-song.csv")
    Y = mood.label_matrix()
    for size in (0.5, 1.0):
        np.save(out / f"up-{size}.npy", resampling.upsample(Y, size, seed=7), allow_pickle=False)
        for reading in resampling.READINGS:
            np.save(out / f"down-{size}-{reading}.npy", resampling.downsample(Y, size, seed=7, reading=reading),
                    allow_pickle=False)
    table = classical.read_features(store_path)
    for protocol in ("seed", "default"):
        result = classical.run(table, protocol, models=("lr", "rf", "svm", "knn"), seed=5, n_repeats=1, n_boot=20,
                               progress=False)
        for model, df in result.predictions.items():
            proba = df[[c for c in df.columns if c.startswith("proba_")]].to_numpy(np.float64)
            np.save(out / f"classical-{protocol}-{model}.npy", proba, allow_pickle=False)
            df.drop(columns=[c for c in df.columns if c.startswith("proba_")]).to_csv(
                out / f"classical-{protocol}-{model}.csv", index=False, lineterminator="\n")
        result.table.drop(columns=["fit_s"]).to_csv(out / f"classical-{protocol}-table.csv", index=False,
                                                    float_format="%.17g", lineterminator="\n")


if __name__ == "__main__":
    produce(sys.argv[1], sys.argv[2])
'''


def folder_bytes(path: Path, skip: tuple[str, ...] = ()) -> dict[str, bytes]:
    """Every file under ``path`` by relative path (except those under the ``skip`` prefixes)."""
    return {
        p.relative_to(path).as_posix(): p.read_bytes()
        for p in sorted(path.rglob("*"))
        if p.is_file() and not p.relative_to(path).as_posix().startswith(skip)
    }


def assert_same_files(a: dict[str, bytes], b: dict[str, bytes], what: str) -> None:
    assert a.keys() == b.keys(), f"{what}: different files {sorted(a.keys() ^ b.keys())}"
    differ = [name for name in a if a[name] != b[name]]
    assert not differ, f"{what}: different bytes in {differ}"


@pytest.fixture(scope="module")
def tones(tmp_path_factory):
    """3 tone 'genres' x 6 clips of 4 s (2 artists each) and its index."""
    root = tmp_path_factory.mktemp("det_tones")
    return tone_index(root / "tones", genres=GENRES3, per_genre=6, seconds=4.0)


TINY = frontend_preset(
    "genre",
    "default",
    n_mels=32,
    frame_seconds=1.0,
    hop_seconds=0.5,
    representations=("mel",),
    handcrafted=True,
)


@pytest.fixture(scope="module")
def store(tones, tmp_path_factory):
    """A tiny store (mel frames and descriptors) and a song split saved beside it (not inside it,
    so the store's files stay exactly what extraction wrote)."""
    root = tmp_path_factory.mktemp("det_store")
    fs = extract(tones, TINY, root / "store", jobs=1, progress=False).store
    splits.save(splits.song_split(fs.tracks(), (0.5, 0.25, 0.25), seed=0), root / "song.csv")
    return fs


def cnn(**kw):
    values = dict(
        model="cnn-3",
        representation="mel",
        epochs=2,
        batch_size=16,
        early_stopping_patience=None,
        reduce_lr_patience=None,
        tensorboard=False,
        deterministic=True,
    )
    values.update(kw)
    return train_preset("default", **values)


def weights(model_dir: Path) -> list[np.ndarray]:
    import keras

    return keras.saving.load_model(model_dir / "model.keras", safe_mode=True).get_weights()


def assert_same_weights(a: Path, b: Path) -> None:
    wa, wb = weights(a), weights(b)
    assert len(wa) == len(wb)
    unequal = [i for i, (x, y) in enumerate(zip(wa, wb)) if not np.array_equal(x, y)]
    assert not unequal, f"weight arrays {unequal} differ between {a.name} and {b.name}"


def metrics_without_time(model_dir: Path) -> dict:
    m = json.loads((model_dir / "metrics.json").read_text())
    m.pop("seconds")
    return m


# ------------------------------------------------------------------------------ across processes
@pytest.mark.slow
def test_splits_resampling_and_classical_do_not_depend_on_the_process(store, tmp_path):
    """Song, artist, frame and multi-label splits (CSV bytes), up/down-sampled index arrays and the
    classical baselines' predicted probabilities are the same here and in two fresh interpreters
    with other ``PYTHONHASHSEED`` values."""
    script = tmp_path / "produce.py"
    script.write_text(PRODUCE)
    namespace: dict = {"__name__": "determinism_produce"}
    exec(compile(PRODUCE, str(script), "exec"), namespace)
    namespace["produce"](tmp_path / "here", store.path)
    here = folder_bytes(tmp_path / "here")
    assert len(here) == 4 + 6 + 2 * (4 * 2 + 1), sorted(here)
    for hash_seed in ("0", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, str(script), str(tmp_path / hash_seed), str(store.path)],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        assert_same_files(here, folder_bytes(tmp_path / hash_seed), f"PYTHONHASHSEED={hash_seed}")
    # and the seed matters: these are not constant outputs
    other = splits.song_split(store.tracks(), (0.5, 0.25, 0.25), seed=4)
    assert splits.save(other, tmp_path / "other.csv").read_bytes() != here["song.csv"]


def test_two_fresh_extractions_write_the_same_bytes(tones, store, tmp_path):
    """Every file of a store (chunks, meta, tables, manifest, the index copy) is the same when the
    same index is extracted again from nothing."""
    again = extract(tones, TINY, tmp_path / "again", jobs=1, progress=False)
    assert again.computed == len(tones) and again.reused == 0
    a, b = folder_bytes(store.path), folder_bytes(again.store.path)
    assert (
        len(a) == 2 * len(tones) + 8
    )  # mel and meta chunks; manifest, index, descriptors, failures, fingerprints, track index (3)
    assert_same_files(a, b, "second extraction")


# ------------------------------------------------------------------------------ CNN training
@pytest.mark.slow
def test_deterministic_cnn_training_is_bit_identical(store, tmp_path):
    """Two runs of the same config with ``deterministic=True`` save the same weights, bit for bit,
    the same ``history.csv`` and predictions, byte for byte, and the same metrics."""
    split = store.path.parent / "song.csv"
    cfg = cnn()
    first = train(store, split, cfg, tmp_path / "a", progress=False, n_boot=50)
    second = train(store, split, cfg, tmp_path / "b", progress=False, n_boot=50)
    assert len(first.history) == 2
    assert_same_weights(first.model_dir, second.model_dir)
    for name in (
        "history.csv",
        "predictions/validation.csv",
        "predictions/test.csv",
        "model.best.json",
    ):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert metrics_without_time(tmp_path / "a") == metrics_without_time(tmp_path / "b")


@pytest.mark.slow
def test_non_deterministic_training_is_still_seeded(store, tmp_path):
    """``deterministic=False`` only lets TensorFlow pick faster, non-deterministic kernels: the
    split rows, the frames trained on and the initial weights still come from the seed; and it
    switches off the process-wide op determinism an earlier deterministic run left on. (No claim
    is made about equal final weights.)"""
    import keras
    from tensorflow.python.framework import config as tf_config

    class Initial(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.weights = None

        def on_train_begin(self, logs=None):
            self.weights = self.model.get_weights()

    split = store.path.parent / "song.csv"
    seen = {}
    for det in (True, False):
        grab = Initial()
        train(
            store,
            split,
            cnn(epochs=1, deterministic=det),
            tmp_path / str(det),
            progress=False,
            n_boot=20,
            callbacks=[grab],
        )
        assert tf_config.is_op_determinism_enabled() is det
        seen[det] = grab.weights
    assert all(np.array_equal(x, y) for x, y in zip(seen[True], seen[False])), (
        "initial weights differ"
    )
    keys = {
        det: json.loads((tmp_path / str(det) / "train.json").read_text())["key"]
        for det in (True, False)
    }
    assert keys[True]["rows"] == keys[False]["rows"] and keys[True]["train"] != keys[False]["train"]
    metrics = {
        det: json.loads((tmp_path / str(det) / "metrics.json").read_text()) for det in (True, False)
    }
    assert (
        metrics[True]["frames"] == metrics[False]["frames"]
        and metrics[True]["tracks"] == metrics[False]["tracks"]
    )
    for part in ("validation", "test"):
        rows = [
            (tmp_path / str(det) / "predictions" / f"{part}.csv").read_text().splitlines()
            for det in (True, False)
        ]
        assert [r.split(",")[:4] for r in rows[0]] == [
            r.split(",")[:4] for r in rows[1]
        ]  # same frames, in order


@pytest.mark.slow
def test_an_interrupted_run_resumes_to_the_same_bits(store, tmp_path):
    """Stopped after its 3rd epoch and started again, a run ends with the weights, history and
    selection of the uninterrupted run: the resume restores not only weights and optimizer but
    the batch order (the batches' epoch counter and Python's ``random``, which Keras shuffles a
    PyDataset's batches with), the dropout seed and the ReduceLROnPlateau / EarlyStopping counters."""
    import keras

    split = store.path.parent / "song.csv"
    cfg = cnn(epochs=6, reduce_lr_patience=1, early_stopping_patience=3)
    full = train(store, split, cfg, tmp_path / "full", progress=False, n_boot=20)

    class Stop(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 2:
                raise KeyboardInterrupt("stopped after epoch 3")

    out = tmp_path / "resumed"
    with pytest.raises(KeyboardInterrupt):
        train(store, split, cfg, out, progress=False, n_boot=20, callbacks=[Stop()])
    assert json.loads((out / "backup" / "state.json").read_text())["epoch"] == 3
    resumed = train(store, split, cfg, out, progress=False, n_boot=20)
    assert_same_weights(full.model_dir, resumed.model_dir)
    for name in ("history.csv", "model.best.json", "predictions/test.csv"):
        assert (full.model_dir / name).read_bytes() == (out / name).read_bytes(), name
    assert metrics_without_time(full.model_dir) == metrics_without_time(out)
