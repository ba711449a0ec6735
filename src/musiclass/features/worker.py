"""What runs in an extraction worker process: decode, frame and describe one track, save its chunks.

The driver (:func:`musiclass.features.extract.extract`) sends tasks ``(track_id, path, config,
store)`` to its own process, to a local process pool or to Dask workers
(:mod:`musiclass.features.dask_run`); each runs :func:`process_track` under one BLAS thread, so
the store has the same bytes wherever it was computed. This module holds what a worker needs and
nothing of the driver's bookkeeping (resume, failures, finalising the store).
"""

from __future__ import annotations

import signal
from pathlib import Path

from .. import audio
from ..config import FrontendConfig
from ..errors import FileError
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
) -> tuple[str, int, str | None]:
    """Decode, frame and describe one track, and save its chunks into the store.

    With hand-crafted descriptors at another sample rate than the frames', the file is decoded
    once at its native rate and resampled for each (the same result as two loads). One bad track
    must not stop a long run: every error is returned as the track's failure reason.

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
        Why the track failed (unreadable, too short, out of memory, ...), or None.
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
        hc = descriptors(hc_signal, HANDCRAFTED_SR) if config.handcrafted else None
        store_mod.save_track(
            store, track_id, frames.arrays, frames.starts, frames.fill, hc, config.dtype
        )
        return track_id, len(frames), None
    except FileError as exc:
        return track_id, 0, exc.reason
    except MemoryError:
        return track_id, 0, "out of memory while processing this track"
    except Exception as exc:  # noqa: BLE001 - one bad track must not stop a long run
        return track_id, 0, f"unexpected {type(exc).__name__}: {exc}"
