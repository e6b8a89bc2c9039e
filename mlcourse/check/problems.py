"""The course's problems: each exercise's visible checks and tiered hints.

Every notebook ``course/<phase>/<stem>.ipynb`` has a checks module
``mlcourse/exercises/<stem>.py`` that defines its problems, learntools'
way: the problem, then its checks.

.. code-block:: python

    from mlcourse.check import problem

    @problem(
        "matmul",
        hints=(
            "A concept nudge, with no code.",
            "An approach: the steps, in words.",
            "Optionally, code-level help that still is not the solution.",
        ),
    )
    def matmul(t):
        got = t.call("matmul", A, B)
        t.shape(got, (2, 2))
        ...

Quiz questions are problems too (:func:`choice` and :func:`number`): their
visible check only says whether the answer is well formed; the answer key
lives in the notebook's hidden tests (``check.key``).

Problem names are unique across the course, so ``check("matmul")`` finds its
module by name (an index of the checks modules' source, no imports).
"""

from __future__ import annotations

import ast
import importlib
import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from mlcourse.check.outcomes import AuthoringError

EXERCISES_PACKAGE = "mlcourse.exercises"
DEFINERS = ("problem", "choice", "number")


@dataclass
class Problem:
    """One exercise's visible side: name, hints and the checks learners may see."""

    name: str
    notebook: str
    hints: tuple[str, ...]
    run: Callable | None = None
    kind: str = "code"  # "code", "choice" or "number"
    options: tuple[str, ...] = ()
    source_line: int = 0
    meta: dict = field(default_factory=dict)


_REGISTRY: dict[str, dict[str, Problem]] = {}


def _caller_notebook() -> tuple[str, int]:
    frame = sys._getframe(2)
    module = frame.f_globals.get("__name__", "")
    if not module.startswith(EXERCISES_PACKAGE + "."):
        raise AuthoringError(
            f"problems are defined in {EXERCISES_PACKAGE}.<notebook> modules, not in {module!r}"
        )
    return module.rsplit(".", 1)[1], frame.f_lineno


def _register(problem: Problem) -> Problem:
    if len(problem.hints) < 2 or not all(isinstance(h, str) and h.strip() for h in problem.hints):
        raise AuthoringError(f"problem {problem.name!r} needs at least two hint levels")
    book = _REGISTRY.setdefault(problem.notebook, {})
    if problem.name in book and book[problem.name].source_line != problem.source_line:
        raise AuthoringError(f"problem {problem.name!r} is defined twice in {problem.notebook}")
    book[problem.name] = problem
    return problem


def problem(name: str, *, hints: tuple[str, ...] | list[str], **meta) -> Callable:
    """Decorator: ``fn(t)`` holds the visible checks of exercise ``name``."""
    notebook, line = _caller_notebook()

    def register(fn: Callable) -> Callable:
        _register(
            Problem(
                name, notebook, tuple(h.strip() for h in hints), fn, source_line=line, meta=meta
            )
        )
        return fn

    return register


def _letters(options) -> tuple[str, ...]:
    letters = tuple(str(o).strip().lower() for o in options)
    if len(letters) < 2 or len(set(letters)) != len(letters):
        raise AuthoringError("a multiple-choice question needs at least two distinct options")
    return letters


def normalise_choice(value) -> str | None:
    """``"b"``, ``"B"``, ``" (b) "`` and ``"b."`` all mean option b; anything else is None."""
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    text = re.sub(r"^\(?\s*([a-z0-9])\s*[).]?$", r"\1", text)
    return text or None


def choice(name: str, *, options, hints) -> Problem:
    """A multiple-choice quiz question answered as ``name = "b"``."""
    notebook, line = _caller_notebook()
    letters = _letters(options)

    def run(t) -> None:
        value = t.value(name)
        picked = normalise_choice(value)
        t.true(
            picked in letters,
            f"your answer is {value!r}"[:80],
            f"Answer with one of {', '.join(repr(o) for o in letters)}, as a string.",
        )

    return _register(
        Problem(name, notebook, tuple(h.strip() for h in hints), run, "choice", letters, line)
    )


def number(name: str, *, hints) -> Problem:
    """A numeric quiz question answered as ``name = 0.25`` (graded with a tolerance)."""
    notebook, line = _caller_notebook()

    def run(t) -> None:
        value = t.value(name)
        ok = (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and math.isfinite(float(value))
        )
        t.true(ok, f"your answer is {value!r}"[:80], "Answer with a number, not a string.")

    return _register(
        Problem(name, notebook, tuple(h.strip() for h in hints), run, "number", (), line)
    )


def exercises_dirs() -> list[Path]:
    """The folders of the checks modules (the package's, plus MLCOURSE_EXERCISES_PATH)."""
    package = importlib.import_module(EXERCISES_PACKAGE)
    return [Path(p) for p in package.__path__]


def problems_of(notebook: str) -> dict[str, Problem]:
    """Every problem of a notebook (imports its checks module)."""
    if not re.fullmatch(r"[A-Za-z_]\w*", notebook):
        raise AuthoringError(f"not a notebook name: {notebook!r}")
    importlib.import_module(f"{EXERCISES_PACKAGE}.{notebook}")
    return dict(_REGISTRY.get(notebook, {}))


def names_in_source(text: str) -> list[str]:
    """Problem names a checks module defines, read from its source (no import)."""
    names = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Call):
            func = node.func
            fname = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if fname in DEFINERS and node.args and isinstance(node.args[0], ast.Constant):
                if isinstance(node.args[0].value, str):
                    names.append(node.args[0].value)
    return names


@lru_cache(maxsize=1)
def index() -> dict[str, str]:
    """Problem name -> notebook, over every checks module."""
    found: dict[str, str] = {}
    paths = [p for folder in exercises_dirs() for p in sorted(folder.glob("*.py"))]
    for path in paths:
        if path.name.startswith("_"):
            continue
        for name in names_in_source(path.read_text(encoding="utf-8")):
            found.setdefault(name, path.stem)
    return found


def find(name: str, notebook: str | None = None) -> Problem:
    """The problem called ``name`` (in ``notebook`` if given)."""
    notebook = notebook or index().get(name)
    if notebook is None:
        index.cache_clear()
        notebook = index().get(name)
    if notebook is None:
        raise AuthoringError(f"no exercise called {name!r} in this course")
    found = problems_of(notebook).get(name)
    if found is None:
        raise AuthoringError(f"no exercise called {name!r} in {notebook}")
    return found
