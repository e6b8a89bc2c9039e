"""nbgrader configuration for the course.

nbgrader ignores ``--config``; ``mlcourse`` puts this folder on
``JUPYTER_CONFIG_PATH`` for every nbgrader process it starts. By hand::

    JUPYTER_CONFIG_PATH=autograder nbgrader generate_assignment 01_foundations

Paths are built from this file, so the config works from any directory.
Everything nbgrader generates goes under ``autograder/work/`` (git-ignored).
"""

import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
# MLCOURSE_WORK_DIR moves the generated folders elsewhere (tests use it).
WORK = Path(os.environ.get("MLCOURSE_WORK_DIR") or HERE / "work").resolve()
WORK.mkdir(parents=True, exist_ok=True)  # nbgrader does not create the gradebook's folder

c = get_config()  # noqa: F821 - provided by traitlets when it loads this file

c.CourseDirectory.course_id = "mlcourse"
c.CourseDirectory.root = str(WORK)
c.CourseDirectory.source_directory = os.environ.get("MLCOURSE_COURSE_DIR") or str(REPO / "course")
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.db_url = f"sqlite:///{WORK / 'gradebook.db'}"
# Mistake fixtures stay with the maintainers; never release them.
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints",
    "*.pyc",
    "__pycache__",
    "feedback",
    "*.mistakes.toml",
    "*.mutants.json",
]

# Restore test cells a student deleted (otherwise they silently score 0).
c.OverwriteCells.add_missing_cells = True
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.Execute.timeout = 120
