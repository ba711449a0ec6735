"""Mood-task figures: tag frequencies, resampled sets, co-occurrence, per-tag AUC.

Numbers are read back from the drawn artists (bar patches, heatmap cells, lines), not from the input.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("seaborn")

import matplotlib as mpl  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from musiclass import plots  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_png(path):
    """A complete PNG, and nothing else (no temporary file) beside it."""
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 1024
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name], (
        "temporary file left behind"
    )


def ticks(ax, axis="y") -> list[str]:
    labels = ax.get_yticklabels() if axis == "y" else ax.get_xticklabels()
    return [t.get_text() for t in labels]


def widths(container) -> list[float]:
    return [b.get_width() for b in container]


def heights(container) -> list[float]:
    return [b.get_height() for b in container]


# --------------------------------------------------------------------------------- tag frequencies
COUNTS = pd.Series(
    {"happy": 120, "sad": 300, "calm": 45, "dark": 300, "epic": 7}, name="all tracks"
)
BY_COUNT = ["sad", "dark", "happy", "calm", "epic"]  # descending, tie (sad, dark) in input order


def test_tag_frequencies_series_sorted_bars_equal_counts(tmp_path):
    out = tmp_path / "figs" / "tags.png"
    fig = plots.tag_frequencies(COUNTS, out=out)
    assert isinstance(fig, Figure)
    assert_png(out)
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    assert ticks(ax) == BY_COUNT
    lo, hi = ax.get_ylim()
    assert lo > hi  # first (most frequent) tag on top
    (bars,) = ax.containers
    assert widths(bars) == [300, 300, 120, 45, 7]
    np.testing.assert_allclose([b.get_y() + b.get_height() / 2 for b in bars], np.arange(5))
    assert [t.get_text() for t in ax.texts] == ["300", "300", "120", "45", "7"]
    assert ax.get_xlabel() == "tracks" and ax.get_xscale() == "linear"
    assert ax.get_title().startswith("all tracks\n5 tags, 772 tag assignments")
    assert fig.get_suptitle() == "Tracks per tag"

    unsorted = plots.tag_frequencies(COUNTS, sort=False, log=True, unit="frames", title="t")
    ax = unsorted.axes[0]
    assert ticks(ax) == list(COUNTS.index)
    assert widths(ax.containers[0]) == COUNTS.tolist()
    assert ax.get_xscale() == "log" and ax.get_xlabel().startswith("frames")
    assert unsorted.get_suptitle() == "t"


def test_tag_frequencies_groups_are_small_multiples_in_first_row_order():
    before = pd.Series({"fun": 50, "funny": 20, "happy": 80, "film": 60, "sad": 30})
    after = pd.Series({"fun": 14, "happy": 40, "sad": 9})  # funny merged into fun, film dropped
    df = pd.DataFrame({"before curation": before, "after curation": after}).T
    fig = plots.tag_frequencies(df)
    assert len(fig.axes) == 2
    order = ["happy", "film", "fun", "sad", "funny"]
    assert ticks(fig.axes[0]) == order
    assert fig.axes[0].get_shared_y_axes().joined(fig.axes[0], fig.axes[1])
    assert widths(fig.axes[0].containers[0]) == [80, 60, 50, 30, 20]
    assert widths(fig.axes[1].containers[0]) == [40, 0, 14, 9, 0]  # missing tags: empty bars...
    assert [t.get_text() for t in fig.axes[1].texts] == [
        "40",
        plots.DASH,
        "14",
        "9",
        plots.DASH,
    ]  # ...marked
    assert [ax.get_title().split("\n")[0] for ax in fig.axes] == [
        "before curation",
        "after curation",
    ]
    assert fig.axes[1].get_title().endswith("3 tags, 63 tag assignments")
    three = plots.tag_frequencies(pd.concat([df, after.rename("test").to_frame().T]))
    assert len(three.axes) == 3


def test_tag_frequencies_rejects_bad_input():
    with pytest.raises(TypeError):
        plots.tag_frequencies({"a": 1})
    with pytest.raises(ValueError):
        plots.tag_frequencies(pd.Series(dtype=float))


# --------------------------------------------------------------------------------- resampled sets
TAGS4 = ["calm", "happy", "sad", "dark"]


def resampled_table() -> pd.DataFrame:
    """Single-tag counts under the study's rules (max 40, min 4), rows in a scrambled order."""
    base = pd.Series([10, 40, 4, 25], index=TAGS4)
    rows = {"base": base}
    for s in (1, 0.5):  # out of order on purpose
        rows[f"up-{s:g}"] = np.maximum(base, int(40 * s))
        rows[f"down-{s:g}"] = np.maximum(4, np.ceil((base - 4) * (1 - s))).astype(int)
    table = pd.DataFrame(rows).T
    table["frames"] = table.sum(axis=1) - 3  # set sizes; must not be drawn as a tag
    table.index.name = "set"
    return table


def test_resampled_counts_two_panels_base_order_and_heights(tmp_path):
    table = resampled_table()
    out = tmp_path / "resampled.png"
    fig = plots.resampled_counts(table, out=out)
    assert_png(out)
    assert len(fig.axes) == 2
    up_ax, down_ax = fig.axes
    order = ["happy", "dark", "calm", "sad"]  # the base set's descending order
    assert ticks(down_ax, "x") == order
    assert "frames" not in ticks(down_ax, "x") and len(down_ax.containers[0]) == 4
    assert up_ax.get_legend().get_title().get_text() == "upsampling vs base"
    assert down_ax.get_legend().get_title().get_text() == "downsampling vs base"
    for ax, names in (
        (up_ax, ["base", "up-0.5", "up-1"]),
        (down_ax, ["base", "down-0.5", "down-1"]),
    ):
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        assert legend == [
            f"{n} ({table.loc[n, 'frames']:,} frames)" for n in names
        ]  # sorted by size
        assert len(ax.containers) == 3
        for container, name in zip(ax.containers, names):
            assert heights(container) == table.loc[name, order].tolist()
            centres = [b.get_x() + b.get_width() / 2 for b in container]
            assert np.all(np.abs(np.asarray(centres) - np.arange(4)) < 0.5)  # in its tag's slot
    assert heights(up_ax.containers[2]) == [40, 40, 40, 40]
    assert heights(down_ax.containers[2]) == [4, 4, 4, 4]
    assert up_ax.get_ylabel() == "frames per tag"


def test_resampled_counts_one_panel_without_down_sets_and_errors():
    table = resampled_table()
    fig = plots.resampled_counts(table.loc[["base", "up-0.5"]].drop(columns="frames"))
    assert len(fig.axes) == 1
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["base", "up-0.5"]
    with pytest.raises(ValueError, match="base"):
        plots.resampled_counts(table.drop(index="base"))
    with pytest.raises(ValueError, match="neither"):
        plots.resampled_counts(table.rename(index={"up-1": "smote"}))
    with pytest.raises(ValueError, match="no 'up"):
        plots.resampled_counts(table.loc[["base"]])


# --------------------------------------------------------------------------------- co-occurrence
Y3 = np.array([[1, 1, 0], [1, 0, 0], [1, 1, 1], [0, 1, 1], [0, 0, 1], [1, 0, 0]])
TAGS3 = ["a", "b", "c"]
# by hand: a in rows 0,1,2,5; b in 0,2,3; c in 2,3,4; ab: 0,2; ac: 2; bc: 2,3
RAW3 = np.array([[4, 2, 1], [2, 3, 2], [1, 2, 3]])
COND3 = np.array([[1, 2 / 4, 1 / 4], [2 / 3, 1, 2 / 3], [1 / 3, 2 / 3, 1]])  # P(column | row)


def cells(fig):
    return fig.axes[0].collections[0].get_array()


def test_cooccurrence_normalised_matches_hand_computed(tmp_path):
    out = tmp_path / "cooc.png"
    fig = plots.cooccurrence(Y3, TAGS3, out=out)
    assert_png(out)
    assert len(fig.axes) == 2  # heatmap + colour bar
    ax = fig.axes[0]
    assert ticks(ax, "x") == ticks(ax, "y") == TAGS3
    grid = cells(fig)
    assert grid.shape == (3, 3)
    assert np.array_equal(grid.mask, np.eye(3, dtype=bool))  # diagonal (always 1) masked
    off = ~np.eye(3, dtype=bool)
    np.testing.assert_allclose(np.asarray(grid)[off], COND3[off])
    assert [t.get_text() for t in ax.texts] == ["0.50", "0.25", "0.67", "0.67", "0.33", "0.67"]
    assert fig.axes[1].get_ylabel() == "P(column tag | row tag)"
    shown = plots.cooccurrence(pd.DataFrame(Y3, columns=TAGS3), None, show_diagonal=True)
    np.testing.assert_allclose(np.ma.getdata(cells(shown)), COND3)
    assert not np.ma.is_masked(cells(shown))


def test_cooccurrence_counts_top_and_errors():
    fig = plots.cooccurrence(Y3 * 7, TAGS3, normalize=False)  # any non-zero value means tagged
    np.testing.assert_array_equal(cells(fig), RAW3)
    assert not np.ma.is_masked(cells(fig))  # counts: the diagonal (tracks per tag) is shown
    assert [t.get_text() for t in fig.axes[0].texts] == [str(v) for v in RAW3.ravel()]
    assert "tracks with both tags" in fig.axes[1].get_ylabel()
    top = plots.cooccurrence(Y3[:, [2, 1, 0]], TAGS3[::-1], normalize=False, top=2)
    assert ticks(top.axes[0]) == [
        "a",
        "c",
    ]  # the two most frequent, most frequent first (c ties b, comes first)
    np.testing.assert_array_equal(cells(top), [[4, 1], [1, 3]])
    with pytest.raises(ValueError, match="tag names"):
        plots.cooccurrence(Y3, ["a", "b"])
    with pytest.raises(ValueError, match="2-D"):
        plots.cooccurrence(Y3[0], TAGS3)


# --------------------------------------------------------------------------------- per-tag AUC
PER_TAG = pd.DataFrame(
    {
        "roc_auc": [0.61, 0.93, 0.48, np.nan, 0.77],
        "pr_auc": [0.2, 0.6, 0.05, np.nan, 0.3],
        "support": [12, 40, 3, 0, 25],
    },
    index=["happy", "sad", "calm", "epic", "dark"],
)


def test_per_tag_auc_sorted_with_chance_line_and_support(tmp_path):
    out = tmp_path / "auc.png"
    fig = plots.per_tag_auc(PER_TAG, out=out)
    assert_png(out)
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    order = ["sad", "dark", "happy", "calm", "epic"]  # by ROC-AUC, best on top, undefined last
    assert ticks(ax) == order
    assert ax.get_ylim()[0] > ax.get_ylim()[1]
    np.testing.assert_allclose(widths(ax.containers[0]), [0.93, 0.77, 0.61, 0.48, 0.0])
    assert [t.get_text() for t in ax.texts] == ["0.930", "0.770", "0.610", "0.480", plots.DASH]
    (chance,) = [ln for ln in ax.lines if ln.get_label().startswith("chance")]
    assert list(chance.get_xdata()) == [0.5, 0.5] and chance.get_label() == "chance (0.50)"
    (support,) = ax.child_axes
    assert ticks(support) == ["40", "25", "12", "3", "0"]  # aligned with the tags
    assert ax.get_xlabel() == "ROC-AUC"
    assert "macro average 0.698 over 4 tags" in ax.get_title()


def test_per_tag_auc_pr_auc_chance_variants_and_models():
    fig = plots.per_tag_auc(PER_TAG, metric="pr_auc", chance=None)
    ax = fig.axes[0]
    assert ticks(ax) == ["sad", "dark", "happy", "calm", "epic"]
    assert not ax.lines and not fig.legends
    prevalence = PER_TAG["support"] / 100
    fig = plots.per_tag_auc(
        PER_TAG.assign(prevalence=prevalence), metric="pr_auc", chance="prevalence"
    )
    (marks,) = fig.axes[0].lines
    np.testing.assert_allclose(marks.get_xdata(), [0.4, 0.25, 0.12, 0.03, 0.0])  # one mark per row
    np.testing.assert_allclose(marks.get_ydata(), np.arange(5))
    via_series = plots.per_tag_auc(PER_TAG, metric="pr_auc", chance=prevalence)
    np.testing.assert_allclose(via_series.axes[0].lines[0].get_xdata(), marks.get_xdata())

    models = pd.DataFrame(
        {"CNN": [0.6, 0.9, 0.7], "VGG-ish": [0.8, 0.5, 0.75], "support": [5, 9, 2]},
        index=["x", "y", "z"],
    )
    fig = plots.per_tag_auc(models, title="two models")
    ax = fig.axes[0]
    assert ticks(ax) == ["y", "z", "x"]  # by the first model
    assert len(ax.containers) == 2
    np.testing.assert_allclose(widths(ax.containers[0]), [0.9, 0.7, 0.6])
    np.testing.assert_allclose(widths(ax.containers[1]), [0.5, 0.75, 0.8])
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["chance (0.50)", "CNN (macro 0.733)", "VGG-ish (macro 0.683)"]
    assert ax.get_title() == "two models"
    with pytest.raises(ValueError, match="chance column"):
        plots.per_tag_auc(PER_TAG, chance="prevalence")


# --------------------------------------------------------------------------------- global state
def test_mood_plots_leave_global_state_alone(tmp_path):
    before = dict(mpl.rcParams)
    backend = mpl.get_backend()
    plots.tag_frequencies(COUNTS, out=tmp_path / "a.png")
    plots.resampled_counts(resampled_table())
    plots.cooccurrence(Y3, TAGS3)
    plots.per_tag_auc(PER_TAG)
    assert dict(mpl.rcParams) == before and mpl.get_backend() == backend
    import matplotlib.pyplot as plt

    assert plt.get_fignums() == []
