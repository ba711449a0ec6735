"""The command line, end to end on tiny synthetic sets: synth -> index -> extract -> split."""

from __future__ import annotations

import json
import os
import re

import pandas as pd
import pytest

from musiclass.cli import main
from musiclass.features.store import FeatureStore

from .conftest import tone_index


@pytest.mark.slow
def test_demo_runs_every_stage_and_a_rerun_skips_them(tmp_path, capsys):
    out = tmp_path / "demo"
    args = [
        "demo",
        "--out",
        str(out),
        "--clips-per-genre",
        "5",
        "--mood-tracks",
        "40",
        "--jobs",
        "2",
        "-q",
        "--profile",
        "tiny",
        "--no-notebooks",
    ]
    assert main(args) == 0
    text = capsys.readouterr().out
    (store_dir,) = (out / "genre" / "stores").iterdir()
    genre = FeatureStore(store_dir)
    assert genre.manifest["n_tracks"] == 50 and genre.manifest["n_rows"] == 50 * 19
    assert set(genre.representations) == {"spectrogram", "mel", "mfcc"}
    for method in ("artist", "song", "seed-frame"):
        assert (store_dir / "splits" / f"{method}.csv").is_file()
    (mood_dir,) = (out / "mood" / "stores").iterdir()
    mood = FeatureStore(mood_dir)
    assert mood.multilabel and mood.manifest["n_rows"] >= mood.manifest["n_tracks"] > 0
    assert mood.array("mel").shape[1:] == (96, 341)
    official = pd.read_csv(mood_dir / "splits" / "official.csv")
    assert set(official["part"]) <= {"train", "validation", "test"}
    # the mood study: 10 training sets x 2 protocols + the MediaEval run (the base model, reused)
    mood_results = pd.read_csv(out / "mood" / "results.csv")
    # ... and the linear probe on the musicnn embeddings (none when the weights cannot be had)
    probe = mood_results["experiment"] == "transfer"
    assert len(mood_results[~probe]) == 10 * 2 + 1 and probe.sum() in (0, 1)
    assert mood_results[["roc_auc_macro", "pr_auc_macro"]].notna().all().all()
    assert (mood_results["roc_auc_macro_low"] <= mood_results["roc_auc_macro_high"]).all()
    assert len(list((out / "mood" / "models").rglob("model.keras"))) == 10 * 2
    for name in (
        "results_table.png",
        "resampled_tag_counts.png",
        "tag_cooccurrence.png",
        "per_tag_roc_auc.png",
        "tag_frequencies_curation.png",
    ):
        assert (out / "mood" / "figures" / name).is_file(), name
    assert "| resampling: up-0.5 |" in text
    results = pd.read_csv(out / "genre" / "results.csv")
    # 9 network results (exp1 3, exp2 5, fnn 1) under the artist and the frame split, cnn-3 of
    # exp2 also under the song split (the tiny profile trains the song split for it only), and
    # 3 classifiers under 2 protocols; transfer: the tiny profile's 3 classifiers on the embeddings
    # (none when the musicnn weights cannot be had)
    transfer = results["experiment"] == "transfer"
    assert len(results[~transfer]) == 9 * 2 + 1 + 3 * 2 and transfer.sum() in (0, 3)
    assert set(results["protocol"]) == {
        "original protocol",
        "our protocol",
        "our protocol, song split",
    }
    assert results["accuracy"].between(0, 1).all()
    assert (out / "genre" / "figures" / "results_table.png").is_file()
    # a tiny-profile network that collapsed is shown with its mark
    assert re.search(r"\| exp2: cnn-7-mel( \[degenerate\])? \|", text)
    assert "test frames whose song is in train" in text
    # the headline leak table: exp2's cnn-3 ran under all three splits, so both leaks are there
    leak = r"(degenerate|[+-]\d\.\d{3} \[[+-]\d\.\d{3}, [+-]\d\.\d{3}\])"
    assert "== both leaks per network" in text
    assert re.search(
        r"\| exp2: cnn-3-mel( \| \d\.\d{3}){3} \| " + f"{leak} \\| {leak} \\| {leak}", text
    )
    summary = json.loads((out / "summary.json").read_text())
    assert summary["profile"] == "tiny" and summary["genre"]["rows"] == len(results)
    (splits,) = summary["genre"]["splits"].values()
    assert splits["song"]["tracks_in_several_parts"] == 0
    assert splits["artist"]["tracks_in_several_parts"] == 0
    assert splits["seed-frame"]["leak"]["test_frames_with_song_in_train"] > 0.5

    models = {p: p.stat().st_mtime_ns for p in (out / "genre" / "models").rglob("model.keras")}
    mtime = (mood_dir / "manifest.json").stat().st_mtime_ns
    assert main(args) == 0
    assert (mood_dir / "manifest.json").stat().st_mtime_ns == mtime
    assert {
        p: p.stat().st_mtime_ns for p in (out / "genre" / "models").rglob("model.keras")
    } == models


def test_stage_commands_chain(tmp_path, capsys):
    data = tmp_path / "data"
    assert (
        main(
            [
                "synth",
                "--out",
                str(data),
                "--only",
                "gtzan",
                "--clips-per-genre",
                "1",
                "-q",
                "--jobs",
                "1",
            ]
        )
        == 0
    )
    assert len(list((data / "gtzan" / "genres").glob("*/*.wav"))) == 10
    assert (
        main(["index", "gtzan", str(data / "gtzan"), "--out", str(tmp_path / "index"), "-q"]) == 0
    )
    assert "10 tracks, 10 classes" in capsys.readouterr().out
    store = tmp_path / "store"
    assert (
        main(
            [
                "extract",
                str(tmp_path / "index"),
                "--out",
                str(store),
                "--preset",
                "seed",
                "--jobs",
                "1",
                "-q",
                "--set",
                "representations=[mel]",
                "--set",
                "handcrafted=false",
            ]
        )
        == 0
    )
    fs = FeatureStore(store)
    assert fs.array("mel").shape == (190, 128, 130) and fs.config.stft == "frame"
    assert main(["split", str(store), "--method", "seed-frame"]) == 0
    assert "tracks with frames in several parts: 10" in capsys.readouterr().out
    assert main(["info", str(store), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_rows"] == 190


def test_failed_tracks_give_exit_status_3(tmp_path, capsys):
    bad = (
        tmp_path / "audio" / "bad.wav"
    )  # inside the index's root, as `musiclass index` writes them
    bad.parent.mkdir(parents=True)
    bad.write_bytes(os.urandom(2000))
    index = tone_index(tmp_path / "audio", genres=("blues",), per_genre=1, extra={"bad": bad})
    index.save(tmp_path / "index")
    code = main(
        [
            "extract",
            str(tmp_path / "index"),
            "--out",
            str(tmp_path / "s"),
            "--jobs",
            "1",
            "-q",
            "--set",
            "representations=[mfcc]",
        ]
    )
    assert code == 3
    out = capsys.readouterr().out
    assert "1 failed" in out and str(bad) in out
    assert FeatureStore(tmp_path / "s").array("mfcc").shape == (19, 20, 130)


def test_errors_are_reported_in_one_line(tmp_path, capsys):
    assert main(["extract", str(tmp_path / "nowhere"), "--out", str(tmp_path / "s")]) == 1
    err = capsys.readouterr().err
    assert (
        err.startswith("error: ")
        and "run `musiclass index` first" in err
        and "Traceback" not in err
    )
    assert main(["extract", str(tmp_path / "nowhere"), "--out", "x", "--set", "oops"]) == 1
    assert "--set expects key=value" in capsys.readouterr().err
    assert main([]) == 2
