#!/usr/bin/env python
"""GPU benchmark: one command, one table, under 5 minutes on one GPU.

Printed: the GPU's name and memory; the time of one epoch of experiment 2's training set
(15,200 mel frames of 128x130, 119 batches of 128) for CNN-3 and CNN-7 with each cache mode
(``device``, ``memory``, ``stream``; see ``musiclass.training.batches.FrameFeed``), in float32
without XLA and in mixed float16 with XLA; the ``SpectralFrontend`` layer's mel frames/s; and
``musiclass.predict`` tracks/s on 30 s clips. The goal of experiment 2: an epoch in under 2 s
on one H200-class GPU.

Everything is made here, synthetically (random frames in a real feature store, seeded tones for
the frontend and ``predict``): it runs on a bare GPU machine with only this repository and its
``.venv``, nothing downloaded. Without a GPU it stops at once with one line and exit status 2
(checked before TensorFlow is imported where the machine shows no NVIDIA device at all).

    .venv/bin/python benchmarks/gpu_bench.py            # the whole table
    .venv/bin/python benchmarks/gpu_bench.py --quick    # CNN-3 only, fewer clips
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: experiment 2's training set: 800 tracks x 19 frames
EXP2_TRACKS = 800
BATCH = 128
SHAPE = (128, 130)
#: stop starting new table rows after this many seconds (the whole run must stay under 5 min)
BUDGET_S = 250


def no_gpu(reason: str) -> None:
    """Print the one-line reason and exit with status 2."""
    print(f"gpu_bench: no GPU: {reason}", file=sys.stderr)
    sys.exit(2)


def check_gpu_cheaply() -> None:
    """Exit at once when this machine visibly has no NVIDIA GPU (before importing TensorFlow)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None and visible.strip() in ("", "-1"):
        no_gpu(f"CUDA_VISIBLE_DEVICES={visible!r} hides every GPU")
    if not glob.glob("/dev/nvidia[0-9]*") and not shutil.which("nvidia-smi"):
        no_gpu("no /dev/nvidia* device and no nvidia-smi on this machine")


def epoch_rows(tmp: Path, models: list[str], deadline: float) -> list[tuple]:
    """Seconds of one exp-2 epoch for every model, cache mode and precision/XLA setting."""
    import keras
    import numpy as np

    sys.path.insert(0, str(HERE))
    from musiclass.features.store import FeatureStore
    from musiclass.models import build_model
    from musiclass.training import execution, train_preset
    from musiclass.training.batches import FrameFeed
    from train_bench import make_store

    t = time.perf_counter()
    store = FeatureStore(make_store(tmp / "exp2", EXP2_TRACKS, seed=2))
    print(
        f"exp-2 store: {store.manifest['n_rows']} frames written in {time.perf_counter() - t:.0f} s"
    )
    rows = np.arange(store.manifest["n_rows"])
    y = (rows % 10).astype(np.int32)
    out = []
    for mode in ("device", "memory", "stream"):
        t = time.perf_counter()
        feed = FrameFeed(mode, store.array("mel"), rows, y, rows[:BATCH], y[:BATCH], BATCH, seed=0)
        load = time.perf_counter() - t
        for name in models:
            for precision, xla in (("float32", False), ("mixed_float16", True)):
                if time.perf_counter() > deadline:
                    out.append((name, mode, precision, xla, None, None, load))
                    continue
                keras.backend.clear_session()
                cfg = train_preset("default", model=name, precision=precision, xla=xla)
                with execution(cfg):
                    model = build_model(name, SHAPE, 10, bn_momentum=0.9)
                    model.compile(
                        keras.optimizers.Adam(1e-3),
                        "sparse_categorical_crossentropy",
                        metrics=["accuracy"],
                        jit_compile=xla,
                    )
                    feed.prepare(model)
                    times = []
                    for epoch in range(2):  # the first compiles (and XLA-compiles)
                        feed.epoch = epoch + 1
                        t0 = time.perf_counter()
                        model.fit(feed.train, epochs=1, verbose=0, shuffle=False)
                        times.append(time.perf_counter() - t0)
                out.append((name, mode, precision, xla, times[1], times[0], load))
                print(f"  {name} {mode} {precision} xla={xla}: {times[1]:.2f} s", flush=True)
        feed.close()
    return out


def frontend_rate() -> float:
    """Mel frames/s of the ``SpectralFrontend`` layer (XLA) on 64 clips of 30 s."""
    import numpy as np
    import tensorflow as tf

    from musiclass.config import frontend_preset
    from musiclass.models.frontend_layer import SpectralFrontend, audio_frames

    cfg = frontend_preset("genre", "default", representations=("mel",), handcrafted=False)
    rng = np.random.default_rng(0)
    t = np.arange(30 * 22050) / 22050
    clips = [
        (0.3 * np.sin(2 * np.pi * (110 + 20 * i) * t) + 0.05 * rng.standard_normal(t.size)).astype(
            np.float32
        )
        for i in range(64)
    ]
    x = tf.constant(np.concatenate([audio_frames(c, cfg)[1] for c in clips]))
    fn = tf.function(SpectralFrontend(cfg, "mel").call, jit_compile=True)
    fn(x).numpy()  # warm-up: tracing, compilation
    best = min(_timed(lambda: fn(x).numpy()) for _ in range(3))
    return int(x.shape[0]) / best


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def predict_rate(tmp: Path, n_clips: int) -> float:
    """``musiclass.predict`` tracks/s on ``n_clips`` 30 s WAV files, with a CNN-3 trained 1 epoch."""
    import numpy as np
    import pandas as pd
    import soundfile as sf

    from musiclass import splits
    from musiclass.config import frontend_preset
    from musiclass.datasets.base import TrackIndex
    from musiclass.features.extract import extract
    from musiclass.predict import predict
    from musiclass.training import train, train_preset

    genres = ("a", "b")
    rows = []
    for i in range(n_clips):
        g = genres[i % 2]
        t = np.arange(30 * 22050) / 22050
        y = 0.3 * np.sin(2 * np.pi * (110 * (1 + i % 2) + 3 * i) * t)
        path = tmp / "audio" / f"{g}.{i:05d}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, y.astype(np.float32), 22050)
        rows.append((f"{g}.{i:05d}", str(path), g, 30.0, f"artist{i}"))
    index = TrackIndex(
        pd.DataFrame(rows, columns=["track_id", "path", "label", "duration", "artist"]),
        genres,
        dataset="bench",
        root=str(tmp / "audio"),
    )
    cfg = frontend_preset("genre", "default", representations=("mel",), handcrafted=False)
    store = extract(
        index, cfg, tmp / "store", jobs=min(8, os.cpu_count() or 1), progress=False
    ).store
    splits.save(splits.song_split(store.tracks(), (0.6, 0.2, 0.2), seed=0), tmp / "song.csv")
    tc = train_preset("default", model="cnn-3", epochs=1, tensorboard=False)
    model_dir = train(
        store, tmp / "song.csv", tc, tmp / "model", progress=False, n_boot=10
    ).model_dir
    files = sorted((tmp / "audio").glob("*.wav"))
    predict(model_dir, files[:2], progress=False)  # warm-up: loading, tracing
    t0 = time.perf_counter()
    report = predict(model_dir, files, progress=False, jobs=4)
    dt = time.perf_counter() - t0
    return len(report.predictions) / dt


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    ap.add_argument("--quick", action="store_true", help="CNN-3 only, 16 clips for predict")
    args = ap.parse_args(argv)
    start = time.perf_counter()
    check_gpu_cheaply()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        no_gpu("TensorFlow sees none (is the CUDA build of tensorflow installed?)")
    from musiclass.training.batches import accelerator_memory

    name = tf.config.experimental.get_device_details(gpus[0]).get("device_name", gpus[0].name)
    memory = accelerator_memory() or 0
    models = ["cnn-3"] if args.quick else ["cnn-3", "cnn-7"]
    tmp = Path(tempfile.mkdtemp(prefix="musiclass-gpu-bench-"))
    try:
        rows = epoch_rows(tmp, models, start + BUDGET_S)
        mel_rate = frontend_rate()
        tracks_rate = predict_rate(tmp / "predict", 16 if args.quick else 48)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"\nGPU: {name}, {memory / 2**30:.1f} GiB usable by TensorFlow ({len(gpus)} visible)")
    print(f"{'what':<44}{'setting':<26}{'result':>16}")
    for model, mode, precision, xla, seconds, first, _load in rows:
        setting = f"{precision}{' + XLA' if xla else ''}"
        result = "skipped (time)" if seconds is None else f"{seconds:.2f} s (1st {first:.1f} s)"
        print(f"{'exp-2 epoch, ' + model + ', cache ' + mode:<44}{setting:<26}{result:>16}")
    print(
        f"{'SpectralFrontend mel frames (XLA)':<44}{'64 clips of 30 s':<26}{mel_rate:>10.0f} fr/s"
    )
    print(f"{'predict (CNN-3, 30 s WAV clips)':<44}{'jobs 4':<26}{tracks_rate:>8.1f} tracks/s")
    print(f"(goal: an exp-2 epoch < 2 s; whole run {time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
