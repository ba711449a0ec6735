"""musicnn in Keras 3: its input against its definition, its architecture against a transcription of
musicnn/models.py in raw TensorFlow ops, the checkpoint loader on a fake TF1 checkpoint, the wheel's
pinning, and the two tag lists musicnn's README documents.

The documented lists need musicnn's two example recordings and its weights:

* the audio is kept out of git (the MSD clip is a 7digital preview, not freely licensed) in
  ``tests/fixtures/musicnn/`` (gitignored); it is copied there from a checkout of
  jordipons/musicnn named by ``$MUSICNN_REPO`` (its ``audio/`` folder, or ``HEAD:audio/`` of a bare
  git directory), e.g. ``git clone https://github.com/jordipons/musicnn /tmp/musicnn`` then
  ``MUSICNN_REPO=/tmp/musicnn pytest tests/test_musicnn.py``;
* the weights come from the cache (``musiclass models --download`` fills it).

Without either, those tests skip and say which is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import librosa
import numpy as np
import pytest
import scipy.signal

from musiclass import audio
from musiclass.errors import FileError
from musiclass.pretrained import musicnn as M
from musiclass.pretrained import weights as W

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "musicnn"
JORAM = "joram-moments_of_clarity-08-solipsism-59-88.mp3"
MSD_CLIP = "TRWJAZW128F42760DD_test.mp3"


# ------------------------------------------------------------------------------ input
def _definition(y: np.ndarray) -> np.ndarray:
    """musicnn's input written out: centred reflect-padded Hann frames, |FFT|^2, Slaney mel, float16,
    then log10(10000 x + 1) in float32."""
    pad = np.pad(y.astype(np.float64), 256, mode="reflect")
    n = 1 + (len(pad) - 512) // 256
    window = scipy.signal.get_window("hann", 512, fftbins=True)
    frames = np.stack([pad[i * 256 : i * 256 + 512] * window for i in range(n)])
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    mel = power @ librosa.filters.mel(sr=16000, n_fft=512, n_mels=96).T
    return np.log10(10000 * mel.astype(np.float16).astype(np.float64) + 1)


def test_log_mel_is_its_definition():
    rng = np.random.default_rng(0)
    t = np.arange(16000) / 16000
    y = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(t.size)
    got = M.log_mel(y.astype(np.float32))
    want = _definition(y.astype(np.float32))
    assert got.shape == (1 + 16000 // 256, 96) == want.shape
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=2e-3, atol=2e-3)  # float16 rounding of the mel


def test_log_mel_of_a_loud_signal_is_finite():
    # NumPy 2 keeps 10000 * float16 in float16 (inf above 6.55); musicnn's NumPy 1.16 made it float32
    y = np.sin(2 * np.pi * 1000 * np.arange(8000) / 16000).astype(np.float32)
    got = M.log_mel(y)
    assert np.isfinite(got).all()
    assert got.max() > np.log10(10000 * 6.55 + 1)  # a mel value above float16 max / 10000 was kept


def test_patches_drop_the_tail_and_repeat_a_short_clip():
    spec = np.arange(400 * 2, dtype=np.float32).reshape(400, 2)
    starts, x = M.patches(spec)
    assert x.shape == (2, 187, 2)  # 400 // 187 whole patches; 26 frames dropped, as musicnn
    np.testing.assert_array_equal(x[1], spec[187:374])
    np.testing.assert_allclose(starts, [0.0, 187 * 256 / 16000])
    starts, x = M.patches(spec[:100])
    assert x.shape == (1, 187, 2)
    np.testing.assert_array_equal(x[0, 100:187], spec[:87])
    _, x = M.patches(spec, hop=100)
    assert len(x) == 3  # starts 0, 100, 200 (the last ends at 387)
    assert M.PATCH_FRAMES == librosa.time_to_frames(3, sr=16000, n_fft=512, hop_length=256) + 1


# ------------------------------------------------------------------------------ architecture
#: the checkpoint variables of MTT_musicnn / MSD_musicnn, shapes read off musicnn/models.py
MUSICNN_SHAPES = {
    "batch_normalization": 1,
    "conv2d": (7, 38, 1, 204),
    "batch_normalization_1": 204,
    "conv2d_1": (7, 67, 1, 204),
    "batch_normalization_2": 204,
    "conv2d_2": (128, 1, 1, 51),
    "batch_normalization_3": 51,
    "conv2d_3": (64, 1, 1, 51),
    "batch_normalization_4": 51,
    "conv2d_4": (32, 1, 1, 51),
    "batch_normalization_5": 51,
    "conv2d_5": (7, 561, 1, 64),
    "batch_normalization_6": 64,
    "conv2d_6": (7, 64, 1, 64),
    "batch_normalization_7": 64,
    "conv2d_7": (7, 64, 1, 64),
    "batch_normalization_8": 64,
    "batch_normalization_9": 1506,
    "dense": (1506, 200),
    "batch_normalization_10": 200,
    "dense_1": (200, 50),
}


def fake_variables(shapes: dict, seed: int = 0) -> dict[str, np.ndarray]:
    """Random TF1-named variables (batch-norm statistics plausible), plus Adam slots to ignore."""
    rng = np.random.default_rng(seed)
    out = {}
    for scope, shape in shapes.items():
        if isinstance(shape, int):
            out[f"{scope}/gamma"] = rng.uniform(0.5, 1.5, shape)
            out[f"{scope}/beta"] = rng.normal(0, 0.1, shape)
            out[f"{scope}/moving_mean"] = rng.normal(0, 0.1, shape)
            out[f"{scope}/moving_variance"] = rng.uniform(0.5, 1.5, shape)
        else:
            fan_in = int(np.prod(shape[:-1]))
            out[f"{scope}/kernel"] = rng.normal(0, 1 / np.sqrt(fan_in), shape)
            out[f"{scope}/bias"] = rng.normal(0, 0.05, shape[-1])
            out[f"{scope}/kernel/Adam"] = np.zeros(shape)
    return {k: v.astype(np.float32) for k, v in out.items()}


def reference_musicnn(x: np.ndarray, v: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """musicnn/models.py's build_musicnn in inference mode, transcribed with raw TensorFlow ops."""
    import tensorflow as tf

    def bn(h, s):
        return tf.nn.batch_normalization(
            h,
            v[f"{s}/moving_mean"],
            v[f"{s}/moving_variance"],
            v[f"{s}/beta"],
            v[f"{s}/gamma"],
            1e-3,
        )

    def conv(h, s, padding):
        return tf.nn.relu(tf.nn.conv2d(h, v[f"{s}/kernel"], 1, padding) + v[f"{s}/bias"])

    def pad(h):
        return tf.pad(h, [[0, 0], [3, 3], [0, 0], [0, 0]])

    n = bn(tf.expand_dims(tf.constant(x), 3), "batch_normalization")
    f74 = tf.reduce_max(bn(conv(pad(n), "conv2d", "VALID"), "batch_normalization_1"), axis=2)
    f77 = tf.reduce_max(bn(conv(pad(n), "conv2d_1", "VALID"), "batch_normalization_2"), axis=2)
    temporal = [
        tf.reduce_max(bn(conv(n, f"conv2d_{i}", "SAME"), f"batch_normalization_{i + 1}"), axis=2)
        for i in (2, 3, 4)
    ]
    front = tf.expand_dims(tf.concat([f74, f77, *temporal], 2), 3)
    c1 = tf.transpose(
        bn(conv(pad(front), "conv2d_5", "VALID"), "batch_normalization_6"), [0, 1, 3, 2]
    )
    c2 = tf.transpose(bn(conv(pad(c1), "conv2d_6", "VALID"), "batch_normalization_7"), [0, 1, 3, 2])
    r2 = c2 + c1
    c3 = tf.transpose(bn(conv(pad(r2), "conv2d_7", "VALID"), "batch_normalization_8"), [0, 1, 3, 2])
    r3 = c3 + r2
    mid = tf.concat([front, c1, r2, r3], 2)
    max_pool, mean_pool = tf.reduce_max(mid, axis=1), tf.reduce_mean(mid, axis=1)
    flat = tf.reshape(tf.concat([max_pool, mean_pool], 2), [len(x), -1])
    h = tf.nn.relu(bn(flat, "batch_normalization_9") @ v["dense/kernel"] + v["dense/bias"])
    penultimate = bn(h, "batch_normalization_10")
    logits = penultimate @ v["dense_1/kernel"] + v["dense_1/bias"]
    return {
        "taggram": tf.sigmoid(logits).numpy(),
        "penultimate": penultimate.numpy(),
        "max_pool": tf.squeeze(max_pool, 2).numpy(),
        "mean_pool": tf.squeeze(mean_pool, 2).numpy(),
    }


def write_tf1_checkpoint(folder: Path, variables: dict[str, np.ndarray]) -> None:
    """A TF1 checkpoint laid out as musicnn's: prefix = the folder + '/'."""
    import tensorflow as tf

    folder.mkdir(parents=True, exist_ok=True)
    g = tf.Graph()
    with g.as_default():
        tf_vars = {k: tf.compat.v1.Variable(val, name=k) for k, val in variables.items()}
        saver = tf.compat.v1.train.Saver(tf_vars)
        with tf.compat.v1.Session(graph=g) as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            saver.save(sess, str(folder) + "/", write_meta_graph=False)


@pytest.fixture(scope="module")
def musicnn_net():
    return M.build("MTT_musicnn")


def test_output_shapes(musicnn_net):
    x = np.zeros((2, 187, 96), np.float32)
    out = musicnn_net.predict_on_batch(x)
    shapes = {k: tuple(np.asarray(v).shape) for k, v in out.items()}
    assert shapes == {
        "taggram": (2, 50),
        "logits": (2, 50),
        "penultimate": (2, 200),
        "max_pool": (2, 753),
        "mean_pool": (2, 753),
    }
    assert musicnn_net.count_params() == sum(
        int(np.prod(s)) * (1 if isinstance(s, tuple) else 4)
        + (s[-1] if isinstance(s, tuple) else 0)
        for s in MUSICNN_SHAPES.values()
    )
    vgg = M.build("MTT_vgg")
    out = vgg.predict_on_batch(x[:1])
    assert np.asarray(out["pool5"]).shape == (1, 256) and np.asarray(out["taggram"]).shape == (
        1,
        50,
    )


def test_fake_checkpoint_loads_and_matches_models_py(tmp_path, musicnn_net):
    variables = fake_variables(MUSICNN_SHAPES)
    folder = tmp_path / "MTT_musicnn"
    write_tf1_checkpoint(folder, variables)
    read = W.read_checkpoint(folder)
    assert set(read) == set(variables)  # Adam slots included; they are ignored by assign
    W.assign(musicnn_net, read, M.MUSICNN_VARIABLES, folder)
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 4, (2, 187, 96)).astype(np.float32)
    got = {k: np.asarray(v) for k, v in musicnn_net.predict_on_batch(x).items()}
    want = reference_musicnn(x, variables)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-4, atol=1e-4, err_msg=key)
    assert got["taggram"].std() > 1e-3  # random weights give varied outputs: the check has teeth


def test_assign_names_the_missing_or_misshapen_variable(musicnn_net):
    variables = fake_variables(MUSICNN_SHAPES)
    del variables["conv2d_6/bias"]
    with pytest.raises(FileError, match="conv2d_6/bias"):
        W.assign(musicnn_net, variables, M.MUSICNN_VARIABLES, "ckpt")
    variables = fake_variables(MUSICNN_SHAPES)
    variables["dense_1/kernel"] = np.zeros((200, 10), np.float32)
    with pytest.raises(FileError, match=r"dense_1/kernel has shape \(200, 10\)"):
        W.assign(musicnn_net, variables, M.MUSICNN_VARIABLES, "ckpt")
    with pytest.raises(FileError, match="no checkpoint variable mapped"):
        W.assign(musicnn_net, variables, {"input_bn": "batch_normalization"}, "ckpt")


# ------------------------------------------------------------------------------ the wheel
def test_a_wheel_with_another_hash_is_refused(tmp_path):
    fake = W.wheel_path(tmp_path)
    fake.parent.mkdir(parents=True)
    fake.write_bytes(b"not the wheel")
    with pytest.raises(W.WeightsUnavailable, match="is not the pinned"):
        W.wheel(tmp_path)


def test_no_network_is_one_clear_error(tmp_path, monkeypatch):
    with pytest.raises(W.WeightsUnavailable, match="not cached"):
        W.wheel(tmp_path, download=False)

    def offline(cmd, **kwargs):
        assert cmd[1:4] == ["-m", "pip", "download"] and "musicnn==0.1.0" in cmd
        return subprocess.CompletedProcess(cmd, 1, "", "ERROR: No matching distribution found\n")

    monkeypatch.setattr(W.subprocess, "run", offline)
    with pytest.raises(W.WeightsUnavailable) as info:
        W.checkpoint_folder("MTT_musicnn", tmp_path)
    message = str(info.value)
    assert "\n" not in message and "No matching distribution found" in message
    assert not W.is_cached(tmp_path)


def test_cache_folder_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("MUSICLASS_CACHE", str(tmp_path))
    assert W.wheel_path() == tmp_path / "musicnn-0.1.0" / W.WHEEL_NAME


# ------------------------------------------------------------------------------ documented tags
def _fixture(name: str) -> Path:
    path = FIXTURES / name
    if path.is_file():
        return path
    repo = os.environ.get("MUSICNN_REPO")
    if repo:
        FIXTURES.mkdir(parents=True, exist_ok=True)
        checkout = Path(repo) / "audio" / name
        if checkout.is_file():
            shutil.copyfile(checkout, path)
        else:  # a bare git directory of the repository
            done = subprocess.run(
                ["git", f"--git-dir={repo}", "show", f"HEAD:audio/{name}"],
                capture_output=True,
                timeout=60,
            )
            if done.returncode == 0:
                path.write_bytes(done.stdout)
    if not path.is_file():
        pytest.skip(f"{path} is absent: set MUSICNN_REPO to a jordipons/musicnn checkout")
    return path


_NETS: dict = {}


def _weights(model: str):
    if model in _NETS:
        return _NETS[model]
    if not W.is_cached():
        pytest.skip(
            f"musicnn's weights are not cached ({W.wheel_path()}): `musiclass models --download`"
        )
    _NETS[model] = W.load_network(model)
    return _NETS[model]


def top_tags(path: Path, model: str = "MTT_musicnn", top_n: int = 3) -> list[str]:
    """musicnn's tagger.top_tags: the taggram's mean over 3 s patches, sorted."""
    y, _ = audio.load(path, sr=M.SAMPLE_RATE)
    _, x = M.patches(M.log_mel(y))
    taggram = np.asarray(_weights(model).predict_on_batch(x)["taggram"])
    labels = M.ARCHITECTURES[model].labels
    return [labels[i] for i in taggram.mean(axis=0).argsort()[-top_n:][::-1]]


def test_documented_tags_of_the_magnatagatune_clip():
    path = _fixture(JORAM)
    assert top_tags(path, "MTT_musicnn", 10) == [
        "techno",
        "electronic",
        "synth",
        "fast",
        "beat",
        "drums",
        "no vocals",
        "no vocal",
        "dance",
        "ambient",
    ]


def test_documented_tags_of_the_msd_clip():
    path = _fixture(MSD_CLIP)
    assert top_tags(path) == ["guitar", "piano", "fast"]


# ------------------------------------------------------------------------------ predict by name
@pytest.fixture
def fake_published(monkeypatch, musicnn_net):
    """``musicnn-mtt`` served by the module's network (no download); returns that network."""
    import musiclass.predict as predict_module
    from musiclass.pretrained.tagger import load_tagger

    monkeypatch.setattr(
        predict_module,
        "load_tagger",
        lambda name, batch_size=64: load_tagger(name, batch_size=batch_size, network=musicnn_net),
    )
    return musicnn_net


def test_predict_takes_a_pretrained_name(tmp_path, fake_published):
    import soundfile as sf

    from musiclass.predict import PretrainedPredictor, load_predictor, predict

    from .conftest import tone

    sf.write(tmp_path / "long.wav", tone(7.0, 22050, seed=1), 22050)  # 2 whole patches at 16 kHz
    sf.write(tmp_path / "short.wav", tone(1.0, 22050, seed=2), 22050)
    predictor = load_predictor("musicnn-mtt", batch_size=1)
    assert isinstance(predictor, PretrainedPredictor) and predictor.classes == M.MTT_LABELS
    report = predict(predictor, [tmp_path], top_k=4, progress=False)
    assert report.multilabel and len(report) == 2 and report.failures.empty
    assert report.thresholds is None and "top_tags" in report.notes[0]
    long, short = sorted(report.predictions, key=lambda t: -t.duration_s)
    y, _ = audio.load(tmp_path / "long.wav", sr=16000)
    _, x = M.patches(M.log_mel(y))
    taggram = np.asarray(fake_published.predict_on_batch(x)["taggram"])
    assert long.n_frames == 2 == len(x)
    np.testing.assert_allclose(long.probs, taggram.mean(axis=0), rtol=1e-5, atol=1e-6)
    want = [M.MTT_LABELS[i] for i in taggram.mean(axis=0).argsort()[::-1][:4]]
    assert [t for t, _ in long.tags] == want and len(long.top) == 50
    assert short.n_frames == 1 and "repeated" in short.notes[0]
    assert "p:techno" in report.table.columns and report.table["tags"].str.count(";").eq(3).all()


def test_cli_predict_and_models(tmp_path, fake_published, monkeypatch, capsys):
    import json

    import soundfile as sf

    from musiclass.cli import EXIT_ERROR, EXIT_OK, main

    from .conftest import tone

    sf.write(tmp_path / "a.wav", tone(4.0, 16000, seed=3), 16000)
    assert main(["predict", "musicnn-mtt", str(tmp_path / "a.wav"), "-q", "--format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert len(records) == 1 and len(records[0]["tags"]) == 3

    monkeypatch.setenv("MUSICLASS_CACHE", str(tmp_path / "cache"))
    assert main(["models", "--json"]) == EXIT_OK
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows][:2] == ["musicnn-mtt", "musicnn-msd"]
    assert {r["cached"] for r in rows} == {"no"} and all("ISC" in r["licence"] for r in rows)
    assert all(W.WHEEL_SHA256 in r["source"] for r in rows)

    monkeypatch.undo()  # the real loader now, with an empty cache and no network
    monkeypatch.setenv("MUSICLASS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(
        W.subprocess,
        "run",
        lambda cmd, **kw: subprocess.CompletedProcess(cmd, 1, "", "ERROR: network unreachable\n"),
    )
    assert main(["predict", "musicnn-msd", str(tmp_path / "a.wav"), "-q"]) == EXIT_ERROR
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "network unreachable" in err[0]
