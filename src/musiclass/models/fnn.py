"""The feed-forward baseline: ``Flatten -> Dense 512 -> 256 -> 64 -> n_classes``.

Each hidden layer is ReLU with L2 (1e-3) and dropout 0.3, as in the original (8,668,618 trainable
parameters on the 128x130 mel input). The original fed it raw dB values, which is why it scored
near chance; by default a Keras ``Normalization`` layer, adapted on the *training* frames only
(per frequency bin, streamed from the store), standardises the input first; the statistics
are saved inside the model. ``normalize=False`` is the original.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, regularizers

HIDDEN = (512, 256, 64)


def fnn(
    input_shape: tuple[int, int],
    n_classes: int,
    *,
    normalize: bool = True,
    mean: np.ndarray | None = None,
    variance: np.ndarray | None = None,
    multilabel: bool = False,
    name: str = "fnn",
) -> keras.Model:
    """Build the FNN: ``Flatten -> Dense 512 -> 256 -> 64 -> n_classes`` (see the module docstring).

    ``mean``/``variance`` (per frequency bin) come from the training frames
    (:func:`musiclass.training.input_statistics`); without them the layer must be adapted.

    Parameters
    ----------
    input_shape : tuple of (int, int)
        ``(bins, columns)`` of one stored frame.
    n_classes : int
        Number of outputs.
    normalize : bool, default=True
        Standardise the input with a ``Normalization`` layer per frequency bin (axis 1); False is
        the original, which fed raw dB values.
    mean : numpy.ndarray or None, default=None
        Per-bin mean of the training frames.
    variance : numpy.ndarray or None, default=None
        Per-bin variance of the training frames.
    multilabel : bool, default=False
        Sigmoid outputs instead of softmax.
    name : str, default="fnn"
        Model name.

    Returns
    -------
    keras.Model
        The uncompiled model; its outputs are float32 even under mixed precision.

    Examples
    --------
    >>> from musiclass.models.fnn import fnn
    >>> fnn((128, 130), 10, normalize=False).count_params()
    8668618
    """
    inputs = keras.Input(shape=tuple(input_shape), name="frame")
    x = inputs
    if normalize:
        if mean is not None and variance is not None:
            norm = layers.Normalization(
                axis=1,
                mean=np.asarray(mean).reshape(-1),
                variance=np.asarray(variance).reshape(-1),
                name="normalize",
            )
        else:
            norm = layers.Normalization(axis=1, name="normalize")
        x = norm(x)
    x = layers.Flatten(name="flatten")(x)
    for i, units in enumerate(HIDDEN):
        x = layers.Dense(
            units, activation="relu", kernel_regularizer=regularizers.L2(1e-3), name=f"dense{i + 1}"
        )(x)
        x = layers.Dropout(0.3, name=f"dropout{i + 1}")(x)
    outputs = layers.Dense(
        n_classes, activation="sigmoid" if multilabel else "softmax", dtype="float32", name="output"
    )(x)
    return keras.Model(inputs, outputs, name=name)
