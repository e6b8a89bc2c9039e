"""The progress event log: one format, written by the checks, read by ``mlcourse progress``.

Inside a workspace made by ``mlcourse start`` (a folder with
``.mlcourse/manifest.json``), every check, hint and worked-solution view
appends one JSON line to ``.mlcourse/progress.jsonl``::

    {"time": 1764600000.0, "folder": "01_foundations",
     "notebook": "01_foundations/linear_algebra.ipynb",
     "exercise": "matmul", "event": "check", "outcome": "incorrect"}
    {"time": ..., "exercise": "matmul", "event": "hint", "level": 2}
    {"time": ..., "exercise": "matmul", "event": "solution"}

Lines written before events had a kind (no ``"event"``) are checks. Anywhere
else (the gate, nbgrader, a grading sandbox) nothing is written. Nothing ever
leaves the machine.
"""

from __future__ import annotations

import enum
import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

from mlcourse import layout
from mlcourse.check.outcomes import Outcome

MLCOURSE_DIR = layout.MLCOURSE_DIR
LOG_FILE = layout.LOG_FILE


class Kind(enum.Enum):
    CHECK = "check"
    HINT = "hint"
    SOLUTION = "solution"


@dataclass(frozen=True)
class Event:
    time: float
    folder: str
    notebook: str
    exercise: str
    kind: Kind
    outcome: Outcome | None = None
    level: int | None = None
    order: int = 0

    def to_json(self) -> str:
        entry = {
            "time": self.time,
            "folder": self.folder,
            "notebook": self.notebook,
            "exercise": self.exercise,
            "event": self.kind.value,
        }
        if self.outcome is not None:
            entry["outcome"] = self.outcome.value
        if self.level is not None:
            entry["level"] = self.level
        return json.dumps(entry)


def workspace_of(start: Path) -> Path | None:
    """The workspace containing ``start``, if any."""
    return layout.find_workspace(start)


def _notebook(workspace: Path) -> str:
    session = os.environ.get("JPY_SESSION_NAME", "")
    if not session.endswith(".ipynb"):
        return ""
    path = Path(session)
    path = path if path.is_absolute() else workspace / path
    try:
        return path.resolve().relative_to(workspace.resolve()).as_posix()
    except ValueError:
        return path.name


def record(
    exercise: str,
    outcome: Outcome | None = None,
    *,
    kind: Kind = Kind.CHECK,
    level: int | None = None,
) -> None:
    """Append one event to the current workspace's log. Never raises."""
    try:
        cwd = Path.cwd()
        workspace = workspace_of(cwd)
        if workspace is None:
            return
        event = Event(
            time=time.time(),
            folder=cwd.resolve().relative_to(workspace.resolve()).as_posix().strip("."),
            notebook=_notebook(workspace),
            exercise=exercise,
            kind=kind,
            outcome=outcome,
            level=level,
        )
        with open(layout.log_path(workspace), "a", encoding="utf-8") as handle:
            handle.write(event.to_json() + "\n")
    except Exception:  # noqa: BLE001 - never disturb the learner for progress
        pass


def read(workspace: Path) -> list[Event]:
    """Every event of a workspace, oldest first; torn or foreign lines are skipped."""
    path = layout.log_path(Path(workspace))
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    events = []
    for order, line in enumerate(lines):
        try:
            entry = json.loads(line)
            stamp = float(entry["time"])
            exercise = str(entry["exercise"])
            kind = Kind(entry.get("event", "check"))
            outcome = Outcome(entry["outcome"]) if kind is Kind.CHECK else None
            level = int(entry["level"]) if kind is Kind.HINT else None
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            continue  # progress is a courtesy, never a crash
        if not math.isfinite(stamp):
            continue
        events.append(
            Event(
                time=stamp,
                folder=str(entry.get("folder") or "").strip("/"),
                notebook=str(entry.get("notebook") or ""),
                exercise=exercise,
                kind=kind,
                outcome=outcome,
                level=level,
                order=order,
            )
        )
    events.sort(key=lambda e: (e.time, e.order))
    return events
