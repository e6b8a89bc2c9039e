"""Bringing a course update into a learner's edited notebook, cell by cell.

A three-way merge of notebooks: the learner's copy, the *base* (the course's
version it was written from) and the *new* course version. The rules:

* markdown, setup and test cells come from the new course version;
* the learner's answer cells are kept, matched by their nbgrader ``grade_id``;
* cells the learner added stay in place, after the cell they followed;
* a learner's edit to a course cell is kept, and reported, rather than
  overwritten;
* an exercise whose signature changed gets the new stub, and the learner's
  old answer beside it in a marked cell;
* nothing the learner wrote is ever dropped (course cells that the course
  removed go away only if the learner never touched them).

Cells are matched learner-to-base by cell id (JupyterLab keeps them), and
base-to-new by ``grade_id`` and by content, so the course's own cell ids may
change between versions.
"""

from __future__ import annotations

import ast
import copy
import difflib
import uuid
from dataclasses import dataclass, field

from nbformat import NotebookNode
from nbformat.v4 import new_code_cell

MARK = (
    "# ✋ Your earlier answer, kept by a course update: this exercise changed (see the new\n"
    "# version just above). Copy what you need into it, then delete this cell.\n"
)


@dataclass
class MergeReport:
    """What a merge did, for the message ``mlcourse start`` prints."""

    course_cells: int = 0  # course cells taken from the new version
    new_cells: int = 0  # cells the course added
    answers_kept: list[str] = field(default_factory=list)
    answers_moved: list[str] = field(default_factory=list)  # exercise changed: kept beside
    edits_kept: list[str] = field(default_factory=list)  # course cells the learner edited
    own_cells_kept: int = 0  # cells the learner added
    removed: int = 0  # untouched course cells the course removed

    @property
    def summary(self) -> str:
        parts = [f"{self.course_cells} course cells updated"]
        if self.new_cells:
            parts.append(f"{self.new_cells} new")
        if self.answers_kept:
            parts.append(f"your {len(self.answers_kept)} answer(s) kept")
        if self.answers_moved:
            parts.append(
                f"{len(self.answers_moved)} answer(s) kept beside a changed exercise "
                f"({', '.join(self.answers_moved)})"
            )
        if self.edits_kept:
            parts.append(f"your edits to {len(self.edits_kept)} course cell(s) kept")
        if self.own_cells_kept:
            parts.append(f"{self.own_cells_kept} cell(s) of your own kept")
        return ", ".join(parts)


def _meta(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta if isinstance(meta, dict) else {}


def _grade_id(cell) -> str | None:
    return _meta(cell).get("grade_id")


def _is_answer(cell) -> bool:
    return bool(_meta(cell).get("solution")) and cell.get("cell_type") == "code"


def _key(cell) -> tuple:
    gid = _grade_id(cell)
    if gid:
        return ("grade", gid)
    return (cell.get("cell_type"), cell.get("source", ""))


def _signatures(source: str) -> list[str]:
    """The def and class lines of a stub (what the learner must not have to change)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return [line.strip() for line in source.splitlines() if line.lstrip().startswith("def ")]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            out.append(f"def {node.name}({ast.unparse(node.args)})")
        elif isinstance(node, ast.ClassDef):
            out.append(f"class {node.name}")
    return out


def align(base: list, new: list) -> dict[int, int]:
    """base index -> new index, for the cells that are the same cell in both versions."""
    keys_b = [_key(c) for c in base]
    keys_n = [_key(c) for c in new]
    pairs: dict[int, int] = {}
    # Graded cells are matched by grade_id wherever they moved.
    where_n = {k: j for j, k in enumerate(keys_n) if k[0] == "grade"}
    for i, k in enumerate(keys_b):
        if k[0] == "grade" and k in where_n:
            pairs[i] = where_n[k]
    matcher = difflib.SequenceMatcher(a=keys_b, b=keys_n, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for off in range(i2 - i1):
                pairs.setdefault(i1 + off, j1 + off)
        elif tag == "replace":
            # Edited course cells: pair in order, by type and likeness.
            used: set[int] = set()
            for i in range(i1, i2):
                if i in pairs:
                    continue
                best, score = None, 0.45
                for j in range(j1, j2):
                    if j in used or j in pairs.values():
                        continue
                    if base[i].get("cell_type") != new[j].get("cell_type"):
                        continue
                    if _grade_id(base[i]) or _grade_id(new[j]):
                        continue
                    ratio = difflib.SequenceMatcher(
                        a=base[i].get("source", ""), b=new[j].get("source", "")
                    ).ratio()
                    if ratio > score:
                        best, score = j, ratio
                if best is not None:
                    pairs[i] = best
                    used.add(best)
    return pairs


def _fresh(cell) -> NotebookNode:
    out = copy.deepcopy(cell)
    if out.get("cell_type") == "code":
        out["outputs"] = []
        out["execution_count"] = None
    return out


def merge(
    learner: NotebookNode, base: NotebookNode | None, new: NotebookNode
) -> tuple[NotebookNode, MergeReport]:
    """The learner's notebook with the new course version brought in (see the module)."""
    report = MergeReport()
    base = base if base is not None else _assumed_base(learner, new)
    b_cells, n_cells, l_cells = list(base.cells), list(new.cells), list(learner.cells)
    b_by_id = {c.get("id"): i for i, c in enumerate(b_cells) if c.get("id")}
    l_of_b: dict[int, int] = {}
    for li, cell in enumerate(l_cells):
        bi = b_by_id.get(cell.get("id"))
        if bi is not None and bi not in l_of_b:
            l_of_b[bi] = li
    if len(l_of_b) < len(b_cells) // 2:  # ids lost (an old nbformat?): match by content
        for bi, li in align(b_cells, l_cells).items():
            l_of_b.setdefault(bi, li)
    b_of_l = {li: bi for bi, li in l_of_b.items()}
    n_of_b = align(b_cells, n_cells)
    b_of_n = {ni: bi for bi, ni in n_of_b.items()}

    # The learner's own cells (and edited cells the course dropped) ride along
    # after the nearest preceding cell they kept from the base.
    extras: dict[int | None, list] = {}
    anchor: int | None = None
    for li, cell in enumerate(l_cells):
        bi = b_of_l.get(li)
        if bi is None:
            extras.setdefault(anchor, []).append(copy.deepcopy(cell))
            report.own_cells_kept += 1
            continue
        if bi not in n_of_b:  # the course removed this cell
            if cell.get("source", "") != b_cells[bi].get("source", "") or _is_answer(cell):
                kept = copy.deepcopy(cell)
                kept.get("metadata", {}).pop("nbgrader", None)
                extras.setdefault(anchor, []).append(kept)
                report.own_cells_kept += 1
            else:
                report.removed += 1
            continue
        anchor = bi

    out: list = list(extras.get(None, []))
    for ni, ncell in enumerate(n_cells):
        bi = b_of_n.get(ni)
        li = l_of_b.get(bi) if bi is not None else None
        lcell = l_cells[li] if li is not None else None
        bcell = b_cells[bi] if bi is not None else None
        if bcell is None:
            out.append(_fresh(ncell))
            report.new_cells += 1
        elif _is_answer(ncell):
            answered = lcell is not None and lcell.get("source", "") != bcell.get("source", "")
            if not answered:
                out.append(_fresh(ncell))
            elif _signatures(bcell.get("source", "")) != _signatures(ncell.get("source", "")):
                out.append(_fresh(ncell))
                kept = new_code_cell(MARK + lcell.get("source", ""))
                out.append(kept)
                report.answers_moved.append(_grade_id(ncell) or "?")
            else:
                kept = copy.deepcopy(lcell)
                kept["metadata"] = copy.deepcopy(lcell.get("metadata", {}))
                kept["metadata"]["nbgrader"] = copy.deepcopy(_meta(ncell))
                out.append(kept)
                report.answers_kept.append(_grade_id(ncell) or "?")
        else:
            edited = (
                lcell is not None
                and lcell.get("source", "") != bcell.get("source", "")
                and lcell.get("source", "") != ncell.get("source", "")
            )
            if edited:
                out.append(copy.deepcopy(lcell))
                first = (lcell.get("source", "").strip().splitlines() or [""])[0][:60]
                report.edits_kept.append(f"cell {len(out)}: {first}")
            elif (
                lcell is not None
                and ncell.get("source", "") == bcell.get("source", "")
                and lcell.get("cell_type") == ncell.get("cell_type")
            ):
                kept = _fresh(ncell)  # unchanged: keep the learner's outputs with it
                if kept.get("cell_type") == "code":
                    kept["outputs"] = copy.deepcopy(lcell.get("outputs", []))
                    kept["execution_count"] = lcell.get("execution_count")
                out.append(kept)
            else:
                out.append(_fresh(ncell))
                report.course_cells += 1
        if bi is not None:
            out.extend(extras.get(bi, []))
    merged = copy.deepcopy(learner)
    merged.cells = out
    merged.metadata = copy.deepcopy(learner.get("metadata", {}))
    for key in ("kernelspec", "language_info"):
        if key in new.get("metadata", {}):
            merged.metadata.setdefault(key, copy.deepcopy(new.metadata[key]))
    merged.nbformat, merged.nbformat_minor = (
        new.nbformat,
        max(new.get("nbformat_minor", 5), learner.get("nbformat_minor", 5)),
    )
    _unique_ids(merged)
    return merged, report


def _assumed_base(learner: NotebookNode, new: NotebookNode) -> NotebookNode:
    """A base for a workspace that predates base copies: the course cells as the new
    version has them (so course cells update) and the answers as stubs (so answers stay)."""
    base = copy.deepcopy(learner)
    new_by_gid = {_grade_id(c): c for c in new.cells if _grade_id(c)}
    cells = []
    for cell in learner.cells:
        gid = _grade_id(cell)
        if gid and gid in new_by_gid and _is_answer(cell):
            stub = copy.deepcopy(new_by_gid[gid])
            stub["id"] = cell.get("id", stub.get("id"))
            cells.append(stub)
        else:
            cells.append(copy.deepcopy(cell))
    base.cells = cells
    return base


def _unique_ids(nb: NotebookNode) -> None:
    seen: set[str] = set()
    for cell in nb.cells:
        ident = cell.get("id")
        if not ident or ident in seen:
            ident = uuid.uuid4().hex[:8]
            cell["id"] = ident
        seen.add(ident)
