"""How far along the 12-month plan a learner is: ``mlcourse progress`` and the start page.

Progress comes only from what the learner actually ran. Every check appends
its outcome to ``<workspace>/.mlcourse/progress.jsonl`` (see
:func:`mlcourse.check.record`); nothing leaves the machine. This module reads
that log and the workspace's notebooks and answers, per phase and per
notebook: how many graded exercises are passed out of the total, and when the
notebook was last worked on.

* **The notebooks** are the course's notebooks in the workspace (the ones its
  manifest lists; every notebook below it if the manifest lists none). An
  exercise is a graded test cell (nbgrader ``grade: true``) whose ``grade_id``
  is ``test_<name>``.
* **Passed** means the *latest* recorded outcome of that exercise is
  ``correct``: an exercise that passed and then broke again is not passed.
* **Which notebook** a record belongs to: its ``notebook`` field when
  JupyterLab named the notebook, otherwise the notebook of the record's
  ``folder`` that has an exercise of that name, if exactly one does (a copy of
  a notebook such as ``linear_algebra-Copy1.ipynb`` credits the course's
  notebook of the same folder the same way).
* **Last worked on**: the latest check run in the notebook, or the time the
  learner last saved it, if they changed it.

:func:`progress_report` computes the data; :func:`render_table` and
:func:`plot_progress` draw it; :func:`show` is the start page's live view and
:data:`progress` the ``mlcourse progress`` command.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from mlcourse import paths

__all__ = [
    "NotebookProgress",
    "PhaseProgress",
    "ProgressReport",
    "find_workspace",
    "graded_exercises",
    "plot_progress",
    "progress",
    "progress_report",
    "render_table",
    "show",
]

MLCOURSE_DIR = ".mlcourse"
MANIFEST_FILE = "manifest.json"
PROGRESS_FILE = "progress.jsonl"  # the same name mlcourse.check writes
PLAN_MONTHS = 12
OUTCOMES = ("correct", "incorrect", "not_attempted", "raised")
DAYS_PER_MONTH = 365.25 / 12


# -- data ------------------------------------------------------------------------


@dataclass
class NotebookProgress:
    """One notebook of the workspace."""

    path: str  # workspace-relative, POSIX: "01_foundations/linear_algebra.ipynb"
    phase: str  # its phase folder ("01_foundations"), or "" for top-level notebooks
    exercises: list[str]  # graded exercises, in notebook order
    latest: dict[str, str] = field(default_factory=dict)  # exercise -> latest outcome
    last_check: float | None = None  # time of the latest check run in this notebook
    last_saved: float | None = None  # mtime, only if the learner changed the file
    readable: bool = True
    hints: dict[str, int] = field(default_factory=dict)  # exercise -> highest hint level seen
    solutions_viewed: list[str] = field(default_factory=list)  # worked solutions revealed

    @property
    def name(self) -> str:
        return Path(self.path).stem

    @property
    def total(self) -> int:
        return len(self.exercises)

    @property
    def passed(self) -> list[str]:
        return [ex for ex in self.exercises if self.latest.get(ex) == "correct"]

    @property
    def failing(self) -> list[str]:
        """Exercises tried whose latest outcome is not a pass."""
        return [ex for ex in self.exercises if self.latest.get(ex, "correct") != "correct"]

    @property
    def fraction(self) -> float:
        return len(self.passed) / self.total if self.total else 0.0

    @property
    def last_worked(self) -> float | None:
        times = [t for t in (self.last_check, self.last_saved) if t is not None]
        return max(times) if times else None


class _Tally:
    """Passed out of total over ``self.notebooks`` (a phase, or the whole course)."""

    notebooks: list[NotebookProgress]

    @property
    def total(self) -> int:
        return sum(nb.total for nb in self.notebooks)

    @property
    def passed(self) -> int:
        return sum(len(nb.passed) for nb in self.notebooks)

    @property
    def fraction(self) -> float:
        return self.passed / self.total if self.total else 0.0


@dataclass
class PhaseProgress(_Tally):
    """One phase of the plan, for example Foundations, months 1-3."""

    folder: str
    name: str
    months: tuple[int, int]  # first and last month, 1-based, inclusive
    notebooks: list[NotebookProgress] = field(default_factory=list)

    @property
    def last_worked(self) -> float | None:
        times = [nb.last_worked for nb in self.notebooks if nb.last_worked is not None]
        return max(times) if times else None


@dataclass
class ProgressReport(_Tally):
    """Everything ``mlcourse progress`` and the start page show."""

    workspace: Path
    phases: list[PhaseProgress]
    other: list[NotebookProgress] = field(default_factory=list)  # outside any phase
    records: int = 0  # check outcomes in the log
    unmatched: int = 0  # records that could not be tied to a notebook's exercise
    first_check: float | None = None
    generated: float = field(default_factory=time.time)

    @property
    def notebooks(self) -> list[NotebookProgress]:
        return [nb for phase in self.phases for nb in phase.notebooks] + self.other

    def notebook(self, path: str) -> NotebookProgress:
        """The notebook at workspace-relative ``path`` (or with that stem)."""
        for nb in self.notebooks:
            if nb.path == path or nb.name == path:
                return nb
        raise KeyError(path)

    def next_exercise(self) -> tuple[NotebookProgress, str] | None:
        """Where to go on: the first unpassed exercise of the latest notebook worked
        on, else the first unpassed exercise in plan order."""
        worked = [nb for nb in self.notebooks if nb.last_worked and nb.total]
        for nb in sorted(worked, key=lambda n: n.last_worked or 0, reverse=True)[:1]:
            todo = [ex for ex in nb.exercises if ex not in nb.passed]
            if todo:
                return nb, todo[0]
        for nb in self.notebooks:
            todo = [ex for ex in nb.exercises if ex not in nb.passed]
            if todo:
                return nb, todo[0]
        return None

    def as_dict(self) -> dict[str, Any]:
        """Plain data (for JSON)."""

        def nb_dict(nb: NotebookProgress) -> dict[str, Any]:
            return {
                "path": nb.path,
                "passed": len(nb.passed),
                "total": nb.total,
                "exercises": {ex: nb.latest.get(ex) for ex in nb.exercises},
                "last_worked": nb.last_worked,
            }

        return {
            "workspace": str(self.workspace),
            "passed": self.passed,
            "total": self.total,
            "phases": [
                {
                    "folder": p.folder,
                    "name": p.name,
                    "months": list(p.months),
                    "passed": p.passed,
                    "total": p.total,
                    "last_worked": p.last_worked,
                    "notebooks": [nb_dict(nb) for nb in p.notebooks],
                }
                for p in self.phases
            ],
            "other": [nb_dict(nb) for nb in self.other],
            "records": self.records,
            "unmatched": self.unmatched,
        }


# -- reading the workspace --------------------------------------------------------


def find_workspace(start: Path | str | None = None) -> Path | None:
    """The workspace containing ``start`` (default: the current folder), if any.

    Walks up to the first folder holding ``.mlcourse/manifest.json``, the
    marker ``mlcourse start`` writes (the same rule the checks use).
    """
    here = Path(start) if start is not None else Path.cwd()
    here = here.resolve()
    for folder in (here, *here.parents):
        if (folder / MLCOURSE_DIR / MANIFEST_FILE).is_file():
            return folder
    return None


def graded_exercises(notebook: Path) -> list[str] | None:
    """Names of the graded exercises of a notebook, in order; None if unreadable.

    A graded exercise is a code cell with nbgrader ``grade: true`` (and not
    ``solution: true``) whose ``grade_id`` is ``test_<name>``. The file is
    read leniently: a learner's notebook need not be perfectly valid.
    """
    try:
        data = json.loads(Path(notebook).read_text(encoding="utf-8"))
        cells = data["cells"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
        return None
    names: list[str] = []
    for cell in cells if isinstance(cells, list) else []:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        meta = (cell.get("metadata") or {}).get("nbgrader") or {}
        if not isinstance(meta, dict) or not meta.get("grade") or meta.get("solution"):
            continue
        grade_id = meta.get("grade_id")
        if isinstance(grade_id, str) and grade_id.startswith("test_") and len(grade_id) > 5:
            name = grade_id[len("test_") :]
            if name not in names:
                names.append(name)
    return names


def _manifest(workspace: Path) -> dict[str, str]:
    try:
        data = json.loads((workspace / MLCOURSE_DIR / MANIFEST_FILE).read_text(encoding="utf-8"))
        files = data.get("files", {})
        return {str(k): str(v) for k, v in files.items()} if isinstance(files, dict) else {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        return {}


def _course_notebooks(workspace: Path, manifest: dict[str, str]) -> list[str]:
    listed = sorted((rel for rel in manifest if rel.endswith(".ipynb")), key=paths.plan_key)
    if listed:
        return listed
    found = []
    for path in sorted(workspace.rglob("*.ipynb")):
        rel = path.relative_to(workspace)
        if any(part.startswith(".") for part in rel.parts):  # checkpoints, .mlcourse
            continue
        found.append(rel.as_posix())
    return sorted(found, key=paths.plan_key)


def read_log(workspace: Path, kinds: tuple[str, ...] = ("check",)) -> list[dict[str, Any]]:
    """The events recorded in the workspace (checks by default), oldest first.

    The format is :mod:`mlcourse.check.events`'s, read by its own reader.
    """
    from mlcourse.check import events

    records = []
    for event in events.read(Path(workspace)):
        if event.kind.value not in kinds:
            continue
        records.append(
            {
                "time": event.time,
                "folder": event.folder,
                "notebook": event.notebook,
                "exercise": event.exercise,
                "kind": event.kind.value,
                "outcome": event.outcome.value if event.outcome else None,
                "level": event.level,
                "order": event.order,
            }
        )
    return records


def _phase_of(rel: str) -> str:
    first = rel.split("/", 1)[0]
    return first if "/" in rel and first in paths.PHASES else ""


def _months(text: str) -> tuple[int, int]:
    start, _, end = text.partition("-")
    return int(start), int(end or start)


def progress_report(workspace: Path | str) -> ProgressReport:
    """Per phase and per notebook: exercises passed out of the total, and when each
    notebook was last worked on. ``workspace`` is a folder made by ``mlcourse start``.

    Raises ``FileNotFoundError`` if it is not one.
    """
    workspace = Path(workspace).resolve()
    if not (workspace / MLCOURSE_DIR / MANIFEST_FILE).is_file():
        raise FileNotFoundError(
            f"{workspace} is not an mlcourse workspace (no {MLCOURSE_DIR}/{MANIFEST_FILE}); "
            "run `mlcourse start` to make one"
        )
    manifest = _manifest(workspace)
    notebooks: dict[str, NotebookProgress] = {}
    for rel in _course_notebooks(workspace, manifest):
        path = workspace / rel
        exercises = graded_exercises(path) if path.is_file() else None
        readable = exercises is not None
        if exercises is None:
            # Unreadable (a truncated save): its exercises are still the course's,
            # known from the copy it was written from; they count, as unknown.
            from mlcourse import layout

            exercises = graded_exercises(layout.base_path(workspace, rel)) or []
        nb = NotebookProgress(
            path=rel,
            phase=_phase_of(rel),
            exercises=exercises,
            readable=readable,
        )
        if path.is_file():
            try:
                data = path.read_bytes()
                if hashlib.sha256(data).hexdigest() != manifest.get(rel):
                    nb.last_saved = path.stat().st_mtime  # the learner changed it
            except OSError:
                pass
        notebooks[rel] = nb

    by_folder: dict[str, list[NotebookProgress]] = {}
    for nb in notebooks.values():
        parent = Path(nb.path).parent.as_posix()
        by_folder.setdefault("" if parent == "." else parent, []).append(nb)

    report = ProgressReport(workspace=workspace, phases=[])
    records = read_log(workspace, kinds=("check", "hint", "solution"))
    report.records = sum(1 for r in records if r["kind"] == "check")
    for rec in records:
        target = notebooks.get(rec["notebook"]) if rec["notebook"] else None
        if target is None or rec["exercise"] not in target.exercises:
            folder = rec["folder"]
            if rec["notebook"] and not folder:
                parent = Path(rec["notebook"]).parent.as_posix()
                folder = "" if parent == "." else parent
            candidates = [nb for nb in by_folder.get(folder, []) if rec["exercise"] in nb.exercises]
            target = candidates[0] if len(candidates) == 1 else None
        if target is None:
            report.unmatched += rec["kind"] == "check"
            continue
        if rec["kind"] == "hint":
            target.hints[rec["exercise"]] = max(target.hints.get(rec["exercise"], 0), rec["level"])
            continue
        if rec["kind"] == "solution":
            if rec["exercise"] not in target.solutions_viewed:
                target.solutions_viewed.append(rec["exercise"])
            continue
        target.latest[rec["exercise"]] = rec["outcome"]  # records are in time order
        target.last_check = rec["time"]
        if report.first_check is None:
            report.first_check = rec["time"]

    for folder, (name, months) in paths.PHASES.items():
        report.phases.append(
            PhaseProgress(
                folder=folder,
                name=name,
                months=_months(months),
                notebooks=[nb for nb in notebooks.values() if nb.phase == folder],
            )
        )
    report.other = [nb for nb in notebooks.values() if not nb.phase and nb.total]
    return report


# -- the table ---------------------------------------------------------------------


def _when(stamp: float | None, now: float | None = None) -> str:
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
            _when(phase.last_worked, now) if phase.notebooks else "",
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
                _when(nb.last_worked, now),
            )
    for nb in report.other:
        table.add_row(
            nb.path,
            "",
            f"{len(nb.passed)}/{nb.total}",
            _bar(nb.fraction),
            str(len(nb.solutions_viewed) or ""),
            _when(nb.last_worked),
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
                f"(counting from your first check, {_when(report.first_check, report.generated)})."
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
    if report.unmatched:
        lines.append(
            f"({report.unmatched} recorded checks belong to no notebook of the course: "
            "renamed notebooks or other folders.)"
        )
    return lines


# -- the plot ----------------------------------------------------------------------


def plan_month(report: ProgressReport) -> float | None:
    """Months elapsed since the first recorded check (0 = the first month)."""
    if report.first_check is None:
        return None
    return max(0.0, (report.generated - report.first_check) / 86400 / DAYS_PER_MONTH)


def _plan_phases() -> list[tuple[str, str, tuple[int, int]]]:
    return [(folder, name, _months(m)) for folder, (name, m) in paths.PHASES.items()]


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


# -- the start page's live view ------------------------------------------------------


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


# -- mlcourse progress ------------------------------------------------------------------


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
        workspace = find_workspace() or Path("mlcourse-work")
    try:
        report = progress_report(workspace)
    except FileNotFoundError as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(2)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=1))
        return
    console.print(render_table(report))
    for line in summary_lines(report):
        console.print(line, markup=False, highlight=False)
    plot_path = plot_path if plot_path is not None else report.workspace / "progress.png"
    plot_path.parent.mkdir(parents=True, exist_ok=True)
    fig = plot_progress(report)
    fig.savefig(plot_path, dpi=110)
    console.print(f"Plot written to {plot_path}", markup=False, highlight=False)


if __name__ == "__main__":  # pragma: no cover
    progress()
