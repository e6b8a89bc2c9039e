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


def latest(workspace: Path) -> dict[tuple[str, str], Figure]:
    """The latest value of every (project, metric) recorded in the workspace."""
    out: dict[tuple[str, str], Figure] = {}
    try:
        lines = results_path(workspace).read_text(encoding="utf-8").splitlines()
    except OSError:
        return out
    for line in lines:
        try:
            entry = json.loads(line)
            fig = Figure(
                project=str(entry["project"]),
                metric=str(entry["metric"]),
                value=float(entry["value"]),
                unit=str(entry.get("unit", "")),
                label=str(entry.get("label", "")),
                time=float(entry.get("time", 0.0)),
            )
        except (ValueError, KeyError, TypeError):
            continue  # a torn line
        if not math.isfinite(fig.value):
            continue
        key = (fig.project, fig.metric)
        if key not in out or fig.time >= out[key].time:
            out[key] = fig
    return out
