"""MTG-Jamendo mood/theme tags: what each tag sounds like, and how a track's tags are drawn.

:data:`TAG_PROFILES` places every tag on five latent axes (energy, valence, brightness, density,
space) and weights instrument layers, drum patterns and textures; :func:`sample_tags` draws the
tag sets of a whole set with the real tag frequencies and tags-per-track distribution. No audio
here: the mood generator (:mod:`.mood`) turns the profiles into music. Built on
:mod:`.constants` and :mod:`.common`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .common import _check_count, _rng
from .constants import MOODTHEME_TAG_COUNTS, TAGS_PER_TRACK_PROBS


@dataclass(frozen=True)
class TagProfile:
    """What a tag sounds like: offsets on five latent axes and layer weights.

    Attributes
    ----------
    energy : float
        About -1..1: tempo, drums, loudness and compression.
    valence : float
        About -1..1: the mode (major/minor) and register.
    brightness : float
        About -1..1: the low-pass cutoff and the timbres' harmonic slopes.
    density : float
        About -1..1: notes per beat and the number of layers.
    space : float
        About -1..1: reverb, echo and pads.
    tempo : float
        Extra tempo offset (BPM).
    layers : dict[str, float]
        Weights of the instrument layers of :data:`~.mood.MOOD_LAYERS`, of drum patterns
        (``"drums:<pattern>"``, ``"drums:none"``) and of textures (``"texture:<name>"``).
    strength : float > 0
        Scales the whole profile (themes such as film or background are weaker).
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


#: tag affinity in the draw of a track's second and later tags (0 = independent tags)
TAG_AFFINITY = 1.0


def _profile_vector(p: TagProfile) -> np.ndarray:
    return p.strength * np.asarray([p.energy, p.valence, p.brightness, p.density, p.space])


def sample_tags(n_tracks: int, seed: int = 0) -> list[tuple[str, ...]]:
    """The tags of every track of a synthetic MTG-Jamendo set.

    The number of tags follows :data:`TAGS_PER_TRACK_PROBS` (5 stands for 5 or 6); the first tag
    is drawn with the frequencies of :data:`MOODTHEME_TAG_COUNTS`, later ones with those
    frequencies times a mild affinity to the tags already drawn (:data:`TAG_AFFINITY`: happy goes
    with fun more often than with sad), as in the real data. With at least two tag slots per tag,
    every tag occurs: each missing tag replaces one occurrence of the most over-represented one.

    Parameters
    ----------
    n_tracks : int in [1, 100000]
        Number of tracks.
    seed : int >= 0
        Seed of the whole set.

    Returns
    -------
    list of tuple of str
        ``n_tracks`` tag sets, each sorted alphabetically, tags without the TSV prefix.

    Raises
    ------
    ConfigError
        If ``seed`` is not a non-negative integer or ``n_tracks`` not an integer in
        [1, 100000].
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
