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

Known faults (read from the code; the figures are for seed 0):

- Every mood track loops. A track longer than :data:`MOOD_SECTION_SECONDS` (24 s) plus a bar
  repeats one bar-aligned section, and tracks are at least 30 s by default, so none holds more
  than about 24 s of distinct music.
- Small mood sets miss tags. All 59 tags are guaranteed only when the tracks have at least two
  tag slots per tag (118, about 70 tracks); 30 tracks carry 32 of them.
- Small GTZAN sets have few artists. Artists play runs of 1-3 consecutive clips, so with 3 clips
  per genre 3 of the 10 genres have a single artist, and with 20 clips 8-13 artists; artist-disjoint
  splits of very small sets are coarse.

The code is layered: each module imports only modules listed before it here (no cycles), from
the foundations (constants, seeding, signal helpers) to the writer:

:mod:`.constants`
    the datasets' public constants (labels, the real tag statistics, file formats, defaults);
:mod:`.common`
    deterministic random streams (``(seed, *keys)`` -> generator) and argument checks;
:mod:`.dsp`
    filters, saturation, formants, reverb, echo, bit-crushing, envelopes;
:mod:`.instruments`
    timbres, note lists and the wavetable note renderer;
:mod:`.drums`
    drum patterns, kits and one-shots;
:mod:`.harmony`
    the time grid, chord qualities, scales and progressions;
:mod:`.compose`
    bass lines, accompaniments and melodies as note lists;
:mod:`.arrangement`
    part, drum and mix-bus specifications and the one renderer of both datasets;
:mod:`.genres`
    GTZAN genre recipes, artists and their styles, clips;
:mod:`.tags`
    MTG-Jamendo tag profiles and tag sampling;
:mod:`.mood`
    the mood latent space and the mood generator;
:mod:`.writer`
    the on-disk layouts, metadata files and parallel writing.

Every public name of those modules is re-exported here, so callers write
``from musiclass.datasets import synthetic`` and ``synthetic.make_gtzan(...)``.
"""

from __future__ import annotations

from .arrangement import (
    ROLE_GAINS,
    TEXTURE_GAIN,
    Arrangement,
    DrumSpec,
    MasterFx,
    PartSpec,
    render_arrangement,
)
from .compose import (
    compose_bass,
    compose_chords,
    compose_melody,
)
from .constants import (
    DEFAULT_CLIPS_PER_GENRE,
    DEFAULT_MAX_DURATION,
    DEFAULT_MIN_DURATION,
    DEFAULT_N_TRACKS,
    GENERATOR_VERSION,
    GTZAN_DURATION,
    GTZAN_GENRES,
    GTZAN_SAMPLE_RATE,
    JAMENDO_HEADER,
    JAMENDO_SAMPLE_RATE,
    MAX_CLIPS_PER_GENRE,
    MOODTHEME_TAG_COUNTS,
    PEAK_DBFS,
    SPLIT_DROPPED_TAGS,
    SPLIT_FRACTIONS,
    TAG_PREFIX,
    TAGS_PER_TRACK_PROBS,
)
from .drums import (
    DRUM_KITS,
    DRUM_PATTERNS,
    make_kit,
)
from .dsp import (
    VOWEL_FORMANTS,
    bandpass,
    bitcrush,
    echo,
    formant_filter,
    highpass,
    lowpass,
    reverb,
    saturate,
)
from .genres import (
    ARTIST_CHOICES,
    ARTIST_RANGE_SHARE,
    ARTIST_RUN,
    BORROW_PROB,
    GENRE_RECIPES,
    GUITARS,
    RECIPE_GROUPS,
    VOICE_VOWELS,
    GenreRecipe,
    artist_style,
    clip_artist,
    genre_arrangement,
    render_genre_clip,
)
from .harmony import (
    CHORD_QUALITIES,
    PROGRESSIONS,
    SCALES,
    Grid,
    Harmony,
)
from .instruments import (
    DECAY_TAIL,
    LEAD_REGISTERS,
    MAX_TAIL,
    RELEASE_TAIL,
    RENDER_CHUNK,
    SUSTAIN_EPS,
    TABLE_SIZE,
    TIMBRES,
    Notes,
    Timbre,
    midi_to_hz,
    power_chord_timbre,
    render_notes,
    vary_timbre,
)
from .mood import (
    AXIS_LAYER_BOOSTS,
    LAYER_TEMPERATURE,
    LOOP_TAIL_SECONDS,
    MAJOR_PROGRESSIONS,
    MINOR_PROGRESSIONS,
    MOOD_BASE_LAYERS,
    MOOD_DRUMS,
    MOOD_LAYERS,
    MOOD_NOISE,
    MOOD_SECTION_SECONDS,
    MOOD_TEXTURES,
    MoodLatent,
    mood_arrangement,
    mood_latent,
    render_mood_track,
)
from .tags import (
    TAG_AFFINITY,
    TAG_PROFILES,
    TagProfile,
    sample_tags,
)
from .writer import (
    DURATION_BETA,
    LONG_TRACK_PROB,
    MAX_TRACKS_PER_ARTIST,
    SHORT_SPAN,
    JamendoTrack,
    assign_splits,
    make_all,
    make_gtzan,
    make_jamendo,
    plan_jamendo,
)

__all__ = [
    "GTZAN_GENRES",
    "MOODTHEME_TAG_COUNTS",
    "SPLIT_DROPPED_TAGS",
    "TAGS_PER_TRACK_PROBS",
    "TAG_PREFIX",
    "JAMENDO_HEADER",
    "SPLIT_FRACTIONS",
    "GENERATOR_VERSION",
    "GTZAN_SAMPLE_RATE",
    "GTZAN_DURATION",
    "MAX_CLIPS_PER_GENRE",
    "JAMENDO_SAMPLE_RATE",
    "DEFAULT_CLIPS_PER_GENRE",
    "DEFAULT_N_TRACKS",
    "DEFAULT_MIN_DURATION",
    "DEFAULT_MAX_DURATION",
    "PEAK_DBFS",
    "VOWEL_FORMANTS",
    "lowpass",
    "highpass",
    "bandpass",
    "saturate",
    "formant_filter",
    "reverb",
    "echo",
    "bitcrush",
    "TABLE_SIZE",
    "Timbre",
    "TIMBRES",
    "vary_timbre",
    "Notes",
    "midi_to_hz",
    "RENDER_CHUNK",
    "render_notes",
    "RELEASE_TAIL",
    "DECAY_TAIL",
    "MAX_TAIL",
    "SUSTAIN_EPS",
    "power_chord_timbre",
    "LEAD_REGISTERS",
    "DRUM_PATTERNS",
    "DRUM_KITS",
    "make_kit",
    "Grid",
    "CHORD_QUALITIES",
    "SCALES",
    "PROGRESSIONS",
    "Harmony",
    "compose_bass",
    "compose_chords",
    "compose_melody",
    "PartSpec",
    "DrumSpec",
    "MasterFx",
    "Arrangement",
    "ROLE_GAINS",
    "TEXTURE_GAIN",
    "render_arrangement",
    "GenreRecipe",
    "GENRE_RECIPES",
    "RECIPE_GROUPS",
    "BORROW_PROB",
    "ARTIST_CHOICES",
    "ARTIST_RANGE_SHARE",
    "GUITARS",
    "VOICE_VOWELS",
    "ARTIST_RUN",
    "clip_artist",
    "artist_style",
    "genre_arrangement",
    "render_genre_clip",
    "TagProfile",
    "TAG_PROFILES",
    "TAG_AFFINITY",
    "sample_tags",
    "MOOD_LAYERS",
    "MOOD_BASE_LAYERS",
    "MOOD_DRUMS",
    "MOOD_TEXTURES",
    "LAYER_TEMPERATURE",
    "MOOD_NOISE",
    "MoodLatent",
    "mood_latent",
    "AXIS_LAYER_BOOSTS",
    "MAJOR_PROGRESSIONS",
    "MINOR_PROGRESSIONS",
    "mood_arrangement",
    "MOOD_SECTION_SECONDS",
    "LOOP_TAIL_SECONDS",
    "render_mood_track",
    "make_gtzan",
    "JamendoTrack",
    "MAX_TRACKS_PER_ARTIST",
    "SHORT_SPAN",
    "DURATION_BETA",
    "LONG_TRACK_PROB",
    "plan_jamendo",
    "assign_splits",
    "make_jamendo",
    "make_all",
]
