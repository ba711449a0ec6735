"""A model directory while its run is in progress: checkpoint, history, resume state, done mark.

The best-epoch checkpoint, the history log, the resumable state in ``backup/``, and the
``done.json`` mark that ends the run.

A killed run restarts from its last finished epoch (:func:`resume_callback`: weights, optimizer,
random and callback state saved atomically after every epoch) and goes on as the uninterrupted
run would have: with ``deterministic`` the two end with the same weights, bit for bit.

The names of the model directory come from :class:`musiclass.layout.ModelDir`; the files inside
``backup/`` and ``done.json`` are this module's own (nothing else reads them).

Keras is imported only inside the callback factories (:func:`~.execution.import_keras`).
"""

from __future__ import annotations

import json
import logging
import math
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import MetadataError
from ..layout import ModelDir
from ..utils import atomic_path, remove_temporaries, write_json_atomic
from .execution import import_keras

log = logging.getLogger(__name__)

#: written last into a model directory: the run of this key is complete
DONE = ModelDir.DONE
#: the resume state in the backup folder; it names its weights file, epoch-NNNN.weights.h5
RESUME_STATE = "state.json"
WEIGHTS_GLOB = "epoch-*.weights.h5"
#: what Keras' BackupAndRestore callback left in the backup folder (an earlier musiclass's backup)
KERAS_BACKUP_STATE = "training_metadata.json"
#: what is kept of Keras' EarlyStopping and ReduceLROnPlateau between sessions (their counters)
_CALLBACK_STATE = ("wait", "best", "best_epoch", "cooldown_counter", "stopped_epoch")


# ------------------------------------------------------------------------------ the run's key
def finished(model_dir: ModelDir, key: dict[str, Any]) -> bool:
    """Whether ``model_dir`` holds a complete run of ``key`` (its ``done.json`` names it).

    Parameters
    ----------
    model_dir : ModelDir
        The model directory.
    key : dict
        What the run was trained from (config hash, data, split; see ``fit.train``).

    Returns
    -------
    bool
        True when ``done.json`` exists and names ``key``.
    """
    done = model_dir / DONE
    return done.is_file() and json.loads(done.read_text()).get("key") == key


def mark_done(model_dir: ModelDir, key: dict[str, Any]) -> None:
    """Write ``done.json`` (atomically, after every other file), then drop ``backup/``.

    A kill between the two leaves a finished run with a stale backup, which the next
    :func:`prepare_model_dir` ignores: nothing is trained again.

    Parameters
    ----------
    model_dir : ModelDir
        The model directory.
    key : dict
        The run's key (see :func:`finished`).
    """
    write_json_atomic(model_dir / DONE, {"key": key})
    shutil.rmtree(model_dir.backup, ignore_errors=True)


def prepare_model_dir(model_dir: ModelDir, key: dict[str, Any]) -> None:
    """Make ``model_dir`` ready for a run of ``key``.

    An unfinished run of the same key is resumed; the files of another config's run (its
    ``train.json`` names another key) are removed rather than resumed from. Temporaries left by a
    run killed mid-write are removed, and ``done.json`` is dropped until the run ends.

    Parameters
    ----------
    model_dir : ModelDir
        The model directory (created if missing).
    key : dict
        The run's key (see :func:`finished`).
    """
    out = model_dir.path
    (model_dir / DONE).unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    for folder in (out, model_dir.backup, model_dir.predictions_dir):  # a run killed mid-write
        remove_temporaries(folder)
    if model_dir.train.is_file() and json.loads(model_dir.train.read_text()).get("key") != key:
        # another config trained here before: start clean rather than resume someone else's weights
        for p in (
            model_dir.backup,
            model_dir.model,
            model_dir.best,
            model_dir.history,
            model_dir.tensorboard,
        ):
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)


# ------------------------------------------------------------------------------ callbacks
def best_checkpoint(model_dir: ModelDir, monitor: str):
    """A callback that saves the model whenever ``monitor`` improves.

    The model goes to ``model.keras``, the epoch and value to ``model.best.json`` (each
    atomically); the best value is read back from ``model.best.json`` on resume.

    Parameters
    ----------
    model_dir : ModelDir
        The model directory.
    monitor : str
        A validation log key (``val_loss``, ``val_accuracy``, ``val_binary_accuracy``); lower is
        better for a loss, higher for anything else.

    Returns
    -------
    keras.callbacks.Callback
        The checkpoint callback, its best value read back from ``model.best.json`` when resuming.
    """
    keras = import_keras()
    path, state_path = model_dir.model, model_dir.best
    mode = "min" if monitor.endswith("loss") else "max"

    class BestCheckpoint(keras.callbacks.Callback):
        """Save the model when ``monitor`` improves; see :func:`best_checkpoint`."""

        def __init__(self):
            super().__init__()
            self.best = None
            if state_path.is_file() and path.is_file():
                self.best = json.loads(state_path.read_text())["value"]

        def on_epoch_end(self, epoch, logs=None):  # a Keras hook; numpydoc ignore=GL08
            value = (logs or {}).get(monitor)
            if value is None:
                return
            better = self.best is None or (
                value < self.best if mode == "min" else value > self.best
            )
            if better:
                self.best = float(value)
                with atomic_path(path) as tmp:
                    self.model.save(tmp)
                write_json_atomic(
                    state_path, {"monitor": monitor, "value": self.best, "epoch": epoch + 1}
                )

    return BestCheckpoint()


def history_logger(path: Path):
    """Keras' CSVLogger, appending (a resumed run continues the file).

    The file is opened at the first epoch's end rather than at the start of training: a run
    killed in its first epoch leaves no ``history.csv`` instead of an empty one that CSV readers
    reject.

    Parameters
    ----------
    path : Path
        The model directory's ``history.csv``.

    Returns
    -------
    keras.callbacks.CSVLogger
        A CSVLogger appending to ``path``, which it opens at the first epoch's end.
    """
    keras = import_keras()

    class HistoryLogger(keras.callbacks.CSVLogger):
        """A CSVLogger that opens its file at the first epoch's end; see :func:`history_logger`."""

        def on_train_begin(self, logs=None):  # a Keras hook; numpydoc ignore=GL08
            self._opened = False

        def on_epoch_end(self, epoch, logs=None):  # a Keras hook; numpydoc ignore=GL08
            if not self._opened:
                super().on_train_begin()
                self._opened = True
            super().on_epoch_end(epoch, logs)

    return HistoryLogger(str(path), append=True)


def _json_float(value) -> float | str:
    v = float(value)
    # "inf", "-inf", "nan": strict JSON has no such numbers
    return v if math.isfinite(v) else repr(v)


def read_resume_state(out: str | Path) -> dict | None:
    """The resume state of an unfinished run (see :func:`resume_callback`).

    The state file is written atomically after the weights it names, so it is either absent, or
    complete and pointing at a complete weights file.

    Parameters
    ----------
    out : str or Path
        The model directory.

    Returns
    -------
    dict or None
        ``{"epoch", "weights", "stopped", "python_random", "order_epoch", "seed_generators",
        "callbacks"}``, or None: start at epoch 0 (also for the backup of an earlier musiclass
        version, with a warning).

    Raises
    ------
    MetadataError
        The state file is not valid JSON, or names a weights file that is missing.
    """
    backup = ModelDir(out).backup
    path = backup / RESUME_STATE
    if not path.is_file():
        if (backup / KERAS_BACKUP_STATE).is_file():
            log.warning(
                "%s: an unfinished run of an earlier musiclass version; starting it over", out
            )
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:  # not our writer's: do not guess
        raise MetadataError(
            path, f"not valid JSON ({exc}); delete {path.parent} to train from the start"
        ) from None
    if not (path.parent / str(state.get("weights", ""))).is_file():
        raise MetadataError(
            path,
            f"names {state.get('weights')!r}, which is missing; delete {path.parent} "
            "to train from the start",
        )
    return state


def truncate_history(path: Path, epochs: int) -> None:
    """Keep the rows of ``history.csv`` for the first ``epochs`` epochs (and the header), byte for byte.

    An epoch logged by a run killed before its backup was saved is trained, and logged, again.

    Parameters
    ----------
    path : Path
        The model directory's ``history.csv`` (nothing happens when it is missing).
    epochs : int
        Epochs to keep; 0 removes the file.
    """
    if not path.is_file():
        return
    if epochs == 0:
        path.unlink()
        return
    lines = path.read_bytes().splitlines(keepends=True)
    keep = lines[:1] + [
        ln
        for ln in lines[1:]
        if ln.endswith(b"\n")
        and ln.split(b",", 1)[0].strip().isdigit()
        and int(ln.split(b",", 1)[0]) < epochs
    ]
    if keep != lines:
        with atomic_path(path) as tmp:
            tmp.write_bytes(b"".join(keep))


def resume_callback(backup: Path, state: dict | None, train_seq, watched: list):
    """A callback that saves a run's resume state after every epoch and restores it on restart.

    The state is what a restarted run needs to go on exactly as this one will; the callback
    restores it at the start of a restarted run.

    Saved (each file atomically; the state file last, naming its weights file, so a kill at any
    moment leaves the previous complete pair): the weights with the optimizer state
    (``epoch-NNNN.weights.h5``), the dropout seed generators, Python's ``random`` state (Keras
    shuffles the order of a PyDataset's batches with it), the epoch counter of the training
    batches (their seeded order), the counters of EarlyStopping and ReduceLROnPlateau, and whether
    training stopped early. ``keras.callbacks.BackupAndRestore``, used before, saved only the
    weights and the epoch, neither file atomically: a restarted run drew other batch orders and
    dropout masks, and a kill during its save could leave a weights file that no longer loads.

    Parameters
    ----------
    backup : Path
        The model directory's ``backup/``.
    state : dict or None
        :func:`read_resume_state`'s state to restore, or None (a fresh run).
    train_seq : keras.utils.PyDataset
        The training batches; their ``epoch`` counter is saved and restored.
    watched : list of keras.callbacks.Callback
        EarlyStopping and ReduceLROnPlateau, whose counters are saved and restored.

    Returns
    -------
    keras.callbacks.Callback
        The resume callback; it restores ``state`` (when given) as training begins.
    """
    keras = import_keras()

    def seed_variables(model):  # a closure, not API; numpydoc ignore=GL08
        # in model order: their paths get numbered per process ("seed_generator_2")
        return [v for v in model.variables if "seed_generator_state" in v.path]

    class Resume(keras.callbacks.Callback):
        """Save the resume state after every epoch, restore it on restart; see :func:`resume_callback`."""

        def __init__(self):
            super().__init__()
            self._pending = state is not None

        def on_train_begin(self, logs=None):  # a Keras hook; numpydoc ignore=GL08
            if state is None:
                return
            optimizer = self.model.optimizer
            if optimizer is not None and not optimizer.built:  # its variables must exist to load
                optimizer.build(self.model.trainable_variables)
            self.model.load_weights(backup / state["weights"])
            seeds, saved = seed_variables(self.model), state.get("seed_generators", [])
            if len(seeds) == len(saved):
                for variable, value in zip(seeds, saved):
                    variable.assign(np.asarray(value, dtype=variable.dtype))

        def on_epoch_begin(self, epoch, logs=None):  # a Keras hook; numpydoc ignore=GL08
            # here, not in on_train_begin: after every callback's own reset, just before the
            # first batch order is drawn
            if not self._pending:
                return
            self._pending = False
            version, internal, gauss = state["python_random"]
            random.setstate((version, tuple(internal), gauss))
            if "order_epoch" in state and hasattr(train_seq, "epoch"):
                train_seq.epoch = int(state["order_epoch"])
            for cb, saved in zip(watched, state.get("callbacks", [])):
                for name, value in saved.items():
                    setattr(cb, name, float(value) if name == "best" else value)

        def on_epoch_end(self, epoch, logs=None):  # a Keras hook; numpydoc ignore=GL08
            name = f"epoch-{epoch + 1:04d}.weights.h5"
            with atomic_path(backup / name, suffix=".weights.h5") as tmp:
                self.model.save_weights(tmp)
            saved = [
                {
                    k: _json_float(v) if k == "best" else int(v)
                    for k in _CALLBACK_STATE
                    if isinstance(v := getattr(cb, k, None), (int, float, np.number))
                    and not isinstance(v, bool)
                }
                for cb in watched
            ]
            version, internal, gauss = random.getstate()
            write_json_atomic(
                backup / RESUME_STATE,
                {
                    "epoch": epoch + 1,
                    "weights": name,
                    "stopped": bool(self.model.stop_training),
                    "python_random": [version, list(internal), gauss],
                    "order_epoch": int(getattr(train_seq, "epoch", 0)),
                    "seed_generators": [
                        np.asarray(v.numpy()).tolist() for v in seed_variables(self.model)
                    ],
                    "callbacks": saved,
                },
            )
            for old in backup.glob(WEIGHTS_GLOB):
                if old.name != name:
                    old.unlink(missing_ok=True)

    return Resume()
