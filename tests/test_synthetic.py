"""The synthetic datasets: real on-disk formats, determinism, tag statistics, and a fair benchmark.

The benchmark tests render audio in memory and compute the hand-crafted descriptors in a small
process pool; the format tests go through files written to ``tmp_path``.
"""

from __future__ import annotations

import math
import os
import re
import warnings
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import scipy.stats
import soundfile as sf

from musiclass.datasets import synthetic as S
from musiclass.errors import ConfigError

SHARED_JAMENDO = Path(__file__).resolve().parents[2] / "shared" / "data" / "mtg-jamendo"
HEADER = "TRACK_ID\tARTIST_ID\tALBUM_ID\tPATH\tDURATION\tTAGS"
PEAK = 10 ** (S.PEAK_DBFS / 20)
ROW = re.compile(
    r"^track_(\d{7})\tartist_\d{6}\talbum_\d{6}\t(\d{2})/(\d+)\.mp3\t(\d+\.\d)((?:\tmood/theme---[a-z]+)+)$"
)


# ----------------------------------------------------------------------------- helpers


def _pool_init() -> None:
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)  # two processes x several BLAS threads each would fight over 2 cores


def _pool() -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        max_workers=max(1, min(4, os.cpu_count() or 1)), initializer=_pool_init
    )


def _genre_descriptors(args) -> np.ndarray:
    from musiclass.features.handcrafted import descriptors

    genre, index = args
    return descriptors(S.render_genre_clip(genre, index, seed=0), S.GTZAN_SAMPLE_RATE)


def _mood_descriptors(args) -> np.ndarray:
    from musiclass.features.handcrafted import descriptors

    tags, number, artist, duration = args
    y = S.render_mood_track(tags, number, seed=0, duration=duration, artist=artist)
    return descriptors(y, S.JAMENDO_SAMPLE_RATE)


def read_tsv(path: Path) -> tuple[bytes, list[list[str]]]:
    """Raw bytes and the rows (header first), checking CRLF line ends on the way."""
    raw = path.read_bytes()
    assert raw.endswith(b"\r\n")
    lines = raw.decode("utf-8").split("\r\n")[:-1]
    assert all("\n" not in line and "\r" not in line for line in lines)
    return raw, [line.split("\t") for line in lines]


def all_files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


# ----------------------------------------------------------------------------- constants


def test_constants_match_the_real_datasets():
    assert S.GTZAN_GENRES == tuple(sorted(S.GTZAN_GENRES)) and len(S.GTZAN_GENRES) == 10
    assert len(S.MOODTHEME_TAG_COUNTS) == 59
    assert S.MOODTHEME_TAG_COUNTS["happy"] == 1657 and S.MOODTHEME_TAG_COUNTS["fast"] == 119
    assert sum(S.MOODTHEME_TAG_COUNTS.values()) == 32_527  # tag assignments of 18,486 tracks
    assert set(S.SPLIT_DROPPED_TAGS) == {"ambiental", "horror", "mellow"}
    assert set(S.SPLIT_DROPPED_TAGS) < set(S.MOODTHEME_TAG_COUNTS)
    assert math.isclose(sum(S.TAGS_PER_TRACK_PROBS.values()), 1.0)
    assert set(S.TAG_PROFILES) == set(S.MOODTHEME_TAG_COUNTS)
    assert set(S.GENRE_RECIPES) == set(S.GTZAN_GENRES)


@pytest.mark.shared
def test_tag_counts_match_the_real_metadata():
    path = SHARED_JAMENDO / "autotagging_moodtheme.tsv"
    if not path.exists():
        pytest.skip(f"real data not available: {path}")
    _, rows = read_tsv(path)
    assert "\t".join(rows[0]) == HEADER
    counts = Counter(t.split("---", 1)[1] for row in rows[1:] for t in row[5:])
    assert counts == Counter(S.MOODTHEME_TAG_COUNTS)


# ----------------------------------------------------------------------------- rendering


@pytest.mark.parametrize("genre", S.GTZAN_GENRES)
def test_genre_clip_is_sane_and_deterministic(genre):
    y = S.render_genre_clip(genre, 3, seed=5, duration=4.0)
    assert y.dtype == np.float32 and y.shape == (4 * S.GTZAN_SAMPLE_RATE,)
    assert np.isfinite(y).all()
    assert (
        PEAK * 10 ** (-7.5 / 20) < np.max(np.abs(y)) <= PEAK + 1e-6
    )  # -1 dBFS at most, never clipped
    assert np.sqrt(np.mean(y**2)) > 0.01  # never silent
    assert np.array_equal(y, S.render_genre_clip(genre, 3, seed=5, duration=4.0))
    assert not np.array_equal(y, S.render_genre_clip(genre, 4, seed=5, duration=4.0))
    assert not np.array_equal(y, S.render_genre_clip(genre, 3, seed=6, duration=4.0))


def test_artists_share_consecutive_clips():
    for genre in S.GTZAN_GENRES:
        artists = [S.clip_artist(genre, i) for i in range(S.MAX_CLIPS_PER_GENRE)]
        assert artists == sorted(artists) and artists[0] == 0
        runs = Counter(artists)
        assert all(S.ARTIST_RUN[0] <= n <= S.ARTIST_RUN[1] for n in runs.values())
        # enough artists per 20 clips for an artist-disjoint split with test artists in every genre
        assert 7 <= len(set(artists[:20])) <= 20
    style = S.artist_style("metal", 0)
    assert style == S.artist_style("metal", 0)
    assert len(style.chords) == 1 and len(style.bass) == 1  # an artist has one band


def test_power_chord_timbre_holds_root_fifth_and_octave():
    amps = np.asarray(S.power_chord_timbre(S.TIMBRES["dist_guitar"]).amps)
    assert amps[0] == 0 and amps[1] > 0 and amps[2] > 0 and amps[3] > 0  # harmonics 2, 3, 4 of p-12


def test_render_notes_places_notes_without_clicks():
    sr = 8000
    piano = S.TIMBRES["piano"]
    notes = S.Notes.from_lists(onset=[0.5, 1.0], dur=[0.2, 0.2], pitch=[69, 81], vel=[1.0, 0.5])
    y = S.render_notes(notes, piano, sr, 3 * sr)
    start = int(0.5 * sr)
    assert np.all(y[:start] == 0)  # nothing before the first onset
    assert abs(y[start]) < 0.05  # the attack starts from silence
    assert np.max(np.abs(y[start : start + sr // 10])) > 0.5
    release = min(piano.release, S.MAX_TAIL / S.RELEASE_TAIL)
    tail_end = int(np.ceil((1.2 + S.RELEASE_TAIL * release) * sr))
    assert np.all(y[tail_end + 1 :] == 0) and np.any(y[tail_end - sr // 10 : tail_end] != 0)
    assert (
        np.max(np.abs(y[tail_end - 20 : tail_end + 1])) < 1e-3
    )  # the release fades to zero: no click
    spectrum = np.abs(np.fft.rfft(y[int(0.55 * sr) : int(0.65 * sr)]))
    assert abs(np.argmax(spectrum) * 10 - 440) <= 10  # A4 sounds at 440 Hz


@pytest.mark.parametrize(
    "tags",
    [
        ("happy",),
        ("dark", "epic"),
        ("christmas", "children", "fun"),
        ("horror", "soundscape"),
        ("retro", "game"),
    ],
)
def test_mood_track_is_sane_and_loops_long_tracks(tags):
    y = S.render_mood_track(tags, 17, seed=1, duration=6.0, artist=3)
    assert y.shape == (6 * S.JAMENDO_SAMPLE_RATE,) and y.dtype == np.float32
    assert np.isfinite(y).all() and np.sqrt(np.mean(y**2)) > 0.005
    assert np.max(np.abs(y)) <= PEAK + 1e-6
    assert np.array_equal(y, S.render_mood_track(tags, 17, seed=1, duration=6.0, artist=3))
    long = S.render_mood_track(tags, 17, seed=1, duration=61.3, artist=3)
    assert long.shape == (int(round(61.3 * S.JAMENDO_SAMPLE_RATE)),)
    assert np.isfinite(long).all() and np.max(np.abs(long)) <= PEAK + 1e-6
    assert (
        np.sqrt(np.mean(long[-S.JAMENDO_SAMPLE_RATE * 5 :] ** 2)) > 0.005
    )  # still playing at the end


# ----------------------------------------------------------------------------- tags and splits


def test_tag_sampler_follows_the_real_statistics():
    draws = S.sample_tags(3000, seed=0)
    assert draws == S.sample_tags(3000, seed=0) and draws != S.sample_tags(3000, seed=1)
    assert all(list(t) == sorted(set(t)) and t for t in draws)
    counts = Counter(tag for t in draws for tag in t)
    assert set(counts) == set(S.MOODTHEME_TAG_COUNTS)
    tags = list(S.MOODTHEME_TAG_COUNTS)
    rho = scipy.stats.spearmanr(
        [counts[t] for t in tags], [S.MOODTHEME_TAG_COUNTS[t] for t in tags]
    )[0]
    assert rho > 0.9
    sizes = Counter(min(len(t), 5) for t in draws)
    for k, p in S.TAGS_PER_TRACK_PROBS.items():
        assert abs(sizes[k] / len(draws) - p) < 0.03
    # a few hundred tracks (the size of the default set) already rank the tags like the real data
    small = Counter(tag for t in S.sample_tags(400, seed=2) for tag in t)
    assert (
        scipy.stats.spearmanr([small[t] for t in tags], [S.MOODTHEME_TAG_COUNTS[t] for t in tags])[
            0
        ]
        > 0.8
    )


def test_default_mood_set_has_every_tag():
    plan = S.plan_jamendo()
    assert len(plan) == S.DEFAULT_N_TRACKS
    assert {tag for t in plan for tag in t.tags} == set(S.MOODTHEME_TAG_COUNTS)  # 59 tags
    kept = {tag for part in S.assign_splits(plan).values() for t in part for tag in t.tags}
    assert kept - set(S.SPLIT_DROPPED_TAGS) == set(S.MOODTHEME_TAG_COUNTS) - set(
        S.SPLIT_DROPPED_TAGS
    )  # 56
    assert len(S.sample_tags(30)) == 30  # too few slots: no forcing


def test_plan_and_artist_disjoint_splits():
    plan = S.plan_jamendo(2000, seed=3)
    numbers = [t.number for t in plan]
    assert numbers == sorted(set(numbers))
    durations = np.asarray([t.duration for t in plan])
    assert durations.min() >= 30.0 and durations.max() <= 180.0 and durations.max() > 120.0
    assert np.median(durations) < 60.0  # skewed toward short
    assert all(round(d, 1) == d for d in durations)
    per_artist = Counter(t.artist for t in plan)
    assert 2.5 < np.mean(list(per_artist.values())) < 6
    parts = S.assign_splits(plan, seed=3)
    kept = [t for t in plan if set(t.tags) - set(S.SPLIT_DROPPED_TAGS)]
    assert sorted(t.number for p in parts.values() for t in p) == sorted(t.number for t in kept)
    assert len(kept) < len(plan)  # some tracks only had dropped tags
    artists = {p: {t.artist for t in ts} for p, ts in parts.items()}
    assert not (
        artists["train"] & artists["validation"]
        or artists["train"] & artists["test"]
        or artists["validation"] & artists["test"]
    )
    for part, frac in S.SPLIT_FRACTIONS.items():
        assert abs(len(parts[part]) / len(kept) - frac) < 0.03


# ----------------------------------------------------------------------------- files on disk


def test_make_gtzan_writes_the_gtzan_layout(tmp_path):
    root = S.make_gtzan(tmp_path / "gtzan", clips_per_genre=2, seed=0, progress=False)
    assert root == tmp_path / "gtzan"
    wavs = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.wav"))
    assert wavs == sorted(f"genres/{g}/{g}.{i:05d}.wav" for g in S.GTZAN_GENRES for i in range(2))
    for rel in wavs:
        info = sf.info(root / rel)
        assert (info.format, info.subtype, info.samplerate, info.channels, info.frames) == (
            "WAV",
            "PCM_16",
            22_050,
            1,
            661_500,
        )
    y, sr = sf.read(root / wavs[0], dtype="float32")
    assert sr == 22_050 and np.sqrt(np.mean(y**2)) > 0.01 and np.max(np.abs(y)) <= PEAK + 1e-4
    raw = (root / "artists.csv").read_bytes()
    assert b"\r" not in raw and raw.endswith(b"\n")
    lines = raw.decode().splitlines()
    assert lines[0] == "track_id,artist" and len(lines) == 21
    assert lines[1] == "blues.00000,blues_artist_01"
    for line in lines[1:]:
        track, artist = line.split(",")
        genre, number = track.split(".")
        assert artist == f"{genre}_artist_{S.clip_artist(genre, int(number)) + 1:02d}"


def test_make_gtzan_short_clips_and_clip_content_independent_of_count(tmp_path):
    a = S.make_gtzan(tmp_path / "a", clips_per_genre=1, duration=3.0, progress=False)
    b = S.make_gtzan(tmp_path / "b", clips_per_genre=3, duration=3.0, progress=False)
    assert sf.info(a / "genres/jazz/jazz.00000.wav").frames == 3 * 22_050
    for g in S.GTZAN_GENRES:
        rel = f"genres/{g}/{g}.00000.wav"
        assert (a / rel).read_bytes() == (b / rel).read_bytes()
    assert set((a / "artists.csv").read_text().splitlines()) < set(
        (b / "artists.csv").read_text().splitlines()
    )


def test_make_jamendo_writes_the_mtg_jamendo_format(tmp_path):
    root = S.make_jamendo(
        tmp_path / "jam", n_tracks=14, seed=4, progress=False, min_duration=30.0, max_duration=34.0
    )
    _, rows = read_tsv(root / "autotagging_moodtheme.tsv")
    assert "\t".join(rows[0]) == HEADER
    body = rows[1:]
    assert len(body) == 14
    assert [r[0] for r in body] == sorted(r[0] for r in body)
    full = {}
    for r in body:
        m = ROW.match("\t".join(r))
        assert m, r
        number = int(m.group(1))
        assert m.group(2) == f"{number % 100:02d}" and int(m.group(3)) == number
        assert not m.group(3).startswith("0")
        tags = r[5:]
        assert tags == sorted(tags) and len(set(tags)) == len(tags)
        assert {t.split("---")[1] for t in tags} <= set(S.MOODTHEME_TAG_COUNTS)
        info = sf.info(root / r[3])
        assert (info.format, info.samplerate, info.channels) == ("MP3", S.JAMENDO_SAMPLE_RATE, 1)
        assert 30.0 <= float(r[4]) <= 34.0
        assert abs(info.frames / info.samplerate - float(r[4])) < 0.1  # DURATION matches the audio
        full[r[0]] = r
    y, sr = sf.read(root / body[0][3], dtype="float32")
    assert sr == S.JAMENDO_SAMPLE_RATE and np.isfinite(y).all() and np.sqrt(np.mean(y**2)) > 0.005
    assert abs(y.size - round(float(body[0][4]) * sr)) <= 1152  # within an MP3 frame
    split_rows, artists = {}, {}
    for part in ("train", "validation", "test"):
        _, rows = read_tsv(root / "splits" / "split-0" / f"autotagging_moodtheme-{part}.tsv")
        assert "\t".join(rows[0]) == HEADER
        split_rows[part] = rows[1:]
        artists[part] = {r[1] for r in rows[1:]}
        for r in rows[1:]:
            assert r[5:] and r[:5] == full[r[0]][:5]
            assert r[5:] == [
                t for t in full[r[0]][5:] if t.split("---")[1] not in S.SPLIT_DROPPED_TAGS
            ]
        assert [r[0] for r in rows[1:]] == sorted(r[0] for r in rows[1:])
    assert not (
        artists["train"] & artists["validation"]
        or artists["train"] & artists["test"]
        or artists["validation"] & artists["test"]
    )
    in_splits = {r[0] for rows in split_rows.values() for r in rows}
    expected = {
        k for k, r in full.items() if {t.split("---")[1] for t in r[5:]} - set(S.SPLIT_DROPPED_TAGS)
    }
    assert in_splits == expected


@pytest.mark.shared
def test_generated_tsv_reads_like_the_real_one(tmp_path):
    real = SHARED_JAMENDO / "autotagging_moodtheme.tsv"
    if not real.exists():
        pytest.skip(f"real data not available: {real}")
    _, real_rows = read_tsv(real)
    S.make_jamendo(tmp_path, n_tracks=3, progress=False, min_duration=30.0, max_duration=31.0)
    _, rows = read_tsv(tmp_path / "autotagging_moodtheme.tsv")
    assert rows[0] == real_rows[0]
    assert all(ROW.match("\t".join(r)) for r in real_rows[1:200])  # the same row grammar


@pytest.mark.slow
def test_determinism_across_runs_and_jobs(tmp_path):
    kwargs = dict(clips_per_genre=1, seed=7, progress=False, duration=5.0)
    a = all_files(S.make_gtzan(tmp_path / "g1", jobs=1, **kwargs))
    b = all_files(S.make_gtzan(tmp_path / "g2", jobs=2, **kwargs))
    assert a == b and len(a) == 11
    c = all_files(S.make_gtzan(tmp_path / "g3", jobs=1, **{**kwargs, "seed": 8}))
    assert c.keys() == a.keys() and all(c[k] != a[k] for k in a if k.endswith(".wav"))

    jkw = dict(n_tracks=5, seed=7, progress=False, min_duration=30.0, max_duration=33.0)
    j1 = all_files(S.make_jamendo(tmp_path / "j1", jobs=1, **jkw))
    j2 = all_files(S.make_jamendo(tmp_path / "j2", jobs=2, **jkw))
    assert j1 == j2 and sum(k.endswith(".mp3") for k in j1) == 5 and len(j1) == 9


@pytest.mark.slow
def test_make_all_writes_both_sets(tmp_path):
    paths = S.make_all(tmp_path, clips_per_genre=1, n_tracks=3, seed=2, jobs=2, progress=False)
    assert paths == {"gtzan": tmp_path / "gtzan", "mtg-jamendo": tmp_path / "mtg-jamendo"}
    assert len(list((tmp_path / "gtzan" / "genres").rglob("*.wav"))) == 10
    assert (tmp_path / "gtzan" / "artists.csv").exists()
    assert len(list((tmp_path / "mtg-jamendo").rglob("*.mp3"))) == 3
    assert len(list((tmp_path / "mtg-jamendo" / "splits" / "split-0").glob("*.tsv"))) == 3
    # the same tracks as make_jamendo on its own
    S.make_jamendo(tmp_path / "alone", n_tracks=3, seed=2, progress=False)
    assert all_files(tmp_path / "alone") == all_files(tmp_path / "mtg-jamendo")


# ----------------------------------------------------------------------------- bad arguments


@pytest.mark.parametrize(
    "call",
    [
        lambda p: S.make_gtzan(p, clips_per_genre=0),
        lambda p: S.make_gtzan(p, clips_per_genre=101),
        lambda p: S.make_gtzan(p, clips_per_genre=2.5),
        lambda p: S.make_gtzan(p, clips_per_genre=True),
        lambda p: S.make_gtzan(p, seed=-1),
        lambda p: S.make_gtzan(p, seed="0"),
        lambda p: S.make_gtzan(p, jobs=0),
        lambda p: S.make_gtzan(p, duration=0.0),
        lambda p: S.make_gtzan(p, duration=float("nan")),
        lambda p: S.make_jamendo(p, n_tracks=0),
        lambda p: S.make_jamendo(p, min_duration=60.0, max_duration=30.0),
        lambda p: S.make_jamendo(p, max_duration=1e6),
        lambda p: S.make_all(p, clips_per_genre=-3),
        lambda p: S.make_all(p, n_tracks=-1),
        lambda p: S.render_genre_clip("polka", 0),
        lambda p: S.render_genre_clip("rock", 100),
        lambda p: S.render_mood_track(("happy", "grumpy"), 0),
        lambda p: S.render_mood_track((), 0),
        lambda p: S.sample_tags(0),
    ],
)
def test_bad_arguments_raise_value_error(tmp_path, call):
    with pytest.raises(ValueError):
        call(tmp_path / "out")
    assert not (tmp_path / "out").exists()  # nothing written


def test_errors_are_config_errors():
    with pytest.raises(ConfigError, match="clips_per_genre"):
        S.make_gtzan("unused", clips_per_genre=500)


# ----------------------------------------------------------------------------- a fair benchmark


@pytest.mark.slow
def test_genres_are_learnable_but_not_trivially():
    """An SVM on the 97 descriptors of 20 clips per genre: well above chance, below perfect."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    clips = [(g, i) for g in S.GTZAN_GENRES for i in range(20)]
    with _pool() as pool:
        X = np.asarray(list(pool.map(_genre_descriptors, clips, chunksize=5)))
    y = np.repeat(np.arange(10), 20)
    assert np.isfinite(X).all()
    assert (X[:, 6] > 0.02).all()  # rmse_mean: no clip is (nearly) silent
    assert len(np.unique(np.round(X[:, 8]))) > 20  # tempo: estimated tempi vary
    cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    scores = cross_val_score(make_pipeline(StandardScaler(), SVC()), X, y, cv=cv)
    assert 0.50 <= scores.mean() <= 0.95, scores


@pytest.mark.slow
def test_mood_tags_are_audible():
    """Logistic regression on the descriptors predicts the tags well above chance (macro ROC-AUC)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import KFold, cross_val_predict
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    plan = S.plan_jamendo(300, seed=0)
    with _pool() as pool:
        X = np.asarray(
            list(
                pool.map(
                    _mood_descriptors,
                    [(t.tags, t.number, t.artist, 10.0) for t in plan],
                    chunksize=10,
                )
            )
        )
    tags = sorted(S.MOODTHEME_TAG_COUNTS)
    Y = np.asarray([[tag in t.tags for tag in tags] for t in plan], dtype=int)
    Y = Y[:, Y.sum(axis=0) >= 8]  # tags with enough positives to score
    assert Y.shape[1] >= 20
    clf = OneVsRestClassifier(
        make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000))
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        P = cross_val_predict(
            clf, X, Y, cv=KFold(5, shuffle=True, random_state=0), method="predict_proba"
        )
    assert roc_auc_score(Y, P, average="macro") >= 0.65
