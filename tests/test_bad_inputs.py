"""Bad inputs, one by one and all in one batch: each gets a clear error naming the file and why.

A research tool that stops on one bad file in 50,000 is not trusted, and neither is one that
quietly decodes garbage. So:

* :data:`CASES` is a generator of bad (or merely unusual) audio files. For each,
  ``audio.load(path, sr=22050, min_duration=1.0)`` either decodes it correctly (valid audio in an
  odd shape: 8 channels, 8 kHz, 192 kHz, MP3 bytes named ``.wav``, a WAV cut off after 2 s) or
  raises :class:`AudioError` whose message names the file and gives a specific reason. (Root
  reads a chmod 000 file anyway, so under root that case is loaded by a forked child that has
  given up root.)
* The batch puts every case into one GTZAN tree beside good clips and runs ``musiclass index`` and
  ``musiclass extract --jobs 2``: every good file ends up in the store, every bad one is listed
  (index ``problems.csv`` or store ``failures.csv``) with its reason, nothing crashes, and the exit
  status is 3 (0 when every file is good).
* Malformed metadata (MTG-Jamendo TSVs, split CSVs, index folders, GTZAN roots) gives a
  :class:`MetadataError` / :class:`DatasetError` naming the file and the reason. Cases that
  ``tests/test_jamendo.py`` already covers are not repeated here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import librosa
import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from musiclass import audio, splits
from musiclass.cli import EXIT_ERROR, EXIT_OK, EXIT_PARTIAL, main
from musiclass.datasets import gtzan, jamendo
from musiclass.datasets.base import TrackIndex
from musiclass.errors import AudioError, DatasetError, MetadataError
from musiclass.features.store import FeatureStore

from .conftest import tone, write_tone

SR = 22050
MIN_DURATION = 1.0
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
#: what libsndfile says of bytes it cannot recognise (random bytes can look like an MPEG sync word)
UNRECOGNISED = (
    r"\((Format not recognised|no decodable audio stream found: data corrupt or not audio)"
)


# ------------------------------------------------------------------------------ the bad files
def _wav(path: Path, y: np.ndarray, sr: int = SR, **kwargs) -> None:
    sf.write(path, y, sr, **kwargs)


def _truncated(keep_seconds: float) -> Callable[[Path], None]:
    """A 3 s 16-bit WAV cut off after ``keep_seconds``: its header still announces 3 s."""

    def make(path: Path) -> None:
        _wav(path, tone(3.0, SR, seed=4))
        data = path.read_bytes()
        path.write_bytes(
            data[: 44 + 2 * int(round(keep_seconds * SR))]
        )  # 44-byte header, 2 bytes a sample

    return make


def _patched_header(offset: int, fmt: str, value: int) -> Callable[[Path], None]:
    """A valid 1.5 s WAV whose canonical 44-byte header has one field overwritten (a damaged header)."""

    def make(path: Path) -> None:
        _wav(path, tone(1.5, SR, seed=5))
        data = bytearray(path.read_bytes())
        data[offset : offset + struct.calcsize(fmt)] = struct.pack(fmt, value)
        path.write_bytes(bytes(data))

    return make


def _cut_in_half(fmt: str) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        _wav(path, tone(2.0, SR, seed=6), format=fmt)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])

    return make


def _mp3_named_wav(path: Path) -> None:
    """A real MP3 (44.1 kHz stereo) written with soundfile, then renamed ``.wav``."""
    mp3 = path.with_suffix(".mp3")
    stereo = np.stack([tone(2.0, 44100, seed=7), tone(2.0, 44100, seed=8)], axis=1)
    sf.write(mp3, stereo, 44100, format="MP3")
    os.replace(mp3, path)


def _nan(path: Path) -> None:
    _wav(path, np.full(2 * SR, np.nan, np.float32), subtype="FLOAT")


def _inf(path: Path) -> None:
    _wav(path, np.full(2 * SR, np.inf, np.float32), subtype="FLOAT")


def _one_inf(path: Path) -> None:
    y = tone(2.0, SR, seed=9).astype(np.float64)
    y[SR] = -np.inf
    _wav(path, y, subtype="DOUBLE")


def _unreadable(path: Path) -> None:
    _wav(path, tone(2.0, SR, seed=10))
    path.chmod(0)


def _broken_link(path: Path) -> None:
    path.symlink_to(path.with_name("the-target-was-deleted.wav"))


def _fifo(path: Path) -> None:
    os.mkfifo(path)  # opening it would block forever: it must be refused before any open()


@dataclass(frozen=True)
class Case:
    """One kind of bad (or unusual) audio file.

    ``reason`` is a regex the error reason must match, or None when the file is valid audio that
    must decode (``seconds`` long). ``index_reason`` is what GTZAN indexing says instead, when it
    catches the file from its header (``cannot read audio header`` rather than ``cannot decode``).
    """

    name: str
    ext: str
    make: Callable[[Path], None]
    reason: str | None
    seconds: float | None = None
    index_reason: str | None = None
    skip: str | None = None


CASES: tuple[Case, ...] = (
    Case(
        "corrupt-bytes",
        ".wav",
        lambda p: p.write_bytes(np.random.default_rng(1).bytes(4096)),
        r"cannot decode audio " + UNRECOGNISED,
        index_reason=r"cannot read audio header " + UNRECOGNISED,
    ),
    Case(
        "riff-header-then-garbage",
        ".wav",
        lambda p: p.write_bytes(
            b"RIFF\x24\x10\x00\x00WAVEfmt " + np.random.default_rng(2).bytes(4000)
        ),
        r"cannot decode audio \(.+\)",
        index_reason=r"cannot read audio header \(.+\)",
    ),
    Case(
        "truncated-mid-data-too-short",
        ".wav",
        _truncated(0.5),
        r"too short: 0\.50 s of audio, at least 1\.00 s needed; the file is truncated: "
        r"its header announces 3\.00 s",
    ),
    Case("truncated-mid-data-2s-left", ".wav", _truncated(2.0), None, seconds=2.0),
    Case(
        "header-only-no-samples",
        ".wav",
        lambda p: _wav(p, np.zeros(0, np.float32)),
        r"no audio samples",
    ),
    Case("zero-length", ".wav", lambda p: p.write_bytes(b""), r"empty file \(0 bytes\)"),
    Case("nan-filled-float", ".wav", _nan, r"contains NaN or infinite sample values"),
    Case("inf-filled-float", ".wav", _inf, r"contains NaN or infinite sample values"),
    Case(
        "one-minus-inf-sample-double", ".wav", _one_inf, r"contains NaN or infinite sample values"
    ),
    Case(
        "silent",
        ".wav",
        lambda p: _wav(p, np.zeros(2 * SR, np.float32)),
        r"silent \(peak amplitude below -80 dBFS\)",
    ),
    Case(
        "below-minus-80-dBFS",
        ".wav",
        lambda p: _wav(p, 5e-5 * tone(2.0, SR, amp=1.0), subtype="FLOAT"),
        r"silent \(peak amplitude below -80 dBFS\)",
    ),
    Case(
        "too-short-0.1s",
        ".wav",
        lambda p: _wav(p, tone(0.1, SR)),
        r"too short: 0\.10 s of audio, at least 1\.00 s",
    ),
    # 22,040 samples are 0.99955 s: two decimals would print "1.00 s of audio, at least 1.00 s needed"
    Case(
        "just-under-min-duration",
        ".wav",
        lambda p: _wav(p, tone(22040 / SR, SR)),
        r"too short: 0\.9995 s of audio, at least 1\.0000 s needed",
    ),
    Case("mp3-bytes-named-wav", ".wav", _mp3_named_wav, None, seconds=2.0),
    Case(
        "8-channels",
        ".wav",
        lambda p: _wav(p, np.stack([tone(2.0, SR, seed=i) for i in range(8)], axis=1)),
        None,
        seconds=2.0,
    ),
    Case("8-kHz", ".wav", lambda p: _wav(p, tone(2.0, 8000, seed=11), 8000), None, seconds=2.0),
    Case(
        "192-kHz", ".wav", lambda p: _wav(p, tone(2.0, 192000, seed=12), 192000), None, seconds=2.0
    ),
    Case(
        "wav-bytes-named-flac",
        ".flac",
        lambda p: _wav(p, tone(2.0, SR, seed=13), format="WAV"),
        None,
        seconds=2.0,
    ),
    Case("directory-named-wav", ".wav", lambda p: p.mkdir(), r"not a regular file"),
    Case(
        "fifo-named-wav",
        ".wav",
        _fifo,
        r"not a regular file",
        skip=None if hasattr(os, "mkfifo") else "no FIFOs",
    ),
    Case("broken-symlink", ".wav", _broken_link, r"file not found|broken symbolic link"),
    # root reads a chmod 000 file anyway: as root, the load runs in a child that gave up root
    Case(
        "unreadable-chmod-000",
        ".wav",
        _unreadable,
        r"cannot (decode audio|read audio header) \(permission denied: this user may not read the file\)",
    ),
    Case(
        "text-named-flac",
        ".flac",
        lambda p: p.write_text("this is a text file, not audio\n" * 20),
        r"cannot decode audio " + UNRECOGNISED,
        index_reason=r"cannot read audio header " + UNRECOGNISED,
    ),
    Case(
        "id3-tag-then-junk-mp3",
        ".mp3",
        lambda p: p.write_bytes(
            b"ID3\x03\x00\x00\x00\x00\x00\x00" + np.random.default_rng(3).bytes(5000)
        ),
        r"cannot decode audio \(no decodable audio stream found: data corrupt or not audio\)",
        index_reason=r"cannot read audio header \(no decodable audio stream",
    ),
    Case(
        "flac-cut-in-half", ".flac", _cut_in_half("FLAC"), r"cannot decode audio \(.*flac decoder"
    ),
    Case("ogg-cut-in-half", ".ogg", _cut_in_half("OGG"), r"no audio samples"),
    Case(
        "header-sample-rate-1-Hz",
        ".wav",
        _patched_header(24, "<I", 1),
        r"implausible sample rate 1 Hz in the header",
    ),
    Case(
        "header-channel-count-0",
        ".wav",
        _patched_header(22, "<H", 0),
        r"cannot decode audio \(Channel count is zero",
        index_reason=r"cannot read audio header \(Channel count",
    ),
)

BAD = [c for c in CASES if c.reason is not None]
ODD_BUT_VALID = [c for c in CASES if c.reason is None]


def make_case(case: Case, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    case.make(path)
    return path


def _param(case: Case):
    marks = [pytest.mark.skip(reason=case.skip)] if case.skip else []
    return pytest.param(case, id=case.name, marks=marks)


def test_the_generator_covers_every_kind_asked_for():
    """Bad inputs tried: every case has a distinct name, and each kind the brief lists is there."""
    names = [c.name for c in CASES]
    assert len(names) == len(set(names)) == 28
    for kind in (
        "corrupt",
        "truncated",
        "zero-length",
        "nan",
        "inf",
        "silent",
        "too-short",
        "mp3-bytes-named-wav",
        "8-channels",
        "8-kHz",
        "192-kHz",
        "directory-named-wav",
        "unreadable",
        "text-named-flac",
    ):
        assert any(kind in n for n in names), kind


def load_error(path: Path, *, unprivileged: bool = False) -> tuple[str, str, str]:
    """``(exception type, message, reason)`` of ``audio.load(path, sr=22050, min_duration=1)``.

    ``unprivileged``: run it in a forked child that has given up root (uid and gid 65534), the
    only way a root test run can see what users get for a file they may not read.
    """

    def attempt() -> tuple[str, str, str]:
        try:
            audio.load(path, sr=SR, min_duration=MIN_DURATION)
        except AudioError as exc:
            return type(exc).__name__, str(exc), exc.reason
        except Exception as exc:  # noqa: BLE001 - reported as the crash it is
            return type(exc).__name__, str(exc), ""
        return "decoded", "", ""

    if not unprivileged:
        return attempt()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(r)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            result = attempt()
        except BaseException as exc:  # noqa: BLE001
            result = ("cannot drop root", str(exc), "")
        os.write(w, json.dumps(result).encode())
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    result = tuple(json.loads(data))
    if result[0] == "cannot drop root":
        pytest.skip(f"cannot run as an unprivileged user: {result[1]}")
    return result


@pytest.mark.parametrize("case", [_param(c) for c in BAD])
def test_bad_file_gives_a_clear_reason(tmp_path, case):
    """audio.load raises AudioError naming the file, with the case's specific reason."""
    unprivileged = IS_ROOT and case.name == "unreadable-chmod-000"
    folder = tmp_path
    if unprivileged:  # a folder the unprivileged child can enter (tmp_path's parents are 0700)
        folder = Path(tempfile.mkdtemp(prefix="musiclass-unreadable-"))
        folder.chmod(0o755)
    try:
        path = make_case(case, folder / f"blues.00001{case.ext}")
        kind, message, reason = load_error(path, unprivileged=unprivileged)
    finally:
        if unprivileged:
            shutil.rmtree(folder)
    assert kind == "AudioError", (case.name, kind, message)
    assert message.startswith(f"{path}: "), "the error must name the file"
    assert re.search(case.reason, reason), (case.name, reason)


@pytest.mark.parametrize("case", [_param(c) for c in ODD_BUT_VALID])
def test_odd_but_valid_audio_decodes_correctly(tmp_path, case):
    """Valid audio in an unusual form decodes to mono float32 at 22,050 Hz, of the right length,
    equal to librosa.load (and, where the signal is known exactly, to that signal)."""
    path = make_case(case, tmp_path / f"blues.00001{case.ext}")
    y, sr = audio.load(path, sr=SR, min_duration=MIN_DURATION)
    assert sr == SR and y.dtype == np.float32 and y.ndim == 1 and np.all(np.isfinite(y))
    assert y.shape[0] / SR == pytest.approx(case.seconds, abs=0.03)
    np.testing.assert_allclose(y, librosa.load(path, sr=SR)[0], rtol=0, atol=1e-6)
    if case.name == "8-channels":  # mono is the mean of the 8 channels (already at 22,050 Hz)
        channels, _ = sf.read(path, dtype="float32", always_2d=True)
        np.testing.assert_allclose(y, channels.mean(axis=1), rtol=0, atol=1e-6)
    if case.name.startswith("truncated"):  # exactly the samples before the cut (16-bit rounded)
        assert len(y) == int(round(2.0 * SR))
        np.testing.assert_allclose(y, tone(3.0, SR, seed=4)[: len(y)], rtol=0, atol=2 / 32768)
    if case.name == "mp3-bytes-named-wav":  # the same as the same bytes named .mp3
        twin = path.with_name("twin.mp3")
        twin.write_bytes(path.read_bytes())
        np.testing.assert_array_equal(y, audio.load(twin, sr=SR)[0])
        assert audio.info(path).format == "MP3"


def test_a_damaged_header_rate_is_refused_before_any_allocation(tmp_path):
    """A 1 Hz header would turn 33,075 frames into 729 million samples at 22,050 Hz (2.9 GB):
    info() refuses it too, so GTZAN indexing reports it rather than passing it to extraction."""
    path = make_case(
        next(c for c in CASES if c.name == "header-sample-rate-1-Hz"), tmp_path / "x.wav"
    )
    with pytest.raises(AudioError, match="implausible sample rate 1 Hz"):
        audio.info(path)
    with pytest.raises(AudioError, match="implausible sample rate 1 Hz"):
        audio.load(path, sr=None)


# ------------------------------------------------------------------------------ the batch
GOOD = ("blues", "jazz", "rock")


def build_batch(root: Path) -> tuple[dict[str, Case], set[str]]:
    """A GTZAN tree (``genres/<genre>/<genre>.000NN.ext``) of good tone clips and every case.

    Returns ``{track_id: case}`` of the cases written and the track ids that must be extracted.
    """
    genres = root / "genres"
    good = set()
    for gi, genre in enumerate(GOOD):
        track_id = f"{genre}.00000"
        write_tone(
            genres / genre / f"{track_id}.wav", 2.5, seed=gi, freqs=(220.0 * (gi + 1), 330.0)
        )
        good.add(track_id)
    written = {}
    for i, case in enumerate(CASES, 1):
        if case.skip or (IS_ROOT and case.name == "unreadable-chmod-000"):  # root would read it
            continue
        genre = gtzan.GENRES[i % len(gtzan.GENRES)]
        track_id = f"{genre}.{i:05d}"
        make_case(case, genres / genre / f"{track_id}{case.ext}")
        written[track_id] = case
        if case.reason is None:
            good.add(track_id)
    return written, good


def listed_reasons(index_dir: Path, store: Path) -> dict[str, str]:
    """Every listed bad item -> its reason(s): index problems.csv and the store's failures.csv."""
    out: dict[str, str] = {}
    problems = pd.read_csv(index_dir / "problems.csv", dtype=str, keep_default_na=False)
    failures = FeatureStore(store).failures()
    for track_id, reason in [
        *zip(problems["track_id"], problems["reason"]),
        *zip(failures["track_id"], failures["reason"]),
    ]:
        out[track_id] = f"{out[track_id]} | {reason}" if track_id in out else reason
    return out


@pytest.mark.parametrize("check", ["header", "decode"])
def test_batch_with_every_bad_case_finishes_and_lists_each(tmp_path, capsys, check):
    """``musiclass index`` + ``musiclass extract --jobs 2`` over good clips mixed with every case:
    no crash, every good file in the store, every bad file listed with its reason, exit status 3."""
    written, good = build_batch(tmp_path / "gtzan")
    idx, store = tmp_path / "index", tmp_path / "store"
    commands = (
        [
            "index",
            "gtzan",
            str(tmp_path / "gtzan"),
            "--out",
            str(idx),
            "--check",
            check,
            "--min-duration",
            "1",
            "-q",
        ],
        [
            "extract",
            str(idx),
            "--out",
            str(store),
            "--jobs",
            "2",
            "-q",
            "--set",
            "representations=[mel]",
        ],
    )
    codes, crashes = [], []
    for argv in commands:
        try:
            codes.append(main(argv))
        except Exception as exc:  # noqa: BLE001 - an unhandled exception is what this test counts
            crashes.append(f"musiclass {argv[0]}: {type(exc).__name__}: {exc}")
    assert crashes == [], crashes
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    assert codes == [EXIT_OK, EXIT_PARTIAL]

    fs = FeatureStore(store)
    extracted = set(fs.index["track_id"])
    assert extracted == good, "every good file, and only those, has frames in the store"
    reasons = listed_reasons(idx, store)
    bad_ids = {t for t, c in written.items() if c.reason is not None}
    assert set(reasons) == bad_ids, "every bad file is listed, and no good one"
    for track_id in bad_ids:
        case, reason = written[track_id], reasons[track_id]
        pattern = case.reason if case.index_reason is None else f"{case.reason}|{case.index_reason}"
        assert re.search(pattern, reason), (case.name, reason)
        assert not reason.startswith("unexpected"), (
            f"{case.name}: an unhandled exception in a worker: {reason}"
        )
    failures = fs.failures()
    for row in failures.itertuples():  # failures.csv names the file, and the summary prints it
        assert Path(row.path).name.startswith(row.track_id) and row.path in out.out
    if check == "decode":  # decoding at index time catches the non-finite and silent files there
        problems = pd.read_csv(idx / "problems.csv", dtype=str, keep_default_na=False)
        caught = set(problems.loc[problems["problem"] == "corrupt", "track_id"])
        assert {t for t, c in written.items() if c.name in ("nan-filled-float", "silent")} <= caught


def test_batch_of_good_files_exits_0(tmp_path, capsys):
    """The same commands over good files only: exit status 0 and no failure listed."""
    for gi, genre in enumerate(GOOD[:2]):
        write_tone(tmp_path / "gtzan" / "genres" / genre / f"{genre}.00000.wav", 2.5, seed=gi)
    idx, store = tmp_path / "index", tmp_path / "store"
    assert (
        main(
            [
                "index",
                "gtzan",
                str(tmp_path / "gtzan"),
                "--out",
                str(idx),
                "--min-duration",
                "1",
                "-q",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "extract",
                str(idx),
                "--out",
                str(store),
                "--jobs",
                "1",
                "-q",
                "--set",
                "representations=[mel]",
            ]
        )
        == 0
    )
    assert "0 failed" in capsys.readouterr().out
    assert FeatureStore(store).failures().empty and FeatureStore(store).manifest["n_tracks"] == 2


def test_gtzan_index_reports_entries_that_are_not_files(tmp_path):
    """A folder, a FIFO or a broken link named like a clip is reported ``corrupt``, never opened
    (opening a FIFO would hang the indexer) and never silently skipped."""
    g = tmp_path / "genres" / "blues"
    write_tone(g / "blues.00000.wav", 2.0)
    (g / "blues.00001.wav").mkdir()
    (g / "blues.00002.wav").symlink_to(g / "deleted.wav")
    kinds = {"blues.00001": "a folder", "blues.00002": "broken symbolic link"}
    if hasattr(os, "mkfifo"):
        os.mkfifo(g / "blues.00003.wav")
        kinds["blues.00003"] = "a pipe"
    (g / "not-audio").mkdir()  # an ordinary sub-folder is still ignored
    for check in ("none", "header"):
        ix = gtzan.index(tmp_path, check=check, min_duration=1)
        assert list(ix.tracks["track_id"]) == ["blues.00000"]
        problems = ix.problems.set_index("track_id")
        assert set(problems.index) == set(kinds)
        assert (problems["problem"] == "corrupt").all()
        for track_id, words in kinds.items():
            assert words in problems.loc[track_id, "reason"]
            assert problems.loc[track_id, "path"] == str(g / f"{track_id}.wav")


def test_unlistable_genre_folder_is_a_dataset_error(tmp_path, monkeypatch):
    """A genre folder that cannot be listed (permissions) stops indexing with the folder and why,
    rather than a bare PermissionError (or, worse, a dataset quietly missing a genre)."""
    write_tone(tmp_path / "genres" / "blues" / "blues.00000.wav", 2.0)
    write_tone(tmp_path / "genres" / "jazz" / "jazz.00000.wav", 2.0)
    real = os.scandir
    locked = tmp_path / "genres" / "jazz"

    def scandir(path="."):
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(
        DatasetError, match=rf"cannot list {re.escape(str(locked))}.*Permission denied"
    ):
        gtzan.index(tmp_path)


# ------------------------------------------------------------------------------ malformed metadata
HEADER = "\t".join(jamendo.HEADER)


def tsv_row(n: int, *tags: str, path: str | None = None, duration: str = "200.5") -> str:
    return "\t".join(
        [
            f"track_{n:07d}",
            f"artist_{n:06d}",
            f"album_{n:06d}",
            path if path is not None else f"{n % 100:02d}/{n}.mp3",
            duration,
            *[t if "---" in t else f"mood/theme---{t}" for t in tags],
        ]
    )


#: TSV cases not in tests/test_jamendo.py's MALFORMED: name -> (file bytes, message fragments)
TSV_CASES = {
    "binary garbage": (np.random.default_rng(4).bytes(3000), ["not UTF-8 text"]),
    "NUL-byte garbage (valid UTF-8)": (b"\x00\x01\x02\x03" * 500, ["wrong header on line 1"]),
    "UTF-16 text": (
        (HEADER + "\n" + tsv_row(1, "happy") + "\n").encode("utf-16"),
        ["not UTF-8 text"],
    ),
    "space-separated header": (
        (HEADER.replace("\t", " ") + "\n" + tsv_row(1, "happy")).encode(),
        ["wrong header on line 1", "tab separated"],
    ),
    "extra header column": (
        (HEADER + "\tEXTRA\n" + tsv_row(1, "happy")).encode(),
        ["wrong header on line 1", "EXTRA"],
    ),
    "lower-case header": (
        (HEADER.lower() + "\n" + tsv_row(1, "happy")).encode(),
        ["wrong header on line 1"],
    ),
    "blank line between rows": (
        "\n".join([HEADER, tsv_row(1, "happy"), "", tsv_row(2, "sad")]).encode(),
        ["line 3 has 1 tab-separated field"],
    ),
    "row missing its PATH and DURATION": (
        (HEADER + "\ntrack_0000001\tartist_1\talbum_1\tmood/theme---happy\n").encode(),
        ["line 2 has 4 tab-separated field(s), at least 6 expected"],
    ),
    "duplicate id differing by spaces": (
        "\n".join([HEADER, tsv_row(1, "happy"), " " + tsv_row(1, "sad")]).encode(),
        ["duplicate TRACK_ID 'track_0000001' on line 3", "first on line 2"],
    ),
    "infinite duration": (
        (HEADER + "\n" + tsv_row(1, "happy", duration="inf")).encode(),
        ["DURATION 'inf'", "finite"],
    ),
    "empty duration": (
        (HEADER + "\n" + tsv_row(1, "happy", duration="")).encode(),
        ["DURATION ''", "not a number"],
    ),
    "backslash dotdot path": (
        (HEADER + "\n" + tsv_row(1, "happy", path="01\\..\\..\\x.mp3")).encode(),
        ["'..'"],
    ),
    "UNC absolute path": (
        (HEADER + "\n" + tsv_row(1, "happy", path="\\\\server\\share\\1.mp3")).encode(),
        ["absolute"],
    ),
    "NUL in path": (
        (HEADER + "\n" + tsv_row(1, "happy", path="01/1.mp3\x00.txt")).encode(),
        ["NUL character"],
    ),
}


@pytest.mark.parametrize("case", list(TSV_CASES))
def test_malformed_jamendo_tsv(tmp_path, case):
    content, fragments = TSV_CASES[case]
    path = tmp_path / "autotagging_moodtheme.tsv"
    path.write_bytes(content)
    with pytest.raises(MetadataError) as err:
        jamendo.read_tsv(path)
    assert err.value.path == str(path)
    for fragment in fragments:
        assert fragment in err.value.reason, (fragment, err.value.reason)


def test_jamendo_tsv_that_is_a_folder(tmp_path):
    with pytest.raises(MetadataError, match="a folder, not a metadata file"):
        jamendo.read_tsv(tmp_path)


def test_jamendo_unknown_tags(tmp_path):
    """An unknown tag is an error naming tag and line when a vocabulary is given; ``index`` keeps
    only the official tags (documented), so a track left with none is dropped, not kept untagged."""
    path = tmp_path / "meta.tsv"
    path.write_text(
        "\n".join(
            [HEADER, tsv_row(1, "happy"), tsv_row(2, "hapy"), tsv_row(3, "sad", "not-a-mood")]
        )
    )
    with pytest.raises(MetadataError, match=r"meta\.tsv: unknown tag 'hapy' on line 3"):
        jamendo.read_tsv(path, vocabulary=jamendo.MOODTHEME_TAGS)
    ix = jamendo.index(path, tmp_path, check="none")
    assert list(ix.tracks["track_id"]) == ["track_0000001", "track_0000003"]
    assert ix.classes == ("happy", "sad") and list(ix.tracks["label"]) == ["happy", "sad"]


def test_jamendo_header_only_and_empty_metadata(tmp_path):
    """A header-only file is an empty index (documented); an empty one is an error."""
    (tmp_path / "autotagging_moodtheme.tsv").write_text(HEADER + "\r\n")
    ix = jamendo.index(tmp_path / "autotagging_moodtheme.tsv", tmp_path)
    assert len(ix) == 0 and ix.classes == () and ix.problems.empty
    (tmp_path / "autotagging_moodtheme.tsv").write_bytes(b"")
    assert (
        main(["index", "jamendo", str(tmp_path), "--out", str(tmp_path / "ix"), "-q"]) == EXIT_ERROR
    )


def test_jamendo_index_reports_unsafe_missing_and_folder_paths(tmp_path):
    """At index time a symlinked folder that leads out of the root is ``unsafe``, a folder where a
    file should be is ``corrupt``, an absent file ``missing``; the good track is kept."""
    meta = tmp_path / "meta.tsv"
    meta.write_text(
        "\n".join(
            [
                HEADER,
                tsv_row(1, "happy"),
                tsv_row(2, "sad"),
                tsv_row(3, "calm"),
                tsv_row(4, "happy", path="04/4.mp3"),
            ]
        )
    )
    root = tmp_path / "audio"
    write_tone(root / "01" / "1.mp3", 1.0)  # content does not matter under check="exists"
    (root / "02" / "2.mp3").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "04").symlink_to(outside)
    ix = jamendo.index(meta, root)
    assert list(ix.tracks["track_id"]) == ["track_0000001"]
    problems = ix.problems.set_index("track_id")
    assert problems.loc["track_0000002", "problem"] == "corrupt"
    assert "not a regular file" in problems.loc["track_0000002", "reason"]
    assert problems.loc["track_0000003", "problem"] == "missing"
    assert problems.loc["track_0000004", "problem"] == "unsafe"
    assert "outside the audio root" in problems.loc["track_0000004", "reason"]


def test_jamendo_bad_split_files(tmp_path):
    """A missing or malformed official split file is an error naming that file."""
    meta = tmp_path / "autotagging_moodtheme.tsv"
    meta.write_text("\n".join([HEADER, tsv_row(1, "happy"), tsv_row(2, "sad")]))
    folder = tmp_path / "splits" / "split-0"
    folder.mkdir(parents=True)
    with pytest.raises(
        MetadataError, match=r"autotagging_moodtheme-train\.tsv: metadata file not found"
    ):
        jamendo.index(meta, tmp_path, split=0, check="none")
    (folder / "autotagging_moodtheme-train.tsv").write_text(HEADER + "\n" + tsv_row(1, "happy"))
    (folder / "autotagging_moodtheme-validation.tsv").write_bytes(
        b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    )
    (folder / "autotagging_moodtheme-test.tsv").write_text(HEADER + "\n" + tsv_row(2, "sad"))
    with pytest.raises(MetadataError) as err:
        jamendo.index(meta, tmp_path, split=0, check="none")
    assert (
        err.value.path.endswith("autotagging_moodtheme-validation.tsv")
        and "not UTF-8" in err.value.reason
    )
    (folder / "autotagging_moodtheme-validation.tsv").write_text(
        HEADER + "\n" + tsv_row(3, "calm", path="/abs.mp3")
    )
    with pytest.raises(
        MetadataError, match=r"validation\.tsv: PATH '/abs\.mp3' on line 2 is absolute"
    ):
        jamendo.index(meta, tmp_path, split=0, check="none")


#: split CSV cases: name -> (file bytes, message fragment)
SPLIT_CASES = {
    "empty file": (b"", "empty file"),
    "binary garbage": (np.random.default_rng(5).bytes(2000), "not UTF-8"),
    "missing part column": (b"track_id,fold\na,train\n", "needs columns track_id and part"),
    "missing track_id column": (b"id,part\na,train\n", "needs columns track_id and part"),
    "header only": (b"track_id,part\n", "lists no track"),
    "GTZAN list part name 'valid'": (
        b"track_id,part\na,train\nb,valid\n",
        "unknown part name(s) ['valid']",
    ),
    "capitalised part name": (b"track_id,part\na,Train\n", "unknown part name(s) ['Train']"),
    "empty part": (b"track_id,part\na,\n", "unknown part name(s) ['']"),
    "track in two parts": (
        b"track_id,part\na,train\nb,test\na,test\n",
        "track 'a' is listed 2 times (parts ['test', 'train'])",
    ),
    "frame row twice": (
        b"row,track_id,part\n0,a,train\n1,a,train\n1,a,test\n",
        "row 1 is listed 2 times",
    ),
}


@pytest.mark.parametrize("case", list(SPLIT_CASES))
def test_malformed_split_csv(tmp_path, case):
    content, fragment = SPLIT_CASES[case]
    path = tmp_path / "song.csv"
    path.write_bytes(content)
    with pytest.raises(MetadataError) as err:
        splits.load(path)
    assert err.value.path == str(path) and fragment in err.value.reason, err.value.reason


def test_a_frame_split_may_repeat_tracks(tmp_path):
    """What a frame split legitimately repeats (one track's frames in several rows) is kept."""
    path = tmp_path / "seed-frame.csv"
    path.write_text("row,track_id,part\n0,a,train\n1,a,test\n2,b,validation\n")
    assert len(splits.load(path)) == 3


GOOD_META = {"classes": ["blues", "jazz"], "multilabel": False, "dataset": "gtzan", "root": "/data"}
GOOD_TRACKS = (
    "track_id,path,label,duration,artist\n"
    "blues.00000,/data/b.wav,blues,30.0,\njazz.00000,/data/j.wav,jazz,30.0,\n"
)

#: index-folder cases: name -> (tracks.csv bytes, tracks.json text, problems.csv bytes or None, file, fragment)
INDEX_CASES = {
    "tracks.csv lacks columns": (
        b"track_id,path,label\nblues.00000,/b.wav,blues\n",
        None,
        None,
        "tracks.csv",
        "header lacks column(s) ['duration', 'artist']",
    ),
    "duplicate track ids": (
        GOOD_TRACKS.encode() + b"blues.00000,/data/c.wav,blues,30.0,\n",
        None,
        None,
        "tracks.csv",
        "duplicate track_id 'blues.00000' (lines 2 and 4)",
    ),
    "empty track id": (
        GOOD_TRACKS.replace("jazz.00000", "").encode(),
        None,
        None,
        "tracks.csv",
        "empty track_id on line 3",
    ),
    "label not in classes": (
        GOOD_TRACKS.replace("jazz,30", "rock,30").encode(),
        None,
        None,
        "tracks.csv",
        "label 'rock' on line 3 (track 'jazz.00000') is not one of the 2 classes",
    ),
    "empty single label": (
        GOOD_TRACKS.replace("jazz,30", ",30").encode(),
        None,
        None,
        "tracks.csv",
        "empty label on line 3",
    ),
    "non-numeric duration": (
        GOOD_TRACKS.replace("30.0,\njazz", "half a minute,\njazz").encode(),
        None,
        None,
        "tracks.csv",
        "duration 'half a minute' on line 2 is not a number",
    ),
    "empty tracks.csv": (b"", None, None, "tracks.csv", "empty file"),
    "binary tracks.csv": (
        np.random.default_rng(6).bytes(3000),
        None,
        None,
        "tracks.csv",
        "not UTF-8",
    ),
    "tracks.json is a list": (None, "[1, 2]", None, "tracks.json", "expected a JSON object"),
    "tracks.json lacks classes": (
        None,
        json.dumps({"multilabel": False}),
        None,
        "tracks.json",
        "lacks key(s) ['classes']",
    ),
    "classes is a string": (
        None,
        json.dumps({**GOOD_META, "classes": "blues"}),
        None,
        "tracks.json",
        "'classes' must be a list",
    ),
    "tracks.json not UTF-8": (None, b"\xff\xfe{".decode("latin-1"), None, "tracks.json", "not"),
    "binary problems.csv": (
        None,
        None,
        np.random.default_rng(7).bytes(500),
        "problems.csv",
        "not UTF-8",
    ),
}


@pytest.mark.parametrize("case", list(INDEX_CASES))
def test_malformed_index_folder(tmp_path, capsys, case):
    """TrackIndex.load, and ``musiclass extract`` on the folder: a MetadataError naming the file,
    printed as one ``error:`` line with exit status 1, never a traceback."""
    tracks, meta, problems, name, fragment = INDEX_CASES[case]
    folder = tmp_path / "index"
    folder.mkdir()
    (folder / "tracks.csv").write_bytes(GOOD_TRACKS.encode() if tracks is None else tracks)
    if meta is None:
        (folder / "tracks.json").write_text(json.dumps(GOOD_META))
    else:
        (folder / "tracks.json").write_bytes(meta.encode("latin-1"))
    if problems is not None:
        (folder / "problems.csv").write_bytes(problems)
    with pytest.raises(MetadataError) as err:
        TrackIndex.load(folder)
    assert err.value.path == str(folder / name) and fragment in err.value.reason, err.value.reason
    assert main(["extract", str(folder), "--out", str(tmp_path / "store"), "-q"]) == EXIT_ERROR
    stderr = capsys.readouterr().err
    assert stderr.startswith(f"error: {folder / name}: ") and "Traceback" not in stderr


def test_good_index_folder_still_loads(tmp_path):
    """The checks above leave a well-formed folder alone: same tracks, dtypes and metadata."""
    folder = tmp_path / "index"
    folder.mkdir()
    (folder / "tracks.csv").write_text(GOOD_TRACKS)
    (folder / "tracks.json").write_text(json.dumps(GOOD_META))
    ix = TrackIndex.load(folder)
    assert list(ix.tracks["track_id"]) == ["blues.00000", "jazz.00000"] and ix.classes == (
        "blues",
        "jazz",
    )
    assert ix.tracks["duration"].dtype == float and ix.problems.empty and ix.dataset == "gtzan"


@pytest.mark.parametrize(
    "make,fragment",
    [
        (lambda p: p / "does-not-exist", "does not exist or is not a folder"),
        (
            lambda p: (p / "a-file.txt", (p / "a-file.txt").write_text("x"))[0],
            "does not exist or is not a folder",
        ),
        (
            lambda p: (p / "music", (p / "music" / "Blues").mkdir(parents=True))[0],
            "no GTZAN genre folder",
        ),
    ],
)
def test_bad_gtzan_roots(tmp_path, capsys, make, fragment):
    """A missing root, a file, or a tree without genre folders (``Blues`` is not ``blues``):
    a DatasetError naming the root; on the command line one error line and exit status 1."""
    root = make(tmp_path)
    with pytest.raises(DatasetError) as err:
        gtzan.index(root)
    assert str(root) in str(err.value) and fragment in str(err.value)
    assert main(["index", "gtzan", str(root), "--out", str(tmp_path / "ix"), "-q"]) == EXIT_ERROR
    assert capsys.readouterr().err.startswith("error: ")
    assert not (tmp_path / "ix").exists(), "nothing is written for a root that cannot be indexed"


@pytest.mark.parametrize(
    "content,fragment",
    [
        (b"", "cannot parse as CSV"),
        (b"\xff\xfe\x00\x01" * 64, "cannot parse as CSV"),
        (b"id,who\nblues.00000,x\n", "lacks column(s)"),
    ],
)
def test_bad_gtzan_artists_file(tmp_path, content, fragment):
    write_tone(tmp_path / "genres" / "blues" / "blues.00000.wav", 1.0)
    (tmp_path / "artists.csv").write_bytes(content)
    with pytest.raises(MetadataError) as err:
        gtzan.index(tmp_path, min_duration=0.5)
    assert err.value.path == str(tmp_path / "artists.csv") and fragment in err.value.reason
