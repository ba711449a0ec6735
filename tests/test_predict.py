"""``musiclass predict``: a trained model directory applied to new recordings, any format and length."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import librosa
import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from musiclass import audio, splits
from musiclass.cli import EXIT_ERROR, EXIT_OK, EXIT_PARTIAL, main
from musiclass.config import frontend_preset
from musiclass.datasets.base import TrackIndex
from musiclass.errors import ConfigError, FileError, MetadataError
from musiclass.features.extract import extract
from musiclass.predict import find_audio, load_predictor, predict
from musiclass.training import train, train_preset

from .conftest import tone

GENRES3 = ("blues", "classical", "country")
FRONTEND = dict(
    n_mels=32, frame_seconds=1.0, hop_seconds=0.5, representations=("mel",), handcrafted=False
)


def quick(**kw):
    values = dict(
        model="cnn-3",
        representation="mel",
        epochs=8,
        batch_size=32,
        early_stopping_patience=None,
        reduce_lr_patience=None,
        tensorboard=False,
    )
    values.update(kw)
    return train_preset("default", **values)


def band_limited_tones(root: Path, per_genre: int = 8, seconds: float = 6.0) -> TrackIndex:
    """``tone_index``'s 3 tone 'genres', each clip band-limited to 4 kHz (through 8 kHz and back), so that
    the same audio written at 8 kHz is really the same audio (nothing above its Nyquist frequency is lost)."""
    rows = []
    for gi, g in enumerate(GENRES3):
        for i in range(per_genre):
            y = tone(seconds, seed=10 * gi + i, freqs=(110.0 * (gi + 1), 165.0 * (gi + 1) + 7 * i))
            y = audio.resample(audio.resample(y, 22050, 8000), 8000, 22050)
            path = root / g / f"{g}.{i:05d}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, y, 22050, subtype="FLOAT")
            rows.append((f"{g}.{i:05d}", str(path), g, seconds, f"{g}_artist_{i % 2}"))
    tracks = pd.DataFrame(rows, columns=["track_id", "path", "label", "duration", "artist"])
    return TrackIndex(tracks, GENRES3, dataset="tones", root=str(root))


@pytest.fixture(scope="module")
def genre(tmp_path_factory):
    """3 tone 'genres' x 8 clips of 6 s (1 s frames of 32 mel bands), a cnn-3 trained on half of them."""
    root = tmp_path_factory.mktemp("predict_genre")
    index = band_limited_tones(root / "tones")
    store = extract(
        index,
        frontend_preset("genre", "default", **FRONTEND),
        root / "store",
        jobs=1,
        progress=False,
    ).store
    splits.save(
        splits.song_split(store.tracks(), (0.5, 0.25, 0.25), seed=0),
        store.path / "splits" / "song.csv",
    )
    result = train(
        store, "song", quick(batch_size=16, epochs=10), root / "model", progress=False, n_boot=0
    )
    return {
        "root": root,
        "index": index,
        "store": store,
        "model_dir": result.model_dir,
        "predictor": load_predictor(result.model_dir),
    }


@pytest.fixture(scope="module")
def mood(tmp_path_factory):
    """A 2-tag tone set (low, high, both), a multi-label cnn-3 trained for 2 epochs."""
    root = tmp_path_factory.mktemp("predict_mood")
    rows = []
    kinds = {"low": (110.0, 165.0), "high": (880.0, 1320.0), "high|low": (110.0, 1320.0)}
    for i in range(12):
        label = list(kinds)[i % 3]
        path = root / "audio" / f"t{i:02d}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, tone(3.0, seed=i, freqs=kinds[label]), 22050)
        rows.append((f"t{i:02d}", str(path), label, 3.0, ""))
    index = TrackIndex(
        pd.DataFrame(rows, columns=["track_id", "path", "label", "duration", "artist"]),
        ("high", "low"),
        multilabel=True,
        dataset="tones",
        root=str(root),
    )
    store = extract(
        index,
        frontend_preset("genre", "default", **FRONTEND),
        root / "store",
        jobs=1,
        progress=False,
    ).store
    parts = ["train"] * 6 + ["validation"] * 3 + ["test"] * 3
    splits.save(
        pd.DataFrame({"track_id": [r[0] for r in rows], "part": parts}),
        store.path / "splits" / "own.csv",
    )
    result = train(store, "own", quick(epochs=2), root / "model", progress=False, n_boot=0)
    return {"root": root, "index": index, "model_dir": result.model_dir}


# ---------------------------------------------------------------------------------------------- genre
def test_training_clips_get_their_genre_and_exactly_the_stored_features(genre):
    store, index, predictor = genre["store"], genre["index"], genre["predictor"]
    report = predict(predictor, [str(p) for p in index.tracks["path"]], progress=False)
    assert len(report) == len(index) and report.failures.empty
    table = report.table.set_index("path")
    truth = index.tracks.set_index("path")["label"]
    correct = (table["top1"] == truth.loc[table.index]).mean()
    assert correct >= 0.9, table[["top1", "p_top1"]]
    # track probabilities = mean of the model's frame probabilities on the *stored* frames
    frames = store.index
    for t in report.predictions[::5]:
        track_id = index.tracks.set_index("path").loc[t.path, "track_id"]
        rows = frames.loc[frames["track_id"] == track_id, "row"].to_numpy()
        x = store.array("mel").rows(rows)
        expected = predictor.model.predict(x, verbose=0).mean(axis=0)
        assert t.n_frames == len(rows)
        np.testing.assert_allclose(t.probs, expected, atol=1e-5)
        np.testing.assert_allclose(
            t.starts, frames.loc[frames["track_id"] == track_id, "start"], atol=1e-9
        )
    assert np.allclose(table.filter(like="p:").sum(axis=1), 1.0, atol=1e-5)
    assert list(table.columns[:6]) == ["duration_s", "n_frames", "top1", "p_top1", "top2", "p_top2"]


def test_formats_rates_channels_and_lengths_give_the_same_genre(genre, tmp_path):
    predictor = load_predictor(genre["model_dir"], batch_size=16)
    calls = []
    model = predictor.model

    class Spy:  # counts the forward passes and their batch sizes
        def predict_on_batch(self, x):
            calls.append(len(x))
            return model.predict_on_batch(x)

    predictor.model = Spy()
    tracks = genre["index"].tracks
    for g in GENRES3:
        src = tracks.loc[tracks["label"] == g, "path"].iloc[0]
        y, sr = sf.read(src, dtype="float32")
        base = predictor.predict_file(src).label
        variants = {
            "stereo-44k.flac": (
                np.stack([librosa.resample(y, orig_sr=sr, target_sr=44100)] * 2, axis=1)
                * np.array([1.0, 0.8], np.float32),
                44100,
            ),
            "mono-8k.wav": (librosa.resample(y, orig_sr=sr, target_sr=8000), 8000),
            "clip.ogg": (y, sr),
            "short.wav": (y[: int(0.7 * len(y))], sr),
            "long.wav": (np.tile(y, 10), sr),
        }
        for name, (data, rate) in variants.items():
            path = tmp_path / f"{g}-{name}"
            sf.write(path, data, rate)
            calls.clear()
            pred = predictor.predict_file(path)
            assert pred.label == base, (g, name, pred.top)
            assert abs(pred.duration_s - len(data) / rate) < 0.01
            if name == "long.wav":  # 60 s: 121 frames, through the network 16 at a time
                assert pred.n_frames == 121 and len(calls) == 8 and max(calls) == 16
                whole = model.predict(predictor.frames(predictor.load(path))[1], verbose=0)
                np.testing.assert_allclose(pred.frame_probs, whole, atol=1e-5)
                np.testing.assert_allclose(pred.probs, pred.frame_probs.mean(axis=0), atol=1e-12)


def test_clips_shorter_than_training_tracks_get_a_note_and_tiny_ones_fail(genre, tmp_path):
    predictor = genre["predictor"]
    src = genre["index"].tracks["path"].iloc[0]
    y, sr = sf.read(src, dtype="float32")
    sf.write(tmp_path / "0.6s.wav", y[: int(0.6 * sr)], sr)
    sf.write(tmp_path / "0.3s.wav", y[: int(0.3 * sr)], sr)
    pred = predictor.predict_file(tmp_path / "0.6s.wav")
    assert (
        pred.n_frames == 1
        and "shorter than the 1 s" in pred.notes[0]
        and "40% zero padding" in pred.notes[0]
    )
    report = predict(predictor, [tmp_path], progress=False)
    assert report.table["path"].tolist() == [str(tmp_path / "0.6s.wav")]
    assert report.failures["path"].tolist() == [str(tmp_path / "0.3s.wav")]
    assert "too short" in report.failures["reason"].iloc[0]
    assert "note:" in report.summary() and "0.6s.wav" in report.summary()
    same = predictor.predict_signal(np.stack([y, y]), sr)  # a (channels, samples) signal in memory
    np.testing.assert_allclose(same.probs, predictor.predict_file(src).probs, atol=1e-6)


def test_a_folder_with_bad_files_lists_them_and_the_cli_exits_3(genre, tmp_path, capsys):
    folder = tmp_path / "mine"
    folder.mkdir()
    for path in genre["index"].tracks["path"].iloc[[0, 8]]:
        shutil.copy(path, folder / Path(path).name)
    (folder / "corrupt.wav").write_bytes(np.random.default_rng(0).bytes(5000))
    (folder / "empty.wav").write_bytes(b"")
    sf.write(folder / "silent.wav", np.zeros(44100, np.float32), 22050)
    (folder / "notes.txt").write_text("not audio")
    report = predict(genre["predictor"], [folder], progress=False)
    assert report.table["path"].tolist() == [
        str(folder / "blues.00000.wav"),
        str(folder / "classical.00000.wav"),
    ]
    reasons = dict(zip(report.failures["path"], report.failures["reason"]))
    assert set(reasons) == {str(folder / n) for n in ("corrupt.wav", "empty.wav", "silent.wav")}
    assert "cannot decode" in reasons[str(folder / "corrupt.wav")]
    assert (
        "empty" in reasons[str(folder / "empty.wav")]
        and "silent" in reasons[str(folder / "silent.wav")]
    )
    summary = report.summary()
    assert "3 failed (no prediction)" in summary and "corrupt.wav: cannot decode" in summary

    model_dir = str(genre["model_dir"])
    assert (
        main(["predict", model_dir, str(folder), "-q", "--out", str(tmp_path / "x.csv")])
        == EXIT_PARTIAL
    )
    out = capsys.readouterr().out
    assert "top-1" in out and "blues.00000.wav" in out and "corrupt.wav" in out
    table = pd.read_csv(tmp_path / "x.csv")
    assert list(table.columns) == (
        ["path", "duration_s", "n_frames", "top1", "p_top1", "top2", "p_top2", "top3", "p_top3"]
        + [f"p:{g}" for g in GENRES3]
        + ["notes"]
    )
    assert len(table) == 2 and table["top1"].tolist() == ["blues", "classical"]
    np.testing.assert_allclose(table.filter(like="p:").sum(axis=1), 1.0, atol=1e-4)

    assert (
        main(
            [
                "predict",
                model_dir,
                str(folder),
                "-q",
                "--top-k",
                "2",
                "--format",
                "json",
                "--out",
                str(tmp_path / "x.json"),
            ]
        )
        == EXIT_PARTIAL
    )
    captured = capsys.readouterr()
    records = json.loads((tmp_path / "x.json").read_text())
    assert records == json.loads(captured.out)
    assert [r["path"] for r in records] == table["path"].tolist()
    assert [t["label"] for t in records[0]["top"]][:1] == ["blues"] and len(records[0]["top"]) == 2
    assert set(records[0]["probabilities"]) == set(GENRES3)
    assert abs(sum(records[0]["probabilities"].values()) - 1) < 1e-4
    assert "failed:" in captured.err and "silent.wav" in captured.err

    good = folder / "blues.00000.wav"
    assert main(["predict", model_dir, str(good), "-q", "--format", "csv"]) == EXIT_OK
    assert (
        capsys.readouterr().out.splitlines()[0].startswith("path,duration_s,n_frames,top1,p_top1")
    )


def test_globs_and_folders_expand_as_documented(genre, tmp_path, capsys):
    src = genre["index"].tracks["path"].iloc[0]
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / ".hidden").mkdir()
    for rel in ("a/x.wav", "a/b/y.wav", "a/b/z.WAV", "a/.hidden/h.wav", "a/._x.wav", "top.wav"):
        shutil.copy(src, tmp_path / rel)
    (tmp_path / "a" / "b" / "y.txt").write_text("attribution")
    files, problems = find_audio([tmp_path / "a"])
    assert (
        files == [str(tmp_path / r) for r in ("a/b/y.wav", "a/b/z.WAV", "a/x.wav")]
        and problems == []
    )
    assert find_audio([tmp_path / "a"], recursive=False)[0] == [str(tmp_path / "a/x.wav")]
    files, problems = find_audio(
        [
            str(tmp_path / "**" / "*.wav"),
            str(tmp_path / "a/x.wav"),
            str(tmp_path / "*.mp3"),
            str(tmp_path / "nope.wav"),
            tmp_path / "a" / "b",
        ]
    )
    assert files == [str(tmp_path / r) for r in ("a/b/y.wav", "a/x.wav", "top.wav", "a/b/z.WAV")]
    assert problems == [
        (str(tmp_path / "*.mp3"), "no file matches this pattern"),
        (str(tmp_path / "nope.wav"), "file not found"),
    ]

    report = predict(
        genre["predictor"], [str(tmp_path / "a" / "*.wav"), str(tmp_path / "*.ogg")], progress=False
    )
    assert report.table["path"].tolist() == [str(tmp_path / "a/x.wav")]
    assert report.failures.values.tolist() == [
        [str(tmp_path / "*.ogg"), "no file matches this pattern"]
    ]
    # nothing found at all: an error (exit 1), not an empty table
    with pytest.raises(ConfigError, match="no audio file to predict"):
        predict(genre["predictor"], [str(tmp_path / "*.ogg")], progress=False)
    assert main(["predict", str(genre["model_dir"]), str(tmp_path / "*.ogg"), "-q"]) == EXIT_ERROR
    assert "no file matches this pattern" in capsys.readouterr().err


def test_audio_input_export_predicts_what_the_feature_model_predicts(genre, tmp_path):
    from musiclass.models.frontend_layer import export_with_frontend

    audio_dir = export_with_frontend(genre["model_dir"], tmp_path / "audio_model")
    audio_predictor = load_predictor(audio_dir)
    assert audio_predictor.audio_input and not genre["predictor"].audio_input
    tracks = genre["index"].tracks
    paths = [str(p) for p in tracks["path"].iloc[[0, 9, 18]]]
    a = predict(audio_predictor, paths, progress=False)
    f = predict(genre["predictor"], paths, progress=False)
    for pa, pf in zip(a.predictions, f.predictions):
        np.testing.assert_allclose(pa.starts, pf.starts)
        np.testing.assert_allclose(pa.frame_probs, pf.frame_probs, atol=1e-4)
        np.testing.assert_allclose(pa.probs, pf.probs, atol=1e-4)
    assert a.table["top1"].tolist() == f.table["top1"].tolist()


# ---------------------------------------------------------------------------------------------- mood
def test_tags_follow_the_thresholds_of_the_model_directory(mood, tmp_path):
    model_dir = tmp_path / "model"
    shutil.copytree(mood["model_dir"], model_dir)
    paths = [str(p) for p in mood["index"].tracks["path"].iloc[:3]]
    chosen = json.loads((model_dir / "thresholds.json").read_text())["thresholds"]
    report = predict(model_dir, paths, progress=False, jobs=2)
    assert report.multilabel and report.thresholds == chosen and report.notes == []
    for t in report.predictions:
        assert t.tags == sorted(
            ((c, p) for c, p in zip(t.classes, t.probs) if p >= chosen[c]), key=lambda cp: -cp[1]
        )
    assert list(report.table.columns) == [
        "path",
        "duration_s",
        "n_frames",
        "tags",
        "p:high",
        "p:low",
        "notes",
    ]

    def rewrite(value):
        (model_dir / "thresholds.json").write_text(
            json.dumps({"thresholds": {"high": value, "low": value}})
        )
        return predict(model_dir, paths, progress=False)

    every = rewrite(0.0)
    assert all({tag for tag, _ in t.tags} == {"high", "low"} for t in every.predictions)
    assert set(every.table["tags"]) <= {"high;low", "low;high"}
    assert "high (" in every.summary() and "low (" in every.summary()
    none = rewrite(1.01)
    assert all(t.tags == [] for t in none.predictions) and "none above threshold" in none.summary()
    records = json.loads(none.to_json(tmp_path / "m.json").read_text())
    assert records[0]["tags"] == [] and set(records[0]["probabilities"]) == {"high", "low"}
    (model_dir / "thresholds.json").unlink()
    fallback = predict(model_dir, paths, progress=False)
    assert "threshold 0.5" in fallback.notes[0] and "note:" in fallback.summary()
    assert all(t.tags == [(c, p) for c, p in t.top if p >= 0.5] for t in fallback.predictions)


# ---------------------------------------------------------------------------------------------- errors
def test_bad_model_directories_name_the_file_and_the_reason(genre, tmp_path, capsys):
    with pytest.raises(FileError, match="model directory not found"):
        load_predictor(tmp_path / "missing")
    d = tmp_path / "model"
    shutil.copytree(
        genre["model_dir"], d, ignore=shutil.ignore_patterns("predictions", "history.csv")
    )
    labels = (d / "labels.json").read_text()
    (d / "labels.json").unlink()
    with pytest.raises(FileError, match=r"labels\.json: file not found"):
        load_predictor(d)
    (d / "labels.json").write_text(
        json.dumps({"classes": ["a", "b", "c", "d"], "multilabel": False})
    )
    with pytest.raises(
        MetadataError, match=r"labels\.json: lists 4 classes but the model outputs 3"
    ):
        load_predictor(d)
    (d / "labels.json").write_text(json.dumps({"classes": ["a"]}))
    with pytest.raises(MetadataError, match=r"labels\.json: missing key\(s\) \['multilabel'\]"):
        load_predictor(d)
    (d / "labels.json").write_text(labels)
    front = json.loads((d / "frontend.json").read_text())
    (d / "frontend.json").write_text('{"config": {')
    with pytest.raises(MetadataError, match=r"frontend\.json: not valid JSON"):
        load_predictor(d)
    (d / "frontend.json").write_text(
        json.dumps({**front, "config": {**front["config"], "n_mels": -1}})
    )
    with pytest.raises(MetadataError, match=r"frontend\.json: invalid frontend config"):
        load_predictor(d)
    (d / "frontend.json").write_text(
        json.dumps({**front, "config": {**front["config"], "n_mels": 64}, "input_shape": [64, 44]})
    )
    with pytest.raises(
        MetadataError,
        match=r"frontend\.json: describes 'mel' frames of shape \(64, 44\), but "
        r"the model takes \(32, 44\)",
    ):
        load_predictor(d)
    (d / "frontend.json").write_text(json.dumps(front))
    (d / "model.keras").write_bytes(b"not a zip")  # checked before Keras opens it: named as text
    with pytest.raises(FileError, match=r"model\.keras: a text file, not a \.keras model"):
        load_predictor(d)
    src = genre["index"].tracks["path"].iloc[0]
    assert main(["predict", str(d), src, "-q"]) == EXIT_ERROR
    assert "model.keras: a text file, not a .keras model" in capsys.readouterr().err
    assert (
        main(["predict", str(genre["model_dir"]), src, "-q", "--out", str(tmp_path / "x.txt")])
        == EXIT_ERROR
    )
    assert "must end in .csv or .json" in capsys.readouterr().err


def test_importing_predict_does_not_import_tensorflow():
    code = "import sys, musiclass.predict; print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


# ---------------------------------------------------------------------------------------------- real audio
def test_cc_licensed_recordings_run_through_the_tiny_model(genre, shared_data, capsys):
    folder = shared_data / "cc-music"
    oggs = sorted(folder.glob("*.ogg"))
    if not oggs:
        pytest.skip("no cc-music recordings")
    assert main(["predict", str(genre["model_dir"]), str(folder), "-q", "-j", "2"]) == EXIT_OK
    out = capsys.readouterr().out
    print(out)
    lines = out.splitlines()
    assert lines[2].split() == ["path", "top-1", "top-2", "top-3"]
    assert all(any(o.name in line for line in lines) for o in oggs)
    report = predict(genre["predictor"], [folder], progress=False)
    assert report.failures.empty and report.table["path"].tolist() == [str(o) for o in oggs]
    np.testing.assert_allclose(report.table.filter(like="p:").sum(axis=1), 1.0, atol=1e-5)
    assert (report.table["n_frames"] > 40).all()


def test_white_noise_is_noted_as_far_outside_the_training_data(genre, tmp_path):
    """Tone 'genres' train the model; white noise still gets a confident genre, now with a note
    measured against the training frames' statistics (input_statistics.json); the training clips
    themselves get none."""
    predictor = genre["predictor"]
    assert predictor.input_stats is not None and predictor.input_stats["n_frames"] >= 2
    noise = np.random.default_rng(0).uniform(-0.5, 0.5, 3 * 22050).astype(np.float32)
    sf.write(tmp_path / "noise.wav", noise, 22050)
    pred = predictor.predict_file(tmp_path / "noise.wav")
    assert pred.label in predictor.classes  # predicted, not refused
    assert any(n.startswith("far outside the training data") for n in pred.notes), pred.notes
    clip = predictor.predict_file(genre["index"].tracks["path"].iloc[0])
    assert not any("far outside" in n for n in clip.notes)
