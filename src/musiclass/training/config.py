"""How a network is trained: :class:`TrainConfig`, its presets and the values it accepts.

Pure configuration: no data, no Keras. A config's :meth:`TrainConfig.hash` is part of the key of
the model directory it trains (see :mod:`musiclass.training.fit`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from ..config import REPRESENTATIONS
from ..errors import ConfigError
from ..utils import check_field_types, config_hash

#: distribution strategies (``TrainConfig.strategy``)
STRATEGIES = ("default", "mirrored")
#: Keras dtype policies (``TrainConfig.precision``)
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
#: execution options and their defaults (left out of the config hash while at these values)
EXECUTION_DEFAULTS = {"strategy": "default", "precision": "float32", "xla": "auto"}
#: where the training frames are served from (``TrainConfig.cache``); see
#: :func:`musiclass.training.batches.choose_cache`
CACHE_MODES = ("auto", "device", "memory", "stream")
#: options that never change what is trained, left out of the config hash whatever their value
UNHASHED = ("cache",)
#: options added after models were trained: part of the hash only when not None
OPTIONAL_HASHED = ("validation_frames_per_track",)

#: the original mood study's training sets: the base set and 4 up- and 4 down-sampled ones
RESAMPLED_SETS = ("base",) + tuple(
    f"{kind}-{size}" for kind in ("up", "down") for size in ("0.25", "0.5", "0.75", "1")
)

#: the original study's settings: batch 128, 20 epochs, ReduceLROnPlateau(val_loss, 0.1, patience 1),
#: no early stopping, best epoch on validation accuracy (picked by hand then, automatically here),
#: raw inputs for the FNN, MFCC convolution across the coefficients
SEED_TRAINING = dict(
    batch_size=128,
    epochs=20,
    reduce_lr_factor=0.1,
    reduce_lr_patience=1,
    early_stopping_patience=None,
    monitor="val_accuracy",
    loss="categorical",
)


@dataclass(frozen=True)
class TrainConfig:
    """How one network is trained. ``preset`` names the defaults it came from (:func:`train_preset`).

    Attributes
    ----------
    model : str
        The network: ``cnn-3`` ... ``cnn-7``, ``mfcc-1d``, ``fnn`` or ``mood-cnn``
        (see :func:`musiclass.models.build_model`).
    model_options : dict
        Builder options (``pool3`` for CNN-N, ``axis`` for ``mfcc-1d``, ``normalize`` for
        ``fnn``, ``bn_momentum``); list values are stored as tuples.
    representation : str
        The stored frames the network takes: ``mel``, ``spectrogram`` or ``mfcc``.
    preset : str
        ``default`` or ``seed``: which defaults the config was made from.
    batch_size : int
        Frames per training batch (at least 1). Under a distribution strategy, split across the
        replicas.
    epochs : int
        Most epochs to train (at least 1).
    learning_rate : float or None
        Adam's learning rate; None: 1e-3 for the CNNs, 1e-4 for the FNN (the original's).
    reduce_lr_factor : float
        ReduceLROnPlateau's factor on ``val_loss``.
    reduce_lr_patience : int or None
        ReduceLROnPlateau's patience in epochs; None disables it.
    early_stopping_patience : int or None
        EarlyStopping's patience (epochs) on ``monitor``; None trains every epoch.
    monitor : str
        ``val_loss`` or ``val_accuracy``: the validation quantity the kept model is chosen on
        (and early stopping watches).
    first_frames : int or None
        Use only the first K frames of every track, in every part (the original's experiment 1
        used 10).
    train_frames_per_track : int or None
        Train on at most K evenly spaced frames per track (quick profiles); validation and test
        keep every frame unless ``validation_frames_per_track`` says otherwise.
    validation_frames_per_track : int or None
        Validate (early stopping, the learning-rate schedule, the kept epoch) on at most K
        evenly spaced frames per validation track (the quick profile: 4); the test part always
        keeps every frame.
    seed : int
        Seeds the weights, the batch order, dropout and resampling.
    loss : str
        ``auto``: binary cross-entropy for multi-label data, categorical for single-label;
        ``categorical``: categorical cross-entropy even on multi-hot targets (the original mood
        study's).
    resample : str or None
        Train on a resampled training set: ``base``, ``up-0.25`` ... ``up-1``, ``down-0.25`` ...
        ``down-1`` (see :mod:`musiclass.resampling`); None (and ``base``, normalised to None)
        trains on the training part as it is.
    resample_reading : str
        Which reading of the original's downsampling rule: ``code`` or ``readme``.
    tag_weights : str
        ``balanced``: weight each training frame by the inverse frequency of its tags (the
        modern alternative to resampling, see :func:`musiclass.training.batches.tag_weights`);
        ``none``: every frame counts the same.
    deterministic : bool
        TF op determinism: identical weights run to run on CPU, somewhat slower.
    tensorboard : bool
        Write TensorBoard logs into the model directory.
    strategy : str
        ``default``: one device; ``mirrored``: ``tf.distribute.MirroredStrategy`` over every GPU
        (or, without GPUs, every logical CPU device).
    precision : str
        ``float32``, ``mixed_float16`` (GPUs with tensor cores) or ``mixed_bfloat16`` (TPUs,
        recent CPUs).
    xla : bool or str
        XLA compilation of the train step: ``auto`` (Keras' choice: on for one GPU, off on CPU
        and under a strategy), True or False.
    cache : str
        Where the training and validation frames are served from: ``device`` (loaded once into
        the accelerator's memory, batches gathered there), ``memory`` (loaded once into RAM),
        ``stream`` (read from the store batch by batch, memory flat with the data size) or
        ``auto`` (device when they fit in a fraction of the accelerator's memory, else memory
        when they fit in a fraction of the available RAM, else stream; see
        :func:`musiclass.training.batches.choose_cache`). Every mode serves the same batches,
        so it is not part of :meth:`hash`.

    Raises
    ------
    ConfigError
        A value outside the choices above, ``batch_size`` or ``epochs`` below 1, or ``xla=True``
        with ``deterministic`` (XLA has no deterministic mode for every op).
    """

    model: str = "cnn-3"
    model_options: dict = field(default_factory=dict)
    representation: str = "mel"
    preset: str = "default"
    batch_size: int = 128
    epochs: int = 40
    learning_rate: float | None = None
    reduce_lr_factor: float = 0.1
    reduce_lr_patience: int | None = 2
    early_stopping_patience: int | None = 6
    monitor: str = "val_loss"
    first_frames: int | None = None
    train_frames_per_track: int | None = None
    validation_frames_per_track: int | None = None
    seed: int = 42
    loss: str = "auto"
    resample: str | None = None
    resample_reading: str = "code"
    tag_weights: str = "none"
    deterministic: bool = False
    tensorboard: bool = True
    strategy: str = "default"
    precision: str = "float32"
    xla: bool | str = "auto"
    cache: str = "auto"

    def __post_init__(self) -> None:
        check_field_types(self, "train")  # types first: `batch_size=abc`, `epochs=1.7`
        if not 0 <= self.seed < 2**32:
            raise ConfigError(f"seed must be between 0 and 2**32 - 1, got {self.seed}")
        if not 0 < self.reduce_lr_factor < 1:
            raise ConfigError(f"reduce_lr_factor must be in (0, 1), got {self.reduce_lr_factor}")
        if self.learning_rate is not None and not self.learning_rate > 0:
            raise ConfigError(f"learning_rate must be positive, got {self.learning_rate}")
        for name in ("reduce_lr_patience", "early_stopping_patience", "first_frames"):
            value = getattr(self, name)
            if value is not None and value < (1 if name == "first_frames" else 0):
                raise ConfigError(f"{name} must be at least {1 if name == 'first_frames' else 0}")
        for name in ("train_frames_per_track", "validation_frames_per_track"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"{name} must be at least 1 or null")
        if self.representation not in REPRESENTATIONS:
            raise ConfigError(
                f"representation must be one of {REPRESENTATIONS}, got {self.representation!r}"
            )
        if self.monitor not in ("val_loss", "val_accuracy"):
            raise ConfigError(f"monitor must be val_loss or val_accuracy, got {self.monitor!r}")
        if self.loss not in ("auto", "categorical"):
            raise ConfigError(f"loss must be auto or categorical, got {self.loss!r}")
        if self.tag_weights not in ("none", "balanced"):
            raise ConfigError(f"tag_weights must be none or balanced, got {self.tag_weights!r}")
        if self.resample is not None and self.resample not in RESAMPLED_SETS:
            raise ConfigError(f"resample must be one of {RESAMPLED_SETS}, got {self.resample!r}")
        # the base set is the training part itself: one config, one hash
        if self.resample == "base":
            object.__setattr__(self, "resample", None)
        for name in ("batch_size", "epochs"):
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"{name} must be at least 1")
        if self.strategy not in STRATEGIES:
            raise ConfigError(f"strategy must be one of {STRATEGIES}, got {self.strategy!r}")
        if self.precision not in PRECISIONS:
            raise ConfigError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if self.xla not in (True, False, "auto"):
            raise ConfigError(f"xla must be true, false or auto, got {self.xla!r}")
        if self.cache not in CACHE_MODES:
            raise ConfigError(f"cache must be one of {CACHE_MODES}, got {self.cache!r}")
        if self.xla is True and self.deterministic:
            raise ConfigError(
                "xla and deterministic exclude each other (XLA has no deterministic mode for "
                "every op; Keras would silently drop XLA): choose one"
            )

    @property
    def lr(self) -> float:
        """The learning rate Adam starts from: ``learning_rate``, or the model's default.

        Returns
        -------
        float
            ``learning_rate`` when set, else 1e-4 for the FNN and 1e-3 for the CNNs.
        """
        if self.learning_rate is not None:
            return float(self.learning_rate)
        return 1e-4 if self.model == "fnn" else 1e-3

    def to_dict(self) -> dict[str, Any]:
        """Every field by name (what ``train.json`` keeps under ``"config"``).

        Returns
        -------
        dict
            ``{field: value}``; :meth:`from_dict` inverts it.
        """
        return asdict(self)

    def hash(self) -> str:
        """Hash of every value, for the model directory's key.

        The execution options (strategy, precision, XLA) count only when changed from
        :data:`EXECUTION_DEFAULTS`, so models trained before they existed keep their identity;
        :data:`UNHASHED` options (``cache``) never count: they change where the batches come
        from, not what they are.

        Returns
        -------
        str
            A hex digest (:func:`musiclass.utils.config_hash`).
        """
        d = self.to_dict()
        for name, default in EXECUTION_DEFAULTS.items():
            if d.get(name) == default:
                d.pop(name)
        for name in UNHASHED:
            d.pop(name, None)
        for name in OPTIONAL_HASHED:  # counted only when set: older models keep their key
            if d.get(name) is None:
                d.pop(name, None)
        return config_hash(d)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """The config of :meth:`to_dict`'s (or a YAML file's) dict.

        Parameters
        ----------
        d : dict
            Field values by name; missing fields take their defaults; list values of
            ``model_options`` become tuples.

        Returns
        -------
        TrainConfig
            The config, validated.

        Raises
        ------
        ConfigError
            An unknown key, or a value the config refuses.
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(f"unknown training option(s) {unknown}; known: {sorted(known)}")
        d = dict(d)
        if "model_options" in d:
            d["model_options"] = {
                k: (tuple(v) if isinstance(v, list) else v)
                for k, v in (d["model_options"] or {}).items()
            }
        return cls(**d)


def train_preset(preset: str = "default", **overrides: Any) -> TrainConfig:
    """A training config from a preset, then ``overrides``.

    Parameters
    ----------
    preset : str
        ``default`` (early stopping on ``val_loss``) or ``seed`` (the original study's settings,
        :data:`SEED_TRAINING`, with batch-norm momentum 0.99, raw FNN inputs and the MFCC
        convolution across the coefficients).
    **overrides
        :class:`TrainConfig` fields; ``model_options`` are merged over the preset's.

    Returns
    -------
    TrainConfig
        The preset's config with ``overrides`` applied.

    Raises
    ------
    ConfigError
        An unknown preset or option, or a value the config refuses.
    """
    if preset not in ("default", "seed"):
        raise ConfigError(f"training preset must be 'default' or 'seed', got {preset!r}")
    values: dict[str, Any] = dict(SEED_TRAINING) if preset == "seed" else {}
    values.update(overrides)
    values["preset"] = preset
    options = dict(values.get("model_options") or {})
    model = values.get("model", "cnn-3")
    if model != "fnn":
        options.setdefault("bn_momentum", 0.99 if preset == "seed" else 0.9)
    if preset == "seed":
        if model == "fnn":
            options.setdefault("normalize", False)
        if model == "mfcc-1d":
            options.setdefault("axis", "coefficients")
    values["model_options"] = options
    return TrainConfig.from_dict(values)
