"""Model builders: pure functions of their config (``cnn``, ``fnn``) and scikit-learn pipelines (``classical``)."""

from __future__ import annotations

from typing import Any

from ..errors import ConfigError


def build_model(
    name: str,
    input_shape: tuple[int, int],
    n_classes: int,
    *,
    multilabel: bool = False,
    **options: Any,
):
    """Build a network by name: ``cnn-3`` ... ``cnn-7``, ``mfcc-1d``, ``fnn`` or ``mood-cnn``.

    Keras is imported only here, so the classical-ML path never loads it.

    Parameters
    ----------
    name : str
        ``cnn-N`` (N = 3 ... 7), ``mfcc-1d``, ``fnn`` or ``mood-cnn`` (case-insensitive).
    input_shape : tuple of int
        One frame: ``(bins, columns)``.
    n_classes : int
        Outputs (classes or tags).
    multilabel : bool
        Sigmoid outputs (tags) instead of a softmax.
    **options
        For the builder: ``pool3``, ``bn_momentum`` (CNNs), ``axis`` (``mfcc-1d``),
        ``normalize``, ``mean``, ``variance`` (``fnn``).

    Returns
    -------
    keras.Model
        Input ``(batch, *input_shape)``, output ``(batch, n_classes)`` probabilities.

    Raises
    ------
    ConfigError
        An unknown name, an option the builder does not take, or an input too small for it.
    """
    from . import cnn, fnn  # Keras: both import it at load, and `import musiclass.models` must not

    name = name.lower()
    try:
        if name.startswith("cnn-"):
            return cnn.cnn_n(
                input_shape, n_classes, int(name[4:]), multilabel=multilabel, **options
            )
        if name == "mfcc-1d":
            return cnn.mfcc_1d(input_shape, n_classes, multilabel=multilabel, **options)
        if name == "fnn":
            return fnn.fnn(input_shape, n_classes, multilabel=multilabel, **options)
        if name == "mood-cnn":
            return cnn.mood_cnn(input_shape, n_classes, multilabel=multilabel, **options)
    except TypeError as exc:
        raise ConfigError(f"model {name!r}: {exc}") from None
    except ValueError as exc:
        raise ConfigError(f"model {name!r} cannot take input {tuple(input_shape)}: {exc}") from None
    raise ConfigError(f"unknown model {name!r}; choose from cnn-3 .. cnn-7, mfcc-1d, fnn, mood-cnn")
