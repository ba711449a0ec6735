"""How far an input is from what a model was trained on: ``predict``'s out-of-distribution note.

A network outputs confident probabilities for anything, white noise included ("metal (1.00)").
Training keeps a summary of its training frames (:func:`frame_statistics`, written to the model
directory's ``input_statistics.json``); ``predict`` measures each file's frames against it
(:func:`track_distance`) and adds a note, never a refusal, when the file lies far outside.

The distance of one frame is the root mean square, over frequency bins, of the z-score of the
frame's per-bin mean (over its time columns) against the training frames' per-bin mean and
standard deviation. A track's distance is the median over its frames. The training frames' own
distances give the reference: a track is noted when its distance exceeds :data:`MARGIN` times
their 99th percentile.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: at most this many training frames (evenly spaced) summarise the training set
MAX_FRAMES = 2000
#: a track is far outside when its distance exceeds this many times the training frames' 99th
#: percentile
MARGIN = 2.0


def _bin_means(x: np.ndarray) -> np.ndarray:
    """Per-frame, per-bin mean over the time columns: ``(n, bins)`` from ``(n, bins, columns)``."""
    x = np.asarray(x, dtype=np.float64)
    return x.reshape(len(x), x.shape[1], -1).mean(axis=2)


def frame_statistics(frames: np.ndarray) -> dict[str, Any]:
    """Summarise training frames: per-bin mean and standard deviation, and their own distances.

    Parameters
    ----------
    frames : numpy.ndarray [shape=(n, bins, columns)]
        Training frames (a few thousand, evenly spaced over the training set, are enough).

    Returns
    -------
    dict
        ``mean`` and ``std`` (lists, one per bin), ``q99`` (the 99th percentile of the training
        frames' distances) and ``n_frames``; plain JSON types.

    Raises
    ------
    ValueError
        For fewer than 2 frames, or frames that are not 2-D or 3-D each.
    """
    frames = np.asarray(frames)
    if frames.ndim not in (2, 3) or len(frames) < 2:
        raise ValueError(f"need at least 2 frames of shape (bins, columns), got {frames.shape}")
    m = _bin_means(frames)
    mean, std = m.mean(axis=0), np.maximum(m.std(axis=0), 1e-6)
    stats = {"mean": mean.tolist(), "std": std.tolist(), "n_frames": int(len(frames))}
    stats["q99"] = float(np.quantile(frame_distances(frames, stats), 0.99))
    return stats


def frame_distances(frames: np.ndarray, stats: dict[str, Any]) -> np.ndarray:
    """Each frame's distance to the training frames (see the module doc).

    Parameters
    ----------
    frames : numpy.ndarray [shape=(n, bins, columns)]
        The frames.
    stats : dict
        :func:`frame_statistics` of the training frames.

    Returns
    -------
    numpy.ndarray [shape=(n,)]
        Root mean square over bins of the z-scores of the frames' per-bin means.
    """
    z = (_bin_means(frames) - np.asarray(stats["mean"])) / np.asarray(stats["std"])
    return np.sqrt(np.mean(np.square(z), axis=1))


def far_outside(frames: np.ndarray, stats: dict[str, Any]) -> str | None:
    """A note when a track's frames lie far outside the training frames, else None.

    Parameters
    ----------
    frames : numpy.ndarray [shape=(n, bins, columns)]
        The track's frames.
    stats : dict
        :func:`frame_statistics` of the training frames.

    Returns
    -------
    str or None
        ``"far outside the training data: ..."`` with the track's distance and the training
        reference, when the median frame distance exceeds :data:`MARGIN` times ``q99``.
    """
    d = float(np.median(frame_distances(frames, stats)))
    limit = MARGIN * float(stats["q99"])
    if d <= limit:
        return None
    return (
        f"far outside the training data: its frames are {d:.1f} standard deviations from the "
        f"training frames' average (99% of training frames are within {stats['q99']:.1f}); "
        "the prediction says little about it"
    )
