"""Shared fixtures: a tiny course notebook built in a temporary folder."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

REPO = Path(__file__).resolve().parent.parent

# Tests use the local data mirror (no internet here); an absolute path, since
# kernels run in other folders.
_MIRROR = os.environ.get("MLCOURSE_DATA_MIRROR") or str(REPO.parent / "shared" / "data")
if "://" not in _MIRROR and Path(_MIRROR).is_dir():
    os.environ["MLCOURSE_DATA_MIRROR"] = str(Path(_MIRROR).resolve())


def nbgrader(grade_id: str, *, solution=False, grade=False, points=None, locked=False) -> dict:
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


SOLUTION = """def double(x):
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION"""

TESTS = """check("double")
### BEGIN HIDDEN TESTS
@check.hidden("double")
def _(t):
    t.equal(t.call("double", -7), -14, case="a negative number")
### END HIDDEN TESTS"""

#: The checks module of the test notebooks (written as mlcourse/exercises/<stem>.py
#: into a folder on MLCOURSE_EXERCISES_PATH).
CHECKS = """from mlcourse.check import problem


@problem("double", hints=("Doubling a number adds it to itself.", "Multiply the input by two."))
def _double(t):
    t.equal(t.call("double", 3), 6, wrong={"That adds two instead.": 5})
"""

SQUARE_CHECKS = """

@problem("square", hints=("A square is a number times itself.", "Multiply x by x."))
def _square(t):
    t.equal(t.call("square", 3), 9, wrong={"You doubled it.": 6})
"""

MISTAKES = """[[mistake]]
exercise = "double"
name = "adds-two"
why = "Adds 2 instead of multiplying."
code = '''
def double(x):
    return x + 2
'''

[explain]
double = "Doubling is multiplication by two."
"""


#: Where the test notebooks' checks modules go (kernels find them through the env).
TEST_EXERCISES = Path(tempfile.gettempdir()) / f"mlcourse-test-exercises-{os.getpid()}"


def use_checks(folder: Path, stems: list[str], text: str = CHECKS) -> Path:
    """Write the test checks module for each notebook stem and put ``folder`` on the path."""
    import sys

    import mlcourse.exercises
    from mlcourse.check import problems

    folder.mkdir(parents=True, exist_ok=True)
    for stem in stems:
        (folder / f"{stem}.py").write_text(text)
        sys.modules.pop(f"mlcourse.exercises.{stem}", None)  # a fresh import next time
        problems._REGISTRY.pop(stem, None)
    paths = [p for p in os.environ.get("MLCOURSE_EXERCISES_PATH", "").split(os.pathsep) if p]
    if str(folder) not in paths:
        paths.append(str(folder))
    os.environ["MLCOURSE_EXERCISES_PATH"] = os.pathsep.join(paths)
    if str(folder) not in mlcourse.exercises.__path__:
        mlcourse.exercises.__path__.append(str(folder))
    problems.index.cache_clear()
    return folder


def build_notebook(
    folder: Path,
    name: str = "tiny.ipynb",
    *,
    setup: str = "from mlcourse import check",
    solution: str = SOLUTION,
    tests: str = TESTS,
    mistakes: str | None = MISTAKES,
    after: str | None = None,
) -> Path:
    """Write a one-exercise course notebook (and its mistakes) into ``folder``."""
    cells = [
        new_markdown_cell("# Tiny\nA notebook for the tests."),
        new_code_cell(setup),
        new_code_cell(solution, metadata=nbgrader("double", solution=True)),
        new_code_cell(tests, metadata=nbgrader("test_double", grade=True, points=2, locked=True)),
    ]
    if after:
        cells.append(new_code_cell(after))
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    nbformat.write(nb, path)
    use_checks(TEST_EXERCISES, [path.stem])
    if mistakes is not None:
        path.with_name(path.stem + ".mistakes.toml").write_text(mistakes)
    return path


@pytest.fixture
def tiny(tmp_path) -> Path:
    return build_notebook(tmp_path / "course" / "01_foundations")


ALPHA_MISTAKES = (
    MISTAKES.replace(
        'double = "Doubling is multiplication by two."',
        'double = "Times two."\nsquare = "x times x."',
    )
    + """
[[mistake]]
exercise = "square"
name = "doubles"
why = "Doubles instead of squaring."
code = '''
def square(x):
    return 2 * x
'''
"""
)

SQUARE = """def square(x):
    ### BEGIN SOLUTION
    return x * x
    ### END SOLUTION"""

SQUARE_TESTS = """check("square")
### BEGIN HIDDEN TESTS
@check.hidden("square")
def _(t):
    t.equal(t.call("square", -4), 16, case="a negative number")
### END HIDDEN TESTS"""


def build_course(root: Path) -> Path:
    """A tiny two-notebook assignment ``ps1`` under ``root/course`` (fast to grade)."""
    folder = root / "course" / "ps1"
    alpha = build_notebook(folder, "alpha.ipynb", mistakes=ALPHA_MISTAKES)
    nb = nbformat.read(alpha, as_version=4)
    nb.cells.append(new_markdown_cell("## Exercise 2"))
    nb.cells.append(new_code_cell(SQUARE, metadata=nbgrader("square", solution=True)))
    nb.cells.append(
        new_code_cell(
            SQUARE_TESTS, metadata=nbgrader("test_square", grade=True, points=3, locked=True)
        )
    )
    nbformat.write(nb, alpha)
    use_checks(TEST_EXERCISES, ["alpha"], CHECKS + SQUARE_CHECKS)
    build_notebook(folder, "beta.ipynb")
    return root / "course"
