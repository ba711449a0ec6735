"""Hand-crafted descriptors: the original table's columns, values checked against definitions.

The fast path of :func:`~musiclass.features.handcrafted.descriptors` shares work between the
descriptors; :func:`_reference_descriptors` below is the straightforward form (one librosa or
scipy call per descriptor, as the module docstring names them), and the two must agree within
``RTOL`` relative, ``ATOL`` absolute for values near 0 (MFCCs and contrast spreads can be ~0).
"""

from __future__ import annotations

import functools
import warnings

import librosa
import numpy as np
import pandas as pd
import pytest
import scipy.stats
import soundfile as sf

from musiclass import audio
from musiclass.config import frontend_preset
from musiclass.features import handcrafted
from musiclass.features.extract import extract
from musiclass.features.handcrafted import DESCRIPTOR_NAMES, HOP_LENGTH, N_FFT, descriptors

from .conftest import GTZAN_SAMPLE, SHARED, tone, tone_index

SEED_TABLE = SHARED / "seed-study" / "df_features.csv"
#: how close the fast path must come to the reference: |fast - ref| <= ATOL + RTOL * |ref|
RTOL, ATOL = 1e-5, 1e-6


def _reference_descriptors(y: np.ndarray, sr: int) -> np.ndarray:
    """The 97 descriptors the straightforward way: one librosa / scipy call each (the original
    implementation of ``descriptors``, which wrote NaN where scipy gives NaN)."""
    y = np.asarray(y, dtype=np.float32)
    S = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP_LENGTH))
    power = S**2
    mel_db = librosa.power_to_db(librosa.feature.melspectrogram(S=power, sr=sr))
    out: list[float] = []

    def mean_std(x):
        out.extend(np.mean(x, axis=-1).tolist())
        out.extend(np.std(x, axis=-1).tolist())

    def mean_std_pairs(x):
        out.extend([float(np.mean(x)), float(np.std(x))])

    absy = np.abs(y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # scipy's precision-loss NaN
        out += [
            float(np.mean(absy)),
            float(np.std(y)),
            float(scipy.stats.skew(absy)),
            float(scipy.stats.kurtosis(y)),
        ]
    spectral = dict(S=S, sr=sr, n_fft=N_FFT, hop_length=HOP_LENGTH)
    mean_std_pairs(librosa.feature.zero_crossing_rate(y, frame_length=N_FFT, hop_length=HOP_LENGTH))
    mean_std_pairs(librosa.feature.rms(y=y, frame_length=N_FFT, hop_length=HOP_LENGTH))
    onset = librosa.onset.onset_strength(S=mel_db, sr=sr, hop_length=HOP_LENGTH)
    out.append(float(librosa.feature.tempo(onset_envelope=onset, sr=sr, hop_length=HOP_LENGTH)[0]))
    mean_std_pairs(librosa.feature.spectral_centroid(**spectral))
    for p in (2, 3, 4):
        mean_std_pairs(librosa.feature.spectral_bandwidth(**spectral, p=p))
    mean_std(librosa.feature.spectral_contrast(**spectral))
    mean_std_pairs(librosa.feature.spectral_rolloff(**spectral, roll_percent=0.85))
    mean_std(librosa.feature.mfcc(S=mel_db, n_mfcc=20))
    mean_std(librosa.feature.chroma_stft(S=power, sr=sr, n_fft=N_FFT, hop_length=HOP_LENGTH))
    return np.asarray(out, dtype=np.float64)


def assert_matches_reference(y: np.ndarray, sr: int, what: str, fast=None) -> None:
    ref = _reference_descriptors(y, sr)
    fast = descriptors(y, sr) if fast is None else fast
    err = np.abs(fast - ref) - (ATOL + RTOL * np.abs(ref))
    worst = int(np.argmax(err))
    assert err[worst] <= 0, (what, DESCRIPTOR_NAMES[worst], ref[worst], fast[worst])


def _signals(sr: int) -> dict[str, np.ndarray]:
    """Short synthetic signals that stress the shared computations (2.5 s each, seeded)."""
    rng = np.random.default_rng(7)
    n = int(2.5 * sr)
    t = np.arange(n) / sr
    gaps = 0.3 * np.sin(2 * np.pi * 330 * t) * (1 + 0.5 * rng.standard_normal(n))
    gaps[: n // 3] = 0  # all-zero frames: librosa leaves their spectra un-normalised
    clicks = np.zeros(n)
    clicks[:: sr // 4] = 0.9  # flat spectra: ties in the tuning estimate's peak picking
    signals = {
        "chord": tone(2.5, sr),
        "noise": 0.3 * rng.standard_normal(n),
        "high sine": 0.5 * np.sin(2 * np.pi * 0.45 * sr * t),  # narrow spectrum, far from 0 Hz
        "DC + sine": 0.4 + 0.1 * np.sin(2 * np.pi * 220 * t),
        "gaps": gaps,
        "clicks": clicks,
        "quiet noise": 1e-5 * rng.standard_normal(n),
        "chirp": 0.5 * np.sin(2 * np.pi * (100 * t + 2000 * t**2 / 2.5)),
        "shortest": 0.3 * rng.standard_normal(N_FFT),
    }
    return {k: v.astype(np.float32) for k, v in signals.items()}


def test_97_named_descriptors_in_the_original_order():
    assert len(DESCRIPTOR_NAMES) == 97 == len(set(DESCRIPTOR_NAMES))
    assert DESCRIPTOR_NAMES[:4] == ("signal_mean", "signal_std", "signal_skew", "signal_kurtosis")
    assert DESCRIPTOR_NAMES[-1] == "chroma_stft_12_std"


def test_names_equal_the_original_table_header(shared_data):
    header = pd.read_csv(SEED_TABLE, nrows=0).columns.tolist()
    assert header[0] == "file_name" and tuple(header[1:]) == DESCRIPTOR_NAMES


@functools.cache
def _real_clip(name: str) -> tuple[np.ndarray, np.ndarray]:
    """A real clip at 22,050 Hz and its (fast) descriptors, computed once for the tests here."""
    path = next(GTZAN_SAMPLE.glob(f"genres/*/{name}"))
    y, _ = audio.load(path, sr=22050)
    return y, descriptors(y, 22050)


def test_real_clips_reproduce_the_original_table(shared_data):
    """Our values on the 10 real clips are close to the original's (librosa versions moved some
    by a few %), except spectral_bandwidth_4: the original copied p=3 into it."""
    table = pd.read_csv(SEED_TABLE).set_index("file_name")
    bw4 = [DESCRIPTOR_NAMES.index(f"spectral_bandwidth_4_{s}") for s in ("mean", "std")]
    others = [i for i in range(97) if i not in bw4]
    for path in sorted(GTZAN_SAMPLE.glob("genres/*/*.wav")):
        ours = _real_clip(path.name)[1]
        ref = table.loc[path.name].to_numpy(dtype=float)
        rel = np.abs(ours - ref) / (np.abs(ref) + 1.0)
        assert rel[others].max() < 0.08, (
            path.name,
            DESCRIPTOR_NAMES[others[int(np.argmax(rel[others]))]],
        )
        # the original's copy bug: its p=4 columns equal its p=3 columns; ours are p=4 proper
        np.testing.assert_array_equal(ref[bw4], ref[[i - 2 for i in bw4]])
        assert ours[bw4[0]] > ours[bw4[0] - 2]  # bandwidth grows with p


def test_signal_statistics_of_a_sine_worked_by_hand():
    sr, f, a = 22050, 441.0, 0.5
    y = (a * np.sin(2 * np.pi * f * np.arange(5 * sr) / sr)).astype(np.float32)
    d = dict(zip(DESCRIPTOR_NAMES, descriptors(y, sr)))
    assert d["signal_mean"] == pytest.approx(
        2 * a / np.pi, rel=3e-3
    )  # mean |a sin| (50 samples a period)
    assert d["signal_std"] == pytest.approx(a / np.sqrt(2), rel=1e-3)
    assert d["signal_kurtosis"] == pytest.approx(-1.5, abs=1e-2)  # excess kurtosis of a sine
    assert d["zcr_mean"] == pytest.approx(2 * f / sr, rel=0.02)  # two crossings per period
    assert d["rmse_mean"] == pytest.approx(a / np.sqrt(2), rel=0.02)
    assert d["spectral_centroid_mean"] == pytest.approx(f, rel=0.02)


def test_tempo_of_a_click_track():
    sr, bpm = 22050, 120.0
    y = np.zeros(20 * sr, np.float32)
    click = (np.hanning(200) * np.sin(2 * np.pi * 2000 * np.arange(200) / sr)).astype(np.float32)
    for t in np.arange(0, 19.5, 60.0 / bpm):
        i = int(t * sr)
        y[i : i + 200] += click
    tempo = dict(zip(DESCRIPTOR_NAMES, descriptors(y, sr)))["tempo"]
    assert tempo == pytest.approx(bpm, rel=0.03)


def test_rejects_short_or_multichannel_input():
    with pytest.raises(ValueError, match="too short"):
        descriptors(np.ones(100, np.float32), 22050)
    with pytest.raises(ValueError, match="mono"):
        descriptors(np.ones((2, 5000), np.float32), 22050)
    assert np.all(np.isfinite(descriptors(tone(3.0), 22050)))


@pytest.mark.parametrize("sr", [22050, 16000, 44100])
def test_fast_path_equals_the_reference_on_synthetic_signals(sr):
    for what, y in _signals(sr).items():
        assert_matches_reference(y, sr, f"{what} at {sr} Hz")


def test_fast_path_equals_the_reference_on_the_real_clips(shared_data):
    clips = sorted(GTZAN_SAMPLE.glob("genres/*/*.wav"))
    assert len(clips) == 10
    for path in clips:
        y, fast = _real_clip(path.name)
        assert_matches_reference(y, 22050, path.name, fast)


def test_shared_steps_equal_the_librosa_calls_they_replace():
    """The STFT, the tuning estimate, the rolloff bins and the tempo are exactly librosa's."""
    for sr in (22050, 44100):
        bank = handcrafted._banks(sr)
        for what, y in _signals(sr).items():
            S = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP_LENGTH))
            np.testing.assert_array_equal(handcrafted._magnitude_stft(y, bank["window"]), S)
            power = S**2
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # "empty frequency set"
                assert handcrafted._estimate_tuning(
                    power, sr, bank["pip_rows"]
                ) == librosa.estimate_tuning(S=power, sr=sr), what
            shape = handcrafted._spectral_shape(S, bank["freq"])
            rolloff = librosa.feature.spectral_rolloff(S=S, sr=sr, n_fft=N_FFT)[0]
            np.testing.assert_array_equal(shape[4], rolloff, err_msg=what)
            onset = librosa.onset.onset_strength(
                S=librosa.power_to_db(librosa.feature.melspectrogram(S=power, sr=sr)), sr=sr
            )
            assert (
                handcrafted._tempo(onset, sr, bank)
                == librosa.feature.tempo(onset_envelope=onset, sr=sr)[0]
            ), what


@pytest.mark.parametrize(
    ("y", "reason"),
    [
        (np.full(3 * 22050, 0.25, np.float32), "constant signal \\(silent or DC-only\\)"),
        (np.zeros(3 * 22050, np.float32), "constant signal"),
        # a +-1 square wave: |y| is constant, so its skewness is undefined (scipy: NaN)
        (np.sign(np.sin(np.arange(3 * 22050) * 0.01 + 0.1)).astype(np.float32), "signal_skew"),
    ],
    ids=["DC-only", "all-zero", "constant magnitude"],
)
def test_signals_without_finite_descriptors_are_refused_not_written_as_nan(y, reason):
    assert not np.all(np.isfinite(_reference_descriptors(y, 22050)))  # what used to be written
    with pytest.raises(ValueError, match=reason):
        descriptors(y, 22050)


def test_a_dc_only_clip_is_one_recorded_failure_of_an_extract_run(tmp_path):
    """The worker records the refusal as that track's failure; the other tracks are extracted."""
    dc = tmp_path / "dc.wav"
    sf.write(dc, np.full(3 * 22050, 0.5, np.float32), 22050)
    index = tone_index(tmp_path / "tones", per_genre=1, seconds=3.0, extra={"blues.dc": dc})
    config = frontend_preset("genre", "default", representations=["mel"], min_duration=1.0)
    report = extract(index, config, tmp_path / "store", jobs=1, progress=False)
    assert report.computed == 3 and report.failed == 1
    failure = report.failures.iloc[0]
    assert failure["track_id"] == "blues.dc"
    assert failure["reason"].startswith("no hand-crafted descriptors: constant signal")
    table = report.store.handcrafted()
    assert len(table) == 3 and np.all(np.isfinite(table[list(DESCRIPTOR_NAMES)].to_numpy(float)))
