"""The course's notebook format: nbgrader cells grouped into exercises.

An *exercise* is a pair of nbgrader cells in a source notebook:

* a **solution cell** (``solution: true``) whose ``grade_id`` is the
  exercise's name, for example ``matmul``. The learner's code goes between
  ``### BEGIN SOLUTION`` and ``### END SOLUTION``; the release replaces it
  with ``raise NotImplementedError()``;
* a **test cell** (``grade: true``, ``locked: true``, points set) whose
  ``grade_id`` is ``test_<name>``. Its visible part is one line,
  ``check("<name>")``; its hidden part, between ``### BEGIN HIDDEN TESTS``
  and ``### END HIDDEN TESTS``, holds only ``@check.hidden("<name>")``
  functions and quiz keys (``check.key(...)``).

The author's file beside the notebook, ``<stem>.mistakes.toml``, holds what
the gate needs and learners never see:

* ``[[mistake]]``: a plausible wrong answer (``exercise``, ``name``, ``why``,
  and the ``code`` that replaces the solution cell);
* ``[explain]``: the short explanation shown with each worked solution;
* ``[[equivalent]]``: a mutant that cannot be killed, with the reason;
* ``[[allow]]``: a run of solution tokens the task must state, with the reason.
"""

from __future__ import annotations

import ast
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
class Equivalent:
    """A mutant recorded as equivalent to the solution (no test can kill it)."""

    exercise: str
    mutant: str
    why: str


@dataclass
class Allow:
    """A run of secret tokens that the visible text may contain, with the reason."""

    exercise: str
    run: str
    why: str


@dataclass
class CourseNotebook:
    """A parsed source notebook: its cells, exercises and mistakes."""

    path: Path
    nb: NotebookNode
    exercises: list[ExerciseCells] = field(default_factory=list)
    mistakes: list[Mistake] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    explanations: dict[str, str] = field(default_factory=dict)
    equivalents: list[Equivalent] = field(default_factory=list)
    allows: list[Allow] = field(default_factory=list)

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


def split_regions(source: str, begin: str, end: str) -> tuple[list[str], list[str]]:
    """(lines outside, lines inside) the ``begin``/``end`` marker regions of a cell."""
    outside: list[str] = []
    inside: list[str] = []
    within = False
    for line in source.splitlines():
        if begin in line:
            within = True
            continue
        if end in line:
            within = False
            continue
        (inside if within else outside).append(line)
    return outside, inside


def hidden_region(source: str) -> str:
    """The hidden-test code of a test cell, dedented."""
    import textwrap

    return textwrap.dedent("\n".join(split_regions(source, BEGIN_HIDDEN, END_HIDDEN)[1]))


def visible_region(source: str) -> str:
    return "\n".join(split_regions(source, BEGIN_HIDDEN, END_HIDDEN)[0])


def solution_text(source: str) -> str:
    """A solution cell as the worked solution shows it: the markers removed."""
    lines = [
        line
        for line in source.splitlines()
        if BEGIN_SOLUTION not in line and END_SOLUTION not in line
    ]
    return "\n".join(lines).strip("\n")


def solution_bodies(source: str) -> list[str]:
    """The code between the solution markers of a cell (one string per region)."""
    bodies: list[str] = []
    current: list[str] | None = None
    for line in source.splitlines():
        if BEGIN_SOLUTION in line:
            current = []
            continue
        if END_SOLUTION in line:
            if current is not None:
                bodies.append("\n".join(current))
            current = None
            continue
        if current is not None:
            current.append(line)
    return bodies


def load_author_file(path: Path) -> dict:
    """The parsed ``.mistakes.toml`` (an empty dict if there is none)."""
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise NotebookError(f"{path}: malformed TOML: {exc}") from None


def _entries(data: dict, table: str, keys: tuple[str, ...], path: Path) -> list[dict]:
    out = []
    for i, entry in enumerate(data.get(table, []), start=1):
        if not isinstance(entry, dict):
            raise NotebookError(f"{path}: [[{table}]] #{i} is not a table")
        missing = [k for k in keys if not entry.get(k)]
        if missing:
            raise NotebookError(f"{path}: [[{table}]] #{i} lacks {', '.join(missing)}")
        out.append({k: str(entry[k]) for k in keys})
    return out


def load_mistakes(path: Path) -> list[Mistake]:
    """Parse a ``.mistakes.toml`` file; a missing file means no mistakes."""
    data = load_author_file(path)
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
    author = load_author_file(course_nb.mistakes_path)
    explain = author.get("explain", {})
    if not isinstance(explain, dict):
        problems.append(f"{course_nb.mistakes_path.name}: [explain] must be a table")
        explain = {}
    course_nb.explanations = {str(k): str(v).strip() for k, v in explain.items()}
    course_nb.equivalents = [
        Equivalent(**e)
        for e in _entries(
            author, "equivalent", ("exercise", "mutant", "why"), course_nb.mistakes_path
        )
    ]
    course_nb.allows = [
        Allow(**e)
        for e in _entries(author, "allow", ("exercise", "run", "why"), course_nb.mistakes_path)
    ]
    names = {ex.name for ex in course_nb.exercises}
    for ex in course_nb.exercises:
        problems.extend(_test_cell_problems(ex.name, nb.cells[ex.test_index].source))
    for table, entries in (("equivalent", course_nb.equivalents), ("allow", course_nb.allows)):
        for entry in entries:
            if entry.exercise not in names:
                problems.append(f"[[{table}]] targets unknown exercise {entry.exercise!r}")
    for name in course_nb.explanations:
        if name not in names:
            problems.append(f"[explain] names unknown exercise {name!r}")
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


def _is_check_call(node: ast.AST, attr: str | None, name: str) -> bool:
    """``check(name)`` (attr None) or ``check.<attr>(name, ...)``."""
    if not isinstance(node, ast.Call) or not node.args:
        return False
    func = node.func
    if attr is None:
        ok = isinstance(func, ast.Name) and func.id == "check"
    else:
        ok = (
            isinstance(func, ast.Attribute)
            and func.attr == attr
            and isinstance(func.value, ast.Name)
            and func.value.id == "check"
        )
    first = node.args[0]
    return ok and isinstance(first, ast.Constant) and first.value == name


def _test_cell_problems(name: str, source: str) -> list[str]:
    """What is wrong with a test cell in the course's format (empty: nothing)."""
    where = f"test cell of {name!r}"
    problems = []
    visible = [
        line.strip()
        for line in visible_region(source).splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    if visible != [f'check("{name}")']:
        problems.append(
            f'{where}: its visible part must be exactly one line, check("{name}") '
            f"(the checks live in mlcourse/exercises/); found {len(visible)} line(s)"
        )
    hidden = hidden_region(source)
    if not hidden.strip():
        return problems
    try:
        tree = ast.parse(hidden)
    except SyntaxError as exc:
        return problems + [f"{where}: hidden tests do not parse: {exc.msg} (line {exc.lineno})"]
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            decorators = node.decorator_list
            if len(decorators) != 1 or not _is_check_call(decorators[0], "hidden", name):
                problems.append(
                    f"{where}: hidden function {node.name!r} needs the one decorator "
                    f'@check.hidden("{name}")'
                )
            args = node.args
            if len(args.args) != 1 or args.defaults or args.vararg or args.kwonlyargs:
                problems.append(
                    f"{where}: hidden function {node.name!r} takes exactly one argument, t"
                )
        elif isinstance(node, ast.Expr) and _is_check_call(node.value, "key", name):
            continue
        else:
            problems.append(
                f'{where}: hidden tests hold only @check.hidden("{name}") functions and '
                f'check.key("{name}", ...) lines, not {type(node).__name__} (line {node.lineno})'
            )
    return problems


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
