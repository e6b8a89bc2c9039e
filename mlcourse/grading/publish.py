"""The grading run's outputs: grades.csv, feedback pages, exports for other gradebooks."""

from __future__ import annotations

import csv
import os
from pathlib import Path

from mlcourse.grading.model import Result

EXPORTS = ("canvas", "gradescope", "csv")


def _atomic_csv(path: Path, rows: list[list]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    os.replace(tmp, path)


def exercise_columns(results: list[Result]) -> list[str]:
    ids: list[str] = []
    for res in results:
        for key in res.exercises:
            if key not in ids:
                ids.append(key)
    return ids


def write_csv(results: list[Result], path: Path) -> None:
    """One row per student and notebook, with per-test scores."""
    ids = exercise_columns(results)
    fields = [
        "student_id",
        "assignment",
        "notebook",
        "score",
        "max_score",
        "status",
        "detail",
        "late_days",
        "score_before_penalty",
    ]
    rows = [fields + ids]
    for res in results:
        row = [
            res.student_id,
            res.assignment,
            res.notebook,
            f"{res.score:g}",
            f"{res.max_score:g}",
            res.status,
            res.detail,
            str(res.late_days),
            "" if res.raw_score is None else f"{res.raw_score:g}",
        ]
        row += [f"{res.exercises[k]:g}" if k in res.exercises else "" for k in ids]
        rows.append(row)
    _atomic_csv(path, rows)


def write_feedback(res: Result, out: Path) -> Path | None:
    if not res.feedback:
        return None
    target = out / "feedback" / res.student_id / res.assignment / f"{res.notebook}.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(res.feedback, encoding="utf-8")
    return target


def _per_student(results: list[Result]) -> tuple[list[str], list[tuple[str, str]], dict]:
    """Students, (notebook, test) columns with their maxima, and scores by student."""
    students = sorted({r.student_id for r in results})
    columns: list[tuple[str, str]] = []
    maxima: dict[tuple[str, str], float] = {}
    scores: dict[str, dict] = {s: {"total": 0.0, "max": 0.0} for s in students}
    for res in sorted(results, key=lambda r: (r.notebook, r.student_id)):
        for test, points in res.exercises.items():
            col = (res.notebook, test)
            if col not in maxima:
                columns.append(col)
            maxima[col] = max(maxima.get(col, 0.0), res.exercise_max.get(test, points))
            scores[res.student_id][col] = points
        scores[res.student_id]["total"] += res.score
        scores[res.student_id]["max"] += res.max_score
    return students, columns, {"scores": scores, "maxima": maxima}


def _label(col: tuple[str, str]) -> str:
    return f"{col[0]}: {col[1].removeprefix('test_')}"


def export(results: list[Result], out: Path, kind: str, assignment: str) -> Path:
    """A gradebook file in another system's import format, with per-exercise columns.

    * ``canvas``: Canvas's gradebook CSV: Student, ID, SIS User ID, SIS Login ID,
      Section, then one column per exercise and the total, with the
      "Points Possible" row Canvas expects second;
    * ``gradescope``: Gradescope's score import: Name, SID, Email, Total Score,
      then one column per exercise;
    * ``csv``: one row per student, one column per exercise, the total.
    """
    if kind not in EXPORTS:
        raise ValueError(f"export must be one of {', '.join(EXPORTS)}, not {kind!r}")
    students, columns, data = _per_student(results)
    scores, maxima = data["scores"], data["maxima"]
    total_max = max((scores[s]["max"] for s in students), default=0.0)

    def cell(student: str, col) -> str:
        value = scores[student].get(col)
        return "" if value is None else f"{value:g}"

    if kind == "canvas":
        header = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
        header += [f"{assignment} {_label(c)}" for c in columns] + [f"{assignment} total"]
        possible = ["    Points Possible", "", "", "", ""]
        possible += [f"{maxima[c]:g}" for c in columns] + [f"{total_max:g}"]
        rows = [header, possible]
        for s in students:
            rows.append(
                [s, "", s, s, ""] + [cell(s, c) for c in columns] + [f"{scores[s]['total']:g}"]
            )
    elif kind == "gradescope":
        header = ["Name", "SID", "Email", "Total Score"] + [_label(c) for c in columns]
        rows = [header]
        for s in students:
            rows.append([s, s, "", f"{scores[s]['total']:g}"] + [cell(s, c) for c in columns])
    else:
        header = ["student_id"] + [_label(c) for c in columns] + ["total", "max_score"]
        rows = [header]
        for s in students:
            rows.append(
                [s]
                + [cell(s, c) for c in columns]
                + [f"{scores[s]['total']:g}", f"{scores[s]['max']:g}"]
            )
    path = out / f"export-{kind}.csv"
    _atomic_csv(path, rows)
    return path
