"""Property-based checks of the framing rules, for random lengths and frame parameters."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from musiclass.config import frontend_preset
from musiclass.features.frontend import Frontend

SR = 8000


@st.composite
def frame_configs(draw):
    stft = draw(st.sampled_from(["track", "frame"]))
    n_fft = draw(st.sampled_from([256, 512]))
    hop = draw(st.sampled_from([64, 128, n_fft // 2]))
    frame_s = draw(st.floats(0.2, 1.5))
    hop_s = draw(st.floats(0.05, 1.5))
    min_fill = draw(st.sampled_from([0.25, 0.5, 1.0]))
    max_frames = draw(st.one_of(st.none(), st.integers(1, 6)))
    return frontend_preset(
        "genre",
        "default",
        sample_rate=SR,
        n_fft=n_fft,
        hop_length=hop,
        n_mels=32,
        n_mfcc=8,
        stft=stft,
        frame_seconds=frame_s,
        hop_seconds=hop_s,
        min_fill=min_fill,
        max_frames=max_frames,
        pad_mode="constant",
        handcrafted=False,
    )


@settings(max_examples=60, deadline=None)
@given(cfg=frame_configs(), n=st.integers(1, 4 * SR))
def test_frame_count_follows_the_definition(cfg, n):
    fe = Frontend(cfg)
    L, H = cfg.frame_length, cfg.frame_hop
    # by definition: frame k starts at k*H and is kept when at least min_fill of it is audio;
    # a signal shorter than that still yields one (padded) frame
    need = math.ceil(cfg.min_fill * L)
    kept = [k for k in range(n // H + 2) if k * H < n and min(n - k * H, L) >= need]
    expected = max(1, len(kept) if kept else 0)
    if kept:
        assert kept == list(range(len(kept))), "kept frames are a prefix"
    if cfg.max_frames is not None:
        expected = min(expected, cfg.max_frames)
    assert fe.n_frames(n) == expected


@settings(max_examples=40, deadline=None)
@given(cfg=frame_configs(), n=st.integers(SR // 10, 3 * SR), seed=st.integers(0, 2**16))
def test_outputs_have_consistent_shapes_and_ranges(cfg, n, seed):
    y = np.random.default_rng(seed).standard_normal(n).astype(np.float32) * 0.1
    out = Frontend(cfg).compute(y)
    k = len(out)
    assert k == Frontend(cfg).n_frames(n)
    for rep in cfg.representations:
        a = out.arrays[rep]
        assert a.shape == (k, *cfg.shape(rep)) and a.dtype == np.float32 and np.all(np.isfinite(a))
    mel = out.arrays["mel"]
    assert np.all(mel <= 0) and np.all(mel >= -cfg.top_db)
    np.testing.assert_allclose(np.diff(out.starts), cfg.frame_hop / SR, rtol=0, atol=1e-9)
    assert np.all((out.fill > 0) & (out.fill <= 1))
    assert np.all(np.diff(out.fill) <= 0), "fill never increases along the track"
    if k > 1:
        assert np.all(out.fill >= cfg.min_fill - 1e-9), (
            "every kept frame is at least min_fill audio"
        )
