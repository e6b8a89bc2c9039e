"""The course's notebook format: nbgrader cells grouped into exercises.

An *exercise* is a pair of nbgrader cells in a source notebook:

* a **solution cell** (``solution: true``) whose ``grade_id`` is the
  exercise's name, for example ``matmul``. The learner's code goes between
  ``### BEGIN SOLUTION`` and ``### END SOLUTION``; the release replaces it
  with ``raise NotImplementedError()``;
* a **test cell** (``grade: true``, ``locked: true``, points set) whose
  ``grade_id`` is ``test_<name>``. It opens ``check.exercise(...)``, runs
  visible checks, then hidden tests between ``### BEGIN HIDDEN TESTS`` and
  ``### END HIDDEN TESTS``.

Mistake fixtures live beside the notebook in ``<stem>.mistakes.toml``: each
``[[mistake]]`` names its ``exercise``, a short ``name``, a ``why`` and the
``code`` that replaces the solution cell. See :func:`load_mistakes`.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat import NotebookNode

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
TEST_PREFIX = "test_"
MISTAKES_SUFFIX = ".mistakes.toml"


class NotebookError(Exception):
    """A notebook or its mistakes file cannot be used; the message says why."""


@dataclass
class ExerciseCells:
    """Where one exercise lives in a notebook."""

    name: str
    solution_index: int
    test_index: int
    points: float


@dataclass
class Mistake:
    """A plausible wrong answer to one exercise, which its tests must catch."""

    exercise: str
    name: str
    why: str
    code: str


@dataclass
class CourseNotebook:
    """A parsed source notebook: its cells, exercises and mistakes."""

    path: Path
    nb: NotebookNode
    exercises: list[ExerciseCells] = field(default_factory=list)
    mistakes: list[Mistake] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def mistakes_path(self) -> Path:
        return mistakes_path(self.path)

    def exercise(self, name: str) -> ExerciseCells:
        for ex in self.exercises:
            if ex.name == name:
                return ex
        raise KeyError(name)

    @property
    def first_exercise_index(self) -> int:
        return min((ex.solution_index for ex in self.exercises), default=len(self.nb.cells))


def mistakes_path(notebook: Path) -> Path:
    return notebook.with_name(notebook.stem + MISTAKES_SUFFIX)


def read_notebook(path: Path) -> NotebookNode:
    """Read and validate a notebook, with a clear error for malformed files."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise NotebookError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise NotebookError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookError(
            f"{path}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    if not isinstance(data, dict) or "cells" not in data:
        raise NotebookError(f"{path}: not a Jupyter notebook (no 'cells' list)")
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        raise NotebookError(f"{path}: invalid notebook: {exc.message}") from None
    except Exception as exc:  # noqa: BLE001 - any other defect of the file
        raise NotebookError(f"{path}: invalid notebook: {exc}") from None
    return nb


def nbgrader_meta(cell: NotebookNode) -> dict:
    """The cell's nbgrader metadata, or an empty dict."""
    meta = cell.get("metadata", {}).get("nbgrader")
    return dict(meta) if isinstance(meta, dict) else {}


def is_solution(cell: NotebookNode) -> bool:
    return bool(nbgrader_meta(cell).get("solution"))


def is_test(cell: NotebookNode) -> bool:
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade")) and not meta.get("solution") and cell.cell_type == "code"


def load_mistakes(path: Path) -> list[Mistake]:
    """Parse a ``.mistakes.toml`` file; a missing file means no mistakes."""
    if not path.exists():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise NotebookError(f"{path}: malformed TOML: {exc}") from None
    mistakes = []
    for i, entry in enumerate(data.get("mistake", []), start=1):
        missing = [k for k in ("exercise", "name", "why", "code") if not entry.get(k)]
        if missing:
            raise NotebookError(f"{path}: mistake #{i} lacks {', '.join(missing)}")
        mistakes.append(
            Mistake(
                exercise=str(entry["exercise"]),
                name=str(entry["name"]),
                why=str(entry["why"]).strip(),
                code=str(entry["code"]),
            )
        )
    return mistakes


def parse(path: Path) -> CourseNotebook:
    """Read a source notebook and its mistakes, and check the format.

    Format problems (not exceptions) are collected in ``problems`` so that the
    gate can report them all at once.
    """
    path = Path(path)
    nb = read_notebook(path)
    course_nb = CourseNotebook(path=path, nb=nb)
    problems = course_nb.problems

    seen: dict[str, int] = {}
    solutions: dict[str, int] = {}
    tests: dict[str, tuple[int, float]] = {}
    for index, cell in enumerate(nb.cells):
        where = f"cell {index + 1}"
        if cell.cell_type == "code":
            if cell.get("outputs"):
                problems.append(f"{where} has committed outputs (run nbstripout)")
            if cell.get("execution_count") is not None:
                problems.append(f"{where} has an execution count (run nbstripout)")
        meta = nbgrader_meta(cell)
        if not meta:
            continue
        grade_id = meta.get("grade_id")
        if not grade_id or not isinstance(grade_id, str):
            problems.append(f"{where} has nbgrader metadata without a grade_id")
            continue
        if grade_id in seen:
            problems.append(
                f"grade_id {grade_id!r} is used by cells {seen[grade_id]} and {index + 1}"
            )
        seen[grade_id] = index + 1
        if meta.get("schema_version") != 3:
            problems.append(f"{where} ({grade_id}): nbgrader schema_version must be 3")
        if meta.get("solution"):
            if cell.cell_type != "code":
                continue  # a written-answer cell; not an autograded exercise
            if meta.get("grade"):
                problems.append(f"{where} ({grade_id}): a code cell is either solution or test")
            source = cell.source
            if BEGIN_SOLUTION not in source or END_SOLUTION not in source:
                problems.append(f"{where} ({grade_id}): solution cell without solution markers")
            solutions[grade_id] = index
        elif meta.get("grade"):
            points = meta.get("points")
            if not isinstance(points, int | float) or points <= 0:
                problems.append(f"{where} ({grade_id}): points must be set and positive")
                points = 0
            if not meta.get("locked"):
                problems.append(f"{where} ({grade_id}): test cells must be locked")
            if cell.cell_type == "code":
                tests[grade_id] = (index, float(points))
            if BEGIN_SOLUTION in cell.source:
                problems.append(f"{where} ({grade_id}): a test cell holds solution markers")

    for name, sol_index in solutions.items():
        test = tests.get(TEST_PREFIX + name)
        if test is None:
            problems.append(f"exercise {name!r} has no test cell {TEST_PREFIX + name!r}")
            continue
        if test[0] < sol_index:
            problems.append(f"exercise {name!r}: its test cell comes before its solution cell")
            continue
        course_nb.exercises.append(ExerciseCells(name, sol_index, test[0], test[1]))
    for test_id in tests:
        if not test_id.startswith(TEST_PREFIX) or test_id[len(TEST_PREFIX) :] not in solutions:
            problems.append(
                f"test cell {test_id!r} matches no solution cell "
                f"(name it {TEST_PREFIX}<solution grade_id>)"
            )
    course_nb.exercises.sort(key=lambda ex: ex.solution_index)

    course_nb.mistakes = load_mistakes(course_nb.mistakes_path)
    names = {ex.name for ex in course_nb.exercises}
    for mistake in course_nb.mistakes:
        if mistake.exercise not in names:
            problems.append(
                f"mistake {mistake.name!r} targets unknown exercise {mistake.exercise!r}"
            )
    covered = {m.exercise for m in course_nb.mistakes}
    for name in sorted(names - covered):
        problems.append(
            f"exercise {name!r} has no mistake fixture in {course_nb.mistakes_path.name}"
        )
    return course_nb


def source_notebooks(paths: list[Path]) -> list[Path]:
    """Expand files and folders into the source notebooks below them, sorted."""
    found: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            found.extend(
                p for p in sorted(path.rglob("*.ipynb")) if ".ipynb_checkpoints" not in p.parts
            )
        elif path.suffix == ".ipynb":
            found.append(path)
        else:
            raise NotebookError(f"{path}: not a notebook or a folder")
    return found
