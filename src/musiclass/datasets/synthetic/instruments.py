"""Instruments: timbres, note lists and the vectorised wavetable renderer.

A :class:`Timbre` says how an instrument sounds (harmonic spectrum, envelope, vibrato, inharmonic
partials); :data:`TIMBRES` is the palette the genre recipes and mood profiles refer to by name.
:func:`render_notes` turns a :class:`Notes` list into samples, vectorised over all notes of a
part. Imports no sibling module.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

TABLE_SIZE = 4096  # samples per wavetable cycle (a power of two: the top bits of a 32-bit phase)


@dataclass(frozen=True)
class Timbre:
    """How one instrument sounds: spectrum, envelope, vibrato, inharmonic partials.

    Attributes
    ----------
    slope : float
        Harmonic ``k`` has amplitude ``k ** -slope`` (1 = sawtooth-like, 2 = mellow).
    n_harmonics : int > 0
        Number of harmonics (further limited to those below 0.45 x the sample rate).
    even : float >= 0
        Gain of the even harmonics (0 = square/clarinet-like, 1 = all harmonics).
    amps : tuple of float, optional
        Explicit harmonic amplitudes (harmonic 1 first); overrides ``slope``, ``n_harmonics``
        and ``even``.
    dull_slope : float, optional
        If set, the spectrum fades from ``slope`` to ``dull_slope`` with time constant
        ``bright_decay`` (a plucked or struck string).
    bright_decay : float > 0
        Time constant (s) of that fade.
    attack : float >= 0
        Attack time (s), a linear ramp.
    decay : float > 0
        Time constant (s) of the decay towards ``sustain``.
    sustain : float in [0, 1]
        Sustain level (linear); below :data:`SUSTAIN_EPS` the note is percussive and decays to
        exactly zero.
    release : float > 0
        Time constant (s) of the release after the note ends (capped, see :data:`MAX_TAIL`).
    vibrato_rate : float >= 0
        Vibrato rate (Hz).
    vibrato_depth : float >= 0
        Vibrato depth as a fraction of the frequency.
    partials : tuple of (float, float, float)
        ``(frequency ratio, gain, decay scale)`` copies of the wave (inharmonic bells); the
        default is the wave itself once.
    detune_cents : float >= 0
        Makes it an ensemble, heard as the slow beating of a copy detuned by that many cents.
    """

    slope: float = 1.0
    n_harmonics: int = 12
    even: float = 1.0
    amps: tuple[float, ...] | None = None
    dull_slope: float | None = None
    bright_decay: float = 0.3
    attack: float = 0.01
    decay: float = 1.0
    sustain: float = 1.0
    release: float = 0.1
    vibrato_rate: float = 0.0
    vibrato_depth: float = 0.0
    partials: tuple[tuple[float, float, float], ...] = ((1.0, 1.0, 1.0),)
    detune_cents: float = 0.0


#: the instrument palette (genre recipes and mood profiles refer to these names)
TIMBRES: dict[str, Timbre] = {
    "piano": Timbre(
        slope=1.1,
        n_harmonics=14,
        dull_slope=2.8,
        bright_decay=0.25,
        attack=0.004,
        decay=1.3,
        sustain=0.0,
        release=0.3,
    ),
    "epiano": Timbre(
        amps=(1.0, 0.25, 0.05),
        dull_slope=5.0,
        bright_decay=0.08,
        attack=0.003,
        decay=1.6,
        sustain=0.0,
        release=0.3,
        partials=((1.0, 1.0, 1.0), (7.0, 0.12, 0.08)),
    ),
    "organ": Timbre(
        amps=(1.0, 0.8, 0.6, 0.5, 0.0, 0.3, 0.0, 0.3),
        attack=0.01,
        sustain=1.0,
        release=0.05,
        vibrato_rate=6.5,
        vibrato_depth=0.002,
    ),
    "clav": Timbre(
        slope=0.6,
        n_harmonics=16,
        dull_slope=2.0,
        bright_decay=0.05,
        attack=0.002,
        decay=0.25,
        sustain=0.0,
        release=0.03,
    ),
    "ac_guitar": Timbre(
        slope=0.9,
        n_harmonics=16,
        dull_slope=2.4,
        bright_decay=0.12,
        attack=0.002,
        decay=0.9,
        sustain=0.0,
        release=0.1,
    ),
    "clean_guitar": Timbre(
        slope=1.3,
        n_harmonics=12,
        dull_slope=2.6,
        bright_decay=0.2,
        attack=0.003,
        decay=1.2,
        sustain=0.0,
        release=0.1,
    ),
    "jazz_guitar": Timbre(
        slope=2.0,
        n_harmonics=8,
        dull_slope=3.2,
        bright_decay=0.15,
        attack=0.004,
        decay=1.0,
        sustain=0.0,
        release=0.1,
    ),
    "banjo": Timbre(
        slope=0.7,
        n_harmonics=18,
        dull_slope=2.0,
        bright_decay=0.05,
        attack=0.001,
        decay=0.3,
        sustain=0.0,
        release=0.05,
    ),
    "steel": Timbre(
        slope=1.2,
        n_harmonics=12,
        attack=0.02,
        decay=2.0,
        sustain=0.4,
        release=0.3,
        vibrato_rate=5.5,
        vibrato_depth=0.006,
    ),
    "dist_guitar": Timbre(
        slope=0.7, n_harmonics=14, attack=0.004, decay=0.6, sustain=0.8, release=0.08
    ),
    "strings": Timbre(
        slope=1.0,
        n_harmonics=16,
        attack=0.25,
        sustain=1.0,
        release=0.35,
        vibrato_rate=5.5,
        vibrato_depth=0.004,
        detune_cents=9.0,
    ),
    "pizzicato": Timbre(
        slope=1.5,
        n_harmonics=10,
        dull_slope=3.0,
        bright_decay=0.05,
        attack=0.002,
        decay=0.25,
        sustain=0.0,
        release=0.05,
    ),
    "violin": Timbre(
        slope=0.9,
        n_harmonics=16,
        attack=0.08,
        sustain=1.0,
        release=0.2,
        vibrato_rate=6.0,
        vibrato_depth=0.008,
    ),
    "brass": Timbre(
        slope=0.9,
        n_harmonics=14,
        attack=0.06,
        decay=0.5,
        sustain=0.85,
        release=0.15,
        vibrato_rate=5.0,
        vibrato_depth=0.003,
        detune_cents=5.0,
    ),
    "trumpet": Timbre(
        slope=0.8,
        n_harmonics=16,
        attack=0.04,
        decay=0.4,
        sustain=0.8,
        release=0.1,
        vibrato_rate=5.5,
        vibrato_depth=0.005,
    ),
    "sax": Timbre(
        slope=0.9,
        n_harmonics=14,
        even=0.6,
        attack=0.03,
        decay=0.5,
        sustain=0.85,
        release=0.1,
        vibrato_rate=5.0,
        vibrato_depth=0.01,
    ),
    "flute": Timbre(
        amps=(1.0, 0.3, 0.1, 0.05),
        attack=0.06,
        sustain=1.0,
        release=0.15,
        vibrato_rate=5.0,
        vibrato_depth=0.006,
    ),
    "clarinet": Timbre(slope=1.0, n_harmonics=11, even=0.1, attack=0.03, sustain=1.0, release=0.1),
    "harmonica": Timbre(
        slope=0.8,
        n_harmonics=10,
        even=0.3,
        attack=0.02,
        sustain=0.9,
        release=0.08,
        vibrato_rate=6.0,
        vibrato_depth=0.02,
    ),
    "synth_saw": Timbre(
        slope=1.0,
        n_harmonics=24,
        attack=0.01,
        decay=0.4,
        sustain=0.75,
        release=0.15,
        detune_cents=12.0,
    ),
    "synth_square": Timbre(
        slope=1.0, n_harmonics=15, even=0.0, attack=0.002, decay=0.3, sustain=0.7, release=0.03
    ),
    "pluck": Timbre(
        slope=1.0,
        n_harmonics=16,
        dull_slope=3.0,
        bright_decay=0.06,
        attack=0.002,
        decay=0.35,
        sustain=0.0,
        release=0.05,
    ),
    "pad": Timbre(
        slope=1.6,
        n_harmonics=10,
        attack=0.8,
        sustain=1.0,
        release=0.8,
        detune_cents=10.0,
        vibrato_rate=0.3,
        vibrato_depth=0.002,
    ),
    "choir": Timbre(
        slope=1.2,
        n_harmonics=20,
        attack=0.3,
        sustain=1.0,
        release=0.6,
        vibrato_rate=5.0,
        vibrato_depth=0.006,
        detune_cents=8.0,
    ),
    "vocal": Timbre(
        slope=1.0,
        n_harmonics=28,
        attack=0.05,
        decay=0.6,
        sustain=0.85,
        release=0.12,
        vibrato_rate=5.5,
        vibrato_depth=0.012,
    ),
    "rap": Timbre(
        slope=0.9,
        n_harmonics=30,
        attack=0.01,
        decay=0.12,
        sustain=0.3,
        release=0.05,
        vibrato_rate=3.0,
        vibrato_depth=0.02,
    ),
    "bells": Timbre(
        amps=(1.0,),
        attack=0.001,
        decay=1.8,
        sustain=0.0,
        release=0.5,
        partials=((1.0, 1.0, 1.0), (2.76, 0.5, 0.5), (5.4, 0.3, 0.3), (8.93, 0.15, 0.2)),
    ),
    "glock": Timbre(
        amps=(1.0,),
        attack=0.001,
        decay=0.7,
        sustain=0.0,
        release=0.2,
        partials=((1.0, 1.0, 1.0), (4.0, 0.35, 0.3)),
    ),
    "marimba": Timbre(
        amps=(1.0, 0.1),
        attack=0.002,
        decay=0.35,
        sustain=0.0,
        release=0.05,
        partials=((1.0, 1.0, 1.0), (3.9, 0.25, 0.2)),
    ),
    "harp": Timbre(
        slope=2.0,
        n_harmonics=8,
        dull_slope=3.2,
        bright_decay=0.2,
        attack=0.002,
        decay=1.2,
        sustain=0.0,
        release=0.3,
    ),
    "drone": Timbre(
        slope=1.4,
        n_harmonics=10,
        attack=2.0,
        sustain=1.0,
        release=2.0,
        detune_cents=6.0,
        vibrato_rate=0.2,
        vibrato_depth=0.003,
    ),
    "bass_finger": Timbre(
        slope=1.8,
        n_harmonics=8,
        dull_slope=3.0,
        bright_decay=0.1,
        attack=0.004,
        decay=0.8,
        sustain=0.25,
        release=0.06,
    ),
    "bass_upright": Timbre(
        slope=2.2, n_harmonics=6, attack=0.006, decay=0.45, sustain=0.1, release=0.08
    ),
    "bass_synth": Timbre(
        slope=1.0, n_harmonics=12, attack=0.004, decay=0.3, sustain=0.7, release=0.05
    ),
    "bass_sub": Timbre(amps=(1.0, 0.08), attack=0.005, decay=1.0, sustain=0.6, release=0.15),
    "bass_dist": Timbre(
        slope=0.9, n_harmonics=12, attack=0.004, decay=0.5, sustain=0.8, release=0.06
    ),
}


def vary_timbre(t: Timbre, rng: np.random.Generator, amount: float = 0.15) -> Timbre:
    """A variant of a timbre, for per-artist and per-clip variation.

    ``slope``, ``dull_slope``, ``bright_decay``, ``attack``, ``decay``, ``release`` and
    ``vibrato_depth`` are each multiplied by an independent log-normal factor
    ``exp(N(0, amount))``; the other fields are kept.

    Parameters
    ----------
    t : Timbre
        The timbre to vary.
    rng : np.random.Generator
        Source of the factors (advanced by six or seven normal draws).
    amount : float >= 0
        Standard deviation of the log factors (0.15: about +-15 %).

    Returns
    -------
    Timbre
        The varied copy (``t`` is frozen and left unchanged).
    """

    def s(x: float) -> float:  # a closure, not API; numpydoc ignore=GL08
        return float(x * np.exp(rng.normal(0.0, amount)))

    return replace(
        t,
        slope=s(t.slope),
        dull_slope=None if t.dull_slope is None else s(t.dull_slope),
        bright_decay=s(t.bright_decay),
        attack=s(t.attack),
        decay=s(t.decay),
        release=s(t.release),
        vibrato_depth=s(t.vibrato_depth),
    )


def _harmonic_amps(t: Timbre, slope: float, max_harmonics: int) -> np.ndarray:
    if t.amps is not None:
        a = np.asarray(t.amps, dtype=float)[: max(1, max_harmonics)]
    else:
        k = np.arange(1, max(1, min(t.n_harmonics, max_harmonics)) + 1, dtype=float)
        a = k**-slope
        a[1::2] *= t.even
    return a


def _wavetable(amps: np.ndarray) -> np.ndarray:
    """One cycle (``TABLE_SIZE`` samples, peak 1, float32) of the harmonic series ``amps``."""
    phase = np.arange(TABLE_SIZE) * (2.0 * np.pi / TABLE_SIZE)
    table = np.zeros(TABLE_SIZE)
    for k, a in enumerate(amps, start=1):
        if a:
            table += a * np.sin(k * phase)
    return (table / max(np.max(np.abs(table)), 1e-9)).astype(np.float32)


@dataclass
class Notes:
    """A list of note events, as parallel float arrays.

    Attributes
    ----------
    onset : np.ndarray [shape=(m,)]
        Note start times (s).
    dur : np.ndarray [shape=(m,)]
        Note durations (s), until the release starts.
    pitch : np.ndarray [shape=(m,)]
        Pitches (MIDI note numbers, may be fractional).
    vel : np.ndarray [shape=(m,)]
        Velocities: linear gains, about 0-1.
    """

    onset: np.ndarray
    dur: np.ndarray
    pitch: np.ndarray
    vel: np.ndarray

    @classmethod
    def from_lists(cls, onset, dur, pitch, vel) -> Notes:
        """Notes from four equally long sequences, converted to float64 arrays.

        Parameters
        ----------
        onset, dur, pitch, vel : array-like [shape=(m,)]
            Onsets (s), durations (s), MIDI pitches and velocities.

        Returns
        -------
        Notes
            The note list.
        """
        return cls(
            np.asarray(onset, float),
            np.asarray(dur, float),
            np.asarray(pitch, float),
            np.asarray(vel, float),
        )

    @classmethod
    def empty(cls) -> Notes:
        """A list of no notes.

        Returns
        -------
        Notes
            Four empty float64 arrays.
        """
        return cls.from_lists([], [], [], [])

    def __len__(self) -> int:
        return int(self.onset.size)

    def subset(self, mask: np.ndarray) -> Notes:
        """The notes selected by a boolean mask or an index array.

        Parameters
        ----------
        mask : np.ndarray [shape=(m,), dtype=bool] or np.ndarray of int
            Which notes to keep (an index array also reorders them).

        Returns
        -------
        Notes
            The selected notes.
        """
        return Notes(self.onset[mask], self.dur[mask], self.pitch[mask], self.vel[mask])


def midi_to_hz(pitch) -> np.ndarray:
    """Frequency of MIDI pitch(es), in equal temperament with 69 = A4 = 440 Hz.

    Parameters
    ----------
    pitch : float or array-like
        MIDI note number(s), may be fractional.

    Returns
    -------
    hz : np.ndarray [shape=pitch.shape, dtype=float64]
        Frequencies (Hz); a 0-d value for a scalar ``pitch``.
    """
    return 440.0 * 2.0 ** ((np.asarray(pitch, dtype=float) - 69.0) / 12.0)


#: notes are rendered in chunks of about this many samples (keeps temporaries in cache)
RENDER_CHUNK = 1 << 16


_PHASE_BITS = 32  # fixed-point phase: one cycle = 2**32
_TABLE_SHIFT = _PHASE_BITS - int(math.log2(TABLE_SIZE))


def render_notes(
    notes: Notes,
    timbre: Timbre,
    sr: int,
    n: int,
    post: Callable[[np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """Render ``notes`` with ``timbre`` into a buffer of ``n`` samples at ``sr`` Hz.

    The notes' sounding samples (onset to the end of the release) are computed back to back in a
    flat buffer, vectorised over chunks of notes (about :data:`RENDER_CHUNK` samples each), then
    summed into place with :func:`numpy.bincount`, so any polyphony costs only the samples that
    sound. A note sounds until :data:`RELEASE_TAIL` release times after its end, a percussive one
    at most :data:`DECAY_TAIL` decay times after its onset; the envelopes reach exactly zero
    there. Onsets before 0 start at 0; samples past ``n`` are cut.

    Parameters
    ----------
    notes : Notes
        The notes to play (any order).
    timbre : Timbre
        How they sound; harmonics above 0.45 x ``sr`` for the highest note are left out.
    sr : int > 0
        Sample rate (Hz).
    n : int >= 0
        Length of the output (samples).
    post : callable, optional
        ``post(sig) -> sig``, applied to each chunk's flat float32 buffer
        (shape ``(k,)`` in, same shape out) before it is summed in: a formant filter, for instance.

    Returns
    -------
    y : np.ndarray [shape=(n,), dtype=float64]
        The rendered part (not normalised); zeros when no note sounds inside the buffer.
    """
    out = np.zeros(n)
    if len(notes) == 0:
        return out
    notes = notes.subset(np.argsort(notes.onset, kind="stable"))  # chunks then cover short spans
    start = np.clip(np.round(notes.onset * sr).astype(np.int64), 0, None)
    release = min(timbre.release, MAX_TAIL / RELEASE_TAIL)
    ring = notes.dur + RELEASE_TAIL * release
    if timbre.sustain < SUSTAIN_EPS:
        max_decay = timbre.decay * max(p[2] for p in timbre.partials)
        ring = np.minimum(ring, DECAY_TAIL * max_decay + timbre.attack)
    length = np.minimum(np.ceil(ring * sr).astype(np.int64), n - start)
    keep = length > 0
    if not keep.any():
        return out
    start, length = start[keep], length[keep]
    hz = midi_to_hz(notes.pitch[keep])
    max_h = int(0.45 * sr / max(float(hz.max()), 1.0))
    tables = (
        _wavetable(_harmonic_amps(timbre, timbre.slope, max_h)),
        None
        if timbre.dull_slope is None
        else _wavetable(_harmonic_amps(timbre, timbre.dull_slope, max_h)),
    )
    voice = _Voice(timbre, release, sr, tables)
    ends = np.cumsum(length)
    bounds = np.searchsorted(
        ends, np.arange(RENDER_CHUNK, int(ends[-1]), RENDER_CHUNK), side="left"
    )
    lo = 0
    for hi in [*np.unique(bounds + 1).tolist(), start.size]:
        hi = min(hi, start.size)
        if hi <= lo:
            continue
        sl = slice(lo, hi)
        k = _ramp(length[sl])
        sig = voice.render(k, hz[sl], notes.dur[keep][sl], notes.vel[keep][sl], length[sl])
        if post is not None:
            sig = post(sig)
        first = int(start[lo])
        acc = np.bincount(np.repeat(start[sl] - first, length[sl]) + k, weights=sig)
        out[first : first + acc.size] += acc
        lo = hi
    return out


#: a note sounds until RELEASE_TAIL release times after its end, a percussive one (sustain below
#: SUSTAIN_EPS) at most DECAY_TAIL decay times after its onset; the envelopes are shifted to reach
#: exactly zero there, so cutting the tails never clicks. Releases are capped at MAX_TAIL seconds.
RELEASE_TAIL = 3.0


DECAY_TAIL = 4.0
MAX_TAIL = 0.75
SUSTAIN_EPS = 0.02


def _ramp(length: np.ndarray) -> np.ndarray:
    """0, 1, ..., length[0]-1, 0, 1, ..., length[1]-1, ... (int64)."""
    total = int(length.sum())
    return np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(length) - length, length)


@dataclass
class _Voice:
    """Renders chunks of notes of one timbre (see :func:`render_notes`)."""

    timbre: Timbre
    release: float
    sr: int
    tables: tuple

    def render(
        self, k: np.ndarray, hz: np.ndarray, dur: np.ndarray, vel: np.ndarray, length: np.ndarray
    ) -> np.ndarray:
        """The flat float32 samples of some notes; ``k`` = sample index since each onset."""
        tb, sr = self.timbre, self.sr
        f32 = np.float32
        t = k.astype(f32) * f32(1.0 / sr)  # seconds since the onset
        gate = np.maximum(t - np.repeat(dur.astype(f32), length), f32(0.0))
        env = np.maximum(
            np.exp(gate * f32(-1.0 / self.release)) - f32(math.exp(-RELEASE_TAIL)), f32(0.0)
        )
        env *= np.minimum(t * f32(1.0 / max(tb.attack, 1e-4)), f32(1.0))
        env *= np.repeat(vel.astype(f32), length)
        if tb.detune_cents > 0:
            # an ensemble (a detuned copy) heard as its beating: a slow amplitude modulation
            beat_hz = np.repeat(
                (hz * (2.0 ** (tb.detune_cents / 1200.0) - 1.0)).astype(f32), length
            )
            env *= f32(0.7) + f32(0.3) * np.cos(f32(2.0 * np.pi) * beat_hz * t)
        bright, dull = self.tables
        mix = None if dull is None else np.exp(t * f32(-1.0 / max(tb.bright_decay, 1e-3)))
        wobble = None
        if tb.vibrato_depth > 0 and tb.vibrato_rate > 0:
            w = 2.0 * np.pi * tb.vibrato_rate
            wobble = (f32(1.0) - np.cos(f32(w) * t)) * f32(tb.vibrato_depth / w * 2.0**_PHASE_BITS)
        k32 = k.astype(np.uint32)
        sig = np.zeros(k.size, dtype=f32)
        for ratio, gain, dscale in tb.partials:
            f = hz * ratio
            audible = f < 0.45 * sr  # inharmonic partials above Nyquist are dropped
            if not audible.any():
                continue
            inc = np.mod(np.round(f / sr * 2.0**_PHASE_BITS), 2.0**_PHASE_BITS).astype(np.uint32)
            phase = k32 * np.repeat(inc, length)  # uint32 arithmetic wraps once per cycle
            if wobble is not None:  # the vibrato's integral, in fixed-point cycles
                phase += (
                    (wobble * np.repeat(f.astype(f32), length)).astype(np.int64).astype(np.uint32)
                )
            ix = phase >> np.uint32(_TABLE_SHIFT)
            wave = bright[ix] if dull is None else dull[ix] + mix * (bright[ix] - dull[ix])
            amp = self._amplitude(t, gain, dscale)
            if not audible.all():
                amp = amp * np.repeat(audible.astype(f32), length)
            sig += amp * wave
        sig *= env
        return sig

    def _amplitude(self, t: np.ndarray, gain: float, dscale: float):
        tb = self.timbre
        f32 = np.float32
        if tb.sustain >= 0.999:
            return f32(gain)
        decay = np.exp(t * f32(-1.0 / max(tb.decay * dscale, 1e-3)))
        if tb.sustain < SUSTAIN_EPS:  # percussive: decays to exactly zero at DECAY_TAIL
            return np.maximum(decay - f32(math.exp(-DECAY_TAIL)), f32(0.0)) * f32(gain)
        return (decay * f32(1.0 - tb.sustain) + f32(tb.sustain)) * f32(gain)


def power_chord_timbre(t: Timbre) -> Timbre:
    """A timbre whose note at pitch ``p`` sounds like ``t`` playing a power chord an octave up.

    Root, fifth and octave (``p + 12``, ``p + 19``, ``p + 24``) are harmonics 2, 3 and 4 of
    ``p``, so the three notes' spectra (up to 64 harmonics of ``t`` each) add up to one
    wavetable: one rendered note per chord.

    Parameters
    ----------
    t : Timbre
        The instrument playing the chord.

    Returns
    -------
    Timbre
        ``t`` with explicit ``amps`` (``4 k`` harmonics of ``p``, ``k <= 64`` the number of
        harmonics of ``t``) and no spectral fade (``dull_slope=None``).
    """
    a = _harmonic_amps(t, t.slope, 64)
    amps = np.zeros(4 * a.size)
    for mult in (2, 3, 4):
        amps[mult * np.arange(1, a.size + 1) - 1] += a
    return replace(t, amps=tuple(amps.tolist()), dull_slope=None)


#: (lo, hi) MIDI register of lead instruments
LEAD_REGISTERS: dict[str, tuple[int, int]] = {
    "vocal": (55, 76),
    "rap": (43, 55),
    "sax": (52, 76),
    "trumpet": (58, 82),
    "violin": (62, 88),
    "flute": (67, 91),
    "clarinet": (52, 79),
    "piano": (60, 86),
    "strings": (60, 84),
    "steel": (60, 84),
    "harmonica": (60, 84),
    "synth_saw": (60, 84),
    "synth_square": (64, 88),
    "bells": (72, 91),
    "glock": (76, 96),
    "marimba": (60, 84),
    "brass": (55, 79),
    "choir": (57, 74),
}
