"""``report.pdf`` from a run folder: built once from a tiny genre + mood run, read back with pypdf."""

from __future__ import annotations

import json
import re
import shutil

import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from pypdf import PdfReader

from musiclass import report
from musiclass.cli import main
from musiclass.errors import FileError, MusiclassError
from musiclass.report import SECTIONS, build_report
from musiclass.study import Study, run_study


def quiet(*args, **kwargs) -> None:
    pass


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A run folder as `musiclass demo` lays it out, with the fewest models that fill every section:
    CNN-3 (exp1) under both splits, two classifiers under both protocols, the mood base model under both."""
    out = tmp_path_factory.mktemp("report") / "run"
    data = {
        "dataset": "synthetic",
        "clips_per_genre": 5,
    }  # 5 clips per genre: the classical CV has 5 folds
    genre = [
        Study(
            experiment="exp1",
            task="genre",
            data=dict(data),
            splits=["song", "seed-frame"],
            runs=[{"name": "cnn-3-mel", "model": "cnn-3", "representation": "mel"}],
        ),
        Study(
            experiment="classical",
            task="genre",
            data=dict(data),
            classical={"models": ["lr", "knn"]},
        ),
    ]
    run_study(
        genre,
        out / "genre",
        profile="tiny",
        data_dir=out / "data",
        jobs=1,
        progress=False,
        echo=quiet,
    )
    mood = [
        Study(
            experiment="resampling",
            task="mood",
            splits=["official", "seed-frame"],
            data={"dataset": "synthetic", "n_tracks": 40, "curation": "official", "split": 0},
            runs=[
                {"name": "base", "model": "mood-cnn", "representation": "mel", "resample": "base"}
            ],
        )
    ]
    run_study(
        mood,
        out / "mood",
        profile="tiny",
        data_dir=out / "data",
        jobs=1,
        progress=False,
        echo=quiet,
    )
    return out


@pytest.fixture(scope="module")
def genre_only(run_dir, tmp_path_factory):
    """The genre study alone, described by a demo's summary.json (no workspace.json)."""
    out = tmp_path_factory.mktemp("genre-only") / "run"
    shutil.copytree(
        run_dir / "genre", out / "genre", ignore=shutil.ignore_patterns("workspace.json")
    )
    (out / "summary.json").write_text(
        json.dumps({"preset": "default", "profile": "tiny", "seed": 0, "jobs": 1})
    )
    return out


@pytest.fixture(scope="module")
def full(run_dir, tmp_path_factory):
    """The report of the genre + mood run: the reader, each page's text, and what was echoed."""
    (run_dir / "genre" / "workspace.json").write_text(
        json.dumps({"dataset": "synthetic", "profile": "tiny", "preset": "default"})
    )
    folder = tmp_path_factory.mktemp("pdf") / "not" / "yet"
    said: list[str] = []
    path = build_report(
        run_dir, folder / "full.pdf", echo=lambda *a, **k: said.append(" ".join(map(str, a)))
    )
    reader = PdfReader(path)
    return {
        "path": path,
        "reader": reader,
        "pages": [p.extract_text() for p in reader.pages],
        "said": said,
    }


def records(study_dir) -> pd.DataFrame:
    return pd.DataFrame(
        [json.loads(p.read_text()) for p in sorted((study_dir / "registry").glob("*.json"))]
    )


def contents(title_page: str) -> dict[str, int]:
    """Section title -> page number, read from the title page's contents."""
    found = {}
    for line in title_page.splitlines():
        m = re.match(r"\s*page\s+(\d+)\s+(.+?)\s*$", line)
        if m:
            found[m.group(2)] = int(m.group(1))
    return found


#: text each section's first page shows (figure pages carry their own titles)
MARKERS = {
    "genre": "Genre classification",
    "confusion": "Confusion matrices",
    "classical": "Classical baselines",
    "mood": "Mood tagging",
}


@pytest.mark.slow
def test_every_section_is_on_the_page_the_contents_give(full):
    pages, said = full["pages"], full["said"]
    assert said == [f"wrote {full['path']} ({len(pages)} pages)"]
    toc = contents(pages[0])
    assert list(toc) == list(SECTIONS.values())  # every section present, in order
    numbers = list(toc.values())
    assert numbers[0] == 2 and numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    for key, title in SECTIONS.items():
        marker = MARKERS.get(key, title)
        assert marker in pages[toc[title] - 1], (key, pages[toc[title] - 1][:200])
    # mood: the results table, per-tag ROC-AUC of the base model, the resampled counts, the MediaEval page
    mood = pages[toc[SECTIONS["mood"]] - 1 :]
    assert len(mood) == 4
    assert "Per-tag ROC-AUC" in mood[1] and "resampled set" in mood[2] and "MediaEval" in mood[3]
    # the file came through the temporary file and nothing else is left beside it
    assert [p.name for p in full["path"].parent.iterdir()] == ["full.pdf"]
    assert full["path"].stat().st_size < 1_000_000


@pytest.mark.slow
def test_title_page_says_the_data_is_synthetic(full):
    first = " ".join(full["pages"][0].split())  # words, wherever the lines break
    assert "musiclass report" in first
    assert "SYNTHETIC" in first and "not results on GTZAN / MTG-Jamendo" in first
    assert "Profile tiny" in first and "Preset default" in first
    assert "workspace.json" in first  # genre: read from the notebooks' workspace.json
    assert "run.json" in first  # mood: no notebook ran, so from what `musiclass run` recorded
    assert "Generated" in first and "musiclass version" in first


@pytest.mark.slow
def test_text_holds_the_runs_models_splits_and_leak(full, run_dir):
    text = "\n".join(full["pages"])
    genre, mood = records(run_dir / "genre"), records(run_dir / "mood")
    for name in set(genre["model"]) | set(mood["model"]):
        assert name in text, name
    for split in ("song", "seed-frame", "official"):
        assert split in text, split
    assert "leak" in text and "original protocol" in text and "our protocol" in text
    # the measured leak of each split, from its summary.json
    (summary,) = (run_dir / "genre" / "stores").glob("*/splits/summary.json")
    leak = json.loads(summary.read_text())["seed-frame"]["leak"]["test_frames_with_song_in_train"]
    assert f"seed-frame split {leak:.0%}" in text
    # fonts are embedded as TrueType (text extractable), never as Type 3
    for page in full["reader"].pages:
        for font in page["/Resources"]["/Font"].values():
            assert font.get_object()["/Subtype"] != "/Type3"


@pytest.mark.slow
def test_original_figures_beside_ours(full, run_dir):
    genre = records(run_dir / "genre")
    cnn3 = genre[(genre["experiment"] == "exp1") & (genre["model"] == "cnn-3-mel")].set_index(
        "split"
    )
    frame, song = cnn3.loc["seed-frame"], cnn3.loc["song"]
    row = [
        line
        for page in full["pages"]
        for line in page.splitlines()
        if line.startswith("exp1") and "cnn-3-mel" in line and "0.866" in line
    ]
    assert len(row) == 1, row
    line = row[0]
    assert (
        f"{frame['accuracy']:.3f} [{frame['accuracy_low']:.3f}, {frame['accuracy_high']:.3f}]"
        in line
    )
    assert (
        f"{song['accuracy']:.3f} [{song['accuracy_low']:.3f}, {song['accuracy_high']:.3f}]" in line
    )
    assert line.index("0.866") < line.index(f"{frame['accuracy']:.3f} [")
    # the leak table: the difference of the two track accuracies, unless a model collapsed (a
    # tiny-profile network may): then the gap is named degenerate, not credited to the leak
    collapsed = any(isinstance(r.get("degenerate"), str) for r in (frame, song))
    expected = "degenerate" if collapsed else f"{frame['accuracy'] - song['accuracy']:+.3f}"
    assert expected in "\n".join(full["pages"])
    # a reference model this run did not train is listed as such
    assert any(
        "cnn-7-mel" in line and "0.892" in line and "not in this run" in line
        for page in full["pages"]
        for line in page.splitlines()
    )


@pytest.mark.slow
def test_mood_pages_put_mediaeval_beside_our_best(full, run_dir):
    mood = records(run_dir / "mood")
    official = mood[mood["split"] == "official"]
    # chosen on validation, reported on test
    best = official.loc[official["validation_roc_auc_macro"].idxmax()]
    last = full["pages"][-1]
    assert "0.7258" in last and "0.1077" in last and "0.620" in last
    line = next(
        line for line in last.splitlines() if line.startswith("ours, best validation ROC-AUC macro")
    )
    assert (
        f"{best['roc_auc_macro']:.3f} [{best['roc_auc_macro_low']:.3f}, {best['roc_auc_macro_high']:.3f}]"
        in line
    )
    assert f"{best['test_tracks']} test tracks" in line


@pytest.mark.slow
def test_a_genre_only_run_through_the_command_line(genre_only, capsys):
    assert main(["report", str(genre_only)]) == 0
    path = genre_only / "report.pdf"
    assert f"wrote {path}" in capsys.readouterr().out
    pages = [p.extract_text() for p in PdfReader(path).pages]
    toc = contents(pages[0])
    assert SECTIONS["mood"] not in toc and SECTIONS["genre"] in toc and SECTIONS["leak"] in toc
    assert "Mood tagging: left out (no mood study in this run)" in pages[0]
    text = "\n".join(pages)
    assert (
        "MediaEval references" not in text
        and "Per-tag ROC-AUC" not in text
        and "resampling: base" not in text
    )
    # dataset and profile from what `musiclass run` recorded (run.json), else the demo's summary
    assert (
        "SYNTHETIC" in pages[0]
        and ("run.json" in pages[0] or "summary.json" in pages[0])
        and re.search(r"Profile\s+tiny", pages[0])
    )
    assert SECTIONS["beside"] in pages[-1]  # the last section of a genre run is the last page


def test_a_missing_or_empty_run_folder_is_a_clear_error(tmp_path, capsys):
    missing = tmp_path / "nowhere"
    with pytest.raises(FileError, match="no such run folder") as info:
        build_report(missing, tmp_path / "r.pdf")
    assert str(missing) in str(info.value) and "musiclass demo" in str(info.value)
    empty = tmp_path / "empty"
    (empty / "genre" / "registry").mkdir(parents=True)
    with pytest.raises(MusiclassError, match="no results") as info:
        build_report(empty, tmp_path / "r.pdf")
    assert str(empty) in str(info.value) and "musiclass demo" in str(info.value)
    assert main(["report", str(empty), "--out", str(tmp_path / "r.pdf")]) == 1
    err = capsys.readouterr().err
    assert (
        err.startswith(f"error: {empty}:")
        and "musiclass demo" in err
        and len(err.splitlines()) == 1
    )
    assert not (tmp_path / "r.pdf").exists() and not list(tmp_path.glob(".r.pdf*"))


def _inside(fig) -> bool:
    FigureCanvasAgg(fig)
    renderer = fig.canvas.get_renderer()
    page = fig.bbox
    return all(
        page.x0 <= t.get_window_extent(renderer).x0
        and t.get_window_extent(renderer).x1 <= page.x1
        and page.y0 <= t.get_window_extent(renderer).y0
        and t.get_window_extent(renderer).y1 <= page.y1
        for t in fig.axes[0].texts
    )


def test_long_and_wide_tables_stay_inside_their_pages():
    flow = report._Flow("A long, wide table")
    rows = [
        [
            f"row {i}",
            "a long cell of words " * 12,
            f"{i / 7:.3f} [0.100, 0.900]",
            "more words " * 16,
        ]
        for i in range(120)
    ]
    flow.table(["name", "long text", "value\n[interval]", "notes"], rows)
    assert len(flow.pages) >= 3
    shown = [t.get_text() for fig in flow.pages for t in fig.axes[0].texts]
    assert [s for s in shown if s.startswith("row ")] == [
        f"row {i}" for i in range(120)
    ]  # every row, in order
    assert sum(s == "name" for s in shown) == len(flow.pages)  # the header repeats on every page
    assert any(
        s.endswith("\u2026") for s in shown
    )  # too wide even at the smallest font: cells are cut
    assert all(_inside(fig) for fig in flow.pages)


def test_a_run_inside_the_working_folder_is_named_relative_to_it(run_dir, tmp_path, monkeypatch):
    """A committed report must carry no machine path: the run folder is shown as it was given."""
    monkeypatch.chdir(run_dir.parent)
    out = build_report(run_dir.name, tmp_path / "r.pdf", echo=quiet)
    reader = PdfReader(str(out))
    first = reader.pages[0].extract_text()
    assert f"Run folder {run_dir.name}" in first
    text = "".join(p.extract_text() for p in reader.pages) + str(reader.metadata)
    assert str(run_dir.parent) not in text
