#!/usr/bin/env python
"""Pretrained-model benchmark: musicnn embeddings against the spectral frontend, and predict throughput.

1. **Embedding extraction per audio hour, one core**: for N 30 s clips at 22.05 kHz (the GTZAN
   sample beside the checkout when present, else seeded tones), the ``embeddings`` extractor's work
   per track (resampling to 16 kHz, musicnn's log-mel, the network on every 3 s patch, the mean and
   spread of its outputs) against the numpy ``Frontend`` of the genre ``default`` preset (mel
   frames, what ``musiclass extract`` computes per track), both on one thread (BLAS and
   TensorFlow limited to 1). Printed as seconds of CPU per hour of audio and their ratio.
2. **Predict throughput**: ``musiclass.predict.predict`` over the same clips written as WAV files,
   one decoding thread, for the pretrained tagger ``musicnn-mtt`` and for a CNN-7 model directory
   on mel frames of the genre ``default`` preset (untrained weights: the time does not depend on
   them). Printed as tracks/s and their ratio.

musicnn's published weights are used when cached (``musiclass models --download``), random ones
otherwise (the same arithmetic). Peak resident memory is printed at the end.

    python benchmarks/pretrained_bench.py            # 10 clips
    python benchmarks/pretrained_bench.py --clips 30
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from frontend_bench import best_of, clips  # noqa: E402


def cnn7_model_dir(folder: Path) -> Path:
    """An (untrained) CNN-7 model directory on mel frames of the genre ``default`` preset."""
    from musiclass.config import frontend_preset
    from musiclass.layout import ModelDir
    from musiclass.models import build_model
    from musiclass.utils import write_json_atomic

    cfg = frontend_preset("genre", "default", representations=("mel",), handcrafted=False)
    classes = ["blues", "classical", "country", "disco", "hiphop"]
    classes += ["jazz", "metal", "pop", "reggae", "rock"]
    shape = list(cfg.shape("mel"))
    md = ModelDir(folder)
    folder.mkdir(parents=True, exist_ok=True)
    build_model("cnn-7", tuple(shape), len(classes)).save(md.model)
    write_json_atomic(md.labels, {"classes": classes, "multilabel": False})
    write_json_atomic(
        md.frontend,
        {
            "config": cfg.to_dict(),
            "hash": cfg.hash(),
            "representation": "mel",
            "input_shape": shape,
        },
    )
    return folder


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clips", type=int, default=10, help="number of 30 s clips (default 10)")
    ap.add_argument(
        "--repeats", type=int, default=2, help="timed runs per variant; the best counts"
    )
    args = ap.parse_args(argv)

    import soundfile as sf
    import tensorflow as tf
    from threadpoolctl import threadpool_limits

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)

    from musiclass import audio
    from musiclass.config import frontend_preset
    from musiclass.features.frontend import Frontend
    from musiclass.predict import PretrainedPredictor, load_predictor, predict
    from musiclass.pretrained import musicnn, weights
    from musiclass.pretrained.embeddings import track_embedding
    from musiclass.pretrained.tagger import Tagger

    ys, source = clips(args.clips)
    hours = len(ys) * 30.0 / 3600
    published = weights.is_cached()
    arch = musicnn.ARCHITECTURES["MTT_musicnn"]
    net = weights.load_network(arch) if published else musicnn.build(arch)
    tagger = Tagger(net, arch)
    print(
        f"{len(ys)} clips of 30 s ({source}); musicnn weights: "
        f"{'published (cached)' if published else 'random (not cached)'}"
    )

    cfg = frontend_preset("genre", "default", representations=("mel",), handcrafted=False)
    fe = Frontend(cfg)

    def embed_all():
        for y in ys:
            track_embedding(tagger, audio.resample(y, 22050, musicnn.SAMPLE_RATE))

    with threadpool_limits(1):
        fe.compute(ys[0])
        embed_all()  # warm-up: tracing
        t_front = best_of(lambda: [fe.compute(y) for y in ys], args.repeats)
        t_embed = best_of(embed_all, args.repeats)
    print("\n1. per hour of audio, one core")
    print(f"{'variant':<46}{'s / audio hour':>16}{'x frontend':>12}")
    for name, t in (
        ("spectral Frontend (genre default, mel)", t_front),
        ("musicnn embeddings (resample, log-mel, net)", t_embed),
    ):
        print(f"{name:<46}{t / hours:>16.1f}{t / t_front:>12.2f}")

    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i, y in enumerate(ys):
            files.append(str(Path(tmp) / f"clip{i:03d}.wav"))
            sf.write(files[-1], y, 22050)
        mtt = PretrainedPredictor("musicnn-mtt", tagger)
        cnn7 = load_predictor(cnn7_model_dir(Path(tmp) / "cnn7"))
        results = []
        with threadpool_limits(1):
            for name, predictor in (
                ("musicnn-mtt (pretrained tagger)", mtt),
                ("CNN-7 model dir", cnn7),
            ):
                predict(predictor, files[:2], progress=False)  # warm-up
                t = best_of(lambda p=predictor: predict(p, files, progress=False), args.repeats)
                results.append((name, t))
    print("\n2. predict throughput (one decoding thread, one core)")
    print(f"{'variant':<46}{'tracks/s':>10}{'x CNN-7':>10}")
    t_cnn = results[1][1]
    for name, t in results:
        print(f"{name:<46}{len(files) / t:>10.2f}{t_cnn / t:>10.2f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak resident memory: {peak:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
