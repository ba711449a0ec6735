"""Composition: bass lines, accompaniments and melodies as note lists.

Pure functions of the generator, the :class:`~.harmony.Grid` and the
:class:`~.harmony.Harmony`: they return :class:`~.instruments.Notes` (onsets and durations in
seconds, MIDI pitches, velocities) and render nothing. Built on :mod:`.harmony` and
:mod:`.instruments`.
"""

from __future__ import annotations

import math

import numpy as np

from ...errors import ConfigError
from .harmony import Grid, Harmony, _nearest_with_pc, _voicing
from .instruments import Notes


class _NoteList:
    """Accumulates note events, then turns them into :class:`Notes`."""

    def __init__(self, grid: Grid, rng: np.random.Generator, humanize: float = 0.006):
        self.grid, self.rng, self.humanize = grid, rng, humanize
        self.steps: list[float] = []
        self.lens: list[float] = []
        self.pitches: list[float] = []
        self.vels: list[float] = []

    def add(self, step: float, length_steps: float, pitch: float, vel: float) -> None:
        self.steps.append(step)
        self.lens.append(length_steps)
        self.pitches.append(pitch)
        self.vels.append(vel)

    def notes(self) -> Notes:
        if not self.steps:
            return Notes.empty()
        steps = np.asarray(self.steps)
        on = self.grid.time(steps)
        off = self.grid.time(steps + np.asarray(self.lens))
        on = on + self.rng.normal(0.0, self.humanize, on.size)
        vel = np.clip(np.asarray(self.vels) * np.exp(self.rng.normal(0, 0.12, on.size)), 0.05, 1.2)
        return Notes(
            np.maximum(on, 0.0), np.maximum(off - on, 0.02), np.asarray(self.pitches, float), vel
        )


def compose_bass(
    rng: np.random.Generator,
    grid: Grid,
    harmony: Harmony,
    style: str,
    n_bars: int,
    register: tuple[int, int] = (33, 50),
) -> Notes:
    """A bass line over the harmony, one pattern per beat.

    Parameters
    ----------
    rng : np.random.Generator
        Source of the choices and of the timing and velocity humanisation.
    grid : Grid
        Musical time.
    harmony : Harmony
        Key and chords; the line follows each beat's chord root.
    style : str
        ``"root"`` (a note per beat), ``"eighths"``, ``"root_fifth"``, ``"walking"`` (chord and
        passing tones, approaching the next root), ``"octave"``, ``"sub"`` (long low notes),
        ``"reggae"`` (beat 1 left empty), ``"sustained"`` (a note per bar), ``"synco"`` or
        ``"boogie"``.
    n_bars : int >= 0
        Number of bars to fill.
    register : (int, int)
        Lowest and highest MIDI pitch aimed at (roots are placed just below its middle).

    Returns
    -------
    Notes
        The bass notes, onsets and durations in seconds.

    Raises
    ------
    ConfigError
        If ``style`` is unknown (and ``n_bars > 0``).
    """
    nl = _NoteList(grid, rng)
    center = 0.5 * (register[0] + register[1])
    spb = grid.steps_per_bar
    for bar in range(n_bars):
        for beat in range(grid.beats_per_bar):
            step = bar * spb + beat * 4
            root_pc, ivs = harmony.chord_at(bar + beat / grid.beats_per_bar)
            root = _nearest_with_pc(center - 3, [root_pc])
            fifth = root + 7 if root + 7 <= register[1] + 2 else root - 5
            if style == "root":
                nl.add(step, 3.2, root, 0.9)
            elif style == "eighths":
                nl.add(step, 1.6, root, 0.9)
                nl.add(step + 2, 1.6, root, 0.75)
            elif style == "root_fifth":
                nl.add(step, 3.0, root if beat % 2 == 0 else fifth, 0.9)
            elif style == "walking":
                chord_tones = [root + i for i in ivs]
                if beat == 0:
                    p = root
                elif beat == grid.beats_per_bar - 1:  # approach the next root
                    nxt, _ = harmony.chord_at(bar + 1)
                    p = _nearest_with_pc(center - 3, [nxt]) + int(rng.choice([-1, 1, 2]))
                else:
                    p = int(rng.choice(chord_tones + [root + 2, root + 5]))
                nl.add(step, 3.6, p, 0.8)
            elif style == "octave":
                nl.add(step, 1.5, root, 0.9)
                nl.add(step + 2, 1.5, root + 12, 0.8)
            elif style == "sub":
                if beat == 0:
                    nl.add(
                        step, 4 * grid.beats_per_bar * 0.6, root - 12 if root > 40 else root, 1.0
                    )
                elif beat == 2 and rng.random() < 0.6:
                    nl.add(step + 2, 5.0, root - 12 if root > 40 else root, 0.8)
            elif style == "reggae":
                if beat == 0:
                    continue  # the "one drop": beat 1 stays empty
                nl.add(step, 1.8, root if beat != 2 else fifth, 0.9)
                if rng.random() < 0.5:
                    nl.add(step + 2, 1.5, root + int(rng.choice([0, 3, 5, 7])), 0.7)
            elif style == "sustained":
                if beat == 0:
                    nl.add(step, spb * 0.98, root, 0.7)
            elif style == "synco":
                for off, v in ((0, 0.9), (6, 0.7), (8, 0.85), (14, 0.6)):
                    if beat == 0:
                        nl.add(step + off, 1.8, root, v)
            elif style == "boogie":
                walk = (0, 4, 7, 9, 10, 9, 7, 4)
                nl.add(step, 1.8, root + walk[(2 * beat) % 8], 0.85)
                nl.add(step + 2, 1.8, root + walk[(2 * beat + 1) % 8], 0.7)
            else:
                raise ConfigError(f"unknown bass style {style!r}")
    return nl.notes()


def compose_chords(
    rng: np.random.Generator,
    grid: Grid,
    harmony: Harmony,
    style: str,
    n_bars: int,
    center: float = 60.0,
) -> Notes:
    """An accompaniment: the chords voiced around ``center`` and played in a pattern.

    Parameters
    ----------
    rng : np.random.Generator
        Source of the choices and of the timing and velocity humanisation.
    grid : Grid
        Musical time.
    harmony : Harmony
        Key and chords.
    style : str
        ``"block"`` (held to the next change), ``"strum"``, ``"skank"`` (off-beats),
        ``"comp"`` (sparse jazz comping), ``"arpeggio"``, ``"arp16"`` (sixteenths over two
        octaves), ``"power"`` (one note a chord, to be played with
        :func:`~.instruments.power_chord_timbre`), ``"stabs"``, ``"pulse"``, ``"bubble"`` or
        ``"funk"``.
    n_bars : int >= 0
        Number of bars to fill.
    center : float
        MIDI pitch the voicings are packed around (within about an octave).

    Returns
    -------
    Notes
        The chord notes, onsets and durations in seconds.

    Raises
    ------
    ConfigError
        If ``style`` is unknown (and ``n_bars > 0``).
    """
    nl = _NoteList(grid, rng)
    spb = grid.steps_per_bar
    for bar in range(n_bars):
        for beat in range(grid.beats_per_bar):
            pos = bar + beat / grid.beats_per_bar
            root_pc, ivs = harmony.chord_at(pos)
            voicing = _voicing(root_pc, ivs, center)
            step = bar * spb + beat * 4

            def chord(at: float, length: float, vel: float, stagger: float = 0.0) -> None:
                for j, m in enumerate(voicing):  # noqa: B023 (called in this iteration)
                    nl.add(at + j * stagger, length, m, vel)

            if style == "block":  # held until the next change (or bar)
                per_chord = min(harmony.bars_per_chord, 1.0)
                if abs(pos / per_chord - round(pos / per_chord)) < 1e-9:
                    chord(step, spb * per_chord * 0.97, 0.6)
            elif style == "strum":
                chord(step, 3.5, 0.75, stagger=0.12)
                if rng.random() < 0.6:
                    chord(step + 2, 1.8, 0.5, stagger=0.1)
            elif style == "skank":
                chord(step + 2, 0.9, 0.8)
            elif style == "bubble":
                chord(step + 1, 0.7, 0.45)
                chord(step + 3, 0.7, 0.55)
            elif style == "comp":
                for off in (0, 2):
                    if rng.random() < 0.35:
                        chord(step + off + (1 if rng.random() < 0.4 else 0), 1.5, 0.55)
            elif style == "arpeggio":
                for off in (0, 2):
                    i = (2 * beat + off // 2) % (2 * len(voicing) - 2 or 1)
                    seq = voicing + voicing[-2:0:-1]
                    nl.add(step + off, 3.0, seq[i % len(seq)], 0.6)
            elif style == "arp16":
                seq = voicing + [v + 12 for v in voicing]
                for off in range(4):
                    nl.add(step + off, 1.5, seq[(4 * beat + off) % len(seq)], 0.5)
            elif style == "power":
                # root + fifth + octave = harmonics 2, 3, 4 of the octave below: one note with the
                # power-chord wavetable (see power_chord_timbre)
                for off in (0, 2):
                    nl.add(step + off, 1.7, voicing[0] - 12, 0.8)
            elif style == "stabs":
                chord(step + 2, 1.0, 0.75)
                if rng.random() < 0.3:
                    chord(step + 3, 0.8, 0.5)
            elif style == "pulse":
                chord(step, 1.8, 0.6)
                chord(step + 2, 1.8, 0.45)
            elif style == "funk":
                for off in range(4):
                    if (off % 2 == 1) or rng.random() < 0.4:
                        chord(step + off, 0.5, 0.5 if off % 2 == 0 else 0.7)
            else:
                raise ConfigError(f"unknown chord style {style!r}")
    return nl.notes()


def compose_melody(
    rng: np.random.Generator,
    grid: Grid,
    harmony: Harmony,
    n_bars: int,
    *,
    register: tuple[int, int] = (60, 79),
    density: float = 1.5,
    legato: float = 0.85,
    rest_prob: float = 0.25,
    phrase_bars: int = 2,
    leap: float = 0.3,
    monotone: bool = False,
) -> Notes:
    """A phrase-structured melody over the harmony.

    A rhythm and a contour of ``phrase_bars`` bars are drawn once and repeated over the changes
    with variation (mutated steps, dropped notes); notes on the beat snap to a chord tone.

    Parameters
    ----------
    rng : np.random.Generator
        Source of the motif, its variations and the humanisation.
    grid : Grid
        Musical time.
    harmony : Harmony
        Key, scale and chords.
    n_bars : int >= 0
        Number of bars to fill.
    register : (int, int)
        Lowest and highest MIDI pitch.
    density : float > 0
        Notes per beat (about).
    legato : float in (0, 1]
        Each note lasts this share of the time to the next one.
    rest_prob : float in [0, 1]
        Share of silent phrases.
    phrase_bars : int > 0
        Length of the motif (bars).
    leap : float >= 0
        Weight of large intervals (3-4 scale steps) in the contour.
    monotone : bool
        Keep the pitch near one note (rap).

    Returns
    -------
    Notes
        The melody, onsets and durations in seconds; empty if the scale has no note in
        ``register``.
    """
    nl = _NoteList(grid, rng, humanize=0.01)
    scale = harmony.scale_notes(*register)
    if scale.size == 0:
        return Notes.empty()
    spb = grid.steps_per_bar
    phrase_steps = phrase_bars * spb
    unit = 1 if density > 2.2 else 2
    cand = np.arange(0, phrase_steps, unit)
    p_on = np.clip(density * unit / 4.0, 0.05, 0.95)
    weight = np.where(cand % 4 == 0, 1.25, np.where(cand % 2 == 0, 1.0, 0.8))
    rhythm = cand[rng.random(cand.size) < np.minimum(p_on * weight, 0.98)]
    if rhythm.size == 0:
        rhythm = np.asarray([0])
    steps_choices = np.asarray([-1, 1, -2, 2, 0, -3, 3, -4, 4])
    steps_probs = np.asarray(
        [0.22, 0.22, 0.13, 0.13, 0.1, 0.5 * leap, 0.5 * leap, 0.25 * leap, 0.25 * leap]
    )
    contour = rng.choice(steps_choices, size=rhythm.size, p=steps_probs / steps_probs.sum())
    if monotone:
        contour = rng.choice([-1, 0, 0, 0, 1], size=rhythm.size)
    pos = int(scale.size // 2)
    for phrase in range(int(math.ceil(n_bars / phrase_bars))):
        if rng.random() < rest_prob:
            continue
        mutate = rng.random(rhythm.size) < 0.2
        cont = np.where(mutate, rng.choice(steps_choices, size=rhythm.size), contour)
        keep = rng.random(rhythm.size) > 0.1
        base = phrase * phrase_steps
        on = rhythm[keep]
        for j, (st, c) in enumerate(zip(on, cont[keep])):
            pos = int(np.clip(pos + c, 0, scale.size - 1))
            if pos in (0, scale.size - 1):
                pos = int(np.clip(pos - np.sign(c) * 2, 0, scale.size - 1))
            pitch = int(scale[pos])
            bar = (base + st) / spb
            if st % 4 == 0 and not monotone:
                pitch = _nearest_with_pc(pitch, harmony.chord_pcs(bar))
                pos = int(np.argmin(np.abs(scale - pitch)))
            nxt = on[j + 1] if j + 1 < on.size else phrase_steps
            nl.add(base + st, max((nxt - st) * legato, 0.5), pitch, 0.75)
    return nl.notes()
