"""The learner's workspace: new notebooks arrive, edits are never overwritten."""

import json

import nbformat

from mlcourse.workspace import MANIFEST, student_files, sync


def test_first_sync_writes_everything(tmp_path):
    files = {"01/a.ipynb": b"A1", "02/b.ipynb": b"B1"}
    report = sync(tmp_path, files)
    assert sorted(report.new) == ["01/a.ipynb", "02/b.ipynb"]
    assert (tmp_path / "01/a.ipynb").read_bytes() == b"A1"
    assert (tmp_path / MANIFEST).exists()


def test_second_sync_adds_new_notebooks_only(tmp_path):
    sync(tmp_path, {"a.ipynb": b"A1"})
    report = sync(tmp_path, {"a.ipynb": b"A1", "b.ipynb": b"B1"})
    assert report.new == ["b.ipynb"]
    assert report.unchanged == ["a.ipynb"]


def test_edited_notebook_is_kept_even_when_course_changes(tmp_path):
    sync(tmp_path, {"a.ipynb": b"A1"})
    (tmp_path / "a.ipynb").write_bytes(b"my work")
    report = sync(tmp_path, {"a.ipynb": b"A2"})
    assert report.kept == ["a.ipynb"]
    assert report.kept_with_update == ["a.ipynb"]
    assert (tmp_path / "a.ipynb").read_bytes() == b"my work"


def test_untouched_notebook_is_updated(tmp_path):
    sync(tmp_path, {"a.ipynb": b"A1"})
    report = sync(tmp_path, {"a.ipynb": b"A2"})
    assert report.updated == ["a.ipynb"]
    assert (tmp_path / "a.ipynb").read_bytes() == b"A2"
    # and once updated, a later edit is still protected
    (tmp_path / "a.ipynb").write_bytes(b"edit")
    assert sync(tmp_path, {"a.ipynb": b"A3"}).kept == ["a.ipynb"]


def test_deleted_notebook_is_restored(tmp_path):
    sync(tmp_path, {"a.ipynb": b"A1"})
    (tmp_path / "a.ipynb").unlink()
    assert sync(tmp_path, {"a.ipynb": b"A1"}).restored == ["a.ipynb"]


def test_damaged_manifest_keeps_every_existing_file(tmp_path):
    sync(tmp_path, {"a.ipynb": b"A1"})
    (tmp_path / "a.ipynb").write_bytes(b"my work")
    (tmp_path / MANIFEST).write_text("{not json")
    report = sync(tmp_path, {"a.ipynb": b"A2"})
    assert report.kept == ["a.ipynb"]
    assert (tmp_path / "a.ipynb").read_bytes() == b"my work"
    assert json.loads((tmp_path / MANIFEST).read_text())["files"] == {}


def test_no_temporary_files_left(tmp_path):
    sync(tmp_path, {"a.ipynb": b"A1", "sub/b.ipynb": b"B"})
    leftovers = [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


def test_student_files_are_released_versions():
    files = student_files()
    assert "01_foundations/linear_algebra.ipynb" in files
    assert not any(name.endswith(".toml") for name in files)
    nb = nbformat.reads(files["01_foundations/linear_algebra.ipynb"].decode(), as_version=4)
    text = "".join(cell.source for cell in nb.cells)
    assert "### BEGIN SOLUTION" not in text
    assert "### BEGIN HIDDEN TESTS" not in text
    assert "raise NotImplementedError()" in text
