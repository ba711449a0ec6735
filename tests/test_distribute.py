"""Multi-device training (tf.distribute MirroredStrategy), mixed precision and XLA, on CPU.

The multi-device path is the one a multi-GPU machine takes; here the one CPU is split into two
logical devices (``tf.config.set_logical_device_configuration``), which must happen before
TensorFlow starts, so that part runs in a child process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from musiclass import splits
from musiclass.config import frontend_preset
from musiclass.errors import ConfigError
from musiclass.features.extract import extract
from musiclass.training import EXECUTION_DEFAULTS, train, train_preset
from musiclass.training.config import OPTIONAL_HASHED
from musiclass.utils import config_hash

from .conftest import tone_index

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """3 tone 'genres' x 12 clips of 6 s; 1 s frames of 32 mel bands; a song split 50/25/25."""
    root = tmp_path_factory.mktemp("dist_store")
    index = tone_index(
        root / "tones", genres=("blues", "classical", "country"), per_genre=12, seconds=6.0
    )
    cfg = frontend_preset(
        "genre",
        "default",
        n_mels=32,
        frame_seconds=1.0,
        hop_seconds=0.5,
        representations=("mel",),
        handcrafted=False,
    )
    fs = extract(index, cfg, root / "store", jobs=1, progress=False).store
    splits.save(
        splits.song_split(fs.tracks(), (0.5, 0.25, 0.25), seed=0), fs.path / "splits" / "song.csv"
    )
    return fs


def small_config(**kw):
    values = dict(
        model="cnn-3",
        representation="mel",
        epochs=6,
        batch_size=32,
        early_stopping_patience=None,
        reduce_lr_patience=None,
        tensorboard=False,
        deterministic=True,
    )
    values.update(kw)
    return train_preset("default", **values)


CHILD = textwrap.dedent("""
    import json, os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    import numpy as np
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

    import keras
    from musiclass.features.store import FeatureStore
    from musiclass.training import execution, frame_batches, load_split, targets, train, train_preset

    store_path, out = sys.argv[1], sys.argv[2]
    store = FeatureStore(store_path)
    result = {"logical_cpus": len(tf.config.list_logical_devices("CPU"))}

    # 1. the whole train(): a CNN-3 on one device and on two, same seed
    for strategy in ("default", "mirrored"):
        cfg = train_preset("default", model="cnn-3", representation="mel", epochs=6, batch_size=32,
                           early_stopping_patience=None, reduce_lr_patience=None, tensorboard=False,
                           deterministic=True, strategy=strategy)
        r = train(store, "song", cfg, os.path.join(out, strategy), progress=False, n_boot=50)
        result[strategy] = {"track_accuracy": r.test["track"]["accuracy"],
                            "frame_accuracy": r.test["frame"]["accuracy"],
                            "val_loss": r.history["val_loss"].tolist(), "execution": r.metrics["execution"],
                            "train_frames": r.metrics["train_frames"]}

    # 2. exactness of the data path: a model without batch statistics or dropout, plain SGD, the
    #    same initial weights: one epoch over the same batches must give the same weights whether
    #    each batch runs on one device or is split over two (and the loss reduced over both)
    rows = load_split(store, "song")
    tr = rows[rows["part"] == "train"]
    y = targets(tr["label"], store.classes, False)
    array = store.array("mel")
    shape = tuple(array.shape[1:])
    rng = np.random.default_rng(0)
    init = [rng.normal(0, 0.01, (shape[0] * shape[1], 3)).astype("float32"), np.zeros(3, "float32")]
    weights = {}
    for strategy in ("default", "mirrored"):
        with execution(train_preset("default", strategy=strategy)) as run_on:
            model = keras.Sequential([keras.Input(shape), keras.layers.Flatten(),
                                      keras.layers.Dense(3, activation="softmax")])
            model.set_weights(init)
            model.compile(keras.optimizers.SGD(1e-4), "sparse_categorical_crossentropy")
            # our PyDataset already shuffles (seeded); Keras' extra batch-order shuffle is left out here
            model.fit(frame_batches(array, tr["row"].to_numpy(), y, 32, shuffle=True, seed=1), epochs=2,
                      verbose=0, shuffle=False)
            weights[strategy] = [w.tolist() for w in model.get_weights()]
            result["linear_" + strategy] = run_on["replicas"]
    result["linear_max_diff"] = max(float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
                                    for a, b in zip(weights["default"], weights["mirrored"]))
    result["linear_max_change"] = float(np.max(np.abs(np.asarray(weights["default"][0]) - init[0])))
    print(json.dumps(result))
""")


@pytest.mark.slow
def test_two_logical_devices_give_the_one_device_results(store, tmp_path):
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(store.path), str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    assert res["logical_cpus"] == 2
    one, two = res["default"], res["mirrored"]
    assert one["execution"]["replicas"] == 1
    assert two["execution"]["replicas"] == 2
    assert [d.rsplit("/", 1)[-1] for d in two["execution"]["devices"]] == [
        "device:CPU:0",
        "device:CPU:1",
    ]
    assert one["train_frames"] == two["train_frames"]
    # the same metrics within tolerance: BatchNorm statistics are per device (16 frames each),
    # so the curves differ a little; the test results must not
    assert one["track_accuracy"] >= 0.8 and two["track_accuracy"] >= 0.8
    assert abs(one["track_accuracy"] - two["track_accuracy"]) <= 0.1
    assert abs(one["frame_accuracy"] - two["frame_accuracy"]) <= 0.1
    assert len(one["val_loss"]) == len(two["val_loss"]) == 6
    assert min(one["val_loss"]) < 0.5 and min(two["val_loss"]) < 0.5
    # the exact check: each batch is split across both devices and the gradients combined
    assert res["linear_default"] == 1 and res["linear_mirrored"] == 2
    assert res["linear_max_change"] > 1e-3  # the weights did move
    assert res["linear_max_diff"] < 1e-5


def test_mixed_precision_and_xla_train_and_restore_the_policy(store, tmp_path):
    import keras

    before = keras.mixed_precision.global_policy().name
    res = train(
        store,
        "song",
        small_config(precision="mixed_bfloat16", xla=True, epochs=2, deterministic=False),
        tmp_path / "mixed",
        progress=False,
        n_boot=20,
    )
    assert keras.mixed_precision.global_policy().name == before == "float32"
    execution = dict(res.metrics["execution"])
    assert execution.pop("cache")["mode"] in ("memory", "stream", "device")
    assert execution == {
        "strategy": "default",
        "replicas": 1,
        "devices": ["/device:CPU:0"],
        "precision": "mixed_bfloat16",
        "xla": True,
    }
    model = keras.saving.load_model(tmp_path / "mixed" / "model.keras", safe_mode=True)
    assert model.get_layer("conv1").dtype_policy.name == "mixed_bfloat16"
    assert model.get_layer("conv1").compute_dtype == "bfloat16"
    assert model.get_layer("output").compute_dtype == "float32"  # probabilities stay float32
    x = np.zeros((2, *model.input_shape[1:]), np.float32)
    p = np.asarray(model(x))
    assert p.dtype == np.float32 and np.allclose(p.sum(axis=1), 1, atol=1e-5)
    assert np.isfinite(res.history["loss"]).all()


def test_execution_options_keep_old_hashes_and_are_validated():
    cfg = small_config()
    # the execution options at their defaults and the batch cache do not count
    plain = {k: v for k, v in cfg.to_dict().items() if k not in EXECUTION_DEFAULTS}
    plain.pop("cache", None)
    # nor do options added later while unset (validation_frames_per_track)
    for name in OPTIONAL_HASHED:
        assert plain.pop(name) is None
    assert cfg.hash() == config_hash(plain)  # models trained before these options keep their names
    assert small_config(strategy="mirrored").hash() != cfg.hash()
    assert small_config(precision="mixed_float16").hash() != cfg.hash()
    assert small_config(xla=False).hash() != cfg.hash()
    for bad in (
        dict(strategy="horovod"),
        dict(precision="float16"),
        dict(xla="yes"),
        dict(xla=True, deterministic=True),
    ):
        with pytest.raises(ConfigError, match=next(iter(bad))):
            small_config(**bad)
    assert small_config(xla=True, deterministic=False).xla is True


def test_cli_passes_the_execution_options(store, tmp_path, capsys):
    from musiclass.cli import main

    out = tmp_path / "cli"
    assert (
        main(
            [
                "train",
                str(store.path),
                "--out",
                str(out),
                "--epochs",
                "1",
                "--batch-size",
                "32",
                "--precision",
                "mixed_bfloat16",
                "--no-xla",
                "--strategy",
                "default",
                "-q",
                "--n-boot",
                "20",
                "--set",
                "tensorboard=false",
            ]
        )
        == 0
    )
    saved = json.loads((out / "train.json").read_text())["config"]
    assert (saved["precision"], saved["xla"], saved["strategy"]) == (
        "mixed_bfloat16",
        False,
        "default",
    )
    ran = json.loads((out / "metrics.json").read_text())["execution"]
    assert (ran["precision"], ran["xla"]) == ("mixed_bfloat16", False)


def test_auto_xla_is_recorded_as_keras_resolved_it(store, tmp_path):
    """On CPU Keras' "auto" means no XLA; metrics.json says what actually ran."""
    res = train(store, "song", small_config(epochs=1), tmp_path / "auto", progress=False, n_boot=20)
    assert res.metrics["execution"]["xla"] is False
