"""The mood generator: from a track's tags to a latent mood, an arrangement and the audio.

:func:`mood_latent` sums the tags' profiles (:mod:`.tags`), an artist's offsets and noise into a
:class:`MoodLatent`; :func:`mood_arrangement` maps it to tempo, mode, instrumentation, drums and
production; :func:`render_mood_track` renders a track of any length (long tracks loop a
bar-aligned section). Built on :mod:`.arrangement` and :mod:`.tags`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from ...errors import ConfigError
from .arrangement import (
    ROLE_GAINS,
    Arrangement,
    DrumSpec,
    MasterFx,
    PartSpec,
    render_arrangement,
)
from .common import _check_duration, _rng
from .constants import JAMENDO_SAMPLE_RATE, PEAK_DBFS
from .dsp import _db
from .harmony import PROGRESSIONS, SCALES, Grid, Harmony
from .instruments import LEAD_REGISTERS, TIMBRES, vary_timbre
from .tags import TAG_PROFILES, _profile_vector

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


#: softmax temperature of the layer and drum choices (lower: the tags decide more, chance less)
LAYER_TEMPERATURE = 0.5


#: latent noise (standard deviation per axis) added to every track: tags are not trivially audible
MOOD_NOISE = 0.15


@dataclass
class MoodLatent:
    """A track's position on the latent mood axes and its layer weights.

    The axes are those of :class:`~.tags.TagProfile`, summed over the track's tags.

    Attributes
    ----------
    energy, valence, brightness, density, space : float
        Latent axes, about -2..2 (a sum of tag profiles plus noise).
    tempo : float
        Tempo offset (BPM) on top of what the axes give.
    layers : dict[str, float]
        Weights of the instrument layers, drum patterns (``"drums:<pattern>"``) and textures
        (``"texture:<name>"``) the arrangement draws from.
    """

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
    """A track's latent mood: its tags' profiles, its artist's offsets and noise.

    The axes are the sum of the tags' profiles (each scaled by its ``strength``) divided by
    ``sqrt(len(tags))``, plus the artist's offsets (all axes but valence) and
    :data:`MOOD_NOISE`; the tempo offset likewise, plus 8 BPM of noise. Layer weights start from
    :data:`MOOD_BASE_LAYERS`, add the tags' weights and the artist's favourite layer, then follow
    the axes (:data:`AXIS_LAYER_BOOSTS`).

    Parameters
    ----------
    tags : sequence of str
        The track's tags, keys of :data:`~.tags.TAG_PROFILES` (without the TSV prefix).
    rng : np.random.Generator
        The track's own generator (the noise).
    artist_rng : np.random.Generator, optional
        The artist's generator (a fresh one per track, seeded by the artist, so all its tracks
        share the offsets); ``None``: no artist colour.

    Returns
    -------
    MoodLatent
        The track's latent position and layer weights.

    Raises
    ------
    ConfigError
        If ``tags`` is empty or holds a tag that is not an MTG-Jamendo mood/theme tag.
    """
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

    Energy ``e``: tempo (+28 BPM per unit), drums (more likely, louder), compression, peak
    level, faster harmonic rhythm. Valence ``v``: P(major) = sigmoid(2.5 v), register
    (+4 semitones per unit), a little brightness and tempo. Brightness ``b``: master low-pass
    cutoff (2.5 kHz x 2^(1.3 b)) and harmonic slopes. Space ``s``: reverb amount and length,
    dub echo, fewer drums. Density: see :func:`_mood_parts`. Christmas/holiday and horror tags
    pick their own progressions; retro/game may be bit-crushed.

    Parameters
    ----------
    lat : MoodLatent
        The track's latent position (:func:`mood_latent`).
    rng : np.random.Generator
        The track's generator.
    tags : sequence of str
        The track's tags (only the special cases above look at them).

    Returns
    -------
    Arrangement
        Tempo 52-185 BPM in 4/4, key and progression, parts, drums (or none), textures and
        production.
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
    """A track carrying ``tags``, rendered in memory.

    Deterministic in ``(tags, index, seed, artist, duration, sr)``: :func:`make_jamendo` writes
    these samples (MP3-encoded). Tracks longer than :data:`MOOD_SECTION_SECONDS` plus a bar
    repeat a bar-aligned section, each repeat's tail (:data:`LOOP_TAIL_SECONDS`) overlapping
    the next.

    Parameters
    ----------
    tags : sequence of str
        MTG-Jamendo mood/theme tags (without the TSV prefix).
    index : int
        The track number (seeds the track's generator).
    seed : int >= 0
        Seed of the whole set.
    duration : float in [1, 3600]
        Length (s).
    sr : int > 0
        Sample rate (Hz).
    artist : int, optional
        The artist number, whose style colours all its tracks; ``None``: no artist colour.

    Returns
    -------
    y : np.ndarray [shape=(round(duration * sr),), dtype=float32]
        Mono samples peaking at the arrangement's ``fx.peak_db`` (at most :data:`PEAK_DBFS`).

    Raises
    ------
    ConfigError
        If ``duration`` is not a number in [1, 3600], ``seed`` is not a non-negative integer or
        ``tags`` is empty or holds an unknown tag.
    RuntimeError
        If the rendered mix is silent or not finite.
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
