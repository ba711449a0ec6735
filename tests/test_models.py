"""Model builders: the original parameter counts, the experiment 1 variants, the presets."""

from __future__ import annotations

import pytest

from musiclass.errors import ConfigError
from musiclass.models import build_model
from musiclass.training import TrainConfig, train_preset

MEL = (128, 130)


@pytest.mark.parametrize(
    "depth,params", [(3, 480_714), (4, 239_370), (5, 112_714), (6, 157_898), (7, 174_410)]
)
def test_cnn_n_parameter_counts_are_the_originals(depth, params):
    model = build_model(f"cnn-{depth}", MEL, 10)
    assert model.count_params() == params
    assert tuple(model.output.shape) == (None, 10)
    # 1x1 convolutions only in CNN-6 and CNN-7
    assert sum(layer.name.startswith("conv1x1") for layer in model.layers) == max(0, depth - 5)


def test_fnn_has_the_original_trainable_parameters_with_or_without_normalisation():
    import numpy as np

    raw = build_model("fnn", MEL, 10, normalize=False)
    assert raw.count_params() == 8_668_618
    norm = build_model("fnn", MEL, 10, mean=np.zeros(128), variance=np.ones(128))
    trainable = sum(int(np.prod(w.shape)) for w in norm.trainable_weights)
    assert trainable == 8_668_618
    assert norm.get_layer("normalize") is not None


def test_spectrogram_cnn_uses_the_wider_third_pool():
    model = build_model("cnn-3", (513, 130), 10, pool3=(4, 5))
    assert model.get_layer("pool3").pool_size == (4, 5)
    assert tuple(model.output.shape) == (None, 10)


def test_mfcc_net_convolves_along_time_by_default_and_across_coefficients_under_seed():
    ours = build_model("mfcc-1d", (20, 130), 10)
    conv = ours.get_layer("conv1")
    assert tuple(conv.input.shape) == (None, 130, 20)  # 130 time steps, 20 coefficient channels
    original = build_model("mfcc-1d", (20, 130), 10, axis="coefficients")
    assert tuple(original.get_layer("conv1").input.shape) == (None, 20, 130)


def test_multilabel_models_end_in_sigmoid():
    model = build_model("cnn-3", MEL, 5, multilabel=True)
    assert model.get_layer("output").activation.__name__ == "sigmoid"
    assert (
        build_model("fnn", MEL, 5, normalize=False).get_layer("output").activation.__name__
        == "softmax"
    )


@pytest.mark.parametrize(
    "name,kwargs,message",
    [
        ("cnn-8", {}, "3..7"),
        ("resnet", {}, "unknown model"),
        ("cnn-3", {"kernel": 5}, "unexpected"),
        ("cnn-5", {"input_shape": (8, 8)}, "cannot take input"),
        ("mfcc-1d", {"axis": "bins"}, "time"),
    ],
)
def test_bad_model_configs_are_config_errors(name, kwargs, message):
    shape = kwargs.pop("input_shape", MEL)
    with pytest.raises(ConfigError, match=message):
        build_model(name, shape, 10, **kwargs)


def test_seed_training_preset_is_the_originals():
    cnn = train_preset("seed", model="cnn-3")
    assert (cnn.batch_size, cnn.epochs, cnn.reduce_lr_patience, cnn.reduce_lr_factor) == (
        128,
        20,
        1,
        0.1,
    )
    assert cnn.early_stopping_patience is None and cnn.monitor == "val_accuracy" and cnn.lr == 1e-3
    assert cnn.model_options["bn_momentum"] == 0.99
    fnn = train_preset("seed", model="fnn")
    assert fnn.model_options == {"normalize": False} and fnn.lr == 1e-4
    assert train_preset("seed", model="mfcc-1d").model_options["axis"] == "coefficients"
    ours = train_preset("default", model="mfcc-1d")
    assert "axis" not in ours.model_options and ours.early_stopping_patience is not None
    assert ours.hash() != train_preset("default", model="mfcc-1d", seed=1).hash()


def test_training_config_rejects_unknown_or_bad_values():
    with pytest.raises(ConfigError, match="unknown training option"):
        TrainConfig.from_dict({"epoch": 3})
    with pytest.raises(ConfigError, match="representation"):
        TrainConfig(representation="chroma")
    with pytest.raises(ConfigError, match="epochs"):
        TrainConfig(epochs=0)
    with pytest.raises(ConfigError, match="preset"):
        train_preset("fast")


def test_mood_cnn_has_the_original_parameter_count():
    model = build_model("mood-cnn", (96, 341), 35, multilabel=True)
    assert model.count_params() == 1_426_083
    assert tuple(model.get_layer("pool5").output.shape) == (None, 1, 1, 512)
    assert model.get_layer("conv4").kernel_size == (2, 2)
    assert model.get_layer("output").activation.__name__ == "sigmoid"
    # the official 56-tag set only changes the output layer: 512 x 21 more weights and 21 biases
    assert build_model("mood-cnn", (96, 341), 56).count_params() == 1_426_083 + 21 * 513
