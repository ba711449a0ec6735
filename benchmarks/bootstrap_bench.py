#!/usr/bin/env python
"""Bootstrap benchmark: the vectorised resampling of :mod:`musiclass.evaluation` against the plain
scikit-learn loop it replaces, on the same resamples in the same run.

Two workloads, the sizes the test suite used to time (those timed assertions live here now, since a
wall-clock bound fails on a loaded machine):

1. **genre**: 1000 cluster resamples of 400 tracks x 10 frames, 10 classes (accuracy, macro F1,
   ROC-AUC), :func:`musiclass.evaluation._cluster_bootstrap`;
2. **mood**: :func:`musiclass.evaluation.evaluate_tags` with 1000 resamples of 200 tracks
   (600 frames) x 56 tags (ROC-AUC and PR-AUC, macro and micro).

The scikit-learn loop runs on the first ``--sk`` resamples only and is scaled to 1000; the ratio
is the loop's time over ours. Targets: genre under 5 s and mood under 8 s on one idle core.

    python benchmarks/bootstrap_bench.py
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.metrics import accuracy_score, average_precision_score, f1_score, roc_auc_score

from musiclass import evaluation as ev


def genre_frames(n_tracks=400, per=10, k=10, seed=1):
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_tracks), per)
    y = (np.arange(n_tracks) % k)[unit]
    logits = (
        1.5 * np.eye(k)[y]
        + rng.normal(size=(n_tracks, k))[unit]
        + 0.7 * rng.normal(size=(len(y), k))
    )
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True), y, unit


def tag_frames(n_tracks=200, k=56, per=3, seed=3):
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_tracks), per)
    track_y = (rng.random((n_tracks, k)) < 0.3).astype(int)
    base = 0.35 * track_y + 0.4 * rng.random((n_tracks, k))
    p = np.clip(base[unit] + 0.25 * rng.random((len(unit), k)), 0, 1)
    ids = np.array([f"t{u:03d}" for u in unit])
    return p, track_y[unit], ids, unit


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--sk", type=int, default=50, help="resamples for the scikit-learn loop (default 50)"
    )
    args = ap.parse_args()

    p, y, unit = genre_frames()
    idx = ev._bootstrap_indices(400, 1000, 0)
    ours, reps = timed(lambda: ev._cluster_bootstrap(y, p, unit, 400, idx))
    assert np.isfinite(reps["roc_auc"]).all() and len(reps["accuracy"]) == 1000

    def sk_genre():
        for drawn in idx[: args.sk]:
            rows = np.concatenate([np.flatnonzero(unit == u) for u in drawn])
            pred = p[rows].argmax(1)
            accuracy_score(y[rows], pred)
            f1_score(y[rows], pred, average="macro")
            roc_auc_score(y[rows], p[rows], multi_class="ovr")

    sk, _ = timed(sk_genre)
    sk *= 1000 / args.sk
    print(
        f"genre: 1000 cluster resamples, 4000 frames, 10 classes: ours {ours:6.2f} s, "
        f"scikit-learn loop {sk:7.1f} s (scaled from {args.sk}), ratio {sk / ours:6.1f}x (target < 5 s)"
    )

    P, Y, ids, unit = tag_frames()
    ours, e = timed(
        lambda: ev.evaluate_tags(P, Y, ids, thresholds=np.full(56, 0.5), n_boot=1000, seed=0)
    )
    assert np.isfinite(e.intervals["frame"]["roc_auc_macro"]).all()
    tidx = ev._bootstrap_indices(200, args.sk, 0)

    def sk_mood():
        for drawn in tidx:
            rows = np.concatenate([np.flatnonzero(unit == u) for u in drawn])
            keep = (Y[rows].sum(0) > 0) & (Y[rows].sum(0) < len(rows))
            for avg in ("macro", "micro"):
                roc_auc_score(Y[rows][:, keep], P[rows][:, keep], average=avg)
                average_precision_score(Y[rows][:, keep], P[rows][:, keep], average=avg)

    sk, _ = timed(sk_mood)
    sk *= 1000 / args.sk
    print(
        f"mood:  evaluate_tags, 1000 resamples, 600 frames x 56 tags:  ours {ours:6.2f} s, "
        f"scikit-learn loop {sk:7.1f} s (scaled from {args.sk}), ratio {sk / ours:6.1f}x (target < 8 s)"
    )


if __name__ == "__main__":
    main()
