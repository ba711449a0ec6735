"""Import the original study's Keras models (``.h5``) as musiclass model directories.

The original study published its trained networks as Keras 2 ``.h5`` files (CNN-3 ... CNN-7 on mel,
the spectrogram and MFCC networks of experiment 1, the FNN, the mood CNNs). :func:`import_keras`
turns one of them into a model directory that ``musiclass predict``, ``musiclass evaluate`` and
:func:`~musiclass.models.frontend_layer.export_with_frontend` take exactly as a model trained here:

1. the file's model config (``model_config``) is read as JSON, never executed: every layer must be
   one of :data:`SUPPORTED_LAYERS` and the layers must form a chain (one input, one output, each
   layer fed by the one before). A ``Lambda`` (arbitrary Python code) or any other layer is refused
   with its name, so the result always loads in Keras' safe mode;
2. the network is rebuilt with Keras 3 layers of the same settings (and names), and its weights are
   copied layer by layer from the file's ``model_weights`` group, matched by variable name
   (``kernel``, ``bias``, ``gamma``, ``beta``, ``moving_mean``, ``moving_variance``) and checked
   for shape;
3. the network gets the stored frame as input: the original took ``(bins, columns, 1)`` frames,
   our frontend (and ``predict``) gives ``(bins, columns)``, so a ``Reshape`` adds the channel axis
   in front (no reshape when the file already takes ``(bins, columns)``);
4. the directory gets ``labels.json`` (the original's class order, :data:`SEED_CLASSES`, unless
   other classes are given), ``frontend.json`` (the named frontend preset, the representation whose
   frame shape the network takes), ``train.json`` (where the model came from, with the file's
   SHA-256; nothing was trained here) and ``done.json`` last. With a test index, the model's
   frame probabilities on its tracks go to ``predictions/test.csv``, which ``musiclass evaluate``
   scores.

A mood model's directory has no ``thresholds.json`` (the original chose none on validation: it
binarised at 0.9), so ``predict`` lists the tags at 0.5 and says so.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import keras
import numpy as np
import pandas as pd
from keras import layers

from .. import __version__, locks
from ..config import FrontendConfig, frontend_preset
from ..datasets.base import TrackIndex, split_labels
from ..datasets.gtzan import GENRES
from ..datasets.jamendo import MOODTHEME_TAGS, ORIGINAL_MERGES, THEME_TAGS
from ..errors import AudioError, ConfigError, FileError, MetadataError
from ..layout import LOCK_FILE, ModelDir
from ..predict import load_predictor
from ..training.results import save_predictions
from ..utils import atomic_path, write_json_atomic

__all__ = [
    "SEED_CLASSES",
    "SUPPORTED_LAYERS",
    "TASKS",
    "ImportResult",
    "KerasFile",
    "import_keras",
    "read_classes",
    "read_keras_file",
    "rebuild",
]

#: the tasks an imported model can serve (genre: single-label softmax; mood: multi-label tags)
TASKS = ("genre", "mood")

#: the four mood tags the original's curation dropped for having fewer than 10 of its 992 tracks
SEED_RARE_TAGS = ("heavy", "horror", "sexy", "travel")
#: the original's 35 curated mood tags in the order of its ``mood_label_map.json`` (alphabetical):
#: the 59 mood/theme tags without the 19 themes, ``funny`` (merged into ``fun``) and the rare ones
SEED_MOOD_TAGS = tuple(
    t
    for t in MOODTHEME_TAGS
    if t not in THEME_TAGS and t not in ORIGINAL_MERGES and t not in SEED_RARE_TAGS
)

#: the original's output order per task: its ``genre_label_map.json`` and ``mood_label_map.json``
SEED_CLASSES: dict[str, tuple[str, ...]] = {"genre": tuple(GENRES), "mood": SEED_MOOD_TAGS}

#: the config keys kept for each layer class (everything else in a Keras 2 or 3 config only
#: matters for training: initialisers, regularisers, constraints)
_POOL = ("pool_size", "strides", "padding", "data_format")
_CONV = (
    "filters",
    "kernel_size",
    "strides",
    "padding",
    "data_format",
    "dilation_rate",
    "activation",
    "use_bias",
)
SUPPORTED_LAYERS: dict[str, tuple[str, ...]] = {
    "Conv1D": _CONV,
    "Conv2D": _CONV,
    "MaxPooling1D": _POOL,
    "MaxPooling2D": _POOL,
    "AveragePooling1D": _POOL,
    "AveragePooling2D": _POOL,
    "GlobalMaxPooling1D": ("data_format",),
    "GlobalMaxPooling2D": ("data_format",),
    "GlobalAveragePooling1D": ("data_format",),
    "GlobalAveragePooling2D": ("data_format",),
    "BatchNormalization": ("axis", "momentum", "epsilon", "center", "scale"),
    "Dense": ("units", "activation", "use_bias"),
    "Dropout": ("rate",),
    "Flatten": ("data_format",),
    "Activation": ("activation",),
    "ReLU": ("max_value", "negative_slope", "threshold"),
    "Reshape": ("target_shape",),
    "Permute": ("dims",),
}


# ------------------------------------------------------------------------------ reading the file
@dataclass
class KerasFile:
    """What :func:`read_keras_file` found in a Keras ``.h5`` model file.

    Attributes
    ----------
    path : pathlib.Path
        The file.
    name : str
        The model's name in its config.
    input_shape : tuple of int
        The input of one example (no batch axis).
    layers : list of dict
        The chain of layers after the input, each ``{"class_name", "name", "config"}``.
    weights : dict of str to list of (str, numpy.ndarray)
        Per layer name, its stored variables as ``(variable name, array)`` in file order.
    keras_version : str
        The Keras version that wrote the file.
    sha256 : str
        The file's SHA-256.
    """

    path: Path
    name: str
    input_shape: tuple[int, ...]
    layers: list[dict[str, Any]]
    weights: dict[str, list[tuple[str, np.ndarray]]]
    keras_version: str
    sha256: str

    @property
    def n_outputs(self) -> int:
        """The number of outputs: the units of the last layer, a ``Dense``.

        Returns
        -------
        int
            ``units`` of the last layer.

        Raises
        ------
        musiclass.errors.FileError
            When the last layer is not a ``Dense``.
        """
        last = self.layers[-1]
        if last["class_name"] != "Dense":
            raise FileError(
                self.path,
                f"the last layer {last['name']!r} is a {last['class_name']}, not the Dense "
                "output layer of a classifier",
            )
        return int(last["config"]["units"])


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _inbound(spec: dict[str, Any]) -> list[str]:
    """The layers feeding one layer of a functional config (Keras 2 or Keras 3 style)."""
    names: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            history = node.get("config", {}).get("keras_history") if "config" in node else None
            if (
                history
            ):  # Keras 3: {"class_name": "__keras_tensor__", "config": {"keras_history": [...]}}
                names.append(str(history[0]))
                return
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            if len(node) >= 3 and isinstance(node[0], str) and isinstance(node[1], int):
                names.append(node[0])  # Keras 2: [name, node index, tensor index, kwargs]
                return
            for v in node:
                walk(v)

    walk(spec.get("inbound_nodes", []))
    return names


def _n_nodes(nodes: Any) -> int:
    """How many tensors a config's ``input_layers`` / ``output_layers`` names (Keras 3 writes one
    as a flat ``[name, 0, 0]``, Keras 2 as ``[[name, 0, 0]]``)."""
    if isinstance(nodes, list) and nodes and isinstance(nodes[0], str):
        return 1
    return len(nodes) if isinstance(nodes, list) else 0


def _input_shape(path: Path, spec: dict[str, Any]) -> tuple[int, ...]:
    cfg = spec.get("config", {})
    shape = cfg.get("batch_shape") or cfg.get("batch_input_shape")
    if shape is None:
        raise FileError(path, f"layer {spec.get('name') or cfg.get('name')!r} has no input shape")
    dims = tuple(shape[1:])
    if not dims or not all(isinstance(d, int) and d > 0 for d in dims):
        raise FileError(path, f"the model's input shape {tuple(shape[1:])} is not fixed")
    return dims


def _chain(path: Path, model_config: dict[str, Any]) -> tuple[str, tuple[int, ...], list[dict]]:
    """``(model name, input shape, layers after the input)`` of a Sequential or chain-shaped config."""
    kind = model_config.get("class_name")
    config = model_config.get("config")
    if isinstance(config, list):  # very old Sequential configs: the list of layers itself
        config = {"layers": config}
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise FileError(path, "the model config lists no layers")
    specs = [s for s in config["layers"] if isinstance(s, dict)]
    if not specs:
        raise FileError(path, "the model config lists no layers")
    name = str(config.get("name") or "imported")
    for s in specs:
        s.setdefault("name", s.get("config", {}).get("name"))
    if kind == "Sequential":
        if specs[0].get("class_name") == "InputLayer":
            return name, _input_shape(path, specs[0]), specs[1:]
        return name, _input_shape(path, specs[0]), specs
    if kind not in ("Model", "Functional"):
        raise FileError(
            path, f"a {kind} model config: only Sequential and functional models import"
        )
    ins, outs = config.get("input_layers", []), config.get("output_layers", [])
    if _n_nodes(ins) != 1 or _n_nodes(outs) != 1:
        raise FileError(path, "the model must have exactly one input and one output")
    if specs[0].get("class_name") != "InputLayer":
        raise FileError(path, "the first layer of the config is not its input")
    previous = specs[0]["name"]
    for s in specs[1:]:
        feeds = _inbound(s)
        if feeds != [previous]:
            raise FileError(
                path,
                f"layer {s['name']!r} is fed by {feeds or 'nothing'}, not by {previous!r}: "
                "only chains of layers import (no branches)",
            )
        previous = s["name"]
    return name, _input_shape(path, specs[0]), specs[1:]


def read_keras_file(path: str | os.PathLike) -> KerasFile:
    """Read the model config and the weights of a Keras ``.h5`` model file (nothing is executed).

    Parameters
    ----------
    path : str or os.PathLike
        A file written by Keras' ``model.save("....h5")`` (Keras 2 or 3).

    Returns
    -------
    KerasFile
        Its layer chain, input shape and weights.

    Raises
    ------
    musiclass.errors.FileError
        When the file is missing, is not HDF5, holds weights only (no model config), or holds a
        model that does not import: a layer outside :data:`SUPPORTED_LAYERS` (a ``Lambda``, say),
        branches, more than one input or output, an input shape that is not fixed.
    """
    path = Path(path)
    if not path.is_file():
        raise FileError(path, "file not found")
    if not h5py.is_hdf5(path):
        raise FileError(path, "not an HDF5 file (expected a Keras .h5 model)")
    try:
        with h5py.File(path, "r") as f:
            raw = f.attrs.get("model_config")
            if raw is None:
                raise FileError(
                    path,
                    "no Keras model config in this HDF5 file (a weights-only file? save the model "
                    "with model.save)",
                )
            version = _text(f.attrs.get("keras_version", "unknown"))
            try:
                model_config = json.loads(_text(raw))
            except json.JSONDecodeError as exc:
                raise FileError(path, f"the model config is not valid JSON ({exc})") from None
            name, input_shape, specs = _chain(path, model_config)
            for s in specs:
                cls = s.get("class_name")
                if cls == "Lambda":
                    raise FileError(
                        path,
                        f"layer {s['name']!r} is a Lambda (arbitrary Python code): it cannot be "
                        "imported into a model that loads in Keras' safe mode",
                    )
                if cls not in SUPPORTED_LAYERS:
                    raise FileError(
                        path,
                        f"layer {s['name']!r} is a {cls}, which does not import (supported: "
                        f"{', '.join(SUPPORTED_LAYERS)})",
                    )
            group = f["model_weights"] if "model_weights" in f else None
            if group is None:
                raise FileError(path, "no model_weights group: the file holds no trained weights")
            weights: dict[str, list[tuple[str, np.ndarray]]] = {}
            for s in specs:
                if s["name"] not in group:
                    continue
                g = group[s["name"]]
                names = [_text(n) for n in g.attrs.get("weight_names", [])]
                weights[s["name"]] = [
                    (n.split("/")[-1].split(":")[0], np.asarray(g[n])) for n in names
                ]
    except OSError as exc:  # a truncated or damaged HDF5 file
        raise FileError(path, f"cannot read the HDF5 file ({exc})") from None
    if not specs:
        raise FileError(path, "the model has no layer after its input")
    return KerasFile(
        path, name, input_shape, [dict(s) for s in specs], weights, version, _sha256(path)
    )


# ------------------------------------------------------------------------------ rebuilding it
def _layer_kwargs(path: Path, spec: dict[str, Any]) -> dict[str, Any]:
    cls, cfg = spec["class_name"], spec.get("config", {})
    kwargs = {k: cfg[k] for k in SUPPORTED_LAYERS[cls] if k in cfg}
    if "activation" in kwargs and not isinstance(kwargs["activation"], str):
        raise FileError(
            path, f"layer {spec['name']!r} has a custom activation, which does not import"
        )
    if cls == "BatchNormalization" and isinstance(kwargs.get("axis"), list):
        if len(kwargs["axis"]) != 1:
            raise FileError(path, f"layer {spec['name']!r} normalises over several axes")
        kwargs["axis"] = int(kwargs["axis"][0])
    for key in ("kernel_size", "strides", "pool_size", "dilation_rate", "target_shape", "dims"):
        if isinstance(kwargs.get(key), list):
            kwargs[key] = tuple(kwargs[key])
    return kwargs


def _free_name(wanted: str, taken: set[str]) -> str:
    name, i = wanted, 1
    while name in taken:
        name, i = f"{wanted}_{i}", i + 1
    taken.add(name)
    return name


def rebuild(source: KerasFile, frame_shape: Sequence[int]) -> keras.Model:
    """Rebuild the network of ``source`` in Keras 3, taking stored frames, with its weights.

    Parameters
    ----------
    source : KerasFile
        The file read by :func:`read_keras_file`.
    frame_shape : sequence of int
        The frame the frontend gives, ``(bins, columns)``: the file's input itself, or that input
        without its trailing channel axis of 1 (a ``Reshape`` named ``channel`` adds it back).

    Returns
    -------
    keras.Model
        The network: input ``frame`` of shape ``(batch, *frame_shape)``, the file's layers with
        their names, settings and weights.

    Raises
    ------
    musiclass.errors.FileError
        When the file's input is not ``frame_shape`` (with or without a channel axis), or a
        layer's stored weights do not fit the rebuilt layer (missing, extra or of another shape).
    """
    frame_shape = tuple(int(d) for d in frame_shape)
    if source.input_shape not in (frame_shape, (*frame_shape, 1)):
        raise FileError(
            source.path,
            f"the model takes input {source.input_shape}, not the frames {frame_shape}",
        )
    taken = {s["name"] for s in source.layers}
    inputs = keras.Input(shape=frame_shape, name=_free_name("frame", taken))
    x = inputs
    if source.input_shape != frame_shape:
        x = layers.Reshape(source.input_shape, name=_free_name("channel", taken))(x)
    built = []
    for spec in source.layers:
        layer = getattr(layers, spec["class_name"])(
            name=spec["name"], **_layer_kwargs(source.path, spec)
        )
        try:
            x = layer(x)
        except ValueError as exc:
            raise FileError(
                source.path, f"layer {spec['name']!r} does not fit its input ({exc})"
            ) from None
        built.append(layer)
    model = keras.Model(inputs, x, name=source.name)
    for layer in built:
        _copy_weights(source, layer)
    return model


def _copy_weights(source: KerasFile, layer: keras.layers.Layer) -> None:
    stored = dict(source.weights.get(layer.name, []))
    wanted = [v.name.split("/")[-1] for v in layer.weights]
    missing = [n for n in wanted if n not in stored]
    extra = sorted(set(stored) - set(wanted))
    if missing or extra:
        raise FileError(
            source.path,
            f"layer {layer.name!r}: stored weights {sorted(stored)} do not match the layer's "
            f"{wanted}",
        )
    for variable, name in zip(layer.weights, wanted):
        value = stored[name]
        if tuple(value.shape) != tuple(variable.shape):
            raise FileError(
                source.path,
                f"layer {layer.name!r}: {name} has shape {tuple(value.shape)}, the rebuilt layer "
                f"needs {tuple(variable.shape)}",
            )
        variable.assign(value.astype(variable.dtype))


# ------------------------------------------------------------------------------ classes
def read_classes(path: str | os.PathLike) -> tuple[str, ...]:
    """Read a class order from JSON: a list of names, or a ``{name: index}`` map.

    Parameters
    ----------
    path : str or os.PathLike
        The JSON file (the original's ``genre_label_map.json`` is such a map).

    Returns
    -------
    tuple of str
        The names in output order.

    Raises
    ------
    musiclass.errors.MetadataError
        When the file is not JSON, not a list of distinct non-empty names, or a map whose indices
        are not exactly ``0 .. n-1``.
    musiclass.errors.FileError
        When the file does not exist.
    """
    path = Path(path)
    if not path.is_file():
        raise FileError(path, "file not found")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MetadataError(path, f"not valid JSON ({exc})") from None
    if isinstance(data, dict):
        indices = list(data.values())
        if not all(isinstance(i, int) and not isinstance(i, bool) for i in indices) or sorted(
            indices
        ) != list(range(len(indices))):
            raise MetadataError(path, "the {name: index} map's indices must be 0 .. n-1, once each")
        names = [name for name, _ in sorted(data.items(), key=lambda kv: kv[1])]
    elif isinstance(data, list):
        names = data
    else:
        raise MetadataError(path, "expected a JSON list of class names or a {name: index} map")
    if not names or not all(isinstance(n, str) and n for n in names):
        raise MetadataError(path, "the class names must be non-empty strings")
    if len(set(names)) != len(names):
        raise MetadataError(path, "class names repeat")
    return tuple(names)


# ------------------------------------------------------------------------------ the model directory
@dataclass
class ImportResult:
    """What :func:`import_keras` wrote.

    Attributes
    ----------
    model_dir : pathlib.Path
        The model directory.
    name : str
        The network's name in the file.
    parameters : int
        Its parameter count.
    representation : str
        The frames it takes.
    input_shape : tuple of int
        Their shape.
    classes : tuple of str
        Its output order.
    multilabel : bool
        Whether it is a tagger.
    test_tracks : int, default=0
        Tracks predicted into ``predictions/test.csv`` (0 without a test index).
    test_frames : int, default=0
        Their frames.
    notes : list of str, default=[]
        Anything the user should know (test tracks that could not be used).
    """

    model_dir: Path
    name: str
    parameters: int
    representation: str
    input_shape: tuple[int, ...]
    classes: tuple[str, ...]
    multilabel: bool
    test_tracks: int = 0
    test_frames: int = 0
    notes: list[str] = field(default_factory=list)


def _representation(
    source: KerasFile, cfg: FrontendConfig, task: str, preset: str
) -> tuple[str, tuple]:
    for rep in cfg.representations:
        shape = tuple(cfg.shape(rep))
        if source.input_shape in (shape, (*shape, 1)):
            return rep, shape
    offered = ", ".join(f"{rep} {tuple(cfg.shape(rep))}" for rep in cfg.representations)
    raise FileError(
        source.path,
        f"the model takes input {source.input_shape}, but the {task} {preset!r} preset's frames "
        f"are {offered}",
    )


def _prepare_out(out: ModelDir, force: bool) -> None:
    if out.path.exists() and not out.path.is_dir():
        raise FileError(out.path, "exists and is not a folder")
    # this writer's own lock file (``import_keras`` holds the folder's lock) is not content
    if out.path.is_dir() and any(p.name != LOCK_FILE for p in out.path.iterdir()):
        if not force:
            raise FileError(out.path, "the output folder exists and is not empty (use --force)")
        (out / ModelDir.DONE).unlink(missing_ok=True)
        for name in (
            ModelDir.MODEL,
            ModelDir.BEST,
            ModelDir.TRAIN,
            ModelDir.LABELS,
            ModelDir.FRONTEND,
            ModelDir.HISTORY,
            ModelDir.METRICS,
            ModelDir.THRESHOLDS,
        ):
            (out / name).unlink(missing_ok=True)
        for folder in (ModelDir.PREDICTIONS, ModelDir.BACKUP, ModelDir.TENSORBOARD):
            shutil.rmtree(out / folder, ignore_errors=True)
    out.path.mkdir(parents=True, exist_ok=True)


def _predict_index(
    out: ModelDir, index: TrackIndex, classes: tuple[str, ...]
) -> tuple[int, int, list[str]]:
    """Predict every track of ``index`` with the written directory into ``predictions/test.csv``."""
    predictor = load_predictor(out.path, whole_track=False)  # the frames a store would hold
    rows, probs, notes = [], [], []
    for track in index.tracks.itertuples():
        try:
            prep = predictor.prepare(track.path)
        except (AudioError, FileError) as exc:
            notes.append(f"test track {track.track_id} skipped: {exc}")
            continue
        p = predictor.frame_probabilities(prep.x)
        probs.append(p)
        rows += [(str(track.track_id), i, str(track.label)) for i in range(len(p))]
    if not probs:
        raise ConfigError("no test track could be predicted: " + "; ".join(notes[:3]))
    table = pd.DataFrame(rows, columns=["track_id", "frame", "label"])
    table.insert(0, "row", np.arange(len(table)))
    save_predictions(out.predictions("test"), table, np.concatenate(probs), classes)
    return len(probs), len(table), notes


@locks.writes("out")  # one writer per model directory, as train
def import_keras(
    path: str | os.PathLike,
    out: str | os.PathLike,
    *,
    task: str = "genre",
    preset: str = "seed",
    classes: Sequence[str] | str | os.PathLike | None = None,
    test_index: str | os.PathLike | None = None,
    force: bool = False,
) -> ImportResult:
    """Write a model directory from one of the original study's Keras ``.h5`` models.

    See the module docstring for what is checked and written.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.h5`` model file.
    out : str or os.PathLike
        The model directory to write (created; it must be absent or empty unless ``force``).
    task : {"genre", "mood"}, default="genre"
        Single-label genres (softmax) or multi-label mood tags (sigmoid).
    preset : {"seed", "default"}, default="seed"
        The frontend preset whose frames the network was trained on (the original's: ``seed``).
    classes : sequence of str or path, optional
        The output order: names, or a JSON file (:func:`read_classes`); default
        :data:`SEED_CLASSES` of ``task``.
    test_index : str or os.PathLike, optional
        A track index folder (``musiclass index``): its tracks are predicted into
        ``predictions/test.csv``, for ``musiclass evaluate``.
    force : bool, default=False
        Replace the model directory files of a non-empty ``out``.

    Returns
    -------
    ImportResult
        What was written.

    Raises
    ------
    musiclass.errors.ConfigError
        For an unknown task or preset, or a test index with labels outside the classes.
    musiclass.errors.FileError
        When the file does not import (:func:`read_keras_file`, :func:`rebuild`), its input is
        not a frame of the preset, its output count is not the number of classes, or ``out`` is
        not empty.
    musiclass.errors.MetadataError
        For an unreadable classes file or test index.
    """
    if task not in TASKS:
        raise ConfigError(f"unknown task {task!r}; choose from {TASKS}")
    cfg = frontend_preset(task, preset)  # ConfigError for an unknown preset
    if classes is None:
        names, origin = SEED_CLASSES[task], f"the original study's {task} order"
    elif isinstance(classes, (str, os.PathLike)):
        names, origin = read_classes(classes), str(classes)
    else:
        names, origin = tuple(classes), "the classes given"
    source = read_keras_file(path)
    rep, shape = _representation(source, cfg, task, preset)
    if source.n_outputs != len(names):
        raise FileError(
            source.path,
            f"the model has {source.n_outputs} outputs but {origin} names {len(names)} classes",
        )
    index = TrackIndex.load(test_index) if test_index is not None else None
    if index is not None:
        labels = {lab for v in index.tracks["label"] for lab in split_labels(v)}
        unknown = sorted(labels - set(names))
        if unknown:
            raise ConfigError(
                f"{test_index}: the test index has labels outside the model's classes: "
                f"{unknown[:5]}"
            )
    model = rebuild(source, shape)
    md = ModelDir(out)
    _prepare_out(md, force)
    key = {"imported": source.sha256, "task": task, "preset": preset, "classes": list(names)}
    with atomic_path(md.model) as tmp:
        model.save(tmp)
    write_json_atomic(md.labels, {"classes": list(names), "multilabel": task == "mood"})
    write_json_atomic(
        md.frontend,
        {
            "config": cfg.to_dict(),
            "hash": cfg.hash(),
            "representation": rep,
            "input_shape": list(shape),
        },
    )
    write_json_atomic(
        md.train,
        {
            "key": key,
            # not trained here: the seed of the bootstrap intervals `evaluate` draws, and the
            # frontend the frames come from; the rest of the story is under "imported"
            "config": {"seed": 0, "preset": preset, "representation": rep, "model": source.name},
            "imported": {
                "file": str(Path(path).resolve()),
                "sha256": source.sha256,
                "keras_version": source.keras_version,
                "input_shape": list(source.input_shape),
                "classes_from": origin,
            },
            "musiclass": __version__,
        },
    )
    result = ImportResult(
        md.path, source.name, int(model.count_params()), rep, shape, names, task == "mood"
    )
    if index is not None:
        result.test_tracks, result.test_frames, result.notes = _predict_index(md, index, names)
    write_json_atomic(md / ModelDir.DONE, {"key": key})
    return result
