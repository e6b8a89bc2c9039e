"""The instructor's summary of a grading run: ``report.html`` and ``report.png``.

First, plainly: grader errors (the grader failed, not the students), whether
the kernels ran in a sandbox. Then three plots (the distribution of scores,
the pass rate of every test, how many notebooks ended in each status), the
notebooks that need attention (one line per reason), late submissions, and a
table of every student with links to their feedback pages.
"""

from __future__ import annotations

import base64
import html
import io
from collections import Counter
from pathlib import Path

STATUS_ORDER = ("graded", "timeout", "crashed", "invalid", "missing", "flagged", "grader-error")


def _figure(results, assignment: str):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    totals: dict[str, list[float]] = {}
    for res in results:
        entry = totals.setdefault(res.student_id, [0.0, 0.0])
        entry[0] += res.score
        entry[1] += res.max_score
    percents = [100 * s / m if m else 0.0 for s, m in totals.values()]

    passes: dict[str, list[int]] = {}
    for res in results:
        if res.status in ("missing", "invalid"):
            continue
        for test, score in res.exercises.items():
            entry = passes.setdefault(f"{res.notebook}:{test.removeprefix('test_')}", [0, 0])
            entry[0] += score > 0
            entry[1] += 1
    labels = list(passes)
    rates = [100 * p / n if n else 0 for p, n in passes.values()]
    statuses = Counter(res.status for res in results)

    fig, axes = plt.subplots(1, 3, figsize=(16, max(4.5, 0.28 * len(labels) + 1.5)))
    axes[0].hist(percents, bins=20, range=(0, 100), color="C0", edgecolor="white")
    axes[0].set_xlabel("score (% of the assignment)")
    axes[0].set_ylabel("students")
    axes[0].set_title(f"Score distribution ({len(totals)} students)")
    axes[1].barh(labels[::-1], rates[::-1], color="C2")
    axes[1].set_xlim(0, 100)
    axes[1].set_xlabel("% of submissions passing")
    axes[1].set_title("Pass rate per test")
    axes[1].tick_params(axis="y", labelsize=8)
    names = [s for s in STATUS_ORDER if statuses.get(s)]
    colours = {
        "graded": "C2",
        "timeout": "C1",
        "crashed": "C3",
        "invalid": "C4",
        "grader-error": "k",
    }
    axes[2].bar(names, [statuses[s] for s in names], color=[colours.get(s, "C7") for s in names])
    axes[2].set_title("Notebook outcomes")
    axes[2].set_ylabel("notebooks")
    fig.suptitle(f"mlcourse grade: {assignment}")
    fig.tight_layout()
    return fig, plt


def _attention(results) -> str:
    """One row per (status, reason), with the students it concerns."""
    groups: dict[tuple[str, str], list[str]] = {}
    for r in results:
        if r.status == "graded":
            continue
        reasons = [part.strip() for part in (r.detail or "").split(";") if part.strip()] or [""]
        for reason in dict.fromkeys(reasons):
            groups.setdefault((r.status, reason), []).append(f"{r.student_id}/{r.notebook}")
    order = {s: i for i, s in enumerate(("grader-error", *STATUS_ORDER))}
    rows = []
    for (status, reason), who in sorted(groups.items(), key=lambda kv: order.get(kv[0][0], 99)):
        shown = ", ".join(who[:12]) + (f" and {len(who) - 12} more" if len(who) > 12 else "")
        rows.append(
            f"<tr><td>{html.escape(status)}</td><td>{html.escape(reason)}</td>"
            f"<td>{len(who)}</td><td>{html.escape(shown)}</td></tr>"
        )
    return "".join(rows)


def _students_table(results) -> str:
    by_student: dict[str, list] = {}
    for r in results:
        by_student.setdefault(r.student_id, []).append(r)
    rows = []
    for student in sorted(by_student):
        items = sorted(by_student[student], key=lambda r: r.notebook)
        total = sum(r.score for r in items)
        maximum = sum(r.max_score for r in items)
        links = " ".join(
            f"<a href='feedback/{html.escape(student)}/{html.escape(r.assignment)}/"
            f"{html.escape(r.notebook)}.html'>{html.escape(r.notebook)}</a>"
            f" ({r.score:g}/{r.max_score:g}{'' if r.status == 'graded' else ', ' + r.status})"
            for r in items
        )
        who = html.escape(student)
        rows.append(f"<tr><td>{who}</td><td>{total:g} / {maximum:g}</td><td>{links}</td></tr>")
    return "".join(rows)


def write_report(results, out: Path, *, sandbox: str, assignment: str, due=None) -> Path:
    """Write ``report.png`` and ``report.html`` into ``out``; return the HTML path."""
    fig, plt = _figure(results, assignment)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    fig.savefig(out / "report.png", dpi=90)
    plt.close(fig)
    image = base64.b64encode(buffer.getvalue()).decode()
    statuses = Counter(res.status for res in results)
    errors = [r for r in results if r.status == "grader-error"]
    error_line = (
        f"<p class='err'><b>GRADER ERRORS: {len(errors)} notebook(s) could not be graded "
        "because the grader itself failed</b> (not the students' fault; see the table "
        "below). Fix the cause and run again: those students are graded again.</p>"
        if errors
        else ""
    )
    sandbox_line = (
        "<p class='ok'>Kernels ran in a bubblewrap sandbox: no network, no course sources, "
        "no gradebook; only the student's own folder was writable. Verdicts were decided "
        "outside the students' kernels.</p>"
        if sandbox == "on"
        else "<p class='warn'><b>WARNING: NO SANDBOX.</b> Student code ran with this "
        "machine's full permissions (it could read the solutions and the gradebook, and "
        "use the network). Install bubblewrap and grade again with --sandbox on.</p>"
    )
    late = [r for r in results if getattr(r, "late_days", 0)]
    late_rows = "".join(
        f"<tr><td>{html.escape(r.student_id)}</td><td>{html.escape(r.notebook)}</td>"
        f"<td>{r.late_days}</td><td>{(r.raw_score or 0):g} &rarr; {r.score:g}</td></tr>"
        for r in late
    )
    due_text = f" (due {html.escape(str(due))})" if due else ""
    page = f"""<!doctype html><html><head><meta charset="utf-8">
<title>mlcourse grade: {html.escape(assignment)}</title>
<style>body{{font-family:sans-serif;margin:2em}} .warn{{background:#fdd;padding:.6em}}
.err{{background:#f8c;padding:.6em}}
.ok{{background:#dfd;padding:.6em}} td,th{{border:1px solid #ccc;padding:3px 6px}}
table{{border-collapse:collapse}}</style></head><body>
<h1>Grading report: {html.escape(assignment)}</h1>
{error_line}
{sandbox_line}
<p>{len({r.student_id for r in results})} students, {len(results)} notebooks: {
        ", ".join(f"{n} {s}" for s in STATUS_ORDER if (n := statuses.get(s)))
    }.</p>
<img alt="score distribution, pass rate per test, outcomes" src="data:image/png;base64,{image}">
<h2>Notebooks that need attention</h2>
<table><tr><th>status</th><th>reason</th><th>notebooks</th><th>who</th></tr>
{_attention(results) or "<tr><td colspan=4>none</td></tr>"}</table>
<h2>Late submissions{due_text}</h2>
<table><tr><th>student</th><th>notebook</th><th>days late</th><th>score</th></tr>
{late_rows or "<tr><td colspan=4>none</td></tr>"}</table>
<h2>Students</h2>
<table><tr><th>student</th><th>score</th><th>feedback</th></tr>
{_students_table(results)}</table>
</body></html>"""
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
