"""``mlcourse check``: the maintainers' gate that proves every exercise.

For each source notebook the gate proves, in this order:

1. **hygiene**: no outputs or execution counts, valid nbgrader metadata,
   unique grade ids, points set, every exercise paired with its test cell and
   with at least one mistake fixture;
2. **the solution passes**: the source notebook, hidden tests included, runs
   top to bottom in a fresh kernel and every cell succeeds;
3. **every mistake is caught**: in that same kernel, each mistake's code
   replaces its exercise's solution cell, the cells up to the exercise's test
   cell run again, and the test cell must fail with a check failure. The
   solution cell is then run again to restore the state. Re-running only one
   exercise's cells instead of the whole notebook keeps the gate fast;
4. **the stub fails**: the student version (made by nbgrader's preprocessors)
   runs in a fresh kernel with errors allowed. Cells before the first exercise
   run cleanly, every graded test cell fails, and the only errors are the
   stubs' ``NotImplementedError``, undefined names and check failures;
5. **nothing leaks**: no line of a solution or a hidden test appears anywhere
   in the student version, metadata included;
6. **budgets**: the solution run stays within the wall-time and peak-memory
   budgets (60 s, 1.5 GB by default).
"""

from __future__ import annotations

import concurrent.futures as cf
import copy
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell

from mlcourse.check import CHECK_ERRORS
from mlcourse.notebook import (
    BEGIN_HIDDEN,
    BEGIN_SOLUTION,
    END_HIDDEN,
    END_SOLUTION,
    CourseNotebook,
    NotebookError,
    is_test,
    parse,
)
from mlcourse.release import ReleaseError, student_version

BUDGET_SECONDS = 60.0
BUDGET_MB = 1536.0
CELL_TIMEOUT = 180
STUB_ERRORS = CHECK_ERRORS | {"NotImplementedError", "NameError"}

_USAGE_PROBE = (
    "import resource as _r\n"
    "_s, _c = _r.getrusage(_r.RUSAGE_SELF), _r.getrusage(_r.RUSAGE_CHILDREN)\n"
    "print(_s.ru_maxrss, _c.ru_maxrss, _s.ru_utime + _s.ru_stime + _c.ru_utime + _c.ru_stime)\n"
    "del _r, _s, _c"
)


@dataclass
class Report:
    """The gate's verdict on one notebook: a row of the table."""

    path: str
    exercises: int = 0
    points: float = 0.0
    mistakes: int = 0
    caught: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    peak_mb: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _error_of(cell: NotebookNode) -> tuple[str, str] | None:
    """(ename, evalue) of a cell's error output, or None."""
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return out.get("ename", "?"), out.get("evalue", "")
    return None


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Kernel:
    """A kernel that runs a notebook's cells one at a time (nbclient underneath)."""

    def __init__(self, nb: NotebookNode, cwd: Path, timeout: int = CELL_TIMEOUT):
        self.nb = copy.deepcopy(nb)
        # nbclient writes each executed cell back into ``self.nb``; keep the
        # original sources so that "run cell i" always means the notebook's cell.
        self.sources = [cell.source for cell in nb.cells]
        self.client = NotebookClient(
            self.nb,
            timeout=timeout,
            kernel_name="python3",
            allow_errors=True,
            resources={"metadata": {"path": str(cwd)}},
        )
        self._ctx = None

    def __enter__(self) -> Kernel:
        self._ctx = self.client.setup_kernel()
        self._ctx.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._ctx.__exit__(*exc)

    def run(self, index: int, source: str | None = None) -> NotebookNode:
        """Run cell ``index`` (optionally with other ``source``); return the executed cell."""
        cell = copy.deepcopy(self.nb.cells[index])
        cell.source = self.sources[index] if source is None else source
        if cell.cell_type != "code":
            return cell
        return self.client.execute_cell(cell, index)

    def run_code(self, source: str) -> NotebookNode:
        """Run code that is not part of the notebook."""
        self.nb.cells.append(new_code_cell(source))
        try:
            return self.client.execute_cell(self.nb.cells[-1], len(self.nb.cells) - 1)
        finally:
            self.nb.cells.pop()

    def usage(self) -> tuple[float, float]:
        """(peak resident MB, CPU seconds) of the kernel and its finished children."""
        cell = self.run_code(_USAGE_PROBE)
        text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
        try:
            own, children, cpu = text.split()
        except ValueError:
            return 0.0, 0.0
        return max(int(own), int(children)) / 1024.0, float(cpu)  # ru_maxrss is KiB on Linux


def _solution_run(cnb: CourseNotebook, report: Report, budget_s: float, budget_mb: float) -> None:
    """Proofs 2, 3 and 6: run the solution, then every mistake in the same kernel."""
    cwd = cnb.path.parent
    with Kernel(cnb.nb, cwd) as kernel:
        start = time.perf_counter()
        for index, cell in enumerate(cnb.nb.cells):
            if cell.cell_type != "code":
                continue
            out = kernel.run(index)
            err = _error_of(out)
            if err:
                report.problems.append(
                    f"solution run: cell {index + 1} raised {err[0]}: {_short(err[1])}"
                )
                return
        report.seconds = time.perf_counter() - start
        report.peak_mb, report.cpu_seconds = kernel.usage()
        if report.seconds > budget_s:
            report.problems.append(
                f"over budget: the solution run took {report.seconds:.1f} s "
                f"(budget {budget_s:.0f} s)"
            )
        if report.peak_mb > budget_mb:
            report.problems.append(
                f"over budget: peak memory {report.peak_mb:.0f} MB (budget {budget_mb:.0f} MB)"
            )

        for mistake in cnb.mistakes:
            ex = cnb.exercise(mistake.exercise)
            label = f"mistake {mistake.exercise}/{mistake.name}"
            out = kernel.run(ex.solution_index, mistake.code)
            err = _error_of(out)
            if err:
                report.problems.append(
                    f"{label}: its own code raised {err[0]}: {_short(err[1])} "
                    "(a mistake must run, and be caught by the tests)"
                )
            else:
                for index in range(ex.solution_index + 1, ex.test_index):
                    kernel.run(index)
                err = _error_of(kernel.run(ex.test_index))
                if err is None:
                    report.problems.append(f"{label} NOT caught: the tests pass on it")
                elif err[0] not in CHECK_ERRORS:
                    report.problems.append(
                        f"{label}: the tests crashed with {err[0]} instead of a check failure"
                    )
                else:
                    report.caught += 1
            # Restore the solution's state for the next mistake.
            for index in range(ex.solution_index, ex.test_index):
                kernel.run(index)


def _stub_run(cnb: CourseNotebook, student: NotebookNode, report: Report) -> None:
    """Proof 4: the student version fails every graded test, and nothing else."""
    first = cnb.first_exercise_index
    with Kernel(student, cnb.path.parent) as kernel:
        for index, cell in enumerate(student.cells):
            if cell.cell_type != "code":
                continue
            err = _error_of(kernel.run(index))
            where = f"student version, cell {index + 1}"
            if is_test(cell):
                grade_id = cell.metadata["nbgrader"]["grade_id"]
                if err is None:
                    report.problems.append(
                        f"{where} ({grade_id}) PASSES on the stub: doing nothing earns points"
                    )
                elif err[0] not in STUB_ERRORS:
                    report.problems.append(
                        f"{where} ({grade_id}) fails with {err[0]}, not a check failure: "
                        f"{_short(err[1])}"
                    )
            elif err is not None:
                if index < first:
                    report.problems.append(
                        f"{where} (before the first exercise) raised {err[0]}: {_short(err[1])}"
                    )
                elif err[0] not in STUB_ERRORS:
                    report.problems.append(f"{where} raised {err[0]}: {_short(err[1])}")


def _secret_lines(cnb: CourseNotebook) -> set[str]:
    """Lines of solution and hidden-test regions that appear nowhere else."""
    secret: set[str] = set()
    public: set[str] = set()
    for cell in cnb.nb.cells:
        inside = False
        for line in cell.source.splitlines():
            stripped = line.strip()
            if BEGIN_SOLUTION in line or BEGIN_HIDDEN in line:
                inside = True
                continue
            if END_SOLUTION in line or END_HIDDEN in line:
                inside = False
                continue
            if len(stripped) < 8 or stripped.startswith("#"):
                continue
            (secret if inside else public).add(stripped)
    return secret - public


def _leaks(cnb: CourseNotebook, student: NotebookNode, report: Report) -> None:
    """Proof 5: the student version carries no solution or hidden-test line.

    A secret line leaks when a line of a released cell is that line, or when
    it appears inside the released metadata (notebook or cells).
    """
    released_lines = set()
    for cell in student.cells:
        released_lines.update(line.strip() for line in cell.source.splitlines())
    metadata = json.dumps(
        [student.metadata] + [cell.metadata for cell in student.cells], ensure_ascii=False
    )
    for line in sorted(_secret_lines(cnb)):
        escaped = json.dumps(line, ensure_ascii=False)[1:-1]
        if line in released_lines or escaped in metadata:
            report.problems.append(f"leak: the student version contains {_short(line, 80)!r}")
    text = json.dumps(student, ensure_ascii=False)
    for marker in (BEGIN_SOLUTION, BEGIN_HIDDEN):
        if marker in text:
            report.problems.append(f"leak: the student version still contains {marker!r}")


def check_notebook(
    path: Path, budget_s: float = BUDGET_SECONDS, budget_mb: float = BUDGET_MB
) -> Report:
    """Run every proof on one source notebook."""
    path = Path(path)
    report = Report(path=str(path))
    try:
        cnb = parse(path)
    except NotebookError as exc:
        report.problems.append(str(exc))
        return report
    report.exercises = len(cnb.exercises)
    report.points = sum(ex.points for ex in cnb.exercises)
    report.mistakes = len(cnb.mistakes)
    report.problems.extend(f"format: {p}" for p in cnb.problems)
    try:
        student = student_version(cnb.nb)
    except ReleaseError as exc:
        report.problems.append(f"release: {exc}")
        return report
    try:
        _leaks(cnb, student, report)
        _solution_run(cnb, report, budget_s, budget_mb)
        _stub_run(cnb, student, report)
    except CellTimeoutError as exc:
        report.problems.append(f"a cell timed out after {CELL_TIMEOUT} s: {_short(exc, 200)}")
    except DeadKernelError as exc:
        report.problems.append(f"the kernel died: {_short(exc, 200)}")
    return report


def _kernel_env() -> None:
    """Make relative paths in the environment absolute: kernels run in other folders."""
    for var in ("MLCOURSE_DATA_MIRROR", "MLCOURSE_CACHE"):
        value = os.environ.get(var)
        if value and "://" not in value and not os.path.isabs(value):
            os.environ[var] = os.path.abspath(value)


def run_gate(
    notebooks: list[Path],
    jobs: int = 1,
    budget_s: float = BUDGET_SECONDS,
    budget_mb: float = BUDGET_MB,
    on_done=None,
) -> list[Report]:
    """Check notebooks, ``jobs`` at a time; ``on_done(report)`` after each one."""
    _kernel_env()
    # Kernels running side by side must not each start a thread per core.
    threads = str(max(1, (os.cpu_count() or 1) // max(1, jobs)))
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, threads)
    reports: dict[Path, Report] = {}
    if jobs <= 1:
        for nb in notebooks:
            reports[nb] = check_notebook(nb, budget_s, budget_mb)
            if on_done:
                on_done(reports[nb])
    else:
        with cf.ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(check_notebook, nb, budget_s, budget_mb): nb for nb in notebooks}
            for future in cf.as_completed(futures):
                nb = futures[future]
                try:
                    reports[nb] = future.result()
                except Exception as exc:  # noqa: BLE001 - report, never hide
                    reports[nb] = Report(path=str(nb), problems=[f"gate crashed: {exc!r}"])
                if on_done:
                    on_done(reports[nb])
    return [reports[nb] for nb in notebooks]
