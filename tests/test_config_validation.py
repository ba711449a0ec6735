"""One validation layer for config values: types, ranges and enumerations are checked before any
work starts, and each bad value is one clear error naming the option (never a traceback later)."""

from __future__ import annotations

import pytest

from musiclass.cli import EXIT_ERROR, main
from musiclass.config import frontend_preset
from musiclass.errors import ConfigError
from musiclass.training import train_preset


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"n_mels": "abc"}, "n_mels='abc'.*must be an integer"),
        ({"n_mels": None}, "n_mels=None.*must be an integer"),
        ({"n_mels": True}, "n_mels=True.*must be an integer"),
        ({"center": "maybe"}, "center='maybe'.*true or false"),
        ({"sample_rate": 22050.7}, "sample_rate=22050.7.*must be an integer"),
        ({"n_fft": 1000.5}, "n_fft=1000.5.*must be an integer"),
        ({"hop_length": "512"}, "hop_length='512'.*must be an integer"),
        ({"fmin": -500}, "fmin must be at least 0"),
        ({"fmin": float("nan")}, "fmin=nan.*finite"),
        ({"window": "bogus"}, "window='bogus' is not a window"),
        ({"top_db": "loud"}, "top_db='loud'.*a number"),
    ],
)
def test_frontend_values_are_checked(change, message):
    with pytest.raises(ConfigError, match=message):
        frontend_preset("genre", "default").replace(**change)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"batch_size": "abc"}, "batch_size='abc'.*must be an integer"),
        ({"learning_rate": "fast"}, "learning_rate='fast'.*a number"),
        ({"learning_rate": -0.1}, "learning_rate must be positive"),
        ({"epochs": 1.7}, "epochs=1.7.*must be an integer"),
        ({"seed": 10**20}, "seed must be between 0 and 2\\*\\*32"),
        ({"seed": -1}, "seed must be between"),
        ({"reduce_lr_factor": 5}, "reduce_lr_factor must be in \\(0, 1\\)"),
        ({"first_frames": 0}, "first_frames must be at least 1"),
        ({"deterministic": "yes"}, "deterministic='yes'.*true or false"),
    ],
)
def test_training_values_are_checked(change, message):
    with pytest.raises(ConfigError, match=message):
        train_preset("default", **change)


def test_valid_presets_still_build():
    for task in ("genre", "mood"):
        for preset in ("default", "seed"):
            frontend_preset(task, preset).validate()
    assert train_preset("default", learning_rate=1e-3, epochs=3).epochs == 3
    # an integer where a number is asked is a number
    assert frontend_preset("genre", "default").replace(fmin=20).fmin == 20


def test_a_bad_set_value_is_one_line_on_the_command_line(tmp_path, capsys):
    out = tmp_path / "store"
    code = main(["extract", str(tmp_path / "no-index"), "--out", str(out), "--set", "n_mels=abc"])
    err = capsys.readouterr().err
    assert code == EXIT_ERROR and "n_mels='abc'" in err and "Traceback" not in err
    assert not out.exists()  # nothing is written before the values are checked


def test_zero_jobs_is_refused_not_all_cpus(tmp_path, capsys):
    code = main(["synth", "--out", str(tmp_path / "d"), "-j", "0", "--clips-per-genre", "1"])
    assert code == EXIT_ERROR and "--jobs must be at least 1" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()
