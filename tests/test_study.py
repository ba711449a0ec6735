"""A study config end to end (tiny profile): stores, both splits, registry, results table, figures."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from musiclass.cli import main
from musiclass.errors import ConfigError
from musiclass.study import load_study

from .conftest import tone_index


@pytest.fixture(scope="module")
def study_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("study")
    tone_index(root / "gtzan", genres=("blues", "classical", "country"), per_genre=10, seconds=5.0)
    base = {
        "task": "genre",
        "data": {"dataset": "gtzan", "root": str(root / "gtzan")},
        "frontend": {
            "preset": "default",
            "n_mels": 32,
            "frame_seconds": 1.0,
            "hop_seconds": 0.5,
            "representations": ["mel", "mfcc"],
        },
        "splits": ["song", "seed-frame"],
        "train": {"preset": "default"},
    }
    (root / "nets.yaml").write_text(
        yaml.safe_dump(
            {
                **base,
                "experiment": "nets",
                "runs": [
                    {"name": "cnn-3-mel", "model": "cnn-3", "representation": "mel"},
                    {"name": "mfcc-1d", "model": "mfcc-1d", "representation": "mfcc"},
                ],
            }
        )
    )
    (root / "ml.yaml").write_text(
        yaml.safe_dump({**base, "experiment": "classical", "classical": {"models": ["lr", "knn"]}})
    )
    (root / "study.yaml").write_text(yaml.safe_dump({"include": ["nets.yaml", "ml.yaml"]}))
    return root


def test_run_writes_registry_results_and_figures(study_dir, capsys):
    out = study_dir / "run"
    assert (
        main(
            [
                "run",
                str(study_dir / "study.yaml"),
                "--out",
                str(out),
                "--profile",
                "tiny",
                "-q",
                "-j",
                "1",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    table = pd.read_csv(out / "results.csv")
    # 2 networks x 2 splits + 2 classifiers x 2 protocols
    assert len(table) == 8 and len(list((out / "registry").glob("*.json"))) == 8
    assert set(table["protocol"]) == {
        "original protocol",
        "our protocol",
        "our protocol, song split",
    }
    assert list(table["experiment"])[-4:] == ["classical"] * 4  # networks first
    classical = table[table["experiment"] == "classical"]
    assert classical["split"].notna().all() and classical["recall_macro"].notna().all()
    assert table[["accuracy", "accuracy_low", "accuracy_high"]].notna().all().all()
    assert (
        (table["accuracy_low"] <= table["accuracy"]) & (table["accuracy"] <= table["accuracy_high"])
    ).all()
    song = table[(table["split"] == "song") & (table["model"] == "cnn-3-mel")].iloc[0]
    frame = table[(table["split"] == "seed-frame") & (table["model"] == "cnn-3-mel")].iloc[0]
    assert (
        song["test_tracks"] < frame["test_tracks"]
    )  # the frame split spreads every track over the parts
    # a tiny-profile network that collapsed is shown with its mark
    assert "| nets: cnn-3-mel |" in printed or "| nets: cnn-3-mel [degenerate] |" in printed
    figures = out / "figures"
    for name in (
        "figure1_representations.png",
        "results_table.png",
        "results_table.md",
        "accuracy_intervals.png",
        "confusion_cnn-3-mel.png",
        "roc_mfcc-1d.png",
        "training_curves.png",
        "per_genre_recall.png",
    ):
        assert (figures / name).stat().st_size > 100, name
    record = json.loads(next((out / "registry").glob("nets__cnn-3-mel__song.json")).read_text())
    assert record["split"] == "song" and record["parameters"] > 0

    # a second run trains nothing again and gives the same table
    before = {p: p.stat().st_mtime_ns for p in (out / "models").rglob("model.keras")}
    assert (
        main(
            [
                "run",
                str(study_dir / "study.yaml"),
                "--out",
                str(out),
                "--profile",
                "tiny",
                "-q",
                "--no-figures",
            ]
        )
        == 0
    )
    assert {p: p.stat().st_mtime_ns for p in (out / "models").rglob("model.keras")} == before
    pd.testing.assert_frame_equal(pd.read_csv(out / "results.csv"), table)


def test_study_configs_in_the_repository_load():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "configs" / "genre"
    studies = load_study(root / "study.yaml")
    assert [s.experiment for s in studies] == ["exp1", "exp2", "fnn", "classical", "transfer"]
    # artist-disjoint by default; the song split (for the artist leak) and more seeds in exp2
    splits = {s.experiment: s.splits for s in studies if s.runs}
    assert splits == {
        "exp1": ["default", "seed-frame"],
        "exp2": ["default", "song", "seed-frame"],
        "fnn": ["default", "seed-frame"],
    }
    assert next(s for s in studies if s.experiment == "exp2").seeds == [42, 1, 2]
    assert all(s.split_fractions == (0.7, 0.1, 0.2) for s in studies if s.runs)
    models = {r["model"] for s in studies for r in s.runs}
    assert models == {"cnn-3", "cnn-4", "cnn-5", "cnn-6", "cnn-7", "mfcc-1d", "fnn"}


def test_profiles_name_only_runs_that_exist_and_quick_keeps_each_kind(tmp_path):
    """A misspelt run name in a profile's ``skip_runs`` or ``only_runs`` would silently train
    everything: each name is a run of the repository's studies. The quick profile still trains
    every kind of network and both leak comparisons (its cuts are the demo's 15 minutes)."""
    from pathlib import Path

    from musiclass.study import PROFILES

    configs = Path(__file__).resolve().parents[1] / "configs"
    studies = load_study(configs / "genre" / "study.yaml") + load_study(
        configs / "mood" / "study.yaml"
    )
    names = {
        r.get("name") or f"{r['model']}-{r.get('representation', 'mel')}"
        for s in studies
        for r in s.runs
    }
    for profile, prof in PROFILES.items():
        listed = set(prof.get("skip_runs", ())) | set(prof.get("run_train", {}))
        for runs in prof.get("only_runs", {}).values():
            listed |= set(runs)
        assert listed <= names, f"{profile}: unknown runs {sorted(listed - names)}"
    quick = PROFILES["quick"]
    kept = names - set(quick["skip_runs"])
    assert {
        "cnn-3-mel",
        "cnn-7-mel",
        "cnn-3-spectrogram",
        "mfcc-1d",
        "fnn-mel",
    } <= kept
    assert {"base", "up-1", "down-1", "balanced-loss", "mood-cnn"} <= kept
    assert set(quick["only_runs"]["song"]) <= kept and set(quick["only_runs"]["seed-frame"]) <= kept
    # the full profile trains every run under the default split and every depth under the song
    # split (both leaks of each depth); only the frame split is trimmed, never to nothing
    full = PROFILES["full"]
    assert not full.get("skip_runs") and set(full["only_runs"]) == {"seed-frame"}
    assert {"cnn-3-mel", "cnn-7-mel", "mfcc-1d", "fnn-mel", "base"} <= set(
        full["only_runs"]["seed-frame"]
    )


def test_default_splits_are_artist_disjoint_and_seeds_are_checked(tmp_path):
    from musiclass.study import resolve_splits, seed_spread

    assert resolve_splits("genre", "synthetic", ["default", "song", "seed-frame"]) == [
        "artist",
        "song",
        "seed-frame",
    ]
    assert resolve_splits("genre", "gtzan", ["default", "gtzan-filtered"]) == ["gtzan-filtered"]
    assert resolve_splits("mood", "jamendo", ["default"]) == ["official"]
    base = "experiment: x\nruns: [{model: cnn-3}]\n"
    assert load_study(_write(tmp_path / "d.yaml", base))[0].splits == ["default"]
    for bad, fragment in (
        ("splits: song\n", "must be a list"),
        ("splits: [sng]\n", "unknown split method"),
        ("seeds: [1, 1]\n", "distinct integers"),
        ("seeds: [1.5]\n", "distinct integers"),
        ("seeds: 3\n", "distinct integers"),
    ):
        with pytest.raises(ConfigError, match=fragment):
            load_study(_write(tmp_path / "bad.yaml", base + bad))
    # mean and sample sd across seeds, worked by hand
    spread = seed_spread([{"accuracy": 0.5}, {"accuracy": 0.7}, {"accuracy": 0.9}], [0, 1, 2])
    assert spread["n_seeds"] == 3 and spread["seeds"] == "0,1,2"
    assert spread["accuracy_seed_mean"] == pytest.approx(0.7)
    assert spread["accuracy_seed_sd"] == pytest.approx(0.2)
    assert "roc_auc_seed_mean" not in spread


def _write(path, text):
    path.write_text(text)
    return path


def test_bad_study_configs_are_reported(tmp_path):
    (tmp_path / "a.yaml").write_text("experiment: x\nrunz: []\n")
    with pytest.raises(ConfigError, match="unknown key"):
        load_study(tmp_path / "a.yaml")
    (tmp_path / "b.yaml").write_text("experiment: x\nruns: [{representation: mel}]\n")
    with pytest.raises(ConfigError, match="model"):
        load_study(tmp_path / "b.yaml")
    (tmp_path / "c.yaml").write_text("experiment: x\n")
    with pytest.raises(ConfigError, match="nothing to do"):
        load_study(tmp_path / "c.yaml")


def test_extra_seeds_are_trained_under_the_first_split_and_summarised(
    study_dir, tmp_path, monkeypatch
):
    import musiclass.study as st

    monkeypatch.setitem(st.PROFILES["tiny"], "max_seeds", 2)
    cfg = yaml.safe_load((study_dir / "nets.yaml").read_text())
    cfg.update(runs=cfg["runs"][:1], seeds=[42, 7, 9])
    path = _write(tmp_path / "seeds.yaml", yaml.safe_dump(cfg))
    table = st.run_study(
        path, tmp_path / "run", profile="tiny", progress=False, echo=lambda *a: None
    )
    by_split = table.set_index("split")
    # 2 seeds (the profile's max) under the first split; none under the others
    assert by_split.loc["song", "n_seeds"] == 2 and by_split.loc["song", "seeds"] == "42,7"
    values = [float(v) for v in by_split.loc["song", "accuracy_seed_values"].split(",")]
    assert values[0] == pytest.approx(by_split.loc["song", "accuracy"], abs=1e-4)
    assert by_split.loc["song", "accuracy_seed_mean"] == pytest.approx(np.mean(values), abs=1e-4)
    assert pd.isna(by_split.loc["seed-frame", "n_seeds"])
    assert len(list((tmp_path / "run" / "models" / "song").iterdir())) == 2


def test_a_run_the_profile_no_longer_trains_leaves_the_table(study_dir, tmp_path, monkeypatch):
    """A full run resumed after the profile stopped training a run under a split published the
    earlier run's record of it: the table must hold what this profile trains, as a fresh run."""
    import musiclass.study as st

    cfg = yaml.safe_load((study_dir / "nets.yaml").read_text())
    cfg.update(runs=cfg["runs"][1:])  # mfcc-1d: the fastest
    path = _write(tmp_path / "one.yaml", yaml.safe_dump(cfg))
    run = tmp_path / "run"
    first = st.run_study(path, run, profile="tiny", progress=False, echo=lambda *a: None)
    assert set(first["split"]) == {"song", "seed-frame"}
    monkeypatch.setitem(st.PROFILES["tiny"], "only_runs", {"seed-frame": []})
    lines = []
    again = st.run_study(path, run, profile="tiny", progress=False, echo=lines.append)
    assert set(again["split"]) == {"song"}  # the first split is never limited
    assert any(
        "seed-frame split: skipped by the tiny profile; the earlier run's" in s for s in lines
    )
    assert not list((run / "registry").glob("*seed-frame*"))
    # the same again: nothing left to remove, said plainly
    lines.clear()
    st.run_study(path, run, profile="tiny", progress=False, echo=lines.append)
    assert "-- mfcc-1d on seed-frame split: skipped by the tiny profile" in lines


def test_a_classical_model_the_profile_now_skips_leaves_the_table(study_dir, tmp_path, monkeypatch):
    """The same for a classical baseline: a quick run after a full one into the same folder kept
    the full run's svm-tuned row beside its own."""
    import musiclass.study as st

    path = study_dir / "ml.yaml"
    run = tmp_path / "run"
    first = st.run_study(path, run, profile="tiny", progress=False, echo=lambda *a: None)
    assert {"lr", "knn"} <= set(first["model"])
    skip = [*st.PROFILES["tiny"]["skip_models"], "knn"]
    monkeypatch.setitem(st.PROFILES["tiny"], "skip_models", skip)
    lines = []
    again = st.run_study(path, run, profile="tiny", progress=False, echo=lines.append)
    assert "knn" not in set(again["model"]) and "lr" in set(again["model"])
    removed = [s for s in lines if "earlier result(s) this run did not produce" in s]
    assert len(removed) == 1 and "classical__knn__classical-" in removed[0]
    assert not list((run / "registry").glob("classical__knn__*"))
