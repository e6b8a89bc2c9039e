"""`mlcourse progress` and the start page's live view reflect the checks a learner ran."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell

from conftest import REPO, SQUARE, SQUARE_TESTS, build_notebook, nbgrader
from mlcourse import check
from mlcourse.progress import (
    find_workspace,
    graded_exercises,
    plot_progress,
    progress,
    progress_report,
    read_log,
)
from mlcourse.progress.live import NOT_IN_WORKSPACE
from mlcourse.workspace import student_files, sync

START_PAGE = REPO / "course" / "00_start_here.ipynb"


def _two_exercises(path: Path) -> None:
    """Add the `square` exercise to a conftest notebook (which has `double`)."""
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(new_code_cell(SQUARE, metadata=nbgrader("square", solution=True)))
    nb.cells.append(
        new_code_cell(
            SQUARE_TESTS, metadata=nbgrader("test_square", grade=True, points=3, locked=True)
        )
    )
    nbformat.write(nb, path)


@pytest.fixture
def course(tmp_path) -> Path:
    """01_foundations/{alpha (double, square), beta (double)}, 02_frameworks/gamma (double)."""
    root = tmp_path / "course"
    _two_exercises(build_notebook(root / "01_foundations", "alpha.ipynb"))
    build_notebook(root / "01_foundations", "beta.ipynb")
    build_notebook(root / "02_frameworks", "gamma.ipynb")
    return root


@pytest.fixture
def ws(tmp_path, course) -> Path:
    workspace = tmp_path / "ws"
    sync(workspace, student_files(course))
    return workspace


def _log(ws: Path, *entries: dict) -> None:
    with open(ws / ".mlcourse" / "progress.jsonl", "a", encoding="utf-8") as handle:
        for entry in entries:
            handle.write(json.dumps(entry) + "\n")


def _entry(exercise, outcome, *, folder="01_foundations", notebook="", at=None) -> dict:
    return {
        "time": time.time() if at is None else at,
        "folder": folder,
        "notebook": notebook,
        "exercise": exercise,
        "outcome": outcome,
    }


def test_graded_exercises_in_notebook_order(course):
    assert graded_exercises(course / "01_foundations" / "alpha.ipynb") == ["double", "square"]
    assert graded_exercises(course / "01_foundations" / "beta.ipynb") == ["double"]
    assert graded_exercises(START_PAGE) == []


def test_graded_exercises_of_a_broken_notebook_is_none(tmp_path):
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{not json")
    assert graded_exercises(bad) is None


def test_fresh_workspace_has_totals_and_nothing_passed(ws):
    report = progress_report(ws)
    assert (report.passed, report.total) == (0, 4)
    phases = {p.folder: p for p in report.phases}
    assert list(phases) == ["01_foundations", "02_frameworks", "03_specialize", "04_job_search"]
    assert (phases["01_foundations"].passed, phases["01_foundations"].total) == (0, 3)
    assert phases["01_foundations"].months == (1, 3)
    assert phases["04_job_search"].notebooks == []
    alpha = report.notebook("01_foundations/alpha.ipynb")
    assert alpha.exercises == ["double", "square"]
    assert alpha.last_worked is None  # written by the course, never touched
    assert report.next_exercise()[1] == "double"


def test_records_are_mapped_by_notebook_then_by_folder(ws):
    t0 = time.time() - 3600
    _log(
        ws,
        # JupyterLab named the notebook
        _entry("double", "correct", notebook="01_foundations/alpha.ipynb", at=t0),
        # no notebook: `square` exists only in alpha within 01_foundations
        _entry("square", "correct", at=t0 + 1),
        # no notebook and `double` is in alpha and beta: ambiguous, not credited
        _entry("double", "correct", at=t0 + 2),
        # in another folder, unique there
        _entry("double", "incorrect", folder="02_frameworks", at=t0 + 3),
    )
    report = progress_report(ws)
    alpha = report.notebook("01_foundations/alpha.ipynb")
    assert alpha.passed == ["double", "square"]
    assert alpha.last_check == pytest.approx(t0 + 1)
    assert report.notebook("beta").passed == []
    gamma = report.notebook("02_frameworks/gamma.ipynb")
    assert gamma.passed == [] and gamma.failing == ["double"]
    assert gamma.last_worked == pytest.approx(t0 + 3)
    assert report.unmatched == 1
    assert (report.passed, report.total) == (2, 4)
    assert report.first_check == pytest.approx(t0)


def test_latest_outcome_wins(ws):
    t0 = time.time() - 100
    nb = "01_foundations/alpha.ipynb"
    _log(
        ws,
        _entry("square", "not_attempted", notebook=nb, at=t0),
        _entry("square", "correct", notebook=nb, at=t0 + 1),
        _entry("square", "incorrect", notebook=nb, at=t0 + 2),  # broke it again
        _entry("double", "raised", notebook=nb, at=t0 + 3),
        _entry("double", "correct", notebook=nb, at=t0 + 4),
    )
    alpha = progress_report(ws).notebook(nb)
    assert alpha.passed == ["double"]
    assert alpha.latest == {"square": "incorrect", "double": "correct"}


def test_a_copy_of_a_notebook_credits_the_course_notebook(ws):
    _log(ws, _entry("square", "correct", notebook="01_foundations/alpha-Copy1.ipynb"))
    report = progress_report(ws)
    assert report.notebook("alpha").passed == ["square"]
    assert report.unmatched == 0


def test_damaged_log_lines_are_skipped(ws):
    path = ws / ".mlcourse" / "progress.jsonl"
    good = _entry("square", "correct", notebook="01_foundations/alpha.ipynb")
    path.write_text(
        "{torn line\n"
        + json.dumps({"time": "soon", "exercise": "x", "outcome": "correct"})
        + "\n"
        + json.dumps(dict(good, outcome="partying"))
        + "\n"
        + json.dumps(good)
        + "\n"
    )
    assert len(read_log(ws)) == 1
    assert progress_report(ws).notebook("alpha").passed == ["square"]


def test_an_edited_notebook_counts_as_worked_on(ws):
    target = ws / "01_foundations" / "beta.ipynb"
    target.write_text(target.read_text().replace("Tiny", "My tiny"))
    saved = time.time() - 60
    os.utime(target, (saved, saved))
    beta = progress_report(ws).notebook("beta")
    assert beta.last_worked == pytest.approx(saved)


def test_real_checks_in_the_workspace_are_reflected(ws, monkeypatch):
    """What a kernel does: run checks with its cwd in the notebook's folder."""
    folder = ws / "01_foundations"
    monkeypatch.chdir(folder)
    monkeypatch.setenv("JPY_SESSION_NAME", str(folder / "alpha.ipynb"))
    from conftest import CHECKS, SQUARE_CHECKS, TEST_EXERCISES, use_checks

    use_checks(TEST_EXERCISES, ["alpha"], CHECKS + SQUARE_CHECKS)

    def stub(x):
        raise NotImplementedError()

    with pytest.raises(check.NotAttempted):
        check.run("square", {"square": stub})
    with pytest.raises(check.Incorrect):
        check.run("square", {"square": lambda x: 2 * x})
    report = progress_report(ws)
    alpha = report.notebook("alpha")
    assert alpha.passed == [] and alpha.latest == {"square": "incorrect"}
    check.run("square", {"square": lambda x: x * x})
    check.hint("square")
    report = progress_report(ws)
    assert report.notebook("alpha").passed == ["square"]
    assert report.notebook("alpha").last_worked is not None
    assert (report.passed, report.total) == (1, 4)
    assert [r["notebook"] for r in read_log(ws)] == ["01_foundations/alpha.ipynb"] * 3


def test_find_workspace_walks_up(ws, tmp_path):
    assert find_workspace(ws / "01_foundations") == ws.resolve()
    assert find_workspace(ws) == ws.resolve()
    assert find_workspace(tmp_path) is None


def test_progress_report_outside_a_workspace_raises(tmp_path):
    with pytest.raises(FileNotFoundError, match="mlcourse start"):
        progress_report(tmp_path)


def test_plot_with_and_without_a_report(ws, tmp_path):
    _log(ws, _entry("square", "correct", notebook="01_foundations/alpha.ipynb"))
    fig = plot_progress(progress_report(ws))
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "1/3 (33%)" in texts and "no notebooks yet" in texts
    assert "1 of 4" in fig.axes[0].get_title()
    fig.savefig(tmp_path / "p.png")
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"
    plan = plot_progress()
    assert plan.axes[0].get_title() == "The 12-month action plan"
    assert [t.get_text() for t in plan.axes[0].get_yticklabels()] == [
        "Job search",
        "Specialization",
        "Frameworks",
        "Foundations",
    ]


# -- the command ---------------------------------------------------------------


def test_cli_prints_the_table_and_writes_the_plot(ws, tmp_path):
    _log(ws, _entry("square", "correct", notebook="01_foundations/alpha.ipynb"))
    plot = tmp_path / "out" / "progress.png"
    result = CliRunner().invoke(progress, ["--workspace", str(ws), "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "1 of 4 exercises passed" in out
    assert re.search(r"Foundations \(01_foundations\).*1-3.*1/3", out)
    assert re.search(r"alpha .*1/2 .*\d{4}-\d\d-\d\d \d\d:\d\d \(just now\)", out)
    assert re.search(r"beta .*0/1 .*not yet", out)
    assert "no notebooks yet" in out
    assert "Next up: 01_foundations/alpha.ipynb, exercise double." in out
    assert plot.read_bytes()[:4] == b"\x89PNG"


def test_cli_default_plot_goes_into_the_workspace(ws, monkeypatch):
    monkeypatch.chdir(ws / "02_frameworks")  # found by walking up
    result = CliRunner().invoke(progress, [])
    assert result.exit_code == 0, result.output
    assert "0 of 4 exercises passed" in result.output
    assert "No checks recorded yet" in result.output
    assert (ws / "progress.png").exists()


def test_cli_json(ws):
    _log(ws, _entry("double", "correct", folder="02_frameworks"))
    result = CliRunner().invoke(progress, ["--workspace", str(ws), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["passed"], data["total"]) == (1, 4)
    frameworks = data["phases"][1]
    assert frameworks["notebooks"][0]["exercises"] == {"double": "correct"}


def test_cli_without_a_workspace_says_what_to_do(tmp_path):
    result = CliRunner().invoke(progress, ["--workspace", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "mlcourse start" in result.output


# -- the start page ----------------------------------------------------------------


def _markdown_links(nb) -> set[str]:
    links = set()
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            links.update(re.findall(r"\]\(([^)\s]+\.ipynb)\)", cell.source))
    return links


def test_start_page_is_ungraded_and_links_every_phase_notebook():
    nb = nbformat.read(START_PAGE, as_version=4)
    assert not any("nbgrader" in cell.metadata for cell in nb.cells)
    course = REPO / "course"
    phase_notebooks = {
        p.relative_to(course).as_posix()
        for p in course.glob("[0-9][0-9]_*/*.ipynb")
        if ".ipynb_checkpoints" not in p.parts
    }
    links = _markdown_links(nb)
    assert phase_notebooks <= links, f"not linked: {sorted(phase_notebooks - links)}"
    assert all((course / link).exists() for link in links), "a link points nowhere"
    text = "\n".join(cell.source for cell in nb.cells)
    for needed in ("12-month", "Hidden tests", "hint", "solutions", "progress.show()"):
        assert needed in text


def _run_start_page(cwd: Path) -> str:
    nb = nbformat.read(START_PAGE, as_version=4)
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": cwd}}
    ).execute()
    texts = []
    images = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                pytest.fail(f"start page raised {out['ename']}: {out['evalue']}")
            texts.append(out.get("text", ""))
            data = out.get("data", {})
            texts.append(data.get("text/plain", "") + data.get("text/html", ""))
            images += "image/png" in data
    assert images == 2, "the plan's timeline and the progress plot"
    return "\n".join(texts)


def test_start_page_live_view_in_and_out_of_a_workspace(ws, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    text = _run_start_page(outside)
    assert NOT_IN_WORKSPACE[:60] in text

    shutil.copy(START_PAGE, ws / START_PAGE.name)
    _log(ws, _entry("square", "correct", notebook="01_foundations/alpha.ipynb"))
    text = _run_start_page(ws)
    assert "1 of 4 exercises passed" in text
    assert re.search(r"alpha\W+1/2", text)


def test_every_course_notebook_is_listed_in_its_phase_readme_in_plan_order():
    from mlcourse import paths

    course = REPO / "course"
    for phase in sorted(p for p in course.iterdir() if p.is_dir()):
        readme = (phase / "README.md").read_text()
        for nb in phase.glob("*.ipynb"):
            assert f"`{nb.name}`" in readme, f"{phase.name}/README.md does not list {nb.name}"
    rels = [p.relative_to(course).as_posix() for p in course.rglob("*.ipynb")]
    ordered = sorted(rels, key=paths.plan_key)
    assert ordered[0] == "00_start_here.ipynb"
    assert ordered[1:3] == [
        "01_foundations/python_sql.ipynb",
        "01_foundations/linear_algebra.ipynb",
    ]
    last_phase = sorted(p.name for p in course.iterdir() if p.is_dir())[-1]
    listed = re.findall(r"`([\w.-]+\.ipynb)`", (course / last_phase / "README.md").read_text())
    assert ordered[-1] == f"{last_phase}/{listed[-1]}"
