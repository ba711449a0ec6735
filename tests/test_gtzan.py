"""GTZAN loader: synthetic trees in the real layouts, the shipped split lists, and the real sample.

Synthetic clips are sine tones written with soundfile at a low sample rate (2 kHz), so a 30 s
clip is 60,000 samples and a whole tree is written in milliseconds.
"""

from __future__ import annotations

import math
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from musiclass.datasets import TrackIndex, gtzan
from musiclass.errors import ConfigError, DatasetError, MetadataError

#: real data shared beside the checkout (absent in a fresh clone: those tests skip)
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
GTZAN_SAMPLE = SHARED_DATA / "gtzan-sample"

SR = 2000


def need_shared(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real data not available: {path}")
    return path


def write_clip(
    path: Path,
    seconds: float = 30.0,
    *,
    fmt: str | None = None,
    freq: float = 220.0,
    subtype: str = "PCM_16",
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(round(seconds * SR))) / SR
    y = (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    sf.write(str(path), y, SR, format=fmt, subtype=subtype)
    return path


def make_tree(base: Path, numbers=(0, 1), ext: str = ".au") -> Path:
    """``base/<genre>/<genre>.NNNNN<ext>`` for every genre and each number."""
    fmt = {".au": "AU", ".wav": "WAV", ".flac": "FLAC"}[ext]
    for gi, genre in enumerate(gtzan.GENRES):
        for n in numbers:
            write_clip(  # a pitch per clip: no two clips are exact duplicates (reported `identical`)
                base / genre / f"{genre}.{n:05d}{ext}", fmt=fmt, freq=110.0 * (gi + 1) + n
            )
    return base


def problems_of(ix: TrackIndex, kind: str) -> pd.DataFrame:
    return ix.problems[ix.problems["problem"] == kind]


# ------------------------------------------------------------------------------ layouts
def test_original_tarball_layout(tmp_path):
    root = tmp_path / "gtzan_genre"
    make_tree(root / "genres", numbers=(1, 0))
    # clutter the real tarball and macOS copies carry
    (root / "genres" / "bextract_single.mf").write_text("blues/blues.00000.au\tblues\n")
    (root / "genres" / "blues" / ".DS_Store").write_bytes(b"\x00\x01junk")
    (root / "genres" / "blues" / "._blues.00000.au").write_bytes(b"\x00\x05\x16\x07")
    (root / "genres" / "input.mf").write_text("x\n")
    (root / "genres" / "jazz" / "notes.txt").write_text("not audio\n")

    ix = gtzan.index(root)
    assert ix.dataset == "gtzan" and ix.multilabel is False
    assert ix.classes == gtzan.GENRES
    assert len(ix) == 20
    assert ix.problems.empty, ix.problems
    # sorted by genre (alphabetical) then clip number
    expected = [f"{g}.{n:05d}" for g in gtzan.GENRES for n in (0, 1)]
    assert list(ix.tracks["track_id"]) == expected
    assert list(ix.tracks["label"]) == [t.split(".")[0] for t in expected]
    assert list(ix.label_ids()) == [i for i in range(10) for _ in (0, 1)]
    assert list(ix.tracks["number"]) == [0, 1] * 10
    for p in ix.tracks["path"]:
        assert Path(p).is_absolute() and Path(p).is_file() and p.endswith(".au")
    np.testing.assert_allclose(ix.tracks["duration"], 30.0, atol=1e-3)
    assert set(ix.tracks["artist"]) == {""}


@pytest.mark.parametrize("layout", ["Data/genres_original", "genres_original", "."])
def test_kaggle_and_bare_layouts(tmp_path, layout):
    root = tmp_path / "kaggle"
    make_tree(root / layout, numbers=(3,), ext=".wav")
    (root / "features_30_sec.csv").write_text("filename,label\n")
    ix = gtzan.index(root)
    assert len(ix) == 10
    assert list(ix.tracks["track_id"]) == [f"{g}.00003" for g in gtzan.GENRES]
    assert all(p.endswith(".wav") for p in ix.tracks["path"])
    assert Path(ix.root) == root


def test_layout_priority_genres_before_root(tmp_path):
    # a folder holding both genres/ and stray genre folders: the canonical genres/ wins
    make_tree(tmp_path / "genres", numbers=(5,))
    write_clip(tmp_path / "rock" / "rock.00099.au", fmt="AU")
    assert gtzan.find_genre_root(tmp_path) == tmp_path / "genres"
    assert "rock.00099" not in set(gtzan.index(tmp_path, check="none").tracks["track_id"])


def test_no_genre_folder_raises_naming_layouts(tmp_path):
    (tmp_path / "audio").mkdir()
    (tmp_path / "audio" / "blues.00000.wav").write_bytes(b"")
    with pytest.raises(DatasetError) as err:
        gtzan.index(tmp_path)
    msg = str(err.value)
    for layout in ("genres/", "genres_original/", "Data/genres_original/"):
        assert layout in msg
    with pytest.raises(DatasetError, match="does not exist"):
        gtzan.index(tmp_path / "nope")


def test_other_formats_and_duplicates(tmp_path):
    g = tmp_path / "genres"
    write_clip(g / "pop" / "pop.00010.flac", fmt="FLAC")
    write_clip(g / "pop" / "pop.00011.au", fmt="AU")
    write_clip(g / "pop" / "pop.00011.wav", fmt="WAV")  # the same clip twice
    ix = gtzan.index(tmp_path)
    assert list(ix.tracks["track_id"]) == ["pop.00010", "pop.00011"]
    assert ix.tracks["path"].iloc[1].endswith("pop.00011.au")  # the original format is preferred
    dup = problems_of(ix, "duplicate")
    assert list(dup["track_id"]) == ["pop.00011"] and dup["path"].iloc[0].endswith(".wav")


# ------------------------------------------------------------------------------ bad files
def test_corrupt_empty_short_and_misnamed_files(tmp_path):
    g = tmp_path / "Data" / "genres_original"
    make_tree(g, numbers=(53,), ext=".wav")
    rng = np.random.default_rng(0)
    (g / "jazz" / "jazz.00054.wav").write_bytes(
        rng.integers(0, 256, 4096, dtype=np.uint8).tobytes()
    )
    (g / "jazz" / "jazz.00055.wav").write_bytes(b"")
    write_clip(g / "jazz" / "jazz.00056.wav", seconds=12.5)
    write_clip(g / "blues" / "blues_00001.wav")  # wrong separator
    write_clip(g / "blues" / "blues.1.wav")  # number not 5 digits
    write_clip(g / "blues" / "rock.00002.wav")  # genre prefix disagrees with the folder

    ix = gtzan.index(tmp_path)  # must not raise
    ids = set(ix.tracks["track_id"])
    assert "jazz.00054" not in ids and "jazz.00055" not in ids
    assert "jazz.00056" in ids  # short clips are kept ...
    assert len(ix) == 11

    corrupt = problems_of(ix, "corrupt").set_index("track_id")
    assert set(corrupt.index) == {"jazz.00054", "jazz.00055"}
    assert "cannot read audio header" in corrupt.loc["jazz.00054", "reason"]
    assert "0 bytes" in corrupt.loc["jazz.00055", "reason"]
    assert corrupt.loc["jazz.00054", "path"] == str(g / "jazz" / "jazz.00054.wav")

    short = problems_of(ix, "short")  # ... and reported
    assert list(short["track_id"]) == ["jazz.00056"]
    assert "12.50 s" in short["reason"].iloc[0]
    assert ix.tracks.set_index("track_id").loc["jazz.00056", "duration"] == pytest.approx(12.5)

    unexpected = problems_of(ix, "unexpected").set_index("track_id")
    assert set(unexpected.index) == {"blues_00001", "blues.1", "rock.00002"}
    assert "disagrees with its folder 'blues'" in unexpected.loc["rock.00002", "reason"]
    assert set(ix.problems.columns) == {"track_id", "path", "problem", "reason"}


def test_min_duration_is_a_parameter(tmp_path):
    write_clip(tmp_path / "genres" / "metal" / "metal.00000.au", seconds=12.5, fmt="AU")
    assert problems_of(gtzan.index(tmp_path), "short").shape[0] == 1
    assert gtzan.index(tmp_path, min_duration=10).problems.empty


def test_check_modes(tmp_path):
    g = tmp_path / "genres"
    write_clip(g / "disco" / "disco.00000.au", fmt="AU")
    (g / "disco" / "disco.00001.au").write_bytes(b"garbage, not audio" * 10)
    # a header that reads but samples that do not decode to usable audio (NaN)
    bad = np.full(SR * 30, np.nan, dtype=np.float32)
    sf.write(str(g / "disco" / "disco.00002.wav"), bad, SR, subtype="FLOAT")
    sf.write(str(g / "disco" / "disco.00003.wav"), np.zeros(SR * 30, np.float32), SR)  # silent

    none = gtzan.index(tmp_path, check="none")
    assert len(none) == 4 and none.problems.empty
    assert none.tracks["duration"].isna().all()

    header = gtzan.index(tmp_path, check="header")
    assert list(header.tracks["track_id"]) == ["disco.00000", "disco.00002", "disco.00003"]
    corrupt = problems_of(header, "corrupt")
    assert list(corrupt["track_id"]) == ["disco.00001"]
    # libsndfile alone would open these bytes as header-less 8 kHz u-law; the indexer refuses them
    assert "no audio header" in corrupt["reason"].iloc[0]

    decode = gtzan.index(tmp_path, check="decode")
    assert list(decode.tracks["track_id"]) == ["disco.00000"]
    reasons = problems_of(decode, "corrupt").set_index("track_id")["reason"]
    assert "NaN" in reasons["disco.00002"]
    assert "silent" in reasons["disco.00003"]
    assert decode.tracks["duration"].iloc[0] == pytest.approx(30.0)

    with pytest.raises(ConfigError):
        gtzan.index(tmp_path, check="full")


def test_expect_full_lists_missing_ids(tmp_path):
    make_tree(tmp_path / "genres", numbers=(0, 7))
    (tmp_path / "genres" / "jazz" / "jazz.00054.au").write_bytes(
        b"\x00" * 100
    )  # present but corrupt
    ix = gtzan.index(tmp_path, expect_full=True)
    missing = problems_of(ix, "missing")
    assert list(problems_of(ix, "corrupt")["track_id"]) == ["jazz.00054"]
    assert len(missing) == 1000 - 21
    assert "blues.00000" not in set(missing["track_id"]) and "jazz.00054" not in set(
        missing["track_id"]
    )
    assert {"blues.00001", "rock.00099"} <= set(missing["track_id"])
    expected_path = tmp_path / "genres" / "rock" / "rock.00099.au"
    assert missing.set_index("track_id").loc["rock.00099", "path"] == str(expected_path)
    assert problems_of(gtzan.index(tmp_path), "missing").empty


def test_artists(tmp_path):
    make_tree(tmp_path / "genres", numbers=(0,))
    (tmp_path / "artists.csv").write_text(
        "track_id,artist\nblues.00000,John Lee Hooker\nrock.00000,Queen\n"
    )
    ix = gtzan.index(tmp_path, check="none")
    artist = ix.tracks.set_index("track_id")["artist"]
    assert artist["blues.00000"] == "John Lee Hooker" and artist["rock.00000"] == "Queen"
    assert artist["jazz.00000"] == ""

    other = tmp_path / "other.csv"
    other.write_text("track_id,artist\njazz.00000,Miles Davis\n")
    artist = gtzan.index(tmp_path, check="none", artists=other).tracks.set_index("track_id")[
        "artist"
    ]
    assert artist["jazz.00000"] == "Miles Davis" and artist["blues.00000"] == ""

    bad = tmp_path / "bad.csv"
    bad.write_text("id,name\nblues.00000,x\n")
    with pytest.raises(MetadataError, match="bad.csv"):
        gtzan.index(tmp_path, artists=bad)
    bad.write_text("track_id,artist\nblues.00000,x\nblues.00000,y\n")
    with pytest.raises(MetadataError, match="listed twice"):
        gtzan.index(tmp_path, artists=bad)
    with pytest.raises(MetadataError, match="not found"):
        gtzan.index(tmp_path, artists=tmp_path / "absent.csv")


def test_index_round_trips_through_save(tmp_path):
    make_tree(tmp_path / "genres", numbers=(0,))
    ix = gtzan.index(tmp_path)
    back = TrackIndex.load(ix.save(tmp_path / "index"))
    assert back.classes == gtzan.GENRES and list(back.tracks["track_id"]) == list(
        ix.tracks["track_id"]
    )


# ------------------------------------------------------------------------------ splits
@pytest.mark.parametrize(
    "kind,sizes", [("filtered", (443, 197, 290)), ("stratified", (500, 250, 250))]
)
def test_split_lists(kind, sizes):
    lists = gtzan.split_lists(kind)
    assert list(lists) == ["train", "validation", "test"]
    assert tuple(len(v) for v in lists.values()) == sizes
    all_ids = [t for v in lists.values() for t in v]
    assert len(set(all_ids)) == len(all_ids)  # no clip in two parts
    assert set(all_ids) <= set(gtzan.canonical_ids())
    assert all(gtzan._NAME.match(t) for t in all_ids)
    if kind == "stratified":  # stratified by genre: 50 / 25 / 25 per genre
        for part, n in zip(lists, (50, 25, 25), strict=True):
            counts = pd.Series([t.split(".")[0] for t in lists[part]]).value_counts()
            assert (counts == n).all() and len(counts) == 10


def test_split_lists_bad_kind():
    with pytest.raises(ValueError, match="filtered"):
        gtzan.split_lists("random")


def full_index(tmp_path) -> TrackIndex:
    for track_id in gtzan.canonical_ids():
        genre = track_id.split(".")[0]
        (tmp_path / "genres" / genre).mkdir(parents=True, exist_ok=True)
        (tmp_path / "genres" / genre / f"{track_id}.wav").touch()
    return gtzan.index(tmp_path, check="none")


def test_split_on_full_index(tmp_path):
    ix = full_index(tmp_path)
    assert len(ix) == 1000
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a complete index: nothing to warn about
        filtered = gtzan.split(ix, "filtered")
        stratified = gtzan.split(ix, "stratified")
    assert list(filtered.index) == list(ix.tracks["track_id"])
    assert filtered.value_counts().to_dict() == {
        "train": 443,
        "test": 290,
        "validation": 197,
        "excluded": 70,
    }
    assert stratified.value_counts().to_dict() == {"train": 500, "validation": 250, "test": 250}
    lists = gtzan.split_lists("filtered")
    assert set(filtered[filtered == "validation"].index) == set(lists["validation"])


def test_split_on_partial_index_warns(tmp_path):
    make_tree(tmp_path / "genres", numbers=(0,))
    write_clip(tmp_path / "genres" / "blues" / "blues.00100.au", fmt="AU")  # in no list
    ix = gtzan.index(tmp_path, check="none")
    with pytest.warns(UserWarning, match=r"990 listed track\(s\) are not in the index"):
        parts = gtzan.split(ix, "stratified")
    assert parts["blues.00100"] == "excluded"
    assert len(parts) == 11
    with pytest.warns(UserWarning):
        assert gtzan.split(list(ix.tracks["track_id"]), "filtered").shape == (11,)


# ------------------------------------------------------------------------------ real data
@pytest.mark.shared
def test_real_sample():
    root = need_shared(GTZAN_SAMPLE)
    ix = gtzan.index(root)
    assert len(ix) == 10 and ix.problems.empty
    assert list(ix.tracks["label"]) == list(gtzan.GENRES)  # one clip per genre
    assert list(ix.tracks["track_id"]) == [f"{g}.00000" for g in gtzan.GENRES]
    assert ix.tracks["duration"].between(29.9, 30.2).all()
    full = gtzan.index(root, expect_full=True)
    assert len(problems_of(full, "missing")) == 990 and len(full.problems) == 990
    assert len(gtzan.index(root, check="decode")) == 10


@pytest.mark.shared
def test_real_sample_in_kaggle_layout_with_its_broken_jazz(tmp_path):
    src = need_shared(GTZAN_SAMPLE) / "genres"
    dst = tmp_path / "Data" / "genres_original"
    for genre in ("blues", "jazz"):
        (dst / genre).mkdir(parents=True)
        shutil.copy(src / genre / f"{genre}.00000.wav", dst / genre / f"{genre}.00000.wav")
    # the Kaggle copy's jazz.00054.wav is not a readable audio file
    good = (src / "jazz" / "jazz.00000.wav").read_bytes()
    (dst / "jazz" / "jazz.00054.wav").write_bytes(b"\x00" * 1024 + good[1024:4096])
    ix = gtzan.index(tmp_path, check="decode", expect_full=True)
    assert list(ix.tracks["track_id"]) == ["blues.00000", "jazz.00000"]
    corrupt = problems_of(ix, "corrupt")
    assert list(corrupt["track_id"]) == ["jazz.00054"] and corrupt["reason"].iloc[0]
    assert len(problems_of(ix, "missing")) == 997
    assert not math.isnan(ix.tracks["duration"].iloc[0])


@pytest.mark.shared
def test_shipped_lists_match_shared_copy():
    shared = need_shared(SHARED_DATA / "gtzan-splits")
    for kind in gtzan.SPLIT_KINDS:
        lists = gtzan.split_lists(kind)
        for part, stem in gtzan.SPLIT_PARTS.items():
            lines = [
                ln.strip()
                for ln in (shared / f"{stem}_{kind}.txt").read_text().splitlines()
                if ln.strip()
            ]
            assert [ln.rsplit("/", 1)[-1].rsplit(".", 1)[0] for ln in lines] == lists[part]
