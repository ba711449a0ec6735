"""Resampling of the multi-label training set: the hand-worked cases of the issue, then properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from musiclass import resampling
from musiclass.errors import ConfigError
from musiclass.resampling import (
    READINGS,
    SIZES,
    base_set,
    counts_table,
    downsample,
    downsample_targets,
    resample_sets,
    tag_counts,
    upsample,
    upsample_targets,
)

SET_NAMES = [
    "base",
    "up-0.25",
    "up-0.5",
    "up-0.75",
    "up-1",
    "down-0.25",
    "down-0.5",
    "down-0.75",
    "down-1",
]


def single_tag(counts) -> np.ndarray:
    """A single-tag Y with exactly ``counts[t]`` frames of tag t, ordered by tag (as the original stored it)."""
    rows = []
    for t, n in enumerate(counts):
        block = np.zeros((n, len(counts)), dtype=np.int8)
        block[:, t] = 1
        rows.append(block)
    return np.vstack(rows)


def multi_label(seed: int = 0, n: int = 400, n_tags: int = 8) -> np.ndarray:
    """Random multi-hot frames with skewed tag frequencies, every row tagged, rows ordered by first tag."""
    rng = np.random.default_rng(seed)
    Y = (rng.random((n, n_tags)) < np.linspace(0.03, 0.45, n_tags)).astype(np.int64)
    empty = ~Y.any(axis=1)
    Y[empty, rng.integers(0, n_tags, empty.sum())] = 1
    return Y[np.argsort(Y.argmax(axis=1), kind="stable")]


def achieved(Y, idx) -> np.ndarray:
    return tag_counts(np.asarray(Y)[idx])


# ---------------------------------------------------------------------------------------------
# Hand-worked cases
# ---------------------------------------------------------------------------------------------


def test_tag_counts_any_dtype():
    Y = single_tag([3, 1, 2])
    for arr in (Y, Y.astype(bool), Y.astype(float), Y.astype(np.uint8), Y.tolist()):
        out = tag_counts(arr)
        assert out.dtype == np.int64 and out.tolist() == [3, 1, 2]


def test_upsample_hand_worked_largest_100_size_04():
    # largest tag 100 frames, size 0.4 -> target int(40.0) = 40
    counts = [100, 10, 39, 40, 55, 1]
    Y = single_tag(counts)
    idx = upsample(Y, 0.4, seed=3)
    assert idx.dtype == np.int64 and idx.ndim == 1
    assert achieved(Y, idx).tolist() == [100, 40, 40, 40, 55, 40]
    assert upsample_targets(Y, 0.4).tolist() == [100, 40, 40, 40, 55, 40]
    uses = np.bincount(idx, minlength=len(Y))
    assert (uses >= 1).all()  # every original frame kept
    # tags at or above the target keep their frames: each exactly once, nothing added
    at_or_above = np.isin(Y.argmax(axis=1), [0, 3, 4])
    assert (uses[at_or_above] == 1).all()
    assert len(idx) == sum(counts) + (40 - 10) + (40 - 39) + (40 - 1)


def test_upsample_size_1_raises_every_tag_to_the_largest():
    Y = single_tag([429, 25, 200])
    assert achieved(Y, upsample(Y, 1.0)).tolist() == [429, 429, 429]
    assert achieved(Y, upsample(Y, 0.25)).tolist() == [429, 107, 200]  # int(429 * 0.25) = 107


def test_upsample_draws_single_tag_frames_when_there_are_any():
    # tag 1: frames 0-4 carry tags 0 and 1, frames 5-6 carry tag 1 only; tag 2: frames 7-8 carry tags 0 and 2
    Y = np.zeros((30, 3), dtype=int)
    Y[:5, [0, 1]] = 1
    Y[5:7, 1] = 1
    Y[7:9, [0, 2]] = 1
    Y[9:, 0] = 1
    # size 1: target 28 (tag 0). Ascending order: tag 2 (2 frames) first, drawn from both its frames since
    # it has no single-tag frame, which raises tag 0 by 26 too; then tag 1 (7), from its single-tag frames only
    idx = upsample(Y, 1.0, seed=1)
    extra = np.bincount(idx, minlength=len(Y)) - 1
    assert (extra >= 0).all()
    assert extra[7:9].sum() == 28 - 2
    assert extra[5:7].sum() == 28 - 7
    assert extra[:5].sum() == 0 and extra[9:].sum() == 0
    assert achieved(Y, idx).tolist() == [28 + 26, 28, 28]


def test_downsample_hand_worked_readings():
    # smallest tag 25, a tag of 100, size 0.5: readme keeps 100 - int(75 * 0.5) = 63, code keeps ceil(37.5) = 38
    Y = single_tag([25, 100])
    assert downsample_targets(Y, 0.5, "code").tolist() == [25, 38]
    assert downsample_targets(Y, 0.5, "readme").tolist() == [25, 63]
    assert achieved(Y, downsample(Y, 0.5, reading="code")).tolist() == [25, 38]
    assert achieved(Y, downsample(Y, 0.5, reading="readme")).tolist() == [25, 63]
    assert achieved(Y, downsample(Y, 0.5)).tolist() == [25, 38]  # "code" is the default


def test_downsample_targets_study_counts_and_float_noise():
    Y = single_tag([25, 429, 35])
    assert downsample_targets(Y, 0.25, "code").tolist() == [
        25,
        303,
        25,
    ]  # ceil(404 * .75); max(25, ceil(7.5))
    assert downsample_targets(Y, 0.25, "readme").tolist() == [
        25,
        328,
        33,
    ]  # 429 - int(101); 35 - int(2.5)
    assert downsample_targets(Y, 1.0, "code").tolist() == [25, 25, 25]
    assert downsample_targets(Y, 1.0, "readme").tolist() == [25, 25, 25]
    # (1 - 0.7) * 10 is 3.0000000000000004 in floating point: the target is 3 frames above n_min, not 4
    Y = single_tag([5, 15, 40])
    assert downsample_targets(Y, 0.7, "code").tolist() == [5, 5, 11]  # max(5, ceil(3)); ceil(10.5)
    assert downsample_targets(Y, 0.7, "readme").tolist() == [
        5,
        8,
        16,
    ]  # 15 - int(7); 40 - int(24.5)


@pytest.mark.parametrize("reading", READINGS)
@pytest.mark.parametrize("size", SIZES)
def test_single_tag_targets_met_exactly(size, reading):
    Y = single_tag([25, 100, 60, 429, 26])
    assert achieved(Y, upsample(Y, size)).tolist() == upsample_targets(Y, size).tolist()
    down = downsample(Y, size, reading=reading)
    assert achieved(Y, down).tolist() == downsample_targets(Y, size, reading).tolist()
    assert len(np.unique(down)) == len(down)


def test_zero_frame_tag_stays_zero():
    Y = single_tag([10, 0, 30])
    for idx in resample_sets(Y).values():
        assert achieved(Y, idx)[1] == 0
    assert upsample_targets(Y, 1.0).tolist() == [30, 0, 30]
    assert downsample_targets(Y, 1.0).tolist() == [10, 0, 10]  # n_min ignores the empty tag


# ---------------------------------------------------------------------------------------------
# Properties on multi-label data
# ---------------------------------------------------------------------------------------------


def check_multilabel_properties(Y, seed, size, reading):
    n = len(Y)
    counts = tag_counts(Y)
    up = upsample(Y, size, seed)
    assert (np.bincount(up, minlength=n) >= 1).all()  # every original row at least once
    assert (achieved(Y, up) >= upsample_targets(Y, size)).all()
    target = int(counts.max() * size)
    assert (achieved(Y, up)[counts > 0] >= target).all()

    down = downsample(Y, size, seed, reading)
    assert len(np.unique(down)) == len(down)  # no repeats
    assert down.min() >= 0 and down.max() < n  # a subset
    got = achieved(Y, down)
    assert (got >= downsample_targets(Y, size, reading)).all()
    assert (got <= counts).all()
    minority = np.flatnonzero(counts == counts[counts > 0].min())
    carrying = np.flatnonzero(Y[:, minority].any(axis=1))
    assert np.isin(carrying, down).all()  # the minority tag keeps all its frames
    assert (got[minority] == counts[minority]).all()
    untagged = np.flatnonzero(~Y.any(axis=1))
    assert np.isin(untagged, down).all()


@pytest.mark.parametrize("reading", READINGS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_multilabel_properties_on_the_grid(seed, reading):
    Y = multi_label(seed)
    for size in SIZES:
        check_multilabel_properties(Y, seed, size, reading)


@st.composite
def multi_hot(draw):
    n = draw(st.integers(1, 60))
    n_tags = draw(st.integers(1, 6))
    bits = draw(
        st.lists(st.lists(st.booleans(), min_size=n_tags, max_size=n_tags), min_size=n, max_size=n)
    )
    Y = np.array(bits, dtype=np.int64).reshape(n, n_tags)
    if not Y.any():
        Y[0, 0] = 1
    return Y


@settings(max_examples=60, deadline=None)
@given(
    Y=multi_hot(),
    seed=st.integers(0, 2**32 - 1),
    size=st.floats(0.01, 1.0),
    reading=st.sampled_from(READINGS),
)
def test_multilabel_properties_random(Y, seed, size, reading):
    check_multilabel_properties(Y, seed, size, reading)


def test_downsample_protects_tags_that_reached_their_target():
    # tag 0 (25 frames) shares 20 frames with tag 1 (100 frames): those cannot be dropped
    Y = np.zeros((110, 2), dtype=int)
    Y[:20, :] = 1
    Y[20:25, 0] = 1
    Y[25:105, 1] = 1
    Y[105:, 1] = 0
    Y = Y[Y.any(axis=1)]
    counts = tag_counts(Y)
    assert counts.tolist() == [25, 100]
    idx = downsample(Y, 1.0)  # tag 1 target 25: 20 shared + 5 of its own
    assert achieved(Y, idx).tolist() == [25, 25]
    assert np.isin(np.arange(25), idx).all()


# ---------------------------------------------------------------------------------------------
# Shuffling, determinism, the nine sets, the counts table
# ---------------------------------------------------------------------------------------------


def test_resample_sets_names_and_agreement_with_the_functions():
    Y = multi_label(4)
    sets = resample_sets(Y, seed=7)
    assert list(sets) == SET_NAMES
    assert np.array_equal(sets["base"], base_set(Y, 7))
    assert np.array_equal(np.sort(sets["base"]), np.arange(len(Y)))
    assert np.array_equal(sets["up-0.5"], upsample(Y, 0.5, 7))
    assert np.array_equal(sets["down-1"], downsample(Y, 1.0, 7, "code"))
    readme = resample_sets(Y, seed=7, reading="readme")
    assert np.array_equal(readme["down-0.5"], downsample(Y, 0.5, 7, "readme"))
    assert list(resample_sets(Y, sizes=[0.5])) == ["base", "up-0.5", "down-0.5"]
    for idx in sets.values():
        assert idx.dtype == np.int64 and idx.ndim == 1


def test_deterministic_per_seed_and_seed_changes_order():
    Y = multi_label(5)
    a, b, c = resample_sets(Y, seed=11), resample_sets(Y, seed=11), resample_sets(Y, seed=12)
    for name in SET_NAMES:
        assert np.array_equal(a[name], b[name])
        assert not np.array_equal(a[name], c[name])
    assert not np.array_equal(a["base"], np.arange(len(Y)))


def test_output_is_shuffled_not_grouped_by_tag():
    Y = single_tag([25, 100, 60, 80])  # stored ordered by tag, as the original did
    first_tag = Y.argmax(axis=1)
    for name, idx in resample_sets(Y, seed=0).items():
        assert not np.all(np.diff(idx) >= 0), name  # not sorted
        assert len(set(first_tag[idx[:20]].tolist())) > 1, name  # first batch not one tag
        assert len(set(first_tag[idx[-20:]].tolist())) > 1, name


def test_counts_table_matches_bincount_counts():
    Y = multi_label(6)
    tags = [f"tag{t}" for t in range(Y.shape[1])]
    sets = resample_sets(Y, seed=3)
    table = counts_table(Y, sets, tags)
    assert list(table.index) == SET_NAMES and table.index.name == "set"
    assert list(table.columns) == [*tags, "frames"]
    assert (table.dtypes == np.int64).all()
    for name, idx in sets.items():
        expected = (np.bincount(idx, minlength=len(Y))[:, None] * Y).sum(axis=0)
        assert table.loc[name, tags].tolist() == expected.tolist()
        assert table.loc[name, "frames"] == len(idx)
    assert table.loc["base", tags].tolist() == tag_counts(Y).tolist()
    pd.testing.assert_frame_equal(table, counts_table(Y.astype(bool), sets, tags))


def test_counts_table_errors():
    Y = single_tag([2, 3])
    with pytest.raises(ConfigError, match="tag names"):
        counts_table(Y, {"base": np.arange(5)}, ["a"])
    with pytest.raises(ConfigError, match="frames"):
        counts_table(Y, {"base": np.arange(5)}, ["a", "frames"])
    with pytest.raises(ConfigError, match="out of range"):
        counts_table(Y, {"base": np.array([0, 5])}, ["a", "b"])


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "size", [0, 0.0, -0.5, 1.01, 2, float("nan"), float("inf"), True, "0.5", None]
)
def test_bad_size(size):
    Y = single_tag([2, 3])
    for call in (
        lambda: upsample(Y, size),
        lambda: downsample(Y, size),
        lambda: resample_sets(Y, [size]),
    ):
        with pytest.raises(ConfigError, match="size"):
            call()


def test_bad_reading_and_seed_and_sizes():
    Y = single_tag([2, 3])
    with pytest.raises(ConfigError, match="reading"):
        downsample(Y, 0.5, reading="paper")
    with pytest.raises(ConfigError, match="reading"):
        resample_sets(Y, reading="README")
    with pytest.raises(ConfigError, match="seed"):
        upsample(Y, 0.5, seed=-1)
    with pytest.raises(ConfigError, match="seed"):
        resample_sets(Y, seed=1.5)
    with pytest.raises(ConfigError, match="sizes"):
        resample_sets(Y, sizes=[])
    with pytest.raises(ConfigError, match="distinct"):
        resample_sets(Y, sizes=[0.5, 0.5])


@pytest.mark.parametrize(
    "Y, match",
    [
        (np.array([1, 0, 1]), "2-D"),
        (np.ones((2, 2, 2)), "2-D"),
        (np.zeros((0, 3)), "empty"),
        (np.zeros((3, 0)), "empty"),
        (np.array([[0, 2], [1, 0]]), "0/1"),
        (np.array([[0.5, 1.0]]), "0/1"),
        (np.array([[np.nan, 1.0]]), "0/1"),
        (np.array([["1", "0"]]), "dtype"),
        (np.zeros((4, 3)), "no tagged frame"),
    ],
)
def test_bad_Y(Y, match):
    for call in (
        tag_counts,
        lambda y: upsample(y, 0.5),
        lambda y: downsample(y, 0.5),
        resample_sets,
    ):
        with pytest.raises(ConfigError, match=match):
            call(Y)


def test_real_split0_training_tags_meet_their_targets():
    """On the real MTG-Jamendo split-0 training tags (one row per track), every upsampled set meets
    its targets exactly and downsampling never goes below a target."""
    from .conftest import SHARED

    root = SHARED / "mtg-jamendo"
    if not (root / "autotagging_moodtheme.tsv").is_file():
        pytest.skip("../shared/data is absent (fresh clone)")
    from musiclass.datasets import jamendo

    index = jamendo.index(
        root / "autotagging_moodtheme.tsv",
        root / "audio-sample",
        curation="official",
        split=0,
        splits_dir=root / "splits",
        check="none",
    )
    parts = jamendo.split_assignment(root / "splits", 0)
    train = index.tracks["track_id"][index.tracks["track_id"].map(parts).eq("train")]
    Y = index.subset(train).label_matrix().astype(np.int8)
    assert Y.shape == (9949, 56)
    sets = resampling.resample_sets(Y, seed=42)
    for size in resampling.SIZES:
        up = resampling.tag_counts(Y[sets[resampling.set_name("up", size)]])
        np.testing.assert_array_equal(up, resampling.upsample_targets(Y, size))
        down = resampling.tag_counts(Y[sets[resampling.set_name("down", size)]])
        assert (down >= resampling.downsample_targets(Y, size)).all()
