"""`mlcourse grade --db`: a real PostgreSQL gradebook, and clear errors for bad URLs."""

from __future__ import annotations

import csv
import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import build_course
from mlcourse.cli import main
from mlcourse.cohort import make_cohort
from mlcourse.grading import GradingError, Options, check_gradebook_url, grade


def _pg_bin() -> Path | None:
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))  # Debian's layout
    if versions:
        return Path(versions[-1]).parent
    found = shutil.which("pg_ctl")
    return Path(found).resolve().parent if found else None


@pytest.fixture(scope="module")
def postgres():
    """A throwaway PostgreSQL server on a unix socket; yields a SQLAlchemy URL."""
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="mlcourse-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(root, "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    data, sock = root / "data", root / "sock"

    def run(*cmd: str) -> None:
        subprocess.run([*prefix, *cmd], check=True, capture_output=True, timeout=120)

    run("mkdir", str(sock))
    run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust")
    opts = f"-k {sock} -c listen_addresses='' -p 5499"
    run(str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-w", "-l", str(root / "log"), "start")
    try:
        run(str(bindir / "createdb"), "-h", str(sock), "-p", "5499", "-U", "postgres", "gradebook")
        yield f"postgresql://postgres@/gradebook?host={sock}&port=5499"
    finally:
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def course(tmp_path, monkeypatch):
    monkeypatch.setenv("MLCOURSE_COURSE_DIR", str(build_course(tmp_path)))
    monkeypatch.setenv("MLCOURSE_WORK_DIR", str(tmp_path / "work"))
    return tmp_path


def test_grading_into_postgresql_and_regrading_leaves_no_stale_scores(postgres, course):
    from nbgrader.api import Gradebook

    cohort = course / "cohort"
    make_cohort("ps1", cohort, students=3)
    opts = Options("ps1", cohort, course / "out", workers=2, cell_timeout=10, db_url=postgres)
    summary = grade(opts)
    assert summary.ok
    rows = list(csv.DictReader(open(course / "out" / "grades.csv")))
    assert len(rows) == 6 and {r["status"] for r in rows} == {"graded"}
    with Gradebook(postgres) as gb:
        for row in rows:
            nb = gb.find_submission_notebook(row["notebook"], "ps1", row["student_id"])
            assert nb.score == pytest.approx(float(row["score"])), row

    # student001 (all correct) re-submits a broken notebook: its points must go.
    target = cohort / "student001" / "ps1" / "alpha.ipynb"
    target.write_text("{ not json")
    again = grade(opts)
    assert again["graded_now"] == 1
    with Gradebook(postgres) as gb:
        assert gb.find_submission_notebook("alpha", "ps1", "student001").score == 0
        assert gb.find_submission_notebook("beta", "ps1", "student001").score == 2


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "is not a SQLAlchemy database URL"),
        ("nosuchdb://x/y", "is not a SQLAlchemy database URL"),
        ("sqlite:////nonexistent/folder/gradebook.db", "cannot open the gradebook"),
        ("postgresql://nobody@/x?host=/nonexistent", "cannot open the gradebook"),
    ],
)
def test_bad_gradebook_urls_get_a_clear_error(url, message):
    with pytest.raises(GradingError, match=message):
        check_gradebook_url(url)


def test_cli_reports_a_bad_gradebook_url_as_a_usage_error(course):
    (course / "subs").mkdir()
    result = CliRunner().invoke(
        main, ["grade", "ps1", "--submissions", str(course / "subs"), "--db", "nosuchdb://x"]
    )
    assert result.exit_code == 2, result.output
    assert "is not a SQLAlchemy database URL" in result.output
    assert "Traceback" not in result.output
