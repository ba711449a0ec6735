"""Stored work is reused by the track's path and content fingerprint, never by its id alone; a store
of another index or config is refused naming --force, never rewritten in silence."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from musiclass.config import frontend_from_mapping
from musiclass.datasets.base import TrackIndex
from musiclass.errors import ConfigError, MusiclassError
from musiclass.features import extract as extract_mod
from musiclass.features.extract import extract
from musiclass.features.store import FINGERPRINTS, file_fingerprint
from musiclass.pipeline import index_gtzan
from musiclass.study import prepare

from .conftest import tone_index, write_tone
from .test_retry import TINY, store_bytes


@pytest.fixture
def counted(monkeypatch):
    """The tracks computed (``extract.process_track`` calls), in order."""
    real, calls = extract_mod.process_track, []

    def counting(track_id, *args):
        calls.append(track_id)
        return real(track_id, *args)

    monkeypatch.setattr(extract_mod, "process_track", counting)
    return calls


def test_fingerprint_follows_content_and_mtime(tmp_path):
    a = write_tone(tmp_path / "a.wav", 4.0, seed=1)  # 176 KiB: both ends are hashed
    before = file_fingerprint(a)
    assert before[0] == a.stat().st_size and len(before[2]) == 32
    assert file_fingerprint(a) == before
    data = bytearray(a.read_bytes())
    data[-10] ^= 0xFF  # the last 64 KiB change; size and (restored) mtime do not
    a.write_bytes(bytes(data))
    os.utime(a, ns=(before[1], before[1]))
    assert file_fingerprint(a)[:2] == before[:2] and file_fingerprint(a)[2] != before[2]
    assert file_fingerprint(tmp_path / "missing.wav") == (-1, 0, "")


def test_another_index_is_refused_and_the_store_left_as_it_was(tmp_path):
    first = tone_index(tmp_path / "a", seconds=3.0)
    other = tone_index(tmp_path / "b", seconds=3.0)  # the same track ids, other files
    store = extract(first, TINY, tmp_path / "s", progress=False).store.path
    before = store_bytes(store)
    with pytest.raises(ConfigError, match=r"another index \(dataset .* under .*--force"):
        extract(other, TINY, store, progress=False)
    fewer = first.subset(first.tracks["track_id"][:2])  # 6 tracks would become 2
    with pytest.raises(ConfigError, match="4 of its 6 tracks are not in this index.*--force"):
        extract(fewer, TINY, store, progress=False)
    assert store_bytes(store) == before, "a refused run changes nothing"
    # a study's own store follows its index, still reusing only what matches
    shrunk = extract(fewer, TINY, store, progress=False, allow_other_index=True)
    assert (shrunk.reused, shrunk.computed, shrunk.store.manifest["n_tracks"]) == (2, 0, 2)
    moved = extract(other, TINY, store, progress=False, allow_other_index=True)
    assert (moved.reused, moved.computed) == (0, 6), "other files: nothing reused by id"
    rebuilt = extract(other, TINY, store, progress=False, force=True)
    assert rebuilt.computed == 6
    assert store_bytes(store) == store_bytes(
        extract(other, TINY, tmp_path / "fresh", progress=False).store.path
    )


def test_a_superset_of_the_same_root_extends_the_store(tmp_path, counted):
    index = tone_index(tmp_path / "a", seconds=3.0)
    extract(index.subset(index.tracks["track_id"][:4]), TINY, tmp_path / "s", progress=False)
    counted.clear()
    grown = extract(index, TINY, tmp_path / "s", progress=False)
    assert (grown.reused, grown.computed) == (4, 2) and counted == [
        "country.00000",
        "country.00001",
    ]
    assert store_bytes(tmp_path / "s") == store_bytes(
        extract(index, TINY, tmp_path / "fresh", progress=False).store.path
    )


def test_a_changed_file_or_path_is_recomputed_not_reused(tmp_path, counted):
    index = tone_index(tmp_path / "a", seconds=3.0)
    extract(index, TINY, tmp_path / "s", progress=False)
    counted.clear()
    # same path, other content (same size: a WAV of the same length)
    write_tone(Path(index.tracks["path"][1]), 3.0, seed=99)
    # same id, another file of the same root
    moved = tmp_path / "a" / "genres" / "country" / "country.moved.wav"
    shutil.copy(index.tracks["path"][0], moved)
    tracks = index.tracks.copy()
    tracks.loc[tracks["track_id"] == "country.00001", "path"] = str(moved)
    changed = TrackIndex(tracks, index.classes, dataset=index.dataset, root=index.root)
    report = extract(changed, TINY, tmp_path / "s", progress=False)
    assert sorted(counted) == ["blues.00001", "country.00001"]
    assert (report.reused, report.computed, report.changed) == (4, 2, 2)
    mel = report.store.array("mel")
    rows = report.store.index.groupby("track_id")["row"].min()
    assert np.array_equal(mel[int(rows["country.00001"])], mel[int(rows["blues.00000"])])
    assert store_bytes(tmp_path / "s") == store_bytes(
        extract(changed, TINY, tmp_path / "fresh", progress=False).store.path
    )


def test_resume_does_not_reuse_a_track_whose_file_changed_meanwhile(tmp_path, monkeypatch):
    index = tone_index(tmp_path / "a", seconds=3.0)
    real, calls = extract_mod.process_track, []

    def dies_on_fourth(*args):
        calls.append(args[0])
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(extract_mod, "process_track", dies_on_fourth)
    with pytest.raises(MusiclassError, match="interrupted: 3 of 6"):
        extract(index, TINY, tmp_path / "s", progress=False)
    monkeypatch.setattr(extract_mod, "process_track", real)
    write_tone(Path(index.tracks["path"][0]), 3.0, seed=42)  # a finished track's file changes
    resumed = extract(index, TINY, tmp_path / "s", progress=False)
    assert (resumed.reused, resumed.computed, resumed.changed) == (2, 4, 1)
    assert store_bytes(tmp_path / "s") == store_bytes(
        extract(index, TINY, tmp_path / "fresh", progress=False).store.path
    )


def _make_old(store: Path) -> None:
    """What musiclass wrote before fingerprints: no fingerprints.csv, no root, failures without kind."""
    (store / FINGERPRINTS).unlink()
    manifest = json.loads((store / "manifest.json").read_text())
    manifest.pop("root", None)
    (store / "manifest.json").write_text(json.dumps(manifest))
    failures = pd.read_csv(store / "failures.csv", dtype=str, keep_default_na=False)
    failures.drop(columns=["kind"], errors="ignore").to_csv(store / "failures.csv", index=False)


def test_an_older_store_is_adopted_for_its_own_index_and_refused_for_another(tmp_path, counted):
    index = tone_index(tmp_path / "a", seconds=3.0)
    part = index.subset(index.tracks["track_id"][:4])
    store = extract(part, TINY, tmp_path / "s", progress=False).store.path
    prints = (store / FINGERPRINTS).read_bytes()
    _make_old(store)
    counted.clear()
    again = extract(part, TINY, store, progress=False)
    assert again.up_to_date and counted == []
    assert (store / FINGERPRINTS).read_bytes() == prints, "fingerprints recorded on first use"
    _make_old(store)
    with pytest.raises(
        ConfigError, match="older musiclass that recorded no track fingerprints.*--force"
    ):
        extract(index, TINY, store, progress=False)


def test_run_reuses_a_given_store_of_the_same_config(tmp_path, counted):
    root = tmp_path / "gtzan"
    tone_index(root, seconds=3.0)
    frontend = dict(
        preset="default",
        n_mels=32,
        frame_seconds=1.0,
        hop_seconds=0.5,
        representations=["mel"],
        handcrafted=False,
    )
    config = tmp_path / "study.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "task": "genre",
                "experiment": "reuse",
                "data": {"dataset": "gtzan", "root": str(root)},
                "frontend": frontend,
                "splits": ["song"],
                "runs": [{"name": "cnn", "model": "cnn-3", "representation": "mel"}],
            }
        )
    )
    mine = extract(
        index_gtzan(root, tmp_path / "index", check="header", progress=False),
        frontend_from_mapping(frontend, task="genre"),
        tmp_path / "mine",
        progress=False,
    ).store.path
    counted.clear()
    lines = []
    store, _ = prepare(
        config,
        tmp_path / "run",
        jobs=1,
        progress=False,
        echo=lines.append,
        reuse=[tmp_path / "no-store", mine],
    )
    assert counted == [], "nothing extracted again"
    assert any(f"reusing the feature store {mine.resolve()}" in line for line in lines)
    assert store.path.is_symlink() and store.path.resolve() == mine.resolve()
    assert store.manifest["n_tracks"] == 6
