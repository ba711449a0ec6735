"""SIGTERM stops a run the way Ctrl-C does: cleanly, its workers with it, nothing finished lost.

Python's default SIGTERM ends the process at once, running no ``finally``: a process pool's
workers, its fork server and the resource tracker would be left running, and a batch system's
timeout (SLURM sends SIGTERM) would leak them. Under :func:`sigterm_interrupts` a SIGTERM raises
:class:`Terminated`, a ``KeyboardInterrupt``, so every path that handles Ctrl-C (cancel what is
pending, stop the workers, release the locks) handles it too. A stage that stops this way raises
:class:`Interrupted`, and the command line exits with ``128 + signal`` (130 for SIGINT, 143 for
SIGTERM), as a shell reports a process killed by that signal.

A SIGKILL runs no handler at all: :func:`exit_with`, run in each pool worker, ends the worker when
its owner is gone.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import threading
import time
from collections.abc import Iterator

from .errors import MusiclassError


class Terminated(KeyboardInterrupt):
    """Raised in the main thread by SIGTERM under :func:`sigterm_interrupts`.

    Attributes
    ----------
    signum : int
        ``signal.SIGTERM``.
    """

    signum = int(signal.SIGTERM)


class Interrupted(MusiclassError):
    """A stage stopped by a signal; what it finished is kept for the next run to resume.

    Parameters
    ----------
    message : str
        What was kept and how to resume.
    signum : int
        The signal (SIGINT for Ctrl-C, SIGTERM).

    Attributes
    ----------
    signum : int
        The signal.
    exit_status : int
        ``128 + signum``, the command line's exit status.
    """

    def __init__(self, message: str, signum: int = int(signal.SIGINT)):
        self.signum = int(signum)
        self.exit_status = 128 + self.signum
        super().__init__(message)

    def __reduce__(self):  # keep the signal when sent between processes
        return (type(self), (str(self), self.signum))


def signal_of(exc: BaseException) -> int:
    """The signal an interrupt came from.

    Parameters
    ----------
    exc : BaseException
        A ``KeyboardInterrupt`` (SIGINT), a :class:`Terminated` or an :class:`Interrupted`.

    Returns
    -------
    int
        Its ``signum``; SIGINT for a plain ``KeyboardInterrupt``.
    """
    return int(getattr(exc, "signum", signal.SIGINT))


@contextlib.contextmanager
def sigterm_interrupts(resend: bool = True) -> Iterator[bool]:
    """Within the block, SIGTERM raises :class:`Terminated` in the main thread (once).

    Only the first SIGTERM raises: later ones, while the run stops its workers, are ignored. The
    previous handler is restored after the block. Nothing is installed off the main thread, nor
    when a handler other than the default is already set (the application's, or an outer
    block's).

    Parameters
    ----------
    resend : bool, default=True
        After a SIGTERM, once the block has unwound (its workers stopped), send SIGTERM again
        under the default handler: the process still ends by SIGTERM, as its sender meant, and a
        library caller's ``except`` cannot swallow it. The command line passes False: it turns
        the interrupt into exit status 143 itself.

    Yields
    ------
    bool
        Whether the handler was installed.
    """
    if threading.current_thread() is not threading.main_thread():
        yield False
        return
    previous = signal.getsignal(signal.SIGTERM)
    if previous is not signal.SIG_DFL:
        yield False
        return
    fired = []

    def handler(signum, frame):  # numpydoc ignore=GL08
        if not fired:
            fired.append(signum)
            raise Terminated()

    signal.signal(signal.SIGTERM, handler)
    try:
        yield True
    finally:
        signal.signal(signal.SIGTERM, previous)
        if fired and resend:
            os.kill(os.getpid(), signal.SIGTERM)


def exit_with(pid: int, poll: float = 1.0) -> threading.Thread | None:
    """End this process (``os._exit``) as soon as process ``pid`` has ended.

    For a process pool's initializer. Python's pool workers wait for work for ever when their
    owner is SIGKILLed, and a forkserver pool's workers are children of the fork server, not of
    the owner, so they get no signal when it dies (nor would ``PR_SET_PDEATHSIG`` help: the fork
    server outlives it while the workers run); they would hold the fork server and the resource
    tracker alive too. A daemon thread waits on a pidfd of ``pid`` (Linux), or polls for it
    every ``poll`` seconds elsewhere. A file half-written is left as a temporary file, which
    the next run removes.

    Parameters
    ----------
    pid : int
        The process to follow (it must be running now).
    poll : float
        Seconds between checks where there is no pidfd.

    Returns
    -------
    threading.Thread or None
        The watching thread; None when ``pid`` had already ended (then this process is ending).
    """
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        os._exit(1)
        return None
    except (AttributeError, OSError):  # no pidfd here (not Linux, or an old kernel): poll
        fd = None

    def watch():  # numpydoc ignore=GL08
        if fd is not None:
            select.select([fd], [], [])  # readable once the process has ended
        else:
            while True:
                time.sleep(poll)
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                except PermissionError:  # alive, another user's (the pid was reused)
                    break
        os._exit(1)

    thread = threading.Thread(target=watch, name="musiclass-exit-with-parent", daemon=True)
    thread.start()
    return thread
