"""Pre-forked grading kernels: pay for the imports once, fork a fresh kernel per notebook.

A grading kernel spends most of its life importing: Python and ipykernel
start, then NumPy, pandas, scikit-learn, PyTorch and matplotlib load. Those
imports are the same for every student, so a *zygote* does them once:

* The zygote is a Python process started inside the same bubblewrap sandbox
  a kernel would get. It imports the modules the assignment's notebooks
  import (plus ipykernel and :mod:`mlcourse.check`), runs no student code,
  and waits on a unix socket.
* For each notebook, the kernel manager launches a tiny stub
  (``mlcourse/_zygote_stub.py``) instead of ``python -m ipykernel_launcher``.
  The stub asks the zygote for a kernel. The zygote forks; the child calls
  ``setsid``, reseeds the random generators, applies the rlimits, and waits.
  The stub moves the child into the notebook's cgroup (the process-count and
  memory limits), then lets it go: it becomes an ordinary ipykernel on the
  connection file, with nothing of any other student in it.
* The stub lives as long as the kernel and exits with its exit code, so
  Jupyter's kernel manager, nbclient's dead-kernel detection, timeouts and
  ``kill`` all work unchanged. Killing the stub makes the zygote kill the
  kernel's whole process group.

One zygote serves one grading slot (a worker process or thread), whose
notebooks run one after another in one fixed folder, the slot's ``work``
folder: the student's files. The writable places (``work``, the sandbox's
private ``/tmp`` and ``/dev/shm``, and ``ipc`` for the kernels' sockets) are
emptied before each notebook, and checked to be empty: a slot that cannot be
cleaned (a student made a folder read-only, say) is never reused; the grader
starts a fresh zygote instead. The slot's ``run`` folder (the zygote's socket,
the kernels' connection files) is read-only inside the sandbox: the zygote's
listening socket is made outside and handed over as a file descriptor.
Each kernel gets a fresh, private IPython folder, so no startup file or
profile survives from one student to the next. Orphans a kernel leaves
behind are re-parented to the zygote (it is a child sub-reaper) and killed
before the next kernel starts.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import ctypes
import importlib
import importlib.util
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from mlcourse._zygote_stub import read_line

STUB = Path(__file__).with_name("_zygote_stub.py")
ALWAYS = ("ipykernel.kernelapp", "mlcourse.check", "mlcourse.check.learner", "matplotlib_inline")
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36


# -- what to preload -------------------------------------------------------------


def imports_of(sources: list[str]) -> list[str]:
    """The modules a notebook's code imports, dotted names included, in order."""
    found: list[str] = []
    for source in sources:
        text = "\n".join(
            line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))
        )
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.append(node.module)
    return list(dict.fromkeys(found))


def preload_for(notebooks: list[Path]) -> list[str]:
    """What a zygote should import for these (course) notebooks."""
    import nbformat

    sources = []
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        sources += [cell.source for cell in nb.cells if cell.cell_type == "code"]
    return list(dict.fromkeys([*imports_of(sources), *ALWAYS]))


# -- the zygote process (runs inside the sandbox) ------------------------------------


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _children(pid: int) -> list[int]:
    """Direct children of ``pid`` (orphans re-parented to a sub-reaper included)."""
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read().decode(errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1 and fields[1] == str(pid):
            kids.append(int(entry))
    return kids


def _reseed() -> None:
    """A forked kernel must not share its random state with its siblings."""
    import random

    random.seed()
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
    if "torch" in sys.modules:
        with contextlib.suppress(Exception):
            sys.modules["torch"].random.seed()


def _run_kernel(request: dict, go: int) -> None:
    """In the forked child: become a kernel. Never returns."""
    code = 1
    try:
        os.setsid()
        _libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        signal.signal(signal.SIGINT, signal.default_int_handler)  # interrupts, as usual
        limits = request.get("limits") or {}
        import resource

        if limits.get("as"):
            resource.setrlimit(resource.RLIMIT_AS, (limits["as"], limits["as"]))
        if limits.get("nproc"):
            resource.setrlimit(resource.RLIMIT_NPROC, (limits["nproc"], limits["nproc"]))
        if os.read(go, 1) != b"g":  # wait until the stub has put us in our cgroup
            os._exit(1)
        os.close(go)
        os.chdir(request.get("cwd") or os.getcwd())
        # A fresh, private IPython folder: no startup file or profile of an
        # earlier kernel can run here.
        import tempfile

        private = tempfile.mkdtemp(prefix="ipython-", dir=os.environ.get("TMPDIR") or "/tmp")
        os.environ["IPYTHONDIR"] = private
        os.environ["MPLCONFIGDIR"] = private
        os.environ.pop("PYTHONSTARTUP", None)
        _reseed()
        launcher = importlib.util.find_spec("ipykernel_launcher")
        sys.argv = [launcher.origin if launcher else "ipykernel_launcher", *request["argv"]]
        from ipykernel import kernelapp

        kernelapp.launch_new_instance()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - report and die; never return to the zygote loop
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _send(conn: socket.socket, message: dict) -> None:
    with contextlib.suppress(OSError):
        conn.sendall((json.dumps(message) + "\n").encode())


def _mount_points() -> set[str]:
    points = set()
    with contextlib.suppress(OSError), open("/proc/self/mountinfo") as handle:
        for line in handle:
            fields = line.split()
            if len(fields) > 4:
                points.add(fields[4].encode().decode("unicode_escape"))
    return points


def _scrub(folders: list[str]) -> list[str]:
    """Empty these folders (mount points and their parents stay); return what is left.

    Folders the student made read-only are made writable again first (their
    owner may always do that). Anything that still cannot be removed is
    returned, so that the slot is not reused.
    """
    mounts = _mount_points()

    def holds_mount(path: str) -> bool:
        return any(m == path or m.startswith(path.rstrip("/") + "/") for m in mounts)

    def unlock(path: str) -> None:
        with contextlib.suppress(OSError):
            os.chmod(path, 0o700, follow_symlinks=False)

    def remove_tree(path: str) -> None:
        for root, dirs, _files in os.walk(path, topdown=True, followlinks=False):
            unlock(root)
            for name in dirs:
                full = os.path.join(root, name)
                if not os.path.islink(full):
                    unlock(full)
        shutil.rmtree(path, ignore_errors=True)

    def empty(folder: str) -> None:
        unlock(folder) if folder not in mounts else None
        try:
            entries = list(os.scandir(folder))
        except OSError:
            return
        for entry in entries:
            if holds_mount(entry.path):
                if entry.path not in mounts and entry.is_dir(follow_symlinks=False):
                    empty(entry.path)
            elif entry.is_dir(follow_symlinks=False):
                remove_tree(entry.path)
            else:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)

    left: list[str] = []
    for folder in folders:
        with contextlib.suppress(OSError):
            if folder in mounts or folder == "/tmp":
                os.chmod(folder, 0o1777)
        empty(folder)
        try:
            rest = [e.path for e in os.scandir(folder) if not holds_mount(e.path)]
        except OSError as exc:
            rest = [f"{folder} ({exc.strerror})"]
        left.extend(rest)
    return left


def serve(socket_path: str, preload: list[str], scrub: list[str], listen_fd: int = -1) -> None:
    """The zygote's main loop."""
    _libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # no zygote outlives its grader
    # In the sandbox the zygote is its namespace's init, which a kernel cannot
    # kill; a handled SIGINT would be the one way to stop it, so ignore it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.path and (sys.path[0] in ("", os.getcwd())):
        del sys.path[0]  # as ipykernel_launcher does; the kernel adds '' back
    loaded, failed = [], []
    for name in preload:
        if name in sys.modules:
            continue
        try:
            if importlib.util.find_spec(name.split(".")[0]) is None:
                failed.append(name)
                continue
            importlib.import_module(name)
            loaded.append(name)
        except Exception:  # noqa: BLE001 - a notebook's import that fails fails there
            failed.append(name)
    if "matplotlib.pyplot" in sys.modules:
        with contextlib.suppress(Exception):  # the font list, built once for all kernels
            sys.modules["matplotlib.font_manager"].findfont("DejaVu Sans")
    _libc().prctl(PR_SET_CHILD_SUBREAPER, 1)

    if listen_fd >= 0:  # made outside: the runtime folder is read-only in here
        listener = socket.socket(fileno=listen_fd)
    else:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(socket_path)
        listener.bind(socket_path)
        listener.listen(8)
    pidns = os.readlink("/proc/self/ns/pid")
    status = {"ready": True, "pidns": pidns, "loaded": loaded, "failed": failed}
    print(json.dumps(status), flush=True)
    devnull = os.open(os.devnull, os.O_RDWR)  # kernels inherit fds 0-2: nothing may block
    for fd in (0, 1):
        os.dup2(devnull, fd)

    kernels: dict[int, socket.socket] = {}  # pid -> the stub's connection
    by_conn: dict[socket.socket, int] = {}

    def reap() -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            conn = kernels.pop(pid, None)
            if conn is not None:
                by_conn.pop(conn, None)
                _kill_group(pid)  # whatever the kernel started goes with it
                _send(conn, {"exit": os.waitstatus_to_exitcode(status)})
                conn.close()

    def kill_orphans() -> None:
        """Kill leftovers of earlier kernels (re-parented to us) before a new one."""
        for _ in range(20):
            stray = [pid for pid in _children(os.getpid()) if pid not in kernels]
            if not stray:
                return
            for pid in stray:
                _kill_group(pid)
            time.sleep(0.01)
            reap()

    def settle(timeout: float = 3.0) -> None:
        """Let a kernel whose stub has gone finish dying before a new one starts."""
        end = time.monotonic() + timeout
        while kernels and time.monotonic() < end:
            ready, _, _ = select.select(list(by_conn), [], [], 0)
            for sock in ready:
                _kill_group(by_conn[sock])
            reap()
            if kernels:
                time.sleep(0.01)

    while True:
        ready, _, _ = select.select([listener, *by_conn], [], [], 0.2)
        reap()
        for sock in ready:
            if sock is listener:
                conn, _ = listener.accept()
                try:
                    request = json.loads(read_line(conn, timeout=5.0) or b"null")
                except (OSError, ValueError):
                    conn.close()
                    continue
                if isinstance(request, dict) and request.get("scrub"):
                    settle()
                    kill_orphans()
                    left = _scrub(scrub) if not kernels else ["a kernel is still running"]
                    _send(conn, {"clean": not left, "left": left[:5]})
                    conn.close()
                    continue
                if not isinstance(request, dict) or "argv" not in request:
                    _send(conn, {"error": "bad request"})
                    conn.close()
                    continue
                settle()
                if kernels:
                    # One kernel at a time: a kernel cannot ask for a sibling
                    # outside its cgroup through the socket it can see.
                    _send(conn, {"error": "busy"})
                    conn.close()
                    continue
                kill_orphans()
                if _scrub(scrub):
                    _send(conn, {"error": "dirty"})  # fail closed: never a dirty slot
                    conn.close()
                    continue
                read_end, write_end = os.pipe()
                pid = os.fork()
                if pid == 0:
                    os.close(write_end)
                    listener.close()
                    for other in by_conn:
                        other.close()
                    conn.close()
                    _run_kernel(request, read_end)
                os.close(read_end)
                _send(conn, {"pid": pid})
                try:
                    go = read_line(conn, timeout=5.0).strip()
                except OSError:
                    go = b""
                if go == b"go":
                    os.write(write_end, b"g")
                    kernels[pid] = conn
                    by_conn[conn] = pid
                else:
                    _kill_group(pid)
                    conn.close()
                os.close(write_end)
            else:
                # A stub spoke or hung up: it was killed, so its kernel goes too.
                pid = by_conn.get(sock)
                if pid is not None:
                    _kill_group(pid)


# -- the parent side -------------------------------------------------------------------


@dataclass
class Zygote:
    """A running zygote and its slot folders (``work``, ``tmp``, ``run``).

    In the sandbox, ``/tmp`` is the zygote's private tmpfs, which it empties
    before each kernel; without one, ``tmp`` stands in for it.
    """

    root: Path
    preload: list[str]
    sandbox: str = "off"
    read_only: list[Path] = field(default_factory=list)
    process: subprocess.Popen | None = None
    loaded: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    pidns: str = ""  # the zygote's pid namespace, to find its kernels' pids from outside
    python: str = os.path.abspath(sys.executable)
    env: dict[str, str] = field(default_factory=dict)  # set for the zygote and its kernels

    @property
    def workdir(self) -> Path:
        return self.root / "work"

    @property
    def tmpdir(self) -> Path:
        return self.root / "tmp"

    @property
    def runtime_dir(self) -> Path:
        return self.root / "run"

    @property
    def ipc_dir(self) -> Path:
        return self.root / "ipc"

    @property
    def socket_path(self) -> Path:
        return self.runtime_dir / "zygote.sock"

    def start(self, timeout: float = 180.0) -> Zygote:
        from mlcourse.sandbox import SandboxSpec, bwrap_command

        for folder in (self.workdir, self.tmpdir, self.runtime_dir, self.ipc_dir):
            folder.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.socket_path)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(self.socket_path))
        listener.listen(8)
        cmd = [
            self.python,
            "-m",
            "mlcourse.zygote",
            "--socket",
            str(self.socket_path),
            "--listen-fd",
            str(listener.fileno()),
            "--preload",
            ",".join(self.preload),
        ]
        env = {**os.environ, **self.env}
        env.pop("PYTHONSTARTUP", None)
        env["PYTHONNOUSERSITE"] = "1"
        if self.sandbox == "on":
            spec = SandboxSpec(
                workdir=self.workdir,
                runtime_dir=self.runtime_dir,
                ipc_dir=self.ipc_dir,
                mode="on",
                read_only=self.read_only,
                env=self.env,
                python=self.python,
            )
            cmd = bwrap_command(
                spec, [*cmd, "--scrub", "/tmp", "--scrub", "/dev/shm"], as_pid_1=True
            )
        else:
            tmp = str(self.tmpdir)
            env.update(HOME=tmp, MPLCONFIGDIR=tmp, TMPDIR=tmp)
            cmd += ["--scrub", str(self.tmpdir)]
        try:
            self.process = subprocess.Popen(
                cmd,
                cwd=self.workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                pass_fds=(listener.fileno(),),
            )
        finally:
            listener.close()
        line = _readline_with_timeout(self.process, timeout)
        try:
            status = json.loads(line)
        except ValueError:
            status = {}
        if not status.get("ready"):
            self.stop()
            raise RuntimeError("the grading zygote did not start")
        self.loaded = status.get("loaded", [])
        self.failed = status.get("failed", [])
        self.pidns = status.get("pidns", "")
        return self

    def ask(self, request: dict, timeout: float = 30.0) -> dict:
        """One request over the zygote's socket (outside the sandbox)."""
        from mlcourse._zygote_stub import read_line as _read

        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            conn.settimeout(timeout)
            conn.connect(str(self.socket_path))
            conn.sendall((json.dumps(request) + "\n").encode())
            return json.loads(_read(conn, timeout=timeout) or b"{}")
        except (OSError, ValueError):
            return {}
        finally:
            conn.close()

    def clean(self) -> bool:
        """Empty the slot (inside: /tmp, /dev/shm; outside: work, ipc); True if all is gone."""
        if not self.alive():
            return False
        answer = self.ask({"scrub": True})
        outside = _scrub([str(self.workdir), str(self.ipc_dir)])
        return bool(answer.get("clean")) and not outside

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def prepare(self, files: dict[str, bytes]) -> Path:
        """Write a student's files into the (clean) ``work`` folder; return it."""
        write_files(self.workdir, files)
        return self.workdir

    def kernel_command(self, kernel_cmd: list[str], cgroup_dirs: list[Path], limits) -> list[str]:
        """The stub command that replaces ``python -m ipykernel_launcher ...``."""
        try:
            argv = kernel_cmd[kernel_cmd.index("ipykernel_launcher") + 1 :]
        except ValueError as exc:
            raise RuntimeError(f"not an ipykernel command: {kernel_cmd}") from exc
        request = {"argv": argv, "cwd": str(self.workdir), "limits": {}}
        if not cgroup_dirs:
            request["limits"] = {"as": limits.memory_mb * 1024 * 1024 * 2, "nproc": limits.pids}
        cmd = [sys.executable, "-I", "-S", str(STUB), str(self.socket_path), self.pidns]
        cmd.append(json.dumps(request))
        return cmd + [str(d) for d in cgroup_dirs]

    def stop(self) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
            with contextlib.suppress(Exception):
                self.process.kill()
                self.process.wait(timeout=10)
            if self.process.stdout:
                self.process.stdout.close()
            self.process = None
        shutil.rmtree(self.root, ignore_errors=True)


def write_files(folder: Path, files: dict[str, bytes]) -> None:
    """Write a submission's regular files below ``folder`` (never through a link)."""
    root = folder.resolve()
    for rel, data in files.items():
        if rel.endswith(".ipynb") and "/" not in rel:
            continue  # the notebooks themselves run from the grader, not from disk
        target = (root / rel).resolve()
        if not target.is_relative_to(root) or target == root:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)


def _readline_with_timeout(process: subprocess.Popen, timeout: float) -> str:
    result: list[bytes] = []
    reader = threading.Thread(target=lambda: result.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return result[0].decode(errors="replace") if result else ""


_local = threading.local()
_all: list[Zygote] = []
_lock = threading.Lock()


def for_slot(key: tuple, make) -> Zygote | None:
    """This thread's zygote for ``key`` (started by ``make()``), or None if it cannot start.

    A zygote that died is replaced; one that failed to start is not retried
    for the same key, and grading falls back to spawned kernels.
    """
    cache = getattr(_local, "zygotes", None)
    if cache is None:
        cache = _local.zygotes = {}
    zygote = cache.get(key)
    if zygote is not None and (zygote is False or zygote.alive()):
        return zygote or None
    if zygote:
        zygote.stop()
    try:
        zygote = make().start()
    except (OSError, RuntimeError):
        cache[key] = False
        return None
    cache[key] = zygote
    with _lock:
        _all.append(zygote)
    return zygote


def discard(key: tuple) -> None:
    """Stop this thread's zygote for ``key`` (a dirty slot); the next use starts afresh."""
    cache = getattr(_local, "zygotes", None) or {}
    zygote = cache.pop(key, None)
    if zygote:
        zygote.stop()
        with _lock:
            if zygote in _all:
                _all.remove(zygote)


def stop_all() -> None:
    """Stop every zygote this process started (the parent calls it after grading)."""
    with _lock:
        zygotes, _all[:] = list(_all), []
    for zygote in zygotes:
        zygote.stop()
    cache = getattr(_local, "zygotes", None)
    if cache is not None:
        cache.clear()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A grading zygote (started by mlcourse grade).")
    parser.add_argument("--socket", required=True)
    parser.add_argument("--preload", default="")
    parser.add_argument("--scrub", action="append", default=[])
    parser.add_argument("--listen-fd", type=int, default=-1)
    args = parser.parse_args(argv)
    serve(args.socket, [m for m in args.preload.split(",") if m], args.scrub, args.listen_fd)


if __name__ == "__main__":
    main()
