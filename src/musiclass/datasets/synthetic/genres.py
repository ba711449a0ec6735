"""GTZAN genres: the ten genre recipes, synthetic artists and their styles, and the clips.

A :class:`GenreRecipe` gives ranges and weighted choices for everything a genre's clip plays;
each synthetic artist (a run of consecutive clips) narrows the recipe to a style of its own and
may borrow a recipe group from a neighbouring genre (:func:`artist_style`);
:func:`genre_arrangement` samples one clip's :class:`~.arrangement.Arrangement` from it and
:func:`render_genre_clip` renders it. Built on :mod:`.arrangement`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ...errors import ConfigError
from .arrangement import ROLE_GAINS, Arrangement, DrumSpec, MasterFx, PartSpec, render_arrangement
from .common import _check_duration, _check_index, _log_uniform, _pick, _rng, _uniform
from .constants import (
    GTZAN_DURATION,
    GTZAN_GENRES,
    GTZAN_SAMPLE_RATE,
    MAX_CLIPS_PER_GENRE,
    PEAK_DBFS,
)
from .harmony import PROGRESSIONS, SCALES, Grid, Harmony
from .instruments import LEAD_REGISTERS, TIMBRES, Timbre, vary_timbre


@dataclass(frozen=True)
class GenreRecipe:
    """The musical recipe of a genre: ``(lo, hi)`` ranges and ``{option: weight}`` choices.

    Numbers are drawn uniformly from their range per clip (``lowpass_hz`` log-uniformly);
    choices with the weights. An artist's style (:func:`artist_style`) is a recipe too, with
    narrower ranges and fewer options.

    Attributes
    ----------
    tempo : (float, float)
        Tempo (BPM).
    swing : (float, float)
        Swing, 0 straight .. 1 triplet feel (see :class:`~.harmony.Grid`).
    progressions : dict[str, float]
        Keys of :data:`~.harmony.PROGRESSIONS`.
    drums : dict[str, float]
        Keys of :data:`~.drums.DRUM_PATTERNS`; ``""`` means no drums. A clip in 3/4 plays
        ``"waltz"``.
    kits : dict[str, float]
        Keys of :data:`~.drums.DRUM_KITS`.
    bass, chords : dict[str, float]
        Band parts written ``"style:timbre"`` (a compose style and a key of
        :data:`~.instruments.TIMBRES`).
    leads : dict[str, float]
        ``"role:timbre"``, role ``melody``, ``rap`` or ``growl`` (a distorted low rap);
        ``"none"`` = no lead.
    extras : dict[str, float]
        Optional layers ``"role:style:timbre"`` -> probability (not a weight): each is added
        independently. A ``melody`` extra is a second, quieter lead.
    lead_density : (float, float)
        Lead notes per beat.
    drive : (float, float)
        Distortion of the guitar parts (see :class:`~.arrangement.PartSpec`).
    lowpass_hz : (float, float)
        Recording bandwidth (Hz).
    lofi_prob : float in [0, 1]
        Chance of an old recording: 2.2-5 kHz bandwidth, high-passed, +12 dB hiss, crackle.
    reverb : (float, float)
        Reverb wet share.
    compression : (float, float)
        Soft-clip drive of the mix.
    noise_db : (float, float)
        Hiss (dB relative to the music's RMS).
    dynamics_db : (float, float)
        Depth of the slow loudness wander (dB).
    drum_gain : (float, float)
        Drum level relative to a part.
    mix : dict[str, float]
        Gain factor per role (``"bass"``, ``"chords"``, ``"melody"``, ``"rap"``, ``"pad"``, ...)
        and for ``"drums"``; absent roles 1.
    rubato : (float, float)
        Tempo wander (a fraction, see :class:`~.harmony.Grid`).
    echo : (float, float)
        Dub-echo level.
    meters : dict[int, float]
        Beats per bar.
    bars_per_chord : dict[float, float]
        Harmonic rhythm (bars per chord).
    neighbours : tuple of str
        Genres an artist may borrow a recipe group from (:data:`RECIPE_GROUPS`).
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


GUITARS = ("dist_guitar", "clean_guitar", "bass_dist")
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


#: how many consecutive clips one synthetic artist plays (inclusive range): short runs give a
#: 20-clip genre 8-12 artists, enough for artist-disjoint splits with test artists in every genre
ARTIST_RUN = (1, 3)


def _artist_runs(genre: str, seed: int) -> np.ndarray:
    """Artist number (0-based) of each of the 100 possible clips of ``genre``; consecutive clips
    share an artist, as on real GTZAN albums. Independent of how many clips are written."""
    rng = _rng(seed, "gtzan-artists", genre)
    out: list[int] = []
    artist = 0
    while len(out) < MAX_CLIPS_PER_GENRE:
        out += [artist] * int(rng.integers(ARTIST_RUN[0], ARTIST_RUN[1] + 1))
        artist += 1
    return np.asarray(out[:MAX_CLIPS_PER_GENRE])


def clip_artist(genre: str, index: int, seed: int = 0) -> int:
    """The synthetic artist of a clip.

    Artists play runs of 1-3 consecutive clips (:data:`ARTIST_RUN`), as on real GTZAN albums; the
    runs are drawn for all :data:`MAX_CLIPS_PER_GENRE` clips, so a clip's artist does not depend
    on how many clips are written.

    Parameters
    ----------
    genre : str
        One of :data:`GTZAN_GENRES` (not checked: any name gives some runs).
    index : int in [0, 100)
        Clip number within the genre.
    seed : int >= 0
        Seed of the whole set.

    Returns
    -------
    int
        The artist's 0-based number within the genre.

    Raises
    ------
    ConfigError
        If ``seed`` is not a non-negative integer.
    IndexError
        If ``index >= MAX_CLIPS_PER_GENRE``.
    """
    return int(_artist_runs(genre, seed)[index])


def artist_style(genre: str, artist: int, seed: int = 0) -> GenreRecipe:
    """An artist's style: the genre recipe narrowed to one sound, maybe crossed with a neighbour.

    Each recipe group (:data:`RECIPE_GROUPS`) comes, with chance :data:`BORROW_PROB`, from a
    neighbouring genre's recipe instead; each choice is then narrowed to one option (bass,
    chords, leads, kits: :data:`ARTIST_CHOICES`) or up to two, and each range to
    :data:`ARTIST_RANGE_SHARE` of its width around a random centre. ``extras`` and ``mix`` are
    kept as they are.

    Parameters
    ----------
    genre : str
        One of :data:`GTZAN_GENRES`.
    artist : int >= 0
        The artist's number within the genre (:func:`clip_artist`).
    seed : int >= 0
        Seed of the whole set.

    Returns
    -------
    GenreRecipe
        The artist's style.

    Raises
    ------
    KeyError
        If ``genre`` is not a key of :data:`GENRE_RECIPES`.
    ConfigError
        If ``seed`` is not a non-negative integer.
    """
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
    """The arrangement of one GTZAN clip, sampled from its artist's style.

    Key, progression, tempo, meter, swing, band parts (per-artist timbres, varied a little per
    clip), drums and production are drawn from :func:`artist_style`; deterministic in
    ``(genre, index, seed)``.

    Parameters
    ----------
    genre : str
        One of :data:`GTZAN_GENRES`.
    index : int in [0, 100)
        Clip number within the genre.
    seed : int >= 0
        Seed of the whole set.

    Returns
    -------
    Arrangement
        What the clip plays and how it is mixed.

    Raises
    ------
    ConfigError
        If ``genre`` is unknown, ``index`` is not an integer in [0, 100) or ``seed`` is not a
        non-negative integer.
    """
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


def render_genre_clip(
    genre: str,
    index: int,
    seed: int = 0,
    duration: float = GTZAN_DURATION,
    sr: int = GTZAN_SAMPLE_RATE,
) -> np.ndarray:
    """Clip ``index`` of ``genre``, rendered in memory.

    Deterministic in ``(genre, index, seed, duration, sr)``: :func:`make_gtzan` writes exactly
    these samples (as 16-bit PCM).

    Parameters
    ----------
    genre : str
        One of :data:`GTZAN_GENRES`.
    index : int in [0, 100)
        Clip number within the genre.
    seed : int >= 0
        Seed of the whole set.
    duration : float in [1, 3600]
        Length (s).
    sr : int > 0
        Sample rate (Hz).

    Returns
    -------
    y : np.ndarray [shape=(round(duration * sr),), dtype=float32]
        Mono samples peaking at or below :data:`PEAK_DBFS` (-1 dBFS).

    Raises
    ------
    ConfigError
        If ``duration`` is not a number in [1, 3600], ``genre`` is unknown, ``index`` is not an
        integer in [0, 100) or ``seed`` is not a non-negative integer.
    RuntimeError
        If the rendered mix is silent or not finite.
    """
    _check_duration(duration, "duration")
    arr = genre_arrangement(genre, index, seed)
    return render_arrangement(arr, sr, duration, _rng(seed, "gtzan-render", genre, index))
