"""``mlcourse grade``: autograde a cohort fast, sandboxed, tamper-resistant, losing nothing.

Built on nbgrader, not beside it: the assignment is released and recorded in
nbgrader's gradebook; each submission is sanitised by nbgrader's own
preprocessors (``OverwriteCells`` restores edited and deleted test cells from
the gradebook, with their hidden tests); scores are computed by nbgrader's
``determine_grade`` and written by ``SaveAutoGrades``. What this module adds:

* parallel grading (a process pool, or a Dask cluster with ``--dask``), a
  fresh kernel per notebook, inside :mod:`mlcourse.sandbox`;
* limits per cell and per notebook, memory and process-count limits, an
  output cap;
* tamper detection: a static scan of the student's code, and an integrity
  probe run before every test cell; flagged work earns no points;
* an outcome for every notebook: ``graded``, ``timeout``, ``crashed``,
  ``invalid``, ``missing`` or ``flagged``, never a silent zero;
* a re-grade first removes the student's old submission from the gradebook,
  so a failed re-grade cannot leave stale scores; a re-run skips unchanged,
  already graded submissions unless ``force``;
* ``grades.csv``, feedback HTML without hidden test code, and a summary report.

Workers never write to the gradebook: they return results, and the parent
process records them one at a time (safe with SQLite and PostgreSQL alike).
"""

from __future__ import annotations

import ast
import concurrent.futures as cf
import copy
import csv
import hashlib
import html
import json
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_output

from mlcourse import paths
from mlcourse.check import CHECK_ERRORS
from mlcourse.notebook import NotebookError, is_test, read_notebook
from mlcourse.sandbox import Cgroup, Limits, SandboxSpec, kernel_manager_for, resolve_mode
from mlcourse.zygote import Zygote, preload_for
from mlcourse.zygote import for_slot as zygote_for_slot
from mlcourse.zygote import stop_all as stop_zygotes

STATUSES = ("graded", "timeout", "crashed", "invalid", "missing", "flagged")
LEDGER = ".mlcourse-grading.json"
MAX_OUTPUT_BYTES = 1_000_000  # per notebook; the rest is dropped with a note
GUARD_TAG = "__mlcourse_integrity__"


class GradingError(Exception):
    """The grader itself cannot go on (bad options, nbgrader failure)."""


@dataclass
class Options:
    assignment: str
    submissions: Path
    out: Path
    workers: int = max(2, 2 * (os.cpu_count() or 1))
    cell_timeout: float = 60.0
    notebook_timeout: float = 600.0
    memory_mb: int = 2048
    pids: int = 256
    sandbox: str = "auto"
    db_url: str | None = None
    force: bool = False
    dask: str | None = None
    prefork: bool = True  # fork kernels from a pre-warmed zygote (mlcourse.zygote)


@dataclass
class Result:
    """The verdict on one student's notebook: a row of grades.csv."""

    student_id: str
    assignment: str
    notebook: str
    status: str
    detail: str = ""
    score: float = 0.0
    max_score: float = 0.0
    exercises: dict[str, float] = field(default_factory=dict)
    submission_sha: str = ""
    seconds: float = 0.0
    executed: str | None = None  # the executed notebook (JSON), for SaveAutoGrades
    feedback: str | None = None  # feedback HTML


@dataclass
class Task:
    """Everything a worker needs to grade one student (picklable)."""

    student: str
    assignment: str
    notebooks: list[str]
    submission_dir: str
    work_dir: str
    db_url: str
    course_dir: str
    sandbox: str  # resolved: "on" or "off"
    cell_timeout: float
    notebook_timeout: float
    memory_mb: int
    pids: int
    read_only: list[str]
    preload: list[str] = field(default_factory=list)  # empty: spawn each kernel afresh
    env: dict[str, str] = field(default_factory=dict)  # for the kernels (e.g. the data cache)


# -- tamper detection ------------------------------------------------------------

PROTECTED_MODULES = {"numpy", "torch", "builtins", "math", "mlcourse", "sys", "unittest"}
PROTECTED_NAMES = {"check", "__builtins__"}

_GUARD_INSTALL = (
    "from mlcourse.integrity import make_guard as _mlcourse_make_guard\n"
    "__mlcourse_guard__ = _mlcourse_make_guard()\n"
    "del _mlcourse_make_guard"
)
_GUARD_CALL = "__mlcourse_guard__(globals())"


def _module_aliases(tree: ast.AST) -> dict[str, str]:
    aliases = {"np": "numpy", "numpy": "numpy", "torch": "torch", "builtins": "builtins"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                aliases[alias.asname or alias.name.split(".")[0]] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    if isinstance(node, ast.Call):
        node = node.func
        while isinstance(node, ast.Attribute):
            node = node.value
    return node.id if isinstance(node, ast.Name) else None


def scan_for_tampering(nb: NotebookNode) -> list[str]:
    """Reasons to flag: student code that patches what the tests rely on."""
    reasons: list[str] = []
    for index, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code" or meta.get("grade"):
            continue  # test cells come from the gradebook, not from the student
        source = "\n".join(
            line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!"))
        )
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue  # it fails to run; that costs the student, it is not tampering
        aliases = _module_aliases(tree)

        def protected(name: str | None, aliases: dict[str, str] = aliases) -> bool:
            if name is None:
                return False
            if name in PROTECTED_NAMES:
                return True
            return aliases.get(name, "").split(".")[0] in PROTECTED_MODULES

        where = f"cell {index + 1}"
        for node in ast.walk(tree):
            targets: list[ast.AST] = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AugAssign | ast.AnnAssign):
                targets = [node.target]
            elif isinstance(node, ast.Delete):
                targets = node.targets
            for target in targets:
                if isinstance(target, ast.Attribute | ast.Subscript) and protected(
                    _root_name(target)
                ):
                    reasons.append(
                        f"{where}, line {node.lineno}: assigns to "
                        f"{ast.unparse(target)} (patching what the tests use)"
                    )
                elif isinstance(target, ast.Name) and target.id in PROTECTED_NAMES:
                    reasons.append(f"{where}, line {node.lineno}: rebinds `{target.id}`")
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else None
                if name == "setattr" and node.args and protected(_root_name(node.args[0])):
                    reasons.append(
                        f"{where}, line {node.lineno}: setattr on {ast.unparse(node.args[0])}"
                    )
                if (
                    isinstance(func, ast.Attribute)
                    and func.attr in ("setattr", "__setattr__", "update", "__setitem__")
                    and _root_name(func.value) in ("sys", "builtins", "__builtins__", "globals")
                ):
                    reasons.append(f"{where}, line {node.lineno}: {ast.unparse(func)}(...)")
            if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name in PROTECTED_NAMES:
                reasons.append(f"{where}, line {node.lineno}: redefines `{node.name}`")
            if isinstance(node, ast.Import | ast.ImportFrom):
                for alias in node.names:
                    if (alias.asname or alias.name) == "check" and getattr(
                        node, "module", None
                    ) != "mlcourse":
                        reasons.append(f"{where}, line {node.lineno}: imports something as `check`")
    return reasons


# -- execution -----------------------------------------------------------------


class _CappedClient(NotebookClient):
    """nbclient with a cap on the total size of outputs (huge output is dropped)."""

    budget = MAX_OUTPUT_BYTES
    uncapped = False  # the grader's own probes are never dropped

    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content", {})
        if self.uncapped:
            return super().output(outs, msg, display_id, cell_index)
        if msg.get("msg_type") == "error":
            content["evalue"] = str(content.get("evalue", ""))[:2000]
            content["traceback"] = list(content.get("traceback", []))[-40:]
            return super().output(outs, msg, display_id, cell_index)
        size = len(json.dumps(content.get("data", content.get("text", "")), default=str))
        if size > self.budget:
            if self.budget >= 0:
                self.budget = -1
                outs.append(
                    new_output(
                        "stream",
                        name="stdout",
                        text="\n[output truncated by the grader: too much output]\n",
                    )
                )
            return None
        self.budget -= size
        return super().output(outs, msg, display_id, cell_index)


def _error(ename: str, evalue: str) -> NotebookNode:
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def _zygote(task: Task) -> Zygote | None:
    """This worker's zygote for the task's sandbox and imports (None: spawn kernels)."""
    if not task.preload:
        return None
    env = _kernel_env(task)
    key = (task.work_dir, task.sandbox, tuple(task.read_only), tuple(task.preload))
    key += tuple(sorted(env.items()))

    def make() -> Zygote:
        slot = f"slot-{os.getpid()}-{threading.get_ident()}"
        return Zygote(
            root=Path(task.work_dir) / slot,
            preload=task.preload,
            sandbox=task.sandbox,
            read_only=[Path(p) for p in task.read_only],
            env=env,
        )

    return zygote_for_slot(key, make)


def _execute(
    nb: NotebookNode, task: Task, workdir: Path, zygote: Zygote | None = None
) -> tuple[str, str, list[str]]:
    """Run ``nb`` in place in a sandboxed kernel: (status, detail, tamper reasons)."""
    if zygote is not None:
        runtime = zygote.runtime_dir
    else:
        runtime = Path(tempfile.mkdtemp(prefix="mlcourse-k-", dir="/tmp"))
    cgroup = Cgroup(
        f"{task.student[:40]}-{uuid.uuid4().hex[:8]}", Limits(task.memory_mb, task.pids)
    )
    if not cgroup.create():
        cgroup = None
    spec = SandboxSpec(
        workdir=workdir,
        runtime_dir=runtime,
        mode=task.sandbox,
        limits=Limits(task.memory_mb, task.pids),
        read_only=[Path(p) for p in task.read_only],
        cgroup=cgroup,
        zygote=zygote,
        env=_kernel_env(task),
    )
    client = _CappedClient(
        nb,
        timeout=int(task.cell_timeout),
        kernel_name="python3",
        allow_errors=True,
        interrupt_on_timeout=True,
        error_on_timeout={
            "ename": "CellTimeoutError",
            "evalue": f"the cell ran longer than {task.cell_timeout:g} s",
            "traceback": [f"CellTimeoutError: the cell ran longer than {task.cell_timeout:g} s"],
        },
        kernel_manager_class=kernel_manager_for(spec),
        shutdown_kernel="immediate",  # a graded kernel has nothing left to save
        extra_arguments=["--HistoryManager.hist_file=:memory:"],
        resources={"metadata": {"path": str(workdir)}},
    )
    status, detail, tampering = "graded", "", []
    deadline_hit = threading.Event()
    executed: set[int] = set()

    def watchdog() -> None:
        deadline_hit.set()
        try:
            if cgroup is not None:
                cgroup.kill_all()
            if client.km is not None and client.km.provisioner is not None:
                proc = getattr(client.km.provisioner, "process", None)
                if proc is not None:
                    proc.kill()
        except Exception:  # noqa: BLE001 - best effort
            pass

    timer = threading.Timer(task.notebook_timeout, watchdog)
    try:
        with client.setup_kernel():
            timer.start()
            probe = new_code_cell(_GUARD_INSTALL)
            nb.cells.append(probe)
            client.execute_cell(probe, len(nb.cells) - 1, store_history=False)
            nb.cells.pop()
            if any(o.output_type == "error" for o in probe.outputs):
                raise RuntimeError(f"the integrity guard failed to install: {probe.outputs}")
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                if is_test(cell):
                    probe = new_code_cell(_GUARD_CALL)
                    nb.cells.append(probe)
                    client.uncapped = True
                    try:
                        client.execute_cell(probe, len(nb.cells) - 1, store_history=False)
                    finally:
                        client.uncapped = False
                        nb.cells.pop()
                    text = "".join(o.get("text", "") for o in probe.outputs)
                    if GUARD_TAG in text:
                        found = json.loads(text.split(GUARD_TAG, 1)[1].splitlines()[0])
                    else:
                        found = ["the integrity probe was silenced or replaced"]
                    grade_id = cell.metadata["nbgrader"]["grade_id"]
                    tampering += [f"{item} was replaced before {grade_id}" for item in found]
                began = time.monotonic()
                client.execute_cell(cell, index)
                executed.add(index)
                # nbclient interrupts a cell at the timeout: the cell then ends
                # with KeyboardInterrupt (or nbclient's CellTimeoutError).
                if time.monotonic() - began >= task.cell_timeout * 0.98 and any(
                    o.output_type == "error"
                    and o.get("ename") in ("CellTimeoutError", "KeyboardInterrupt")
                    for o in cell.outputs
                ):
                    status = "timeout"
                    detail = f"cell {index + 1} ran longer than {task.cell_timeout:g} s"
    except (DeadKernelError, CellTimeoutError, RuntimeError, OSError) as exc:
        if deadline_hit.is_set():
            status = "timeout"
            detail = f"the notebook ran longer than {task.notebook_timeout:g} s"
        elif cgroup is not None and cgroup.memory_exceeded():
            status, detail = (
                "crashed",
                f"the kernel exceeded the memory limit ({task.memory_mb} MB)",
            )
        elif isinstance(exc, CellTimeoutError):
            status, detail = "timeout", "a cell could not be interrupted"
        else:
            status = "crashed"
            detail = f"the kernel died ({type(exc).__name__}: {str(exc)[:200]})"
    finally:
        timer.cancel()
        if cgroup is not None:
            if cgroup.pids_exceeded():
                note = f"the code hit the limit of {task.pids} processes (a fork bomb?)"
                detail = f"{detail}; {note}" if detail else note
            cgroup.destroy()
        if zygote is None:
            shutil.rmtree(runtime, ignore_errors=True)
    # A test cell that never ran must not count as passed (nbgrader gives full
    # points to a test cell without an error output).
    for index, cell in enumerate(nb.cells):
        if is_test(cell) and index not in executed:
            cell.outputs = [_error("NotRun", f"not run: {status} ({detail})")]
    return status, detail, tampering


def _restore_metadata(nb: NotebookNode, source: NotebookNode) -> None:
    """Give every cell that carries a course grade_id the course's nbgrader metadata.

    A student who edits a test cell's metadata (points, ``grade: false``) would
    otherwise make nbgrader skip or reject the cell; with the metadata back,
    ``OverwriteCells`` restores the cell itself.
    """
    known = {}
    for cell in source.cells:
        meta = cell.get("metadata", {}).get("nbgrader")
        if meta and meta.get("grade_id"):
            known[meta["grade_id"]] = (cell.cell_type, copy.deepcopy(meta))
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader")
        if isinstance(meta, dict) and meta.get("grade_id") in known:
            cell_type, original = known[meta["grade_id"]]
            if cell.cell_type == cell_type:
                cell.metadata["nbgrader"] = original


def _sanitize(nb: NotebookNode, resources: dict) -> NotebookNode:
    """nbgrader's own sanitising steps: restore test cells from the gradebook."""
    from nbgrader.preprocessors import (
        CheckCellMetadata,
        ClearOutput,
        DeduplicateIds,
        OverwriteCells,
        OverwriteKernelspec,
    )

    steps = [
        ClearOutput(),
        DeduplicateIds(),
        OverwriteKernelspec(),
        OverwriteCells(add_missing_cells=True),
        CheckCellMetadata(),
    ]
    for step in steps:
        nb, resources = step.preprocess(nb, resources)
    return nb


def _scores(nb: NotebookNode) -> tuple[dict[str, float], float, float]:
    from nbgrader.utils import determine_grade, is_grade

    exercises: dict[str, float] = {}
    total = maximum = 0.0
    for cell in nb.cells:
        if is_grade(cell) and cell.cell_type == "code":
            score, max_score = determine_grade(cell)
            grade_id = cell.metadata["nbgrader"]["grade_id"]
            exercises[grade_id] = float(score or 0.0)
            total += float(score or 0.0)
            maximum += float(max_score)
    return exercises, total, maximum


def _max_points(course_dir: Path, assignment: str, notebook: str) -> dict[str, float]:
    nb = read_notebook(course_dir / assignment / f"{notebook}.ipynb")
    points = {}
    for cell in nb.cells:
        if is_test(cell):
            points[cell.metadata["nbgrader"]["grade_id"]] = float(cell.metadata.nbgrader["points"])
    return points


_FEEDBACK_CSS = """
body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;line-height:1.45}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
pre{background:#f6f8fa;padding:.7em;overflow-x:auto;white-space:pre-wrap}
.pass{color:#17692e}.fail{color:#a11}.msg{background:#fdecec}.note{background:#fff4d6;padding:.5em}
"""


def _test_message(cell: NotebookNode) -> tuple[bool, str]:
    """Whether a test cell passed, and what to tell the student, without hidden code.

    Check failures carry their own short message (it never contains test code);
    any other error is shown as its type and message only, never a traceback,
    which could quote a hidden test's line.
    """
    from nbgrader.utils import determine_grade

    score, max_score = determine_grade(cell)
    passed = score is not None and score >= max_score
    lines = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            if output.get("ename") in CHECK_ERRORS:
                lines.append(str(output.get("evalue", "")))
            else:
                lines.append(f"{output.get('ename')}: {output.get('evalue', '')}"[:500])
    return passed, "\n".join(lines).strip()


def feedback_html(nb: NotebookNode, result: Result) -> str:
    """A student's feedback page: each test, its points, what went wrong, their code.

    Built from the graded notebook without rendering the whole notebook: test
    cells are never shown (so no hidden test code), only their outcome.
    """
    esc = html.escape
    solutions = {}
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            solutions[meta.get("grade_id")] = cell.source
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>Feedback: "
        f"{esc(result.notebook)}</title><style>{_FEEDBACK_CSS}</style></head><body>",
        f"<h1>Feedback: {esc(result.notebook)}</h1>",
        f"<p><b>Student:</b> {esc(result.student_id)} &nbsp; <b>Status:</b> "
        f"{esc(result.status)} &nbsp; <b>Score:</b> {result.score:g} / {result.max_score:g}</p>",
    ]
    if result.detail:
        parts.append(f"<p class='note'><b>Note:</b> {esc(result.detail)}</p>")
    rows, sections = [], []
    for cell in nb.cells:
        if not is_test(cell):
            continue
        grade_id = cell.metadata["nbgrader"]["grade_id"]
        name = grade_id.removeprefix("test_")
        passed, message = _test_message(cell)
        points = float(cell.metadata["nbgrader"].get("points", 0))
        got = result.exercises.get(grade_id, 0.0)
        verdict = (
            "<span class='pass'>passed</span>" if passed else "<span class='fail'>failed</span>"
        )
        rows.append(f"<tr><td>{esc(name)}</td><td>{verdict}</td><td>{got:g} / {points:g}</td></tr>")
        body = [f"<h2>{esc(name)}: {verdict}</h2>"]
        if message:
            body.append(f"<pre class='{'' if passed else 'msg'}'>{esc(message)}</pre>")
        if name in solutions:
            body.append(
                f"<details><summary>your code</summary><pre>{esc(solutions[name])}</pre></details>"
            )
        sections.append("".join(body))
    parts.append("<table><tr><th>exercise</th><th>result</th><th>points</th></tr>")
    parts.extend(rows)
    parts.append("</table>")
    parts.extend(sections)
    parts.append("</body></html>")
    return "\n".join(parts)


def grade_notebook(task: Task, notebook: str) -> Result:
    """Grade one notebook of one student (runs in a worker)."""
    start = time.perf_counter()
    result = Result(task.student, task.assignment, notebook, status="graded")
    points = _max_points(Path(task.course_dir), task.assignment, notebook)
    result.max_score = sum(points.values())
    result.exercises = {k: 0.0 for k in points}
    path = Path(task.submission_dir) / f"{notebook}.ipynb"
    if not path.exists():
        result.status, result.detail = "missing", f"{notebook}.ipynb was not submitted"
        return result
    result.submission_sha = hashlib.sha256(path.read_bytes()).hexdigest()
    try:
        nb = read_notebook(path)
    except NotebookError as exc:
        result.status, result.detail = "invalid", str(exc).replace(str(path), path.name)
        return result
    resources = {
        "nbgrader": {
            "student": task.student,
            "assignment": task.assignment,
            "notebook": notebook,
            "db_url": task.db_url,
        }
    }
    try:
        from mlcourse.release import student_version

        source = read_notebook(Path(task.course_dir) / task.assignment / f"{notebook}.ipynb")
        _restore_metadata(nb, student_version(source))
        nb = _sanitize(nb, resources)
    except Exception as exc:  # noqa: BLE001 - nbgrader rejects malformed metadata
        result.status, result.detail = "invalid", f"nbgrader could not read the notebook: {exc}"
        return result

    # A private, writable copy of the student's folder: the only place the
    # kernel may write.
    zygote = _zygote(task)
    if zygote is not None:
        workdir = zygote.prepare(Path(task.submission_dir))
    else:
        workdir = Path(task.work_dir) / task.student / task.assignment
        if workdir.exists():
            shutil.rmtree(workdir)
        shutil.copytree(
            task.submission_dir,
            workdir,
            ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints"),
        )
    static = scan_for_tampering(nb)
    status, detail, dynamic = _execute(nb, task, workdir, zygote)
    reasons = static + [r for r in dynamic if r not in static]
    if reasons:
        status = "flagged"
        detail = "; ".join(dict.fromkeys(reasons))[:1000]
        for cell in nb.cells:
            if is_test(cell):
                cell.outputs.append(_error("Flagged", "flagged for review: " + detail))
    from nbgrader.preprocessors import LimitOutput

    nb, _ = LimitOutput().preprocess(nb, {})
    result.exercises, result.score, result.max_score = _scores(nb)
    result.status, result.detail = status, detail
    result.executed = nbformat.writes(nb)
    result.feedback = feedback_html(nb, result)
    result.seconds = time.perf_counter() - start
    return result


# Grading kernels share the cores: one maths thread each (oversubscribed BLAS
# and OpenMP threads made notebooks many times slower), and no figure rendering,
# since figures earn no points.
KERNEL_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "MPLBACKEND": "agg",
    # agg cannot show figures; say nothing (stderr in a test cell costs its points)
    "PYTHONWARNINGS": "ignore:FigureCanvasAgg is non-interactive",
}


def _kernel_env(task: Task) -> dict[str, str]:
    """Environment variables for the task's kernels, on top of the grader's own."""
    return {**KERNEL_ENV, **task.env}


def grade_student(task: Task) -> list[Result]:
    """Grade every notebook of one student; never raises for the student's faults."""
    results = []
    for notebook in task.notebooks:
        try:
            results.append(grade_notebook(task, notebook))
        except Exception as exc:  # noqa: BLE001 - a grader bug: report it, keep going
            res = Result(task.student, task.assignment, notebook, status="crashed")
            res.detail = f"grader error: {type(exc).__name__}: {exc}"[:1000]
            res.executed = None
            results.append(res)
    shutil.rmtree(Path(task.work_dir) / task.student, ignore_errors=True)
    return results


# -- the parent process ----------------------------------------------------------


DB_DRIVERS = {"postgresql": "the psycopg driver (pip install 'mlcourse[postgres]')"}


def check_gradebook_url(db_url: str) -> None:
    """Fail early and clearly on a gradebook URL that cannot work."""
    import sqlalchemy
    from sqlalchemy.exc import ArgumentError, OperationalError

    try:
        engine = sqlalchemy.create_engine(db_url)
    except ArgumentError as exc:
        raise GradingError(f"--db {db_url!r} is not a SQLAlchemy database URL: {exc}") from None
    except ModuleNotFoundError as exc:
        backend = db_url.split(":", 1)[0].split("+", 1)[0]
        need = DB_DRIVERS.get(backend, f"the Python driver {exc.name!r}")
        raise GradingError(f"--db {backend} needs {need}") from None
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise GradingError(f"cannot open the gradebook at {engine.url!r}: {reason}") from None
    finally:
        engine.dispose()


def _api(db_url: str | None):
    """nbgrader's API on the course config, with the gradebook at ``db_url`` if given."""
    from mlcourse.release import nbgrader_api

    api = nbgrader_api()
    if db_url:
        check_gradebook_url(db_url)
        api.coursedir.db_url = db_url
    return api


def _ensure_released(api, assignment: str) -> None:
    """Release and record the assignment in the gradebook (nbgrader generate_assignment)."""
    result = api.generate_assignment(assignment, force=True, create=True)
    if not result.get("success"):
        raise GradingError(
            f"nbgrader could not release {assignment}: {result.get('error') or result.get('log')}"
        )


def _record(gradebook, result: Result, autograded_dir: Path, db_url: str) -> None:
    """Write one result into nbgrader's gradebook (and its autograded folder)."""
    from nbgrader.preprocessors import SaveAutoGrades

    if result.executed is not None:
        nb = nbformat.reads(result.executed, as_version=4)
        target = autograded_dir / result.student_id / result.assignment / f"{result.notebook}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
        resources = {
            "nbgrader": {
                "student": result.student_id,
                "assignment": result.assignment,
                "notebook": result.notebook,
                "db_url": db_url,
            }
        }
        SaveAutoGrades().preprocess(nb, resources)
    else:
        # missing, invalid or grader error: an explicit zero, never "not graded"
        for grade_id in result.exercises:
            grade = gradebook.find_grade(
                grade_id, result.notebook, result.assignment, result.student_id
            )
            grade.auto_score = 0.0
            grade.needs_manual_grade = False
        gradebook.db.commit()
    submitted = gradebook.find_submission_notebook(
        result.notebook, result.assignment, result.student_id
    )
    submitted.flagged = result.status == "flagged"
    gradebook.db.commit()


def _students(submissions: Path) -> list[str]:
    if not submissions.is_dir():
        raise GradingError(f"{submissions}: no such folder of submissions")
    return sorted(
        p.name for p in submissions.iterdir() if p.is_dir() and not p.name.startswith(".")
    )


def _data_needed(course: Path, notebooks: list[str]) -> list[str]:
    from mlcourse import data

    text = "".join((course / f"{nb}.ipynb").read_text() for nb in notebooks)
    return [name for name in data.REGISTRY if f"load_{name}" in text or f'"{name}"' in text]


def grade(opts: Options, on_student: Callable[[str, list[Result]], None] | None = None) -> dict:
    """Grade a cohort. Returns a summary dict; raises GradingError if the grader cannot run."""
    course = paths.course_dir()
    source = course / opts.assignment
    if not source.is_dir():
        raise GradingError(
            f"no assignment {opts.assignment!r}; the course has: {', '.join(paths.assignments())}"
        )
    notebooks = sorted(p.stem for p in source.glob("*.ipynb"))
    if not notebooks:
        raise GradingError(f"assignment {opts.assignment} has no notebooks")
    students = _students(opts.submissions)
    sandbox = resolve_mode(opts.sandbox)
    opts.out.mkdir(parents=True, exist_ok=True)
    api = _api(opts.db_url)
    db_url = api.coursedir.db_url
    _ensure_released(api, opts.assignment)

    read_only: list[str] = []
    kernel_env: dict[str, str] = {}
    needed = _data_needed(source, notebooks)
    if needed:
        from mlcourse import data

        for name in needed:
            data.fetch(name)
        # The kernels see the cache read-only, at the same path; they must
        # look there, not under their own (sandboxed) home.
        cache = str(data.cache_dir().resolve())
        read_only.append(cache)
        kernel_env[data.CACHE_ENV] = cache

    preload = preload_for([source / f"{nb}.ipynb" for nb in notebooks]) if opts.prefork else []
    ledger_path = opts.out / LEDGER
    ledger: dict = {}
    if ledger_path.exists() and not opts.force:
        try:
            ledger = json.loads(ledger_path.read_text())
        except json.JSONDecodeError:
            ledger = {}

    def fingerprint(student: str) -> str:
        digest = hashlib.sha256()
        for nb in notebooks:
            path = opts.submissions / student / opts.assignment / f"{nb}.ipynb"
            digest.update(nb.encode())
            digest.update(path.read_bytes() if path.exists() else b"<missing>")
        return digest.hexdigest()

    from nbgrader.api import Gradebook

    work = Path(tempfile.mkdtemp(prefix="mlcourse-grade-", dir="/tmp"))
    tasks, results, skipped = [], [], []
    with Gradebook(db_url, api.coursedir.course_id) as gb:
        for student in students:
            key = f"{opts.assignment}/{student}"
            fp = fingerprint(student)
            previous = ledger.get(key)
            if previous and previous.get("fingerprint") == fp and not opts.force:
                skipped.append(student)
                results.extend(Result(**r) for r in previous["results"])
                continue
            gb.update_or_create_student(student)
            try:  # never leave old scores standing: start from a clean submission
                gb.remove_submission(opts.assignment, student)
            except Exception:  # noqa: BLE001 - there was no previous submission
                gb.db.rollback()
            gb.add_submission(opts.assignment, student)
            tasks.append(
                Task(
                    student=student,
                    assignment=opts.assignment,
                    notebooks=notebooks,
                    submission_dir=str((opts.submissions / student / opts.assignment).resolve()),
                    work_dir=str(work),
                    db_url=db_url,
                    course_dir=str(course),
                    sandbox=sandbox,
                    cell_timeout=opts.cell_timeout,
                    notebook_timeout=opts.notebook_timeout,
                    memory_mb=opts.memory_mb,
                    pids=opts.pids,
                    read_only=read_only,
                    preload=preload,
                    env=kernel_env,
                )
            )
            ledger[key] = {"fingerprint": fp, "results": []}

    autograded_dir = Path(api.coursedir.root) / api.coursedir.autograded_directory
    grader_failures = 0
    start = time.perf_counter()

    def accept(student_results: list[Result]) -> None:
        nonlocal grader_failures
        with Gradebook(db_url, api.coursedir.course_id) as gb:
            for res in student_results:
                try:
                    _record(gb, res, autograded_dir, db_url)
                except Exception as exc:  # noqa: BLE001
                    gb.db.rollback()
                    res.status = "crashed"
                    res.detail = f"grader error while recording: {exc}"[:500]
                    grader_failures += 1
                if res.detail.startswith("grader error"):
                    grader_failures += 1
                if res.feedback:
                    target = (
                        opts.out
                        / "feedback"
                        / res.student_id
                        / res.assignment
                        / f"{res.notebook}.html"
                    )
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text(res.feedback, encoding="utf-8")
                res.executed = None
                res.feedback = None
        key = f"{opts.assignment}/{student_results[0].student_id}"
        ledger[key]["results"] = [asdict(r) for r in student_results]
        ledger_path.write_text(json.dumps(ledger, indent=1))
        results.extend(student_results)
        if on_student:
            on_student(student_results[0].student_id, student_results)

    try:
        if opts.dask:
            from dask.distributed import Client, as_completed

            with Client(opts.dask) as client:
                futures = client.map(grade_student, tasks, pure=False)
                for future in as_completed(futures):
                    accept(future.result())
        elif opts.workers <= 1:
            for task in tasks:
                accept(grade_student(task))
        else:
            with cf.ProcessPoolExecutor(max_workers=opts.workers) as pool:
                futures = [pool.submit(grade_student, task) for task in tasks]
                for future in cf.as_completed(futures):
                    accept(future.result())
    finally:
        stop_zygotes()  # the serial path grades in this process
        shutil.rmtree(work, ignore_errors=True)

    results.sort(key=lambda r: (r.student_id, r.notebook))
    write_csv(results, opts.out / "grades.csv")
    from mlcourse.report import write_report

    write_report(results, opts.out, sandbox=sandbox, assignment=opts.assignment)
    return {
        "results": results,
        "graded_now": len(tasks),
        "skipped": skipped,
        "sandbox": sandbox,
        "seconds": time.perf_counter() - start,
        "grader_failures": grader_failures,
        "db_url": db_url,
    }


def write_csv(results: list[Result], path: Path) -> None:
    exercise_ids: list[str] = []
    for res in results:
        for key in res.exercises:
            if key not in exercise_ids:
                exercise_ids.append(key)
    fields = ["student_id", "assignment", "notebook", "score", "max_score", "status", "detail"]
    tmp = path.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(fields + exercise_ids)
        for res in results:
            row = [
                res.student_id,
                res.assignment,
                res.notebook,
                f"{res.score:g}",
                f"{res.max_score:g}",
                res.status,
                res.detail,
            ]
            row += [f"{res.exercises[k]:g}" if k in res.exercises else "" for k in exercise_ids]
            writer.writerow(row)
    os.replace(tmp, path)
