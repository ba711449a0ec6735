"""Feature extraction: spectral frontend, hand-crafted descriptors, the feature store, its runners.

The runners fill a store from local processes (:mod:`~musiclass.features.extract`) or from the
workers of a Dask cluster (:mod:`~musiclass.features.dask_run`).
"""
