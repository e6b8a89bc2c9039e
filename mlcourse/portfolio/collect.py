"""Collect a learner's finished projects from the figures their notebooks recorded.

Nothing here computes a figure: each one is read from the workspace's
``results.jsonl`` (:func:`mlcourse.results.scan`), latest value first. A
project is *done* when every figure its registry entry requires is recorded;
otherwise it is listed as not done, with what is missing. Figures recorded
under a project the registry does not know are kept too, as a project of
their own (no bullets: there is no template for them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mlcourse import layout, results
from mlcourse.portfolio.registry import PROJECTS, Project, generic

START_HINT = (
    "make one with `mlcourse start` (or pass --workspace with the folder `mlcourse start` made)"
)


class NotAWorkspace(Exception):
    """The folder is not a workspace made by ``mlcourse start``."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        super().__init__(f"{self.folder} is not an mlcourse workspace: {START_HINT}")


@dataclass
class ProjectResult:
    project: Project
    figures: dict[str, results.Figure]  # metric -> its latest figure, in registry order
    notebook_present: bool

    @property
    def missing(self) -> list[str]:
        return [name for name in self.project.required if name not in self.figures]

    @property
    def done(self) -> bool:
        return not self.missing

    @property
    def started(self) -> bool:
        return bool(self.figures)


@dataclass
class Collection:
    workspace: Path
    results_file: Path
    projects: list[ProjectResult]
    damaged: list[results.Damaged]

    @property
    def done(self) -> list[ProjectResult]:
        return [p for p in self.projects if p.done]

    @property
    def not_done(self) -> list[ProjectResult]:
        return [p for p in self.projects if not p.done]

    def values(self, key: str) -> list[float]:
        """Every recorded value of one project (what its bullets may quote)."""
        for result in self.projects:
            if result.project.key == key:
                return [fig.value for fig in result.figures.values()]
        return []


def _ordered(project: Project, recorded: dict[str, results.Figure]) -> dict[str, results.Figure]:
    known = [m.name for m in project.metrics]
    names = [n for n in known if n in recorded] + sorted(n for n in recorded if n not in known)
    return {name: recorded[name] for name in names}


def _find_notebook(workspace: Path, key: str) -> str:
    for path in sorted(workspace.rglob(f"{key}.ipynb")):
        rel = path.relative_to(workspace)
        if layout.is_visible(rel):
            return rel.as_posix()
    return ""


def collect(workspace: Path, projects: tuple[Project, ...] = PROJECTS) -> Collection:
    """The workspace's projects, done or not, from its recorded figures."""
    workspace = Path(workspace).expanduser()
    if not layout.is_workspace(workspace):
        raise NotAWorkspace(workspace)
    scan = results.scan(workspace)
    grouped: dict[str, dict[str, results.Figure]] = {}
    for (project, metric), fig in scan.figures.items():
        grouped.setdefault(project, {})[metric] = fig
    found = []
    for project in projects:
        recorded = grouped.pop(project.key, {})
        present = (workspace / project.notebook).is_file()
        found.append(ProjectResult(project, _ordered(project, recorded), present))
    for key in sorted(grouped):  # figures of projects the registry does not know
        notebook = _find_notebook(workspace, key)
        entry = generic(key, sorted(grouped[key]), notebook)
        found.append(ProjectResult(entry, _ordered(entry, grouped[key]), bool(notebook)))
    return Collection(workspace, scan.path, found, scan.damaged)
