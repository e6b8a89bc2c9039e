"""``mlcourse check``: the maintainers' gate that proves every exercise.

For each source notebook the gate proves, in this order:

1. **format**: no outputs or execution counts, valid nbgrader metadata,
   unique grade ids, points set, every exercise paired with its test cell,
   a one-line visible test (``check("name")``), hidden tests in the course's
   form, a problem with at least two hint levels in the notebook's checks
   module (the first level a concept, with no code), an explanation for the
   worked solution, and at least one mistake fixture;
2. **nothing leaks** (:mod:`mlcourse.leaks`): no run of ten or more tokens of a
   solution or a hidden test in anything a learner sees, and no hint that
   quotes a solution line;
3. **the solution passes**: the source notebook, hidden tests included, runs
   top to bottom in a fresh kernel; after each test cell, the same checks run
   again from this process over the kernel protocol (as the trusted grader
   runs them) and pass too;
4. **every mistake is caught**, by the kernel's test cell and by the trusted
   checks: each mistake replaces its exercise's solution cell, the cells up to
   the test cell run again, and the test must fail with a check failure. The
   solution is then restored;
5. **every mutant is killed** (:mod:`mlcourse.mutants`): automatic small
   changes to each solution run like mistakes. A mutant that survives must be
   recorded as equivalent, with the reason. Results are recorded in
   ``<notebook>.mutants.json``, keyed by a hash of the exercise's cells and
   checks, so that a run re-mutates only what changed (plus a rotating
   sample), and fails on a record that no longer matches;
6. **the stub fails**: the student version (made by nbgrader's
   preprocessors) runs in a fresh kernel with errors allowed. Cells before the
   first exercise run cleanly, every graded test cell fails, and the only
   errors are the stubs' ``NotImplementedError``, undefined names and check
   failures;
7. **budgets**: the solution run stays within the wall-time and peak-memory
   budgets (60 s, 1.5 GB by default).
"""

from __future__ import annotations

import concurrent.futures as cf
import copy
import datetime
import hashlib
import inspect
import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell

from mlcourse import leaks, mutants
from mlcourse.check.outcomes import CHECK_ERRORS
from mlcourse.notebook import (
    BEGIN_HIDDEN,
    BEGIN_SOLUTION,
    CourseNotebook,
    NotebookError,
    hidden_region,
    is_test,
    parse,
    solution_bodies,
)
from mlcourse.release import ReleaseError, student_version

BUDGET_SECONDS = 60.0
BUDGET_MB = 1536.0
CELL_TIMEOUT = 180
STUB_ERRORS = CHECK_ERRORS | {"NotImplementedError", "NameError"}
MUTANT_MIN_TIMEOUT = 10.0
MUTANTS_SUFFIX = ".mutants.json"
RECORD_FORMAT = 2  # 2: mistakes and mutants run at the exercise's place
#: Share of up-to-date exercises re-mutated by a default run, to catch drift.
SAMPLE_SHARE = 0.1
MUTANT_MODES = ("changed", "all", "off")
NETWORK_MODES = ("auto", "off", "on")

_USAGE_PROBE = (
    "import resource as _r\n"
    "_s, _c = _r.getrusage(_r.RUSAGE_SELF), _r.getrusage(_r.RUSAGE_CHILDREN)\n"
    "print(_s.ru_maxrss, _c.ru_maxrss, _s.ru_utime + _s.ru_stime + _c.ru_utime + _c.ru_stime)\n"
    "del _r, _s, _c"
)
_CODE_IN_HINT = re.compile(r"`|\w\(|\w\[|[^=!<>]=[^=]|\w\.\w+\(|\*\*|@")


@dataclass
class MutantResult:
    """What mutation found for one exercise."""

    exercise: str
    hash: str
    generated: int = 0
    killed: int = 0
    equivalent: int = 0
    survivors: list[str] = field(default_factory=list)  # keys not killed, not equivalent
    seconds: float = 0.0
    fresh: bool = False  # run in this gate run (not read from the record)

    def to_json(self) -> dict:
        return {
            "hash": self.hash,
            "generated": self.generated,
            "killed": self.killed,
            "equivalent": self.equivalent,
            "survivors": self.survivors,
            "seconds": round(self.seconds, 2),
        }


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
    leaks: int = 0
    allowed: int = 0
    mutation: dict[str, MutantResult] = field(default_factory=dict)
    mutant_seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    network: str = "on"  # "off": the kernels had no network

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def mutants(self) -> int:
        return sum(m.generated for m in self.mutation.values())

    @property
    def killed(self) -> int:
        return sum(m.killed for m in self.mutation.values())

    @property
    def equivalent(self) -> int:
        return sum(m.equivalent for m in self.mutation.values())

    @property
    def kill_rate(self) -> float | None:
        """Killed mutants over those that could be killed (equivalents left out)."""
        killable = self.mutants - self.equivalent
        return self.killed / killable if killable > 0 else None


def _error_of(cell: NotebookNode) -> tuple[str, str] | None:
    """(ename, evalue) of a cell's error output, or None."""
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return out.get("ename", "?"), out.get("evalue", "")
    return None


def _text_of(cell: NotebookNode) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif out.get("output_type") == "error":
            parts.append(str(out.get("evalue", "")))
        elif "data" in out:
            parts.append(str(out["data"].get("text/plain", "")))
    return "".join(parts)


NETWORK_ERRORS = ("Network is unreachable", "Temporary failure in name resolution", "gaierror")


def _offline_hint(err: tuple[str, str], network: str) -> str:
    """Why a cell that wanted the network failed, when the kernel had none."""
    text = f"{err[0]} {err[1]}"
    if network == "off" and any(marker in text for marker in NETWORK_ERRORS):
        return (
            " (the gate's kernels have no network: a notebook must not download anything; "
            "use mlcourse.data or data a package ships)"
        )
    return ""


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Kernel:
    """A kernel that runs a notebook's cells one at a time (nbclient underneath)."""

    def __init__(
        self, nb: NotebookNode, cwd: Path, timeout: int = CELL_TIMEOUT, network: str = "on"
    ):
        self.nb = copy.deepcopy(nb)
        # nbclient writes each executed cell back into ``self.nb``; keep the
        # original sources so that "run cell i" always means the notebook's cell.
        self.sources = [cell.source for cell in nb.cells]
        self.timeout = timeout
        self.client = NotebookClient(
            self.nb,
            timeout=timeout,
            kernel_name="python3",
            allow_errors=True,
            interrupt_on_timeout=True,
            error_on_timeout={
                "ename": "CellTimeoutError",
                "evalue": "the cell ran too long and was interrupted",
                "traceback": ["CellTimeoutError: the cell ran too long and was interrupted"],
            },
            resources={"metadata": {"path": str(cwd)}},
        )
        self._sockets = None
        if network == "off":  # its own network namespace: nothing can be downloaded
            from mlcourse.sandbox import offline_kernel_manager

            self._sockets = Path(tempfile.mkdtemp(prefix="mlcourse-gate-"))
            self.client.kernel_manager_class = offline_kernel_manager(self._sockets)
        self._ctx = None

    def __enter__(self) -> Kernel:
        self._ctx = self.client.setup_kernel()
        self._ctx.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        try:
            self._ctx.__exit__(*exc)
        except Exception:  # noqa: BLE001 - a dead kernel may fail to shut down cleanly
            pass
        if self._sockets is not None:
            shutil.rmtree(self._sockets, ignore_errors=True)

    def restart(self) -> None:
        """A fresh kernel in place of this one (after it died or hung)."""
        self.__exit__(None, None, None)
        self.client.km = None
        self.client.kc = None
        self.__enter__()

    def run(self, index: int, source: str | None = None, timeout: float | None = None):
        """Run cell ``index`` (optionally with other ``source``); return the executed cell."""
        cell = copy.deepcopy(self.nb.cells[index])
        cell.source = self.sources[index] if source is None else source
        if cell.cell_type != "code":
            return cell
        self.client.timeout = int(timeout) if timeout else self.timeout
        try:
            return self.client.execute_cell(cell, index)
        finally:
            self.client.timeout = self.timeout

    def run_code(self, source: str, timeout: float | None = None) -> NotebookNode:
        """Run code that is not part of the notebook (no history)."""
        self.nb.cells.append(new_code_cell(source))
        self.client.timeout = int(timeout) if timeout else self.timeout
        try:
            return self.client.execute_cell(
                self.nb.cells[-1], len(self.nb.cells) - 1, store_history=False
            )
        finally:
            self.client.timeout = self.timeout
            self.nb.cells.pop()

    def printed(self, source: str, timeout: float | None = None) -> str:
        """What ``source`` printed (the transport of the trusted checks)."""
        cell = self.run_code(source, timeout)
        return "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")

    def reset_peak(self) -> None:
        """Start a new peak-memory stretch (Linux: reset the kernel's VmHWM)."""
        self.printed(
            "try:\n    open('/proc/self/clear_refs', 'w').write('5')\nexcept OSError:\n    pass"
        )

    def peak_mb(self) -> float:
        """The kernel's peak resident memory since :meth:`reset_peak`, in MB."""
        text = self.printed(
            "try:\n    print(next(l.split()[1] for l in open('/proc/self/status') "
            "if l.startswith('VmHWM')))\nexcept (OSError, StopIteration):\n    print(0)"
        )
        try:
            return int(text.strip().splitlines()[-1]) / 1024.0
        except (ValueError, IndexError):
            return 0.0

    def usage(self) -> tuple[float, float, float]:
        """(peak MB of the kernel, peak MB of its finished children, CPU seconds of both)."""
        text = self.printed(_USAGE_PROBE)
        try:
            own, children, cpu = text.split()
        except ValueError:
            return 0.0, 0.0, 0.0
        return int(own) / 1024.0, int(children) / 1024.0, float(cpu)  # ru_maxrss is KiB


# -- the checks module --------------------------------------------------------------


def _module_problems(cnb: CourseNotebook, report: Report) -> dict:
    """Proof 1 (checks module part): a problem per exercise, hints, explanations."""
    from mlcourse.check.outcomes import AuthoringError
    from mlcourse.check.problems import problems_of

    stem = cnb.path.stem
    if not cnb.exercises:
        return {}  # an exercise-free page (the start page) needs no checks module
    try:
        found = problems_of(stem)
    except ModuleNotFoundError as exc:
        report.problems.append(f"format: no checks module mlcourse/exercises/{stem}.py ({exc})")
        return {}
    except AuthoringError as exc:
        report.problems.append(f"format: mlcourse/exercises/{stem}.py: {exc}")
        return {}
    except Exception as exc:  # noqa: BLE001 - the module does not even import
        report.problems.append(
            f"format: mlcourse/exercises/{stem}.py does not import: {type(exc).__name__}: {exc}"
        )
        return {}
    names = {ex.name for ex in cnb.exercises}
    for name in sorted(names - set(found)):
        report.problems.append(f"format: exercise {name!r} has no problem in exercises/{stem}.py")
    for name in sorted(set(found) - names):
        report.problems.append(
            f"format: exercises/{stem}.py defines {name!r}, not an exercise here"
        )
    for name, prob in found.items():
        if name not in names:
            continue
        if _CODE_IN_HINT.search(prob.hints[0]):
            report.problems.append(
                f"format: {name}'s first hint must be a concept nudge, with no code: "
                f"{_short(prob.hints[0], 80)!r}"
            )
        if prob.kind == "code" and not cnb.explanations.get(name):
            report.problems.append(
                f"format: {name} has no explanation for its worked solution "
                f"([explain] in {cnb.mistakes_path.name})"
            )
    return found


# -- leaks ----------------------------------------------------------------------------


def _secrets(cnb: CourseNotebook) -> list[leaks.Secret]:
    secrets = []
    for ex in cnb.exercises:
        for body in solution_bodies(cnb.nb.cells[ex.solution_index].source):
            secrets.append(leaks.Secret(ex.name, "solution", body))
        hidden = hidden_region(cnb.nb.cells[ex.test_index].source)
        if hidden.strip():
            secrets.append(leaks.Secret(ex.name, "hidden test", hidden))
    return secrets


def _leaks(
    cnb: CourseNotebook,
    student: NotebookNode,
    report: Report,
    found: dict,
    printed: list[tuple[str, str]],
) -> None:
    """Proof 2: no secret run in anything a learner sees."""
    visible = [(f"student cell {i + 1}", cell.source) for i, cell in enumerate(student.cells)]
    visible.append(
        (
            "student metadata",
            json.dumps(
                [student.metadata] + [c.metadata for c in student.cells], ensure_ascii=False
            ),
        )
    )
    hints = []
    stem = cnb.path.stem
    if found:
        import importlib

        from mlcourse.check.problems import EXERCISES_PACKAGE

        checks_module = importlib.import_module(f"{EXERCISES_PACKAGE}.{stem}")
        module = inspect.getsourcefile(checks_module) or ""
        try:
            visible.append((f"exercises/{stem}.py", Path(module).read_text(encoding="utf-8")))
        except OSError:
            pass
        for name, prob in found.items():
            for level, text in enumerate(prob.hints, start=1):
                hints.append((name, f"hint {level} of {name}", text))
                visible.append((f"hint {level} of {name}", text))
    visible.extend(printed)
    names = frozenset(ex.name for ex in cnb.exercises)
    result = leaks.scan(
        _secrets(cnb),
        visible,
        [(a.exercise, a.run) for a in cnb.allows],
        hints,
        names=names,
        solutions_only=frozenset({f"exercises/{stem}.py"}),
    )
    report.leaks = len(result.leaks)
    report.allowed = len(result.allowed)
    for hit in result.leaks:
        report.problems.append(f"leak: {hit}")
    text = json.dumps(student, ensure_ascii=False)
    for marker in (BEGIN_SOLUTION, BEGIN_HIDDEN):
        if marker in text:
            report.problems.append(f"leak: the student version still contains {marker!r}")
            report.leaks += 1


# -- trusted replay -------------------------------------------------------------------


def _trusted(kernel: Kernel, cnb: CourseNotebook, ex, hidden: bool = True) -> tuple[bool, str]:
    """The trusted verdict on exercise ``ex``, against this kernel's current state.

    ``hidden=False`` runs the visible checks only: what a learner would read.
    """
    from mlcourse.check.transport import KernelRPC
    from mlcourse.check.trusted import verdict

    transport = KernelRPC(kernel.printed, default_timeout=CELL_TIMEOUT)
    source = hidden_region(cnb.nb.cells[ex.test_index].source) if hidden else ""
    result = verdict(cnb.path.stem, ex.name, source, transport)
    if result.grader_error:
        return False, f"grader error: {result.grader_error}"
    return result.passed, result.message


# -- mutation records -----------------------------------------------------------------


def records_path(path: Path) -> Path:
    return path.with_name(path.stem + MUTANTS_SUFFIX)


def exercise_hash(cnb: CourseNotebook, ex, found: dict) -> str:
    """What mutation results depend on: the exercise's cells, checks and equivalents."""
    digest = hashlib.sha256()
    digest.update(f"ops={mutants.OPERATORS_VERSION};format={RECORD_FORMAT}\n".encode())
    for index in range(ex.solution_index, ex.test_index + 1):
        digest.update(cnb.nb.cells[index].source.encode("utf-8") + b"\0")
    prob = found.get(ex.name)
    if prob is not None and prob.run is not None:
        try:
            digest.update(inspect.getsource(prob.run).encode("utf-8"))
        except (OSError, TypeError):
            digest.update(prob.name.encode())
        digest.update(json.dumps(prob.hints).encode())
    for eq in sorted(cnb.equivalents, key=lambda e: e.mutant):
        if eq.exercise == ex.name:
            digest.update(f"eq:{eq.mutant}\n".encode())
    return digest.hexdigest()[:16]


def load_records(path: Path) -> dict:
    try:
        data = json.loads(records_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if data.get("format") != RECORD_FORMAT:
        return {}
    return data.get("exercises", {}) if isinstance(data.get("exercises"), dict) else {}


def write_records(
    path: Path, results: dict[str, MutantResult], seconds: float = 0.0, peak_mb: float = 0.0
) -> None:
    data = {
        "format": RECORD_FORMAT,
        "operators": mutants.OPERATORS_VERSION,
        "note": "Written by `mlcourse check --mutants all --record`; keyed by exercise hash.",
        # the solution run as last measured (mlcourse doctor compares free memory with it)
        "seconds": round(seconds, 1),
        "peak_mb": round(peak_mb),
        "exercises": {name: results[name].to_json() for name in sorted(results)},
    }
    target = records_path(path)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, target)


def _in_sample(notebook: str, exercise: str, share: float) -> bool:
    """A rotating sample: a different tenth of the exercises each week."""
    seed = os.environ.get("MLCOURSE_MUTANT_SAMPLE_SEED") or datetime.date.today().strftime("%G-%V")
    value = int(hashlib.sha256(f"{seed}/{notebook}/{exercise}".encode()).hexdigest()[:8], 16)
    return value / 0xFFFFFFFF < share


# -- the solution run -----------------------------------------------------------------


def bound_names(source: str) -> list[str]:
    """The names a cell binds at its top level (functions, classes, assignments, imports)."""
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.append(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            stack = list(targets)
            while stack:  # names only: `Value.__add__ = f` binds no new name
                target = stack.pop()
                if isinstance(target, ast.Name):
                    names.append(target.id)
                elif isinstance(target, ast.Tuple | ast.List):
                    stack.extend(target.elts)
                elif isinstance(target, ast.Starred):
                    stack.append(target.value)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.extend((a.asname or a.name).split(".")[0] for a in node.names if a.name != "*")
    return list(dict.fromkeys(names))


def _run_exercise(kernel: Kernel, ex, source: str | None, timeout: float | None):
    """Run an exercise's cells (solution, in between, test): (solution error, test error).

    With other ``source`` (a mistake, a mutant), the names the real solution
    cell defines are forgotten first, so nothing of the solution lingers.
    """
    if source is not None:
        names = bound_names(kernel.sources[ex.solution_index])
        if names:
            kernel.run_code(f"for _n in {names!r}:\n    globals().pop(_n, None)\ndel _n")
    err = _error_of(kernel.run(ex.solution_index, source, timeout))
    if err:
        return err, None
    for index in range(ex.solution_index + 1, ex.test_index):
        kernel.run(index, timeout=timeout)
    out = kernel.run(ex.test_index, timeout=timeout)
    return None, out


def _replay(kernel: Kernel, upto: int) -> None:
    """Run the notebook's code cells before ``upto`` again (after a restart)."""
    for index in range(upto):
        if kernel.nb.cells[index].cell_type == "code":
            kernel.run(index)


def _mutate(
    kernel: Kernel,
    cnb: CourseNotebook,
    ex,
    baseline: float,
    expected_hash: str,
) -> MutantResult:
    """Run every mutant of one exercise; the kernel holds the solution's state."""
    started = time.perf_counter()
    result = MutantResult(ex.name, expected_hash, fresh=True)
    equivalent = {e.mutant for e in cnb.equivalents if e.exercise == ex.name}
    generated = mutants.generate(ex.name, cnb.nb.cells[ex.solution_index].source)
    result.generated = len(generated)
    timeout = max(MUTANT_MIN_TIMEOUT, 5 * baseline)
    for mutant in generated:
        try:
            sol_err, test_cell = _run_exercise(kernel, ex, mutant.source, timeout)
            killed = sol_err is not None or _error_of(test_cell) is not None
        except (DeadKernelError, CellTimeoutError, RuntimeError):
            killed = True
            kernel.restart()
            _replay(kernel, ex.solution_index)
        if killed:
            result.killed += 1
        elif mutant.key in equivalent:
            result.equivalent += 1
        else:
            result.survivors.append(mutant.key)
        # Restore the solution's state for the next mutant.
        try:
            for index in range(ex.solution_index, ex.test_index):
                kernel.run(index)
        except (DeadKernelError, CellTimeoutError, RuntimeError):
            kernel.restart()
            _replay(kernel, ex.test_index)
    # The restored solution must pass again, or a mutant left damage behind.
    if _error_of(kernel.run(ex.test_index)) is not None:
        kernel.restart()
        _replay(kernel, ex.test_index + 1)
    result.seconds = time.perf_counter() - started
    return result


def _mistakes(
    kernel: Kernel, cnb: CourseNotebook, ex, report: Report, printed: list[tuple[str, str]]
) -> None:
    """Proof 4 for one exercise, at its place in the notebook."""
    for mistake in [m for m in cnb.mistakes if m.exercise == ex.name]:
        label = f"mistake {mistake.exercise}/{mistake.name}"
        err, test_cell = _run_exercise(kernel, ex, mistake.code, None)
        if err:
            report.problems.append(
                f"{label}: its own code raised {err[0]}: {_short(err[1])} "
                "(a mistake must run, and be caught by the tests)"
            )
        else:
            err = _error_of(test_cell)
            _, visible_message = _trusted(kernel, cnb, ex, hidden=False)
            printed.append((f"{ex.name}'s visible checks on {label}", visible_message))
            if err is None:
                report.problems.append(f"{label} NOT caught: the tests pass on it")
            elif err[0] not in CHECK_ERRORS:
                report.problems.append(
                    f"{label}: the tests crashed with {err[0]} instead of a check failure"
                )
            else:
                caught = True
                ok, message = _trusted(kernel, cnb, ex)
                if ok:
                    caught = False
                    report.problems.append(
                        f"{label} NOT caught by the trusted checks (the kernel's "
                        "test failed, the grader's would pass)"
                    )
                report.caught += caught
        # Restore the solution's state for the next mistake.
        for index in range(ex.solution_index, ex.test_index):
            kernel.run(index)


def _solution_run(
    cnb: CourseNotebook,
    report: Report,
    budget_s: float,
    budget_mb: float,
    found: dict,
    mutant_mode: str,
    printed: list[tuple[str, str]],
    network: str = "on",
) -> dict[str, MutantResult]:
    """Proofs 3, 4, 5 and 7, in one kernel.

    The notebook runs top to bottom; right after each exercise's test cell
    passes, that exercise's mistakes and mutants run *there*, so that each
    meets exactly the state a learner's answer meets (nothing defined by
    later cells), and the solution is restored before the notebook goes on.
    The budgets count the notebook's own cells only: their wall time, their
    CPU time, and the peak memory of those stretches.
    """
    cwd = cnb.path.parent
    fresh: dict[str, MutantResult] = {}
    by_test = {ex.test_index: ex for ex in cnb.exercises}
    by_solution = {ex.solution_index: ex for ex in cnb.exercises}
    records = load_records(cnb.path) if mutant_mode != "off" else {}
    stem = cnb.path.stem

    def wants_mutants(ex) -> str | None:
        if mutant_mode == "off":
            return None
        wanted = exercise_hash(cnb, ex, found)
        old = records.get(ex.name)
        stale = old is None or old.get("hash") != wanted
        if mutant_mode == "all" or stale or _in_sample(stem, ex.name, SAMPLE_SHARE):
            return wanted
        return None

    with Kernel(cnb.nb, cwd, network=network) as kernel:
        wall = 0.0
        cpu = 0.0
        peak = 0.0
        kernel.reset_peak()
        last_cpu = kernel.usage()[2]
        marks: dict[str, float] = {}
        for index, cell in enumerate(cnb.nb.cells):
            if cell.cell_type != "code":
                continue
            if index in by_solution:
                marks[by_solution[index].name] = wall
            began = time.perf_counter()
            out = kernel.run(index)
            wall += time.perf_counter() - began
            now = kernel.usage()[2]
            cpu += now - last_cpu
            last_cpu = now
            err = _error_of(out)
            if err:
                report.problems.append(
                    f"solution run: cell {index + 1} raised {err[0]}: {_short(err[1])}"
                    + _offline_hint(err, network)
                )
                return fresh
            if index not in by_test:
                continue
            ex = by_test[index]
            baseline = wall - marks.get(ex.name, 0.0)
            ok, message = _trusted(kernel, cnb, ex)
            if not ok:
                report.problems.append(
                    f"solution run: the trusted checks of {ex.name} fail on the "
                    f"solution: {_short(message, 300)}"
                )
            wanted = wants_mutants(ex)
            if not (any(m.exercise == ex.name for m in cnb.mistakes) or wanted):
                continue
            peak = max(peak, kernel.peak_mb())
            _mistakes(kernel, cnb, ex, report, printed)
            if wanted:
                fresh[ex.name] = _mutate(kernel, cnb, ex, baseline, wanted)
            # Back to the notebook: its own time, CPU and memory only from here.
            kernel.reset_peak()
            last_cpu = kernel.usage()[2]
        peak = max(peak, kernel.peak_mb())
        own_mb, children_mb, _ = kernel.usage()
        report.seconds = wall
        report.cpu_seconds = cpu
        # VmHWM per stretch where Linux has it; otherwise the kernel's lifetime peak
        report.peak_mb = max(peak or own_mb, children_mb)
        if report.seconds > budget_s:
            report.problems.append(
                f"over budget: the solution run took {report.seconds:.1f} s "
                f"(budget {budget_s:.0f} s)"
            )
        if report.peak_mb > budget_mb:
            report.problems.append(
                f"over budget: peak memory {report.peak_mb:.0f} MB (budget {budget_mb:.0f} MB)"
            )
    return fresh


def _mutation_verdict(
    cnb: CourseNotebook, report: Report, fresh: dict[str, MutantResult], found: dict, record: bool
) -> None:
    """Combine fresh results with the record; fail on survivors and stale records."""
    records = load_records(cnb.path)
    final: dict[str, MutantResult] = {}
    for ex in cnb.exercises:
        wanted = exercise_hash(cnb, ex, found)
        old = records.get(ex.name)
        if ex.name in fresh:
            res = fresh[ex.name]
            if not record and (old is None or old.get("hash") != wanted):
                report.problems.append(
                    f"mutants: the record of {ex.name} is out of date (its cells or checks "
                    "changed): run `mlcourse check --mutants all --record` and commit "
                    f"{records_path(cnb.path).name}"
                )
            elif (
                not record
                and old is not None
                and sorted(old.get("survivors", [])) != sorted(res.survivors)
            ):
                report.problems.append(f"mutants: {ex.name}'s fresh results differ from its record")
        elif old is not None and old.get("hash") == wanted:
            res = MutantResult(
                ex.name,
                wanted,
                generated=int(old.get("generated", 0)),
                killed=int(old.get("killed", 0)),
                equivalent=int(old.get("equivalent", 0)),
                survivors=list(old.get("survivors", [])),
                seconds=float(old.get("seconds", 0.0)),
            )
        else:
            report.problems.append(
                f"mutants: no up-to-date record for {ex.name}: run "
                "`mlcourse check --mutants all --record`"
            )
            continue
        final[ex.name] = res
        for key in res.survivors:
            report.problems.append(
                f"mutant of {ex.name} survived: {key} (strengthen the tests, or record it "
                "as [[equivalent]] with the reason)"
            )
    report.mutation = final
    report.mutant_seconds = sum(m.seconds for m in fresh.values())
    if fresh and record:
        names = {ex.name for ex in cnb.exercises}
        merged = {
            name: MutantResult(
                name,
                str(r.get("hash", "")),
                int(r.get("generated", 0)),
                int(r.get("killed", 0)),
                int(r.get("equivalent", 0)),
                list(r.get("survivors", [])),
                float(r.get("seconds", 0.0)),
            )
            for name, r in records.items()
            if name in names
        }
        merged.update(final)
        write_records(cnb.path, merged, report.seconds, report.peak_mb)


# -- the stub run ---------------------------------------------------------------------


def _stub_run(
    cnb: CourseNotebook,
    student: NotebookNode,
    report: Report,
    printed: list[tuple[str, str]],
    network: str = "on",
) -> None:
    """Proof 6: the student version fails every graded test, and nothing else."""
    first = cnb.first_exercise_index
    executed: list = [None] * len(student.cells)
    with Kernel(student, cnb.path.parent, network=network) as kernel:
        for index, cell in enumerate(student.cells):
            if cell.cell_type != "code":
                continue
            out = kernel.run(index)
            executed[index] = out
            err = _error_of(out)
            where = f"student version, cell {index + 1}"
            if is_test(cell):
                printed.append((f"output of {where}", _text_of(out)))
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
                        + _offline_hint(err, network)
                    )
                elif err[0] not in STUB_ERRORS:
                    report.problems.append(f"{where} raised {err[0]}: {_short(err[1])}")
    # The site shows the notebooks' figures from this very execution of the stubs.
    from mlcourse.site import save_executed

    save_executed(student, executed)


def check_notebook(
    path: Path,
    budget_s: float = BUDGET_SECONDS,
    budget_mb: float = BUDGET_MB,
    mutant_mode: str = "changed",
    record: bool = False,
    network: str = "on",
) -> Report:
    """Run every proof on one source notebook (``network="off"``: kernels without one)."""
    path = Path(path)
    report = Report(path=str(path), network=network)
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
    found = _module_problems(cnb, report)
    try:  # the cache warmed first: the budgets time the notebook, not a download or a build
        from mlcourse.prefetch import warm

        warm([path])
    except Exception as exc:  # noqa: BLE001 - reported, and the run shows what it breaks
        report.problems.append(f"prefetch: {type(exc).__name__}: {_short(exc, 200)}")
    printed: list[tuple[str, str]] = []
    try:
        fresh = _solution_run(
            cnb,
            report,
            budget_s,
            budget_mb,
            found,
            mutant_mode,
            printed,
            network,
        )
        _stub_run(cnb, student, report, printed, network)
    except CellTimeoutError as exc:
        report.problems.append(f"a cell timed out after {CELL_TIMEOUT} s: {_short(exc, 200)}")
        fresh = {}
    except DeadKernelError as exc:
        report.problems.append(f"the kernel died: {_short(exc, 200)}")
        fresh = {}
    _leaks(cnb, student, report, found, printed)
    ran = not any(
        p.startswith(("solution run: cell", "the kernel died", "a cell timed out"))
        for p in report.problems
    )
    if mutant_mode != "off" and ran:
        _mutation_verdict(cnb, report, fresh, found, record)
    return report


def resolve_network(network: str) -> str:
    """``auto`` -> ``off`` where bubblewrap can make a network namespace, else ``on``."""
    if network not in NETWORK_MODES:
        raise ValueError(f"network must be one of {NETWORK_MODES}, not {network!r}")
    if network == "on":
        return "on"
    from mlcourse.sandbox import bwrap_works

    if bwrap_works():
        return "off"
    if network == "off":
        raise RuntimeError(
            "--network off needs bubblewrap (apt-get install bubblewrap), which is not usable here"
        )
    return "on"


def _kernel_env() -> None:
    """Make relative paths in the environment absolute: kernels run in other folders."""
    for var in ("MLCOURSE_DATA_MIRROR", "MLCOURSE_CACHE", "MLCOURSE_EXERCISES_PATH"):
        value = os.environ.get(var)
        if value and "://" not in value and not os.path.isabs(value):
            os.environ[var] = os.path.abspath(value)


def run_gate(
    notebooks: list[Path],
    jobs: int = 1,
    budget_s: float = BUDGET_SECONDS,
    budget_mb: float = BUDGET_MB,
    on_done=None,
    mutant_mode: str = "changed",
    record: bool = False,
    network: str = "auto",
) -> list[Report]:
    """Check notebooks, ``jobs`` at a time; ``on_done(report)`` after each one.

    ``network``: ``off`` runs every kernel in a network namespace of its own
    (bubblewrap), so a notebook that downloads anything fails; ``auto`` does
    that where bubblewrap works; ``on`` leaves the network as it is.
    """
    if mutant_mode not in MUTANT_MODES:
        raise ValueError(f"mutant_mode must be one of {MUTANT_MODES}")
    network = resolve_network(network)
    _kernel_env()
    # Kernels running side by side must not each start a thread per core.
    threads = str(max(1, (os.cpu_count() or 1) // max(1, jobs)))
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, threads)
    reports: dict[Path, Report] = {}
    args = (budget_s, budget_mb, mutant_mode, record, network)
    if jobs <= 1:
        for nb in notebooks:
            reports[nb] = check_notebook(nb, *args)
            if on_done:
                on_done(reports[nb])
    else:
        with cf.ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(check_notebook, nb, *args): nb for nb in notebooks}
            for future in cf.as_completed(futures):
                nb = futures[future]
                try:
                    reports[nb] = future.result()
                except Exception as exc:  # noqa: BLE001 - report, never hide
                    reports[nb] = Report(path=str(nb), problems=[f"gate crashed: {exc!r}"])
                if on_done:
                    on_done(reports[nb])
    return [reports[nb] for nb in notebooks]
