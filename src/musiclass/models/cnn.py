"""Convolutional networks of the original study, as pure builders: config in, uncompiled model out.

Every model takes one stored frame, ``(bins, columns)`` as the feature store keeps it (no channel
axis; the model adds it), and ends in ``n_classes`` outputs (softmax for genres, sigmoid for tags).

**CNN-N** (experiment 2, ``cnn-3`` ... ``cnn-7``): N blocks of ``Conv2D 3x3 valid, ReLU ->
MaxPool(window, stride 2, same) -> BatchNorm`` with filters 32, 32, 32, 64, 64 and pool windows
(2,4), (4,4), (2,5), (2,4), (4,4); CNN-6 and CNN-7 add one and two ``1x1 Conv2D(128)`` after block 5;
head ``Flatten -> Dense 64 ReLU -> Dropout 0.3 -> Dense n_classes``. On the 128x130 mel input the
parameter counts are the original's: 480,714; 239,370; 112,714; 157,898; 174,410.

**Experiment 1**: ``cnn-3`` on the spectrogram uses a (4,5) third pool window (``pool3=(4, 5)``, set
by the study config's ``model_options``, ``configs/genre/exp1.yaml``, and passed on by
:func:`musiclass.models.build_model`); the MFCC network is a 1-D CNN. The original convolved
*across the 20 coefficients* with the 130 time steps as channels (``axis="coefficients"`` of
:func:`mfcc_1d`, set only by the ``seed`` training preset); by default it convolves *along time*
with the coefficients as channels. The original left no parameter count for it; we use the
CNN-3 pattern in 1-D (Conv1D 3, 32 filters x 3 blocks, pool 2) with the same head.

**Mood CNN** (``mood-cnn``): 5 blocks ``Conv2D (same) -> BatchNorm -> ReLU -> MaxPool (4, 4), same``
with 32, 64, 128, 256, 512 filters and 3x3 kernels except one 2x2 (the fourth block), then
``Dropout 0.5 -> Flatten -> Dense n_tags`` (sigmoid). The original described the layers but not the
pool sizes; these are the ones that give its parameter count, 1,426,083 on its 96x341 input with
35 tags (the 96x341 mel frame pools down to 1x1x512).
"""

from __future__ import annotations

import keras
from keras import layers

from ..errors import ConfigError

FILTERS = (32, 32, 32, 64, 64)
MOOD_FILTERS = (32, 64, 128, 256, 512)
MOOD_KERNELS = (3, 3, 3, 2, 3)
POOLS = ((2, 4), (4, 4), (2, 5), (2, 4), (4, 4))
MODEL_NAMES = ("cnn-3", "cnn-4", "cnn-5", "cnn-6", "cnn-7", "mfcc-1d", "fnn", "mood-cnn")


def _head(x, n_classes: int, multilabel: bool, dropout: float = 0.3):
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(64, activation="relu", name="dense")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    # float32 outputs even under mixed precision, so losses and probabilities stay exact
    return layers.Dense(
        n_classes, activation="sigmoid" if multilabel else "softmax", dtype="float32", name="output"
    )(x)


def cnn_n(
    input_shape: tuple[int, int],
    n_classes: int,
    depth: int = 3,
    *,
    pool3: tuple[int, int] | None = None,
    bn_momentum: float = 0.99,
    multilabel: bool = False,
    name: str | None = None,
) -> keras.Model:
    """The original CNN-N, ``depth`` in 3..7 (see the module docstring).

    ``bn_momentum`` is the BatchNorm moving-average momentum: 0.99 (Keras' default, the original's)
    or 0.9, which the ``default`` training preset uses so the inference statistics catch up within
    the few hundred steps a small data set gives (with 0.99 validation scores lag far behind).

    Parameters
    ----------
    input_shape : tuple of (int, int)
        ``(bins, columns)`` of one stored frame (no channel axis).
    n_classes : int
        Number of outputs.
    depth : int, default=3
        N, the number of blocks (3..7; 6 and 7 add ``1x1`` convolutions after block 5).
    pool3 : tuple of (int, int) or None, default=None
        Pool window of the third block instead of ``(2, 5)``; experiment 1's spectrogram CNN uses
        ``(4, 5)``.
    bn_momentum : float, default=0.99
        BatchNorm momentum.
    multilabel : bool, default=False
        Sigmoid outputs (tags) instead of softmax (genres).
    name : str or None, default=None
        Model name; ``None`` gives ``"cnn-<depth>"``.

    Returns
    -------
    keras.Model
        The uncompiled model; its outputs are float32 even under mixed precision.

    Raises
    ------
    musiclass.errors.ConfigError
        When ``depth`` is not 3..7.

    Examples
    --------
    >>> from musiclass.models.cnn import cnn_n
    >>> cnn_n((128, 130), 10, depth=3).count_params()
    480714
    """
    if depth not in range(3, 8):
        raise ConfigError(f"CNN depth must be 3..7 (the original family), got {depth}")
    pools = list(POOLS)
    if pool3 is not None:
        pools[2] = tuple(pool3)
    inputs = keras.Input(shape=tuple(input_shape), name="frame")
    x = layers.Reshape((*input_shape, 1), name="channel")(inputs)
    for i in range(min(depth, 5)):
        x = layers.Conv2D(FILTERS[i], 3, padding="valid", activation="relu", name=f"conv{i + 1}")(x)
        x = layers.MaxPooling2D(pools[i], strides=2, padding="same", name=f"pool{i + 1}")(x)
        x = layers.BatchNormalization(momentum=bn_momentum, name=f"bn{i + 1}")(x)
    for j in range(depth - 5):
        x = layers.Conv2D(128, 1, activation="relu", name=f"conv1x1_{j + 1}")(x)
    return keras.Model(inputs, _head(x, n_classes, multilabel), name=name or f"cnn-{depth}")


def mfcc_1d(
    input_shape: tuple[int, int],
    n_classes: int,
    *,
    axis: str = "time",
    bn_momentum: float = 0.99,
    multilabel: bool = False,
    name: str = "mfcc-1d",
) -> keras.Model:
    """1-D CNN on an MFCC frame ``(n_mfcc, columns)``.

    ``axis="time"`` (default) convolves along time, coefficients as channels; ``axis="coefficients"``
    is the original's version, convolving across the coefficients with time as channels.

    Parameters
    ----------
    input_shape : tuple of (int, int)
        ``(n_mfcc, columns)`` of one stored frame.
    n_classes : int
        Number of outputs.
    axis : {"time", "coefficients"}, default="time"
        The axis convolved along.
    bn_momentum : float, default=0.99
        BatchNorm momentum (see :func:`cnn_n`).
    multilabel : bool, default=False
        Sigmoid outputs instead of softmax.
    name : str, default="mfcc-1d"
        Model name.

    Returns
    -------
    keras.Model
        The uncompiled model: three blocks ``Conv1D 3 (32 filters, valid, ReLU) -> MaxPool 2 ->
        BatchNorm``, then the CNN-N head.

    Raises
    ------
    musiclass.errors.ConfigError
        For an unknown ``axis``.
    """
    if axis not in ("time", "coefficients"):
        raise ConfigError(f"mfcc axis must be 'time' or 'coefficients', got {axis!r}")
    inputs = keras.Input(shape=tuple(input_shape), name="frame")
    x = layers.Permute((2, 1), name="time_major")(inputs) if axis == "time" else inputs
    for i in range(3):
        x = layers.Conv1D(32, 3, padding="valid", activation="relu", name=f"conv{i + 1}")(x)
        x = layers.MaxPooling1D(2, strides=2, padding="same", name=f"pool{i + 1}")(x)
        x = layers.BatchNormalization(momentum=bn_momentum, name=f"bn{i + 1}")(x)
    return keras.Model(inputs, _head(x, n_classes, multilabel), name=name)


def mood_cnn(
    input_shape: tuple[int, int],
    n_classes: int,
    *,
    multilabel: bool = True,
    bn_momentum: float = 0.99,
    dropout: float = 0.5,
    name: str = "mood-cnn",
) -> keras.Model:
    """The original mood tagger (see the module docstring); sigmoid outputs unless ``multilabel=False``.

    Parameters
    ----------
    input_shape : tuple of (int, int)
        ``(n_mels, columns)`` of one stored frame (96 x 341 in the mood presets).
    n_classes : int
        Number of tags.
    multilabel : bool, default=True
        Sigmoid outputs; False gives softmax.
    bn_momentum : float, default=0.99
        BatchNorm momentum (see :func:`cnn_n`).
    dropout : float, default=0.5
        Dropout rate before the output layer.
    name : str, default="mood-cnn"
        Model name.

    Returns
    -------
    keras.Model
        The uncompiled model; its outputs are float32 even under mixed precision.

    Examples
    --------
    >>> from musiclass.models.cnn import mood_cnn
    >>> mood_cnn((96, 341), 35).count_params()
    1426083
    """
    inputs = keras.Input(shape=tuple(input_shape), name="frame")
    x = layers.Reshape((*input_shape, 1), name="channel")(inputs)
    for i, (filters, kernel) in enumerate(zip(MOOD_FILTERS, MOOD_KERNELS)):
        x = layers.Conv2D(filters, kernel, padding="same", name=f"conv{i + 1}")(x)
        x = layers.BatchNormalization(momentum=bn_momentum, name=f"bn{i + 1}")(x)
        x = layers.Activation("relu", name=f"relu{i + 1}")(x)
        x = layers.MaxPooling2D((4, 4), padding="same", name=f"pool{i + 1}")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    x = layers.Flatten(name="flatten")(x)
    outputs = layers.Dense(
        n_classes, activation="sigmoid" if multilabel else "softmax", dtype="float32", name="output"
    )(x)
    return keras.Model(inputs, outputs, name=name)
