"""The Keras spectral frontend: frames equal to the stored (numpy) ones, saving, export, audio batches."""

from __future__ import annotations

import json

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from musiclass import splits  # noqa: E402
from musiclass.config import frontend_preset  # noqa: E402
from musiclass.errors import AudioError, ConfigError, FileError, MusiclassError  # noqa: E402
from musiclass.features.frontend import Frontend  # noqa: E402
from musiclass.models import build_model  # noqa: E402
from musiclass.models.frontend_layer import (  # noqa: E402
    SpectralFrontend,
    audio_batches,
    audio_frames,  # noqa: E402
    context_samples,
    evenly_spaced,
    export_with_frontend,
    load_model,
    with_frontend,
)

from .conftest import GTZAN_SAMPLE, tone, tone_index, write_tone  # noqa: E402

REPS = ("mel", "spectrogram", "mfcc")
#: measured on tones and the GTZAN sample (CPU): mel <= 5e-4 dB, spectrogram <= 5e-3 dB, mfcc <= 1.3e-4
TOL = {"mel": 0.1, "spectrogram": 0.1, "mfcc": 0.01}
#: a small frontend for the model tests: 1 s frames of 32 mel bands, (32, 44)
SMALL = frontend_preset(
    "genre",
    "default",
    n_mels=32,
    frame_seconds=1.0,
    hop_seconds=0.5,
    representations=("mel",),
    handcrafted=False,
)


def _layers(cfg, reps=REPS):
    return {r: SpectralFrontend(cfg, r) for r in reps}


def _max_diffs(cfg, y, layers) -> dict[str, float]:
    """Max abs difference, per representation, between the layer and the numpy frontend on ``y``."""
    ref = Frontend(cfg).compute(y)
    starts, rows = audio_frames(y, cfg)
    np.testing.assert_allclose(starts, ref.starts)
    out = {}
    for r, layer in layers.items():
        got = layer(rows)
        assert got.dtype == "float32"
        got = np.asarray(got)
        assert got.shape == ref.arrays[r].shape
        out[r] = float(np.abs(got - ref.arrays[r]).max())
    return out


@pytest.fixture(scope="module")
def default_layers():
    return _layers(frontend_preset("genre", "default"))


@pytest.fixture(scope="module")
def seed_layers():
    return _layers(frontend_preset("genre", "seed"))


# ------------------------------------------------------------------------------ numerical match
@pytest.mark.parametrize("seconds", [30.0, 7.3, 2.0])
def test_layer_matches_the_numpy_frontend_on_tones(seconds, default_layers, seed_layers):
    y = tone(seconds, seed=int(seconds * 10))
    for preset, layers in (("default", default_layers), ("seed", seed_layers)):
        diffs = _max_diffs(frontend_preset("genre", preset), y, layers)
        assert all(diffs[r] <= TOL[r] for r in REPS), (preset, diffs)


def test_layer_matches_the_numpy_frontend_on_a_gtzan_clip(shared_data, default_layers, seed_layers):
    from musiclass import audio

    files = sorted(p for p in GTZAN_SAMPLE.rglob("*") if p.suffix in (".wav", ".au"))
    if not files:
        pytest.skip("no GTZAN sample clip")
    y, _ = audio.load(files[0], sr=22050)
    for preset, layers in (("default", default_layers), ("seed", seed_layers)):
        diffs = _max_diffs(frontend_preset("genre", preset), y, layers)
        assert all(diffs[r] <= TOL[r] for r in REPS), (preset, files[0].name, diffs)


@pytest.mark.parametrize(
    "overrides",
    [
        dict(),
        dict(min_fill=0.5, max_frames=4),
        dict(trim_start=1.0, trim_end=2.0, trim_min_duration=5.0, min_fill=0.5),
        dict(stft="frame", pad_mode="reflect", hop_seconds=1.5, min_fill=0.5, max_frames=6),
        dict(pad_mode="reflect", frame_columns=100, hop_seconds=0.7),
        dict(n_mels=64, fmin=50.0, fmax=8000.0, top_db=None),
    ],
)
def test_frame_counts_starts_and_shapes_follow_the_numpy_frontend(overrides):
    cfg = frontend_preset("genre", "default", representations=("mel",), **overrides)
    layer = SpectralFrontend(cfg, "mel")
    for seconds in (1.2, 3.0, 4.4, 9.05):
        y = tone(seconds, seed=5)
        ref = Frontend(cfg).compute(y)
        starts, rows = audio_frames(y, cfg)
        assert rows.shape == (len(ref), context_samples(cfg)) and rows.dtype == np.float32
        np.testing.assert_allclose(starts, ref.starts)
        got = np.asarray(layer(rows))
        assert got.shape == ref.arrays["mel"].shape == (len(ref), *cfg.shape("mel"))
        assert np.abs(got - ref.arrays["mel"]).max() <= TOL["mel"]


def test_context_samples_and_float16_stores():
    assert context_samples(frontend_preset("genre", "default")) == 129 * 512 + 1024
    assert context_samples(frontend_preset("genre", "seed")) == 66150
    # a store keeping float16 frames: the layer rounds as the store does
    cfg = SMALL.replace(dtype="float16")
    y = tone(3.3)
    ref = Frontend(cfg).compute(y).arrays["mel"].astype(np.float16).astype(np.float32)
    got = np.asarray(SpectralFrontend(cfg, "mel")(audio_frames(y, cfg)[1]))
    assert got.dtype == np.float32 and np.abs(got - ref).max() <= 0.02


def test_float32_and_identical_under_mixed_precision():
    cfg = frontend_preset("genre", "default")
    rows = audio_frames(tone(5.0), cfg)[1]
    plain = {r: np.asarray(SpectralFrontend(cfg, r)(rows)) for r in REPS}
    before = keras.mixed_precision.global_policy()
    try:
        keras.mixed_precision.set_global_policy("mixed_float16")
        for r in REPS:
            layer = SpectralFrontend(cfg, r)
            assert layer.compute_dtype == "float32"
            out = layer(rows.astype(np.float16).astype(np.float32))
            assert out.dtype == "float32"
            np.testing.assert_array_equal(np.asarray(layer(rows)), plain[r])
        model = with_frontend(build_model("cnn-3", SMALL.shape("mel"), 3), SMALL, "mel")
        assert model.get_layer("spectral_frontend").compute_dtype == "float32"
        assert model.get_layer("spectral_frontend").output.dtype == "float32"
    finally:
        keras.mixed_precision.set_global_policy(before)


# ------------------------------------------------------------------------------ models and files
def test_with_frontend_saves_and_loads_in_safe_mode(tmp_path):
    net = build_model("cnn-3", SMALL.shape("mel"), 3)
    model = with_frontend(net, SMALL, "mel")
    layer = model.get_layer("spectral_frontend")
    assert not layer.weights and not layer.trainable
    assert model.input_shape == (None, context_samples(SMALL))
    rows = np.concatenate([audio_frames(tone(4.0, seed=s), SMALL)[1] for s in range(2)])
    model.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_allclose(
        again.predict(rows, verbose=0), model.predict(rows, verbose=0), atol=1e-6
    )
    np.testing.assert_allclose(
        model.predict(rows, verbose=0), net.predict(np.asarray(layer(rows)), verbose=0), atol=1e-6
    )
    assert again.get_layer("spectral_frontend").get_config()["config"] == SMALL.to_dict()
    assert load_model(tmp_path / "m.keras").count_params() == model.count_params()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A cnn-3 trained (2 epochs) on a store of the genre default mel frames of 6 s tones."""
    from musiclass.features.extract import extract
    from musiclass.training import train, train_preset

    root = tmp_path_factory.mktemp("frontend_layer")
    index = tone_index(
        root / "tones", genres=("blues", "classical", "country"), per_genre=4, seconds=6.0
    )
    cfg = frontend_preset("genre", "default", handcrafted=False, representations=["mel"])
    store = extract(index, cfg, root / "store", jobs=1, progress=False).store
    splits.save(
        splits.song_split(store.tracks(), (0.5, 0.25, 0.25), seed=0),
        store.path / "splits" / "song.csv",
    )
    config = train_preset(
        "default",
        model="cnn-3",
        representation="mel",
        epochs=2,
        batch_size=16,
        early_stopping_patience=None,
        reduce_lr_patience=None,
        tensorboard=False,
    )
    result = train(store, "song", config, root / "model", progress=False, n_boot=10)
    return store, index, result.model_dir


def test_export_with_frontend_predicts_like_the_trained_model(trained, tmp_path):
    from musiclass import audio

    store, index, model_dir = trained
    out = export_with_frontend(model_dir, tmp_path / "audio")
    front = json.loads((out / "frontend.json").read_text())
    original = json.loads((model_dir / "frontend.json").read_text())
    n = context_samples(store.config)
    assert front == {
        **original,
        "input": "audio",
        "context_samples": n,
        "input_shape": [n],
        "frame_shape": original["input_shape"],
    }
    assert (out / "labels.json").read_text() == (model_dir / "labels.json").read_text()
    audio_model = keras.saving.load_model(out / "model.keras", safe_mode=True)
    frame_model = keras.saving.load_model(model_dir / "model.keras", safe_mode=True)
    track = index.tracks.iloc[0]
    rows = store.index[store.index["track_id"] == track["track_id"]]["row"].to_numpy()
    expected = frame_model.predict(store.array("mel").rows(rows), verbose=0)
    y, _ = audio.load(track["path"], sr=store.config.sample_rate)
    rows_audio = audio_frames(y, store.config)[1]
    got = audio_model.predict(rows_audio, verbose=0)
    assert got.shape == expected.shape == (3, 3)
    frames = np.asarray(audio_model.get_layer("spectral_frontend")(rows_audio))
    assert np.abs(frames - store.array("mel").rows(rows)).max() <= TOL["mel"]  # the stored frames
    np.testing.assert_allclose(got, expected, atol=1e-3)


def test_clear_errors_for_representations_and_model_dirs(trained, tmp_path):
    import shutil

    _, _, model_dir = trained
    with pytest.raises(ConfigError, match="no 'mfcc'"):
        SpectralFrontend(SMALL, "mfcc")
    with pytest.raises(ConfigError, match="unknown representation"):
        SpectralFrontend(frontend_preset("genre", "default"), "chroma")
    with pytest.raises(ConfigError, match="takes input"):
        with_frontend(build_model("cnn-3", (64, 44), 3), SMALL, "mel")
    with pytest.raises(ConfigError, match="samples"):
        SpectralFrontend(SMALL, "mel")(np.zeros((1, 100), np.float32))
    with pytest.raises(FileError, match="model directory not found"):
        export_with_frontend(tmp_path / "nowhere", tmp_path / "out")
    for name in ("model.keras", "frontend.json", "labels.json"):
        broken = tmp_path / f"no-{name}"
        shutil.copytree(model_dir, broken)
        (broken / name).unlink()
        with pytest.raises(FileError, match=name.replace(".", r"\.")):
            export_with_frontend(broken, tmp_path / "out")
    bad = tmp_path / "wrong-rep"
    shutil.copytree(model_dir, bad)
    front = json.loads((bad / "frontend.json").read_text())
    (bad / "frontend.json").write_text(json.dumps({**front, "representation": "mfcc"}))
    with pytest.raises(ConfigError, match="no 'mfcc'"):
        export_with_frontend(bad, tmp_path / "out")
    assert issubclass(FileError, MusiclassError)


# ------------------------------------------------------------------------------ training from audio
@pytest.fixture(scope="module")
def tone_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("audio_batches")
    return [(write_tone(root / f"t{i}.wav", 2.0 + 0.5 * i, seed=i), i % 3) for i in range(6)]


def test_audio_batches_shapes_targets_and_seeded_order(tone_files):
    seq = audio_batches(tone_files, SMALL, batch_tracks=4, shuffle=True, seed=7)
    twin = audio_batches(tone_files, SMALL, batch_tracks=4, shuffle=True, seed=7)
    n_frames = {i: len(audio_frames(tone(2.0 + 0.5 * i, seed=i), SMALL)[1]) for i in range(6)}
    assert len(seq) == 2
    orders = []
    for _ in range(2):
        seq.on_epoch_begin()
        twin.on_epoch_begin()
        x, y = seq[0]
        x2, y2 = twin[0]
        np.testing.assert_array_equal(x, x2)
        np.testing.assert_array_equal(y, y2)
        assert x.dtype == np.float32 and x.shape == (len(y), context_samples(SMALL))
        tracks = seq.order[:4]
        assert np.array_equal(
            y, np.repeat([tone_files[t][1] for t in tracks], [n_frames[t] for t in tracks])
        )
        assert sum(len(seq[i][1]) for i in range(len(seq))) == sum(n_frames.values())
        orders.append(seq.order.copy())
        seq.on_epoch_end()
        twin.on_epoch_end()
    assert not np.array_equal(orders[0], orders[1])
    # the first track's rows are exactly audio_frames of its decoded audio
    first = int(orders[1][0])
    np.testing.assert_allclose(
        seq[0][0][: n_frames[first]],
        audio_frames(tone(2.0 + 0.5 * first, seed=first), SMALL)[1],
        atol=1e-4,
    )
    two = audio_batches(tone_files, SMALL, batch_tracks=6, shuffle=False, frames_per_track=2)
    assert len(two[0][0]) == 2 * 6
    assert list(evenly_spaced(5, 2)) == [0, 3] and list(evenly_spaced(3, 9)) == [0, 1, 2]


def test_fit_one_epoch_from_audio_and_undecodable_tracks(tone_files, tmp_path):
    keras.utils.set_random_seed(0)
    model = with_frontend(build_model("cnn-3", SMALL.shape("mel"), 3), SMALL, "mel")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(
        audio_batches(tone_files, SMALL, batch_tracks=3, seed=1), epochs=1, verbose=0
    )
    assert np.isfinite(history.history["loss"][0])
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"not audio at all")
    seq = audio_batches([(broken, 0), *tone_files], SMALL, batch_tracks=2, shuffle=False)
    with pytest.raises(AudioError, match="broken.wav"):
        seq[0]
