"""`mlcourse grade` on a hostile cohort: every case gets the right verdict."""

from __future__ import annotations

import csv
import shutil

import nbformat
import pytest

from conftest import build_course, build_notebook
from mlcourse.cohort import make_cohort
from mlcourse.grading import Options, grade, scan_for_tampering
from mlcourse.sandbox import bwrap_works

SANDBOX = bwrap_works()

# student -> (alpha score out of 5, alpha status); beta is always correct (2/2)
EXPECTED = {
    "hostile_correct": (5, "graded"),
    "hostile_stub": (0, "graded"),
    "hostile_partly_wrong": (3, "graded"),
    "hostile_infinite_loop": (3, "timeout"),
    "hostile_memory_bomb": (0, "crashed"),
    "hostile_fork_bomb": (3, "graded"),
    "hostile_os_exit": (0, "crashed"),
    "hostile_syntax_error": (3, "graded"),
    "hostile_malformed_json": (0, "invalid"),
    "hostile_edited_test": (3, "graded"),
    "hostile_deleted_test": (3, "graded"),
    "hostile_edited_metadata": (3, "graded"),
    "hostile_missing_notebook": (0, "missing"),
    "hostile_monkeypatch": (0, "flagged"),
    "hostile_reads_course": (3, "graded"),
    "hostile_network": (3, "graded"),
    "hostile_huge_output": (5, "graded"),
    "hostile_kills_processes": (3, "graded"),
    # where the verdict is decided: nothing in the kernel can turn a failure into a pass
    "hostile_custom_exc": (3, "graded"),
    "hostile_ast_rewrite": (0, "graded"),  # its forged answers fail every test
    "hostile_clears_outputs": (0, "graded"),  # its hook swallows the checks' answers too
    "hostile_wrapped_stdout": (0, "flagged"),
    "hostile_forged_guard": (3, "graded"),
    "hostile_lying_answer": (3, "graded"),
    "hostile_symlink_notebook": (0, "invalid"),
    "hostile_symlink_data": (0, "invalid"),
    "hostile_plants_startup": (5, "graded"),
    "hostile_leaks_hidden": (3, "graded"),
    "hostile_duplicated_cells": (5, "graded"),
}
SANDBOX_ONLY = (
    "hostile_reads_course",
    "hostile_network",
    "hostile_kills_processes",
    "hostile_plants_startup",
)
#: The whole submission is refused: its other notebook is invalid too.
WHOLE_SUBMISSION = ("hostile_symlink_notebook", "hostile_symlink_data")
HIDDEN_SNIPPETS = [
    't.call("double", -7)',
    't.call("square", -4)',
    "check.hidden",
    "BEGIN HIDDEN",
    'a negative number")',
]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("grading")
    mp = pytest.MonkeyPatch()
    mp.setenv("MLCOURSE_COURSE_DIR", str(build_course(root)))
    mp.setenv("MLCOURSE_WORK_DIR", str(root / "work"))
    yield root
    mp.undo()


@pytest.fixture(scope="module")
def graded(env):
    cohort = env / "cohort"
    make_cohort("ps1", cohort, students=2, hostile=True)
    opts = Options(
        "ps1",
        cohort,
        env / "out",
        workers=4,
        cell_timeout=6,
        notebook_timeout=60,
        memory_mb=600,
        pids=128,
    )
    summary = grade(opts)
    rows = list(csv.DictReader(open(env / "out" / "grades.csv")))
    return summary, rows, opts


def _row(rows, student, notebook):
    return next(r for r in rows if r["student_id"] == student and r["notebook"] == notebook)


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_every_hostile_case_gets_its_verdict(graded, student):
    summary, rows, _ = graded
    if student in SANDBOX_ONLY and not SANDBOX:
        pytest.skip("needs bubblewrap")
    score, status = EXPECTED[student]
    alpha = _row(rows, student, "alpha")
    assert (float(alpha["score"]), alpha["status"]) == (score, status), alpha
    assert float(alpha["max_score"]) == 5, "edited metadata must not change the maximum"
    beta = _row(rows, student, "beta")
    if student in WHOLE_SUBMISSION:
        assert (float(beta["score"]), beta["status"]) == (0, "invalid"), beta
        assert "symbolic link" in beta["detail"]
    else:
        assert (float(beta["score"]), beta["status"]) == (2, "graded"), beta


def test_full_marks_only_for_honest_correct_work(graded):
    _, rows, _ = graded
    full = {
        r["student_id"]
        for r in rows
        if r["notebook"] == "alpha" and float(r["score"]) == float(r["max_score"])
    }
    assert full <= {
        "hostile_correct",
        "hostile_huge_output",
        "hostile_plants_startup",
        "hostile_duplicated_cells",
        "student001",
        "student002",
    }


def test_details_explain_outcomes(graded):
    _, rows, _ = graded
    assert "memory limit" in _row(rows, "hostile_memory_bomb", "alpha")["detail"]
    assert "ran longer than" in _row(rows, "hostile_infinite_loop", "alpha")["detail"]
    assert "isclose" in _row(rows, "hostile_monkeypatch", "alpha")["detail"]
    assert "malformed JSON" in _row(rows, "hostile_malformed_json", "alpha")["detail"]


def test_csv_has_per_exercise_columns(graded):
    _, rows, _ = graded
    assert {"test_double", "test_square"} <= set(rows[0])
    correct = _row(rows, "hostile_correct", "alpha")
    assert (correct["test_double"], correct["test_square"]) == ("2", "3")


def test_feedback_never_shows_hidden_tests(graded, env):
    feedback = list((env / "out" / "feedback").rglob("*.html"))
    assert len(feedback) >= 30
    for page in feedback:
        text = page.read_text()
        for snippet in HIDDEN_SNIPPETS:
            assert snippet not in text, f"{page} shows hidden test code {snippet!r}"
    stub = (env / "out/feedback/hostile_stub/ps1/alpha.html").read_text()
    assert "not attempted yet" in stub


def test_report_and_sandbox_statement(graded, env):
    summary, _, _ = graded
    report = (env / "out" / "report.html").read_text()
    assert (env / "out" / "report.png").stat().st_size > 10_000
    if SANDBOX:
        assert summary["sandbox"] == "on"
        assert "bubblewrap sandbox" in report
    else:
        assert "NO SANDBOX" in report


def test_gradebook_matches_csv(graded):
    from nbgrader.api import Gradebook

    summary, rows, _ = graded
    with Gradebook(summary.db_url) as gb:
        for row in rows:
            nb = gb.find_submission_notebook(row["notebook"], "ps1", row["student_id"])
            assert nb.score == pytest.approx(float(row["score"])), row
            assert nb.flagged == (row["status"] == "flagged")
            assert not any(g.needs_manual_grade for g in nb.grades), row


def test_rerun_skips_and_failed_regrade_leaves_no_stale_scores(graded, env):
    from nbgrader.api import Gradebook

    summary, rows, opts = graded
    again = grade(opts)
    assert again.graded_now == 0 and len(again.skipped) == len({r["student_id"] for r in rows})

    # hostile_correct now submits a broken file: the old 5 points must go.
    target = env / "cohort" / "hostile_correct" / "ps1" / "alpha.ipynb"
    saved = target.read_bytes()
    target.write_text("{ not json")
    try:
        third = grade(opts)
        assert third.graded_now == 1
        new_rows = list(csv.DictReader(open(env / "out" / "grades.csv")))
        row = _row(new_rows, "hostile_correct", "alpha")
        assert (row["status"], float(row["score"])) == ("invalid", 0)
        with Gradebook(third.db_url) as gb:
            assert gb.find_submission_notebook("alpha", "ps1", "hostile_correct").score == 0
    finally:
        target.write_bytes(saved)


def test_dask_workers_in_other_folders_get_the_bytes_not_paths(graded, env, tmp_path):
    """A cluster without a shared filesystem: workers run elsewhere and read no path."""
    from dask.distributed import LocalCluster

    _, rows, opts = graded
    cohort = env / "cohort_small"
    for student in ("student001", "student002", "hostile_stub", "hostile_partly_wrong"):
        shutil.copytree(env / "cohort" / student, cohort / student, dirs_exist_ok=True)
    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        local_directory=str(tmp_path / "elsewhere"),
    ) as cluster:
        dask_opts = Options(
            "ps1", cohort, env / "out_dask", cell_timeout=6, dask=cluster.scheduler_address
        )
        summary = grade(dask_opts)
    got = {(r.student_id, r.notebook): (r.score, r.status) for r in summary.results}
    assert len(got) == 8
    for (student, notebook), value in got.items():
        row = _row(rows, student, notebook)
        assert value == (float(row["score"]), row["status"])


def test_static_scan_flags_patches_but_not_honest_code():
    from nbformat.v4 import new_code_cell, new_notebook

    honest = new_notebook(
        cells=[
            new_code_cell("import numpy as np\nx = np.zeros(3)\nx[0] = 1\nplt_cfg = {'a': 1}"),
            new_code_cell("import matplotlib.pyplot as plt\nplt.rcParams['figure.dpi'] = 80"),
        ]
    )
    assert scan_for_tampering(honest) == []
    for code in [
        "import numpy as np\nnp.isclose = lambda *a, **k: True",
        "import numpy\nsetattr(numpy, 'allclose', lambda *a: True)",
        "import builtins\nbuiltins.abs = lambda x: 0",
        "import torch\ntorch.allclose = lambda *a, **k: True",
        "check = None",
        "import numpy.testing as npt\nnpt.assert_allclose = print",
        "import sys\nsys.modules['numpy'] = object()",
    ]:
        assert scan_for_tampering(new_notebook(cells=[new_code_cell(code)])), code


def test_spawned_kernels_give_the_same_verdicts(graded, env):
    """--no-prefork (a kernel started from scratch per notebook) agrees with forked kernels."""
    _, rows, _ = graded
    cohort = env / "cohort_spawned"
    students = ["student001", "hostile_partly_wrong", "hostile_os_exit", "hostile_memory_bomb"]
    if SANDBOX:
        students.append("hostile_kills_processes")
    for student in students:
        shutil.copytree(env / "cohort" / student, cohort / student)
    opts = Options(
        "ps1",
        cohort,
        env / "out_spawned",
        workers=2,
        cell_timeout=6,
        memory_mb=600,
        pids=128,
        db_url=f"sqlite:///{env / 'spawned.db'}",
        prefork=False,
    )
    summary = grade(opts)
    for res in summary.results:
        row = _row(rows, res.student_id, res.notebook)
        assert (res.score, res.status) == (float(row["score"]), row["status"]), res


@pytest.mark.parametrize("prefork", [True, False], ids=["forked", "spawned"])
def test_kernels_read_the_course_data_from_the_read_only_cache(env, prefork):
    """A notebook that loads a registered data set is graded with the data there."""
    from conftest import TEST_EXERCISES, use_checks

    folder = env / "course" / f"data_{prefork}"
    build_notebook(
        folder,
        "uses_data.ipynb",
        setup="from mlcourse import check\nfrom mlcourse.data import load_titanic\n"
        "train, _ = load_titanic()",
    )
    use_checks(
        TEST_EXERCISES,
        ["uses_data"],
        "from mlcourse.check import problem\n\n"
        '@problem("double", hints=("Two times.", "Multiply by two."))\n'
        "def _double(t):\n"
        '    t.equal(t.call("builtins:len", t.ref("train")), 891)\n'
        '    t.equal(t.call("double", 3), 6)\n',
    )
    cohort = env / f"cohort_data_{prefork}"
    make_cohort(folder.name, cohort, students=1)
    opts = Options(
        folder.name,
        cohort,
        env / f"out_data_{prefork}",
        workers=1,
        db_url=f"sqlite:///{env / f'data_{prefork}.db'}",
        prefork=prefork,
    )
    (res,) = grade(opts).results
    assert (res.status, res.score, res.max_score) == ("graded", 2, 2), res.detail


def test_grading_in_this_process_leaves_its_environment_alone(env):
    import os

    from mlcourse.grading import KERNEL_ENV

    before = {key: os.environ.get(key) for key in KERNEL_ENV}
    cohort = env / "cohort_serial"
    make_cohort("ps1", cohort, students=1)
    db = f"sqlite:///{env / 'serial.db'}"
    grade(Options("ps1", cohort, env / "out_serial", workers=1, db_url=db))
    assert {key: os.environ.get(key) for key in KERNEL_ENV} == before


# -- trust between students, and a run that never drops one ----------------------------


def test_an_honest_neighbour_in_the_same_slot_is_unaffected(env):
    """A student who plants startup files and read-only folders cannot touch the next one."""
    if not SANDBOX:
        pytest.skip("needs bubblewrap")
    cohort = env / "cohort_slot"
    for student in ("hostile_plants_startup", "hostile_stub", "student001"):
        shutil.copytree(env / "cohort" / student, cohort / student, dirs_exist_ok=True)
    # One worker: every student runs in the same slot, one after another.
    summary = grade(
        Options("ps1", cohort, env / "out_slot", workers=1, db_url=f"sqlite:///{env / 'slot.db'}")
    )
    scores = {(r.student_id, r.notebook): r.score for r in summary.results}
    assert scores[("student001", "alpha")] == 5 and scores[("student001", "beta")] == 2
    assert scores[("hostile_stub", "alpha")] == 0 and scores[("hostile_stub", "beta")] == 2
    assert summary.ok


def test_an_interrupted_run_leaves_no_student_out(env):
    """Stopped between students, the next run grades the rest; none is skipped with nothing."""
    from nbgrader.api import Gradebook

    cohort = env / "cohort_interrupted"
    make_cohort("ps1", cohort, students=3)
    db = f"sqlite:///{env / 'interrupted.db'}"
    opts = Options("ps1", cohort, env / "out_interrupted", workers=1, db_url=db)

    def stop_after_first(student, results):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        grade(opts, on_student=stop_after_first)
    summary = grade(opts)
    assert summary.graded_now == 2 and len(summary.skipped) == 1
    rows = list(csv.DictReader(open(env / "out_interrupted" / "grades.csv")))
    assert {r["student_id"] for r in rows} == {"student001", "student002", "student003"}
    assert len(rows) == 6 and all(r["status"] == "graded" for r in rows)
    with Gradebook(db) as gb:
        for row in rows:
            nb = gb.find_submission_notebook(row["notebook"], "ps1", row["student_id"])
            assert nb.score == pytest.approx(float(row["score"]))
            assert not any(g.needs_manual_grade for g in nb.grades)


def test_a_recording_failure_is_one_grader_error_per_notebook(env, monkeypatch):
    from mlcourse.grading import pipeline

    cohort = env / "cohort_record"
    make_cohort("ps1", cohort, students=1)
    real = pipeline._record_one

    def flaky(gb, res, plan, penalty):
        if res.notebook == "beta":
            raise RuntimeError("the database went away")
        return real(gb, res, plan, penalty)

    monkeypatch.setattr(pipeline, "_record_one", flaky)
    summary = grade(
        Options("ps1", cohort, env / "out_record", workers=1, db_url=f"sqlite:///{env / 'r.db'}")
    )
    assert len(summary.grader_errors) == 1
    (err,) = summary.grader_errors
    assert err.notebook == "beta" and err.status == "grader-error"
    assert "while recording" in err.detail
    monkeypatch.setattr(pipeline, "_record_one", real)
    again = grade(
        Options("ps1", cohort, env / "out_record", workers=1, db_url=f"sqlite:///{env / 'r.db'}")
    )
    assert again.graded_now == 1 and again.ok  # not skipped: it was never recorded


def test_a_grader_that_cannot_load_its_checks_stops_before_grading(env, tmp_path, monkeypatch):
    """No student is recorded as crashed when the grader's own package is unreachable."""
    from mlcourse.grading import GradingError

    cohort = env / "cohort_broken"
    make_cohort("ps1", cohort, students=1)
    import mlcourse.exercises

    monkeypatch.setenv("MLCOURSE_EXERCISES_PATH", str(tmp_path / "nowhere"))
    monkeypatch.setattr(mlcourse.exercises, "__path__", [mlcourse.exercises.__path__[0]])
    with pytest.raises(GradingError, match="cannot be imported inside the sandbox|cannot import"):
        grade(
            Options(
                "ps1", cohort, env / "out_broken", workers=1, sandbox="on" if SANDBOX else "off"
            )
        )
    assert not (env / "out_broken" / "grades.csv").exists()


def test_a_notebook_of_slow_cells_cannot_hold_a_worker(env):
    """Every cell just under the cell limit: the notebook limit still stops it, and says so."""
    import time

    from nbformat.v4 import new_code_cell

    cohort = env / "cohort_slow"
    make_cohort("ps1", cohort, students=1)
    target = cohort / "student001" / "ps1" / "alpha.ipynb"
    nb = nbformat.read(target, as_version=4)
    for _ in range(6):
        nb.cells.insert(2, new_code_cell("import time\ntime.sleep(1.7)"))
    nbformat.write(nb, target)
    started = time.perf_counter()
    summary = grade(
        Options(
            "ps1",
            cohort,
            env / "out_slow",
            workers=1,
            cell_timeout=2,
            notebook_timeout=5,
            db_url=f"sqlite:///{env / 'slow.db'}",
        )
    )
    took = time.perf_counter() - started
    alpha = next(r for r in summary.results if r.notebook == "alpha")
    assert alpha.status == "timeout" and "notebook ran longer than 5 s" in alpha.detail
    assert took < 40
    report = (env / "out_slow" / "report.html").read_text()
    assert "notebook ran longer than 5 s" in report


# -- the instructor's input and outputs ------------------------------------------------------


def test_wrong_layout_and_empty_folder_stop_before_grading(env, tmp_path):
    from click.testing import CliRunner

    from mlcourse.cli import main

    flat = tmp_path / "flat"
    (flat / "alice").mkdir(parents=True)
    (flat / "alice" / "alpha.ipynb").write_text("{}")
    runner = CliRunner()
    result = runner.invoke(
        main, ["grade", "ps1", "--submissions", str(flat), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2, result.output
    assert (
        "alice/alpha.ipynb" in result.output
        and "<student>/<ASSIGNMENT>/<notebook>.ipynb" in result.output
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(
        main, ["grade", "ps1", "--submissions", str(empty), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2 and "it is empty" in result.output
    assert not (tmp_path / "o" / "report.html").exists()


def test_exports_late_penalty_and_report_links(env):
    from datetime import UTC, datetime

    cohort = env / "cohort_late"
    make_cohort("ps1", cohort, students=2)
    (cohort / "student001" / "ps1" / "timestamp.txt").write_text("2026-11-03 10:00:00.000000 UTC")
    (cohort / "student002" / "ps1" / "timestamp.txt").write_text("2026-11-01 09:00:00.000000 UTC")
    opts = Options(
        "ps1",
        cohort,
        env / "out_late",
        workers=1,
        db_url=f"sqlite:///{env / 'late.db'}",
        due=datetime(2026, 11, 1, 23, 59, tzinfo=UTC),
        late_penalty=0.1,
        exports=("canvas", "gradescope", "csv"),
    )
    summary = grade(opts)
    late = {(r.student_id, r.notebook): r for r in summary.late}
    alpha = late[("student001", "alpha")]
    assert alpha.late_days == 2 and alpha.score == pytest.approx(alpha.raw_score * 0.8)
    assert ("student002", "alpha") not in late
    canvas = list(csv.reader(open(env / "out_late" / "export-canvas.csv")))
    assert canvas[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert canvas[1][0].strip() == "Points Possible" and "ps1 alpha: double" in canvas[0]
    gradescope = list(csv.DictReader(open(env / "out_late" / "export-gradescope.csv")))
    assert {r["SID"] for r in gradescope} == {"student001", "student002"}
    assert "alpha: square" in gradescope[0]
    report = (env / "out_late" / "report.html").read_text()
    assert "feedback/student001/ps1/alpha.html" in report and "Late submissions" in report
