"""A GitHub-style README for each finished project, and the resume bullets file.

Each README says what the project is, gives the figures with their labels
and units (as recorded), how to reproduce them (the notebook and the
commands) and what to try next. It sits beside the project's comparison
plot, ``figures.png``, in ``<out>/<project>/``.
"""

from __future__ import annotations

from html import escape

from mlcourse import layout
from mlcourse.portfolio import bullets as bullet_text
from mlcourse.portfolio.collect import Collection, ProjectResult
from mlcourse.portfolio.numbers import format_figure

PLOT_FILE = "figures.png"
README_FILE = "README.md"
BULLETS_FILE = "resume_bullets.md"
RESULTS_REL = f"{layout.MLCOURSE_DIR}/{layout.RESULTS_FILE}"


def _code(text: str, markdown: bool) -> str:
    return f"`{text}`" if markdown else f"<code>{escape(text)}</code>"


def reproduce_steps(result: ProjectResult, *, markdown: bool = True) -> list[str]:
    """How to get the figures again, as markdown or as HTML list items."""
    project = result.project
    if project.notebook:
        first = (
            f"Open {_code(project.notebook, markdown)} in your workspace "
            f"({_code('mlcourse start', markdown)} makes one) and run every cell: the cells "
            f"after each result record it in {_code(RESULTS_REL, markdown)}."
        )
    else:
        first = (
            "Run the notebook that recorded these figures; they are in "
            f"{_code(RESULTS_REL, markdown)}."
        )
    steps = [first]
    if project.commands:
        steps.append("Train and serve the reference version from a terminal (below).")
    steps.append(f"Rebuild this portfolio with {_code('mlcourse portfolio', markdown)}.")
    return steps


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def project_readme(result: ProjectResult, *, with_plot: bool) -> str:
    project = result.project
    lines = [f"# {project.title}", ""]
    if project.summary:
        lines += [project.summary, ""]
    if project.stack:
        lines += [f"**Stack:** {', '.join(project.stack)}", ""]
    lines += ["## Results", "", "| figure | value | how it was measured |", "|---|---|---|"]
    for name, fig in result.figures.items():
        value = format_figure(fig.value, fig.unit)
        title = project.metric(name).title
        lines.append(f"| {_cell(title)} | **{_cell(value)}** | {_cell(fig.label)} |")
    lines.append("")
    if with_plot:
        lines += [f"![{project.title}: the figures compared]({PLOT_FILE})", ""]
    written = bullet_text.bullets(result)
    if written:
        lines += ["## Resume bullets", ""] + [f"- {text}" for text in written] + [""]
    lines += ["## How to reproduce", ""]
    lines += [f"{i}. {step}" for i, step in enumerate(reproduce_steps(result), start=1)]
    lines.append("")
    if project.commands:
        lines += ["```bash", *project.commands, "```", ""]
    if project.next_steps:
        lines += ["## What's next", ""] + [f"- {step}" for step in project.next_steps] + [""]
    return "\n".join(lines)


def bullets_file(collection: Collection) -> str:
    """Every bullet the recorded figures can fill, by project; then what is not written."""
    lines = [
        "# Resume bullets",
        "",
        "Filled from the figures your notebooks recorded; a bullet whose figure is missing is "
        "not written. Edit the wording, never the numbers.",
        "",
    ]
    for result in collection.done:
        written = bullet_text.bullets(result)
        if written:
            lines += [f"## {result.project.title}", ""] + [f"- {t}" for t in written] + [""]
    waiting = []
    for result in collection.projects:
        if not result.started:
            continue  # the page lists it as not done; nothing waits here yet
        for _, missing in bullet_text.skipped(result):
            names = ", ".join(result.project.metric(m).title for m in missing)
            waiting.append(f"- {result.project.title}: a bullet waits for {names}")
    if waiting:
        lines += ["## Not written (a figure is missing)", ""] + waiting + [""]
    return "\n".join(lines)
