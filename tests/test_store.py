"""Feature store: complete, memory-mappable, identical across --jobs, resumable, failure-tolerant."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from musiclass import audio
from musiclass.config import frontend_preset
from musiclass.errors import ConfigError, MusiclassError
from musiclass.features import extract as extract_mod
from musiclass.features.extract import extract
from musiclass.features.frontend import Frontend
from musiclass.features.handcrafted import DESCRIPTOR_NAMES
from musiclass.features.store import FeatureStore

from .conftest import tone_index, write_tone

SMALL = dict(representations=("mel", "mfcc"))


def store_bytes(path: Path) -> dict[str, bytes]:
    """Every file of a store, by relative path."""
    return {
        str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()
    }


def test_store_is_complete_and_matches_the_frontend(tones, tmp_path):
    cfg = frontend_preset("genre", "default")
    report = extract(tones, cfg, tmp_path / "store", jobs=1, progress=False)
    store = report.store
    assert report.computed == len(tones) == 6 and report.failed == 0
    m = store.manifest
    assert m["n_tracks"] == 6 and m["n_rows"] == 6 * 19 and m["config_hash"] == cfg.hash()
    mel = store.array("mel")
    assert mel.shape == (114, 128, 130) and mel.dtype == np.float32 and len(mel) == 114
    assert isinstance(mel.chunk(0), np.memmap), "chunks are memory-mapped"
    np.testing.assert_array_equal(mel[3:5], np.asarray(mel)[3:5])
    np.testing.assert_array_equal(mel[[100, 2, 100]], np.stack([mel[100], mel[2], mel[100]]))
    np.testing.assert_array_equal(mel[-1], mel[113])
    with pytest.raises(IndexError):
        mel[[114]]
    assert store.array("spectrogram").shape == (114, 513, 130)
    idx = store.index
    assert list(idx["row"]) == list(range(114))
    assert idx.groupby("track_id")["frame"].apply(list).map(lambda f: f == list(range(19))).all()
    # row content = the frontend applied to that track
    track = tones.tracks.iloc[4]
    y, _ = audio.load(track["path"], sr=cfg.sample_rate)
    want = Frontend(cfg).compute(y).arrays
    rows = idx.index[idx["track_id"] == track["track_id"]].to_numpy()
    for rep in cfg.representations:
        np.testing.assert_array_equal(store.array(rep)[rows], want[rep])
    hc = store.handcrafted()
    assert list(hc.columns) == ["track_id", "label", *DESCRIPTOR_NAMES] and len(hc) == 6
    assert store.label_matrix().sum(axis=1).tolist() == [1] * 114
    assert store.tracks().classes == tones.classes
    chunks = tmp_path / "store" / "chunks"
    assert sorted(p.name for p in chunks.iterdir()) == ["mel", "meta", "mfcc", "spectrogram"]
    assert np.load(chunks / "mel" / "blues.00001.npy").shape == (19, 128, 130), (
        "chunks are plain .npy files"
    )
    assert not [p for p in (tmp_path / "store").rglob("*") if ".tmp" in p.name], (
        "no temporary files left behind"
    )
    assert not (tmp_path / "store" / "extracting.json").exists()


@pytest.mark.slow
def test_two_jobs_write_the_same_bytes_as_one(tones, tmp_path):
    cfg = frontend_preset("genre", "seed")
    one = extract(tones, cfg, tmp_path / "one", jobs=1, progress=False).store.path
    two = extract(tones, cfg, tmp_path / "two", jobs=2, progress=False).store.path
    a, b = store_bytes(one), store_bytes(two)
    assert a.keys() == b.keys() and len(a) >= 7
    for name in a:
        assert a[name] == b[name], name


def test_interrupted_run_resumes_without_recomputing(tones, tmp_path, monkeypatch):
    cfg = frontend_preset("genre", "default", **SMALL)
    clean = store_bytes(extract(tones, cfg, tmp_path / "clean", progress=False).store.path)

    real = extract_mod.process_track
    calls = []

    def dies_on_fourth(*args):
        calls.append(args[0])
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(extract_mod, "process_track", dies_on_fourth)
    with pytest.raises(MusiclassError, match="interrupted: 3 of 6 tracks are saved"):
        extract(tones, cfg, tmp_path / "resumed", progress=False)
    assert not (tmp_path / "resumed" / "manifest.json").exists(), (
        "an interrupted store must not look complete"
    )
    monkeypatch.setattr(extract_mod, "process_track", real)
    report = extract(tones, cfg, tmp_path / "resumed", progress=False)
    assert (report.reused, report.computed) == (3, 3)
    assert [p.name for p in (tmp_path / "resumed").rglob("*") if ".tmp" in p.name] == []
    assert store_bytes(report.store.path) == clean


@pytest.mark.slow
def test_sigkill_mid_run_then_restart_gives_identical_store(tmp_path):
    index = tone_index(tmp_path / "audio", per_genre=5)  # 15 tracks
    index.save(tmp_path / "index")
    cmd = [
        sys.executable,
        "-m",
        "musiclass.cli",
        "extract",
        str(tmp_path / "index"),
        "--jobs",
        "1",
        "-q",
        "--set",
        "representations=[mel]",
    ]
    clean = subprocess.run(cmd + ["--out", str(tmp_path / "clean")], capture_output=True, text=True)
    assert clean.returncode == 0, clean.stderr
    proc = subprocess.Popen(cmd + ["--out", str(tmp_path / "killed")])
    parts = tmp_path / "killed"
    deadline = time.time() + 60
    while time.time() < deadline and len(list(parts.glob("chunks/meta/*.npy"))) < 4:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    saved = len(list(parts.glob("chunks/meta/*.npy")))
    assert 4 <= saved < 15 and not (parts / "manifest.json").exists()
    again = subprocess.run(cmd + ["--out", str(parts)], capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert f"reused {saved} from an earlier run" in again.stdout
    assert store_bytes(parts) == store_bytes(tmp_path / "clean"), "identical files, no leftovers"


def test_bad_files_are_reported_and_the_run_carries_on(tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "corrupt.wav").write_bytes(os.urandom(4096))
    sf.write(bad / "silent.wav", np.zeros(22050 * 5, np.float32), 22050)
    write_tone(bad / "short.wav", 0.4)
    (bad / "empty.wav").write_bytes(b"")
    extra = {p.stem: p for p in sorted(bad.iterdir())} | {"gone": bad / "gone.wav"}
    index = tone_index(tmp_path / "audio", extra=extra)
    report = extract(
        index, frontend_preset("genre", "default", **SMALL), tmp_path / "store", progress=False
    )
    assert report.failed == 5 and report.store.manifest["n_tracks"] == 6
    reasons = dict(zip(report.failures["track_id"], report.failures["reason"]))
    assert "cannot decode" in reasons["corrupt"] or "cannot read" in reasons["corrupt"]
    assert "silent" in reasons["silent"]
    assert "too short" in reasons["short"]
    assert "empty file" in reasons["empty"]
    assert "not found" in reasons["gone"]
    on_disk = pd.read_csv(tmp_path / "store" / "failures.csv")
    assert set(on_disk["track_id"]) == set(reasons)
    assert "5 track(s) failed" in report.summary() and str(bad / "silent.wav") in report.summary()


def test_same_config_is_skipped_and_another_needs_force(tones, tmp_path):
    cfg = frontend_preset("genre", "default", **SMALL)
    extract(tones, cfg, tmp_path / "s", progress=False)
    again = extract(tones, cfg, tmp_path / "s", progress=False)
    assert again.up_to_date and "up to date" in again.summary()
    other = cfg.replace(n_mels=64)
    with pytest.raises(ConfigError, match="another config"):
        extract(tones, other, tmp_path / "s", progress=False)
    rebuilt = extract(tones, other, tmp_path / "s", progress=False, force=True)
    assert rebuilt.store.array("mel").shape[1] == 64 and rebuilt.computed == 6
    assert np.load(tmp_path / "s" / "chunks" / "mel" / "blues.00000.npy").shape[1] == 64


def test_changed_track_list_reuses_finished_tracks(tones, tmp_path):
    cfg = frontend_preset("genre", "default", **SMALL)
    extract(tones.subset(tones.tracks["track_id"][:4]), cfg, tmp_path / "s", progress=False)
    grown = extract(tones, cfg, tmp_path / "s", progress=False)
    assert (grown.reused, grown.computed) == (4, 2)
    fewer = tones.subset(tones.tracks["track_id"][:3])
    with pytest.raises(ConfigError, match="another index .*3 of its 6 tracks.*--force"):
        extract(fewer, cfg, tmp_path / "s", progress=False)  # never drops tracks in silence
    shrunk = extract(fewer, cfg, tmp_path / "s", progress=False, force=True)
    assert shrunk.store.manifest["n_tracks"] == 3
    assert len(list((tmp_path / "s" / "chunks" / "mel").iterdir())) == 3, (
        "chunks of dropped tracks are removed"
    )


def test_unfinished_store_of_another_config_is_not_mixed(tones, tmp_path, monkeypatch):
    cfg = frontend_preset("genre", "default", **SMALL)
    real = extract_mod.process_track

    def dies(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(extract_mod, "process_track", dies)
    with pytest.raises(MusiclassError, match="interrupted"):
        extract(tones, cfg, tmp_path / "s", progress=False)
    monkeypatch.setattr(extract_mod, "process_track", real)
    with pytest.raises(ConfigError, match="unfinished extraction with another config"):
        extract(tones, cfg.replace(n_mfcc=13), tmp_path / "s", progress=False)


def test_incomplete_store_is_refused_by_the_reader(tmp_path):
    with pytest.raises(MusiclassError, match="not a complete feature store"):
        FeatureStore(tmp_path)


def test_mood_store_at_12_khz_computes_descriptors_at_22_khz(tmp_path):
    from musiclass.features.handcrafted import descriptors

    path = write_tone(tmp_path / "a" / "1.wav", 75.0, sr=44100, seed=3)
    tracks = pd.DataFrame(
        {
            "track_id": ["t1"],
            "path": [str(path)],
            "label": ["calm|soft"],
            "duration": [75.0],
            "artist": [""],
        }
    )
    from musiclass.datasets.base import TrackIndex

    index = TrackIndex(tracks, ("calm", "soft"), multilabel=True)
    report = extract(index, frontend_preset("mood", "default"), tmp_path / "s", progress=False)
    assert report.failed == 0, report.summary()
    store = report.store
    assert store.array("mel").shape == (1, 96, 341) and store.index["start"].iloc[
        0
    ] == pytest.approx(20.0)
    y22, sr = audio.load(path, sr=22050)
    np.testing.assert_allclose(
        store.handcrafted().iloc[0, 2:].to_numpy(float), descriptors(y22, sr), rtol=1e-6
    )
    y12, _ = audio.load(path, sr=12000)
    np.testing.assert_array_equal(
        store.array("mel")[0], Frontend(store.config).compute(y12).arrays["mel"][0]
    )
    with pytest.raises(ValueError, match="12,800"):
        descriptors(y12, 12000)
