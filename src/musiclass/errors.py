"""One family of error types, so callers can catch what they can handle.

Every error about a file names the file and says why, in words a user can act on::

    AudioError: data/genres/jazz/jazz.00054.wav: cannot decode audio (Format not recognised)
"""

from __future__ import annotations

import os


class MusiclassError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigError(MusiclassError, ValueError):
    """A configuration value is missing, unknown or out of range."""


class FileError(MusiclassError):
    """Something is wrong with one file. ``path`` and ``reason`` are kept apart for reports."""

    def __init__(self, path: str | os.PathLike, reason: str):
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")

    def __reduce__(self):  # keep path and reason when sent between processes
        return (type(self), (self.path, self.reason))


class AudioError(FileError):
    """Audio that cannot be used: missing, undecodable, empty, non-finite, silent or too short."""


class MetadataError(FileError):
    """A metadata or split file that does not have the expected format or content."""


class DatasetError(MusiclassError):
    """A dataset tree that cannot be indexed at all (wrong root, no audio found)."""
