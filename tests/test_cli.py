"""The command line, end to end on tiny synthetic sets: synth -> index -> extract -> split."""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest

from musiclass.cli import main
from musiclass.features.store import FeatureStore

from .conftest import tone_index


@pytest.mark.slow
def test_demo_runs_every_stage_and_a_rerun_skips_them(tmp_path, capsys):
    out = tmp_path / "demo"
    args = ["demo", "--out", str(out), "--clips-per-genre", "2", "--mood-tracks", "24", "--jobs", "2", "-q"]
    assert main(args) == 0
    text = capsys.readouterr().out
    genre = FeatureStore(out / "genre" / "store")
    assert genre.manifest["n_tracks"] == 20 and genre.manifest["n_rows"] == 20 * 19
    assert set(genre.representations) == {"spectrogram", "mel", "mfcc"}
    mood = FeatureStore(out / "mood" / "store")
    assert mood.multilabel and mood.manifest["n_rows"] >= mood.manifest["n_tracks"] > 0
    assert mood.array("mel").shape[1:] == (96, 341)
    for method in ("song", "artist", "seed-frame"):
        assert (out / "genre" / "store" / "splits" / f"{method}.csv").is_file()
    official = pd.read_csv(out / "mood" / "store" / "splits" / "official.csv")
    assert set(official["part"]) <= {"train", "validation", "test"}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["genre"]["splits"]["song"]["tracks_in_several_parts"] == 0
    assert summary["genre"]["splits"]["seed-frame"]["leak"]["test_frames_with_song_in_train"] > 0.5
    assert "test frames whose song is in train" in text

    mtime = (out / "genre" / "store" / "manifest.json").stat().st_mtime_ns
    assert main(args) == 0
    assert "up to date" in capsys.readouterr().out
    assert (out / "genre" / "store" / "manifest.json").stat().st_mtime_ns == mtime


def test_stage_commands_chain(tmp_path, capsys):
    data = tmp_path / "data"
    assert main(["synth", "--out", str(data), "--only", "gtzan", "--clips-per-genre", "1", "-q", "--jobs", "1"]) == 0
    assert len(list((data / "gtzan" / "genres").glob("*/*.wav"))) == 10
    assert main(["index", "gtzan", str(data / "gtzan"), "--out", str(tmp_path / "index"), "-q"]) == 0
    assert "10 tracks, 10 classes" in capsys.readouterr().out
    store = tmp_path / "store"
    assert main(["extract", str(tmp_path / "index"), "--out", str(store), "--preset", "seed", "--jobs", "1", "-q",
                 "--set", "representations=[mel]", "--set", "handcrafted=false"]) == 0
    fs = FeatureStore(store)
    assert fs.array("mel").shape == (190, 128, 130) and fs.config.stft == "frame"
    assert main(["split", str(store), "--method", "seed-frame"]) == 0
    assert "tracks with frames in several parts: 10" in capsys.readouterr().out
    assert main(["info", str(store), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_rows"] == 190


def test_failed_tracks_give_exit_status_3(tmp_path, capsys):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(os.urandom(2000))
    index = tone_index(tmp_path / "audio", genres=("blues",), per_genre=1, extra={"bad": bad})
    index.save(tmp_path / "index")
    code = main(["extract", str(tmp_path / "index"), "--out", str(tmp_path / "s"), "--jobs", "1", "-q",
                 "--set", "representations=[mfcc]"])
    assert code == 3
    out = capsys.readouterr().out
    assert "1 failed" in out and str(bad) in out
    assert FeatureStore(tmp_path / "s").array("mfcc").shape == (19, 20, 130)


def test_errors_are_reported_in_one_line(tmp_path, capsys):
    assert main(["extract", str(tmp_path / "nowhere"), "--out", str(tmp_path / "s")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "run `musiclass index` first" in err and "Traceback" not in err
    assert main(["extract", str(tmp_path / "nowhere"), "--out", "x", "--set", "oops"]) == 1
    assert "--set expects key=value" in capsys.readouterr().err
    assert main([]) == 2
