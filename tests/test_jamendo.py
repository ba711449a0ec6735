"""MTG-Jamendo mood/theme loader: strict TSV parsing, curation, safe audio paths, the index.

Real-data tests read ``../shared/data`` beside the checkout and skip when it is absent.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from musiclass.cli import EXIT_PARTIAL, index_outcome
from musiclass.datasets import TrackIndex, jamendo
from musiclass.errors import ConfigError, MetadataError

#: real data shared beside the checkout (absent in a fresh clone: those tests skip)
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
JAMENDO = SHARED_DATA / "mtg-jamendo"
SEED = SHARED_DATA / "seed-study"

HEADER = "TRACK_ID\tARTIST_ID\tALBUM_ID\tPATH\tDURATION\tTAGS"


def need_shared(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real data not available: {path}")
    return path


def row(n: int, *tags: str, duration: str = "200.5", path: str | None = None) -> str:
    """One metadata row for track number ``n`` (``NN/ID.mp3`` path, as in the real files)."""
    relpath = path if path is not None else f"{n % 100:02d}/{n}.mp3"
    return "\t".join(
        [
            f"track_{n:07d}",
            f"artist_{n // 10:06d}",
            f"album_{n // 5:06d}",
            relpath,
            duration,
            *[t if "---" in t else f"mood/theme---{t}" for t in tags],
        ]
    )


def write_tsv(
    path: Path, rows, *, newline: str = "\r\n", header: str = HEADER, final_newline: bool = True
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = newline.join([header, *rows]) + (newline if final_newline else "")
    path.write_bytes(text.encode("utf-8"))
    return path


def write_mp3(path: Path, seconds: float = 1.0, sr: int = 8000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * sr)) / sr
    sf.write(str(path), (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), sr, format="MP3")
    return path


SAMPLE_ROWS = [
    row(948, "background", "calm"),
    row(950, "happy", "genre---pop", "instrument---piano", "funny"),
    row(1012, "sad", "mellow", "sad"),
]


# ------------------------------------------------------------------------------ read_tsv
@pytest.mark.parametrize("newline", ["\r\n", "\n"])
@pytest.mark.parametrize("final_newline", [True, False])
def test_read_tsv_crlf_and_lf(tmp_path, newline, final_newline):
    path = write_tsv(
        tmp_path / "meta.tsv", SAMPLE_ROWS, newline=newline, final_newline=final_newline
    )
    df = jamendo.read_tsv(path)
    assert list(df.columns) == ["track_id", "artist", "album", "relpath", "duration", "tags"]
    assert list(df["track_id"]) == ["track_0000948", "track_0000950", "track_0001012"]
    assert list(df["relpath"]) == ["48/948.mp3", "50/950.mp3", "12/1012.mp3"]
    assert list(df["artist"]) == ["artist_000094", "artist_000095", "artist_000101"]
    assert list(df["album"]) == ["album_000189", "album_000190", "album_000202"]
    assert df["duration"].dtype == float and df["duration"].iloc[0] == 200.5
    # tags in file order, prefix removed, other categories ignored, duplicates once, no "\r" left
    assert list(df["tags"]) == [("background", "calm"), ("happy", "funny"), ("sad", "mellow")]


def test_read_tsv_category_and_vocabulary(tmp_path):
    path = write_tsv(tmp_path / "meta.tsv", SAMPLE_ROWS)
    full = jamendo.read_tsv(path, category=None)
    assert full["tags"].iloc[1] == (
        "mood/theme---happy",
        "genre---pop",
        "instrument---piano",
        "mood/theme---funny",
    )
    genre = jamendo.read_tsv(path, category="genre")
    assert list(genre["tags"]) == [(), ("pop",), ()]
    # a vocabulary may be given with or without the prefix
    vocab = ["background", "calm", "mood/theme---happy", "funny", "sad", "mellow"]
    assert len(jamendo.read_tsv(path, vocabulary=vocab)) == 3


def test_read_tsv_header_only_is_empty_frame(tmp_path):
    df = jamendo.read_tsv(write_tsv(tmp_path / "meta.tsv", []))
    assert len(df) == 0 and list(df.columns) == list(jamendo.COLUMNS)


MALFORMED = {
    # name: (rows or raw bytes, header, expected message fragments)
    "empty file": (b"", None, ["empty file"]),
    "blank lines only": (b"\r\n\r\n", None, ["empty file"]),
    "wrong header": (
        [row(1, "happy")],
        "TRACK_ID\tARTIST\tALBUM_ID\tPATH\tDURATION\tTAGS",
        ["header", "line 1"],
    ),
    "missing header column": (
        [row(1, "happy")],
        "TRACK_ID\tARTIST_ID\tALBUM_ID\tPATH\tTAGS",
        ["header", "line 1"],
    ),
    "no header": ([row(2, "sad")], row(1, "happy"), ["header", "line 1"]),
    "short row": (
        [row(1, "happy"), "track_0000002\tartist_1\talbum_1\t02/2.mp3\t100.0"],
        HEADER,
        ["line 3", "5 tab-separated field"],
    ),
    "non-numeric duration": (
        [row(1, "happy"), row(2, "sad", duration="3:20")],
        HEADER,
        ["line 3", "'3:20'"],
    ),
    "nan duration": ([row(1, "happy", duration="nan")], HEADER, ["line 2", "DURATION"]),
    "negative duration": ([row(1, "happy", duration="-4")], HEADER, ["line 2", "DURATION"]),
    "duplicate id": (
        [row(1, "happy"), row(2, "sad"), row(1, "calm")],
        HEADER,
        ["duplicate TRACK_ID 'track_0000001'", "line 4", "first on line 2"],
    ),
    "empty id": (
        ["\tartist_1\talbum_1\t01/1.mp3\t100.0\tmood/theme---happy"],
        HEADER,
        ["empty TRACK_ID", "line 2"],
    ),
    "tag without prefix": (
        [row(1, "happy"), row(2, "sad") + "\thappy"],
        HEADER,
        ["tag 'happy' on line 3", "mood/theme---"],
    ),
    "tag with empty name": ([row(1, "mood/theme---")], HEADER, ["line 2", "prefix"]),
    "empty tag field": ([row(1, "happy") + "\t"], HEADER, ["line 2", "tag ''"]),
    "absolute path": (
        [row(1, "happy", path="/etc/passwd")],
        HEADER,
        ["PATH '/etc/passwd'", "line 2", "absolute"],
    ),
    "windows drive path": (
        [row(1, "happy", path="C:\\music\\1.mp3")],
        HEADER,
        ["line 2", "absolute"],
    ),
    "dotdot path": (
        [row(1, "happy"), row(2, "sad", path="../x.mp3")],
        HEADER,
        ["PATH '../x.mp3'", "line 3", ".."],
    ),
    "inner dotdot path": ([row(1, "happy", path="01/../../x.mp3")], HEADER, ["line 2", ".."]),
    "empty path": ([row(1, "happy", path="")], HEADER, ["line 2", "PATH", "empty"]),
    "not utf-8": (
        HEADER.encode() + b"\r\n" + row(1, "happy").encode() + b"\xff\xfe\r\n",
        None,
        ["UTF-8"],
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_read_tsv_rejects_malformed(tmp_path, case):
    content, header, fragments = MALFORMED[case]
    path = tmp_path / f"{case.replace(' ', '_')}.tsv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        write_tsv(path, content, header=header)
    with pytest.raises(MetadataError) as err:
        jamendo.read_tsv(path)
    assert err.value.path == str(path)
    assert path.name in str(err.value)
    for fragment in fragments:
        assert fragment in str(err.value), (fragment, str(err.value))


def test_unknown_tag_names_tag_and_line(tmp_path):
    rows = [row(n, "happy") for n in range(1, 11)] + [row(11, "sad", "foo")]
    path = write_tsv(tmp_path / "meta.tsv", rows, newline="\n")
    with pytest.raises(MetadataError, match=r"meta\.tsv: unknown tag 'foo' on line 12"):
        jamendo.read_tsv(path, vocabulary=jamendo.MOODTHEME_TAGS)
    assert len(jamendo.read_tsv(path)) == 11  # without a vocabulary any tag name is accepted


def test_read_tsv_missing_file(tmp_path):
    with pytest.raises(MetadataError, match="absent.tsv: metadata file not found"):
        jamendo.read_tsv(tmp_path / "absent.tsv")


# ------------------------------------------------------------------------------ constants, curation
def test_tag_constants():
    assert len(jamendo.MOODTHEME_TAGS) == 59 == len(set(jamendo.MOODTHEME_TAGS))
    assert list(jamendo.MOODTHEME_TAGS) == sorted(jamendo.MOODTHEME_TAGS)
    assert len(jamendo.SPLIT_TAGS) == 56
    assert set(jamendo.MOODTHEME_TAGS) - set(jamendo.SPLIT_TAGS) == {
        "ambiental",
        "horror",
        "mellow",
    }
    assert len(jamendo.THEME_TAGS) == 19 and set(jamendo.THEME_TAGS) <= set(jamendo.MOODTHEME_TAGS)


def curation_frame() -> pd.DataFrame:
    tags = (
        [("happy", "film")] * 10
        + [("sad", "funny")] * 6
        + [("fun", "funny", "epic")] * 4
        + [("mellow",)] * 12
        + [("horror", "sad")] * 4
        + [("trailer",)] * 3
    )
    return pd.DataFrame({"track_id": [f"t{i}" for i in range(len(tags))], "tags": tags})


def test_curate_none_and_official():
    df = curation_frame()
    none, vocab = jamendo.curate(df, "none")
    assert len(none) == len(df)
    assert vocab == ("epic", "film", "fun", "funny", "happy", "horror", "mellow", "sad", "trailer")
    official, vocab = jamendo.curate(df, "official")
    assert vocab == ("epic", "film", "fun", "funny", "happy", "sad", "trailer")
    assert len(official) == len(df) - 12  # the mellow-only tracks lose their only tag
    assert official["tags"].iloc[-4] == ("sad",)  # horror removed, sad kept
    assert df["tags"].iloc[-4] == ("horror", "sad")  # the input is not modified


def test_curate_original():
    df = curation_frame()
    curated, vocab = jamendo.curate(df, "original")
    # themes (film, epic, trailer) dropped; funny merged into fun (10 tracks then); horror has 4 < 10
    assert vocab == ("fun", "happy", "mellow", "sad")
    counts = Counter(t for tags in curated["tags"] for t in tags)
    assert counts == {"happy": 10, "sad": 10, "fun": 10, "mellow": 12}
    assert ("fun",) in set(curated["tags"])  # fun + funny on one track -> one fun
    assert len(curated) == len(df) - 3  # the trailer-only tracks go
    # the threshold counts tracks in the set given: one happy track fewer -> happy (9) is dropped
    fewer, vocab_fewer = jamendo.curate(df.iloc[1:], "original")
    assert vocab_fewer == ("fun", "mellow", "sad")
    assert len(fewer) == len(df) - 1 - 3 - 9  # the other 9 happy(+film) tracks are left with no tag
    assert jamendo.curate(df, "original", min_tracks=11)[1] == ("mellow",)
    with pytest.raises(ConfigError):
        jamendo.curate(df, "mediaeval")
    with pytest.raises(ValueError):  # ConfigError is a ValueError
        jamendo.curate(df, "")


# ------------------------------------------------------------------------------ audio paths
def test_audio_path_accepts_relative_paths(tmp_path):
    root = tmp_path / "audio"
    write_mp3(root / "48" / "948.mp3")
    assert jamendo.audio_path(root, "48/948.mp3") == root / "48" / "948.mp3"
    assert (
        jamendo.audio_path(root, "07/7.mp3") == root / "07" / "7.mp3"
    )  # existence is not required
    (root / "link").symlink_to(root / "48")  # a symlink that stays inside the root is fine
    assert jamendo.audio_path(root, "link/948.mp3").is_file()


@pytest.mark.parametrize(
    "relpath",
    ["../x.mp3", "/etc/passwd", "48/../../x.mp3", "..", "C:/x.mp3", "\\\\server\\x.mp3", ""],
)
def test_audio_path_rejects_traversal(tmp_path, relpath):
    with pytest.raises(MetadataError):
        jamendo.audio_path(tmp_path, relpath)


def test_audio_path_rejects_symlinks_out_of_root(tmp_path):
    root, outside = tmp_path / "audio", tmp_path / "secret"
    write_mp3(outside / "1.mp3")
    (root / "00").mkdir(parents=True)
    (root / "00" / "100.mp3").symlink_to(outside / "1.mp3")  # a file link leaving the root
    (root / "01").symlink_to(outside)  # a folder link leaving the root
    (root / "02").symlink_to(Path("/etc"))
    for relpath in ("00/100.mp3", "01/1.mp3", "01/absent.mp3", "02/passwd"):
        with pytest.raises(MetadataError, match="outside the audio root"):
            jamendo.audio_path(root, relpath)


# ------------------------------------------------------------------------------ splits
def make_splits(
    folder: Path, parts: dict[str, list[int]], split: int = 0, newline: str = "\r\n"
) -> Path:
    for part, numbers in parts.items():
        write_tsv(
            folder / f"split-{split}" / f"autotagging_moodtheme-{part}.tsv",
            [row(n, "happy") for n in numbers],
            newline=newline,
        )
    return folder


def test_read_split_and_assignment(tmp_path):
    splits = make_splits(
        tmp_path / "splits", {"train": [1, 2, 3], "validation": [4], "test": [5, 6]}
    )
    parts = jamendo.read_split(splits, 0)
    assert list(parts) == ["train", "validation", "test"]
    assert [len(v) for v in parts.values()] == [3, 1, 2]
    assignment = jamendo.split_assignment(splits, 0)
    assert assignment.to_dict() == {
        "track_0000001": "train",
        "track_0000002": "train",
        "track_0000003": "train",
        "track_0000004": "validation",
        "track_0000005": "test",
        "track_0000006": "test",
    }
    with pytest.raises(MetadataError, match="split-1"):
        jamendo.read_split(splits, 1)  # no such split on disk


def test_track_in_two_parts_is_an_error(tmp_path):
    splits = make_splits(tmp_path / "splits", {"train": [1, 2], "validation": [3], "test": [2]})
    with pytest.raises(MetadataError) as err:
        jamendo.split_assignment(splits, 0)
    msg = str(err.value)
    assert "track_0000002" in msg and "autotagging_moodtheme-test.tsv" in msg and "train" in msg


# ------------------------------------------------------------------------------ index (synthetic)
def jamendo_tree(tmp_path: Path) -> tuple[Path, Path]:
    meta = write_tsv(
        tmp_path / "meta" / "autotagging_moodtheme.tsv",
        [
            row(948, "background", "calm"),
            row(950, "happy", "funny"),
            row(951, "mellow"),  # only a tag the official splits drop
            row(952, "sad"),  # audio missing
            row(953, "dark"),  # empty file
            row(954, "dark", "sad"),  # bytes that are not audio
            row(955, "love"),  # symlink out of the audio root
        ],
    )
    audio = tmp_path / "audio"
    write_mp3(audio / "48" / "948.mp3", seconds=1.5)
    write_mp3(audio / "50" / "950.mp3")
    write_mp3(audio / "51" / "951.mp3")
    (audio / "53").mkdir()
    (audio / "53" / "953.mp3").write_bytes(b"")
    (audio / "54").mkdir()
    (audio / "54" / "954.mp3").write_bytes(
        np.random.default_rng(1).integers(0, 256, 2048, dtype=np.uint8).tobytes()
    )
    write_mp3(tmp_path / "elsewhere" / "955.mp3")
    (audio / "55").mkdir()
    (audio / "55" / "955.mp3").symlink_to(tmp_path / "elsewhere" / "955.mp3")
    return meta, audio


def test_index_reports_missing_and_corrupt(tmp_path):
    meta, audio = jamendo_tree(tmp_path)
    ix = jamendo.index(meta, audio, check="exists")  # must not raise
    assert isinstance(ix, TrackIndex) and ix.multilabel and ix.dataset == "mtg-jamendo"
    assert list(ix.tracks["track_id"]) == ["track_0000948", "track_0000950", "track_0000954"]
    assert list(ix.tracks["label"]) == ["background|calm", "happy|funny", "dark|sad"]
    # official curation: mellow is no class and its only track is gone; vocabulary over the curated set
    assert ix.classes == ("background", "calm", "dark", "funny", "happy", "love", "sad")
    assert set(ix.tracks.columns) >= {
        "track_id",
        "path",
        "label",
        "duration",
        "artist",
        "album",
        "relpath",
    }
    assert ix.tracks["path"].iloc[0] == str(audio / "48" / "948.mp3")
    assert ix.tracks["duration"].iloc[0] == 200.5  # the metadata's duration (the full track)
    assert ix.tracks["artist"].iloc[0] == "artist_000094"
    problems = ix.problems.set_index("track_id")
    assert problems.loc["track_0000952", "problem"] == "missing"
    assert problems.loc["track_0000952", "path"] == str(audio / "52" / "952.mp3")
    assert problems.loc["track_0000953", "problem"] == "corrupt"
    assert "0 bytes" in problems.loc["track_0000953", "reason"]
    assert problems.loc["track_0000955", "problem"] == "unsafe"
    assert "outside the audio root" in problems.loc["track_0000955", "reason"]
    assert ix.label_matrix().sum() == 6

    header = jamendo.index(meta, audio, check="header")
    assert list(header.tracks["track_id"]) == ["track_0000948", "track_0000950"]
    assert header.problems.set_index("track_id").loc["track_0000954", "problem"] == "corrupt"
    assert header.tracks["audio_duration"].iloc[0] == pytest.approx(1.5, abs=0.1)

    none = jamendo.index(meta, audio, check="none", curation="none")
    assert len(none) == 6 and set(none.problems["problem"]) == {"unsafe"}
    assert "mellow" in none.classes

    original = jamendo.index(meta, audio, check="none", curation="original")
    assert len(original) == 0 and original.classes == ()  # every tag has fewer than 10 tracks here

    decode = jamendo.index(meta, audio, check="decode")  # offered by `index --help`: it works
    assert list(decode.tracks["track_id"]) == list(header.tracks["track_id"])
    assert decode.tracks["audio_duration"].iloc[0] == pytest.approx(1.5, abs=0.1)
    with pytest.raises(ConfigError):
        jamendo.index(meta, audio, check="bogus")


def test_index_with_split(tmp_path):
    meta, audio = jamendo_tree(tmp_path)
    make_splits(
        meta.parent / "splits",
        {"train": [948, 952], "validation": [950], "test": [954, 999]},
        newline="\n",
    )
    with pytest.warns(
        UserWarning, match="1 track"
    ):  # track 999 of the split is not in the metadata
        ix = jamendo.index(meta, audio, split=0)
    assert ix.tracks.set_index("track_id")["part"].to_dict() == {
        "track_0000948": "train",
        "track_0000950": "validation",
        "track_0000954": "test",
    }
    assert list(ix.problems["track_id"]) == ["track_0000952"]
    assert ix.classes == ("background", "calm", "dark", "funny", "happy", "sad")
    other = tmp_path / "elsewhere-splits"
    make_splits(other, {"train": [950], "validation": [], "test": []}, split=3)
    ix3 = jamendo.index(meta, audio, split=3, splits_dir=other)
    assert list(ix3.tracks["track_id"]) == ["track_0000950"]


@pytest.mark.shared
def test_index_copies_the_real_sample(tmp_path):
    sample = need_shared(JAMENDO / "audio-sample" / "48" / "948.mp3")
    meta = write_tsv(
        tmp_path / "meta.tsv", [row(948, "background"), row(1948, "calm")], newline="\n"
    )
    (tmp_path / "audio" / "48").mkdir(parents=True)
    shutil.copy(sample, tmp_path / "audio" / "48" / "948.mp3")
    ix = jamendo.index(meta, tmp_path / "audio", check="header")
    assert list(ix.tracks["track_id"]) == ["track_0000948"]
    assert ix.tracks["audio_duration"].iloc[0] == pytest.approx(2.0, abs=0.1)
    problems = ix.problems.set_index("track_id")["problem"].to_dict()
    # the 2 s sample disagrees with the metadata's full length: a warning, the track is kept
    assert problems == {"track_0000948": "duration", "track_0001948": "missing"}


# ------------------------------------------------------------------------------ real data
@pytest.fixture(scope="module")
def real_meta() -> pd.DataFrame:
    return jamendo.read_tsv(
        need_shared(JAMENDO / "autotagging_moodtheme.tsv"), vocabulary=jamendo.MOODTHEME_TAGS
    )


@pytest.mark.shared
def test_real_metadata(real_meta):
    assert len(real_meta) == 18_486
    tags = {t for tags in real_meta["tags"] for t in tags}
    assert tags == set(jamendo.MOODTHEME_TAGS)
    assert (real_meta["tags"].map(len) > 0).all()
    assert (
        real_meta["track_id"].iloc[0] == "track_0000948"
        and real_meta["relpath"].iloc[0] == "48/948.mp3"
    )
    # the tag lists shipped with the dataset agree with the module's constants
    for name, expected in (
        ("moodtheme.txt", jamendo.MOODTHEME_TAGS),
        ("moodtheme_split.txt", jamendo.SPLIT_TAGS),
    ):
        lines = (JAMENDO / "tags" / name).read_text().split()
        assert tuple(t.split("---", 1)[1] for t in lines) == expected


@pytest.mark.shared
def test_real_split_0():
    splits = need_shared(JAMENDO / "splits")
    parts = jamendo.read_split(splits, 0, vocabulary=jamendo.SPLIT_TAGS)
    assert {k: len(v) for k, v in parts.items()} == {
        "train": 9949,
        "validation": 3802,
        "test": 4231,
    }
    for df in parts.values():  # every part carries every one of the 56 tags
        assert {t for tags in df["tags"] for t in tags} == set(jamendo.SPLIT_TAGS)
    assignment = jamendo.split_assignment(splits, 0)  # raises if a track were in two parts
    assert len(assignment) == 9949 + 3802 + 4231 == assignment.index.nunique()


@pytest.mark.shared
def test_real_official_curation_is_split_0(real_meta):
    # the "official" curation of the full metadata is exactly the track set and tags of split-0
    curated, vocab = jamendo.curate(real_meta, "official")
    assert vocab == jamendo.SPLIT_TAGS and len(curated) == 17_982
    parts = jamendo.read_split(need_shared(JAMENDO / "splits"), 0)
    split_tags = {
        t: tags for df in parts.values() for t, tags in zip(df["track_id"], df["tags"], strict=True)
    }
    assert dict(zip(curated["track_id"], curated["tags"], strict=True)) == split_tags
    _, vocab_none = jamendo.curate(real_meta, "none")
    assert vocab_none == jamendo.MOODTHEME_TAGS


@pytest.mark.shared
def test_real_original_curation_reproduces_the_study(real_meta):
    labels = pd.read_csv(need_shared(SEED / "mood_metadata_labels.csv"))
    label_map = json.loads((SEED / "mood_label_map.json").read_text())
    assert len(labels) == 799
    subset = real_meta[real_meta["track_id"].isin(labels["track_id"])]
    assert len(subset) == 799
    curated, vocab = jamendo.curate(subset, "original")
    # it holds: the 799 tracks keep all their tags (rarest kept tag: sport, 10 tracks; the dropped
    # ones, horror 2, travel 3, heavy 4, sexy 4, are far below the threshold) -> the 35 tags of the study
    assert len(curated) == 799
    assert list(vocab) == list(label_map) and [label_map[t] for t in vocab] == list(range(35))
    # the multi-hot labels agree track by track with the study's table
    study = labels.set_index("track_id").loc[list(curated["track_id"]), list(vocab)].to_numpy()
    tracks = pd.DataFrame(
        {
            "track_id": curated["track_id"],
            "path": "",
            "label": ["|".join(t) for t in curated["tags"]],
            "duration": curated["duration"],
            "artist": curated["artist"],
        }
    )
    ix = TrackIndex(tracks, vocab, multilabel=True)
    np.testing.assert_array_equal(ix.label_matrix(), study)
    # tags per track: the study reports 521 / 186 / 63 / 29 (1 / 2 / 3 / 4+). Its merge wrote
    # ['fun', 'fun'] for track_1266502 (tagged both fun and funny) and counted that as 2 tags;
    # counted as distinct tags, as here, that track has one: 522 / 185 / 63 / 29.
    per_track = Counter(min(len(t), 4) for t in curated["tags"])
    assert per_track == {1: 522, 2: 185, 3: 63, 4: 29}
    study_lists = labels.set_index("track_id")["tags"].map(ast.literal_eval)
    assert study_lists["track_1266502"] == ["fun", "fun"]
    assert Counter(min(len(t), 4) for t in study_lists) == {1: 521, 2: 186, 3: 63, 4: 29}


@pytest.mark.shared
def test_real_audio_sample_found_others_missing(tmp_path, capsys):
    meta = need_shared(JAMENDO / "autotagging_moodtheme.tsv")
    ix = jamendo.index(meta, JAMENDO / "audio-sample", check="header")
    assert list(ix.tracks["track_id"]) == ["track_0000948"]
    assert ix.tracks["label"].iloc[0] == "background"
    assert ix.tracks["audio_duration"].iloc[0] == pytest.approx(
        2.0, abs=0.1
    )  # the sample is trimmed to 2 s
    assert ix.tracks["duration"].iloc[0] == pytest.approx(212.7)  # the metadata's full length
    assert len(ix.classes) == 56
    counts = ix.problems["problem"].value_counts().to_dict()
    # 504 of the 18,486 tracks carry only tags the official curation drops (ambiental, horror,
    # mellow): listed as untagged; the trimmed sample's 2.0 s against 212.7 s is a duration warning
    assert counts == {"missing": 17_982 - 1, "untagged": 18_486 - 17_982, "duration": 1}
    assert os.path.isabs(ix.problems["path"].iloc[0])
    # `musiclass index` exits 3 on it: far more than --max-missing (5 %) of the files are missing
    assert index_outcome(ix, JAMENDO / "audio-sample", tmp_path, 0.05) == EXIT_PARTIAL
    assert capsys.readouterr().err.startswith(
        "warning: 17981 of the 17982 files listed are missing (100.0%"
    )
