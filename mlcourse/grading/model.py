"""The grading run's data: options, statuses, tasks, results and the run's summary."""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

LEDGER = ".mlcourse-grading.json"
MAX_OUTPUT_BYTES = 1_000_000  # per notebook; the rest is dropped with a note
MAX_SUBMISSION_BYTES = 200 * 1024 * 1024  # per student: more is refused as invalid


class GradingError(Exception):
    """The grader cannot go on (bad options, bad layout, its own machinery failed).

    ``code`` is the exit status: 2 for a usage error (the instructor's input),
    1 for anything else.
    """

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


class Status(enum.StrEnum):
    """How a notebook's grading ended. Every submission found gets one."""

    GRADED = "graded"
    TIMEOUT = "timeout"
    CRASHED = "crashed"
    INVALID = "invalid"
    MISSING = "missing"
    FLAGGED = "flagged"
    GRADER_ERROR = "grader-error"  # the grader failed, never the student's fault


STATUS_ORDER = tuple(s.value for s in Status)


@dataclass
class Options:
    assignment: str
    submissions: Path
    out: Path
    workers: int = max(2, 2 * (os.cpu_count() or 1))
    cell_timeout: float = 60.0
    notebook_timeout: float = 600.0
    memory_mb: int = 2048
    pids: int = 256
    sandbox: str = "auto"
    db_url: str | None = None
    force: bool = False
    dask: str | None = None
    prefork: bool = True  # fork kernels from a pre-warmed zygote (mlcourse.zygote)
    due: datetime | None = None  # submissions after this are late
    late_penalty: float = 0.0  # fraction of the score lost per started day late
    exports: tuple[str, ...] = ()  # "canvas", "gradescope", "csv"
    retries: int = 1  # extra attempts for a notebook that hit a grader error


@dataclass
class Result:
    """The verdict on one student's notebook: a row of grades.csv."""

    student_id: str
    assignment: str
    notebook: str
    status: str
    detail: str = ""
    score: float = 0.0
    max_score: float = 0.0
    exercises: dict[str, float] = field(default_factory=dict)
    exercise_max: dict[str, float] = field(default_factory=dict)
    submission_sha: str = ""
    seconds: float = 0.0
    late_days: int = 0
    raw_score: float | None = None  # before a late penalty
    executed: str | None = None  # the executed notebook (JSON), for the gradebook
    feedback: str | None = None  # feedback HTML

    @property
    def status_enum(self) -> Status:
        return Status(self.status)


@dataclass
class NotebookPlan:
    """What grading needs to know about one course notebook, computed once."""

    name: str
    points: dict[str, float]  # test grade_id -> points
    hidden: dict[str, str]  # exercise -> hidden-test source (trusted side only)
    student_version: str  # the released notebook (JSON), to restore metadata from


@dataclass
class Task:
    """Everything a worker needs to grade one student (picklable; no paths to read).

    ``files`` holds the submission's own bytes, so a worker on another machine
    (a Dask cluster without a shared filesystem) needs nothing else.
    """

    student: str
    assignment: str
    notebooks: list[NotebookPlan]
    files: dict[str, bytes]  # relative path -> bytes, regular files only
    refused: list[str]  # entries that are not regular files (never read)
    fingerprint: str
    work_dir: str
    db_url: str
    sandbox: str  # resolved: "on" or "off"
    cell_timeout: float
    notebook_timeout: float
    memory_mb: int
    pids: int
    read_only: list[str]
    preload: list[str] = field(default_factory=list)  # empty: spawn each kernel afresh
    env: dict[str, str] = field(default_factory=dict)  # for the kernels (e.g. the data cache)
    retries: int = 1


@dataclass
class RunSummary:
    """What a grading run did."""

    results: list[Result]
    graded_now: int
    skipped: list[str]
    sandbox: str
    seconds: float
    grader_errors: list[Result]
    db_url: str
    late: list[Result] = field(default_factory=list)
    exports: dict[str, Path] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.grader_errors

    def __getitem__(self, key: str):  # the earlier dict-style access
        if key == "grader_failures":
            return len(self.grader_errors)
        return getattr(self, key)
