"""The spectral frontend as a Keras layer: train and predict from raw audio, on the accelerator.

:class:`~musiclass.features.frontend.Frontend` (numpy/librosa) computes the stored features once,
on the CPU. For data sets too large to store (the full MTG-Jamendo set, 1,100 hours) and for
models that should take audio directly, :class:`SpectralFrontend` computes the *same* frames
with ``tf.signal`` inside the model, frame for frame within 0.1 dB of the stored mel frames:

* ``audio_frames(y, config)`` (numpy) cuts a decoded track into the layer's input rows, with the
  numpy frontend's trimming, frame count (``min_fill``, ``max_frames``) and zero padding;
* ``SpectralFrontend(config, representation)`` maps ``(batch, context_samples(config))`` audio to
  ``(batch, rows, n_columns)`` frames exactly as the feature store keeps them;
* ``with_frontend(model, config, representation)`` puts the layer in front of a frame-input model,
  and ``export_with_frontend(model_dir, out_dir)`` turns a trained model directory into an
  audio-input one (``frontend.json`` then says ``"input": "audio"``);
* ``audio_batches(tracks, config, ...)`` is a ``keras.utils.PyDataset`` that trains from audio
  files (decode -> ``audio_frames``), seeded like ``training.batches.frame_batches`` (the same
  :func:`~musiclass.training.batches.epoch_order` and frame rule,
  :func:`~musiclass.training.batches.evenly_spaced`).

**Input rows.** Under ``stft="track"`` (the ``default`` presets) the numpy frontend takes one
centred STFT of the whole track and slices it into frames. Column ``c`` of frame ``i`` is the
window of ``n_fft`` samples centred on sample ``start_i + c * hop``; so each input row holds the
frame's samples *plus* ``n_fft // 2`` samples of context on each side
(``context_samples = (n_columns - 1) * hop + n_fft``), zeros outside the track (or the track's
``pad_mode`` padding, as librosa pads it), and the layer runs an *uncentred* STFT over it. Under
``stft="frame"`` (the ``seed`` presets, whose frames do not start on STFT hops) each row is the
frame itself (``frame_length`` samples, zero-padded past the end of the track) and the layer
applies librosa's centre padding (``pad_mode``: reflect, constant or edge) per frame.

**Arithmetic.** Power ``|STFT|^2`` (periodic window from ``librosa.filters.get_window``, as
``librosa.stft`` uses), the Slaney mel filterbank of ``librosa.filters.mel`` as a constant matrix
(not ``tf.signal.linear_to_mel_weight_matrix``, which is HTK), ``10 log10(max(P, 1e-10))``, minus
the frame's maximum, floored at ``-top_db``; MFCC = orthonormal DCT-II of the floored mel dB with
the frame maximum added back (``librosa.feature.mfcc`` of ``power_to_db(mel, top_db)``), computed
in float64 so TF32 matrix units cannot round it. The layer computes in float32 whatever the global
mixed-precision policy (float16 would lose the 0.1 dB match) and outputs float32; when the config
stores float16 frames, the output is rounded through float16 as the store rounds it.

**Loading.** The layer is registered as ``musiclass>SpectralFrontend``: a saved model containing
it loads with ``keras.saving.load_model(path, safe_mode=True)`` once this module is imported
(:func:`load_model` here does both). The layer has no weights; its config rebuilds it.

**Imports.** This module sits above :mod:`musiclass.training.batches` (the seeded order and the
frame rule it shares with the stored batches) and below :mod:`musiclass.training.fit`, which
imports it inside ``train_audio`` only (it imports Keras at load). :func:`export_with_frontend`
and :func:`load_model` stay here, naming the files with :class:`musiclass.layout.ModelDir`: in
the training package they would need this module, which re-exports them, and so close a cycle.
"""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import librosa  # noqa: E402
import numpy as np  # noqa: E402
import scipy.fft  # noqa: E402

from .. import audio  # noqa: E402
from ..config import REPRESENTATIONS, FrontendConfig  # noqa: E402
from ..errors import AudioError, ConfigError, FileError, MetadataError  # noqa: E402
from ..features.frontend import AMIN_POWER, Frontend  # noqa: E402
from ..layout import ModelDir  # noqa: E402
from ..training.batches import epoch_order, evenly_spaced  # noqa: E402  (re-exported: one frame rule)
from ..utils import (  # noqa: E402
    atomic_path,
    check_keras_file,
    read_json_object,
    write_json_atomic,
)

__all__ = [
    "SpectralFrontend",
    "context_samples",
    "audio_frames",
    "with_frontend",
    "export_with_frontend",
    "load_model",
    "audio_batches",
    "evenly_spaced",
]

#: name of the layer inside models built by :func:`with_frontend`
LAYER_NAME = "spectral_frontend"


def _as_config(config: FrontendConfig | dict[str, Any]) -> FrontendConfig:
    if isinstance(config, FrontendConfig):
        config.validate()
        return config
    if isinstance(config, dict):
        return FrontendConfig.from_dict(config)
    raise ConfigError(f"expected a FrontendConfig or its dict, got {type(config).__name__}")


def _check_representation(config: FrontendConfig, representation: str) -> None:
    if representation not in REPRESENTATIONS:
        raise ConfigError(
            f"unknown representation {representation!r}; choose from {REPRESENTATIONS}"
        )
    if representation not in config.representations:
        raise ConfigError(
            f"the frontend config has no {representation!r} representation "
            f"(it has {list(config.representations)})"
        )


def context_samples(config: FrontendConfig | dict[str, Any]) -> int:
    """Length in samples of one input row of :class:`SpectralFrontend` under ``config``.

    Parameters
    ----------
    config : FrontendConfig or dict
        The frontend config.

    Returns
    -------
    int
        ``stft="track"``: ``(n_columns - 1) * hop_length + n_fft`` (the frame and ``n_fft // 2``
        samples of context on each side when ``center``); ``stft="frame"``: ``frame_length``.

    Raises
    ------
    ConfigError
        ``config`` is not a valid frontend config.
    """
    c = _as_config(config)
    if c.stft == "frame":
        return c.frame_length
    return (c.n_columns - 1) * c.hop_length + c.n_fft


def _stft_columns(c: FrontendConfig) -> int:
    """STFT columns the layer's uncentred STFT yields from one (centre-padded) input row."""
    n = context_samples(c) + (2 * (c.n_fft // 2) if c.stft == "frame" and c.center else 0)
    return 0 if n < c.n_fft else 1 + (n - c.n_fft) // c.hop_length


# ------------------------------------------------------------------------------ numpy side
@lru_cache(maxsize=16)
def _framer(config: FrontendConfig) -> Frontend:
    """A cached :class:`Frontend` for its framing rules (``trim_bounds``, ``n_frames``)."""
    return Frontend(config)


def audio_frames(
    y: np.ndarray, config: FrontendConfig | dict[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    """Cut a decoded mono signal into :class:`SpectralFrontend` input rows.

    Trimming, the frame count (``min_fill``, ``max_frames``) and the zero padding of the last
    frame follow ``Frontend.compute``, so ``SpectralFrontend(config, rep)(frames)`` matches
    ``Frontend(config).compute(y).arrays[rep]``.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
        Mono audio at ``config.sample_rate``.
    config : FrontendConfig or dict
        The frontend config.

    Returns
    -------
    starts : np.ndarray [shape=(n_frames,), float64]
        The start of each frame in seconds from the start of the untrimmed track (as
        ``Frontend.compute(y).starts``).
    frames : np.ndarray [shape=(n_frames, context_samples(config)), float32]
        The input rows.

    Raises
    ------
    ConfigError
        ``y`` is not one-dimensional, or ``config`` is not valid.
    ValueError
        No audio is left to frame after trimming.
    """
    c = _as_config(config)
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1:
        raise ConfigError(f"the frontend expects a mono signal, got shape {y.shape}")
    fe = _framer(c)
    lo, hi = fe.trim_bounds(len(y))
    y = y[lo:hi]
    n = fe.n_frames(len(y))
    if n == 0:
        raise ValueError("no audio left to frame (empty signal after trimming)")
    H, width = c.frame_hop, context_samples(c)
    starts = np.arange(n) * H
    if c.stft == "frame":
        total = (n - 1) * H + c.frame_length
        sig = np.zeros(total, np.float32)
        sig[: min(total, len(y))] = y[:total]
    else:
        # what the numpy frontend takes its one STFT of, then librosa's centre padding with pad_mode
        sig, _ = fe.track_stft_input(y, n)
        if c.center:
            sig = np.pad(sig, c.n_fft // 2, mode=c.pad_mode)
        total = (n - 1) * H + width
        if len(sig) < total:  # only without centring: zeros past the end
            sig = np.pad(sig, (0, total - len(sig)))
    frames = np.lib.stride_tricks.sliding_window_view(sig, width)[starts]  # fancy indexing copies
    return ((starts + lo) / c.sample_rate).astype(np.float64), np.ascontiguousarray(
        frames, dtype=np.float32
    )


# ------------------------------------------------------------------------------ the layer
@keras.saving.register_keras_serializable(package="musiclass")
class SpectralFrontend(keras.layers.Layer):
    """Audio rows ``(batch, context_samples)`` -> frames ``(batch, rows, n_columns)`` (see module doc).

    The layer is non-trainable, has no weights (its constants are rebuilt from the config) and
    always computes in float32: a ``dtype`` argument (as a saved config carries) is ignored.

    Parameters
    ----------
    config : FrontendConfig or dict
        The frontend config whose frames the layer reproduces.
    representation : str
        One of the config's representations: ``mel``, ``spectrogram`` or ``mfcc``.
    **kwargs
        For ``keras.layers.Layer`` (``name``, ``trainable``).

    Raises
    ------
    ConfigError
        An unknown or absent representation, an odd ``n_fft``, or input rows too short for a
        frame's columns (``center=False`` with ``stft="frame"``).
    """

    def __init__(
        self, config: FrontendConfig | dict[str, Any], representation: str = "mel", **kwargs: Any
    ):
        kwargs.pop("dtype", None)
        kwargs.setdefault("trainable", False)
        super().__init__(dtype="float32", **kwargs)
        cfg = _as_config(config)
        _check_representation(cfg, representation)
        if cfg.n_fft % 2:
            raise ConfigError("the frontend layer needs an even n_fft")
        if _stft_columns(cfg) < cfg.n_columns:
            raise ConfigError(
                f"an input row of {context_samples(cfg)} samples gives {_stft_columns(cfg)} STFT "
                f"columns, fewer than the {cfg.n_columns} a frame holds (center=False?)"
            )
        self.frontend_config = cfg
        self.representation = representation
        self.input_samples = context_samples(cfg)
        self.rows, self.n_columns = cfg.shape(representation)
        # constants, rebuilt from the config (never saved as weights)
        self._window = librosa.filters.get_window(cfg.window, cfg.n_fft, fftbins=True).astype(
            np.float32
        )
        self._mel_t = None
        self._dct_t = None
        if representation in ("mel", "mfcc"):
            mel = librosa.filters.mel(
                sr=cfg.sample_rate,
                n_fft=cfg.n_fft,
                n_mels=cfg.n_mels,
                fmin=cfg.fmin,
                fmax=cfg.fmax,
                dtype=np.float32,
            )
            self._mel_t = np.ascontiguousarray(mel.T)  # (bins, n_mels)
        if representation == "mfcc":
            dct = scipy.fft.dct(np.eye(cfg.n_mels), type=2, norm="ortho", axis=0)[: cfg.n_mfcc]
            self._dct_t = np.ascontiguousarray(dct.T)  # (n_mels, n_mfcc), float64

    # -------------------------------------------------------------- Keras API
    def compute_output_shape(self, input_shape):
        """``(batch, rows, n_columns)`` for ``input_shape`` ``(batch, context_samples)``.

        Parameters
        ----------
        input_shape : tuple
            ``(batch, samples)``.

        Returns
        -------
        tuple
            ``(batch, rows, n_columns)``.
        """
        return (input_shape[0], self.rows, self.n_columns)

    def call(self, inputs):
        """The frames of a batch of audio rows.

        Parameters
        ----------
        inputs : tensor [shape=(batch, context_samples)]
            Audio rows (:func:`audio_frames`); cast to float32.

        Returns
        -------
        tensor [shape=(batch, rows, n_columns), float32]
            The dB frames as the store keeps them (mel/spectrogram: relative to the frame's maximum,
            floored at ``-top_db``; MFCC: coefficients), rounded through float16 when the config
            stores float16.

        Raises
        ------
        ConfigError
            The input is not ``(batch, context_samples)``.
        """
        import tensorflow as tf

        c = self.frontend_config
        x = tf.convert_to_tensor(inputs)
        if x.dtype != tf.float32:
            x = tf.cast(x, tf.float32)
        if x.shape.rank != 2:
            raise ConfigError(
                f"SpectralFrontend expects (batch, samples) audio, got shape {tuple(x.shape)}"
            )
        if x.shape[-1] is not None and x.shape[-1] != self.input_samples:
            raise ConfigError(
                f"SpectralFrontend expects rows of {self.input_samples} samples "
                f"(context_samples of its config), got {x.shape[-1]}"
            )
        if c.stft == "frame" and c.center:
            x = _centre_pad(x, c.n_fft // 2, c.pad_mode)
        window = tf.constant(self._window)
        stft = tf.signal.stft(
            x,
            frame_length=c.n_fft,
            frame_step=c.hop_length,
            fft_length=c.n_fft,
            window_fn=lambda length, dtype: window,
            pad_end=False,
        )
        stft = stft[:, : self.n_columns, :]  # (batch, columns, bins)
        power = tf.math.square(tf.math.real(stft)) + tf.math.square(tf.math.imag(stft))
        if self.representation == "spectrogram":
            db = _log_power(power)
        else:
            db = _log_power(
                tf.linalg.matmul(power, tf.constant(self._mel_t))
            )  # (batch, columns, n_mels)
        frame_max = tf.math.reduce_max(db, axis=(1, 2), keepdims=True)
        rel = db - frame_max
        if c.top_db is not None:
            rel = tf.math.maximum(rel, -float(c.top_db))
        if self.representation == "mfcc":
            # float64: the DCT sums 128 dB values of up to ~100 in size; TF32 matmul units would
            # round them to ~0.05
            out = tf.linalg.matmul(tf.cast(rel + frame_max, tf.float64), tf.constant(self._dct_t))
            out = tf.cast(out, tf.float32)
        else:
            out = rel
        out = tf.transpose(out, (0, 2, 1))  # (batch, rows, columns) as the store keeps frames
        if c.dtype == "float16":  # the store rounds frames to float16: so does the layer
            out = tf.cast(tf.cast(out, tf.float16), tf.float32)
        return out

    def get_config(self) -> dict[str, Any]:
        """The layer's Keras config: its base config plus ``config`` and ``representation``.

        Returns
        -------
        dict
            What ``SpectralFrontend(**config)`` rebuilds the layer from (no weights needed).
        """
        base = super().get_config()
        base.update(config=self.frontend_config.to_dict(), representation=self.representation)
        return base


def _log_power(power):
    """``10 log10(max(power, 1e-10))``, as ``Frontend._log_power``."""
    import tensorflow as tf

    return tf.math.log(tf.math.maximum(power, AMIN_POWER)) * np.float32(10.0 / math.log(10.0))


def _centre_pad(x, pad: int, mode: str):
    """librosa's ``center=True`` padding of each row: ``pad`` samples each side, numpy ``mode``."""
    import tensorflow as tf

    if mode == "reflect":
        return tf.pad(x, [[0, 0], [pad, pad]], mode="REFLECT")
    if mode == "edge":
        return tf.concat(
            [tf.repeat(x[:, :1], pad, axis=1), x, tf.repeat(x[:, -1:], pad, axis=1)], axis=1
        )
    return tf.pad(x, [[0, 0], [pad, pad]])


# ------------------------------------------------------------------------------ audio-input models
def with_frontend(
    model: keras.Model,
    config: FrontendConfig | dict[str, Any],
    representation: str,
    name: str | None = None,
) -> keras.Model:
    """``Input((context_samples,)) -> SpectralFrontend -> model``: a frame-input model fed raw audio rows.

    Parameters
    ----------
    model : keras.Model
        Takes one ``config.shape(representation)`` frame (as every builder in
        :mod:`musiclass.models` does).
    config : FrontendConfig or dict
        The frontend config the frames came from.
    representation : str
        The representation ``model`` takes.
    name : str, optional
        The new model's name (default: ``<model.name>-audio``).

    Returns
    -------
    keras.Model
        Input ``(batch, context_samples(config))`` float32 audio rows; shares ``model``'s layers
        (and weights).

    Raises
    ------
    ConfigError
        ``model``'s input is not the representation's frame shape, or the representation is not
        the config's.
    """
    cfg = _as_config(config)
    _check_representation(cfg, representation)
    want = cfg.shape(representation)
    got = tuple(model.input_shape[1:]) if not isinstance(model.input_shape, list) else None
    if got != want:
        raise ConfigError(
            f"model {model.name!r} takes input {got}, but {representation!r} frames of this "
            f"frontend are {want}"
        )
    inputs = keras.Input(shape=(context_samples(cfg),), dtype="float32", name="audio")
    frames = SpectralFrontend(cfg, representation, name=LAYER_NAME)(inputs)
    return keras.Model(inputs, model(frames), name=name or f"{model.name}-audio")


def load_model(path: str | os.PathLike) -> keras.Model:
    """``keras.saving.load_model(path, safe_mode=True)``, with :class:`SpectralFrontend` registered.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.keras`` file.

    Returns
    -------
    keras.Model
        The loaded model.

    Raises
    ------
    FileError
        The file does not exist, or is not a bounded ``.keras`` archive
        (:func:`musiclass.utils.check_keras_file`).
    ValueError
        Keras' safe mode refuses the file (a ``Lambda`` layer, say).
    """
    path = Path(path)
    check_keras_file(path)  # a folder, text, an empty file or a zip bomb: named, never loaded
    return keras.saving.load_model(path, safe_mode=True)


def export_with_frontend(model_dir: str | os.PathLike, out_dir: str | os.PathLike) -> Path:
    """Write an audio-input copy of a trained (frame-input) model directory.

    Reads ``model.keras``, ``frontend.json`` (``config``, ``hash``, ``representation``,
    ``input_shape``) and ``labels.json`` (and ``thresholds.json`` when present); writes
    ``out_dir/model.keras`` (input: ``(batch, context_samples)`` audio rows, see
    :func:`audio_frames`), copies ``labels.json`` and ``thresholds.json``, and writes
    ``frontend.json`` with the same keys plus ``"input": "audio"`` and ``"context_samples"``
    (``input_shape`` becomes ``[context_samples]``, the frame shape moves to ``frame_shape``, as
    :func:`musiclass.training.train_audio` writes them). The names are
    :class:`musiclass.layout.ModelDir`'s.

    Parameters
    ----------
    model_dir : str or os.PathLike
        A model directory written by ``musiclass train``.
    out_dir : str or os.PathLike
        Where the audio-input model directory goes (created; not ``model_dir`` itself).

    Returns
    -------
    Path
        ``out_dir``.

    Raises
    ------
    FileError
        ``model_dir`` or its ``model.keras`` is missing.
    MetadataError
        Its ``frontend.json`` or ``labels.json`` is unreadable, lacks keys, or does not match
        its config.
    ConfigError
        ``out_dir`` is ``model_dir``, or the model already takes audio.
    """
    src, out = ModelDir(model_dir), ModelDir(out_dir)
    if not src.path.is_dir():
        raise FileError(src.path, "model directory not found")
    if out.path.resolve() == src.path.resolve():
        raise ConfigError(
            "export_with_frontend needs an output folder other than the model directory"
        )
    front = read_json_object(src.frontend)
    missing = [k for k in ("config", "representation") if k not in front]
    if missing:
        raise MetadataError(src.frontend, f"missing key(s) {missing}")
    if front.get("input") == "audio":
        raise ConfigError(f"{src.path} already holds an audio-input model")
    read_json_object(src.labels)
    if not src.model.is_file():
        raise FileError(
            src.model,
            "file not found (is this a model directory written by `musiclass train`?)",
        )
    try:
        cfg = FrontendConfig.from_dict(front["config"])
    except (TypeError, ConfigError) as exc:
        raise MetadataError(src.frontend, f"invalid frontend config ({exc})") from None
    rep = front["representation"]
    _check_representation(cfg, rep)
    if "input_shape" in front and tuple(front["input_shape"]) != cfg.shape(rep):
        raise MetadataError(
            src.frontend,
            f"input_shape {front['input_shape']} is not the "
            f"{rep!r} frame shape {cfg.shape(rep)} of its config",
        )
    model = load_model(src.model)
    audio_model = with_frontend(model, cfg, rep)
    out.path.mkdir(parents=True, exist_ok=True)
    with atomic_path(out.model) as tmp:
        audio_model.save(tmp)
    for copied in (src.labels, src.thresholds):
        if copied.is_file():
            shutil.copyfile(copied, out / copied.name)
    n = context_samples(cfg)
    write_json_atomic(
        out.frontend,
        {
            **front,
            "input": "audio",
            "context_samples": n,
            "input_shape": [n],
            "frame_shape": list(cfg.shape(rep)),
        },
    )
    return out.path


# ------------------------------------------------------------------------------ training from audio
def audio_batches(
    tracks: Sequence[tuple[str | os.PathLike, Any]],
    config: FrontendConfig | dict[str, Any],
    batch_tracks: int = 8,
    *,
    shuffle: bool = True,
    seed: int = 0,
    frames_per_track: int | None = None,
    **kwargs: Any,
):
    """Batches of audio frame rows decoded on demand: an ``AudioFrameBatches`` ``keras.utils.PyDataset``.

    Each batch decodes ``batch_tracks`` tracks (``musiclass.audio.load`` at ``config.sample_rate``,
    ``min_duration=config.min_duration``) and cuts them with :func:`audio_frames`, keeping
    ``frames_per_track`` evenly spaced frames when given
    (:func:`~musiclass.training.batches.evenly_spaced`, as ``train_frames_per_track`` does). With
    ``shuffle`` the track order is :func:`~musiclass.training.batches.epoch_order`'s permutation,
    drawn from ``np.random.default_rng([seed, epoch])``. A track that cannot be decoded (or is
    shorter than ``config.min_duration``) raises the :class:`~musiclass.errors.AudioError` naming
    it, stopping training: check the data first (a store extraction, or ``musiclass.audio.load``
    over the index, lists the failures).

    Parameters
    ----------
    tracks : sequence of (path, target)
        Audio files and their targets: class indices or multi-hot rows, or None for every track
        (batches of frames only, for ``predict``).
    config : FrontendConfig or dict
        The frontend config.
    batch_tracks : int
        Tracks decoded per batch (at least 1).
    shuffle : bool
        Permute the tracks every epoch.
    seed : int
        The seed of the permutations.
    frames_per_track : int, optional
        Keep at most this many evenly spaced frames of each track.
    **kwargs
        For ``keras.utils.PyDataset``: ``workers``, ``use_multiprocessing``, ``max_queue_size``.

    Returns
    -------
    keras.utils.PyDataset
        ``ceil(len(tracks) / batch_tracks)`` batches ``(frames, targets)``: ``frames`` float32
        ``(n, context_samples(config))``, each track's target repeated once per frame (so batches
        vary in size with track lengths); or ``frames`` only. ``.track(i)`` gives track ``i``'s
        rows.

    Raises
    ------
    ConfigError
        No tracks, ``batch_tracks`` or ``frames_per_track`` below 1, or targets given for some
        tracks only.
    """
    cfg = _as_config(config)
    if int(batch_tracks) < 1:
        raise ConfigError("batch_tracks must be at least 1")
    if frames_per_track is not None and int(frames_per_track) < 1:
        raise ConfigError("frames_per_track must be at least 1 or None")
    paths = [str(p) for p, _ in tracks]
    if not paths:
        raise ConfigError("no tracks to make batches from")
    raw = [t for _, t in tracks]
    if all(t is None for t in raw):
        y = None
    elif any(t is None for t in raw):
        raise ConfigError("either every track has a target or none has")
    else:
        y = np.asarray(raw)

    class AudioFrameBatches(keras.utils.PyDataset):
        """Batches of audio frame rows (and targets) decoded on demand; see :func:`audio_batches`."""

        def __init__(self):
            super().__init__(**kwargs)
            self.paths, self.y, self.config = paths, y, cfg
            self.batch_tracks, self.shuffle, self.seed = int(batch_tracks), shuffle, seed
            self.frames_per_track = frames_per_track
            self.epoch = 0
            self.order = self._order()

        def _order(self) -> np.ndarray:
            return epoch_order(len(self.paths), self.shuffle, self.seed, self.epoch)

        def __len__(self) -> int:
            return math.ceil(len(self.paths) / self.batch_tracks)

        def track(self, i: int) -> np.ndarray:
            """The (selected) input rows of track ``i``.

            Parameters
            ----------
            i : int
                The track's position in ``tracks``.

            Returns
            -------
            np.ndarray [shape=(n_frames, context_samples(config)), float32]
                Its rows (:func:`audio_frames`), only ``frames_per_track`` evenly spaced ones
                when given.

            Raises
            ------
            AudioError
                Naming the track: :func:`musiclass.audio.load` refused it (undecodable, shorter
                than ``config.min_duration``, ...), or no audio is left to frame.
            """
            path = self.paths[i]
            sig, _ = audio.load(
                path, sr=self.config.sample_rate, min_duration=self.config.min_duration
            )
            try:
                frames = audio_frames(sig, self.config)[1]
            except ValueError as exc:
                raise AudioError(path, str(exc)) from None
            return frames[evenly_spaced(len(frames), self.frames_per_track)]

        def __getitem__(self, i: int):
            if not 0 <= i < len(self):
                raise IndexError(f"batch {i} out of range ({len(self)} batches)")
            sel = self.order[i * self.batch_tracks : (i + 1) * self.batch_tracks]
            parts = [self.track(int(t)) for t in sel]
            x = np.concatenate(parts, axis=0)
            if self.y is None:
                return x
            return x, np.repeat(self.y[sel], [len(p) for p in parts], axis=0)

        def on_epoch_begin(self) -> None:
            """Draw this epoch's track order (Keras calls it before every epoch)."""
            self.order = self._order()

        def on_epoch_end(self) -> None:
            """Count the finished epoch: the next order is drawn with the next ``epoch``."""
            self.epoch += 1

    return AudioFrameBatches()
