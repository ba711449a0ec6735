"""Obtaining musicnn's published weights: the ``musicnn==0.1.0`` wheel, pinned by hash, in a cache.

The weights are TensorFlow 1 checkpoints inside the wheel (``musicnn/<model>/.index`` and
``.data-00000-of-00001``, ~29 MB for all four networks). On first use :func:`wheel` runs the
package tools, ``python -m pip download musicnn==0.1.0 --no-deps --only-binary=:all:``, into the
cache (``$MUSICLASS_CACHE`` or ``~/.cache/musiclass``), and refuses a file whose SHA-256 is not
:data:`WHEEL_SHA256`. :func:`checkpoint_folder` extracts one network's two checkpoint files;
:func:`read_checkpoint` reads its variables with ``tf.compat.v1.train.NewCheckpointReader`` (the
prefix is the folder plus a trailing slash: the folder's ``checkpoint`` file names a path on its
authors' machine, so ``tf.train.load_checkpoint(folder)`` fails). :func:`assign` copies them into a
network of :mod:`musiclass.pretrained.musicnn`, checking every name and shape; :func:`load_network`
does it all once and keeps a Keras ``.weights.h5`` copy in the cache for fast reloads.

Nothing here is ever committed: the cache lives outside the repository.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FileError
from .musicnn import ARCHITECTURES, Architecture

__all__ = [
    "PACKAGE",
    "VERSION",
    "WHEEL_NAME",
    "WHEEL_SHA256",
    "WeightsUnavailable",
    "cache_dir",
    "wheel_path",
    "is_cached",
    "wheel",
    "checkpoint_folder",
    "read_checkpoint",
    "assign",
    "load_network",
    "sha256",
    "keras_copy",
    "describe",
]

#: the distribution holding the weights
PACKAGE = "musicnn"
#: its version
VERSION = "0.1.0"
#: the wheel's file name on the package index
WHEEL_NAME = "musicnn-0.1.0-py3-none-any.whl"
#: SHA-256 of that wheel (29,292,476 bytes); any other file is refused
WHEEL_SHA256 = "f38a4890c648c1ddbb141c5d96d2b0a8cfcd36746002d896989f7b88beb65cfa"
#: the checkpoint files a network needs (the .meta graph is not: the network is rebuilt here)
CHECKPOINT_FILES = (".index", ".data-00000-of-00001")
#: bumped when the Keras layers change, so an old .weights.h5 copy is not reused
KERAS_COPY_VERSION = 1
#: environment variable naming the cache folder
CACHE_ENV = "MUSICLASS_CACHE"


class WeightsUnavailable(FileError):
    """The published weights cannot be had: no network, no pip, a hash mismatch, a damaged wheel.

    It takes the ``path`` and ``reason`` of :class:`~musiclass.errors.FileError`.
    """


def cache_dir() -> Path:
    """The cache folder: ``$MUSICLASS_CACHE``, else ``~/.cache/musiclass``.

    Returns
    -------
    pathlib.Path
        The folder (not created here).
    """
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "musiclass"


def _root(cache: str | os.PathLike | None) -> Path:
    return (Path(cache).expanduser() if cache is not None else cache_dir()) / f"{PACKAGE}-{VERSION}"


def wheel_path(cache: str | os.PathLike | None = None) -> Path:
    """Where the wheel is (or will be) kept.

    Parameters
    ----------
    cache : str or os.PathLike, optional
        The cache folder (default :func:`cache_dir`).

    Returns
    -------
    pathlib.Path
        ``<cache>/musicnn-0.1.0/musicnn-0.1.0-py3-none-any.whl``.
    """
    return _root(cache) / WHEEL_NAME


def is_cached(cache: str | os.PathLike | None = None) -> bool:
    """Tell whether the wheel is in the cache (its hash is checked when it is used).

    Parameters
    ----------
    cache : str or os.PathLike, optional
        The cache folder (default :func:`cache_dir`).

    Returns
    -------
    bool
        True when the wheel file exists.
    """
    return wheel_path(cache).is_file()


def sha256(path: str | os.PathLike) -> str:
    """The SHA-256 of a file, in hex.

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    str
        64 hex digits.
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _check(path: Path) -> None:
    got = sha256(path)
    if got != WHEEL_SHA256:
        raise WeightsUnavailable(
            path,
            f"SHA-256 {got} is not the pinned {WHEEL_SHA256}: refusing it (delete the file to retry)",
        )


def wheel(cache: str | os.PathLike | None = None, *, download: bool = True) -> Path:
    """The ``musicnn==0.1.0`` wheel, checked against :data:`WHEEL_SHA256`; downloaded on first use.

    Parameters
    ----------
    cache : str or os.PathLike, optional
        The cache folder (default :func:`cache_dir`).
    download : bool, default=True
        Whether to fetch it with pip when it is not cached.

    Returns
    -------
    pathlib.Path
        The verified wheel in the cache.

    Raises
    ------
    WeightsUnavailable
        When it is not cached and cannot be downloaded (no network, no pip, ``download=False``),
        or its hash is not the pinned one.
    """
    target = wheel_path(cache)
    if target.is_file():
        _check(target)
        return target
    if not download:
        raise WeightsUnavailable(target, "musicnn's weights are not cached (and download=False)")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".download-") as tmp:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            f"{PACKAGE}=={VERSION}",
            "--no-deps",
            "--only-binary=:all:",
            "--disable-pip-version-check",
            "--quiet",
            "-d",
            tmp,
        ]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise WeightsUnavailable(
                target, f"cannot run pip to download {PACKAGE}=={VERSION} ({exc})"
            ) from None
        got = Path(tmp) / WHEEL_NAME
        if done.returncode != 0 or not got.is_file():
            lines = [
                ln.strip() for ln in (done.stderr or done.stdout or "").splitlines() if ln.strip()
            ]
            why = lines[-1] if lines else f"pip exited with {done.returncode}"
            raise WeightsUnavailable(
                target,
                f"cannot download {PACKAGE}=={VERSION} from the package index ({why}); "
                f"with no network, copy {WHEEL_NAME} here by hand",
            )
        _check(got)
        os.replace(got, target)
    return target


def checkpoint_folder(model: str, cache: str | os.PathLike | None = None, **kwargs: Any) -> Path:
    """One network's TF1 checkpoint files, extracted from the wheel into the cache.

    Parameters
    ----------
    model : str
        The network's musicnn name (a key of :data:`~musiclass.pretrained.musicnn.ARCHITECTURES`).
    cache : str or os.PathLike, optional
        The cache folder (default :func:`cache_dir`).
    **kwargs
        Passed to :func:`wheel` (``download``).

    Returns
    -------
    pathlib.Path
        ``<cache>/musicnn-0.1.0/<model>/`` holding ``.index`` and ``.data-00000-of-00001``.

    Raises
    ------
    WeightsUnavailable
        As :func:`wheel`, or when the wheel lacks the network's files.
    KeyError
        For an unknown network.
    """
    ARCHITECTURES[model]  # noqa: B018 - an unknown name fails here, before any download
    folder = _root(cache) / model
    if all((folder / f).is_file() for f in CHECKPOINT_FILES):
        return folder
    whl = wheel(cache, **kwargs)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{model}-"))
    try:
        with zipfile.ZipFile(whl) as z:
            for name in CHECKPOINT_FILES:
                with z.open(f"{PACKAGE}/{model}/{name}") as src, open(tmp / name, "wb") as dst:
                    shutil.copyfileobj(src, dst)
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    except (KeyError, zipfile.BadZipFile) as exc:
        raise WeightsUnavailable(whl, f"no usable checkpoint of {model} in it ({exc})") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def read_checkpoint(folder: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every variable of a TF1 checkpoint folder whose prefix is the folder itself (musicnn's layout).

    Parameters
    ----------
    folder : str or os.PathLike
        The folder holding ``.index`` and ``.data-00000-of-00001``.

    Returns
    -------
    dict of str to numpy.ndarray
        Variable name -> value (Adam's slots and counters included).

    Raises
    ------
    musiclass.errors.FileError
        When the checkpoint cannot be read.
    """
    import tensorflow as tf

    prefix = os.path.join(os.fspath(folder), "")  # the folder with a trailing slash
    try:
        reader = tf.compat.v1.train.NewCheckpointReader(prefix)
    except Exception as exc:  # noqa: BLE001 - TensorFlow's errors vary: name the folder, say why
        raise FileError(
            folder, f"cannot read the TF1 checkpoint ({type(exc).__name__}: {exc})"
        ) from None
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}


#: Keras weight -> TF1 variable suffix, per layer type
_SUFFIXES = {
    "BatchNormalization": ("gamma", "beta", "moving_mean", "moving_variance"),
    "Conv2D": ("kernel", "bias"),
    "Conv1D": ("kernel", "bias"),
    "Dense": ("kernel", "bias"),
}


def assign(
    model: Any, variables: dict[str, np.ndarray], mapping: dict[str, str], source: Any = ""
) -> None:
    """Copy checkpoint variables into a Keras network, layer by layer, checking names and shapes.

    A ``Conv1D`` takes the ``[k, width, 1, filters]`` kernel of TF1's full-width 2-D convolution as
    ``[k, width, filters]``.

    Parameters
    ----------
    model : keras.Model
        The network (:func:`musiclass.pretrained.musicnn.build`).
    variables : dict of str to numpy.ndarray
        The checkpoint's variables (:func:`read_checkpoint`).
    mapping : dict of str to str
        Keras layer name -> checkpoint scope (``Architecture.variables``).
    source : str or os.PathLike, default=""
        What the variables came from, for error messages.

    Raises
    ------
    musiclass.errors.FileError
        When a variable is missing or its shape does not fit, or a weighted layer of the model is
        not in ``mapping``.
    """
    unmapped = [ly.name for ly in model.layers if ly.weights and ly.name not in mapping]
    if unmapped:
        raise FileError(source, f"no checkpoint variable mapped to layer(s) {unmapped}")
    for layer_name, scope in mapping.items():
        layer = model.get_layer(layer_name)
        kind = type(layer).__name__
        values = []
        for suffix, weight in zip(_SUFFIXES[kind], layer.weights):
            key = f"{scope}/{suffix}"
            if key not in variables:
                raise FileError(source, f"variable {key} (for layer {layer_name}) is missing")
            v = np.asarray(variables[key])
            if kind == "Conv1D" and v.ndim == 4 and v.shape[2] == 1:
                v = v[:, :, 0, :]
            if tuple(v.shape) != tuple(weight.shape):
                raise FileError(
                    source,
                    f"variable {key} has shape {tuple(v.shape)}, layer {layer_name} needs {tuple(weight.shape)}",
                )
            values.append(v)
        layer.set_weights(values)


def keras_copy(model: str, cache: str | os.PathLike | None = None) -> Path:
    """Where the converted Keras weights of a network are kept.

    Parameters
    ----------
    model : str
        The network's musicnn name.
    cache : str or os.PathLike, optional
        The cache folder (default :func:`cache_dir`).

    Returns
    -------
    pathlib.Path
        ``<cache>/musicnn-0.1.0/<model>.v<N>.weights.h5``.
    """
    return _root(cache) / f"{model}.v{KERAS_COPY_VERSION}.weights.h5"


def load_network(
    arch: Architecture | str, cache: str | os.PathLike | None = None, **kwargs: Any
) -> Any:
    """Build one of musicnn's networks and give it its published weights.

    The first call converts the checkpoint (:func:`checkpoint_folder`, :func:`read_checkpoint`,
    :func:`assign`) and saves a Keras copy (:func:`keras_copy`); later calls load that copy.

    Parameters
    ----------
    arch : Architecture or str
        The network, or its musicnn name.
    cache : str or os.PathLike, optional
        The cache folder (default :func:`cache_dir`).
    **kwargs
        Passed to :func:`wheel` (``download``).

    Returns
    -------
    keras.Model
        The network with musicnn's weights (outputs as :func:`musiclass.pretrained.musicnn.build`).

    Raises
    ------
    WeightsUnavailable
        When the weights cannot be had (see :func:`wheel`).
    musiclass.errors.FileError
        When the checkpoint does not fit the network.
    """
    from .musicnn import build  # keras: builds the network (this module stays light to import)

    a = ARCHITECTURES[arch] if isinstance(arch, str) else arch
    net = build(a)
    copy = keras_copy(a.name, cache)
    if copy.is_file():
        try:
            net.load_weights(copy)
            return net
        except Exception:  # noqa: BLE001 - a stale or torn copy: convert the checkpoint again
            copy.unlink(missing_ok=True)
    folder = checkpoint_folder(a.name, cache, **kwargs)
    assign(net, read_checkpoint(folder), a.variables, folder)
    try:
        tmp = copy.with_name(f".{copy.name}.{os.getpid()}.weights.h5")
        net.save_weights(tmp)
        os.replace(tmp, copy)
    except OSError:  # a read-only cache still predicts; it converts again next time
        pass
    return net


def describe(cache: str | os.PathLike | None = None) -> str:
    """Say where the wheel is and whether it is cached, in one line.

    Parameters
    ----------
    cache : str or os.PathLike, optional
        The cache folder (default :func:`cache_dir`).

    Returns
    -------
    str
        E.g. ``"cached at ~/.cache/musiclass/musicnn-0.1.0/..."`` or ``"not cached (...)"``.
    """
    p = wheel_path(cache)
    if p.is_file():
        return f"cached at {p}"
    return f"not cached: downloaded on first use into {p}"
