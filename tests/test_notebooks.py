"""The numbered notebooks: executed in order on the tiny profile, and the committed ones checked.

The two chains (genre: 7 notebooks, mood: 3) each start from an empty run folder, so every notebook
does its own work (data, training, evaluation, figures) and a later one reads what an earlier wrote.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from musiclass import layout, publish
from musiclass import notebook as nb

ROOT = Path(__file__).resolve().parents[1]
TINY = {"genre": {"clips_per_genre": 5}, "mood": {"mood_tracks": 40}}
#: a committed notebook must render on GitHub: well under its few-MB limit
MAX_BYTES = 1_500_000
MACHINE_PATH = re.compile(r"(/home/|/root/|/tmp/|/work/|/Users/|site-packages|[A-Z]:\\\\)")


def outputs(path: Path) -> list[dict]:
    book = nbformat.read(str(path), as_version=4)
    return [o for c in book.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def text_of(path: Path) -> str:
    parts = []
    for o in outputs(path):
        parts.append(
            o.get("text", "") if isinstance(o.get("text", ""), str) else "".join(o["text"])
        )
        for key, value in o.get("data", {}).items():
            if key.startswith("text/"):
                parts.append(value if isinstance(value, str) else "".join(value))
    return "\n".join(parts)


def params(task: str, out: Path) -> dict:
    return {"profile": "tiny", "out": str(out), "progress": False, **TINY[task]}


def run_chain(task: str, out: Path) -> list[Path]:
    """Execute a task's notebooks in order into ``out``; print each one's time."""
    done, seconds = [], {}
    for path in publish.notebook_paths(task, ROOT):
        t = time.perf_counter()
        done.append(publish.execute(path, params(task, out), out / "notebooks" / task / path.name))
        seconds[path.stem] = round(time.perf_counter() - t, 1)
    print(f"{task} notebook seconds:", json.dumps(seconds))
    return done


# each chain runs once, on one xdist worker (make test uses --dist loadfile: this file's tests on
# one worker; the group marks keep each chain together under --dist loadgroup too). Session scope:
# under loadgroup a worker may run another module's test between two of a chain's tests, and a
# module-scoped fixture would then be torn down and the whole chain executed again
@pytest.fixture(scope="session")
def genre_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("genre-nb")
    return out, run_chain("genre", out)


@pytest.fixture(scope="session")
def mood_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("mood-nb")
    return out, run_chain("mood", out)


def transfer_said(results: Path, notebook: Path) -> None:
    """The transfer notebook added its rows, or (weights not cached, no network) said it skipped."""
    from musiclass.pretrained import weights

    rows = pd.read_csv(results)
    if (rows["experiment"] == "transfer").any():
        assert "embeddings" in " ".join(rows["features"].dropna().astype(str))
    else:
        assert not weights.is_cached()
        assert "transfer learning skipped" in text_of(notebook)


def no_errors(paths: list[Path]) -> None:
    for path in paths:
        assert not [o for o in outputs(path) if o["output_type"] == "error"], path.name


@pytest.mark.slow
@pytest.mark.xdist_group("notebooks-genre")
def test_genre_notebooks_run_in_order_without_errors(genre_run):
    out, done = genre_run
    assert [p.stem for p in done] == list(layout.NOTEBOOKS["genre"])
    no_errors(done)
    # later notebooks read what earlier ones wrote, and the study's registry holds every result
    assert (out / "genre" / nb.STATE).is_file() and (out / "genre" / nb.FEATURES_CSV).is_file()
    genre = (out / "genre" / "results.csv").read_text()
    for model in ("fnn-mel", "cnn-3-spectrogram", "mfcc-1d", "cnn-7-mel", "lr", "knn"):
        assert model in genre
    figures = {p.name for p in (out / "genre" / "figures").iterdir()}
    assert {
        "figure1_representations.png",
        "exp1_accuracy.png",
        "results_table.png",
        "descriptors_per_genre.png",
    } <= figures
    # the headline leak table: one line per network run under the frame split and one of ours
    from musiclass.registry import leak_table, read_registry

    leaks = leak_table(read_registry(out / "genre"))
    assert not leaks.empty
    lines = (out / "genre" / "figures" / layout.LEAK_MD).read_text().splitlines()
    assert [line.split(" | ")[0] for line in lines[2:]] == [
        f"| {r.experiment}: {r.model}" for r in leaks.itertuples()
    ]
    transfer_said(out / "genre" / "results.csv", done[-1])


@pytest.mark.slow
@pytest.mark.xdist_group("notebooks-mood")
def test_mood_notebooks_run_in_order_without_errors(mood_run):
    out, done = mood_run
    assert [p.stem for p in done] == list(layout.NOTEBOOKS["mood"])
    no_errors(done)
    mood = (out / "mood" / "results.csv").read_text()
    assert "up-0.5" in mood and "balanced-loss" in mood
    assert {"per_tag_roc_auc.png", "tag_cooccurrence.png"} <= {
        p.name for p in (out / "mood" / "figures").iterdir()
    }
    assert "VGG-ish baseline" in text_of(done[-1])
    transfer_said(out / "mood" / "results.csv", done[-1])


@pytest.mark.slow
@pytest.mark.xdist_group("notebooks-genre")
def test_notebooks_show_their_tables_and_figures(genre_run):
    _, done = genre_run
    first = {p.stem: p for p in done}
    text = text_of(first["1_Data_Collection"])
    assert "SYNTHETIC" in text and "blues" in text and "test frames whose song is in train" in text
    exp1 = first["4.1_Experiment_1_Different_Inputs"]
    images = [o for o in outputs(exp1) if {"image/png", "image/jpeg"} & set(o.get("data", {}))]
    assert len(images) >= 5  # interval plot, 3 confusion matrices, training curves
    assert "original reported accuracy" in text_of(exp1) and "0.866" in text_of(exp1)


@pytest.mark.slow
@pytest.mark.xdist_group("notebooks-genre")
def test_published_copy_has_no_machine_paths_and_says_synthetic(genre_run, tmp_path):
    out, done = genre_run
    for path in done[:3]:
        copy = tmp_path / path.name
        copy.write_bytes(path.read_bytes())
        assert MACHINE_PATH.search(text_of(copy))  # the tiny run printed its /tmp paths
        publish.clean_outputs(copy, out)
        publish.label_run(copy, "**synthetic** test run")
        publish.label_run(copy, "**synthetic** test run, again")  # replaces, does not stack
        assert not MACHINE_PATH.search(text_of(copy)), copy.name
        book = nbformat.read(str(copy), as_version=4)
        assert book.cells[0].source.count("<!-- run-label -->") == 1
        assert "test run, again" in book.cells[0].source
        assert not [o for o in outputs(copy) if o.get("name") == "stderr"]


@pytest.mark.slow
def test_a_notebook_run_out_of_order_says_what_to_run_first(tmp_path):
    import papermill

    path = publish.notebook_paths("genre", ROOT)[2]  # 3_Feedforward_Baseline on an empty run folder
    with pytest.raises(papermill.PapermillExecutionError, match="Run 1_Data_Collection"):
        publish.execute(path, params("genre", tmp_path / "empty"), tmp_path / "out.ipynb")


@pytest.mark.parametrize("task", ["genre", "mood"])
def test_committed_notebooks_are_thin_labelled_and_renderable(task):
    paths = publish.notebook_paths(task, ROOT)
    assert [p.is_file() for p in paths] == [True] * len(paths)
    for path in paths:
        book = nbformat.read(str(path), as_version=4)
        nbformat.validate(book)
        head = book.cells[0].source
        assert head.startswith("# ") and "colab.research.google.com/github/" in head
        assert f"{layout.TASK_FOLDERS[task]}/code/{path.name}" in head
        assert "<!-- run-label -->" in head
        colab, parameters = book.cells[1], book.cells[2]
        assert "google.colab" in colab.source and "drive.mount" in colab.source
        assert "parameters" in parameters.metadata.get("tags", [])
        for name in ("dataset", "preset", "profile", "out"):
            assert re.search(rf"^{name} = ", parameters.source, re.M), (path.name, name)
        code = [c for c in book.cells[3:] if c.cell_type == "code"]
        assert max(len(c.source.splitlines()) for c in code) <= 8, (
            path.name
        )  # thin: the work is in musiclass
        assert sum(c.cell_type == "markdown" for c in book.cells) >= 3, path.name
        assert path.stat().st_size < MAX_BYTES, path.name
        assert not MACHINE_PATH.search(text_of(path)), path.name
        assert not re.search(r'"/(content/drive|home/|root/|tmp/|mnt/|Users/)', path.read_text()), (
            path.name
        )
        assert not [o for o in outputs(path) if o["output_type"] == "error"], path.name
        if outputs(path):  # committed with outputs: they must say which run made them
            assert "SYNTHETIC" in head, path.name


@pytest.mark.slow
@pytest.mark.xdist_group("notebooks-genre")
def test_publishing_a_run_replaces_the_committed_outputs(genre_run, tmp_path):
    from musiclass.layout import README_IMAGES
    from musiclass.publish import publish_run

    out, done = genre_run
    root = tmp_path / "clone"
    (root / layout.TASK_FOLDERS["genre"] / "code").mkdir(parents=True)
    results = root / layout.RESULT_FOLDERS["genre"]
    results.mkdir(parents=True)
    for p in (out / "genre" / "figures").iterdir():
        (results / p.name).write_bytes(p.read_bytes())
    report = tmp_path / "report.pdf"
    report.write_bytes(b"%PDF-1.4 test")
    summary = {
        "profile": "tiny",
        "jobs": 2,
        "total_seconds": 600,
        "report": str(report),
        "notebooks": {"genre": [str(p) for p in done]},
    }
    written = publish_run(out, root, summary, echo=lambda *a: None)
    for p in done:
        target = root / layout.TASK_FOLDERS["genre"] / "code" / p.name
        assert f"{layout.TASK_FOLDERS['genre']}/code/{p.name}" in written
        head = nbformat.read(str(target), as_version=4).cells[0].source
        assert "SYNTHETIC" in head and "make run PROFILE=tiny" in head and "on 2 CPU cores" in head
        assert not MACHINE_PATH.search(text_of(target)), p.name
    shown = {
        image
        for task, name, image in README_IMAGES
        if task == "genre" and (results / name).is_file()
    }
    assert shown and {p.name for p in (root / "images").iterdir()} == shown
    assert (root / "report.pdf").read_bytes() == report.read_bytes()


@pytest.mark.slow
@pytest.mark.xdist_group("notebooks-genre")
def test_cleaning_the_same_run_twice_gives_the_same_file(genre_run, tmp_path):
    out, done = genre_run
    first, second = tmp_path / "a.ipynb", tmp_path / "b.ipynb"
    publish.execute(
        publish.notebook_paths("genre", ROOT)[4], params("genre", out), first
    )  # 4.2: cached models
    publish.execute(publish.notebook_paths("genre", ROOT)[4], params("genre", out), second)
    for path in (first, second):
        publish.clean_outputs(path, out)

    # the cells print how long they took ("exp2 done in 1 s"): the only thing allowed to differ
    def untimed(path: Path) -> str:
        return re.sub(r"\b\d+(\.\d+)? s\b", "N s", path.read_text())

    assert first.read_text() != "" and untimed(first) == untimed(second)


def test_two_chains_side_by_side_keep_their_folders(tmp_path, monkeypatch):
    """The demo runs the genre and the mood chain in two threads. papermill's ``cwd`` changes the
    whole process's working directory, so one thread's notebook was written under (or its kernel
    started in) the other's folder: a full run lost ``notebooks/genre/1_Data_Collection.ipynb``."""
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.chdir(tmp_path)
    folders = {}
    for name in ("genre", "mood"):
        folder = tmp_path / name / "code"
        folder.mkdir(parents=True)
        book = nbformat.v4.new_notebook()
        # long enough for the two executions to overlap: the kernels start and run together
        book.cells = [
            nbformat.v4.new_code_cell("import os, time\ntime.sleep(2)\nprint(os.getcwd())")
        ]
        nbformat.write(book, str(folder / "1_Data.ipynb"))
        folders[name] = folder
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            name: pool.submit(
                publish.execute,
                folder / "1_Data.ipynb",
                {},
                Path("runs") / "notebooks" / name / "1_Data.ipynb",  # relative, as `--out runs/x`
            )
            for name, folder in folders.items()
        }
        done = {name: f.result() for name, f in futures.items()}
    assert Path.cwd() == tmp_path  # the process's folder is never changed
    for name, folder in folders.items():
        written = tmp_path / "runs" / "notebooks" / name / "1_Data.ipynb"
        cell = nbformat.read(str(written), as_version=4).cells[-1]
        printed = "".join(o.get("text", "") for o in cell.outputs).strip()
        # each kernel in its own notebook's folder
        assert Path(printed).resolve() == folder.resolve()
        assert Path(done[name]).resolve() == written
