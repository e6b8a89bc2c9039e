"""The portfolio page: one self-contained HTML file (inline CSS, plots as base64 PNG).

Nothing is fetched when it opens: no CDN, no font, no script. Every figure
is written as ``<data class="figure" value="0.9132">0.91</data>``, the exact
recorded value beside the rounded one a reader sees, so that anyone (and the
tests) can check the page against ``results.jsonl``.
"""

from __future__ import annotations

import base64
import datetime
from html import escape

from mlcourse.portfolio import bullets as bullet_text
from mlcourse.portfolio.collect import Collection, ProjectResult
from mlcourse.portfolio.numbers import format_figure
from mlcourse.portfolio.plots import comparison_png
from mlcourse.portfolio.readme import reproduce_steps

STYLE = """
:root { --ink: #1d2733; --muted: #5b6876; --line: #d9dee4; --accent: #2a7ab0; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif;
       color: var(--ink); background: #f6f7f9; }
header, main, footer { max-width: 920px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 32px; }
h1 { margin: 0 0 4px; font-size: 30px; }
h2 { margin: 0 0 6px; font-size: 22px; }
h3 { margin: 18px 0 6px; font-size: 15px; text-transform: uppercase; letter-spacing: .04em;
     color: var(--muted); }
.lede { color: var(--muted); margin-top: 0; }
.note { background: #fff4d6; border: 1px solid #e7c65a; padding: 8px 12px; border-radius: 6px; }
nav ul { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 8px; }
nav li a { display: block; padding: 6px 10px; background: #fff; border: 1px solid var(--line);
           border-radius: 6px; color: var(--ink); text-decoration: none; font-size: 14px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 10px;
          padding: 20px 24px; margin: 18px 0; }
.stack { color: var(--muted); font-size: 14px; margin: 0; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line);
         vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
data.figure { font-weight: 700; font-variant-numeric: tabular-nums; white-space: nowrap; }
.label { color: var(--muted); }
img.plot { display: block; max-width: 100%; height: auto; margin: 14px 0 4px; }
ul.bullets li { margin-bottom: 6px; }
code, pre { font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, monospace; }
pre { background: #f1f3f5; padding: 10px 12px; border-radius: 6px; overflow-x: auto; }
#not-done li { margin-bottom: 8px; }
.missing { color: #a23b2a; }
footer { color: var(--muted); font-size: 13px; padding-bottom: 32px; }
"""


def figure_html(value: float, unit: str) -> str:
    shown = escape(format_figure(value, unit))
    return f'<data class="figure" value="{value!r}">{shown}</data>'


def _figures_table(result: ProjectResult) -> str:
    rows = []
    for name, fig in result.figures.items():
        title = escape(result.project.metric(name).title)
        label = escape(fig.label) if fig.label else ""
        rows.append(
            f'<tr data-metric="{escape(name)}"><td>{title}</td>'
            f"<td>{figure_html(fig.value, fig.unit)}</td>"
            f'<td class="label">{label}</td></tr>'
        )
    head = "<tr><th>figure</th><th>value</th><th>how it was measured</th></tr>"
    return f'<table class="figures">{head}{"".join(rows)}</table>'


def _project_section(result: ProjectResult) -> str:
    project = result.project
    parts = [f'<section class="project" id="{escape(project.key)}">']
    parts.append(f"<h2>{escape(project.title)}</h2>")
    if project.stack:
        parts.append(f'<p class="stack">{escape(" · ".join(project.stack))}</p>')
    if project.summary:
        parts.append(f'<p class="summary">{escape(project.summary)}</p>')
    parts.append(_figures_table(result))
    png = comparison_png(result)
    if png is not None:
        data = base64.b64encode(png).decode("ascii")
        alt = escape(f"bar chart comparing the figures of {project.title}")
        parts.append(f'<img class="plot" alt="{alt}" src="data:image/png;base64,{data}">')
    written = bullet_text.bullets(result)
    if written:
        items = "".join(f"<li>{escape(text)}</li>" for text in written)
        parts.append(f'<h3>Resume bullets</h3><ul class="bullets">{items}</ul>')
    steps = reproduce_steps(result, markdown=False)
    items = "".join(f"<li>{step}</li>" for step in steps)
    parts.append(f"<h3>How to reproduce</h3><ol>{items}</ol>")
    if project.commands:
        parts.append("<pre><code>" + escape("\n".join(project.commands)) + "</code></pre>")
    if project.next_steps:
        items = "".join(f"<li>{escape(step)}</li>" for step in project.next_steps)
        parts.append(f"<h3>What's next</h3><ul>{items}</ul>")
    parts.append("</section>")
    return "".join(parts)


def _not_done(collection: Collection) -> str:
    items = []
    for result in collection.not_done:
        project = result.project
        missing = ", ".join(project.metric(name).title for name in result.missing)
        where = (
            f"run <code>{escape(project.notebook)}</code> to the end"
            if result.notebook_present
            else f"<code>{escape(project.notebook)}</code> is not in your workspace yet "
            "(<code>mlcourse update</code> brings new notebooks)"
        )
        text = (
            f'<li data-project="{escape(project.key)}"><strong>{escape(project.title)}</strong>: '
            f'<span class="missing">not done</span> (missing: {escape(missing)}); {where}.'
        )
        if result.figures:
            so_far = "; ".join(
                f"{escape(project.metric(name).title)} {figure_html(fig.value, fig.unit)}"
                for name, fig in result.figures.items()
            )
            text += f" Recorded so far: {so_far}."
        items.append(text + "</li>")
    if not items:
        return ""
    return (
        '<section id="not-done"><h2>Not done yet</h2>'
        "<p>These projects have not recorded the figures that finish them, so they have "
        "no figures and no bullets here.</p>"
        f"<ul>{''.join(items)}</ul></section>"
    )


def render(
    collection: Collection, *, title: str = "Machine learning portfolio", note: str = ""
) -> str:
    """The whole page, as one string of HTML."""
    done = collection.done
    nav = "".join(
        f'<li><a href="#{escape(r.project.key)}">{escape(r.project.title)}</a></li>' for r in done
    )
    if collection.not_done:
        nav += '<li><a href="#not-done">Not done yet</a></li>'
    if done:
        body = "".join(_project_section(r) for r in done)
    else:
        body = (
            '<section id="no-projects"><h2>No finished project yet</h2><p>Finish a project '
            "notebook: its last cells record the figures it reached, and this page shows "
            "them.</p></section>"
        )
    lede = (
        "Projects built in mlcourse. Every figure on this page was measured by the "
        "project's own notebook and recorded as it ran; none was typed in by hand."
    )
    banner = f'<p class="note">{escape(note)}</p>' if note else ""
    when = datetime.datetime.now().astimezone().isoformat(timespec="minutes")
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f'<header><h1>{escape(title)}</h1><p class="lede">{lede}</p>{banner}'
        f"<nav><ul>{nav}</ul></nav></header>"
        f"<main>{body}{_not_done(collection)}</main>"
        f"<footer>Built by <code>mlcourse portfolio</code> on <time>{when}</time> from "
        f"<code>{escape(str(collection.results_file))}</code>.</footer>"
        "</body></html>\n"
    )
