#!/usr/bin/env python
"""Training benchmark: the input pipeline must never be what training waits for, and memory must
not grow with the data set.

Measured, each in its own process so peak memory is its own:

1. **input pipeline alone**: shuffled batches of 128 mel frames (128x130) gathered from the
   store, in batches/s: by the ``PyDataset`` training used before the cache modes
   (``frame_batches``, memory-mapped chunks) and by the ``FrameFeed`` of each cache mode
   (``stream``: read from the store; ``memory``: from RAM; ``device``: positions, the frames
   gathered from a tensor with ``tf.gather`` -- on this CPU machine the "device" is the CPU);
   stream must be at least 4x the PyDataset;
2. **CNN-7 training steps** on CPU fed by the stream feed (``model.fit``), in batches/s;
   ratio 1/2 must be at least 10;
3. **peak RSS of one training epoch** on a store of N frames and of 8N frames, with the PyDataset
   and with the stream feed (growth at most 15 %). This stage trains a minimal model (the mean of
   each frame's rows into one dense layer): what is measured is the memory of serving every batch
   of an epoch, and CNN-7's 1-2 s CPU steps would make it the bench's longest stage by far
   (about 40 minutes for the four epochs) without changing what it measures.

The stores hold random frames (the content does not matter for speed) written with the store's
own writer, so they have the real on-disk layout: one ``.npy`` chunk per track of 19 frames.
On a GPU machine add ``--gpu``: CNN-7 samples/s with mixed precision and XLA, with the GPU's name, and the
time of one epoch of experiment 2's 15,200 training frames (``--strategy mirrored``: over every GPU).

    python benchmarks/train_bench.py                      # 200 tracks (3,800 frames) and 8x that
    python benchmarks/train_bench.py --tracks 50 --json b.json   # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FRAMES_PER_TRACK = 19
SHAPE = (128, 130)
BATCH = 128
#: the PyDataset training used before the cache modes, and the FrameFeed of each mode
MODES = ("pydataset", "stream", "memory", "device")


def make_store(path: Path, n_tracks: int, seed: int = 0) -> Path:
    """A mel-only store of ``n_tracks`` x 19 random frames in the real layout."""
    import numpy as np
    import pandas as pd

    from musiclass.config import frontend_preset
    from musiclass.datasets.base import TrackIndex
    from musiclass.features import store as st

    config = frontend_preset("genre", "default", representations=("mel",), handcrafted=False)
    genres = [f"g{i}" for i in range(10)]
    ids = [f"{genres[i % 10]}.{i:05d}" for i in range(n_tracks)]
    tracks = pd.DataFrame(
        {
            "track_id": ids,
            "path": [f"/none/{t}.wav" for t in ids],
            "label": [t.split(".")[0] for t in ids],
            "duration": 30.0,
            "artist": "",
        }
    )
    index = TrackIndex(tracks, tuple(genres), dataset="bench", root="/none")
    rng = np.random.default_rng(seed)
    st.begin(path, config, force=True)
    starts = np.arange(FRAMES_PER_TRACK) * 1.486
    for t in ids:
        x = rng.uniform(-80, 0, size=(FRAMES_PER_TRACK, *SHAPE)).astype(np.float32)
        st.save_track(path, t, {"mel": x}, starts, np.ones(FRAMES_PER_TRACK), None, "float32")
    empty = pd.DataFrame(columns=["track_id", "path", "reason"])
    st.finalize(path, index, config, ids, empty)
    return path


def _batches(store_path: str, seed: int = 0):
    import numpy as np

    from musiclass.features.store import FeatureStore
    from musiclass.training import frame_batches

    store = FeatureStore(store_path)
    rows = np.arange(store.manifest["n_rows"])
    y = np.arange(len(rows)) % 10
    return frame_batches(store.array("mel"), rows, y, BATCH, shuffle=True, seed=seed)


def _feed(store_path: str, mode: str, seed: int = 0):
    """The cache mode's ``FrameFeed`` of every row of the store (validation: the first batch)."""
    import numpy as np

    from musiclass.features.store import FeatureStore
    from musiclass.training.batches import FrameFeed

    store = FeatureStore(store_path)
    rows = np.arange(store.manifest["n_rows"])
    y = (np.arange(len(rows)) % 10).astype(np.int32)
    return FrameFeed(mode, store.array("mel"), rows, y, rows[:BATCH], y[:BATCH], BATCH, seed=seed)


def child_pipeline(store_path: str, epochs: int, mode: str = "pydataset") -> dict:
    """Batches/s of one way of serving the training batches: ``epochs`` epochs after one untimed
    (start-up: threads, tracing, the page cache)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if mode == "pydataset":
        seq = _batches(store_path)
        for i in range(len(seq)):
            seq[i]
        n = 0
        t0 = time.perf_counter()
        for _ in range(epochs):
            seq.on_epoch_begin()
            for i in range(len(seq)):
                x, y = seq[i]
                n += 1
            seq.on_epoch_end()
        dt = time.perf_counter() - t0
        return {"batches_per_s": n / dt, "batches": n, "load_s": 0.0}
    import tensorflow as tf

    t = time.perf_counter()
    feed = _feed(store_path, mode)
    frames = tf.convert_to_tensor(feed._frames) if mode == "device" else None
    load = time.perf_counter() - t

    # each batch taken as model.fit takes it: next(iterator) inside a compiled step (a Python
    # loop over the dataset would time eager iteration, about 1 ms a batch, instead)
    @tf.function
    def step(iterator):
        x, _y = next(iterator)
        if frames is not None:  # what the train step does on the device
            x = tf.gather(frames, x)
        return tf.reduce_sum(x[:, 0, 0])

    def epoch() -> int:
        iterator = iter(feed.train)
        for _ in range(len(feed)):
            step(iterator)
        return len(feed)

    epoch()
    n = 0
    t0 = time.perf_counter()
    for e in range(epochs):
        feed.epoch = e + 2
        n += epoch()
    dt = time.perf_counter() - t0
    return {"batches_per_s": n / dt, "batches": n, "load_s": load}


def child_train(
    store_path: str,
    steps: int | None,
    gpu: bool = False,
    strategy: str = "default",
    mode: str = "pydataset",
    model_name: str = "cnn-7",
) -> dict:
    """CNN-7 training throughput; ``gpu``: with mixed precision (float16) and XLA, through the same
    ``musiclass.training.execution`` that ``train`` uses (``strategy="mirrored"``: every GPU);
    ``mode``: the PyDataset or a cache mode's feed; ``model_name="minimal"``: a frame-mean and one
    dense layer (the memory stage)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    from musiclass.models import build_model
    from musiclass.training import execution, train_preset

    if gpu:
        import tensorflow as tf

        if not tf.config.list_physical_devices("GPU"):
            sys.exit("--gpu: TensorFlow sees no GPU on this machine")
    cfg = train_preset(
        "default",
        model="cnn-7",
        strategy=strategy,
        precision="mixed_float16" if gpu else "float32",
        xla=True if gpu else "auto",
    )
    feed = None if mode == "pydataset" else _feed(store_path, mode)
    seq = _batches(store_path) if feed is None else feed.train
    n_batches = len(seq) if feed is None else len(feed)
    with execution(cfg) as run_on:
        if model_name == "minimal":
            inputs = keras.Input(SHAPE)
            outputs = keras.layers.Dense(10, activation="softmax")(
                keras.layers.GlobalAveragePooling1D()(inputs)
            )
            model = keras.Model(inputs, outputs)
        else:
            model = build_model(model_name, SHAPE, 10, bn_momentum=0.9)
        model.compile(
            keras.optimizers.Adam(1e-3),
            "sparse_categorical_crossentropy",
            metrics=["accuracy"],
            jit_compile=cfg.xla,
        )
        if feed is not None:
            feed.prepare(model)
            # a dataset's steps run to its end: the timed epoch is a whole one (or a repeat)
            seq = seq.repeat()
        warm = min(5, n_batches)
        model.fit(seq, epochs=1, steps_per_epoch=warm, verbose=0)  # compile, first batches
        n = steps or n_batches
        t0 = time.perf_counter()
        model.fit(seq, epochs=1, steps_per_epoch=n, verbose=0)
        dt = time.perf_counter() - t0
    out = {
        "batches_per_s": n / dt,
        "samples_per_s": n * BATCH / dt,
        "batches": n,
        "seconds": dt,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "execution": run_on,
        "mode": mode,
    }
    if gpu:
        import tensorflow as tf

        out["gpu"] = [
            tf.config.experimental.get_device_details(d).get("device_name", d.name)
            for d in tf.config.list_physical_devices("GPU")
        ]
    return out


def run_child(*args: str) -> dict:
    res = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True
    )
    if res.returncode:
        sys.exit(f"child {args} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--tracks", type=int, default=200, help="tracks of the 1x store (19 frames each)"
    )
    p.add_argument("--scale", type=int, default=8, help="size of the large store, in multiples")
    p.add_argument(
        "--steps", type=int, default=15, help="training steps timed for the throughput ratio"
    )
    p.add_argument(
        "--gpu",
        action="store_true",
        help="also time CNN-7 with mixed precision and XLA on the GPU: "
        "one epoch of experiment 2's 15,200 training frames",
    )
    p.add_argument(
        "--strategy",
        choices=("default", "mirrored"),
        default="default",
        help="with --gpu: mirrored spreads each batch over every GPU",
    )
    p.add_argument("--json", help="write the figures to this file")
    p.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        kind, store, extra = args.child[0], args.child[1], args.child[2:]
        if kind == "pipeline":
            print(json.dumps(child_pipeline(store, int(extra[0]), extra[1])))
        elif kind == "train":
            steps = int(extra[0]) if extra and extra[0] != "epoch" else None
            modes = [m for m in extra[1:] if m in MODES]
            print(
                json.dumps(
                    child_train(
                        store,
                        steps,
                        gpu="gpu" in extra[1:],
                        strategy="mirrored" if "mirrored" in extra[1:] else "default",
                        mode=modes[0] if modes else "pydataset",
                        model_name="minimal" if "minimal" in extra[1:] else "cnn-7",
                    )
                )
            )
        return

    tmp = Path(tempfile.mkdtemp(prefix="musiclass-train-bench-"))
    try:
        t = time.perf_counter()
        small = make_store(tmp / "x1", args.tracks)
        large = make_store(tmp / f"x{args.scale}", args.tracks * args.scale, seed=1)
        print(
            f"stores: {args.tracks} and {args.tracks * args.scale} tracks ({args.tracks * 19} and "
            f"{args.tracks * args.scale * 19} frames) written in {time.perf_counter() - t:.0f} s"
        )
        pipes = {m: run_child("pipeline", str(small), "3", m) for m in MODES}
        base = pipes["pydataset"]["batches_per_s"]
        print(
            f"input pipeline alone ({pipes['stream']['batches']} batches of {BATCH}, 3 epochs "
            "after one untimed):"
        )
        for m, r in pipes.items():
            load = f", loaded in {r['load_s']:.1f} s" if r["load_s"] else ""
            print(
                f"  {m:<10} {r['batches_per_s']:8.1f} batches/s  "
                f"{r['batches_per_s'] / base:5.2f}x the PyDataset{load}"
            )
        print(f"  stream / PyDataset: {pipes['stream']['batches_per_s'] / base:.2f}x (target >= 4)")
        step = run_child("train", str(small), str(args.steps), "stream")
        ratio = pipes["stream"]["batches_per_s"] / step["batches_per_s"]
        print(
            f"CNN-7 training (CPU, stream): {step['batches_per_s']:8.2f} batches/s "
            f"({step['samples_per_s']:.0f} samples/s)"
        )
        print(f"stream pipeline / training: {ratio:8.1f}x   (target >= 10)")
        result = {"pipeline": pipes, "train": step, "ratio": ratio}
        for m in ("pydataset", "stream"):
            e1 = run_child("train", str(small), "epoch", m, "minimal")
            e8 = run_child("train", str(large), "epoch", m, "minimal")
            growth = e8["peak_rss_mb"] / e1["peak_rss_mb"] - 1
            print(
                f"peak RSS, one epoch (minimal model), {m:<9}: 1x {e1['peak_rss_mb']:6.0f} MB ({e1['batches']} "
                f"batches), {args.scale}x {e8['peak_rss_mb']:6.0f} MB ({e8['batches']} batches): "
                f"{growth:+.1%} (target <= 15 %)"
            )
            result[m] = {"epoch_1x": e1, f"epoch_{args.scale}x": e8, "rss_growth": growth}
        if args.gpu:
            # experiment 2's training set: 800 tracks x 19 frames = 15,200 frames, one whole epoch
            exp2 = make_store(tmp / "exp2", 800, seed=2)
            extra = ["gpu"] + (["mirrored"] if args.strategy == "mirrored" else [])
            g = run_child("train", str(exp2), "epoch", *extra)
            names = ", ".join(g.get("gpu", ["?"]))
            print(
                f"CNN-7, mixed precision + XLA, {g['execution']['replicas']} x {names}: "
                f"{g['samples_per_s']:.0f} samples/s; one epoch of 15,200 frames in {g['seconds']:.2f} s "
                f"(goal < 2 s on one H200-class GPU)"
            )
            result["gpu"] = g
        if args.json:
            Path(args.json).write_text(json.dumps(result, indent=2))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
