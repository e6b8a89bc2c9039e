"""The plots of the portfolio page: one comparison per project, as PNG bytes.

Matplotlib's object-oriented API (no pyplot), so that building a portfolio
inside a notebook never changes the notebook's backend or its open figures.
"""

from __future__ import annotations

import io

from mlcourse.portfolio.collect import ProjectResult
from mlcourse.portfolio.numbers import format_figure

BEST, OTHER = "#2a7ab0", "#9aa5b1"


def plotted(result: ProjectResult) -> list[str]:
    """The figures of the project's comparison that were recorded (at least two, one unit)."""
    names = [name for name in result.project.plot if name in result.figures]
    units = {result.figures[name].unit for name in names}
    return names if len(names) >= 2 and len(units) == 1 else []


def comparison_png(result: ProjectResult, dpi: int = 100) -> bytes | None:
    """A bar chart of the project's comparison figures; None when there is nothing to compare."""
    names = plotted(result)
    if not names:
        return None
    from matplotlib.figure import Figure

    project = result.project
    values = [result.figures[name].value for name in names]
    unit = result.figures[names[0]].unit
    better = {project.metric(name).better for name in names}
    lower = better == {"lower"}
    best = min(values) if lower else max(values)
    fig = Figure(figsize=(6.4, 0.55 * len(names) + 1.1), layout="constrained")
    ax = fig.add_subplot()
    titles = [project.metric(name).title for name in names]
    colours = [BEST if v == best else OTHER for v in values]
    bars = ax.barh(range(len(names)), values, color=colours)
    ax.set_yticks(range(len(names)), titles, fontsize=8)
    ax.invert_yaxis()
    for bar, value in zip(bars, values):
        ax.text(
            bar.get_width(),
            bar.get_y() + bar.get_height() / 2,
            " " + format_figure(value, unit),
            va="center",
            fontsize=8,
        )
    if min(values) >= 0:
        ax.set_xlim(0, max(values) * 1.25 or 1)
    ax.spines[["top", "right"]].set_visible(False)
    direction = "lower is better" if lower else "higher is better" if better == {"higher"} else ""
    ax.set_title(f"{project.title}" + (f" ({direction})" if direction else ""), fontsize=9)
    ax.set_xlabel(unit if unit else "score", fontsize=8)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
