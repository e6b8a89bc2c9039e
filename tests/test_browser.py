"""The learner's path in a real browser: JupyterLab, driven by Playwright in headless Chromium.

``mlcourse start`` on a fresh workspace; the linear algebra notebook; its first
exercise (matmul) not attempted, then a classic wrong answer (the transpose)
with its targeted nudge, then a correct answer; the start page showing the
progress; then a course update after JupyterLab saved the answer, merged by
``mlcourse update`` (the answer kept, the new text shown). A screenshot of
every step goes to ``test-artifacts/browser/``.

Needs Debian's Chromium (``apt-get install chromium``) and ``pip install
playwright``; never ``playwright install``. Select with ``pytest -m browser``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

from conftest import REPO
from mlcourse.notebook import is_test

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = REPO / "test-artifacts" / "browser"
TOKEN = "mlcourse-browser-test"
IDLE = "Python 3 (ipykernel) | Idle"
TIMEOUT_MS = 60_000

WRONG_MATMUL = '''def matmul(A, B):
    """Return the matrix product A @ B, computed with explicit loops."""
    m, n = A.shape
    n2, p = B.shape
    if n != n2:
        raise ValueError(f"inner sizes differ: {A.shape} and {B.shape}")
    C = np.zeros((p, m))
    for i in range(m):
        for j in range(p):
            C[j, i] = sum(A[i, k] * B[k, j] for k in range(n))
    return C
'''
RIGHT_MATMUL = WRONG_MATMUL.replace("np.zeros((p, m))", "np.zeros((m, p))").replace(
    "C[j, i] =", "C[i, j] ="
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _jupyter_env(tmp: Path) -> dict[str, str]:
    """Fresh Jupyter config, settings and workspaces: no news pop-up, no update check,
    and every cell rendered (no windowing), so cells can be found by position."""
    config = tmp / "jupyter-config"
    settings = tmp / "lab-settings"
    for folder in (config, settings, tmp / "lab-workspaces", tmp / "runtime"):
        folder.mkdir(parents=True, exist_ok=True)
    (config / "jupyter_server_config.json").write_text(
        json.dumps(
            {
                "ServerApp": {"ip": "127.0.0.1"},
                "LabApp": {
                    "news_url": None,
                    "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
                },
            }
        )
    )
    notification = settings / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True)
    (notification / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    tracker = settings / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    env = dict(os.environ)
    env.update(
        JUPYTER_TOKEN=TOKEN,
        JUPYTER_CONFIG_DIR=str(config),
        JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp / "lab-workspaces"),
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
        PYTHONUNBUFFERED="1",
    )
    env.pop("JPY_SESSION_NAME", None)
    return env


def _api(base: str, path: str, method: str = "GET") -> int:
    request = urllib.request.Request(f"{base}{path}?token={TOKEN}", method=method)
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status


UPDATE_NOTE = "Course update: this introduction was revised."


def _course_update(folder: Path, rel: str) -> Path:
    """A copy of the course whose ``rel`` has a revised first markdown cell."""
    shutil.copytree(REPO / "course", folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    nb = nbformat.read(folder / rel, as_version=4)
    nb.cells[0].source = nb.cells[0].source + "\n\n" + UPDATE_NOTE
    nbformat.write(nb, folder / rel)
    return folder


@pytest.fixture
def lab(tmp_path):
    """``mlcourse start --no-browser`` on a fresh workspace; yields (base URL, workspace)."""
    if not CHROMIUM.exists():
        pytest.skip("Chromium is missing: apt-get install -y chromium")
    pytest.importorskip(
        "playwright.sync_api", reason="Playwright is missing: pip install playwright"
    )
    workspace = tmp_path / "mlcourse-work"
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    mlcourse = Path(sys.executable).with_name("mlcourse")
    cmd = [str(mlcourse)] if mlcourse.exists() else [sys.executable, "-m", "mlcourse.cli"]
    cmd += ["start", "--no-browser", "--port", str(port), "--workspace", str(workspace)]
    log_path = tmp_path / "jupyterlab.log"
    log = open(log_path, "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        cmd,
        cwd=tmp_path,
        env=_jupyter_env(tmp_path),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, ended below by its id
    )
    try:
        deadline = time.monotonic() + 120  # the workspace sync, then the server
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"mlcourse start exited with {proc.returncode}:\n{log_path.read_text()}"
                )
            try:
                if _api(base, "/api/status") == 200:
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer in time:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        yield base, workspace
    finally:
        try:
            _api(base, "/api/shutdown", method="POST")  # also shuts the kernels down
            proc.wait(timeout=20)
        except Exception:  # noqa: BLE001 - fall back to ending the process group we started
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
        log.close()
        if ARTIFACTS.exists():
            shutil.copy(log_path, ARTIFACTS / "jupyterlab.log")


class Notebook:
    """One notebook open in JupyterLab; cells by their position in the file."""

    def __init__(self, page, base: str, rel: str):
        self.page = page
        page.goto(f"{base}/lab/tree/{rel}?reset&token={TOKEN}")
        page.get_by_text(IDLE).wait_for(timeout=TIMEOUT_MS)
        self.cells = page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell")

    def cell(self, index: int):
        return self.cells.nth(index)

    def run(self, index: int) -> None:
        """Select cell ``index`` (command mode), run it, and wait until it finished."""
        from playwright.sync_api import expect

        cell = self.cell(index)
        cell.scroll_into_view_if_needed()
        cell.locator(".jp-InputPrompt").first.click()
        self.page.keyboard.press("Shift+Enter")
        expect(cell.locator(".jp-InputPrompt").first).to_have_text(
            re.compile(r"\[\d+\]:"), timeout=TIMEOUT_MS
        )

    def replace(self, index: int, code: str) -> None:
        """Click into the cell's editor, select everything, and type ``code`` over it.

        ``insert_text`` enters the text as typed input without per-key
        auto-indentation and bracket closing (which would mangle the indentation).
        """
        from playwright.sync_api import expect

        editor = self.cell(index).locator(".cm-content")
        editor.click()
        self.page.keyboard.press("Control+a")
        self.page.keyboard.insert_text(code)
        expect(editor).to_contain_text(code.splitlines()[-1].strip())

    def output(self, index: int):
        """The cell's first output (a check's message box comes first)."""
        return self.cell(index).locator(".jp-OutputArea-output").first


def test_learner_path_in_jupyterlab(lab):
    from playwright.sync_api import expect, sync_playwright

    base, workspace = lab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()

    # The exercise's cells, by position, from the learner's copy of the notebook.
    rel = "01_foundations/linear_algebra.ipynb"
    nb = nbformat.read(workspace / rel, as_version=4)
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
    solution, test = ids.index("matmul"), ids.index("test_matmul")
    assert "raise NotImplementedError()" in nb.cells[solution].source, "not the student version"

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(TIMEOUT_MS)
        page.on("dialog", lambda dialog: dialog.accept())

        started = time.monotonic()

        def shot(name: str) -> None:
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
            print(f"{time.monotonic() - started:6.1f} s  {name}")

        try:
            # 1. `mlcourse start` opens on the start page, with no instructor panels
            page.goto(f"{base}/?token={TOKEN}")
            expect(page).to_have_url(re.compile(r"/lab/tree/00_start_here\.ipynb"))
            expect(page.locator('.jp-mod-current[data-type="document-title"]')).to_contain_text(
                "00_start_here.ipynb"
            )
            listing = page.locator(".jp-DirListing-item", has_text="00_start_here.ipynb")
            expect(listing).to_be_visible()
            expect(page.locator(".jp-DirListing-item", has_text="01_foundations")).to_be_visible()
            page.get_by_text(IDLE).wait_for(timeout=TIMEOUT_MS)
            expect(page.get_by_text("Create Assignment")).to_have_count(0)
            expect(page.get_by_text("official Jupyter news")).to_have_count(0)
            shot("1_lab_started_on_the_start_page")

            # 2. the linear algebra notebook opens and its kernel is ready
            notebook = Notebook(page, base, rel)
            expect(notebook.cells).to_have_count(len(nb.cells))
            shot("2_notebook_open")

            # 3. run the cells up to the first exercise
            code_before = [i for i in range(solution) if nb.cells[i].cell_type == "code"]
            for index in code_before:
                notebook.run(index)
            expect(notebook.output(code_before[0])).to_contain_text("Python 3.11")
            for index in range(solution + 1, test):  # cells between solution and test
                if nb.cells[index].cell_type == "code":
                    notebook.run(index)
            shot("3_cells_run")

            # 4. the stub as released: its check says "not attempted"
            notebook.run(solution)
            notebook.run(test)
            expect(notebook.output(test)).to_contain_text("matmul: not attempted yet")
            # calm: an amber box, not a red error
            expect(notebook.output(test).locator(".mlcourse-not_attempted")).to_have_count(1)
            notebook.output(test).first.scroll_into_view_if_needed()
            shot("4_not_attempted")

            # 5. a wrong answer (the transpose) gets its targeted nudge
            notebook.replace(solution, WRONG_MATMUL)
            notebook.run(solution)
            notebook.run(test)
            expect(notebook.output(test)).to_contain_text("matmul: incorrect")
            expect(notebook.output(test)).to_contain_text("You returned the transpose")
            # one level of hint under the failure, and how to ask for the next
            expect(notebook.output(test)).to_contain_text("(1 of 3)")
            expect(notebook.output(test)).to_contain_text('check.hint("matmul") for hint 2 of 3')
            expect(notebook.output(test)).not_to_contain_text("Three nested loops")
            notebook.output(test).first.scroll_into_view_if_needed()
            shot("5_wrong_answer_nudge")

            # 5b. the learner asks for the next hint in a cell of their own
            notebook.cell(test).locator(".jp-InputPrompt").first.click()
            page.keyboard.press("Escape")
            page.keyboard.press("b")  # a new cell below the test
            expect(notebook.cells).to_have_count(len(nb.cells) + 1)
            mine = test + 1
            notebook.replace(mine, 'check.hint("matmul", 2)')
            notebook.run(mine)
            expect(notebook.output(mine)).to_contain_text("matmul, hint 2 of 3")
            expect(notebook.output(mine)).to_contain_text("Three nested loops")
            shot("5b_second_hint")

            # 6. a correct answer passes the visible checks
            notebook.replace(solution, RIGHT_MATMUL)
            notebook.run(solution)
            notebook.run(test)
            expect(notebook.output(test)).to_contain_text(
                "matmul: visible checks passed; hidden tests run at grading"
            )
            notebook.output(test).first.scroll_into_view_if_needed()
            page.keyboard.press("Control+s")  # save, as a learner would
            shot("6_correct_answer")

            # 6b. passed: the worked solution, with its explanation, is offered
            notebook.replace(mine, 'check.solution("matmul")')
            notebook.run(mine)
            expect(notebook.output(mine)).to_contain_text("Worked solution")
            expect(notebook.output(mine)).to_contain_text("for k in range(n)")
            expect(notebook.output(mine)).to_contain_text("row i of A")
            notebook.output(mine).first.scroll_into_view_if_needed()
            shot("6b_worked_solution")

            log = workspace / ".mlcourse" / "progress.jsonl"
            records = [json.loads(line) for line in log.read_text().splitlines()]
            assert [
                (r["notebook"], r["exercise"], r.get("event"), r.get("outcome")) for r in records
            ] == [
                (rel, "matmul", "check", "not_attempted"),
                (rel, "matmul", "check", "incorrect"),
                (rel, "matmul", "hint", None),
                (rel, "matmul", "check", "correct"),
                (rel, "matmul", "solution", None),
            ]

            # 7. the start page shows the progress: 1 exercise passed in linear_algebra
            start = Notebook(
                browser.new_page(viewport={"width": 1400, "height": 900}),
                base,
                "00_start_here.ipynb",
            )
            page = start.page
            page.set_default_timeout(TIMEOUT_MS)
            start_nb = nbformat.read(workspace / "00_start_here.ipynb", as_version=4)
            code = [i for i, c in enumerate(start_nb.cells) if c.cell_type == "code"]
            for index in code:
                start.run(index)
            live = start.output(code[-1])
            count = sum(1 for c in nb.cells if is_test(c))
            expect(live.first).to_contain_text(re.compile(rf"linear_algebra\W+1/{count}"))
            phase_total = sum(
                sum(1 for c in nbformat.read(p, as_version=4).cells if is_test(c))
                for p in (REPO / "course" / "01_foundations").glob("*.ipynb")
            )
            expect(live.first).to_contain_text(
                re.compile(rf"Foundations \(01_foundations\)\W+1-3\W+1/{phase_total}")
            )
            expect(start.cell(code[-1]).locator("img")).to_have_count(1)  # the timeline
            live.first.scroll_into_view_if_needed()
            shot("7_start_page_progress")

            # 8. a course update arrives after JupyterLab saved the learner's answer:
            #    `mlcourse update` merges it, the answer stays, the new text appears
            page = notebook.page
            saved = nbformat.read(workspace / rel, as_version=4)
            assert "np.zeros((m, p))" in saved.cells[solution].source, "JupyterLab did not save"
            updated_course = _course_update(workspace.parent / "course-v2", rel)
            mlcourse = Path(sys.executable).with_name("mlcourse")
            done = subprocess.run(
                [str(mlcourse), "update", "--workspace", str(workspace)],
                env={**os.environ, "MLCOURSE_COURSE_DIR": str(updated_course)},
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert done.returncode == 0, done.stdout + done.stderr
            assert f"merged     {rel}" in done.stdout, done.stdout
            merged = nbformat.read(workspace / rel, as_version=4)
            assert "np.zeros((m, p))" in merged.cells[solution].source  # the answer kept
            assert UPDATE_NOTE in merged.cells[0].source  # the course's new markdown
            backups = list((workspace / ".mlcourse" / "backups").glob("*linear_algebra*"))
            assert backups, "no backup of the learner's notebook"
            again = Notebook(page, base, rel)
            expect(again.cell(0)).to_contain_text(UPDATE_NOTE)
            for index in code_before + [solution, test]:
                again.run(index)
            expect(again.output(test)).to_contain_text(
                "matmul: visible checks passed; hidden tests run at grading"
            )
            again.cell(0).scroll_into_view_if_needed()
            shot("8_update_merged_answer_kept")
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "failure.png"))
            raise
        finally:
            browser.close()
