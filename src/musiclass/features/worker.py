"""What runs in an extraction worker process: decode, frame and describe one track, save its chunks.

The driver (:func:`musiclass.features.extract.extract`) sends tasks ``(track_id, path, config,
store)`` to its own process, to a local process pool or to Dask workers
(:mod:`musiclass.features.dask_run`); each runs :func:`process_track` under one BLAS thread, so
the store has the same bytes wherever it was computed. This module holds what a worker needs and
nothing of the driver's bookkeeping (resume, failures, finalising the store).
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import signal
from pathlib import Path

import numpy as np

from .. import audio
from ..config import FrontendConfig
from ..errors import AudioError, FileError
from ..interrupts import exit_with
from . import store as store_mod
from .frontend import Frontend
from .handcrafted import SAMPLE_RATE as HANDCRAFTED_SR
from .handcrafted import descriptors

#: imported once in the fork server (and by each Dask worker at its start-up check), so every
#: worker starts warm (librosa loads its submodules lazily: without this each worker spends about
#: a second importing on its first track). The driver module is listed because the runners send
#: its ``_process_task`` (which calls this module's :func:`process_track`).
PRELOAD = [
    "musiclass.features.extract",
    "librosa.core.spectrum",
    "librosa.core.audio",
    "librosa.feature",
]
#: what the hand-crafted descriptors add (onset strength and tempo)
PRELOAD_HANDCRAFTED = ["librosa.onset", "scipy.stats"]

#: a failure the next run retries: not the file's content but the machine (disk full, out of
#: memory, an I/O error, a worker that died)
TRANSIENT = "transient"
#: a failure of the file's content (undecodable, too short, silent, missing): not retried until the
#: file changes (its fingerprint, see :func:`musiclass.features.store.file_fingerprint`) or --force
PERMANENT = "permanent"
#: errno values of a full disk or an exceeded quota
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
#: what ``ndarray.tofile`` (inside ``np.save``) raises on a short write, with no errno: a full disk
_SHORT_WRITE = re.compile(r"(\d+) requested and (\d+) written")

#: one Frontend per config hash, per worker process
_FRONTENDS: dict[str, Frontend] = {}
_LIMITS = None


def preload(handcrafted: bool) -> list[str]:
    """The modules a worker imports before its first track.

    Parameters
    ----------
    handcrafted : bool
        The config computes hand-crafted descriptors (:data:`PRELOAD_HANDCRAFTED` too).

    Returns
    -------
    list of str
        Module names, for ``set_forkserver_preload`` or ``importlib.import_module``.
    """
    return PRELOAD + (PRELOAD_HANDCRAFTED if handcrafted else [])


def init_worker(parent: int | None = None) -> None:
    """Set up a pool worker process (the pool's initializer).

    One BLAS/OpenMP thread: the parallelism is across tracks, and matrix products must round as
    in a one-process run. SIGINT and SIGTERM are ignored: Ctrl-C (and a batch system's SIGTERM)
    reaches the whole process group, and stopping the run is the parent's job, which kills its
    workers. With ``parent``, a thread ends this process as soon as the parent is gone, however it
    died (see :func:`musiclass.interrupts.exit_with`).

    Parameters
    ----------
    parent : int, optional
        The pid of the process that owns the pool.
    """
    global _LIMITS
    from threadpoolctl import threadpool_limits

    _LIMITS = threadpool_limits(limits=1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if parent is not None:
        exit_with(parent)


def process_track(
    track_id: str, path: str, config: FrontendConfig, store: Path
) -> tuple[str, int, str | None, str | None]:
    """Decode, frame and describe one track, and save its chunks into the store.

    With hand-crafted descriptors at another sample rate than the frames', the file is decoded
    once at its native rate and resampled for each (the same result as two loads). One bad track
    must not stop a long run: every error is returned as the track's failure reason, with its kind
    (:func:`describe_failure`: transient failures are retried by the next run).

    Parameters
    ----------
    track_id : str
        The track's id in the index.
    path : str
        Its audio file.
    config : FrontendConfig
        The frontend (its :class:`~musiclass.features.frontend.Frontend` is cached per config).
    store : Path
        The store folder being built (see :func:`musiclass.features.store.save_track`).

    Returns
    -------
    track_id : str
        The track's id, as given.
    n_frames : int
        Frames saved; 0 on failure.
    error : str or None
        Why the track failed (unreadable, too short, disk full, out of memory, ...), or None.
    kind : str or None
        :data:`TRANSIENT` or :data:`PERMANENT` (see :func:`describe_failure`), or None.
    """
    try:
        key = config.hash()
        fe = _FRONTENDS.get(key)
        if fe is None:
            fe = _FRONTENDS[key] = Frontend(config)
        if config.handcrafted and config.sample_rate != HANDCRAFTED_SR:
            # decode once at the native rate, resample for each consumer (same result as two loads)
            native, native_sr = audio.load(path, sr=None, min_duration=config.min_duration)
            y = audio.resample(native, native_sr, config.sample_rate)
            hc_signal = audio.resample(native, native_sr, HANDCRAFTED_SR)
            del native
        else:
            y, _ = audio.load(path, sr=config.sample_rate, min_duration=config.min_duration)
            hc_signal = y
        frames = fe.compute(y)
        try:
            hc = descriptors(hc_signal, HANDCRAFTED_SR) if config.handcrafted else None
        except ValueError as exc:  # the content has no finite descriptors (e.g. DC-only audio)
            raise AudioError(path, f"no hand-crafted descriptors: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - one bad track must not stop a long run
        return (track_id, 0, *describe_failure(exc))
    # what the chunks take on disk (the data; headers are a few hundred bytes more)
    needed = sum(int(a.size) * np.dtype(config.dtype).itemsize for a in frames.arrays.values())
    needed += 8 * (2 * len(frames) + (len(hc) if hc is not None else 0))
    try:
        store_mod.save_track(
            store, track_id, frames.arrays, frames.starts, frames.fill, hc, config.dtype
        )
    except Exception as exc:  # noqa: BLE001 - a full disk fails this track; the driver stops
        return (track_id, 0, *describe_failure(exc, store=store, needed=needed))
    return track_id, len(frames), None, None


def _size(n: float) -> str:
    """Bytes in words: ``1.5 MiB``."""
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError  # pragma: no cover - the loop always returns


def is_disk_full(exc: BaseException) -> bool:
    """Tell whether an error is a full disk (or an exceeded quota).

    Parameters
    ----------
    exc : BaseException
        The error. Its ``__cause__`` / ``__context__`` chain is followed.

    Returns
    -------
    bool
        True for an ``OSError`` with errno ``ENOSPC`` or ``EDQUOT``, or NumPy's short-write error
        (``"316160 requested and 41952 written"``, which has no errno: ``tofile`` reports a short
        ``fwrite`` so, and on a local file that is a full disk).
    """
    return any(
        isinstance(e, OSError)
        and (e.errno in DISK_FULL_ERRNOS or (e.errno is None and _SHORT_WRITE.search(str(e))))
        for e in _chain(exc)
    )


def _chain(exc: BaseException):
    """The error, then its causes and contexts (``raise ... from None`` keeps the context)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def free_space(folder: str | os.PathLike) -> int | None:
    """Free bytes on the filesystem of ``folder`` (for an unprivileged user), or None if unknown.

    Parameters
    ----------
    folder : str or os.PathLike
        A folder (or file) on the filesystem.

    Returns
    -------
    int or None
        ``shutil.disk_usage(folder).free``; None when it cannot be read.
    """
    try:
        return int(shutil.disk_usage(folder).free)
    except OSError:
        return None


def disk_full_reason(store: str | os.PathLike | None, needed: int | None) -> str:
    """The failure reason of a track whose chunks did not fit: what is needed, what is free.

    Parameters
    ----------
    store : str or os.PathLike or None
        The store folder (its filesystem is measured), or None.
    needed : int or None
        The bytes the track's chunks take, or None when unknown.

    Returns
    -------
    str
        ``"disk full: ..."``.
    """
    free = free_space(store) if store is not None else None
    parts = []
    if needed is not None:
        parts.append(f"this track's chunks need {_size(needed)}")
    if free is not None:
        parts.append(f"{_size(free)} free on the store's filesystem")
    detail = f" ({', '.join(parts)})" if parts else ""
    return f"disk full{detail}; free space and run the same command again"


def _available_memory() -> int | None:
    """Bytes of memory available (Linux: ``MemAvailable`` of /proc/meminfo), or None."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def worker_killed_reason(signum: int) -> str:
    """The failure reason of a track whose pool worker was killed while it processed the track.

    The kernel's out-of-memory killer sends SIGKILL, so that is what the reason suggests first;
    the failure is :data:`TRANSIENT` (the next run retries the track).

    Parameters
    ----------
    signum : int
        The signal that ended the worker.

    Returns
    -------
    str
        ``"worker killed by SIGKILL while processing this track (out of memory?); ..."``, with
        the memory available now where it can be read.
    """
    try:
        name = signal.Signals(signum).name
    except ValueError:
        name = f"signal {signum}"
    text = f"worker killed by {name} while processing this track"
    if signum == signal.SIGKILL:
        text += " (out of memory?)"
        avail = _available_memory()
        if avail is not None:
            text += f"; {_size(avail)} available now"
    return text + "; retried on the next run (with fewer --jobs)"


def describe_failure(
    exc: BaseException, store: str | os.PathLike | None = None, needed: int | None = None
) -> tuple[str, str]:
    """Say why a track failed, and whether the next run should try it again.

    A failure is :data:`TRANSIENT` when it comes from the machine, not from the file: a full disk
    (see :func:`is_disk_full`), out of memory (``MemoryError``, with NumPy's "Unable to allocate
    ..." when it says how much), or any other ``OSError`` but a missing file (an I/O error, a stale
    NFS handle, a permission). Everything else (the file cannot be decoded, is too short, silent,
    missing; an unexpected error computing its frames) is :data:`PERMANENT`. The error's cause /
    context chain is followed, so an :class:`~musiclass.errors.AudioError` raised on a
    ``MemoryError`` counts as out of memory.

    Parameters
    ----------
    exc : BaseException
        The error.
    store : str or os.PathLike, optional
        The store folder being written: a full disk says how much is free there.
    needed : int, optional
        The bytes the track's chunks take (known once they are computed).

    Returns
    -------
    reason : str
        In words a user can act on (``"disk full (this track's chunks need 1.2 MiB, 40.0 KiB free
        on the store's filesystem); ..."``).
    kind : str
        :data:`TRANSIENT` or :data:`PERMANENT`.
    """
    chain = list(_chain(exc))
    if is_disk_full(exc):
        return disk_full_reason(store, needed), TRANSIENT
    memory = next((e for e in chain if isinstance(e, MemoryError)), None)
    if memory is not None:
        said = str(memory).strip()
        avail = _available_memory()
        text = "out of memory while processing this track"
        if said:
            text += f" ({said})"
        if avail is not None:
            text += f"; {_size(avail)} available now"
        return text + "; retried on the next run (with fewer --jobs)", TRANSIENT
    io = next(
        (e for e in chain if isinstance(e, OSError) and e.errno not in (None, errno.ENOENT)), None
    )
    if io is not None:
        where = f" on {io.filename}" if io.filename else ""
        what = exc.reason if isinstance(exc, FileError) else f"{type(io).__name__}{where}"
        return f"{what} ({os.strerror(io.errno)}); retried on the next run", TRANSIENT
    if isinstance(exc, FileError):
        # libsndfile's "System error" on open (audio._reason asks the OS why): a permission or an
        # I/O error, which no content fingerprint sees being fixed
        environmental = ("permission denied", "system error")
        if any(w in exc.reason.lower() for w in environmental):
            return f"{exc.reason}; retried on the next run", TRANSIENT
        return exc.reason, PERMANENT
    return f"unexpected {type(exc).__name__}: {exc}", PERMANENT
