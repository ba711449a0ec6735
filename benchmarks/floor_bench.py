#!/usr/bin/env python
"""Floor benchmark: how close ``extract`` comes to the least work its outputs need.

"The floor" is, per clip, the minimum a mel + MFCC extractor must do, written straight in NumPy
and librosa with nothing around it: decode (``musiclass.audio.load(path, sr=22050)``), one
``librosa.stft(n_fft=1024, hop_length=512)`` power spectrogram of the whole clip, the mel
projection (``librosa.filters.mel``, 128 bands, built once; one matrix product),
``librosa.power_to_db`` and a DCT (``scipy.fft.dct(type=2, norm="ortho")``, 20 coefficients).
It keeps nothing and writes nothing.

Against it, ``extract(..., jobs=1)`` (the whole command: frames, per-frame dB references, the
store written) with the genre ``default`` preset

(a) restricted to the floor's outputs: ``representations=["mel", "mfcc"]``, ``handcrafted=False``
    (target: at most 1.3x the floor's time);
(b) the full preset without descriptors: spectrogram + mel + MFCC, ``handcrafted=False``;
(c) the full preset as shipped, hand-crafted descriptors on.

(b) and (c) are for information. Everything runs in this process on one BLAS thread, over the
same clips, each variant warmed up on one clip first (imports, filterbanks, first-call costs);
``--repeats R`` keeps each variant's best of R passes.

Then the 97 hand-crafted descriptors alone (what (c) adds to (b)), on ``--descriptor-clips``
of the same clips, decoded beforehand: ``descriptors`` against the straightforward
implementation (one librosa / scipy call per descriptor, ``_reference_descriptors`` of
``tests/test_handcrafted.py``, the code before the work was shared), alternating clip by clip,
each clip's best of the repeats, after checking both give the same values (target: >= 3x).

    python benchmarks/floor_bench.py                  # 200 clips
    python benchmarks/floor_bench.py --clips 40 --json floor.json   # quicker
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import tempfile
import time
from pathlib import Path

from clips import clip_index, prepare_clips  # noqa: E402  (this folder)

SR, N_FFT, HOP, N_MELS, N_MFCC = 22050, 1024, 512, 128, 20
TARGET = 1.3
DESCRIPTOR_TARGET = 3.0
VARIANTS = {
    "a": (
        "extract: mel + mfcc (the floor's outputs)",
        dict(representations=["mel", "mfcc"], handcrafted=False),
    ),
    "b": ("extract: spectrogram + mel + mfcc", dict(handcrafted=False)),
    "c": ("extract: default preset, descriptors on", {}),
}


def floor_clip(path: str, mel_basis):
    """The floor for one clip: decode, STFT power, mel, dB, DCT."""
    import librosa
    import numpy as np
    import scipy.fft

    from musiclass import audio

    y, _ = audio.load(path, sr=SR)
    power = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP)) ** 2
    db = librosa.power_to_db(mel_basis @ power)
    return scipy.fft.dct(db, type=2, norm="ortho", axis=0)[:N_MFCC]


def time_floor(clips: list[str], repeats: int) -> float:
    import librosa

    mel_basis = librosa.filters.mel(sr=SR, n_fft=N_FFT, n_mels=N_MELS)
    floor_clip(clips[0], mel_basis)  # warm-up
    best = math.inf
    for _ in range(repeats):
        t = time.perf_counter()
        for c in clips:
            floor_clip(c, mel_basis)
        best = min(best, time.perf_counter() - t)
    return best


def time_extract(clips: list[str], overrides: dict, tmp: Path, repeats: int) -> float:
    from musiclass.config import frontend_preset
    from musiclass.features.extract import extract

    config = frontend_preset("genre", "default", **overrides)
    extract(
        clip_index(clips[:1]), config, tmp / "warm-up", jobs=1, progress=False, force=True
    )  # warm-up
    shutil.rmtree(tmp / "warm-up")
    index, best = clip_index(clips), math.inf
    for _ in range(repeats):
        t = time.perf_counter()
        report = extract(index, config, tmp / "store", jobs=1, progress=False, force=True)
        best = min(best, time.perf_counter() - t)
        assert report.failed == 0 and report.computed == len(clips), report.summary()
        shutil.rmtree(tmp / "store")
    return best


def time_descriptors(clips: list[str], repeats: int) -> dict:
    """Seconds per clip of the descriptors and of the reference, on the same decoded clips."""
    import numpy as np

    from musiclass import audio
    from musiclass.features.handcrafted import descriptors

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's tests/
    from tests.test_handcrafted import ATOL, RTOL, _reference_descriptors

    signals = [audio.load(c, sr=SR)[0] for c in clips]
    fns = {"reference": _reference_descriptors, "descriptors": descriptors}
    worst = 0.0
    for fn in fns.values():  # warm-up: filterbanks, numba kernels, first-call costs
        fn(signals[0], SR)
    # wall and CPU seconds, each clip's best: on a loaded machine the CPU time varies less
    best = {(k, c): [math.inf] * len(signals) for k in fns for c in ("wall", "cpu")}
    for _ in range(max(repeats, 2)):
        for i, y in enumerate(signals):
            values = {}
            for key, fn in fns.items():
                t, c = time.perf_counter(), time.process_time()
                values[key] = fn(y, SR)
                best[key, "cpu"][i] = min(best[key, "cpu"][i], time.process_time() - c)
                best[key, "wall"][i] = min(best[key, "wall"][i], time.perf_counter() - t)
            ref = values["reference"]
            err = np.abs(values["descriptors"] - ref) / (ATOL + RTOL * np.abs(ref))
            worst = max(worst, float(np.max(err)))
    assert worst <= 1.0, f"descriptors differ from the reference by {worst:.2f}x the tolerance"
    per_clip = {f"{k}_{c}": sum(v) / len(v) for (k, c), v in best.items()}
    return {
        "clips": len(signals),
        "seconds_per_clip": per_clip,
        "speedup_wall": per_clip["reference_wall"] / per_clip["descriptors_wall"],
        "speedup_cpu": per_clip["reference_cpu"] / per_clip["descriptors_cpu"],
        "worst_error_over_tolerance": worst,
        "tolerance": {"rtol": RTOL, "atol": ATOL},
    }


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--clips", type=int, default=200, help="clips per variant (default 200)")
    ap.add_argument(
        "--repeats", type=int, default=1, help="passes per variant; the best is kept (default 1)"
    )
    ap.add_argument(
        "--descriptor-clips",
        type=int,
        default=20,
        help="clips for the descriptors against their reference (default 20; 0 skips it)",
    )
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    # threadpoolctl limits only the thread pools already loaded: load numpy's BLAS (and
    # librosa's) first, or the "one BLAS thread" would not hold for the matrix products
    import librosa  # noqa: F401
    import numpy  # noqa: F401
    from threadpoolctl import threadpool_limits

    with (
        tempfile.TemporaryDirectory(prefix="musiclass-floor-bench-") as tmp_name,
        threadpool_limits(limits=1),
    ):
        tmp = Path(tmp_name)
        clips, kind = prepare_clips(args.clips, tmp)
        print(
            f"clips: {len(clips)} x 30 s, {kind}; one BLAS thread; best of {args.repeats} pass(es)"
        )
        desc = None
        if args.descriptor_clips > 0:
            desc = time_descriptors(clips[: args.descriptor_clips], args.repeats)
        seconds = {"floor": time_floor(clips, args.repeats)}
        for key, (_, overrides) in VARIANTS.items():
            seconds[key] = time_extract(clips, overrides, tmp, args.repeats)

    labels = {"floor": "floor: decode + STFT + mel + dB + DCT"} | {
        k: v[0] for k, v in VARIANTS.items()
    }
    ratios = {k: s / seconds["floor"] for k, s in seconds.items()}
    print(f"\n{'':4s}{'variant':42s} {'seconds':>8s} {'clips/s':>8s} {'x floor':>8s}")
    for key, s in seconds.items():
        print(
            f"{'' if key == 'floor' else f'({key})':4s}{labels[key]:42s} {s:8.2f} {len(clips) / s:8.2f} "
            f"{ratios[key]:7.2f}x"
        )
    print(
        f"\n(a) extract with the floor's outputs: {ratios['a']:.2f}x the floor's time (target <= {TARGET}x)"
    )
    print(
        f"(b) spectrogram too: {ratios['b']:.2f}x; (c) and the descriptors: {ratios['c']:.2f}x (information)"
    )
    ok = ratios["a"] <= TARGET
    if desc is not None:
        sec, tol = desc["seconds_per_clip"], desc["tolerance"]
        print(
            f"\nhand-crafted descriptors alone, {desc['clips']} clips (decoded), best of "
            f"{max(args.repeats, 2)} per clip      wall s/clip   CPU s/clip\n"
            f"  reference (one librosa/scipy call per descriptor) "
            f"{sec['reference_wall']:9.3f} {sec['reference_cpu']:12.3f}\n"
            f"  descriptors (shared work)                         "
            f"{sec['descriptors_wall']:9.3f} {sec['descriptors_cpu']:12.3f}\n"
            f"  speed-up: {desc['speedup_wall']:.2f}x wall, {desc['speedup_cpu']:.2f}x CPU "
            f"(target >= {DESCRIPTOR_TARGET}x); largest difference "
            f"{desc['worst_error_over_tolerance']:.1e} of the tolerance "
            f"(rtol {tol['rtol']:g}, atol {tol['atol']:g})"
        )
        ok = ok and desc["speedup_wall"] >= DESCRIPTOR_TARGET
    print("targets met" if ok else "TARGETS NOT MET")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "clips": len(clips),
                    "clips_kind": kind,
                    "repeats": args.repeats,
                    "seconds": seconds,
                    "clips_per_s": {k: len(clips) / s for k, s in seconds.items()},
                    "ratio_to_floor": ratios,
                    "target": TARGET,
                    "descriptors": desc,
                    "descriptor_target": DESCRIPTOR_TARGET,
                },
                indent=2,
            )
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
