"""A loaded musicnn network with its input: decode, patch, run, in bounded batches.

:class:`Tagger` is what ``musiclass predict musicnn-mtt`` and the ``embeddings`` extractor share:
:meth:`Tagger.load` decodes a file at 16 kHz mono (:func:`musiclass.audio.load`),
:meth:`Tagger.frames` makes musicnn's 3 s patches (:func:`musiclass.pretrained.musicnn.log_mel`,
:func:`~musiclass.pretrained.musicnn.patches`) and :meth:`Tagger.outputs` runs them
``batch_size`` at a time.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .. import audio
from .catalog import get
from .musicnn import ARCHITECTURES, SAMPLE_RATE, Architecture, log_mel, patches
from .weights import load_network

__all__ = ["Tagger", "load_tagger"]


class Tagger:
    """One of musicnn's networks, ready to tag audio.

    Parameters
    ----------
    network : keras.Model
        The network with its weights (:func:`musiclass.pretrained.weights.load_network`), whose
        outputs are a dict with at least ``taggram``.
    architecture : Architecture
        What it is (its tags).
    batch_size : int, default=64
        Patches per forward pass.

    Attributes
    ----------
    network : keras.Model
        The network (every output).
    taggram_model : keras.Model
        The same layers with the taggram as the only output (what ``predict`` runs).
    architecture : Architecture
        The network's description.
    classes : tuple of str
        Its tags, in output order.
    batch_size : int
        Patches per forward pass.
    """

    def __init__(self, network: Any, architecture: Architecture, batch_size: int = 64):
        import keras  # lazy: keras only once a network exists

        self.network, self.architecture = network, architecture
        self.classes = tuple(architecture.labels)
        self.batch_size = int(batch_size)
        self.taggram_model = keras.Model(network.input, network.output["taggram"])

    def load(self, path: str | os.PathLike, min_duration: float = 0.5) -> np.ndarray:
        """Decode a file to mono float32 at 16 kHz.

        Parameters
        ----------
        path : str or os.PathLike
            The audio file.
        min_duration : float, default=0.5
            The shortest clip accepted, in seconds.

        Returns
        -------
        numpy.ndarray of shape (samples,)
            The signal.

        Raises
        ------
        musiclass.errors.AudioError
            When the file is unusable (see :func:`musiclass.audio.load`).
        """
        y, _ = audio.load(path, sr=SAMPLE_RATE, min_duration=min_duration)
        return y

    @staticmethod
    def frames(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cut a 16 kHz signal into musicnn's input patches.

        Parameters
        ----------
        y : numpy.ndarray of shape (samples,)
            The signal at 16 kHz.

        Returns
        -------
        starts : numpy.ndarray of shape (n_patches,)
            Patch starts in seconds.
        x : numpy.ndarray of shape (n_patches, 187, 96)
            The patches (see :func:`musiclass.pretrained.musicnn.patches`).
        """
        return patches(log_mel(y))

    def outputs(self, x: np.ndarray, keys: tuple[str, ...] | None = None) -> dict[str, np.ndarray]:
        """Run patches through the network, ``batch_size`` at a time.

        Parameters
        ----------
        x : numpy.ndarray of shape (n_patches, 187, 96)
            The patches.
        keys : tuple of str, optional
            The outputs wanted (default every output of the network).

        Returns
        -------
        dict of str to numpy.ndarray
            Each output, one row per patch (float32).
        """
        parts: dict[str, list[np.ndarray]] = {}
        for i in range(0, len(x), self.batch_size):
            out = self.network.predict_on_batch(np.asarray(x[i : i + self.batch_size], np.float32))
            for k, v in out.items():
                if keys is None or k in keys:
                    parts.setdefault(k, []).append(np.asarray(v))
        return {k: np.concatenate(v) for k, v in parts.items()}


def load_tagger(
    name: str, *, batch_size: int = 64, cache: str | os.PathLike | None = None, network: Any = None
) -> Tagger:
    """Load a pretrained tagger by name (``musicnn-mtt``, ...), or by musicnn's network name.

    Parameters
    ----------
    name : str
        A key of :data:`musiclass.pretrained.catalog.PRETRAINED`, or of
        :data:`musiclass.pretrained.musicnn.ARCHITECTURES`.
    batch_size : int, default=64
        Patches per forward pass.
    cache : str or os.PathLike, optional
        The weights' cache folder (default :func:`musiclass.pretrained.weights.cache_dir`).
    network : keras.Model, optional
        A network to use instead of the published one (tests: random weights, no download).

    Returns
    -------
    Tagger
        The network with its published weights.

    Raises
    ------
    musiclass.pretrained.weights.WeightsUnavailable
        When the weights cannot be had.
    musiclass.errors.ConfigError
        For an unknown name.
    """
    arch = ARCHITECTURES[name] if name in ARCHITECTURES else get(name).architecture
    if network is None:
        network = load_network(arch, cache)
    return Tagger(network, arch, batch_size=batch_size)
