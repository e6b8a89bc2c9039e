"""The figures a learner's own work reached, recorded for their portfolio.

A project notebook records what the learner's code measured, in an ordinary
cell after it is computed::

    from mlcourse import results
    results.record("housing_end_to_end", "test_rmse", test_rmse, unit="$",
                   label="test RMSE on 4,128 held-out districts")

Inside a workspace made by ``mlcourse start`` this appends to
``.mlcourse/results.jsonl``; anywhere else (the gate, a grading sandbox)
nothing is written. ``mlcourse portfolio`` reads the latest value of each
figure: it never invents one, and a project with no recorded figure is listed
as not done.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

from mlcourse import layout

RESULTS_FILE = layout.RESULTS_FILE


@dataclass(frozen=True)
class Figure:
    project: str
    metric: str
    value: float
    unit: str = ""
    label: str = ""
    time: float = 0.0


def results_path(workspace: Path) -> Path:
    return layout.results_path(workspace)


def record(
    project: str,
    metric: str,
    value: float,
    *,
    unit: str = "",
    label: str = "",
    workspace: Path | None = None,
) -> bool:
    """Record one figure; True if it was written (only inside a workspace). Never raises."""
    try:
        number = float(value)
        if not math.isfinite(number):
            return False
        where = workspace or layout.find_workspace()
        if where is None:
            return False
        entry = {
            "time": time.time(),
            "project": str(project),
            "metric": str(metric),
            "value": number,
            "unit": str(unit),
            "label": str(label),
        }
        with open(results_path(where), "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")
        return True
    except Exception:  # noqa: BLE001 - a courtesy, never an error in the learner's notebook
        return False


@dataclass(frozen=True)
class Damaged:
    """A line of ``results.jsonl`` that could not be read (a torn write, a hand edit)."""

    line: int  # 1-based
    reason: str


@dataclass
class Scan:
    """Everything read from a workspace's ``results.jsonl``."""

    path: Path
    figures: dict[tuple[str, str], Figure]  # the latest of each (project, metric)
    damaged: list[Damaged]
    history: list[Figure]  # every readable line, in file order


def _figure(text: str) -> Figure:
    """One line as a Figure; ValueError says why it cannot be one."""
    try:
        entry = json.loads(text)
    except ValueError:
        raise ValueError("not JSON") from None
    if not isinstance(entry, dict):
        raise ValueError("not a JSON object")
    missing = [key for key in ("project", "metric", "value") if key not in entry]
    if missing:
        raise ValueError(f"no {', '.join(missing)}")
    value = entry["value"]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"the value {str(value)[:40]!r} is not a number")
    if not math.isfinite(float(value)):
        raise ValueError("the value is not finite")
    try:
        when = float(entry.get("time", 0.0))
    except (TypeError, ValueError):
        raise ValueError("the time is not a number") from None
    return Figure(
        project=str(entry["project"]),
        metric=str(entry["metric"]),
        value=float(value),
        unit=str(entry.get("unit", "")),
        label=str(entry.get("label", "")),
        time=when,
    )


def scan(workspace: Path) -> Scan:
    """The latest value of every (project, metric), every readable line, and the others.

    A missing file means nothing was recorded yet (no figures, nothing damaged).
    Blank lines are ignored; any other line that is not a complete record is
    reported in ``damaged`` and skipped, never fatal.
    """
    path = results_path(workspace)
    figures: dict[tuple[str, str], Figure] = {}
    damaged: list[Damaged] = []
    history: list[Figure] = []
    try:
        raw = path.read_bytes()
    except OSError:
        return Scan(path, figures, damaged, history)
    for number, line in enumerate(raw.splitlines(), start=1):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            damaged.append(Damaged(number, "not UTF-8 text"))
            continue
        if not text.strip():
            continue
        try:
            fig = _figure(text)
        except ValueError as exc:
            damaged.append(Damaged(number, str(exc)))
            continue
        history.append(fig)
        key = (fig.project, fig.metric)
        if key not in figures or fig.time >= figures[key].time:
            figures[key] = fig
    return Scan(path, figures, damaged, history)


def latest(workspace: Path) -> dict[tuple[str, str], Figure]:
    """The latest value of every (project, metric) recorded in the workspace."""
    return scan(workspace).figures
