"""The progress table and the sentences under it (``mlcourse progress``, the start page)."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

from mlcourse.progress.report import PLAN_MONTHS, ProgressReport
from mlcourse.progress.timeline import plan_month

__all__ = ["render_table", "summary_lines", "when"]


def when(stamp: float | None, now: float | None = None) -> str:
    if stamp is None:
        return "not yet"
    now = time.time() if now is None else now
    seconds = max(0.0, now - stamp)
    if seconds < 60:
        ago = "just now"
    elif seconds < 3600:
        ago = f"{int(seconds // 60)} min ago"
    elif seconds < 86400:
        ago = f"{int(seconds // 3600)} h ago"
    else:
        ago = f"{int(seconds // 86400)} days ago"
    return f"{datetime.fromtimestamp(stamp):%Y-%m-%d %H:%M} ({ago})"


def _bar(fraction: float, width: int = 10) -> str:
    filled = round(fraction * width)
    return "█" * filled + "░" * (width - filled) + f" {fraction:4.0%}"


def render_table(report: ProgressReport):
    """A rich ``Table``: one bold row per phase, then one row per notebook."""
    from rich.table import Table

    table = Table(
        title=f"Your progress: {report.passed} of {report.total} exercises passed",
        title_justify="left",
        caption=f"workspace {report.workspace}",
        caption_justify="left",
    )
    table.add_column("phase / notebook")
    table.add_column("months", justify="center")
    table.add_column("passed", justify="right")
    table.add_column("done")
    table.add_column("solutions seen", justify="right")
    table.add_column("last worked on")
    now = report.generated
    for phase in report.phases:
        start, end = phase.months
        table.add_row(
            f"[bold]{phase.name}[/] ({phase.folder})",
            f"{start}-{end}",
            f"[bold]{phase.passed}/{phase.total}[/]",
            _bar(phase.fraction) if phase.total else "",
            str(sum(len(nb.solutions_viewed) for nb in phase.notebooks) or ""),
            when(phase.last_worked, now) if phase.notebooks else "",
        )
        if not phase.notebooks:
            table.add_row("  [dim]no notebooks yet[/]", "", "", "", "", "")
        for nb in phase.notebooks:
            table.add_row(
                f"  {nb.name}" + ("" if nb.readable else " [red](unreadable: see below)[/]"),
                "",
                f"{len(nb.passed)}/{nb.total}",
                _bar(nb.fraction),
                str(len(nb.solutions_viewed) or ""),
                when(nb.last_worked, now),
            )
    for nb in report.other:
        table.add_row(
            nb.path,
            "",
            f"{len(nb.passed)}/{nb.total}",
            _bar(nb.fraction),
            str(len(nb.solutions_viewed) or ""),
            when(nb.last_worked),
        )
    return table


def summary_lines(report: ProgressReport) -> list[str]:
    """A few sentences under the table: where you are and what comes next."""
    lines = []
    if report.records == 0:
        lines.append(
            "No checks recorded yet: open a notebook, write your code, run its check cell, "
            "and your progress appears here."
        )
    else:
        where = plan_month(report)
        if where is not None:
            lines.append(
                f"Month {min(PLAN_MONTHS, int(where) + 1)} of the plan "
                f"(counting from your first check, {when(report.first_check, report.generated)})."
            )
    nxt = report.next_exercise()
    if nxt is not None:
        nb, ex = nxt
        lines.append(f"Next up: {nb.path}, exercise {ex}.")
    elif report.total:
        lines.append("Every exercise passes its visible checks. Well done!")
    for nb in report.notebooks:
        if not nb.readable and Path(report.workspace, nb.path).exists():
            lines.append(
                f"{nb.path} cannot be read as a notebook (a truncated save?); it is kept as it "
                f"is, and its {nb.total} exercises count as not known. To start it afresh "
                f"(your file goes to .mlcourse/backups): mlcourse update --restore {nb.path}"
            )
    drill = drill_line(report.workspace)
    if drill:
        lines.append(drill)
    if report.unmatched:
        lines.append(
            f"({report.unmatched} recorded checks belong to no notebook of the course: "
            "renamed notebooks or other folders.)"
        )
    return lines


def drill_line(workspace: Path) -> str | None:
    """The interview drill's boxes, once the learner has used it (``mlcourse drill``)."""
    try:
        from mlcourse.drill import drill_summary, summary_line

        summary = drill_summary(workspace)
    except Exception:  # noqa: BLE001 - the drill's state must never break progress
        return None
    return summary_line(summary) if summary["seen"] else None
