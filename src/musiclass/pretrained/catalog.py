"""The pretrained models ``musiclass predict`` accepts by name, and where each came from.

``musiclass models`` prints :func:`table`. Every model here was published with its weights by its
authors; none is trained by this project, and no weights are kept in its repository (they are
obtained on first use: :mod:`musiclass.pretrained.weights`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..errors import ConfigError
from . import weights
from .musicnn import ARCHITECTURES, Architecture

__all__ = ["Pretrained", "PRETRAINED", "get", "is_name", "table"]

_AUTHORS = "Jordi Pons, Xavier Serra (Music Technology Group, Universitat Pompeu Fabra)"
_PAPER = (
    "Pons & Serra, 'musicnn: pre-trained convolutional neural networks for music audio tagging', "
    "ISMIR 2019 late-breaking/demo; Pons et al., 'End-to-end learning for music audio tagging "
    "at scale', ISMIR 2018"
)
_LICENCE = "ISC (code and weights, per LICENSE.md of github.com/jordipons/musicnn)"


@dataclass(frozen=True)
class Pretrained:
    """A published network ``musiclass predict`` knows by name.

    Attributes
    ----------
    name : str
        The name given to ``musiclass predict``.
    network : str
        musicnn's name of the network (a key of
        :data:`~musiclass.pretrained.musicnn.ARCHITECTURES`).
    summary : str
        One line on what it is.
    authors : str
        Who trained and published it.
    paper : str
        Where it is described.
    licence : str
        The licence of its code and weights.
    """

    name: str
    network: str
    summary: str
    authors: str = _AUTHORS
    paper: str = _PAPER
    licence: str = _LICENCE

    @property
    def architecture(self) -> Architecture:
        """The network's architecture and tags.

        Returns
        -------
        Architecture
            ``ARCHITECTURES[network]``.
        """
        return ARCHITECTURES[self.network]

    @property
    def source(self) -> str:
        """Where the weights come from, with the pinned hash.

        Returns
        -------
        str
            The package, its wheel and the wheel's SHA-256.
        """
        return (
            f"PyPI wheel {weights.PACKAGE}=={weights.VERSION} ({weights.WHEEL_NAME}, "
            f"sha256 {weights.WHEEL_SHA256}), folder {weights.PACKAGE}/{self.network}/"
        )


#: the pretrained models, by the name ``musiclass predict`` takes
PRETRAINED = {
    p.name: p
    for p in (
        Pretrained(
            "musicnn-mtt",
            "MTT_musicnn",
            "musicnn trained on MagnaTagATune: 50 tags (instruments, genres, moods, vocals)",
        ),
        Pretrained(
            "musicnn-msd",
            "MSD_musicnn",
            "musicnn trained on the Million Song Dataset: 50 last.fm tags (genres such as rock, "
            "jazz, blues, country, metal, Hip-Hop; moods such as happy, sad, Mellow, chill, party; "
            "decades)",
        ),
        Pretrained(
            "musicnn-mtt-vgg",
            "MTT_vgg",
            "musicnn's VGG-like baseline trained on MagnaTagATune: the same 50 tags",
        ),
        Pretrained(
            "musicnn-msd-vgg",
            "MSD_vgg",
            "musicnn's VGG-like baseline trained on the Million Song Dataset: the same 50 tags",
        ),
    )
}


def is_name(text: str | os.PathLike) -> bool:
    """Tell whether ``text`` names a pretrained model rather than a model directory.

    A folder of that name in the working directory wins: it is taken as a model directory.

    Parameters
    ----------
    text : str or os.PathLike
        A ``predict`` argument.

    Returns
    -------
    bool
        True for a key of :data:`PRETRAINED` that is not an existing path.
    """
    return isinstance(text, str) and text in PRETRAINED and not os.path.exists(text)


def get(name: str) -> Pretrained:
    """The pretrained model of that name.

    Parameters
    ----------
    name : str
        A key of :data:`PRETRAINED`.

    Returns
    -------
    Pretrained
        Its entry.

    Raises
    ------
    musiclass.errors.ConfigError
        For an unknown name (the message lists the known ones).
    """
    if name not in PRETRAINED:
        raise ConfigError(f"unknown pretrained model {name!r}; known: {', '.join(PRETRAINED)}")
    return PRETRAINED[name]


def table(cache: str | os.PathLike | None = None) -> list[dict[str, str]]:
    """One record per pretrained model: what it is, where it came from, whether it is cached.

    Parameters
    ----------
    cache : str or os.PathLike, optional
        The cache folder (default :func:`musiclass.pretrained.weights.cache_dir`).

    Returns
    -------
    list of dict
        ``name, network, tags, trained_on, summary, authors, paper, licence, source, cached,
        where`` (``cached`` is ``"yes"`` or ``"no"``; ``where`` is the wheel's place in the cache).
    """
    cached = weights.is_cached(cache)
    return [
        {
            "name": p.name,
            "network": p.network,
            "tags": str(len(p.architecture.labels)),
            "trained_on": p.architecture.dataset,
            "summary": p.summary,
            "authors": p.authors,
            "paper": p.paper,
            "licence": p.licence,
            "source": p.source,
            "cached": "yes" if cached else "no",
            "where": str(weights.wheel_path(cache)),
        }
        for p in PRETRAINED.values()
    ]
