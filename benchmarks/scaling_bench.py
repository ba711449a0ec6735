#!/usr/bin/env python
"""How extraction cost grows with the data: seconds of CPU per hour of audio, on MTG-Jamendo-like
full tracks, and what that means for the full mood/theme set.

MTG-Jamendo's full tracks are stereo 44.1 kHz MP3s of a few minutes. This benchmark writes
``--tracks`` such files (synthetic music, ``--minutes`` long each, MP3 through libsndfile), then
times on one core, one BLAS thread:

1. **decode** alone (``musiclass.audio.load(path, sr=None, mono=False)``);
2. **decode + resample** to the mood frontend's 12 kHz mono (what every extraction starts with);
3. ``musiclass extract`` with the mood ``default`` preset, descriptors **off** and **on**
   (store written).

It prints seconds per audio hour, the store's bytes per audio hour, and the projection for the
mood/theme subset (18,486 tracks, about 1,100 hours) on 1 and on N workers, scaled by the
2-worker efficiency that ``benchmarks/dask_bench.py`` measures (pass it with ``--efficiency``).

    python benchmarks/scaling_bench.py                  # 8 tracks of 4 min (~2 min)
    python benchmarks/scaling_bench.py --tracks 4 --json s.json
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

JAMENDO_HOURS = 1100.0  # the mood/theme subset's full tracks (18,486 of them)
JAMENDO_TRACKS = 18486


def write_tracks(folder: Path, n: int, minutes: float) -> list[str]:
    """``n`` stereo 44.1 kHz MP3s of synthetic music (chords, a beat, noise), ``minutes`` long."""
    import numpy as np
    import soundfile as sf

    sr = 44100
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    rng = np.random.default_rng(0)
    t = np.arange(int(minutes * 60 * sr)) / sr
    for i in range(n):
        f0 = 110.0 * 2 ** (rng.integers(0, 12) / 12)
        tone = sum(np.sin(2 * np.pi * f0 * k * t + rng.uniform(0, 6.3)) / k for k in (1, 1.5, 2, 3))
        beat = (np.sin(2 * np.pi * (1.5 + 0.5 * rng.random()) * t) > 0.95) * rng.standard_normal(
            t.size
        )
        y = (
            tone / 4 * (0.7 + 0.3 * np.sin(2 * np.pi * 0.2 * t))
            + 0.3 * beat
            + 0.02 * rng.standard_normal(t.size)
        )
        y = (0.5 * y / np.max(np.abs(y))).astype(np.float32)
        stereo = np.stack([y, np.roll(y, 50)], axis=1)
        path = folder / f"{i:02d}" / f"{1000 + i}.mp3"
        path.parent.mkdir(exist_ok=True)
        sf.write(path, stereo, sr, format="MP3")
        paths.append(str(path))
    return paths


def _timed(fn, items) -> float:
    t0 = time.perf_counter()
    for x in items:
        fn(x)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--tracks", type=int, default=8)
    ap.add_argument("--minutes", type=float, default=4.0, help="length of each track (default 4)")
    ap.add_argument(
        "--workers", type=int, default=32, help="workers for the projection (default 32)"
    )
    ap.add_argument(
        "--efficiency",
        type=float,
        default=1.0,
        help="per-worker efficiency for the projection (dask_bench: 2-worker ratio / 2)",
    )
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()

    import pandas as pd
    from threadpoolctl import threadpool_limits

    from musiclass import audio
    from musiclass.config import frontend_preset
    from musiclass.datasets.base import TrackIndex
    from musiclass.features.extract import extract

    tmp = Path(tempfile.mkdtemp(prefix="musiclass-scaling-"))
    try:
        t0 = time.perf_counter()
        paths = write_tracks(tmp / "audio", args.tracks, args.minutes)
        hours = args.tracks * args.minutes / 60
        print(
            f"{args.tracks} stereo 44.1 kHz MP3s of {args.minutes:g} min ({hours * 60:.0f} min of audio) written "
            f"in {time.perf_counter() - t0:.0f} s; one core, one BLAS thread"
        )
        tracks = pd.DataFrame(
            {
                "track_id": [Path(p).stem for p in paths],
                "path": paths,
                "label": "happy",
                "duration": args.minutes * 60,
                "artist": "",
            }
        )
        index = TrackIndex(tracks, ("happy",), multilabel=True, dataset="bench")
        rows = {}
        with threadpool_limits(limits=1):
            audio.load(paths[0], sr=12000)  # warm-up
            rows["decode (MP3 -> 44.1 kHz stereo)"] = _timed(
                lambda p: audio.load(p, sr=None, mono=False), paths
            )
            rows["decode + mono + resample to 12 kHz"] = _timed(
                lambda p: audio.load(p, sr=12000), paths
            )
            sizes = {}
            for label, handcrafted in (
                ("extract, mood default, descriptors off", False),
                ("extract, mood default, descriptors on", True),
            ):
                cfg = frontend_preset("mood", "default", handcrafted=handcrafted)
                out = tmp / f"store-{handcrafted}"
                rep = extract(index, cfg, out, jobs=1, progress=False)
                if rep.failed:
                    sys.exit(f"extraction failed: {rep.failures}")
                rows[label] = rep.seconds
                sizes[label] = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
        per_hour = {k: v / hours for k, v in rows.items()}
        print(f"\n{'':42s} {'s / audio hour':>15s} {'x real time':>12s}")
        for k, v in per_hour.items():
            print(f"{k:42s} {v:15.1f} {3600 / v:11.0f}x")
        full = per_hour["extract, mood default, descriptors on"]
        store_gb_per_hour = sizes["extract, mood default, descriptors on"] / hours / 1e9
        w, eff = args.workers, args.efficiency
        print(
            f"\nstore: {store_gb_per_hour * 1000:.1f} MB per audio hour "
            f"({store_gb_per_hour * JAMENDO_HOURS:.1f} GB for the mood/theme subset's {JAMENDO_HOURS:.0f} h)"
        )
        print(
            f"projection, mood/theme subset ({JAMENDO_TRACKS:,} tracks, ~{JAMENDO_HOURS:.0f} h), descriptors on:"
        )
        print(f"  1 worker:  {full * JAMENDO_HOURS / 3600:6.1f} h")
        print(f"  2 workers: {full * JAMENDO_HOURS / 3600 / (2 * eff):6.1f} h")
        print(
            f"  {w} workers: {full * JAMENDO_HOURS / 3600 / (w * eff):6.2f} h (per-worker efficiency {eff:g})"
        )
        if args.json:
            Path(args.json).write_text(
                json.dumps(
                    {
                        "seconds": rows,
                        "per_audio_hour": per_hour,
                        "hours": hours,
                        "store_bytes": sizes,
                    },
                    indent=2,
                )
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
