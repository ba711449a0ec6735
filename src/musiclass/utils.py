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


#: what the names of :func:`atomic_path`'s temporary files hold, and nobody else's should
TEMP_MARK = ".musiclass-tmp"


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

    The parent folders are created. The temporary file (``.NAME.XXXX.musiclass-tmp[.ext]``, see
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
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_MARK + suffix, dir=path.parent)
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
    """Tell whether ``path`` is one of :func:`atomic_path`'s temporary files.

    Their names are ``.NAME.XXXX.musiclass-tmp[.ext]``: the marker is distinctive, so a user's own
    ``.notes.tmp`` or ``.X.tmp1`` in an output folder is never taken for one (and never deleted by
    :func:`remove_temporaries`).

    Parameters
    ----------
    path : str or os.PathLike
        A file name or path; only its last component is looked at.

    Returns
    -------
    bool
        True when the name starts with ``.`` and contains ``.musiclass-tmp``.

    Examples
    --------
    >>> from musiclass.utils import is_temporary
    >>> is_temporary("runs/.index.csv.k2j4x8.musiclass-tmp.csv")
    True
    >>> is_temporary("runs/.index.csv.k2j4x8.tmp.csv")  # not ours: a user's file
    False
    >>> is_temporary("runs/index.csv")
    False
    """
    name = Path(path).name
    return name.startswith(".") and TEMP_MARK in name


def remove_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Delete the temporary files that writes killed mid-way left in ``folder``.

    Only this package's own temporaries (:func:`is_temporary`) are deleted; a user's files, however
    they are named, are left alone.

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


#: the largest ``config.json`` a ``.keras`` file may hold (this package's models need a few KB)
MAX_KERAS_CONFIG = 16 * 2**20
#: the most a ``.keras`` file may unpack to, all members together
MAX_KERAS_UNPACKED = 4 * 2**30
#: the highest compression ratio of a member above 1 MiB (a zip bomb packs 1000s to 1)
MAX_KERAS_RATIO = 200


def check_keras_file(path: str | os.PathLike) -> None:
    """Check a ``.keras`` file before Keras loads it: a zip archive of bounded size, holding a config.

    Keras reads ``config.json`` whole into memory, so a 4 MB archive can claim gigabytes. Only the
    archive's directory is read here (the sizes it declares, which :mod:`zipfile` then holds every
    read to), never a member.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.keras`` file.

    Raises
    ------
    musiclass.errors.FileError
        Naming the file: not found, a folder, empty, text or another non-zip file, no
        ``config.json``, a ``config.json`` above :data:`MAX_KERAS_CONFIG`, members that unpack to
        more than :data:`MAX_KERAS_UNPACKED` in all, or a member compressed more than
        :data:`MAX_KERAS_RATIO` to 1 (a zip bomb).
    """
    import zipfile

    path = Path(path)
    if path.is_dir():
        raise FileError(path, "is a folder, not a .keras model file")
    if not path.is_file():
        raise FileError(path, "model file not found")
    size = path.stat().st_size
    if size == 0:
        raise FileError(path, "empty file (0 bytes), not a .keras model")
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as f:
            head = f.read(512)
        try:
            head.decode("utf-8")
            kind = "a text file"
        except UnicodeDecodeError:
            kind = "not a zip archive"
        raise FileError(path, f"{kind}, not a .keras model (a .keras file is a zip archive)")
    try:
        with zipfile.ZipFile(path) as z:
            members = z.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileError(path, f"damaged .keras archive ({exc})") from None
    config = [m for m in members if m.filename == "config.json"]
    if not config:
        raise FileError(path, "no config.json in the archive: not a .keras model")
    if config[0].file_size > MAX_KERAS_CONFIG:
        raise FileError(
            path,
            f"config.json unpacks to {config[0].file_size / 2**20:.0f} MiB, above the "
            f"{MAX_KERAS_CONFIG // 2**20} MiB cap: refused (a zip bomb?)",
        )
    total = sum(m.file_size for m in members)
    if total > MAX_KERAS_UNPACKED:
        raise FileError(
            path,
            f"unpacks to {total / 2**30:.1f} GiB, above the {MAX_KERAS_UNPACKED // 2**30} GiB cap",
        )
    for m in members:
        if m.file_size > 2**20 and m.file_size > MAX_KERAS_RATIO * max(m.compress_size, 1):
            raise FileError(
                path,
                f"member {m.filename} is compressed {m.file_size // max(m.compress_size, 1)} to 1"
                " (a zip bomb?): refused",
            )


def check_writable_folder(folder: str | os.PathLike) -> None:
    """Check that files can be created in ``folder`` (or, if it does not exist yet, where it would be).

    Nothing is created: the nearest existing folder on the way is probed with a temporary file
    (:func:`is_temporary`), removed at once. Probing, not :func:`os.access`, is what tells the
    truth for root, read-only mounts and immutable folders.

    Parameters
    ----------
    folder : str or os.PathLike
        The output folder.

    Raises
    ------
    musiclass.errors.FileError
        Naming the folder, when it is a file, or when nothing can be written in it.
    """
    folder = Path(folder)
    probe_in = folder
    while not probe_in.exists() and probe_in != probe_in.parent:
        if probe_in.is_symlink():  # a dangling link: where it points does not exist
            break
        probe_in = probe_in.parent
    if probe_in.exists() and not probe_in.is_dir():
        raise FileError(probe_in, "is a file, not a folder: cannot write the output there")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".write-check.", suffix=TEMP_MARK, dir=probe_in)
    except OSError as exc:
        where = "this folder" if probe_in == folder else probe_in
        raise FileError(
            folder, f"cannot write in {where} ({exc.strerror or exc}; is it read-only?)"
        ) from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(tmp)


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
