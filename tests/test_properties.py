"""Property-based checks of the frontend, the decoder and the splits, for random parameters.

They complement ``tests/test_framing_properties.py`` (frame counts by definition, shapes and mel
range at one sample rate) with what it leaves out: random sample rates, FFT sizes, hops, column
crops, ``top_db`` and trims; every frame's values against librosa's own functions on that frame's
samples; :func:`musiclass.audio.load` against :func:`librosa.load` for random files; and
:func:`musiclass.splits.song_split` as a partition. Each property is an equality or a bound that a
wrong implementation breaks.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import librosa
import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from musiclass import audio, splits
from musiclass.config import FrontendConfig, frontend_preset
from musiclass.datasets.base import TrackIndex
from musiclass.errors import ConfigError
from musiclass.features.frontend import Frontend

TOL_DB = 1e-3
#: librosa warns when a (valid) frame of one STFT column is shorter than n_fft; it is zero-padded
pytestmark = pytest.mark.filterwarnings("ignore:n_fft=.* is too large for input signal:UserWarning")
FAST = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ------------------------------------------------------------------------------ strategies
@st.composite
def frontend_configs(draw, stft: str | None = None, trims: bool = True) -> FrontendConfig:
    """A valid frontend over the whole parameter space: rate, power-of-2 ``n_fft``, ``hop <= n_fft``,
    frame and hop seconds, ``min_fill``, ``max_frames``, a column crop, ``top_db``, trims."""
    sr = draw(st.sampled_from([8000, 11025, 12000, 16000, 22050]))
    n_fft = draw(st.sampled_from([128, 256, 512, 1024]))
    hop = n_fft // draw(st.sampled_from([1, 2, 4, 8]))
    frame_s = draw(st.floats(max(0.05, n_fft / sr), 0.8))  # long enough for reflect padding
    n_mels = min(draw(st.sampled_from([16, 24, 40])), n_fft // 8)  # no empty mel filters
    trim_start = trim_end = extra = 0.0
    if trims and draw(st.booleans()):
        trim_start, trim_end = draw(st.floats(0, 0.3)), draw(st.floats(0, 0.3))
        extra = draw(st.floats(0, 0.6))
    cfg = frontend_preset(
        "genre",
        "default",
        sample_rate=sr,
        n_fft=n_fft,
        hop_length=hop,
        n_mels=n_mels,
        n_mfcc=draw(st.integers(2, n_mels)),
        stft=stft or draw(st.sampled_from(["track", "frame"])),
        pad_mode=draw(st.sampled_from(["constant", "reflect", "edge"])),
        frame_seconds=frame_s,
        hop_seconds=draw(st.floats(0.02, 0.8)),
        min_fill=draw(st.sampled_from([0.1, 0.5, 0.75, 1.0])),
        max_frames=draw(st.one_of(st.none(), st.integers(1, 8))),
        top_db=draw(st.sampled_from([80.0, 50.0, None])),
        trim_start=trim_start,
        trim_end=trim_end,
        trim_min_duration=trim_start + trim_end + extra,
        handcrafted=False,
    )
    if draw(st.booleans()):  # crop the frames to fewer STFT columns
        cfg = cfg.replace(frame_columns=draw(st.integers(1, cfg.n_columns)))
    return cfg


def signal(n: int, sr: int, seed: int) -> np.ndarray:
    """Noise plus a tone and a pulse: no exactly silent column, varied levels from frame to frame."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / sr
    y = (
        0.3
        * np.sin(2 * np.pi * rng.uniform(80, sr / 3) * t)
        * (1 + np.sin(2 * np.pi * 1.7 * t))
        / 2
    )
    return (y + 0.05 * rng.standard_normal(n)).astype(np.float32)


def librosa_reference(
    seg: np.ndarray, cfg: FrontendConfig, *, center: bool
) -> dict[str, np.ndarray]:
    """What librosa's own functions give for one frame's samples, cropped to the frame's columns,
    each dB value relative to the frame's maximum (the frontend's definition)."""
    kw = dict(
        n_fft=cfg.n_fft,
        hop_length=cfg.hop_length,
        window=cfg.window,
        center=center,
        pad_mode=cfg.pad_mode,
    )
    S = np.abs(librosa.stft(seg, **kw))[:, : cfg.n_columns]
    mel = librosa.feature.melspectrogram(
        S=S**2, sr=cfg.sample_rate, n_mels=cfg.n_mels, fmin=cfg.fmin, fmax=cfg.fmax
    )
    return {
        "spectrogram": librosa.amplitude_to_db(S, ref=np.max, top_db=cfg.top_db),
        "mel": librosa.power_to_db(mel, ref=np.max, top_db=cfg.top_db),
        "mfcc": librosa.feature.mfcc(
            S=librosa.power_to_db(mel, top_db=cfg.top_db), n_mfcc=cfg.n_mfcc
        ),
    }


def assert_frame_equals(
    got: dict[str, np.ndarray], want: dict[str, np.ndarray], k: int, label: str
) -> None:
    for rep, ref in want.items():
        assert got[rep][k].shape == ref.shape, (label, rep, k)
        if rep == "mfcc":  # not in dB: compare relative to its scale
            np.testing.assert_allclose(
                got[rep][k],
                ref,
                rtol=0,
                atol=1e-3 * max(1.0, np.abs(ref).max()),
                err_msg=f"{label} {rep} frame {k}",
            )
        else:
            err = np.max(np.abs(got[rep][k] - ref))
            assert err < TOL_DB, (label, rep, k, err)


# ------------------------------------------------------------------------------ framing
#: trims that leave -1 samples: 0.15 s rounds to 3,308 samples twice, 0.3 s to 6,615
EMPTY_AFTER_TRIM = frontend_preset(
    "genre",
    "default",
    sample_rate=22050,
    n_fft=512,
    hop_length=256,
    n_mels=16,
    n_mfcc=4,
    trim_start=0.15,
    trim_end=0.15,
    trim_min_duration=0.3,
    handcrafted=False,
)


@settings(FAST, max_examples=150)
@given(cfg=frontend_configs(), seconds=st.floats(0.001, 2.0), seed=st.integers(0, 2**16))
@example(cfg=EMPTY_AFTER_TRIM, seconds=6615 / 22050, seed=0)
def test_frames_starts_fill_and_ranges_for_any_parameters(cfg, seconds, seed):
    """For any valid config and length: ``n_frames`` frames, starting ``frame_hop / sr`` apart at
    the trimmed start, each frame's fill is the share of it that is audio, every value is finite,
    and spectrogram / mel frames are dB relative to their own maximum: max exactly 0, min >= -top_db."""
    sr = cfg.sample_rate
    n = max(1, int(round(seconds * sr)))
    y = signal(n, sr, seed)
    fe = Frontend(cfg)
    lo, hi = fe.trim_bounds(n)
    m = hi - lo
    if m <= 0:  # trims that leave nothing are refused with a reason, never framed
        with pytest.raises(ValueError, match="no audio left to frame"):
            fe.compute(y)
        return
    out = fe.compute(y)
    k = len(out)
    L, H = cfg.frame_length, cfg.frame_hop
    assert k == fe.n_frames(m) >= 1
    assert cfg.max_frames is None or k <= cfg.max_frames
    if cfg.trim_start or cfg.trim_end:
        long_enough = n >= int(round(cfg.trim_min_duration * sr))
        assert lo == (int(round(cfg.trim_start * sr)) if long_enough else 0)
    np.testing.assert_allclose(out.starts, (lo + np.arange(k) * H) / sr, rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        out.fill, np.clip((m - np.arange(k) * H) / L, 0, 1), rtol=0, atol=1e-12
    )
    assert np.all((out.fill > 0) & (out.fill <= 1))
    for rep in cfg.representations:
        a = out.arrays[rep]
        assert a.shape == (k, *cfg.shape(rep)) and a.dtype == np.float32 and a.flags.c_contiguous
        assert np.all(np.isfinite(a)), rep
    for rep in ("mel", "spectrogram"):
        a = out.arrays[rep]
        np.testing.assert_array_equal(a.max(axis=(1, 2)), 0.0)
        if cfg.top_db is not None:
            assert a.min() >= -cfg.top_db


@settings(max_examples=50, deadline=None)
@given(cfg=frontend_configs(trims=False), n0=st.integers(1, 40_000))
def test_frame_count_grows_by_at_most_one_per_sample(cfg, n0):
    """Over 2,000 consecutive lengths: one more sample never removes a frame and adds at most one,
    and ``frame_hop`` more samples add at most one frame (until ``max_frames`` caps the count)."""
    fe = Frontend(cfg)
    counts = np.array([fe.n_frames(n) for n in range(n0, n0 + 2001)])
    steps = np.diff(counts)
    assert np.all((steps == 0) | (steps == 1)), np.flatnonzero(steps < 0)[:3] + n0
    assert fe.n_frames(n0 + cfg.frame_hop) <= counts[0] + 1


# ------------------------------------------------------------------------------ values against librosa
@settings(FAST, max_examples=100)
@given(cfg=frontend_configs(stft="frame"), seconds=st.floats(0.05, 1.5), seed=st.integers(0, 2**16))
def test_frame_mode_equals_librosa_on_each_frames_samples(cfg, seconds, seed):
    """``stft="frame"``: every frame (the last one zero-padded) is exactly librosa's spectrogram,
    mel and MFCC of that frame's samples, computed on their own."""
    sr = cfg.sample_rate
    y = signal(max(1, int(round(seconds * sr))), sr, seed)
    fe = Frontend(cfg)
    lo, hi = fe.trim_bounds(len(y))
    assume(hi > lo)
    out = fe.compute(y)
    for k, start in enumerate(out.starts):
        s = int(round(start * sr))
        seg = y[s : min(s + cfg.frame_length, hi)]  # the trimmed end is padding, not audio
        seg = np.pad(seg, (0, cfg.frame_length - len(seg)))
        assert_frame_equals(
            out.arrays, librosa_reference(seg, cfg, center=cfg.center), k, "frame mode"
        )


@settings(FAST, max_examples=100)
@given(cfg=frontend_configs(stft="track"), extra=st.floats(0.0, 1.0), seed=st.integers(0, 2**16))
def test_track_mode_interior_frames_equal_librosa_on_the_same_samples(cfg, extra, seed):
    """``stft="track"``: a frame away from the track edges is librosa's spectrogram, mel and MFCC of
    exactly the samples its STFT columns see (``center=False`` over the frame's span plus
    ``n_fft / 2`` on each side), so slicing one whole-track STFT changes no value."""
    sr = cfg.sample_rate
    n = (
        int(round(cfg.trim_min_duration * sr))
        + cfg.frame_length
        + cfg.n_fft
        + int(round(extra * sr))
    )
    y = signal(n, sr, seed)
    fe = Frontend(cfg)
    out = fe.compute(y)
    lo, hi = fe.trim_bounds(n)
    half, span = cfg.n_fft // 2, (cfg.n_columns - 1) * cfg.hop_length
    checked = 0
    for k, start in enumerate(out.starts):
        s = int(round(start * sr))  # in the untrimmed signal
        if s - half < lo or s + span + half > hi:
            continue  # an edge frame: its outer columns see padding
        seg = y[s - half : s + span + half]
        assert_frame_equals(out.arrays, librosa_reference(seg, cfg, center=False), k, "track mode")
        checked += 1
    # interior frames exist whenever the track is long enough for one past the first
    first_interior = -(-half // cfg.frame_hop)
    assert (
        checked > 0
        or first_interior >= len(out)
        or lo + first_interior * cfg.frame_hop + span + half > hi
    )


# ------------------------------------------------------------------------------ decoding
@settings(FAST, max_examples=80)
@given(
    native=st.sampled_from([8000, 11025, 16000, 22050, 32000, 44100, 48000, 96000]),
    target=st.sampled_from([None, 8000, 12000, 22050, 44100]),
    frames=st.integers(1, 30_000),
    channels=st.integers(1, 3),
    subtype=st.sampled_from(["PCM_16", "PCM_24", "FLOAT"]),
    seed=st.integers(0, 2**16),
)
def test_load_equals_librosa_load(
    tmp_path_factory, native, target, frames, channels, subtype, seed
):
    """A random-length, random-rate WAV: ``audio.load`` returns what ``librosa.load`` returns, one
    decode at the native rate resampled later gives the same, and offset/duration cut the same samples."""
    path = Path(tmp_path_factory.mktemp("wav")) / "x.wav"
    data = np.stack([signal(frames, native, seed + c) for c in range(channels)], axis=1)
    sf.write(path, data, native, subtype=subtype)
    y, sr = audio.load(path, sr=target, check_silence=False)  # librosa has no silence check
    ref, ref_sr = librosa.load(path, sr=target)
    assert sr == ref_sr == (native if target is None else target)
    assert y.dtype == np.float32 and y.shape == ref.shape
    np.testing.assert_allclose(y, ref, rtol=0, atol=1e-6)

    raw, raw_sr = audio.load(path, sr=None, check_silence=False)
    assert raw_sr == native and raw.shape == (frames,)
    np.testing.assert_allclose(audio.resample(raw, native, target), y, rtol=0, atol=1e-6)
    offset, duration = 0.3 * frames / native, 0.5 * frames / native
    start, count = int(round(offset * native)), int(round(duration * native))
    assume(count > 0 and start < frames)
    part, _ = audio.load(path, sr=None, offset=offset, duration=duration, check_silence=False)
    np.testing.assert_array_equal(part, raw[start : start + count])


# ------------------------------------------------------------------------------ splits
@st.composite
def indexes(draw) -> TrackIndex:
    n_classes = draw(st.integers(1, 6))
    n = draw(st.integers(max(6, n_classes), 150))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    labels = [f"c{rng.integers(n_classes)}" for _ in range(n)]
    n_artists = draw(st.integers(1, max(1, n // 2)))
    tracks = pd.DataFrame(
        {
            "track_id": [f"t{i:04d}" for i in range(n)],
            "path": "",
            "label": labels,
            "duration": 30.0,
            "artist": [f"a{rng.integers(n_artists)}" for _ in range(n)],
        }
    )
    return TrackIndex(tracks, tuple(sorted(set(labels))))


fractions_st = st.sampled_from(
    [
        (0.8, 0.1, 0.1),
        (0.6, 0.2, 0.2),
        (0.5, 0.25, 0.25),
        (0.7, 0.3, 0.0),
        (0.9, 0.0, 0.1),
        (1.0, 0.0, 0.0),
    ]
)


@settings(max_examples=100, deadline=None)
@given(index=indexes(), fractions=fractions_st, seed=st.integers(0, 10**6), stratify=st.booleans())
def test_song_split_is_a_seeded_partition_with_the_asked_sizes(index, fractions, seed, stratify):
    """Every track in exactly one part, in index order; each part within a track or two of its
    share (sklearn rounds the held-out sizes up); the same seed gives the same split."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "too few tracks per class to stratify"
        part = splits.song_split(index, fractions=fractions, seed=seed, stratify=stratify)
        again = splits.song_split(index, fractions=fractions, seed=seed, stratify=stratify)
    n = len(index)
    assert list(part.index) == list(index.tracks["track_id"]) and part.index.is_unique
    assert set(part) <= set(splits.PARTS)
    pd.testing.assert_series_equal(part, again)
    counts = part.value_counts().reindex(list(splits.PARTS), fill_value=0)
    train_f, val_f, test_f = fractions
    assert counts.sum() == n
    assert abs(counts["test"] - test_f * n) < 1 + 1e-9
    assert abs(counts["validation"] - val_f * n) <= 2
    assert (counts["test"] == 0) == (test_f == 0) and (counts["validation"] == 0) == (val_f == 0)
    assert counts["train"] > 0


@settings(max_examples=60, deadline=None)
@given(index=indexes(), fractions=fractions_st, seed=st.integers(0, 10**6))
def test_artist_split_never_shares_an_artist_between_parts(index, fractions, seed):
    """Grouped by artist: a partition in which every artist's tracks are all in one part (or a
    ConfigError saying there are too few artists)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "too few tracks per class to stratify"
        try:
            part = splits.song_split(index, fractions=fractions, seed=seed, group="artist")
        except ConfigError as exc:
            assert "groups left: too few to carve" in str(exc)
            return
        again = splits.song_split(index, fractions=fractions, seed=seed, group="artist")
    assert list(part.index) == list(index.tracks["track_id"]) and set(part) <= set(splits.PARTS)
    per_artist = pd.DataFrame(
        {"artist": index.tracks["artist"].to_numpy(), "part": part.to_numpy()}
    )
    assert (per_artist.groupby("artist")["part"].nunique() == 1).all()
    pd.testing.assert_series_equal(part, again)


def test_artist_split_with_fewer_tracks_per_class_than_folds():
    """Found by the property above: 3 classes of 8 tracks and 11 artists need 10 folds for a 10 %
    test part; sklearn's StratifiedGroupKFold refuses (a bare ValueError, a traceback from
    ``musiclass split --method artist``). The split now groups without stratifying, and says so."""
    rng = np.random.default_rng(0)
    tracks = pd.DataFrame(
        {
            "track_id": [f"t{i:02d}" for i in range(24)],
            "path": "",
            "label": [f"c{i % 3}" for i in range(24)],
            "duration": 30.0,
            "artist": [f"a{a}" for a in rng.permutation(np.arange(24) % 11)],
        }
    )
    index = TrackIndex(tracks, ("c0", "c1", "c2"))
    with pytest.warns(UserWarning, match="too few tracks per class to stratify this grouped split"):
        part = splits.song_split(index, fractions=(0.8, 0.1, 0.1), seed=0, group="artist")
    assert len(part) == 24 and set(part) == set(splits.PARTS)
    per_artist = pd.DataFrame({"artist": tracks["artist"], "part": part.to_numpy()})
    assert (per_artist.groupby("artist")["part"].nunique() == 1).all()
