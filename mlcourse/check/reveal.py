"""Worked solutions and quiz keys for self-study, kept in the learner's workspace only.

``mlcourse start`` (and Binder's ``postBuild``) writes one file per notebook,
``<workspace>/.mlcourse/reveal/<stem>.json``, built from the course's source
notebook: each exercise's reference solution with its short explanation, and
each quiz question's key. ``check.solution(name)`` and the quiz checks read
it from there.

An instructor's release (``mlcourse release``) and a grading sandbox have no
such file, and the package itself holds no solution: there, no solution is
reachable.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from mlcourse import layout
from mlcourse.check import events

_STEM = re.compile(r"[A-Za-z_]\w*")


class _KeyRecorder:
    """Stands in for ``check`` while a notebook's hidden tests are read for their keys."""

    def __init__(self):
        self.keys: dict[str, dict] = {}

    def hidden(self, name):  # the hidden checks themselves are not needed here
        return lambda fn: None

    def key(self, name, answer, **kwargs):
        from mlcourse.check.quiz import make_key

        self.keys[name] = make_key(name, answer, **kwargs)


def quiz_keys(hidden_sources: list[str], notebook: str | None = None) -> dict[str, dict]:
    """The answer keys declared by ``check.key(...)`` in hidden-test regions.

    They are read in the checks module's namespace (as the grader runs them).
    """
    recorder = _KeyRecorder()
    namespace: dict = {}
    if notebook is not None:
        import importlib

        from mlcourse.check.problems import EXERCISES_PACKAGE

        try:
            namespace = dict(vars(importlib.import_module(f"{EXERCISES_PACKAGE}.{notebook}")))
        except ImportError:
            namespace = {}
    for source in hidden_sources:
        if "check.key" not in source:
            continue
        exec(compile(source, "<hidden tests>", "exec"), {**namespace, "check": recorder})  # noqa: S102
    return recorder.keys


def build(course_notebook) -> dict:
    """The reveal data of a parsed source notebook (:class:`mlcourse.notebook.CourseNotebook`)."""
    from mlcourse.notebook import hidden_region, solution_text

    solutions = {}
    hidden = []
    for ex in course_notebook.exercises:
        cell = course_notebook.nb.cells[ex.solution_index]
        solutions[ex.name] = {
            "code": solution_text(cell.source),
            "explain": course_notebook.explanations.get(ex.name, ""),
        }
        hidden.append(hidden_region(course_notebook.nb.cells[ex.test_index].source))
    return {
        "notebook": course_notebook.path.stem,
        "solutions": solutions,
        "keys": quiz_keys(hidden, course_notebook.path.stem),
    }


def store_path(workspace: Path, stem: str) -> Path:
    return layout.reveal_path(workspace, stem)


def load(stem: str, start: Path | None = None) -> dict | None:
    """The reveal data of notebook ``stem`` in the workspace around ``start`` (the cwd)."""
    if not _STEM.fullmatch(stem):
        return None
    workspace = events.workspace_of((start or Path.cwd()).resolve())
    if workspace is None:
        return None
    try:
        data = json.loads(store_path(workspace, stem).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def passed_before(exercise: str, start: Path | None = None) -> bool:
    """Whether the workspace's log shows ``exercise`` passing at least once."""
    workspace = events.workspace_of((start or Path.cwd()).resolve())
    if workspace is None:
        return False
    return any(
        e.exercise == exercise and e.kind is events.Kind.CHECK and e.outcome and e.outcome.passed
        for e in events.read(workspace)
    )
