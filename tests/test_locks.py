"""One writer per folder (:mod:`musiclass.locks`): a second writer is refused, naming the holder.

Real processes: the holder is this test process (or a child that holds the lock and waits), the
second writer another process, so the lock is exercised as two users would meet it. Each refused
writer must leave every file of the folder as it was. A lock left by a killed process is taken
over; a finished writer leaves no lock file behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from musiclass import locks, splits
from musiclass.demo import run_demo
from musiclass.features.extract import extract
from musiclass.layout import LOCK_FILE, ModelDir, SplitFolder, study_config
from musiclass.pipeline import make_splits
from musiclass.study import prepare, run_study

from .conftest import tone_index
from .test_crash_safety import TINY  # the tiny frontend the crash tests use

SRC = Path(__file__).resolve().parents[1] / "src"
TIMEOUT = 300


def environment() -> dict[str, str]:
    path = os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return {**os.environ, "PYTHONPATH": path}


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too), by relative path, with its bytes."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@contextlib.contextmanager
def held_by_another_process(folder: Path):
    """A child process takes ``folder``'s lock and holds it until the block ends; yields its pid."""
    code = textwrap.dedent(
        f"""
        import sys
        from musiclass import locks
        with locks.locked({str(folder)!r}):
            print("held", flush=True)
            sys.stdin.read()
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=environment(),
    )
    try:
        assert child.stdout.readline().strip() == "held"
        yield child.pid
    finally:
        child.stdin.close()
        child.wait(timeout=TIMEOUT)


@pytest.fixture(scope="module")
def tones(tmp_path_factory):
    root = tmp_path_factory.mktemp("lock_tones")
    return tone_index(root / "tones", genres=("blues", "classical"), per_genre=3, seconds=2.0)


@pytest.fixture
def store(tones, tmp_path):
    fs = extract(tones, TINY, tmp_path / "store", jobs=1, progress=False).store
    splits.save(
        splits.song_split(fs.tracks(), (0.34, 0.33, 0.33), seed=0),
        SplitFolder(fs.path).split("song"),
    )
    return fs


# ------------------------------------------------------------------------------ the lock itself
def test_the_lock_names_its_holder_and_leaves_nothing_behind(tmp_path):
    folder = tmp_path / "new" / "store"
    with locks.locked(folder) as path:
        assert path == folder / LOCK_FILE
        record = json.loads(path.read_text())
        assert (record["pid"], record["host"]) == (os.getpid(), socket.gethostname())
        assert record["since"][:4].isdigit() and "T" in record["since"]
        with locks.locked(folder):  # re-entered by its holder (a study training into its folder)
            pass
        assert path.is_file()  # still held after the inner block
    # the folder was created for the lock and left empty: removed, with the parent it created
    assert not folder.exists() and not (tmp_path / "new").exists()
    folder.mkdir(parents=True)
    (folder / "kept.txt").write_text("x")
    with locks.locked(folder):
        pass
    assert sorted(p.name for p in folder.iterdir()) == ["kept.txt"]


def test_a_second_process_is_refused_with_one_line_naming_the_holder(tmp_path):
    folder = tmp_path / "store"
    with locks.locked(folder):
        code = f"from musiclass import locks\nwith locks.locked({str(folder)!r}): pass"
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env=environment(),
            timeout=TIMEOUT,
        )
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"musiclass.locks.LockedError: {folder}: being written by another ")
    assert f"(pid {os.getpid()} on {socket.gethostname()}, since " in last
    assert last.endswith("wait for it to end, or write elsewhere")


def test_another_thread_of_the_holder_is_refused_too(tmp_path):
    import threading

    folder, caught = tmp_path / "store", []

    def second():
        try:
            with locks.locked(folder):
                pass
        except locks.LockedError as exc:
            caught.append(str(exc))

    with locks.locked(folder):
        t = threading.Thread(target=second)
        t.start()
        t.join()
    assert len(caught) == 1 and "another thread of this process" in caught[0]


def test_a_lock_left_by_a_killed_process_is_taken_over(tmp_path, caplog):
    """SIGKILL runs no ``finally``: the lock file stays with the dead pid in it, but the kernel
    released the flock, so the next writer takes over (with a note) and cleans up after itself."""
    folder = tmp_path / "store"
    code = (
        "import os, signal\nfrom musiclass import locks\n"
        f"with locks.locked({str(folder)!r}):\n    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], env=environment())
    assert child.wait(timeout=TIMEOUT) == -signal.SIGKILL
    stale = json.loads((folder / LOCK_FILE).read_text())
    assert stale["pid"] == child.pid
    with caplog.at_level("WARNING", logger="musiclass.locks"):
        with locks.locked(folder) as path:
            assert json.loads(path.read_text())["pid"] == os.getpid()
    assert f"took over the lock left by pid {stale['pid']}" in caplog.text
    assert not (folder / LOCK_FILE).exists()


def test_contending_processes_never_hold_the_lock_together(tmp_path):
    """Three processes take and release one folder's lock 40 times each, as fast as they can:
    the log each appends to inside the lock never shows two holders at once. (Each release
    unlinks the file, so a process that opened the old file must notice and open the new one.)"""
    folder, journal = tmp_path / "store", tmp_path / "journal.txt"
    code = textwrap.dedent(
        f"""
        import os, time
        from musiclass import locks
        got = 0
        for _ in range(400):
            try:
                with locks.locked({str(folder)!r}):
                    with open({str(journal)!r}, "a") as f:
                        f.write(f"{{os.getpid()}} in\\n")
                        f.flush()
                        time.sleep(0.002)
                        f.write(f"{{os.getpid()}} out\\n")
                got += 1
            except locks.LockedError:
                time.sleep(0.001)
            if got == 40:
                break
        print(got)
        """
    )
    children = [
        subprocess.Popen(
            [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=environment()
        )
        for _ in range(3)
    ]
    got = [int(c.communicate(timeout=TIMEOUT)[0]) for c in children]
    lines = journal.read_text().splitlines()
    assert len(lines) == 2 * sum(got) and sum(got) > 0
    for enter, leave in zip(lines[::2], lines[1::2]):
        pid = enter.split()[0]
        assert (enter, leave) == (f"{pid} in", f"{pid} out")
    assert not folder.exists() or not (folder / LOCK_FILE).exists()


# ------------------------------------------------------------------------------ every writer
REFUSED = r"""
import contextlib, io, json, sys
from musiclass.cli import main

out = []
for argv in json.loads(sys.argv[1]):
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        rc = main(argv)
    out.append({"rc": rc, "stderr": err.getvalue()})
print(json.dumps(out))
"""


def assert_refused_by_this_process(result: dict, target: Path) -> None:
    """A command of ``REFUSED`` exited 1 with the one line that names ``target`` and this process."""
    assert result["rc"] == 1, result
    assert result["stderr"].count("\n") == 1 and "Traceback" not in result["stderr"]
    assert result["stderr"].startswith(
        f"error: {target}: being written by another musiclass process "
        f"(pid {os.getpid()} on {socket.gethostname()}, since "
    ), result


def test_every_writer_command_is_refused_and_changes_nothing(store, tones, tmp_path):
    """The issue's reproductions: a second ``extract`` (of another index) into a store being
    written, and a second ``train`` into a model directory being trained (which used to leave
    ``history.csv`` with 12 rows for 8 epochs); and ``split``, ``run``, ``demo`` into their
    folders. This process holds every lock; the commands run in another process, each is refused
    with one line naming this process, exits 1, and every file stays as it was."""
    other = tmp_path / "other-index"
    tone_index(tmp_path / "other", genres=("blues", "country"), per_genre=2, seconds=2.0).save(
        other
    )
    model = ModelDir(tmp_path / "model")
    model.path.mkdir()
    pd.DataFrame({"epoch": range(8), "loss": [1.0 / (e + 1) for e in range(8)]}).to_csv(
        model.history, index=False
    )
    model.train.write_text(json.dumps({"key": {"train": "abc"}}))
    study, run = tmp_path / "study", tmp_path / "run"
    for folder in (study, run):
        folder.mkdir()
        (folder / "results.csv").write_text("experiment,accuracy\nx,0.5\n")
    split_folder = SplitFolder(store.path).path
    commands = {
        store.path: ["extract", str(other), "--out", str(store.path), "-q"],
        model.path: ["train", str(store.path), "--split", "song", "--out", str(model.path), "-q"],
        split_folder: ["split", str(store.path), "--method", "song"],
        study: ["run", str(study_config()), "--out", str(study), "-q"],
        run: ["demo", "--out", str(run), "-q"],
    }
    with contextlib.ExitStack() as stack:
        for folder in commands:
            stack.enter_context(locks.locked(folder))
        before = {folder: snapshot(folder) for folder in commands}  # our lock files included
        done = subprocess.run(
            [sys.executable, "-c", REFUSED, json.dumps(list(commands.values()))],
            capture_output=True,
            text=True,
            env=environment(),
            timeout=TIMEOUT,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        results = json.loads(done.stdout.strip().splitlines()[-1])
        for folder, result in zip(commands, results):
            assert_refused_by_this_process(result, folder)
            assert snapshot(folder) == before[folder], folder
    # the holder is done: the same extraction proceeds, and no lock file is left anywhere
    from musiclass.datasets.base import TrackIndex

    # (another index into an existing store needs force: the store's reuse check, not the lock)
    report = extract(TrackIndex.load(other), TINY, store.path, jobs=1, progress=False, force=True)
    assert report.n_tracks == 4 and report.failed == 0
    assert not [p for p in tmp_path.rglob(LOCK_FILE)]


def test_library_writers_are_refused_while_another_process_writes(store, tones, tmp_path):
    """The lock is taken in the library functions, so a notebook gets it as the CLI does."""
    before = snapshot(store.path)
    with held_by_another_process(store.path) as pid:
        with pytest.raises(locks.LockedError, match=f"pid {pid} on "):
            extract(tones, TINY, store.path, jobs=1, progress=False, force=True)
    assert snapshot(store.path) == before
    with held_by_another_process(SplitFolder(store.path).path) as pid:
        with pytest.raises(locks.LockedError, match=f"pid {pid} on "):
            make_splits(store, ("song", "seed-frame"), seed=1)
    assert snapshot(store.path) == before
    study = tmp_path / "study"
    with held_by_another_process(study) as pid:
        with pytest.raises(locks.LockedError, match=f"pid {pid} on "):
            run_study(study_config(), study, profile="tiny")
        with pytest.raises(locks.LockedError, match=f"pid {pid} on "):
            prepare(study_config(), study)
    with held_by_another_process(tmp_path / "run") as pid:
        with pytest.raises(locks.LockedError, match=f"pid {pid} on "):
            run_demo(tmp_path / "run", profile="tiny", notebooks=False, report=False)
    assert not study.exists() and not (tmp_path / "run").exists()


def test_index_synth_classical_and_predict_out_are_refused_and_change_nothing(tones, tmp_path):
    """The other writers: ``index`` (its index folder), ``synth`` (its data folder),
    ``classical --out`` (its results folder), ``import-keras`` (its model directory) and
    ``predict --out`` (its one file: the lock lies beside the file, so another file of the same
    folder is not refused). Each is refused before
    any work, with one line naming this process, exits 1, and every file stays as it was."""
    index_dir, data, results = tmp_path / "index", tmp_path / "data", tmp_path / "classical"
    imported = tmp_path / "imported"
    predictions = tmp_path / "out" / "predictions.csv"
    for folder in (index_dir, data, results, imported, predictions.parent):
        folder.mkdir()
        (folder / "kept.csv").write_text("a\n1\n")
    predictions.write_text("path,label\nx.wav,blues\n")
    gtzan_root = Path(tones.root) / "genres"
    wav = tones.tracks["path"].iloc[0]
    commands = {
        index_dir: ["index", "gtzan", str(gtzan_root), "--out", str(index_dir), "-q"],
        data: ["synth", "--out", str(data), "--only", "gtzan", "--clips-per-genre", "1", "-q"],
        results: ["classical", str(tmp_path / "features.csv"), "--out", str(results), "-q"],
        imported: ["import-keras", str(tmp_path / "cnn.h5"), "--out", str(imported)],
        predictions: ["predict", str(tmp_path / "model"), wav, "--out", str(predictions), "-q"],
    }
    other_file = [
        "predict",
        str(tmp_path / "model"),
        wav,
        "--out",
        str(predictions.parent / "b.csv"),
    ]
    with contextlib.ExitStack() as stack:
        for target in commands:
            hold = locks.locked_file if target == predictions else locks.locked
            stack.enter_context(hold(target))
        folders = [t if t != predictions else t.parent for t in commands]
        before = {folder: snapshot(folder) for folder in folders}  # our lock files included
        done = subprocess.run(
            [sys.executable, "-c", REFUSED, json.dumps([*commands.values(), other_file])],
            capture_output=True,
            text=True,
            env=environment(),
            timeout=TIMEOUT,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        *results_, other = json.loads(done.stdout.strip().splitlines()[-1])
        for target, folder, result in zip(commands, folders, results_):
            assert_refused_by_this_process(result, target)
            assert snapshot(folder) == before[folder], folder
        # another file of the locked file's folder: not refused by the lock (no model there)
        assert other["rc"] == 1 and "being written" not in other["stderr"], other
    # the holder is done: the same index proceeds, and no lock file is left anywhere
    from musiclass.pipeline import index_gtzan

    assert len(index_gtzan(gtzan_root, index_dir, check="none", progress=False)) == len(tones)
    assert not [p for p in tmp_path.rglob(f"*{LOCK_FILE}")]
