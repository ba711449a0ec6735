"""``musiclass extract``: decode each track once, compute its frames and descriptors, store them.

Parallel over tracks (``jobs`` local processes, or the workers of a Dask cluster: ``scheduler`` /
``cluster``), with a progress bar. Resumable: every finished track's chunks are saved at once, so a
run that is killed and started again only computes what is missing, and yields the same bytes. A
bad file is recorded with its reason and the run carries on.

This module is the driver (what is done, what is reused, the failure report, finalising the
store); what a worker process runs for one track is :mod:`musiclass.features.worker`, and the Dask
runner :mod:`musiclass.features.dask_run`. Every runner is handed :func:`_process_task`, so the
one function they all call is this module's ``process_track``.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
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
from ..errors import ConfigError, MusiclassError
from . import store as store_mod
from .dask_run import ClusterLost, dask_options, run_dask
from .worker import PRELOAD as _PRELOAD  # noqa: F401  (the names benchmarks/dask_bench.py reads)
from .worker import PRELOAD_HANDCRAFTED as _PRELOAD_HANDCRAFTED  # noqa: F401
from .worker import init_worker, preload, process_track

log = logging.getLogger(__name__)

FAILURE_COLUMNS = ("track_id", "path", "reason")


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
        Tracks whose chunks an earlier (interrupted) run had saved.
    failures : pandas.DataFrame
        ``track_id, path, reason`` of the tracks that failed, in index order.
    seconds : float
        Wall time of the call, in seconds.
    up_to_date : bool
        The store was already built from the same config and tracks: nothing was done.
    setup_seconds : float
        Of ``seconds``, the time spent starting (or connecting to) a Dask cluster and checking
        its workers.
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
            return f"{self.store.path}: up to date ({self.store.manifest['n_rows']} frames); nothing to do"
        text = (
            f"extracted {self.computed} track(s), reused {self.reused} from an earlier run, "
            f"{self.failed} failed, in {self.seconds:.1f} s"
            + (f" ({self.setup_seconds:.1f} s of it setting up Dask)" if self.setup_seconds else "")
            + f" -> {self.store.path} "
            f"({self.store.manifest['n_rows']} frames)"
        )
        if self.failed:
            text += f"\n{self.failed} track(s) failed (listed in {self.store.path / store_mod.FAILURES}):"
            for row in self.failures.head(20).itertuples():
                text += f"\n  {row.path}: {row.reason}"
            if self.failed > 20:
                text += f"\n  ... and {self.failed - 20} more"
        return text


# ---------------------------------------------------------------------- runners
def _process_task(task: tuple) -> tuple[str, int, str | None]:
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
    """The local runner: yield ``(track_id, n_frames, error)`` as tracks finish (this process
    when ``jobs`` is 1, else a forkserver pool of ``jobs`` processes)."""
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
    with ProcessPoolExecutor(
        max_workers=min(jobs, len(tasks)),
        mp_context=_mp_context(handcrafted),
        initializer=init_worker,
        initargs=(os.getpid(),),  # each worker exits when this process is gone, even SIGKILLed
    ) as pool:
        # keep a bounded number of tasks in flight so an interrupt cancels quickly
        pending = set()
        try:
            for task in tasks:
                pending.add(pool.submit(_process_task, task))
                if len(pending) >= 4 * jobs:
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for f in finished:
                        yield f.result()
            for f in _as_done(pending):
                yield f.result()
        except BaseException:
            for f in pending:
                f.cancel()
            _stop_workers(pool)  # at once: the tracks in flight are computed again on resume
            raise


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Kill the pool's workers (they ignore SIGINT and SIGTERM: see ``init_worker``) and reap
    them, so that leaving the pool does not wait for the tracks in flight."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in processes:
        with contextlib.suppress(Exception):
            p.kill()
    for p in processes:
        with contextlib.suppress(Exception):
            p.join(timeout=10)


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
) -> ExtractReport:
    """Extract ``config``'s representations for every track of ``index`` into the store ``out``.

    A store already built from the same config and tracks is left alone (``up_to_date``); one
    built from something else is an error unless ``force``. Interrupted runs resume: tracks whose
    chunks are complete are not computed again. Dask workers write the chunks straight into
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

    Returns
    -------
    ExtractReport
        What was computed, reused and failed, the finished store and the time taken.

    Raises
    ------
    ConfigError
        Bad options (``jobs`` below 1, both ``scheduler`` and ``cluster``, ...), Dask missing, or
        ``out`` holds a store of another config (without ``force``).
    LockedError
        Another process is writing ``out`` (:mod:`musiclass.locks`); nothing was changed.
    MusiclassError
        The run was interrupted, a worker process died, the Dask cluster was lost or its workers
        cannot run the extraction; the finished tracks are kept for the next run to resume.
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
    manifest = out / store_mod.MANIFEST
    fingerprint = store_mod.tracks_fingerprint(index)
    if manifest.is_file():
        try:
            existing = store_mod.FeatureStore(out)
            same = (
                existing.manifest.get("config_hash") == config.hash()
                and existing.manifest.get("tracks_fingerprint") == fingerprint
            )
        except MusiclassError:  # an older or damaged store: rebuild only when asked
            existing, same = None, False
        if same and not force:
            # a kill between the manifest and the end of finalize leaves the claim: the store is complete
            (out / store_mod.EXTRACTING).unlink(missing_ok=True)
            return ExtractReport(existing, len(index), up_to_date=True)
        if not force and (
            existing is None or existing.manifest.get("config_hash") != config.hash()
        ):
            raise ConfigError(
                f"{out} holds a feature store built from another config "
                f"({existing.manifest.get('config_hash') if existing else 'unknown'} vs {config.hash()}); "
                "pass --force to rebuild it, or choose another output folder"
            )
        # same config, other tracks (or --force): finished chunks of tracks still listed are reused
        manifest.unlink()  # from here on the folder is incomplete until finalize succeeds
    store_mod.begin(out, config, force=force)

    t0 = time.perf_counter()
    rows = list(index.tracks[["track_id", "path"]].itertuples(index=False, name=None))
    done = [t for t, _ in rows if store_mod.is_done(out, t)]
    done_set = set(done)
    todo = [(t, p, config, out) for t, p in rows if t not in done_set]
    reused = len(done)
    failures: list[tuple[str, str, str]] = []
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
    bar = _progress(total=len(rows), initial=reused, enabled=progress)
    try:
        # closing: whatever stops the loop, the runner cancels its pending work and shuts its
        # workers down before the error below is raised (SIGTERM too: it raises like Ctrl-C)
        with interrupts.sigterm_interrupts(), contextlib.closing(runner) as results:
            for track_id, _n, error in results:
                if error is None:
                    done.append(track_id)
                else:
                    failures.append((track_id, paths[track_id], error))
                    log.warning("%s: %s", paths[track_id], error)
                    bar.set_postfix(failed=len(failures))
                bar.update(1)
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
            f"a worker process died: out of memory, or it could not start (a script that calls "
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

    # failures in index order, so failures.csv does not depend on the order tracks finished in
    position = {t: i for i, (t, _) in enumerate(rows)}
    failures.sort(key=lambda f: position[f[0]])
    fail_df = pd.DataFrame(failures, columns=list(FAILURE_COLUMNS))
    fs = store_mod.finalize(out, index, config, done, fail_df)
    return ExtractReport(
        fs,
        len(rows),
        computed=len(done) - reused,
        reused=reused,
        failures=fail_df,
        seconds=time.perf_counter() - t0,
        setup_seconds=timing.get("setup", 0.0),
    )


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
