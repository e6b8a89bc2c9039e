"""The data of ``mlcourse progress``: what the learner ran, per phase and notebook.

Progress comes only from what the learner actually ran. Every check appends
its outcome to the workspace's event log (:mod:`mlcourse.check.events`);
nothing leaves the machine. :func:`progress_report` reads that log and the
workspace's notebooks and answers, per phase and per notebook: how many
graded exercises are passed out of the total, and when the notebook was last
worked on.

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
* An **unreadable** notebook (a truncated save) keeps its exercises, known
  from the course's copy it was written from; they count as unknown.

The workspace's layout belongs to :mod:`mlcourse.layout`.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlcourse import layout, paths
from mlcourse.layout import find_workspace

__all__ = [
    "NotebookProgress",
    "PhaseProgress",
    "ProgressReport",
    "find_workspace",
    "graded_exercises",
    "months_of",
    "progress_report",
    "read_log",
]

PLAN_MONTHS = 12


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


def _course_notebooks(workspace: Path, manifest: dict[str, str]) -> list[str]:
    listed = sorted((rel for rel in manifest if rel.endswith(".ipynb")), key=paths.plan_key)
    if listed:
        return listed
    found = []
    for path in sorted(workspace.rglob("*.ipynb")):
        rel = path.relative_to(workspace)
        if not layout.is_visible(rel):  # checkpoints, .mlcourse
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


def months_of(text: str) -> tuple[int, int]:
    start, _, end = text.partition("-")
    return int(start), int(end or start)


def progress_report(workspace: Path | str) -> ProgressReport:
    """Per phase and per notebook: exercises passed out of the total, and when each
    notebook was last worked on. ``workspace`` is a folder made by ``mlcourse start``.

    Raises ``FileNotFoundError`` if it is not one.
    """
    workspace = Path(workspace).resolve()
    if not layout.is_workspace(workspace):
        raise FileNotFoundError(
            f"{workspace} is not an mlcourse workspace "
            f"(no {layout.MLCOURSE_DIR}/{layout.MANIFEST_FILE}); "
            "run `mlcourse start` to make one"
        )
    manifest = layout.read_manifest(workspace)
    notebooks: dict[str, NotebookProgress] = {}
    for rel in _course_notebooks(workspace, manifest):
        path = workspace / rel
        exercises = graded_exercises(path) if path.is_file() else None
        readable = exercises is not None
        if exercises is None:
            # Unreadable (a truncated save): its exercises are still the course's,
            # known from the copy it was written from; they count, as unknown.
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
                months=months_of(months),
                notebooks=[nb for nb in notebooks.values() if nb.phase == folder],
            )
        )
    report.other = [nb for nb in notebooks.values() if not nb.phase and nb.total]
    return report
