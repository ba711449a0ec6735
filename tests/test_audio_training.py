"""Training straight from audio: the spectral frontend inside the model, no feature store."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from musiclass import audio, splits
from musiclass.cli import main
from musiclass.config import frontend_preset
from musiclass.errors import AudioError, ConfigError
from musiclass.features.extract import extract
from musiclass.features.frontend import Frontend
from musiclass.training import train, train_audio, train_preset

from .conftest import tone_index

GENRES3 = ("blues", "classical", "country")


@pytest.fixture(scope="module")
def tones(tmp_path_factory):
    root = tmp_path_factory.mktemp("audio_train")
    index = tone_index(root / "tones", genres=GENRES3, per_genre=12, seconds=6.0)
    index.save(root / "index")
    return root, index


def frontend():
    return frontend_preset(
        "genre",
        "default",
        n_mels=32,
        frame_seconds=1.0,
        hop_seconds=0.5,
        representations=("mel",),
        handcrafted=False,
    )


def quick(**kw):
    values = dict(
        model="cnn-3",
        representation="mel",
        epochs=6,
        batch_size=32,
        early_stopping_patience=None,
        reduce_lr_patience=None,
        tensorboard=False,
    )
    values.update(kw)
    return train_preset("default", **values)


@pytest.fixture(scope="module")
def trained(tones):
    root, index = tones
    return train_audio(
        index, "song", frontend(), quick(), root / "model", progress=False, n_boot=50
    )


def test_trains_from_audio_and_saves_an_audio_model(tones, trained):
    root, index = tones
    m = trained.metrics
    assert m["test"]["track"]["accuracy"] >= 0.8  # chance is 1/3
    assert m["tracks"] == {"train": 28, "validation": 4, "test": 4}
    # 6 s tracks, 1 s frames every 0.5 s (rounded to STFT hops): the numpy frontend's count per track
    per_track = len(Frontend(frontend()).compute(audio.load(index.tracks["path"][0], sr=22050)[0]))
    assert m["frames"] == {p: n * per_track for p, n in m["tracks"].items()}
    assert m["train_frames"] == m["frames"]["train"]
    fe = json.loads((trained.model_dir / "frontend.json").read_text())
    assert fe["input"] == "audio" and fe["input_shape"] == [fe["context_samples"]]
    assert fe["frame_shape"] == [32, frontend().n_columns]
    # the saved model takes audio and gives the predictions written for the test tracks
    from musiclass.models import frontend_layer as fl

    model = fl.load_model(trained.model_dir / "model.keras")
    assert model.input_shape == (None, fe["context_samples"])
    table = pd.read_csv(trained.model_dir / "predictions" / "test.csv", dtype={"track_id": str})
    track = table["track_id"].iloc[0]
    path = index.tracks.set_index("track_id").loc[track, "path"]
    probs = np.asarray(
        model.predict(fl.audio_frames(audio.load(path, sr=22050)[0], frontend())[1], verbose=0)
    )
    saved = table[table["track_id"] == track].filter(like="p:").to_numpy()
    np.testing.assert_allclose(probs, saved, atol=1e-5)


def test_same_results_as_training_on_the_stored_features(tones, trained):
    """Same data, split, seed and model: the store path and the audio path both learn the tones."""
    root, index = tones
    store = extract(index, frontend(), root / "store", jobs=1, progress=False).store
    splits.save(splits.song_split(index, seed=42), store.path / "splits" / "song.csv")
    res = train(store, "song", quick(), root / "stored", progress=False, n_boot=50)
    assert res.metrics["tracks"] == trained.metrics["tracks"]
    assert res.metrics["frames"] == trained.metrics["frames"]
    assert abs(res.test["track"]["accuracy"] - trained.test["track"]["accuracy"]) <= 0.25


def test_a_finished_audio_model_is_not_trained_again(tones, trained):
    root, index = tones
    again = train_audio(
        index, "song", frontend(), quick(), root / "model", progress=False, n_boot=50
    )
    assert again.metrics == trained.metrics


def test_options_that_need_stored_frames_are_refused(tones, tmp_path):
    _, index = tones
    for bad in (
        dict(first_frames=2),
        dict(resample="up-0.5"),
        dict(tag_weights="balanced"),
        dict(model="fnn"),
    ):
        with pytest.raises(ConfigError, match="does not support"):
            train_audio(index, "song", frontend(), quick(**bad), tmp_path / "x", progress=False)
    with pytest.raises(ConfigError, match="spectrogram"):
        train_audio(
            index,
            "song",
            frontend(),
            quick(representation="spectrogram"),
            tmp_path / "x",
            progress=False,
        )


def test_an_undecodable_training_track_stops_with_its_name(tones, tmp_path):
    root, index = tones
    bad = tmp_path / "broken.wav"
    sf.write(bad, np.zeros(10), 22050)  # a valid header, then the data cut short
    bad.write_bytes(bad.read_bytes()[:50] + b"\x00garbage" * 10)
    t = index.tracks.copy()
    t.loc[0, "path"] = str(bad)
    from musiclass.datasets.base import TrackIndex

    broken = TrackIndex(t, index.classes, dataset="tones", root=index.root)
    part = pd.Series("train", index=pd.Index(t["track_id"], name="track_id"), name="part")
    part.iloc[-6:-3], part.iloc[-3:] = "validation", "test"
    with pytest.raises(
        AudioError, match="broken.wav: too short"
    ):  # from its header, before training
        train_audio(broken, part, frontend(), quick(epochs=1), tmp_path / "m", progress=False)
    assert not (tmp_path / "m" / "history.csv").exists()
    # a header that promises more audio than the file holds: found while decoding, inside tf.data
    cut = tmp_path / "cut.wav"
    sf.write(cut, np.random.default_rng(0).uniform(-0.5, 0.5, 22050 * 6).astype(np.float32), 22050)
    cut.write_bytes(cut.read_bytes()[:3000])
    t.loc[0, "path"] = str(cut)
    with pytest.raises(AudioError, match="cut.wav"):
        train_audio(
            TrackIndex(t, index.classes, dataset="tones", root=index.root),
            part,
            frontend(),
            quick(epochs=1),
            tmp_path / "m2",
            progress=False,
        )


def test_cli_trains_from_an_index_folder(tones, tmp_path, capsys):
    root, _ = tones
    cfg = tmp_path / "fe.yaml"
    cfg.write_text(
        "frontend:\n  n_mels: 32\n  frame_seconds: 1.0\n  hop_seconds: 0.5\n"
        "  representations: [mel]\n  handcrafted: false\n"
    )
    out = tmp_path / "cli"
    assert (
        main(
            [
                "train",
                str(root / "index"),
                "--from-audio",
                "--frontend-config",
                str(cfg),
                "--out",
                str(out),
                "--epochs",
                "1",
                "--batch-size",
                "32",
                "-q",
                "--n-boot",
                "20",
                "--set",
                "tensorboard=false",
            ]
        )
        == 0
    )
    assert json.loads((out / "frontend.json").read_text())["input"] == "audio"
    assert "model directory" in capsys.readouterr().out


def test_mood_tagger_from_audio_on_the_official_split(tmp_path, capsys):
    """Multi-label, MP3 input, the official split read from MTG-Jamendo's splits folder."""
    from musiclass.datasets import jamendo, synthetic

    data = synthetic.make_jamendo(
        tmp_path / "mtg-jamendo",
        n_tracks=24,
        seed=0,
        jobs=1,
        progress=False,
        min_duration=30.0,
        max_duration=40.0,
    )
    index = jamendo.index(
        data / "autotagging_moodtheme.tsv", data, curation="official", split=0, check="exists"
    )
    index.save(tmp_path / "index")
    out = tmp_path / "tagger"
    assert (
        main(
            [
                "train",
                str(tmp_path / "index"),
                "--from-audio",
                "--split",
                "official",
                "--splits-dir",
                str(data / "splits"),
                "--model",
                "mood-cnn",
                "--out",
                str(out),
                "--epochs",
                "1",
                "--batch-size",
                "8",
                "-q",
                "--n-boot",
                "20",
                "--set",
                "tensorboard=false",
            ]
        )
        == 0
    )
    official = jamendo.split_assignment(data / "splits", 0)
    metrics = json.loads((out / "metrics.json").read_text())
    kept = official[official.index.isin(index.tracks["track_id"])]
    assert metrics["tracks"] == {p: int((kept == p).sum()) for p in ("train", "validation", "test")}
    assert json.loads((out / "train.json").read_text())["split"] == "official split 0"
    thresholds = json.loads((out / "thresholds.json").read_text())["thresholds"]
    assert sorted(thresholds) == sorted(index.classes)
    assert 0.0 <= metrics["test"]["track"]["roc_auc_macro"] <= 1.0
    assert "roc_auc_macro" in capsys.readouterr().out  # a tagger's summary, not a genre table
    assert (
        main(
            [
                "train",
                str(tmp_path / "index"),
                "--from-audio",
                "--split",
                "official",
                "--out",
                str(tmp_path / "x"),
            ]
        )
        == 1
    )
    assert "--splits-dir" in capsys.readouterr().err
