"""Crash safety: a stage killed at any moment leaves complete files or none, and resumes.

Real kills (SIGKILL: no ``except``, no ``finally``, no atexit) of child processes, at moments
chosen to be the awkward ones: in the middle of an epoch (from outside, once ``history.csv``
shows two epochs), and inside the atomic writes themselves (the child cuts the finished temporary
file to half and kills itself before the rename) of the best model, the backup weights, the
backup state, the metrics, a feature chunk, the store manifest and a registry record. After every
kill: each visible file parses or loads, the reader refuses an incomplete store with a clear
error, and nothing finished is lost (a track's chunks, an epoch's backup). Then the same command
finishes the work, with the bytes an uninterrupted run gives.

The atomic writers themselves (:mod:`musiclass.utils`) are also tested in-process with a write
that fails half-way.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from musiclass import splits, utils
from musiclass.config import frontend_preset
from musiclass.errors import MetadataError
from musiclass.features.extract import extract
from musiclass.features.store import FeatureStore
from musiclass.registry import collect, read_registry
from musiclass.training import train, train_preset

from .conftest import tone_index

GENRES3 = ("blues", "classical", "country")
TINY = frontend_preset(
    "genre",
    "default",
    n_mels=32,
    frame_seconds=1.0,
    hop_seconds=0.5,
    representations=("mel",),
    handcrafted=False,
)
#: the child process: one stage, optionally armed to SIGKILL itself inside an atomic write
CHILD = r'''
import fnmatch
import json
import os
import signal
import sys
import time
from pathlib import Path


def arm(spec):
    """SIGKILL this process at the N-th atomic rename onto a file whose name matches GLOB
    (spec "GLOB:N"), after cutting the finished temporary file to half: a write caught mid-way."""
    pattern, n = spec.rsplit(":", 1)
    real, count = os.replace, [0]

    def replace(src, dst, *args, **kwargs):
        if fnmatch.fnmatch(Path(dst).name, pattern):
            count[0] += 1
            if count[0] == int(n):
                os.truncate(src, os.path.getsize(src) // 2)
                os.kill(os.getpid(), signal.SIGKILL)
        return real(src, dst, *args, **kwargs)

    os.replace = replace


if os.environ.get("KILL_AT"):
    arm(os.environ["KILL_AT"])
mode = sys.argv[1]
if mode == "train":
    import keras
    from musiclass.training import TrainConfig, train

    store, split, out, config, log = sys.argv[2:7]
    slow_from = int(os.environ.get("SLOW_FROM", "-1"))

    class Watch(keras.callbacks.Callback):
        """Logs the first epoch this session trains; slows batches down from ``slow_from`` on
        (sleeping changes no number), so that a kill from outside lands inside an epoch."""

        def __init__(self):
            super().__init__()
            self.epoch = None

        def on_epoch_begin(self, epoch, logs=None):
            if self.epoch is None:
                with open(log, "a") as f:
                    f.write(f"first {epoch}\n")
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if 0 <= slow_from <= self.epoch:
                time.sleep(0.5)

    with open(log, "a") as f:
        f.write("start\n")
    train(store, split, TrainConfig.from_dict(json.loads(config)), out, progress=False, n_boot=20,
          callbacks=[Watch()])
elif mode == "extract":
    from musiclass.config import FrontendConfig
    from musiclass.datasets.base import TrackIndex
    from musiclass.features.extract import extract

    index, out, config = sys.argv[2:5]
    extract(TrackIndex.load(index), FrontendConfig.from_dict(json.loads(config)), out, jobs=1, progress=False)
elif mode == "register":
    from musiclass import registry

    out, record, key = sys.argv[2:5]
    registry.register(Path(out), json.loads(record), key)
'''
TIMEOUT = 300


@pytest.fixture(scope="module")
def child(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("child") / "child.py"
    path.write_text(CHILD)
    return path


def run_child(child: Path, *args, kill_at: str | None = None, **env) -> subprocess.CompletedProcess:
    environment = {**os.environ, **{k: str(v) for k, v in env.items()}}
    environment.pop("KILL_AT", None)
    if kill_at:
        environment["KILL_AT"] = kill_at
    return subprocess.run(
        [sys.executable, str(child), *map(str, args)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def assert_killed(done: subprocess.CompletedProcess) -> None:
    """Killed by SIGKILL (not an exception: that would be a crash, exit status 1)."""
    assert done.returncode == -signal.SIGKILL, f"exit {done.returncode}: {done.stderr[-3000:]}"


def assert_finished(done: subprocess.CompletedProcess) -> None:
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-3000:]}"


def visible_files(folder: Path) -> list[Path]:
    return [p for p in sorted(folder.rglob("*")) if p.is_file() and not utils.is_temporary(p)]


@pytest.fixture(scope="module")
def tones(tmp_path_factory):
    """3 tone 'genres' x 4 clips of 4 s, and the index folder ``musiclass index`` would write."""
    root = tmp_path_factory.mktemp("crash_tones")
    index = tone_index(root / "tones", genres=GENRES3, per_genre=4, seconds=4.0)
    index.save(root / "index")
    return index


@pytest.fixture(scope="module")
def store(tones, tmp_path_factory):
    root = tmp_path_factory.mktemp("crash_store")
    fs = extract(tones, TINY, root / "store", jobs=1, progress=False).store
    splits.save(splits.song_split(fs.tracks(), (0.5, 0.25, 0.25), seed=0), root / "song.csv")
    return fs


# ------------------------------------------------------------------------------ the atomic writers
class HalfThenFull:
    """An ``open`` whose first write stores half the text, then fails like a full disk."""

    def __init__(self, path, mode="r", **kwargs):
        self.f = open(path, mode, **kwargs)

    def write(self, data):
        self.f.write(data[: len(data) // 2])
        self.f.flush()
        raise OSError(28, "No space left on device")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


def test_atomic_writers_leave_the_old_file_or_none_when_a_write_fails_half_way(
    tmp_path, monkeypatch
):
    """JSON, text, CSV and .npy written through the helpers: a write that fails half-way leaves
    the previous complete file (or no file), and no temporary file behind."""
    old = {"a.json": '{"old": true}\n', "b.txt": "old text\n", "c.csv": "x\n1\n"}
    for name, text in old.items():
        (tmp_path / name).write_text(text)
    monkeypatch.setattr(
        utils, "open", HalfThenFull, raising=False
    )  # shadows the builtin in utils only
    with pytest.raises(OSError, match="No space"):
        utils.write_json_atomic(tmp_path / "a.json", {"new": list(range(100))})
    with pytest.raises(OSError, match="No space"):
        utils.write_text_atomic(tmp_path / "b.txt", "new text " * 100)
    with pytest.raises(OSError, match="No space"):
        utils.write_json_atomic(tmp_path / "fresh.json", {"never": "complete"})
    monkeypatch.undo()

    real_to_csv = pd.DataFrame.to_csv

    def half_csv(self, path, **kwargs):
        text = real_to_csv(self, None, **kwargs)
        Path(path).write_text(text[: len(text) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", half_csv)
    with pytest.raises(OSError, match="No space"):
        utils.write_csv_atomic(pd.DataFrame({"x": range(1000)}), tmp_path / "c.csv")
    monkeypatch.undo()

    np.save(tmp_path / "d.npy", np.arange(3), allow_pickle=False)
    with pytest.raises(KeyboardInterrupt):
        with utils.atomic_path(tmp_path / "d.npy") as tmp:
            np.save(tmp, np.arange(10**5), allow_pickle=False)
            os.truncate(tmp, 1000)
            raise KeyboardInterrupt  # interrupted before the rename
    for name, text in old.items():
        assert (tmp_path / name).read_text() == text, name
    np.testing.assert_array_equal(np.load(tmp_path / "d.npy", allow_pickle=False), np.arange(3))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.txt", "c.csv", "d.npy"]


def test_a_registry_record_killed_mid_write_is_not_read(child, tmp_path):
    """A study's registry write killed inside its atomic write (SIGKILL: the temporary file
    stays) leaves the earlier record whole; the registry reader ignores the leftover, which it
    used to read as a record (``glob("*.json")`` matches hidden names) and fail on."""
    record = {
        "task": "genre",
        "experiment": "e",
        "model": "m",
        "protocol": "p",
        "split": "song",
        "accuracy": 0.5,
        "epochs": 3,
        "source": "models/x",
    }
    assert_finished(run_child(child, "register", tmp_path, json.dumps(record), "song"))
    newer = {**record, "accuracy": 0.75}
    assert_killed(
        run_child(child, "register", tmp_path, json.dumps(newer), "song", kill_at="*.json:1")
    )
    files = sorted((tmp_path / "registry").iterdir())
    assert (
        len(files) == 2 and sum(utils.is_temporary(p) for p in files) == 1
    )  # the record and the leftover
    table = read_registry(tmp_path)
    assert len(table) == 1 and table["accuracy"].tolist() == [0.5]
    assert collect(tmp_path)["accuracy"].tolist() == [0.5]
    assert (
        utils.remove_temporaries(tmp_path / "registry")
        and len(list((tmp_path / "registry").iterdir())) == 1
    )


# ------------------------------------------------------------------------------ feature stores
@pytest.mark.slow
@pytest.mark.parametrize(
    "kill_at, finished",
    [
        ("*.npy:5", 2),  # 3rd track's mel chunk
        ("manifest.json:1", 12),
    ],
)  # finalize: the last file
def test_extraction_killed_mid_chunk_or_in_finalize(
    child, tones, store, tmp_path, kill_at, finished
):
    """Killed while writing a chunk (tracks write a mel chunk, then the meta chunk that marks them
    done) or the manifest: every visible chunk is complete, the finished tracks are all kept,
    the reader refuses the store as incomplete, and running again resumes to the bytes of an
    uninterrupted extraction."""
    out = tmp_path / "store"
    index_dir = Path(tones.root).parent / "index"  # as the fixture saved it
    assert_killed(
        run_child(child, "extract", index_dir, out, json.dumps(TINY.to_dict()), kill_at=kill_at)
    )
    assert not (out / "manifest.json").exists()
    assert any(utils.is_temporary(p) for p in out.rglob("*")), "the kill left a temporary file"
    for p in visible_files(out / "chunks"):
        np.load(p, allow_pickle=False)  # complete: loads, with its full header and data
    assert len(list((out / "chunks" / "meta").glob("*.npy"))) == finished  # no finished track lost
    with pytest.raises(MetadataError, match="not a complete feature store"):
        FeatureStore(out)
    report = extract(tones, TINY, out, jobs=1, progress=False)
    assert (report.reused, report.computed) == (finished, len(tones) - finished)
    a = {
        p.relative_to(store.path).as_posix(): p.read_bytes()
        for p in store.path.rglob("*")
        if p.is_file()
    }
    b = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert a == b, sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))


# ------------------------------------------------------------------------------ training
def check_after_kill(out: Path, epochs: int) -> dict:
    """What must hold in a model directory whatever the moment of the kill: every visible JSON
    parses, CSVs parse and end in a whole line, ``model.keras`` loads in safe mode, the backup
    state names a complete weights file; history rows are epochs 0.. each once, at most one
    ahead of the backup (the epoch in flight, trained again on resume). Returns the backup's
    epoch (the epochs that must survive) and the history length."""
    import h5py
    import keras

    for p in visible_files(out):
        if p.suffix == ".json":
            json.loads(p.read_text(encoding="utf-8"))
        elif p.suffix == ".csv":
            assert p.read_bytes().endswith(b"\n"), f"{p.name}: a partial last line"
            pd.read_csv(p)
        elif p.suffix == ".keras":
            keras.saving.load_model(p, safe_mode=True)
        elif p.name.endswith(".weights.h5"):
            with h5py.File(p, "r") as f:
                assert len(f.keys()) > 0
    state_path = out / "backup" / "state.json"
    saved = 0
    if state_path.is_file():
        state = json.loads(state_path.read_text())
        saved = state["epoch"]
        assert (out / "backup" / state["weights"]).is_file()
    rows = 0
    if (out / "history.csv").is_file():
        history = pd.read_csv(out / "history.csv")
        rows = len(history)
        assert history["epoch"].tolist() == list(range(rows))
    assert rows - 1 <= saved <= rows <= epochs, (saved, rows)
    return {"saved": saved, "rows": rows}


def sessions(log: Path) -> list[int | None]:
    """Per child session, the first epoch it trained (None: it trained none)."""
    out: list[int | None] = []
    for line in log.read_text().splitlines():
        if line == "start":
            out.append(None)
        elif line.startswith("first ") and out[-1] is None:
            out[-1] = int(line.split()[1])
    return out


@pytest.mark.slow
def test_training_killed_again_and_again_resumes_to_the_uninterrupted_result(
    child, store, tmp_path
):
    """Five SIGKILLs of ``train``: inside the first best-model save, in the middle of an epoch
    (from outside, once history.csv has two epochs), inside a backup state save, inside a backup
    weights save, inside the metrics save. After each: complete files only, and nothing saved is
    lost (each session starts at the epoch the backup holds). The sixth session finishes with
    ``done.json``, a complete ``metrics.json``, history epochs 0..5 each once, and the weights,
    history and predictions of an uninterrupted run, bit for bit (``deterministic``)."""
    import keras

    epochs = 6
    split = store.path.parent / "song.csv"
    cfg = train_preset(
        "default",
        model="cnn-3",
        representation="mel",
        epochs=epochs,
        batch_size=16,
        early_stopping_patience=None,
        reduce_lr_patience=1,
        tensorboard=False,
        deterministic=True,
    )
    reference = train(store, split, cfg, tmp_path / "reference", progress=False, n_boot=20)
    out, log = tmp_path / "killed", tmp_path / "sessions.log"
    args = ("train", store.path, split, out, json.dumps(cfg.to_dict()), log)
    states = []

    assert_killed(run_child(child, *args, kill_at="model.keras:1"))
    states.append(check_after_kill(out, epochs))
    assert not (out / "model.keras").exists() and states[-1] == {"saved": 0, "rows": 0}

    proc = subprocess.Popen(
        [sys.executable, str(child), *map(str, args)],
        env={**os.environ, "SLOW_FROM": "2"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline and proc.poll() is None:
            history = out / "history.csv"
            if history.is_file() and history.read_bytes().count(b"\n") >= 3:  # header and 2 epochs
                break
            time.sleep(0.02)
        assert proc.poll() is None, (
            f"the run ended before it could be killed: {proc.stderr.read()[-3000:]}"
        )
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=TIMEOUT)
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    states.append(check_after_kill(out, epochs))
    assert states[-1]["saved"] >= 1

    for kill_at in ("state.json:1", "epoch-*.weights.h5:1", "metrics.json:1"):
        assert_killed(run_child(child, *args, kill_at=kill_at))
        states.append(check_after_kill(out, epochs))
    assert states[-1]["saved"] == epochs and (out / "predictions" / "test.csv").is_file()
    assert not (out / "metrics.json").exists() and not (out / "done.json").exists()

    assert_finished(run_child(child, *args))
    started = sessions(log)
    print(
        f"kills: 5; backup epoch / history rows after each: {states}; first epoch per session: {started}"
    )
    assert len(started) == 6
    # each session resumed at the epoch its predecessor had saved: no saved epoch was trained again
    assert started[1:] == [s["saved"] if s["saved"] < epochs else None for s in states]
    assert started[0] == 0 and started[-1] is None
    assert (out / "done.json").is_file() and not (out / "backup").exists()
    assert not [p for p in out.rglob("*") if utils.is_temporary(p)], "temporary files left behind"
    history = pd.read_csv(out / "history.csv")
    assert history["epoch"].tolist() == list(range(epochs))
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"validation", "test", "selected", "epochs_run", "frames", "parameters"} <= set(metrics)
    assert metrics["epochs_run"] == epochs
    expected = json.loads((reference.model_dir / "metrics.json").read_text())
    for m in (metrics, expected):
        m.pop("seconds")
    assert metrics == expected
    for name in (
        "history.csv",
        "model.best.json",
        "predictions/test.csv",
        "predictions/validation.csv",
    ):
        assert (out / name).read_bytes() == (reference.model_dir / name).read_bytes(), name
    a = keras.saving.load_model(out / "model.keras", safe_mode=True).get_weights()
    b = keras.saving.load_model(reference.model_dir / "model.keras", safe_mode=True).get_weights()
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
