"""The spectral frontend against librosa's own functions, frame by frame, and its framing rules."""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from musiclass import audio
from musiclass.config import FrontendConfig, frontend_preset
from musiclass.errors import ConfigError
from musiclass.features.frontend import Frontend

from .conftest import GTZAN_SAMPLE, tone

TOL_DB = 1e-3


def librosa_frame(seg: np.ndarray, cfg: FrontendConfig) -> dict[str, np.ndarray]:
    """What the original computed for one frame: three separate librosa calls."""
    kw = dict(n_fft=cfg.n_fft, hop_length=cfg.hop_length, pad_mode=cfg.pad_mode)
    sr = cfg.sample_rate
    return {
        "spectrogram": librosa.amplitude_to_db(np.abs(librosa.stft(seg, **kw)), ref=np.max),
        "mel": librosa.power_to_db(
            librosa.feature.melspectrogram(y=seg, sr=sr, n_mels=cfg.n_mels, **kw), ref=np.max
        ),
        "mfcc": librosa.feature.mfcc(y=seg, sr=sr, n_mfcc=cfg.n_mfcc, n_mels=cfg.n_mels, **kw),
    }


def librosa_columns(S: np.ndarray, cfg: FrontendConfig) -> dict[str, np.ndarray]:
    """The same three representations from given STFT magnitude columns."""
    mel = librosa.feature.melspectrogram(S=S**2, sr=cfg.sample_rate, n_mels=cfg.n_mels)
    return {
        "spectrogram": librosa.amplitude_to_db(S, ref=np.max),
        "mel": librosa.power_to_db(mel, ref=np.max),
        "mfcc": librosa.feature.mfcc(S=librosa.power_to_db(mel), n_mfcc=cfg.n_mfcc),
    }


def check_seed_against_librosa(y: np.ndarray, cfg: FrontendConfig) -> int:
    frames = Frontend(cfg).compute(y)
    for k, start in enumerate(frames.starts):
        s = int(round(start * cfg.sample_rate))
        seg = y[s : s + cfg.frame_length]
        seg = np.pad(seg, (0, cfg.frame_length - len(seg)))  # zero padding, never resize
        ref = librosa_frame(seg, cfg)
        for rep, want in ref.items():
            got = frames.arrays[rep][k]
            assert got.shape == want.shape, rep
            assert np.max(np.abs(got - want)) < TOL_DB, (rep, k, np.max(np.abs(got - want)))
    return len(frames)


def test_seed_genre_matches_librosa_on_every_frame_of_a_real_clip(shared_data):
    cfg = frontend_preset("genre", "seed")
    y, _ = audio.load(GTZAN_SAMPLE / "genres" / "rock" / "rock.00000.wav", sr=22050)
    assert check_seed_against_librosa(y, cfg) == 19


def test_seed_genre_matches_librosa_with_a_padded_last_frame():
    cfg = frontend_preset("genre", "seed")
    y = tone(20.3, seed=3)  # 13 frames, the last one 77 % audio and zero-padded
    assert check_seed_against_librosa(y, cfg) == 13


def test_seed_shapes_and_ranges():
    cfg = frontend_preset("genre", "seed")
    out = Frontend(cfg).compute(tone(30.0))
    assert out.arrays["mel"].shape == (19, 128, 130)
    assert out.arrays["spectrogram"].shape == (19, 513, 130)
    assert out.arrays["mfcc"].shape == (19, 20, 130)
    for rep in ("mel", "spectrogram"):
        a = out.arrays[rep]
        assert a.dtype == np.float32 and a.flags.c_contiguous
        assert a.max() == 0.0 and a.min() >= -80.0
        np.testing.assert_array_equal(a.max(axis=(1, 2)), 0.0)  # each frame relative to its own max
    np.testing.assert_allclose(out.starts, np.arange(19) * 1.5)


def test_default_frames_are_slices_of_one_whole_track_stft():
    cfg = frontend_preset("genre", "default")
    y = tone(30.0, seed=5)
    out = Frontend(cfg).compute(y)
    hop_cols = cfg.frame_hop // cfg.hop_length
    assert cfg.frame_hop == 64 * 512 and len(out) == 19
    S = np.abs(
        librosa.stft(y, n_fft=cfg.n_fft, hop_length=cfg.hop_length)
    )  # librosa's default padding
    for k in range(len(out)):
        ref = librosa_columns(S[:, k * hop_cols : k * hop_cols + cfg.n_columns], cfg)
        for rep, want in ref.items():
            assert np.max(np.abs(out.arrays[rep][k] - want)) < TOL_DB, (rep, k)


def test_default_interior_columns_equal_a_per_frame_stft():
    """Slicing the track STFT changes only the edge columns of a frame, never the interior."""
    cfg = frontend_preset("genre", "default", representations=("spectrogram",), top_db=None)
    y = tone(12.0, seed=6)
    out = Frontend(cfg).compute(y)
    k = 2
    s = int(round(out.starts[k] * cfg.sample_rate))
    per_frame = librosa.amplitude_to_db(
        np.abs(librosa.stft(y[s : s + cfg.frame_length], n_fft=1024, hop_length=512)),
        ref=np.max,
        top_db=None,
    )
    interior = slice(1, 129)  # columns whose window lies inside the frame
    diff = out.arrays["spectrogram"][k][:, interior] - per_frame[:, interior]
    # equal up to the dB reference, which the edge columns can move
    np.testing.assert_allclose(diff, diff.flat[0], atol=1e-3)


def test_mood_presets_trim_and_frame_29_1_seconds():
    for preset in ("seed", "default"):
        cfg = frontend_preset("mood", preset)
        fe = Frontend(cfg)
        y = tone(200.0, sr=12000, seed=7)
        out = fe.compute(y)
        # 200 s >= 69.1 s: 20 s cut at both ends -> 160 s -> 5 full frames of 29.1 s
        assert len(out) == 5
        assert out.arrays["mel"].shape == (5, 96, 341)
        assert out.starts[0] == pytest.approx(20.0)
        short = fe.compute(tone(60.0, sr=12000, seed=8))  # < 69.1 s: not trimmed
        assert short.starts[0] == 0.0 and len(short) == 2


def test_mood_seed_matches_librosa_on_a_frame():
    cfg = frontend_preset("mood", "seed")
    y = tone(100.0, sr=12000, seed=9)  # trimmed to 60 s: 2 full frames
    out = Frontend(cfg).compute(y)
    s = int(round(out.starts[1] * 12000))
    seg = y[s : s + cfg.frame_length]
    mel = librosa.power_to_db(
        librosa.feature.melspectrogram(
            y=seg, sr=12000, n_fft=2048, hop_length=1024, n_mels=96, pad_mode="reflect"
        ),
        ref=np.max,
    )
    assert mel.shape == (96, 342)  # the original then sheared this to 341 with ndarray.resize
    assert np.max(np.abs(out.arrays["mel"][1] - mel[:, :341])) < TOL_DB  # we crop the last column


@pytest.mark.parametrize(
    "seconds,expected",
    [
        (30.0, 19),  # 20 candidate frames, capped at 19
        (29.93, 19),  # slightly short GTZAN clip: the 19th frame is padded
        (10.0, 6),  # (220500 - 33075) // 33075 + 1: the last kept frame at least half audio
        (2.0, 1),  # shorter than one frame: one padded frame
    ],
)
def test_seed_frame_counts_worked_by_hand(seconds, expected):
    fe = Frontend(frontend_preset("genre", "seed"))
    assert fe.n_frames(int(round(seconds * 22050))) == expected


def test_default_keeps_only_full_frames():
    fe = Frontend(frontend_preset("genre", "default"))
    # frame k spans [k * 32768, k * 32768 + 66150): full frames of a 30 s clip: (661500 - 66150) // 32768 + 1
    assert fe.n_frames(661500) == 19
    assert fe.n_frames(66150) == 1 and fe.n_frames(66149) == 1 and fe.n_frames(66150 + 32768) == 2
    out = fe.compute(tone(2.0))
    assert len(out) == 1 and out.fill[0] == pytest.approx(2.0 / 3.0, abs=1e-4)


def test_padding_is_silence_not_sheared_rows():
    """The original's ndarray.resize shifted rows; a padded frame must hold the audio in place."""
    cfg = frontend_preset("genre", "seed", representations=("spectrogram",))
    y = tone(4.0, seed=11)  # 2 frames: the second covers 1.5-4.5 s, a sixth of it padding
    out = Frontend(cfg).compute(y)
    last = out.arrays["spectrogram"][1]
    full = librosa.amplitude_to_db(
        np.abs(
            librosa.stft(
                np.pad(y[33075:], (0, 66150 - (len(y) - 33075))),
                n_fft=1024,
                hop_length=512,
                pad_mode="reflect",
            )
        ),
        ref=np.max,
    )
    np.testing.assert_allclose(last, full, atol=TOL_DB)
    assert np.all(last[:, -10:] == -80.0)  # the padded tail is at the floor


def test_silent_frames_follow_librosa():
    cfg = frontend_preset("genre", "seed")
    y = tone(30.0, seed=12)
    y[33075 * 4 : 33075 * 4 + 66150] = 0.0  # frame 4 entirely silent
    out = Frontend(cfg).compute(y)
    ref = librosa_frame(np.zeros(66150, np.float32), cfg)
    for rep in ("spectrogram", "mel", "mfcc"):
        np.testing.assert_allclose(out.arrays[rep][4], ref[rep], atol=TOL_DB)


def test_config_is_validated_and_hashed():
    with pytest.raises(ConfigError, match="unknown representation"):
        frontend_preset("genre", "default", representations=("chroma",))
    with pytest.raises(ConfigError, match="unknown frontend option"):
        FrontendConfig.from_dict({"n_mel": 64})
    with pytest.raises(ConfigError, match="min_fill"):
        frontend_preset("genre", "seed", min_fill=0.0)
    with pytest.raises(ConfigError, match="unknown preset"):
        frontend_preset("genre", "fast")
    a, b = frontend_preset("genre", "seed"), frontend_preset("genre", "seed")
    assert a.hash() == b.hash() != frontend_preset("genre", "default").hash()
    assert FrontendConfig.from_dict(a.to_dict()) == a
    with pytest.raises(ConfigError, match="mono"):
        Frontend(a).compute(np.zeros((2, 100), np.float32))


def test_example_config_files_equal_their_presets():
    from pathlib import Path

    from musiclass.config import frontend_config

    configs = Path(__file__).resolve().parents[1] / "configs" / "frontend"
    assert frontend_config("genre", config_file=configs / "genre-default.yaml") == frontend_preset(
        "genre", "default"
    )
    assert frontend_config("genre", config_file=configs / "mood-seed.yaml") == frontend_preset(
        "mood", "seed"
    )
    assert frontend_config("genre", "seed", overrides={"n_mels": 64}).n_mels == 64
