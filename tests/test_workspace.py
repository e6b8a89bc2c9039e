"""The learner's workspace: course updates merge into their work; nothing is ever lost."""

from __future__ import annotations

import json
import os
import stat

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from conftest import nbgrader
from mlcourse import layout
from mlcourse.merge import MARK
from mlcourse.workspace import (
    MANIFEST,
    WorkspaceError,
    check_workspace_path,
    restore,
    student_files,
    sync,
)

STUB = "def {name}(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()"


def course(version: int = 1, *, signature: str = "x") -> bytes:
    """A student notebook with three exercises; later versions change the course cells."""
    cells = [new_markdown_cell(f"# Intro, version {version}")]
    cells.append(new_code_cell("from mlcourse import check\nimport math"))
    for name in ("one", "two", "three"):
        cells.append(new_markdown_cell(f"### Exercise {name} (v{version})"))
        stub = STUB.format(name=name)
        if name == "three":
            stub = stub.replace("(x)", f"({signature})")
        cells.append(new_code_cell(stub, metadata=nbgrader(name, solution=True)))
        test = f'check("{name}")' + ("  # v2" if version > 1 else "")
        cells.append(
            new_code_cell(
                test, metadata=nbgrader(f"test_{name}", grade=True, points=1, locked=True)
            )
        )
    if version > 1:
        cells.append(new_markdown_cell("## A new summary section"))
    nb = new_notebook(cells=cells)
    for i, cell in enumerate(nb.cells):  # the course's ids may differ between versions
        cell["id"] = f"v{version}-{i}"
    return (nbformat.writes(nb) + "\n").encode()


def answer(path, name: str, code: str) -> None:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == name:
            cell.source = code
    nbformat.write(nb, path)


def cells(path) -> list[str]:
    return [c.source for c in nbformat.read(path, as_version=4).cells]


def test_first_sync_writes_everything_with_usual_permissions(tmp_path):
    report = sync(tmp_path, {"01/a.ipynb": course(), "02/b.ipynb": course()})
    assert sorted(report.new) == ["01/a.ipynb", "02/b.ipynb"]
    assert (tmp_path / MANIFEST).exists()
    mask = os.umask(0)
    os.umask(mask)
    mode = stat.S_IMODE((tmp_path / "01/a.ipynb").stat().st_mode)
    assert mode == 0o666 & ~mask  # not the 0600 of a temporary file
    assert layout.base_path(tmp_path, "01/a.ipynb").exists()


def test_an_untouched_notebook_is_replaced_by_the_new_version(tmp_path):
    sync(tmp_path, {"a.ipynb": course(1)})
    report = sync(tmp_path, {"a.ipynb": course(2)})
    assert report.updated == ["a.ipynb"]
    assert (tmp_path / "a.ipynb").read_bytes() == course(2)


def test_three_answers_survive_an_update_that_brings_new_markdown_and_tests(tmp_path):
    """The issue's 'done when': answers kept, new markdown and tests, a backup present."""
    nb = tmp_path / "a.ipynb"
    sync(tmp_path, {"a.ipynb": course(1)})
    for name in ("one", "two", "three"):
        answer(nb, name, f"def {name}(x):\n    return '{name} by me'")
    report = sync(tmp_path, {"a.ipynb": course(2)})
    assert list(report.merged) == ["a.ipynb"]
    merged = report.merged["a.ipynb"]
    assert sorted(merged.answers_kept) == ["one", "three", "two"]
    text = cells(nb)
    for name in ("one", "two", "three"):
        assert f"def {name}(x):\n    return '{name} by me'" in text
        assert f'check("{name}")  # v2' in text
    assert "# Intro, version 2" in text and "## A new summary section" in text
    assert "# Intro, version 1" not in text
    backup = tmp_path / report.backups["a.ipynb"]
    assert backup.exists() and "one by me" in backup.read_text()
    # and the next update merges again: what was merged is the learner's work
    report = sync(tmp_path, {"a.ipynb": course(3)})
    assert "a.ipynb" in report.merged and "def one(x):\n    return 'one by me'" in cells(nb)


def test_cells_the_learner_added_stay_after_the_cell_they_followed(tmp_path):
    path = tmp_path / "a.ipynb"
    sync(tmp_path, {"a.ipynb": course(1)})
    nb = nbformat.read(path, as_version=4)
    where = next(i for i, c in enumerate(nb.cells) if 'check("two")' in c.source)
    nb.cells.insert(where + 1, new_code_cell("print('my own experiment')"))
    nb.cells.insert(0, new_markdown_cell("My notes at the top"))
    nbformat.write(nb, path)
    report = sync(tmp_path, {"a.ipynb": course(2)})
    text = cells(path)
    assert text[0] == "My notes at the top"
    assert text[text.index('check("two")  # v2') + 1] == "print('my own experiment')"
    assert report.merged["a.ipynb"].own_cells_kept == 2


def test_an_edited_course_cell_is_kept_and_reported(tmp_path):
    path = tmp_path / "a.ipynb"
    sync(tmp_path, {"a.ipynb": course(1)})
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].source = "# Intro, version 1, with my own remarks"
    nbformat.write(nb, path)
    report = sync(tmp_path, {"a.ipynb": course(2)})
    assert "# Intro, version 1, with my own remarks" in cells(path)
    assert report.merged["a.ipynb"].edits_kept


def test_a_changed_signature_keeps_the_old_answer_beside_the_new_stub(tmp_path):
    path = tmp_path / "a.ipynb"
    sync(tmp_path, {"a.ipynb": course(1)})
    answer(path, "three", "def three(x):\n    return 3 * x")
    report = sync(tmp_path, {"a.ipynb": course(2, signature="x, y")})
    text = cells(path)
    stub = next(i for i, s in enumerate(text) if s.startswith("def three(x, y)"))
    assert text[stub + 1] == MARK + "def three(x):\n    return 3 * x"
    assert report.merged["a.ipynb"].answers_moved == ["three"]
    graded = nbformat.read(path, as_version=4).cells[stub].metadata["nbgrader"]["grade_id"]
    assert graded == "three"


def test_an_unreadable_notebook_is_left_alone_with_a_recovery_command(tmp_path):
    path = tmp_path / "a.ipynb"
    sync(tmp_path, {"a.ipynb": course(1)})
    path.write_text('{"cells": [')  # a truncated save
    report = sync(tmp_path, {"a.ipynb": course(2)})
    assert "a.ipynb" in report.unreadable and "malformed JSON" in report.unreadable["a.ipynb"]
    assert path.read_text() == '{"cells": ['
    backup = restore(tmp_path, "a.ipynb", {"a.ipynb": course(2)})
    assert backup.read_text() == '{"cells": [' and path.read_bytes() == course(2)


def test_a_deleted_notebook_is_restored(tmp_path):
    sync(tmp_path, {"a.ipynb": course(1)})
    (tmp_path / "a.ipynb").unlink()
    assert sync(tmp_path, {"a.ipynb": course(1)}).restored == ["a.ipynb"]


def test_a_damaged_manifest_loses_no_work(tmp_path):
    path = tmp_path / "a.ipynb"
    sync(tmp_path, {"a.ipynb": course(1)})
    answer(path, "one", "def one(x):\n    return 'mine'")
    (tmp_path / MANIFEST).write_text("{not json")
    sync(tmp_path, {"a.ipynb": course(2)})
    assert "def one(x):\n    return 'mine'" in cells(path)
    assert json.loads((tmp_path / MANIFEST).read_text())["files"]


def test_a_workspace_from_before_base_copies_still_keeps_answers(tmp_path):
    path = tmp_path / "a.ipynb"
    sync(tmp_path, {"a.ipynb": course(1)})
    answer(path, "two", "def two(x):\n    return 2")
    layout.base_path(tmp_path, "a.ipynb").unlink()
    sync(tmp_path, {"a.ipynb": course(2)})
    text = cells(path)
    assert "def two(x):\n    return 2" in text and "# Intro, version 2" in text


def test_no_temporary_files_left(tmp_path):
    sync(tmp_path, {"a.ipynb": course(1), "sub/b.ipynb": course(1)})
    answer(tmp_path / "a.ipynb", "one", "x = 1")
    sync(tmp_path, {"a.ipynb": course(2), "sub/b.ipynb": course(2)})
    leftovers = [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


@pytest.mark.parametrize("bad", ["/proc/x", "file"])
def test_a_bad_workspace_path_is_a_clear_error(tmp_path, bad):
    target = tmp_path / "file" if bad == "file" else __import__("pathlib").Path(bad)
    if bad == "file":
        target.write_text("not a folder")
    with pytest.raises(WorkspaceError, match="workspace|folder"):
        check_workspace_path(target)


def test_student_files_are_released_versions():
    files = student_files()
    assert "01_foundations/linear_algebra.ipynb" in files
    assert not any(name.endswith((".toml", ".json")) for name in files)
    nb = nbformat.reads(files["01_foundations/linear_algebra.ipynb"].decode(), as_version=4)
    text = "".join(cell.source for cell in nb.cells)
    assert "### BEGIN SOLUTION" not in text
    assert "### BEGIN HIDDEN TESTS" not in text
    assert "raise NotImplementedError()" in text


def test_progress_counts_an_unreadable_notebooks_exercises_as_unknown(tmp_path):
    from mlcourse.progress import progress_report, summary_lines

    sync(tmp_path, {"01_foundations/a.ipynb": course(1)})
    (tmp_path / "01_foundations" / "a.ipynb").write_text('{"cells": [')
    report = progress_report(tmp_path)
    nb = report.notebook("a")
    assert not nb.readable and nb.total == 3 and report.total == 3
    text = "\n".join(summary_lines(report))
    assert "mlcourse update --restore 01_foundations/a.ipynb" in text
