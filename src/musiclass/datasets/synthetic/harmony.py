"""Musical time and harmony: the step grid, chord qualities, scales and chord progressions.

:class:`Grid` maps sixteenth steps to seconds (tempo, meter, swing, rubato); :class:`Harmony`
holds a key, a melody scale and a progression of :data:`PROGRESSIONS`. Pitches are MIDI note
numbers, pitch classes 0-11 (0 = C). Imports no sibling module.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np


@dataclass
class Grid:
    """Musical time: tempo, bars of ``beats_per_bar`` beats, 4 steps (sixteenths) a beat.

    Attributes
    ----------
    tempo : float > 0
        Tempo (BPM).
    beats_per_bar : int > 0
        Beats per bar (4, or 3 for a waltz).
    swing : float in [0, 1]
        Delays the off-beat eighths: 0 straight, 1 a triplet feel (the off-beat at 2/3 of the
        beat).
    rubato : float >= 0
        Slow tempo wander: times are shifted by ``rubato * P / (2 pi) * sin(2 pi t / P +
        rubato_phase)``, ``P`` the length of 8 bars, so the tempo varies by about +-``rubato``
        (a fraction; 0 = strict time).
    rubato_phase : float
        Phase (radians) of that wander.
    """

    tempo: float
    beats_per_bar: int = 4
    swing: float = 0.0
    rubato: float = 0.0
    rubato_phase: float = 0.0

    @property
    def steps_per_bar(self) -> int:
        """Steps (sixteenths) per bar: ``4 * beats_per_bar``.

        Returns
        -------
        int
            ``4 * beats_per_bar``.
        """
        return 4 * self.beats_per_bar

    @property
    def beat(self) -> float:
        """Length of one beat (s): ``60 / tempo``.

        Returns
        -------
        float
            ``60 / tempo``, in seconds.
        """
        return 60.0 / self.tempo

    def n_bars(self, duration: float) -> int:
        """Bars needed to fill ``duration`` seconds, plus one (for the notes' tails).

        Parameters
        ----------
        duration : float > 0
            Length to fill (s).

        Returns
        -------
        int
            ``ceil(duration / bar length) + 1``.
        """
        return int(math.ceil(duration / (self.beat * self.beats_per_bar))) + 1

    def time(self, step) -> np.ndarray:
        """Seconds at (possibly fractional) step index(es), with swing and rubato applied.

        Parameters
        ----------
        step : float or array-like
            Step index(es): 0 is the first sixteenth of bar 0, ``steps_per_bar`` the first of bar 1.

        Returns
        -------
        t : np.ndarray [shape=step.shape, dtype=float64]
            Times (s) since the start of bar 0.
        """
        step = np.asarray(step, dtype=float)
        beat = np.floor(step / 4.0)
        frac = step / 4.0 - beat
        mid = 0.5 + self.swing / 6.0  # where the off-beat eighth lands
        warped = np.where(frac < 0.5, frac / 0.5 * mid, mid + (frac - 0.5) / 0.5 * (1.0 - mid))
        t = (beat + warped) * self.beat
        if self.rubato > 0:
            period = 8 * self.beats_per_bar * self.beat
            t = t + self.rubato * period / (2 * np.pi) * np.sin(
                2 * np.pi * t / period + self.rubato_phase
            )
        return t


#: chord qualities as semitones above the root
CHORD_QUALITIES: dict[str, tuple[int, ...]] = {
    "maj": (0, 4, 7),
    "min": (0, 3, 7),
    "7": (0, 4, 7, 10),
    "m7": (0, 3, 7, 10),
    "maj7": (0, 4, 7, 11),
    "5": (0, 7, 12),
    "dim": (0, 3, 6),
    "sus2": (0, 2, 7),
    "9": (0, 4, 7, 10, 14),
    "m9": (0, 3, 7, 10, 14),
    "6": (0, 4, 7, 9),
    "add9": (0, 4, 7, 14),
    "cluster": (0, 1, 6, 7),
}


#: scales as semitones above the tonic
SCALES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "harmonic_minor": (0, 2, 3, 5, 7, 8, 11),
    "blues": (0, 3, 5, 6, 7, 10),
    "major_pent": (0, 2, 4, 7, 9),
    "minor_pent": (0, 3, 5, 7, 10),
    "chromatic": tuple(range(12)),
}


def _prog(text: str) -> tuple[tuple[int, str], ...]:
    """Parse ``"0:maj 7:maj 9:min 5:maj"`` (root semitones above the key : quality)."""
    out = []
    for item in text.split():
        root, quality = item.split(":")
        out.append((int(root), quality))
    return tuple(out)


#: chord progressions: name -> (scale of the melody, chords)
PROGRESSIONS: dict[str, tuple[str, tuple[tuple[int, str], ...]]] = {
    "pop_axis": ("major", _prog("0:maj 7:maj 9:min 5:maj")),
    "pop_50s": ("major", _prog("0:maj 9:min 5:maj 7:maj")),
    "pop_minor": ("minor", _prog("0:min 8:maj 3:maj 10:maj")),
    "three_chord": ("major", _prog("0:maj 5:maj 7:maj 5:maj")),
    "country": ("major_pent", _prog("0:maj 0:maj 5:maj 7:maj")),
    "country2": ("major", _prog("0:maj 5:maj 0:maj 7:7")),
    "rock_mixo": ("mixolydian", _prog("0:maj 10:maj 5:maj 0:maj")),
    "rock_power": ("minor_pent", _prog("0:5 10:5 5:5 3:5")),
    "rock_minor": ("minor", _prog("0:min 10:maj 8:maj 10:maj")),
    "blues12": ("blues", _prog("0:7 0:7 0:7 0:7 5:7 5:7 0:7 0:7 7:7 5:7 0:7 7:7")),
    "blues_minor": ("blues", _prog("0:m7 0:m7 5:m7 0:m7 8:7 7:7 0:m7 7:7")),
    "metal_phryg": ("phrygian", _prog("0:5 1:5 0:5 10:5")),
    "metal_minor": ("minor", _prog("0:5 8:5 10:5 0:5")),
    "metal_chrom": ("harmonic_minor", _prog("0:5 6:5 5:5 3:5")),
    "jazz_251": ("major", _prog("2:m7 7:7 0:maj7 9:7")),
    "jazz_minor": ("dorian", _prog("0:m7 5:7 10:maj7 3:maj7 8:maj7 2:m7 7:7 0:m7")),
    "jazz_rhythm": ("major", _prog("0:6 9:m7 2:m7 7:9")),
    "disco_vamp": ("dorian", _prog("0:m7 5:m7")),
    "disco_major": ("major", _prog("0:maj7 2:m7 4:m7 5:maj7")),
    "funk_minor": ("dorian", _prog("0:m9 0:m9 5:9 5:9")),
    "hiphop_loop": ("minor", _prog("0:m7 8:maj7")),
    "hiphop_soul": ("dorian", _prog("0:m7 5:m7 3:maj7 10:7")),
    "hiphop_dark": ("harmonic_minor", _prog("0:min 0:min 8:maj 7:maj")),
    "reggae_two": ("major", _prog("0:maj 5:maj")),
    "reggae_minor": ("minor", _prog("0:min 10:maj")),
    "reggae_three": ("major", _prog("0:maj 5:maj 7:maj 5:maj")),
    "classical_major": ("major", _prog("0:maj 5:maj 7:maj 0:maj 9:min 2:min 7:7 0:maj")),
    "classical_minor": ("harmonic_minor", _prog("0:min 5:min 7:7 0:min 8:maj 2:dim 7:7 0:min")),
    "pachelbel": ("major", _prog("0:maj 7:maj 9:min 4:min 5:maj 0:maj 5:maj 7:maj")),
    "epic_minor": ("minor", _prog("0:min 8:maj 3:maj 10:maj")),
    "sad_minor": ("minor", _prog("0:min 5:min 8:maj 7:min")),
    "dark_drone": ("phrygian", _prog("0:min 1:maj 0:min 0:min")),
    "horror": ("chromatic", _prog("0:cluster 1:dim 6:cluster 0:dim")),
    "happy_major": ("major", _prog("0:maj 5:maj 0:maj 7:maj")),
    "uplift": ("major", _prog("5:maj 7:maj 9:min 0:maj")),
    "dreamy": ("major", _prog("0:maj7 5:maj7")),
    "modal_calm": ("major_pent", _prog("0:add9 5:add9 9:min 7:sus2")),
    "groove": ("dorian", _prog("0:m7 0:m7 5:7 5:7")),
    "christmas": ("major", _prog("0:maj 0:maj 5:maj 0:maj 7:7 0:maj 2:m7 7:7")),
}


@dataclass
class Harmony:
    """The key, the melody scale and a chord progression.

    Attributes
    ----------
    key : int in [0, 12)
        Tonic pitch class (0 = C).
    scale : tuple of int
        The melody scale, semitones above the tonic (a value of :data:`SCALES`).
    chords : tuple of (int, str)
        The progression, ``(root semitones above the key, quality)`` pairs, qualities keys of
        :data:`CHORD_QUALITIES` (the second item of a :data:`PROGRESSIONS` value); it repeats.
    bars_per_chord : float > 0
        How long each chord lasts (bars): 0.5, 1 or 2.
    """

    key: int
    scale: tuple[int, ...]
    chords: tuple[tuple[int, str], ...]
    bars_per_chord: float = 1.0

    def chord_at(self, bar: float) -> tuple[int, tuple[int, ...]]:
        """The chord sounding at a (fractional) bar.

        Parameters
        ----------
        bar : float >= 0
            Position in bars (1.5 = the middle of the second bar).

        Returns
        -------
        root : int in [0, 12)
            Root pitch class.
        intervals : tuple of int
            The chord's semitones above the root.
        """
        i = int(math.floor(bar / self.bars_per_chord + 1e-9)) % len(self.chords)
        root, quality = self.chords[i]
        return (self.key + root) % 12, CHORD_QUALITIES[quality]

    def chord_pcs(self, bar: float) -> set[int]:
        """The pitch classes of the chord sounding at a (fractional) bar.

        Parameters
        ----------
        bar : float >= 0
            Position in bars.

        Returns
        -------
        set of int
            Pitch classes in [0, 12).
        """
        root, ivs = self.chord_at(bar)
        return {(root + i) % 12 for i in ivs}

    def scale_notes(self, lo: int, hi: int) -> np.ndarray:
        """The MIDI pitches of the scale within a register.

        Parameters
        ----------
        lo, hi : int
            Lowest and highest MIDI pitch (inclusive).

        Returns
        -------
        pitches : np.ndarray [shape=(k,)]
            Ascending MIDI pitches in ``[lo, hi]`` whose pitch class is in the scale (int; an empty
            float array when there are none).
        """
        pcs = {(self.key + s) % 12 for s in self.scale}
        return np.asarray([m for m in range(lo, hi + 1) if m % 12 in pcs])


def _nearest_with_pc(target: float, pcs: Iterable[int]) -> int:
    """The MIDI pitch nearest ``target`` whose pitch class is in ``pcs``."""
    best, best_d = int(round(target)), 1e9
    for pc in pcs:
        base = int(round(target)) - ((int(round(target)) - pc) % 12)
        for m in (base, base + 12):
            d = abs(m - target)
            if d < best_d:
                best, best_d = m, d
    return best


def _voicing(root_pc: int, intervals: tuple[int, ...], center: float) -> list[int]:
    """Chord tones packed within about an octave around ``center`` (MIDI)."""
    root = _nearest_with_pc(center - 4, [root_pc])
    notes = []
    for iv in intervals:
        m = root + iv
        while m > center + 8:
            m -= 12
        while m < center - 8:
            m += 12
        notes.append(m)
    return sorted(set(notes))
