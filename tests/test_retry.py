"""Transient failures (disk full, out of memory, I/O) are retried by the next run; permanent ones
(the file's content) are not, until the file changes.

The full disk is injected deterministically: ``np.save`` of one track's chunk writes part of the
file and raises what NumPy raises on a short write (``OSError: N requested and M written``, no
errno), or ``ENOSPC``. The rerun, with the disk "freed", must give the store an uninterrupted run
gives, byte for byte (every file; a store holds no timestamp of its own: ``fingerprints.csv``
holds the audio files' mtimes, the same in both runs).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from musiclass.cli import EXIT_OK, EXIT_PARTIAL, main
from musiclass.config import frontend_preset
from musiclass.errors import AudioError
from musiclass.features import extract as extract_mod
from musiclass.features import worker
from musiclass.features.extract import extract
from musiclass.features.worker import PERMANENT, TRANSIENT, describe_failure, is_disk_full

from .conftest import tone_index, write_tone

TINY = frontend_preset(
    "genre",
    "default",
    n_mels=32,
    frame_seconds=1.0,
    hop_seconds=0.5,
    representations=("mel",),
    handcrafted=False,
)


def store_bytes(path: Path) -> dict[str, bytes]:
    """Every file of a store, by relative path."""
    return {
        str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()
    }


@pytest.fixture
def small(tmp_path):
    return tone_index(tmp_path / "audio", seconds=3.0)  # 6 tracks of 3 s


def _full_disk_on(monkeypatch, track: str, error: OSError) -> list[str]:
    """Make np.save fail on ``track``'s mel chunk as a full disk does: part written, then ``error``."""
    real, hits = np.save, []

    def save(file, arr, *args, **kwargs):
        if isinstance(file, (str, os.PathLike)) and Path(file).name.startswith(f".{track}.npy."):
            hits.append(track)
            Path(file).write_bytes(b"\x93NUMPY" + b"\0" * 100)  # the part that fitted
            raise error
        return real(file, arr, *args, **kwargs)

    monkeypatch.setattr(np, "save", save)
    return hits


@pytest.mark.parametrize(
    "error",
    [
        OSError("316160 requested and 41952 written"),  # numpy's short write: no errno
        OSError(errno.ENOSPC, "No space left on device"),
    ],
    ids=["short-write", "ENOSPC"],
)
def test_disk_full_stops_the_run_and_the_rerun_completes_it_byte_for_byte(
    small, tmp_path, monkeypatch, capsys, error
):
    clean = store_bytes(extract(small, TINY, tmp_path / "clean", progress=False).store.path)
    small.save(tmp_path / "index")
    args = ["extract", str(tmp_path / "index"), "--out", str(tmp_path / "s"), "-j", "1", "-q"]
    args += ["--set", "n_mels=32", "--set", "frame_seconds=1.0", "--set", "hop_seconds=0.5"]
    args += ["--set", "representations=[mel]", "--set", "handcrafted=false"]
    for module in (worker, extract_mod):  # what disk_usage would say on the full disk
        monkeypatch.setattr(module, "free_space", lambda folder: 4096)

    hits = _full_disk_on(monkeypatch, "classical.00000", error)
    assert main(args) == EXIT_PARTIAL
    first = capsys.readouterr().out
    assert hits == ["classical.00000"], "the run stops at the first full disk"
    failures = pd.read_csv(tmp_path / "s" / "failures.csv", keep_default_na=False)
    assert set(failures["kind"]) == {TRANSIENT}
    assert failures["track_id"].tolist() == [
        "classical.00000",
        "classical.00001",
        "country.00000",
        "country.00001",
    ]
    reason = failures["reason"].iloc[0]
    assert reason.startswith("disk full") and "4.0 KiB free" in reason
    assert "this track's chunks need" in reason and "requested and" not in reason
    assert set(failures["reason"].iloc[1:]) == {extract_mod.NOT_ATTEMPTED}
    assert "disk full: 4.0 KiB free" in first and "the 4 missing track(s) need about" in first
    assert [p.name for p in (tmp_path / "s").rglob("*") if ".tmp" in p.name] == []

    monkeypatch.undo()  # the disk is freed
    assert main(args) == EXIT_OK
    second = capsys.readouterr().out
    assert "extracted 4 track(s) (4 retried after a transient failure), reused 2" in second
    assert store_bytes(tmp_path / "s") == clean
    assert main(args) == EXIT_OK and "up to date" in capsys.readouterr().out


def test_transient_failures_are_retried_and_permanent_ones_only_when_the_file_changes(
    tmp_path, monkeypatch
):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "corrupt.wav").write_bytes(os.urandom(4096))
    index = tone_index(
        tmp_path / "audio", per_genre=1, seconds=3.0, extra={"corrupt": bad / "corrupt.wav"}
    )
    real, calls = extract_mod.process_track, []

    def counting(track_id, *args):
        calls.append(track_id)
        return real(track_id, *args)

    # the worker turns a MemoryError anywhere in the track's work into a transient failure
    monkeypatch.setattr(worker.audio, "load", _raising_load(worker.audio.load, "blues.00000"))
    first = extract(index, TINY, tmp_path / "s", progress=False)
    kinds = dict(zip(first.failures["track_id"], first.failures["kind"]))
    assert kinds == {"blues.00000": TRANSIENT, "corrupt": PERMANENT}
    oom = first.failures.set_index("track_id").loc["blues.00000", "reason"]
    assert oom.startswith("out of memory") and "Unable to allocate 2.00 GiB" in oom
    monkeypatch.undo()

    monkeypatch.setattr(extract_mod, "process_track", counting)
    second = extract(index, TINY, tmp_path / "s", progress=False)
    assert calls == ["blues.00000"], "only the transient failure is tried again"
    assert (second.computed, second.retried, second.failed) == (1, 1, 1)
    assert second.failures["track_id"].tolist() == ["corrupt"]

    calls.clear()
    third = extract(index, TINY, tmp_path / "s", progress=False)
    assert third.up_to_date and calls == [] and third.failed == 1, "still missing: exit 3"
    assert "not retried until the file changes" in third.summary()

    write_tone(bad / "corrupt.wav", 3.0, seed=7)  # the user replaces the file
    fourth = extract(index, TINY, tmp_path / "s", progress=False)
    assert calls == ["corrupt"] and (fourth.changed, fourth.failed) == (1, 0)
    assert fourth.store.manifest["n_tracks"] == 4

    calls.clear()
    forced = extract(index, TINY, tmp_path / "s", progress=False, force=True)
    assert sorted(calls) == sorted(index.tracks["track_id"]) and forced.computed == 4


def _raising_load(real, track: str):
    def load(path, *args, **kwargs):
        if Path(path).stem == track:
            raise MemoryError("Unable to allocate 2.00 GiB for an array with shape (1, 2)")
        return real(path, *args, **kwargs)

    return load


def _raise_from(outer: Exception, inner: BaseException) -> Exception:
    """``outer`` raised while handling ``inner`` (``raise outer from None`` keeps the context)."""
    try:
        try:
            raise inner
        except BaseException:
            raise outer from None
    except Exception as exc:  # noqa: BLE001 - returned for inspection
        return exc


@pytest.mark.parametrize(
    ("error", "kind", "words"),
    [
        (OSError("316160 requested and 41952 written"), TRANSIENT, "disk full"),
        (OSError(errno.EDQUOT, "Disk quota exceeded"), TRANSIENT, "disk full"),
        (MemoryError(), TRANSIENT, "out of memory"),
        (OSError(errno.EIO, "Input/output error", "/data/x.wav"), TRANSIENT, "Input/output error"),
        (
            _raise_from(AudioError("x.wav", "file too large to decode in memory"), MemoryError()),
            TRANSIENT,
            "out of memory",
        ),
        (
            _raise_from(AudioError("x.wav", "cannot read"), OSError(errno.ESTALE, "Stale handle")),
            TRANSIENT,
            "retried on the next run",
        ),
        (AudioError("x.wav", "cannot decode audio (permission denied: ...)"), TRANSIENT, "retried"),
        (AudioError("x.wav", "silent (peak below -80 dBFS)"), PERMANENT, "silent"),
        (AudioError("x.wav", "file not found"), PERMANENT, "file not found"),
        (
            _raise_from(AudioError("x.wav", "file not found"), FileNotFoundError(errno.ENOENT, "")),
            PERMANENT,
            "not found",
        ),
        (ValueError("bad frame"), PERMANENT, "unexpected ValueError: bad frame"),
    ],
)
def test_failures_are_classified_transient_or_permanent(error, kind, words):
    reason, got = describe_failure(error)
    assert got == kind and words in reason


def test_disk_full_reason_says_what_is_needed_and_what_is_free(tmp_path, monkeypatch):
    monkeypatch.setattr(worker.shutil, "disk_usage", lambda p: _usage(3 << 20))
    reason, kind = describe_failure(
        OSError(errno.ENOSPC, "No space left on device"), store=tmp_path, needed=5 << 20
    )
    assert kind == TRANSIENT
    assert reason.startswith("disk full (this track's chunks need 5.0 MiB, 3.0 MiB free")
    assert is_disk_full(_raise_from(RuntimeError("wrapped"), OSError(errno.ENOSPC, "full")))
    assert not is_disk_full(OSError(errno.EIO, "io"))


def _usage(free: int):
    from collections import namedtuple

    return namedtuple("usage", "total used free")(10 * free, 9 * free, free)
