"""The musiclass package: reproducible music genre classification and mood tagging.

Stages, in the order data flows through them::

    audio files -> track index -> feature store -> split -> model -> predictions -> metrics -> figures
    (datasets)     (TrackIndex)   (features.store)  (splits)
"""

import os as _os

__version__ = "0.1.0"

# TensorFlow's oneDNN kernels on every x86 CPU, not only on those with AVX-512 (where its wheels
# turn them on by itself): a CNN training step on an AVX2 CPU is 2-2.7x faster with them (measured
# on 2 cores: CNN-3 on 128 mel frames 2.98 -> 1.12 s, CNN-7 2.48 -> 1.22 s, the mood CNN 2.99 ->
# 1.48 s; results are reproducible run to run, with and without op determinism). Set here, before
# any module of the package can import TensorFlow; an explicit TF_ENABLE_ONEDNN_OPTS=0 is kept.
_os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

from .errors import AudioError, ConfigError, DatasetError, MetadataError, MusiclassError  # noqa: E402

__all__ = [
    "__version__",
    "AudioError",
    "ConfigError",
    "DatasetError",
    "MetadataError",
    "MusiclassError",
]
