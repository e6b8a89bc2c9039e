"""``mlcourse site``: the course as a website, built offline from the student versions.

Sphinx with ``myst-nb`` and ``sphinx-book-theme`` (the setup Jupyter Book 1
packaged), from PyPI wheels alone. Every page is a **student version**: no
solution and no hidden test reaches the site, and :func:`scan_site` checks the
built HTML with the gate's leak check to prove it. The pages show the
notebooks' figures from an execution of the student version itself (the
exercises are stubs, so no solution output exists); the gate saves those
executions as it checks each notebook, and the site executes what it does
not find.

Each page starts with links to launch the notebook in Binder and to download
it. MathJax (from ``jupyter-server-mathjax``), the theme's fonts and the search
index are local, so the site works offline and from any static host.
"""

from __future__ import annotations

import copy
import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbformat.v4 import new_markdown_cell

from mlcourse import paths

BINDER = "https://mybinder.org/v2/gh/mlcourse/mlcourse/HEAD?urlpath=lab/tree/mlcourse-work/{rel}"
CELL_TIMEOUT = 300


class SiteError(Exception):
    """The site cannot be built (Sphinx failed, a leak was found); the message says why."""


# -- executed student versions ----------------------------------------------------------


def cache_dir() -> Path:
    from mlcourse import data

    return data.cache_dir() / "site-executed"


def _key(student: NotebookNode) -> str:
    return hashlib.sha256(nbformat.writes(student).encode("utf-8")).hexdigest()[:24]


def save_executed(student: NotebookNode, executed_cells: list) -> None:
    """Keep an execution of a student version for the site (the gate calls this)."""
    nb = copy.deepcopy(student)
    for index, cell in enumerate(executed_cells):
        if cell is not None and nb.cells[index].cell_type == "code":
            nb.cells[index].outputs = cell.get("outputs", [])
            nb.cells[index].execution_count = cell.get("execution_count")
    try:
        target = cache_dir() / f"{_key(student)}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        nbformat.write(nb, tmp)
        os.replace(tmp, target)
    except OSError:
        pass  # a read-only cache: the site executes it itself


def executed(student: NotebookNode, cwd: Path) -> NotebookNode:
    """The student version with outputs: from the cache, or executed now."""
    cached = cache_dir() / f"{_key(student)}.ipynb"
    if cached.exists():
        try:
            return nbformat.read(cached, as_version=4)
        except Exception:  # noqa: BLE001 - a damaged cache entry is executed again
            pass
    from nbclient import NotebookClient

    nb = copy.deepcopy(student)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(cwd)}},
    )
    client.execute()
    save_executed(student, nb.cells)
    return nb


WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def tidy(nb: NotebookNode) -> NotebookNode:
    """A page's notebook: no error tracebacks (the stubs raise), and widgets (progress
    bars) as their plain-text form: a live widget needs require.js from a CDN, and
    the site loads nothing from another host."""
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                continue
            data = out.get("data")
            if data and WIDGET_MIME in data:
                data.pop(WIDGET_MIME)
                if not data:
                    continue
            kept.append(out)
        cell.outputs = kept
    return nb


# -- the pages -----------------------------------------------------------------------------


def course_notebooks(course: Path | None = None) -> list[str]:
    course = course or paths.course_dir()
    found = [
        p.relative_to(course).as_posix()
        for p in course.rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.parts
    ]
    return sorted(found, key=paths.plan_key)


def _title(nb: NotebookNode, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+)$", cell.source, re.MULTILINE)
            if match:
                return match.group(1).strip()
    return fallback


def _links(rel: str, depth: int) -> NotebookNode:
    up = "../" * depth
    return new_markdown_cell(
        f'<p class="mlcourse-links">'
        f'<a class="mlcourse-binder" href="{html.escape(BINDER.format(rel=rel))}">'
        f"&#9654; Launch in Binder</a> &nbsp;&middot;&nbsp; "
        f'<a class="mlcourse-download" href="{up}notebooks/{html.escape(rel)}" download>'
        f"&#11015; Download the notebook</a></p>"
    )


def _plan_page(course: Path, pages: dict[str, str]) -> str:
    lines = [
        "# mlcourse: from zero to job-ready AI/ML engineer in 12 months",
        "",
        "A Jupyter course you can read here, run on your machine (`mlcourse start`) or in "
        "Binder, and that a cohort can have graded with nbgrader. Every notebook explains an "
        "idea, builds it from scratch, then uses the real library; every exercise has "
        "friendly checks, tiered hints and hidden tests, and is proven by a gate that kills "
        "wrong answers written by nobody on the team.",
        "",
        "## The plan",
        "",
        "| Phase | Months | Notebooks |",
        "|---|---|---|",
    ]
    for folder, (name, months) in paths.PHASES.items():
        mine = [rel for rel in pages if rel.startswith(folder + "/")]
        links = ", ".join(f"[{pages[rel]}]({rel.removesuffix('.ipynb')}.ipynb)" for rel in mine)
        lines.append(f"| {name} | {months} | {links or 'coming soon'} |")
    lines += [
        "",
        "Start with [the start page](00_start_here.ipynb): how the course works, and your "
        "progress once you run it yourself.",
        "",
        "```{toctree}",
        ":hidden:",
        ":maxdepth: 2",
        "",
    ]
    lines += [rel.removesuffix(".ipynb") for rel in pages]
    lines += ["```", ""]
    return "\n".join(lines)


CONF = """
project = "mlcourse"
author = "the mlcourse authors"
extensions = ["myst_nb"]
myst_enable_extensions = ["dollarmath", "amsmath", "html_image"]
nb_execution_mode = "off"
nb_output_stderr = "remove"
nb_ipywidgets_js = {}  # widgets are shown as text: nothing from a CDN
html_theme = "sphinx_book_theme"
html_title = "mlcourse"
html_static_path = ["_static"]
html_css_files = ["mlcourse.css"]
# the only combined config that jupyter-server-mathjax ships
mathjax_path = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"
mathjax2_config = {
    "tex2jax": {"inlineMath": [["\\\\(", "\\\\)"]], "displayMath": [["\\\\[", "\\\\]"]]},
    # jupyter-server-mathjax ships the STIX web fonts only (no TeX fonts)
    "HTML-CSS": {
        "webFont": "STIX-Web",
        "availableFonts": [],
        "preferredFont": None,
        "imageFont": None,
    },
}
html_theme_options = {
    "use_download_button": True,
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "show_toc_level": 2,
}
html_last_updated_fmt = None
exclude_patterns = ["_build"]
suppress_warnings = ["myst.header", "mystnb.unknown_mime_type", "misc.highlighting_failure"]
"""

CSS = """
.mlcourse-links { background: #f3f6fa; padding: .5em .8em; border-radius: 4px; }
.mlcourse-links a { font-weight: 600; }
"""


def build(out: Path, course: Path | None = None, execute: bool = True, progress=None) -> Path:
    """Build the site into ``out``; return the path of its index page."""
    from mlcourse.notebook import read_notebook
    from mlcourse.release import student_version

    course = course or paths.course_dir()
    out = Path(out)
    work = Path(tempfile.mkdtemp(prefix="mlcourse-site-"))
    src = work / "src"
    (src / "_static").mkdir(parents=True)
    try:
        import jupyter_server_mathjax

        shutil.copytree(
            Path(jupyter_server_mathjax.__file__).parent / "static",
            src / "_static" / "mathjax",
            ignore=shutil.ignore_patterns("*.md", "unpacked", "test"),
        )
        (src / "_static" / "mlcourse.css").write_text(CSS)
        (src / "conf.py").write_text(CONF)
        pages: dict[str, str] = {}
        downloads: dict[str, bytes] = {}
        for rel in course_notebooks(course):
            if progress:
                progress(rel)
            student = student_version(read_notebook(course / rel))
            downloads[rel] = (nbformat.writes(student) + "\n").encode("utf-8")
            nb = executed(student, (course / rel).parent) if execute else copy.deepcopy(student)
            nb = tidy(nb)
            nb.cells.insert(
                1 if nb.cells and nb.cells[0].cell_type == "markdown" else 0,
                _links(rel, rel.count("/")),
            )
            target = src / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, target)
            pages[rel] = _title(nb, Path(rel).stem)
        (src / "index.md").write_text(_plan_page(course, pages), encoding="utf-8")
        build_dir = work / "html"
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "sphinx",
                "-b",
                "html",
                "-q",
                "-j",
                "2",
                str(src),
                str(build_dir),
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1"},
        )
        if done.returncode != 0:
            raise SiteError(f"sphinx-build failed:\n{(done.stderr or done.stdout)[-3000:]}")
        for rel, data in downloads.items():
            target = build_dir / "notebooks" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        if out.exists():
            shutil.rmtree(out)
        shutil.copytree(build_dir, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    hits = scan_site(out, course)
    if hits:
        raise SiteError(
            "the built site contains solution or hidden-test text:\n" + "\n".join(hits[:20])
        )
    return out / "index.html"


# -- the leak scan -------------------------------------------------------------------------

_TAG = re.compile(r"<[^>]+>")


def page_text(path: Path) -> str:
    """A page's text as the leak check reads it.

    Inline code keeps the backticks it had in the notebook's markdown, so that
    a task statement (`"a"`, `"b"`) reads as it did where the gate checked it.
    """
    text = path.read_text(encoding="utf-8", errors="replace")
    text = re.sub(r"<script.*?</script>|<style.*?</style>", " ", text, flags=re.S)
    text = re.sub(r"</?code\b[^>]*>", " ` ", text)
    return html.unescape(_TAG.sub(" ", text))


#: A page may not hold ten tokens of its own notebook's secrets (the gate's rule), nor
#: twenty of another notebook's: a shorter run shared by two notebooks is an idiom
#: (``rng = np.random.default_rng(seed)``), a longer one is an answer shown elsewhere.
CROSS_RUN = 20


def scan_site(out: Path, course: Path | None = None) -> list[str]:
    """Every leak of a solution or hidden test in the built site's pages and downloads."""
    from mlcourse import leaks
    from mlcourse.gate import _secrets
    from mlcourse.notebook import parse

    course = course or paths.course_dir()
    books = {}
    for rel in course_notebooks(course):
        cnb = parse(course / rel)
        books[rel.removesuffix(".ipynb")] = (
            _secrets(cnb),
            [(a.exercise, a.run) for a in cnb.allows],
            {ex.name for ex in cnb.exercises},
        )
    names = frozenset(n for _, _, ns in books.values() for n in ns)
    pages = [(p.relative_to(out).as_posix(), page_text(p)) for p in sorted(out.rglob("*.html"))]
    pages += [
        (p.relative_to(out).as_posix(), p.read_text(encoding="utf-8", errors="replace"))
        for p in sorted(out.rglob("*.ipynb"))
    ]
    hits: list[str] = []
    for where, text in pages:
        stem = where.removeprefix("notebooks/").removesuffix(".html").removesuffix(".ipynb")
        for book, (secrets, allows, _) in books.items():
            own = book == stem
            found = leaks.scan(
                secrets,
                [(where, text)],
                allows,
                names=names,
                min_run=leaks.RUN if own else CROSS_RUN,
            )
            hits += [str(h) for h in found.leaks]
    return hits


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - the CLI wraps build
    out = Path(argv[0]) if argv else Path("_site")
    print(build(out))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))


def _json(obj) -> str:  # pragma: no cover - used in debugging builds
    return json.dumps(obj, indent=1)
