"""The command line: --help everywhere, clear errors, and a real JupyterLab."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from mlcourse.cli import main

COMMANDS = [
    [],
    ["start"],
    ["release"],
    ["check"],
    ["data"],
    ["data", "list"],
    ["data", "fetch"],
    ["data", "verify"],
    ["author"],
    ["grade"],
    ["demo-cohort"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a) or "mlcourse")
def test_help_everywhere(args):
    result = CliRunner().invoke(main, [*args, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_check_missing_path_is_a_usage_error():
    result = CliRunner().invoke(main, ["check", "no/such/notebook.ipynb"])
    assert result.exit_code == 2
    assert "no such file or folder" in result.output


def test_check_runs_the_gate_and_prints_the_table(tiny):
    first = CliRunner().invoke(main, ["check", str(tiny), "--jobs", "1"])
    assert first.exit_code == 1 and "out of date" in first.output  # no record yet
    result = CliRunner().invoke(
        main, ["check", str(tiny), "--jobs", "1", "--mutants", "all", "--record"]
    )
    assert result.exit_code == 0, result.output
    for column in ("status", "exercises", "mistakes caught", "mutants", "kill rate", "leaks"):
        assert column in result.output
    assert "1/1 notebooks pass" in result.output
    again = CliRunner().invoke(main, ["check", str(tiny), "--jobs", "1"])
    assert again.exit_code == 0, again.output


def test_check_exits_non_zero_on_failure(tmp_path):
    from conftest import build_notebook

    path = build_notebook(tmp_path, mistakes=None)  # an exercise with no mistake fixture
    result = CliRunner().invoke(main, ["check", str(path), "--mutants", "off"])
    assert result.exit_code == 1
    assert "FAIL" in result.output


def test_data_list():
    result = CliRunner().invoke(main, ["data", "list"])
    assert result.exit_code == 0
    for name in ("housing", "titanic", "sentiment"):
        assert name in result.output


def test_data_fetch_unknown_name():
    result = CliRunner().invoke(main, ["data", "fetch", "nope"])
    assert result.exit_code == 1
    assert "housing" in result.output


def test_data_fetch_corrupt_mirror_is_clear_and_leaves_nothing(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "titanic.tgz").write_bytes(b"\x1f\x8b not really a tarball")
    cache = tmp_path / "cache"
    monkeypatch.setenv("MLCOURSE_DATA_MIRROR", str(mirror))
    monkeypatch.setenv("MLCOURSE_CACHE", str(cache))
    result = CliRunner().invoke(main, ["data", "fetch", "titanic"])
    assert result.exit_code == 1
    assert "titanic.tgz" in result.output
    assert not list(cache.rglob("*")) if cache.exists() else True


def test_start_sync_only_reports_kept_notebooks(tmp_path):
    ws = tmp_path / "ws"
    runner = CliRunner()
    first = runner.invoke(main, ["start", "--workspace", str(ws), "--sync-only"])
    assert first.exit_code == 0, first.output
    assert "added" in first.output
    nb = ws / "01_foundations" / "linear_algebra.ipynb"
    nb.write_text(nb.read_text().replace("Linear algebra", "My linear algebra"))
    second = runner.invoke(main, ["start", "--workspace", str(ws), "--sync-only"])
    assert "kept" in second.output and "linear_algebra.ipynb" in second.output
    assert "My linear algebra" in nb.read_text()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_start_serves_the_workspace_in_jupyterlab(tmp_path):
    """README command (1): a real JupyterLab lists the student notebooks."""
    port, token = _free_port(), "mlcourse-test-token"
    env = dict(os.environ)
    env.update(
        JUPYTER_TOKEN=token,
        JUPYTER_CONFIG_DIR=str(tmp_path / "jcfg"),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "jws"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "jrt"),
    )
    ws = tmp_path / "ws"
    cmd = [sys.executable, "-m", "mlcourse.cli", "start", "--workspace", str(ws)]
    proc = subprocess.Popen(
        [*cmd, "--no-browser", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        listing = None
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"mlcourse start exited: {proc.stdout.read().decode()[-2000:]}")
            try:
                r = httpx.get(
                    f"http://127.0.0.1:{port}/api/contents/01_foundations",
                    params={"token": token},
                    timeout=2,
                )
                if r.status_code == 200:
                    listing = r.json()
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        assert listing is not None, "JupyterLab did not answer within 90 s"
        names = {item["name"] for item in listing["content"]}
        assert "linear_algebra.ipynb" in names
        assert Path(ws, "01_foundations", "linear_algebra.ipynb").exists()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
