"""The whole course passes the gate: README's promise, proven in CI."""

import os
import subprocess
import sys

from conftest import REPO
from mlcourse import paths


def test_course_layout():
    assert paths.assignments() == [
        "01_foundations",
        "02_frameworks",
        "03_specialize",
        "04_job_search",
    ]
    assert (REPO / "autograder" / "nbgrader_config.py").exists()


def test_every_course_notebook_passes_the_gate():
    """`mlcourse check` over every source notebook: solution passes, stub fails,
    every mistake is caught, nothing leaks, budgets hold."""
    result = subprocess.run(
        # One notebook at a time: each kernel gets both cores, as a learner would.
        [sys.executable, "-m", "mlcourse.cli", "check", "--jobs", "1", str(REPO / "course")],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "220"},  # a wide table: whole notebook names
        timeout=3600,  # the whole course, mutants included, on 2 cores: about 25 min
    )
    print(result.stdout)
    # The gate's table (seconds and MB per notebook) is kept for the maintainers.
    artifacts = REPO / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "gate.txt").write_text(result.stdout + result.stderr, encoding="utf-8")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert "mistakes caught" in result.stdout


def test_problem_names_are_unique_across_the_course():
    """``check("name")`` and the drill find a problem by its name: two notebooks must
    not both define one."""
    from collections import defaultdict

    from mlcourse.check.problems import names_in_source

    where = defaultdict(list)
    for module in sorted((REPO / "mlcourse" / "exercises").glob("*.py")):
        for name in names_in_source(module.read_text(encoding="utf-8")):
            where[name].append(module.stem)
    twice = {name: stems for name, stems in where.items() if len(stems) > 1}
    assert not twice, f"problem names defined in more than one checks module: {twice}"
