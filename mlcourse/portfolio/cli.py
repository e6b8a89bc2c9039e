"""``mlcourse portfolio``: build your portfolio from the figures your notebooks recorded."""

from __future__ import annotations

import sys
from pathlib import Path

import click

__all__ = ["portfolio"]


@click.command("portfolio", context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--workspace",
    type=click.Path(path_type=Path),
    default=None,
    help="Your workspace (default: the one around the current folder, else ./mlcourse-work).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder to write the portfolio to (default: WORKSPACE/portfolio).",
)
def portfolio(workspace: Path | None, out: Path | None) -> None:
    """Build your portfolio from the figures your project notebooks recorded.

    Each project notebook (housing, Titanic, the recommender, the sentiment
    API, the vision app, the take-home...) records the figures your code
    reached: RMSE, accuracy, NDCG, p99 latency. This command collects them
    and writes a self-contained page with plots (index.html, nothing fetched
    when it opens), a README per finished project and quantified resume
    bullets (resume_bullets.md). It never invents a figure: a project whose
    figures are missing is listed as not done, and a bullet whose figure is
    missing is not written.

    \b
    Example:
      mlcourse portfolio
      mlcourse portfolio --workspace ~/mlcourse-work --out ~/my-portfolio
      open ~/my-portfolio/index.html
    """
    from rich.console import Console
    from rich.table import Table

    from mlcourse import layout
    from mlcourse.portfolio.build import OutError, build
    from mlcourse.portfolio.collect import NotAWorkspace

    console = Console(width=None if sys.stdout.isatty() else 120, highlight=False)
    errors = Console(stderr=True, width=None if sys.stderr.isatty() else 120, highlight=False)
    if workspace is None:
        workspace = layout.find_workspace() or layout.DEFAULT_WORKSPACE
    try:
        with console.status("Building your portfolio..."):
            built = build(
                workspace, out, on_step=lambda msg: console.print(f"  {msg}", markup=False)
            )
    except NotAWorkspace as exc:
        errors.print(f"[bold red]error:[/] {exc}")
        sys.exit(2)
    except OutError as exc:
        errors.print(f"[bold red]error:[/] {exc}")
        sys.exit(2)
    collection = built.collection
    if collection.damaged:
        errors.print(
            f"[yellow]warning:[/] skipped {len(collection.damaged)} damaged line(s) of "
            f"{collection.results_file} (the other figures are used):"
        )
        for damaged in collection.damaged:
            errors.print(f"  line {damaged.line}: {damaged.reason}", markup=False)
    table = Table(title="Your projects", show_lines=False)
    table.add_column("project")
    table.add_column("status")
    table.add_column("figures", justify="right")
    table.add_column("bullets", justify="right")
    for result in collection.projects:
        status = "[green]done[/]" if result.done else "[red]not done[/]"
        if not result.done and result.missing:
            status += f" (missing {', '.join(result.missing)})"
        count = len(built.bullets.get(result.project.key, []))
        table.add_row(result.project.title, status, str(len(result.figures)), str(count))
    console.print(table)
    console.print(
        f"{len(collection.done)} of {len(collection.projects)} projects done. "
        f"Open {built.page} in a browser.",
        markup=False,
    )
