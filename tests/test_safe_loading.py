"""Safe loading: no artefact is a pickle, nothing is unpickled, no model code runs on load, and
no file outside the data is read because a table said so.

* Every file a tiny run writes (track index, feature store, trained and interrupted model
  directories, classical results) is JSON, CSV, ``.npy`` (loadable with ``allow_pickle=False``),
  ``.keras`` or HDF5 weights; none carries a pickle header.
* Every ``np.load`` the package makes while extracting, training and scoring passes
  ``allow_pickle=False`` (``numpy.load`` is replaced by one that refuses anything else).
* A ``model.keras`` holding a ``Lambda`` layer (arbitrary Python) is refused by every path that
  loads a model: the reload after training, ``frontend_layer.load_model``, the audio export and
  the predictor.
* Split CSVs and a store's ``index.csv`` only name tracks: no file is opened from them; the
  manifest may only name chunk files inside the store; a chunk holding objects is refused.
* ``TrackIndex.load`` of a ``tracks.csv`` pointing outside its recorded root is refused.
"""

from __future__ import annotations

import ast
import json
import shutil
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import musiclass
from musiclass import splits
from musiclass.config import frontend_preset
from musiclass.datasets.base import TrackIndex
from musiclass.errors import MetadataError, MusiclassError
from musiclass.features.extract import extract
from musiclass.features.store import FeatureStore
from musiclass.models import classical
from musiclass.training import load_split, train, train_preset

from .conftest import tone_index

GENRES3 = ("blues", "classical", "country")
TINY = frontend_preset(
    "genre",
    "default",
    n_mels=32,
    frame_seconds=1.0,
    hop_seconds=0.5,
    representations=("mel",),
    handcrafted=True,
)
SRC = Path(musiclass.__file__).parent
PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib", ".npz", ".pt", ".pth", ".sav", ".dill")

# ------------------------------------------------------------------------------ recording opens
#: paths opened while ``OPENED["on"]``: an audit hook sees every open() and os.open() from Python
#: code (zipfile, numpy, pandas included); hooks cannot be removed, so it is switched, not added
OPENED: dict = {"on": False, "paths": []}


def _audit(event: str, args) -> None:
    if OPENED["on"] and event == "open" and isinstance(args[0], (str, bytes, Path)):
        OPENED["paths"].append(Path(args[0].decode() if isinstance(args[0], bytes) else args[0]))


sys.addaudithook(_audit)


class Recording:
    """Record the paths opened inside the ``with`` block."""

    def __enter__(self):
        OPENED["paths"] = []
        OPENED["on"] = True
        return OPENED["paths"]

    def __exit__(self, *exc):
        OPENED["on"] = False


def strict_np_load(monkeypatch) -> list:
    """Replace ``numpy.load`` by one that fails unless ``allow_pickle=False``; returns its call log."""
    real, calls = np.load, []

    def load(file, *args, **kwargs):
        if kwargs.get("allow_pickle", True) is not False or len(args) >= 2:
            raise AssertionError(f"np.load({file!r}) without allow_pickle=False")
        calls.append(file)
        return real(file, *args, **kwargs)

    monkeypatch.setattr(np, "load", load)
    return calls


def is_pickle(data: bytes) -> bool:
    """A pickle of protocol 2 or later starts with PROTO (0x80) and the protocol number."""
    return len(data) >= 2 and data[0] == 0x80 and 2 <= data[1] <= 5


def lambda_model(path: Path, input_shape) -> Path:
    """A ``.keras`` file whose model runs a Python lambda: what a hostile model directory holds."""
    import keras

    inputs = keras.Input(shape=input_shape)
    x = keras.layers.Lambda(lambda t: t * 2.0)(inputs)
    outputs = keras.layers.Dense(3, activation="softmax")(keras.layers.Flatten()(x))
    keras.Model(inputs, outputs).save(path)
    return path


# ------------------------------------------------------------------------------ a tiny run
@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Index, store, a trained model, an interrupted one (backup kept), classical results: all
    written with ``numpy.load`` made strict and every opened path recorded. The split CSV also
    lists hostile track ids (a relative escape and an absolute path) that name real files."""
    import keras

    root = tmp_path_factory.mktemp("safe")
    outside = root / "outside"
    outside.mkdir()
    np.save(
        outside / "evil.npy", np.array([{"pickled": "object"}], dtype=object), allow_pickle=True
    )
    index = tone_index(root / "tones", genres=GENRES3, per_genre=4, seconds=4.0)
    index.save(root / "index")
    split = splits.song_split(index, (0.5, 0.25, 0.25), seed=0).reset_index()
    hostile = pd.DataFrame(
        {"track_id": ["../../outside/evil", str(outside / "evil.npy")], "part": ["train", "test"]}
    )
    splits.save(pd.concat([split, hostile], ignore_index=True), root / "split.csv")
    cfg = train_preset(
        "default",
        model="cnn-3",
        representation="mel",
        epochs=1,
        batch_size=16,
        early_stopping_patience=None,
        reduce_lr_patience=None,
        tensorboard=False,
    )

    class Stop(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise KeyboardInterrupt

    with pytest.MonkeyPatch.context() as mp, Recording() as opened:
        calls = strict_np_load(mp)
        store = extract(
            TrackIndex.load(root / "index"), TINY, root / "store", jobs=1, progress=False
        ).store
        model = train(store, root / "split.csv", cfg, root / "model", progress=False, n_boot=20)
        with pytest.raises(KeyboardInterrupt):
            train(
                store,
                root / "split.csv",
                cfg.__class__.from_dict({**cfg.to_dict(), "epochs": 3}),
                root / "interrupted",
                progress=False,
                n_boot=20,
                callbacks=[Stop()],
            )
        table = classical.read_features(store.path)
        result = classical.run(table, "seed", models=("lr", "knn"), n_boot=20, progress=False)
        classical.save({"seed": result}, root / "classical", table)
    return {
        "root": root,
        "outside": outside,
        "store": store,
        "model": model.model_dir,
        "np_load_calls": list(calls),
        "opened": list(opened),
    }


def test_every_artefact_is_json_csv_npy_keras_or_hdf5_and_none_is_a_pickle(run):
    """Walk everything the run wrote: known formats only, each checked by content, no pickle."""
    root = run["root"]
    seen = {}
    for p in sorted(root.rglob("*")):
        if not p.is_file() or root / "outside" in p.parents or root / "tones" in p.parents:
            continue
        data = p.read_bytes()
        name = p.name
        assert not name.endswith(PICKLE_SUFFIXES) and not is_pickle(data), p
        if name.endswith(".json"):
            json.loads(data)
            kind = "json"
        elif name.endswith(".csv"):
            pd.read_csv(p)
            kind = "csv"
        elif name.endswith(".npy"):
            assert data.startswith(b"\x93NUMPY")
            a = np.load(p, allow_pickle=False)
            assert a.dtype != object
            kind = "npy"
        elif name.endswith(".keras"):
            with zipfile.ZipFile(p) as z:
                members = sorted(z.namelist())
                assert members == ["config.json", "metadata.json", "model.weights.h5"], members
                json.loads(z.read("config.json"))
                assert z.read("model.weights.h5")[:8] == b"\x89HDF\r\n\x1a\n"
            kind = "keras"
        elif name.endswith(".weights.h5"):
            assert data[:8] == b"\x89HDF\r\n\x1a\n"
            kind = "h5"
        else:
            raise AssertionError(f"unexpected artefact {p.relative_to(root)}")
        seen[kind] = seen.get(kind, 0) + 1
    assert set(seen) == {"json", "csv", "npy", "keras", "h5"}, (
        seen
    )  # the backup of the interrupted run: h5
    assert (root / "interrupted" / "backup" / "state.json").is_file()


def test_numpy_loads_in_the_package_refuse_pickles(run, tmp_path, monkeypatch):
    """The run's extraction and training loaded chunks only with ``allow_pickle=False`` (the
    strict ``numpy.load`` would have failed otherwise); so do the store reader and matrix
    scoring here."""
    from musiclass import evaluation

    assert len(run["np_load_calls"]) >= 12  # meta chunks at finalize, mel chunks in training
    calls = strict_np_load(monkeypatch)
    store = FeatureStore(run["store"].path)
    np.asarray(store.array("mel"))
    truth = np.eye(3, dtype=np.int64)[[0, 1, 2, 0, 1, 2]]
    np.save(tmp_path / "truth.npy", truth, allow_pickle=False)
    np.save(tmp_path / "pred.npy", truth * 0.8 + 0.1, allow_pickle=False)
    evaluation.score_matrices(tmp_path / "truth.npy", tmp_path / "pred.npy", n_boot=0)
    assert len(calls) >= len(store.manifest["chunks"]) + 2
    monkeypatch.undo()
    with pytest.raises(evaluation.EvaluationError, match="pickle"):
        evaluation.score_matrices(run["outside"] / "evil.npy", tmp_path / "pred.npy", n_boot=0)


def test_every_np_load_and_keras_load_in_the_source_is_safe():
    """A guard for code added later: every ``np.load`` call in the package passes
    ``allow_pickle=False`` and every Keras ``load_model`` call passes ``safe_mode=True`` (or is
    the package's own ``load_model``, which does). The behavioural tests cover today's paths."""
    bad = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            kw = {k.arg: k.value for k in node.keywords}
            chain = ast.unparse(node.func)
            if node.func.attr == "load" and chain in ("np.load", "numpy.load"):
                ok = (
                    isinstance(kw.get("allow_pickle"), ast.Constant)
                    and kw["allow_pickle"].value is False
                )
            elif node.func.attr == "load_model" and "keras" in chain:
                ok = isinstance(kw.get("safe_mode"), ast.Constant) and kw["safe_mode"].value is True
            else:
                continue
            if not ok:
                bad.append(f"{path.relative_to(SRC)}:{node.lineno}: {ast.unparse(node)}")
    assert not bad, bad


# ------------------------------------------------------------------------------ models: safe mode
def test_a_lambda_model_is_refused_by_every_model_loading_path(run, tmp_path):
    """A model directory whose ``model.keras`` runs a Python lambda: the file itself is a valid
    model (it loads when safe mode is switched off by hand), yet each of our loading paths
    refuses it."""
    import keras

    from musiclass.models import frontend_layer as fl

    hostile = tmp_path / "hostile"
    shutil.copytree(run["model"], hostile)
    lambda_model(hostile / "model.keras", (32, 44))
    assert keras.saving.load_model(hostile / "model.keras", safe_mode=False) is not None
    with pytest.raises(ValueError, match="safe_mode"):
        fl.load_model(hostile / "model.keras")
    with pytest.raises(ValueError, match="safe_mode"):
        fl.export_with_frontend(hostile, tmp_path / "exported")
    assert not (tmp_path / "exported" / "model.keras").exists()
    predict = pytest.importorskip("musiclass.predict")
    if hasattr(predict, "load_predictor"):
        with pytest.raises(
            MusiclassError
        ):  # its FileError names model.keras and quotes Keras' refusal
            predict.load_predictor(hostile)


def test_the_reload_after_training_uses_safe_mode(run, tmp_path):
    """``train`` reloads the selected ``model.keras`` to evaluate it; a Lambda model put in its
    place before that reload is refused, and the run is not marked done."""
    import keras

    class Swap(keras.callbacks.Callback):
        def on_train_end(self, logs=None):
            lambda_model(out / "model.keras", (32, 44))

    out = tmp_path / "swapped"
    cfg = train_preset(
        "default",
        model="cnn-3",
        representation="mel",
        epochs=1,
        batch_size=16,
        early_stopping_patience=None,
        reduce_lr_patience=None,
        tensorboard=False,
        seed=7,
    )
    with pytest.raises(ValueError, match="safe_mode"):
        train(
            run["store"],
            run["root"] / "split.csv",
            cfg,
            out,
            progress=False,
            n_boot=20,
            callbacks=[Swap()],
        )
    assert not (out / "done.json").exists() and not (out / "metrics.json").exists()


# ------------------------------------------------------------------------------ paths stay inside
def test_split_and_index_tables_never_name_files_to_open(run):
    """The hostile split rows (``../../outside/evil`` and an absolute path to a real file) were
    dropped, and during extraction, training and the classical run no file under ``outside/``
    was opened: track ids are keys, never paths. Every file opened under the run folder is in
    the index, the store, the model directories or the results."""
    root, outside = run["root"], run["outside"]
    opened = [p for p in run["opened"] if root in p.parents]
    assert opened, "the audit hook saw no open"
    assert not [p for p in opened if outside in p.parents or p == outside]
    rows = load_split(run["store"], root / "split.csv")
    assert not rows["track_id"].str.contains("evil").any()
    assert {p.relative_to(root).parts[0] for p in opened} <= {
        "index",
        "tones",
        "store",
        "model",
        "interrupted",
        "classical",
        "split.csv",
    }


def test_a_tampered_index_csv_names_no_file(run, tmp_path):
    """Track ids in a store's ``index.csv`` rewritten into paths: reading frames still opens only
    the chunk files the manifest lists, inside the store."""
    store_dir = tmp_path / "store"
    shutil.copytree(run["store"].path, store_dir)
    index = pd.read_csv(store_dir / "index.csv", dtype=str, keep_default_na=False)
    index["track_id"] = [f"../../outside/evil-{i}" for i in range(len(index))]
    index.to_csv(store_dir / "index.csv", index=False)
    store = FeatureStore(store_dir)
    n = len(store.index)  # read here: the recording is about the frames
    with Recording() as opened:
        frames = store.array("mel").rows(np.arange(n))
    assert frames.shape[0] == len(index)
    assert opened and all(store_dir / "chunks" / "mel" in p.parents for p in opened), opened


@pytest.mark.parametrize(
    "tamper, message",
    [
        (
            lambda m: m["chunks"][0].update(file="../../../outside/evil.npy"),
            "not a plain .npy file name",
        ),
        (
            lambda m: m["chunks"][0].update(file=str(Path("/tmp") / "evil.npy")),
            "not a plain .npy file name",
        ),
        (
            lambda m: m["representations"]["mel"].update(folder="chunks/../../outside"),
            "not inside chunks/",
        ),
        (lambda m: m["representations"]["mel"].update(folder="/tmp"), "not inside chunks/"),
    ],
)
def test_the_manifest_can_only_name_chunks_inside_the_store(run, tmp_path, tamper, message):
    store_dir = tmp_path / "store"
    shutil.copytree(run["store"].path, store_dir)
    manifest = json.loads((store_dir / "manifest.json").read_text())
    tamper(manifest)
    (store_dir / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(MetadataError, match=message):
        FeatureStore(store_dir).array("mel")


def test_a_chunk_holding_objects_is_refused_not_unpickled(run, tmp_path):
    store_dir = tmp_path / "store"
    shutil.copytree(run["store"].path, store_dir)
    chunk = (
        store_dir
        / "chunks"
        / "mel"
        / json.loads((store_dir / "manifest.json").read_text())["chunks"][0]["file"]
    )
    shutil.copy(run["outside"] / "evil.npy", chunk)
    with pytest.raises(MetadataError, match="not a plain numeric .npy chunk"):
        FeatureStore(store_dir).array("mel")[0]


def test_an_index_without_a_root_may_point_anywhere(tmp_path):
    """Indexes built in code (``root=""``, e.g. a custom list of files) have no root to stay in."""
    tracks = pd.DataFrame(
        {
            "track_id": ["a", "b"],
            "path": [str(tmp_path / "x.wav"), "/elsewhere/y.wav"],
            "label": ["blues", "jazz"],
            "duration": [30.0, 30.0],
            "artist": ["", ""],
        }
    )
    TrackIndex(tracks, ("blues", "jazz")).save(tmp_path / "index")
    assert TrackIndex.load(tmp_path / "index").tracks["path"].tolist() == tracks["path"].tolist()


@pytest.mark.parametrize("escape", ["relative", "absolute"])
def test_an_index_whose_tracks_leave_its_root_is_refused(tmp_path, escape):
    """A GTZAN-like index folder (made from a root) whose ``tracks.csv`` was edited to point at a
    file outside that root must not be loaded: extraction would decode whatever it names."""
    index = tone_index(tmp_path / "gtzan", genres=GENRES3, per_genre=1, seconds=2.0)
    index.save(tmp_path / "index")
    table = pd.read_csv(tmp_path / "index" / "tracks.csv", dtype=str, keep_default_na=False)
    target = tmp_path / "outside" / "secret.wav"
    table.loc[0, "path"] = (
        f"{index.root}/genres/../../outside/secret.wav" if escape == "relative" else str(target)
    )
    table.to_csv(tmp_path / "index" / "tracks.csv", index=False)
    with pytest.raises(MetadataError):
        TrackIndex.load(tmp_path / "index")
