"""Binder builds the course: checked offline with repo2docker's plan (``--no-build``).

What Binder does with this repository: repo2docker reads ``environment.yml``
(conda-forge, Python 3.11, CPU torch) into an image layer that does not depend
on the rest of the repository, so it stays cached across commits; then copies
the repository and runs ``postBuild``, which installs the course package
without dependencies and makes the learner's workspace. The README's badge
opens the start page there. mybinder.org gives 1-2 GB of memory: the gate's
budget (1.5 GB a notebook, ``mlcourse check``) keeps every notebook inside it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import yaml

from conftest import REPO
from mlcourse import gate
from mlcourse.cli import main

BINDER_MEMORY_MB = 1536  # what a notebook may use on mybinder.org (1-2 GB per user)


def _env() -> dict:
    return yaml.safe_load((REPO / "environment.yml").read_text(encoding="utf-8"))


def test_environment_file_parses_and_pins_python_311():
    env = _env()
    assert env["channels"] == ["conda-forge"]
    deps = env["dependencies"]
    assert "python=3.11" in deps
    assert any(str(d).startswith("pytorch-cpu") for d in deps), "the CPU build of torch"
    pip = [item for d in deps if isinstance(d, dict) for item in d.get("pip", [])]
    local = [item for item in pip if item.startswith((".", "-e", "/", "file:"))]
    assert not local, (
        f"local paths in the pip list ({local}) make repo2docker install the whole "
        "environment after copying the repository: every commit would rebuild torch. "
        "Install the course in postBuild instead."
    )


def test_no_binder_folder_hides_the_root_files():
    for folder in ("binder", ".binder"):
        assert not (REPO / folder).exists(), (
            f"{folder}/ makes repo2docker ignore environment.yml and postBuild at the root"
        )


def test_postbuild_installs_the_course_and_its_workspace():
    post = REPO / "postBuild"
    assert post.is_file()
    assert os.access(post, os.X_OK), "postBuild must be executable"
    lines = [
        line.strip()
        for line in post.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "set -e", "postBuild must stop at the first failing command"
    assert "pip install --no-deps -e ." in lines, "no dependencies: they come from the env file"
    assert "mlcourse start --sync-only --workspace mlcourse-work" in lines


def _plan() -> tuple[str, str]:
    pytest.importorskip(
        "repo2docker", reason="repo2docker is missing: pip install jupyter-repo2docker"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "repo2docker",
            "--no-build",
            "--debug",
            "--user-id",
            "1000",
            "--user-name",
            "jovyan",
            str(REPO),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout, result.stderr


def test_repo2docker_plan_builds_python_311_with_the_course_installed():
    dockerfile, log = _plan()
    from escapism import escape  # a dependency of repo2docker

    assert "Building conda environment for python=3.11" in log + dockerfile
    # repo2docker's own base environment for Python 3.11 (file names escaped in the plan)
    lock = escape("environment.py-3.11-linux-64.lock", escape_char="-")
    assert lock.lower() in dockerfile.lower(), "the base environment is not Python 3.11"

    env_copy = dockerfile.index("COPY --chown=1000:1000 src/environment.yml ${REPO_DIR}/")
    env_install = dockerfile.index('env update -p ${NB_PYTHON_PREFIX} --file "environment.yml"')
    repo_copy = dockerfile.index("COPY --chown=1000:1000 src/ ${REPO_DIR}/")
    post_build = dockerfile.index("RUN ./postBuild")
    # The environment (torch) is installed from environment.yml alone, before the
    # repository is copied in: a commit does not invalidate that layer.
    assert env_copy < env_install < repo_copy < post_build
    assert "requirements.txt" not in dockerfile
    assert "CMD" in dockerfile


def test_readme_badge_opens_the_start_page():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(
        r"\[!\[Binder\]\(https://mybinder\.org/badge_logo\.svg\)\]"
        r"\(https://mybinder\.org/v2/gh/[\w.-]+/[\w.-]+/HEAD\?urlpath=lab/tree/(\S+?\.ipynb)\)",
        readme,
    )
    assert match, "README needs the Binder launch badge"
    target = match.group(1)
    # postBuild makes the workspace mlcourse-work/ from course/ (student versions)
    source = target.removeprefix("mlcourse-work/")
    assert (REPO / "course" / source).exists() if target != source else (REPO / target).exists()
    assert source.endswith("00_start_here.ipynb")


def test_notebook_memory_budget_fits_binder():
    """`mlcourse check` (run over the whole course in tests/test_course.py) fails any
    notebook whose peak memory exceeds its budget: that budget must fit Binder."""
    assert gate.BUDGET_MB <= BINDER_MEMORY_MB
    budget = next(p for p in main.commands["check"].params if p.name == "budget_mb")
    assert budget.default <= BINDER_MEMORY_MB
    course_test = (REPO / "tests" / "test_course.py").read_text(encoding="utf-8")
    assert '"check"' in course_test and 'str(REPO / "course")' in course_test
    assert "--budget-mb" not in course_test, "the course gate must run with the default budget"
