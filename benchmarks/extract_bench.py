#!/usr/bin/env python
"""Extraction benchmark: our ``seed``-preset frontend against the original approach.

The original computed, for each of the 19 overlapping 3 s frames of a clip, three separate librosa
calls (``melspectrogram``, ``stft`` for the spectrogram, ``mfcc``), each doing its own STFT and
building its own mel filterbank. Ours decodes once, runs one batched STFT over the 19 frames and
derives the spectrogram, mel and MFCC from it. Both produce the same numbers (asserted here).

Printed: clips/s of both on one core (one BLAS thread), the ratio, the throughput of a full
``musiclass extract`` with 1 and 2 jobs and its ratio, and the peak RSS of each variant (each runs
in its own process). Targets: >= 4x the original on one core; >= 1.7x with 2 jobs vs 1.

    python benchmarks/extract_bench.py                # 1000 clips, as many as GTZAN (~2 min)
    python benchmarks/extract_bench.py --clips 200 --json bench.json   # quicker; start-up weighs more
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from clips import prepare_clips  # noqa: E402  (this folder)

N_FRAMES, FRAME, HOP = 19, 66150, 33075
SPECTRAL = dict(n_fft=1024, hop_length=512, pad_mode="reflect")


# --------------------------------------------------------------------------- the two approaches
def original_clip(path):
    """The original study's loop: three librosa calls per frame."""
    import librosa
    import numpy as np

    from musiclass import audio

    y, sr = audio.load(path, sr=22050)
    mels, specs, mfccs = [], [], []
    for k in range(N_FRAMES):
        seg = y[k * HOP : k * HOP + FRAME]
        if len(seg) < FRAME:  # pad (the original's resize sheared instead)
            seg = np.pad(seg, (0, FRAME - len(seg)))
        mels.append(
            librosa.power_to_db(
                librosa.feature.melspectrogram(y=seg, sr=sr, n_mels=128, **SPECTRAL), ref=np.max
            )
        )
        specs.append(librosa.amplitude_to_db(np.abs(librosa.stft(seg, **SPECTRAL)), ref=np.max))
        mfccs.append(librosa.feature.mfcc(y=seg, sr=sr, n_mfcc=20, n_mels=128, **SPECTRAL))
    return {"spectrogram": np.stack(specs), "mel": np.stack(mels), "mfcc": np.stack(mfccs)}


_FE = None


def ours_clip(path):
    global _FE
    from musiclass import audio
    from musiclass.config import frontend_preset
    from musiclass.features.frontend import Frontend

    if _FE is None:
        _FE = Frontend(frontend_preset("genre", "seed"))
    y, _ = audio.load(path, sr=22050)
    return _FE.compute(y).arrays


# --------------------------------------------------------------------------- worker processes
def _peak_rss_mb() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    c = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(r, c) / 1024  # ru_maxrss is in KiB on Linux


def worker(variant: str, clips: list[str], store: str | None) -> dict:
    # threadpoolctl limits only the thread pools already loaded: load numpy's BLAS first, or
    # the "one BLAS thread" would not hold (the pool would start later, with every core)
    import numpy  # noqa: F401
    from threadpoolctl import threadpool_limits

    if variant in ("original", "ours"):
        fn = original_clip if variant == "original" else ours_clip
        with threadpool_limits(limits=1):
            fn(clips[0])  # warm-up: imports and first-call costs are not throughput
            t = time.perf_counter()
            for c in clips:
                fn(c)
            seconds = time.perf_counter() - t
    else:  # extract-1 / extract-2: the whole command, store writing included
        import pandas as pd

        from musiclass.config import frontend_preset
        from musiclass.datasets.base import TrackIndex
        from musiclass.features.extract import extract

        jobs = int(variant.split("-")[1])
        tracks = pd.DataFrame(
            {
                "track_id": [Path(c).stem + f"-{i}" for i, c in enumerate(clips)],
                "path": clips,
                "label": [Path(c).parent.name for c in clips],
                "duration": 30.0,
                "artist": "",
            }
        )
        index = TrackIndex(tracks, tuple(sorted(set(tracks["label"]))))
        config = frontend_preset("genre", "seed", handcrafted=False)
        t = time.perf_counter()
        report = extract(index, config, store, jobs=jobs, progress=False, force=True)
        seconds = time.perf_counter() - t
        assert report.failed == 0, report.summary()
    return {
        "variant": variant,
        "clips": len(clips),
        "seconds": seconds,
        "clips_per_s": len(clips) / seconds,
        "peak_rss_mb": _peak_rss_mb(),
    }


def run_variant(variant: str, clips: list[str], store: Path | None = None) -> dict:
    args = [
        sys.executable,
        __file__,
        "--worker",
        variant,
        "--store",
        str(store or ""),
        "--",
    ] + clips
    out = subprocess.run(args, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- driver
def check_equal(clips: list[str], n: int = 3) -> float:
    import numpy as np

    worst = 0.0
    for c in clips[:n]:
        a, b = original_clip(c), ours_clip(c)
        for rep in ("spectrogram", "mel", "mfcc"):
            assert a[rep].shape == b[rep].shape, (rep, a[rep].shape, b[rep].shape)
            worst = max(worst, float(np.max(np.abs(a[rep] - b[rep]))))
    assert worst < 1e-3, f"outputs differ by {worst} dB"
    return worst


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--clips",
        type=int,
        default=1000,
        help="clips per variant (default 1000, the size of GTZAN; small runs are dominated by start-up)",
    )
    ap.add_argument(
        "--original-clips",
        type=int,
        default=None,
        help="clips for the (slow) original approach (default: a quarter, at least 10)",
    )
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--store", help=argparse.SUPPRESS)
    ap.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.paths, args.store or None)))
        return 0

    with tempfile.TemporaryDirectory(prefix="musiclass-bench-") as tmp_name:
        tmp = Path(tmp_name)
        clips, kind = prepare_clips(args.clips, tmp)
        n_orig = args.original_clips or max(10, args.clips // 4)
        print(f"clips: {len(clips)} x 30 s, {kind}")
        worst = check_equal(clips)
        print(f"outputs equal: max |ours - original| = {worst:.2e} dB over spectrogram, mel, MFCC")

        res = {
            "original": run_variant("original", clips[:n_orig]),
            "ours": run_variant("ours", clips),
        }
        # Untimed warm-up: on a fresh (virtual) machine the first gigabyte of page cache costs
        # extra to touch; without this the first extract variant would pay it alone.
        run_variant("extract-2", clips, tmp / "warm-up")
        shutil.rmtree(tmp / "warm-up")
        digests = {}
        for v in ("extract-1", "extract-2"):
            res[v] = run_variant(v, clips, tmp / v)
            digests[v] = {
                str(p.relative_to(tmp / v)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted((tmp / v).rglob("*"))
                if p.is_file()
            }
            shutil.rmtree(tmp / v)  # free the pages for the next variant
        assert digests["extract-1"] == digests["extract-2"], "stores from 1 and 2 jobs differ"

    speedup = res["ours"]["clips_per_s"] / res["original"]["clips_per_s"]
    scaling = res["extract-2"]["clips_per_s"] / res["extract-1"]["clips_per_s"]
    print(f"\n{'variant':34s} {'clips':>5s} {'clips/s':>9s} {'peak RSS':>9s}")
    labels = {
        "original": "original: 3 librosa calls x 19 frames",
        "ours": "ours: seed frontend, 1 core",
        "extract-1": "musiclass extract --jobs 1",
        "extract-2": "musiclass extract --jobs 2",
    }
    for v, r in res.items():
        print(f"{labels[v]:34s} {r['clips']:5d} {r['clips_per_s']:9.1f} {r['peak_rss_mb']:7.0f} MB")
    print(f"\nspeed-up over the original approach (1 core): {speedup:.1f}x (target >= 4x)")
    print(f"2 jobs vs 1 job (whole extract, store included): {scaling:.2f}x (target >= 1.7x)")
    ok = speedup >= 4 and scaling >= 1.7
    print("targets met" if ok else "TARGETS NOT MET")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "results": res,
                    "speedup": speedup,
                    "jobs_scaling": scaling,
                    "clips_kind": kind,
                    "max_abs_diff_db": worst,
                },
                indent=2,
            )
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
