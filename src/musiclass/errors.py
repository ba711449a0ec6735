"""One family of error types, so callers can catch what they can handle.

Every error about a file names the file and says why, in words a user can act on::

    AudioError: data/genres/jazz/jazz.00054.wav: cannot decode audio (Format not recognised)
"""

from __future__ import annotations

import os


class MusiclassError(Exception):
    """Base class of every error this package raises on purpose.

    Catch it to handle any error that musiclass raises deliberately; the subclasses say what kind of
    thing went wrong.

    See Also
    --------
    ConfigError : A wrong configuration value.
    FileError : Something wrong with one file.
    DatasetError : A dataset tree that cannot be indexed.
    """


class ConfigError(MusiclassError, ValueError):
    """A configuration value is missing, unknown or out of range.

    It is also a ``ValueError``, so code that already catches ``ValueError`` for bad arguments
    catches it too.
    """


class FileError(MusiclassError):
    """Something is wrong with one file.

    ``path`` and ``reason`` are kept apart for reports; the message is ``"<path>: <reason>"``.
    Pickling keeps both, so the error survives being sent between processes.

    Parameters
    ----------
    path : str or os.PathLike
        The file. Kept as a string (``os.fspath(path)``).
    reason : str
        Why the file cannot be used, in words a user can act on.

    Attributes
    ----------
    path : str
        The file, as given.
    reason : str
        Why the file cannot be used.

    See Also
    --------
    AudioError : Audio that cannot be used.
    MetadataError : A metadata or split file with the wrong format or content.

    Examples
    --------
    >>> from musiclass.errors import FileError
    >>> err = FileError("data/genres/jazz/jazz.00054.wav", "cannot decode audio")
    >>> str(err)
    'data/genres/jazz/jazz.00054.wav: cannot decode audio'
    >>> err.reason
    'cannot decode audio'
    """

    def __init__(self, path: str | os.PathLike, reason: str):
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")

    def __reduce__(self):  # keep path and reason when sent between processes
        return (type(self), (self.path, self.reason))


class AudioError(FileError):
    """Audio that cannot be used: missing, undecodable, empty, non-finite, silent or too short.

    Raised by :mod:`musiclass.audio`; it takes the ``path`` and ``reason`` of :class:`FileError`.
    """


class MetadataError(FileError):
    """A metadata or split file that does not have the expected format or content.

    It takes the ``path`` and ``reason`` of :class:`FileError`; the reason names the line or the
    column at fault where there is one.
    """


class DatasetError(MusiclassError):
    """A dataset tree that cannot be indexed at all (wrong root, no audio found).

    Problems with single files of a tree are reported in the index instead
    (:attr:`musiclass.datasets.base.TrackIndex.problems`).
    """
