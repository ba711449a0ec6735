"""Training one network, from a feature store or straight from audio.

From a feature store (:func:`train`) or straight from audio (:func:`train_audio`), both through
:func:`fit_and_evaluate`, which builds, fits, selects, evaluates and writes the model directory.

The model directory's names come from :class:`musiclass.layout.ModelDir`; the resume machinery
is :mod:`.resume`, the outputs and their readers :mod:`.results`. Keras is imported when a
network is fitted, never when this module is.
"""

from __future__ import annotations

import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import __version__, locks
from .. import audio as audio_mod
from .. import splits as splits_mod
from ..config import FrontendConfig
from ..datasets.base import TrackIndex
from ..errors import AudioError, ConfigError, MetadataError
from ..features.frontend import Frontend
from ..features.store import FeatureStore, tracks_fingerprint
from ..layout import ModelDir
from ..models import build_model
from ..novelty import MAX_FRAMES, frame_statistics
from ..splits import PARTS
from ..utils import config_hash, write_json_atomic
from .batches import (
    frame_batches,
    frame_feed,
    input_statistics,
    load_split,
    select_frames,
    tag_weights,
    targets,
    training_rows,
)
from .config import TrainConfig
from .execution import execution, import_keras, set_seed
from .results import TrainResult, evaluate_parts, load_result, save_predictions
from .resume import (
    best_checkpoint,
    finished,
    history_logger,
    mark_done,
    prepare_model_dir,
    read_resume_state,
    resume_callback,
    truncate_history,
)


@dataclass
class TrainingData:
    """What :func:`fit_and_evaluate` needs from a data source.

    The source is a feature store, or audio files through the on-the-fly frontend.

    Attributes
    ----------
    input_shape : tuple
        The network's input: ``(bins, columns)`` frames (the builder's shape; :attr:`wrap` may
        put an audio frontend in front).
    classes : tuple of str
        The class (tag) order.
    multilabel : bool
        Multi-hot targets (a tagger).
    train, validation : keras.utils.PyDataset or tf.data.Dataset
        Training batches (shuffled, seeded) and validation batches: what ``model.fit`` gets.
    predict : callable
        ``predict(model, part) -> (rows, probabilities, targets)`` for ``"validation"`` and
        ``"test"``; ``rows`` has ``row, track_id, frame, label``.
    train_y : np.ndarray [shape=(n_train, ...)]
        Targets of the training frames, one per frame trained on (for the counts).
    frames, tracks : dict
        Frames and tracks per part (validation and test frames are counted as predicted).
    wrap : callable, optional
        ``wrap(model) -> model``: e.g. put the spectral frontend in front of the network.
    order : object, optional
        What holds the training order's ``epoch`` counter (saved and restored on resume);
        default :attr:`train`.
    feed : FrameFeed, optional
        The cache of a store's frames (:class:`~musiclass.training.batches.FrameFeed`): its
        callback counts the epochs, :meth:`~musiclass.training.batches.FrameFeed.prepare` readies
        the compiled model, and it is closed after training.
    cache : dict, optional
        How the frames are served (``metrics.json``: ``execution.cache``).
    """

    input_shape: tuple
    classes: tuple[str, ...]
    multilabel: bool
    train: Any
    validation: Any
    predict: Any
    train_y: np.ndarray
    frames: dict
    tracks: dict
    wrap: Any = None
    order: Any = None
    feed: Any = None
    cache: dict | None = None


@locks.writes("out")  # one writer per model directory
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
    """Train ``config`` on a split of a feature store, select on validation, evaluate on test.

    The training and validation frames are served from the accelerator's memory, from RAM or
    straight from the store, batch by batch (``config.cache``; every mode gives the same batches,
    in a new seeded order every epoch; see :class:`~musiclass.training.batches.FrameFeed`).
    A finished model directory of the same key (config hash,
    store, split, tracks, rows) is returned as it is; an unfinished one resumes from its last
    finished epoch; one of another key is cleared first.

    Parameters
    ----------
    store : FeatureStore or str or Path
        The feature store (or its folder).
    split : str or Path
        A split saved in the store (``song``, ``seed-frame``, ...) or a split CSV (see
        :func:`~musiclass.training.batches.load_split`).
    config : TrainConfig
        The network and how to train it.
    out : str or Path
        The model directory (see :class:`musiclass.layout.ModelDir`).
    progress : bool
        Keras' progress output: bars on a terminal, a line per epoch otherwise.
    n_boot : int
        Bootstrap resamples for the test metrics' intervals.
    callbacks : list of keras.callbacks.Callback, optional
        Extra callbacks, run after ours.

    Returns
    -------
    TrainResult
        The model directory, its metrics (validation and test evaluations), history and
        training time.

    Raises
    ------
    ConfigError
        The store has no frames of ``config.representation``, or a model option is refused.
    MetadataError
        The split is unreadable, not of this store, or leaves a part empty; a resume state is
        damaged.
    LockedError
        Another process is writing ``out`` (:mod:`musiclass.locks`); nothing was changed.
    """
    store = store if isinstance(store, FeatureStore) else FeatureStore(store)
    md = ModelDir(out)
    rows = select_frames(load_split(store, split), config)
    key = {
        "train": config.hash(),
        "store": store.manifest["config_hash"],
        "split": str(split),
        "tracks": store.manifest.get("tracks_fingerprint"),
        "rows": config_hash(rows[["row", "part"]].to_numpy().tolist()),
    }
    if finished(md, key):
        return load_result(md.path)
    prepare_model_dir(md, key)

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
        md.train,
        {
            "key": key,
            "config": config.to_dict(),
            "split": str(split),
            "store": str(store.path),
            "musiclass": __version__,
        },
    )
    write_json_atomic(md.labels, {"classes": list(classes), "multilabel": multilabel})
    write_json_atomic(
        md.frontend,
        {
            "config": store.config.to_dict(),
            "hash": store.config.hash(),
            "representation": config.representation,
            "input_shape": shape,
        },
    )

    train_rows = np.sort(parts["train"]["row"].to_numpy())
    sample = np.unique(train_rows[np.linspace(0, len(train_rows) - 1, MAX_FRAMES).astype(int)])
    if len(sample) >= 2:  # for predict's note on inputs far outside the training data
        write_json_atomic(md.input_statistics, frame_statistics(array.rows(sample)))

    set_seed(config.seed, config.deterministic)
    options = dict(config.model_options)
    if config.model == "fnn" and options.get("normalize", True):
        mean, var = input_statistics(array, parts["train"]["row"].to_numpy())
        options.update(mean=mean, variance=var)

    pick = training_rows(parts["train"]["row"].to_numpy(), y["train"], config)
    train_y = y["train"][pick]
    weights = tag_weights(train_y) if config.tag_weights == "balanced" else None

    def predict(model, part: str):  # a closure, not API; numpydoc ignore=GL08
        r = parts[part]
        probs = model.predict(
            frame_batches(array, r["row"].to_numpy(), None, 256, shuffle=False), verbose=0
        )
        return r, probs, y[part]

    feed, cache = frame_feed(
        array,
        parts["train"]["row"].to_numpy()[pick],
        train_y,
        parts["validation"]["row"].to_numpy(),
        y["validation"],
        config,
        weights=weights,
    )
    data = TrainingData(
        input_shape=shape,
        classes=classes,
        multilabel=multilabel,
        train=feed.train,
        validation=feed.validation,
        predict=predict,
        train_y=train_y,
        frames={p: int(len(r)) for p, r in parts.items()},
        tracks={p: int(r["track_id"].nunique()) for p, r in parts.items()},
        order=feed,
        feed=feed,
        cache=cache,
    )
    return fit_and_evaluate(
        config, data, options, md.path, key, progress=progress, n_boot=n_boot, callbacks=callbacks
    )


@locks.writes("out")  # one writer per model directory
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
    Every track must decode: a bad file stops training with an error naming it (extract or index
    with ``--check decode`` first to list them). Resumes and returns finished runs as
    :func:`train` does.

    Parameters
    ----------
    index : TrackIndex or str or Path
        The tracks, or an index folder (``musiclass index``).
    split : str or Path or pandas.Series
        A split CSV (``track_id,part``), a ``track_id -> part`` Series (named ``split_name`` in
        the model directory; e.g. ``jamendo.split_assignment``'s official split), or ``"song"``
        (a stratified 80/10/10 split drawn with ``config.seed``).
    frontend : FrontendConfig or dict
        The spectral frontend the layer reproduces.
    config : TrainConfig
        The network and how to train it. Not available from audio (they need the stored
        frames): ``first_frames``, ``resample``, ``tag_weights`` and the normalised FNN.
    out : str or Path
        The model directory.
    batch_tracks : int, optional
        Tracks decoded per training batch; default: about ``batch_size`` frames' worth (from the
        median track length).
    workers : int
        More than 1 decodes in that many parallel processes.
    progress : bool
        Progress output (header check, Keras).
    n_boot : int
        Bootstrap resamples for the test metrics' intervals.
    callbacks : list of keras.callbacks.Callback, optional
        Extra callbacks, run after ours.
    split_name : str, optional
        What ``train.json`` calls a Series ``split`` (default ``given``).

    Returns
    -------
    TrainResult
        The model directory, its metrics (validation and test evaluations), history and
        training time.

    Raises
    ------
    ConfigError
        The frontend lacks the representation, or the config asks for an option audio training
        does not support.
    MetadataError
        The split leaves a part empty (or is unreadable).
    AudioError
        A track is missing, unreadable or too short (checked from the headers before training),
        or fails to decode during training.
    """
    # Keras: the layer module imports it at load, and importing musiclass.training must not
    from ..models import frontend_layer as fl

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
            ("validation_frames_per_track", config.validation_frames_per_track is not None),
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
    # the split decides, not the index
    tracks = index.tracks.drop(columns=["part"], errors="ignore").merge(
        table[["track_id", "part"]].astype({"track_id": str}), on="track_id", how="inner"
    )
    tracks = tracks[tracks["part"].isin(PARTS)].reset_index(drop=True)
    parts = {p: tracks[tracks["part"] == p].reset_index(drop=True) for p in PARTS}
    for p, r in parts.items():
        if r.empty:
            raise MetadataError(split_name, f"the {p} part is empty (is the split for this index?)")
    classes, multilabel = index.classes, index.multilabel
    y = {p: targets(r["label"], classes, multilabel) for p, r in parts.items()}

    md = ModelDir(out)
    key = {
        "train": config.hash(),
        "frontend": frontend.hash(),
        "input": "audio",
        "split": split_name,
        "tracks": tracks_fingerprint(index),
        "parts": config_hash(tracks[["track_id", "part"]].to_numpy().tolist()),
    }
    if finished(md, key):
        return load_result(md.path)
    prepare_model_dir(md, key)

    framer = Frontend(frontend)
    shape = frontend.shape(config.representation)
    n_in = fl.context_samples(frontend)
    write_json_atomic(
        md.train,
        {
            "key": key,
            "config": config.to_dict(),
            "split": split_name,
            "index": index.root,
            "musiclass": __version__,
        },
    )
    write_json_atomic(md.labels, {"classes": list(classes), "multilabel": multilabel})
    write_json_atomic(
        md.frontend,
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
        """Frames of a track from its header (the audio is decoded batch by batch during training).

        Missing, unreadable and too-short files stop here, before any training.

        Parameters
        ----------
        path : str
            The track's audio file.

        Returns
        -------
        int
            The frames the frontend cuts from it (:func:`_frames_in` of the header's duration).

        Raises
        ------
        AudioError
            The file is missing, unreadable or shorter than ``frontend.min_duration``.
        """
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

    def predict(model, part: str):  # a closure, not API; numpydoc ignore=GL08
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
        # validation and test: counted as they are predicted
        frames={"train": int(train_counts.sum())},
        tracks={p: int(len(r)) for p, r in parts.items()},
        wrap=lambda model: fl.with_frontend(model, frontend, config.representation),
    )
    try:
        return fit_and_evaluate(
            config,
            data,
            dict(config.model_options),
            md.path,
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


def _frames_in(framer: Frontend, duration: float, sample_rate: int) -> int:
    """Frames the frontend cuts from a track of ``duration`` seconds (after its trimming rule)."""
    n = int(round(duration * sample_rate))
    lo, hi = framer.trim_bounds(n)
    return framer.n_frames(hi - lo)


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
    """Build, fit, select, evaluate and write the model directory for one data source.

    Runs under ``config``'s strategy, precision and XLA setting. The epoch kept is the best on
    ``config.monitor`` (``model.keras``, reloaded in Keras' safe mode to evaluate); the run is
    resumable after every epoch (:mod:`.resume`); ``done.json`` is written last.

    Parameters
    ----------
    config : TrainConfig
        The network and how to train it.
    data : TrainingData
        The batches and how to predict a part.
    options : dict
        The builder's options (``config.model_options``, plus e.g. the FNN's statistics).
    out : Path
        The model directory, prepared (:func:`~.resume.prepare_model_dir`) with ``train.json``,
        ``labels.json`` and ``frontend.json`` written.
    key : dict
        The run's key, for ``done.json``.
    progress : bool
        Keras' progress output.
    n_boot : int
        Bootstrap resamples for the test metrics' intervals.
    callbacks : list of keras.callbacks.Callback, optional
        Extra callbacks, run after ours.

    Returns
    -------
    TrainResult
        The model directory, its ``metrics.json``, history and training time.

    Raises
    ------
    ConfigError
        The builder refuses the model options or the input shape.
    ValueError
        The selected ``model.keras`` does not load in safe mode.
    """
    keras = import_keras()
    md = ModelDir(out)
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
        # what Keras resolved "auto" (or a model it cannot compile) to
        run_on["xla"] = bool(model.jit_compile)
        if data.cache is not None:
            run_on["cache"] = data.cache
        if data.feed is not None:
            data.feed.prepare(model)
        monitor = config.monitor
        if multilabel and monitor == "val_accuracy":
            monitor = "val_binary_accuracy"
        extra = list(callbacks or [])
        state = read_resume_state(md.path)
        initial_epoch = int(state["epoch"]) if state else 0
        truncate_history(md.history, initial_epoch)
        # the feed's epoch counter first: the resume callback saves it as an epoch ends
        callbacks = [data.feed.callback()] if data.feed is not None else []
        callbacks += [best_checkpoint(md, monitor), history_logger(md.history)]
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
                keras.callbacks.TensorBoard(str(md.tensorboard), write_graph=False, profile_batch=0)
            )
        # saved last of ours: whatever an epoch's end wrote before a kill is written again when the
        # epoch is redone (history rows beyond the saved epoch are dropped above)
        order = data.order if data.order is not None else data.train
        callbacks.append(resume_callback(md.backup, state, order, watched))
        callbacks += extra
        t0 = time.perf_counter()
        # bars on a terminal, a line per epoch in logs
        verbose = (1 if sys.stdout.isatty() else 2) if progress else 0
        # stopped early before the kill: nothing left to train
        if not (state and state.get("stopped")):
            model.fit(
                data.train,
                validation_data=data.validation,
                epochs=config.epochs,
                callbacks=callbacks,
                verbose=verbose,
                initial_epoch=initial_epoch,
                # a feed's tf.data batches are in their seeded order already; Keras shuffles
                # the order of a PyDataset's batches (audio) with Python's random
                shuffle=data.feed is None,
            )
        seconds = time.perf_counter() - t0
        if data.feed is not None:
            data.feed.close()

        best = keras.saving.load_model(md.model, safe_mode=True)
        predicted = {part: data.predict(best, part) for part in ("validation", "test")}
    results: dict[str, Any] = {"selected": json.loads(md.best.read_text())}
    for part, (rows, probs, _) in predicted.items():
        save_predictions(md.predictions(part), rows, probs, classes)
    results.update(
        evaluate_parts(
            predicted, classes, multilabel, seed=config.seed, n_boot=n_boot, model_dir=md
        )
    )
    results["train_frames"] = int(len(data.train_y))
    if multilabel:
        results["train_tag_counts"] = dict(
            zip(classes, np.asarray(data.train_y).sum(axis=0).astype(int).tolist())
        )
    history = pd.read_csv(md.history)
    frames = {**data.frames, **{p: int(len(r)) for p, (r, _, _) in predicted.items()}}
    results.update(
        seconds=round(seconds, 2),
        epochs_run=int(len(history)),
        frames=frames,
        tracks=data.tracks,
        parameters=int(best.count_params()),
        execution=run_on,
    )
    write_json_atomic(md.metrics, results)
    mark_done(md, key)  # done.json, then backup/ goes: a kill in between retrains nothing
    return TrainResult(md.path, results, history, seconds)
