"""``musiclass index`` on hostile or odd inputs: each bad entry is a row of problems.csv with its
reason and the index carries on; empty and near-empty inputs exit non-zero with the counts; no
input gives a traceback.

The trees are tiny and synthetic (a few 0.5 s WAV clips); the real MTG-Jamendo metadata and its
2 s audio sample in ``../shared`` are used where layout fidelity matters, and skipped when absent.
Every case calls the CLI's ``main`` in-process.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from musiclass.cli import EXIT_ERROR, EXIT_OK, EXIT_PARTIAL, main
from musiclass.datasets import jamendo
from musiclass.datasets.base import TrackIndex, duration_disagrees, identical_files
from musiclass.errors import ConfigError, MetadataError
from musiclass.pipeline import make_splits

from .conftest import SHARED, write_tone

HEADER = "TRACK_ID\tARTIST_ID\tALBUM_ID\tPATH\tDURATION\tTAGS"
JAMENDO = SHARED / "mtg-jamendo"
CLIP_S = 0.5


# ------------------------------------------------------------------------------ helpers
def run(argv, capsys) -> tuple[int, str, str]:
    """``main(argv)`` in-process: (exit status, stdout, stderr); never a traceback."""
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    assert "Traceback" not in out.err and "Traceback" not in out.out
    return code, out.out, out.err


def gtzan_tree(root: Path, n: int = 2) -> Path:
    """``root/genres/blues/blues.0000K.wav`` and the same for jazz, K < n, each clip distinct."""
    for gi, genre in enumerate(("blues", "jazz")):
        for k in range(n):
            write_tone(root / "genres" / genre / f"{genre}.{k:05d}.wav", CLIP_S, seed=10 * gi + k)
    return root


def index_gtzan(root: Path, out: Path, capsys, *extra) -> tuple[int, str, str]:
    return run(
        ["index", "gtzan", root, "--out", out, "-q", "--min-duration", "0.1", *extra], capsys
    )


def problems(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "problems.csv", dtype=str, keep_default_na=False)


def row_of(out: Path, track_id: str) -> dict:
    p = problems(out)
    rows = p[p["track_id"] == track_id]
    assert len(rows) == 1, p
    return rows.iloc[0].to_dict()


def tsv_row(n: int, *tags: str, duration: float = 0.5, path: str | None = None) -> str:
    path = path or f"{n % 100:02d}/{n}.wav"
    return "\t".join(
        [f"track_{n:07d}", f"artist_{n:06d}", f"album_{n:06d}", path, f"{duration}", *tags]
    )


def jamendo_tree(root: Path, rows: list[str], write: tuple[int, ...] = ()) -> Path:
    """``root/autotagging_moodtheme.tsv`` of ``rows`` (CRLF, as released) and clips ``NN/N.wav``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "autotagging_moodtheme.tsv").write_bytes(
        ("\r\n".join([HEADER, *rows]) + "\r\n").encode("utf-8")
    )
    for n in write:
        write_tone(root / f"{n % 100:02d}" / f"{n}.wav", CLIP_S, seed=n)
    return root


def index_jamendo(root: Path, out: Path, capsys, *extra) -> tuple[int, str, str]:
    return run(["index", "jamendo", root, "--out", out, "-q", *extra], capsys)


# ------------------------------------------------------------------------------ bad entries
def _loop(folder: Path) -> str:
    os.symlink("blues.00007.wav", folder / "blues.00007.wav")  # a link to itself
    return "blues.00007"


def _not_utf8(folder: Path) -> str:
    raw = os.fsencode(folder) + b"/blues.0000\xff.wav"
    with open(raw, "wb") as f:
        f.write((folder / "blues.00000.wav").read_bytes())
    return "blues.0000\\xff"


def _newline(folder: Path) -> str:
    shutil.copy(folder / "blues.00000.wav", folder / "blues.00001\n.wav")
    return "blues.00001\\n"


def _loop_folder(folder: Path) -> str:
    os.symlink("sub", folder / "sub")  # a folder link to itself, named like audio
    os.symlink("sub/x", folder / "blues.00008.wav")
    return "blues.00008"


@pytest.mark.parametrize(
    "make, problem, fragment",
    [
        (_loop, "corrupt", "symbolic link loop"),
        (_loop_folder, "corrupt", "symbolic link loop"),
        (_not_utf8, "unexpected", "not valid UTF-8"),
        (_newline, "unexpected", "control character (U+000A)"),
    ],
    ids=["link-loop", "link-loop-in-a-folder", "name-not-utf8", "name-with-newline"],
)
def test_gtzan_bad_entry_is_a_problem_row_and_the_index_carries_on(
    tmp_path, capsys, make, problem, fragment
):
    root = gtzan_tree(tmp_path / "g")
    shown_id = make(root / "genres" / "blues")
    out = tmp_path / "ix"
    code, stdout, _ = index_gtzan(root, out, capsys)
    assert code == EXIT_OK
    row = row_of(out, shown_id)
    assert row["problem"] == problem and fragment in row["reason"], row
    assert "\n" not in row["path"]  # printable on one line
    ix = TrackIndex.load(out)  # tracks.json written beside tracks.csv
    assert sorted(ix.tracks["track_id"]) == [
        "blues.00000",
        "blues.00001",
        "jazz.00000",
        "jazz.00001",
    ]
    assert f"{problem}" in stdout


@pytest.mark.parametrize("dataset", ["gtzan", "jamendo"])
def test_root_whose_path_is_not_utf8_is_one_line_error(tmp_path, capsys, dataset):
    _build(dataset, tmp_path)  # in tmp_path/root, then renamed (soundfile cannot write there)
    bad = os.fsencode(tmp_path) + b"/data\xff"
    os.rename(os.fsencode(tmp_path / "root"), bad)
    root = Path(os.fsdecode(bad))
    run_index = index_gtzan if dataset == "gtzan" else index_jamendo
    code, _, err = run_index(root, tmp_path / "ix", capsys)
    assert code == EXIT_ERROR
    assert err == (
        f"error: {tmp_path}/data\\xff: cannot index under this folder: its path is not valid "
        "UTF-8 (the bytes that are not are shown as \\xNN)\n"
    )


# ------------------------------------------------------------------------------ symlinks
def _link_gtzan(root: Path, target: Path) -> Path:
    link = root / "genres" / "jazz" / "jazz.00005.wav"
    link.symlink_to(target)
    return link


def _link_jamendo(root: Path, target: Path) -> Path:
    link = root / "05" / "5.wav"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)
    return link


def _build(dataset: str, tmp_path: Path) -> Path:
    if dataset == "gtzan":
        return gtzan_tree(tmp_path / "root")
    return jamendo_tree(
        tmp_path / "root", [tsv_row(1, "mood/theme---happy"), tsv_row(5, "mood/theme---sad")], (1,)
    )


@pytest.mark.parametrize("dataset", ["gtzan", "jamendo"])
@pytest.mark.parametrize("where", ["inside", "outside", "outside-allowed"])
def test_symlinks_are_treated_alike_by_both_datasets(tmp_path, capsys, dataset, where):
    """Inside the root: followed. Out of it: ``unsafe`` unless ``--allow-outside-links``."""
    root = _build(dataset, tmp_path)
    target_dir = root / "store" if where == "inside" else tmp_path / "elsewhere"
    target = write_tone(target_dir / "clip.wav", CLIP_S, seed=99)
    link, track_id = (
        (_link_gtzan(root, target), "jazz.00005")
        if dataset == "gtzan"
        else (_link_jamendo(root, target), "track_0000005")
    )
    out = tmp_path / "ix"
    extra = ["--allow-outside-links"] if where == "outside-allowed" else []
    code, _, _ = (index_gtzan if dataset == "gtzan" else index_jamendo)(root, out, capsys, *extra)
    assert code == EXIT_OK
    ix = TrackIndex.load(out)
    if where == "outside":
        assert track_id not in set(ix.tracks["track_id"])
        row = row_of(out, track_id)
        assert row["problem"] == "unsafe" and "--allow-outside-links" in row["reason"], row
    else:
        assert ix.tracks.set_index("track_id").loc[track_id, "path"] == str(link)
        assert track_id not in set(problems(out)["track_id"])


# ------------------------------------------------------------------------------ empty inputs
def test_gtzan_empty_tree_exits_1_with_the_counts(tmp_path, capsys):
    root = tmp_path / "g"
    (root / "genres" / "blues").mkdir(parents=True)
    (root / "genres" / "blues" / "notes.txt").write_text("no audio\n")
    code, _, err = index_gtzan(root, tmp_path / "ix", capsys)
    assert code == EXIT_ERROR
    assert err.startswith(f"error: {root}: no track indexed: no audio file found")
    assert err.count("\n") == 1


def test_gtzan_every_file_bad_exits_1_naming_the_problems(tmp_path, capsys):
    root = tmp_path / "g"
    (root / "genres" / "blues").mkdir(parents=True)
    (root / "genres" / "blues" / "blues.00000.wav").write_bytes(b"")
    code, _, err = index_gtzan(root, tmp_path / "ix", capsys)
    assert code == EXIT_ERROR and "no track indexed: every entry left out {'corrupt': 1}" in err


def test_jamendo_wrong_root_exits_1_with_the_counts(tmp_path, capsys):
    root = jamendo_tree(tmp_path / "j", [tsv_row(n, "mood/theme---happy") for n in (1, 2, 3)])
    wrong = tmp_path / "elsewhere"
    wrong.mkdir()
    meta = root / "autotagging_moodtheme.tsv"
    code, _, err = index_jamendo(wrong, tmp_path / "ix", capsys, "--metadata", meta)
    assert code == EXIT_ERROR
    assert err == (
        f"error: {wrong}: no track indexed: every entry left out {{'missing': 3}} "
        f"(see {tmp_path / 'ix' / 'problems.csv'}); is this the right root?\n"
    )


@pytest.mark.parametrize(
    "present, max_missing, expected",
    [((1,), None, EXIT_PARTIAL), ((1, 2, 3, 4), None, EXIT_PARTIAL), ((1,), "1", EXIT_OK)],
    ids=["1-of-20", "4-of-20", "1-of-20-allowed"],
)
def test_jamendo_most_files_missing_exits_3_with_the_counts(
    tmp_path, capsys, present, max_missing, expected
):
    """More than --max-missing (5 %) of the listed files missing: exit 3 and a warning line."""
    root = jamendo_tree(
        tmp_path / "j", [tsv_row(n, "mood/theme---happy") for n in range(1, 21)], present
    )
    extra = ["--max-missing", max_missing] if max_missing else []
    code, stdout, err = index_jamendo(root, tmp_path / "ix", capsys, *extra)
    assert code == expected
    assert stdout.startswith(f"{len(present)} tracks, 1 classes")
    if expected == EXIT_PARTIAL:
        n = 20 - len(present)
        assert err.startswith(f"warning: {n} of the 20 files listed are missing ({n / 20:.1%}")
    else:
        assert err == ""


# ------------------------------------------------------------------------------ checks
@pytest.mark.parametrize("dataset", ["gtzan", "jamendo"])
@pytest.mark.parametrize("check", ["none", "exists", "header", "decode"])
def test_every_offered_check_works_for_both_datasets(tmp_path, capsys, dataset, check):
    root = _build(dataset, tmp_path)
    out = tmp_path / "ix"
    code, _, _ = (index_gtzan if dataset == "gtzan" else index_jamendo)(
        root, out, capsys, "--check", check, "--max-missing", "1"
    )
    assert code == EXIT_OK
    ix = TrackIndex.load(out)
    # jamendo's track 5 has no file: only "none", which trusts the metadata, keeps it
    assert len(ix) == (4 if dataset == "gtzan" else 1 + (check == "none"))
    if dataset == "jamendo" and check in ("header", "decode"):
        assert ix.tracks["audio_duration"].iloc[0] == pytest.approx(CLIP_S, abs=0.01)


@pytest.mark.parametrize("check", ["header", "decode"])
def test_jamendo_duration_disagreeing_with_the_metadata_is_a_warning(tmp_path, capsys, check):
    root = jamendo_tree(
        tmp_path / "j",
        [
            tsv_row(1, "mood/theme---happy", duration=212.7),
            tsv_row(2, "mood/theme---sad", duration=1.2),  # 0.7 s off: within the 1 s tolerance
        ],
        (1, 2),
    )
    out = tmp_path / "ix"
    code, _, _ = index_jamendo(root, out, capsys, "--check", check)
    assert code == EXIT_OK
    assert len(TrackIndex.load(out)) == 2  # kept: a warning
    row = row_of(out, "track_0000001")
    assert row["problem"] == "duration"
    assert (
        row["reason"].startswith("0.5 s of audio by ")
        and "212.7 s in the metadata" in row["reason"]
    )
    assert "track_0000002" not in set(problems(out)["track_id"])


def test_jamendo_real_sample_2s_against_212s_is_flagged(tmp_path, capsys):
    sample = JAMENDO / "audio-sample" / "48" / "948.mp3"
    if not sample.is_file():
        pytest.skip("../shared/data/mtg-jamendo is absent")
    root = tmp_path / "audio"
    (root / "48").mkdir(parents=True)
    shutil.copy(sample, root / "48" / "948.mp3")
    line = next(
        ln
        for ln in (JAMENDO / "autotagging_moodtheme.tsv").read_text().splitlines()
        if ln.startswith("track_0000948\t")
    )
    (tmp_path / "meta.tsv").write_text(HEADER + "\r\n" + line + "\n")
    code, _, _ = index_jamendo(
        root, tmp_path / "ix", capsys, "--metadata", tmp_path / "meta.tsv", "--check", "header"
    )
    assert code == EXIT_OK
    row = row_of(tmp_path / "ix", "track_0000948")
    assert row["problem"] == "duration" and row["reason"].startswith(
        "2.0 s of audio by the header, but 212.7 s in the metadata"
    )


def test_duration_tolerance_worked_by_hand():
    """max(1 s, 2 % of the metadata's duration)."""
    assert duration_disagrees(2.0, 212.7)
    assert not duration_disagrees(209.0, 212.7)  # 3.7 s off, tolerance 4.254 s
    assert duration_disagrees(208.0, 212.7)  # 4.7 s off
    assert not duration_disagrees(29.1, 30.0) and duration_disagrees(28.9, 30.0)  # 1 s floor
    assert not duration_disagrees(float("nan"), 30.0)


# ------------------------------------------------------------------------------ tags
@pytest.mark.parametrize(
    "tag",
    ["mood/theme--- emotional", "Mood/Theme---Emotional", "mood/theme---emotional\u00a0"],
    ids=["space-after-prefix", "cased", "trailing-nbsp"],
)
def test_jamendo_oddly_spelled_tag_is_normalised_and_recorded(tmp_path, capsys, tag):
    root = jamendo_tree(tmp_path / "j", [tsv_row(1, tag), tsv_row(2, "mood/theme---sad")], (1, 2))
    out = tmp_path / "ix"
    code, _, _ = index_jamendo(root, out, capsys, "--curation", "official")
    assert code == EXIT_OK
    ix = TrackIndex.load(out)
    assert ix.tracks.set_index("track_id").loc["track_0000001", "label"] == "emotional"
    row = row_of(out, "track_0000001")
    assert row["problem"] == "normalised"
    assert row["reason"] == f"line 2: tag {tag!r} read as 'mood/theme---emotional'"


@pytest.mark.parametrize("curation", ["none", "official"])
def test_jamendo_tag_holding_the_label_separator_is_dropped_and_recorded(
    tmp_path, capsys, curation
):
    root = jamendo_tree(
        tmp_path / "j",
        [
            tsv_row(1, "mood/theme---happy|sad", "mood/theme---calm"),
            tsv_row(2, "mood/theme---happy|sad"),
        ],
        (1, 2),
    )
    out = tmp_path / "ix"
    code, _, _ = index_jamendo(root, out, capsys, "--curation", curation)
    assert code == EXIT_OK
    ix = TrackIndex.load(out)
    assert list(ix.tracks["track_id"]) == ["track_0000001"] and ix.classes == ("calm",)
    p = problems(out)
    assert p[p["track_id"] == "track_0000001"]["problem"].tolist() == ["tag"]
    assert "may not hold '|'" in p[p["track_id"] == "track_0000001"]["reason"].iloc[0]
    assert set(p[p["track_id"] == "track_0000002"]["problem"]) == {"tag", "untagged"}


def test_jamendo_track_dropped_by_curation_is_recorded(tmp_path, capsys):
    root = jamendo_tree(
        tmp_path / "j", [tsv_row(1, "mood/theme---mellow"), tsv_row(2, "mood/theme---sad")], (1, 2)
    )
    out = tmp_path / "ix"
    assert index_jamendo(root, out, capsys)[0] == EXIT_OK
    row = row_of(out, "track_0000001")
    assert (
        row["problem"] == "untagged" and "--curation official (its tags: mellow)" in row["reason"]
    )


def test_read_tsv_without_report_refuses_an_unusable_tag(tmp_path):
    root = jamendo_tree(tmp_path / "j", [tsv_row(1, "mood/theme---happy|sad")])
    with pytest.raises(MetadataError, match=r"line 2: a tag name may not hold '\|'"):
        jamendo.read_tsv(root / "autotagging_moodtheme.tsv")


# ------------------------------------------------------------------------------ tracks.json
@pytest.mark.parametrize(
    "edit, fragment",
    [
        (lambda meta: meta.pop("root"), "lacks key 'root'"),
        (lambda meta: meta.update(root=""), "'root' is empty, but a gtzan index"),
        (lambda meta: meta.update(root=7), "'root' must be a folder name"),
    ],
    ids=["root-deleted", "root-empty", "root-not-a-string"],
)
def test_index_without_root_is_refused_in_one_line(tmp_path, capsys, edit, fragment):
    root = gtzan_tree(tmp_path / "g")
    out = tmp_path / "ix"
    assert index_gtzan(root, out, capsys)[0] == EXIT_OK
    tracks = pd.read_csv(out / "tracks.csv", dtype=str)
    tracks.loc[0, "path"] = "/etc/passwd"  # what a missing root would let through
    tracks.to_csv(out / "tracks.csv", index=False)
    meta = json.loads((out / "tracks.json").read_text())
    edit(meta)
    (out / "tracks.json").write_text(json.dumps(meta))
    code, _, err = run(["extract", out, "--out", tmp_path / "store", "-q"], capsys)
    assert code == EXIT_ERROR
    assert err == f"error: {out / 'tracks.json'}: {err.split(': ', 2)[2]}" and fragment in err
    assert err.count("\n") == 1 and not (tmp_path / "store").exists()


def test_edited_tracks_csv_outside_the_root_is_refused(tmp_path, capsys):
    root = gtzan_tree(tmp_path / "g")
    out = tmp_path / "ix"
    assert index_gtzan(root, out, capsys)[0] == EXIT_OK
    tracks = pd.read_csv(out / "tracks.csv", dtype=str)
    tracks.loc[0, "path"] = str(root / ".." / "outside.wav")
    tracks.to_csv(out / "tracks.csv", index=False)
    with pytest.raises(MetadataError, match="outside the dataset root"):
        TrackIndex.load(out)


# ------------------------------------------------------------------------------ duplicates
def test_identical_files_worked_by_hand(tmp_path):
    data = {
        "a": b"x" * 70_000,
        "b": b"x" * 69_999 + b"y",
        "c": b"x" * 70_000,
        "d": b"z",
        "e": b"x" * 5,
    }
    for name, content in data.items():
        (tmp_path / name).write_bytes(content)
    paths = [tmp_path / n for n in [*data, "absent"]]
    # a and b share size and first 64 KiB, differ at the end; c equals a
    assert identical_files(paths) == [[0, 2]]


@pytest.mark.parametrize("dataset", ["gtzan", "jamendo"])
def test_exact_duplicate_audio_is_reported_and_both_kept(tmp_path, capsys, dataset):
    root = _build(dataset, tmp_path)
    if dataset == "gtzan":
        shutil.copy(
            root / "genres" / "blues" / "blues.00000.wav",
            root / "genres" / "jazz" / "jazz.00009.wav",
        )
        first, second = "blues.00000", "jazz.00009"
    else:
        (root / "05").mkdir()
        shutil.copy(root / "01" / "1.wav", root / "05" / "5.wav")
        first, second = "track_0000001", "track_0000005"
    out = tmp_path / "ix"
    code, stdout, _ = (index_gtzan if dataset == "gtzan" else index_jamendo)(root, out, capsys)
    assert code == EXIT_OK
    assert {first, second} <= set(TrackIndex.load(out).tracks["track_id"])
    row = row_of(out, second)
    assert row["problem"] == "identical" and f"the same bytes as {first}" in row["reason"]
    assert first not in set(problems(out)["track_id"])
    assert "(1 exact duplicate audio file(s), kept: see problems.csv)" in stdout.splitlines()[0]


# ------------------------------------------------------------------------------ artists.csv
def test_artist_split_without_artists_csv_names_it(tmp_path):
    from musiclass.datasets import gtzan

    root = gtzan_tree(tmp_path / "g")
    idx = gtzan.index(root, min_duration=0.1)
    store = SimpleNamespace(path=tmp_path / "store", tracks=lambda: idx, index=None)
    with pytest.raises(ConfigError, match=r"4 of 4 have none; GTZAN's come from ROOT/artists\.csv"):
        make_splits(store, ("artist",))
    (root / "artists.csv").write_text(
        "track_id,artist\n" + "".join(f"{t},a{i}\n" for i, t in enumerate(idx.tracks["track_id"]))
    )
    assert set(gtzan.index(root, min_duration=0.1).tracks["artist"]) == {"a0", "a1", "a2", "a3"}
