"""Pretrained networks trained on real music: musicnn's taggers (Pons & Serra, 2019) in Keras 3.

:mod:`musiclass.pretrained.musicnn` rebuilds the architecture and its input;
:mod:`musiclass.pretrained.weights` obtains the published weights (the ``musicnn==0.1.0`` wheel,
pinned by hash) into a cache on first use; :mod:`musiclass.pretrained.catalog` names the models
``musiclass predict`` and ``musiclass models`` know; :mod:`musiclass.pretrained.embeddings` writes
per-track embeddings to a feature store. Keras is imported only when a network is built.
"""
