"""The musiclass package: reproducible music genre classification and mood tagging.

Stages, in the order data flows through them::

    audio files -> track index -> feature store -> split -> model -> predictions -> metrics -> figures
    (datasets)     (TrackIndex)   (features.store)  (splits)
"""

__version__ = "0.1.0"

from .errors import AudioError, ConfigError, DatasetError, MetadataError, MusiclassError  # noqa: E402

__all__ = [
    "__version__",
    "AudioError",
    "ConfigError",
    "DatasetError",
    "MetadataError",
    "MusiclassError",
]
