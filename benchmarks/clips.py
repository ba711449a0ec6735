"""What the extraction benchmarks share: the clips they time, and a track index of them.

Imported by the benchmark scripts beside it (``python benchmarks/NAME.py`` puts this folder on
``sys.path``).
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

#: the real GTZAN samples beside the checkout, when present (a fresh clone has none)
SHARED_SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "gtzan-sample"


def prepare_clips(n: int, tmp: Path) -> tuple[list[str], str]:
    """``n`` distinct clip files: the real GTZAN samples copied round-robin, else synthetic clips."""
    if SHARED_SAMPLE.is_dir() and any(SHARED_SAMPLE.glob("genres/*/*.wav")):
        sources = sorted(SHARED_SAMPLE.glob("genres/*/*.wav"))
        kind = f"real GTZAN samples ({len(sources)} clips, copied)"
    else:
        from musiclass.datasets import synthetic

        synthetic.make_gtzan(
            tmp / "synthetic",
            clips_per_genre=max(1, math.ceil(min(n, 100) / 10)),
            seed=0,
            jobs=2,
            progress=False,
        )
        sources = sorted((tmp / "synthetic").glob("genres/*/*.wav"))
        kind = "synthetic GTZAN clips"
    clips = []
    for i in range(n):
        src = sources[i % len(sources)]
        dst = tmp / "clips" / src.parent.name / f"{src.stem}-{i:04d}.wav"
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        clips.append(str(dst))
    return clips, kind


def clip_index(clips: list[str]):
    """A :class:`~musiclass.datasets.base.TrackIndex` of the clips (genre = parent folder name)."""
    import pandas as pd

    from musiclass.datasets.base import TrackIndex

    tracks = pd.DataFrame(
        {
            "track_id": [Path(c).stem for c in clips],
            "path": clips,
            "label": [Path(c).parent.name for c in clips],
            "duration": 30.0,
            "artist": "",
        }
    )
    return TrackIndex(tracks, tuple(sorted(set(tracks["label"]))))
