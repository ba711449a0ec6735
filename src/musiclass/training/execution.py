"""Where and how a network trains: seeds, op determinism, distribution, mixed precision.

Seeds and op determinism, the ``tf.distribute`` strategy, the mixed-precision policy.

Keras and TensorFlow are imported on first use (:func:`import_keras`), never when this module
is, so ``import musiclass.training`` stays free of TensorFlow (the CLI, the classical baselines
and the report import it without needing a network).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import ConfigError
from .config import STRATEGIES, TrainConfig


def import_keras():
    """Keras, imported now (TensorFlow's C++ logging quietened to warnings first).

    Every module of :mod:`musiclass.training` gets Keras from here, inside the function that needs
    it: that keeps TensorFlow out of ``import musiclass.training``.

    Returns
    -------
    module
        ``keras``.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    return keras


def set_seed(seed: int, deterministic: bool = False) -> None:
    """Seed Python, NumPy and TensorFlow, and switch TF op determinism on or off.

    Op determinism is process-wide: left on by an earlier deterministic run, it would also slow
    down (and disable XLA for) the next one, so it is switched off when not asked for.

    Parameters
    ----------
    seed : int
        For ``keras.utils.set_random_seed`` (Python's ``random``, NumPy's global generator, TF).
    deterministic : bool
        Enable ``tf.config.experimental.enable_op_determinism`` (else disable it).
    """
    keras = import_keras()
    keras.utils.set_random_seed(int(seed))
    import tensorflow as tf
    from tensorflow.python.framework import config as tf_config

    if deterministic:
        tf.config.experimental.enable_op_determinism()
    elif tf_config.is_op_determinism_enabled():
        tf_config.disable_op_determinism()


def distribute_strategy(name: str = "default"):
    """The ``tf.distribute`` strategy called ``name``.

    Parameters
    ----------
    name : str
        ``default`` (one device) or ``mirrored``: a MirroredStrategy over every GPU, or, without
        GPUs, over every logical CPU device (how the test suite runs the multi-device path on CPU,
        ``tf.config.set_logical_device_configuration``), reducing on the host.

    Returns
    -------
    tf.distribute.MirroredStrategy or None
        None for ``default``.

    Raises
    ------
    ConfigError
        ``name`` is not one of :data:`~musiclass.training.config.STRATEGIES`.
    """
    if name == "default":
        return None
    if name not in STRATEGIES:
        raise ConfigError(f"strategy must be one of {STRATEGIES}, got {name!r}")
    import_keras()
    import tensorflow as tf

    devices = [d.name for d in tf.config.list_logical_devices("GPU")] or [
        d.name for d in tf.config.list_logical_devices("CPU")
    ]
    # on CPU-only machines the default cross-device op (NCCL) does not exist: reduce on the host
    cross = None if tf.config.list_logical_devices("GPU") else tf.distribute.ReductionToOneDevice()
    return tf.distribute.MirroredStrategy(devices=devices, cross_device_ops=cross)


@contextmanager
def execution(config: TrainConfig) -> Iterator[dict[str, Any]]:
    """Run the block under ``config``'s precision policy and inside its strategy's scope.

    The global Keras dtype policy is restored afterwards, whatever the block raised.

    Parameters
    ----------
    config : TrainConfig
        Its ``strategy``, ``precision`` and ``xla``.

    Yields
    ------
    dict
        ``{"strategy", "replicas", "devices", "precision", "xla"}``: where the block runs (the
        caller may replace ``xla`` with what Keras resolved ``"auto"`` to).
    """
    keras = import_keras()
    previous = keras.mixed_precision.global_policy()
    strategy = distribute_strategy(config.strategy)
    keras.mixed_precision.set_global_policy(config.precision)
    try:
        if strategy is None:
            import tensorflow as tf

            devices = [d.name for d in tf.config.list_logical_devices("GPU")[:1]] or [
                "/device:CPU:0"
            ]
            yield {
                "strategy": "default",
                "replicas": 1,
                "devices": devices,
                "precision": config.precision,
                "xla": config.xla,
            }
        else:
            with strategy.scope():
                yield {
                    "strategy": config.strategy,
                    "replicas": int(strategy.num_replicas_in_sync),
                    "devices": list(strategy.extended.worker_devices),
                    "precision": config.precision,
                    "xla": config.xla,
                }
    finally:
        keras.mixed_precision.set_global_policy(previous)
