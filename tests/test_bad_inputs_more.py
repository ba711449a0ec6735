"""More bad inputs from a hostile user's session (issue 15): each is one ``error: FILE: reason``
line with exit status 1, never a traceback, and is refused before any work starts.

Every case calls :func:`musiclass.cli.main` in-process (no subprocess, no TensorFlow): bad
configuration values, read-only output folders, damaged model directories and stores, registry
records, empty stores and indexes, a closed stdout. Model directories are written by hand (the
files ``evaluate`` reads), so no network is trained here.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from musiclass import audio, utils
from musiclass.cli import EXIT_ERROR, EXIT_OK, main
from musiclass.config import frontend_preset
from musiclass.datasets.base import TrackIndex
from musiclass.errors import AudioError, ConfigError, FileError, MetadataError
from musiclass.features.extract import extract
from musiclass.features.store import FeatureStore
from musiclass.layout import ModelDir, StoreFiles, StudyFolder
from musiclass.registry import read_registry, source_path
from musiclass.splits import check_fractions
from musiclass.study import load_study

from .conftest import tone

CLASSES = ("blues", "jazz")


def cli_error(capsys, argv: list[str]) -> str:
    """Run ``musiclass ARGV``; assert exit 1 with one ``error:`` line and no traceback; return it."""
    assert main(argv) == EXIT_ERROR
    err = capsys.readouterr().err.strip()
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


# ----------------------------------------------------------------------- an index and a store
@pytest.fixture
def index_dir(tmp_path) -> Path:
    """A two-track index folder whose audio need not exist (the cases stop before any is read)."""
    folder = tmp_path / "index"
    tracks = pd.DataFrame(
        {
            "track_id": ["blues.00000", "jazz.00000"],
            "path": [str(tmp_path / "b.wav"), str(tmp_path / "j.wav")],
            "label": list(CLASSES),
            "duration": [30.0, 30.0],
            "artist": ["a", "b"],
        }
    )
    TrackIndex(tracks, CLASSES, dataset="gtzan", root=str(tmp_path)).save(folder)
    return folder


@pytest.fixture
def empty_store(tmp_path) -> Path:
    """A finished feature store of 0 tracks (what extracting an index of 0 tracks used to give)."""
    idx = TrackIndex(
        pd.DataFrame(columns=["track_id", "path", "label", "duration", "artist"]),
        CLASSES,
        dataset="gtzan",
    )
    extract(idx, frontend_preset("genre", "default"), tmp_path / "store", progress=False)
    return tmp_path / "store"


# ----------------------------------------------------------------------- configuration values
#: (command, --set pair, what the error says); the index or store does not even exist
BAD_SETS = [
    ("extract", "n_mels=abc", "n_mels='abc' (str): must be an integer"),
    ("extract", "n_mels=null", "n_mels=None (NoneType): must be an integer"),
    ("extract", "n_mels=true", "n_mels=True (bool): must be an integer"),
    ("extract", "representations=5", "representations=5: must be a name or a list of names"),
    ("extract", "representations=[mel, 3]", "representations=['mel', 3]: must be a name or a list"),
    ("extract", "n_mels=[1,", "--set n_mels=[1,: the value is not valid YAML"),
    ("extract", "center=maybe", "center='maybe' (str): must be true or false"),
    ("extract", "sample_rate=22050.7", "sample_rate=22050.7 (float): must be an integer"),
    ("extract", "fmin=-500", "fmin must be at least 0 Hz"),
    ("extract", "window=bogus", "window='bogus' is not a window"),
    ("extract", "n_fft=1000.5", "n_fft=1000.5 (float): must be an integer"),
    ("train", "batch_size=abc", "batch_size='abc' (str): must be an integer"),
    ("train", "learning_rate=fast", "learning_rate='fast' (str): must be a number"),
    ("train", "epochs=1.7", "epochs=1.7 (float): must be an integer"),
    ("train", "seed=1e20", "seed='1e20' (str): must be an integer"),
    ("train", "reduce_lr_factor=5", "reduce_lr_factor must be in (0, 1)"),
    ("train", "first_frames=0", "first_frames must be at least 1"),
]


@pytest.mark.parametrize("command,pair,fragment", BAD_SETS, ids=[c[1] for c in BAD_SETS])
def test_bad_set_is_refused_before_any_file_is_read(tmp_path, capsys, command, pair, fragment):
    """``extract --set`` (frontend) and ``train --set`` values: checked before anything is read."""
    out = tmp_path / "out"
    where = ["--split", "song"] if command == "train" else []
    argv = [command, str(tmp_path / "missing"), *where, "--out", str(out), "--set", pair]
    assert fragment in cli_error(capsys, argv)
    assert not out.exists()


def test_yaml_config_with_a_quoted_number(tmp_path, capsys):
    cfg = tmp_path / "frontend.yaml"
    cfg.write_text('hop_length: "512"\n')
    line = cli_error(capsys, ["extract", "x", "--out", str(tmp_path / "s"), "--config", str(cfg)])
    assert "hop_length='512' (str): must be an integer" in line


@pytest.mark.parametrize("command", ["extract", "train"])
def test_binary_file_as_config(tmp_path, capsys, command):
    cfg = tmp_path / "photo.yaml"
    cfg.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe" + bytes(range(256)))
    argv = {
        "extract": ["extract", "x", "--out", str(tmp_path / "s"), "--config", str(cfg)],
        "train": [
            "train",
            "x",
            "--split",
            "song",
            "--out",
            str(tmp_path / "m"),
            "--config",
            str(cfg),
        ],
    }[command]
    assert (
        cli_error(capsys, argv)
        == f"error: {cfg}: not a text file (not UTF-8): is it really a YAML config?"
    )


@pytest.mark.parametrize(
    "fractions", [["1", "0", "0"], ["0.8", "0.2", "0"], ["0", "0.5", "0.5"], ["nan", "0.5", "0.5"]]
)
def test_split_fractions_must_each_be_in_0_1(tmp_path, capsys, fractions):
    """Refused before the store is opened (it does not exist): no split file is overwritten."""
    line = cli_error(
        capsys, ["split", str(tmp_path / "store"), "--method", "song", "--fractions", *fractions]
    )
    assert "fractions" in line and "sum" in line


def test_check_fractions_every_part():
    assert check_fractions((0.6, 0.2, 0.2), every_part=True) == (0.6, 0.2, 0.2)
    assert check_fractions((1.0, 0.0, 0.0)) == (1.0, 0.0, 0.0)  # the library may leave parts empty
    with pytest.raises(ConfigError, match=r"each be in \(0, 1\)"):
        check_fractions((1.0, 0.0, 0.0), every_part=True)


@pytest.mark.parametrize(
    "splits,fragment",
    [
        ("song", "splits must be a list of split methods"),
        ("[song, sideways]", "unknown split method 'sideways'"),
    ],
)
def test_study_with_bad_splits_is_refused_on_loading(tmp_path, splits, fragment):
    """``splits: song`` used to become ['s', 'o', 'n', 'g'] and fail after extracting."""
    cfg = tmp_path / "study.yaml"
    cfg.write_text(f"splits: {splits}\nruns:\n  - {{model: cnn-3}}\n")
    with pytest.raises(ConfigError, match=fragment):
        load_study(cfg)


# ----------------------------------------------------------------------- read-only output folders
@pytest.fixture
def read_only(tmp_path):
    """Make folders read-only, for root too (``chattr +i``); undone at the end, so pytest can clean."""
    made: list[Path] = []

    def make(path: Path) -> Path:
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o555)
        made.append(path)
        if os.geteuid() == 0:
            subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
        try:
            utils.check_writable_folder(path)
        except Exception:  # noqa: BLE001 - the folder refuses writes: what the test needs
            return path
        pytest.skip("cannot make a folder read-only here (root without chattr)")

    yield make
    for path in made:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(path)], capture_output=True, check=False)
        path.chmod(0o755)


@pytest.mark.parametrize(
    "command", ["index", "extract", "extract-nested", "train", "split", "predict"]
)
def test_read_only_output_folder(tmp_path, capsys, read_only, index_dir, command):
    ro = read_only(tmp_path / "ro")
    argv = {
        "index": ["index", "gtzan", str(tmp_path), "--out", str(ro), "-q"],
        "extract": ["extract", str(index_dir), "--out", str(ro), "-q"],
        "extract-nested": ["extract", str(index_dir), "--out", str(ro / "a" / "store"), "-q"],
        "train": ["train", "store", "--split", "song", "--out", str(ro), "-q"],
        "split": ["split", str(ro), "--method", "song"],
        "predict": ["predict", "model", "x.wav", "--out", str(ro / "p.csv")],
    }[command]
    line = cli_error(capsys, argv)
    assert line.startswith("error: ") and str(ro) in line and "read-only" in line


def test_permission_error_after_the_check_names_the_folder(tmp_path, capsys, monkeypatch):
    """A folder that turns read-only mid-run: the PermissionError becomes one line naming it."""

    def refuse(path):
        raise PermissionError(13, "Permission denied", str(tmp_path / ".x.musiclass-tmp"))

    monkeypatch.setattr("musiclass.cli.FeatureStore", refuse)
    line = cli_error(capsys, ["info", str(tmp_path)])
    assert line.startswith(f"error: {tmp_path}: cannot write in this folder (Permission denied")


# ----------------------------------------------------------------------- evaluate's inputs
def model_dir(root: Path, tracks=("blues.00000", "jazz.00000"), split="song", **files) -> Path:
    """A finished genre model directory as evaluate reads it: predictions, train.json, labels.json."""
    m = ModelDir(root)
    m.predictions("test").parent.mkdir(parents=True, exist_ok=True)
    rows = [
        {
            "row": i,
            "track_id": t,
            "frame": 0,
            "label": t.split(".")[0],
            "p:blues": p,
            "p:jazz": 1 - p,
        }
        for i, (t, p) in enumerate(zip(tracks, np.linspace(0.8, 0.3, len(tracks))))
    ]
    pd.DataFrame(rows).to_csv(m.predictions("test"), index=False)
    m.train.write_text(json.dumps({"config": {"seed": 0}, "split": split, "store": "st"}))
    m.labels.write_text(json.dumps({"classes": list(CLASSES), "multilabel": False}))
    for name, text in files.items():  # damage one of them
        path = m.predictions("test") if name == "predictions" else getattr(m, name)
        path.write_text(text)
    return root


def test_a_well_formed_model_directory_evaluates(tmp_path, capsys):
    assert main(["evaluate", str(model_dir(tmp_path / "m")), "--n-boot", "0", "--json"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out)["n_tracks"] == 2


GOOD_HEADER = "row,track_id,frame,label,p:blues,p:jazz\n"
EVAL_CASES = {
    "labels.json invalid": ("labels", "{not json", "labels.json: not valid JSON"),
    "labels.json a list": ("labels", "[1, 2]", "labels.json: expected a JSON object"),
    "train.json invalid": ("train", "{", "train.json: not valid JSON"),
    "train.json a list": ("train", "[]", "train.json: expected a JSON object"),
    "train.json without a seed": ("train", "{}", "train.json: lacks an integer config.seed"),
    "predictions lack columns": ("predictions", "row,frame\n0,0\n", "test.csv: lacks column(s)"),
    "predictions hold NaN": (
        "predictions",
        GOOD_HEADER + "0,blues.00000,0,blues,nan,0.5\n1,jazz.00000,0,jazz,0.2,0.8\n",
        "1 row(s) with a missing or non-finite probability (first on line 2)",
    ),
    "predictions hold a blank": (
        "predictions",
        GOOD_HEADER + "0,blues.00000,0,blues,0.5,0.5\n1,jazz.00000,0,jazz,,0.8\n",
        "(first on line 3)",
    ),
    "predictions empty": ("predictions", "", "test.csv: empty file"),
}


@pytest.mark.parametrize("case", list(EVAL_CASES))
def test_evaluate_on_a_damaged_model_directory(tmp_path, capsys, case):
    name, text, fragment = EVAL_CASES[case]
    m = model_dir(tmp_path / "m", **{name: text})
    assert fragment in cli_error(capsys, ["evaluate", str(m), "--n-boot", "0"])


def test_evaluate_compare_refuses_models_tested_on_different_tracks(tmp_path, capsys):
    """It used to run a "paired comparison on 1 shared tracks"; now both splits are named."""
    a = model_dir(tmp_path / "a", tracks=("blues.00000", "jazz.00000"), split="song")
    b = model_dir(tmp_path / "b", tracks=("blues.00000", "jazz.00001"), split="artist")
    line = cli_error(capsys, ["evaluate", str(a), "--compare", str(b), "--n-boot", "0"])
    assert "different tracks (2 and 2, 1 shared)" in line
    assert "split 'song'" in line and "split 'artist'" in line


# ----------------------------------------------------------------------- stores and registries
@pytest.mark.parametrize(
    "manifest,fragment",
    [
        ("[1, 2]", "expected a JSON object"),
        ('{"format_version": %d}', "lacks key(s) ['config', 'classes'"),
        ("{", "not valid JSON"),
    ],
)
def test_damaged_manifest(empty_store, capsys, manifest, fragment):
    from musiclass.features.store import FORMAT_VERSION

    path = empty_store / StoreFiles.MANIFEST
    path.write_text(manifest.replace("%d", str(FORMAT_VERSION)))
    with pytest.raises(MetadataError, match=re.escape(fragment)):
        FeatureStore(empty_store)
    assert cli_error(capsys, ["info", str(empty_store)]).startswith(f"error: {path}: ")


def test_manifest_with_a_config_that_is_not_an_object(empty_store):
    path = empty_store / StoreFiles.MANIFEST
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "chunks": "all of them"}))
    with pytest.raises(MetadataError, match="'chunks' must be a list"):
        FeatureStore(empty_store)


def test_split_of_an_empty_store(empty_store, capsys):
    """scikit-learn's "With n_samples=0 ..." traceback, before; now the counts."""
    line = cli_error(capsys, ["split", str(empty_store), "--method", "song"])
    assert "the store holds 0 tracks (0 failed): nothing to split" in line


def test_official_split_of_an_empty_store(empty_store, tmp_path, capsys):
    line = cli_error(
        capsys,
        ["split", str(empty_store), "--method", "official", "--splits-dir", str(tmp_path)],
    )
    assert "0 tracks" in line


def test_extract_of_an_index_of_0_tracks(tmp_path, capsys):
    folder = tmp_path / "index"
    TrackIndex(
        pd.DataFrame(columns=["track_id", "path", "label", "duration", "artist"]),
        CLASSES,
        dataset="gtzan",
        root=str(tmp_path),  # an index names its dataset root (one without is refused)
    ).save(folder)
    line = cli_error(capsys, ["extract", str(folder), "--out", str(tmp_path / "s"), "-q"])
    assert (
        line
        == f"error: {folder / 'tracks.csv'}: 0 tracks to extract (0 problem(s) listed in {folder / 'problems.csv'})"
    )
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize(
    "record,fragment",
    [("[1, 2]", "expected a JSON object"), ('{"model": "x"}', "lacks key(s) ['experiment']")],
)
def test_registry_record_that_is_not_a_record(tmp_path, capsys, record, fragment):
    path = StudyFolder(tmp_path).record("exp__x__song")
    path.parent.mkdir(parents=True)
    path.write_text(record)
    with pytest.raises(MetadataError, match=re.escape(fragment)):
        read_registry(tmp_path)
    assert cli_error(capsys, ["report", str(tmp_path)]).startswith(f"error: {path}: ")


def test_registry_source_is_confined_to_the_study_folder(tmp_path):
    study = tmp_path / "study"
    (study / "models" / "m").mkdir(parents=True)
    assert source_path(study, "models/m") == study / "models" / "m"
    for source in ("../../etc", "/etc", str(tmp_path), 5):
        with pytest.raises(MetadataError, match="source|not a folder name"):
            source_path(study, source)


# ----------------------------------------------------------------------- a closed stdout
class _ClosedPipe(io.TextIOBase):
    def write(self, text):  # what print() to `| head` gets once head has left
        raise BrokenPipeError(32, "Broken pipe")


def test_a_closed_stdout_is_not_a_traceback(empty_store, capsys, monkeypatch):
    """``musiclass info STORE | head``: BrokenPipeError is caught, stdout silenced, exit 0."""
    monkeypatch.setattr("sys.stdout", _ClosedPipe())
    assert main(["info", str(empty_store)]) == EXIT_OK
    assert "Traceback" not in capsys.readouterr().err


# ----------------------------------------------------------------------- temporaries
def test_remove_temporaries_spares_the_users_own_files(tmp_path):
    """Only atomic_path's own ``.NAME.XXXX.musiclass-tmp`` files go; a user's ``.X.tmp*`` stay."""
    mine = [tmp_path / n for n in (".notes.tmp", ".X.tmp1", ".draft.tmp.csv", "a.tmp")]
    for p in mine:
        p.write_text("keep me")
    with contextlib.suppress(RuntimeError), utils.atomic_path(tmp_path / "table.csv") as tmp:
        assert utils.is_temporary(tmp) and ".musiclass-tmp" in tmp.name
        leftover = tmp.with_name(tmp.name.replace("table", "other"))
        leftover.write_text("a write killed mid-way")
        raise RuntimeError  # the block fails: atomic_path removes its own temporary
    assert utils.remove_temporaries(tmp_path) == [leftover]
    assert all(p.read_text() == "keep me" for p in mine) and not leftover.exists()


# ----------------------------------------------------------------------- .keras files
def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


KERAS_CASES = {
    "text": (lambda p: p.write_text("this is not a model\n"), "a text file, not a .keras model"),
    "empty": (lambda p: p.write_bytes(b""), "empty file (0 bytes)"),
    "folder": (lambda p: p.mkdir(), "is a folder, not a .keras model file"),
    "binary": (lambda p: p.write_bytes(b"\x00\xff" * 300), "not a zip archive, not a .keras"),
    "no config": (lambda p: _zip(p, {"model.weights.h5": b"x"}), "no config.json in the archive"),
    # 17 MiB of spaces deflate to ~17 KB: a small zip bomb, its config above the cap
    "bomb": (
        lambda p: _zip(p, {"config.json": b"{" + b" " * (17 * 2**20) + b"}"}),
        "config.json unpacks to 17 MiB, above the 16 MiB cap",
    ),
    "bomb in weights": (
        lambda p: _zip(p, {"config.json": b"{}", "model.weights.h5": bytes(8 * 2**20)}),
        "member model.weights.h5 is compressed",
    ),
}


@pytest.mark.parametrize("case", list(KERAS_CASES))
def test_keras_file_is_checked_before_loading(tmp_path, case):
    make, fragment = KERAS_CASES[case]
    path = tmp_path / "model.keras"
    make(path)
    with pytest.raises(FileError) as err:
        utils.check_keras_file(path)
    assert err.value.path == str(path) and fragment in err.value.reason, err.value.reason


def test_a_plain_keras_archive_passes_the_check(tmp_path):
    rng = np.random.default_rng(0)
    path = _zip(
        tmp_path / "model.keras",
        {"config.json": b'{"class_name": "Sequential"}', "model.weights.h5": rng.bytes(2 * 2**20)},
    )
    utils.check_keras_file(path)  # no error: sizes and ratios are those of a real model


def test_predict_names_a_model_keras_that_is_a_folder(tmp_path, capsys):
    m = model_dir(tmp_path / "m")
    (m / "frontend.json").write_text("{}")
    ModelDir(m).model.mkdir()
    (tmp_path / "x.wav").write_bytes(b"RIFF")  # the audio is looked for first; never read here
    line = cli_error(capsys, ["predict", str(m), str(tmp_path / "x.wav")])
    assert line == f"error: {ModelDir(m).model}: is a folder, not a file"


# ----------------------------------------------------------------------- audio samples
def _float_wav(path: Path, y: np.ndarray) -> Path:
    sf.write(path, y, 22050, subtype="FLOAT")
    return path


def test_huge_float_samples_are_refused_by_name(tmp_path):
    """1e30 is finite in float32, and used to end as librosa's "unexpected ParameterError"."""
    y = tone(2.0)
    y[100] = 1e30
    path = _float_wav(tmp_path / "huge.wav", y)
    with pytest.raises(AudioError) as err:
        audio.load(path, sr=22050)
    assert err.value.path == str(path)
    assert err.value.reason.startswith("non-finite or out-of-range samples (peak 1e+30")


def test_float_samples_a_little_over_full_scale_are_clipped_with_a_warning(tmp_path):
    """audio.load promises [-1, 1]: samples beyond are clipped (and said so), the rest untouched."""
    y = tone(2.0)
    y[[10, 20, 30]] = [1.5, -2.0, 1.25]
    path = _float_wav(tmp_path / "hot.wav", y)
    with pytest.warns(
        audio.AudioClippedWarning, match=r"3 sample\(s\) outside \[-1, 1\] \(peak 2\)"
    ):
        got, sr = audio.load(path, sr=None)
    expected = np.clip(y, -1, 1)
    assert sr == 22050 and got.max() <= 1 and got.min() >= -1
    np.testing.assert_array_equal(got, expected)


def test_a_file_that_shrinks_while_it_is_read_fails_as_transient(tmp_path, monkeypatch):
    """Truncated on disk between the header and the samples: the first 56 of 402 frames used to be
    stored as the whole track; now an AudioError whose cause is an OSError (EAGAIN: retry)."""
    path = tmp_path / "shrinking.wav"
    sf.write(path, tone(3.0), 22050, subtype="PCM_16")
    real_read = sf.SoundFile.read

    def read_after_shrinking(self, *args, **kwargs):
        os.truncate(path, 44 + 2 * 22050)  # another process cuts the file to 1 s
        return real_read(self, *args, **kwargs)

    monkeypatch.setattr(sf.SoundFile, "read", read_after_shrinking)
    with pytest.raises(AudioError) as err:
        audio.load(path, sr=22050)
    assert "the file changed while it was read: 22050 of the 66150 frames" in err.value.reason
    cause = err.value.__cause__
    assert isinstance(cause, OSError) and cause.errno == errno.EAGAIN


def test_a_file_cut_off_before_it_is_opened_still_decodes(tmp_path):
    """Not to be confused with the above: a WAV truncated on disk decodes what it holds."""
    path = tmp_path / "cut.wav"
    sf.write(path, tone(3.0), 22050, subtype="PCM_16")
    os.truncate(path, 44 + 2 * 2 * 22050)
    y, _ = audio.load(path, sr=22050)
    assert y.shape == (2 * 22050,)


# ----------------------------------------------------------------------- provenance
def test_a_musiclass_run_folder_says_what_it_ran(tmp_path):
    """A report from a `musiclass run` folder used to say "Dataset unknown ... Profile unknown ...
    Preset unknown": run_study now writes run.json, which the report reads like workspace.json."""
    from musiclass.registry import load_run, register
    from musiclass.study import _record_run

    cfg = tmp_path / "study.yaml"
    cfg.write_text(
        "data: {dataset: synthetic, seed: 7}\ntrain: {preset: seed}\nruns: [{model: fnn}]\n"
    )
    (study,) = load_study(cfg)
    out = tmp_path / "genre"
    _record_run(study, out, "tiny")
    register(out, {"experiment": "e", "model": "fnn", "task": "genre", "epochs": 2}, "song")
    info = load_run(out).info
    assert (info["datasets"], info["profile"], info["preset"], info["seed"]) == (
        {"genre": "synthetic"},
        "tiny",
        "seed",
        7,
    )
    assert info["sources"]["genre"] == "run.json"


def test_an_executed_notebook_is_labelled_with_its_own_run(tmp_path, monkeypatch):
    """Re-executed on real data, a notebook used to keep the committed "SYNTHETIC run" label."""
    import types

    import nbformat

    from musiclass import publish

    def copy(src, dst, **kwargs):  # papermill's execution replaced by a copy: the label is tested
        Path(dst).write_bytes(Path(src).read_bytes())

    monkeypatch.setitem(sys.modules, "papermill", types.SimpleNamespace(execute_notebook=copy))
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(
            "# Data\n\n<!-- run-label -->\nSYNTHETIC\n<!-- /run-label -->"
        )
    ]
    src = tmp_path / "1_Data.ipynb"
    nbformat.write(nb, str(src))
    params = {"dataset": "/data/gtzan", "profile": "full", "preset": "seed"}
    done = publish.execute(src, params, tmp_path / "out" / "1_Data.ipynb")
    head = nbformat.read(str(done), as_version=4).cells[0].source
    assert "SYNTHETIC" not in head and head.count("<!-- run-label -->") == 1
    assert "`full` profile run (preset `seed`" in head and "on the data in `/data/gtzan`" in head
    assert "embedded SYNTHETIC data (seed 3)" in publish.describe_run({"seed": 3})


def test_notebook_paths_are_relative_to_the_working_directory_outside_a_checkout(
    tmp_path, monkeypatch
):
    """Outside the checkout, ``dataset="mydata"`` is ./mydata, not <package checkout>/mydata."""
    from musiclass import notebook

    (tmp_path / "mydata").mkdir()
    monkeypatch.chdir(tmp_path)
    ws = notebook.open_workspace("genre", dataset="mydata", out="runs/x", quiet=True)
    assert Path.cwd() == tmp_path and Path(ws.dataset).resolve() == tmp_path / "mydata"
    assert ws.study_dir.resolve() == tmp_path / "runs" / "x" / "genre"


@pytest.mark.parametrize(
    "verbose,user,expected", [(False, None, "3"), (True, None, None), (False, "1", "1")]
)
def test_tensorflow_noise_is_silenced_unless_verbose(
    empty_store, monkeypatch, verbose, user, expected
):
    """TF_CPP_MIN_LOG_LEVEL=3 (no "failed call to cuInit") unless --verbose or the user's own value."""
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    if user is not None:
        monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", user)
    assert main([*(["--verbose"] if verbose else []), "info", str(empty_store)]) == EXIT_OK
    assert os.environ.get("TF_CPP_MIN_LOG_LEVEL") == expected


def test_novelty_distance_by_hand():
    """Frames of the training distribution are near; a shifted spectrum is far (worked by hand)."""
    from musiclass import novelty

    rng = np.random.default_rng(0)
    train = rng.normal(0.0, 1.0, (400, 4, 3))  # 4 bins, 3 columns
    stats = novelty.frame_statistics(train)
    m = train.mean(axis=2)
    np.testing.assert_allclose(stats["mean"], m.mean(axis=0))
    np.testing.assert_allclose(stats["std"], m.std(axis=0))
    one = np.full((1, 4, 3), 2.0)  # every bin's mean is 2: z = (2 - mean) / std per bin
    z = (2.0 - m.mean(axis=0)) / m.std(axis=0)
    np.testing.assert_allclose(novelty.frame_distances(one, stats), [np.sqrt(np.mean(z**2))])
    assert novelty.far_outside(train[:50], stats) is None
    note = novelty.far_outside(train[:50] + 10.0, stats)
    assert note is not None and note.startswith("far outside the training data")
