"""Drums: step patterns, kit flavours and the noise/sine one-shots they are played with.

A pattern (:data:`DRUM_PATTERNS`) gives each drum a velocity per sixteenth step of a bar; a kit
(:data:`DRUM_KITS`) parametrises the synthesised one-shots (:func:`make_kit`). Built on
:mod:`.dsp` and :mod:`.common`.
"""

from __future__ import annotations

import functools

import numpy as np

from .common import _rng
from .dsp import _decay_env, bandpass, highpass, lowpass

#: 16-step (one 4/4 bar of sixteenths) patterns; characters give velocity: . 0  g .3  o .6  x .85  X 1
DRUM_PATTERNS: dict[str, dict[str, str]] = {
    "rock": {"kick": "x.......x.x.....", "snare": "....X.......X...", "hat": "x.o.x.o.x.o.x.o."},
    "rock_drive": {
        "kick": "x.x.....x.x.....",
        "snare": "....X.......X...",
        "hat": "xoxoxoxoxoxoxoxo",
    },
    "ballad": {"kick": "x.......x.......", "snare": "....o.......o...", "hat": "x...o...x...o..."},
    "metal": {"kick": "xxxxxxxxxxxxxxxx", "snare": "....X.......X...", "crash": "x...o...x...o..."},
    "metal_gallop": {
        "kick": "x.xxx.xxx.xxx.xx",
        "snare": "....X.......X...",
        "hat": "x.x.x.x.x.x.x.x.",
    },
    "blast": {"kick": "x.x.x.x.x.x.x.x.", "snare": ".x.x.x.x.x.x.x.x", "crash": "x.......x......."},
    "four_floor": {
        "kick": "X...X...X...X...",
        "clap": "....x.......x...",
        "ohat": "..x...x...x...x.",
    },
    "disco": {
        "kick": "X...X...X...X...",
        "snare": "....x.......x...",
        "ohat": "..x...x...x...x.",
        "hat": "x.o.x.o.x.o.x.o.",
    },
    "pop": {"kick": "x.....x.x.......", "clap": "....X.......X...", "hat": "x.o.x.o.x.o.x.o."},
    "pop_synco": {
        "kick": "x..x..x...x.....",
        "snare": "....X.......X...",
        "hat": "xoxoxoxoxoxoxoxo",
    },
    "boombap": {"kick": "x.....x..x.x....", "snare": "....X.......X...", "hat": "x.o.x.o.x.o.x.o."},
    "boombap2": {
        "kick": "x..x......x..x..",
        "snare": "....X.......X...",
        "hat": "x.x.x.x.x.x.x.x.",
    },
    "trap": {"kick": "x......x..x.....", "snare": "........X.......", "hat": "xoxoxoxoxxxxxoxo"},
    "one_drop": {"kick": "........x.......", "rim": "........x.......", "hat": "x.o.x.o.x.o.x.o."},
    "rockers": {"kick": "x...x...x...x...", "rim": "....x.......x...", "hat": "..x...x...x...x."},
    "steppers": {"kick": "x...x...x...x...", "rim": "........x.......", "hat": "x.x.x.x.x.x.x.x."},
    "shuffle": {"kick": "x.......x.......", "snare": "....x.......x...", "hat": "x.o.x.o.x.o.x.o."},
    "slow_blues": {
        "kick": "x.......x.......",
        "snare": "....x.......x...",
        "ride": "x.ox.ox.ox.ox.o.",
    },
    "jazz_ride": {
        "ride": "x...x.ox....x.ox",
        "hat": "....o.......o...",
        "kick": "g...g...g...g...",
    },
    "jazz_brush": {
        "snare": "ogogogogogogogog",
        "ride": "x...x.ox....x.ox",
        "hat": "....o.......o...",
    },
    "train": {"kick": "x.......x.......", "snare": "gogxgogxgogxgogx", "hat": "x.x.x.x.x.x.x.x."},
    "country": {"kick": "x.......x.......", "snare": "....x.......x...", "hat": "x.o.x.o.x.o.x.o."},
    "halftime": {
        "kick": "x.........x.....",
        "snare": "........X.......",
        "hat": "x.x.x.x.x.x.x.x.",
    },
    "waltz": {"kick": "x...........", "snare": "....o...o...", "hat": "x...x...x..."},
    "big": {"tom_low": "X.....x.x.......", "tom": "....x.......x.o.", "crash": "x..............."},
    "big_drive": {
        "tom_low": "X.x.X.x.X.x.X.x.",
        "snare": "....X.......X...",
        "crash": "x.......x.......",
    },
    "soft": {"kick": "x.......o.......", "shaker": "o.g.o.g.o.g.o.g.", "rim": "....o.......o..."},
    "shaker": {"shaker": "xgogxgogxgogxgog"},
}


_VEL = {".": 0.0, "g": 0.3, "o": 0.6, "x": 0.85, "X": 1.0}


#: drum kit flavours: kind -> parameters of the one-shots
DRUM_KITS: dict[str, dict[str, float]] = {
    "acoustic": dict(
        kick_hz=60,
        kick_decay=0.3,
        click=0.3,
        snare_hz=190,
        snare_decay=0.16,
        snare_noise=0.7,
        hat_hp=6000,
        hat_decay=0.045,
        brush=0.0,
    ),
    "brushes": dict(
        kick_hz=65,
        kick_decay=0.2,
        click=0.05,
        snare_hz=200,
        snare_decay=0.25,
        snare_noise=0.95,
        hat_hp=5000,
        hat_decay=0.06,
        brush=1.0,
    ),
    "electronic": dict(
        kick_hz=52,
        kick_decay=0.35,
        click=0.15,
        snare_hz=220,
        snare_decay=0.12,
        snare_noise=0.8,
        hat_hp=8000,
        hat_decay=0.03,
        brush=0.0,
    ),
    "808": dict(
        kick_hz=45,
        kick_decay=0.8,
        click=0.1,
        snare_hz=200,
        snare_decay=0.18,
        snare_noise=0.75,
        hat_hp=9000,
        hat_decay=0.025,
        brush=0.0,
    ),
    "metal": dict(
        kick_hz=70,
        kick_decay=0.18,
        click=0.9,
        snare_hz=240,
        snare_decay=0.14,
        snare_noise=0.6,
        hat_hp=7000,
        hat_decay=0.05,
        brush=0.0,
    ),
    "big": dict(
        kick_hz=50,
        kick_decay=0.6,
        click=0.2,
        snare_hz=180,
        snare_decay=0.3,
        snare_noise=0.7,
        hat_hp=6000,
        hat_decay=0.05,
        brush=0.0,
    ),
    "lofi": dict(
        kick_hz=58,
        kick_decay=0.25,
        click=0.1,
        snare_hz=180,
        snare_decay=0.14,
        snare_noise=0.6,
        hat_hp=4000,
        hat_decay=0.04,
        brush=0.0,
    ),
}


def _kick(sr: int, rng: np.random.Generator, p: dict) -> np.ndarray:
    n = int((p["kick_decay"] * 4 + 0.05) * sr)
    t = np.arange(n) / sr
    f = p["kick_hz"] * (1.0 + 2.5 * np.exp(-t / 0.03))
    body = np.sin(2 * np.pi * np.cumsum(f) / sr) * np.exp(-t / p["kick_decay"])
    click = highpass(rng.standard_normal(n), 1500, sr) * np.exp(-t / 0.004)
    return body + p["click"] * 0.5 * click


def _snare(sr: int, rng: np.random.Generator, p: dict) -> np.ndarray:
    n = int(p["snare_decay"] * 5 * sr)
    t = np.arange(n) / sr
    noise = bandpass(rng.standard_normal(n), 1500, 9000, sr) * np.exp(-t / p["snare_decay"])
    if p["brush"]:
        noise *= np.minimum(t / 0.03, 1.0)  # a swish, not a crack
    tone = np.sin(2 * np.pi * p["snare_hz"] * t) * np.exp(-t / 0.05)
    return p["snare_noise"] * 2.0 * noise + (1 - p["snare_noise"]) * tone


def _hat(sr: int, rng: np.random.Generator, p: dict, decay: float) -> np.ndarray:
    n = int(decay * 5 * sr)
    return highpass(rng.standard_normal(n), p["hat_hp"], sr) * _decay_env(n, sr, decay)


def _metal_plate(sr: int, rng: np.random.Generator, seconds: float, hp: float) -> np.ndarray:
    """Ride or crash: inharmonic square partials plus noise, high-passed, long decay."""
    n = int(seconds * 3 * sr)
    t = np.arange(n) / sr
    tone = sum(
        np.sign(np.sin(2 * np.pi * f * t)) for f in (205.3, 304.4, 369.6, 522.7, 540.0, 800.0)
    )
    x = highpass(0.3 * tone + rng.standard_normal(n), hp, sr)
    return 0.5 * x * _decay_env(n, sr, seconds)


def _clap(sr: int, rng: np.random.Generator) -> np.ndarray:
    n = int(0.3 * sr)
    t = np.arange(n) / sr
    env = np.exp(-t / 0.08)
    for off in (0.0, 0.011, 0.022):
        env += (t >= off) * np.exp(-np.maximum(t - off, 0) / 0.006) * 1.5
    return bandpass(rng.standard_normal(n), 900, 2500, sr) * env


def _tom(sr: int, rng: np.random.Generator, hz: float, decay: float) -> np.ndarray:
    n = int(decay * 5 * sr)
    t = np.arange(n) / sr
    f = hz * (1.0 + 0.6 * np.exp(-t / 0.05))
    body = np.sin(2 * np.pi * np.cumsum(f) / sr) * np.exp(-t / decay)
    return body + 0.3 * lowpass(rng.standard_normal(n), 2000, sr) * np.exp(-t / (decay / 3))


def _rim(sr: int, rng: np.random.Generator) -> np.ndarray:
    n = int(0.08 * sr)
    t = np.arange(n) / sr
    return (
        np.sin(2 * np.pi * 1700 * t) + 0.5 * highpass(rng.standard_normal(n), 3000, sr)
    ) * np.exp(-t / 0.012)


def _shaker(sr: int, rng: np.random.Generator) -> np.ndarray:
    n = int(0.1 * sr)
    t = np.arange(n) / sr
    return highpass(rng.standard_normal(n), 7000, sr) * np.minimum(t / 0.01, 1) * np.exp(-t / 0.03)


_DRUM_GAINS = {
    "hat": 0.35,
    "ohat": 0.35,
    "ride": 0.35,
    "crash": 0.4,
    "shaker": 0.3,
    "rim": 0.5,
    "clap": 0.7,
    "snare": 0.8,
    "kick": 1.0,
    "tom": 0.8,
    "tom_low": 1.0,
}


@functools.lru_cache(maxsize=64)
def _cymbals(kind: str, sr: int) -> dict[str, np.ndarray]:
    """The untuned noise one-shots of a kit: a pure function of ``(kind, sr)``, so cached."""
    rng = _rng(0, "drum-kit", kind, sr)
    p = DRUM_KITS[kind]
    return {
        "clap": _clap(sr, rng),
        "hat": _hat(sr, rng, p, p["hat_decay"]),
        "ohat": _hat(sr, rng, p, p["hat_decay"] * 6),
        "ride": _metal_plate(sr, rng, 0.6, 4000),
        "crash": _metal_plate(sr, rng, 1.2, 3000),
        "rim": _rim(sr, rng),
        "shaker": _shaker(sr, rng),
    }


def make_kit(
    kind: str, sr: int, rng: np.random.Generator, tune: float = 1.0
) -> dict[str, np.ndarray]:
    """The one-shots of a drum kit, tuned and peak-normalised.

    Kick, snare and the two toms are synthesised with ``rng`` and tuned by ``tune``; the
    untuned noise one-shots (clap, closed and open hat, ride, crash, rim, shaker) are a pure
    function of ``(kind, sr)`` and cached. Each one-shot peaks at its mix gain (1.0 for the
    kick and the low tom down to 0.3 for the shaker; a brushed snare 0.45).

    Parameters
    ----------
    kind : str
        Kit flavour, a key of :data:`DRUM_KITS` (``"acoustic"``, ``"brushes"``,
        ``"electronic"``, ``"808"``, ``"metal"``, ``"big"``, ``"lofi"``).
    sr : int > 0
        Sample rate (Hz).
    rng : np.random.Generator
        Source of the tuned drums' noise.
    tune : float > 0
        Pitch factor of kick, snare and toms (1 = the kit's own tuning).

    Returns
    -------
    kit : dict[str, np.ndarray]
        ``{"kick", "snare", "tom", "tom_low", "clap", "hat", "ohat", "ride", "crash", "rim",
        "shaker"}`` -> one-shot, a float64 array of shape ``(m,)`` (lengths differ, 0.08 s for the
        rim up to 3.6 s for the crash).

    Raises
    ------
    KeyError
        If ``kind`` is not in :data:`DRUM_KITS`.
    """
    p = dict(DRUM_KITS[kind])
    p["kick_hz"] *= tune
    p["snare_hz"] *= tune
    kit = dict(_cymbals(kind, sr))
    kit.update(
        kick=_kick(sr, rng, p),
        snare=_snare(sr, rng, p),
        tom=_tom(sr, rng, 140 * tune, 0.25),
        tom_low=_tom(sr, rng, 70 * tune, 0.5 if kind == "big" else 0.3),
    )
    gains = dict(_DRUM_GAINS, snare=0.45 if kind == "brushes" else 0.8)
    return {k: v * (gains[k] / (np.max(np.abs(v)) + 1e-12)) for k, v in kit.items()}


def _place(out: np.ndarray, sample: np.ndarray, starts: np.ndarray, vels: np.ndarray) -> None:
    n = out.size
    for s, v in zip(starts.tolist(), vels.tolist()):
        if 0 <= s < n:
            m = min(sample.size, n - s)
            out[s : s + m] += v * sample[:m]
