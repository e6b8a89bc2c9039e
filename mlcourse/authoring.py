"""Authoring notebooks as text: ``mlcourse author``.

Maintainers write a notebook in jupytext's ``py:percent`` form, with the
nbgrader metadata in each cell header::

    # %% nbgrader={"grade": false, "grade_id": "matmul", "locked": false,
    #    "schema_version": 3, "solution": true, "task": false}

(on one line), and build the ``.ipynb`` with ``mlcourse author SRC.py OUT.ipynb``.
The reverse, ``mlcourse author NB.ipynb OUT.py``, gives the text form back for
review or editing. Only the ``.ipynb`` is committed. jupytext is a dev
dependency.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def _clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb.metadata.pop("jupytext", None)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    for cell in nb.cells:
        for key in ("lines_to_next_cell", "lines_to_end_of_cell_marker"):
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb


def convert(src: Path, dst: Path) -> None:
    """Convert between ``.py`` (percent format) and ``.ipynb``, either way."""
    import jupytext

    nb = jupytext.read(src)
    if dst.suffix == ".ipynb":
        nb = _clean(nb)
        nbformat.validate(nb)
        nbformat.write(nb, dst)
    else:
        jupytext.write(nb, dst, fmt="py:percent")
