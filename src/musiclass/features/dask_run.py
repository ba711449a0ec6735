"""Feature extraction on a Dask cluster, an existing one or one started on this machine.

That is :func:`musiclass.features.extract.extract` with ``scheduler=`` (an existing cluster) or
``cluster="local:N"``.

:func:`run_dask` is the Dask counterpart of ``extract._run``: it yields ``(track_id, n_frames,
error)`` as workers finish tracks, and ``extract()`` keeps the same bookkeeping (resume, failure
report, finalising the store) whichever runner it uses. Each task is the driver's ``work``
function (a track's :func:`musiclass.features.worker.process_track`) under one BLAS thread,
writing the track's chunks straight into the store folder, so the store has the same bytes as a
one-process run; the store folder and the audio must therefore be visible to every worker at the
same paths (a shared filesystem), which is checked before any work is sent.

This module imports :mod:`musiclass.features.worker` (what a worker imports to start warm), never
the driver. Dask is imported only inside the functions that use it (an optional dependency, and
slow to import), so ``extract`` imports this module whether or not Dask is installed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import time
import uuid
from pathlib import Path

from .. import __version__
from ..errors import ConfigError, MusiclassError
from . import store as store_mod
from .worker import TRANSIENT, preload

log = logging.getLogger("musiclass.features.extract")

#: the failure reason of a track whose Dask worker died under it (Dask gives up on a task after it
#: was running on ``distributed.scheduler.allowed-failures`` + 1 workers that died: KilledWorker)
WORKER_DIED = "the Dask worker died while processing this track (out of memory?)"
#: tasks in flight per worker thread: enough to keep every worker busy, few enough that 50,000
#: tracks do not flood the scheduler and that an interrupt has little to cancel
IN_FLIGHT_PER_THREAD = 4
#: how long to wait for a track a worker reported done to show up here (an NFS client may cache
#: "no such file" for a name it looked up before, such as the meta chunks checked at the start)
VISIBILITY_WAIT = 60.0
#: compared between this process and every worker: musiclass must match (an error otherwise);
#: the others decide the numbers, so a difference is worth a warning (the bytes may differ)
_CHECKED_MODULES = ("musiclass", "numpy", "scipy", "librosa", "soxr", "soundfile")
MALLOC_TRIM = "MALLOC_TRIM_THRESHOLD_"


class ClusterLost(MusiclassError):
    """The Dask scheduler went away, or dropped this run's tasks, in the middle of a run."""


def dask_options(scheduler, cluster) -> int | None:
    """Check the Dask options of ``extract`` before anything is written.

    Parameters
    ----------
    scheduler : str or os.PathLike or distributed.Client or cluster or None
        An existing cluster (see :func:`musiclass.features.extract.extract`).
    cluster : str or None
        ``local:N``.

    Returns
    -------
    int or None
        N of ``local:N``, or None (an existing cluster, or no Dask).

    Raises
    ------
    ConfigError
        Both options, an empty scheduler address, or a ``cluster`` that is not ``local:N``
        with N >= 1.
    """
    if scheduler is not None and cluster is not None:
        raise ConfigError(
            "give either scheduler (an existing Dask cluster) or cluster='local:N' "
            "(a local one started for this run), not both"
        )
    if isinstance(scheduler, str) and not scheduler.strip():
        raise ConfigError(
            "scheduler is empty: give a Dask scheduler address such as tcp://HOST:8786"
        )
    if cluster is None:
        return None
    m = re.fullmatch(r"\s*local:(\d+)\s*", str(cluster))
    if not m or int(m.group(1)) < 1:
        raise ConfigError(
            f"cluster must be local:N with N >= 1 Dask worker processes (e.g. local:4), "
            f"not {cluster!r}"
        )
    return int(m.group(1))


def _import_distributed():
    """Dask is optional and imported only when asked for."""
    try:
        import distributed
    except ImportError:
        raise ConfigError(
            "scheduler / cluster need Dask: pip install 'musiclass[distributed]' "
            "(dask and distributed)"
        ) from None
    return distributed


def _dask_task(work, version: str, *task) -> tuple[str, int, str | None, str | None]:
    """One track on a Dask worker: ``work(task)`` under one BLAS thread, as everywhere else (the
    store must not depend on where it was computed). ``task`` is ``(track_id, path, config,
    store)``. The worker is checked again here, cheaply: one that joined the cluster after the
    start-up check may run another musiclass or another filesystem."""
    track_id, store = task[0], task[3]
    if version != __version__:
        return (
            track_id,
            0,
            (
                f"the Dask worker on {_host()} runs musiclass {__version__}, not {version}: "
                "install the same version into the workers' environment"
            ),
            TRANSIENT,
        )
    if not os.path.isdir(store):
        return (
            track_id,
            0,
            (
                f"the store folder {store} is not visible on the Dask worker on {_host()}: it must be "
                "on a filesystem shared with the workers, at the same path"
            ),
            TRANSIENT,
        )
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):  # per task: the worker's threads may serve other work too
        return work(task)


def _host() -> str:
    import socket

    return socket.gethostname()


def run_dask(
    tasks,
    *,
    work,
    scheduler,
    local_workers: int | None,
    timeout: float,
    progress: bool,
    timing: dict[str, float],
):
    """``extract._run`` on Dask: yield ``(track_id, n_frames, error, kind)`` as workers finish tracks.

    Starts a ``LocalCluster`` (``local_workers``) or connects to ``scheduler``, checks that every
    worker sees the store and the audio and runs our musiclass, then keeps a bounded number of
    tracks in flight. Closing the generator (the run finished, failed or was interrupted) cancels
    what is pending and closes what it started.

    Parameters
    ----------
    tasks : list of tuple
        ``(track_id, path, config, store)``, every one into the same store.
    work : callable
        ``work(task) -> (track_id, n_frames, error, kind)``, run on the workers; a module-level
        function (Dask sends it by reference).
    scheduler : str or os.PathLike or distributed.Client or cluster or None
        The existing cluster to use, when ``local_workers`` is None.
    local_workers : int or None
        Start a local cluster of this many single-threaded worker processes.
    timeout : float
        Seconds to wait for an unreachable scheduler.
    progress : bool
        Also show the cluster's messages above the progress bar.
    timing : dict
        Receives ``"setup"``: seconds spent before the first track was submitted.

    Yields
    ------
    tuple
        ``(track_id, n_frames, error, kind)``; a track whose worker died fails with
        :data:`WORKER_DIED`, a transient failure (the next run retries it), as every failure of the
        cluster rather than of the track.

    Raises
    ------
    ConfigError
        Dask is not installed, or the scheduler address is malformed.
    MusiclassError
        The scheduler cannot be reached, or the workers cannot run the extraction.
    ClusterLost
        The scheduler went away mid-run.
    """
    if not tasks:
        return
    distributed = _import_distributed()
    t0 = time.perf_counter()
    store = Path(tasks[0][3])
    with (
        contextlib.ExitStack() as stack
    ):  # unwound last in, first out: client, cluster, logs, environment
        if local_workers is not None:
            stack.enter_context(_environ_restored())
            stack.enter_context(_quiet_dask_logs())
        client, own_client, cluster = _dask_connect(
            distributed,
            scheduler,
            None if local_workers is None else min(local_workers, len(tasks)),
            timeout,
        )
        if cluster is not None:
            stack.callback(_close_quietly, cluster)
        if own_client:
            stack.callback(_close_quietly, client)
        _dask_wait_for_workers(client, progress)
        _dask_announce(client, cluster, progress)
        # the audio probe: the first file that exists here (a missing file is that track's failure)
        audio_probe = next((t[1] for t in tasks if os.path.isfile(t[1])), None)
        _dask_check_workers(client, store, audio_probe, handcrafted=tasks[0][2].handcrafted)
        timing["setup"] = time.perf_counter() - t0
        try:
            yield from _dask_results(distributed, client, tasks, store, work)
        except BaseException:
            if (
                cluster is not None
            ):  # ours, closed with tracks running: each worker would warn about them
                with contextlib.suppress(Exception):
                    client.run(_quiet_worker_logs)
            raise


def _quiet_worker_logs() -> None:
    """On a worker of our local cluster about to be closed mid-run: errors only."""
    logging.getLogger("distributed").setLevel(logging.ERROR)


@contextlib.contextmanager
def _environ_restored():
    """A nanny sets its workers' variables (OMP_NUM_THREADS, PYTHONHASHSEED, ...) in *this*
    process's environment before it spawns them, and again when it restarts one: put the
    environment back as it was once the cluster is closed."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        for name in set(os.environ) - set(saved):
            os.environ.pop(name, None)
        for name, value in saved.items():
            if os.environ.get(name) != value:
                os.environ[name] = value


def _close_quietly(thing) -> None:
    with contextlib.suppress(Exception):
        thing.close()


@contextlib.contextmanager
def _quiet_dask_logs():
    """The in-process scheduler and nannies of a local cluster log every step at INFO (and
    ``LocalCluster(silence_logs=...)`` cannot quiet them once the application configured logging):
    WARNING and above only, for the run."""
    logger = logging.getLogger("distributed")
    old = logger.level
    if logger.getEffectiveLevel() < logging.WARNING:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(old)


@contextlib.contextmanager
def _children_ignore_sigint():
    """Worker processes started in here inherit an ignored SIGINT (Python keeps an inherited
    ``SIG_IGN``). Ctrl-C in a terminal reaches the whole process group; stopping the run is this
    process's job (cancel, close the cluster), not the workers', each dying with a traceback. A
    Ctrl-C during these few seconds of start-up is lost."""
    import signal
    import threading

    old = signal.getsignal(signal.SIGINT)
    if old is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


def _dask_connect(distributed, scheduler, local_workers: int | None, timeout: float):
    """``(client, own_client, cluster)``: whom to submit to, whether to close it, what we started."""
    if local_workers is not None:
        import warnings

        import dask

        # Dask's nannies give their workers MALLOC_TRIM_THRESHOLD_=65536: that turns glibc's dynamic
        # mmap threshold off, so every large array of a track is mmapped and page-faulted afresh, and
        # a track takes 1.5x as long as in one process. Our workers hold nothing between tracks.
        # (Nor do they inherit it from an earlier cluster's nanny: the environment is restored after.)
        no_trim = {f"distributed.nanny.pre-spawn-environ.{MALLOC_TRIM}": None}
        os.environ.pop(MALLOC_TRIM, None)
        with warnings.catch_warnings(), _children_ignore_sigint(), dask.config.set(no_trim):
            warnings.filterwarnings(
                "ignore", message=".*already in use"
            )  # it takes another port, printed
            cluster = distributed.LocalCluster(
                n_workers=local_workers,
                threads_per_worker=1,
                processes=True,
                silence_logs=logging.WARNING,
            )
        try:
            return distributed.Client(cluster, set_as_default=False), True, cluster
        except BaseException:
            cluster.close()
            raise
    if isinstance(scheduler, distributed.Client):
        return scheduler, False, None
    if not isinstance(
        scheduler, (str, os.PathLike)
    ):  # a cluster object, e.g. dask-jobqueue's SLURMCluster
        return distributed.Client(scheduler, set_as_default=False), True, None
    address = _scheduler_address(scheduler)
    _wait_reachable(address, timeout)
    try:
        return distributed.Client(address, timeout=timeout, set_as_default=False), True, None
    except (OSError, TimeoutError) as exc:
        raise MusiclassError(
            f"cannot connect to the Dask scheduler at {address} within {timeout:g} s ({exc})"
        ) from None


def _scheduler_address(scheduler: str | os.PathLike) -> str:
    """An address, or the address in a scheduler file (``dask scheduler --scheduler-file FILE``)."""
    text = os.fspath(scheduler).strip()
    if "://" not in text and os.path.isfile(text):
        import json

        try:
            return str(json.loads(Path(text).read_text(encoding="utf-8"))["address"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(
                f'{text}: not a Dask scheduler file (JSON with an "address"): {exc}'
            ) from None
    return text


def _wait_reachable(address: str, timeout: float) -> None:
    """Fail fast, with the address and the timeout in the message, when nothing listens there.

    (Checked with a plain socket before ``Client`` is made: a ``Client`` that fails to connect
    leaves a half-made object whose clean-up prints a traceback at exit.) Refused connections are
    retried until ``timeout``, as Dask does: the scheduler may be starting.
    """
    from distributed.comm.addressing import parse_address, parse_host_port

    if timeout <= 0:
        raise ConfigError(f"the connect timeout must be positive, not {timeout}")
    try:
        scheme, location = parse_address(address)
        if scheme not in ("tcp", "tls"):
            return  # another transport (inproc, ucx): left to the client
        host, port = parse_host_port(location)
    except ValueError as exc:
        raise ConfigError(
            f"{address!r} is not a Dask scheduler address (expected e.g. tcp://HOST:8786): {exc}"
        ) from None
    import socket

    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        try:
            with socket.create_connection((host, port), timeout=max(0.05, left)):
                return
        except OSError as exc:
            if deadline - time.monotonic() <= 0:
                raise MusiclassError(
                    f"cannot reach the Dask scheduler at {address} within {timeout:g} s ({exc}): is it running, "
                    "and is the address right (see the scheduler's log, or its scheduler file)?"
                ) from None
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))


def _dask_say(text: str, progress: bool) -> None:
    """Logged at INFO; also shown above the progress bar when one is shown and INFO is not."""
    log.info(text)
    if progress and not log.isEnabledFor(logging.INFO):
        from tqdm.auto import tqdm

        tqdm.write(text, file=sys.stderr)


def _dask_wait_for_workers(client, progress: bool) -> None:
    if not client.nthreads():
        _dask_say(
            f"waiting for a Dask worker to join the scheduler at {client.scheduler.address} "
            "(on a batch system their jobs may still be queued)",
            progress,
        )
        client.wait_for_workers(1)


def _dask_announce(client, cluster, progress: bool) -> None:
    threads = client.nthreads()
    where = (
        "local Dask cluster"
        if cluster is not None
        else f"Dask scheduler {client.scheduler.address}"
    )
    try:
        link = client.dashboard_link
    except Exception:  # noqa: BLE001 - no dashboard is no reason to stop
        link = None
    _dask_say(
        f"{where}: {len(threads)} worker(s), {sum(threads.values())} thread(s)"
        + (f"; dashboard: {link}" if link else ""),
        progress,
    )


def _worker_probe():
    """The start-up check run on every worker, as a closure: cloudpickle sends it by value, so it
    runs (and can say so) even on a worker that cannot import musiclass."""

    def probe(
        probe_path: str,
        token: str,
        audio_path: str | None,
        modules: tuple[str, ...],
        preload: list[str],
    ) -> dict:
        import importlib
        import os
        import socket

        answer = {"host": socket.gethostname(), "versions": {}, "import_error": None}
        try:
            with open(probe_path, encoding="utf-8") as f:
                answer["store"] = f.read() == token
        except OSError:
            answer["store"] = False
        answer["writable"] = os.access(os.path.dirname(probe_path), os.W_OK)
        answer["audio"] = audio_path is None or (
            os.path.isfile(audio_path) and os.access(audio_path, os.R_OK)
        )
        answer["malloc_trim"] = os.environ.get("MALLOC_TRIM_THRESHOLD_")
        for name in modules:
            try:
                answer["versions"][name] = getattr(
                    importlib.import_module(name), "__version__", "?"
                )
            except Exception:  # noqa: BLE001
                answer["versions"][name] = None
        try:  # also warms the worker up: librosa loads its submodules lazily, on the first track
            for name in preload:
                importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001
            answer["import_error"] = f"{type(exc).__name__}: {exc}"
        return answer

    return probe


def _dask_check_workers(client, store: Path, audio_path: str | None, handcrafted: bool) -> None:
    """Every worker must see this store folder (a file written here is read there), read the audio
    (``audio_path``, one of the tracks) and import the same musiclass; raise naming the workers
    otherwise."""
    import importlib

    token = uuid.uuid4().hex
    # in chunks/meta: a probe left behind by a killed run is removed with the orphans at the end
    probe_path = store / store_mod.CHUNKS / store_mod.META / f".dask-probe-{token}"
    probe_path.parent.mkdir(parents=True, exist_ok=True)
    probe_path.write_text(token, encoding="utf-8")
    try:
        answers = client.run(
            _worker_probe(),
            str(probe_path),
            token,
            audio_path,
            _CHECKED_MODULES,
            preload(handcrafted),
            on_error="return",
        )
    finally:
        probe_path.unlink(missing_ok=True)
    ours = {}
    for name in _CHECKED_MODULES:
        ours[name] = getattr(importlib.import_module(name), "__version__", "?")

    problems: dict[str, list[str]] = {}

    def problem(what: str, worker: str, answer) -> None:
        host = answer.get("host") if isinstance(answer, dict) else None
        problems.setdefault(what, []).append(f"{worker} ({host})" if host else worker)

    mismatched: dict[str, set] = {}
    for worker, answer in sorted(answers.items()):
        if not isinstance(answer, dict):
            problem(
                f"could not run the start-up check ({type(answer).__name__}: {answer}): "
                "is it a worker of the same Python version?",
                worker,
                None,
            )
            continue
        theirs = answer["versions"]
        if theirs.get("musiclass") is None:
            problem(
                "cannot import musiclass: install it (the same version, "
                f"{ours['musiclass']}) into the workers' environment, then restart them",
                worker,
                answer,
            )
            continue
        if theirs["musiclass"] != ours["musiclass"]:
            problem(
                f"import musiclass {theirs['musiclass']}, this process {ours['musiclass']}: install the same "
                "version into the workers' environment, then restart them",
                worker,
                answer,
            )
        elif answer["import_error"]:
            problem(
                f"cannot import what extraction needs ({answer['import_error']})", worker, answer
            )
        if not answer["store"]:
            problem(
                f"do not see the store folder {store} (a file written there from here was not there): the "
                "workers write the chunks straight into it, so --out must be on a filesystem shared with "
                "them, at the same path (not a node-local /tmp)",
                worker,
                answer,
            )
        elif not answer["writable"]:
            problem(f"cannot write into the store folder {store} (permissions)", worker, answer)
        if not answer["audio"]:
            problem(
                f"cannot read the audio file {audio_path}: the audio must be on a filesystem shared with the "
                "workers, at the same paths as in the track index",
                worker,
                answer,
            )
        for name in _CHECKED_MODULES[1:]:
            if theirs.get(name) != ours[name]:
                mismatched.setdefault(f"{name} {theirs.get(name)} (here {ours[name]})", set()).add(
                    worker
                )
    if problems:
        lines = []
        for what, workers in problems.items():
            shown = ", ".join(workers[:4]) + (
                f" and {len(workers) - 4} more" if len(workers) > 4 else ""
            )
            lines.append(f"{len(workers)} of {len(answers)} Dask worker(s) {what} [{shown}]")
        raise MusiclassError(
            "the Dask workers cannot run this extraction:\n  " + "\n  ".join(lines)
        )
    for what, workers in mismatched.items():
        log.warning(
            "%d Dask worker(s) have %s: the store may differ in the last bits from one computed here",
            len(workers),
            what,
        )
    trimmed = [
        w for w, a in answers.items() if isinstance(a, dict) and a.get("malloc_trim") is not None
    ]
    if trimmed:
        log.warning(
            "%d Dask worker(s) run with %s set (a Dask nanny's default), which makes extraction about 1.5x "
            "slower; start them with `distributed: {nanny: {pre-spawn-environ: {%s: null}}}` in their Dask "
            "config",
            len(trimmed),
            MALLOC_TRIM,
            MALLOC_TRIM,
        )


def _dask_results(distributed, client, tasks, store: Path, work):
    """Submit ``tasks`` a bounded number at a time; yield their results as they complete."""
    import itertools

    todo = iter(tasks)
    owner: dict = {}  # pending future -> its track id
    bound = {"at": -1e9, "n": IN_FLIGHT_PER_THREAD}

    def in_flight() -> int:  # follows the cluster as workers join or leave (re-read every 5 s)
        now = time.monotonic()
        if now - bound["at"] > 5.0:
            bound["at"], bound["n"] = (
                now,
                IN_FLIGHT_PER_THREAD * max(1, sum(client.nthreads().values())),
            )
        return bound["n"]

    def submit(task):
        future = client.submit(
            _dask_task,
            work,
            __version__,
            *task,
            key=f"musiclass-extract-{uuid.uuid4().hex}",
            pure=False,
        )
        owner[future] = task[0]
        return future

    unseen: dict[str, tuple] = {}  # done on a worker, not yet visible here
    first = [submit(t) for t in itertools.islice(todo, in_flight())]
    finished = distributed.as_completed(
        first, loop=client.loop
    )  # our client need not be the default one
    try:
        for future in finished:
            track_id = owner.pop(future)
            result = _dask_outcome(distributed, client, future, track_id)
            future.release()
            for task in itertools.islice(todo, max(1, in_flight() - len(owner))):
                finished.add(submit(task))
            if result[2] is None and not store_mod.is_done(store, track_id):
                unseen[track_id] = result
                continue
            yield result
        yield from _dask_confirm(unseen, store)
    except BaseException:  # interrupted, or the scheduler is gone: cancel what has not run
        with contextlib.suppress(Exception):
            client.cancel(list(owner))
        raise


def _dask_outcome(
    distributed, client, future, track_id: str
) -> tuple[str, int, str | None, str | None]:
    """The result of a finished future; a worker's death becomes the track's failure reason."""
    from concurrent.futures import CancelledError

    from distributed.comm import CommClosedError

    try:
        return future.result()
    except distributed.KilledWorker:
        return track_id, 0, WORKER_DIED, TRANSIENT
    except CancelledError:
        raise ClusterLost(
            "the Dask scheduler dropped this run's tasks (the connection was lost, or the cluster "
            "was restarted)"
        ) from None
    except (CommClosedError, OSError, TimeoutError) as exc:
        if client.status != "running":
            raise ClusterLost(
                f"lost the connection to the Dask scheduler at {client.scheduler.address}"
            ) from None
        return (
            track_id,
            0,
            f"the Dask worker died or lost its connection while processing this track ({exc})",
            TRANSIENT,
        )
    except Exception as exc:  # noqa: BLE001 - e.g. the task could not be unpickled on the worker
        return track_id, 0, f"the Dask task failed: {type(exc).__name__}: {exc}", TRANSIENT


def _dask_confirm(unseen: dict, store: Path):
    """Yield the tracks workers reported done once their chunks show up here; fail the rest."""
    deadline = time.monotonic() + VISIBILITY_WAIT
    while unseen:
        for track_id in [t for t in unseen if store_mod.is_done(store, t)]:
            yield unseen.pop(track_id)
        if not unseen or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    for track_id in list(unseen):
        yield (
            track_id,
            0,
            (
                f"a Dask worker computed this track, but its chunks are not in {store} as seen from "
                "here: the store folder must be on a filesystem shared with the workers, at the same path"
            ),
            TRANSIENT,
        )
