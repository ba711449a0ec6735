"""Small helpers shared across stages: atomic writes, stable hashes, seeded generators."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def stable_json(obj: Any) -> str:
    """JSON with sorted keys and no whitespace: equal objects give equal strings."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=_json_default)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    if isinstance(obj, tuple):
        return list(obj)
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "item"):  # NumPy scalars
        return obj.item()
    raise TypeError(f"cannot serialise {type(obj).__name__} to JSON")


def config_hash(obj: Any, length: int = 12) -> str:
    """Short SHA-256 of the canonical JSON form of ``obj``."""
    return hashlib.sha256(stable_json(obj).encode()).hexdigest()[:length]


def _file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_FILE_MODE = _file_mode()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path in the same folder; rename it onto ``path`` only on success.

    A reader therefore sees either no file or the complete file, never half of one, even if the
    process is killed mid-write. ``suffix`` keeps an extension that a writer insists on (NumPy's
    ``savez`` appends ``.npz`` to names that lack it).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = suffix if suffix is not None else path.suffix
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + suffix, dir=path.parent)
    os.close(fd)
    os.chmod(tmp, _FILE_MODE)  # mkstemp makes 0600 files; give the usual permissions
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def is_temporary(path: str | os.PathLike) -> bool:
    """Whether ``path`` is one of :func:`atomic_path`'s temporary files (``.NAME.XXXX.tmp[.ext]``)."""
    name = Path(path).name
    return name.startswith(".") and ".tmp" in name


def remove_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Delete the temporary files that writes killed mid-way (SIGKILL, power loss: no ``except``
    runs) left in ``folder`` (not recursive); returns them. Call it only while no other process
    writes into ``folder``: before a stage starts or resumes there."""
    folder = Path(folder)
    removed = []
    if folder.is_dir():
        for p in folder.iterdir():
            if p.is_file() and is_temporary(p):
                with contextlib.suppress(FileNotFoundError):
                    p.unlink()
                removed.append(p)
    return removed


def write_text_atomic(path: str | os.PathLike, text: str, newline: str | None = None) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline=newline) as f:
            f.write(text)


def write_json_atomic(path: str | os.PathLike, obj: Any) -> None:
    write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n")


def write_csv_atomic(df, path: str | os.PathLike, **kwargs) -> None:
    """Write a DataFrame as CSV, atomically, with LF line ends and no index unless asked."""
    kwargs.setdefault("index", False)
    kwargs.setdefault("lineterminator", "\n")
    with atomic_path(path) as tmp:
        df.to_csv(tmp, **kwargs)


def safe_name(text: str) -> str:
    """A file-name-safe, collision-free rendering of an identifier."""
    keep = "".join(c if c.isalnum() or c in "-_." else "_" for c in text)
    if keep != text or keep.startswith("."):
        keep = f"{keep.lstrip('.')}-{hashlib.sha1(text.encode()).hexdigest()[:8]}"
    return keep


def read_json_object(
    path: str | os.PathLike,
    missing: str = "file not found (is this a model directory written by `musiclass train`?)",
) -> dict:
    """A JSON object from ``path``; :class:`~musiclass.errors.FileError` (``missing``) when the file
    is absent, :class:`~musiclass.errors.MetadataError` naming it when it is not a JSON object."""
    from .errors import FileError, MetadataError

    path = Path(path)
    if not path.is_file():
        raise FileError(path, missing)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MetadataError(path, f"not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise MetadataError(path, "expected a JSON object")
    return data


def read_csv_table(
    path: str | os.PathLike,
    *,
    header: str = "a CSV header line",
    kind: str = "a CSV table",
    **kwargs,
):
    """``pd.read_csv(path, **kwargs)``, an unparsable file becoming a
    :class:`~musiclass.errors.MetadataError` naming it: empty (``header`` was expected), not UTF-8
    (so not ``kind``), or not CSV."""
    import pandas as pd

    from .errors import MetadataError

    try:
        return pd.read_csv(path, **kwargs)
    except pd.errors.EmptyDataError:
        raise MetadataError(path, f"empty file: expected {header}") from None
    except UnicodeDecodeError:
        raise MetadataError(path, f"not UTF-8 text: not {kind}") from None
    except (pd.errors.ParserError, ValueError) as exc:
        raise MetadataError(path, f"cannot parse as CSV ({str(exc).strip()})") from None


def default_jobs() -> int:
    """Worker processes to use when not told: the CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)
