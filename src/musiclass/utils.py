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

from .errors import ConfigError, FileError, MetadataError


def stable_json(obj: Any) -> str:
    """Serialise ``obj`` as JSON with sorted keys and no whitespace: equal objects give equal strings.

    Sets and frozensets become sorted lists, tuples lists, paths strings and NumPy scalars Python
    numbers.

    Parameters
    ----------
    obj : Any
        A JSON-serialisable value (dicts, lists, strings, numbers, None), which may also hold sets,
        tuples, :class:`pathlib.Path` objects and NumPy scalars.

    Returns
    -------
    str
        The canonical JSON text.

    Raises
    ------
    TypeError
        When a value has no JSON form.

    Examples
    --------
    >>> from musiclass.utils import stable_json
    >>> stable_json({"b": 1, "a": (2, 3)})
    '{"a":[2,3],"b":1}'
    """
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
    """Return a short SHA-256 of the canonical JSON form of ``obj``.

    Parameters
    ----------
    obj : Any
        Anything :func:`stable_json` accepts.
    length : int, default=12
        How many hexadecimal digits to keep.

    Returns
    -------
    str
        The first ``length`` hex digits of the SHA-256 of ``stable_json(obj)``: the same for equal
        objects in any process.

    Examples
    --------
    >>> from musiclass.utils import config_hash
    >>> config_hash({"a": 1, "b": 2}) == config_hash({"b": 2, "a": 1})
    True
    >>> len(config_hash({"a": 1}))
    12
    """
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

    The parent folders are created. The temporary file (``.NAME.XXXX.tmp[.ext]``, see
    :func:`is_temporary`) exists, empty, with the usual permissions (those of the umask) when the
    block starts; if the block raises, it is deleted and the exception propagates.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write.
    suffix : str or None, default=None
        Extension that ends the temporary file's name; ``None`` uses the suffix of ``path``.

    Yields
    ------
    pathlib.Path
        The temporary file to write to.

    Examples
    --------
    >>> import numpy as np
    >>> from musiclass.utils import atomic_path
    >>> with atomic_path("store/arrays.npz", suffix=".npz") as tmp:  # doctest: +SKIP
    ...     np.savez(tmp, x=np.zeros(3))
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
    """Tell whether ``path`` is one of :func:`atomic_path`'s temporary files (``.NAME.XXXX.tmp[.ext]``).

    Parameters
    ----------
    path : str or os.PathLike
        A file name or path; only its last component is looked at.

    Returns
    -------
    bool
        True when the name starts with ``.`` and contains ``.tmp``.

    Examples
    --------
    >>> from musiclass.utils import is_temporary
    >>> is_temporary("runs/.index.csv.k2j4x8.tmp.csv")
    True
    >>> is_temporary("runs/index.csv")
    False
    """
    name = Path(path).name
    return name.startswith(".") and ".tmp" in name


def remove_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Delete the temporary files that writes killed mid-way left in ``folder``.

    A write killed by SIGKILL or a power loss runs no ``except`` clause, so :func:`atomic_path`
    cannot remove its temporary file. Only ``folder`` itself is searched (not recursive). Call it
    only while no other process writes into ``folder``: before a stage starts or resumes there.

    Parameters
    ----------
    folder : str or os.PathLike
        The folder to clean; a folder that does not exist is left alone.

    Returns
    -------
    list of pathlib.Path
        The files removed (empty when there were none).
    """
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
    """Write ``text`` to ``path`` as UTF-8, atomically (see :func:`atomic_path`).

    Parameters
    ----------
    path : str or os.PathLike
        The file to write; its folder is created when missing.
    text : str
        The content.
    newline : str or None, default=None
        Passed to :func:`open`: ``None`` writes the platform's line ends, ``""`` writes ``text`` as
        it is.
    """
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline=newline) as f:
            f.write(text)


def write_json_atomic(path: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` to ``path`` as indented JSON with sorted keys and a final newline, atomically.

    Sets and frozensets become sorted lists, tuples lists, paths strings and NumPy scalars Python
    numbers, as in :func:`stable_json`.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write; its folder is created when missing.
    obj : Any
        The value to write.

    Raises
    ------
    TypeError
        When a value has no JSON form (nothing is written then).
    """
    write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n")


def write_csv_atomic(df, path: str | os.PathLike, **kwargs) -> None:
    r"""Write a DataFrame as CSV, atomically, with LF line ends and no index unless asked.

    Parameters
    ----------
    df : pandas.DataFrame
        The table to write.
    path : str or os.PathLike
        The file to write; its folder is created when missing.
    **kwargs
        Passed to :meth:`pandas.DataFrame.to_csv`; ``index`` defaults to False and
        ``lineterminator`` to ``"\n"``.
    """
    kwargs.setdefault("index", False)
    kwargs.setdefault("lineterminator", "\n")
    with atomic_path(path) as tmp:
        df.to_csv(tmp, **kwargs)


def safe_name(text: str) -> str:
    """Render an identifier as a file-name-safe, collision-free name.

    Every character other than a letter, a digit, ``-``, ``_`` and ``.`` becomes ``_``. A name that
    had to change, or that starts with ``.``, also loses its leading dots and gets ``-`` and the
    first 8 hex digits of the SHA-1 of the original appended, so two identifiers never share a file
    name; a name that is already safe is returned unchanged.

    Parameters
    ----------
    text : str
        The identifier (a track id, a model name).

    Returns
    -------
    str
        The file name.

    Examples
    --------
    >>> from musiclass.utils import safe_name
    >>> safe_name("blues.00042")
    'blues.00042'
    >>> safe_name("rock/live") == safe_name("rock_live")
    False
    """
    keep = "".join(c if c.isalnum() or c in "-_." else "_" for c in text)
    if keep != text or keep.startswith("."):
        keep = f"{keep.lstrip('.')}-{hashlib.sha1(text.encode()).hexdigest()[:8]}"
    return keep


def read_json_object(
    path: str | os.PathLike,
    missing: str = "file not found (is this a model directory written by `musiclass train`?)",
) -> dict:
    """Read a JSON object from ``path``.

    Parameters
    ----------
    path : str or os.PathLike
        The JSON file.
    missing : str, default="file not found (is this a model directory written by `musiclass train`?)"
        The reason given when the file is absent.

    Returns
    -------
    dict
        The parsed object.

    Raises
    ------
    musiclass.errors.FileError
        When the file is absent (with ``missing`` as the reason).
    musiclass.errors.MetadataError
        Naming the file, when it is not valid JSON (or not UTF-8 text) or not a JSON object.
    """

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
    """Read a CSV file with :func:`pandas.read_csv`, an unparsable file raising an error that names it.

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file.
    header : str, default="a CSV header line"
        What the file should start with, named in the error for an empty file.
    kind : str, default="a CSV table"
        What the file should be, named in the error for a file that is not UTF-8 text.
    **kwargs
        Passed to :func:`pandas.read_csv`.

    Returns
    -------
    pandas.DataFrame
        ``pd.read_csv(path, **kwargs)``.

    Raises
    ------
    musiclass.errors.MetadataError
        Naming the file when it is empty (``header`` was expected), not UTF-8 (so not ``kind``), or
        not CSV.
    """
    import pandas as pd

    try:
        return pd.read_csv(path, **kwargs)
    except pd.errors.EmptyDataError:
        raise MetadataError(path, f"empty file: expected {header}") from None
    except UnicodeDecodeError:
        raise MetadataError(path, f"not UTF-8 text: not {kind}") from None
    except (pd.errors.ParserError, ValueError) as exc:
        raise MetadataError(path, f"cannot parse as CSV ({str(exc).strip()})") from None


def default_jobs() -> int:
    """Worker processes to use when not told: the CPUs this process may run on.

    Returns
    -------
    int
        The number of CPUs in this process's affinity mask (``os.cpu_count()`` where the platform
        has none), at least 1.
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


_SCALARS = {"int": "an integer", "float": "a number", "bool": "true or false", "str": "a string"}


def check_field_types(obj: Any, what: str) -> None:
    """Check every scalar field of a config dataclass against its annotation.

    Parameters
    ----------
    obj : dataclass instance
        A config whose fields are annotated ``int``, ``float``, ``bool``, ``str``, optionally
        ``| None``; other annotations (tuples, dicts, unions of other types) are left to the
        config's own checks.
    what : str
        How an error names the config (``"frontend"``, ``"train"``).

    Raises
    ------
    musiclass.errors.ConfigError
        Naming the field, its value and what it must be: ``n_mels=true`` and ``epochs=1.7`` are
        not integers, ``center=maybe`` is not true or false, a string is not a number, and a
        number must be finite.
    """
    import dataclasses
    import math
    import numbers

    for f in dataclasses.fields(obj):
        kinds = [k.strip() for k in str(f.type).split("|")]
        optional = "None" in kinds
        kinds = [k for k in kinds if k != "None"]
        if len(kinds) != 1 or kinds[0] not in _SCALARS:
            continue
        kind, value = kinds[0], getattr(obj, f.name)
        if value is None and optional:
            continue
        if kind == "bool":
            ok = isinstance(value, bool)
        elif kind == "int":
            ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
        elif kind == "float":
            ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
            ok = ok and math.isfinite(float(value))
        else:
            ok = isinstance(value, str)
        if not ok:
            must = _SCALARS[kind] + (" (finite)" if kind == "float" else "")
            raise ConfigError(
                f"{what} option {f.name}={value!r} ({type(value).__name__}): must be {must}"
                + (" or null" if optional else "")
            )
