"""The gate proves each exercise, and fails when any proof fails."""

import json

import pytest

from conftest import MISTAKES, SOLUTION, TESTS, build_notebook
from mlcourse.gate import check_notebook, records_path
from mlcourse.notebook import NotebookError, parse


def problems(path, **kw):
    kw.setdefault("mutant_mode", "off")
    report = check_notebook(path, **kw)
    return report, "\n".join(report.problems)


def test_sound_notebook_passes(tiny):
    report, text = problems(tiny, mutant_mode="all", record=True)
    assert report.ok, text
    assert (report.exercises, report.caught, report.mistakes) == (1, 1, 1)
    assert report.seconds > 0 and report.peak_mb > 10
    assert report.mutants >= 1 and report.killed == report.mutants and report.kill_rate == 1.0
    assert records_path(tiny).exists()
    again, text = problems(tiny, mutant_mode="changed")
    assert again.ok, text
    assert again.killed == report.killed  # read back from the record


def test_test_that_passes_on_stub_fails_the_gate(tmp_path):
    weak = 'check("double")'
    path = build_notebook(tmp_path, tests=weak)
    from conftest import TEST_EXERCISES, use_checks

    use_checks(
        TEST_EXERCISES,
        ["tiny"],
        "from mlcourse.check import problem\n\n"
        '@problem("double", hints=("A concept.", "An approach."))\n'
        'def _double(t):\n    t.true(True, "never")\n',
    )
    try:
        report, text = problems(path)
    finally:
        use_checks(TEST_EXERCISES, ["tiny"])
    assert not report.ok
    assert "PASSES on the stub" in text
    assert "NOT caught" in text


def test_uncaught_mistake_fails_the_gate(tmp_path):
    sneaky = MISTAKES.replace("return x + 2", "return x * 2 + 0")
    report, text = problems(build_notebook(tmp_path, mistakes=sneaky))
    assert not report.ok
    assert "mistake double/adds-two NOT caught" in text


def test_surviving_mutant_fails_and_names_the_mutant(tmp_path):
    # A check that only asks for a positive result cannot tell 2 * x from 2 / x.
    from conftest import TEST_EXERCISES, use_checks

    path = build_notebook(tmp_path, tests='check("double")')
    use_checks(
        TEST_EXERCISES,
        ["tiny"],
        "from mlcourse.check import problem\n\n"
        '@problem("double", hints=("A concept.", "An approach."))\n'
        'def _double(t):\n    t.true(t.call("double", 2) > 0, "not positive")\n',
    )
    try:
        report, text = problems(path, mutant_mode="all")
    finally:
        use_checks(TEST_EXERCISES, ["tiny"])
    assert "mutant of double survived" in text


def test_equivalent_mutant_recorded_with_reason_passes(tmp_path):
    # On integer inputs int(2 * x) and 2 * x are the same: no test can tell them apart.
    solution = SOLUTION.replace("return 2 * x", "return int(2 * x)")
    path = build_notebook(tmp_path, solution=solution)
    report, text = problems(path, mutant_mode="all")
    assert "mutant of double survived: dtype: int(2 * x) -> 2 * x" in text
    equivalent = (
        '\n[[equivalent]]\nexercise = "double"\nmutant = "dtype: int(2 * x) -> 2 * x"\n'
        'why = "The inputs are integers, so the product already is one."\n'
    )
    mistakes = path.with_name("tiny.mistakes.toml")
    mistakes.write_text(mistakes.read_text() + equivalent)
    report, text = problems(path, mutant_mode="all", record=True)
    assert report.ok, text
    assert report.equivalent == 1 and report.kill_rate == 1.0


def test_mistake_that_crashes_the_tests_is_not_a_catch(tmp_path):
    crash = "assert double(3) == 6  # a bare assert, outside the friendly checks\n" + TESTS
    report, text = problems(build_notebook(tmp_path, tests=crash))
    assert not report.ok
    assert "visible part must be exactly one line" in text


def test_exercise_without_mistake_fails(tmp_path):
    report, text = problems(build_notebook(tmp_path, mistakes=None))
    assert not report.ok
    assert "has no mistake fixture" in text


def test_failing_solution_fails(tmp_path):
    report, text = problems(build_notebook(tmp_path, solution=SOLUTION.replace("2 * x", "3 * x")))
    assert not report.ok
    assert "solution run: cell 4 raised Incorrect" in text


def test_hidden_tests_must_be_self_contained(tmp_path):
    # A hidden check that reads a notebook variable cannot run in the trusted grader.
    setup = "from mlcourse import check\nSECRET_INPUT = -7"
    tests = TESTS.replace('t.call("double", -7)', 't.call("double", SECRET_INPUT)')
    report, text = problems(build_notebook(tmp_path, setup=setup, tests=tests))
    assert not report.ok
    assert "SECRET_INPUT" in text


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


def test_solution_leaking_through_metadata_fails(tmp_path):
    solution = SOLUTION.replace(
        "return 2 * x", "doubled = sum([x, x], start=0) * 1\n    return doubled"
    )
    path = build_notebook(tmp_path, solution=solution)
    nb = json.loads(path.read_text())
    nb["cells"][2]["metadata"]["author_note"] = "answer: doubled = sum([x, x], start=0) * 1"
    path.write_text(json.dumps(nb))
    report, text = problems(path)
    assert not report.ok
    assert "leak: student metadata contains" in text


def test_hint_quoting_a_solution_line_fails(tmp_path):
    from conftest import CHECKS, TEST_EXERCISES, use_checks

    leaky = CHECKS.replace('"Multiply the input by two."', '"Write: return 2 * x"')
    path = build_notebook(tmp_path)
    use_checks(TEST_EXERCISES, ["tiny"], leaky)
    try:
        report, text = problems(path)
    finally:
        use_checks(TEST_EXERCISES, ["tiny"])
    assert not report.ok
    assert "hint 2 of double contains" in text and "solution line" in text


def test_code_in_first_hint_fails(tmp_path):
    from conftest import CHECKS, TEST_EXERCISES, use_checks

    codey = CHECKS.replace('"Doubling a number adds it to itself."', '"Use `x + x`."')
    path = build_notebook(tmp_path)
    use_checks(TEST_EXERCISES, ["tiny"], codey)
    try:
        report, text = problems(path)
    finally:
        use_checks(TEST_EXERCISES, ["tiny"])
    assert "first hint must be a concept nudge" in text


def test_budget_is_enforced(tmp_path):
    slow = "from mlcourse import check\nimport time\ntime.sleep(1.2)"
    report, text = problems(build_notebook(tmp_path, setup=slow), budget_s=1.0)
    assert not report.ok
    assert "over budget" in text


def test_stale_mutation_record_fails(tiny):
    report, text = problems(tiny, mutant_mode="all", record=True)
    assert report.ok, text
    source = tiny.read_text().replace("6, wrong", "6, wrong")
    nb = json.loads(source)
    nb["cells"][3]["source"] = TESTS.replace("-7", "-9").replace("-14", "-18")
    tiny.write_text(json.dumps(nb))
    report, text = problems(tiny, mutant_mode="changed")
    assert not report.ok
    assert "record of double is out of date" in text


def test_deleting_a_test_that_kills_a_mutant_turns_the_gate_red(tmp_path):
    # The hidden test on -7 is the only one that sees a sign: without it, abs-style
    # mutants of `return 2 * abs(x)`... here: a solution whose mutants need the hidden test.
    solution = SOLUTION.replace("return 2 * x", "return x + x")
    path = build_notebook(tmp_path, solution=solution)
    report, text = problems(path, mutant_mode="all", record=True)
    assert report.ok, text
    nb = json.loads(path.read_text())
    nb["cells"][3]["source"] = 'check("double")'
    path.write_text(json.dumps(nb))
    report, text = problems(path, mutant_mode="all")
    assert not report.ok


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


def test_mutants_meet_the_state_at_their_exercise_not_what_later_cells_define(tmp_path):
    """A later cell that defines the same name must not keep a deleted line's mutant alive."""
    solution = (
        "### BEGIN SOLUTION\nFACTOR = 2\n### END SOLUTION\n\n\n"
        "def double(x):\n    return FACTOR * x"
    )
    path = build_notebook(tmp_path, solution=solution, after="FACTOR = 2  # a later cell")
    report, text = problems(path, mutant_mode="all", record=True)
    assert "survived" not in text, text
    assert report.killed == report.mutants >= 3


needs_bwrap = pytest.mark.skipif(
    not __import__("mlcourse.sandbox", fromlist=["bwrap_works"]).bwrap_works(),
    reason="bubblewrap cannot make namespaces here",
)

DOWNLOAD = """from mlcourse import check
import urllib.request
urllib.request.urlopen("http://93.184.215.14/", timeout=5).read()
"""

LOOPBACK = """from mlcourse import check
import socket, threading
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen()
threading.Thread(target=lambda: server.accept()[0].sendall(b"hi"), daemon=True).start()
assert socket.create_connection(server.getsockname(), timeout=5).recv(2) == b"hi"
"""


@needs_bwrap
def test_a_notebook_that_downloads_fails_a_gate_without_network(tmp_path):
    report, text = problems(build_notebook(tmp_path, setup=DOWNLOAD), network="off")
    assert not report.ok and report.network == "off"
    assert "have no network" in text and "must not download" in text


@needs_bwrap
def test_without_network_a_notebook_still_has_its_own_loopback(tmp_path):
    report, text = problems(build_notebook(tmp_path, setup=LOOPBACK), network="off")
    assert report.ok, text


def test_the_network_mode_is_checked():
    from mlcourse.gate import resolve_network

    with pytest.raises(ValueError, match="network"):
        resolve_network("sometimes")
    assert resolve_network("on") == "on"
