"""Deterministic random streams and the argument checks shared by every generator.

Each clip, track, artist and plan draws from its own :class:`numpy.random.Generator`, derived
from ``(seed, *keys)`` with :class:`numpy.random.SeedSequence` (:func:`_rng`), so results do not
depend on the order or the process in which items are rendered. The ``_check_*`` helpers
validate the public entry points' arguments and raise :class:`~musiclass.errors.ConfigError`.
A bottom layer: it imports no sibling module.
"""

from __future__ import annotations

import math
import zlib

import numpy as np

from ...errors import ConfigError


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def _key(part) -> int:
    """A stable 32-bit integer for a seed-sequence key (``hash()`` is salted per process)."""
    if isinstance(part, (int, np.integer)) and not isinstance(part, bool):
        return int(part) & 0xFFFFFFFF
    return zlib.crc32(str(part).encode("utf-8"))


def _rng(seed: int, *keys) -> np.random.Generator:
    """An independent generator for ``(seed, *keys)``: same keys, same stream, in any process."""
    return np.random.default_rng(np.random.SeedSequence([_check_seed(seed), *map(_key, keys)]))


def _pick(rng: np.random.Generator, options: dict) -> object:
    """One key of ``options`` drawn with the values as weights."""
    keys = list(options)
    w = np.asarray([options[k] for k in keys], dtype=float)
    return keys[int(rng.choice(len(keys), p=w / w.sum()))]


def _uniform(rng: np.random.Generator, lo_hi: tuple[float, float]) -> float:
    return float(rng.uniform(*lo_hi))


def _log_uniform(rng: np.random.Generator, lo_hi: tuple[float, float]) -> float:
    return float(np.exp(rng.uniform(np.log(lo_hi[0]), np.log(lo_hi[1]))))


def _check_index(index, limit: int, what: str) -> int:
    if (
        isinstance(index, bool)
        or not isinstance(index, (int, np.integer))
        or not 0 <= index < limit
    ):
        raise ConfigError(f"{what} must be an integer in [0, {limit}), got {index!r}")
    return int(index)


def _check_duration(value, what: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.floating, np.integer))
        or not math.isfinite(value)
        or value < 1.0
        or value > 3600.0
    ):
        raise ConfigError(f"{what} must be a number of seconds in [1, 3600], got {value!r}")
    return float(value)


def _check_count(value, what: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not lo <= value <= hi:
        raise ConfigError(f"{what} must be an integer in [{lo}, {hi}], got {value!r}")
    return int(value)
