"""Cache modes of the training frames (``TrainConfig.cache``): device, memory and stream serve the
same batches in the same seeded order, so a deterministic run gives the same weights in each;
``auto``'s choice; the store reader behind ``stream``; the GPU benchmark's no-GPU exit."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from musiclass.errors import ConfigError, MetadataError
from musiclass.training import train, train_preset
from musiclass.training.batches import (
    DEVICE_FRACTION,
    MEMORY_FRACTION,
    FrameFeed,
    StoreReader,
    choose_cache,
    epoch_order,
    frame_feed,
)

from . import test_determinism as det

#: the tone clips and tiny store of the determinism tests (mel frames, a song split beside it)
tones, store = det.tones, det.store
#: their deterministic CNN-3 (2 epochs, batches of 16) and a model directory's weights
cnn, weights = det.cnn, det.weights

REPO = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------------------ same weights
@pytest.mark.slow
def test_every_cache_mode_trains_the_same_weights(store, tmp_path):
    """device, memory and stream end with the same weights bit for bit and the same history byte
    for byte (a deterministic run); each model directory records its mode.
    (A resumed run equals an uninterrupted one: test_determinism, under the default cache.)"""
    split = store.path.parent / "song.csv"
    runs = {
        mode: train(store, split, cnn(cache=mode), tmp_path / mode, progress=False, n_boot=20)
        for mode in ("memory", "stream", "device")
    }
    reference = weights(runs["memory"].model_dir)
    for mode, run in runs.items():
        assert run.metrics["execution"]["cache"]["mode"] == mode
        assert run.metrics["execution"]["cache"]["asked"] == mode
        w = weights(run.model_dir)
        assert len(w) == len(reference)
        unequal = [i for i, (a, b) in enumerate(zip(w, reference)) if not np.array_equal(a, b)]
        assert not unequal, f"{mode}: weight arrays {unequal} differ from memory's"
        assert (run.model_dir / "history.csv").read_bytes() == (
            runs["memory"].model_dir / "history.csv"
        ).read_bytes(), mode
    assert runs["memory"].history["epoch"].tolist() == [0, 1]


# ------------------------------------------------------------------------------ the batches
def test_each_mode_serves_the_stored_frames_in_the_seeded_order(store):
    """Epoch k's training batches are epoch_order(n, True, seed, epoch) cut in order (frames,
    targets, sample weights); validation batches are the rows in order; the device feed serves
    positions whose frames are the same."""
    import tensorflow as tf

    array = store.array("mel")
    n_rows = array.shape[0]
    rng = np.random.default_rng(0)
    train_rows = rng.integers(0, n_rows, size=30)  # repeats, as upsampling makes
    val_rows = np.arange(0, n_rows, 3)
    train_y = (train_rows % 3).astype(np.int32)
    val_y = (val_rows % 3).astype(np.int32)
    w = rng.uniform(0.5, 2, size=30).astype(np.float32)
    for mode in ("memory", "stream", "device"):
        feed = FrameFeed(mode, array, train_rows, train_y, val_rows, val_y, 8, seed=5, weights=w)
        assert len(feed) == 4
        feed.epoch = 3
        order = epoch_order(30, True, 5, 3)
        got = list(feed.train.as_numpy_iterator())
        assert [len(b[0]) for b in got] == [8, 8, 8, 6]
        for i, (x, y, wb) in enumerate(got):
            sel = order[i * 8 : (i + 1) * 8]
            if mode == "device":  # positions into the loaded frames
                frames = tf.gather(tf.convert_to_tensor(feed._frames), x).numpy()
            else:
                frames = x
            assert frames.dtype == np.float32
            np.testing.assert_array_equal(frames, array.rows(train_rows[sel]))
            np.testing.assert_array_equal(y, train_y[sel])
            np.testing.assert_array_equal(wb, w[sel])
        feed.epoch = 4  # a new epoch, a new order
        again = np.concatenate([b[1] for b in feed.train.as_numpy_iterator()])
        np.testing.assert_array_equal(again, train_y[epoch_order(30, True, 5, 4)])
        vx = np.concatenate([b[0] for b in feed.validation.as_numpy_iterator()])
        if mode != "device":
            np.testing.assert_array_equal(vx, array.rows(val_rows))
        assert feed.nbytes == (
            0
            if mode == "stream"
            else len(np.unique(np.r_[train_rows, val_rows])) * array.rows([0]).nbytes
        )
        feed.close()


def test_store_reader_reads_what_the_memory_map_holds_and_names_a_damaged_chunk(store, tmp_path):
    array = store.array("mel")
    rows = np.random.default_rng(1).integers(0, array.shape[0], size=50)
    reader = StoreReader(array, max_open=3)  # fewer than the chunks: files are closed and reopened
    np.testing.assert_array_equal(reader.rows(rows), array.rows(rows))
    np.testing.assert_array_equal(reader.rows(np.arange(array.shape[0])), np.asarray(array))
    assert len(reader._fds) <= 3
    with pytest.raises(IndexError):
        reader.rows([array.shape[0]])
    reader.close()

    copy = tmp_path / "store"
    shutil.copytree(store.path, copy)
    from musiclass.features.store import FeatureStore

    damaged = FeatureStore(copy).array("mel")
    first = damaged.folder / damaged.files[0]
    first.write_bytes(first.read_bytes()[:-100])  # truncated: its last frame is short
    with pytest.raises(MetadataError, match="truncated") as err:
        StoreReader(damaged).rows([damaged.offsets[1] - 1])
    assert str(first) in str(err.value)
    np.save(first, np.zeros((2, 3), np.float32))  # another shape
    with pytest.raises(MetadataError, match="manifest says"):
        StoreReader(damaged).rows([0])
    first.unlink()
    with pytest.raises(MetadataError, match="missing"):
        StoreReader(damaged).rows([0])


def test_store_reader_reads_from_several_threads_while_files_are_evicted(store):
    """Reads run outside the reader's lock: 4 threads reading random rows through a reader that
    may keep only 2 files open (so files are evicted while other threads read) each get exactly
    what the memory map holds, and every file is closed at the end."""
    from concurrent.futures import ThreadPoolExecutor

    array = store.array("mel")
    reader = StoreReader(array, max_open=2)
    asks = [np.random.default_rng(i).integers(0, array.shape[0], size=40) for i in range(48)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(reader.rows, asks))
    for rows, x in zip(asks, got):
        np.testing.assert_array_equal(x, array.rows(rows))
    assert len(reader._fds) <= 2 and not reader._evicted and reader._reading == 0
    reader.close()
    assert not reader._fds and not reader._evicted


def test_batches_reach_tensorflow_aligned_and_unchanged():
    """The arrays the feeds hand over start on 64-byte boundaries (TensorFlow takes those over
    without a copy, and aborts the process on an unaligned one); an unaligned array is copied."""
    from musiclass.training.batches import TENSOR_ALIGNMENT, aligned_empty, as_tensor

    for shape in [(3, 5, 7), (1,), (0, 4)]:
        a = aligned_empty(shape, np.float32)
        assert a.shape == shape and a.dtype == np.float32 and a.flags.c_contiguous
        assert a.size == 0 or a.ctypes.data % TENSOR_ALIGNMENT == 0  # (an empty one has no data)
    a = aligned_empty((16, 8), np.float32)
    a[...] = np.arange(128, dtype=np.float32).reshape(16, 8)
    np.testing.assert_array_equal(as_tensor(a).numpy(), a)
    raw = np.arange(130, dtype=np.float32)
    unaligned = raw[1:129] if raw[1:].ctypes.data % TENSOR_ALIGNMENT else raw[2:130]
    assert unaligned.ctypes.data % TENSOR_ALIGNMENT
    np.testing.assert_array_equal(as_tensor(unaligned).numpy(), unaligned)
    y = np.array([3, 1, 2], dtype=np.int32)  # a small array: numpy aligns it to 16 bytes only
    np.testing.assert_array_equal(as_tensor(y).numpy(), y)


# ------------------------------------------------------------------------------ choosing a mode
def test_auto_picks_device_then_memory_then_stream():
    gib = 2**30
    pick = lambda n, dev, ram, strategy="default": choose_cache(  # noqa: E731
        "auto", n, device_bytes=dev, ram_bytes=ram, strategy=strategy
    )[0]
    assert pick(gib, 80 * gib, 64 * gib) == "device"
    # the fractions are the bounds, inclusive
    assert pick(int(DEVICE_FRACTION * 8 * gib), 8 * gib, 64 * gib) == "device"
    assert pick(int(DEVICE_FRACTION * 8 * gib) + 1, 8 * gib, 64 * gib) == "memory"
    assert pick(gib, None, 64 * gib) == "memory"  # no accelerator (CPU only)
    assert pick(gib, 80 * gib, 64 * gib, "mirrored") == "memory"
    assert pick(int(MEMORY_FRACTION * 4 * gib), None, 4 * gib) == "memory"
    assert pick(int(MEMORY_FRACTION * 4 * gib) + 1, None, 4 * gib) == "stream"
    assert pick(3 * gib, 80 * gib, 4 * gib) == "stream"  # fits the GPU, not the RAM it passes
    mode, reason = choose_cache("stream", gib, device_bytes=80 * gib, ram_bytes=64 * gib)
    assert mode == "stream" and "asked" in reason
    with pytest.raises(ConfigError, match="one device"):
        choose_cache("device", gib, device_bytes=None, ram_bytes=gib, strategy="mirrored")


def test_auto_on_this_cpu_machine_never_picks_device(store):
    array = store.array("mel")
    rows = np.arange(array.shape[0])
    y = np.zeros(len(rows), np.int32)
    feed, record = frame_feed(array, rows, y, rows[:4], y[:4], cnn(cache="auto"))
    assert record["asked"] == "auto" and record["mode"] == feed.mode
    assert feed.mode == "memory", record  # a few KiB: fits any RAM; no GPU here
    feed.close()


def test_cache_is_validated_and_not_part_of_the_model_key():
    with pytest.raises(ConfigError, match="cache must be one of"):
        train_preset("default", cache="gpu")
    with pytest.raises(ConfigError, match="cache"):
        train_preset("default", cache=3)
    assert cnn(cache="device").hash() == cnn(cache="stream").hash() == cnn().hash()
    assert cnn(cache="stream").to_dict()["cache"] == "stream"


def test_train_command_takes_cache(capsys):
    from musiclass.cli import build_parser

    args = build_parser().parse_args(["train", "store", "--out", "m", "--cache", "stream"])
    assert args.cache == "stream"
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["train", "store", "--out", "m", "--cache", "gpu"])
    assert exc.value.code == 2 and "invalid choice" in capsys.readouterr().err


# ------------------------------------------------------------------------------ GPU benchmark
def test_gpu_bench_exits_2_with_one_line_without_a_gpu():
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "gpu_bench.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr[-2000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gpu_bench: no GPU"), done.stderr
