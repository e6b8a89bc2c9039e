"""``mlcourse progress``: the table, the sentences and the plot, in a terminal."""

from __future__ import annotations

import json
from pathlib import Path

import click

from mlcourse import layout
from mlcourse.progress.report import find_workspace, progress_report
from mlcourse.progress.table import render_table, summary_lines
from mlcourse.progress.timeline import plot_progress

__all__ = ["progress"]


@click.command("progress")
@click.option(
    "--workspace",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Your workspace (default: the one around the current folder, else ./mlcourse-work).",
)
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the timeline plot (default: WORKSPACE/progress.png).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the data as JSON instead.")
def progress(workspace: Path | None, plot_path: Path | None, as_json: bool) -> None:
    """How far along the 12-month plan you are.

    Per phase and per notebook: the exercises whose latest check passed, out of
    the total, and when you last worked on each notebook. Also writes a plot of
    your progress against the plan's months. Everything comes from the checks
    you ran (recorded in WORKSPACE/.mlcourse/progress.jsonl); nothing is sent
    anywhere.
    """
    import sys

    from rich.console import Console

    console = Console(width=None if sys.stdout.isatty() else 120)
    if workspace is None:
        workspace = find_workspace() or layout.DEFAULT_WORKSPACE
    try:
        report = progress_report(workspace)
    except FileNotFoundError as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(2)
    if as_json:
        data = report.as_dict()
        try:
            from mlcourse.drill import drill_summary

            data["drill"] = drill_summary(report.workspace)
        except Exception:  # noqa: BLE001 - the drill's state must never break progress
            data["drill"] = None
        click.echo(json.dumps(data, indent=1))
        return
    console.print(render_table(report))
    for line in summary_lines(report):
        console.print(line, markup=False, highlight=False)
    plot_path = plot_path if plot_path is not None else report.workspace / "progress.png"
    plot_path.parent.mkdir(parents=True, exist_ok=True)
    fig = plot_progress(report)
    fig.savefig(plot_path, dpi=110)
    console.print(f"Plot written to {plot_path}", markup=False, highlight=False)
