"""``mlcourse grade`` as a pipeline of typed stages.

1. **plan** (:func:`plan`) the assignment once: release it into nbgrader's
   gradebook, read every notebook's points and hidden tests (the trusted side
   keeps them), fetch the data it needs, decide the sandbox and what the
   zygote preloads, and prove the kernel's Python can import the check library
   inside the sandbox;
2. **schedule** (:func:`schedule`) students: check the submissions folder's
   layout, read each submission's regular files into its task, and skip
   students whose identical submission is already recorded;
3. **execute** (:func:`execute`) tasks on a backend: this process, a process
   pool, or a Dask cluster (tasks carry the submission's bytes, so workers need
   no shared filesystem);
4. **record** (:func:`record`) each student's results in the gradebook, then,
   and only then, mark the student done in the ledger;
5. **publish** (:func:`publish`) ``grades.csv``, the feedback pages, the report
   and the exports.

Every submission found ends with a verdict in ``grades.csv`` and in the
gradebook, also after an interrupted run: a student is skipped on a later run
only when their results were recorded. A failure of the grader itself is a
``grader-error`` (retried once), never a student's ``crashed``, and makes the
run exit non-zero.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from mlcourse import paths
from mlcourse.grading import intake
from mlcourse.grading.execute import grade_student
from mlcourse.grading.model import (
    LEDGER,
    GradingError,
    NotebookPlan,
    Options,
    Result,
    RunSummary,
    Status,
    Task,
)
from mlcourse.grading.publish import export, write_csv, write_feedback
from mlcourse.notebook import hidden_region, is_test, read_notebook
from mlcourse.sandbox import SandboxSpec, bwrap_command, kernel_import_error, resolve_mode

DB_DRIVERS = {"postgresql": "the psycopg driver (pip install 'mlcourse[postgres]')"}


def check_gradebook_url(db_url: str) -> None:
    """Fail early and clearly on a gradebook URL that cannot work."""
    import sqlalchemy
    from sqlalchemy.exc import ArgumentError, OperationalError

    try:
        engine = sqlalchemy.create_engine(db_url)
    except ArgumentError as exc:
        raise GradingError(
            f"--db {db_url!r} is not a SQLAlchemy database URL: {exc}", code=2
        ) from None
    except ModuleNotFoundError as exc:
        backend = db_url.split(":", 1)[0].split("+", 1)[0]
        need = DB_DRIVERS.get(backend, f"the Python driver {exc.name!r}")
        raise GradingError(f"--db {backend} needs {need}", code=2) from None
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise GradingError(
            f"cannot open the gradebook at {engine.url!r}: {reason}", code=2
        ) from None
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


# -- 1. plan ----------------------------------------------------------------------------


@dataclass
class GradePlan:
    """Everything decided once for an assignment."""

    assignment: str
    notebooks: list[NotebookPlan]
    sandbox: str
    db_url: str
    course_id: str
    autograded_dir: Path
    read_only: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    preload: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [nb.name for nb in self.notebooks]


def _notebook_plan(path: Path) -> NotebookPlan:
    from mlcourse.release import student_version

    nb = read_notebook(path)
    points, hidden = {}, {}
    for cell in nb.cells:
        if is_test(cell):
            grade_id = cell.metadata["nbgrader"]["grade_id"]
            points[grade_id] = float(cell.metadata["nbgrader"]["points"])
            hidden[grade_id.removeprefix("test_")] = hidden_region(cell.source)
    return NotebookPlan(path.stem, points, hidden, nbformat.writes(student_version(nb)))


def _preflight(plan: GradePlan) -> None:
    """Prove, before anyone is graded, that the sandboxed kernel can load the checks.

    A failure here is the grader's (a broken install, a checkout the sandbox
    cannot see), and must never be reported as every student's crash.
    """
    env = kernel_env_for(plan)
    python = os.path.abspath(sys.executable)
    problem = kernel_import_error(python, env)
    if problem:
        raise GradingError(
            f"the kernel's Python cannot import the course package ({problem}); "
            "install it (pip install -e .) in the environment that runs the kernels"
        )
    if plan.sandbox != "on":
        return
    modules = ["mlcourse.check.learner"] + [f"mlcourse.exercises.{n}" for n in plan.names]
    code = f"import importlib\nfor m in {modules!r}:\n    importlib.import_module(m)\n"
    with tempfile.TemporaryDirectory(prefix="mlcourse-preflight-") as folder:
        work, run = Path(folder) / "work", Path(folder) / "run"
        work.mkdir()
        run.mkdir()
        spec = SandboxSpec(
            workdir=work,
            runtime_dir=run,
            mode="on",
            read_only=[Path(p) for p in plan.read_only],
            env=env,
        )
        cmd = bwrap_command(spec, [python, "-c", code])
        try:
            done = subprocess.run(
                cmd, capture_output=True, text=True, timeout=300, env={**os.environ, **env}
            )
        except subprocess.TimeoutExpired:
            raise GradingError("the sandbox preflight did not finish in 300 s") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise GradingError(
            "the check library cannot be imported inside the sandbox, so no notebook could "
            f"be graded: {' | '.join(tail)}"
        )


def kernel_env_for(plan: GradePlan) -> dict[str, str]:
    from mlcourse.grading.execute import KERNEL_ENV

    env = {**KERNEL_ENV, **plan.env}
    extra = os.environ.get("MLCOURSE_EXERCISES_PATH")
    if extra:
        env["MLCOURSE_EXERCISES_PATH"] = extra
    return env


def plan(opts: Options) -> GradePlan:
    """Stage 1: everything about the assignment, decided once."""
    course = paths.course_dir()
    source = course / opts.assignment
    if not source.is_dir():
        raise GradingError(
            f"no assignment {opts.assignment!r}; the course has: {', '.join(paths.assignments())}",
            code=2,
        )
    sources = sorted(source.glob("*.ipynb"))
    if not sources:
        raise GradingError(f"assignment {opts.assignment} has no notebooks", code=2)
    sandbox = resolve_mode(opts.sandbox)
    api = _api(opts.db_url)
    result = api.generate_assignment(opts.assignment, force=True, create=True)
    if not result.get("success"):
        raise GradingError(
            f"nbgrader could not release {opts.assignment}: "
            f"{result.get('error') or result.get('log')}"
        )
    read_only: list[str] = []
    env: dict[str, str] = {}
    from mlcourse.prefetch import warm

    wanted = warm(sources)  # data fetched and the small GPT built once, here
    if wanted.data or wanted.gpt:
        from mlcourse import data

        # The kernels see the cache read-only, at the same path; they must
        # look there, not under their own (sandboxed) home.
        cache = str(data.cache_dir().resolve())
        read_only.append(cache)
        env[data.CACHE_ENV] = cache
    extra = os.environ.get("MLCOURSE_EXERCISES_PATH")
    if extra:
        read_only += [p for p in extra.split(os.pathsep) if p and Path(p).is_dir()]
    from mlcourse.zygote import preload_for

    grade_plan = GradePlan(
        assignment=opts.assignment,
        notebooks=[_notebook_plan(p) for p in sources],
        sandbox=sandbox,
        db_url=api.coursedir.db_url,
        course_id=api.coursedir.course_id,
        autograded_dir=Path(api.coursedir.root) / api.coursedir.autograded_directory,
        read_only=read_only,
        env=env,
        preload=preload_for(sources) if opts.prefork else [],
    )
    _preflight(grade_plan)
    return grade_plan


# -- 2. schedule ------------------------------------------------------------------------


def load_ledger(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def schedule(
    grade_plan: GradePlan, opts: Options, work: Path
) -> tuple[list[Task], list[Result], list[str], dict]:
    """Stage 2: the tasks to run, and the recorded results of unchanged students."""
    students = intake.students(opts.submissions, opts.assignment, grade_plan.names)
    ledger_path = opts.out / LEDGER
    ledger = {} if opts.force else load_ledger(ledger_path)
    tasks, kept, skipped = [], [], []
    for student in students:
        folder = opts.submissions / student / opts.assignment
        if folder.exists() or folder.is_symlink():
            sub = intake.read_submission(folder, student)
        else:
            sub = intake.Submission(student)
        if sub.too_large:
            sub.refused.append(f"the submission is over {intake.MAX_SUBMISSION_BYTES} bytes")
        fingerprint = sub.fingerprint(grade_plan.names)
        key = f"{opts.assignment}/{student}"
        previous = ledger.get(key)
        if (
            previous
            and previous.get("fingerprint") == fingerprint
            and previous.get("done")
            and len(previous.get("results", [])) == len(grade_plan.notebooks)
        ):
            skipped.append(student)
            kept.extend(_result_from(r) for r in previous["results"])
            continue
        task = Task(
            student=student,
            assignment=opts.assignment,
            notebooks=grade_plan.notebooks,
            files=sub.files,
            refused=sub.refused,
            fingerprint=fingerprint,
            work_dir=str(work),
            db_url=grade_plan.db_url,
            sandbox=grade_plan.sandbox,
            cell_timeout=opts.cell_timeout,
            notebook_timeout=opts.notebook_timeout,
            memory_mb=opts.memory_mb,
            pids=opts.pids,
            read_only=grade_plan.read_only,
            preload=grade_plan.preload,
            env=kernel_env_for(grade_plan),
            retries=opts.retries,
        )
        task.timestamp = sub.timestamp  # type: ignore[attr-defined]
        tasks.append(task)
    return tasks, kept, skipped, ledger


def _result_from(data: dict) -> Result:
    known = {f for f in Result.__dataclass_fields__}
    return Result(**{k: v for k, v in data.items() if k in known})


# -- 3. execute -------------------------------------------------------------------------


def execute(tasks: list[Task], opts: Options) -> Iterator[tuple[Task, list[Result]]]:
    """Stage 3: run the tasks on a backend, yielding each student's results as they end."""
    if not tasks:
        return
    if opts.dask:
        from dask.distributed import Client, as_completed

        with Client(opts.dask) as client:
            futures = {client.submit(grade_student, t, pure=False): t for t in tasks}
            for future in as_completed(futures):
                task = futures[future]
                yield task, _or_fault(task, future.result)
    elif opts.workers <= 1:
        for task in tasks:
            yield task, _or_fault(task, lambda task=task: grade_student(task))
    else:
        with cf.ProcessPoolExecutor(max_workers=opts.workers) as pool:
            futures = {pool.submit(grade_student, t): t for t in tasks}
            for future in cf.as_completed(futures):
                task = futures[future]
                yield task, _or_fault(task, future.result)


def _or_fault(task: Task, get: Callable[[], list[Result]]) -> list[Result]:
    """A worker that died (or a Dask task that failed) is a grader error, not a zero."""
    try:
        return get()
    except Exception as exc:  # noqa: BLE001
        out = []
        for nb in task.notebooks:
            res = Result(task.student, task.assignment, nb.name, status=Status.GRADER_ERROR.value)
            res.max_score = sum(nb.points.values())
            res.exercises = {k: 0.0 for k in nb.points}
            res.exercise_max = dict(nb.points)
            res.detail = f"grader error: the worker failed ({type(exc).__name__}: {exc})"[:1000]
            out.append(res)
        return out


# -- late submissions ----------------------------------------------------------------------


def apply_late_penalty(task: Task, results: list[Result], opts: Options) -> None:
    """Lower the scores of a late submission (nbgrader's timestamp against the due date)."""
    stamp = getattr(task, "timestamp", None)
    if opts.due is None or stamp is None or stamp <= opts.due:
        return
    days = math.ceil((stamp - opts.due).total_seconds() / 86400)
    factor = max(0.0, 1.0 - opts.late_penalty * days)
    for res in results:
        res.late_days = days
        if res.status in (Status.MISSING.value, Status.GRADER_ERROR.value):
            continue
        res.raw_score = res.score  # per-test points stay as earned; the penalty is apart
        res.score = round(res.score * factor, 4)


# -- 4. record --------------------------------------------------------------------------


def _record_one(gb, res: Result, grade_plan: GradePlan, penalty: float) -> None:
    from nbgrader.preprocessors import SaveAutoGrades

    if res.executed is not None:
        nb = nbformat.reads(res.executed, as_version=4)
        target = (
            grade_plan.autograded_dir / res.student_id / res.assignment / f"{res.notebook}.ipynb"
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
        resources = {
            "nbgrader": {
                "student": res.student_id,
                "assignment": res.assignment,
                "notebook": res.notebook,
                "db_url": grade_plan.db_url,
            }
        }
        SaveAutoGrades().preprocess(nb, resources)
    # The trusted verdicts decide the points, whatever the cells' outputs say.
    for grade_id in res.exercises:
        grade = gb.find_grade(grade_id, res.notebook, res.assignment, res.student_id)
        grade.auto_score = float(res.exercises.get(grade_id, 0.0))
        grade.needs_manual_grade = False
    submitted = gb.find_submission_notebook(res.notebook, res.assignment, res.student_id)
    submitted.flagged = res.status == Status.FLAGGED.value
    submitted.late_submission_penalty = penalty if res.raw_score is not None else None
    gb.db.commit()


def record(grade_plan: GradePlan, task: Task | None, results: list[Result]) -> list[Result]:
    """Stage 4: write one student's results into the gradebook; return grader errors.

    The student's old submission is removed first, so a failed re-grade never
    leaves old scores standing. A recording failure turns each affected result
    into one ``grader-error`` (counted once).
    """
    from nbgrader.api import Gradebook

    errors = []
    student = results[0].student_id
    with Gradebook(grade_plan.db_url, grade_plan.course_id) as gb:
        try:
            gb.update_or_create_student(student)
            try:
                gb.remove_submission(grade_plan.assignment, student)
            except Exception:  # noqa: BLE001 - there was no previous submission
                gb.db.rollback()
            kwargs = {}
            stamp = getattr(task, "timestamp", None) if task is not None else None
            if stamp is not None:
                kwargs["timestamp"] = stamp.replace(tzinfo=None)
            gb.add_submission(grade_plan.assignment, student, **kwargs)
        except Exception as exc:  # noqa: BLE001
            gb.db.rollback()
            for res in results:
                res.status = Status.GRADER_ERROR.value
                res.detail = f"grader error while recording: {exc}"[:500]
                res.score = 0.0
            return list(results)
        for res in results:
            penalty = (res.raw_score or 0.0) - res.score if res.raw_score is not None else 0.0
            try:
                _record_one(gb, res, grade_plan, penalty)
            except Exception as exc:  # noqa: BLE001
                gb.db.rollback()
                res.status = Status.GRADER_ERROR.value
                res.detail = f"grader error while recording: {exc}"[:500]
                res.score = 0.0
            if res.status == Status.GRADER_ERROR.value:
                errors.append(res)
    return errors


# -- 5. publish -------------------------------------------------------------------------


def publish(results: list[Result], opts: Options, grade_plan: GradePlan) -> dict[str, Path]:
    """Stage 5: grades.csv, the report and the exports (feedback is written as it comes)."""
    from mlcourse.report import write_report

    results.sort(key=lambda r: (r.student_id, r.notebook))
    write_csv(results, opts.out / "grades.csv")
    write_report(
        results,
        opts.out,
        sandbox=grade_plan.sandbox,
        assignment=opts.assignment,
        due=opts.due,
    )
    return {kind: export(results, opts.out, kind, opts.assignment) for kind in opts.exports}


# -- the run ----------------------------------------------------------------------------


def grade(
    opts: Options, on_student: Callable[[str, list[Result]], None] | None = None
) -> RunSummary:
    """Grade a cohort. Raises GradingError if the grader cannot run."""
    started = time.perf_counter()
    grade_plan = plan(opts)
    opts.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="mlcourse-grade-", dir="/tmp"))
    try:
        tasks, results, skipped, ledger = schedule(grade_plan, opts, work)
        ledger_path = opts.out / LEDGER
        grader_errors: list[Result] = [r for r in results if r.status == Status.GRADER_ERROR.value]
        late: list[Result] = [r for r in results if r.late_days]
        for task, student_results in execute(tasks, opts):
            apply_late_penalty(task, student_results, opts)
            errors = record(grade_plan, task, student_results)
            grader_errors.extend(errors)
            for res in student_results:
                write_feedback(res, opts.out)
                res.executed = None
                res.feedback = None
                if res.late_days:
                    late.append(res)
            results.extend(student_results)
            # Only now is the student done: an interrupted run re-grades the rest.
            ledger[f"{opts.assignment}/{task.student}"] = {
                "fingerprint": task.fingerprint,
                "done": not errors,
                "results": [asdict(r) for r in student_results],
            }
            tmp = ledger_path.with_suffix(".tmp")
            tmp.write_text(json.dumps(ledger, indent=1))
            os.replace(tmp, ledger_path)
            if on_student:
                on_student(task.student, student_results)
    finally:
        from mlcourse.zygote import stop_all

        stop_all()  # the serial path grades in this process
        shutil.rmtree(work, ignore_errors=True)
    exports = publish(results, opts, grade_plan)
    return RunSummary(
        results=results,
        graded_now=len(tasks),
        skipped=skipped,
        sandbox=grade_plan.sandbox,
        seconds=time.perf_counter() - started,
        grader_errors=grader_errors,
        db_url=grade_plan.db_url,
        late=late,
        exports=exports,
    )
