"""Figures: right panels, labels and numbers; atomic PNGs; results tables formatted exactly."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("seaborn")

import matplotlib as mpl  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

from musiclass import plots  # noqa: E402
from musiclass.config import frontend_preset  # noqa: E402
from musiclass.features.extract import extract  # noqa: E402

from .conftest import tone_index  # noqa: E402

CLASSES = ["blues", "classical", "country", "disco"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_png(path):
    """A complete PNG, and nothing else (no temporary file) beside it."""
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 1024
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name], (
        "temporary file left behind"
    )


def texts(fig: Figure) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


# ------------------------------------------------------------------------------- stores, Figure 1
@pytest.fixture(scope="module")
def small_store(tmp_path_factory):
    root = tmp_path_factory.mktemp("plots_store")
    tones = tone_index(
        root / "tones", genres=("blues", "classical", "country"), per_genre=2, seconds=5.0
    )
    cfg = frontend_preset("genre", "default", handcrafted=False)
    return extract(tones, cfg, root / "store", jobs=1, progress=False).store


def test_examples_from_store_one_per_class_with_stored_shapes(small_store):
    ex, chosen = plots.examples_from_store(small_store, return_index=True)
    assert list(ex) == list(small_store.classes) == ["blues", "classical", "country"]
    for cls, reps in ex.items():
        assert list(reps) == ["mel", "spectrogram", "mfcc"]
        for rep, a in reps.items():
            assert a.shape == small_store.config.shape(rep) == small_store.array(rep).shape[1:]
        row = chosen.set_index("key").loc[cls]
        assert row["label"] == cls
        np.testing.assert_array_equal(reps["mel"], small_store.array("mel")[int(row["row"])])
    again = plots.examples_from_store(small_store)
    for cls in ex:  # deterministic
        np.testing.assert_array_equal(ex[cls]["mfcc"], again[cls]["mfcc"])
    two = plots.examples_from_store(small_store, representations=("mfcc",), per_class=2)
    assert list(two) == [
        "blues (1)",
        "blues (2)",
        "classical (1)",
        "classical (2)",
        "country (1)",
        "country (2)",
    ]
    assert all(list(v) == ["mfcc"] for v in two.values())
    with pytest.raises(KeyError):
        plots.examples_from_store(small_store, representations=("chroma",))


def test_representation_grid_layout_axes_and_png(small_store, tmp_path):
    ex = plots.examples_from_store(small_store)
    ex = {
        g: {r: ex[g][r] for r in ("mfcc", "spectrogram", "mel")} for g in ex
    }  # order must not matter
    out = tmp_path / "fig" / "grid.png"
    fig = plots.representation_grid(ex, small_store.config, out=out)
    assert isinstance(fig, Figure)
    assert_png(out)
    cbars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(panels) == 3 * 3 and len(cbars) == 3
    assert [ax.get_title() for ax in panels[:3]] == [
        "mel spectrogram",
        "spectrogram (log frequency)",
        "MFCC",
    ]
    assert [cb.get_xlabel() for cb in cbars][:2] == ["dB (re frame max)"] * 2
    assert "MFCC" in cbars[2].get_xlabel()
    assert [panels[3 * i].texts[0].get_text() for i in range(3)] == [
        "blues",
        "classical",
        "country",
    ]
    assert panels[0].get_ylabel() == "Hz" and panels[2].get_ylabel() == "coefficient"
    assert panels[-1].get_xlabel() == "time (s)" and panels[0].get_xlabel() == ""
    # time axis from sample rate and hop: 130 columns of 512 samples at 22,050 Hz ~ 3 s (centred columns)
    lo, hi = panels[-1].get_xlim()
    assert hi - lo == pytest.approx(130 * 512 / 22050, rel=1e-6) and lo == pytest.approx(
        -256 / 22050
    )
    # mel axis reaches fmax = sr / 2 (plus half a band: the coordinates are band edges)
    assert panels[0].get_ylim()[1] == pytest.approx(11025, rel=0.02)
    assert panels[1].get_ylim()[1] == pytest.approx(11025, rel=0.02)
    assert panels[1].get_yscale() == "symlog"
    assert "3.0 s" in fig.get_suptitle()
    # the mel axis follows the config's fmax
    low = plots.representation_grid(
        {"blues": {"mel": ex["blues"]["mel"]}}, small_store.config.replace(fmax=8000.0)
    )
    assert low.axes[0].get_ylim()[1] == pytest.approx(8000, rel=0.02)


def test_representation_grid_rejects_non_2d():
    with pytest.raises(ValueError, match="bins, columns"):
        plots.representation_grid({"blues": {"mel": np.zeros((1, 128, 130))}})


# ------------------------------------------------------------------------------ confusion matrix
def make_confusion():
    counts = np.array([[8, 1, 1, 0], [0, 9, 0, 1], [2, 0, 6, 2], [0, 0, 3, 7]])
    return pd.DataFrame(counts, index=CLASSES, columns=CLASSES)


def test_confusion_matrix_normalised(tmp_path):
    cm = make_confusion()
    out = tmp_path / "cm.png"
    fig = plots.confusion_matrix(cm, out=out)
    assert_png(out)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == CLASSES
    assert [t.get_text() for t in ax.get_xticklabels()] == CLASSES
    assert ax.get_ylabel() == "true genre" and ax.get_xlabel() == "predicted genre"
    cells = np.array([float(t.get_text()) for t in ax.texts]).reshape(4, 4)
    recall = cm.to_numpy() / cm.to_numpy().sum(axis=1, keepdims=True)
    np.testing.assert_allclose(cells, recall.round(2))
    assert [t.get_text() for t in ax.texts][::5] == ["0.80", "0.90", "0.60", "0.70"]  # the diagonal
    assert "accuracy 0.750" in ax.get_title()
    assert fig.axes[1].get_ylabel().startswith("recall")  # colour bar


def test_confusion_matrix_counts():
    fig = plots.confusion_matrix(make_confusion(), normalize=False, title="counts")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == [str(v) for v in make_confusion().to_numpy().ravel()]
    assert ax.get_title() == "counts" and fig.axes[1].get_ylabel() == "count"


# ------------------------------------------------------------------------------------ ROC
def test_roc_curves_auc_in_legend_equals_sklearn(tmp_path):
    rng = np.random.default_rng(1)
    y = rng.integers(0, 4, 200)
    p = rng.dirichlet(np.ones(4), 200)
    p[np.arange(200), y] += rng.uniform(0, 0.6, 200)
    p /= p.sum(axis=1, keepdims=True)
    out = tmp_path / "roc.png"
    fig = plots.roc_curves(y, p, CLASSES, title="test ROC", out=out)
    assert_png(out)
    ax = fig.axes[0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert len(legend) == 5 and legend[-1].startswith("chance")
    for i, cls in enumerate(CLASSES):
        m = re.fullmatch(rf"{cls} \(AUC (\d\.\d{{3}})\)", legend[i])
        assert m, legend[i]
        assert float(m.group(1)) == pytest.approx(roc_auc_score(y == i, p[:, i]), abs=5e-4)
    macro = float(re.search(r"macro-average AUC (\d\.\d{3})", ax.get_title()).group(1))
    assert macro == pytest.approx(roc_auc_score(y, p, multi_class="ovr", average="macro"), abs=5e-4)
    assert ax.get_title().startswith("test ROC")
    assert "false positive rate" in ax.get_xlabel() and "true positive rate" in ax.get_ylabel()
    diag = [
        ln for ln in ax.lines if list(ln.get_xdata()) == [0, 1] and list(ln.get_ydata()) == [0, 1]
    ]
    assert len(diag) == 1
    # string labels work too, and a class without positives is reported, not plotted
    fig2 = plots.roc_curves(np.array(CLASSES)[np.minimum(y, 2)], p, CLASSES)
    assert "disco (AUC undefined)" in [t.get_text() for t in fig2.axes[0].get_legend().get_texts()]


# ------------------------------------------------------------------------------ training curves
def make_history(n=12, lr=True, seed=0):
    rng = np.random.default_rng(seed)
    h = pd.DataFrame(
        {
            "epoch": np.arange(1, n + 1),
            "loss": np.linspace(2.0, 0.2, n),
            "val_loss": 1.0 + (np.arange(n) - 6.3) ** 2 / 20 + rng.uniform(0, 0.01, n),
            "accuracy": np.linspace(0.2, 0.95, n),
            "val_accuracy": np.linspace(0.2, 0.8, n),
        }
    )
    if lr:
        h["learning_rate"] = [1e-3] * 8 + [1e-4] * (n - 8)
    return h


def test_training_curves_panels_and_best_epoch(tmp_path):
    h = make_history()
    best_epoch = int(h["epoch"][h["val_loss"].idxmin()])
    assert best_epoch == 7
    out = tmp_path / "train.png"
    fig = plots.training_curves(h, title="CNN-7", out=out)
    assert_png(out)
    assert len(fig.axes) == 3  # loss, accuracy, learning-rate twin
    loss_ax, acc_ax, lr_ax = fig.axes
    assert (loss_ax.get_title(), acc_ax.get_title()) == ("loss", "accuracy")
    assert loss_ax.get_xlabel() == acc_ax.get_xlabel() == "epoch"
    assert lr_ax.get_yscale() == "log" and "learning rate" in lr_ax.get_ylabel()
    assert fig.get_suptitle() == "CNN-7"
    for ax, col in ((loss_ax, "val_loss"), (acc_ax, "val_accuracy")):
        labels = [ln.get_label() for ln in ax.lines]
        assert "train" in labels and "validation" in labels
        (marker,) = [ln for ln in ax.lines if ln.get_label().startswith("best epoch")]
        assert list(marker.get_xdata()) == [best_epoch]
        assert marker.get_ydata()[0] == pytest.approx(h[col][best_epoch - 1])
    fig2 = plots.training_curves(make_history(lr=False))
    assert len(fig2.axes) == 2


def test_training_curves_grid_one_panel_per_run(tmp_path):
    runs = {
        "CNN-3": make_history(seed=0),
        "CNN-5": make_history(10, seed=1),
        "FNN": make_history(8, seed=2),
    }
    runs["FNN"] = runs["FNN"].assign(val_loss=lambda d: d["val_loss"][::-1].to_numpy())
    out = tmp_path / "grid.png"
    fig = plots.training_curves_grid(runs, out=out, ncols=2)
    assert_png(out)
    main = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title().split("\n")[0] for ax in main] == list(runs)
    assert len(fig.axes) == 2 * len(
        runs
    )  # accuracy axis + its loss twin; the 4th grid cell is removed
    for ax, h in zip(main, runs.values()):
        best = int(h["epoch"][h["val_loss"].idxmin()])
        assert f"best epoch {best}," in ax.get_title()
        (vline,) = [ln for ln in ax.lines if ln.get_label().startswith("best epoch")]
        assert vline.get_xdata()[0] == best


# ------------------------------------------------------------------------------ results tables
def results_frame():
    return pd.DataFrame(
        [
            dict(
                model="CNN-7",
                split="song split",
                accuracy=0.866,
                accuracy_low=0.82,
                accuracy_high=0.9,
                f1_macro=0.85,
                f1_low=0.8,
                f1_high=0.88,
                roc_auc=0.98,
                roc_auc_low=0.97,
                roc_auc_high=0.99,
            ),
            dict(
                model="XGBoost",
                split="song split",
                accuracy=0.7,
                accuracy_low=np.nan,
                accuracy_high=np.nan,
                f1_macro=np.nan,
                f1_low=np.nan,
                f1_high=np.nan,
                roc_auc=0.9,
                roc_auc_low=0.85,
                roc_auc_high=0.93,
            ),
            dict(
                model="CNN-7",
                split="seed frame split",
                accuracy=0.892,
                accuracy_low=0.87,
                accuracy_high=0.91,
                f1_macro=0.891,
                f1_low=0.86,
                f1_high=0.92,
                roc_auc=0.991,
                roc_auc_low=0.985,
                roc_auc_high=0.995,
            ),
            dict(
                model="FNN",
                split="seed frame split",
                accuracy=0.2,
                accuracy_low=0.18,
                accuracy_high=0.23,
                f1_macro=0.08,
                f1_low=0.06,
                f1_high=0.1,
                roc_auc=0.681,
                roc_auc_low=0.66,
                roc_auc_high=0.7,
            ),
        ]
    )


def test_format_results_strings():
    t = plots.format_results(results_frame())
    assert list(t.index) == ["CNN-7", "XGBoost", "FNN"]
    assert list(t.columns) == [
        (s, m)
        for s in ("song split", "seed frame split")
        for m in ("accuracy", "f1_macro", "roc_auc")
    ]
    assert t.loc["CNN-7", ("song split", "accuracy")] == "0.866 [0.820, 0.900]"
    assert t.loc["CNN-7", ("seed frame split", "roc_auc")] == "0.991 [0.985, 0.995]"
    assert t.loc["XGBoost", ("song split", "accuracy")] == "0.700"  # no interval
    assert t.loc["XGBoost", ("song split", "f1_macro")] == "\u2013"  # NaN
    assert t.loc["XGBoost", ("seed frame split", "accuracy")] == "\u2013"  # not run on that split
    assert t.loc["FNN", ("song split", "roc_auc")] == "\u2013"
    # interval columns absent altogether, and no split column
    bare = results_frame()[["model", "accuracy"]].iloc[:2]
    assert plots.format_results(bare).to_numpy().ravel().tolist() == ["0.866", "0.700"]
    with pytest.raises(ValueError, match="more than one row"):
        plots.format_results(pd.concat([results_frame(), results_frame().iloc[:1]]))


def test_results_markdown():
    md = plots.results_markdown(results_frame())
    lines = md.splitlines()
    assert len(lines) == 2 + 3
    assert lines[0].startswith(
        "| model | song split: accuracy | song split: F1 (macro) | song split: ROC-AUC |"
    )
    assert set(lines[1].replace("|", "").split()) <= {":---", "---:"}
    assert lines[2] == (
        "| CNN-7 | 0.866 [0.820, 0.900] | 0.850 [0.800, 0.880] | 0.980 [0.970, 0.990] | "
        "0.892 [0.870, 0.910] | 0.891 [0.860, 0.920] | 0.991 [0.985, 0.995] |"
    )
    assert all(line.count("|") == 8 for line in lines)


def test_results_table_figure(tmp_path):
    df = results_frame()
    out = tmp_path / "table.png"
    fig = plots.results_table(df, title="Table 4", out=out)
    assert_png(out)
    shown = texts(fig)
    assert "Table 4" in shown and "song split" in shown and "seed frame split" in shown
    assert shown.count("accuracy") == 2 and shown.count("ROC-AUC") == 2
    for model in ("CNN-7", "XGBoost", "FNN"):
        assert model in shown
    table = plots.format_results(df)
    for cell in table.to_numpy().ravel():
        assert cell.replace(" [", "\n[") in shown
    bold = [t.get_text() for t in fig.axes[0].texts if t.get_fontweight() == "bold"]
    assert "0.892\n[0.870, 0.910]" in bold and "0.200\n[0.180, 0.230]" not in bold


# ----------------------------------------------------------------------------- forest, bars
def test_interval_plot(tmp_path):
    df = results_frame()
    out = tmp_path / "forest.png"
    fig = plots.interval_plot(df, "accuracy", chance=0.1, out=out)
    assert_png(out)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["CNN-7", "XGBoost", "FNN"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "song split" in legend and "seed frame split" in legend and "chance (0.10)" in legend
    assert len(ax.containers) == 2  # one errorbar container per split
    song = ax.containers[0]
    np.testing.assert_allclose(song.lines[0].get_xdata(), [0.866, 0.7])
    chance = [ln for ln in ax.lines if ln.get_label().startswith("chance")]
    assert list(chance[0].get_xdata()) == [0.1, 0.1]
    assert ax.get_xlabel().startswith("accuracy")


def test_chance_levels_are_shown_beside_the_metrics(tmp_path):
    df = results_frame()
    df["accuracy_chance"] = [0.104, None, 0.11, 0.098]  # CNN-7, XGBoost, CNN-7, FNN
    t = plots.format_results(df)
    assert t.loc["CNN-7", ("song split", "accuracy")] == "0.866 [0.820, 0.900] chance 0.104"
    assert t.loc["XGBoost", ("song split", "accuracy")] == "0.700"  # no chance level known
    assert "0.200 [0.180, 0.230] chance 0.098" in plots.results_markdown(df)
    fig = plots.results_table(df, out=tmp_path / "t.png")
    shown = texts(fig)
    assert "0.866\n[0.820, 0.900]\nchance 0.104" in shown
    assert any("chance level" in t for t in shown)
    ax = plots.interval_plot(df, "accuracy", out=tmp_path / "f.png").axes[0]
    ticks = [c for c in ax.collections if c.get_label() == "chance (permuted)"]
    assert len(ticks) == 1  # one legend entry for every split's ticks
    from matplotlib.collections import PathCollection  # scatter; error bars are LineCollections

    xs = np.concatenate(
        [c.get_offsets()[:, 0] for c in ax.collections if isinstance(c, PathCollection)]
    )
    np.testing.assert_allclose(sorted(xs), [0.098, 0.104, 0.11])


def test_per_class_bars(tmp_path):
    per_class = pd.DataFrame(
        {"CNN-7": [0.9, 0.8, 0.7, 0.95], "XGBoost": [0.6, 0.85, 0.5, 0.7]}, index=CLASSES
    )
    out = tmp_path / "bars.png"
    fig = plots.per_class_bars(per_class, "recall", out=out)
    assert_png(out)
    ax = fig.axes[0]
    assert len(ax.containers) == 2
    for container, col in zip(ax.containers, per_class.columns):
        np.testing.assert_allclose([b.get_height() for b in container], per_class[col])
    assert [t.get_text() for t in ax.get_xticklabels()] == CLASSES
    assert ax.get_ylabel() == "recall"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["CNN-7", "XGBoost"]
    single = plots.per_class_bars(per_class["CNN-7"])
    assert len(single.axes[0].containers) == 1 and single.axes[0].get_legend() is None


def test_plots_leave_global_state_alone(tmp_path):
    before = dict(mpl.rcParams)
    backend = mpl.get_backend()
    plots.per_class_bars(pd.Series([0.5, 0.7], index=["a", "b"], name="m"), out=tmp_path / "x.png")
    assert dict(mpl.rcParams) == before and mpl.get_backend() == backend
    import matplotlib.pyplot as plt

    assert (
        plt.get_fignums() == []
    )  # nothing registered with pyplot: nothing for the caller to close


def test_failed_save_leaves_no_file(tmp_path, monkeypatch):
    fig = plots.per_class_bars(pd.Series([0.5, 0.7], index=["a", "b"], name="m"))

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(fig, "savefig", boom)
    with pytest.raises(RuntimeError):
        plots.save_figure(fig, tmp_path / "x.png")
    assert list(tmp_path.iterdir()) == []
