"""Write a portfolio: the page, a README and a plot per finished project, the bullets.

::

    <out>/index.html                  the self-contained page
    <out>/resume_bullets.md           every bullet the figures can fill
    <out>/<project>/README.md         one per finished project
    <out>/<project>/figures.png       its comparison plot, when it has one

Files are replaced atomically; nothing else in ``<out>`` is touched.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mlcourse.portfolio import bullets as bullet_text
from mlcourse.portfolio.collect import Collection, collect
from mlcourse.portfolio.page import render
from mlcourse.portfolio.plots import comparison_png
from mlcourse.portfolio.readme import (
    BULLETS_FILE,
    PLOT_FILE,
    README_FILE,
    bullets_file,
    project_readme,
)
from mlcourse.portfolio.registry import PROJECTS, Project

PAGE_FILE = "index.html"
DEFAULT_OUT = "portfolio"


class OutError(Exception):
    """The output folder cannot be used (it is a file, or cannot be made)."""


@dataclass
class Built:
    out: Path
    page: Path
    bullets_path: Path
    collection: Collection
    readmes: dict[str, Path] = field(default_factory=dict)  # project key -> README
    bullets: dict[str, list[str]] = field(default_factory=dict)  # project key -> bullets


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``path`` through a temporary file, so a reader never sees half of it.

    (:func:`mlcourse.workspace.atomic_write` does the same, but importing the
    workspace module costs nbformat and nbgrader, which this command never needs.)
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_out(out: Path) -> Path:
    out = Path(out).expanduser()
    if out.exists() and not out.is_dir():
        raise OutError(f"--out {out} is a file, not a folder: choose a folder for the portfolio")
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise OutError(f"--out {out}: {parent} is a file, not a folder")
            break
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutError(f"--out {out} cannot be made: {exc.strerror or exc}") from None
    return out


def build(
    workspace: Path,
    out: Path | None = None,
    *,
    note: str = "",
    projects: tuple[Project, ...] = PROJECTS,
    on_step: Callable[[str], None] | None = None,
) -> Built:
    """Collect the workspace's projects and write the portfolio into ``out``."""
    step = on_step or (lambda message: None)
    collection = collect(workspace, projects)
    out = check_out(out if out is not None else collection.workspace / DEFAULT_OUT)
    step(f"read {len(collection.done)} finished project(s) from {collection.results_file}")
    built = Built(out, out / PAGE_FILE, out / BULLETS_FILE, collection)
    for result in collection.done:
        key = result.project.key
        folder = out / key
        png = comparison_png(result)
        if png is not None:
            atomic_write(folder / PLOT_FILE, png)
        else:
            (folder / PLOT_FILE).unlink(missing_ok=True)
        readme = folder / README_FILE
        atomic_write(readme, project_readme(result, with_plot=png is not None).encode("utf-8"))
        built.readmes[key] = readme
        built.bullets[key] = bullet_text.bullets(result)
        step(f"wrote {readme}")
    atomic_write(built.bullets_path, bullets_file(collection).encode("utf-8"))
    step(f"wrote {built.bullets_path}")
    atomic_write(built.page, render(collection, note=note).encode("utf-8"))
    step(f"wrote {built.page}")
    return built
