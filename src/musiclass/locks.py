"""One writer per folder: an advisory lock on every store, model directory and study folder written.

A writer (``extract`` into a store, ``train`` into a model directory, ``split`` into a store's
split folder, ``run`` / ``demo`` into a study or run folder) holds an exclusive ``flock`` on a lock
file inside the folder (:data:`musiclass.layout.LOCK_FILE`) for as long as it writes. The file
holds the holder's pid, host, start time and command as JSON, so a second writer is refused with
one line that names them::

    error: runs/store: being written by another musiclass process (pid 4242 on node1, since
    2026-05-09T07:35:25+00:00: musiclass extract ...); wait for it to end, or write elsewhere

It is refused before it touches anything, so nothing the first writer computed is lost. Readers
(``predict``, ``evaluate``, ``report``) take no lock.

The kernel releases a ``flock`` when its process dies, however it dies (SIGKILL included), so a
killed writer never blocks the next one: its lock file stays behind (its pid is gone) and the next
writer takes it over, with a note in the log. A writer that ends removes the lock file. The same
process may take a folder's lock again while it holds it (a study trains into a model directory
it already holds, say): the lock is re-entrant within a thread.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import inspect
import json
import logging
import os
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .errors import FileError, MusiclassError
from .layout import LOCK_FILE, file_lock

log = logging.getLogger(__name__)


class LockedError(MusiclassError):
    """The folder is being written by another process (or another thread of this one).

    Parameters
    ----------
    folder : str or os.PathLike
        The folder that is locked.
    holder : dict
        What the lock file says of its holder: ``pid``, ``host``, ``since``, ``command`` (any
        of them may be missing, for a holder that is still starting).

    Attributes
    ----------
    folder : str
        The folder, as given.
    holder : dict
        The holder's record.
    """

    def __init__(self, folder: str | os.PathLike, holder: dict[str, Any]):
        self.folder = os.fspath(folder)
        self.holder = dict(holder)
        super().__init__(
            f"{self.folder}: {describe(holder)}; wait for it to end, or write elsewhere"
        )

    def __reduce__(self):  # keep folder and holder when sent between processes
        return (type(self), (self.folder, self.holder))


def describe(holder: dict[str, Any]) -> str:
    """Who holds a lock, in words: "being written by" the pid, host, start time and command.

    Parameters
    ----------
    holder : dict
        A lock file's record (see :func:`holder_record`); an empty one is a holder that has not
        written its record yet.

    Returns
    -------
    str
        One line.
    """
    if not holder.get("pid"):
        return "being written by another musiclass process (it is starting)"
    mine = holder.get("pid") == os.getpid() and holder.get("host") == socket.gethostname()
    who = "another thread of this process" if mine else "another musiclass process"
    text = f"being written by {who} (pid {holder['pid']} on {holder.get('host', '?')}"
    if holder.get("since"):
        text += f", since {holder['since']}"
    if holder.get("command"):
        text += f": {holder['command']}"
    return text + ")"


def holder_record() -> dict[str, Any]:
    """What this process writes into a lock file it takes.

    Returns
    -------
    dict
        ``pid``, ``host``, ``since`` (ISO 8601, local time with its offset) and ``command``
        (the command line, shortened to 200 characters).
    """
    command = " ".join([Path(sys.argv[0]).name if sys.argv else "python", *sys.argv[1:]])
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since": datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": command[:200],
    }


def read_holder(folder: str | os.PathLike) -> dict[str, Any]:
    """The record in ``folder``'s lock file, without taking the lock.

    Parameters
    ----------
    folder : str or os.PathLike
        A folder that may be locked.

    Returns
    -------
    dict
        The holder's record; empty when there is no lock file or it holds no record.
    """
    try:
        return _parse(Path(folder, LOCK_FILE).read_bytes())
    except OSError:
        return {}


def _parse(data: bytes) -> dict[str, Any]:
    try:
        record = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return record if isinstance(record, dict) else {}


def _read_fd(fd: int) -> dict[str, Any]:
    return _parse(os.pread(fd, 64 * 1024, 0))


@dataclass
class _Held:
    fd: int
    path: Path
    thread: int
    pid: int
    depth: int = 1


#: the locks this process holds, by the lock file's resolved path
_HELD: dict[str, _Held] = {}
_GUARD = threading.Lock()


@contextlib.contextmanager
def locked(folder: str | os.PathLike) -> Iterator[Path]:
    """Hold ``folder``'s write lock for the block (creating the folder when it is missing).

    A folder this call created is removed again at the end when the block left it empty (a
    writer that failed at once leaves no trace). A stale lock file of a process that is gone is
    taken over. On a filesystem without ``flock`` support the block runs unlocked, with a
    warning.

    Parameters
    ----------
    folder : str or os.PathLike
        The folder about to be written.

    Yields
    ------
    pathlib.Path
        The lock file.

    Raises
    ------
    LockedError
        Another process (or another thread of this one) holds the lock.
    FileError
        The folder or its lock file cannot be created (a read-only location, say).
    """
    folder = Path(folder)
    with _holding(folder, folder / LOCK_FILE, folder) as path:
        yield path


@contextlib.contextmanager
def locked_file(path: str | os.PathLike) -> Iterator[Path]:
    """Hold the write lock of one output file for the block (``predict --out FILE``).

    Like :func:`locked`, for a file rather than a folder: the lock file lies beside it
    (:func:`musiclass.layout.file_lock`), so writers of other files in the same folder are not
    refused, and a second writer of this file is refused naming the file and its holder.

    Parameters
    ----------
    path : str or os.PathLike
        The file about to be written (its folder is created when it is missing).

    Yields
    ------
    pathlib.Path
        The lock file beside ``path``.

    Raises
    ------
    LockedError
        The file is being written by another process, or by another thread of this one.
    FileError
        Its folder or its lock file cannot be created.
    """
    path = Path(path)
    with _holding(path.parent, file_lock(path), path) as lock:
        yield lock


@contextlib.contextmanager
def _holding(folder: Path, path: Path, named: Path) -> Iterator[Path]:
    """Hold the lock file ``path`` in ``folder``; errors name ``named`` (the folder or file)."""
    created = _make_folder(folder)
    key = os.path.realpath(path)
    with _GUARD:
        held = _HELD.get(key)
        if held is not None and held.pid == os.getpid():
            if held.thread != threading.get_ident():
                _remove_empty(created)
                raise LockedError(named, _read_fd(held.fd))
            held.depth += 1
        else:
            held = None
    if held is not None:  # re-entered by its holder
        try:
            yield path
        finally:
            with _GUARD:
                held.depth -= 1
        return
    try:
        fd = _acquire(named, path)
    except BaseException:
        _remove_empty(created)
        raise
    if fd is None:  # no flock here: advisory only, so carry on unlocked
        try:
            yield path
        finally:
            _remove_empty(created)
        return
    with _GUARD:
        _HELD[key] = _Held(fd, path, threading.get_ident(), os.getpid())
    try:
        yield path
    finally:
        with _GUARD:
            _HELD.pop(key, None)
        # unlink while still holding it: a waiter that opened this file finds it unlinked and
        # opens the path again (see _acquire), so two writers never hold two different files
        with contextlib.suppress(OSError):
            path.unlink()
        os.close(fd)
        _remove_empty(created)


def _make_folder(folder: Path) -> list[Path]:
    """Create ``folder`` (and its missing parents); return what was created, deepest first."""
    missing = []
    p = folder
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FileError(folder, f"cannot create this folder ({exc.strerror or exc})") from None
    return missing


def _remove_empty(created: list[Path]) -> None:
    for p in created:  # deepest first; stops at the first one that is not empty
        try:
            p.rmdir()
        except OSError:
            return


def _acquire(folder: Path, path: Path) -> int | None:
    """The open, locked lock file's descriptor (None: this filesystem has no flock)."""
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise FileError(
                folder, f"cannot create its lock file {path.name} ({exc.strerror or exc})"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_fd(fd)
            os.close(fd)
            raise LockedError(folder, holder) from None
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                log.warning("%s: no file locking here (%s); writing without a lock", folder, exc)
                return None
            raise FileError(folder, f"cannot lock {path.name} ({exc.strerror or exc})") from None
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if not same:  # its holder unlinked it as it finished: lock the path's new file
            os.close(fd)
            continue
        break
    stale = _read_fd(fd)
    if stale.get("pid"):
        log.warning(
            "%s: took over the lock left by pid %s on %s (since %s), which has ended",
            folder,
            stale.get("pid"),
            stale.get("host", "?"),
            stale.get("since", "?"),
        )
    data = json.dumps(holder_record()).encode("utf-8")
    os.ftruncate(fd, 0)
    os.pwrite(fd, data, 0)
    return fd


def writes(folder: str | Callable[..., str | os.PathLike]) -> Callable:
    """Decorate a function that writes a folder: it runs holding that folder's lock.

    Parameters
    ----------
    folder : str or callable
        The name of the parameter that gives the folder (its default applies when the caller
        leaves it out), or a function of the call's arguments (by name) that returns it.

    Returns
    -------
    callable
        The decorator; the decorated function keeps its name, docstring and signature, and
        raises :class:`LockedError` when another writer holds the folder.
    """

    def decorate(func: Callable) -> Callable:  # numpydoc ignore=GL08
        signature = inspect.signature(func)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):  # numpydoc ignore=GL08
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            target = folder(**bound.arguments) if callable(folder) else bound.arguments[folder]
            with locked(target):
                return func(*args, **kwargs)

        return wrapper

    return decorate
