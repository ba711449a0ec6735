#!/usr/bin/env python
"""Dask benchmark: ``extract`` on a local 2-worker Dask cluster against one process.

Both variants run the genre ``default`` frontend preset as shipped (spectrogram, mel, MFCC and
the hand-crafted descriptors) over the same clips, each in its own process so that its peak
memory is its own, and must write byte-identical stores (asserted here):

* ``jobs=1``: ``extract(..., jobs=1)``, one process, one BLAS thread;
* ``local:2``: ``extract(..., cluster="local:2")``, a ``distributed.LocalCluster`` of 2
  single-threaded worker processes started for the call;
* ``jobs=2`` (for information): the local process pool, ``extract(..., jobs=2)``. If it does not
  scale either, the machine is busy, not Dask.

Printed: clips/s of both and their ratio (target >= 1.7x on 2 cores), where the Dask variant's
throughput leaves out its set-up (starting the cluster, checking and warming up the workers:
``ExtractReport.setup_seconds``, printed on its own); the CPU time of the driver process (the
in-process scheduler and client take it from the workers on a 2-core machine); and the peak RSS
of the driver process and of the largest worker process. The one-process variant imports the same modules before its
clock starts, as the Dask workers do during the set-up, so neither pays for imports.

    python benchmarks/dask_bench.py                  # 200 clips (~2 min on 2 cores)
    python benchmarks/dask_bench.py --clips 40 --json dask.json   # quicker; start-up weighs more
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

from clips import clip_index, prepare_clips  # noqa: E402  (this folder)

VARIANTS = ("jobs=1", "local:2", "jobs=2")
TARGET = 1.7


def _peak_rss_mb() -> tuple[float, float]:
    """``(this process, largest finished child)`` peak RSS in MB (``ru_maxrss`` is KiB on Linux)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return own / 1024, children / 1024


def worker(variant: str, clips: list[str], store: str) -> dict:
    """One variant in this (fresh) process."""
    import importlib

    from musiclass.config import frontend_preset
    from musiclass.features import extract as extract_mod

    index, config = clip_index(clips), frontend_preset("genre", "default")
    if variant.startswith("jobs="):
        # what the Dask workers import while they are checked (in their set-up time, not timed)
        for name in extract_mod._PRELOAD + extract_mod._PRELOAD_HANDCRAFTED:
            importlib.import_module(name)
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    if variant.startswith("jobs="):
        report = extract_mod.extract(
            index, config, store, jobs=int(variant[5:]), progress=False, force=True
        )
    else:
        report = extract_mod.extract(
            index, config, store, cluster=variant, progress=False, force=True
        )
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    assert report.failed == 0 and report.computed == len(clips), report.summary()
    work = report.seconds - report.setup_seconds
    driver, largest_child = _peak_rss_mb()
    return {
        "variant": variant,
        "clips": len(clips),
        "seconds": report.seconds,
        "setup_seconds": report.setup_seconds,
        "work_seconds": work,
        "clips_per_s": len(clips) / work,
        "driver_cpu_seconds": (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime),
        "peak_rss_driver_mb": driver,
        "peak_rss_worker_mb": largest_child,
    }


def run_variant(variant: str, clips: list[str], store: Path) -> dict:
    args = [sys.executable, __file__, "--worker", variant, "--store", str(store), "--"] + clips
    out = subprocess.run(args, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def digests(store: Path) -> dict[str, str]:
    return {
        str(p.relative_to(store)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(store.rglob("*"))
        if p.is_file()
    }


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--clips", type=int, default=200, help="clips per variant (default 200)")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--store", help=argparse.SUPPRESS)
    ap.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.paths, args.store)))
        return 0

    with tempfile.TemporaryDirectory(prefix="musiclass-dask-bench-") as tmp_name:
        tmp = Path(tmp_name)
        t = time.perf_counter()
        clips, kind = prepare_clips(args.clips, tmp)
        print(f"clips: {len(clips)} x 30 s, {kind} (prepared in {time.perf_counter() - t:.1f} s)")
        res, sums = {}, {}
        for v in VARIANTS:
            store = tmp / v.replace(":", "-").replace("=", "-")
            res[v] = run_variant(v, clips, store)
            sums[v] = digests(store)
            shutil.rmtree(store)  # free the pages for the next variant
        identical = sums["jobs=1"] == sums["local:2"] == sums["jobs=2"]
        assert identical, "the stores of jobs=1 and local:2 differ: " + ", ".join(
            sorted(
                k
                for k in set(sums["jobs=1"]) | set(sums["local:2"])
                if sums["jobs=1"].get(k) != sums["local:2"].get(k)
            )[:5]
        )

    ratio = res["local:2"]["clips_per_s"] / res["jobs=1"]["clips_per_s"]
    pool = res["jobs=2"]["clips_per_s"] / res["jobs=1"]["clips_per_s"]
    print(
        f"\n{'variant':40s} {'clips':>5s} {'set-up':>7s} {'clips/s':>8s} {'driver CPU':>10s} "
        f"{'driver RSS':>11s} {'worker RSS':>11s}"
    )
    labels = {
        "jobs=1": "extract(jobs=1), one process",
        "local:2": "extract(cluster='local:2'), 2 workers",
        "jobs=2": "extract(jobs=2), process pool (info)",
    }
    for v, r in res.items():
        # (the process pool's workers are children of its fork server, which outlives the run: not seen)
        worker_rss = (
            f"{r['peak_rss_worker_mb']:8.0f} MB" if r["peak_rss_worker_mb"] else f"{'-':>11s}"
        )
        print(
            f"{labels[v]:40s} {r['clips']:5d} {r['setup_seconds']:6.1f}s {r['clips_per_s']:8.2f} "
            f"{r['driver_cpu_seconds']:9.1f}s {r['peak_rss_driver_mb']:8.0f} MB {worker_rss}"
        )
    print(f"\nstores byte-identical: {identical} ({len(sums['jobs=1'])} files)")
    print(
        f"cluster start-up (start, check and warm up the workers; not in clips/s): "
        f"{res['local:2']['setup_seconds']:.1f} s"
    )
    print(f"local:2 vs jobs=1 throughput: {ratio:.2f}x (target >= {TARGET}x on 2 cores)")
    print(f"for information, the process pool: jobs=2 vs jobs=1 {pool:.2f}x")
    ok = ratio >= TARGET
    print("target met" if ok else "TARGET NOT MET")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "results": res,
                    "ratio": ratio,
                    "pool_ratio": pool,
                    "target": TARGET,
                    "identical": identical,
                    "clips_kind": kind,
                },
                indent=2,
            )
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
