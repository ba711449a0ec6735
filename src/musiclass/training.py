"""Training networks from a feature store: streamed batches, seeded, automatic model selection.

:func:`train` fits one model on one split of one store and leaves a **model directory**::

    model.keras      the selected (best-on-validation) model, loadable with keras safe mode
    train.json       the training config (with its hash)       labels.json    classes, multilabel
    frontend.json    the frontend config the features came from (``predict`` recomputes with it)
    history.csv      per-epoch loss, accuracy, learning rate (Keras CSVLogger)
    tensorboard/     TensorBoard logs                          backup/        resume state (while running)
    predictions/     per split part: one row per frame, probabilities per class (CSV)
    metrics.json     evaluation of the selected model on validation and test
    done.json        written last: the run is complete

Batches are gathered from the memory-mapped store (:class:`FrameBatches`, a ``keras.utils.PyDataset``):
the data set is never loaded whole, and the training order is a new seeded permutation every epoch.
A killed run restarts from its last finished epoch (:func:`_resume_callback`: weights, optimizer,
random and callback state saved atomically after every epoch), and goes on as the uninterrupted
run would have: with ``deterministic`` the two end with the same weights, bit for bit.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import re
import shutil
import sys
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import __version__
from .config import REPRESENTATIONS, FrontendConfig
from .errors import AudioError, ConfigError, MetadataError
from .features.store import FeatureStore
from .splits import PARTS
from .utils import atomic_path, config_hash, remove_temporaries, write_csv_atomic, write_json_atomic

log = logging.getLogger(__name__)


STRATEGIES = ("default", "mirrored")
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
#: execution options and their defaults (left out of the config hash while at these values)
EXECUTION_DEFAULTS = {"strategy": "default", "precision": "float32", "xla": "auto"}

#: the original mood study's training sets: the base set and 4 up- and 4 down-sampled ones
RESAMPLED_SETS = ("base",) + tuple(
    f"{kind}-{size}" for kind in ("up", "down") for size in ("0.25", "0.5", "0.75", "1")
)


@dataclass(frozen=True)
class TrainConfig:
    """How one network is trained. ``preset`` picks the defaults (see :func:`train_preset`)."""

    model: str = "cnn-3"
    #: builder options (``pool3`` for CNN-N, ``axis`` for ``mfcc-1d``, ``normalize`` for ``fnn``)
    model_options: dict = field(default_factory=dict)
    representation: str = "mel"
    preset: str = "default"
    batch_size: int = 128
    epochs: int = 40
    #: Adam learning rate; None: 1e-3 (CNNs), 1e-4 (FNN), the original's
    learning_rate: float | None = None
    #: ReduceLROnPlateau on val_loss (factor, patience); patience None disables it
    reduce_lr_factor: float = 0.1
    reduce_lr_patience: int | None = 2
    #: EarlyStopping patience on the selection metric; None: train every epoch
    early_stopping_patience: int | None = 6
    #: the validation quantity the kept model is chosen on (and early stopping watches)
    monitor: str = "val_loss"
    #: use only the first K frames of every track (the original's experiment 1 used 10)
    first_frames: int | None = None
    #: train on at most K evenly spaced frames per track (quick profiles); validation and test keep all
    train_frames_per_track: int | None = None
    seed: int = 42
    #: "auto": binary cross-entropy for multi-label data, categorical for single-label;
    #: "categorical": categorical cross-entropy even on multi-hot targets (the original mood study's)
    loss: str = "auto"
    #: train on a resampled training set: "base", "up-0.25" ... "up-1", "down-0.25" ... "down-1"
    #: (see :mod:`musiclass.resampling`); None trains on the training part as it is
    resample: str | None = None
    #: which reading of the original's downsampling rule: "code" or "readme"
    resample_reading: str = "code"
    #: "balanced": weight each training frame by the inverse frequency of its tags (classes), the
    #: modern alternative to resampling; "none": every frame counts the same
    tag_weights: str = "none"
    #: TF op determinism: identical weights run to run on CPU, somewhat slower
    deterministic: bool = False
    tensorboard: bool = True
    #: "default": one device; "mirrored": ``tf.distribute.MirroredStrategy`` over every GPU (or,
    #: without GPUs, every logical CPU device), each batch of ``batch_size`` split across them
    strategy: str = "default"
    #: "float32", "mixed_float16" (GPUs with tensor cores) or "mixed_bfloat16" (TPUs, recent CPUs)
    precision: str = "float32"
    #: XLA compilation of the train step: "auto" (Keras' choice: on for one GPU, off on CPU and
    #: under a strategy), True or False
    xla: bool | str = "auto"

    def __post_init__(self) -> None:
        if self.representation not in REPRESENTATIONS:
            raise ConfigError(
                f"representation must be one of {REPRESENTATIONS}, got {self.representation!r}"
            )
        if self.monitor not in ("val_loss", "val_accuracy"):
            raise ConfigError(f"monitor must be val_loss or val_accuracy, got {self.monitor!r}")
        if self.loss not in ("auto", "categorical"):
            raise ConfigError(f"loss must be auto or categorical, got {self.loss!r}")
        if self.tag_weights not in ("none", "balanced"):
            raise ConfigError(f"tag_weights must be none or balanced, got {self.tag_weights!r}")
        if self.resample is not None and self.resample not in RESAMPLED_SETS:
            raise ConfigError(f"resample must be one of {RESAMPLED_SETS}, got {self.resample!r}")
        if (
            self.resample == "base"
        ):  # the base set is the training part itself: one config, one hash
            object.__setattr__(self, "resample", None)
        for name in ("batch_size", "epochs"):
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"{name} must be at least 1")
        if self.strategy not in STRATEGIES:
            raise ConfigError(f"strategy must be one of {STRATEGIES}, got {self.strategy!r}")
        if self.precision not in PRECISIONS:
            raise ConfigError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if self.xla not in (True, False, "auto"):
            raise ConfigError(f"xla must be true, false or auto, got {self.xla!r}")
        if self.xla is True and self.deterministic:
            raise ConfigError(
                "xla and deterministic exclude each other (XLA has no deterministic mode for "
                "every op; Keras would silently drop XLA): choose one"
            )

    @property
    def lr(self) -> float:
        if self.learning_rate is not None:
            return float(self.learning_rate)
        return 1e-4 if self.model == "fnn" else 1e-3

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def hash(self) -> str:
        """Hash of every value; the execution options (strategy, precision, XLA) count only when
        changed, so models trained before they existed keep their identity."""
        d = self.to_dict()
        for name, default in EXECUTION_DEFAULTS.items():
            if d.get(name) == default:
                d.pop(name)
        return config_hash(d)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(f"unknown training option(s) {unknown}; known: {sorted(known)}")
        d = dict(d)
        if "model_options" in d:
            d["model_options"] = {
                k: (tuple(v) if isinstance(v, list) else v)
                for k, v in (d["model_options"] or {}).items()
            }
        return cls(**d)


#: the original study's settings: batch 128, 20 epochs, ReduceLROnPlateau(val_loss, 0.1, patience 1),
#: no early stopping, best epoch on validation accuracy (picked by hand then, automatically here),
#: raw inputs for the FNN, MFCC convolution across the coefficients
SEED_TRAINING = dict(
    batch_size=128,
    epochs=20,
    reduce_lr_factor=0.1,
    reduce_lr_patience=1,
    early_stopping_patience=None,
    monitor="val_accuracy",
    loss="categorical",
)


def train_preset(preset: str = "default", **overrides: Any) -> TrainConfig:
    """``default`` (early stopping on val_loss) or ``seed`` (the original's settings), then overrides."""
    if preset not in ("default", "seed"):
        raise ConfigError(f"training preset must be 'default' or 'seed', got {preset!r}")
    values: dict[str, Any] = dict(SEED_TRAINING) if preset == "seed" else {}
    values.update(overrides)
    values["preset"] = preset
    options = dict(values.get("model_options") or {})
    model = values.get("model", "cnn-3")
    if model != "fnn":
        options.setdefault("bn_momentum", 0.99 if preset == "seed" else 0.9)
    if preset == "seed":
        if model == "fnn":
            options.setdefault("normalize", False)
        if model == "mfcc-1d":
            options.setdefault("axis", "coefficients")
    values["model_options"] = options
    return TrainConfig.from_dict(values)


# ------------------------------------------------------------------------------ data
def load_split(store: FeatureStore, split: str | Path) -> pd.DataFrame:
    """Frame rows with their part: ``row, track_id, frame, label, part``.

    ``split`` is a method name saved in the store (``song``, ``seed-frame``, ...) or a CSV path
    (``track_id,part`` for track splits, ``row,track_id,part`` for frame splits).
    """
    from . import splits as splits_mod

    path = Path(split)
    if not path.suffix:
        path = store.path / "splits" / f"{split}.csv"
    table = splits_mod.load(path)
    frames = store.index
    if "row" in table.columns:
        merged = frames.merge(table[["row", "part"]], on="row", how="left")
    else:
        merged = frames.merge(
            table[["track_id", "part"]].astype({"track_id": str}), on="track_id", how="left"
        )
    merged = merged[merged["part"].isin(PARTS)]
    if merged.empty:
        raise MetadataError(
            path, "no frame of this store is in the split (was it made for another store?)"
        )
    return merged.reset_index(drop=True)


def select_frames(rows: pd.DataFrame, config: TrainConfig) -> pd.DataFrame:
    """Apply ``first_frames`` to every part and ``train_frames_per_track`` to the training part."""
    if config.first_frames is not None:
        rows = rows[rows["frame"] < int(config.first_frames)]
    k = config.train_frames_per_track
    if k is not None:
        train = rows["part"] == "train"
        t = rows[train]
        n = t.groupby("track_id")["frame"].transform("size").to_numpy()
        pos = t.groupby("track_id").cumcount().to_numpy()
        rows = pd.concat([t[evenly_spaced_mask(pos, n, int(k))], rows[~train]]).sort_values("row")
    return rows.reset_index(drop=True)


def evenly_spaced_mask(pos: np.ndarray, n: np.ndarray | int, k: int) -> np.ndarray:
    """Which frame positions ``pos`` (of tracks of ``n`` frames) are among ``k`` evenly spaced ones:
    position p is kept when ``floor(p * k / n)`` changes, i.e. k picks spread over n frames (all when
    ``n <= k``). The rule of ``train_frames_per_track``, for stored and for audio batches alike."""
    return (n <= k) | (np.floor(pos * k / n) != np.floor((pos - 1) * k / n))


def evenly_spaced(n: int, k: int | None) -> np.ndarray:
    """The positions of ``k`` evenly spaced frames among ``n`` (all when ``k`` is None or ``n <= k``)."""
    pos = np.arange(n)
    return pos if k is None else pos[evenly_spaced_mask(pos, n, int(k))]


def epoch_order(n: int, shuffle: bool, seed: int, epoch: int) -> np.ndarray:
    """The order of ``n`` items in an epoch: as they are, or a permutation drawn from the seed and
    the epoch number only (the same config gives the same batches, whatever the worker count)."""
    if not shuffle:
        return np.arange(n)
    return np.random.default_rng([seed, epoch]).permutation(n)


def targets(labels: pd.Series, classes: tuple[str, ...], multilabel: bool) -> np.ndarray:
    """Integer classes (single-label) or a float multi-hot matrix (multi-label)."""
    from .datasets.base import labels_to_matrix

    if multilabel:
        return labels_to_matrix(labels, classes).astype(np.float32)
    lookup = {c: i for i, c in enumerate(classes)}
    try:
        return np.fromiter((lookup[v] for v in labels), dtype=np.int32, count=len(labels))
    except KeyError as exc:
        raise MetadataError(
            "index.csv", f"label {exc.args[0]!r} is not one of the store's classes"
        ) from None


def training_rows(rows: np.ndarray, y: np.ndarray, config: TrainConfig) -> np.ndarray:
    """Positions (into the training part) to train on: all, or a resampled set (repeats allowed)."""
    if config.resample is None:
        return np.arange(len(rows))
    from . import resampling

    Y = y if y.ndim == 2 else np.eye(int(y.max()) + 1, dtype=np.int8)[y]
    kind, size = config.resample.split("-")
    if kind == "up":
        return resampling.upsample(Y, float(size), seed=config.seed)
    return resampling.downsample(Y, float(size), seed=config.seed, reading=config.resample_reading)


def tag_weights(y: np.ndarray) -> np.ndarray:
    """Per-frame weight for ``tag_weights="balanced"``: the mean, over the frame's tags, of
    ``n / (k * count(tag))`` (scikit-learn's "balanced" class weight), scaled to mean 1."""
    Y = y if y.ndim == 2 else np.eye(int(y.max()) + 1)[y]
    Y = Y.astype(np.float64)
    counts = Y.sum(axis=0)
    per_tag = np.divide(len(Y), len(counts) * counts, out=np.zeros_like(counts), where=counts > 0)
    n_tags = Y.sum(axis=1)
    w = np.divide(Y @ per_tag, n_tags, out=np.ones(len(Y)), where=n_tags > 0)
    return (w / w.mean()).astype(np.float32)


def _keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    return keras


def frame_batches(
    array,
    rows: np.ndarray,
    y: np.ndarray | None,
    batch_size: int,
    *,
    shuffle: bool,
    seed: int = 0,
    weights: np.ndarray | None = None,
    **kwargs,
):
    """A :class:`FrameBatches` (created lazily so importing this module does not import Keras)."""
    keras = _keras()

    class FrameBatches(keras.utils.PyDataset):
        """Batches of stored frames ``(batch, bins, columns)`` (and targets), gathered on demand.

        With ``shuffle`` the order is a fresh permutation each epoch, drawn from ``seed`` and the
        epoch number only: the same config gives the same batches, whatever the worker count.
        """

        def __init__(self):
            super().__init__(**kwargs)
            self.array, self.rows, self.y = array, np.asarray(rows, dtype=np.int64), y
            self.batch_size, self.shuffle, self.seed = int(batch_size), shuffle, seed
            self.epoch = 0
            self.order = self._order()

        def _order(self) -> np.ndarray:
            return epoch_order(len(self.rows), self.shuffle, self.seed, self.epoch)

        def __len__(self) -> int:
            return math.ceil(len(self.rows) / self.batch_size)

        def __getitem__(self, i: int):
            sel = self.order[i * self.batch_size : (i + 1) * self.batch_size]
            x = self.array.rows(self.rows[sel])
            if x.dtype != np.float32:
                x = x.astype(np.float32)
            if self.y is None:
                return x
            return (x, self.y[sel]) if weights is None else (x, self.y[sel], weights[sel])

        def on_epoch_begin(self) -> None:
            self.order = self._order()

        def on_epoch_end(self) -> None:
            self.epoch += 1

    return FrameBatches()


# ------------------------------------------------------------------------------ callbacks
def _best_checkpoint(path: Path, monitor: str):
    """Save the model whenever ``monitor`` improves; remembers the best value across resumes."""
    keras = _keras()
    state_path = path.with_suffix(".best.json")
    mode = "min" if monitor.endswith("loss") else "max"

    class BestCheckpoint(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.best = None
            if state_path.is_file() and path.is_file():
                self.best = json.loads(state_path.read_text())["value"]

        def on_epoch_end(self, epoch, logs=None):
            value = (logs or {}).get(monitor)
            if value is None:
                return
            better = self.best is None or (
                value < self.best if mode == "min" else value > self.best
            )
            if better:
                self.best = float(value)
                with atomic_path(path) as tmp:
                    self.model.save(tmp)
                write_json_atomic(
                    state_path, {"monitor": monitor, "value": self.best, "epoch": epoch + 1}
                )

    return BestCheckpoint()


def _history_logger(path: Path):
    """Keras' CSVLogger (appending: a resumed run continues the file), opening the file at the
    first epoch's end rather than at the start of training: a run killed in its first epoch
    leaves no ``history.csv`` instead of an empty one that CSV readers reject."""
    keras = _keras()

    class HistoryLogger(keras.callbacks.CSVLogger):
        def on_train_begin(self, logs=None):
            self._opened = False

        def on_epoch_end(self, epoch, logs=None):
            if not self._opened:
                super().on_train_begin()
                self._opened = True
            super().on_epoch_end(epoch, logs)

    return HistoryLogger(str(path), append=True)


BACKUP = "backup"
RESUME_STATE = "state.json"
#: what is kept of Keras' EarlyStopping and ReduceLROnPlateau between sessions (their counters)
_CALLBACK_STATE = ("wait", "best", "best_epoch", "cooldown_counter", "stopped_epoch")


def _json_float(value) -> float | str:
    v = float(value)
    return (
        v if math.isfinite(v) else repr(v)
    )  # "inf", "-inf", "nan": strict JSON has no such numbers


def read_resume_state(out: Path) -> dict | None:
    """The resume state of an unfinished run in model directory ``out`` (see :func:`_resume_callback`),
    or None: start at epoch 0. The state file is written atomically after the weights it names, so
    it is either absent, or complete and pointing at a complete weights file."""
    path = Path(out) / BACKUP / RESUME_STATE
    if not path.is_file():
        if (Path(out) / BACKUP / "training_metadata.json").is_file():
            log.warning(
                "%s: an unfinished run of an earlier musiclass version; starting it over", out
            )
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (
        json.JSONDecodeError,
        UnicodeDecodeError,
    ) as exc:  # not from our writer: refuse to guess
        raise MetadataError(
            path, f"not valid JSON ({exc}); delete {path.parent} to train from the start"
        ) from None
    if not (path.parent / str(state.get("weights", ""))).is_file():
        raise MetadataError(
            path,
            f"names {state.get('weights')!r}, which is missing; delete {path.parent} "
            "to train from the start",
        )
    return state


def _truncate_history(path: Path, epochs: int) -> None:
    """Keep the rows of ``history.csv`` for epochs ``0 .. epochs-1`` (and the header), byte for byte:
    an epoch logged by a run killed before its backup was saved is trained, and logged, again."""
    if not path.is_file():
        return
    if epochs == 0:
        path.unlink()
        return
    lines = path.read_bytes().splitlines(keepends=True)
    keep = lines[:1] + [
        ln
        for ln in lines[1:]
        if ln.endswith(b"\n")
        and ln.split(b",", 1)[0].strip().isdigit()
        and int(ln.split(b",", 1)[0]) < epochs
    ]
    if keep != lines:
        with atomic_path(path) as tmp:
            tmp.write_bytes(b"".join(keep))


def _resume_callback(backup: Path, state: dict | None, train_seq, watched: list):
    """Save, after every epoch, what a restarted run needs to go on exactly as this one will, and
    restore it at the start of a restarted run.

    Saved (each file atomically; the state file last, naming its weights file, so a kill at any
    moment leaves the previous complete pair): the weights with the optimizer state
    (``epoch-NNNN.weights.h5``), the dropout seed generators, Python's ``random`` state (Keras
    shuffles the order of a PyDataset's batches with it), the epoch counter of the training
    batches (their seeded order), the counters of EarlyStopping and ReduceLROnPlateau, and whether
    training stopped early. ``keras.callbacks.BackupAndRestore``, used before, saved only the
    weights and the epoch, neither file atomically: a restarted run drew other batch orders and
    dropout masks, and a kill during its save could leave a weights file that no longer loads.
    """
    keras = _keras()

    def seed_variables(
        model,
    ):  # in model order: their paths get numbered per process ("seed_generator_2")
        return [v for v in model.variables if "seed_generator_state" in v.path]

    class Resume(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self._pending = state is not None

        def on_train_begin(self, logs=None):
            if state is None:
                return
            optimizer = self.model.optimizer
            if (
                optimizer is not None and not optimizer.built
            ):  # its variables must exist to be loaded
                optimizer.build(self.model.trainable_variables)
            self.model.load_weights(backup / state["weights"])
            seeds, saved = seed_variables(self.model), state.get("seed_generators", [])
            if len(seeds) == len(saved):
                for variable, value in zip(seeds, saved):
                    variable.assign(np.asarray(value, dtype=variable.dtype))

        def on_epoch_begin(self, epoch, logs=None):
            # here, not in on_train_begin: after every callback's own reset, just before the
            # first batch order is drawn
            if not self._pending:
                return
            self._pending = False
            version, internal, gauss = state["python_random"]
            random.setstate((version, tuple(internal), gauss))
            if "order_epoch" in state and hasattr(train_seq, "epoch"):
                train_seq.epoch = int(state["order_epoch"])
            for cb, saved in zip(watched, state.get("callbacks", [])):
                for name, value in saved.items():
                    setattr(cb, name, float(value) if name == "best" else value)

        def on_epoch_end(self, epoch, logs=None):
            name = f"epoch-{epoch + 1:04d}.weights.h5"
            with atomic_path(backup / name, suffix=".weights.h5") as tmp:
                self.model.save_weights(tmp)
            saved = [
                {
                    k: _json_float(v) if k == "best" else int(v)
                    for k in _CALLBACK_STATE
                    if isinstance(v := getattr(cb, k, None), (int, float, np.number))
                    and not isinstance(v, bool)
                }
                for cb in watched
            ]
            version, internal, gauss = random.getstate()
            write_json_atomic(
                backup / RESUME_STATE,
                {
                    "epoch": epoch + 1,
                    "weights": name,
                    "stopped": bool(self.model.stop_training),
                    "python_random": [version, list(internal), gauss],
                    "order_epoch": int(getattr(train_seq, "epoch", 0)),
                    "seed_generators": [
                        np.asarray(v.numpy()).tolist() for v in seed_variables(self.model)
                    ],
                    "callbacks": saved,
                },
            )
            for old in backup.glob("epoch-*.weights.h5"):
                if old.name != name:
                    old.unlink(missing_ok=True)

    return Resume()


# ------------------------------------------------------------------------------ training
@dataclass
class TrainResult:
    model_dir: Path
    metrics: dict[str, Any]
    history: pd.DataFrame
    seconds: float

    @property
    def test(self) -> dict[str, Any]:
        return self.metrics["test"]


def set_seed(seed: int, deterministic: bool = False) -> None:
    """Seed Python, NumPy and TensorFlow; switch TF op determinism on or off (it is process-wide:
    left on by an earlier deterministic run, it would also slow down and disable XLA for the next)."""
    keras = _keras()
    keras.utils.set_random_seed(int(seed))
    import tensorflow as tf
    from tensorflow.python.framework import config as tf_config

    if deterministic:
        tf.config.experimental.enable_op_determinism()
    elif tf_config.is_op_determinism_enabled():
        tf_config.disable_op_determinism()


def distribute_strategy(name: str = "default"):
    """The ``tf.distribute`` strategy for ``name``: ``None`` for one device, or a MirroredStrategy
    over every GPU (without GPUs: every logical CPU device, which is how the test suite runs the
    multi-device path on CPU, ``tf.config.set_logical_device_configuration``)."""
    if name == "default":
        return None
    if name not in STRATEGIES:
        raise ConfigError(f"strategy must be one of {STRATEGIES}, got {name!r}")
    _keras()
    import tensorflow as tf

    devices = [d.name for d in tf.config.list_logical_devices("GPU")] or [
        d.name for d in tf.config.list_logical_devices("CPU")
    ]
    # on CPU-only machines the default cross-device op (NCCL) does not exist: reduce on the host
    cross = None if tf.config.list_logical_devices("GPU") else tf.distribute.ReductionToOneDevice()
    return tf.distribute.MirroredStrategy(devices=devices, cross_device_ops=cross)


@contextmanager
def execution(config: TrainConfig):
    """Run the block under ``config``'s precision policy and inside its strategy's scope; yields
    a description ``{"strategy", "replicas", "devices", "precision", "xla"}``. The global Keras
    dtype policy is restored afterwards."""
    keras = _keras()
    previous = keras.mixed_precision.global_policy()
    strategy = distribute_strategy(config.strategy)
    keras.mixed_precision.set_global_policy(config.precision)
    try:
        if strategy is None:
            import tensorflow as tf

            devices = [d.name for d in tf.config.list_logical_devices("GPU")[:1]] or [
                "/device:CPU:0"
            ]
            yield {
                "strategy": "default",
                "replicas": 1,
                "devices": devices,
                "precision": config.precision,
                "xla": config.xla,
            }
        else:
            with strategy.scope():
                yield {
                    "strategy": config.strategy,
                    "replicas": int(strategy.num_replicas_in_sync),
                    "devices": list(strategy.extended.worker_devices),
                    "precision": config.precision,
                    "xla": config.xla,
                }
    finally:
        keras.mixed_precision.set_global_policy(previous)


def input_statistics(array, rows: np.ndarray, chunk: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """Per-bin mean and variance of the given frames, streamed ``chunk`` frames at a time (float64)."""
    n, s, s2 = 0, 0.0, 0.0
    for i in range(0, len(rows), chunk):
        x = array.rows(np.sort(rows[i : i + chunk])).astype(np.float64)
        n += x.shape[0] * x.shape[2]
        s = s + x.sum(axis=(0, 2))
        s2 = s2 + np.square(x).sum(axis=(0, 2))
    mean = s / n
    return mean, np.maximum(s2 / n - mean**2, 1e-12)


def train(
    store: FeatureStore | str | Path,
    split: str | Path,
    config: TrainConfig,
    out: str | Path,
    *,
    progress: bool = True,
    n_boot: int = 1000,
    callbacks: list | None = None,
) -> TrainResult:
    """Train ``config`` on the store's ``split``, select on validation, evaluate on test; see module doc.

    A finished model directory (``done.json`` with the same config hash) is returned as is; an
    unfinished one of the same config resumes from its last finished epoch. ``callbacks`` are extra
    Keras callbacks, run after ours.
    """
    store = store if isinstance(store, FeatureStore) else FeatureStore(store)
    out = Path(out)
    rows = select_frames(load_split(store, split), config)
    key = {
        "train": config.hash(),
        "store": store.manifest["config_hash"],
        "split": str(split),
        "tracks": store.manifest.get("tracks_fingerprint"),
        "rows": config_hash(rows[["row", "part"]].to_numpy().tolist()),
    }
    done = out / "done.json"
    if done.is_file() and json.loads(done.read_text()).get("key") == key:
        return load_result(out)
    _prepare_model_dir(out, key)

    if config.representation not in store.representations:
        raise ConfigError(
            f"the store has no {config.representation!r} frames (it has {store.representations})"
        )
    parts = {p: rows[rows["part"] == p] for p in PARTS}
    for p, r in parts.items():
        if r.empty:
            raise MetadataError(str(split), f"the {p} part is empty")
    classes, multilabel = store.classes, store.multilabel
    array = store.array(config.representation)
    shape = tuple(array.shape[1:])
    y = {p: targets(r["label"], classes, multilabel) for p, r in parts.items()}

    write_json_atomic(
        out / "train.json",
        {
            "key": key,
            "config": config.to_dict(),
            "split": str(split),
            "store": str(store.path),
            "musiclass": __version__,
        },
    )
    write_json_atomic(out / "labels.json", {"classes": list(classes), "multilabel": multilabel})
    write_json_atomic(
        out / "frontend.json",
        {
            "config": store.config.to_dict(),
            "hash": store.config.hash(),
            "representation": config.representation,
            "input_shape": shape,
        },
    )

    set_seed(config.seed, config.deterministic)
    options = dict(config.model_options)
    if config.model == "fnn" and options.get("normalize", True):
        mean, var = input_statistics(array, parts["train"]["row"].to_numpy())
        options.update(mean=mean, variance=var)

    pick = training_rows(parts["train"]["row"].to_numpy(), y["train"], config)
    train_y = y["train"][pick]
    weights = tag_weights(train_y) if config.tag_weights == "balanced" else None

    def predict(model, part: str):
        r = parts[part]
        probs = model.predict(
            frame_batches(array, r["row"].to_numpy(), None, 256, shuffle=False), verbose=0
        )
        return r, probs, y[part]

    data = TrainingData(
        input_shape=shape,
        classes=classes,
        multilabel=multilabel,
        train=frame_batches(
            array,
            parts["train"]["row"].to_numpy()[pick],
            train_y,
            config.batch_size,
            shuffle=True,
            seed=config.seed,
            weights=weights,
        ),
        validation=frame_batches(
            array,
            parts["validation"]["row"].to_numpy(),
            y["validation"],
            config.batch_size,
            shuffle=False,
        ),
        predict=predict,
        train_y=train_y,
        frames={p: int(len(r)) for p, r in parts.items()},
        tracks={p: int(r["track_id"].nunique()) for p, r in parts.items()},
    )
    return fit_and_evaluate(
        config, data, options, out, key, progress=progress, n_boot=n_boot, callbacks=callbacks
    )


def train_audio(
    index,
    split,
    frontend,
    config: TrainConfig,
    out: str | Path,
    *,
    batch_tracks: int | None = None,
    workers: int = 1,
    progress: bool = True,
    n_boot: int = 1000,
    callbacks: list | None = None,
    split_name: str | None = None,
) -> TrainResult:
    """Train ``config`` straight from audio files, the spectral features computed inside the model.

    The network gets a :class:`~musiclass.models.frontend_layer.SpectralFrontend` in front, which
    computes ``config.representation`` from raw audio frames with ``tf.signal`` exactly as the
    stored ``frontend`` would (within 0.1 dB), so no feature store is written and a GPU does the
    spectral work; the saved ``model.keras`` takes audio (``frontend.json``: ``"input": "audio"``).

    ``index``: a :class:`TrackIndex` or an index folder (``musiclass index``); ``split``: a split
    CSV (``track_id,part``), a ``track_id -> part`` Series (named ``split_name`` in the model
    directory; e.g. ``jamendo.split_assignment``'s official split), or ``"song"`` (a stratified
    80/10/10 split drawn with ``config.seed``). Each training batch decodes ``batch_tracks`` tracks (default:
    about ``batch_size`` frames' worth); ``workers`` > 1 decodes in parallel processes. Every
    track must decode: a bad file stops training with an error naming it (extract or index with
    ``--check decode`` first to list them). Not available from audio: ``first_frames``,
    ``resample``, ``tag_weights`` and the normalised FNN (they need the stored frames).
    """
    from . import audio as audio_mod
    from . import splits as splits_mod
    from .datasets.base import TrackIndex
    from .features.frontend import Frontend
    from .features.store import tracks_fingerprint
    from .models import frontend_layer as fl

    index = index if isinstance(index, TrackIndex) else TrackIndex.load(index)
    frontend = (
        frontend if isinstance(frontend, FrontendConfig) else FrontendConfig.from_dict(frontend)
    )
    if config.representation not in frontend.representations:
        raise ConfigError(
            f"the frontend config has no {config.representation!r} representation "
            f"(it has {frontend.representations})"
        )
    unsupported = [
        name
        for name, on in (
            ("first_frames", config.first_frames is not None),
            ("resample", config.resample is not None),
            ("tag_weights", config.tag_weights != "none"),
            (
                "fnn normalize",
                config.model == "fnn" and config.model_options.get("normalize", True),
            ),
        )
        if on
    ]
    if unsupported:
        raise ConfigError(
            f"training from audio does not support {', '.join(unsupported)}: extract a feature "
            "store and use train() (musiclass train STORE), or drop these options"
        )
    if isinstance(split, str) and split == "song":
        table = splits_mod.song_split(index, seed=config.seed).reset_index()
        split_name = f"song (seed {config.seed})"
    elif isinstance(split, pd.Series):
        table, split_name = split.rename("part").reset_index(), split_name or "given"
    else:
        table, split_name = splits_mod.load(split), str(split)
    tracks = index.tracks.drop(
        columns=["part"], errors="ignore"
    ).merge(  # the split decides, not the index
        table[["track_id", "part"]].astype({"track_id": str}), on="track_id", how="inner"
    )
    tracks = tracks[tracks["part"].isin(PARTS)].reset_index(drop=True)
    parts = {p: tracks[tracks["part"] == p].reset_index(drop=True) for p in PARTS}
    for p, r in parts.items():
        if r.empty:
            raise MetadataError(split_name, f"the {p} part is empty (is the split for this index?)")
    classes, multilabel = index.classes, index.multilabel
    y = {p: targets(r["label"], classes, multilabel) for p, r in parts.items()}

    out = Path(out)
    key = {
        "train": config.hash(),
        "frontend": frontend.hash(),
        "input": "audio",
        "split": split_name,
        "tracks": tracks_fingerprint(index),
        "parts": config_hash(tracks[["track_id", "part"]].to_numpy().tolist()),
    }
    done = out / "done.json"
    if done.is_file() and json.loads(done.read_text()).get("key") == key:
        return load_result(out)
    _prepare_model_dir(out, key)

    framer = Frontend(frontend)
    shape = frontend.shape(config.representation)
    n_in = fl.context_samples(frontend)
    write_json_atomic(
        out / "train.json",
        {
            "key": key,
            "config": config.to_dict(),
            "split": split_name,
            "index": index.root,
            "musiclass": __version__,
        },
    )
    write_json_atomic(out / "labels.json", {"classes": list(classes), "multilabel": multilabel})
    write_json_atomic(
        out / "frontend.json",
        {
            "config": frontend.to_dict(),
            "hash": frontend.hash(),
            "representation": config.representation,
            "input_shape": [n_in],
            "frame_shape": list(shape),
            "input": "audio",
            "context_samples": n_in,
        },
    )

    def header_frames(path: str) -> int:
        """Frames of a track from its header (the audio is decoded batch by batch during training);
        missing, unreadable and too-short files stop here, before any training."""
        i = audio_mod.info(path)
        if 0 < i.duration < frontend.min_duration:
            have, need = audio_mod.seconds_apart(i.duration, frontend.min_duration)
            raise AudioError(path, f"too short: {have} s of audio, at least {need} s needed")
        return _frames_in(framer, i.duration, frontend.sample_rate)

    from tqdm.auto import tqdm

    k = config.train_frames_per_track
    train_counts = np.array(
        [
            min(header_frames(p), k or 10**9)
            for p in tqdm(
                parts["train"]["path"],
                desc="check headers",
                unit="track",
                disable=not progress or len(parts["train"]) < 500,
                leave=False,
            )
        ]
    )
    if batch_tracks is None:
        typical = max(1, int(np.median(train_counts)) if len(train_counts) else 1)
        batch_tracks = max(1, int(round(config.batch_size / typical)))
    kwargs = {"workers": workers, "use_multiprocessing": workers > 1} if workers > 1 else {}
    train_seq = fl.audio_batches(
        list(zip(parts["train"]["path"], y["train"])),
        frontend,
        batch_tracks,
        shuffle=True,
        seed=config.seed,
        frames_per_track=k,
        **kwargs,
    )
    val_seq = fl.audio_batches(
        list(zip(parts["validation"]["path"], y["validation"])),
        frontend,
        batch_tracks,
        shuffle=False,
        **kwargs,
    )

    def predict(model, part: str):
        r = parts[part]
        seq = fl.audio_batches(
            [(p, None) for p in r["path"]], frontend, batch_tracks, shuffle=False
        )
        rows, probs = [], []
        for i, (track_id, label) in enumerate(zip(r["track_id"], r["label"])):
            x = seq.track(i)
            probs.append(np.asarray(model.predict(x, batch_size=64, verbose=0)))
            rows += [(track_id, f, label) for f in range(len(x))]
        table = pd.DataFrame(rows, columns=["track_id", "frame", "label"])
        table.insert(0, "row", np.arange(len(table)))
        return table, np.concatenate(probs), targets(table["label"], classes, multilabel)

    set_seed(config.seed, config.deterministic)
    data = TrainingData(
        input_shape=shape,
        classes=classes,
        multilabel=multilabel,
        train=train_seq,
        validation=val_seq,
        predict=predict,
        train_y=np.repeat(y["train"], train_counts, axis=0),
        frames={
            "train": int(train_counts.sum())
        },  # validation and test: counted as they are predicted
        tracks={p: int(len(r)) for p, r in parts.items()},
        wrap=lambda model: fl.with_frontend(model, frontend, config.representation),
    )
    try:
        return fit_and_evaluate(
            config,
            data,
            dict(config.model_options),
            out,
            key,
            progress=progress,
            n_boot=n_boot,
            callbacks=callbacks,
        )
    except Exception as exc:  # a file that decodes badly past its header surfaces inside tf.data
        found = re.search(r"AudioError: (.+?): (.+)", str(exc))
        if found and not isinstance(exc, AudioError):
            raise AudioError(
                found.group(1),
                found.group(2) + " (while training; the finished epochs are "
                "kept: fix or drop the file and run again)",
            ) from None
        raise


def _frames_in(framer, duration: float, sample_rate: int) -> int:
    """Frames the frontend cuts from a track of ``duration`` seconds (after its trimming rule)."""
    n = int(round(duration * sample_rate))
    lo, hi = framer.trim_bounds(n)
    return framer.n_frames(hi - lo)


def _prepare_model_dir(out: Path, key: dict) -> None:
    """Make ``out`` ready for a run of ``key``: an unfinished run of the same key is resumed; files
    of another config are removed rather than resumed from."""
    done = out / "done.json"
    if done.is_file():
        done.unlink()
    out.mkdir(parents=True, exist_ok=True)
    for folder in (out, out / BACKUP, out / "predictions"):  # left by a run killed mid-write
        remove_temporaries(folder)
    if (out / "train.json").is_file() and json.loads((out / "train.json").read_text()).get(
        "key"
    ) != key:
        # another config trained here before: start clean rather than resume someone else's weights
        for name in (BACKUP, "model.keras", "model.best.json", "history.csv", "tensorboard"):
            p = out / name
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)


@dataclass
class TrainingData:
    """What :func:`fit_and_evaluate` needs from a data source (a feature store, or audio files
    through the on-the-fly frontend): the batches, and how to predict a part."""

    input_shape: tuple
    classes: tuple[str, ...]
    multilabel: bool
    #: PyDatasets of training (shuffled, seeded) and validation batches
    train: Any
    validation: Any
    #: ``predict(model, part) -> (rows, probabilities, targets)`` for "validation" and "test";
    #: rows has ``row, track_id, frame, label``
    predict: Any
    #: targets of the training frames (for counts; a frame per row)
    train_y: np.ndarray
    frames: dict
    tracks: dict
    #: ``wrap(model) -> model``: e.g. put the spectral frontend in front of the network
    wrap: Any = None


def fit_and_evaluate(
    config: TrainConfig,
    data: TrainingData,
    options: dict,
    out: Path,
    key: dict,
    *,
    progress: bool = True,
    n_boot: int = 1000,
    callbacks: list | None = None,
) -> TrainResult:
    """Build, fit (resumable, best-on-validation checkpoint), evaluate and write the model directory
    for one data source, under ``config``'s strategy, precision and XLA setting."""
    keras = _keras()
    from . import evaluation
    from .models import build_model

    classes, multilabel = data.classes, data.multilabel
    with execution(config) as run_on:
        model = build_model(
            config.model, data.input_shape, len(classes), multilabel=multilabel, **options
        )
        if data.wrap is not None:
            model = data.wrap(model)
        if not multilabel:
            loss = "sparse_categorical_crossentropy"
        else:  # the original mood study's categorical loss on multi-hot targets only when asked (seed)
            loss = (
                "categorical_crossentropy"
                if config.loss == "categorical"
                else "binary_crossentropy"
            )
        metrics = ["binary_accuracy" if multilabel else "accuracy"]
        # under mixed_float16 Keras wraps the optimizer in a LossScaleOptimizer itself
        model.compile(
            optimizer=keras.optimizers.Adam(config.lr),
            loss=loss,
            metrics=metrics,
            jit_compile=config.xla,
        )
        run_on["xla"] = bool(
            model.jit_compile
        )  # what Keras resolved "auto" (or a model it cannot compile) to
        monitor = config.monitor
        if multilabel and monitor == "val_accuracy":
            monitor = "val_binary_accuracy"
        extra = list(callbacks or [])
        state = read_resume_state(out)
        initial_epoch = int(state["epoch"]) if state else 0
        _truncate_history(out / "history.csv", initial_epoch)
        callbacks = [
            _best_checkpoint(out / "model.keras", monitor),
            _history_logger(out / "history.csv"),
        ]
        watched = []
        if config.reduce_lr_patience is not None:
            watched.append(
                keras.callbacks.ReduceLROnPlateau(
                    monitor="val_loss",
                    factor=config.reduce_lr_factor,
                    patience=config.reduce_lr_patience,
                    verbose=0,
                )
            )
        if config.early_stopping_patience is not None:
            watched.append(
                keras.callbacks.EarlyStopping(
                    monitor=monitor,
                    patience=config.early_stopping_patience,
                    mode="min" if monitor.endswith("loss") else "max",
                )
            )
        callbacks += watched
        if config.tensorboard:
            callbacks.append(
                keras.callbacks.TensorBoard(
                    str(out / "tensorboard"), write_graph=False, profile_batch=0
                )
            )
        # saved last of ours: whatever an epoch's end wrote before a kill is written again when the
        # epoch is redone (history rows beyond the saved epoch are dropped above)
        callbacks.append(_resume_callback(out / BACKUP, state, data.train, watched))
        callbacks += extra
        t0 = time.perf_counter()
        verbose = (
            (1 if sys.stdout.isatty() else 2) if progress else 0
        )  # bars on a terminal, a line per epoch in logs
        if not (
            state and state.get("stopped")
        ):  # stopped early before the kill: nothing left to train
            model.fit(
                data.train,
                validation_data=data.validation,
                epochs=config.epochs,
                callbacks=callbacks,
                verbose=verbose,
                initial_epoch=initial_epoch,
            )
        seconds = time.perf_counter() - t0

        best = keras.saving.load_model(out / "model.keras", safe_mode=True)
        predicted = {part: data.predict(best, part) for part in ("validation", "test")}
    results: dict[str, Any] = {"selected": json.loads((out / "model.best.json").read_text())}
    parts = {p: r for p, (r, _, _) in predicted.items()}
    probs = {p: pr for p, (_, pr, _) in predicted.items()}
    y = {p: t for p, (_, _, t) in predicted.items()}
    for part in ("validation", "test"):
        save_predictions(out / "predictions" / f"{part}.csv", parts[part], probs[part], classes)
    if multilabel:
        results.update(_evaluate_tags(parts, probs, y, classes, config, n_boot, out))
    else:
        for part in ("validation", "test"):
            ev = evaluation.evaluate(
                probs[part],
                y[part],
                parts[part]["track_id"].to_numpy(),
                classes,
                n_boot=n_boot if part == "test" else 0,
                seed=config.seed,
            )
            results[part] = ev.to_dict()
    results["train_frames"] = int(len(data.train_y))
    if multilabel:
        results["train_tag_counts"] = dict(
            zip(classes, np.asarray(data.train_y).sum(axis=0).astype(int).tolist())
        )
    history = pd.read_csv(out / "history.csv")
    frames = {**data.frames, **{p: int(len(r)) for p, r in parts.items()}}
    results.update(
        seconds=round(seconds, 2),
        epochs_run=int(len(history)),
        frames=frames,
        tracks=data.tracks,
        parameters=int(best.count_params()),
        execution=run_on,
    )
    write_json_atomic(out / "metrics.json", results)
    write_json_atomic(out / "done.json", {"key": key})
    shutil.rmtree(
        out / BACKUP, ignore_errors=True
    )  # after done.json: a kill in between retrains nothing
    return TrainResult(out, results, history, seconds)


def track_truth(y: np.ndarray, track_ids: np.ndarray) -> np.ndarray:
    """Per track, in order of first appearance (as :func:`evaluation.track_probabilities`), its labels."""
    _, first = np.unique(np.asarray(track_ids), return_index=True)
    return y[np.sort(first)]


def _evaluate_tags(
    parts, probs, y, classes, config: TrainConfig, n_boot: int, out: Path
) -> dict[str, Any]:
    """Tagging metrics on validation and test; per-tag thresholds chosen on validation tracks
    (kept in ``thresholds.json`` for ``predict``); the original's metrics beside them."""
    from . import evaluation

    ids = {p: parts[p]["track_id"].to_numpy() for p in ("validation", "test")}
    _, val_probs = evaluation.track_probabilities(probs["validation"], ids["validation"])
    import warnings

    with warnings.catch_warnings(
        record=True
    ) as caught:  # tags absent from validation: kept as a note
        warnings.simplefilter("always")
        thresholds = evaluation.choose_thresholds(
            track_truth(y["validation"], ids["validation"]), val_probs, classes
        )
    write_json_atomic(
        out / "thresholds.json",
        {
            "chosen_on": "validation tracks (max F1 per tag)",
            "thresholds": dict(zip(classes, map(float, thresholds))),
            "notes": [str(w.message) for w in caught],
        },
    )
    results: dict[str, Any] = {}
    for part in ("validation", "test"):
        ev = evaluation.evaluate_tags(
            probs[part],
            y[part],
            ids[part],
            classes,
            thresholds=thresholds,
            n_boot=n_boot if part == "test" else 0,
            seed=config.seed,
        )
        results[part] = ev.to_dict()
        # the original's evaluation (frames, probabilities above 0.9), to set its table beside ours
        results[part]["seed_metrics"] = evaluation.tagging_metrics_to_json(
            evaluation.seed_tagging_metrics(y[part], probs[part]), per_tag=False
        )
    return results


def save_predictions(path: Path, rows: pd.DataFrame, probs: np.ndarray, classes) -> None:
    table = rows[["row", "track_id", "frame", "label"]].reset_index(drop=True)
    table = pd.concat([table, pd.DataFrame(probs, columns=[f"p:{c}" for c in classes])], axis=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_csv_atomic(table, path, index=False, float_format="%.6g")


def load_predictions(path: str | Path) -> tuple[pd.DataFrame, np.ndarray, tuple[str, ...]]:
    """``(rows, probabilities, classes)`` from a ``predictions/<part>.csv``."""
    table = pd.read_csv(path, dtype={"track_id": str, "label": str}, keep_default_na=False)
    cols = [c for c in table.columns if c.startswith("p:")]
    return table.drop(columns=cols), table[cols].to_numpy(np.float64), tuple(c[2:] for c in cols)


def load_result(model_dir: str | Path) -> TrainResult:
    model_dir = Path(model_dir)
    metrics = json.loads((model_dir / "metrics.json").read_text())
    return TrainResult(
        model_dir, metrics, pd.read_csv(model_dir / "history.csv"), metrics.get("seconds", 0.0)
    )
