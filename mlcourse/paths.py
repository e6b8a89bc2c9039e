"""Where things are: the course sources, the nbgrader config and its work folder.

The course is used from a clone of the repository (``pip install -e .``), so
the folders are found relative to this package. ``MLCOURSE_COURSE_DIR``
points elsewhere (for tests).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

PHASES = {
    "01_foundations": ("Foundations", "1-3"),
    "02_frameworks": ("Frameworks", "4-6"),
    "03_specialize": ("Specialization", "7-9"),
    "04_job_search": ("Job search", "10-12"),
}


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


def course_dir() -> Path:
    override = os.environ.get("MLCOURSE_COURSE_DIR")
    return Path(override).resolve() if override else repo_root() / "course"


def autograder_dir() -> Path:
    return repo_root() / "autograder"


def work_dir() -> Path:
    """Generated nbgrader folders and the gradebook (git-ignored).

    ``MLCOURSE_WORK_DIR`` moves it (the nbgrader config reads the same variable).
    """
    override = os.environ.get("MLCOURSE_WORK_DIR")
    return Path(override).resolve() if override else autograder_dir() / "work"


def release_dir() -> Path:
    return work_dir() / "release"


def assignments() -> list[str]:
    """Every subfolder of ``course/`` is an nbgrader assignment."""
    root = course_dir()
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def plan_key(rel: str) -> tuple[str, int, str]:
    """Sort key for a course-relative notebook path, in the order the plan teaches.

    Each phase's ``README.md`` lists its notebooks (as `` `name.ipynb` ``) in
    the order to work through them; notebooks it does not list come after,
    alphabetically.
    """
    folder, _, name = rel.rpartition("/")
    readme = course_dir() / folder / "README.md"
    try:
        listed = re.findall(r"`([\w.-]+\.ipynb)`", readme.read_text(encoding="utf-8"))
    except OSError:
        listed = []
    position = listed.index(name) if name in listed else len(listed)
    return folder, position, name
