"""The gate proves each exercise, and fails when any proof fails."""

import json

import pytest

from conftest import MISTAKES, SOLUTION, TESTS, build_notebook
from mlcourse.gate import check_notebook
from mlcourse.notebook import NotebookError, parse


def problems(path, **kw):
    report = check_notebook(path, **kw)
    return report, "\n".join(report.problems)


def test_sound_notebook_passes(tiny):
    report, text = problems(tiny)
    assert report.ok, text
    assert (report.exercises, report.caught, report.mistakes) == (1, 1, 1)
    assert report.seconds > 0 and report.peak_mb > 10


def test_test_that_passes_on_stub_fails_the_gate(tmp_path):
    weak = 'with check.exercise("double", hint="h") as ex:\n    ex.true(True, "never")'
    path = build_notebook(tmp_path, tests=weak)
    report, text = problems(path)
    assert not report.ok
    assert "PASSES on the stub" in text
    assert "NOT caught" in text


def test_uncaught_mistake_fails_the_gate(tmp_path):
    sneaky = MISTAKES.replace("return x + 2", "return x * 2 + 0")
    report, text = problems(build_notebook(tmp_path, mistakes=sneaky))
    assert not report.ok
    assert "mistake double/adds-two NOT caught" in text


def test_mistake_that_crashes_the_tests_is_not_a_catch(tmp_path):
    crash = "assert double(3) == 6  # a bare assert, outside the friendly checks\n" + TESTS
    report, text = problems(build_notebook(tmp_path, tests=crash))
    assert not report.ok
    assert "instead of a check failure" in text or "not a check failure" in text


def test_exercise_without_mistake_fails(tmp_path):
    report, text = problems(build_notebook(tmp_path, mistakes=None))
    assert not report.ok
    assert "has no mistake fixture" in text


def test_failing_solution_fails(tmp_path):
    report, text = problems(build_notebook(tmp_path, solution=SOLUTION.replace("2 * x", "3 * x")))
    assert not report.ok
    assert "solution run: cell 4 raised Incorrect" in text


def test_error_before_first_exercise_in_release_fails(tmp_path):
    setup = "from mlcourse import check\nimport os"
    after = "double(1)"  # after the exercise: NotImplementedError is allowed
    path = build_notebook(tmp_path, setup=setup, after=after)
    report, text = problems(path)
    assert report.ok, text

    bad_after = "double(1) + undefined_in_both"  # NameError in the solution run too
    report, text = problems(build_notebook(tmp_path, after=bad_after))
    assert not report.ok


def test_hidden_tests_outside_test_cells_fail(tmp_path):
    after = "### BEGIN HIDDEN TESTS\nassert double(21) == 42\n### END HIDDEN TESTS"
    report, text = problems(build_notebook(tmp_path, after=after))
    assert not report.ok
    assert "Hidden test region detected in a non-grade cell" in text


def test_solution_leaking_through_metadata_fails(tiny):
    nb = json.loads(tiny.read_text())
    nb["cells"][2]["metadata"]["author_note"] = "the answer is: return 2 * x"
    tiny.write_text(json.dumps(nb))
    report, text = problems(tiny)
    assert not report.ok
    assert "leak: the student version contains 'return 2 * x'" in text


def test_budget_is_enforced(tmp_path):
    slow = "from mlcourse import check\nimport time\ntime.sleep(1.2)"
    report, text = problems(build_notebook(tmp_path, setup=slow), budget_s=1.0)
    assert not report.ok
    assert "over budget" in text


def test_committed_outputs_and_duplicate_ids_are_reported(tiny):
    nb = json.loads(tiny.read_text())
    nb["cells"][1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "x"}]
    nb["cells"][1]["execution_count"] = 3
    nb["cells"][3]["metadata"]["nbgrader"]["grade_id"] = "double"
    tiny.write_text(json.dumps(nb))
    found = "\n".join(parse(tiny).problems)
    assert "committed outputs" in found
    assert "execution count" in found
    assert "grade_id 'double' is used by cells" in found


def test_missing_points_reported(tiny):
    nb = json.loads(tiny.read_text())
    del nb["cells"][3]["metadata"]["nbgrader"]["points"]
    tiny.write_text(json.dumps(nb))
    assert any("points must be set" in p for p in parse(tiny).problems)


def test_malformed_notebook_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.ipynb"
    bad.write_text('{"cells": [')
    with pytest.raises(NotebookError, match="malformed JSON at line 1"):
        parse(bad)
    report = check_notebook(bad)
    assert not report.ok and "malformed JSON" in report.problems[0]
