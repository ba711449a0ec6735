"""``musiclass extract``: decode each track once, compute its frames and descriptors, store them.

Parallel over tracks (``jobs`` local processes, or the workers of a Dask cluster: ``scheduler`` /
``cluster``), with a progress bar. Resumable: every finished track's chunks are saved at once, so a
run that is killed and started again only computes what is missing, and yields the same bytes. A
bad file is recorded with its reason and the run carries on; a transient failure (disk full, out
of memory, an I/O error) is retried by the next run. Stored chunks are reused by the track's path
and content fingerprint, never by its id alone.

This module is the driver (what is done, what is reused, the failure report, finalising the
store); what a worker process runs for one track is :mod:`musiclass.features.worker`, and the Dask
runner :mod:`musiclass.features.dask_run`. Every runner is handed :func:`_process_task`, so the
one function they all call is this module's ``process_track``.
"""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import multiprocessing
import os
import shutil
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import interrupts, locks
from ..config import FrontendConfig
from ..datasets.base import TrackIndex
from ..errors import ConfigError, FileError, MusiclassError
from ..utils import safe_name, write_csv_atomic
from . import store as store_mod
from .dask_run import ClusterLost, dask_options, run_dask
from .worker import (
    PERMANENT,
    TRANSIENT,
    _size,
    free_space,
    init_worker,
    is_disk_full,
    preload,
    process_track,
    worker_killed_reason,
)
from .worker import PRELOAD as _PRELOAD  # noqa: F401  (the names benchmarks/dask_bench.py reads)
from .worker import PRELOAD_HANDCRAFTED as _PRELOAD_HANDCRAFTED  # noqa: F401

log = logging.getLogger(__name__)

FAILURE_COLUMNS = store_mod.FAILURE_COLUMNS
#: the reason of the tracks left when a full disk stopped the run
NOT_ATTEMPTED = "not attempted: the disk is full"


@dataclass
class ExtractReport:
    """What one :func:`extract` call did.

    Attributes
    ----------
    store : FeatureStore
        The finished store.
    n_tracks : int
        Tracks in the index.
    computed : int
        Tracks computed by this call.
    reused : int
        Tracks whose chunks an earlier run had saved (same path and content fingerprint).
    failures : pandas.DataFrame
        ``track_id, path, reason, kind`` of the tracks that failed, in index order: those of this
        call, and the permanent failures of earlier runs (not retried: the file has not changed).
    seconds : float
        Wall time of the call, in seconds.
    up_to_date : bool
        The store was already built from the same config and tracks: nothing was done.
    setup_seconds : float
        Of ``seconds``, the time spent starting (or connecting to) a Dask cluster and checking
        its workers.
    retried : int
        Of ``computed``, tracks that an earlier run failed for a transient reason.
    changed : int
        Of ``computed``, tracks whose file changed since an earlier run computed (or failed) it.
    note : str
        A line for the user, such as how much space a full disk lacks; ``""`` when none.
    """

    store: store_mod.FeatureStore
    n_tracks: int
    computed: int = 0
    reused: int = 0
    failures: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(FAILURE_COLUMNS))
    )
    seconds: float = 0.0
    up_to_date: bool = False
    setup_seconds: float = 0.0
    retried: int = 0
    changed: int = 0
    note: str = ""

    @property
    def failed(self) -> int:
        """Tracks that failed.

        Returns
        -------
        int
            The number of rows of ``failures``.
        """
        return len(self.failures)

    def summary(self) -> str:
        """What the CLI prints: counts, time, the store, and the first 20 failures.

        Returns
        -------
        str
            A line of counts, then (if any failed) the failures, one per line.
        """
        if self.up_to_date:
            text = f"{self.store.path}: up to date ({self.store.manifest['n_rows']} frames); nothing to do"
            if self.failed:
                text += (
                    f"\n{self.failed} track(s) failed for a reason in the file itself (listed in "
                    f"{self.store.path / store_mod.FAILURES}); not retried until the file changes, "
                    "or with --force:"
                )
                text += _failure_lines(self.failures)
            return text
        again = [
            f"{n} {what}"
            for n, what in (
                (self.retried, "retried after a transient failure"),
                (self.changed, "whose file changed"),
            )
            if n
        ]
        text = (
            f"extracted {self.computed} track(s)"
            + (f" ({', '.join(again)})" if again else "")
            + f", reused {self.reused} from an earlier run, "
            f"{self.failed} failed, in {self.seconds:.1f} s"
            + (f" ({self.setup_seconds:.1f} s of it setting up Dask)" if self.setup_seconds else "")
            + f" -> {self.store.path} "
            f"({self.store.manifest['n_rows']} frames)"
        )
        if self.failed:
            transient = int((self.failures["kind"] == TRANSIENT).sum())
            text += (
                f"\n{self.failed} track(s) failed (listed in {self.store.path / store_mod.FAILURES}"
            )
            text += f"; {transient} for a transient reason, retried by the next run):"
            text += _failure_lines(self.failures)
        if self.note:
            text += "\n" + self.note
        return text


def _failure_lines(failures: pd.DataFrame, most: int = 20) -> str:
    """The first ``most`` failures, one ``  PATH: REASON`` line each."""
    text = "".join(f"\n  {row.path}: {row.reason}" for row in failures.head(most).itertuples())
    if len(failures) > most:
        text += f"\n  ... and {len(failures) - most} more"
    return text


# ---------------------------------------------------------------------- runners
def _process_task(task: tuple) -> tuple:
    """One task ``(track_id, path, config, store)``: this module's ``process_track``.

    Every runner (this process, the process pool, the Dask workers) is handed this function, and
    it looks ``process_track`` up here when it runs: so the name ``extract.process_track`` is the
    one place to replace the per-track work (a test does, in this process or on a Dask worker).
    """
    return process_track(*task)


def _mp_context(handcrafted: bool):
    # forkserver: workers start from a clean, single-threaded server process (safe even when the
    # parent has TensorFlow loaded), and fork from it cheaply once librosa is imported there.
    # (The server is started once per process, with the preload list of its first use.)
    if sys.platform.startswith("linux"):
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(preload(handcrafted))
        return ctx
    return multiprocessing.get_context("spawn")


def _run(tasks, jobs):
    """The local runner: yield ``(track_id, n_frames, error, kind)`` as tracks finish (this process
    when ``jobs`` is 1, else a forkserver pool of ``jobs`` processes).

    A pool worker killed mid-track (SIGKILL, as the kernel's OOM killer sends) breaks the whole
    pool, and fails every track in flight without saying whose track killed it. So the tracks in
    flight are run again one at a time, each alone in a one-worker pool: a track whose worker is
    killed again is a transient failure (:func:`~musiclass.features.worker.worker_killed_reason`,
    retried by the next run), the others finish; the rest of the tracks go on in a fresh pool.
    """
    if not tasks:
        return
    if jobs == 1 or len(tasks) == 1:
        # the same single BLAS thread as the workers: matrix products round differently with
        # several threads, and the store must not depend on --jobs
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):
            for task in tasks:
                yield _process_task(task)
        return
    handcrafted = tasks[0][2].handcrafted
    queue = collections.deque(tasks)
    while queue:
        suspects = yield from _run_pool(queue, min(jobs, len(queue)), handcrafted)
        for task in suspects:  # alone, so that a worker that dies names its own track
            yield _run_alone(task, handcrafted)


def _pool(workers: int, handcrafted: bool) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=_mp_context(handcrafted),
        initializer=init_worker,
        initargs=(os.getpid(),),  # each worker exits when this process is gone, even SIGKILLed
    )


def _run_pool(queue: collections.deque, workers: int, handcrafted: bool):
    """Run ``queue``'s tasks (taken from its left) on a pool of ``workers``, yielding results.

    Returns (as the generator's value) the tasks that were in flight when a worker died, whose
    results are unknown; an empty list when every task finished."""
    with _pool(workers, handcrafted) as pool:
        # keep a bounded number of tasks in flight so an interrupt cancels quickly
        pending: dict = {}
        try:
            while queue or pending:
                while queue and len(pending) < 4 * workers:
                    task = queue.popleft()
                    pending[pool.submit(_process_task, task)] = task
                finished, _ = wait(set(pending), return_when=FIRST_COMPLETED)
                for f in finished:
                    task = pending.pop(f)
                    try:
                        result = f.result()
                    except BrokenProcessPool:
                        pending[f] = task
                        suspects = [pending[g] for g in pending if not _succeeded(g)]
                        # finished before the break: their results stand
                        results = [g.result() for g in pending if _succeeded(g)]
                        pending.clear()
                        _stop_workers(pool)
                        yield from results
                        return suspects
                    yield result
        except BaseException:
            for f in pending:
                f.cancel()
            _stop_workers(pool)  # at once: the tracks in flight are computed again on resume
            raise
    return []


def _succeeded(future) -> bool:
    return future.done() and not future.cancelled() and future.exception() is None


def _run_alone(task: tuple, handcrafted: bool) -> tuple:
    """One task in a pool of its own: its result, or a transient failure if its worker was killed.

    Raises
    ------
    BrokenProcessPool
        The worker ended without a signal (it could not start, say): not the track's doing.
    """
    with _pool(1, handcrafted) as pool:
        future = pool.submit(_process_task, task)
        try:
            return future.result()
        except BrokenProcessPool:
            processes = _stop_workers(pool)
            codes = [p.exitcode for p in processes if p.exitcode is not None]
            killed = [-c for c in codes if c < 0]
            if not killed:
                raise
            return (task[0], 0, worker_killed_reason(killed[0]), TRANSIENT)
        except BaseException:
            _stop_workers(pool)
            raise


def _stop_workers(pool: ProcessPoolExecutor) -> list:
    """Kill the pool's workers (they ignore SIGINT and SIGTERM: see ``init_worker``) and reap
    them, so that leaving the pool does not wait for the tracks in flight; return them."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in processes:
        with contextlib.suppress(Exception):
            p.kill()
    for p in processes:
        with contextlib.suppress(Exception):
            p.join(timeout=10)
    return processes


def _as_done(futures):
    pending = set(futures)
    while pending:
        finished, pending = wait(pending, return_when=FIRST_COMPLETED)
        yield from finished


# ---------------------------------------------------------------------- driver
@locks.writes("out")  # one writer per store: a second is refused before it touches the store
def extract(
    index: TrackIndex,
    config: FrontendConfig,
    out: str | os.PathLike,
    *,
    jobs: int = 1,
    progress: bool = True,
    force: bool = False,
    scheduler=None,
    cluster: str | None = None,
    connect_timeout: float = 10.0,
    allow_other_index: bool = False,
) -> ExtractReport:
    """Extract ``config``'s representations for every track of ``index`` into the store ``out``.

    A store already built from the same config and tracks, with unchanged files and no transient
    failure, is left alone (``up_to_date``). Chunks are reused by the track's path and content
    fingerprint (``fingerprints.csv``, :func:`~musiclass.features.store.file_fingerprint`), never
    by its id alone: a track whose file changed is computed again. Tracks that failed for a
    transient reason (disk full, out of memory, an I/O error) are retried; those that failed for
    their content are not, until their file changes. A store of another config, or of another
    index (another dataset or root, or one lacking tracks the store holds; a superset of the same
    root extends it) is an error unless ``force``, which rebuilds it. Interrupted runs resume:
    tracks whose chunks are complete are not computed again. A full disk stops the run: the
    tracks left are recorded as transient failures, for the next run. Dask workers write the chunks straight into
    ``out``, so ``out`` and the audio files must be visible to every worker at the same paths (a
    shared filesystem); this is checked before any work is sent. The store has the same bytes
    whichever way it was computed.

    Parameters
    ----------
    index : TrackIndex
        The tracks.
    config : FrontendConfig
        The frontend: representations, framing, descriptors, storage dtype.
    out : str or os.PathLike
        The store folder.
    jobs : int
        Local worker processes (1: this process); ignored with Dask.
    progress : bool
        Show a progress bar.
    force : bool
        Rebuild a store made from another config.
    scheduler : str or os.PathLike or distributed.Client or cluster, optional
        An existing Dask cluster: an address such as ``tcp://HOST:8786``, a scheduler file, a
        ``distributed.Client`` or a cluster object such as dask-jobqueue's ``SLURMCluster``.
    cluster : str, optional
        ``local:N``: a ``LocalCluster`` of N single-threaded worker processes, started for this
        call and closed after it.
    connect_timeout : float
        Seconds to wait for an unreachable scheduler.
    allow_other_index : bool
        Rebuild a store of another index (of the same config) for this one instead of refusing:
        the chunks whose path and fingerprint match are still reused, the others recomputed or
        deleted. For a store its caller owns (a study's own ``stores/<hash>``), not a user's.

    Returns
    -------
    ExtractReport
        What was computed, reused and failed, the finished store and the time taken.

    Raises
    ------
    ConfigError
        Bad options (``jobs`` below 1, both ``scheduler`` and ``cluster``, ...), Dask missing, or
        ``out`` holds a store of another config or index (without ``force``).
    FileError
        The disk is full while writing the store's tables (the finished tracks are kept).
    LockedError
        Another process is writing ``out`` (:mod:`musiclass.locks`); nothing was changed.
    MusiclassError
        The run was interrupted, a worker process could not start (a worker killed by a signal,
        as the out-of-memory killer does, only fails its track, as a transient failure), the Dask
        cluster was lost or its workers cannot run the extraction; the finished tracks are kept
        for the next run to resume.
    """
    config.validate()
    if jobs < 1:
        raise ConfigError("jobs must be at least 1")
    local_workers = None
    if scheduler is not None or cluster is not None:
        # bad options first, before any file is written
        local_workers = dask_options(scheduler, cluster)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    current = store_mod.fingerprint_table(index)
    # refuses another config or index first
    plan = _plan(out, index, config, current, force, allow_other_index)
    if plan.up_to_date:
        # a kill between the manifest and the end of finalize leaves the claim: the store is complete
        (out / store_mod.EXTRACTING).unlink(missing_ok=True)
        if plan.adopted:  # a store of an older musiclass: record what its chunks were computed from
            _store_write(out, store_mod.write_fingerprints, out, current)
        return ExtractReport(plan.existing, len(index), up_to_date=True, failures=plan.carried)

    # from here on the folder is incomplete until finalize succeeds
    (out / store_mod.MANIFEST).unlink(missing_ok=True)
    store_mod.begin(out, config, force=force, index=index)
    if plan.discard:
        log.warning(
            "%s: chunks of an unfinished older extraction cannot be checked; recomputed", out
        )
        shutil.rmtree(out / store_mod.CHUNKS, ignore_errors=True)
    for track_id in plan.stale:  # the file changed (or is unknown): its chunks are not reused
        store_mod.remove_track(out, track_id)
    # failures first, fingerprints second: a kill between them leaves a stale failure that the old
    # fingerprints still invalidate on the next run
    _store_write(out, write_csv_atomic, plan.carried, out / store_mod.FAILURES)
    _store_write(out, store_mod.write_fingerprints, out, current)

    t0 = time.perf_counter()
    rows = list(index.tracks[["track_id", "path"]].itertuples(index=False, name=None))
    kept = set(plan.carried["track_id"])
    done = [t for t, _ in rows if t not in kept and store_mod.is_done(out, t)]
    done_set = set(done)
    todo = [(t, p, config, out) for t, p in rows if t not in done_set and t not in kept]
    reused = len(done)
    failures: list[tuple[str, str, str, str]] = []
    paths = dict(rows)

    timing: dict[str, float] = {}
    if scheduler is None and local_workers is None:
        runner = _run(todo, jobs)
    else:
        runner = run_dask(
            todo,
            work=_process_task,
            scheduler=scheduler,
            local_workers=local_workers,
            timeout=connect_timeout,
            progress=progress,
            timing=timing,
        )
    bar = _progress(total=len(rows) - len(kept), initial=reused, enabled=progress)
    disk_full = False
    try:
        # closing: whatever stops the loop, the runner cancels its pending work and shuts its
        # workers down before the error below is raised (SIGTERM too: it raises like Ctrl-C)
        with interrupts.sigterm_interrupts(), contextlib.closing(runner) as results:
            for result in results:
                track_id, _n, error = result[:3]
                kind = result[3] if len(result) > 3 and result[3] else PERMANENT
                if error is None:
                    done.append(track_id)
                else:
                    failures.append((track_id, paths[track_id], error, kind))
                    log.warning("%s: %s", paths[track_id], error)
                    bar.set_postfix(failed=len(failures))
                bar.update(1)
                if error is not None and kind == TRANSIENT and error.startswith("disk full"):
                    # every track after it would be computed only to fail the same way
                    disk_full = True
                    break
    except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM: exit status 130 or 143
        bar.close()
        raise interrupts.Interrupted(
            f"interrupted: {len(done)} of {len(rows)} tracks are saved in {out}; "
            "run the same command again to resume",
            interrupts.signal_of(exc),
        ) from None
    except BrokenProcessPool:
        bar.close()
        raise MusiclassError(
            f"a worker process ended without a signal: it could not start (a script that calls "
            f"extract with jobs > 1 needs an `if __name__ == '__main__':` guard); {len(done)} finished "
            f"tracks are saved in {out}; run again (with fewer --jobs) to resume"
        ) from None
    except ClusterLost as exc:
        bar.close()
        raise MusiclassError(
            f"{exc}; {len(done)} of {len(rows)} tracks are saved in {out}; "
            "run the same command again to resume"
        ) from None
    bar.close()
    note = ""
    if disk_full:
        seen = set(done) | {f[0] for f in failures}
        for track_id, path, _config, _out in todo:
            if track_id in seen:
                continue
            if store_mod.is_done(out, track_id):  # finished by a worker as the run stopped
                done.append(track_id)
            else:
                failures.append((track_id, path, NOT_ATTEMPTED, TRANSIENT))
        note = _space_note(out, done, sum(f[3] == TRANSIENT for f in failures))

    # failures in index order, so failures.csv does not depend on the order tracks finished in
    position = {t: i for i, (t, _) in enumerate(rows)}
    failures += list(plan.carried.itertuples(index=False, name=None))
    failures.sort(key=lambda f: position[f[0]])
    fail_df = pd.DataFrame(failures, columns=list(FAILURE_COLUMNS))
    fs = _store_write(out, store_mod.finalize, out, index, config, done, fail_df)
    computed = set(done[reused:])
    return ExtractReport(
        fs,
        len(rows),
        computed=len(done) - reused,
        reused=reused,
        failures=fail_df,
        seconds=time.perf_counter() - t0,
        setup_seconds=timing.get("setup", 0.0),
        retried=len(computed & plan.retried),
        changed=len(computed & plan.changed),
        note=note,
    )


# ---------------------------------------------------------------------- what is reused
@dataclass
class _Plan:
    """What an earlier run left that this one keeps, recomputes or refuses (see :func:`_plan`)."""

    carried: pd.DataFrame
    up_to_date: bool = False
    existing: store_mod.FeatureStore | None = None
    stale: list[str] = field(default_factory=list)
    discard: bool = False
    adopted: bool = False
    retried: set[str] = field(default_factory=set)
    changed: set[str] = field(default_factory=set)


def _same_root(a, b) -> bool:
    a, b = str(a or ""), str(b or "")
    return a == b or (bool(a) and bool(b) and os.path.realpath(a) == os.path.realpath(b))


def _plan(
    out: Path,
    index: TrackIndex,
    config: FrontendConfig,
    current: pd.DataFrame,
    force: bool,
    allow_other_index: bool = False,
) -> _Plan:
    """Decide what of ``out`` this run reuses, from its manifest, claim, fingerprints and failures.

    A chunk is reused when its track's path and content fingerprint are those recorded when it
    was computed; a permanent failure is kept (not retried) on the same condition. Without
    ``force``, a store of another config, or of another index (another dataset or root, or one
    that lacks tracks the store holds), is refused: it is never rewritten in silence
    (``allow_other_index``: another index is rebuilt, still reusing only matching chunks).
    """
    manifest, claim = out / store_mod.MANIFEST, out / store_mod.EXTRACTING
    finalized = manifest.is_file()
    existing, identity = None, None
    if finalized:
        try:
            existing = store_mod.FeatureStore(out)
        except MusiclassError:  # an older or damaged store: rebuild only when asked
            existing = None
        if not force and (
            existing is None or existing.manifest.get("config_hash") != config.hash()
        ):
            raise ConfigError(
                f"{out} holds a feature store built from another config "
                f"({existing.manifest.get('config_hash') if existing else 'unknown'} vs {config.hash()}); "
                "pass --force to rebuild it, or choose another output folder"
            )
        if existing is not None:
            m = existing.manifest
            identity = (m.get("dataset"), m["root"]) if "root" in m else _stored_identity(out)
    elif claim.is_file():
        with contextlib.suppress(OSError, ValueError, AttributeError):
            record = json.loads(claim.read_text(encoding="utf-8"))
            if "dataset" in record:
                identity = (record.get("dataset"), record.get("root"))
    same_tracks = existing is not None and existing.manifest.get(
        "tracks_fingerprint"
    ) == store_mod.tracks_fingerprint(index)
    plan = _Plan(carried=pd.DataFrame(columns=list(FAILURE_COLUMNS)), existing=existing)
    previous = store_mod.read_fingerprints(out)
    ids = current["track_id"].tolist()
    if previous is None:
        if finalized and same_tracks:
            # a store of musiclass before fingerprints, of this very index: its chunks were
            # computed from these paths; their fingerprints are recorded now
            previous, plan.adopted = current.copy(), True
        elif (out / store_mod.CHUNKS).is_dir() and any((out / store_mod.CHUNKS).iterdir()):
            if finalized and not force and not allow_other_index:
                raise ConfigError(
                    f"{out} holds a feature store of another index, written by an older musiclass "
                    "that recorded no track fingerprints (its chunks cannot be checked); pass "
                    "--force to rebuild it, or choose another output folder"
                )
            plan.discard = True
            return plan
        else:
            return plan  # nothing to reuse
    if not force and not allow_other_index and len(previous):
        missing = [t for t in previous["track_id"] if t not in set(ids)]
        other = identity is not None and (
            identity[0] != index.dataset or not _same_root(identity[1], index.root)
        )
        if other or missing:
            what = (
                f"dataset {identity[0]!r} under {identity[1]!r}, not {index.dataset!r} under "
                f"{index.root!r}"
                if other
                else f"{len(missing)} of its {len(previous)} tracks are not in this index "
                f"({', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''})"
            )
            raise ConfigError(
                f"{out} holds a feature store of another index ({what}); pass --force to rebuild "
                "it for this index, or choose another output folder"
            )
    key = ["path", "size", "mtime_ns", "sample_hash"]
    before = {r[0]: tuple(r[1:]) for r in previous[["track_id", *key]].itertuples(index=False)}
    for r in current[["track_id", *key]].itertuples(index=False):
        was = before.get(r[0])
        if was != tuple(r[1:]) and (was is not None or store_mod.is_done(out, r[0])):
            plan.stale.append(r[0])
            if was is not None:
                plan.changed.add(r[0])
    failed = store_mod.read_failures(out) if (finalized or claim.is_file()) else plan.carried
    failed = failed[failed["track_id"].isin(set(ids))]
    keep = (
        (failed["kind"] == PERMANENT)
        & failed["track_id"].isin(set(before))
        & ~failed["track_id"].isin(set(plan.stale))
    )
    if not force:
        plan.carried = failed[keep].reset_index(drop=True)
    plan.retried = set(failed.loc[failed["kind"] != PERMANENT, "track_id"])
    kept = set(plan.carried["track_id"])
    plan.up_to_date = (
        finalized
        and not force
        and same_tracks
        and not plan.stale
        and set(before) == set(ids)
        and len(failed) == len(kept)
        and all(store_mod.is_done(out, t) for t in ids if t not in kept)
    )
    return plan


def _stored_identity(out: Path) -> tuple[str, str] | None:
    """Dataset and root of the index a store of an older musiclass was built from (its tracks.json)."""
    try:
        stored = TrackIndex.load(out)
    except MusiclassError:
        return None
    return stored.dataset, stored.root


def _store_write(out: Path, write, *args):
    """Call a writer of the store ``out``; a full disk becomes one line naming the store and the space."""
    try:
        return write(*args)
    except OSError as exc:
        if not is_disk_full(exc):
            raise
        free = free_space(out)
        raise FileError(
            out,
            "disk full while writing the store"
            + (f" ({_size(free)} free)" if free is not None else "")
            + "; free space and run the same command again (the finished tracks are kept)",
        ) from None


def _space_note(out: Path, done: list[str], missing: int) -> str:
    """How much space a full disk lacks: free bytes, and the missing tracks' estimated size."""
    free = free_space(out)
    sizes = []
    for track_id in done[:50]:  # a sample of the stored tracks: what a track takes
        files = list((out / store_mod.CHUNKS).glob(f"*/{safe_name(track_id)}.npy"))
        sizes.append(sum(p.stat().st_size for p in files if p.is_file()))
    text = "disk full: " + (f"{_size(free)} free" if free is not None else "free space unknown")
    text += f" on the filesystem of {out}"
    if sizes:
        per = sum(sizes) / len(sizes)
        text += (
            f"; the {missing} missing track(s) need about {_size(per * missing)} more "
            f"({_size(per)} per track, as those stored)"
        )
    return text + "; free space (or choose another --out) and run the same command again"


def _progress(total: int, initial: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        initial=initial,
        unit="track",
        desc="extract",
        disable=not enabled,
        dynamic_ncols=True,
        leave=True,
    )
