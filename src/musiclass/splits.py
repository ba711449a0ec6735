"""Train / validation / test splits. Tracks are assigned, never frames, except under ``seed``.

``song``
    stratified by label, seeded (:func:`song_split`)
``artist``
    stratified and grouped: no artist in two parts (:func:`song_split` with ``group="artist"``)
``gtzan-filtered`` / ``gtzan-stratified``
    the published GTZAN lists (:func:`musiclass.datasets.gtzan.split`)
``official``
    the MTG-Jamendo split files (:func:`musiclass.datasets.jamendo.split_assignment`)
``seed-frame``
    the original study's split of *frames* (``seed`` protocol only), which puts frames of one
    song, often overlapping ones, on both sides: :func:`frame_leak` measures that leak.

A split is saved as CSV: ``track_id,part`` for track splits, ``row,track_id,part`` for frame splits.
"""

from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold, train_test_split

from .datasets.base import TrackIndex, split_labels
from .errors import ConfigError, MetadataError
from .utils import read_csv_table, write_csv_atomic

PARTS = ("train", "validation", "test")
METHODS = ("song", "artist", "seed-frame", "gtzan-filtered", "gtzan-stratified", "official")


def check_fractions(fractions, *, every_part: bool = False) -> tuple[float, float, float]:
    """Check a split's train, validation and test fractions.

    Parameters
    ----------
    fractions : sequence of float
        Three finite numbers, non-negative, summing to 1, train above 0.
    every_part : bool, default=False
        Require each fraction in the open interval (0, 1), so that no part is empty: what a
        user's ``--fractions`` or ``split_fractions`` must be (``1 0 0`` would leave nothing to
        test on). The library's own callers may leave validation or test empty.

    Returns
    -------
    tuple of float
        The fractions as floats.

    Raises
    ------
    musiclass.errors.ConfigError
        When they are not three such numbers.
    """
    try:
        f = tuple(float(x) for x in fractions)
    except (TypeError, ValueError):
        f = ()
    if (
        len(f) != 3
        or not all(np.isfinite(f))
        or min(f) < 0
        or f[0] <= 0
        or abs(sum(f) - 1.0) > 1e-6
    ):
        raise ConfigError(
            f"fractions must be three non-negative numbers summing to 1 (train > 0), got {fractions}"
        )
    if every_part and not all(0 < x < 1 for x in f):
        raise ConfigError(
            f"fractions (train, validation, test) must each be in (0, 1) and sum to 1, got "
            f"{list(f)}: a part of 0 would be empty"
        )
    return f


def stratification_key(labels: list[str] | pd.Series, multilabel: bool) -> np.ndarray:
    """One stratum per track: its label, or (multi-label) its least frequent tag.

    Strata with fewer than 3 members are merged into one ``<rare>`` stratum so that every stratum
    can appear in every part. For multi-label data, ties between equally rare tags go to the
    alphabetically first, and a track without any tag gets the stratum ``<none>``.

    Parameters
    ----------
    labels : list of str or pandas.Series
        One label per track; multi-label tags joined by ``|``.
    multilabel : bool
        Whether ``labels`` are multi-label.

    Returns
    -------
    numpy.ndarray of object, shape (n_tracks,)
        The stratum of each track.

    Examples
    --------
    >>> from musiclass.splits import stratification_key
    >>> stratification_key(["rock"] * 3 + ["jazz"] * 2, multilabel=False).tolist()
    ['rock', 'rock', 'rock', '<rare>', '<rare>']
    """
    labels = list(labels)
    if multilabel:
        lists = [split_labels(v) for v in labels]
        freq = Counter(t for tags in lists for t in tags)
        keys = [min(tags, key=lambda t: (freq[t], t)) if tags else "<none>" for tags in lists]
    else:
        keys = [str(v) for v in labels]
    counts = Counter(keys)
    return np.array([k if counts[k] >= 3 else "<rare>" for k in keys], dtype=object)


def _two_step(ids: np.ndarray, strata: np.ndarray | None, fractions, seed: int):
    """Cut test off, then validation off the rest; stratified when ``strata`` is given.

    Returns ``{id: part}``."""
    train_f, val_f, test_f = fractions

    def cut(pos: np.ndarray, size: float, rng_seed: int) -> tuple[np.ndarray, np.ndarray]:
        if size <= 0:
            return pos, pos[:0]
        try:
            return train_test_split(
                pos,
                test_size=size,
                random_state=rng_seed,
                stratify=None if strata is None else strata[pos],
            )
        except ValueError:  # too few per stratum for this size: fall back to a plain shuffle
            if strata is not None:
                warnings.warn(
                    "too few tracks per class to stratify this split; splitting at random",
                    stacklevel=4,
                )
            return train_test_split(pos, test_size=size, random_state=rng_seed)

    rest, test = cut(np.arange(len(ids)), test_f, seed)
    train, val = cut(rest, val_f / (train_f + val_f), seed + 1)
    return {
        **{k: "train" for k in ids[train]},
        **{k: "validation" for k in ids[val]},
        **{k: "test" for k in ids[test]},
    }


def song_split(
    index: TrackIndex,
    fractions=(0.8, 0.1, 0.1),
    seed: int = 42,
    stratify: bool = True,
    group: str | None = None,
) -> pd.Series:
    """Assign every track of ``index`` to train / validation / test.

    Parameters
    ----------
    index : musiclass.datasets.base.TrackIndex
        The tracks to split.
    fractions : tuple of (float, float, float), default=(0.8, 0.1, 0.1)
        Target shares of tracks (train, validation, test): non-negative, summing to 1, train > 0.
    seed : int, default=42
        The split is a pure function of the index, the fractions and the seed.
    stratify : bool, default=True
        Keep class proportions in every part (see :func:`stratification_key`).
    group : str or None, default=None
        A column of the track table (``"artist"``) whose values must not be shared between
        parts. Uses :class:`sklearn.model_selection.StratifiedGroupKFold`; the shares are then
        approximate (validation and test get one fold each of ``round(1 / fraction)`` folds).

    Returns
    -------
    pandas.Series
        ``track_id -> part`` (name ``"part"``), in the index's track order.

    Raises
    ------
    musiclass.errors.ConfigError
        When ``fractions`` are invalid, the track table has no ``group`` column or some tracks have
        an empty value in it, or too few groups are left to carve a part.

    Warns
    -----
    UserWarning
        When a class has too few tracks to stratify: that cut is made at random (or, grouped,
        grouping without stratifying).
    """
    fractions = check_fractions(fractions)
    t = index.tracks
    ids = t["track_id"].to_numpy(dtype=object)
    strata = stratification_key(t["label"], index.multilabel) if stratify else None
    if group is None:
        part = _two_step(ids, strata, fractions, seed)
    else:
        if group not in t.columns:
            raise ConfigError(f"cannot group by {group!r}: the track table has no such column")
        groups = t[group].astype(str).to_numpy()
        if (groups == "").any():
            raise ConfigError(f"cannot group by {group!r}: some tracks have no {group}")
        part = _grouped(ids, strata, groups, fractions, seed)
    return pd.Series([part[k] for k in ids], index=pd.Index(ids, name="track_id"), name="part")


def _grouped(ids, strata, groups, fractions, seed) -> dict[str, str]:
    _, val_f, test_f = fractions
    y = strata if strata is not None else np.zeros(len(ids), dtype=object)
    part = {k: "train" for k in ids}
    remaining = np.arange(len(ids))
    for name, frac, offset in (("test", test_f, 0), ("validation", val_f / (1 - test_f), 1)):
        if frac <= 0:
            continue
        n_splits = max(2, int(round(1 / frac)))
        n_groups = len(set(groups[remaining]))
        if n_groups < n_splits:
            raise ConfigError(
                f"only {n_groups} groups left: too few to carve a {frac:.0%} {name} part"
            )
        cv = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed + offset)
        held = None
        with warnings.catch_warnings():  # "least populated class has fewer members than n_splits"
            warnings.simplefilter("ignore", UserWarning)
            try:
                _, held = next(cv.split(remaining, y[remaining], groups[remaining]))
            except ValueError:  # every class has fewer tracks than there are folds
                pass
        if held is None:  # group without stratifying, as _two_step does when it cannot stratify
            warnings.warn(
                "too few tracks per class to stratify this grouped split; grouping at random",
                stacklevel=3,
            )
            flat = np.zeros(
                len(remaining), dtype=np.int64
            )  # one class of len(remaining) >= n_splits tracks
            _, held = next(cv.split(remaining, flat, groups[remaining]))
        for i in remaining[held]:
            part[ids[i]] = name
        remaining = np.setdiff1d(remaining, remaining[held])
    return part


def frame_split(
    frame_index: pd.DataFrame,
    fractions=(0.8, 0.1, 0.1),
    seed: int = 42,
    stratify: bool = True,
    multilabel: bool = False,
) -> pd.DataFrame:
    """The original study's split of **frames** (``seed`` protocol): leaks songs across parts.

    Parameters
    ----------
    frame_index : pandas.DataFrame
        One row per frame, with columns ``row``, ``track_id`` and ``label`` (a store's index).
    fractions : tuple of (float, float, float), default=(0.8, 0.1, 0.1)
        Target shares of frames (train, validation, test).
    seed : int, default=42
        Seed of the split.
    stratify : bool, default=True
        Keep label proportions in every part (see :func:`stratification_key`).
    multilabel : bool, default=False
        Whether the labels are multi-label.

    Returns
    -------
    pandas.DataFrame
        ``row, track_id, part``, one row per frame, in the order of ``frame_index``.

    Raises
    ------
    musiclass.errors.ConfigError
        When ``fractions`` are invalid.

    Warns
    -----
    UserWarning
        When a stratum has too few frames to stratify: the cut is made at random.
    """
    fractions = check_fractions(fractions)
    rows = frame_index["row"].to_numpy(dtype=object)
    strata = stratification_key(frame_index["label"], multilabel) if stratify else None
    part = _two_step(rows, strata, fractions, seed)
    return pd.DataFrame(
        {
            "row": frame_index["row"].to_numpy(),
            "track_id": frame_index["track_id"].to_numpy(),
            "part": [part[r] for r in rows],
        }
    )


def rows_for(track_parts: pd.Series, frame_index: pd.DataFrame) -> pd.DataFrame:
    """Expand a track split to frame rows: ``row, track_id, part`` (tracks not split: dropped).

    Parameters
    ----------
    track_parts : pandas.Series
        ``track_id -> part``, e.g. from :func:`song_split`.
    frame_index : pandas.DataFrame
        One row per frame, with columns ``row`` and ``track_id``.

    Returns
    -------
    pandas.DataFrame
        ``row, track_id, part`` for the frames of tracks in train, validation or test (tracks
        absent from ``track_parts`` or in another part, such as ``excluded``, are dropped).
    """
    parts = frame_index["track_id"].map(track_parts)
    keep = parts.notna() & parts.isin(PARTS)
    return pd.DataFrame(
        {
            "row": frame_index["row"][keep].to_numpy(),
            "track_id": frame_index["track_id"][keep].to_numpy(),
            "part": parts[keep].to_numpy(),
        }
    )


def tracks_in_several_parts(row_parts: pd.DataFrame) -> list[str]:
    """List the tracks whose frames are in more than one part (empty for every track-level split).

    Parameters
    ----------
    row_parts : pandas.DataFrame
        A frame split, with columns ``track_id`` and ``part``.

    Returns
    -------
    list of str
        The track ids, sorted.
    """
    n = row_parts.groupby("track_id")["part"].nunique()
    return sorted(n[n > 1].index)


def frame_leak(
    row_parts: pd.DataFrame, frame_index: pd.DataFrame, frame_seconds: float | None = None
) -> dict[str, float]:
    """Measure how much a split leaks, on its test frames.

    ``test_frames_with_song_in_train``: share of test frames whose song has frames in train.
    ``test_frames_overlapping_train``: share of test frames that overlap in time a train frame of
    the same song (frames overlap when their starts are closer than ``frame_seconds``; only
    reported when ``frame_seconds`` is given).

    Parameters
    ----------
    row_parts : pandas.DataFrame
        A frame split, with columns ``row`` and ``part``.
    frame_index : pandas.DataFrame
        One row per frame, with columns ``row``, ``track_id`` and ``start`` (seconds).
    frame_seconds : float or None, default=None
        Frame length in seconds, needed for the overlap share.

    Returns
    -------
    dict
        ``test_frames`` (int), ``test_frames_with_song_in_train`` and, with ``frame_seconds``,
        ``test_frames_overlapping_train`` (floats in ``[0, 1]``). Without test frames all three
        are 0.
    """
    merged = frame_index.merge(row_parts[["row", "part"]], on="row")
    test = merged[merged["part"] == "test"]
    if test.empty:
        return {
            "test_frames": 0,
            "test_frames_with_song_in_train": 0.0,
            "test_frames_overlapping_train": 0.0,
        }
    train = merged[merged["part"] == "train"]
    train_starts = train.groupby("track_id")["start"].apply(np.sort).to_dict()
    with_song = overlapping = 0
    for tid, start in zip(test["track_id"], test["start"]):
        s = train_starts.get(tid)
        if s is None:
            continue
        with_song += 1
        if frame_seconds is not None and np.any(np.abs(s - start) < frame_seconds - 1e-9):
            overlapping += 1
    n = len(test)
    out = {"test_frames": n, "test_frames_with_song_in_train": with_song / n}
    if frame_seconds is not None:
        out["test_frames_overlapping_train"] = overlapping / n
    return out


def summarize(row_parts: pd.DataFrame, frame_index: pd.DataFrame) -> pd.DataFrame:
    """Count tracks and frames per part.

    Parameters
    ----------
    row_parts : pandas.DataFrame
        A frame split, with columns ``row``, ``track_id`` and ``part``.
    frame_index : pandas.DataFrame
        One row per frame, with column ``row``; only rows present in it are counted.

    Returns
    -------
    pandas.DataFrame
        Index ``part`` (train, validation, test: those present, in that order); columns
        ``tracks`` and ``frames``.
    """
    merged = row_parts.merge(frame_index[["row"]], on="row")
    g = merged.groupby("part")
    table = pd.DataFrame({"tracks": g["track_id"].nunique(), "frames": g.size()})
    return table.reindex([p for p in PARTS if p in table.index])


def save(split: pd.Series | pd.DataFrame, path: str | Path) -> Path:
    """Write a split as CSV, atomically.

    Parameters
    ----------
    split : pandas.Series or pandas.DataFrame
        A track split (Series ``track_id -> part``, written as ``track_id,part``) or a frame split
        (DataFrame ``row, track_id, part``, written as is).
    path : str or pathlib.Path
        The CSV file; its folder is created when missing.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    df = split.reset_index() if isinstance(split, pd.Series) else split
    write_csv_atomic(df, path)
    return path


def load(path: str | Path) -> pd.DataFrame:
    """Read a saved split: returns its table (``track_id,part`` or ``row,track_id,part``).

    Parameters
    ----------
    path : str or pathlib.Path
        A CSV written by :func:`save` (``musiclass split``).

    Returns
    -------
    pandas.DataFrame
        The table; ``track_id`` and ``part`` are strings.

    Raises
    ------
    musiclass.errors.MetadataError
        Naming the file when it is missing, empty (or a header without rows) or not a CSV table,
        lacks the ``track_id`` or ``part`` column, names a part other than train / validation /
        test / excluded, or assigns one track (one ``row``, for a frame split) twice: a track listed
        in two parts would leak it between them.
    """
    path = Path(path)
    if not path.is_file():
        raise MetadataError(path, "split file not found: run `musiclass split` first")
    df = read_csv_table(
        path,
        header="a header 'track_id,part' (or 'row,track_id,part')",
        kind="a split CSV",
        dtype={"track_id": str, "part": str},
        keep_default_na=False,
    )
    if "part" not in df.columns or "track_id" not in df.columns:
        raise MetadataError(path, "not a split file (needs columns track_id and part)")
    if df.empty:
        raise MetadataError(path, "the split lists no track (a header and no rows)")
    bad = sorted(set(df["part"]) - set(PARTS) - {"excluded"})
    if bad:
        raise MetadataError(path, f"unknown part name(s) {bad}; expected {PARTS}")
    key = "row" if "row" in df.columns else "track_id"
    dup = df[key][df[key].duplicated()]
    if len(dup):
        first = dup.iloc[0]
        what, shown = ("row", str(first)) if key == "row" else ("track", repr(first))
        parts = sorted(set(df.loc[df[key] == first, "part"]))
        raise MetadataError(
            path,
            f"{what} {shown} is listed {int((df[key] == first).sum())} times "
            f"(parts {parts}): each {what} must be in exactly one part",
        )
    return df


def classes_without(
    row_parts: pd.DataFrame, frame_index: pd.DataFrame, classes, part: str = "test"
) -> list[str]:
    """The classes (tags) no track of one part carries.

    Parameters
    ----------
    row_parts : pandas.DataFrame
        A frame split, with columns ``row`` and ``part``.
    frame_index : pandas.DataFrame
        One row per frame, with columns ``row`` and ``label`` (``|``-joined tags when multi-label).
    classes : sequence of str
        Every class of the data set.
    part : str, default="test"
        The part to check.

    Returns
    -------
    list of str
        The classes absent from ``part``, in ``classes`` order: their per-class metrics cannot be
        measured on it, and a report must say so instead of printing a recall of 0.
    """
    rows = row_parts.loc[row_parts["part"] == part, "row"]
    labels = frame_index.loc[frame_index["row"].isin(rows), "label"]
    seen = {tag for value in labels for tag in split_labels(value)}
    return [c for c in classes if c not in seen]
