"""Splits assign tracks, never frames (except the explicit seed frame split, whose leak is measured)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from musiclass import splits
from musiclass.datasets.base import TrackIndex
from musiclass.errors import ConfigError, MetadataError


def synthetic_index(
    n_per_class=30, classes=("a", "b", "c", "d"), artists_per_class=6, multilabel=False
):
    rows = []
    for ci, c in enumerate(classes):
        for i in range(n_per_class):
            label = c if not multilabel else "|".join(sorted({c, classes[(ci + i) % len(classes)]}))
            rows.append(
                (f"{c}.{i:05d}", f"/x/{c}/{i}.wav", label, 30.0, f"{c}-art{i % artists_per_class}")
            )
    t = pd.DataFrame(rows, columns=["track_id", "path", "label", "duration", "artist"])
    return TrackIndex(t, tuple(classes), multilabel=multilabel)


def frame_table(index: TrackIndex, frames_per_track=19, hop=1.5):
    t = index.tracks
    n = len(t) * frames_per_track
    return pd.DataFrame(
        {
            "row": np.arange(n),
            "track_id": np.repeat(t["track_id"].to_numpy(), frames_per_track),
            "frame": np.tile(np.arange(frames_per_track), len(t)),
            "start": np.tile(np.arange(frames_per_track) * hop, len(t)),
            "label": np.repeat(t["label"].to_numpy(), frames_per_track),
        }
    )


def test_song_split_puts_no_track_in_two_parts():
    index = synthetic_index()
    parts = splits.song_split(index, seed=7)
    rows = splits.rows_for(parts, frame_table(index))
    assert splits.tracks_in_several_parts(rows) == []
    assert rows.groupby("track_id")["part"].nunique().max() == 1
    assert len(parts) == 120 and parts.index.is_unique


def test_song_split_sizes_and_stratification():
    parts = splits.song_split(synthetic_index(), fractions=(0.8, 0.1, 0.1), seed=1)
    counts = parts.value_counts()
    assert (counts["train"], counts["validation"], counts["test"]) == (96, 12, 12)
    per_class = pd.crosstab(parts.index.str.split(".").str[0], parts)
    assert (per_class["test"] == 3).all() and (per_class["train"] == 24).all()


def test_split_is_a_function_of_the_seed():
    index = synthetic_index()
    a, b = splits.song_split(index, seed=3), splits.song_split(index, seed=3)
    pd.testing.assert_series_equal(a, b)
    assert not a.equals(splits.song_split(index, seed=4))


def test_artist_split_keeps_each_artist_on_one_side():
    index = synthetic_index()
    parts = splits.song_split(index, seed=5, group="artist")
    artist_parts = pd.DataFrame(
        {"artist": index.tracks["artist"].to_numpy(), "part": parts.to_numpy()}
    )
    assert artist_parts.groupby("artist")["part"].nunique().max() == 1
    assert set(parts) == set(splits.PARTS)
    with pytest.raises(ConfigError, match="no such column"):
        splits.song_split(index, group="album")


def test_multilabel_split_covers_tags():
    index = synthetic_index(multilabel=True)
    parts = splits.song_split(index, seed=2)
    assert set(parts) == set(splits.PARTS)
    keys = splits.stratification_key(index.tracks["label"], multilabel=True)
    assert len(set(keys)) >= 4  # each track stratified by its rarest tag


def test_frame_split_leaks_and_the_leak_is_measured():
    index = synthetic_index(n_per_class=10)
    frames = frame_table(index)
    rows = splits.frame_split(frames, seed=42)
    assert len(splits.tracks_in_several_parts(rows)) > 30
    leak = splits.frame_leak(rows, frames, frame_seconds=3.0)
    assert (
        leak["test_frames_with_song_in_train"] > 0.99
    )  # the original's situation: every test song seen
    assert leak["test_frames_overlapping_train"] > 0.8
    song_rows = splits.rows_for(splits.song_split(index, seed=42), frames)
    assert (
        splits.frame_leak(song_rows, frames, frame_seconds=3.0)["test_frames_with_song_in_train"]
        == 0.0
    )


def test_frame_leak_worked_by_hand():
    frames = pd.DataFrame(
        {
            "row": [0, 1, 2, 3],
            "track_id": ["s", "s", "s", "t"],
            "start": [0.0, 1.5, 6.0, 0.0],
            "label": ["a"] * 4,
        }
    )
    rows = pd.DataFrame(
        {
            "row": [0, 1, 2, 3],
            "track_id": ["s", "s", "s", "t"],
            "part": ["train", "test", "test", "test"],
        }
    )
    leak = splits.frame_leak(rows, frames, frame_seconds=3.0)
    # 3 test frames; 2 of them (rows 1, 2) have their song in train; only row 1 overlaps train's row 0
    assert leak["test_frames"] == 3
    assert leak["test_frames_with_song_in_train"] == pytest.approx(2 / 3)
    assert leak["test_frames_overlapping_train"] == pytest.approx(1 / 3)


def test_fractions_and_split_files_are_validated(tmp_path):
    with pytest.raises(ConfigError, match="fractions"):
        splits.song_split(synthetic_index(), fractions=(0.5, 0.2, 0.2))
    path = splits.save(splits.song_split(synthetic_index(), seed=1), tmp_path / "s.csv")
    assert list(splits.load(path).columns) == ["track_id", "part"]
    (tmp_path / "bad.csv").write_text("track_id,part\na,holdout\n")
    with pytest.raises(MetadataError, match="unknown part"):
        splits.load(tmp_path / "bad.csv")
    with pytest.raises(MetadataError, match="not found"):
        splits.load(tmp_path / "missing.csv")
