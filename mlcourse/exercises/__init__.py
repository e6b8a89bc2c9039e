"""The checks modules: one per course notebook, ``mlcourse/exercises/<notebook>.py``.

Each module defines its notebook's problems (visible checks, tiered hints)
with :func:`mlcourse.check.problem`, and the fixtures its checks share. It is
part of the package, so learners can read it: it never holds a solution or
a hidden test (the gate's leak check proves it).

``MLCOURSE_EXERCISES_PATH`` (folders, separated like ``PATH``) adds checks
modules from elsewhere, for tests.
"""

import os

__path__ = list(__path__)  # noqa: F821 - a package's own path
for _extra in os.environ.get("MLCOURSE_EXERCISES_PATH", "").split(os.pathsep):
    if _extra and _extra not in __path__:
        __path__.append(_extra)
