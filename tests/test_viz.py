"""Tests for mlcourse.viz, drawn off-screen with the Agg backend."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mlcourse import viz  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _blobs():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(-2, 0.5, size=(20, 2)), rng.normal(2, 0.5, size=(20, 2))])
    y = np.repeat([0, 1], 20)
    return X, y


def test_decision_grid_covers_the_data_with_padding():
    X = np.array([[0.0, 1.0], [2.0, 3.0]])
    xx, yy, points = viz.decision_grid(X, resolution=5, padding=0.5)
    assert xx.shape == yy.shape == (5, 5)
    assert points.shape == (25, 2)
    assert points[:, 0].min() == -0.5 and points[:, 0].max() == 2.5
    assert points[:, 1].min() == 0.5 and points[:, 1].max() == 3.5


@pytest.mark.parametrize("bad", [np.zeros((4, 3)), np.zeros(4)])
def test_decision_grid_rejects_non_2d_points(bad):
    with pytest.raises(ValueError, match="shape"):
        viz.decision_grid(bad)


def test_plot_decision_boundary_labels_draws_regions_points_and_boundary():
    X, y = _blobs()
    calls = []

    def predict(points):
        calls.append(points.shape)
        return (points[:, 0] > 0).astype(int)

    ax = viz.plot_decision_boundary(predict, X, y, resolution=30, title="blobs")
    assert calls == [(900, 2)]  # one call on the whole grid
    assert ax.get_title() == "blobs"
    assert len(ax.collections) >= 3  # filled regions, boundary line, scatter
    offsets = ax.collections[-1].get_offsets()
    np.testing.assert_allclose(np.asarray(offsets), X)


def test_plot_decision_boundary_uses_the_given_axes():
    X, y = _blobs()
    fig, (left, right) = plt.subplots(1, 2)
    ax = viz.plot_decision_boundary(lambda p: p[:, 1] > 0, X, y, ax=right, resolution=10)
    assert ax is right
    assert not left.collections


def test_plot_decision_boundary_thresholds_scores():
    X, y = _blobs()
    # A real-valued score with a threshold gives two classes: 0 and 1.
    ax = viz.plot_decision_boundary(lambda p: p[:, 0] + p[:, 1], X, y, threshold=0.0, resolution=20)
    filled = ax.collections[0]
    np.testing.assert_allclose(filled.levels, [-0.5, 0.5, 1.5])  # two bands: classes 0 and 1
    x0, x1 = ax.get_xlim()
    assert x0 < X[:, 0].min() and x1 > X[:, 0].max()


def test_plot_decision_boundary_one_class_everywhere_does_not_crash():
    X, y = _blobs()
    ax = viz.plot_decision_boundary(lambda p: np.zeros(len(p)), X, np.zeros(len(X)), resolution=8)
    np.testing.assert_allclose(ax.collections[0].levels, [-0.5, 0.5])  # one band, no boundary


def test_plot_decision_boundary_checks_its_inputs():
    X, y = _blobs()
    with pytest.raises(ValueError, match="labels"):
        viz.plot_decision_boundary(lambda p: p[:, 0], X, y[:-1])
    with pytest.raises(ValueError, match="predictions"):
        viz.plot_decision_boundary(lambda p: p[:3, 0], X, y, resolution=5)


def test_plot_curves_draws_one_line_per_curve():
    ax = viz.plot_curves(
        {"train": [3.0, 2.0, 1.0], "test": [3.5, 2.5]}, logy=True, ylabel="loss", title="t"
    )
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["train", "test"]
    np.testing.assert_allclose(lines[0].get_xdata(), [0, 1, 2])
    assert ax.get_yscale() == "log"
    assert ax.get_ylabel() == "loss"


def test_plot_curves_needs_a_curve():
    with pytest.raises(ValueError):
        viz.plot_curves({})
