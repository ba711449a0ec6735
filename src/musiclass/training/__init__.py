"""Training networks from a feature store (or straight from audio): seeded batches, resumable runs.

Streamed seeded batches, automatic model selection, resumable runs.

:func:`train` fits one model on one split of one store and leaves a **model directory** (its
names: :class:`musiclass.layout.ModelDir`)::

    model.keras      the selected (best-on-validation) model, loadable with keras safe mode
    model.best.json  which epoch that was and its monitored value
    train.json       the training config (with its hash)       labels.json    classes, multilabel
    frontend.json    the frontend config the features came from (``predict`` recomputes with it)
    history.csv      per-epoch loss, accuracy, learning rate (Keras CSVLogger)
    tensorboard/     TensorBoard logs                          backup/        resume state (while running)
    predictions/     per split part: one row per frame, probabilities per class (CSV)
    metrics.json     evaluation of the selected model on validation and test
    thresholds.json  per-tag decision thresholds (taggers)
    done.json        written last: the run is complete

Batches are gathered from the memory-mapped store (a ``keras.utils.PyDataset``): the data set is
never loaded whole, and the training order is a new seeded permutation every epoch. A killed run
restarts from its last finished epoch and goes on as the uninterrupted run would have: with
``deterministic`` the two end with the same weights, bit for bit.

The package, lowest first (each module imports only those above it):

* :mod:`.config`: :class:`TrainConfig`, :func:`train_preset`, the accepted values;
* :mod:`.execution`: Keras on first use, seeds, the ``tf.distribute`` strategy, precision;
* :mod:`.batches`: a split's frame rows, targets, weights, the seeded epoch order and the
  store's batches (the audio batches of :mod:`musiclass.models.frontend_layer` share them);
* :mod:`.resume`: the model directory while a run is in progress (checkpoint, history, backup);
* :mod:`.results`: predictions, thresholds, the evaluation, :class:`TrainResult` and readers;
* :mod:`.fit`: :func:`train`, :func:`train_audio`, :func:`fit_and_evaluate`.

Importing the package does not import TensorFlow; fitting a network does.
"""

from __future__ import annotations

from .batches import (
    epoch_order,
    evenly_spaced,
    evenly_spaced_mask,
    frame_batches,
    input_statistics,
    load_split,
    select_frames,
    tag_weights,
    targets,
    training_rows,
)
from .config import (
    EXECUTION_DEFAULTS,
    PRECISIONS,
    RESAMPLED_SETS,
    SEED_TRAINING,
    STRATEGIES,
    TrainConfig,
    train_preset,
)
from .execution import distribute_strategy, execution, set_seed
from .fit import TrainingData, fit_and_evaluate, train, train_audio
from .results import TrainResult, load_predictions, load_result, save_predictions, track_truth
from .resume import read_resume_state

__all__ = [
    "EXECUTION_DEFAULTS",
    "PRECISIONS",
    "RESAMPLED_SETS",
    "SEED_TRAINING",
    "STRATEGIES",
    "TrainConfig",
    "TrainResult",
    "TrainingData",
    "distribute_strategy",
    "epoch_order",
    "evenly_spaced",
    "evenly_spaced_mask",
    "execution",
    "fit_and_evaluate",
    "frame_batches",
    "input_statistics",
    "load_predictions",
    "load_result",
    "load_split",
    "read_resume_state",
    "save_predictions",
    "select_frames",
    "set_seed",
    "tag_weights",
    "targets",
    "track_truth",
    "train",
    "train_audio",
    "train_preset",
    "training_rows",
]
