"""Small, reusable plotting helpers for the course notebooks.

* :func:`plot_decision_boundary`: the regions a 2-D classifier assigns to each
  class, with the data points on top;
* :func:`plot_curves`: training curves (losses, accuracies) against the step.

Both draw on a matplotlib ``Axes`` (a new one when ``ax`` is None) and return
it, so a notebook can add a title or combine panels. Neither calls
``plt.show()``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

__all__ = ["decision_grid", "plot_curves", "plot_decision_boundary"]


def decision_grid(
    X: np.ndarray, resolution: int = 200, padding: float = 0.5
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A regular grid covering the 2-D points ``X`` plus ``padding`` on each side.

    Returns ``(xx, yy, points)``: the two ``(resolution, resolution)`` coordinate
    arrays of :func:`numpy.meshgrid` and the same grid as ``(resolution**2, 2)``
    points, ready to pass to a model.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (n, 2), got {X.shape}")
    if resolution < 2:
        raise ValueError(f"resolution must be at least 2, got {resolution}")
    lo = X.min(axis=0) - padding
    hi = X.max(axis=0) + padding
    xx, yy = np.meshgrid(
        np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)
    )
    return xx, yy, np.column_stack([xx.ravel(), yy.ravel()])


def plot_decision_boundary(
    predict_fn: Callable[[np.ndarray], np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    ax: Axes | None = None,
    *,
    resolution: int = 200,
    padding: float = 0.5,
    threshold: float | None = None,
    cmap: str = "coolwarm",
    alpha: float = 0.35,
    title: str | None = None,
) -> Axes:
    """Shade the regions a 2-D classifier assigns to each class, and plot the data.

    ``predict_fn`` maps an ``(n, 2)`` array of points to ``n`` predictions:
    class labels (integers), or real scores together with ``threshold``
    (for example a logit with ``threshold=0`` or a probability with
    ``threshold=0.5``), in which case a point's class is ``score > threshold``.
    It is called once, on a ``resolution x resolution`` grid, so keep the grid
    coarse for slow models. The boundary between classes is drawn as a black
    line, and the points ``X`` are coloured by their labels ``y``.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} points but y has {len(y)} labels")
    xx, yy, grid = decision_grid(X, resolution, padding)
    pred = np.asarray(predict_fn(grid), dtype=float).reshape(-1)
    if pred.shape[0] != grid.shape[0]:
        raise ValueError(
            f"predict_fn returned {pred.shape[0]} predictions for {grid.shape[0]} points"
        )
    if threshold is not None:
        pred = (pred > threshold).astype(float)
    zz = pred.reshape(xx.shape)
    classes = np.unique(np.concatenate([np.unique(y).astype(float), np.unique(zz)]))
    # One colour band per class value: boundaries half-way between classes.
    mids = (classes[:-1] + classes[1:]) / 2
    levels = np.concatenate([[classes[0] - 0.5], mids, [classes[-1] + 0.5]])
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    vmin, vmax = classes[0] - 0.5, classes[-1] + 0.5
    ax.contourf(xx, yy, zz, levels=levels, cmap=cmap, alpha=alpha, vmin=vmin, vmax=vmax)
    if len(mids):
        ax.contour(xx, yy, zz, levels=mids, colors="k", linewidths=1)
    ax.scatter(
        X[:, 0], X[:, 1], c=y.astype(float), cmap=cmap, vmin=vmin, vmax=vmax, s=18, edgecolors="k"
    )
    ax.set_xlim(xx.min(), xx.max())
    ax.set_ylim(yy.min(), yy.max())
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    return ax


def plot_curves(
    curves: Mapping[str, Sequence[float]],
    ax: Axes | None = None,
    *,
    xlabel: str = "step",
    ylabel: str = "",
    logy: bool = False,
    title: str | None = None,
) -> Axes:
    """Plot named training curves (``{"train loss": [...], ...}``) against their index."""
    if not curves:
        raise ValueError("no curves to plot")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    for name, values in curves.items():
        values = np.asarray(values, dtype=float)
        ax.plot(np.arange(len(values)), values, label=name)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend()
    return ax
