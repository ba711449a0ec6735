"""``musiclass predict``: tag your own music with a trained model directory.

A model directory written by :func:`musiclass.training.train` (or ``train_audio``, or
:func:`musiclass.models.frontend_layer.export_with_frontend`) holds everything needed to predict a
new recording: ``model.keras``, ``labels.json`` (classes, multilabel), ``frontend.json`` (the
:class:`~musiclass.config.FrontendConfig` the features came from) and, for tagging models,
``thresholds.json`` (per-tag thresholds chosen on validation tracks).

For each file :class:`Predictor`

1. decodes it with :func:`musiclass.audio.load` at the model's sample rate (any rate, any channel
   count, any format libsndfile reads: WAV, FLAC, OGG, MP3, ...), averaged to mono;
2. cuts it into frames exactly as the training features were made: feature-input models get the
   numpy :class:`~musiclass.features.frontend.Frontend` of the stored config (the very arrays the
   feature store holds), audio-input models (``"input": "audio"``) get
   :func:`~musiclass.models.frontend_layer.audio_frames` rows and compute the features inside;
3. runs the frames through the network ``batch_size`` at a time (memory stays bounded on long
   tracks) and averages the frame probabilities into the track's probabilities, as the evaluation
   does (:func:`musiclass.evaluation.track_probabilities`);
4. reports the top-k genres (single-label models) or the tags whose probability reaches their
   threshold (multi-label models).

**Lengths.** Every frame of the track is predicted: the config's ``max_frames`` (19 under the genre
``seed`` preset, chosen for 30 s GTZAN clips) is *not* applied unless ``whole_track=False``, so a
whole song is judged on all of it. The config's trimming (the mood presets drop 20 s at each end of
tracks of 69.1 s or more) is kept. A clip shorter than one frame gives one zero-padded frame, as in
training. A clip shorter than the config's ``min_duration`` (the shortest training track allowed:
1 s for genre presets, 5 s / 29.1 s for mood) but of at least ``min_seconds`` (0.5 s) is still
predicted, with a note saying how much of its frame is padding; shorter clips fail with
"too short". Silent files fail ("silent"), as they did in extraction.

:func:`predict` runs a predictor over files, folders and glob patterns; one bad file is recorded
with its reason and the run carries on. Keras (and TensorFlow) are imported only when a model is
loaded: importing this module is cheap.
"""

from __future__ import annotations

import glob
import json
import logging
import math
import os
from collections import deque
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import audio, locks, novelty
from .config import FrontendConfig
from .errors import ConfigError, FileError, MetadataError
from .evaluation import track_probabilities
from .features.frontend import Frontend
from .layout import ModelDir
from .pretrained import catalog as pretrained_catalog
from .pretrained import musicnn
from .pretrained.tagger import load_tagger
from .utils import check_keras_file, read_json_object, write_csv_atomic, write_text_atomic

log = logging.getLogger(__name__)

__all__ = [
    "Predictor",
    "PretrainedPredictor",
    "TrackPrediction",
    "PredictReport",
    "load_predictor",
    "predict",
    "find_audio",
    "MIN_SECONDS",
    "DEFAULT_THRESHOLD",
    "BATCH_SIZE",
]

#: clips shorter than this (seconds, after decoding) are refused even when the model's min_duration is longer
MIN_SECONDS = 0.5
#: per-tag threshold used when a multi-label model directory has no thresholds.json
DEFAULT_THRESHOLD = 0.5
#: frames per forward pass: bounds the network's memory whatever the track's length
BATCH_SIZE = 64
#: the files a model directory must hold
REQUIRED_FILES = ModelDir.REQUIRED

FAILURE_COLUMNS = ("path", "reason")


# ------------------------------------------------------------------------------ results
@dataclass
class TrackPrediction:
    """What the model says about one recording.

    Attributes
    ----------
    path : str
        The recording (as given, or the name of a signal).
    duration_s : float
        Seconds of decoded audio (at the model's sample rate).
    starts : numpy.ndarray of shape (n_frames,)
        Start of each frame in seconds from the start of the file.
    frame_probs : numpy.ndarray of shape (n_frames, n_classes)
        The network's output for each frame.
    probs : numpy.ndarray of shape (n_classes,)
        The track's probabilities: the mean of ``frame_probs`` over frames.
    classes : tuple of str
        The model's classes (tags), in output order.
    multilabel : bool
        Whether the model is a tagger.
    top : list of (str, float), default=[]
        Single-label: the ``top_k`` classes with their probabilities, most likely first;
        multi-label: every tag, most likely first.
    tags : list of (str, float), default=[]
        Multi-label: the tags whose probability reaches their threshold, most likely first.
    notes : list of str, default=[]
        Anything the user should know about this prediction (a clip shorter than the training
        tracks).
    """

    path: str
    #: seconds of decoded audio (at the model's sample rate)
    duration_s: float
    #: start of each frame in seconds from the start of the file, ``(n_frames,)``
    starts: np.ndarray
    #: the network's output for each frame, ``(n_frames, n_classes)``
    frame_probs: np.ndarray
    #: the track's probabilities: the mean of ``frame_probs`` over frames, ``(n_classes,)``
    probs: np.ndarray
    classes: tuple[str, ...]
    multilabel: bool
    #: single-label: the ``top_k`` classes with their probabilities, most likely first;
    #: multi-label: every tag, most likely first
    top: list[tuple[str, float]] = field(default_factory=list)
    #: multi-label: the tags whose probability reaches their threshold, most likely first
    tags: list[tuple[str, float]] = field(default_factory=list)
    #: anything the user should know about this prediction (a clip shorter than the training tracks)
    notes: list[str] = field(default_factory=list)

    @property
    def n_frames(self) -> int:
        """The number of frames predicted.

        Returns
        -------
        int
            ``len(starts)``.
        """
        return int(len(self.starts))

    @property
    def label(self) -> str:
        """The most likely class (single-label) or tag (multi-label).

        Returns
        -------
        str
            The first name of :attr:`top`.
        """
        return self.top[0][0]

    def probabilities(self) -> dict[str, float]:
        """Map each class to its track probability.

        Returns
        -------
        dict of str to float
            ``{class: track probability}`` in the model's class order.
        """
        return {c: float(p) for c, p in zip(self.classes, self.probs)}

    def record(self) -> dict[str, Any]:
        """Return a JSON-ready record: nested probabilities, rounded to 6 decimals for reading.

        Returns
        -------
        dict
            ``path``, ``duration_s``, ``n_frames``, then ``tags`` (multi-label) or ``top``
            (single-label) as a list of ``{"tag"/"label": name, "p": probability}``, then
            ``probabilities`` (:meth:`probabilities`) and ``notes``.
        """
        rec: dict[str, Any] = {
            "path": self.path,
            "duration_s": round(float(self.duration_s), 3),
            "n_frames": self.n_frames,
        }
        if self.multilabel:
            rec["tags"] = [{"tag": t, "p": round(p, 6)} for t, p in self.tags]
        else:
            rec["top"] = [{"label": c, "p": round(p, 6)} for c, p in self.top]
        rec["probabilities"] = {c: round(p, 6) for c, p in self.probabilities().items()}
        rec["notes"] = list(self.notes)
        return rec


def _empty_failures() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in FAILURE_COLUMNS})


@dataclass
class PredictReport:
    """The outcome of :func:`predict`: one prediction per good file, one failure per bad one.

    ``len(report)`` is the number of predictions.

    Attributes
    ----------
    model_dir : str
        The model directory.
    classes : tuple of str
        The model's classes (tags).
    multilabel : bool
        Whether the model is a tagger.
    top_k : int
        The number of top classes asked for (single-label models).
    predictions : list of TrackPrediction
        One per file predicted, in the order they were found.
    failures : pandas.DataFrame
        ``path, reason`` per file (or unmatched pattern, missing path, empty folder) that gave no
        prediction.
    notes : list of str, default=[]
        Notes about the model directory (e.g. thresholds.json missing: 0.5 used).
    thresholds : dict of str to float or None, default=None
        Multi-label models: the per-tag thresholds applied.
    """

    model_dir: str
    classes: tuple[str, ...]
    multilabel: bool
    top_k: int
    predictions: list[TrackPrediction]
    #: ``path, reason`` per file (or unmatched pattern, missing path, empty folder) that gave no prediction
    failures: pd.DataFrame = field(default_factory=_empty_failures)
    #: notes about the model directory (e.g. thresholds.json missing: 0.5 used)
    notes: list[str] = field(default_factory=list)
    #: multi-label models: the per-tag thresholds applied
    thresholds: dict[str, float] | None = None

    def __len__(self) -> int:
        return len(self.predictions)

    @property
    def k(self) -> int:
        """The number of top classes listed (``top_k``, at most the number of classes).

        Returns
        -------
        int
            At least 1.
        """
        return max(1, min(int(self.top_k), len(self.classes)))

    @property
    def table(self) -> pd.DataFrame:
        """The predictions as a table, one row per track.

        Returns
        -------
        pandas.DataFrame
            ``path, duration_s, n_frames``, then ``top1, p_top1, ...`` (single-label) or ``tags``
            (``;``-joined tags above threshold, most likely first; multi-label), then a
            ``p:<class>`` column per class, then ``notes``.
        """
        cols = ["path", "duration_s", "n_frames"]
        if self.multilabel:
            cols.append("tags")
        else:
            for i in range(1, self.k + 1):
                cols += [f"top{i}", f"p_top{i}"]
        cols += [f"p:{c}" for c in self.classes] + ["notes"]
        rows = []
        for t in self.predictions:
            row: dict[str, Any] = {
                "path": t.path,
                "duration_s": round(float(t.duration_s), 3),
                "n_frames": t.n_frames,
            }
            if self.multilabel:
                row["tags"] = ";".join(tag for tag, _ in t.tags)
            else:
                for i, (c, p) in enumerate(t.top[: self.k], 1):
                    row[f"top{i}"], row[f"p_top{i}"] = c, float(p)
            row.update({f"p:{c}": float(p) for c, p in zip(self.classes, t.probs)})
            row["notes"] = "; ".join(t.notes)
            rows.append(row)
        table = pd.DataFrame(rows, columns=cols)
        return table.astype({"n_frames": "int64"}) if len(table) else table

    def records(self) -> list[dict[str, Any]]:
        """Return the per-track JSON records (see :meth:`TrackPrediction.record`).

        Returns
        -------
        list of dict
            One record per prediction.
        """
        return [t.record() for t in self.predictions]

    def to_csv(self, path: str | os.PathLike) -> Path:
        """Write :attr:`table` as CSV (written atomically). Failures are not in it: see :attr:`failures`.

        Parameters
        ----------
        path : str or os.PathLike
            The CSV file.

        Returns
        -------
        pathlib.Path
            ``path``.
        """
        path = Path(path)
        write_csv_atomic(self.table, path, float_format="%.6g")
        return path

    def to_json(self, path: str | os.PathLike) -> Path:
        """Write the per-track records as an indented JSON list (written atomically).

        Parameters
        ----------
        path : str or os.PathLike
            The JSON file.

        Returns
        -------
        pathlib.Path
            ``path``.
        """
        path = Path(path)
        write_text_atomic(path, json.dumps(self.records(), indent=2, ensure_ascii=False) + "\n")
        return path

    def save(self, path: str | os.PathLike) -> Path:
        """Write the report with :meth:`to_csv` or :meth:`to_json`, after the extension of ``path``.

        Parameters
        ----------
        path : str or os.PathLike
            The output file, ending in ``.csv`` or ``.json``.

        Returns
        -------
        pathlib.Path
            ``path``.

        Raises
        ------
        musiclass.errors.ConfigError
            If ``path`` ends in neither ``.csv`` nor ``.json``.
        musiclass.locks.LockedError
            If another process is writing ``path`` (:func:`musiclass.locks.locked_file`).
        """
        suffix = Path(path).suffix.lower()
        if suffix not in (".csv", ".json"):
            raise ConfigError(f"{path}: the output file must end in .csv or .json")
        with locks.locked_file(path):  # one writer per output file
            return self.to_csv(path) if suffix == ".csv" else self.to_json(path)

    def summary(self) -> str:
        """Describe the report as a readable text table, then the notes and the failures.

        Returns
        -------
        str
            A header line (model, kind, counts), then ``path  top-1 (p)  top-2 (p) ...`` (genre) or
            ``path  tag (p), ...`` (tags) per track, then the notes and the failures.
        """
        kind = (
            f"tagging model, {len(self.classes)} tags"
            if self.multilabel
            else f"single-label model, {len(self.classes)} classes"
        )
        lines = [
            f"{self.model_dir} ({kind}): {len(self.predictions)} track(s) predicted"
            + (f", {len(self.failures)} failed" if len(self.failures) else "")
        ]
        if self.predictions:
            if self.multilabel:
                header = ["path", "tags (p)"]
                body = [
                    [
                        t.path,
                        ", ".join(f"{tag} ({p:.2f})" for tag, p in t.tags)
                        or f"none above threshold (best: {t.top[0][0]} {t.top[0][1]:.2f})",
                    ]
                    for t in self.predictions
                ]
            else:
                header = ["path"] + [f"top-{i}" for i in range(1, self.k + 1)]
                body = [
                    [t.path] + [f"{c} ({p:.2f})" for c, p in t.top[: self.k]]
                    for t in self.predictions
                ]
            lines.append("")
            lines += _text_table(header, body)
        noted = [(t.path, n) for t in self.predictions for n in t.notes]
        if self.notes or noted:
            lines.append("")
            lines += [f"note: {n}" for n in self.notes]
            lines += [f"note: {p}: {n}" for p, n in noted]
        if len(self.failures):
            lines.append("")
            lines.append(f"{len(self.failures)} failed (no prediction):")
            lines += [f"  {r.path}: {r.reason}" for r in self.failures.itertuples()]
        return "\n".join(lines)


def _text_table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Left-aligned columns two spaces apart (the last one unpadded)."""
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]

    def fmt(r: list[str]) -> str:
        return "  ".join(str(v).ljust(w) for v, w in zip(r, widths)).rstrip()

    return [fmt(header)] + [fmt(r) for r in rows]


# ------------------------------------------------------------------------------ the model directory
def _read_json(path: Path) -> dict[str, Any]:
    return read_json_object(path)


def _need_keys(path: Path, data: dict[str, Any], keys: Sequence[str]) -> None:
    missing = [k for k in keys if k not in data]
    if missing:
        raise MetadataError(path, f"missing key(s) {missing}")


def _read_labels(path: Path) -> tuple[tuple[str, ...], bool]:
    data = _read_json(path)
    _need_keys(path, data, ("classes", "multilabel"))
    classes = data["classes"]
    if (
        not isinstance(classes, list)
        or not classes
        or not all(isinstance(c, str) and c for c in classes)
    ):
        raise MetadataError(path, "classes must be a non-empty list of names")
    if len(set(classes)) != len(classes):
        raise MetadataError(path, "classes repeat")
    if not isinstance(data["multilabel"], bool):
        raise MetadataError(path, f"multilabel must be true or false, got {data['multilabel']!r}")
    return tuple(classes), data["multilabel"]


def _read_frontend(path: Path) -> tuple[FrontendConfig, str, bool, dict[str, Any], list[str]]:
    """``(config, representation, audio_input, raw json, notes)`` from ``frontend.json``."""
    data = _read_json(path)
    _need_keys(path, data, ("config", "representation"))
    if not isinstance(data["config"], dict):
        raise MetadataError(path, "config must be a JSON object (a frontend config)")
    try:
        cfg = FrontendConfig.from_dict(data["config"])
    except (TypeError, ValueError) as exc:  # ConfigError is a ValueError
        raise MetadataError(path, f"invalid frontend config ({exc})") from None
    rep = data["representation"]
    if rep not in cfg.representations:
        raise MetadataError(
            path, f"representation {rep!r} is not one of its config's {list(cfg.representations)}"
        )
    kind = data.get("input", "features")
    if kind not in ("audio", "features"):
        raise MetadataError(path, f"input must be 'audio' or absent (feature frames), got {kind!r}")
    notes = []
    if "hash" in data and data["hash"] != cfg.hash():
        notes.append(
            f"{path}: the config's hash ({cfg.hash()}) differs from the one recorded ({data['hash']}): "
            "edited by hand, or written by another musiclass version? Predicting with the config as written"
        )
    return cfg, rep, kind == "audio", data, notes


def _read_thresholds(path: Path, classes: tuple[str, ...]) -> tuple[np.ndarray, list[str]]:
    """Per-class thresholds from ``thresholds.json``; :data:`DEFAULT_THRESHOLD` with a note when absent."""
    if not path.exists():
        return (
            np.full(len(classes), DEFAULT_THRESHOLD),
            [f"{path} not found: every tag uses the threshold {DEFAULT_THRESHOLD}"],
        )
    data = _read_json(path)
    _need_keys(path, data, ("thresholds",))
    chosen = data["thresholds"]
    if not isinstance(chosen, dict):
        raise MetadataError(path, "thresholds must be a JSON object {tag: value}")
    missing = [c for c in classes if c not in chosen]
    unknown = sorted(set(chosen) - set(classes))
    if missing or unknown:
        raise MetadataError(
            path,
            f"its tags do not match labels.json (missing {missing[:5]}, unknown {unknown[:5]})",
        )
    values = []
    for c in classes:
        v = chosen[c]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise MetadataError(path, f"threshold of {c!r} is not a finite number: {v!r}")
        values.append(float(v))
    notes = data.get("notes") or []  # e.g. tags without a positive validation track (they got 0.5)
    return np.asarray(values), [f"{path}: {n}" for n in notes] if isinstance(notes, list) else []


def load_predictor(
    model_dir: str | os.PathLike,
    *,
    batch_size: int = BATCH_SIZE,
    min_seconds: float = MIN_SECONDS,
    whole_track: bool = True,
) -> Predictor:
    """Read, check and load the model directory ``model_dir``.

    Every problem raises an error naming the file and the reason. The model is loaded with Keras'
    safe mode (:func:`musiclass.models.frontend_layer.load_model`; never pickle).

    Parameters
    ----------
    model_dir : str or os.PathLike
        The model directory (``model.keras``, ``labels.json``, ``frontend.json`` and, for taggers,
        ``thresholds.json``), or the name of a pretrained tagger (``musicnn-mtt``, ``musicnn-msd``:
        :data:`musiclass.pretrained.catalog.PRETRAINED`; its weights are obtained on first use),
        which gives a :class:`PretrainedPredictor`.
    batch_size : int, default=64
        Frames per forward pass (:data:`BATCH_SIZE`).
    min_seconds : float, default=0.5
        The shortest clip predicted (:data:`MIN_SECONDS`; see the module doc).
    whole_track : bool, default=True
        Whether to predict every frame, ignoring the config's ``max_frames``.

    Returns
    -------
    Predictor
        The loaded model, ready to predict.

    Raises
    ------
    musiclass.errors.FileError
        For a missing directory or file, or a model file that cannot be loaded.
    musiclass.errors.MetadataError
        For invalid JSON, missing keys, a frontend config that does not validate, classes that do
        not match the model's outputs, or a model input that is not the frame (or audio row) its
        ``frontend.json`` describes.
    musiclass.errors.ConfigError
        If ``batch_size`` is less than 1 or ``min_seconds`` is not positive.
    musiclass.pretrained.weights.WeightsUnavailable
        For a pretrained name whose weights cannot be had (no network, a hash mismatch).
    """
    if int(batch_size) < 1:
        raise ConfigError("batch_size must be at least 1")
    if not min_seconds > 0:
        raise ConfigError("min_seconds must be positive")
    if pretrained_catalog.is_name(model_dir):  # a published tagger, not a model directory
        tagger = load_tagger(str(model_dir), batch_size=int(batch_size))
        return PretrainedPredictor(
            str(model_dir), tagger, batch_size=int(batch_size), min_seconds=float(min_seconds)
        )
    d = Path(model_dir)
    if not d.exists():
        raise FileError(d, "model directory not found")
    if not d.is_dir():
        raise FileError(
            d, "not a directory (give the model directory written by `musiclass train`)"
        )
    for name in REQUIRED_FILES:
        if (d / name).is_dir():
            raise FileError(d / name, "is a folder, not a file")
        if not (d / name).is_file():
            raise FileError(
                d / name, "file not found (is this a model directory written by `musiclass train`?)"
            )
    classes, multilabel = _read_labels(ModelDir(d).labels)
    cfg, rep, audio_input, front, notes = _read_frontend(ModelDir(d).frontend)
    thresholds = None
    if multilabel:
        thresholds, more = _read_thresholds(ModelDir(d).thresholds, classes)
        notes += more

    check_keras_file(ModelDir(d).model)  # text, empty or a zip bomb: named before Keras is imported
    from .models import frontend_layer as fl  # lazy: imports Keras, only once a model is needed

    if audio_input:
        want: tuple[int, ...] = (fl.context_samples(cfg),)
        if "context_samples" in front and front["context_samples"] != want[0]:
            raise MetadataError(
                ModelDir(d).frontend,
                f"context_samples {front['context_samples']} is not the {want[0]} its config gives",
            )
    else:
        want = cfg.shape(rep)
        if "input_shape" in front and tuple(front["input_shape"]) != want:
            raise MetadataError(
                ModelDir(d).frontend,
                f"input_shape {front['input_shape']} is not the {rep!r} "
                f"frame shape {want} of its config",
            )
    try:
        model = fl.load_model(ModelDir(d).model)
    except FileError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged or foreign file: say which, and why
        raise FileError(
            ModelDir(d).model, f"cannot load the model ({type(exc).__name__}: {exc})"
        ) from None
    got_in = model.input_shape
    if (
        isinstance(got_in, list)
        or not isinstance(model.output_shape, tuple)
        or (model.output_shape and isinstance(model.output_shape[0], tuple))
    ):
        raise MetadataError(ModelDir(d).model, "expected a model with one input and one output")
    if tuple(got_in[1:]) != tuple(want):
        what = "audio rows of" if audio_input else f"{rep!r} frames of shape"
        raise MetadataError(
            ModelDir(d).frontend,
            f"describes {what} {tuple(want)}, but the model takes {tuple(got_in[1:])}",
        )
    n_out = model.output_shape[-1]
    if n_out != len(classes):
        raise MetadataError(
            ModelDir(d).labels, f"lists {len(classes)} classes but the model outputs {n_out}"
        )
    predictor = Predictor(
        d,
        model,
        classes,
        multilabel,
        cfg,
        rep,
        audio_input,
        thresholds,
        notes,
        batch_size=int(batch_size),
        min_seconds=float(min_seconds),
        whole_track=whole_track,
    )
    predictor.input_stats = _read_input_stats(ModelDir(d).input_statistics, want, audio_input)
    return predictor


def _read_input_stats(path: Path, shape: tuple[int, ...], audio_input: bool) -> dict | None:
    """The training frames' statistics (:mod:`musiclass.novelty`), or None when absent or unusable."""
    if audio_input or not path.is_file():  # older model directories have none: no note then
        return None
    stats = read_json_object(path)
    if not all(
        isinstance(stats.get(k), list) and len(stats[k]) == shape[0] for k in ("mean", "std")
    ):
        raise MetadataError(path, f"needs 'mean' and 'std' lists of {shape[0]} bins")
    if not isinstance(stats.get("q99"), (int, float)):
        raise MetadataError(path, "lacks a number 'q99'")
    return stats


@dataclass
class _Prepared:
    """One decoded and framed file, ready for the network."""

    path: str
    duration_s: float
    starts: np.ndarray
    x: np.ndarray
    notes: list[str]


class Predictor:
    """A loaded model directory: frames a recording as the training features were made and predicts it.

    Create with :func:`load_predictor`. Thread-safe for :meth:`prepare` (decoding and framing);
    the network runs in the calling thread.

    Parameters
    ----------
    model_dir : pathlib.Path
        The model directory.
    model : keras.Model
        The loaded network.
    classes : tuple of str
        Its classes (tags), in output order (``labels.json``).
    multilabel : bool
        Whether it is a tagger.
    config : musiclass.config.FrontendConfig
        The frontend config exactly as trained on (``frontend.json``).
    representation : str
        The representation the network takes.
    audio_input : bool
        Whether the network takes audio rows and computes the features itself.
    thresholds : numpy.ndarray of shape (n_classes,) or None
        Per-tag thresholds (taggers), else None.
    notes : list of str
        Notes about the model directory.
    batch_size : int, default=64
        Frames per forward pass.
    min_seconds : float, default=0.5
        The shortest clip predicted.
    whole_track : bool, default=True
        Whether to predict every frame, ignoring the config's ``max_frames``.

    Attributes
    ----------
    framing : musiclass.config.FrontendConfig
        The config that frames new recordings: only the model's representation (the others are
        computed independently, so the frames are the same) and, with ``whole_track``, every
        frame of the track.
    input_stats : dict or None
        The training frames' statistics (``input_statistics.json``, :mod:`musiclass.novelty`):
        a file far outside them gets a note. None (no note) for older model directories and
        audio-input models.
    """

    input_stats: dict | None = None

    def __init__(
        self,
        model_dir: Path,
        model: Any,
        classes: tuple[str, ...],
        multilabel: bool,
        config: FrontendConfig,
        representation: str,
        audio_input: bool,
        thresholds: np.ndarray | None,
        notes: list[str],
        *,
        batch_size: int = BATCH_SIZE,
        min_seconds: float = MIN_SECONDS,
        whole_track: bool = True,
    ):
        self.model_dir, self.model = Path(model_dir), model
        self.classes, self.multilabel = tuple(classes), bool(multilabel)
        #: the frontend config exactly as trained on (frontend.json)
        self.config, self.representation, self.audio_input = config, representation, audio_input
        self.thresholds = thresholds
        self.notes = list(notes)
        self.batch_size, self.min_seconds = int(batch_size), float(min_seconds)
        # the config that frames new recordings: only the model's representation (the others are
        # computed independently, so the frames are the same), and every frame of the track
        framing = config.replace(representations=(representation,))
        if whole_track and framing.max_frames is not None:
            framing = framing.replace(max_frames=None)
        self.framing = framing
        self._frontend = None if audio_input else Frontend(framing)

    def __repr__(self) -> str:
        kind = "audio" if self.audio_input else self.representation
        return (
            f"Predictor({str(self.model_dir)!r}, {len(self.classes)} {'tags' if self.multilabel else 'classes'}, "
            f"input {kind} at {self.config.sample_rate} Hz)"
        )

    @property
    def threshold_map(self) -> dict[str, float] | None:
        """The per-tag thresholds by tag (taggers), or None.

        Returns
        -------
        dict of str to float or None
            ``{tag: threshold}`` in class order, or None for a single-label model.
        """
        return (
            None
            if self.thresholds is None
            else dict(zip(self.classes, map(float, self.thresholds)))
        )

    # -------------------------------------------------------------- steps
    def load(self, path: str | os.PathLike) -> np.ndarray:
        """Decode ``path`` to mono float32 at the model's sample rate.

        Parameters
        ----------
        path : str or os.PathLike
            The audio file.

        Returns
        -------
        numpy.ndarray of shape (samples,)
            The signal.

        Raises
        ------
        musiclass.errors.AudioError
            When the file is unusable (missing, undecodable, empty, silent, or shorter than the
            smaller of the config's ``min_duration`` and ``min_seconds``).
        """
        floor = min(self.config.min_duration, self.min_seconds)
        y, _ = audio.load(path, sr=self.config.sample_rate, min_duration=floor)
        return y

    def frames(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cut a mono signal into the network's input frames, as the training features were made.

        Parameters
        ----------
        y : numpy.ndarray of shape (samples,)
            The signal, at the model's sample rate.

        Returns
        -------
        starts : numpy.ndarray of shape (n_frames,)
            Frame starts in seconds.
        x : numpy.ndarray
            The network's input for every frame: stored-feature frames, or audio rows for an
            audio-input model.
        """
        if self.audio_input:
            # Keras: imported only for an audio-input model, which has already loaded it
            from .models.frontend_layer import audio_frames

            return audio_frames(y, self.framing)
        frames = self._frontend.compute(y)
        x = frames.arrays[self.representation]
        if self.config.dtype != "float32":  # the store keeps frames rounded to its dtype
            x = x.astype(self.config.dtype).astype(np.float32)
        return frames.starts, x

    def frame_probabilities(self, x: np.ndarray) -> np.ndarray:
        """The network's output for each row of ``x``, ``batch_size`` rows per forward pass (float64).

        The last, partial batch is zero-padded to the next power of two, so the model sees a
        handful of batch shapes whatever the track lengths (no retracing or XLA recompiling per
        file); inference-mode layers treat rows independently, so padding changes nothing.

        Parameters
        ----------
        x : numpy.ndarray
            The network's input, one row per frame (:meth:`frames`).

        Returns
        -------
        numpy.ndarray of shape (n_frames, n_classes)
            The network's output (float64).
        """
        n = len(x)
        out = []
        for i in range(0, n, self.batch_size):
            chunk = np.ascontiguousarray(x[i : i + self.batch_size], dtype=np.float32)
            m = len(chunk)
            size = min(self.batch_size, 1 << (m - 1).bit_length())
            if size > m:
                chunk = np.concatenate([chunk, np.zeros((size - m,) + chunk.shape[1:], np.float32)])
            out.append(np.asarray(self.model.predict_on_batch(chunk))[:m])
        return np.concatenate(out).astype(np.float64)

    def prepare(self, path: str | os.PathLike) -> _Prepared:
        """Decode and frame one file (no network yet): what worker threads do ahead of the model.

        Parameters
        ----------
        path : str or os.PathLike
            The audio file.

        Returns
        -------
        _Prepared
            The file's duration, frame starts, input frames and notes, for :meth:`finish`.

        Raises
        ------
        musiclass.errors.AudioError
            When the file cannot be used.
        musiclass.errors.FileError
            When it gives no frame (e.g. nothing left after trimming).
        """
        y = self.load(path)
        return self._prepare_signal(str(path), y)

    def _prepare_signal(self, name: str, y: np.ndarray) -> _Prepared:
        c = self.config
        duration = len(y) / c.sample_rate
        try:
            starts, x = self.frames(y)
        except ValueError as exc:  # e.g. nothing left after trimming
            raise FileError(name, str(exc)) from None
        notes = []
        if duration < c.min_duration:
            fill = min(1.0, len(y) / c.frame_length)
            notes.append(
                f"{duration:.2f} s is shorter than the {c.min_duration:g} s the model's training tracks "
                f"had at least; its one frame of {c.frame_seconds:g} s is {100 * (1 - fill):.0f}% zero "
                "padding: treat this prediction with caution"
            )
        far = novelty.far_outside(x, self.input_stats) if self.input_stats else None
        if far:  # a note, never a refusal: the prediction is still made
            notes.append(far)
        return _Prepared(name, duration, starts, x, notes)

    def finish(self, prep: _Prepared, top_k: int = 3) -> TrackPrediction:
        """Run the network on a prepared file and form the track's prediction.

        Parameters
        ----------
        prep : _Prepared
            A file decoded and framed by :meth:`prepare`.
        top_k : int, default=3
            The classes listed for single-label models.

        Returns
        -------
        TrackPrediction
            The track's prediction.
        """

        frame_probs = self.frame_probabilities(prep.x)
        _, track = track_probabilities(frame_probs, np.zeros(len(frame_probs), dtype=np.int64))
        probs = track[0]
        order = np.argsort(-probs, kind="stable")
        ranked = [(self.classes[i], float(probs[i])) for i in order]
        if self.multilabel:
            top = ranked
            tags = [
                (self.classes[i], float(probs[i])) for i in order if probs[i] >= self.thresholds[i]
            ]
        else:
            top = ranked[: max(1, min(int(top_k), len(self.classes)))]
            tags = []
        return TrackPrediction(
            prep.path,
            prep.duration_s,
            np.asarray(prep.starts, dtype=np.float64),
            frame_probs,
            probs,
            self.classes,
            self.multilabel,
            top,
            tags,
            list(prep.notes),
        )

    # -------------------------------------------------------------- one-call API
    def predict_file(self, path: str | os.PathLike, top_k: int = 3) -> TrackPrediction:
        """Predict one audio file.

        Parameters
        ----------
        path : str or os.PathLike
            The audio file.
        top_k : int, default=3
            The classes listed for single-label models.

        Returns
        -------
        TrackPrediction
            The track's prediction.

        Raises
        ------
        musiclass.errors.AudioError
            When the file cannot be used.
        musiclass.errors.FileError
            When it gives no frame.
        """
        return self.finish(self.prepare(path), top_k)

    def predict_signal(
        self, y: np.ndarray, sample_rate: int, *, name: str = "<signal>", top_k: int = 3
    ) -> TrackPrediction:
        """Predict a signal already in memory (``(samples,)`` or ``(channels, samples)``, any rate).

        Parameters
        ----------
        y : numpy.ndarray of shape (samples,) or (channels, samples)
            The signal; several channels are averaged to mono.
        sample_rate : int
            Its sample rate in Hz; it is resampled to the model's.
        name : str, default="<signal>"
            The name the prediction and errors give it.
        top_k : int, default=3
            The classes listed for single-label models.

        Returns
        -------
        TrackPrediction
            The signal's prediction.

        Raises
        ------
        musiclass.errors.ConfigError
            If ``y`` is empty or not 1-D or 2-D.
        musiclass.errors.FileError
            If it is too short, or gives no frame.
        """
        import librosa

        y = np.asarray(y, dtype=np.float32)
        if y.ndim == 2:
            y = librosa.to_mono(y)
        if y.ndim != 1 or y.size == 0:
            raise ConfigError(
                f"expected a non-empty (samples,) or (channels, samples) signal, got shape {y.shape}"
            )
        y = audio.resample(y, int(sample_rate), self.config.sample_rate)
        floor = min(self.config.min_duration, self.min_seconds)
        if len(y) / self.config.sample_rate < floor:
            raise FileError(
                name,
                f"too short: {len(y) / self.config.sample_rate:.2f} s of audio, at least "
                f"{floor:.2f} s needed",
            )
        return self.finish(self._prepare_signal(name, y), top_k)


# ------------------------------------------------------------------------------ pretrained taggers
@dataclass(frozen=True)
class _PatchInput:
    """What :class:`Predictor`'s decoding steps read of a config, for musicnn's 3 s patches."""

    sample_rate: int = musicnn.SAMPLE_RATE
    min_duration: float = musicnn.PATCH_FRAMES * musicnn.HOP_LENGTH / musicnn.SAMPLE_RATE


class PretrainedPredictor(Predictor):
    """A pretrained tagger (``musicnn-mtt``, ``musicnn-msd``, ...) behind :class:`Predictor`'s interface.

    Create with :func:`load_predictor` given a name of :data:`musiclass.pretrained.catalog.PRETRAINED`.
    Files are decoded at 16 kHz and cut into musicnn's 3 s patches
    (:class:`musiclass.pretrained.tagger.Tagger`); the track's probabilities are the patches' mean,
    as musicnn's ``top_tags``. musicnn publishes no per-tag thresholds, so a prediction's ``tags``
    are its ``top_k`` most likely tags (as ``top_tags(topN=top_k)``) and ``top`` ranks all 50.

    Parameters
    ----------
    name : str
        The pretrained model's name.
    tagger : musiclass.pretrained.tagger.Tagger
        The loaded network.
    batch_size : int, default=64
        Patches per forward pass.
    min_seconds : float, default=0.5
        The shortest clip predicted.
    """

    def __init__(
        self,
        name: str,
        tagger: Any,
        *,
        batch_size: int = BATCH_SIZE,
        min_seconds: float = MIN_SECONDS,
    ):
        entry = pretrained_catalog.get(name)
        self.model_dir, self.model, self.tagger = Path(name), tagger.taggram_model, tagger
        self.classes, self.multilabel = tagger.classes, True
        self.config = _PatchInput()
        self.representation, self.audio_input, self.thresholds = "musicnn", False, None
        self.batch_size, self.min_seconds = int(batch_size), float(min_seconds)
        self.notes = [
            f"{name}: {entry.summary}; weights from the {entry.source.split(' (')[0]} "
            f"({entry.licence.split(' (')[0]} licence). It publishes no per-tag thresholds: "
            "the top-k tags by probability are listed, as musicnn's top_tags"
        ]

    def __repr__(self) -> str:
        return f"PretrainedPredictor({str(self.model_dir)!r}, {len(self.classes)} tags, 16 kHz)"

    @property
    def threshold_map(self) -> None:
        """None: musicnn publishes no thresholds.

        Returns
        -------
        None
            Always.
        """
        return None

    def frames(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cut a 16 kHz signal into musicnn's 3 s patches.

        Parameters
        ----------
        y : numpy.ndarray of shape (samples,)
            The signal at 16 kHz.

        Returns
        -------
        starts : numpy.ndarray of shape (n_patches,)
            Patch starts in seconds.
        x : numpy.ndarray of shape (n_patches, 187, 96)
            The patches.
        """
        return self.tagger.frames(y)

    def _prepare_signal(self, name: str, y: np.ndarray) -> _Prepared:
        duration = len(y) / self.config.sample_rate
        starts, x = self.frames(y)
        notes = []
        if duration < self.config.min_duration:
            notes.append(
                f"{duration:.2f} s is shorter than musicnn's {self.config.min_duration:.2f} s patch: "
                "it was repeated to fill one; treat this prediction with caution"
            )
        return _Prepared(name, duration, starts, x, notes)

    def finish(self, prep: _Prepared, top_k: int = 3) -> TrackPrediction:
        """Run the network on a prepared file: the mean taggram, ranked; ``tags`` its top ``top_k``.

        Parameters
        ----------
        prep : _Prepared
            A file decoded and patched by :meth:`prepare`.
        top_k : int, default=3
            The tags listed.

        Returns
        -------
        TrackPrediction
            The track's prediction.
        """
        frame_probs = self.frame_probabilities(prep.x)
        probs = frame_probs.mean(axis=0)
        order = np.argsort(-probs, kind="stable")
        ranked = [(self.classes[i], float(probs[i])) for i in order]
        return TrackPrediction(
            prep.path,
            prep.duration_s,
            np.asarray(prep.starts, dtype=np.float64),
            frame_probs,
            probs,
            self.classes,
            True,
            ranked,
            ranked[: max(1, int(top_k))],
            list(prep.notes),
        )


# ------------------------------------------------------------------------------ finding files
def _has_magic(text: str) -> bool:
    return any(ch in text for ch in "*?[")


def _is_audio(path: Path) -> bool:
    return path.suffix.lower() in audio.AUDIO_EXTENSIONS and not path.name.startswith(".")


def _walk(folder: Path, recursive: bool) -> list[Path]:
    """Audio files under ``folder`` (hidden files and folders skipped, symlinked folders not
    followed), sorted by path."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")) if recursive else []
        found += [Path(root) / f for f in files if _is_audio(Path(f))]
    return sorted(found, key=lambda p: p.parts)


def find_audio(
    paths: Iterable[str | os.PathLike], *, recursive: bool = True
) -> tuple[list[str], list[tuple[str, str]]]:
    """Expand ``paths`` into audio files: ``(files, problems)``.

    * a file is taken as it is (whatever its extension: the decoder decides);
    * a folder gives its audio files (extensions :data:`musiclass.audio.AUDIO_EXTENSIONS`), in every
      subfolder when ``recursive``, sorted;
    * anything else with ``*``, ``?`` or ``[`` is a glob pattern (``glob.glob(..., recursive=True)``,
      so ``**`` spans folders): its audio files, sorted (folders it matches are expanded as folders).

    A leading ``~`` is expanded (quoted patterns reach us unexpanded). A path that does not exist,
    a folder without audio files or a pattern matching nothing is a
    ``(path, reason)`` problem. A file reached twice is listed once, where first reached.

    Parameters
    ----------
    paths : iterable of str or os.PathLike
        Files, folders and glob patterns.
    recursive : bool, default=True
        Whether folders are searched in every subfolder.

    Returns
    -------
    files : list of str
        The audio files, in the order reached.
    problems : list of (str, str)
        ``(path, reason)`` for each path that gave no file.
    """
    files: list[str] = []
    problems: list[tuple[str, str]] = []
    seen: set[str] = set()

    def add(p: Path) -> None:  # a closure, not API; numpydoc ignore=GL08
        key = os.path.realpath(p)
        if key not in seen:
            seen.add(key)
            files.append(str(p))

    for arg in paths:
        text = os.fspath(arg)
        if text.startswith("~"):  # a quoted pattern reaches us unexpanded: "~/Music/**/*.flac"
            text = os.path.expanduser(text)
        p = Path(text)
        if not text:
            problems.append((text, "empty path"))
        elif p.is_dir():
            found = _walk(p, recursive)
            if not found:
                problems.append(
                    (
                        text,
                        f"no audio files ({', '.join(audio.AUDIO_EXTENSIONS)}) in this folder"
                        + ("" if recursive else " (subfolders not searched)"),
                    )
                )
            for f in found:
                add(f)
        elif p.exists():
            add(p)
        elif _has_magic(text):
            matches = sorted(glob.glob(text, recursive=True))
            found = []
            for m in matches:
                mp = Path(m)
                found += _walk(mp, recursive) if mp.is_dir() else ([mp] if _is_audio(mp) else [])
            if not matches:
                problems.append((text, "no file matches this pattern"))
            elif not found:
                problems.append(
                    (
                        text,
                        f"{len(matches)} match(es) but no audio file "
                        f"({', '.join(audio.AUDIO_EXTENSIONS)}) among them",
                    )
                )
            for f in found:
                add(f)
        else:
            problems.append((text, "file not found"))
    return files, problems


# ------------------------------------------------------------------------------ many files
def _reason(exc: BaseException) -> str:
    if isinstance(exc, FileError):
        return exc.reason
    if isinstance(exc, MemoryError):
        return "out of memory while processing this file"
    return f"unexpected {type(exc).__name__}: {exc}"


def predict(
    model_dir: str | os.PathLike | Predictor,
    paths: Sequence[str | os.PathLike] | str | os.PathLike,
    *,
    top_k: int = 3,
    recursive: bool = True,
    progress: bool = True,
    jobs: int = 1,
    batch_size: int = BATCH_SIZE,
) -> PredictReport:
    """Predict every audio file that ``paths`` name (files, folders, glob patterns: :func:`find_audio`).

    A file that cannot be used (undecodable, empty, silent, too short, or any other error for that
    file) is recorded in :attr:`PredictReport.failures` with its reason and the run carries on; so
    are missing paths, empty folders and patterns matching nothing.

    Parameters
    ----------
    model_dir : str or os.PathLike or Predictor
        A model directory or a pretrained tagger's name (loaded with :func:`load_predictor`), or
        a loaded :class:`Predictor`.
    paths : str or os.PathLike or sequence of them
        Files, folders and glob patterns.
    top_k : int, default=3
        The classes listed for single-label models.
    recursive : bool, default=True
        Whether folders are searched in every subfolder.
    progress : bool, default=True
        Whether to show a progress bar.
    jobs : int, default=1
        With more than 1, that many files are decoded and framed ahead in threads while the
        network predicts (memory: about ``jobs`` decoded tracks).
    batch_size : int, default=64
        Frames per forward pass, when ``model_dir`` is loaded here.

    Returns
    -------
    PredictReport
        The predictions and the failures.

    Raises
    ------
    musiclass.errors.ConfigError
        When no file is found at all, or ``top_k`` or ``jobs`` is less than 1.
    musiclass.errors.FileError
        When the model directory cannot be loaded (see :func:`load_predictor`).
    """
    if int(top_k) < 1:
        raise ConfigError("top_k must be at least 1")
    if int(jobs) < 1:
        raise ConfigError("jobs must be at least 1")
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    files, problems = find_audio(paths, recursive=recursive)
    if not files:
        detail = "; ".join(f"{p}: {r}" for p, r in problems) or "no path given"
        raise ConfigError(f"no audio file to predict ({detail})")
    predictor = (
        model_dir
        if isinstance(model_dir, Predictor)
        else load_predictor(model_dir, batch_size=batch_size)
    )

    from tqdm.auto import tqdm

    predictions: list[TrackPrediction] = []
    failed: list[tuple[str, str]] = list(problems)
    bar = tqdm(total=len(files), desc="predict", unit="file", disable=not progress, leave=False)

    def run(path: str, prepared) -> None:  # a closure, not API; numpydoc ignore=GL08
        try:
            prep = prepared() if callable(prepared) else prepared
            predictions.append(predictor.finish(prep, top_k))
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the run (MemoryError included)
            log.info("predict: %s failed: %s", path, _reason(exc))
            failed.append((path, _reason(exc)))
        bar.update(1)

    try:
        if int(jobs) == 1 or len(files) == 1:
            for path in files:
                run(path, lambda path=path: predictor.prepare(path))
        else:
            with ThreadPoolExecutor(max_workers=int(jobs), thread_name_prefix="predict") as pool:
                pending: deque[tuple[str, Future]] = deque()
                todo = iter(files)
                for path in todo:
                    pending.append((path, pool.submit(predictor.prepare, path)))
                    if len(pending) >= int(jobs):
                        break
                while pending:
                    path, fut = pending.popleft()
                    nxt = next(todo, None)
                    if nxt is not None:
                        pending.append((nxt, pool.submit(predictor.prepare, nxt)))
                    run(path, fut.result)
    finally:
        bar.close()
    failures = pd.DataFrame(failed, columns=list(FAILURE_COLUMNS)) if failed else _empty_failures()
    return PredictReport(
        str(predictor.model_dir),
        predictor.classes,
        predictor.multilabel,
        int(top_k),
        predictions,
        failures,
        list(predictor.notes),
        predictor.threshold_map,
    )
