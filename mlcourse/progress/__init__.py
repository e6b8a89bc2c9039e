"""How far along the 12-month plan a learner is: ``mlcourse progress`` and the start page.

One feature in four layers, one module each:

* :mod:`~mlcourse.progress.report`: the data (:func:`progress_report`), read from
  the workspace's notebooks and its event log;
* :mod:`~mlcourse.progress.table`: the rich table and the sentences under it;
* :mod:`~mlcourse.progress.timeline`: the plan as a timeline plot;
* :mod:`~mlcourse.progress.live` (the start page's :func:`show`) and
  :mod:`~mlcourse.progress.command` (the ``mlcourse progress`` command).
"""

from mlcourse.progress.command import progress
from mlcourse.progress.live import show
from mlcourse.progress.report import (
    NotebookProgress,
    PhaseProgress,
    ProgressReport,
    find_workspace,
    graded_exercises,
    progress_report,
    read_log,
)
from mlcourse.progress.table import render_table, summary_lines
from mlcourse.progress.timeline import plan_month, plot_progress

__all__ = [
    "NotebookProgress",
    "PhaseProgress",
    "ProgressReport",
    "find_workspace",
    "graded_exercises",
    "plan_month",
    "plot_progress",
    "progress",
    "progress_report",
    "read_log",
    "render_table",
    "show",
    "summary_lines",
]
