"""A stopped parent leaves no process behind: SIGTERM and SIGKILL of ``extract -j 2``, SIGTERM of
``extract --cluster local:2``.

``musiclass extract`` runs in its own session (``start_new_session``), on a set where two tracks
finish and every other track never does (a gate, imported into every worker, holds them until
the process is killed): the signal always lands mid-run, however slow the machine. Then, within a
bounded wait (a limit, not a speed claim), no process of that session may remain: no worker, no
fork server, no resource tracker, no Dask nanny. SIGTERM (what a batch system's time limit sends)
exits 143 with the interrupted message. Resuming completes the store with the bytes of an uninterrupted extraction.

A pool worker SIGKILLed under one track (as the out-of-memory killer does) fails that track alone,
as a transient failure the next run retries.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from musiclass.features.extract import extract
from musiclass.layout import LOCK_FILE

from .conftest import tone_index
from .test_crash_safety import TINY
from .test_locks import environment, snapshot

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads the process table from /proc"
)

#: imported by the driver, the fork server (so every pool worker) and each Dask worker
GATE = '''
"""Tracks not named in MUSICLASS_TEST_FREE never finish: they wait until the process is killed."""
import os
import time

from musiclass.features import extract

_real = extract.process_track
_free = set(os.environ.get("MUSICLASS_TEST_FREE", "").split(","))


def _gated(track_id, *args):
    while track_id not in _free:
        time.sleep(0.05)
    return _real(track_id, *args)


extract.process_track = _gated
'''
CHILD = """
import sys

import musiclass_gate  # noqa: F401
from musiclass.features import worker

worker.PRELOAD.append("musiclass_gate")  # the fork server imports it: so does every worker

if __name__ == "__main__":
    from musiclass.cli import main

    sys.exit(main(sys.argv[1:]))
"""
FREE = ("blues.00000", "blues.00001")  # the two tracks that finish
LIMIT = 300  # seconds: a bound against a hang, never a speed requirement
SETS = [
    f"--set={k}={v}"
    for k, v in (
        ("n_mels", 32),
        ("frame_seconds", 1.0),
        ("hop_seconds", 0.5),
        ("representations", "[mel]"),
        ("handcrafted", "false"),
    )
]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """The gate and the child script, a 6-track index and its uninterrupted store."""
    root = tmp_path_factory.mktemp("signals")
    (root / "musiclass_gate.py").write_text(GATE)
    (root / "child.py").write_text(CHILD)
    index = tone_index(root / "tones", genres=("blues", "classical"), per_genre=3, seconds=2.0)
    index.save(root / "index")
    reference = extract(index, TINY, root / "reference", jobs=1, progress=False).store
    return root, index, reference


def session(sid: int) -> list[tuple[int, str]]:
    """The live (not zombie) processes of session ``sid``: pid and command line."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path("/proc", entry, "stat").read_text()
            command = Path("/proc", entry, "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:  # ended meanwhile
            continue
        fields = stat.rsplit(")", 1)[1].split()  # state, ppid, pgrp, session, ...
        if int(fields[3]) == sid and fields[0] != "Z":
            found.append((int(entry), command.decode(errors="replace")[:120]))
    return found


def wait_until(condition, limit: float = LIMIT, step: float = 0.1):
    """Poll ``condition`` until it is truthy or ``limit`` seconds pass; return its last value."""
    end = time.monotonic() + limit
    while True:
        value = condition()
        if value or time.monotonic() > end:
            return value
        time.sleep(step)


def start(root: Path, store: Path, runner: list[str], tmp_path: Path) -> subprocess.Popen:
    env = environment()
    env["PYTHONPATH"] = os.pathsep.join([str(root), env["PYTHONPATH"]])
    env["MUSICLASS_TEST_FREE"] = ",".join(FREE)
    env["DASK_DISTRIBUTED__WORKER__PRELOAD"] = '["musiclass_gate"]'
    # files, not pipes: a leftover process holding a pipe would hang the test instead of failing it
    return subprocess.Popen(
        [
            sys.executable,
            str(root / "child.py"),
            "extract",
            str(root / "index"),
            "--out",
            str(store),
        ]
        + ["-q", *SETS, *runner],
        env=env,
        start_new_session=True,
        stdout=open(tmp_path / "stdout.txt", "w"),
        stderr=open(tmp_path / "stderr.txt", "w"),
    )


#: (Ctrl-C of the pool, ``(["-j", "2"], signal.SIGINT, True)``, and SIGKILL of the Dask driver,
#: whose workers distributed itself ends when their nanny's process is gone, pass too; they are
#: left out to keep the suite's CPU time down.)
CASES = [
    pytest.param(["-j", "2"], signal.SIGTERM, False, id="pool-sigterm"),
    pytest.param(["-j", "2"], signal.SIGKILL, False, id="pool-sigkill"),
    pytest.param(["--cluster", "local:2"], signal.SIGTERM, False, id="dask-sigterm"),
]


@pytest.mark.slow
@pytest.mark.parametrize("runner, signum, to_group", CASES)
def test_a_stopped_extraction_leaves_no_process_and_resumes(
    setup, tmp_path, runner, signum, to_group
):
    if "--cluster" in runner:
        pytest.importorskip("distributed")
    root, index, reference = setup
    store = tmp_path / "store"
    child = start(root, store, runner, tmp_path)
    meta = store / "chunks" / "meta"
    try:
        started = wait_until(
            lambda: (
                child.poll() is not None
                or (meta.is_dir() and len(list(meta.glob("*.npy"))) == len(FREE))
            )
        )
        assert child.poll() is None, (tmp_path / "stderr.txt").read_text()[-3000:]
        assert started
        helpers = [p for p in session(child.pid) if p[0] != child.pid]
        # the workers (and with the pool, the fork server and the resource tracker) are running
        assert len(helpers) >= 3, helpers
        if to_group:
            os.killpg(child.pid, signum)  # Ctrl-C in a terminal: the whole foreground group
        else:
            os.kill(child.pid, signum)  # the parent only, as `kill PID` or a batch system does
        status = child.wait(timeout=LIMIT)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    stderr = (tmp_path / "stderr.txt").read_text()
    if signum == signal.SIGKILL:
        assert status == -signal.SIGKILL
    else:
        assert status == 128 + signum, stderr[-3000:]
        assert "error: interrupted: " in stderr and "run the same command again" in stderr
        assert "Traceback" not in stderr, stderr[-3000:]
    left = wait_until(lambda: not session(child.pid), limit=30, step=0.2)
    assert left, f"left behind: {session(child.pid)}"
    # resumed (in this process, ungated): the finished tracks are kept, the rest computed, and the
    # store has an uninterrupted run's bytes (the killed writer's lock file is taken over)
    report = extract(index, TINY, store, jobs=1, progress=False)
    assert report.reused >= len(FREE) and report.reused + report.computed == len(index)
    assert not (store / LOCK_FILE).exists()
    assert snapshot(store) == snapshot(reference.path)


SIGTERM_IN_A_LIBRARY = """
import os, signal, sys, time
from musiclass import interrupts

try:
    with interrupts.sigterm_interrupts(resend={resend}):
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(60)
        finally:
            print("workers stopped", flush=True)  # the cleanup a run does on its way out
except KeyboardInterrupt as exc:
    print("caught", interrupts.signal_of(exc), flush=True)
    sys.exit(128 + interrupts.signal_of(exc))
"""


@pytest.mark.parametrize("resend, status", [(True, -signal.SIGTERM), (False, 143)])
def test_sigterm_unwinds_then_still_ends_a_library_caller(resend, status):
    """Under ``sigterm_interrupts`` a SIGTERM unwinds the block (its ``finally`` runs); then the
    process still dies by SIGTERM (a library caller's ``except`` cannot swallow it), unless, as
    on the command line, the caller turns it into exit status 143 itself."""
    done = subprocess.run(
        [sys.executable, "-c", SIGTERM_IN_A_LIBRARY.format(resend=resend)],
        capture_output=True,
        text=True,
        env=environment(),
        timeout=LIMIT,
    )
    assert done.returncode == status, done.stderr
    expected = ["workers stopped"] + ([] if resend else [f"caught {int(signal.SIGTERM)}"])
    assert done.stdout.splitlines() == expected


#: imported into every pool worker: the track named in MUSICLASS_TEST_KILL SIGKILLs its own worker
#: (what the kernel's out-of-memory killer does), every time it is tried, never in the driver
KILLER = '''
"""A worker that starts the track named in MUSICLASS_TEST_KILL is SIGKILLed."""
import os
import signal

from musiclass.features import extract

_real = extract.process_track


def _killing(track_id, *args):
    if track_id == os.environ.get("MUSICLASS_TEST_KILL") and str(os.getpid()) != os.environ.get(
        "MUSICLASS_TEST_DRIVER"
    ):
        os.kill(os.getpid(), signal.SIGKILL)
    return _real(track_id, *args)


extract.process_track = _killing
'''
KILLER_CHILD = """
import os
import sys

import musiclass_killer  # noqa: F401
from musiclass.features import worker

worker.PRELOAD.append("musiclass_killer")  # the fork server imports it: so does every worker

if __name__ == "__main__":
    from musiclass.cli import main

    os.environ["MUSICLASS_TEST_DRIVER"] = str(os.getpid())
    sys.exit(main(sys.argv[1:]))
"""


def test_a_killed_pool_worker_fails_its_track_for_the_next_run(setup, tmp_path):
    """A pool worker SIGKILLed mid-track (the out-of-memory killer) fails that track alone, as a
    transient failure: the other tracks finish, the run exits 3 naming it, and the next run
    retries it and completes the store with an uninterrupted run's bytes."""
    root, index, reference = setup
    (root / "musiclass_killer.py").write_text(KILLER)
    (root / "killer_child.py").write_text(KILLER_CHILD)
    env = environment()
    env["PYTHONPATH"] = os.pathsep.join([str(root), env["PYTHONPATH"]])
    victim = "classical.00001"
    env["MUSICLASS_TEST_KILL"] = victim
    store = tmp_path / "store"
    done = subprocess.run(
        [sys.executable, str(root / "killer_child.py"), "extract", str(root / "index")]
        + ["--out", str(store), "-q", "-j", "2", *SETS],
        env=env,
        capture_output=True,
        text=True,
        timeout=LIMIT,
    )
    assert done.returncode == 3, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert "worker killed by SIGKILL while processing this track (out of memory?)" in done.stderr
    failures = pd.read_csv(store / "failures.csv")
    assert failures[["track_id", "kind"]].values.tolist() == [[victim, "transient"]]
    assert not (store / LOCK_FILE).exists()
    report = extract(index, TINY, store, jobs=1, progress=False)
    assert (report.computed, report.retried, report.reused, report.failed) == (1, 1, 5, 0)
    assert snapshot(store) == snapshot(reference.path)
