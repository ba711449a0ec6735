"""Synthetic GTZAN- and MTG-Jamendo-shaped datasets, rendered procedurally (no download).

The package's embedded default data. Two generators write the **real on-disk layouts**, so the real
loaders, the feature extraction and every model run on them unchanged:

:func:`make_gtzan`
    ``root/genres/<genre>/<genre>.NNNNN.wav`` (22,050 Hz mono, 16-bit PCM, 30 s) plus
    ``root/artists.csv``. Each genre has its own musical recipe (tempo, drum pattern, instruments,
    harmony, swing, distortion, recording quality); each synthetic *artist* fixes a style inside the
    recipe that a few consecutive clips share, and some artists borrow parts of a neighbouring
    genre's recipe, so rock, country and blues (or disco and pop, hiphop and reggae) overlap as
    in the real GTZAN.
:func:`make_jamendo`
    ``root/autotagging_moodtheme.tsv``, ``root/splits/split-0/autotagging_moodtheme-*.tsv`` and the
    audio ``root/NN/ID.mp3`` (16,000 Hz mono MP3), in the exact format of the MTG-Jamendo mood/theme
    subset. Every track first draws its tags (the real 59-tag frequencies and number-of-tags
    distribution), then its musical parameters from the tags' audible profiles (tempo, mode,
    loudness, brightness, density, reverb, instruments) plus noise.
:func:`make_all`
    both, under ``root/gtzan`` and ``root/mtg-jamendo``.

Everything is deterministic: each clip's random generator is derived from ``(seed, dataset, item)``
with :class:`numpy.random.SeedSequence`, so the same arguments write byte-identical files whatever
the number of worker processes (``jobs``). Rendering is vectorised NumPy (wavetable notes with
envelopes, noise-based drums, SciPy filters and an FFT reverb); the pure helpers
:func:`render_genre_clip` and :func:`render_mood_track` return the audio in memory.

Units: times in seconds, frequencies in Hz, pitches in MIDI note numbers, levels as linear gains
unless a name ends in ``_db``.
"""

from __future__ import annotations

import functools
import math
import os
import zlib
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import scipy.signal
import soundfile as sf

from ...errors import ConfigError
from ...utils import atomic_path, write_text_atomic
from ..gtzan import GENRES
from ..jamendo import SPLIT_DROPPED_TAGS as _JAMENDO_SPLIT_DROPPED

# =============================================================================================
# Public constants
# =============================================================================================

#: the ten GTZAN genres, alphabetical (the label order of the original study)
GTZAN_GENRES: tuple[str, ...] = GENRES

#: tracks per tag in the real MTG-Jamendo mood/theme subset (18,486 tracks, 59 tags)
MOODTHEME_TAG_COUNTS: dict[str, int] = {
    "happy": 1657,
    "film": 1502,
    "energetic": 1357,
    "relaxing": 1350,
    "emotional": 1271,
    "melodic": 1213,
    "dark": 1202,
    "epic": 982,
    "dream": 951,
    "love": 909,
    "inspiring": 877,
    "sad": 749,
    "meditative": 742,
    "uplifting": 693,
    "advertising": 673,
    "deep": 635,
    "motivational": 635,
    "romantic": 627,
    "christmas": 623,
    "documentary": 612,
    "corporate": 609,
    "positive": 539,
    "summer": 505,
    "space": 503,
    "background": 496,
    "soundscape": 480,
    "fun": 480,
    "soft": 465,
    "ambiental": 460,
    "calm": 457,
    "children": 456,
    "adventure": 448,
    "upbeat": 444,
    "melancholic": 441,
    "slow": 437,
    "commercial": 428,
    "drama": 424,
    "movie": 413,
    "action": 407,
    "ballad": 334,
    "dramatic": 317,
    "sport": 297,
    "trailer": 270,
    "party": 266,
    "game": 261,
    "nature": 259,
    "cool": 251,
    "powerful": 238,
    "hopeful": 216,
    "retro": 213,
    "funny": 203,
    "groovy": 194,
    "holiday": 176,
    "travel": 171,
    "horror": 158,
    "heavy": 156,
    "mellow": 154,
    "sexy": 122,
    "fast": 119,
}

#: tags of the full subset that the official split files drop (they keep 56 tags)
SPLIT_DROPPED_TAGS: tuple[str, ...] = _JAMENDO_SPLIT_DROPPED

#: the real distribution of the number of tags per track (5 stands for "5 or more")
TAGS_PER_TRACK_PROBS: dict[int, float] = {1: 0.54, 2: 0.28, 3: 0.11, 4: 0.05, 5: 0.02}

#: tag prefix in the MTG-Jamendo TSV files
TAG_PREFIX = "mood/theme---"

#: header of every MTG-Jamendo TSV file
JAMENDO_HEADER = ("TRACK_ID", "ARTIST_ID", "ALBUM_ID", "PATH", "DURATION", "TAGS")

#: split-0 part sizes of the real files (fractions of the tracks kept in the split files)
SPLIT_FRACTIONS: dict[str, float] = {"train": 0.55, "validation": 0.21, "test": 0.24}

#: bumped whenever the generator's output changes (callers use it to invalidate written sets)
GENERATOR_VERSION = 1

GTZAN_SAMPLE_RATE = 22_050  # Hz
GTZAN_DURATION = 30.0  # s
MAX_CLIPS_PER_GENRE = 100  # as in the real GTZAN
JAMENDO_SAMPLE_RATE = 16_000  # Hz, the MP3s' rate (MPEG-2 layer III)
DEFAULT_CLIPS_PER_GENRE = 20
DEFAULT_N_TRACKS = 160
DEFAULT_MIN_DURATION = 30.0  # s
DEFAULT_MAX_DURATION = 180.0  # s

PEAK_DBFS = -1.0  # loudest clips peak here; quieter ones lower (see MasterFx.peak_db)

# =============================================================================================
# Seeding
# =============================================================================================


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


def _db(x_db: float) -> float:
    return float(10.0 ** (x_db / 20.0))


# =============================================================================================
# Timbres and note rendering (wavetable synthesis, vectorised over all notes of a part)
# =============================================================================================

TABLE_SIZE = 4096  # samples per wavetable cycle (a power of two: the top bits of a 32-bit phase)


@dataclass(frozen=True)
class Timbre:
    """How one instrument sounds.

    Harmonic ``k`` has amplitude ``k ** -slope`` (``amps`` overrides), even harmonics are scaled by
    ``even``; with ``dull_slope`` set the spectrum fades from ``slope`` to ``dull_slope`` with time
    constant ``bright_decay`` (a plucked or struck string). ``partials`` lists
    ``(frequency ratio, gain, decay scale)`` copies of the wave (inharmonic bells); ``detune_cents``
    makes it an ensemble (heard as the slow beating of a copy detuned by that much). Envelope
    times in seconds (attack, decay towards ``sustain``, release after the note ends), sustain a
    linear level, vibrato rate in Hz and depth as a fraction of the frequency.
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

#: vowel formants (Hz) for the voice-like timbres
VOWEL_FORMANTS: dict[str, tuple[float, float, float]] = {
    "a": (730.0, 1090.0, 2440.0),
    "e": (530.0, 1840.0, 2480.0),
    "i": (300.0, 2250.0, 3000.0),
    "o": (570.0, 840.0, 2410.0),
    "u": (320.0, 870.0, 2240.0),
}


def vary_timbre(t: Timbre, rng: np.random.Generator, amount: float = 0.15) -> Timbre:
    """A variant of ``t``: slopes, envelope times and vibrato scaled by up to ``amount`` (relative)."""

    def s(x: float) -> float:
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
    """A list of note events, as parallel arrays: onset and duration (s), pitch (MIDI), velocity (0-1)."""

    onset: np.ndarray
    dur: np.ndarray
    pitch: np.ndarray
    vel: np.ndarray

    @classmethod
    def from_lists(cls, onset, dur, pitch, vel) -> Notes:
        return cls(
            np.asarray(onset, float),
            np.asarray(dur, float),
            np.asarray(pitch, float),
            np.asarray(vel, float),
        )

    @classmethod
    def empty(cls) -> Notes:
        return cls.from_lists([], [], [], [])

    def __len__(self) -> int:
        return int(self.onset.size)

    def subset(self, mask: np.ndarray) -> Notes:
        """The notes selected by a boolean mask or an index array."""
        return Notes(self.onset[mask], self.dur[mask], self.pitch[mask], self.vel[mask])


def midi_to_hz(pitch) -> np.ndarray:
    """Frequency (Hz) of MIDI pitch(es); 69 = A4 = 440 Hz."""
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
    """Render ``notes`` with ``timbre`` into a float64 buffer of ``n`` samples at ``sr`` Hz.

    The notes' sounding samples (onset to the end of the release) are computed back to back in a
    flat buffer, vectorised over chunks of notes, then summed into place with
    :func:`numpy.bincount`, so any polyphony costs only the samples that sound. ``post``, if
    given, filters each chunk of the flat buffer (a formant filter, for instance).
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


# =============================================================================================
# Filters and effects
# =============================================================================================


def _sos(kind: str, hz, sr: int, order: int = 2) -> np.ndarray:
    """Second-order sections of a Butterworth filter (designs are cached: they repeat a lot)."""
    key = tuple(round(float(h), 3) for h in hz) if kind == "bandpass" else round(float(hz), 3)
    return _sos_cached(kind, key, int(sr), int(order))


@functools.lru_cache(maxsize=4096)
def _sos_cached(kind: str, hz, sr: int, order: int) -> np.ndarray:
    nyq = 0.5 * sr
    if kind == "bandpass":
        lo, hi = (min(max(h, 20.0), 0.95 * nyq) for h in hz)
        return scipy.signal.butter(
            order, [lo, max(hi, lo * 1.05)], btype="bandpass", fs=sr, output="sos"
        )
    return scipy.signal.butter(
        order, min(max(hz, 20.0), 0.95 * nyq), btype=kind, fs=sr, output="sos"
    )


def lowpass(x: np.ndarray, hz: float, sr: int, order: int = 2) -> np.ndarray:
    """Butterworth low-pass at ``hz`` (no-op above 0.45 x ``sr``)."""
    if hz >= 0.45 * sr:
        return x
    return scipy.signal.sosfilt(_sos("lowpass", hz, sr, order), x)


def highpass(x: np.ndarray, hz: float, sr: int, order: int = 2) -> np.ndarray:
    """Butterworth high-pass at ``hz``."""
    return scipy.signal.sosfilt(_sos("highpass", hz, sr, order), x)


def bandpass(x: np.ndarray, lo: float, hi: float, sr: int, order: int = 1) -> np.ndarray:
    return scipy.signal.sosfilt(_sos("bandpass", (lo, hi), sr, order), x)


def saturate(x: np.ndarray, drive: float) -> np.ndarray:
    """Soft clipping ``tanh(g x) / g`` with gain ``g = 1 + drive`` on a peak-normalised copy."""
    if drive <= 0:
        return x
    peak = float(np.max(np.abs(x)))
    if peak <= 0:
        return x
    g = 1.0 + drive
    return np.tanh(g * (x / peak)) * (peak / np.tanh(g))


def formant_filter(x: np.ndarray, vowel: str, sr: int) -> np.ndarray:
    """A voice-like colour: ``x`` through three parallel band-passes at the vowel's formants."""
    out = 0.15 * x
    for f, gain in zip(VOWEL_FORMANTS[vowel], (1.0, 0.6, 0.3)):
        out = out + gain * bandpass(x, f / 1.2, f * 1.2, sr)
    return out


def reverb(
    x: np.ndarray,
    sr: int,
    rng: np.random.Generator,
    seconds: float,
    mix: float,
    damping_hz: float = 5000.0,
) -> np.ndarray:
    """Convolution reverb with a decaying-noise impulse response (``seconds`` = RT60)."""
    if mix <= 0 or seconds <= 0:
        return x
    n_ir = max(int(seconds * sr), 16)
    tt = np.arange(n_ir) / sr
    ir = rng.standard_normal(n_ir) * np.exp(-6.9 * tt / seconds)
    ir = lowpass(ir, damping_hz, sr, order=1)
    ir[: int(0.01 * sr)] *= np.linspace(0.0, 1.0, int(0.01 * sr))  # 10 ms pre-delay fade-in
    ir /= np.sqrt(np.sum(ir**2)) + 1e-12
    wet = scipy.signal.fftconvolve(x.astype(np.float32), ir.astype(np.float32))[: x.size]
    return (1.0 - mix) * x + mix * wet * (np.std(x) / (np.std(wet) + 1e-12))


def echo(
    x: np.ndarray, sr: int, delay: float, feedback: float, mix: float, taps: int = 4
) -> np.ndarray:
    """A feedback delay (dub echo): ``taps`` repeats ``delay`` seconds apart."""
    if mix <= 0:
        return x
    d = int(delay * sr)
    wet = np.zeros_like(x)
    for i in range(1, taps + 1):
        if i * d >= x.size:
            break
        wet[i * d :] += (feedback ** (i - 1)) * x[: x.size - i * d]
    return x + mix * wet


def bitcrush(x: np.ndarray, bits: int, hold: int) -> np.ndarray:
    """Retro lo-fi: quantise to ``bits`` and sample-and-hold every ``hold`` samples."""
    peak = float(np.max(np.abs(x))) or 1.0
    q = 2.0 ** (bits - 1)
    y = np.round(x / peak * q) / q * peak
    if hold > 1:
        y = np.repeat(y[::hold], hold)[: x.size]
    return y


def _smooth_noise(rng: np.random.Generator, n: int, sr: int, period: float) -> np.ndarray:
    """Zero-mean, unit-std noise that changes over ``period`` seconds (cubic-free linear interpolation)."""
    knots = max(int(n / (period * sr)) + 2, 2)
    vals = rng.standard_normal(knots)
    return np.interp(np.linspace(0.0, knots - 1.0, n), np.arange(knots), vals)


# =============================================================================================
# Drums: noise/sine one-shots placed on a step grid
# =============================================================================================

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


def _decay_env(n: int, sr: int, seconds: float) -> np.ndarray:
    return np.exp(-np.arange(n) / (max(seconds, 1e-3) * sr))


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
    """The one-shots of a drum kit (``kind`` in :data:`DRUM_KITS`), drums tuned by factor ``tune``."""
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


# =============================================================================================
# Time grid and harmony
# =============================================================================================


@dataclass
class Grid:
    """Musical time: ``tempo`` (BPM), bars of ``beats_per_bar`` beats, 4 steps (sixteenths) a beat.

    ``swing`` (0 straight .. 1 triplet feel) delays the off-beat eighths; ``rubato`` (a fraction)
    lets the tempo wander slowly.
    """

    tempo: float
    beats_per_bar: int = 4
    swing: float = 0.0
    rubato: float = 0.0
    rubato_phase: float = 0.0

    @property
    def steps_per_bar(self) -> int:
        return 4 * self.beats_per_bar

    @property
    def beat(self) -> float:
        return 60.0 / self.tempo

    def n_bars(self, duration: float) -> int:
        return int(math.ceil(duration / (self.beat * self.beats_per_bar))) + 1

    def time(self, step) -> np.ndarray:
        """Seconds at (possibly fractional) step index(es)."""
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
    """The key (tonic pitch class, 0 = C), the melody scale and a chord progression."""

    key: int
    scale: tuple[int, ...]
    chords: tuple[tuple[int, str], ...]
    bars_per_chord: float = 1.0

    def chord_at(self, bar: float) -> tuple[int, tuple[int, ...]]:
        """(root pitch class, chord intervals) sounding at (fractional) bar ``bar``."""
        i = int(math.floor(bar / self.bars_per_chord + 1e-9)) % len(self.chords)
        root, quality = self.chords[i]
        return (self.key + root) % 12, CHORD_QUALITIES[quality]

    def chord_pcs(self, bar: float) -> set[int]:
        root, ivs = self.chord_at(bar)
        return {(root + i) % 12 for i in ivs}

    def scale_notes(self, lo: int, hi: int) -> np.ndarray:
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


# =============================================================================================
# Composition: bass, chords, melody (pure functions of the rng, the grid and the harmony)
# =============================================================================================


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
    """A bass line. ``style``: root, eighths, root_fifth, walking, octave, sub, reggae, sustained,
    synco, boogie."""
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
    """An accompaniment. ``style``: block, strum, skank, comp, arpeggio, arp16, power, stabs,
    pulse, bubble, funk."""
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
    """A phrase-structured melody: a motif of ``phrase_bars`` bars repeated over the changes with
    variation. ``density`` is notes per beat; ``rest_prob`` the share of silent phrases; ``leap``
    the share of large intervals; ``monotone`` keeps the pitch near one note (rap)."""
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


# =============================================================================================
# Arrangement: what to play and how to mix it; one renderer for both datasets
# =============================================================================================


@dataclass
class PartSpec:
    """One instrument part: ``role`` (bass, chords, melody, rap, pad, drone), its ``style``
    (see the compose functions), ``timbre`` name or object, mix ``gain`` (linear), register,
    ``drive`` (distortion, 0 = clean), ``lowpass_hz`` and melody settings."""

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
    """Drums: a pattern of :data:`DRUM_PATTERNS`, a kit of :data:`DRUM_KITS`, level and feel."""

    pattern: str
    kit: str = "acoustic"
    gain: float = 1.0
    tune: float = 1.0
    fill_prob: float = 0.3
    ghost_prob: float = 0.1
    humanize: float = 0.004


@dataclass
class MasterFx:
    """Mix-bus processing. Levels in dB, times in s, frequencies in Hz."""

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
    """Everything needed to render one piece (see :func:`render_arrangement`)."""

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


def power_chord_timbre(t: Timbre) -> Timbre:
    """A timbre whose note at pitch ``p`` sounds like ``t`` playing ``p+12, p+19, p+24`` (root,
    fifth, octave of a power chord), as one wavetable: those are harmonics 2, 3 and 4 of ``p``."""
    a = _harmonic_amps(t, t.slope, 64)
    amps = np.zeros(4 * a.size)
    for mult in (2, 3, 4):
        amps[mult * np.arange(1, a.size + 1) - 1] += a
    return replace(t, amps=tuple(amps.tolist()), dull_slope=None)


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
    """Render ``arr`` to ``round(duration * sr)`` float32 samples in [-1, 1] peaking at
    ``arr.fx.peak_db`` dBFS. ``n_bars`` limits the music to that many bars (default: enough to
    fill ``duration``)."""
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


# =============================================================================================
# GTZAN: genre recipes, artist styles, clips
# =============================================================================================


@dataclass(frozen=True)
class GenreRecipe:
    """The musical recipe of a genre: ranges (lo, hi) for numbers, ``{option: weight}`` for choices.

    Band parts are written ``"style:timbre"`` (bass, chords) or ``"role:timbre"`` (leads: role
    ``melody``, ``rap`` or ``growl``; ``"none"`` = no lead); ``extras`` are optional layers
    ``"role:style:timbre"`` with their probability. Drum pattern ``""`` means no drums.
    """

    tempo: tuple[float, float]
    swing: tuple[float, float]
    progressions: dict[str, float]
    drums: dict[str, float]
    kits: dict[str, float]
    bass: dict[str, float]
    chords: dict[str, float]
    leads: dict[str, float]
    extras: dict[str, float]
    lead_density: tuple[float, float]
    drive: tuple[float, float]
    lowpass_hz: tuple[float, float]
    lofi_prob: float
    reverb: tuple[float, float]
    compression: tuple[float, float]
    noise_db: tuple[float, float]
    dynamics_db: tuple[float, float]
    drum_gain: tuple[float, float] = (0.7, 1.3)
    mix: dict[str, float] = field(default_factory=dict)
    rubato: tuple[float, float] = (0.0, 0.0)
    echo: tuple[float, float] = (0.0, 0.0)
    meters: dict[int, float] = field(default_factory=lambda: {4: 1.0})
    bars_per_chord: dict[float, float] = field(default_factory=lambda: {1.0: 1.0})
    neighbours: tuple[str, ...] = ()


GENRE_RECIPES: dict[str, GenreRecipe] = {
    "blues": GenreRecipe(
        tempo=(60, 125),
        swing=(0.55, 1.0),
        progressions={"blues12": 3, "blues_minor": 1},
        drums={"shuffle": 3, "slow_blues": 2, "": 0.5},
        kits={"acoustic": 2, "brushes": 1, "lofi": 1},
        bass={"walking:bass_upright": 2, "boogie:bass_finger": 2, "root:bass_finger": 1},
        chords={"comp:piano": 2, "comp:clean_guitar": 2, "block:organ": 1.5, "pulse:piano": 1},
        leads={
            "melody:vocal": 2,
            "melody:clean_guitar": 1.5,
            "melody:harmonica": 1,
            "melody:dist_guitar": 1,
        },
        extras={"pad:block:organ": 0.2, "chords:comp:piano": 0.2},
        lead_density=(0.8, 2.5),
        drive=(0.0, 0.45),
        lowpass_hz=(2500, 9000),
        lofi_prob=0.45,
        reverb=(0.05, 0.3),
        compression=(0.2, 1.0),
        noise_db=(-60, -32),
        dynamics_db=(1, 3),
        mix={"melody": 1.1},
        neighbours=("rock", "jazz", "country"),
    ),
    "classical": GenreRecipe(
        tempo=(55, 140),
        swing=(0.0, 0.0),
        progressions={"classical_major": 2, "classical_minor": 2, "pachelbel": 1},
        drums={"": 1},
        kits={"acoustic": 1},
        bass={"sustained:strings": 2, "root:pizzicato": 1, "sustained:bass_upright": 0.5},
        chords={"arpeggio:piano": 2, "block:strings": 2, "arpeggio:harp": 1, "arp16:piano": 1},
        leads={
            "melody:violin": 2,
            "melody:flute": 1.5,
            "melody:piano": 1.5,
            "melody:clarinet": 1,
            "melody:strings": 1,
        },
        extras={"pad:block:strings": 0.4, "melody:-:flute": 0.15},
        lead_density=(0.7, 3.0),
        drive=(0.0, 0.0),
        lowpass_hz=(3000, 9000),
        lofi_prob=0.25,
        reverb=(0.2, 0.5),
        compression=(0.0, 0.2),
        noise_db=(-65, -35),
        dynamics_db=(3, 8),
        rubato=(0.01, 0.05),
        meters={4: 3, 3: 1},
        bars_per_chord={1.0: 2, 2.0: 1, 0.5: 1},
        neighbours=("jazz",),
    ),
    "country": GenreRecipe(
        tempo=(85, 145),
        swing=(0.0, 0.3),
        progressions={"country": 2, "country2": 2, "three_chord": 1},
        drums={"train": 1.5, "country": 2, "shuffle": 0.5},
        kits={"acoustic": 2, "brushes": 1},
        bass={"root_fifth:bass_finger": 3, "walking:bass_upright": 1},
        chords={
            "strum:ac_guitar": 3,
            "arpeggio:banjo": 1,
            "comp:piano": 1,
            "strum:clean_guitar": 1,
        },
        leads={"melody:vocal": 3, "melody:violin": 1, "melody:steel": 1, "melody:clean_guitar": 1},
        extras={"chords:arp16:banjo": 0.2, "melody:-:steel": 0.2, "melody:-:violin": 0.15},
        lead_density=(1.0, 2.2),
        drive=(0.0, 0.15),
        lowpass_hz=(6000, 11000),
        lofi_prob=0.1,
        reverb=(0.05, 0.25),
        compression=(0.3, 1.2),
        noise_db=(-65, -40),
        dynamics_db=(1, 2.5),
        mix={"chords": 1.3, "melody": 1.1, "bass": 0.8},
        neighbours=("rock", "blues", "pop"),
    ),
    "disco": GenreRecipe(
        tempo=(108, 132),
        swing=(0.0, 0.1),
        progressions={"disco_vamp": 2, "disco_major": 1, "funk_minor": 1.5, "pop_minor": 0.5},
        drums={"disco": 3, "four_floor": 2},
        kits={"acoustic": 1.5, "electronic": 1.5},
        bass={"octave:bass_finger": 2, "octave:bass_synth": 2, "synco:bass_finger": 1},
        chords={"stabs:strings": 2, "funk:clean_guitar": 2, "stabs:epiano": 1, "pulse:clav": 1},
        leads={"melody:vocal": 3, "melody:strings": 1, "melody:synth_saw": 1},
        extras={"pad:block:strings": 0.4, "chords:funk:clav": 0.3, "pad:block:pad": 0.2},
        lead_density=(1.2, 2.5),
        drive=(0.0, 0.1),
        lowpass_hz=(7000, 11000),
        lofi_prob=0.1,
        reverb=(0.1, 0.3),
        compression=(0.8, 2.0),
        noise_db=(-70, -45),
        dynamics_db=(0.5, 1.5),
        drum_gain=(1.1, 1.6),
        mix={"bass": 1.2},
        neighbours=("pop", "hiphop"),
    ),
    "hiphop": GenreRecipe(
        tempo=(72, 100),
        swing=(0.1, 0.5),
        progressions={"hiphop_loop": 2, "hiphop_soul": 2, "hiphop_dark": 1.5},
        drums={"boombap": 3, "boombap2": 2, "trap": 1.5},
        kits={"808": 2, "lofi": 2, "electronic": 1},
        bass={"sub:bass_sub": 3, "synco:bass_synth": 1, "root:bass_finger": 1},
        chords={
            "block:epiano": 2,
            "pulse:piano": 1.5,
            "block:strings": 1,
            "stabs:brass": 0.7,
            "arpeggio:piano": 1,
        },
        leads={"rap:rap": 5, "melody:vocal": 1},
        extras={"pad:block:pad": 0.3, "melody:-:flute": 0.15},
        lead_density=(2.5, 4.0),
        drive=(0.0, 0.1),
        lowpass_hz=(3500, 10000),
        lofi_prob=0.35,
        reverb=(0.05, 0.2),
        compression=(1.0, 2.5),
        noise_db=(-60, -35),
        dynamics_db=(0.5, 1.5),
        drum_gain=(1.3, 2.0),
        bars_per_chord={1.0: 1, 2.0: 2},
        mix={"bass": 1.5, "rap": 1.2, "chords": 0.6},
        neighbours=("reggae", "pop", "disco"),
    ),
    "jazz": GenreRecipe(
        tempo=(80, 220),
        swing=(0.5, 0.95),
        progressions={"jazz_251": 2, "jazz_minor": 1.5, "jazz_rhythm": 1.5, "blues12": 0.5},
        drums={"jazz_ride": 3, "jazz_brush": 2, "": 1},
        kits={"brushes": 2, "acoustic": 1.5},
        bass={"walking:bass_upright": 5, "root:bass_upright": 1},
        chords={"comp:piano": 3, "comp:jazz_guitar": 1.5, "comp:epiano": 1, "block:organ": 0.5},
        leads={
            "melody:sax": 3,
            "melody:trumpet": 2,
            "melody:piano": 2,
            "melody:jazz_guitar": 1,
            "melody:clarinet": 0.7,
            "melody:vocal": 0.8,
        },
        extras={"melody:-:piano": 0.15},
        lead_density=(1.5, 4.0),
        drive=(0.0, 0.0),
        lowpass_hz=(2500, 10000),
        lofi_prob=0.5,
        reverb=(0.1, 0.35),
        compression=(0.0, 0.5),
        noise_db=(-60, -30),
        dynamics_db=(2, 5),
        drum_gain=(0.3, 0.7),
        rubato=(0.0, 0.01),
        meters={4: 5, 3: 1},
        neighbours=("blues", "classical"),
    ),
    "metal": GenreRecipe(
        tempo=(100, 200),
        swing=(0.0, 0.0),
        progressions={"metal_phryg": 2, "metal_minor": 2, "metal_chrom": 1.5, "rock_power": 1},
        drums={"metal": 2, "metal_gallop": 2, "blast": 1, "rock_drive": 1},
        kits={"metal": 3, "acoustic": 1},
        bass={"eighths:bass_dist": 3, "eighths:bass_finger": 1},
        chords={"power:dist_guitar": 5, "arp16:dist_guitar": 1},
        leads={"melody:vocal": 2, "melody:dist_guitar": 2, "growl:rap": 2},
        extras={"chords:power:dist_guitar": 0.5, "pad:block:choir": 0.1},
        lead_density=(1.5, 4.0),
        drive=(0.6, 1.0),
        lowpass_hz=(7000, 11000),
        lofi_prob=0.05,
        reverb=(0.05, 0.2),
        compression=(1.5, 3.0),
        noise_db=(-70, -45),
        dynamics_db=(0.3, 1.0),
        mix={"chords": 1.4},
        neighbours=("rock",),
    ),
    "pop": GenreRecipe(
        tempo=(85, 130),
        swing=(0.0, 0.2),
        progressions={"pop_axis": 3, "pop_50s": 1.5, "pop_minor": 1.5, "uplift": 1},
        drums={"pop": 3, "pop_synco": 2, "four_floor": 1, "ballad": 1},
        kits={"electronic": 2, "acoustic": 1.5},
        bass={
            "synco:bass_synth": 2,
            "root:bass_finger": 2,
            "eighths:bass_synth": 1,
            "octave:bass_synth": 0.5,
        },
        chords={
            "block:pad": 2,
            "pulse:piano": 2,
            "strum:ac_guitar": 1.5,
            "stabs:synth_saw": 1,
            "arp16:pluck": 1,
        },
        leads={"melody:vocal": 6, "melody:synth_saw": 1},
        extras={"pad:block:strings": 0.3, "chords:arp16:pluck": 0.3, "pad:block:pad": 0.3},
        lead_density=(1.2, 2.5),
        drive=(0.0, 0.2),
        lowpass_hz=(8000, 11000),
        lofi_prob=0.05,
        reverb=(0.1, 0.3),
        compression=(1.0, 2.5),
        noise_db=(-75, -50),
        dynamics_db=(0.5, 1.5),
        mix={"melody": 1.3},
        neighbours=("disco", "rock", "hiphop", "country"),
    ),
    "reggae": GenreRecipe(
        tempo=(64, 95),
        swing=(0.15, 0.5),
        progressions={"reggae_two": 2, "reggae_minor": 2, "reggae_three": 1.5},
        drums={"one_drop": 3, "rockers": 2, "steppers": 1},
        kits={"acoustic": 2, "lofi": 1.5, "electronic": 0.5},
        bass={"reggae:bass_finger": 4, "reggae:bass_sub": 1.5},
        chords={"skank:clean_guitar": 3, "skank:organ": 1.5, "skank:piano": 1, "bubble:organ": 1.5},
        leads={"melody:vocal": 5, "melody:brass": 1, "melody:sax": 0.5},
        extras={"chords:bubble:organ": 0.4, "melody:-:brass": 0.1},
        lead_density=(1.0, 2.2),
        drive=(0.0, 0.1),
        lowpass_hz=(3000, 8000),
        lofi_prob=0.3,
        reverb=(0.1, 0.35),
        compression=(0.5, 1.5),
        noise_db=(-60, -35),
        dynamics_db=(0.5, 2),
        echo=(0.1, 0.4),
        bars_per_chord={1.0: 2, 2.0: 1},
        mix={"bass": 1.6, "chords": 0.8, "drums": 0.8},
        neighbours=("hiphop", "pop"),
    ),
    "rock": GenreRecipe(
        tempo=(95, 165),
        swing=(0.0, 0.15),
        progressions={"rock_mixo": 2, "rock_power": 2, "three_chord": 1.5, "rock_minor": 1.5},
        drums={"rock": 3, "rock_drive": 2, "ballad": 0.5},
        kits={"acoustic": 3, "metal": 0.5},
        bass={"eighths:bass_finger": 3, "root:bass_finger": 1.5},
        chords={
            "power:dist_guitar": 3,
            "strum:dist_guitar": 1.5,
            "strum:ac_guitar": 1,
            "pulse:clean_guitar": 1,
        },
        leads={"melody:vocal": 4, "melody:dist_guitar": 1.5},
        extras={"chords:strum:ac_guitar": 0.2, "pad:block:organ": 0.2, "chords:pulse:piano": 0.15},
        lead_density=(1.0, 2.5),
        drive=(0.25, 0.75),
        lowpass_hz=(4000, 11000),
        lofi_prob=0.15,
        reverb=(0.05, 0.25),
        compression=(0.8, 2.0),
        noise_db=(-65, -40),
        dynamics_db=(0.5, 2),
        mix={"chords": 1.2},
        neighbours=("metal", "country", "blues", "pop"),
    ),
}

#: recipe fields that travel together when an artist borrows from a neighbouring genre
RECIPE_GROUPS: dict[str, tuple[str, ...]] = {
    "rhythm": ("tempo", "swing", "drums", "kits", "meters", "drum_gain"),
    "harmony": ("progressions", "bars_per_chord"),
    "band": ("bass", "chords", "leads", "extras", "lead_density", "mix"),
    "sound": (
        "drive",
        "lowpass_hz",
        "lofi_prob",
        "reverb",
        "compression",
        "noise_db",
        "dynamics_db",
        "rubato",
        "echo",
    ),
}

#: chance that an artist takes one recipe group from a neighbouring genre (cross-genre overlap)
BORROW_PROB = 0.1
#: how many options of a choice an artist keeps (default 2): an artist has one band
ARTIST_CHOICES = {"bass": 1, "chords": 1, "leads": 1, "kits": 1}
#: share of a numeric range an artist's style covers (around its own centre)
ARTIST_RANGE_SHARE = 0.25

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
GUITARS = ("dist_guitar", "clean_guitar", "bass_dist")
ROLE_GAINS = {
    "bass": 0.8,
    "chords": 0.6,
    "pad": 0.45,
    "melody": 0.8,
    "rap": 0.9,
    "growl": 0.9,
    "drone": 0.5,
}
VOICE_VOWELS = ("a", "e", "i", "o", "u")


def _narrow_choice(rng: np.random.Generator, options: dict, max_keep: int = 2) -> dict:
    keys = list(options)
    w = np.asarray([options[k] for k in keys], float)
    k = min(len(keys), int(rng.integers(1, max_keep + 1)))
    chosen = rng.choice(len(keys), size=k, replace=False, p=w / w.sum())
    return {keys[i]: options[keys[i]] for i in sorted(chosen)}


def _narrow_range(
    rng: np.random.Generator, lo_hi: tuple[float, float], share: float
) -> tuple[float, float]:
    lo, hi = lo_hi
    width = (hi - lo) * share
    c = rng.uniform(lo + width / 2, hi - width / 2) if hi - lo > width else 0.5 * (lo + hi)
    return (c - width / 2, c + width / 2)


def _artist_runs(genre: str, seed: int) -> np.ndarray:
    """Artist number (0-based) of each of the 100 possible clips of ``genre``; consecutive clips
    share an artist, as on real GTZAN albums. Independent of how many clips are written."""
    rng = _rng(seed, "gtzan-artists", genre)
    out: list[int] = []
    artist = 0
    while len(out) < MAX_CLIPS_PER_GENRE:
        out += [artist] * int(rng.integers(2, 9))
        artist += 1
    return np.asarray(out[:MAX_CLIPS_PER_GENRE])


def clip_artist(genre: str, index: int, seed: int = 0) -> int:
    """The (0-based) synthetic artist of clip ``index`` of ``genre``."""
    return int(_artist_runs(genre, seed)[index])


def artist_style(genre: str, artist: int, seed: int = 0) -> GenreRecipe:
    """An artist's style: the genre recipe with some groups borrowed from a neighbouring genre,
    each choice narrowed to one or two options and each range to a share around a centre."""
    rng = _rng(seed, "gtzan-style", genre, artist)
    base = GENRE_RECIPES[genre]
    changes: dict = {}
    for names in RECIPE_GROUPS.values():
        source = base
        if base.neighbours and rng.random() < BORROW_PROB:
            source = GENRE_RECIPES[base.neighbours[int(rng.integers(len(base.neighbours)))]]
        for name in names:
            value = getattr(source, name)
            if isinstance(value, dict) and name not in ("extras", "mix"):
                value = _narrow_choice(rng, value, ARTIST_CHOICES.get(name, 2))
            elif isinstance(value, tuple) and len(value) == 2 and name != "neighbours":
                value = _narrow_range(rng, value, ARTIST_RANGE_SHARE)
            changes[name] = value
    return replace(base, **changes)


def _timbre_for(name: str, rng: np.random.Generator, artist_rng_seed: tuple) -> Timbre:
    """A timbre of the palette, varied per artist (stable) and a little per clip."""
    t = vary_timbre(TIMBRES[name], _rng(*artist_rng_seed, name), 0.2)
    return vary_timbre(t, rng, 0.05)


def _lead_part(
    rng: np.random.Generator, spec: str, style: GenreRecipe, artist_seed: tuple
) -> PartSpec | None:
    if spec == "none":
        return None
    role, name = spec.split(":")
    timbre = _timbre_for(name, rng, artist_seed)
    register = LEAD_REGISTERS.get(name, (60, 79))
    density = _uniform(rng, style.lead_density)
    if role == "growl":
        return PartSpec(
            "rap",
            "-",
            timbre,
            ROLE_GAINS["growl"],
            register=(40, 52),
            drive=0.5,
            vowels=("a", "o"),
            density=density,
        )
    vowels = (
        tuple(rng.choice(VOICE_VOWELS, size=3, replace=False))
        if name in ("vocal", "rap", "choir")
        else ()
    )
    if role == "rap":
        density = max(density, 2.5)
    drive = _uniform(rng, style.drive) if name in GUITARS else 0.0
    return PartSpec(
        role,
        "-",
        timbre,
        ROLE_GAINS[role],
        register=register,
        vowels=vowels,
        density=density,
        legato=float(rng.uniform(0.5, 0.95)),
        rest_prob=float(rng.uniform(0.1, 0.4)),
        leap=float(rng.uniform(0.1, 0.5)),
        drive=drive,
    )


def _band_part(
    rng: np.random.Generator, role: str, spec: str, style: GenreRecipe, artist_seed: tuple
) -> PartSpec:
    part_style, name = spec.split(":")
    timbre = _timbre_for(name, rng, artist_seed)
    drive = _uniform(rng, style.drive) if name in GUITARS else 0.0
    if name in ("dist_guitar", "bass_dist"):
        drive = max(drive, 0.35)
    return PartSpec(
        role,
        part_style,
        timbre,
        ROLE_GAINS[role],
        center=float(rng.uniform(55, 66)),
        register=(31, 50),
        drive=drive,
    )


def _production(rng: np.random.Generator, style: GenreRecipe) -> MasterFx:
    lofi = rng.random() < style.lofi_prob
    fx = MasterFx(
        compression=_uniform(rng, style.compression),
        lowpass_hz=_log_uniform(rng, style.lowpass_hz),
        highpass_hz=_log_uniform(rng, (25.0, 80.0)),
        reverb_mix=_uniform(rng, style.reverb),
        reverb_time=_uniform(rng, (0.6, 2.5)),
        echo_mix=_uniform(rng, style.echo),
        echo_beats=float(rng.choice([0.5, 0.75, 1.0])),
        noise_db=_uniform(rng, style.noise_db),
        dynamics_db=_uniform(rng, style.dynamics_db),
        peak_db=PEAK_DBFS - float(min(rng.exponential(1.0), 6.0)),
    )
    if lofi:  # an old recording: narrow band, hiss, clicks
        fx = replace(
            fx,
            lowpass_hz=_log_uniform(rng, (2200.0, 5000.0)),
            highpass_hz=_log_uniform(rng, (80.0, 250.0)),
            noise_db=fx.noise_db + 12.0,
            crackle=_uniform(rng, (0.5, 4.0)),
        )
    return fx


def genre_arrangement(genre: str, index: int, seed: int = 0) -> Arrangement:
    """The arrangement of clip ``index`` of ``genre``: its artist's style, sampled."""
    if genre not in GENRE_RECIPES:
        raise ConfigError(f"unknown genre {genre!r}; choose from {', '.join(GTZAN_GENRES)}")
    _check_index(index, MAX_CLIPS_PER_GENRE, "clip index")
    artist = clip_artist(genre, index, seed)
    style = artist_style(genre, artist, seed)
    artist_seed = (seed, "gtzan-timbre", genre, artist)
    rng = _rng(seed, "gtzan-clip", genre, index)

    scale_name, chords = PROGRESSIONS[_pick(rng, style.progressions)]
    harmony = Harmony(
        key=int(rng.integers(12)),
        scale=SCALES[scale_name],
        chords=chords,
        bars_per_chord=float(_pick(rng, style.bars_per_chord)),
    )
    grid = Grid(
        tempo=_uniform(rng, style.tempo),
        beats_per_bar=int(_pick(rng, style.meters)),
        swing=_uniform(rng, style.swing),
        rubato=_uniform(rng, style.rubato),
        rubato_phase=float(rng.uniform(0, 2 * np.pi)),
    )
    parts = _genre_parts(rng, style, artist_seed)
    pattern = _pick(rng, style.drums)
    if pattern and grid.beats_per_bar == 3:
        pattern = "waltz"
    drums = (
        None
        if not pattern
        else DrumSpec(
            pattern=pattern,
            kit=_pick(rng, style.kits),
            gain=_uniform(rng, style.drum_gain) * style.mix.get("drums", 1.0),
            tune=float(np.exp(rng.normal(0, 0.1))),
            fill_prob=float(rng.uniform(0.1, 0.5)),
            ghost_prob=float(rng.uniform(0.0, 0.2)),
        )
    )
    return Arrangement(
        grid=grid, harmony=harmony, parts=parts, drums=drums, fx=_production(rng, style)
    )


def _genre_parts(
    rng: np.random.Generator, style: GenreRecipe, artist_seed: tuple
) -> list[PartSpec]:
    """Bass, chords, the lead (if any) and the optional extra layers, with their mix levels."""
    parts = [
        _band_part(rng, "bass", _pick(rng, style.bass), style, artist_seed),
        _band_part(rng, "chords", _pick(rng, style.chords), style, artist_seed),
    ]
    lead = _lead_part(rng, _pick(rng, style.leads), style, artist_seed)
    if lead is not None:
        parts.append(lead)
    for extra, prob in style.extras.items():
        if rng.random() < prob:
            role, part_style, name = extra.split(":")
            if role == "melody":  # a second, quieter melody instrument
                second = _lead_part(rng, f"melody:{name}", style, artist_seed)
                second.gain *= 0.6
                parts.append(second)
            else:
                parts.append(_band_part(rng, role, f"{part_style}:{name}", style, artist_seed))
    for p in parts:
        p.gain *= style.mix.get(p.role, 1.0) * float(np.exp(rng.normal(0.0, 0.2)))
    return parts


def _check_index(index, limit: int, what: str) -> int:
    if (
        isinstance(index, bool)
        or not isinstance(index, (int, np.integer))
        or not 0 <= index < limit
    ):
        raise ConfigError(f"{what} must be an integer in [0, {limit}), got {index!r}")
    return int(index)


def render_genre_clip(
    genre: str,
    index: int,
    seed: int = 0,
    duration: float = GTZAN_DURATION,
    sr: int = GTZAN_SAMPLE_RATE,
) -> np.ndarray:
    """Clip ``index`` of ``genre`` as float32 samples (``round(duration * sr)``, mono, peak <= -1 dBFS).

    Deterministic in ``(genre, index, seed)``; ``duration`` in seconds, ``sr`` in Hz.
    """
    _check_duration(duration, "duration")
    arr = genre_arrangement(genre, index, seed)
    return render_arrangement(arr, sr, duration, _rng(seed, "gtzan-render", genre, index))


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


# =============================================================================================
# MTG-Jamendo mood/theme: tag sampling, tag profiles, tracks
# =============================================================================================


@dataclass(frozen=True)
class TagProfile:
    """What a tag sounds like: offsets on five latent axes (about -1..1) and layer weights.

    ``energy`` drives tempo, drums, loudness and compression; ``valence`` the mode (major/minor)
    and register; ``brightness`` the low-pass cutoff and timbres; ``density`` notes per beat and
    the number of layers; ``space`` reverb and pads. ``tempo`` is an extra offset in BPM. ``layers``
    weights the instrument layers of :data:`MOOD_LAYERS`, drum patterns (``drums:<pattern>``) and
    textures (``texture:<name>``). ``strength`` scales the whole profile (themes are weaker).
    """

    energy: float = 0.0
    valence: float = 0.0
    brightness: float = 0.0
    density: float = 0.0
    space: float = 0.0
    tempo: float = 0.0
    layers: dict[str, float] = field(default_factory=dict)
    strength: float = 1.0


def _tp(e=0.0, v=0.0, b=0.0, d=0.0, s=0.0, tempo=0.0, strength=1.0, **layers) -> TagProfile:
    return TagProfile(
        e, v, b, d, s, tempo, {k.replace("__", ":"): w for k, w in layers.items()}, strength
    )


#: instrument layers of the mood tracks: name -> (role, style, timbre)
MOOD_LAYERS: dict[str, tuple[str, str, str]] = {
    "piano_chords": ("chords", "pulse", "piano"),
    "piano_arp": ("chords", "arpeggio", "piano"),
    "piano_lead": ("melody", "-", "piano"),
    "strings_pad": ("pad", "block", "strings"),
    "violin": ("melody", "-", "violin"),
    "synth_pad": ("pad", "block", "pad"),
    "choir": ("pad", "block", "choir"),
    "brass": ("chords", "block", "brass"),
    "ac_guitar": ("chords", "strum", "ac_guitar"),
    "dist_guitar": ("chords", "power", "dist_guitar"),
    "clean_guitar": ("chords", "arpeggio", "clean_guitar"),
    "epiano": ("chords", "block", "epiano"),
    "pluck_arp": ("chords", "arp16", "pluck"),
    "harp": ("chords", "arpeggio", "harp"),
    "organ": ("chords", "block", "organ"),
    "pizzicato": ("chords", "pulse", "pizzicato"),
    "synth_stabs": ("chords", "stabs", "synth_saw"),
    "bells": ("melody", "-", "bells"),
    "glock": ("melody", "-", "glock"),
    "marimba": ("melody", "-", "marimba"),
    "flute": ("melody", "-", "flute"),
    "sax": ("melody", "-", "sax"),
    "vocal": ("melody", "-", "vocal"),
    "synth_lead": ("melody", "-", "synth_saw"),
    "chiptune": ("melody", "-", "synth_square"),
    "drone": ("drone", "tonic", "drone"),
}
#: every track's baseline layer weights (before its tags' weights are added)
MOOD_BASE_LAYERS: dict[str, float] = {
    "piano_chords": 0.6,
    "piano_arp": 0.4,
    "piano_lead": 0.4,
    "strings_pad": 0.5,
    "synth_pad": 0.5,
    "ac_guitar": 0.4,
    "clean_guitar": 0.3,
    "epiano": 0.3,
    "pluck_arp": 0.3,
    "flute": 0.2,
    "vocal": 0.3,
    "synth_lead": 0.3,
    "violin": 0.2,
    "drums:pop": 0.6,
    "drums:rock": 0.3,
    "drums:soft": 0.4,
    "drums:halftime": 0.3,
    "drums:none": 0.4,
}
MOOD_DRUMS = (
    "pop",
    "rock",
    "rock_drive",
    "four_floor",
    "soft",
    "halftime",
    "big",
    "big_drive",
    "trap",
    "boombap",
    "shaker",
    "none",
)
MOOD_TEXTURES = ("wind", "birds", "rain", "riser")

#: the audible profile of every tag (themes such as film, corporate, background are weaker)
TAG_PROFILES: dict[str, TagProfile] = {
    "happy": _tp(e=0.5, v=1.0, b=0.5, d=0.3, ac_guitar=0.8, glock=0.6, marimba=0.5, drums__pop=0.8),
    "film": _tp(
        e=0.1,
        v=-0.1,
        b=-0.2,
        s=0.6,
        strength=0.6,
        strings_pad=1.2,
        piano_arp=0.5,
        brass=0.5,
        choir=0.3,
    ),
    "energetic": _tp(
        e=1.2,
        v=0.3,
        b=0.6,
        d=0.8,
        tempo=10,
        dist_guitar=0.8,
        synth_lead=0.6,
        drums__rock_drive=1.0,
        drums__four_floor=0.6,
    ),
    "relaxing": _tp(
        e=-0.9,
        v=0.3,
        b=-0.5,
        d=-0.6,
        s=0.5,
        synth_pad=0.8,
        piano_arp=0.6,
        ac_guitar=0.4,
        drums__none=1.0,
        drums__soft=0.5,
    ),
    "emotional": _tp(e=-0.3, v=-0.4, d=-0.2, s=0.5, piano_arp=0.8, strings_pad=0.8, violin=0.5),
    "melodic": _tp(v=0.2, d=0.4, piano_lead=0.6, flute=0.5, violin=0.4, vocal=0.3),
    "dark": _tp(e=0.0, v=-1.2, b=-0.9, s=0.4, drone=1.2, synth_pad=0.5, drums__halftime=0.4),
    "epic": _tp(
        e=0.8,
        v=-0.2,
        b=0.1,
        d=0.5,
        s=0.9,
        strings_pad=1.0,
        brass=1.2,
        choir=1.0,
        drums__big=1.5,
        drums__big_drive=0.8,
    ),
    "dream": _tp(
        e=-0.6, v=0.3, b=-0.2, d=-0.3, s=1.2, synth_pad=1.0, bells=0.6, epiano=0.6, drums__none=0.5
    ),
    "love": _tp(
        e=-0.4,
        v=0.6,
        b=-0.1,
        piano_chords=0.6,
        epiano=0.6,
        ac_guitar=0.4,
        vocal=0.6,
        strings_pad=0.3,
    ),
    "inspiring": _tp(e=0.3, v=0.7, b=0.3, s=0.4, piano_arp=0.8, strings_pad=0.6, drums__pop=0.4),
    "sad": _tp(
        e=-0.8,
        v=-1.2,
        b=-0.5,
        d=-0.5,
        tempo=-10,
        piano_lead=0.8,
        violin=0.8,
        strings_pad=0.6,
        drums__none=0.8,
    ),
    "meditative": _tp(
        e=-1.3,
        v=0.1,
        b=-0.5,
        d=-1.0,
        s=1.0,
        tempo=-15,
        drone=1.4,
        bells=0.8,
        synth_pad=0.6,
        drums__none=1.5,
    ),
    "uplifting": _tp(
        e=0.6,
        v=1.0,
        b=0.5,
        d=0.3,
        piano_chords=0.6,
        synth_pad=0.4,
        pluck_arp=0.5,
        drums__four_floor=0.5,
        drums__pop=0.4,
    ),
    "advertising": _tp(
        e=0.4, v=0.7, b=0.5, strength=0.6, ac_guitar=0.6, pluck_arp=0.6, glock=0.3, drums__pop=0.6
    ),
    "deep": _tp(e=-0.3, v=-0.3, b=-1.0, s=0.6, synth_pad=0.8, drone=0.6, drums__halftime=0.5),
    "motivational": _tp(
        e=0.7,
        v=0.8,
        b=0.4,
        d=0.3,
        piano_chords=0.6,
        strings_pad=0.4,
        drums__rock=0.6,
        drums__pop=0.5,
    ),
    "romantic": _tp(e=-0.6, v=0.5, b=-0.3, piano_arp=0.6, strings_pad=0.6, sax=0.6, violin=0.4),
    "christmas": _tp(e=0.1, v=0.9, b=0.6, bells=2.0, glock=1.2, strings_pad=0.3, drums__shaker=1.5),
    "documentary": _tp(
        e=-0.2, v=0.0, b=-0.2, s=0.4, strength=0.5, strings_pad=0.6, piano_arp=0.6, synth_pad=0.4
    ),
    "corporate": _tp(
        e=0.4,
        v=0.7,
        b=0.5,
        d=0.2,
        strength=0.6,
        pluck_arp=0.8,
        piano_chords=0.5,
        ac_guitar=0.4,
        drums__pop=0.7,
    ),
    "positive": _tp(e=0.4, v=1.0, b=0.4, ac_guitar=0.5, marimba=0.3, drums__pop=0.4),
    "summer": _tp(
        e=0.6, v=0.9, b=0.6, ac_guitar=0.8, marimba=0.8, synth_lead=0.3, drums__four_floor=0.6
    ),
    "space": _tp(
        e=-0.4,
        v=-0.1,
        b=-0.2,
        d=-0.3,
        s=1.4,
        synth_pad=1.2,
        drone=0.6,
        synth_lead=0.4,
        texture__riser=0.6,
    ),
    "background": _tp(
        e=-0.5, d=-0.5, strength=0.5, synth_pad=0.5, piano_chords=0.4, drums__soft=0.4
    ),
    "soundscape": _tp(
        e=-0.7,
        d=-1.0,
        s=1.2,
        drone=1.2,
        synth_pad=0.6,
        texture__wind=1.2,
        texture__rain=0.6,
        drums__none=1.5,
    ),
    "fun": _tp(
        e=0.6, v=1.0, b=0.6, d=0.6, tempo=8, marimba=1.0, pizzicato=0.8, glock=0.4, drums__pop=0.5
    ),
    "soft": _tp(
        e=-1.0,
        v=0.2,
        b=-0.8,
        d=-0.4,
        piano_arp=0.6,
        flute=0.5,
        ac_guitar=0.4,
        drums__soft=0.5,
        drums__none=0.5,
    ),
    "ambiental": _tp(
        e=-0.8, d=-0.8, s=1.2, synth_pad=1.0, drone=0.8, texture__wind=0.5, drums__none=1.0
    ),
    "calm": _tp(
        e=-1.0,
        v=0.3,
        b=-0.4,
        d=-0.6,
        s=0.4,
        piano_arp=0.6,
        synth_pad=0.5,
        harp=0.5,
        drums__none=0.8,
    ),
    "children": _tp(
        e=0.3,
        v=1.2,
        b=0.8,
        d=0.2,
        tempo=5,
        glock=1.2,
        marimba=1.0,
        pizzicato=0.6,
        drums__shaker=0.5,
    ),
    "adventure": _tp(
        e=0.7, v=0.2, d=0.4, s=0.6, strings_pad=0.8, brass=0.8, drums__big=0.8, drums__rock=0.3
    ),
    "upbeat": _tp(
        e=0.9,
        v=0.8,
        b=0.5,
        d=0.5,
        tempo=10,
        drums__four_floor=0.8,
        drums__pop=0.6,
        synth_stabs=0.6,
        ac_guitar=0.3,
    ),
    "melancholic": _tp(
        e=-0.6, v=-1.0, b=-0.4, piano_lead=0.8, violin=0.6, clean_guitar=0.5, drums__none=0.4
    ),
    "slow": _tp(e=-0.8, d=-0.5, tempo=-25, synth_pad=0.4, piano_arp=0.4, drums__none=0.5),
    "commercial": _tp(
        e=0.4, v=0.7, b=0.5, strength=0.6, pluck_arp=0.6, ac_guitar=0.5, drums__pop=0.6
    ),
    "drama": _tp(
        e=0.1, v=-0.6, s=0.5, strength=0.7, strings_pad=0.8, piano_arp=0.5, drums__big=0.3
    ),
    "movie": _tp(e=0.1, v=-0.1, s=0.6, strength=0.5, strings_pad=1.0, brass=0.4, choir=0.3),
    "action": _tp(
        e=1.2,
        v=-0.4,
        b=0.4,
        d=0.8,
        tempo=15,
        dist_guitar=0.8,
        brass=0.6,
        drums__big_drive=1.2,
        drums__rock_drive=0.6,
    ),
    "ballad": _tp(
        e=-0.6,
        v=0.0,
        b=-0.2,
        tempo=-10,
        piano_chords=0.8,
        vocal=1.0,
        strings_pad=0.4,
        drums__soft=0.6,
    ),
    "dramatic": _tp(
        e=0.4, v=-0.7, d=0.3, s=0.6, strings_pad=0.8, brass=0.8, choir=0.4, drums__big=0.8
    ),
    "sport": _tp(
        e=1.2,
        v=0.5,
        b=0.5,
        d=0.6,
        tempo=12,
        dist_guitar=1.0,
        drums__rock_drive=1.0,
        drums__four_floor=0.6,
    ),
    "trailer": _tp(
        e=1.0,
        v=-0.4,
        d=0.4,
        s=1.0,
        brass=1.0,
        choir=0.8,
        strings_pad=0.6,
        drums__big=1.2,
        drums__big_drive=1.0,
        texture__riser=1.2,
    ),
    "party": _tp(
        e=1.1, v=0.8, b=0.8, d=0.6, tempo=10, drums__four_floor=2.0, synth_stabs=1.0, synth_lead=0.6
    ),
    "game": _tp(e=0.5, v=0.3, b=0.6, d=0.6, chiptune=1.6, pluck_arp=0.5, drums__pop=0.4),
    "nature": _tp(
        e=-0.6,
        v=0.4,
        b=-0.1,
        s=0.5,
        flute=1.0,
        ac_guitar=0.5,
        harp=0.4,
        texture__birds=1.5,
        texture__wind=0.6,
        drums__none=0.8,
    ),
    "cool": _tp(e=0.1, v=0.1, b=-0.2, epiano=0.8, sax=0.4, drums__boombap=0.8),
    "powerful": _tp(
        e=1.2,
        v=-0.1,
        b=0.4,
        d=0.5,
        dist_guitar=1.0,
        brass=0.8,
        drums__big_drive=1.0,
        drums__rock_drive=0.6,
    ),
    "hopeful": _tp(e=0.0, v=0.8, b=0.2, s=0.3, piano_arp=0.8, strings_pad=0.5),
    "retro": _tp(e=0.3, v=0.3, b=-0.2, chiptune=1.5, epiano=0.6, organ=0.6, drums__pop=0.3),
    "funny": _tp(e=0.5, v=1.0, b=0.5, d=0.6, tempo=10, pizzicato=1.2, marimba=0.8, chiptune=0.4),
    "groovy": _tp(
        e=0.5,
        v=0.3,
        d=0.4,
        epiano=0.8,
        clean_guitar=0.5,
        organ=0.4,
        drums__boombap=0.8,
        drums__four_floor=0.6,
    ),
    "holiday": _tp(e=0.3, v=0.8, b=0.5, bells=1.2, glock=0.6, ac_guitar=0.5, drums__shaker=0.8),
    "travel": _tp(e=0.3, v=0.6, strength=0.6, ac_guitar=0.8, pluck_arp=0.4, drums__pop=0.4),
    "horror": _tp(
        e=-0.2,
        v=-1.6,
        b=-0.7,
        s=1.0,
        drone=1.5,
        strings_pad=0.6,
        texture__wind=0.5,
        drums__none=0.8,
    ),
    "heavy": _tp(e=1.2, v=-0.6, b=-0.1, d=0.5, dist_guitar=2.0, drums__rock_drive=1.2),
    "mellow": _tp(e=-0.8, v=0.2, b=-0.8, epiano=0.8, clean_guitar=0.5, drums__soft=0.6),
    "sexy": _tp(
        e=-0.3, v=0.2, b=-0.3, tempo=-5, sax=1.2, epiano=0.8, drums__boombap=0.5, drums__soft=0.5
    ),
    "fast": _tp(e=1.0, d=0.8, tempo=35, drums__rock_drive=0.8, drums__four_floor=0.4),
}

#: softmax temperature of the layer and drum choices (lower: the tags decide more, chance less)
LAYER_TEMPERATURE = 0.5
#: latent noise (standard deviation per axis) added to every track: tags are not trivially audible
MOOD_NOISE = 0.15
#: tag affinity in the draw of a track's second and later tags (0 = independent tags)
TAG_AFFINITY = 1.0


def _profile_vector(p: TagProfile) -> np.ndarray:
    return p.strength * np.asarray([p.energy, p.valence, p.brightness, p.density, p.space])


def sample_tags(n_tracks: int, seed: int = 0) -> list[tuple[str, ...]]:
    """The tags of ``n_tracks`` tracks (each sorted alphabetically).

    The number of tags follows :data:`TAGS_PER_TRACK_PROBS` (5 stands for 5 or 6); the first tag is
    drawn with the frequencies of :data:`MOODTHEME_TAG_COUNTS`, later ones with those
    frequencies times a mild affinity to the tags already drawn (happy goes with fun more often
    than with sad), as in the real data. With at least two tag slots per tag, every tag occurs.
    """
    rng = _rng(seed, "jamendo-tags")
    draws = [_draw_tags(rng) for _ in range(_check_count(n_tracks, "n_tracks", 1, 100_000))]
    return _cover_all_tags(draws, rng)


def _cover_all_tags(
    draws: list[tuple[str, ...]], rng: np.random.Generator
) -> list[tuple[str, ...]]:
    """Give every tag at least one track when there are enough tag slots (2 per tag): each missing
    tag replaces one occurrence of the tag most over-represented against the real frequencies."""
    slots = sum(len(t) for t in draws)
    if slots < 2 * len(_TAGS):
        return draws
    draws = [list(t) for t in draws]
    counts = {tag: 0 for tag in _TAGS}
    for t in draws:
        for tag in t:
            counts[tag] += 1
    expected = dict(zip(_TAGS, _TAG_FREQ / _TAG_FREQ.sum() * slots))
    for missing in [tag for tag in _TAGS if counts[tag] == 0]:
        donor = max(
            (tag for tag in _TAGS if counts[tag] > 1), key=lambda tag: counts[tag] - expected[tag]
        )
        holders = [i for i, t in enumerate(draws) if donor in t and missing not in t]
        i = holders[int(rng.integers(len(holders)))]
        draws[i][draws[i].index(donor)] = missing
        counts[donor] -= 1
        counts[missing] += 1
    return [tuple(sorted(t)) for t in draws]


_TAGS = tuple(MOODTHEME_TAG_COUNTS)
_TAG_FREQ = np.asarray([MOODTHEME_TAG_COUNTS[t] for t in _TAGS], dtype=float)
_TAG_VECS = np.stack([_profile_vector(TAG_PROFILES[t]) for t in _TAGS])


def _draw_tags(rng: np.random.Generator) -> tuple[str, ...]:
    sizes = list(TAGS_PER_TRACK_PROBS)
    probs = np.asarray([TAGS_PER_TRACK_PROBS[k] for k in sizes])
    k = int(sizes[int(rng.choice(len(sizes), p=probs / probs.sum()))])
    if k == max(sizes) and rng.random() < 0.25:
        k += 1
    chosen: list[int] = []
    for _ in range(k):
        w = _TAG_FREQ.copy()
        if chosen:
            center = _TAG_VECS[chosen].mean(axis=0)
            norms = np.linalg.norm(_TAG_VECS, axis=1) * (np.linalg.norm(center) + 1e-9) + 1e-9
            w *= np.exp(TAG_AFFINITY * (_TAG_VECS @ center) / norms)
            w[chosen] = 0.0
        chosen.append(int(rng.choice(len(_TAGS), p=w / w.sum())))
    return tuple(sorted(_TAGS[i] for i in chosen))


def _check_count(value, what: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not lo <= value <= hi:
        raise ConfigError(f"{what} must be an integer in [{lo}, {hi}], got {value!r}")
    return int(value)


@dataclass
class MoodLatent:
    """A track's position on the latent axes and its layer weights (see :class:`TagProfile`)."""

    energy: float
    valence: float
    brightness: float
    density: float
    space: float
    tempo: float
    layers: dict[str, float]


def mood_latent(
    tags: Sequence[str], rng: np.random.Generator, artist_rng: np.random.Generator | None = None
) -> MoodLatent:
    """Combine the tags' profiles (sum scaled by 1/sqrt(number of tags)), an artist's offsets and noise."""
    unknown = [t for t in tags if t not in TAG_PROFILES]
    if unknown or not tags:
        raise ConfigError(
            f"tags must be a non-empty list of MTG-Jamendo mood/theme tags; unknown: {unknown}"
        )
    scale = 1.0 / math.sqrt(len(tags))
    axes = np.zeros(5)
    tempo = 0.0
    layers: dict[str, float] = dict(MOOD_BASE_LAYERS)
    for t in tags:
        p = TAG_PROFILES[t]
        axes += scale * _profile_vector(p)
        tempo += scale * p.strength * p.tempo
        for name, w in p.layers.items():
            layers[name] = layers.get(name, 0.0) + scale * p.strength * w
    if artist_rng is not None:  # an artist's own sound, independent of tags
        axes += artist_rng.normal(0.0, 0.25, 5) * np.asarray([0.5, 0.0, 1.0, 0.5, 1.0])
        fav = list(MOOD_LAYERS)[int(artist_rng.integers(len(MOOD_LAYERS)))]
        layers[fav] = layers.get(fav, 0.0) + 0.3
    axes += rng.normal(0.0, MOOD_NOISE, 5)
    tempo += rng.normal(0.0, 8.0)
    for value, boosts in zip(axes, AXIS_LAYER_BOOSTS):
        for name, w in boosts.items():
            layers[name] = layers.get(name, 0.0) + w * float(value)
    return MoodLatent(*axes.tolist(), tempo=tempo, layers=layers)


#: layer weight added per unit of each latent axis (energy, valence, brightness, density, space):
#: instrumentation follows the mood, so the axes are heard in the timbre too
AXIS_LAYER_BOOSTS: tuple[dict[str, float], ...] = (
    {
        "dist_guitar": 0.5,
        "synth_stabs": 0.3,
        "drums:rock_drive": 0.5,
        "drums:four_floor": 0.3,
        "drums:none": -0.6,
        "synth_pad": -0.3,
        "harp": -0.3,
    },
    {
        "glock": 0.4,
        "marimba": 0.4,
        "pluck_arp": 0.3,
        "ac_guitar": 0.3,
        "piano_lead": -0.3,
        "violin": -0.3,
        "drone": -0.5,
    },
    {"pluck_arp": 0.3, "bells": 0.2, "synth_pad": -0.2, "drone": -0.3},
    {"piano_arp": 0.3, "pluck_arp": 0.4, "drone": -0.4},
    {
        "synth_pad": 0.8,
        "drone": 0.5,
        "strings_pad": 0.3,
        "choir": 0.3,
        "drums:none": 0.5,
        "piano_chords": -0.3,
        "ac_guitar": -0.3,
    },
)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _softmax_pick(
    rng: np.random.Generator,
    names: Sequence[str],
    weights: Sequence[float],
    temp: float = LAYER_TEMPERATURE,
) -> str:
    w = np.asarray(weights, float) / temp
    p = np.exp(w - w.max())
    return names[int(rng.choice(len(names), p=p / p.sum()))]


MAJOR_PROGRESSIONS = ("happy_major", "pop_axis", "uplift", "dreamy", "modal_calm", "pop_50s")
MINOR_PROGRESSIONS = ("sad_minor", "epic_minor", "pop_minor", "dark_drone", "rock_minor")


def mood_arrangement(
    lat: MoodLatent, rng: np.random.Generator, tags: Sequence[str] = ()
) -> Arrangement:
    """Musical parameters from a track's latent position.

    energy e: tempo (+28 BPM per unit), drums (more likely, louder), compression, peak level,
    faster harmonic rhythm; valence v: P(major) = sigmoid(2.5 v), register (+4 semitones per
    unit), a little brightness and tempo; brightness b: master low-pass cutoff
    (2.5 kHz x 2^(1.3 b)) and harmonic slopes; space s: reverb amount and length, dub echo,
    fewer drums; density: see :func:`_mood_parts`. Christmas/holiday and horror tags pick their
    own progressions; retro/game may be bit-crushed.
    """
    e, v = lat.energy, lat.valence
    b = lat.brightness + 0.3 * v  # happy sounds brighter, sad darker
    tempo = float(np.clip(100.0 + 28.0 * e + 6.0 * v + lat.tempo, 52.0, 185.0))
    major = rng.random() < _sigmoid(2.5 * v)
    if "horror" in tags and rng.random() < 0.6:
        prog = "horror"
    elif "christmas" in tags or "holiday" in tags:
        prog = "christmas" if major else "sad_minor"
    else:
        prog = str(rng.choice(MAJOR_PROGRESSIONS if major else MINOR_PROGRESSIONS))
    scale_name, chords = PROGRESSIONS[prog]
    harmony = Harmony(
        key=int(rng.integers(12)),
        scale=SCALES[scale_name],
        chords=chords,
        bars_per_chord=2.0 if rng.random() < _sigmoid(-1.5 * e - 0.5) else 1.0,
    )
    grid = Grid(tempo=tempo, swing=float(np.clip(rng.normal(0.1, 0.15), 0.0, 0.6)))

    register_shift = int(round(4.0 * v + 3.0 * b))
    bright = float(np.exp(-0.35 * b))  # >1 = duller harmonic slopes
    parts = _mood_parts(rng, lat, register_shift, bright)
    drums = _mood_drums(rng, lat)
    textures = tuple(
        t
        for t in MOOD_TEXTURES
        if rng.random() < _sigmoid(3.0 * lat.layers.get(f"texture:{t}", 0.0) - 3.5)
    )
    return Arrangement(
        grid=grid,
        harmony=harmony,
        parts=parts,
        drums=drums,
        fx=_mood_fx(rng, lat, b, tags),
        textures=textures,
    )


def _mood_drums(rng: np.random.Generator, lat: MoodLatent) -> DrumSpec | None:
    """A drum pattern drawn by the layer weights ``drums:<pattern>``; none is likelier when calm."""
    names = list(MOOD_DRUMS)
    weights = [lat.layers.get(f"drums:{n}", 0.0) for n in names]
    weights[names.index("none")] += 0.8 - 1.6 * lat.energy + 0.5 * lat.space
    pattern = _softmax_pick(rng, names, weights)
    if pattern == "none":
        return None
    kit = (
        "big"
        if pattern.startswith("big")
        else "808"
        if pattern in ("trap", "boombap")
        else str(rng.choice(["acoustic", "electronic"]))
    )
    return DrumSpec(
        pattern=pattern,
        kit=kit,
        gain=float(np.exp(0.4 * lat.energy + rng.normal(0, 0.2))),
        tune=float(np.exp(rng.normal(0, 0.1))),
        fill_prob=0.3,
    )


def _mood_fx(
    rng: np.random.Generator, lat: MoodLatent, brightness: float, tags: Sequence[str]
) -> MasterFx:
    e, s = lat.energy, lat.space
    return MasterFx(
        compression=float(np.clip(0.2 + 1.6 * _sigmoid(2.0 * e) + rng.normal(0, 0.2), 0.0, 3.0)),
        lowpass_hz=float(
            np.clip(2500.0 * 2.0 ** (1.3 * brightness) * np.exp(rng.normal(0, 0.15)), 700.0, 7600.0)
        ),
        highpass_hz=30.0,
        reverb_mix=float(0.05 + 0.6 * _sigmoid(2.5 * s - 0.5)),
        reverb_time=float(0.8 + 3.0 * _sigmoid(2.0 * s)),
        noise_db=-70.0,
        echo_mix=float(0.4 * _sigmoid(3.0 * s - 2.5)),
        echo_beats=0.75,
        bitcrush_bits=8 if ("retro" in tags or "game" in tags) and rng.random() < 0.5 else 0,
        dynamics_db=float(1.0 + 2.0 * _sigmoid(-e)),
        peak_db=float(PEAK_DBFS - 7.0 * _sigmoid(-2.0 * e - 1.0) - rng.exponential(0.7)),
    )


def _mood_parts(
    rng: np.random.Generator, lat: MoodLatent, shift: int, bright: float
) -> list[PartSpec]:
    """Bass, a bed (chords or pad), usually a lead, and 0-3 extra layers (more when dense).

    Layers are drawn by their weights (base + tags + artist). Articulation follows the latent
    axes: energetic and happy tracks play shorter notes, spacious ones swell (slow attacks, long
    releases); dense tracks turn block chords into arpeggios and play more melody notes.
    """
    names = list(MOOD_LAYERS)
    weights = np.asarray([lat.layers.get(n, 0.0) for n in names])
    beds = [n for n in names if MOOD_LAYERS[n][0] in ("chords", "pad")]
    leads = [n for n in names if MOOD_LAYERS[n][0] == "melody"]
    chosen = [_softmax_pick(rng, beds, [lat.layers.get(n, 0.0) for n in beds])]
    if rng.random() < _sigmoid(1.5 + lat.density):
        chosen.append(_softmax_pick(rng, leads, [lat.layers.get(n, 0.0) for n in leads]))
    n_extra = int(np.clip(round(1.0 + 1.2 * lat.density + rng.normal(0, 0.5)), 0, 3))
    gumbel = weights - np.log(-np.log(rng.random(weights.size)))
    for i in np.argsort(-gumbel):
        if n_extra == 0:
            break
        if names[i] not in chosen and weights[i] > 0.3:
            chosen.append(names[i])
            n_extra -= 1
    density = float(np.clip(2.0 ** (1.1 * lat.density + 0.3 * lat.valence) * 1.2, 0.3, 4.0))
    legato = float(
        np.clip(0.85 - 0.2 * lat.energy - 0.25 * lat.valence + 0.15 * lat.space, 0.25, 0.98)
    )
    swell = float(np.exp(0.6 * lat.space - 0.3 * lat.energy))
    parts = [_mood_part(rng, name, lat, shift, bright, density, legato, swell) for name in chosen]
    bass_style = (
        "sustained"
        if lat.energy < -0.6
        else "octave"
        if lat.layers.get("drums:four_floor", 0) > 1.2
        else "eighths"
        if lat.energy > 0.7
        else "root"
    )
    if rng.random() < _sigmoid(1.0 + 2.0 * lat.energy):
        bass_timbre = (
            "bass_sub" if lat.brightness < -0.5 else str(rng.choice(["bass_finger", "bass_synth"]))
        )
        parts.append(
            PartSpec(
                "bass",
                bass_style,
                vary_timbre(TIMBRES[bass_timbre], rng, 0.1),
                ROLE_GAINS["bass"],
                register=(31, 50),
            )
        )
    return parts


def _mood_part(
    rng: np.random.Generator,
    name: str,
    lat: MoodLatent,
    shift: int,
    bright: float,
    density: float,
    legato: float,
    swell: float,
) -> PartSpec:
    role, style, timbre_name = MOOD_LAYERS[name]
    if role == "chords" and style in ("pulse", "block", "strum"):
        if lat.density > 0.5 and rng.random() < 0.6:
            style = "arp16" if lat.energy > 0 else "arpeggio"
        elif lat.valence > 0.5 and lat.energy > 0 and style == "block":
            style = "pulse"
    timbre = vary_timbre(TIMBRES[timbre_name], rng, 0.1)
    timbre = replace(
        timbre,
        slope=timbre.slope * bright,
        dull_slope=None if timbre.dull_slope is None else timbre.dull_slope * bright,
    )
    if timbre.sustain > 0.3:  # sustained instruments swell in spacious tracks
        timbre = replace(
            timbre, attack=min(timbre.attack * swell, 1.5), release=min(timbre.release * swell, 1.5)
        )
    lo, hi = LEAD_REGISTERS.get(timbre_name, (60, 79))
    return PartSpec(
        role,
        style,
        timbre,
        ROLE_GAINS[role] * float(np.exp(rng.normal(0, 0.2))),
        center=float(np.clip(60 + shift + rng.normal(0, 2), 50, 74)),
        register=(int(np.clip(lo + shift, 36, 96)), int(np.clip(hi + shift, 48, 100))),
        drive=0.6 if timbre_name == "dist_guitar" else 0.0,
        vowels=("a", "o") if timbre_name in ("vocal", "choir") else (),
        density=density,
        legato=legato,
        rest_prob=0.25,
    )


#: the unique part of a long mood track is at most this long (s); the rest loops it, bar-aligned
MOOD_SECTION_SECONDS = 24.0
#: reverb and release tail carried over a loop seam (s)
LOOP_TAIL_SECONDS = 2.0


def render_mood_track(
    tags: Sequence[str],
    index: int,
    seed: int = 0,
    duration: float = 30.0,
    sr: int = JAMENDO_SAMPLE_RATE,
    artist: int | None = None,
) -> np.ndarray:
    """A track carrying ``tags``: ``round(duration * sr)`` float32 mono samples at ``sr`` Hz.

    Deterministic in ``(tags, index, seed, artist)`` (``index``: the track number; ``artist``:
    the artist number, whose style colours all its tracks). Tracks longer than
    :data:`MOOD_SECTION_SECONDS` loop a bar-aligned section, with its tails overlapping the seams.
    """
    duration = _check_duration(duration, "duration")
    rng = _rng(seed, "jamendo-track", index)
    artist_rng = None if artist is None else _rng(seed, "jamendo-artist", artist)
    lat = mood_latent(list(tags), rng, artist_rng)
    arr = mood_arrangement(lat, rng, tags)
    n = int(round(duration * sr))
    bar = arr.grid.beat * arr.grid.beats_per_bar
    section_bars = max(1, int(MOOD_SECTION_SECONDS // bar))
    if duration <= MOOD_SECTION_SECONDS + bar or arr.grid.rubato > 0:
        return render_arrangement(arr, sr, duration, rng)
    section = render_arrangement(
        arr, sr, section_bars * bar + LOOP_TAIL_SECONDS, rng, n_bars=section_bars
    ).astype(np.float64)
    period = int(round(section_bars * bar * sr))
    out = np.zeros(n + section.size)
    for start in range(0, n, period):
        out[start : start + section.size] += section
    out = out[:n]
    return (out * (_db(arr.fx.peak_db) / np.max(np.abs(out)))).astype(np.float32)


# =============================================================================================
# Writing the datasets
# =============================================================================================


def _write_audio(path: Path, y: np.ndarray, sr: int, fmt: str, subtype: str | None) -> None:
    with atomic_path(path) as tmp:
        sf.write(tmp, y, sr, format=fmt, subtype=subtype)


def _gtzan_task(genre: str, index: int, seed: int, duration: float, path: str) -> str:
    y = render_genre_clip(genre, index, seed, duration=duration)
    _write_audio(Path(path), y, GTZAN_SAMPLE_RATE, "WAV", "PCM_16")
    return path


def _jamendo_task(
    tags: tuple[str, ...], number: int, seed: int, duration: float, artist: int, path: str
) -> str:
    y = render_mood_track(tags, number, seed, duration=duration, artist=artist)
    _write_audio(Path(path), y, JAMENDO_SAMPLE_RATE, "MP3", None)
    return path


def _call(task: tuple) -> str:
    fn, args = task
    return fn(*args)


def _check_jobs(jobs) -> int:
    if jobs is None:
        return os.cpu_count() or 1
    return _check_count(jobs, "jobs", 1, 1024)


def _run_tasks(tasks: list[tuple[Callable, tuple]], jobs: int, progress: bool, desc: str) -> None:
    """Run ``(function, args)`` tasks, each writing its own file, in ``jobs`` processes.

    Every task is a pure function of its arguments, so the files do not depend on scheduling.
    """
    from tqdm.auto import tqdm

    with tqdm(total=len(tasks), desc=desc, unit="file", disable=not progress) as bar:
        if jobs <= 1 or len(tasks) <= 1:
            for task in tasks:
                _call(task)
                bar.update()
            return
        with ProcessPoolExecutor(max_workers=min(jobs, len(tasks))) as pool:
            for _ in pool.map(_call, tasks, chunksize=1):
                bar.update()


# ------------------------------------------------------------------------------------- GTZAN


def _gtzan_plan(
    root: Path, clips_per_genre: int, seed: int, duration: float
) -> list[tuple[Callable, tuple]]:
    return [
        (
            _gtzan_task,
            (genre, i, seed, duration, str(root / "genres" / genre / f"{genre}.{i:05d}.wav")),
        )
        for genre in GTZAN_GENRES
        for i in range(clips_per_genre)
    ]


def _write_gtzan_artists(root: Path, clips_per_genre: int, seed: int) -> None:
    lines = ["track_id,artist"]
    for genre in GTZAN_GENRES:
        runs = _artist_runs(genre, seed)
        for i in range(clips_per_genre):
            lines.append(f"{genre}.{i:05d},{genre}_artist_{runs[i] + 1:02d}")
    write_text_atomic(root / "artists.csv", "\n".join(lines) + "\n", newline="")


def _check_gtzan_args(clips_per_genre, duration) -> tuple[int, float]:
    return (
        _check_count(clips_per_genre, "clips_per_genre", 1, MAX_CLIPS_PER_GENRE),
        _check_duration(duration, "duration"),
    )


def make_gtzan(
    root,
    clips_per_genre: int = DEFAULT_CLIPS_PER_GENRE,
    seed: int = 0,
    jobs: int = 1,
    progress: bool = True,
    duration: float = GTZAN_DURATION,
) -> Path:
    """Write a GTZAN-shaped set under ``root`` and return ``root``.

    ``root/genres/<genre>/<genre>.NNNNN.wav``: ``clips_per_genre`` (1-100) clips per genre,
    22,050 Hz mono 16-bit PCM, ``duration`` seconds each (30 s: 661,500 samples); and
    ``root/artists.csv`` (``track_id,artist``, LF line ends). ``jobs`` worker processes;
    ``progress`` shows a progress bar. Same arguments, same bytes.
    """
    clips_per_genre, duration = _check_gtzan_args(clips_per_genre, duration)
    seed, jobs, root = _check_seed(seed), _check_jobs(jobs), Path(root)
    _run_tasks(
        _gtzan_plan(root, clips_per_genre, seed, duration), jobs, progress, "synthetic GTZAN"
    )
    _write_gtzan_artists(root, clips_per_genre, seed)
    return root


# ------------------------------------------------------------------------------- MTG-Jamendo


@dataclass(frozen=True)
class JamendoTrack:
    """One planned track of the synthetic MTG-Jamendo set (numbers become the TSV's ids)."""

    number: int
    artist: int
    album: int
    duration: float  # s, one decimal
    tags: tuple[str, ...]

    @property
    def track_id(self) -> str:
        return f"track_{self.number:07d}"

    @property
    def relpath(self) -> str:
        return f"{self.number % 100:02d}/{self.number}.mp3"

    def row(self, drop: Iterable[str] = ()) -> str | None:
        """The TSV row (without line end); ``None`` when dropping tags leaves none."""
        tags = [t for t in self.tags if t not in set(drop)]
        if not tags:
            return None
        return "\t".join(
            [
                self.track_id,
                f"artist_{self.artist:06d}",
                f"album_{self.album:06d}",
                self.relpath,
                f"{self.duration:.1f}",
                *(TAG_PREFIX + t for t in sorted(tags)),
            ]
        )


#: tracks per artist: 1 + a geometric draw, at most this many
MAX_TRACKS_PER_ARTIST = 12
#: track lengths, skewed toward short ones: most are min + SHORT_SPAN * (max - min) * Beta(a, b)
#: (30-90 s by default, about 40 s on average); LONG_TRACK_PROB of them are uniform over the
#: rest of the range (90-180 s)
SHORT_SPAN = 0.4
DURATION_BETA = (0.7, 3.5)
LONG_TRACK_PROB = 0.05


def plan_jamendo(
    n_tracks: int = DEFAULT_N_TRACKS,
    seed: int = 0,
    min_duration: float = DEFAULT_MIN_DURATION,
    max_duration: float = DEFAULT_MAX_DURATION,
) -> list[JamendoTrack]:
    """The tracks of the synthetic mood set, ordered by track number: ids, artists (a few tracks
    each, consecutive numbers), albums, durations (s) and tags (:func:`sample_tags`)."""
    n_tracks = _check_count(n_tracks, "n_tracks", 1, 20_000)
    min_duration = _check_duration(min_duration, "min_duration")
    max_duration = _check_duration(max_duration, "max_duration")
    if max_duration < min_duration:
        raise ConfigError(f"max_duration ({max_duration}) must be >= min_duration ({min_duration})")
    rng = _rng(seed, "jamendo-plan")
    tags = sample_tags(n_tracks, seed)
    sizes: list[int] = []
    while sum(sizes) < n_tracks:
        sizes.append(int(min(rng.geometric(0.3), MAX_TRACKS_PER_ARTIST)))
    sizes[-1] -= sum(sizes) - n_tracks
    numbers = np.sort(rng.choice(1_500_000, size=n_tracks, replace=False) + 1)
    artists = np.sort(rng.choice(999_999, size=len(sizes), replace=False) + 1)
    albums = iter(np.sort(rng.choice(999_999, size=3 * len(sizes), replace=False) + 1).tolist())
    span = max_duration - min_duration
    short = min_duration + SHORT_SPAN * span * rng.beta(*DURATION_BETA, size=n_tracks)
    long = min_duration + span * rng.uniform(SHORT_SPAN, 1.0, size=n_tracks)
    raw = np.where(rng.random(n_tracks) < LONG_TRACK_PROB, long, short)
    durations = np.clip(
        np.round(raw, 1), round(min_duration, 1), round(max_duration, 1)
    )  # 0.1 s steps
    plan, i = [], 0
    for artist, size in zip(artists.tolist(), sizes):
        artist_albums = [next(albums) for _ in range(3)][: int(rng.integers(1, 4))]
        for _ in range(size):
            plan.append(
                JamendoTrack(
                    int(numbers[i]),
                    artist,
                    artist_albums[int(rng.integers(len(artist_albums)))],
                    float(durations[i]),
                    tags[i],
                )
            )
            i += 1
    return plan


def assign_splits(plan: Sequence[JamendoTrack], seed: int = 0) -> dict[str, list[JamendoTrack]]:
    """Artist-disjoint train/validation/test parts of about :data:`SPLIT_FRACTIONS` of the tracks
    that keep a tag once :data:`SPLIT_DROPPED_TAGS` are removed (the others are left out)."""
    rng = _rng(seed, "jamendo-split")
    kept = [t for t in plan if t.row(SPLIT_DROPPED_TAGS) is not None]
    by_artist: dict[int, list[JamendoTrack]] = {}
    for t in kept:
        by_artist.setdefault(t.artist, []).append(t)
    parts: dict[str, list[JamendoTrack]] = {p: [] for p in SPLIT_FRACTIONS}
    for artist in rng.permutation(sorted(by_artist)).tolist():
        deficit = {p: SPLIT_FRACTIONS[p] * len(kept) - len(parts[p]) for p in parts}
        parts[max(deficit, key=deficit.get)].extend(by_artist[artist])
    return {p: sorted(ts, key=lambda t: t.number) for p, ts in parts.items()}


def _tsv(rows: Iterable[str]) -> str:
    return "".join(line + "\r\n" for line in ["\t".join(JAMENDO_HEADER), *rows])


def _write_jamendo_metadata(root: Path, plan: Sequence[JamendoTrack], seed: int) -> None:
    write_text_atomic(root / "autotagging_moodtheme.tsv", _tsv(t.row() for t in plan), newline="")
    for part, tracks in assign_splits(plan, seed).items():
        write_text_atomic(
            root / "splits" / "split-0" / f"autotagging_moodtheme-{part}.tsv",
            _tsv(t.row(SPLIT_DROPPED_TAGS) for t in tracks),
            newline="",
        )


def _jamendo_tasks(
    root: Path, plan: Sequence[JamendoTrack], seed: int
) -> list[tuple[Callable, tuple]]:
    # the longest first, so that the workers finish together
    order = sorted(plan, key=lambda t: (-t.duration, t.number))
    return [
        (_jamendo_task, (t.tags, t.number, seed, t.duration, t.artist, str(root / t.relpath)))
        for t in order
    ]


def make_jamendo(
    root,
    n_tracks: int = DEFAULT_N_TRACKS,
    seed: int = 0,
    jobs: int = 1,
    progress: bool = True,
    min_duration: float = DEFAULT_MIN_DURATION,
    max_duration: float = DEFAULT_MAX_DURATION,
) -> Path:
    """Write an MTG-Jamendo-shaped mood/theme set under ``root`` and return ``root``.

    ``root/autotagging_moodtheme.tsv`` (59 tags), ``root/splits/split-0/autotagging_moodtheme-
    {train,validation,test}.tsv`` (artist-disjoint, 56 tags) and ``root/NN/ID.mp3`` (16,000 Hz
    mono), ``n_tracks`` tracks of ``min_duration`` to ``max_duration`` seconds. Same arguments, same bytes.
    """
    seed, jobs, root = _check_seed(seed), _check_jobs(jobs), Path(root)
    plan = plan_jamendo(n_tracks, seed, min_duration, max_duration)
    _run_tasks(_jamendo_tasks(root, plan, seed), jobs, progress, "synthetic MTG-Jamendo")
    _write_jamendo_metadata(root, plan, seed)
    return root


def make_all(
    root,
    clips_per_genre: int = DEFAULT_CLIPS_PER_GENRE,
    n_tracks: int = DEFAULT_N_TRACKS,
    seed: int = 0,
    jobs: int = 1,
    progress: bool = True,
) -> dict[str, Path]:
    """Write both sets, ``root/gtzan`` (:func:`make_gtzan`) and ``root/mtg-jamendo``
    (:func:`make_jamendo`), sharing one pool of ``jobs`` processes; return their paths."""
    clips_per_genre, duration = _check_gtzan_args(clips_per_genre, GTZAN_DURATION)
    seed, jobs, root = _check_seed(seed), _check_jobs(jobs), Path(root)
    paths = {"gtzan": root / "gtzan", "mtg-jamendo": root / "mtg-jamendo"}
    plan = plan_jamendo(n_tracks, seed)
    tasks = _jamendo_tasks(paths["mtg-jamendo"], plan, seed) + _gtzan_plan(
        paths["gtzan"], clips_per_genre, seed, duration
    )
    _run_tasks(tasks, jobs, progress, "synthetic data")
    _write_gtzan_artists(paths["gtzan"], clips_per_genre, seed)
    _write_jamendo_metadata(paths["mtg-jamendo"], plan, seed)
    return paths
