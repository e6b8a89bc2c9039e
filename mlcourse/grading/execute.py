"""Executing one student's notebooks, and deciding their grades outside the kernel.

For each notebook: the submission is read from its bytes and sanitised by
nbgrader's own preprocessors (restoring test cells a student edited or
deleted); its cells run one by one in a fresh, sandboxed kernel; and at each
test cell's place, instead of running the cell in the kernel, the exercise's
checks run **here**, in this worker, which never runs student code
(:func:`mlcourse.check.trusted.verdict`). The checks reach the kernel only
through short data requests (:class:`mlcourse.check.transport.KernelRPC`);
the kernel never sees test code, expected values or hidden tests. A test
earns its points only on a positive verdict from this side.
"""

from __future__ import annotations

import copy
import hashlib
import html
import json
import shutil
import tempfile
import threading
import time
import uuid
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_output

from mlcourse.check.outcomes import CHECK_ERRORS
from mlcourse.check.transport import KernelRPC, TransportError
from mlcourse.check.trusted import Verdict, verdict
from mlcourse.grading.model import MAX_OUTPUT_BYTES, NotebookPlan, Result, Status, Task
from mlcourse.grading.tamper import scan_for_tampering
from mlcourse.notebook import NotebookError, is_test, nbgrader_meta
from mlcourse.sandbox import Cgroup, Limits, SandboxSpec, kernel_manager_for
from mlcourse.zygote import Zygote, write_files
from mlcourse.zygote import discard as discard_zygote
from mlcourse.zygote import for_slot as zygote_for_slot

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
    "PYTHONNOUSERSITE": "1",
}
KERNEL_ARGS = [
    "--HistoryManager.hist_file=:memory:",
    "--InteractiveShellApp.exec_PYTHONSTARTUP=False",
]
MAX_FEEDBACK_TEXT = 4000  # characters of a test's message (student text included)
_PROBE = "import mlcourse.check.learner as _mlc_learner\ndel _mlc_learner"


class GraderFault(Exception):
    """The grader's own machinery failed (never the student's fault)."""


class _CappedClient(NotebookClient):
    """nbclient with a cap on the total size of outputs (huge output is dropped)."""

    budget = MAX_OUTPUT_BYTES
    uncapped = False  # the grader's own requests are never dropped

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


def kernel_env(task: Task) -> dict[str, str]:
    """Environment variables for the task's kernels, on top of the grader's own."""
    return {**KERNEL_ENV, **task.env}


def _slot_key(task: Task) -> tuple:
    env = kernel_env(task)
    key = (task.work_dir, task.sandbox, tuple(task.read_only), tuple(task.preload))
    return key + tuple(sorted(env.items()))


def _zygote(task: Task) -> Zygote | None:
    """This worker's zygote for the task's sandbox and imports (None: spawn kernels)."""
    if not task.preload:
        return None

    def make() -> Zygote:
        slot = f"slot-{uuid.uuid4().hex[:10]}"
        return Zygote(
            root=Path(task.work_dir) / slot,
            preload=task.preload,
            sandbox=task.sandbox,
            read_only=[Path(p) for p in task.read_only],
            env=kernel_env(task),
        )

    return zygote_for_slot(_slot_key(task), make)


def _clean_zygote(task: Task) -> Zygote | None:
    """A zygote whose slot is verified empty: a dirty one is replaced (fail closed)."""
    for _ in range(2):
        zygote = _zygote(task)
        if zygote is None or zygote.clean():
            return zygote
        discard_zygote(_slot_key(task))
    raise GraderFault("a grading slot could not be emptied, even after a fresh start")


def _rpc(client: _CappedClient, nb: NotebookNode):
    """The transport of the trusted checks: one short execution per request."""

    def execute(code: str, timeout: float | None) -> str:
        cell = new_code_cell(code)
        nb.cells.append(cell)
        client.uncapped = True
        saved = client.timeout
        client.timeout = int(timeout) if timeout else saved
        try:
            client.execute_cell(cell, len(nb.cells) - 1, store_history=False)
        finally:
            client.timeout = saved
            client.uncapped = False
            nb.cells.pop()
        return "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")

    return execute


def _execute(
    nb: NotebookNode, task: Task, plan: NotebookPlan, workdir: Path, zygote: Zygote | None
) -> tuple[Status, str, dict[str, Verdict]]:
    """Run ``nb`` in a sandboxed kernel; decide each test cell with the trusted checks."""
    ipc = zygote.ipc_dir if zygote is not None else None
    if zygote is not None:
        runtime = zygote.runtime_dir
    else:
        runtime = Path(tempfile.mkdtemp(prefix="mlcourse-k-", dir="/tmp"))
        ipc = Path(tempfile.mkdtemp(prefix="mlcourse-ipc-", dir="/tmp"))
    limits = Limits(task.memory_mb, task.pids)
    cgroup = Cgroup(f"{task.student[:40]}-{uuid.uuid4().hex[:8]}", limits)
    if not cgroup.create():
        cgroup = None
    spec = SandboxSpec(
        workdir=workdir,
        runtime_dir=runtime,
        ipc_dir=ipc,
        mode=task.sandbox,
        limits=limits,
        read_only=[Path(p) for p in task.read_only],
        cgroup=cgroup,
        zygote=zygote,
        env=kernel_env(task),
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
        extra_arguments=KERNEL_ARGS,
        resources={"metadata": {"path": str(workdir)}},
    )
    status, detail = Status.GRADED, ""
    verdicts: dict[str, Verdict] = {}
    deadline_hit = threading.Event()
    started = False

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
    transport = KernelRPC(_rpc(client, nb), default_timeout=task.cell_timeout)
    stem = plan.name
    try:
        try:
            setup = client.setup_kernel()
            setup.__enter__()
        except Exception as exc:  # noqa: BLE001 - no student code has run yet
            raise GraderFault(f"the kernel did not start: {type(exc).__name__}: {exc}") from None
        try:
            timer.start()
            probe = new_code_cell(_PROBE)
            nb.cells.append(probe)
            try:
                client.execute_cell(probe, len(nb.cells) - 1, store_history=False)
            finally:
                nb.cells.pop()
            if any(o.output_type == "error" for o in probe.outputs):
                # Nothing of the student's has run: the grader's package is unreachable.
                evalue = next(o.evalue for o in probe.outputs if o.output_type == "error")
                raise GraderFault(f"the check library cannot load in the sandbox: {evalue}")
            started = True
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                if is_test(cell):
                    grade_id = cell.metadata["nbgrader"]["grade_id"]
                    exercise = grade_id.removeprefix("test_")
                    result = verdict(stem, exercise, plan.hidden.get(exercise, ""), transport)
                    if result.grader_error:
                        raise GraderFault(f"{exercise}: {result.grader_error}")
                    verdicts[grade_id] = result
                    cell.outputs = (
                        [new_output("stream", name="stdout", text=result.message + "\n")]
                        if result.passed
                        else [_error(_ename(result), result.message)]
                    )
                    continue
                began = time.monotonic()
                client.execute_cell(cell, index)
                # nbclient interrupts a cell at the timeout: the cell then ends
                # with KeyboardInterrupt (or nbclient's CellTimeoutError).
                if time.monotonic() - began >= task.cell_timeout * 0.98 and any(
                    o.output_type == "error"
                    and o.get("ename") in ("CellTimeoutError", "KeyboardInterrupt")
                    for o in cell.outputs
                ):
                    status = Status.TIMEOUT
                    detail = f"cell {index + 1} ran longer than {task.cell_timeout:g} s"
        finally:
            setup.__exit__(None, None, None)
    except GraderFault:
        raise
    except (DeadKernelError, CellTimeoutError, RuntimeError, OSError, TransportError) as exc:
        if deadline_hit.is_set():
            status = Status.TIMEOUT
            detail = f"the notebook ran longer than {task.notebook_timeout:g} s (stopped)"
        elif cgroup is not None and cgroup.memory_exceeded():
            status, detail = (
                Status.CRASHED,
                f"the kernel exceeded the memory limit ({task.memory_mb} MB)",
            )
        elif not started:
            raise GraderFault(f"the kernel failed before the notebook ran: {exc}") from None
        elif isinstance(exc, CellTimeoutError):
            status, detail = Status.TIMEOUT, "a cell could not be interrupted"
        else:
            status = Status.CRASHED
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
            shutil.rmtree(ipc, ignore_errors=True)
    if deadline_hit.is_set() and status is Status.GRADED:
        status = Status.TIMEOUT
        detail = f"the notebook ran longer than {task.notebook_timeout:g} s (stopped)"
    # A test cell that never ran must not count as passed.
    for cell in nb.cells:
        if is_test(cell):
            grade_id = cell.metadata["nbgrader"]["grade_id"]
            if grade_id not in verdicts:
                cell.outputs = [_error("NotRun", f"not run: {status} ({detail})")]
    return status, detail, verdicts


def _ename(result: Verdict) -> str:
    return {
        "not_attempted": "NotAttempted",
        "raised": "CodeRaised",
    }.get(result.outcome.value, "Incorrect")


def _dedupe(nb: NotebookNode) -> None:
    """Copy and paste in JupyterLab duplicates a cell with its nbgrader id: keep the last.

    The last copy is the one that ran last before the test (and the one the
    learner sees at the bottom); the earlier copies become ordinary cells.
    """
    last: dict[str, int] = {}
    for index, cell in enumerate(nb.cells):
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id:
            last[grade_id] = index
    for index, cell in enumerate(nb.cells):
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id and last[grade_id] != index:
            cell.metadata.pop("nbgrader", None)
            if cell.cell_type == "code" and cell.source.strip().startswith("check("):
                cell.source = ""  # a copied test line: the graded one is the last


def _restore_metadata(nb: NotebookNode, source: NotebookNode) -> None:
    """Give every cell that carries a course grade_id the course's nbgrader metadata."""
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


def read_student_notebook(data: bytes, name: str) -> NotebookNode:
    """A submitted notebook from its bytes, with a clear error for malformed files."""
    from mlcourse.notebook import read_notebook

    with tempfile.TemporaryDirectory(prefix="mlcourse-nb-") as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            return read_notebook(path)
        except NotebookError as exc:
            raise NotebookError(str(exc).replace(str(path), name)) from None


_FEEDBACK_CSS = """
body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;line-height:1.45}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
pre{background:#f6f8fa;padding:.7em;overflow-x:auto;white-space:pre-wrap}
.pass{color:#17692e}.fail{color:#a11}.msg{background:#fdecec}.note{background:#fff4d6;padding:.5em}
"""


def _capped(text: str, limit: int = MAX_FEEDBACK_TEXT) -> str:
    text = str(text)
    return text if len(text) <= limit else text[:limit] + "\n[... cut by the grader]"


def feedback_html(nb: NotebookNode | None, result: Result, verdicts: dict[str, Verdict]) -> str:
    """A student's feedback page: each test, its points, what went wrong, their code.

    Test code is never shown; a failure is its check's message (which names
    the hidden case that failed, never its code), and text that came from the
    student's code is capped and shown as plain text.
    """
    esc = html.escape
    solutions = {}
    if nb is not None:
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
    if result.late_days:
        parts.append(
            f"<p class='note'><b>Late:</b> {result.late_days} day(s); the score before the "
            f"penalty was {result.raw_score:g}.</p>"
        )
    if result.detail:
        parts.append(f"<p class='note'><b>Note:</b> {esc(_capped(result.detail, 1000))}</p>")
    rows, sections = [], []
    for grade_id, points in result.exercises.items():
        name = grade_id.removeprefix("test_")
        found = verdicts.get(grade_id)
        passed = bool(found and found.passed and points > 0)
        verdict_html = (
            "<span class='pass'>passed</span>" if passed else "<span class='fail'>failed</span>"
        )
        possible = result.exercise_max.get(grade_id, points)
        cells = f"<td>{esc(name)}</td><td>{verdict_html}</td><td>{points:g} / {possible:g}</td>"
        rows.append(f"<tr>{cells}</tr>")
        body = [f"<h2>{esc(name)}: {verdict_html}</h2>"]
        message = found.message if found else "not run"
        body.append(f"<pre class='{'' if passed else 'msg'}'>{esc(_capped(message))}</pre>")
        if name in solutions:
            body.append(
                "<details><summary>your code</summary><pre>"
                f"{esc(_capped(solutions[name], 20000))}</pre></details>"
            )
        sections.append("".join(body))
    parts.append("<table><tr><th>exercise</th><th>result</th><th>points</th></tr>")
    parts.extend(rows)
    parts.append("</table>")
    parts.extend(sections)
    parts.append("</body></html>")
    return "\n".join(parts)


def grade_notebook(task: Task, plan: NotebookPlan) -> tuple[Result, dict[str, Verdict]]:
    """Grade one notebook of one student (runs in a worker). Raises GraderFault."""
    start = time.perf_counter()
    notebook = plan.name
    result = Result(task.student, task.assignment, notebook, status=Status.GRADED.value)
    result.max_score = sum(plan.points.values())
    result.exercises = {k: 0.0 for k in plan.points}
    result.exercise_max = dict(plan.points)
    filename = f"{notebook}.ipynb"
    refused = [r for r in task.refused]
    if refused:
        result.status = Status.INVALID.value
        result.detail = (
            "the submission holds what is not a regular file, which the grader refuses "
            f"and never reads: {', '.join(refused[:5])}"
        )
        return result, {}
    data = task.files.get(filename)
    if data is None:
        result.status, result.detail = Status.MISSING.value, f"{filename} was not submitted"
        return result, {}
    result.submission_sha = hashlib.sha256(data).hexdigest()
    try:
        nb = read_student_notebook(data, filename)
    except NotebookError as exc:
        result.status, result.detail = Status.INVALID.value, str(exc)
        return result, {}
    resources = {
        "nbgrader": {
            "student": task.student,
            "assignment": task.assignment,
            "notebook": notebook,
            "db_url": task.db_url,
        }
    }
    try:
        _dedupe(nb)
        _restore_metadata(nb, nbformat.reads(plan.student_version, as_version=4))
        nb = _sanitize(nb, resources)
    except Exception as exc:  # noqa: BLE001 - nbgrader rejects malformed metadata
        result.status = Status.INVALID.value
        result.detail = f"nbgrader could not read the notebook: {exc}"[:1000]
        return result, {}

    zygote = _clean_zygote(task)
    if zygote is not None:
        workdir = zygote.prepare(task.files)
    else:
        workdir = Path(task.work_dir) / f"spawn-{uuid.uuid4().hex[:10]}"
        workdir.mkdir(parents=True)
        write_files(workdir, task.files)
    try:
        static = scan_for_tampering(nb)
        status, detail, verdicts = _execute(nb, task, plan, workdir, zygote)
    finally:
        if zygote is None:
            shutil.rmtree(workdir, ignore_errors=True)
    if static:
        status = Status.FLAGGED
        detail = "; ".join(dict.fromkeys(static))[:1000]
        for cell in nb.cells:
            if is_test(cell):
                cell.outputs.append(_error("Flagged", "flagged for review: " + detail))
    from nbgrader.preprocessors import LimitOutput

    nb, _ = LimitOutput().preprocess(nb, {})
    scores = {}
    for grade_id, points in plan.points.items():
        found = verdicts.get(grade_id)
        earned = (
            points if (found is not None and found.passed and status is not Status.FLAGGED) else 0.0
        )
        scores[grade_id] = float(earned)
    result.exercises = scores
    result.score = sum(scores.values())
    result.status, result.detail = status.value, detail
    result.executed = nbformat.writes(nb)
    result.seconds = time.perf_counter() - start
    return result, verdicts


def _fault(task: Task, plan: NotebookPlan, message: str) -> Result:
    res = Result(task.student, task.assignment, plan.name, status=Status.GRADER_ERROR.value)
    res.max_score = sum(plan.points.values())
    res.exercises = {k: 0.0 for k in plan.points}
    res.exercise_max = dict(plan.points)
    res.detail = f"grader error: {message}"[:1000]
    return res


def grade_student(task: Task) -> list[Result]:
    """Grade every notebook of one student; a grader fault is retried, then reported."""
    results = []
    for plan in task.notebooks:
        attempt = 0
        while True:
            try:
                result, verdicts = grade_notebook(task, plan)
            except GraderFault as exc:
                discard_zygote(_slot_key(task))  # never reuse a slot that failed
                attempt += 1
                if attempt <= task.retries:
                    continue
                result, verdicts = _fault(task, plan, str(exc)), {}
            except Exception as exc:  # noqa: BLE001 - a grader bug: report it, keep going
                discard_zygote(_slot_key(task))
                result, verdicts = _fault(task, plan, f"{type(exc).__name__}: {exc}"), {}
            break
        nb = nbformat.reads(result.executed, as_version=4) if result.executed else None
        result.feedback = feedback_html(nb, result, verdicts)
        results.append(result)
    return results


__all__ = [
    "CHECK_ERRORS",
    "KERNEL_ENV",
    "GraderFault",
    "feedback_html",
    "grade_notebook",
    "grade_student",
    "kernel_env",
]
