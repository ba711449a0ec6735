"""The musicnn taggers (Pons & Serra, ISMIR 2019 LBD) in Keras 3: its input, its two architectures, its outputs.

A faithful re-implementation of ``musicnn/extractor.py`` and ``musicnn/models.py`` of
`jordipons/musicnn <https://github.com/jordipons/musicnn>`_ (ISC licence), version 0.1.0; the
weights come from :mod:`musiclass.pretrained.weights`.

**Input** (:func:`log_mel`, :func:`patches`). Audio at 16 kHz mono; the mel power spectrogram of
``librosa.feature.melspectrogram(y, sr=16000, hop_length=256, n_fft=512, n_mels=96)`` as librosa 0.7
computed it (centred frames, **reflect** padding: librosa 0.10 changed the default to zeros,
a Hann window, Slaney mel filters up to 8 kHz, power 2); rounded to ``float16`` as musicnn does,
then compressed as ``log10(10000 * x + 1)`` in ``float32`` (what NumPy 1.16, musicnn's, computed
for ``10000 * float16_array``; NumPy 2 keeps float16 and overflows to inf on loud frames). The spectrogram is cut into
non-overlapping patches of :data:`PATCH_FRAMES` = 187 frames (3 s: ``librosa.time_to_frames(3) + 1``);
the frames after the last whole patch are dropped, as musicnn does. A clip shorter than one patch,
which musicnn cannot tag, is repeated until it fills one (its training's ``repeat-pad``).

**Networks** (:func:`build_musicnn`, :func:`build_vgg`). Layer by layer as ``models.py`` builds them
in inference mode (batch norm with its moving statistics and epsilon 0.001, dropout off). musicnn:
an input batch norm; the front-end's timbral filters (7 x 38 and 7 x 67 over time x mel, 204 each,
time padded by 3 each side, valid over frequency) and temporal filters (128, 64 and 32 frames x 1,
51 each, ``same`` padding), each followed by ReLU, batch norm and a max over frequency; the mid-end's
three 1-D convolutions of 7 frames (64 filters, dense/residual connections); the back-end's max and
mean over time, **interleaved** (TF1 flattens the ``(753, 2)`` pair per feature), batch norm,
a dense layer (200 units, ReLU) and batch norm (the *penultimate* features), then the 50 logits and
their sigmoid, the *taggram*. The mid-end's ``[7, width, 1, filters]`` kernels are 1-D
convolutions over time with the width as channels: their ``[7, width, filters]`` slice is used.
The VGG-like baselines: five 3 x 3 convolutions of 128 filters with batch norm and max pooling
(4 x 1 stride 2, 2 x 2, 2 x 2, 2 x 2, 4 x 4), then 50 logits.

The Keras layers carry readable names; :data:`MUSICNN_VARIABLES` and :data:`VGG_VARIABLES` map each
one to the TF1 checkpoint's variable scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "SAMPLE_RATE",
    "N_FFT",
    "HOP_LENGTH",
    "N_MELS",
    "PATCH_FRAMES",
    "MTT_LABELS",
    "MSD_LABELS",
    "Architecture",
    "ARCHITECTURES",
    "MUSICNN_VARIABLES",
    "VGG_VARIABLES",
    "log_mel",
    "patches",
    "build_musicnn",
    "build_vgg",
    "build",
]

#: musicnn's sample rate (Hz)
SAMPLE_RATE = 16000
#: FFT size (samples)
N_FFT = 512
#: hop between frames (samples)
HOP_LENGTH = 256
#: mel bands
N_MELS = 96
#: frames per input patch: 3 s (``librosa.time_to_frames(3, sr=16000, n_fft=512, hop_length=256) + 1``)
PATCH_FRAMES = 187

#: MagnaTagATune's 50 tags, in output order (musicnn/configuration.py)
MTT_LABELS = (
    "guitar", "classical", "slow", "techno", "strings", "drums", "electronic", "rock", "fast",
    "piano", "ambient", "beat", "violin", "vocal", "synth", "female", "indian", "opera", "male",
    "singing", "vocals", "no vocals", "harpsichord", "loud", "quiet", "flute", "woman",
    "male vocal", "no vocal", "pop", "soft", "sitar", "solo", "man", "classic", "choir", "voice",
    "new age", "dance", "male voice", "female vocal", "beats", "harp", "cello", "no voice",
    "weird", "country", "metal", "female voice", "choral",
)  # fmt: skip
#: the Million Song Dataset's 50 tags (last.fm), in output order (musicnn/configuration.py)
MSD_LABELS = (
    "rock", "pop", "alternative", "indie", "electronic", "female vocalists", "dance", "00s",
    "alternative rock", "jazz", "beautiful", "metal", "chillout", "male vocalists",
    "classic rock", "soul", "indie rock", "Mellow", "electronica", "80s", "folk", "90s", "chill",
    "instrumental", "punk", "oldies", "blues", "hard rock", "ambient", "acoustic",
    "experimental", "female vocalist", "guitar", "Hip-Hop", "70s", "party", "country",
    "easy listening", "sexy", "catchy", "funk", "electro", "heavy metal", "Progressive rock",
    "60s", "rnb", "indie pop", "sad", "House", "happy",
)  # fmt: skip

#: musicnn's Keras layer -> TF1 variable scope of its checkpoint (in the order TF1 created them)
MUSICNN_VARIABLES = {
    "input_bn": "batch_normalization",
    "timbral_7x38": "conv2d",
    "timbral_7x38_bn": "batch_normalization_1",
    "timbral_7x67": "conv2d_1",
    "timbral_7x67_bn": "batch_normalization_2",
    "temporal_128": "conv2d_2",
    "temporal_128_bn": "batch_normalization_3",
    "temporal_64": "conv2d_3",
    "temporal_64_bn": "batch_normalization_4",
    "temporal_32": "conv2d_4",
    "temporal_32_bn": "batch_normalization_5",
    "midend_1": "conv2d_5",
    "midend_1_bn": "batch_normalization_6",
    "midend_2": "conv2d_6",
    "midend_2_bn": "batch_normalization_7",
    "midend_3": "conv2d_7",
    "midend_3_bn": "batch_normalization_8",
    "pool_bn": "batch_normalization_9",
    "penultimate_dense": "dense",
    "penultimate": "batch_normalization_10",
    "logits": "dense_1",
}
#: the VGG-like baseline's Keras layer -> TF1 variable scope
VGG_VARIABLES = {
    "input_bn": "batch_normalization",
    **{f"conv{i}": f"{i}CNN" for i in range(1, 6)},
    **{f"conv{i}_bn": f"batch_normalization_{i}" for i in range(1, 6)},
    "logits": "dense",
}


@dataclass(frozen=True)
class Architecture:
    """One of musicnn's published networks.

    Attributes
    ----------
    name : str
        musicnn's name (``"MTT_musicnn"``, ...): also the checkpoint's folder in the wheel.
    kind : str
        ``"musicnn"`` or ``"vgg"``.
    labels : tuple of str
        The 50 tags, in output order.
    midend_filters : int
        musicnn: filters of each mid-end convolution.
    backend_units : int
        musicnn: units of the penultimate dense layer.
    vgg_filters : int
        vgg: filters of each convolution.
    dataset : str
        What it was trained on.
    """

    name: str
    kind: str
    labels: tuple[str, ...]
    midend_filters: int = 64
    backend_units: int = 200
    vgg_filters: int = 128
    dataset: str = ""

    @property
    def variables(self) -> dict[str, str]:
        """The Keras layer -> checkpoint scope map of this network.

        Returns
        -------
        dict of str to str
            :data:`MUSICNN_VARIABLES` or :data:`VGG_VARIABLES`.
        """
        return MUSICNN_VARIABLES if self.kind == "musicnn" else VGG_VARIABLES


_MTT = "MagnaTagATune (29 s clips, 50 tags)"
_MSD = "Million Song Dataset (last.fm tags; 50 tags)"
#: the networks of the musicnn==0.1.0 wheel, by musicnn's name
ARCHITECTURES = {
    "MTT_musicnn": Architecture("MTT_musicnn", "musicnn", MTT_LABELS, dataset=_MTT),
    "MSD_musicnn": Architecture("MSD_musicnn", "musicnn", MSD_LABELS, dataset=_MSD),
    "MTT_vgg": Architecture("MTT_vgg", "vgg", MTT_LABELS, dataset=_MTT),
    "MSD_vgg": Architecture("MSD_vgg", "vgg", MSD_LABELS, dataset=_MSD),
}


# ------------------------------------------------------------------------------ input
def log_mel(y: np.ndarray) -> np.ndarray:
    """The input representation musicnn gives a 16 kHz mono signal: ``(frames, 96)`` float32.

    Parameters
    ----------
    y : numpy.ndarray of shape (samples,)
        The signal at :data:`SAMPLE_RATE`.

    Returns
    -------
    numpy.ndarray of shape (frames, 96)
        ``log10(10000 * mel + 1)`` of the mel rounded to float16, as musicnn computes it (see
        the module doc); ``1 + len(y) // 256`` frames.

    Raises
    ------
    ValueError
        If ``y`` is not a non-empty 1-D signal.
    """
    import librosa

    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1 or y.size == 0:
        raise ValueError(f"expected a non-empty mono signal, got shape {y.shape}")
    mel = librosa.feature.melspectrogram(
        y=y,
        sr=SAMPLE_RATE,
        hop_length=HOP_LENGTH,
        n_fft=N_FFT,
        n_mels=N_MELS,
        pad_mode="reflect",  # librosa 0.7's default, which musicnn used
    ).T
    # musicnn stores the mel in float16, then numpy 1.16's value-based casting made
    # ``10000 * float16_array`` float32 (10000 is a uint16 scalar): NumPy 2 would keep float16
    # and overflow to inf, so the product is taken in float32 explicitly
    half = mel.astype(np.float16).astype(np.float32)
    return np.log10(np.float32(10000) * half + np.float32(1))


def patches(
    spec: np.ndarray, n_frames: int = PATCH_FRAMES, hop: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Cut a ``(frames, bands)`` spectrogram into patches as musicnn's ``batch_data`` does.

    Parameters
    ----------
    spec : numpy.ndarray of shape (frames, bands)
        The spectrogram (:func:`log_mel`).
    n_frames : int, default=187
        Frames per patch.
    hop : int, optional
        Frames between patch starts (default ``n_frames``: no overlap).

    Returns
    -------
    starts : numpy.ndarray of shape (n_patches,)
        Each patch's start in seconds.
    x : numpy.ndarray of shape (n_patches, n_frames, bands)
        The patches; the frames after the last whole patch are dropped. A spectrogram shorter
        than one patch is repeated (tiled along time) to fill exactly one.

    Raises
    ------
    ValueError
        If ``spec`` is empty or not 2-D, or ``n_frames`` or ``hop`` is less than 1.
    """
    spec = np.asarray(spec)
    if spec.ndim != 2 or spec.shape[0] == 0:
        raise ValueError(
            f"expected a non-empty (frames, bands) spectrogram, got shape {spec.shape}"
        )
    hop = n_frames if hop is None else int(hop)
    if n_frames < 1 or hop < 1:
        raise ValueError("n_frames and hop must be at least 1")
    if len(spec) < n_frames:
        reps = -(-n_frames // len(spec))
        spec = np.tile(spec, (reps, 1))[:n_frames]
    first = np.arange(0, len(spec) - n_frames + 1, hop)
    x = np.stack([spec[i : i + n_frames] for i in first])
    return first * HOP_LENGTH / SAMPLE_RATE, x


# ------------------------------------------------------------------------------ networks
def _bn(name: str) -> Any:
    import keras

    # TF1's tf.compat.v1.layers.batch_normalization default epsilon, as Keras'
    return keras.layers.BatchNormalization(epsilon=1e-3, name=name)


def build_musicnn(
    n_classes: int = 50,
    *,
    midend_filters: int = 64,
    backend_units: int = 200,
    n_frames: int = PATCH_FRAMES,
    n_mels: int = N_MELS,
    name: str = "musicnn",
) -> Any:
    """Build musicnn's network (``build_musicnn`` of musicnn/models.py) in inference form.

    Parameters
    ----------
    n_classes : int, default=50
        Output tags.
    midend_filters : int, default=64
        Filters of each mid-end convolution (64 in MTT_musicnn and MSD_musicnn).
    backend_units : int, default=200
        Units of the penultimate dense layer (200 in MTT_musicnn and MSD_musicnn).
    n_frames : int, default=187
        Frames per input patch.
    n_mels : int, default=96
        Mel bands of the input.
    name : str, default="musicnn"
        The model's name.

    Returns
    -------
    keras.Model
        Input ``(n_frames, n_mels)``; a dict of outputs: ``taggram`` (sigmoid, ``(n_classes,)``),
        ``logits``, ``penultimate`` (``(backend_units,)``), ``max_pool`` and ``mean_pool``
        (``(n_mels_features,)``: the front- and mid-end features, 561 + 3 * midend_filters wide
        with the default sizes, max and mean over time).
    """
    import keras
    from keras import layers

    x_in = keras.Input((n_frames, n_mels), name="log_mel")
    x = layers.Reshape((n_frames, n_mels, 1), name="add_channel")(x_in)
    x = _bn("input_bn")(x)

    features = []
    padded = layers.ZeroPadding2D(((3, 3), (0, 0)), name="time_pad_7")(x)
    for frac in (0.4, 0.7):  # timbral: 7 frames x 40 % / 70 % of the mel bands, valid in frequency
        width = int(frac * n_mels)
        tag = f"timbral_7x{width}"
        h = layers.Conv2D(204, (7, width), padding="valid", activation="relu", name=tag)(padded)
        h = _bn(f"{tag}_bn")(h)
        h = layers.MaxPooling2D((1, n_mels - width + 1), name=f"{tag}_pool")(h)
        features.append(layers.Reshape((n_frames, 204), name=f"{tag}_squeeze")(h))
    for length in (128, 64, 32):  # temporal: 128 / 64 / 32 frames x 1 band, 'same'
        tag = f"temporal_{length}"
        h = layers.Conv2D(51, (length, 1), padding="same", activation="relu", name=tag)(x)
        h = _bn(f"{tag}_bn")(h)
        h = layers.MaxPooling2D((1, n_mels), name=f"{tag}_pool")(h)
        features.append(layers.Reshape((n_frames, 51), name=f"{tag}_squeeze")(h))
    front = layers.Concatenate(axis=-1, name="frontend")(features)

    # mid-end: a [7, width] kernel over (time, width, 1) is a 1-D convolution with width channels
    def conv7(h, tag):  # numpydoc ignore=GL08
        h = layers.ZeroPadding1D(3, name=f"{tag}_pad")(h)
        h = layers.Conv1D(midend_filters, 7, padding="valid", activation="relu", name=tag)(h)
        return _bn(f"{tag}_bn")(h)

    m1 = conv7(front, "midend_1")
    m2 = layers.Add(name="midend_2_res")([conv7(m1, "midend_2"), m1])
    m3 = layers.Add(name="midend_3_res")([conv7(m2, "midend_3"), m2])
    mid = layers.Concatenate(axis=-1, name="midend")([front, m1, m2, m3])
    width = mid.shape[-1]

    max_pool = layers.GlobalMaxPooling1D(name="max_pool")(mid)
    mean_pool = layers.GlobalAveragePooling1D(name="mean_pool")(mid)
    # TF1 concatenates (width, 1) max and mean on the last axis and flattens: max_0, mean_0, max_1...
    pair = layers.Concatenate(axis=-1, name="pool_pair")(
        [
            layers.Reshape((width, 1), name="max_pool_col")(max_pool),
            layers.Reshape((width, 1), name="mean_pool_col")(mean_pool),
        ]
    )
    h = layers.Flatten(name="pool_interleaved")(pair)
    h = _bn("pool_bn")(h)
    h = layers.Dense(backend_units, activation="relu", name="penultimate_dense")(h)
    penultimate = _bn("penultimate")(h)
    logits = layers.Dense(n_classes, name="logits")(penultimate)
    taggram = layers.Activation("sigmoid", name="taggram")(logits)
    outputs = {
        "taggram": taggram,
        "logits": logits,
        "penultimate": penultimate,
        "max_pool": max_pool,
        "mean_pool": mean_pool,
    }
    return keras.Model(x_in, outputs, name=name)


def build_vgg(
    n_classes: int = 50,
    *,
    filters: int = 128,
    n_frames: int = PATCH_FRAMES,
    n_mels: int = N_MELS,
    name: str = "musicnn_vgg",
) -> Any:
    """Build musicnn's VGG-like baseline (``vgg`` of musicnn/models.py) in inference form.

    Parameters
    ----------
    n_classes : int, default=50
        Output tags.
    filters : int, default=128
        Filters of each convolution.
    n_frames : int, default=187
        Frames per input patch.
    n_mels : int, default=96
        Mel bands of the input.
    name : str, default="musicnn_vgg"
        The model's name.

    Returns
    -------
    keras.Model
        Input ``(n_frames, n_mels)``; a dict of outputs: ``taggram``, ``logits`` and ``pool5``
        (the flattened last pooling, ``(2 * 1 * filters,)`` with the default sizes).
    """
    import keras
    from keras import layers

    x_in = keras.Input((n_frames, n_mels), name="log_mel")
    h = layers.Reshape((n_frames, n_mels, 1), name="add_channel")(x_in)
    h = _bn("input_bn")(h)
    pools = (
        ((4, 1), (2, 2)),
        ((2, 2), (2, 2)),
        ((2, 2), (2, 2)),
        ((2, 2), (2, 2)),
        ((4, 4), (4, 4)),
    )
    for i, (size, stride) in enumerate(pools, 1):
        h = layers.Conv2D(filters, (3, 3), padding="same", activation="relu", name=f"conv{i}")(h)
        h = _bn(f"conv{i}_bn")(h)
        h = layers.MaxPooling2D(size, strides=stride, padding="valid", name=f"pool{i}")(h)
    pool5 = layers.Flatten(name="pool5_flat")(h)
    logits = layers.Dense(n_classes, name="logits")(pool5)
    taggram = layers.Activation("sigmoid", name="taggram")(logits)
    return keras.Model(x_in, {"taggram": taggram, "logits": logits, "pool5": pool5}, name=name)


def build(arch: Architecture | str) -> Any:
    """Build the network of one of :data:`ARCHITECTURES` (random weights).

    Parameters
    ----------
    arch : Architecture or str
        The network, or its musicnn name.

    Returns
    -------
    keras.Model
        :func:`build_musicnn` or :func:`build_vgg` with its sizes.

    Raises
    ------
    KeyError
        For an unknown name.
    """
    a = ARCHITECTURES[arch] if isinstance(arch, str) else arch
    if a.kind == "musicnn":
        return build_musicnn(
            len(a.labels),
            midend_filters=a.midend_filters,
            backend_units=a.backend_units,
            name=a.name,
        )
    return build_vgg(len(a.labels), filters=a.vgg_filters, name=a.name)
