"""The 12-month plan as a timeline, filled with a learner's progress."""

from __future__ import annotations

from mlcourse import paths
from mlcourse.progress.report import PLAN_MONTHS, ProgressReport, months_of

__all__ = ["plan_month", "plot_progress"]

DAYS_PER_MONTH = 365.25 / 12


def plan_month(report: ProgressReport) -> float | None:
    """Months elapsed since the first recorded check (0 = the first month)."""
    if report.first_check is None:
        return None
    return max(0.0, (report.generated - report.first_check) / 86400 / DAYS_PER_MONTH)


def _plan_phases() -> list[tuple[str, str, tuple[int, int]]]:
    return [(folder, name, months_of(m)) for folder, (name, m) in paths.PHASES.items()]


def plot_progress(report: ProgressReport | None = None, ax=None):
    """The 12-month plan as a timeline, one bar per phase over its months.

    With a ``report``, each bar fills from the left with the share of the
    phase's exercises passed, and a dashed line marks how long ago the first
    check was run. Without one, the plan alone. Draws on ``ax`` if given, else
    on a new ``matplotlib.figure.Figure`` (no pyplot: safe headless). Returns
    the figure.
    """
    if ax is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(9, 3.4), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    phases = _plan_phases()
    by_folder = {p.folder: p for p in report.phases} if report else {}
    colours = ["C0", "C1", "C2", "C3", "C4", "C5"]
    for row, (folder, name, (start, end)) in enumerate(phases):
        y = len(phases) - 1 - row
        left, width = start - 1, end - start + 1
        colour = colours[row % len(colours)]
        phase = by_folder.get(folder)
        if report is None:
            ax.barh(y, width, left=left, height=0.6, color=colour, alpha=0.75)
            label = f"{name}\nmonths {start}-{end}"
        else:
            ax.barh(y, width, left=left, height=0.6, color=colour, alpha=0.18)
            ax.barh(y, width * phase.fraction, left=left, height=0.6, color=colour)
            if phase.total:
                label = f"{phase.passed}/{phase.total} ({phase.fraction:.0%})"
            else:
                label = "no notebooks yet"
        ax.text(left + width / 2, y, label, ha="center", va="center", fontsize=9, color="black")
    ax.set_yticks(range(len(phases)))
    ax.set_yticklabels([name for _, name, _ in reversed(phases)])
    ax.set_xlim(0, PLAN_MONTHS)
    ax.set_xticks([m + 0.5 for m in range(PLAN_MONTHS)])
    ax.set_xticklabels([str(m + 1) for m in range(PLAN_MONTHS)])
    ax.set_xlabel("month of the plan")
    top = len(phases) - 0.4 + (0.0 if report is None else 0.45)
    ax.set_ylim(-0.6, top)
    for m in range(1, PLAN_MONTHS):
        ax.axvline(m, color="0.9", lw=0.8, zorder=0)
    if report is None:
        ax.set_title("The 12-month action plan")
    else:
        ax.set_title(
            f"Progress against the 12-month plan: {report.passed} of {report.total} "
            f"exercises passed ({report.fraction:.0%})"
        )
        where = plan_month(report)
        if where is not None:
            x = min(max(where, 0.04), PLAN_MONTHS - 0.04)
            ax.axvline(x, color="black", ls="--", lw=1.2)
            ax.text(
                x + (0.08 if x < PLAN_MONTHS * 0.8 else -0.08),
                top - 0.05,
                f"you are here: month {min(PLAN_MONTHS, int(where) + 1)} since your first check",
                fontsize=8,
                va="top",
                ha="left" if x < PLAN_MONTHS * 0.8 else "right",
            )
    return fig
