"""`mlcourse release` runs real nbgrader, and matches the in-process student version."""

import nbformat
import pytest

from mlcourse import paths
from mlcourse.notebook import read_notebook
from mlcourse.release import ReleaseError, release_assignment, student_version


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.setenv("MLCOURSE_WORK_DIR", str(tmp_path / "work"))
    return tmp_path / "work"


def test_release_matches_student_version(work):
    out = release_assignment("01_foundations")
    assert out == work / "release" / "01_foundations"
    assert not list(out.glob("*.mistakes.toml")), "mistake fixtures must not be released"
    for released in out.glob("*.ipynb"):
        source = read_notebook(paths.course_dir() / "01_foundations" / released.name)
        mine = student_version(source)
        theirs = nbformat.read(released, as_version=4)
        assert [c.source for c in mine.cells] == [c.source for c in theirs.cells]
        for a, b in zip(mine.cells, theirs.cells):
            assert a.metadata.get("nbgrader", {}).get("grade_id") == b.metadata.get(
                "nbgrader", {}
            ).get("grade_id")


def test_unknown_assignment_is_a_clear_error(work):
    with pytest.raises(ReleaseError, match="no assignment 'nope'; the course has: 01_foundations"):
        release_assignment("nope")


def test_a_release_holds_no_solution_and_no_hidden_test(work):
    """Every file of every released assignment, scanned with the gate's leak check."""
    from mlcourse import leaks
    from mlcourse.gate import _secrets
    from mlcourse.notebook import parse

    for assignment in paths.assignments():
        out = release_assignment(assignment)
        released = {p.name for p in out.rglob("*") if p.is_file()}
        assert not [n for n in released if n.endswith((".mistakes.toml", ".mutants.json"))]
        for source in sorted((paths.course_dir() / assignment).glob("*.ipynb")):
            cnb = parse(source)
            text = (out / source.name).read_text(encoding="utf-8")
            for marker in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "[explain]"):
                assert marker not in text, (source.name, marker)
            found = leaks.scan(
                _secrets(cnb),
                [(f"{assignment}/{source.name}", text)],
                [(a.exercise, a.run) for a in cnb.allows],
                names=frozenset(ex.name for ex in cnb.exercises),
            )
            assert not found.leaks, [str(h) for h in found.leaks]


def test_worked_solutions_are_only_in_a_self_study_workspace(tmp_path, monkeypatch):
    """A released notebook's kernel (a grading kernel, a cohort's JupyterLab) has none."""
    from mlcourse.check import reveal

    monkeypatch.chdir(tmp_path)
    assert reveal.load("linear_algebra") is None
    from mlcourse.workspace import sync

    sync(tmp_path / "ws")
    monkeypatch.chdir(tmp_path / "ws" / "01_foundations")
    data = reveal.load("linear_algebra")
    assert data is not None and "matmul" in data["solutions"]
    assert data["solutions"]["matmul"]["explain"]
