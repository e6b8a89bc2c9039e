"""The ``mlcourse`` command line. ``mlcourse --help`` lists the commands."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mlcourse import __version__, paths

# Wide enough for the tables when output goes to a file or CI log.
# Piped output is 140 columns wide unless COLUMNS says otherwise.
_WIDE = "COLUMNS" in os.environ
console = Console(width=None if sys.stdout.isatty() or _WIDE else 140)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() or _WIDE else 140)


def _fail(message: str, code: int = 1) -> None:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mlcourse")
def main() -> None:
    """mlcourse: a Jupyter course from zero to job-ready AI/ML engineer.

    \b
    Learners:     mlcourse start | update | progress | drill | portfolio | doctor
    Maintainers:  mlcourse check | author | site
    Instructors:  mlcourse release ASSIGNMENT | grade ASSIGNMENT | demo-cohort
    Data:         mlcourse data list | fetch NAME | verify
    Services:     mlcourse service train | serve     (sentiment)
                  mlcourse recommender train | serve (movies)
                  mlcourse vision train | serve      (digits)
    """


# -- the learner's commands ----------------------------------------------------------

from mlcourse.learner_cli import doctor, start, update  # noqa: E402

main.add_command(start)
main.add_command(update)
main.add_command(doctor)


# -- release -------------------------------------------------------------------


@main.command()
@click.argument("assignment", required=False)
def release(assignment: str | None) -> None:
    """Make the student versions with nbgrader (all assignments by default).

    Runs `nbgrader generate_assignment` with the course config in
    autograder/; the result goes to autograder/work/release/.
    """
    from mlcourse.release import ReleaseError, release_assignment

    names = [assignment] if assignment else paths.assignments()
    for name in names:
        try:
            out = release_assignment(name)
        except ReleaseError as exc:
            _fail(str(exc))
        count = len(list(out.glob("*.ipynb")))
        console.print(f"released [bold]{name}[/]: {count} notebooks in {out}")


# -- check ---------------------------------------------------------------------


@main.command()
@click.argument("paths_", metavar="[PATH]...", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=min(2, os.cpu_count() or 1),
    show_default=True,
    help="Notebooks checked in parallel.",
)
@click.option("--budget-seconds", type=float, default=60.0, show_default=True)
@click.option("--budget-mb", type=float, default=1536.0, show_default=True)
@click.option(
    "--mutants",
    "mutant_mode",
    type=click.Choice(["changed", "all", "off"]),
    default="changed",
    show_default=True,
    help="Mutation testing: 'changed' re-mutates exercises whose record is out of date plus "
    "a rotating sample of the rest; 'all' re-mutates everything; 'off' skips it.",
)
@click.option(
    "--record",
    is_flag=True,
    help="Write the fresh mutation results to <notebook>.mutants.json (commit them).",
)
@click.option(
    "--network",
    type=click.Choice(["auto", "off", "on"]),
    default="auto",
    show_default=True,
    help="'off' runs every kernel without a network (bubblewrap), proving that nothing is "
    "downloaded; 'auto' does so where bubblewrap works; 'on' leaves the network alone.",
)
def check(
    paths_: tuple[Path, ...],
    jobs: int,
    budget_seconds: float,
    budget_mb: float,
    mutant_mode: str,
    record: bool,
    network: str,
) -> None:
    """Prove every exercise: the solution passes, the stub fails, mistakes and mutants die.

    PATH is a notebook or a folder (default: the whole course). For each
    notebook it checks the format, that nothing leaks (no run of 10 tokens of
    a solution or hidden test in what a learner sees), that the solution
    passes (in the kernel and in the trusted checks), that every mistake and
    every automatic mutant is caught, that the stub fails, and the budgets.
    Exits non-zero on any failure.
    """
    from mlcourse.gate import resolve_network, run_gate
    from mlcourse.notebook import NotebookError, source_notebooks

    targets = list(paths_) or [paths.course_dir()]
    for target in targets:
        if not target.exists():
            _fail(f"{target}: no such file or folder", code=2)
    try:
        notebooks = source_notebooks(targets)
    except NotebookError as exc:
        _fail(str(exc), code=2)
    if not notebooks:
        _fail("no notebooks found in " + ", ".join(map(str, targets)), code=2)

    started = time.perf_counter()
    with Progress(
        TextColumn("[bold]checking"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("", total=len(notebooks))

        def done(report) -> None:
            progress.update(task, advance=1, description=Path(report.path).name)

        try:
            _ = resolve_network(network)
        except RuntimeError as exc:
            _fail(str(exc), code=2)
        reports = run_gate(
            notebooks,
            jobs,
            budget_seconds,
            budget_mb,
            on_done=done,
            mutant_mode=mutant_mode,
            record=record,
            network=network,
        )

    offline = all(r.network == "off" for r in reports)
    table = Table(
        title="mlcourse check",
        title_justify="left",
        caption="kernels ran without a network" if offline else "kernels ran WITH the network",
        caption_justify="left",
    )
    for col, justify in [
        ("notebook", "left"),
        ("status", "left"),
        ("exercises", "right"),
        ("points", "right"),
        ("mistakes caught", "right"),
        ("mutants killed", "right"),
        ("kill rate", "right"),
        ("leaks", "right"),
        ("seconds", "right"),
        ("CPU s", "right"),
        ("peak MB", "right"),
    ]:
        table.add_column(col, justify=justify)
    root = Path.cwd()
    for r in reports:
        path = Path(r.path)
        shown = path.relative_to(root) if path.is_relative_to(root) else path
        rate = "-" if r.kill_rate is None else f"{100 * r.kill_rate:.0f}%"
        killed = f"{r.killed}/{r.mutants - r.equivalent}" if r.mutants else "-"
        if r.equivalent:
            killed += f" (+{r.equivalent} eq.)"
        leaks = str(r.leaks) + (f" (+{r.allowed} allowed)" if r.allowed else "")
        table.add_row(
            str(shown),
            "[green]pass[/]" if r.ok else "[bold red]FAIL[/]",
            str(r.exercises),
            f"{r.points:g}",
            f"{r.caught}/{r.mistakes}",
            killed,
            rate,
            leaks,
            f"{r.seconds:.1f}",
            f"{r.cpu_seconds:.1f}",
            f"{r.peak_mb:.0f}",
        )
    console.print(table)
    failed = [r for r in reports if not r.ok]
    for r in failed:
        console.print(f"[bold red]{r.path}[/]")
        for problem in r.problems:
            console.print(f"  - {problem}", highlight=False, markup=False)
    total_ex = sum(r.exercises for r in reports)
    total_caught = sum(r.caught for r in reports)
    total_mistakes = sum(r.mistakes for r in reports)
    total_killed = sum(r.killed for r in reports)
    total_killable = sum(r.mutants - r.equivalent for r in reports)
    total_leaks = sum(r.leaks for r in reports)
    mutated = sum(r.mutant_seconds for r in reports)
    console.print(
        f"{len(reports) - len(failed)}/{len(reports)} notebooks pass; {total_ex} exercises; "
        f"{total_caught}/{total_mistakes} mistakes caught; "
        f"{total_killed}/{total_killable} mutants killed; leaks {total_leaks}; "
        f"{time.perf_counter() - started:.0f} s ({mutated:.0f} s of it mutating)."
    )
    sys.exit(1 if failed else 0)


# -- site ----------------------------------------------------------------------


@main.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("_site"),
    show_default=True,
    help="Where the built site goes (a static folder: serve it from anywhere).",
)
@click.option(
    "--no-execute",
    is_flag=True,
    help="Do not execute notebooks the gate has not executed (pages without figures).",
)
def site(out: Path, no_execute: bool) -> None:
    """Build the course's website, offline, from the student versions.

    Sphinx with myst-nb and sphinx-book-theme: the plan, one page per notebook
    with its figures, search, Binder and download links, quizzes as questions.
    No solution and no hidden test reaches it (the built pages are scanned with
    the gate's leak check). Open OUT/index.html, or serve OUT with any static host.
    """
    from mlcourse.site import SiteError, build

    with Progress(
        TextColumn("[bold]building"),
        BarColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("", total=None)
        try:
            index = build(
                out,
                execute=not no_execute,
                progress=lambda rel: progress.update(task, description=rel),
            )
        except SiteError as exc:
            _fail(str(exc))
    console.print(f"wrote {index} (serve the folder: python -m http.server -d {out})")


# -- data ----------------------------------------------------------------------


@main.group()
def data() -> None:
    """The course's data sets: list, fetch and verify (checksums included).

    Downloads go to ~/.cache/mlcourse (or $MLCOURSE_CACHE). Offline, set
    MLCOURSE_DATA_MIRROR to a folder holding the archives.
    """


@data.command("list")
def data_list() -> None:
    """List the registered data sets and whether they are cached."""
    from mlcourse import data as registry

    table = Table()
    for col in ("name", "cached", "description", "url"):
        table.add_column(col)
    for row in registry.list_datasets():
        table.add_row(row.name, "[green]yes[/]" if row.cached else "no", row.description, row.url)
    console.print(table)


@data.command("fetch")
@click.argument("names", nargs=-1, required=True)
def data_fetch(names: tuple[str, ...]) -> None:
    """Download NAME(s), verify every checksum and unpack into the cache ('all' for all)."""
    from mlcourse import data as registry

    if names == ("all",):
        names = tuple(registry.REGISTRY)
    for name in names:
        try:
            path = registry.fetch(name, progress=True)
        except registry.DataError as exc:
            _fail(str(exc))
        console.print(f"[green]ok[/] {name}: {path}")


@data.command("verify")
@click.argument("name", required=False)
def data_verify(name: str | None) -> None:
    """Re-check the checksums of what is in the cache (no download)."""
    from mlcourse import data as registry

    try:
        results = registry.verify(name)
    except registry.DataError as exc:
        _fail(str(exc))
    bad = False
    for ds, ok, status in results:
        colour = "green" if ok else ("yellow" if status == "not fetched" else "red")
        console.print(f"[{colour}]{status}[/] {ds}")
        bad |= not ok and status != "not fetched"
    sys.exit(1 if bad else 0)


# -- grade ---------------------------------------------------------------------


@main.command()
@click.argument("assignment")
@click.option(
    "--submissions",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder in nbgrader's layout: DIR/<student_id>/<ASSIGNMENT>/<notebook>.ipynb.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("grading-out"),
    show_default=True,
    help="Where grades.csv, feedback/ and report.html go.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=max(2, 2 * (os.cpu_count() or 1)),
    show_default=True,
    help="Students graded in parallel (kernels wait on I/O: 2 per core pays off).",
)
@click.option("--timeout", type=float, default=60.0, show_default=True, help="Seconds per cell.")
@click.option(
    "--notebook-timeout", type=float, default=600.0, show_default=True, help="Seconds per notebook."
)
@click.option("--memory", type=int, default=2048, show_default=True, help="MB per kernel.")
@click.option(
    "--sandbox",
    type=click.Choice(["auto", "on", "off"]),
    default="auto",
    show_default=True,
    help="bubblewrap isolation: auto uses it when installed.",
)
@click.option(
    "--db", "db_url", help="Gradebook SQLAlchemy URL (default: SQLite in autograder/work)."
)
@click.option("--force", is_flag=True, help="Re-grade submissions that are already graded.")
@click.option("--dask", "dask_address", help="Grade on a Dask cluster at this address.")
@click.option(
    "--prefork/--no-prefork",
    default=True,
    show_default=True,
    help="Fork each notebook's fresh kernel from a sandboxed process that has already "
    "imported the assignment's libraries (--no-prefork starts every kernel from scratch).",
)
@click.option(
    "--due",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]),
    help="Due date (UTC). Submissions whose nbgrader timestamp.txt is later are late.",
)
@click.option(
    "--late-penalty",
    type=click.FloatRange(0, 100),
    default=0.0,
    show_default=True,
    help="Percent of the score lost per started day late (with --due).",
)
@click.option(
    "--export",
    "exports",
    type=click.Choice(["canvas", "gradescope", "csv"]),
    multiple=True,
    help="Also write export-<kind>.csv in that gradebook's import format (repeatable).",
)
def grade(
    assignment,
    submissions,
    out,
    workers,
    timeout,
    notebook_timeout,
    memory,
    sandbox,
    db_url,
    force,
    dask_address,
    prefork,
    due,
    late_penalty,
    exports,
) -> None:
    """Autograde a cohort: sandboxed, parallel, with verdicts decided outside the kernels.

    SUBMISSIONS must be in nbgrader's layout, DIR/<student>/<ASSIGNMENT>/<notebook>.ipynb.
    Every notebook gets a verdict (graded, timeout, crashed, invalid, missing,
    flagged, grader-error). Writes grades.csv, feedback/<student>/<ASSIGNMENT>/<nb>.html
    and report.html/.png to --out. Exit code 0 when every submission got a
    verdict; 1 when the grader itself failed on any; 2 for bad input.
    """
    import warnings
    from datetime import UTC

    from rich.progress import TimeRemainingColumn

    from mlcourse.grading import GradingError, Options, Status
    from mlcourse.grading import grade as run_grade
    from mlcourse.grading.intake import students as find_students

    # nbgrader's gradebook warns about its own session handling when a
    # submission is replaced; the grader checks the gradebook itself.
    warnings.filterwarnings("ignore", message=".*not in session", module=r"nbgrader\.api")
    warnings.filterwarnings("ignore", message="Cell is missing an id field")

    opts = Options(
        assignment=assignment,
        submissions=submissions,
        out=out,
        workers=workers,
        cell_timeout=timeout,
        notebook_timeout=notebook_timeout,
        memory_mb=memory,
        sandbox=sandbox,
        db_url=db_url,
        force=force,
        dask=dask_address,
        prefork=prefork,
        due=due.replace(tzinfo=UTC) if due else None,
        late_penalty=late_penalty / 100.0,
        exports=tuple(exports),
    )
    try:
        from mlcourse.grading import check_gradebook_url

        # The options first (a typo in --db is a usage error whatever the
        # folder holds), then the submissions.
        if db_url:
            check_gradebook_url(db_url)
        total = len(find_students(submissions, assignment, []))
    except GradingError as exc:
        _fail(str(exc), code=exc.code)
    try:
        with Progress(
            TextColumn("[bold]grading"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("students"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.description}"),
            console=console,
        ) as progress:
            task = progress.add_task("", total=total)

            def done(student, results) -> None:
                progress.update(task, advance=1, description=student)

            summary = run_grade(opts, on_student=done)
            progress.update(task, completed=total)
    except GradingError as exc:
        _fail(str(exc), code=exc.code)
    except (RuntimeError, ValueError) as exc:
        _fail(str(exc), code=1)
    if summary.grader_errors:
        console.print(
            f"[bold red]GRADER ERRORS: {len(summary.grader_errors)} notebook(s) were not "
            "graded because the grader itself failed[/] (not the students' fault); "
            "they are graded again on the next run. First: " + summary.grader_errors[0].detail,
            highlight=False,
        )
    if summary.sandbox != "on":
        console.print(
            "[bold red]WARNING: no sandbox.[/] Student code ran with full permissions: it could "
            "read the course sources and the gradebook and use the network."
        )
    else:
        console.print(
            "sandbox: bubblewrap (no network, course and gradebook invisible); "
            "verdicts decided outside the kernels"
        )
    from collections import Counter

    counts = Counter(r.status for r in summary.results)
    console.print(
        f"{len(summary.results)} notebooks: "
        + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        + f"; graded now {summary.graded_now} students, skipped {len(summary.skipped)} "
        f"(already graded; --force re-grades) in {summary.seconds:.1f} s"
    )
    if summary.late:
        console.print(f"{len(summary.late)} late notebook(s); see the report")
    wrote = [out / "grades.csv", out / "report.html", out / "feedback"]
    wrote += list(summary.exports.values())
    console.print("wrote " + ", ".join(str(p) for p in wrote))
    del Status
    sys.exit(1 if summary.grader_errors else 0)


def _threat_model_help() -> None:
    import inspect

    from mlcourse.grading import THREAT_MODEL

    grade.help = inspect.cleandoc(grade.help or "") + "\n\n\b\nThreat model.\n" + THREAT_MODEL


_threat_model_help()


@main.command("demo-cohort")
@click.argument("assignment")
@click.option("--students", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--hostile", is_flag=True, help="Add one student per hostile/broken case.")
def demo_cohort(assignment, students, out, seed, hostile) -> None:
    """Generate realistic submissions from the source notebooks (for demos and tests)."""
    from mlcourse.cohort import make_cohort

    try:
        ids = make_cohort(assignment, out, students=students, seed=seed, hostile=hostile)
    except ValueError as exc:
        _fail(str(exc), code=2)
    console.print(f"wrote {len(ids)} students to {out}")
    if hostile and not any(i == "hostile_kills_processes" for i in ids):
        console.print(
            "note: bubblewrap is not usable here, so the cases only the sandbox makes "
            "safe to grade (hostile_kills_processes) were left out"
        )


# -- author --------------------------------------------------------------------


@main.command()
@click.argument("src", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("dst", type=click.Path(dir_okay=False, path_type=Path))
def author(src: Path, dst: Path) -> None:
    """Build a notebook from its py:percent text form, or the reverse.

    \b
    mlcourse author linear_algebra.py course/01_foundations/linear_algebra.ipynb
    mlcourse author course/01_foundations/linear_algebra.ipynb /tmp/linear_algebra.py
    """
    from mlcourse.authoring import convert

    try:
        convert(src, dst)
    except ImportError:
        _fail("authoring needs jupytext: pip install -e '.[dev]'")
    console.print(f"wrote {dst}")


def _register_optional() -> None:
    """Command groups that live beside their code."""
    from mlcourse.drill import drill
    from mlcourse.portfolio.cli import portfolio
    from mlcourse.progress import progress
    from mlcourse.recommender.cli import recommender
    from mlcourse.service.cli import service
    from mlcourse.vision.cli import vision

    main.add_command(progress)
    main.add_command(drill)
    main.add_command(portfolio)
    main.add_command(service)
    main.add_command(recommender)
    main.add_command(vision)


_register_optional()


if __name__ == "__main__":  # pragma: no cover
    main()
