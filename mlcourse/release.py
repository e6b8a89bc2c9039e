"""Student versions of the course notebooks, made by nbgrader.

Two ways, one result:

* :func:`student_version` applies nbgrader's own preprocessors in process
  (clear solutions, clear hidden tests, clear outputs, lock cells, compute
  checksums). The gate and ``mlcourse start`` use it: it needs no gradebook.
* :func:`release_assignment` runs ``nbgrader generate_assignment`` through
  nbgrader's API with the course config in ``autograder/``; that is what
  instructors distribute. A test proves both give the same cells.
"""

from __future__ import annotations

import copy
import os
import sys
from pathlib import Path

from nbformat import NotebookNode
from nbgrader.preprocessors import (
    CheckCellMetadata,
    ClearHiddenTests,
    ClearMarkScheme,
    ClearOutput,
    ClearSolutions,
    ComputeChecksums,
    LockCells,
)

from mlcourse import paths


class ReleaseError(Exception):
    """nbgrader could not make the student version; the message says why."""


def student_version(nb: NotebookNode) -> NotebookNode:
    """The notebook a learner gets: solutions and hidden tests removed."""
    nb = copy.deepcopy(nb)
    resources: dict = {}
    steps = [
        LockCells(),
        ClearSolutions(),
        ClearOutput(),
        CheckCellMetadata(),
        ComputeChecksums(),
        ClearHiddenTests(),
        ClearMarkScheme(),
        ComputeChecksums(),
        CheckCellMetadata(),
    ]
    for step in steps:
        try:
            nb, resources = step.preprocess(nb, resources)
        except Exception as exc:  # noqa: BLE001 - nbgrader raises plain RuntimeErrors
            raise ReleaseError(f"nbgrader {type(step).__name__}: {exc}") from None
    return nb


def nbgrader_api():
    """An ``NbGraderAPI`` configured from ``autograder/nbgrader_config.py``."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    # nbgrader runs the `alembic` executable of its environment to set up the
    # gradebook: make sure it is found even when the venv is not activated.
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    loader = PyFileConfigLoader("nbgrader_config.py", path=str(paths.autograder_dir()))
    config: Config = loader.load_config()
    coursedir = CourseDirectory(config=config)
    Path(coursedir.root, "gradebook.db").parent.mkdir(parents=True, exist_ok=True)
    paths.work_dir().mkdir(parents=True, exist_ok=True)
    return NbGraderAPI(coursedir=coursedir, config=config)


def release_assignment(assignment: str) -> Path:
    """Run ``nbgrader generate_assignment`` for one assignment; return its folder."""
    if not (paths.course_dir() / assignment).is_dir():
        known = ", ".join(paths.assignments())
        raise ReleaseError(f"no assignment {assignment!r}; the course has: {known}")
    api = nbgrader_api()
    result = api.generate_assignment(assignment, force=True, create=True)
    if not result.get("success"):
        log = (result.get("log") or "") + (result.get("error") or "")
        raise ReleaseError(f"nbgrader generate_assignment {assignment} failed:\n{log.strip()}")
    return paths.release_dir() / assignment
