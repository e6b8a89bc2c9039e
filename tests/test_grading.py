"""`mlcourse grade` on a hostile cohort: every case gets the right verdict."""

from __future__ import annotations

import csv
import shutil

import pytest

from conftest import TESTS, build_course, build_notebook
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
}
SANDBOX_ONLY = ("hostile_reads_course", "hostile_network", "hostile_kills_processes")
HIDDEN_SNIPPETS = ["ex.call(double, -7)", "ex.call(square, -4)", "hidden=True", "BEGIN HIDDEN"]


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
    assert (float(beta["score"]), beta["status"]) == (2, "graded"), beta


def test_full_marks_only_for_honest_correct_work(graded):
    _, rows, _ = graded
    full = {
        r["student_id"]
        for r in rows
        if r["notebook"] == "alpha" and float(r["score"]) == float(r["max_score"])
    }
    assert full <= {"hostile_correct", "hostile_huge_output", "student001", "student002"}


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
    with Gradebook(summary["db_url"]) as gb:
        for row in rows:
            nb = gb.find_submission_notebook(row["notebook"], "ps1", row["student_id"])
            assert nb.score == pytest.approx(float(row["score"])), row
            assert nb.flagged == (row["status"] == "flagged")


def test_rerun_skips_and_failed_regrade_leaves_no_stale_scores(graded, env):
    from nbgrader.api import Gradebook

    summary, rows, opts = graded
    again = grade(opts)
    assert again["graded_now"] == 0 and len(again["skipped"]) == len(
        {r["student_id"] for r in rows}
    )

    # hostile_correct now submits a broken file: the old 5 points must go.
    target = env / "cohort" / "hostile_correct" / "ps1" / "alpha.ipynb"
    saved = target.read_bytes()
    target.write_text("{ not json")
    try:
        third = grade(opts)
        assert third["graded_now"] == 1
        new_rows = list(csv.DictReader(open(env / "out" / "grades.csv")))
        row = _row(new_rows, "hostile_correct", "alpha")
        assert (row["status"], float(row["score"])) == ("invalid", 0)
        with Gradebook(third["db_url"]) as gb:
            assert gb.find_submission_notebook("alpha", "ps1", "hostile_correct").score == 0
    finally:
        target.write_bytes(saved)


def test_dask_local_cluster_gives_same_results(graded, env):
    from dask.distributed import LocalCluster

    _, rows, opts = graded
    cohort = env / "cohort_small"
    for student in ("student001", "student002", "hostile_stub", "hostile_partly_wrong"):
        shutil.copytree(env / "cohort" / student, cohort / student)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True) as cluster:
        dask_opts = Options(
            "ps1", cohort, env / "out_dask", cell_timeout=6, dask=cluster.scheduler_address
        )
        summary = grade(dask_opts)
    got = {(r.student_id, r.notebook): (r.score, r.status) for r in summary["results"]}
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
    for res in summary["results"]:
        row = _row(rows, res.student_id, res.notebook)
        assert (res.score, res.status) == (float(row["score"]), row["status"]), res


@pytest.mark.parametrize("prefork", [True, False], ids=["forked", "spawned"])
def test_kernels_read_the_course_data_from_the_read_only_cache(env, prefork):
    """A notebook that loads a registered data set is graded with the data there."""
    folder = env / "course" / f"data_{prefork}"
    build_notebook(
        folder,
        "uses_data.ipynb",
        setup="from mlcourse import check\nfrom mlcourse.data import load_titanic\n"
        "train, _ = load_titanic()",
        tests=TESTS.replace(
            "    ### BEGIN HIDDEN", "    ex.equal(len(train), 891)\n    ### BEGIN HIDDEN"
        ),
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
    (res,) = grade(opts)["results"]
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
