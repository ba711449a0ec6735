"""The ``embeddings`` extractor on tiny inputs with a random-weight musicnn (no download): each column
is the mean or the spread of one network output over the track's 3 s patches, written and read back."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from musiclass.datasets.base import TrackIndex
from musiclass.errors import ConfigError, MetadataError
from musiclass.features.store import read_embeddings, write_embeddings
from musiclass.pretrained import musicnn as M
from musiclass.pretrained.embeddings import OUTPUTS, extract_embeddings
from musiclass.pretrained.tagger import Tagger

from .conftest import tone


@pytest.fixture(scope="module")
def tagger():
    import keras

    keras.utils.set_random_seed(0)
    return Tagger(M.build("MTT_musicnn"), M.ARCHITECTURES["MTT_musicnn"], batch_size=1)


def test_embeddings_are_the_mean_and_spread_of_the_outputs(tmp_path, tagger):
    sf.write(tmp_path / "one.wav", tone(3.5, 16000, seed=1), 16000)  # 1 patch
    sf.write(tmp_path / "two.wav", tone(7.0, 22050, seed=2), 22050)  # 2 patches, resampled
    (tmp_path / "bad.wav").write_text("not audio")
    tracks = pd.DataFrame(
        {
            "track_id": ["one", "bad", "two"],
            "path": [str(tmp_path / f"{t}.wav") for t in ("one", "bad", "two")],
            "label": ["a", "b", "b"],
            "duration": [3.5, 1.0, 7.0],
            "artist": ["", "", ""],
        }
    )
    index = TrackIndex(tracks, ("a", "b"))
    result = extract_embeddings(index, tmp_path / "store", model="musicnn-mtt", tagger=tagger)
    table = result.table
    assert list(table["track_id"]) == ["one", "two"] and list(table["label"]) == ["a", "b"]
    assert table.shape == (2, 2 + 2 * (753 + 200 + 50))
    assert list(result.failures["track_id"]) == ["bad"]
    assert "taggram_mean:techno" in table.columns and "max_pool_std_752" in table.columns

    y = tagger.load(tmp_path / "two.wav")
    _, x = M.patches(M.log_mel(y))
    out = {k: np.asarray(v, np.float64) for k, v in tagger.network.predict_on_batch(x).items()}
    row = table.iloc[1]
    for key in OUTPUTS:
        cols = [c for c in table.columns if c.startswith(f"{key}_mean")]
        np.testing.assert_allclose(
            row[cols].to_numpy(float), out[key].mean(0), rtol=1e-5, atol=1e-6
        )
        cols = [c for c in table.columns if c.startswith(f"{key}_std")]
        np.testing.assert_allclose(row[cols].to_numpy(float), out[key].std(0), rtol=1e-4, atol=1e-6)
    assert out["penultimate"].std(0).max() > 1e-4  # two different patches: the spread is not 0
    one_std = [c for c in table.columns if "_std" in c]
    assert (table.iloc[0][one_std].to_numpy(float) == 0).all()  # one patch: no spread

    back = read_embeddings(tmp_path / "store", "musicnn-mtt")
    assert result.path.name == "embeddings-musicnn-mtt.csv"
    pd.testing.assert_frame_equal(back, table, check_exact=False, rtol=1e-7)


def test_the_vgg_baseline_and_bad_tables_are_refused(tmp_path, tagger):
    vgg_arch = Tagger(tagger.network, M.ARCHITECTURES["MTT_vgg"])
    index = TrackIndex(
        pd.DataFrame({c: [] for c in ("track_id", "path", "label", "duration", "artist")}), ("a",)
    )
    with pytest.raises(ConfigError, match="VGG"):
        extract_embeddings(index, tmp_path, model="musicnn-mtt-vgg", tagger=vgg_arch)
    with pytest.raises(ConfigError, match="out="):
        extract_embeddings(index, tagger=tagger)
    with pytest.raises(MetadataError, match="no musicnn-msd embeddings"):
        read_embeddings(tmp_path, "musicnn-msd")
    twice = pd.DataFrame({"track_id": ["t", "t"], "label": ["a", "a"], "x": [1.0, 2.0]})
    with pytest.raises(ConfigError, match="repeats"):
        write_embeddings(tmp_path, "musicnn-msd", twice, pd.DataFrame())
