"""Resampling of a multi-label *training* set of frames (mood task): the study's up- and downsampled sets.

Every function takes ``Y``, the ``(n_frames, n_tags)`` 0/1 multi-hot matrix of the training frames (any
integer, boolean or float dtype whose values are 0 or 1), and returns a 1-D ``int64`` array of row indices
into ``Y``: repeats mean a frame is used more than once (upsampling), no repeats a subset (downsampling).

The original study (see ``docs/protocol.md``, "Mood task") built, from the training frames (most frequent
tag 429 frames, least 25):

``up-s``
    target = ``int(max_count * s)``; every tag below the target gets frames drawn with replacement
    up to the target, from its single-tag frames where it has any (:func:`upsample`);
``down-s``
    the minority tag keeps all its frames, every other tag keeps a reduced number (:func:`downsample`,
    two readings of the rule: ``"code"`` and ``"readme"``);
``base``
    the unmodified set,

for ``s`` in :data:`SIZES`: 9 sets in all (:func:`resample_sets`). :func:`counts_table` gives the frames per
tag each set achieved, for the report's table and figures.

Differences from the original, on purpose:

* **Shuffled.** The original stored each resampled set ordered by tag and never shuffled it within an
  epoch, so most batches held a single tag. Every index array returned here is shuffled with the seed
  (the base set too), so a loader that reads it in order already sees mixed batches; the training loop
  still reshuffles every epoch.
* **Seeded.** The same ``Y``, size, reading and seed give the same array in any process; each set draws
  from its own stream (``SeedSequence([seed, crc32(kind), crc32(size)])``), so the ``up-0.5`` set of
  :func:`resample_sets` equals ``upsample(Y, 0.5, seed)``.
* **Multi-label made explicit.** Frames carry several tags, so adding a frame for one tag raises the
  counts of its other tags, and removing one lowers them: exact targets are impossible in general. The
  rules used are stated in :func:`upsample` and :func:`downsample`; targets are exposed by
  :func:`upsample_targets` and :func:`downsample_targets`, achieved counts by :func:`tag_counts` of
  ``Y[idx]`` or :func:`counts_table`. With single-tag data every target is met exactly.

A tag with no frame in ``Y`` is allowed: it stays at 0 frames in every set and is left out of ``max_count``
and ``n_min`` (it has no frame to draw or keep). Rows that carry no tag at all are kept once in every set
and counted in the set size only.

Every function raises :class:`~musiclass.errors.ConfigError`, saying what is wrong, for a ``Y`` that is
not a non-empty 2-D 0/1 matrix with at least one tagged frame, a size outside ``(0, 1]``, an unknown
reading or a seed that is not a non-negative integer.

Examples
--------
>>> import numpy as np
>>> from musiclass.resampling import downsample, tag_counts, upsample
>>> Y = np.array([[1, 0], [1, 0], [1, 0], [1, 0], [0, 1]])
>>> tag_counts(Y).tolist()
[4, 1]
>>> tag_counts(Y[upsample(Y, 0.5, seed=0)]).tolist()
[4, 2]
>>> tag_counts(Y[downsample(Y, 0.5, seed=0)]).tolist()
[2, 1]
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .errors import ConfigError

SIZES: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0)
READINGS: tuple[str, ...] = ("code", "readme")
DEFAULT_READING = "code"
DEFAULT_SEED = 42

__all__ = [
    "SIZES",
    "READINGS",
    "DEFAULT_READING",
    "tag_counts",
    "upsample_targets",
    "downsample_targets",
    "base_set",
    "upsample",
    "downsample",
    "set_name",
    "resample_sets",
    "counts_table",
]


# =============================================================================================
# Checks and seeding
# =============================================================================================


def _check_y(Y) -> np.ndarray:
    """``Y`` as an ``int64`` 0/1 matrix, or a :class:`ConfigError` saying what is wrong with it."""
    try:
        arr = np.asarray(Y)
    except Exception as exc:  # ragged lists and the like
        raise ConfigError(f"Y must be a 2-D 0/1 matrix (frames x tags): {exc}") from None
    if arr.ndim != 2:
        raise ConfigError(f"Y must be a 2-D 0/1 matrix (frames x tags), got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ConfigError(f"Y is empty (shape {arr.shape}): nothing to resample")
    if arr.dtype != bool:
        if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
            raise ConfigError(f"Y must hold 0/1 numbers or booleans, got dtype {arr.dtype}")
        bad = ~((arr == 0) | (arr == 1))
        if bad.any():
            r, c = np.argwhere(bad)[0]
            raise ConfigError(f"Y must be a 0/1 matrix, found {arr[r, c]!r} at row {r}, tag {c}")
    out = arr.astype(np.int64)
    if not out.any():
        raise ConfigError(
            f"Y has no tagged frame ({out.shape[0]} rows, all zero): nothing to resample"
        )
    return out


def _check_size(size) -> float:
    if isinstance(size, bool) or not isinstance(size, (int, float, np.integer, np.floating)):
        raise ConfigError(f"size must be a number in (0, 1], got {size!r}")
    s = float(size)
    if not (0.0 < s <= 1.0):  # also rejects NaN
        raise ConfigError(f"size must be in (0, 1], got {size!r}")
    return s


def _check_reading(reading) -> str:
    if reading not in READINGS:
        raise ConfigError(
            f"unknown downsampling reading {reading!r}; expected one of {', '.join(READINGS)}"
        )
    return reading


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def _rng(seed: int, kind: str, size: float | None = None) -> np.random.Generator:
    """An independent, process-stable generator per (seed, kind of set, size)."""
    keys = [_check_seed(seed), zlib.crc32(kind.encode())]
    if size is not None:
        keys.append(zlib.crc32(f"{size:.12g}".encode()))
    return np.random.default_rng(np.random.SeedSequence(keys))


def _floor(x: float) -> int:
    """``int()`` of a non-negative product, immune to float noise such as 37.49999999999999."""
    return math.floor(round(x, 9))


def _ceil(x: float) -> int:
    """``math.ceil`` of a non-negative product, immune to float noise such as 7.000000000000001."""
    return math.ceil(round(x, 9))


# =============================================================================================
# Counts and targets
# =============================================================================================


def tag_counts(Y) -> np.ndarray:
    """Count the frames of each tag (``tag_counts(Y[idx])`` counts repeats).

    Parameters
    ----------
    Y : array-like of shape (n_frames, n_tags)
        0/1 multi-hot matrix.

    Returns
    -------
    numpy.ndarray of shape (n_tags,)
        Frames per tag (``int64``, one entry per column of ``Y``).

    Raises
    ------
    musiclass.errors.ConfigError
        When ``Y`` is not a non-empty 2-D 0/1 matrix with at least one tagged frame.
    """
    return _check_y(Y).sum(axis=0)


def upsample_targets(Y, size: float) -> np.ndarray:
    """The frames per tag that :func:`upsample` aims at: ``max(n, int(max_count * size))``; 0 stays 0.

    Tags already at or above ``int(max_count * size)`` keep their own count as target (nothing is drawn
    for them); a tag without frames keeps target 0.

    Parameters
    ----------
    Y : array-like of shape (n_frames, n_tags)
        0/1 multi-hot matrix of the training frames.
    size : float
        The set's size, in ``(0, 1]``.

    Returns
    -------
    numpy.ndarray of shape (n_tags,)
        The targets (``int64``).

    Raises
    ------
    musiclass.errors.ConfigError
        For an invalid ``Y`` or ``size``.

    Examples
    --------
    >>> import numpy as np
    >>> from musiclass.resampling import upsample_targets
    >>> Y = np.array([[1, 0], [1, 0], [1, 0], [1, 0], [0, 1]])
    >>> upsample_targets(Y, 0.5).tolist()
    [4, 2]
    """
    counts = tag_counts(Y)
    target = _floor(int(counts.max()) * _check_size(size))
    return np.where(counts > 0, np.maximum(counts, target), 0).astype(np.int64)


def downsample_targets(Y, size: float, reading: str = DEFAULT_READING) -> np.ndarray:
    """The frames per tag that :func:`downsample` aims at, ``n_min`` being the smallest non-zero count.

    ``"code"``
        ``max(n_min, ceil((n - n_min) * (1 - size)))``, the original notebook's rule;
    ``"readme"``
        ``n - int((n - n_min) * size)``, i.e. remove ``(n - n_min) * size`` frames, the wording of the
        original study's README.

    The minority tag's target is its own count under both readings; a tag without frames keeps target 0.
    Example (smallest tag 25 frames, a tag of 100, size 0.5): ``"code"`` keeps 38, ``"readme"`` keeps 63.

    Parameters
    ----------
    Y : array-like of shape (n_frames, n_tags)
        0/1 multi-hot matrix of the training frames.
    size : float
        The set's size, in ``(0, 1]``.
    reading : {"code", "readme"}, default="code"
        Which reading of the original's rule.

    Returns
    -------
    numpy.ndarray of shape (n_tags,)
        The targets (``int64``).

    Raises
    ------
    musiclass.errors.ConfigError
        For an invalid ``Y``, ``size`` or ``reading``.

    Examples
    --------
    >>> import numpy as np
    >>> from musiclass.resampling import downsample_targets
    >>> Y = np.array([[1, 0]] * 100 + [[0, 1]] * 25)
    >>> downsample_targets(Y, 0.5, "code").tolist(), downsample_targets(Y, 0.5, "readme").tolist()
    ([38, 25], [63, 25])
    """
    counts = tag_counts(Y)
    s = _check_size(size)
    reading = _check_reading(reading)
    n_min = int(counts[counts > 0].min())
    out = np.zeros_like(counts)
    for t, n in enumerate(counts.tolist()):
        if n == 0:
            continue
        if reading == "code":
            out[t] = max(n_min, _ceil((n - n_min) * (1.0 - s)))
        else:
            out[t] = n - _floor((n - n_min) * s)
    return out


# =============================================================================================
# The sets
# =============================================================================================


def base_set(Y, seed: int = DEFAULT_SEED) -> np.ndarray:
    """Return every row of ``Y`` once, shuffled with the seed.

    Parameters
    ----------
    Y : array-like of shape (n_frames, n_tags)
        0/1 multi-hot matrix of the training frames.
    seed : int, default=42
        Non-negative seed.

    Returns
    -------
    numpy.ndarray of shape (n_frames,)
        A permutation of the row indices (``int64``).

    Raises
    ------
    musiclass.errors.ConfigError
        For an invalid ``Y`` or ``seed``.
    """
    Y = _check_y(Y)
    return _rng(seed, "base").permutation(Y.shape[0]).astype(np.int64)


def upsample(Y, size: float, seed: int = DEFAULT_SEED) -> np.ndarray:
    """Row indices of the upsampled set: every row once, plus frames drawn with replacement; shuffled.

    The original rule: ``target = int(max_count * size)``; every tag whose count is below the target gets
    extra frames drawn with replacement from its single-tag frames (frames whose only tag is that tag) when
    it has any, otherwise from all its frames. All original frames are kept once.

    Multi-label rule: tags are processed one at a time in ascending order of their original count (ties by
    column order). When a tag's turn comes, its deficit is computed from the *current* counts, i.e. after
    the frames already drawn for earlier tags, which also raise the counts of every other tag they carry;
    exactly that many frames are drawn for it (none if it has already reached the target). Every drawn frame
    carries the tag, so the tag stands exactly at the target after its turn, and later draws can only raise
    it: every tag with frames ends at ``>= max(n, target)``, and exactly at the target with single-tag data.
    Tags at or above the target get no draws of their own (they may still gain repeats of frames they share
    with a smaller tag). A tag with no frames stays at 0. Targets: :func:`upsample_targets`; achieved
    counts: ``tag_counts(Y[idx])`` or :func:`counts_table`.

    Parameters
    ----------
    Y : array-like of shape (n_frames, n_tags)
        0/1 multi-hot matrix of the training frames.
    size : float
        The set's size, in ``(0, 1]``: the target is ``int(max_count * size)``.
    seed : int, default=42
        Non-negative seed; the same ``Y``, size and seed give the same array in any process.

    Returns
    -------
    numpy.ndarray
        Row indices into ``Y`` (``int64``), with repeats, shuffled.

    Raises
    ------
    musiclass.errors.ConfigError
        For an invalid ``Y``, ``size`` or ``seed``.
    """
    Y = _check_y(Y)
    s = _check_size(size)
    rng = _rng(seed, "up", s)
    counts = Y.sum(axis=0)
    target = _floor(int(counts.max()) * s)
    n_tags_per_row = Y.sum(axis=1)
    current = counts.copy()
    drawn: list[np.ndarray] = []
    for t in np.argsort(counts, kind="stable"):
        if counts[t] == 0:
            continue
        deficit = target - int(current[t])
        if deficit <= 0:
            continue
        has_t = Y[:, t] == 1
        pool = np.flatnonzero(has_t & (n_tags_per_row == 1))
        if pool.size == 0:
            pool = np.flatnonzero(has_t)
        extra = rng.choice(pool, size=deficit, replace=True)
        drawn.append(extra)
        current += Y[extra].sum(axis=0)
    idx = np.concatenate([np.arange(Y.shape[0]), *drawn]).astype(np.int64)
    return rng.permutation(idx)


def downsample(
    Y, size: float, seed: int = DEFAULT_SEED, reading: str = DEFAULT_READING
) -> np.ndarray:
    """Row indices of the downsampled set: a subset of the rows, without repeats; shuffled.

    The minority tag (smallest non-zero count ``n_min``) keeps all its frames; every other tag, with ``n``
    frames, is reduced to a target (:func:`downsample_targets`):

    ``reading="code"`` (the default)
        ``max(n_min, ceil((n - n_min) * (1 - size)))``. This is what the original notebook computed, so
        it is what produced the study's reported sets and numbers; the ``seed`` preset uses it.
    ``reading="readme"``
        ``n - int((n - n_min) * size)``: remove ``(n - n_min) * size`` frames, as the original study's
        README words it. It keeps more frames (smallest tag 25, a tag of 100, size 0.5: 63 kept instead
        of 38).

    Multi-label rule: no tag is ever taken below its own target. Tags are processed from most to least
    frequent (original counts, ties by column order). For each tag whose current count is above its target,
    its remaining frames are visited in a seeded random order and a frame is dropped unless it also carries
    another tag whose current count is already at or below that tag's target (such tags, the minority tag
    first among them, are protected); dropping a frame lowers the current count of every tag it carries.
    This stops when the tag reaches its target or no droppable frame is left. So every tag ends at ``>=``
    its target, the minority tag keeps all its frames, and with single-tag data every target is met
    exactly; a tag that shares most frames with protected tags may stay above its target. Rows without any
    tag are kept. Achieved counts: ``tag_counts(Y[idx])`` or :func:`counts_table`.

    Parameters
    ----------
    Y : array-like of shape (n_frames, n_tags)
        0/1 multi-hot matrix of the training frames.
    size : float
        The set's size, in ``(0, 1]``.
    seed : int, default=42
        Non-negative seed; the same ``Y``, size, reading and seed give the same array in any process.
    reading : {"code", "readme"}, default="code"
        Which reading of the original's rule.

    Returns
    -------
    numpy.ndarray
        Row indices into ``Y`` (``int64``), without repeats, shuffled.

    Raises
    ------
    musiclass.errors.ConfigError
        For an invalid ``Y``, ``size``, ``seed`` or ``reading``.
    """
    Y = _check_y(Y)
    s = _check_size(size)
    reading = _check_reading(reading)
    rng = _rng(seed, f"down-{reading}", s)
    counts = Y.sum(axis=0)
    target = downsample_targets(Y, s, reading).tolist()
    current = counts.tolist()
    tags_of = [np.flatnonzero(row).tolist() for row in Y]
    keep = np.ones(Y.shape[0], dtype=bool)
    for t in np.argsort(-counts, kind="stable").tolist():
        if current[t] <= target[t]:
            continue
        for r in rng.permutation(np.flatnonzero(keep & (Y[:, t] == 1))).tolist():
            if any(current[u] <= target[u] for u in tags_of[r] if u != t):
                continue  # would take a protected tag below its target
            keep[r] = False
            for u in tags_of[r]:
                current[u] -= 1
            if current[t] <= target[t]:
                break
    return rng.permutation(np.flatnonzero(keep)).astype(np.int64)


def set_name(kind: str, size: float | None = None) -> str:
    """Name a set: ``"base"``, ``"up-0.25"``, ..., ``"down-1"`` (the size written with ``%g``).

    Parameters
    ----------
    kind : {"base", "up", "down"}
        The kind of set.
    size : float or None, default=None
        The size, in ``(0, 1]``; needed for ``"up"`` and ``"down"``, ignored for ``"base"``.

    Returns
    -------
    str
        The name.

    Raises
    ------
    musiclass.errors.ConfigError
        For an unknown kind, or an ``"up"``/``"down"`` size that is missing or outside ``(0, 1]``.

    Examples
    --------
    >>> from musiclass.resampling import set_name
    >>> set_name("base"), set_name("up", 0.25), set_name("down", 1.0)
    ('base', 'up-0.25', 'down-1')
    """
    if kind == "base":
        return "base"
    if kind not in ("up", "down"):
        raise ConfigError(f"unknown kind of set {kind!r}; expected base, up or down")
    return f"{kind}-{_check_size(size):g}"


def resample_sets(
    Y, sizes: Sequence[float] = SIZES, seed: int = DEFAULT_SEED, reading: str = DEFAULT_READING
) -> dict[str, np.ndarray]:
    """The study's sets: ``"base"``, then ``"up-<s>"`` and ``"down-<s>"`` for each size (9 with :data:`SIZES`).

    ``result["up-0.5"]`` equals ``upsample(Y, 0.5, seed)`` and ``result["down-0.5"]`` equals
    ``downsample(Y, 0.5, seed, reading)``; ``result["base"]`` is :func:`base_set`. Deterministic per seed.

    Parameters
    ----------
    Y : array-like of shape (n_frames, n_tags)
        0/1 multi-hot matrix of the training frames.
    sizes : sequence of float, default=SIZES
        Distinct sizes in ``(0, 1]``.
    seed : int, default=42
        Non-negative seed.
    reading : {"code", "readme"}, default="code"
        The reading of the downsampling rule.

    Returns
    -------
    dict of str to numpy.ndarray
        Set name (:func:`set_name`) to row indices, in the order base, the upsampled sets, the
        downsampled sets.

    Raises
    ------
    musiclass.errors.ConfigError
        For an invalid ``Y``, ``seed`` or ``reading``, or ``sizes`` that are not a non-empty
        sequence of distinct numbers in ``(0, 1]``.
    """
    Y = _check_y(Y)
    _check_seed(seed)
    reading = _check_reading(reading)
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence) or len(sizes) == 0:
        raise ConfigError(f"sizes must be a non-empty sequence of numbers in (0, 1], got {sizes!r}")
    checked = [_check_size(s) for s in sizes]
    names = [set_name("up", s) for s in checked]
    if len(set(names)) != len(names):
        raise ConfigError(f"sizes must be distinct, got {list(sizes)}")
    sets = {"base": base_set(Y, seed)}
    for s in checked:
        sets[set_name("up", s)] = upsample(Y, s, seed)
    for s in checked:
        sets[set_name("down", s)] = downsample(Y, s, seed, reading)
    return sets


def counts_table(Y, sets: Mapping[str, np.ndarray], tags: Sequence[str]) -> pd.DataFrame:
    """Tabulate the frames per tag each set achieved (repeats counted), plus ``frames``, the set's size.

    One row per set (index ``set``, in the order of ``sets``), one ``int64`` column per tag in column order
    of ``Y``, then ``frames``. A frame with several tags counts once for each, so a row's tag counts can sum
    to more than ``frames``.

    Parameters
    ----------
    Y : array-like of shape (n_frames, n_tags)
        0/1 multi-hot matrix of the training frames.
    sets : mapping of str to array-like
        Set name to 1-D integer row indices into ``Y`` (e.g. :func:`resample_sets`).
    tags : sequence of str
        The ``n_tags`` tag names, distinct, none of them ``"frames"``.

    Returns
    -------
    pandas.DataFrame
        The counts (``int64``).

    Raises
    ------
    musiclass.errors.ConfigError
        For an invalid ``Y``, tag names that do not match its columns, repeat, or include
        ``"frames"``, or a set that is not 1-D integer indices within the rows of ``Y``.
    """
    Y = _check_y(Y)
    tags = [str(t) for t in tags]
    if len(tags) != Y.shape[1]:
        raise ConfigError(f"{len(tags)} tag names for a Y with {Y.shape[1]} tags")
    if len(set(tags)) != len(tags) or "frames" in tags:
        raise ConfigError(
            "tag names must be distinct and none may be 'frames' (the set-size column)"
        )
    rows = {}
    for name, idx in sets.items():
        idx = np.asarray(idx)
        if idx.ndim != 1 or (idx.size and not np.issubdtype(idx.dtype, np.integer)):
            raise ConfigError(f"set {name!r}: expected a 1-D array of integer row indices")
        if idx.size and (idx.min() < 0 or idx.max() >= Y.shape[0]):
            raise ConfigError(
                f"set {name!r}: row index out of range for a Y with {Y.shape[0]} rows"
            )
        uses = (
            np.bincount(idx, minlength=Y.shape[0]) if idx.size else np.zeros(Y.shape[0], np.int64)
        )
        rows[str(name)] = [*(uses @ Y).tolist(), int(idx.size)]
    table = pd.DataFrame.from_dict(rows, orient="index", columns=[*tags, "frames"], dtype=np.int64)
    table.index.name = "set"
    return table
