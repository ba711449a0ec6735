"""Decoding: equal to librosa.load, and one clear AudioError per kind of bad input."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import soundfile as sf

from musiclass import audio
from musiclass.errors import AudioError

from .conftest import GTZAN_SAMPLE, tone


@pytest.mark.parametrize(
    "fmt,ext,subtype",
    [
        ("WAV", "wav", "PCM_16"),
        ("FLAC", "flac", "PCM_16"),
        ("OGG", "ogg", "VORBIS"),
        ("MP3", "mp3", None),
        ("AU", "au", "PCM_16"),
    ],
)
def test_every_format_decodes_like_librosa(tmp_path, fmt, ext, subtype):
    path = tmp_path / f"x.{ext}"
    stereo = np.stack([tone(3.0, 44100, seed=1), tone(3.0, 44100, seed=2)], axis=1)
    sf.write(path, stereo, 44100, format=fmt, subtype=subtype)
    y, sr = audio.load(path, sr=22050)
    ref, ref_sr = librosa.load(path, sr=22050)
    assert sr == ref_sr == 22050
    assert y.dtype == np.float32 and y.ndim == 1
    np.testing.assert_array_equal(y, ref)


def test_real_clip_equals_librosa_load(shared_data):
    path = GTZAN_SAMPLE / "genres" / "jazz" / "jazz.00000.wav"
    for sr in (22050, 12000):
        y, _ = audio.load(path, sr=sr)
        np.testing.assert_array_equal(y, librosa.load(path, sr=sr)[0])


def test_offset_duration_and_channels(tmp_path):
    sr = 8000
    left, right = (
        np.linspace(-0.5, 0.5, 4 * sr, dtype=np.float32),
        np.full(4 * sr, 0.25, np.float32),
    )
    path = tmp_path / "st.wav"
    sf.write(path, np.stack([left, right], axis=1), sr, subtype="FLOAT")
    y, got_sr = audio.load(path, sr=None, offset=1.0, duration=2.0)
    assert got_sr == sr and y.shape == (2 * sr,)
    np.testing.assert_allclose(y, (left[sr : 3 * sr] + right[sr : 3 * sr]) / 2, atol=1e-7)
    both, _ = audio.load(path, sr=None, mono=False)
    assert both.shape == (2, 4 * sr)
    assert audio.info(path).channels == 2 and audio.info(path).duration == pytest.approx(4.0)


def _expect(path, fragment, **kwargs):
    with pytest.raises(AudioError) as err:
        audio.load(path, **kwargs)
    assert str(path) in str(err.value), "the error must name the file"
    assert fragment in err.value.reason
    return err.value


def test_bad_inputs_each_get_a_clear_reason(tmp_path):
    _expect(tmp_path / "nope.wav", "not found")
    (tmp_path / "empty.wav").write_bytes(b"")
    _expect(tmp_path / "empty.wav", "empty file")
    (tmp_path / "junk.wav").write_bytes(b"RIFF\x00\x00garbage" * 50)
    _expect(tmp_path / "junk.wav", "cannot decode")
    truncated = tmp_path / "cut.wav"
    sf.write(truncated, tone(2.0, 22050), 22050)
    truncated.write_bytes(truncated.read_bytes()[:40])  # header only, no samples
    _expect(truncated, "")
    nan = tmp_path / "nan.wav"
    y = tone(1.0, 22050)
    y[100] = np.nan
    sf.write(nan, y, 22050, subtype="FLOAT")
    _expect(nan, "NaN")
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(22050, np.float32), 22050)
    _expect(silent, "silent")
    short = tmp_path / "short.wav"
    sf.write(short, tone(0.5, 22050), 22050)
    _expect(short, "too short: 0.50 s", min_duration=1.0)
    _expect(short, "invalid offset", offset=-1.0)
    (tmp_path / "dir.wav").mkdir()
    _expect(tmp_path / "dir.wav", "not a regular file")
    with pytest.raises(AudioError, match="cannot read audio header"):
        audio.info(tmp_path / "junk.wav")


def test_headerless_bytes_named_au_are_not_decoded_as_noise(tmp_path):
    fake = tmp_path / "jazz.00054.au"
    fake.write_bytes(np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    _expect(fake, "no audio header")
    with pytest.raises(AudioError, match="no audio header"):
        audio.info(fake)
