"""Dataset modules: each turns a dataset on disk into a :class:`TrackIndex`."""

from .base import TrackIndex, join_labels, labels_to_matrix, split_labels

__all__ = ["TrackIndex", "join_labels", "labels_to_matrix", "split_labels"]
