"""Shared fixtures. Real-data tests read ``../shared/data`` beside the checkout and skip cleanly
when it is absent (a fresh clone has no ``../shared``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from musiclass.datasets.base import TrackIndex


def pytest_configure(config):
    """Compile librosa's numba kernels once, in one process, before any test runs.

    librosa compiles them with ``cache=True`` into its own ``__pycache__``. In a fresh virtualenv
    every test process (xdist workers, and the extraction workers they start) would compile and
    write the same cache files at the same time; a torn file then segfaults its next reader (seen
    on a fresh clone: a Dask test hung on a worker killed that way). After this warm-up the files
    exist and are only read. On an xdist worker it does nothing (the controller has run it).
    """
    if hasattr(config, "workerinput"):
        return
    from musiclass.config import frontend_preset
    from musiclass.features.frontend import Frontend
    from musiclass.features.handcrafted import descriptors

    t = np.arange(4 * 22050) / 22050
    y = (0.3 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 2 * t))).astype(np.float32)
    descriptors(y, 22050)
    Frontend(frontend_preset("genre", "default")).compute(y)


SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
GTZAN_SAMPLE = SHARED / "gtzan-sample"
GENRES = (
    "blues",
    "classical",
    "country",
    "disco",
    "hiphop",
    "jazz",
    "metal",
    "pop",
    "reggae",
    "rock",
)


@pytest.fixture
def shared_data() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared/data is absent (fresh clone)")
    return SHARED


def tone(
    seconds: float,
    sr: int = 22050,
    freqs=(220.0, 330.0),
    seed: int = 0,
    noise: float = 0.05,
    amp: float = 0.5,
) -> np.ndarray:
    """A little chord with noise and an amplitude pulse: enough texture for every descriptor."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(round(seconds * sr))) / sr
    y = sum(np.sin(2 * np.pi * f * t + rng.uniform(0, 6.28)) for f in freqs) / len(freqs)
    y = y * (0.6 + 0.4 * np.sin(2 * np.pi * 2.0 * t) ** 2) + noise * rng.standard_normal(t.size)
    return (amp * y / np.max(np.abs(y))).astype(np.float32)


def write_tone(path: Path, seconds: float, sr: int = 22050, seed: int = 0, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, tone(seconds, sr, seed=seed, **kwargs), sr)
    return path


def tone_index(
    root: Path,
    genres=GENRES[:3],
    per_genre: int = 2,
    seconds: float = 30.0,
    extra: dict[str, Path] | None = None,
) -> TrackIndex:
    """A GTZAN-shaped tree of short tone clips and its TrackIndex (no loader involved)."""
    rows = []
    for gi, g in enumerate(genres):
        for i in range(per_genre):
            p = write_tone(
                root / "genres" / g / f"{g}.{i:05d}.wav",
                seconds,
                seed=10 * gi + i,
                freqs=(110.0 * (gi + 1), 165.0 * (gi + 1) + 7 * i),
            )
            rows.append((f"{g}.{i:05d}", str(p), g, seconds, f"{g}_artist_{i % 2}"))
    for track_id, p in (extra or {}).items():
        rows.append((track_id, str(p), genres[0], np.nan, ""))
    tracks = pd.DataFrame(rows, columns=["track_id", "path", "label", "duration", "artist"])
    return TrackIndex(tracks, tuple(sorted(genres)), dataset="tones", root=str(root))


@pytest.fixture
def tones(tmp_path) -> TrackIndex:
    return tone_index(tmp_path / "tones")
