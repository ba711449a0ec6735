#!/usr/bin/env python
"""Frontend benchmark: the Keras ``SpectralFrontend`` layer against the numpy ``Frontend``.

Both compute the same frames (the genre ``default`` preset, one representation) of N 30 s clips
(the GTZAN sample beside the checkout when present, else synthetic tones). The numpy frontend runs
clip by clip on one thread (what one ``musiclass extract`` job does); the layer gets one batch
holding every frame of the N clips (``audio_frames`` rows), after a warm-up call, through
``tf.function`` with XLA (``jit_compile=True``) and without. Printed: the TensorFlow devices,
clips/s of each variant, the ratio to numpy, and the max difference between the two outputs.

    python benchmarks/frontend_bench.py                 # 32 clips, whatever device TF finds
    python benchmarks/frontend_bench.py --clips 256 --gpu   # require a GPU
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SHARED_SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "gtzan-sample"


def clips(n: int, seconds: float = 30.0):
    """``n`` mono 22.05 kHz clips: the GTZAN sample's files (cycled), else seeded tones."""
    import numpy as np

    from musiclass import audio

    files = (
        sorted(p for p in SHARED_SAMPLE.rglob("*") if p.suffix in (".wav", ".au"))
        if SHARED_SAMPLE.is_dir()
        else []
    )
    out, source = [], "GTZAN sample" if files else "synthetic tones"
    for i in range(n):
        if files:
            y, _ = audio.load(files[i % len(files)], sr=22050)
            y = y[: int(seconds * 22050)]
        else:
            rng = np.random.default_rng(i)
            t = np.arange(int(seconds * 22050)) / 22050
            y = (
                0.3 * np.sin(2 * np.pi * (110 + 20 * i) * t) + 0.05 * rng.standard_normal(t.size)
            ).astype(np.float32)
        out.append(y)
    return out, source


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clips", type=int, default=32, help="number of 30 s clips (default 32)")
    ap.add_argument("--representation", default="mel", choices=("mel", "spectrogram", "mfcc"))
    ap.add_argument(
        "--repeats", type=int, default=3, help="timed calls per variant; the best counts"
    )
    ap.add_argument("--gpu", action="store_true", help="fail unless TensorFlow sees a GPU")
    args = ap.parse_args(argv)

    import numpy as np
    import tensorflow as tf
    from threadpoolctl import threadpool_limits

    from musiclass.config import frontend_preset
    from musiclass.features.frontend import Frontend
    from musiclass.models.frontend_layer import SpectralFrontend, audio_frames

    gpus = tf.config.list_physical_devices("GPU")
    print(
        "devices:",
        ", ".join(f"{d.device_type}:{d.name}" for d in tf.config.list_physical_devices()),
    )
    for g in gpus:
        print("  ", g.name, tf.config.experimental.get_device_details(g).get("device_name", ""))
    if args.gpu and not gpus:
        print("error: --gpu given but TensorFlow sees no GPU", file=sys.stderr)
        return 2

    rep = args.representation
    cfg = frontend_preset("genre", "default", representations=(rep,), handcrafted=False)
    ys, source = clips(args.clips)
    print(f"{len(ys)} clips of 30 s ({source}), representation {rep!r}, preset genre/default")

    fe = Frontend(cfg)
    with threadpool_limits(1):
        fe.compute(ys[0])
        t_np = best_of(lambda: [fe.compute(y) for y in ys], max(1, args.repeats - 1))
        ref = np.concatenate([fe.compute(y).arrays[rep] for y in ys])
    t_frames = best_of(lambda: [audio_frames(y, cfg) for y in ys], args.repeats)
    rows = np.concatenate([audio_frames(y, cfg)[1] for y in ys])
    print(f"{len(rows)} frames, input {rows.shape} float32 ({rows.nbytes / 2**20:.0f} MiB)")

    layer = SpectralFrontend(cfg, rep)
    results = [
        ("numpy Frontend.compute (1 thread)", t_np, None),
        ("audio_frames slicing (numpy)", t_frames, None),
    ]
    x = tf.constant(rows)
    for jit in (False, True):
        fn = tf.function(layer.call, jit_compile=jit)
        out = fn(x).numpy()  # warm-up: tracing, compilation, transfers
        t = best_of(lambda fn=fn: fn(x).numpy(), args.repeats)
        results.append((f"SpectralFrontend jit_compile={jit}", t, float(np.abs(out - ref).max())))

    print(f"\n{'variant':<38}{'seconds':>9}{'clips/s':>10}{'x numpy':>9}{'max |diff|':>12}")
    for name, t, diff in results:
        print(
            f"{name:<38}{t:>9.3f}{len(ys) / t:>10.1f}{t_np / t:>9.1f}"
            f"{'' if diff is None else f'{diff:.2e}':>12}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
