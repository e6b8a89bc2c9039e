"""Hygiene: ruff (code and notebooks) is clean, and no notebook carries outputs."""

import subprocess
import sys
from pathlib import Path

from conftest import REPO


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=REPO, capture_output=True, text=True)


def test_ruff_check():
    result = _run(sys.executable, "-m", "ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format():
    result = _run(sys.executable, "-m", "ruff", "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_notebook_outputs():
    notebooks = sorted(str(p) for p in Path(REPO, "course").rglob("*.ipynb"))
    assert notebooks
    nbstripout = Path(sys.executable).parent / "nbstripout"
    result = _run(str(nbstripout), "--keep-id", "--verify", *notebooks)
    assert result.returncode == 0, f"notebooks with outputs: {result.stdout}{result.stderr}"
