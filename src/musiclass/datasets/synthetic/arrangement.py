"""Arrangements: what a piece plays and how it is mixed, and the one renderer of both datasets.

An :class:`Arrangement` (grid, harmony, instrument :class:`PartSpec` s, a :class:`DrumSpec`,
textures and the mix bus :class:`MasterFx`) is built by the genre recipes (:mod:`.genres`) and
the mood generator (:mod:`.mood`); :func:`render_arrangement` composes, renders, mixes and
masters it. Built on :mod:`.compose`, :mod:`.drums`, :mod:`.instruments` and :mod:`.dsp`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ...errors import ConfigError
from .compose import _NoteList, compose_bass, compose_chords, compose_melody
from .constants import PEAK_DBFS
from .drums import _VEL, DRUM_PATTERNS, _place, make_kit
from .dsp import (
    _db,
    _smooth_noise,
    bandpass,
    bitcrush,
    echo,
    formant_filter,
    highpass,
    lowpass,
    reverb,
    saturate,
)
from .harmony import Grid, Harmony, _nearest_with_pc
from .instruments import Notes, Timbre, power_chord_timbre, render_notes


@dataclass
class PartSpec:
    """One instrument part of an arrangement.

    Attributes
    ----------
    role : str
        ``"bass"`` (:func:`~.compose.compose_bass`), ``"chords"`` or ``"pad"``
        (:func:`~.compose.compose_chords`), ``"melody"`` or ``"rap"``
        (:func:`~.compose.compose_melody`, monotone for rap) or ``"drone"`` (root and fifth held
        for four bars).
    style : str
        The bass or chord style of the compose function; for a drone ``"tonic"`` holds the key's
        tonic, anything else the chord root; ignored for melodies (``"-"``). Chords in style
        ``"power"`` are played with :func:`~.instruments.power_chord_timbre`.
    timbre : Timbre
        How the part sounds.
    gain : float > 0
        Mix level: the part is mixed at an RMS of ``0.1 * gain``.
    center : float
        MIDI pitch the chord voicings (and, an octave lower, a drone) are placed around.
    register : (int, int)
        Lowest and highest MIDI pitch of a bass line or melody.
    drive : float >= 0
        Distortion: soft clipping with drive ``8 * drive`` and a 5 kHz cabinet low-pass
        (0 = clean).
    lowpass_hz : float, optional
        Low-pass cutoff (Hz) of the part.
    vowels : tuple of str
        If not empty, each note is sung on one of these vowels (keys of
        :data:`~.dsp.VOWEL_FORMANTS`), drawn at random: a formant filter per vowel.
    density, legato, rest_prob, leap : float
        Melody settings (notes per beat, note length as a share of the gap, share of silent
        phrases, weight of large intervals), see :func:`~.compose.compose_melody`.
    """

    role: str
    style: str
    timbre: Timbre
    gain: float = 1.0
    center: float = 60.0
    register: tuple[int, int] = (60, 79)
    drive: float = 0.0
    lowpass_hz: float | None = None
    vowels: tuple[str, ...] = ()
    density: float = 1.5
    legato: float = 0.85
    rest_prob: float = 0.25
    leap: float = 0.3


@dataclass
class DrumSpec:
    """The drums of an arrangement: a pattern played on a kit, with level and feel.

    Attributes
    ----------
    pattern : str
        A key of :data:`~.drums.DRUM_PATTERNS`.
    kit : str
        A key of :data:`~.drums.DRUM_KITS`.
    gain : float > 0
        Mix level: the drums are mixed at an RMS of ``0.1 * gain``.
    tune : float > 0
        Pitch factor of kick, snare and toms.
    fill_prob : float in [0, 1]
        Chance that each fourth bar ends in a fill (its last beat: snare and toms only).
    ghost_prob : float in [0, 1]
        An empty kick, snare or hat step gets a quiet ghost note (velocity 0.25) with chance
        ``ghost_prob / 2``.
    humanize : float >= 0
        Standard deviation (s) of the hits' timing jitter.
    """

    pattern: str
    kit: str = "acoustic"
    gain: float = 1.0
    tune: float = 1.0
    fill_prob: float = 0.3
    ghost_prob: float = 0.1
    humanize: float = 0.004


@dataclass
class MasterFx:
    """Mix-bus processing of a whole mix (see :func:`render_arrangement`).

    Applied in this order: high-pass, echo, reverb, loudness wander, soft clipping,
    bit-crushing, hiss and crackle, low-pass, DC removal and peak normalisation.

    Attributes
    ----------
    compression : float >= 0
        Soft-clip drive of the whole mix (0 = none).
    lowpass_hz : float > 0
        Recording bandwidth: a fourth-order low-pass cutoff (Hz).
    highpass_hz : float > 0
        First-order high-pass cutoff (Hz).
    reverb_mix : float in [0, 1]
        Wet share of the reverb (0 = off).
    reverb_time : float > 0
        Reverberation time RT60 (s).
    echo_mix : float >= 0
        Level of a four-tap feedback echo (0 = off).
    echo_beats : float > 0
        Echo delay (beats).
    noise_db : float
        Hiss level (dB) relative to the music's RMS; -90 or lower = none.
    crackle : float >= 0
        Vinyl clicks per second.
    bitcrush_bits : int >= 0
        Bit depth of a lo-fi crusher holding every second sample (0 = off).
    dynamics_db : float >= 0
        Depth (dB, about one standard deviation) of a slow loudness wander over about 6 s
        (0 = off).
    peak_db : float <= 0
        Final peak level (dBFS), after the DC offset is removed.
    """

    compression: float = 0.5  # soft-clip drive of the whole mix (0 = none)
    lowpass_hz: float = 11000.0  # recording bandwidth
    highpass_hz: float = 30.0
    reverb_mix: float = 0.15
    reverb_time: float = 1.2
    echo_mix: float = 0.0
    echo_beats: float = 0.75
    noise_db: float = -70.0  # hiss level relative to the music's RMS
    crackle: float = 0.0  # vinyl clicks per second
    bitcrush_bits: int = 0  # 0 = off
    dynamics_db: float = 1.5  # depth of the slow loudness wander
    peak_db: float = PEAK_DBFS  # final peak level (dBFS)


@dataclass
class Arrangement:
    """Everything needed to render one piece (see :func:`render_arrangement`).

    Attributes
    ----------
    grid : Grid
        Musical time (tempo, meter, swing, rubato).
    harmony : Harmony
        Key, scale and chord progression.
    parts : list of PartSpec
        The instrument parts.
    drums : DrumSpec or None
        The drums; ``None`` for none.
    fx : MasterFx
        Mix-bus processing.
    textures : tuple of str
        Non-musical layers: ``"wind"``, ``"rain"``, ``"birds"`` or ``"riser"``.
    drum_drop_prob : float in [0, 1]
        Chance that a bar plays without drums (breaks).
    """

    grid: Grid
    harmony: Harmony
    parts: list[PartSpec]
    drums: DrumSpec | None
    fx: MasterFx
    textures: tuple[str, ...] = ()
    drum_drop_prob: float = 0.05  # chance a bar plays without drums (breaks)


def _compose_part(rng: np.random.Generator, arr: Arrangement, part: PartSpec, n_bars: int) -> Notes:
    if part.role == "bass":
        return compose_bass(rng, arr.grid, arr.harmony, part.style, n_bars, part.register)
    if part.role in ("chords", "pad"):
        return compose_chords(rng, arr.grid, arr.harmony, part.style, n_bars, part.center)
    if part.role in ("melody", "rap"):
        return compose_melody(
            rng,
            arr.grid,
            arr.harmony,
            n_bars,
            register=part.register,
            density=part.density,
            legato=part.legato,
            rest_prob=part.rest_prob,
            leap=part.leap,
            monotone=part.role == "rap",
        )
    if part.role == "drone":
        spb = arr.grid.steps_per_bar
        notes = _NoteList(arr.grid, rng, humanize=0.0)
        for start in range(0, n_bars, 4):
            root_pc, _ = arr.harmony.chord_at(start)
            root = _nearest_with_pc(
                part.center - 12, [arr.harmony.key if part.style == "tonic" else root_pc]
            )
            for m in (root, root + 7):
                notes.add(start * spb, 4 * spb * 0.98, m, 0.6)
        return notes.notes()
    raise ConfigError(f"unknown part role {part.role!r}")


def _render_part(
    rng: np.random.Generator, arr: Arrangement, part: PartSpec, sr: int, n: int, n_bars: int
) -> np.ndarray:
    notes = _compose_part(rng, arr, part, n_bars)
    if part.style == "power":
        part = replace(part, timbre=power_chord_timbre(part.timbre))
    if part.vowels:
        groups = rng.integers(0, len(part.vowels), len(notes))
        y = np.zeros(n)
        for g, vowel in enumerate(part.vowels):
            sub = notes.subset(groups == g)
            if len(sub):
                y += render_notes(
                    sub, part.timbre, sr, n, post=lambda x, v=vowel: formant_filter(x, v, sr)
                )
    else:
        y = render_notes(notes, part.timbre, sr, n)
    if part.drive > 0:
        y = lowpass(saturate(y, part.drive * 8.0), 5000.0, sr)  # amp + cabinet
    if part.lowpass_hz is not None:
        y = lowpass(y, part.lowpass_hz, sr)
    return y


def _render_drums(
    rng: np.random.Generator, arr: Arrangement, sr: int, n: int, n_bars: int
) -> np.ndarray:
    spec = arr.drums
    grid = arr.grid
    kit = make_kit(spec.kit, sr, rng, spec.tune)
    spb = grid.steps_per_bar
    out = np.zeros(n)
    bar_on = rng.random(n_bars) >= arr.drum_drop_prob
    fill_bars = [b for b in range(3, n_bars, 4) if rng.random() < spec.fill_prob]
    for inst, pattern in DRUM_PATTERNS[spec.pattern].items():
        vel = np.asarray([_VEL[c] for c in pattern])
        vel = np.resize(vel, spb) if vel.size != spb else vel
        grid_vel = np.tile(vel, n_bars) * np.repeat(bar_on, spb)
        if spec.ghost_prob > 0 and inst in ("snare", "hat", "kick"):
            ghosts = (grid_vel == 0) & (rng.random(grid_vel.size) < spec.ghost_prob * 0.5)
            grid_vel = np.where(ghosts, 0.25, grid_vel)
        for b in fill_bars:  # last beat of the bar: a fill
            sl = slice(b * spb + spb - 4, b * spb + spb)
            grid_vel[sl] = 0.0 if inst not in ("snare", "tom", "tom_low") else 0.7
        steps = np.flatnonzero(grid_vel > 0)
        if steps.size == 0:
            continue
        times = grid.time(steps) + rng.normal(0.0, spec.humanize, steps.size)
        vels = grid_vel[steps] * np.exp(rng.normal(0.0, 0.1, steps.size))
        _place(out, kit[inst], np.round(np.maximum(times, 0) * sr).astype(np.int64), vels)
    crash_steps = [b * spb for b in range(0, n_bars, 8)]
    _place(
        out,
        kit["crash"],
        np.round(grid.time(crash_steps) * sr).astype(np.int64),
        np.full(len(crash_steps), 0.5),
    )
    return out


def _render_texture(rng: np.random.Generator, name: str, sr: int, n: int) -> np.ndarray:
    """Non-musical layers: ``wind``, ``rain`` (filtered noise), ``birds`` (chirps), ``riser``
    (a noise swell repeating every 6-12 s)."""
    t = np.arange(n) / sr
    if name == "wind":
        amp = 0.5 + 0.5 * np.abs(_smooth_noise(rng, n, sr, 3.0))
        return 0.3 * bandpass(rng.standard_normal(n), 200, 1500, sr, order=2) * amp
    if name == "rain":
        return (
            0.15
            * highpass(rng.standard_normal(n), 2000, sr)
            * (0.7 + 0.3 * np.abs(_smooth_noise(rng, n, sr, 5.0)))
        )
    if name == "birds":
        out = np.zeros(n)
        n_chirps = int(n / sr * rng.uniform(0.5, 2.0))
        for s in rng.integers(0, max(n - sr // 4, 1), n_chirps):
            m = int(rng.uniform(0.05, 0.15) * sr)
            tt = np.arange(m) / sr
            f = rng.uniform(2500, 0.45 * sr) * (
                1 + 0.3 * np.sin(2 * np.pi * rng.uniform(10, 30) * tt)
            )
            out[s : s + m] += (
                0.3 * np.sin(2 * np.pi * np.cumsum(f) / sr) * np.sin(np.pi * tt / tt[-1])
            )
        return out
    if name == "riser":
        period = rng.uniform(6.0, 12.0)
        ramp = (t % period) / period
        return 0.2 * highpass(rng.standard_normal(n), 1000, sr) * ramp**3
    raise ConfigError(f"unknown texture {name!r}")


def _add_noise_floor(rng: np.random.Generator, y: np.ndarray, fx: MasterFx, sr: int) -> np.ndarray:
    rms = float(np.sqrt(np.mean(y**2))) or 1e-3
    if fx.noise_db > -90:
        y = y + _db(fx.noise_db) * rms * rng.standard_normal(y.size, dtype=np.float32)
    if fx.crackle > 0:
        n_clicks = rng.poisson(fx.crackle * y.size / sr)
        pos = rng.integers(0, y.size, n_clicks)
        y[pos] += rng.normal(0.0, 3.0 * rms, n_clicks)
    return y


#: level of a texture layer relative to an instrument part (parts are mixed at RMS 0.1 x gain)
TEXTURE_GAIN = 0.5


def render_arrangement(
    arr: Arrangement, sr: int, duration: float, rng: np.random.Generator, n_bars: int | None = None
) -> np.ndarray:
    """Render an arrangement: compose, render and mix its parts, drums and textures, then master.

    Each part and the drums are normalised to an RMS of ``0.1 x`` their gain, textures added
    at :data:`TEXTURE_GAIN`; the mix bus (:class:`MasterFx`) ends with a peak normalisation.
    Deterministic in ``(arr, sr, duration, n_bars)`` and the state of ``rng``.

    Parameters
    ----------
    arr : Arrangement
        What to play and how to mix it.
    sr : int > 0
        Sample rate (Hz).
    duration : float > 0
        Length (s).
    rng : np.random.Generator
        Source of every random choice of composition, rendering and mastering.
    n_bars : int > 0, optional
        Compose only this many bars (the rest of the buffer holds their tails and silence);
        default: enough to fill ``duration``.

    Returns
    -------
    y : np.ndarray [shape=(round(duration * sr),), dtype=float32]
        Mono samples in [-1, 1] peaking at ``arr.fx.peak_db`` dBFS.

    Raises
    ------
    ConfigError
        If a part's role or style, or a texture, is unknown.
    KeyError
        If the drum pattern or kit, or a vowel, is unknown.
    RuntimeError
        If the mix comes out silent or not finite.
    """
    n = int(round(duration * sr))
    n_bars = arr.grid.n_bars(duration) if n_bars is None else n_bars
    mix = np.zeros(n)
    for part in arr.parts:
        y = _render_part(rng, arr, part, sr, n, n_bars)
        mix += part.gain * y / (np.sqrt(np.mean(y**2)) + 1e-9) * 0.1
    if arr.drums is not None:
        d = _render_drums(rng, arr, sr, n, n_bars)
        mix += arr.drums.gain * d / (np.sqrt(np.mean(d**2)) + 1e-9) * 0.1
    for name in arr.textures:
        mix += TEXTURE_GAIN * _render_texture(rng, name, sr, n)
    return _master(rng, mix, arr, sr)


def _master(rng: np.random.Generator, y: np.ndarray, arr: Arrangement, sr: int) -> np.ndarray:
    fx = arr.fx
    y = highpass(y, fx.highpass_hz, sr, order=1)
    if fx.echo_mix > 0:
        y = echo(y, sr, fx.echo_beats * arr.grid.beat, 0.5, fx.echo_mix)
    y = reverb(y, sr, rng, fx.reverb_time, fx.reverb_mix)
    if fx.dynamics_db > 0:
        y = y * 10.0 ** (fx.dynamics_db * _smooth_noise(rng, y.size, sr, 6.0) / 20.0)
    y = saturate(y, fx.compression)
    if fx.bitcrush_bits:
        y = bitcrush(y, fx.bitcrush_bits, 2)
    y = _add_noise_floor(rng, y, fx, sr)
    y = lowpass(y, fx.lowpass_hz, sr, order=4)
    y = y - np.mean(y)
    peak = float(np.max(np.abs(y)))
    if not np.isfinite(peak) or peak <= 0:
        raise RuntimeError("synthesis produced silence or non-finite samples")
    return (y * (_db(fx.peak_db) / peak)).astype(np.float32)


ROLE_GAINS = {
    "bass": 0.8,
    "chords": 0.6,
    "pad": 0.45,
    "melody": 0.8,
    "rap": 0.9,
    "growl": 0.9,
    "drone": 0.5,
}
