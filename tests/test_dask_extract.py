"""Extraction on Dask (``cluster="local:N"``, ``scheduler=``): the same store, byte for byte, as one
process; the same failure records; resumable; interruptible; clear errors for bad options."""

from __future__ import annotations

import json
import logging
import os
import shutil
import time

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

import musiclass
from musiclass.cli import main
from musiclass.config import frontend_preset
from musiclass.datasets.base import TrackIndex
from musiclass.errors import ConfigError, MusiclassError
from musiclass.features import dask_run
from musiclass.features import extract as extract_mod
from musiclass.features.extract import extract

from .conftest import tone_index, write_tone
from .test_store import store_bytes

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")

# the clusters of these tests share 2 cores: one xdist worker runs them all (--dist loadfile, or
# this group under --dist loadgroup)
pytestmark = pytest.mark.xdist_group("dask")

SMALL = dict(representations=("mel", "mfcc"))


def no_tasks_left(cluster, within: float = 10.0) -> bool:
    """Whether the scheduler forgets every task of ours within ``within`` s (releases are messages)."""
    deadline = time.monotonic() + within
    while cluster.scheduler.tasks and time.monotonic() < deadline:
        time.sleep(0.05)
    return not cluster.scheduler.tasks


def assert_same_files(a: dict[str, bytes], b: dict[str, bytes]) -> None:
    assert a.keys() == b.keys(), set(a) ^ set(b)
    for name in a:
        assert a[name] == b[name], f"{name} differs"


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    """3 genres x 2 tone clips of 30 s."""
    return tone_index(tmp_path_factory.mktemp("tones"))


@pytest.fixture(scope="module")
def reference(index, tmp_path_factory) -> dict[str, bytes]:
    """The single-process store of the real default (every representation, handcrafted on)."""
    path = tmp_path_factory.mktemp("reference") / "store"
    extract(index, frontend_preset("genre", "default"), path, jobs=1, progress=False)
    return store_bytes(path)


@pytest.fixture(scope="module")
def small_reference(index, tmp_path_factory) -> dict[str, bytes]:
    path = tmp_path_factory.mktemp("small-reference") / "store"
    extract(index, frontend_preset("genre", "default", **SMALL), path, jobs=1, progress=False)
    return store_bytes(path)


@pytest.fixture(scope="module")
def cluster():
    """An existing cluster, as a user would have started one (the ``scheduler=`` path)."""
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        silence_logs=logging.WARNING,
    ) as c:
        yield c


def test_local_cluster_writes_the_same_bytes_as_one_process(index, reference, tmp_path, caplog):
    environ = dict(os.environ)
    report = extract(
        index,
        frontend_preset("genre", "default"),
        tmp_path / "s",
        cluster="local:2",
        progress=False,
    )
    assert (report.computed, report.reused, report.failed) == (6, 0, 0)
    assert dict(os.environ) == environ, (
        "the nannies' variables (OMP_NUM_THREADS ...) are not left behind"
    )
    assert "MALLOC_TRIM_THRESHOLD_" not in caplog.text, (
        "our own workers run without Dask's malloc trimming"
    )
    assert 0 < report.setup_seconds < report.seconds and "setting up Dask" in report.summary()
    assert_same_files(store_bytes(tmp_path / "s"), reference)


def test_existing_scheduler_writes_the_same_bytes(index, reference, cluster, tmp_path, caplog):
    report = extract(
        index,
        frontend_preset("genre", "default"),
        tmp_path / "s",
        scheduler=cluster.scheduler_address,
        progress=False,
    )
    assert (report.computed, report.failed) == (6, 0)
    assert "2 Dask worker(s) run with MALLOC_TRIM_THRESHOLD_ set" in caplog.text, (
        "a nanny default, worth a warning"
    )
    assert_same_files(store_bytes(tmp_path / "s"), reference)
    assert no_tasks_left(cluster), "no task is left on the user's cluster"


def test_bad_files_are_recorded_as_in_one_process(cluster, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "corrupt.wav").write_bytes(os.urandom(4096))
    write_tone(bad / "short.wav", 0.4)
    sf.write(bad / "silent.wav", np.zeros(22050 * 5, np.float32), 22050)
    extra = {
        "corrupt": bad / "corrupt.wav",
        "gone": bad / "gone.wav",
        "short": bad / "short.wav",
        "silent": bad / "silent.wav",
    }
    idx = tone_index(tmp_path / "audio", genres=("blues", "jazz"), per_genre=1, extra=extra)
    cfg = frontend_preset("genre", "default", **SMALL)
    local = extract(idx, cfg, tmp_path / "local", progress=False)
    scheduler_file = tmp_path / "scheduler.json"  # as `dask scheduler --scheduler-file` writes it
    scheduler_file.write_text(
        json.dumps({"type": "Scheduler", "address": cluster.scheduler_address})
    )
    remote = extract(idx, cfg, tmp_path / "dask", scheduler=str(scheduler_file), progress=False)
    assert remote.failed == 4 and remote.store.manifest["n_tracks"] == 2
    pd.testing.assert_frame_equal(remote.failures, local.failures)
    reasons = dict(zip(remote.failures["track_id"], remote.failures["reason"]))
    assert (
        "too short" in reasons["short"]
        and "not found" in reasons["gone"]
        and "silent" in reasons["silent"]
    )
    assert "cannot decode" in reasons["corrupt"] or "cannot read" in reasons["corrupt"]
    assert_same_files(
        store_bytes(tmp_path / "dask"), store_bytes(tmp_path / "local")
    )  # failures.csv included
    assert (
        remote.summary().split("\n")[2:] == local.summary().split("\n")[2:]
    )  # the failures, as listed


def test_resume_computes_only_the_missing_tracks(index, small_reference, cluster, tmp_path):
    cfg = frontend_preset("genre", "default", **SMALL)
    with distributed.Client(
        cluster, set_as_default=False
    ) as client:  # a Client object is accepted too
        first = extract(
            index.subset(index.tracks["track_id"][:4]),
            cfg,
            tmp_path / "s",
            scheduler=client,
            progress=False,
        )
        assert (first.reused, first.computed) == (0, 4)
        grown = extract(index, cfg, tmp_path / "s", scheduler=client, progress=False)
        assert (grown.reused, grown.computed) == (4, 2)
        assert client.status == "running", "a Client we were given is not closed"
    assert_same_files(store_bytes(tmp_path / "s"), small_reference)


def test_interrupt_cancels_the_pending_tracks_and_the_run_resumes(
    index, small_reference, cluster, tmp_path, monkeypatch
):
    cfg = frontend_preset("genre", "default", **SMALL)
    real = extract_mod._progress

    def interrupted_bar(**kwargs):  # Ctrl-C while the second finished track is counted
        bar = real(**kwargs)
        calls = []

        def update(n=1):
            calls.append(n)
            if len(calls) == 2:
                raise KeyboardInterrupt
            return type(bar).update(bar, n)

        bar.update = update
        return bar

    monkeypatch.setattr(extract_mod, "_progress", interrupted_bar)
    with pytest.raises(
        MusiclassError, match="interrupted: 2 of 6 tracks are saved .* run the same command again"
    ):
        extract(index, cfg, tmp_path / "s", scheduler=cluster.scheduler_address, progress=False)
    assert not (tmp_path / "s" / "manifest.json").exists()
    assert no_tasks_left(cluster), "the pending tracks were cancelled"
    monkeypatch.setattr(extract_mod, "_progress", real)
    report = extract(
        index, cfg, tmp_path / "s", scheduler=cluster.scheduler_address, progress=False
    )
    assert report.reused >= 2 and report.reused + report.computed == 6 and report.failed == 0
    assert_same_files(store_bytes(tmp_path / "s"), small_reference)


def test_a_track_that_kills_its_worker_is_a_failure_and_the_run_carries_on(tmp_path):
    idx = tone_index(tmp_path / "audio", genres=("blues",), per_genre=2)
    shutil.copyfile(idx.tracks["path"][0], tmp_path / "doomed.wav")
    idx = tone_index(
        tmp_path / "audio",
        genres=("blues",),
        per_genre=2,
        extra={"doomed": tmp_path / "doomed.wav"},
    )
    # the doomed track first: the tracks after it run on the worker that replaces the dead one
    idx = TrackIndex(
        idx.tracks.iloc[[2, 0, 1]].reset_index(drop=True), idx.classes, dataset="tones"
    )

    def doom():  # run on the worker (sent by value): "doomed" kills its process, as the OOM killer would
        import os

        from musiclass.features import extract as m

        real = m.process_track

        def dying(track_id, *args):
            if track_id == "doomed":
                os._exit(1)
            return real(track_id, *args)

        m.process_track = dying

    # give up on a task at the first death (Dask's default is after 4 workers died under it)
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        with (
            distributed.LocalCluster(
                n_workers=1,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
                silence_logs=logging.CRITICAL,
            ) as c,
            distributed.Client(c, set_as_default=False) as client,
        ):
            client.run(doom)
            report = extract(
                idx,
                frontend_preset("genre", "default", **SMALL),
                tmp_path / "s",
                scheduler=client,
                progress=False,
            )
    reasons = dict(zip(report.failures["track_id"], report.failures["reason"]))
    assert reasons["doomed"] == dask_run.WORKER_DIED
    # the track sent to the worker beside it may die with it (suspect too, at allowed-failures 0); the last
    # one waited in the scheduler's queue and ran on the replacement worker
    assert set(reasons.values()) == {dask_run.WORKER_DIED} and "blues.00001" not in reasons
    assert report.computed == 3 - report.failed == report.store.manifest["n_tracks"] >= 1


def test_workers_that_cannot_see_the_store_are_named(index, cluster, tmp_path, monkeypatch):
    real = dask_run._worker_probe()

    def elsewhere():  # a closure, sent by value: the workers look for the probe file in another folder
        def probe(probe_path, *args):
            return real(probe_path + ".elsewhere", *args)

        return probe

    monkeypatch.setattr(dask_run, "_worker_probe", elsewhere)
    cfg = frontend_preset("genre", "default", **SMALL)
    with pytest.raises(
        MusiclassError, match=r"2 of 2 Dask worker\(s\) do not see the store folder .*shared"
    ):
        extract(index, cfg, tmp_path / "s", scheduler=cluster.scheduler_address, progress=False)
    monkeypatch.setattr(dask_run, "_worker_probe", lambda: real)
    monkeypatch.setattr(musiclass, "__version__", "9.9.9")
    with pytest.raises(
        MusiclassError, match=r"import musiclass 0\.1\.0, this process 9\.9\.9: install the same"
    ):
        extract(index, cfg, tmp_path / "s", scheduler=cluster.scheduler_address, progress=False)
    assert not list((tmp_path / "s").rglob(".dask-probe-*")), "the probe file is removed"


def test_bad_options_fail_fast_with_a_clear_message(index, tmp_path):
    cfg = frontend_preset("genre", "default", **SMALL)
    with pytest.raises(ConfigError, match="not both"):
        extract(index, cfg, tmp_path / "s", scheduler="tcp://127.0.0.1:1", cluster="local:2")
    for bad in ("local:0", "local:x", "local:", "4", "slurm:2"):
        with pytest.raises(ConfigError, match=r"local:N with N >= 1"):
            extract(index, cfg, tmp_path / "s", cluster=bad)
    assert not (tmp_path / "s").exists(), "nothing is written before the options are checked"
    with pytest.raises(ConfigError, match="not a Dask scheduler address"):
        extract(index, cfg, tmp_path / "s", scheduler="no-port-here", progress=False)
    # the message names the timeout that was applied; how long it took is not asserted (loaded machines)
    with pytest.raises(
        MusiclassError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:1 within 1 s"
    ):
        extract(
            index,
            cfg,
            tmp_path / "s",
            scheduler="tcp://127.0.0.1:1",
            connect_timeout=1,
            progress=False,
        )


def test_cli_extract_on_a_local_cluster(tmp_path, capsys):
    idx = tone_index(tmp_path / "audio", genres=("blues", "rock"), per_genre=2)
    idx.save(tmp_path / "index")
    args = [
        "extract",
        str(tmp_path / "index"),
        "-q",
        "--set",
        "representations=[mel]",
        "--set",
        "handcrafted=false",
    ]
    assert main(args + ["--out", str(tmp_path / "one"), "--jobs", "1"]) == 0
    assert main(args + ["--out", str(tmp_path / "dask"), "--cluster", "local:2"]) == 0
    assert "extracted 4 track(s)" in capsys.readouterr().out
    assert_same_files(store_bytes(tmp_path / "dask"), store_bytes(tmp_path / "one"))
    with pytest.raises(SystemExit):  # argparse: not allowed with
        main(
            args
            + [
                "--out",
                str(tmp_path / "x"),
                "--cluster",
                "local:2",
                "--scheduler",
                "tcp://127.0.0.1:1",
            ]
        )
    assert "not allowed with argument" in capsys.readouterr().err
    assert main(args + ["--out", str(tmp_path / "x"), "--cluster", "local:2", "--jobs", "2"]) == 1
    assert "leave --jobs out" in capsys.readouterr().err
    assert main(args + ["--out", str(tmp_path / "x"), "--cluster", "local:zero"]) == 1
    assert "local:N with N >= 1" in capsys.readouterr().err
