"""The synthetic sets' public constants: labels, the real tag statistics, file formats, defaults.

Everything here describes the *datasets* (what the real GTZAN and MTG-Jamendo mood/theme subset
look like on disk, and the defaults of the generators), not how the audio is made. The bottom
layer of the package, with :mod:`.common` and :mod:`.dsp`: it imports no sibling module.
"""

from __future__ import annotations

from ..gtzan import GENRES
from ..jamendo import SPLIT_DROPPED_TAGS as _JAMENDO_SPLIT_DROPPED

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
