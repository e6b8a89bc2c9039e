"""``mlcourse grade``: autograde a cohort fast, sandboxed, with grades an instructor can trust.

Built on nbgrader, not beside it: the assignment is released and recorded in
nbgrader's gradebook; each submission is sanitised by nbgrader's own
preprocessors (``OverwriteCells`` restores edited and deleted test cells); the
scores go into nbgrader's gradebook. What this package adds:

* **trusted verdicts** (:mod:`mlcourse.grading.execute`): student code runs in
  a sandboxed kernel (:mod:`mlcourse.sandbox`, :mod:`mlcourse.zygote`), but
  every test is decided in the grading worker, which never runs student code,
  by checks that only receive data from the kernel;
* a pipeline of typed stages (:mod:`mlcourse.grading.pipeline`): plan,
  schedule, execute (serial, processes or Dask), record, publish;
* a verdict for every submission (:class:`Status`), never a silent zero, also
  after an interrupted run;
* ``grades.csv``, feedback without test code, a report, and exports for
  Canvas and Gradescope (:mod:`mlcourse.grading.publish`); due dates and late
  penalties.

What a student can and cannot do is written down in :data:`THREAT_MODEL`.
"""

import importlib

#: Where each public name lives; imported on first use, so that ``mlcourse
#: --help`` (which shows the threat model) does not load the whole grader.
_WHERE = {
    "KERNEL_ENV": "execute",
    "feedback_html": "execute",
    "grade_notebook": "execute",
    "grade_student": "execute",
    "LAYOUT": "intake",
    "LEDGER": "model",
    "GradingError": "model",
    "NotebookPlan": "model",
    "Options": "model",
    "Result": "model",
    "RunSummary": "model",
    "Status": "model",
    "Task": "model",
    "check_gradebook_url": "pipeline",
    "grade": "pipeline",
    "EXPORTS": "publish",
    "export": "publish",
    "write_csv": "publish",
    "scan_for_tampering": "tamper",
}


def __getattr__(name: str):
    if name in _WHERE:
        value = getattr(importlib.import_module(f"mlcourse.grading.{_WHERE[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'mlcourse.grading' has no attribute {name!r}")


THREAT_MODEL = """\
What a student cannot do (each is a test in tests/test_grading.py):
  - change a verdict from inside the kernel: tests run in the grader, which
    never runs student code, and see only data sent back by the kernel;
    exception hooks, rewritten cells, cleared outputs, wrapped stdout and
    objects that lie about themselves change nothing;
  - see a test, an expected value or a hidden case: they never enter the
    kernel, and feedback shows which case failed, never its code;
  - read the course sources, solutions, other students' work or the
    gradebook, or use the network (bubblewrap);
  - get a file read through a symlink, device or FIFO: only regular files are
    taken from a submission;
  - affect the next student in the same worker: /tmp, /dev/shm, the work and
    socket folders are emptied and checked, a slot that cannot be emptied is
    replaced, /dev and the runtime folder are read-only, and each kernel gets
    a fresh IPython folder with no startup files;
  - hold a worker beyond the notebook time limit, exhaust memory or
    processes beyond the limits (cgroups), or signal the grader.
What the sandbox does not protect against:
  - a student who solves an exercise with a library function the task asked
    them not to use (tests judge results, not how they were reached);
  - collusion and plagiarism (compare submissions separately);
  - denial of service within the limits (a notebook that uses its whole time
    budget is graded, slowly);
  - without bubblewrap (--sandbox off), student code runs with the grader's
    own permissions: the report's first line says so.
"""

__all__ = [
    "EXPORTS",
    "KERNEL_ENV",
    "LAYOUT",
    "LEDGER",
    "THREAT_MODEL",
    "GradingError",
    "NotebookPlan",
    "Options",
    "Result",
    "RunSummary",
    "Status",
    "Task",
    "check_gradebook_url",
    "export",
    "feedback_html",
    "grade",
    "grade_notebook",
    "grade_student",
    "scan_for_tampering",
    "write_csv",
]
