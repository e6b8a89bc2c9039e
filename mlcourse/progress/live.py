"""The start page's live view of a learner's progress."""

from __future__ import annotations

from pathlib import Path

from mlcourse.progress.report import ProgressReport, find_workspace, progress_report
from mlcourse.progress.table import render_table, summary_lines
from mlcourse.progress.timeline import plot_progress

__all__ = ["show"]


NOT_IN_WORKSPACE = (
    "This notebook is not inside a workspace made by `mlcourse start`, so there is no "
    "progress to show here. Run `mlcourse start` in a terminal: it copies the notebooks "
    "into ./mlcourse-work and opens them in JupyterLab, and this view then shows how far "
    "along the plan you are."
)


def show(workspace: Path | str | None = None) -> None:
    """Print the progress table and draw the timeline (in a notebook: inline).

    ``workspace`` defaults to the one containing the current folder. Outside a
    workspace it says so and draws the plan alone. Returns None, so nothing
    extra shows at the end of a cell; use :func:`progress_report` for the data.
    """
    from rich.console import Console

    console = Console()
    ws = Path(workspace) if workspace is not None else find_workspace()
    report = None
    if ws is None:
        print(NOT_IN_WORKSPACE)
    else:
        try:
            report = progress_report(ws)
        except FileNotFoundError as exc:
            print(exc)
    if report is not None:
        console.print(render_table(report))
        print("\n".join(summary_lines(report)))  # plain text: reads well in a notebook
    _display_figure(report)


def _display_figure(report: ProgressReport | None) -> None:
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - matplotlib is a dependency
        return
    fig, ax = plt.subplots(figsize=(9, 3.4), layout="constrained")
    plot_progress(report, ax=ax)
    plt.show()
