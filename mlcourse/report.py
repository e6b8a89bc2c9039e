"""The instructor's summary of a grading run: ``report.html`` and ``report.png``.

Three plots: the distribution of scores, the pass rate of every test (where the
cohort struggles), and how many notebooks ended in each status. The first lines
say plainly whether the kernels ran in a sandbox.
"""

from __future__ import annotations

import base64
import html
import io
from collections import Counter
from pathlib import Path

STATUS_ORDER = ("graded", "timeout", "crashed", "invalid", "missing", "flagged")


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
    colours = {"graded": "C2", "timeout": "C1", "crashed": "C3", "invalid": "C4"}
    axes[2].bar(names, [statuses[s] for s in names], color=[colours.get(s, "C7") for s in names])
    axes[2].set_title("Notebook outcomes")
    axes[2].set_ylabel("notebooks")
    fig.suptitle(f"mlcourse grade: {assignment}")
    fig.tight_layout()
    return fig, plt


def write_report(results, out: Path, *, sandbox: str, assignment: str) -> Path:
    """Write ``report.png`` and ``report.html`` into ``out``; return the HTML path."""
    fig, plt = _figure(results, assignment)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    fig.savefig(out / "report.png", dpi=90)
    plt.close(fig)
    image = base64.b64encode(buffer.getvalue()).decode()
    statuses = Counter(res.status for res in results)
    sandbox_line = (
        "<p class='ok'>Kernels ran in a bubblewrap sandbox: no network, no course sources, "
        "no gradebook; only the student's own folder was writable.</p>"
        if sandbox == "on"
        else "<p class='warn'><b>WARNING: NO SANDBOX.</b> Student code ran with this "
        "machine's full permissions (it could read the solutions and the gradebook, and "
        "use the network). Install bubblewrap and grade again with --sandbox on.</p>"
    )
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(v))}</td>"
            for v in (r.student_id, r.notebook, f"{r.score:g}/{r.max_score:g}", r.status, r.detail)
        )
        + "</tr>"
        for r in results
        if r.status != "graded"
    )
    page = f"""<!doctype html><html><head><meta charset="utf-8">
<title>mlcourse grade: {html.escape(assignment)}</title>
<style>body{{font-family:sans-serif;margin:2em}} .warn{{background:#fdd;padding:.6em}}
.ok{{background:#dfd;padding:.6em}} td,th{{border:1px solid #ccc;padding:3px 6px}}
table{{border-collapse:collapse}}</style></head><body>
<h1>Grading report: {html.escape(assignment)}</h1>
{sandbox_line}
<p>{len({r.student_id for r in results})} students, {len(results)} notebooks: {
        ", ".join(f"{n} {s}" for s in STATUS_ORDER if (n := statuses.get(s)))
    }.</p>
<img alt="score distribution, pass rate per test, outcomes" src="data:image/png;base64,{image}">
<h2>Notebooks that need attention</h2>
<table><tr><th>student</th><th>notebook</th><th>score</th><th>status</th><th>detail</th></tr>
{rows or "<tr><td colspan=5>none</td></tr>"}</table>
</body></html>"""
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
