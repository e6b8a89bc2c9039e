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
