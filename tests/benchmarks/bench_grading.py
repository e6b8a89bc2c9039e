"""Benchmark: `mlcourse grade` against stock, serial `nbgrader autograde`.

A script, not a test. It generates a cohort (default 40 students) over an
assignment, grades it both ways into separate gradebooks, checks that every
score is identical, and prints the speed ratio, seconds per notebook, and the
floor set by a fresh kernel importing the heavy libraries.

    python tests/benchmarks/bench_grading.py --students 40 --assignment 01_foundations
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def kernel_floor(imports: str = "torch, sklearn, pandas, matplotlib") -> float:
    """Seconds for a fresh kernel to start, import these modules, shut down."""
    from nbclient import NotebookClient
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[new_code_cell(f"import {imports}")])
    start = time.perf_counter()
    NotebookClient(nb, kernel_name="python3", timeout=120).execute()
    return time.perf_counter() - start


def assignment_imports(assignment: str) -> str:
    """The third-party modules the assignment's notebooks import, as one import line."""
    from mlcourse import paths
    from mlcourse.zygote import preload_for

    notebooks = sorted((paths.course_dir() / assignment).glob("*.ipynb"))
    mods = [m for m in preload_for(notebooks) if m.split(".")[0] not in sys.stdlib_module_names]
    return ", ".join(mods)


def forked_floor(assignment: str, imports: str, repeats: int = 5) -> tuple[float, float]:
    """(zygote start, seconds per forked kernel start-run-shutdown), sandbox as graded."""
    from nbclient import NotebookClient
    from nbformat.v4 import new_code_cell, new_notebook

    from mlcourse import paths
    from mlcourse.grading import KERNEL_ENV
    from mlcourse.sandbox import SandboxSpec, kernel_manager_for, resolve_mode
    from mlcourse.zygote import Zygote, preload_for

    notebooks = sorted((paths.course_dir() / assignment).glob("*.ipynb"))
    root = Path(tempfile.mkdtemp(prefix="bench-zygote-"))
    start = time.perf_counter()
    zygote = Zygote(
        root=root / "slot", preload=preload_for(notebooks), sandbox=resolve_mode("auto"),
        env=KERNEL_ENV,
    ).start()  # fmt: skip
    t_zygote = time.perf_counter() - start
    spec = SandboxSpec(
        zygote.workdir,
        zygote.runtime_dir,
        ipc_dir=zygote.ipc_dir,
        mode=zygote.sandbox,
        zygote=zygote,
        env=KERNEL_ENV,
    )
    nb = new_notebook(cells=[new_code_cell(f"import {imports}")])
    start = time.perf_counter()
    for _ in range(repeats):
        NotebookClient(
            nb,
            timeout=120,
            kernel_manager_class=kernel_manager_for(spec),
            shutdown_kernel="immediate",
        ).execute()
    per = (time.perf_counter() - start) / repeats
    zygote.stop()
    return t_zygote, per


def scores(db_url: str, assignment: str) -> dict[tuple[str, str], float]:
    from nbgrader.api import Gradebook

    out = {}
    with Gradebook(db_url) as gb:
        for sub in gb.assignment_submissions(assignment):
            for nb in sub.notebooks:
                out[(sub.student.id, nb.name)] = round(nb.score, 6)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="01_foundations")
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--keep", help="keep the working folder here")
    parser.add_argument(
        "--no-prefork", dest="prefork", action="store_false", help="grade with spawned kernels"
    )
    args = parser.parse_args()

    root = Path(args.keep or tempfile.mkdtemp(prefix="bench-grading-"))
    root.mkdir(parents=True, exist_ok=True)
    repo = Path(__file__).resolve().parents[2]
    bindir = str(Path(sys.executable).parent)
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""))

    cohort = root / "cohort"
    shutil.rmtree(cohort, ignore_errors=True)
    subprocess.run(
        [sys.executable, "-m", "mlcourse.cli", "demo-cohort", args.assignment,
         "--students", str(args.students), "--out", str(cohort)],
        check=True, env=env,
    )  # fmt: skip
    notebooks = len(list(cohort.rglob("*.ipynb")))

    # 1. mlcourse grade (parallel, sandboxed)
    ours_work = root / "ours"
    shutil.rmtree(ours_work, ignore_errors=True)
    ours_env = dict(env, MLCOURSE_WORK_DIR=str(ours_work))
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "mlcourse.cli", "grade", args.assignment,
         "--submissions", str(cohort), "--out", str(root / "ours-out"),
         "--workers", str(args.workers), "--force",
         "--prefork" if args.prefork else "--no-prefork"],
        check=True, env=ours_env, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    t_ours = time.perf_counter() - start

    # 2. stock nbgrader: serial autograde of the same cohort
    stock_work = root / "stock"
    shutil.rmtree(stock_work, ignore_errors=True)
    stock_env = dict(
        env, MLCOURSE_WORK_DIR=str(stock_work), JUPYTER_CONFIG_PATH=str(repo / "autograder")
    )
    submitted = stock_work / "submitted"
    shutil.copytree(cohort, submitted)
    subprocess.run(
        ["nbgrader", "generate_assignment", args.assignment, "--force"],
        check=True, env=stock_env, capture_output=True,
    )  # fmt: skip
    start = time.perf_counter()
    subprocess.run(
        ["nbgrader", "autograde", args.assignment, "--force"],
        check=True, env=stock_env, capture_output=True,
    )  # fmt: skip
    t_stock = time.perf_counter() - start

    ours = scores(f"sqlite:///{ours_work / 'gradebook.db'}", args.assignment)
    stock = scores(f"sqlite:///{stock_work / 'gradebook.db'}", args.assignment)
    differ = {
        k: (ours.get(k), stock.get(k))
        for k in set(ours) | set(stock)
        if ours.get(k) != stock.get(k)
    }
    floor = kernel_floor()
    imports = assignment_imports(args.assignment)
    spawned = kernel_floor(imports)
    t_zygote, forked = forked_floor(args.assignment, imports)

    print(f"cohort: {args.students} students, {notebooks} notebooks ({args.assignment})")
    print(f"kernel floor (start + import torch, sklearn, pandas, matplotlib): {floor:.2f} s")
    print(f"the assignment's imports: {imports}")
    print(f"  fresh kernel + those imports: {spawned:.2f} s")
    print(
        f"  forked kernel + those imports: {forked:.2f} s "
        f"(its zygote, once per worker, took {t_zygote:.2f} s to start)"
    )
    per = t_stock / notebooks
    print(f"stock nbgrader autograde (serial):  {t_stock:7.1f} s  {per:5.2f} s/notebook")
    kind = "forked" if args.prefork else "spawned"
    print(
        f"mlcourse grade ({args.workers} workers, sandbox, {kind} kernels): {t_ours:7.1f} s  "
        f"{t_ours / notebooks:5.2f} s/notebook"
    )
    print(f"speed ratio: {t_stock / t_ours:.2f}x")
    print(f"scores identical: {not differ} ({len(ours)} notebooks compared)")
    for key, pair in sorted(differ.items())[:20]:
        print(f"  differs: {key}: mlcourse {pair[0]} vs nbgrader {pair[1]}")
    return 0 if not differ else 1


if __name__ == "__main__":
    sys.exit(main())
